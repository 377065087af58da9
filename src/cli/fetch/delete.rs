//! `fetch --delete`: consent (asked on a terminal, or `--yes`), and the
//! guarded deletion of exactly the messages whose copies `sync` returned.
//!
//! The deletion follows the inspector's commit rules: every DELE at once
//! (pipelined), the committing QUIT only once every DELE was accepted,
//! RSET and a plain QUIT on any refusal, and the server's answer to QUIT
//! (or "unknown") reported word for word.

use crate::error::{Failure, FailureKind};
use crate::pop3::client::{Command, Outcome};
use crate::pop3::codec::StatusLine;
use crate::session::{QuitResult, Session};
use crate::transfer::Cancel;
use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::sync::oneshot;

/// Refusals named in the report; the rest are counted.
const REFUSALS_SHOWN: usize = 5;
/// While the question waits, a NOOP this often keeps the session from
/// being logged out for idleness (RFC 1939: at least 10 minutes).
const KEEPALIVE: Duration = Duration::from_secs(60);

/// How consent to delete is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// No `--delete`: nothing is ever deleted.
    Keep,
    /// `--delete --yes`.
    Given,
    /// `--delete` on a terminal: ask once the copies are safe.
    Ask,
}

impl Consent {
    /// Refuses before connecting when `--delete` has nobody to ask.
    pub fn new(delete: bool, yes: bool, stdin_is_the_uid_list: bool) -> Result<Consent, Failure> {
        if !delete {
            return Ok(Consent::Keep);
        }
        if yes {
            return Ok(Consent::Given);
        }
        if std::io::stdin().is_terminal() && !stdin_is_the_uid_list {
            return Ok(Consent::Ask);
        }
        let why = if stdin_is_the_uid_list {
            "standard input carries the UID list, so there is no terminal to ask on"
        } else {
            "standard input is not a terminal, so there is nobody to ask"
        };
        Err(Failure::new(
            FailureKind::Usage,
            format!("refusing to delete without confirmation: {why}"),
        )
        .with_hint("add --yes to delete what was fetched, or leave out --delete"))
    }
}

/// How the deletion ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// Nothing was sent; the reason says why.
    NotDone(String),
    Deleted {
        count: usize,
        server: StatusLine,
    },
    /// A DELE was refused: RSET was sent, nothing was deleted.
    Cancelled {
        refused: Vec<(u32, StatusLine)>,
        count: usize,
    },
    /// The connection ended before QUIT: nothing was deleted.
    Lost(String),
    /// Ctrl-C before QUIT: the connection was closed without it.
    Interrupted,
    /// QUIT was answered `-ERR`: some or all may remain.
    QuitRefused {
        count: usize,
        server: StatusLine,
    },
    /// QUIT went out, no answer came.
    Unknown {
        count: usize,
        reason: String,
    },
}

impl Deletion {
    /// How many messages the server deleted, when that is known.
    pub fn deleted(&self) -> Option<usize> {
        match self {
            Deletion::Deleted { count, .. } => Some(*count),
            Deletion::QuitRefused { .. } | Deletion::Unknown { .. } => None,
            _ => Some(0),
        }
    }

    /// The server's answer to QUIT, when there was one.
    pub fn quit_answer(&self) -> Option<&StatusLine> {
        match self {
            Deletion::Deleted { server, .. } | Deletion::QuitRefused { server, .. } => Some(server),
            _ => None,
        }
    }

    /// The failure class the command exits with; `None` for success.
    pub fn failure_kind(&self) -> Option<FailureKind> {
        match self {
            Deletion::NotDone(_) | Deletion::Deleted { .. } => None,
            Deletion::Cancelled { refused, .. } => Some(refused.first().map_or(FailureKind::Protocol, |(_, s)| {
                FailureKind::refusal(s, FailureKind::Protocol)
            })),
            Deletion::Lost(_) | Deletion::Unknown { .. } => Some(FailureKind::Connect),
            Deletion::Interrupted => Some(FailureKind::Interrupted),
            Deletion::QuitRefused { server, .. } => Some(FailureKind::refusal(server, FailureKind::Protocol)),
        }
    }
}

impl fmt::Display for Deletion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deletion::NotDone(why) => write!(f, "nothing was deleted ({why})"),
            Deletion::Deleted { count, server } => write!(
                f,
                "deleted {count} fetched message{} from the server; it said: {server}",
                plural(*count)
            ),
            Deletion::Cancelled { refused, count } => {
                write!(f, "deletion cancelled, nothing deleted: ")?;
                for (i, (n, status)) in refused.iter().take(REFUSALS_SHOWN).enumerate() {
                    let sep = if i > 0 { "; " } else { "" };
                    write!(f, "{sep}DELE {n}: {status}")?;
                }
                if refused.len() > REFUSALS_SHOWN {
                    write!(f, " (and {} more refused)", refused.len() - REFUSALS_SHOWN)?;
                }
                write!(f, "; the {count} copies stay saved")
            }
            Deletion::Lost(reason) => {
                write!(f, "nothing was deleted (the connection was lost before QUIT: {reason})")
            }
            Deletion::Interrupted => write!(f, "nothing was deleted (interrupted before QUIT; no QUIT was sent)"),
            Deletion::QuitRefused { count, server } => write!(
                f,
                "the server answered QUIT with an error: {server}; some or all of the {count} messages may not have been deleted, check the mailbox"
            ),
            Deletion::Unknown { count, reason } => write!(
                f,
                "OUTCOME UNKNOWN: the connection ended before the server answered QUIT ({reason}); the {count} messages may or may not have been deleted (their copies are saved), check the mailbox"
            ),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Asks on the terminal; only "y" or "yes" is a yes. Keeps the session
/// alive while the question waits.
pub async fn ask(session: &Session, count: usize) -> Result<bool, Failure> {
    eprint!(
        "Delete {count} fetched message{} from the server? [y/N] ",
        plural(count)
    );
    let (tx, mut answer) = oneshot::channel();
    // A plain thread, not the blocking pool: should the session fail while
    // the question waits, popscope can exit without an answer.
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    loop {
        tokio::select! {
            line = &mut answer => {
                let line = line
                    .map_err(|_| Failure::new(FailureKind::Local, "cannot read the answer"))?
                    .map_err(|e| Failure::new(FailureKind::Local, format!("cannot read the answer: {e}")))?;
                let line = line.trim().to_ascii_lowercase();
                return Ok(line == "y" || line == "yes");
            }
            _ = keepalive.tick() => {
                if !session.call(Command::Noop).await?.is_ok() {
                    return Err(Failure::new(FailureKind::Protocol, "the server refused NOOP while the question waited"));
                }
            }
        }
    }
}

/// DELEs `numbers` (all at once), then QUIT that commits only if every
/// one was accepted; RSET and a plain QUIT otherwise. Ends the session.
/// `cancel` before QUIT is sent closes the connection without it, so
/// nothing is deleted; QUIT itself is not interrupted.
pub async fn delete(session: Session, numbers: &[u32], cancel: &Cancel) -> Deletion {
    let count = numbers.len();
    let answered = tokio::select! {
        answered = send_deles(&session, numbers) => Some(answered),
        _ = cancel.cancelled() => None,
    };
    // Without QUIT the server deletes nothing.
    let refused = match answered {
        Some(Ok(refused)) => refused,
        Some(Err(reason)) => {
            session.abandon().await;
            return Deletion::Lost(reason);
        }
        None => {
            session.abandon().await;
            return Deletion::Interrupted;
        }
    };
    if !refused.is_empty() {
        // RSET undoes the accepted DELEs; should it fail, the session's
        // guard withholds QUIT.
        let _ = session.call(Command::Rset).await;
        session.quit(false).await;
        return Deletion::Cancelled { refused, count };
    }
    match session.quit(true).await {
        QuitResult::Answered(server) if server.is_ok() => Deletion::Deleted { count, server },
        QuitResult::Answered(server) => Deletion::QuitRefused { count, server },
        QuitResult::Unknown(reason) => Deletion::Unknown { count, reason },
        QuitResult::NotSent(reason) => Deletion::Lost(reason),
    }
}

/// Every DELE at once; the refusals, or why the answers did not all come.
async fn send_deles(session: &Session, numbers: &[u32]) -> Result<Vec<(u32, StatusLine)>, String> {
    let mut pending = Vec::with_capacity(numbers.len());
    for &n in numbers {
        pending.push((n, session.send_now(Command::Dele(n)).map_err(|f| f.message)?));
    }
    let mut refused = Vec::new();
    for (n, answer) in pending {
        match answer.await {
            Ok(Outcome::Ok(_)) => {}
            Ok(Outcome::Err(status)) => refused.push((n, status)),
            Ok(other) => return Err(other.to_string()),
            Err(failure) => return Err(failure.message),
        }
    }
    Ok(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::codec::parse_status_line;

    fn status(line: &str) -> StatusLine {
        parse_status_line(line.as_bytes()).unwrap()
    }

    #[test]
    fn every_ending_reads_as_words_and_an_exit_class() {
        let deleted = Deletion::Deleted {
            count: 2,
            server: status("+OK bye"),
        };
        assert_eq!(
            deleted.to_string(),
            "deleted 2 fetched messages from the server; it said: +OK bye"
        );
        assert_eq!((deleted.deleted(), deleted.failure_kind()), (Some(2), None));
        let refused: Vec<(u32, StatusLine)> = (1..=7).map(|n| (n, status("-ERR [SYS/TEMP] busy"))).collect();
        let cancelled = Deletion::Cancelled { refused, count: 7 };
        let text = cancelled.to_string();
        assert!(text.starts_with("deletion cancelled, nothing deleted: DELE 1: -ERR [SYS/TEMP] busy; DELE 2"));
        assert!(text.contains("(and 2 more refused); the 7 copies stay saved"), "{text}");
        assert_eq!(cancelled.failure_kind(), Some(FailureKind::Mailbox));
        assert_eq!(cancelled.deleted(), Some(0));
        let unknown = Deletion::Unknown {
            count: 3,
            reason: "reset".into(),
        };
        assert!(unknown.to_string().starts_with("OUTCOME UNKNOWN"));
        assert_eq!(unknown.deleted(), None);
        assert_eq!(unknown.failure_kind(), Some(FailureKind::Connect));
        let quit_refused = Deletion::QuitRefused {
            count: 1,
            server: status("-ERR failed"),
        };
        assert_eq!(
            quit_refused.quit_answer().map(ToString::to_string).as_deref(),
            Some("-ERR failed")
        );
        assert_eq!(quit_refused.deleted(), None);
        assert_eq!(Deletion::Lost("x".into()).deleted(), Some(0));
    }

    #[test]
    fn delete_without_yes_and_without_a_terminal_is_refused() {
        // The test runner's standard input is not a terminal.
        if std::io::stdin().is_terminal() {
            return;
        }
        let refused = Consent::new(true, false, false).unwrap_err();
        assert_eq!(refused.kind, FailureKind::Usage);
        assert!(refused.message.contains("nobody to ask"), "{refused}");
        let refused = Consent::new(true, false, true).unwrap_err();
        assert!(refused.message.contains("UID list"), "{refused}");
        assert_eq!(Consent::new(true, true, true).unwrap(), Consent::Given);
        assert_eq!(Consent::new(false, false, false).unwrap(), Consent::Keep);
    }
}
