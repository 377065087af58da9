//! Listing a maildrop, for every front end: which of LIST, UIDL and TOP to
//! send, and what their answers mean. Pure: outcomes go in; rows, UIDs,
//! headers, notices for the person and failures come out. The inspector
//! and `popscope list` both use it, so they ask the same questions and
//! read the answers the same way. Deleting has its one guarded path here
//! too ([`commit`]), shared by the inspector and `popscope clean`.
//!
//! The rules:
//! - LIST always; UIDL and TOP when CAPA listed them *or* when there was no
//!   CAPA answer to go by. Then the answer decides: a `-ERR` to UIDL, or to
//!   the first TOP before any TOP succeeded, means "not supported", said
//!   once.
//! - A malformed UIDL line does not throw the listing away: the good lines
//!   are kept, the bad ones counted, and the person is told that those
//!   messages are known by number only (UIDs are only ever a label here; no
//!   decision is taken on one). A malformed LIST line is a failure: without
//!   the sizes and numbers there is nothing to show.

pub mod commit;
mod facts;

use crate::error::{Failure, FailureKind};
use crate::mail::HeaderSummary;
use crate::pop3::client::Outcome;
use crate::pop3::codec::{StatusLine, excerpt};
use crate::pop3::response::{Capabilities, parse_list_entry, parse_stat, parse_uidl_entry, payload_lines};
use std::fmt;

/// TOP requests kept queued in the session at least. The real budget is
/// twice the pipelining window: enough to keep the window full, few enough
/// that a jump reprioritises within one window (the inspector) and that a
/// listing's memory does not grow with the claimed count (`list`).
pub(crate) const MIN_HEADER_REQUESTS: usize = 50;

/// TOP requests to keep queued for a pipelining window of `window`.
pub(crate) fn budget_for(window: usize) -> usize {
    window.saturating_mul(2).max(MIN_HEADER_REQUESTS)
}

/// What the session knows about one optional command from CAPA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Listed,
    NotListed,
    /// The server did not answer CAPA: only trying will tell.
    CapaUnknown,
}

impl Offer {
    /// `capa` is the latest CAPA answer, if there was one.
    pub(crate) fn from_capa(capa: Option<&Capabilities>, listed: impl Fn(&Capabilities) -> bool) -> Offer {
        match capa {
            Some(caps) if listed(caps) => Offer::Listed,
            Some(_) => Offer::NotListed,
            None => Offer::CapaUnknown,
        }
    }

    /// Whether the command is worth sending.
    pub(crate) fn worth_asking(self) -> bool {
        self != Offer::NotListed
    }
}

/// Which listing commands to send, and what the answers so far taught.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListingPlan {
    uidl: Offer,
    top: Offer,
}

impl ListingPlan {
    pub fn new(uidl: Offer, top: Offer) -> ListingPlan {
        ListingPlan { uidl, top }
    }

    /// The plan for a session whose latest CAPA answer was `capa`.
    pub(crate) fn from_capa(capa: Option<&Capabilities>) -> ListingPlan {
        ListingPlan::new(Offer::from_capa(capa, |c| c.uidl), Offer::from_capa(capa, |c| c.top))
    }

    pub(crate) fn asks_uidl(&self) -> bool {
        self.uidl.worth_asking()
    }

    /// Whether TOP is (still) worth sending: false once the server said it
    /// has none.
    pub(crate) fn asks_top(&self) -> bool {
        self.top.worth_asking()
    }

    /// UIDs from a UIDL answer. A refused UIDL is not a failure: the list
    /// is empty and its notice says that messages are known by number only.
    pub(crate) fn apply_uidl(&mut self, outcome: Outcome) -> Result<UidList, Failure> {
        match outcome {
            Outcome::Ok(reply) => {
                self.uidl = Offer::Listed;
                Ok(UidList::parse(reply.payload()))
            }
            Outcome::Err(status) => {
                let said = if self.uidl == Offer::CapaUnknown {
                    "does not support"
                } else {
                    "refused"
                };
                self.uidl = Offer::NotListed;
                Ok(UidList::refused(format!(
                    "the server {said} UIDL ({status}); messages are identified by number only"
                )))
            }
            other => Err(outcome_failure("UIDL", &other)),
        }
    }

    /// Headers from the answer to `TOP msg 0`.
    pub(crate) fn apply_top(&mut self, msg: u32, outcome: Outcome) -> TopAnswer {
        match outcome {
            Outcome::Ok(reply) => {
                self.top = Offer::Listed;
                TopAnswer::Headers(Box::new(HeaderSummary::parse(reply.payload())))
            }
            Outcome::Err(status) => match self.top {
                Offer::CapaUnknown => {
                    self.top = Offer::NotListed;
                    TopAnswer::NotSupported(format!(
                        "the server does not support TOP ({status}); headers are not shown"
                    ))
                }
                // Answers to TOPs already in flight when the first one
                // told us: said once already.
                Offer::NotListed => TopAnswer::Skipped,
                Offer::Listed => TopAnswer::Refused(status),
            },
            other => TopAnswer::Failed(outcome_failure(&format!("TOP {msg} 0"), &other)),
        }
    }

    /// What the plan leaves out, before anything is sent.
    pub(crate) fn top_notice(&self) -> Option<&'static str> {
        (!self.asks_top()).then_some("the server does not offer TOP; headers are not shown")
    }

    pub(crate) fn uidl_notice(&self) -> Option<&'static str> {
        (!self.asks_uidl()).then_some("the server has no UIDL; messages are identified by number only")
    }
}

/// The message count from a STAT answer: what LIST may list at most.
pub fn apply_stat(outcome: Outcome) -> Result<u32, Failure> {
    match outcome {
        Outcome::Ok(reply) => parse_stat(&reply.status.text)
            .map(|(count, _)| count)
            .map_err(|e| Failure::new(FailureKind::Protocol, format!("cannot read the message count: {e}"))),
        other => Err(outcome_failure("STAT", &other)),
    }
}

/// Message numbers and sizes from a LIST answer, in the server's order.
/// The numbers must be strictly increasing and none above `count`
/// (STAT's): a duplicate, a step back or a number past the count is a
/// protocol error naming the line, found before anything more is kept, so
/// a claimed count costs no more than the count STAT gave.
pub fn apply_list(outcome: Outcome, count: u32) -> Result<Vec<(u32, u64)>, Failure> {
    let reply = match outcome {
        Outcome::Ok(reply) => reply,
        other => return Err(outcome_failure("LIST", &other)),
    };
    let broken =
        |detail: String| Failure::new(FailureKind::Protocol, format!("cannot read the message list: {detail}"));
    let mut entries = Vec::new();
    let mut last = 0;
    for line in payload_lines(reply.payload()) {
        let (n, size) = parse_list_entry(line).map_err(|e| broken(e.to_string()))?;
        if n <= last {
            return Err(broken(format!(
                "message {n} comes after message {last} (line {:?}); numbers must be strictly increasing",
                excerpt(line)
            )));
        }
        if n > count {
            return Err(broken(format!(
                "message {n} is past the {count} messages STAT announced (line {:?})",
                excerpt(line)
            )));
        }
        last = n;
        entries.push((n, size));
    }
    Ok(entries)
}

/// The UIDs a UIDL answer gave, by message number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UidList {
    /// Sorted by message number.
    uids: Vec<(u32, Box<str>)>,
    malformed: usize,
    first_malformed: Option<String>,
    refused: Option<String>,
}

impl UidList {
    fn parse(payload: &[u8]) -> UidList {
        let mut list = UidList::default();
        for line in payload_lines(payload) {
            match parse_uidl_entry(line) {
                Ok((n, uid)) => list.uids.push((n, uid.into())),
                Err(_) => {
                    list.malformed += 1;
                    list.first_malformed.get_or_insert_with(|| excerpt(line));
                }
            }
        }
        // Servers send them in order; sorting is for the odd one that does
        // not, so that lookups can bisect.
        list.uids.sort_by_key(|(n, _)| *n);
        list
    }

    fn refused(notice: String) -> UidList {
        UidList {
            refused: Some(notice),
            ..UidList::default()
        }
    }

    pub fn get(&self, number: u32) -> Option<&str> {
        self.uids
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| &*self.uids[i].1)
    }

    /// What the person must be told about this answer, if anything.
    pub fn notice(&self) -> Option<String> {
        if let Some(refused) = &self.refused {
            return Some(refused.clone());
        }
        let first = self.first_malformed.as_deref()?;
        let n = self.malformed;
        Some(format!(
            "{n} malformed UIDL line{} skipped (first: {first:?}); {} identified by number only",
            if n == 1 { "" } else { "s" },
            if n == 1 {
                "that message is"
            } else {
                "those messages are"
            }
        ))
    }
}

/// What one `TOP n 0` answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum TopAnswer {
    Headers(Box<HeaderSummary>),
    /// `-ERR` for this message; the server does have TOP.
    Refused(StatusLine),
    /// The first `-ERR` when there was no CAPA to go by: the server has no
    /// TOP. Said once; answers to the TOPs already in flight are `Skipped`.
    NotSupported(String),
    Skipped,
    /// The command did not complete (the connection ended, or it was never
    /// sent).
    Failed(Failure),
}

/// The one mapping from an outcome that is not the answer a caller needed
/// to a failure a person can act on. `what` names the command ("LIST",
/// "RETR 3").
pub(crate) fn outcome_failure(what: &str, outcome: &Outcome) -> Failure {
    match outcome {
        Outcome::Err(status) => crate::session::server_refused(what, status),
        Outcome::Lost(_) | Outcome::NotSent(_) => Failure::new(FailureKind::Connect, format!("{what}: {outcome}")),
        Outcome::AuthFailed { .. } => Failure::new(FailureKind::Auth, format!("{what}: {outcome}")),
        Outcome::Ok(reply) => Failure::new(
            FailureKind::Protocol,
            format!("{what}: unexpected answer {}", reply.status),
        ),
    }
}

/// How an outcome reads to a person (never `Debug`: that would show
/// internals and, for a reply, its raw payload).
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok(reply) => write!(f, "{}", reply.status),
            Outcome::Err(status) => write!(f, "{status}"),
            Outcome::AuthFailed { error, server: None } => write!(f, "authentication failed: {error}"),
            Outcome::AuthFailed {
                error,
                server: Some(status),
            } => write!(f, "authentication failed: {error} (the server said {status})"),
            Outcome::NotSent(reason) => write!(f, "not sent ({reason})"),
            Outcome::Lost(reason) => write!(f, "no answer, the connection ended ({reason})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::client::{Body, Reply};
    use crate::pop3::codec::parse_status_line;

    fn ok(payload: &[u8]) -> Outcome {
        Outcome::Ok(Reply {
            status: parse_status_line(b"+OK").unwrap(),
            body: Some(Body::Collected {
                bytes: payload.to_vec(),
                truncated: false,
                lines: 0,
                total_bytes: payload.len() as u64,
            }),
        })
    }

    fn err(line: &str) -> Outcome {
        Outcome::Err(parse_status_line(line.as_bytes()).unwrap())
    }

    fn capa(lines: &[u8]) -> Capabilities {
        Capabilities::parse(lines)
    }

    #[test]
    fn the_plan_asks_what_capa_listed_or_what_nobody_knows() {
        let cases = [
            (Some(capa(b"TOP\r\nUIDL\r\n")), true, true),
            (Some(capa(b"TOP\r\n")), false, true),
            (Some(capa(b"UIDL\r\n")), true, false),
            (Some(capa(b"USER\r\n")), false, false),
            (None, true, true),
        ];
        for (caps, uidl, top) in cases {
            let plan = ListingPlan::from_capa(caps.as_ref());
            assert_eq!((plan.asks_uidl(), plan.asks_top()), (uidl, top), "{caps:?}");
            assert_eq!(plan.uidl_notice().is_some(), !uidl);
            assert_eq!(plan.top_notice().is_some(), !top);
        }
    }

    #[test]
    fn list_numbers_rise_strictly_up_to_stats_count() {
        assert_eq!(apply_list(ok(b"1 10\r\n3 30\r\n"), 3).unwrap(), [(1, 10), (3, 30)]);
        for (payload, words) in [
            (
                &b"1 10\r\n1 10\r\n"[..],
                "message 1 comes after message 1 (line \"1 10\")",
            ),
            (b"2 10\r\n1 10\r\n", "message 1 comes after message 2 (line \"1 10\")"),
            (
                b"1 10\r\n4 10\r\n",
                "message 4 is past the 3 messages STAT announced (line \"4 10\")",
            ),
        ] {
            let failure = apply_list(ok(payload), 3).unwrap_err();
            assert_eq!(failure.kind, FailureKind::Protocol);
            assert!(failure.message.contains(words), "{failure}");
        }
        assert!(
            apply_list(ok(b"1 10\r\n"), 0).is_err(),
            "STAT said the maildrop is empty"
        );
    }

    #[test]
    fn stat_answers() {
        assert_eq!(
            apply_stat(Outcome::Ok(Reply {
                status: parse_status_line(b"+OK 3 60").unwrap(),
                body: None
            }))
            .unwrap(),
            3
        );
        let bad = apply_stat(Outcome::Ok(Reply {
            status: parse_status_line(b"+OK lots").unwrap(),
            body: None,
        }))
        .unwrap_err();
        assert_eq!(bad.kind, FailureKind::Protocol);
        assert!(apply_stat(err("-ERR no")).unwrap_err().message.contains("STAT"));
    }

    #[test]
    fn list_answers() {
        assert_eq!(apply_list(ok(b"1 10\r\n2 20\r\n"), 2).unwrap(), [(1, 10), (2, 20)]);
        let bad = apply_list(ok(b"1 10\r\ngarbage\r\n"), 2).unwrap_err();
        assert_eq!(bad.kind, FailureKind::Protocol);
        assert!(bad.message.contains("garbage"), "{bad}");
        let refused = apply_list(err("-ERR [SYS/TEMP] busy"), 2).unwrap_err();
        assert_eq!(refused.kind, FailureKind::Mailbox);
        assert!(
            refused
                .message
                .contains("the server refused LIST: -ERR [SYS/TEMP] busy")
        );
        let lost = apply_list(Outcome::Lost("reset".into()), 2).unwrap_err();
        assert_eq!(lost.kind, FailureKind::Connect);
        assert!(!lost.message.contains("Lost"), "no Debug text: {lost}");
    }

    #[test]
    fn a_bad_uidl_line_is_skipped_counted_and_told() {
        let mut plan = ListingPlan::new(Offer::Listed, Offer::Listed);
        let uids = plan
            .apply_uidl(ok(b"2 bbb\r\n1 aaa\r\n3 \x01\r\nnonsense\r\n4 ddd\r\n"))
            .unwrap();
        assert_eq!(
            (uids.get(1), uids.get(2), uids.get(3), uids.get(4)),
            (Some("aaa"), Some("bbb"), None, Some("ddd"))
        );
        let notice = uids.notice().expect("the bad lines are told");
        assert!(notice.starts_with("2 malformed UIDL lines skipped"), "{notice}");
        assert!(crate::sanitize::is_terminal_safe(&notice), "{notice:?}");
        let clean = plan.apply_uidl(ok(b"1 aaa\r\n")).unwrap();
        assert_eq!(clean.notice(), None);
    }

    #[test]
    fn uidl_refused_means_numbers_only() {
        for (offer, words) in [
            (Offer::CapaUnknown, "does not support UIDL"),
            (Offer::Listed, "refused UIDL"),
        ] {
            let mut plan = ListingPlan::new(offer, Offer::Listed);
            let uids = plan.apply_uidl(err("-ERR what?")).unwrap();
            assert_eq!(uids.get(1), None);
            let notice = uids.notice().unwrap();
            assert!(notice.contains(words) && notice.contains("-ERR what?"), "{notice}");
        }
        let mut plan = ListingPlan::new(Offer::Listed, Offer::Listed);
        assert_eq!(
            plan.apply_uidl(Outcome::NotSent("closed".into())).unwrap_err().kind,
            FailureKind::Connect
        );
    }

    #[test]
    fn top_without_capa_is_tried_and_a_refusal_said_once() {
        let mut plan = ListingPlan::new(Offer::CapaUnknown, Offer::CapaUnknown);
        assert!(plan.asks_top());
        assert!(
            matches!(plan.apply_top(1, err("-ERR unknown command")), TopAnswer::NotSupported(n) if n.contains("TOP"))
        );
        assert!(!plan.asks_top());
        assert_eq!(plan.apply_top(1, err("-ERR unknown command")), TopAnswer::Skipped);

        let mut plan = ListingPlan::new(Offer::CapaUnknown, Offer::CapaUnknown);
        assert!(matches!(plan.apply_top(1, ok(b"Subject: hi\r\n\r\n")), TopAnswer::Headers(h) if h.subject() == "hi"));
        assert!(matches!(plan.apply_top(1, err("-ERR gone")), TopAnswer::Refused(_)));
        assert!(plan.asks_top(), "one refusal after a success is about that message");
    }

    #[test]
    fn top_refused_when_listed_is_per_message() {
        let mut plan = ListingPlan::new(Offer::Listed, Offer::Listed);
        assert!(matches!(
            plan.apply_top(1, err("-ERR no such message")),
            TopAnswer::Refused(_)
        ));
        assert!(plan.asks_top());
        assert!(matches!(
            plan.apply_top(1, Outcome::Lost("reset".into())),
            TopAnswer::Failed(f) if f.kind == FailureKind::Connect
        ));
    }

    #[test]
    fn outcomes_read_as_words() {
        assert_eq!(err("-ERR [IN-USE] locked").to_string(), "-ERR [IN-USE] locked");
        assert_eq!(ok(b"secret payload").to_string(), "+OK");
        assert_eq!(
            Outcome::Lost("reset by peer".into()).to_string(),
            "no answer, the connection ended (reset by peer)"
        );
        assert_eq!(Outcome::NotSent("closed".into()).to_string(), "not sent (closed)");
        let f = outcome_failure("RETR 3", &ok(b""));
        assert_eq!(
            (f.kind, f.message.as_str()),
            (FailureKind::Protocol, "RETR 3: unexpected answer +OK")
        );
    }
}
