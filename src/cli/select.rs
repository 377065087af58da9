//! Which listed messages a command acts on: `--match QUERY` and
//! `--uids-from FILE`, judged row by row as `list_messages` hands them
//! over, with the tally the summary line reports.
//!
//! With both, a message must satisfy both (the intersection): adding a
//! condition can only make a deletion smaller, never larger. A message a
//! selection cannot judge (its headers or its UID were not given by the
//! server) is never selected; it is counted and said.

use super::list::Listing;
use crate::error::{Failure, FailureKind};
use crate::query::{MatchContext, Query, Verdict};
use crate::text::human_size;
use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

/// Largest `--uids-from` input read: ~900,000 UIDs of 70 characters.
const MAX_UID_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Unknown UIDs named in the summary; the rest are counted.
const UNKNOWN_UIDS_SHOWN: usize = 5;

/// Parses `--match`; a bad query is a usage error that points at the
/// column.
pub(crate) fn parse_match(text: &str) -> Result<Query, Failure> {
    Query::parse(text).map_err(|e| {
        let shown: Vec<String> = e.render().lines().map(|l| format!("    {l}")).collect();
        Failure::new(
            FailureKind::Usage,
            format!("--match: the query cannot be read:\n{}", shown.join("\n")),
        )
        .with_hint("docs/query.md (and the README) list every field, flag and operator")
    })
}

/// UIDs to select, as read from `--uids-from`.
#[derive(Debug, Clone, Default)]
pub(crate) struct UidSet {
    wanted: HashSet<String>,
    /// In file order, for saying which were not found.
    order: Vec<String>,
    seen: HashSet<String>,
}

impl UidSet {
    /// Reads `path` (`-` is standard input): one UID per line; blank lines
    /// and lines starting with `#` are skipped, surrounding spaces ignored.
    pub fn read(path: &Path) -> Result<UidSet, Failure> {
        let shown = path.display();
        let mut bytes = Vec::new();
        let read = if path.as_os_str() == "-" {
            std::io::stdin()
                .lock()
                .take(MAX_UID_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
        } else {
            std::fs::File::open(path).and_then(|f| f.take(MAX_UID_FILE_BYTES + 1).read_to_end(&mut bytes))
        };
        read.map_err(|e| Failure::new(FailureKind::Usage, format!("--uids-from {shown}: cannot read it: {e}")))?;
        if bytes.len() as u64 > MAX_UID_FILE_BYTES {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("--uids-from {shown}: longer than {}", human_size(MAX_UID_FILE_BYTES)),
            ));
        }
        UidSet::parse(&bytes).map_err(|(line, why)| {
            Failure::new(FailureKind::Usage, format!("--uids-from {shown}, line {line}: {why}"))
                .with_hint("one UID per line, as `popscope list --json | jq -r .uid` prints them")
        })
    }

    /// The lines of a UID list; an error names the 1-based line.
    pub fn parse(bytes: &[u8]) -> Result<UidSet, (usize, String)> {
        let mut set = UidSet::default();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let text = std::str::from_utf8(line).map_err(|_| (i + 1, "not UTF-8 text".to_string()))?;
            let uid = text.trim();
            if uid.is_empty() || uid.starts_with('#') {
                continue;
            }
            // RFC 1939 §7: 1 to 70 characters from 0x21 to 0x7E.
            if uid.len() > 70 || !uid.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
                return Err((
                    i + 1,
                    format!(
                        "{:?} is not a UID (1 to 70 printable ASCII characters, no spaces)",
                        crate::sanitize::sanitize_text(&uid.chars().take(80).collect::<String>(), false)
                    ),
                ));
            }
            if set.wanted.insert(uid.to_string()) {
                set.order.push(uid.to_string());
            }
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    fn judge(&mut self, uid: Option<&str>) -> Verdict {
        match uid {
            None => Verdict::Unknown,
            Some(uid) if self.wanted.contains(uid) => {
                self.seen.insert(uid.to_string());
                Verdict::Match
            }
            Some(_) => Verdict::NoMatch,
        }
    }

    /// The UIDs given that no listed message has, in file order.
    pub fn unknown(&self) -> Vec<&str> {
        self.order
            .iter()
            .filter(|uid| !self.seen.contains(*uid))
            .map(String::as_str)
            .collect()
    }
}

/// What was asked (`--match`, `--uids-from`), and the tally so far.
#[derive(Debug)]
pub(crate) struct Selector {
    query: Option<Query>,
    uids: Option<UidSet>,
    /// A message without a UID cannot be selected (`clean` without
    /// `--by-number`).
    require_uid: bool,
    context: MatchContext,
    pub tally: Tally,
}

/// How the listed messages fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub listed: u64,
    pub selected: u64,
    pub selected_bytes: u64,
    /// Undecided because the server gave no headers for them.
    pub no_headers: u64,
    /// Undecided because the server gave no UID for them.
    pub no_uid: u64,
}

impl Selector {
    pub fn new(query: Option<Query>, uids: Option<UidSet>) -> Selector {
        Selector {
            query,
            uids,
            require_uid: false,
            context: MatchContext::at(unix_now()),
            tally: Tally::default(),
        }
    }

    /// Leaves messages without a UID unselected (counted as not
    /// evaluated).
    pub(crate) fn requiring_uids(mut self, require: bool) -> Selector {
        self.require_uid = require;
        self
    }

    pub fn query(&self) -> Option<&Query> {
        self.query.as_ref()
    }

    pub fn uids(&self) -> Option<&UidSet> {
        self.uids.as_ref()
    }

    /// Judges one listed message (in list order) and counts it. Only
    /// [`Verdict::Match`] selects.
    pub fn judge(&mut self, listing: &Listing) -> Verdict {
        self.tally.listed += 1;
        let by_query = match &self.query {
            Some(query) => query.evaluate(listing, &self.context),
            None => Verdict::Match,
        };
        let by_uid = match &mut self.uids {
            // Asked even when the query said no: the set learns which of
            // its UIDs the maildrop has.
            Some(uids) => uids.judge(listing.uid.as_deref()),
            _ if self.require_uid && listing.uid.is_none() => Verdict::Unknown,
            _ => Verdict::Match,
        };
        let verdict = match (by_query, by_uid) {
            (Verdict::NoMatch, _) | (_, Verdict::NoMatch) => Verdict::NoMatch,
            (Verdict::Match, Verdict::Match) => Verdict::Match,
            _ => Verdict::Unknown,
        };
        match verdict {
            Verdict::Match => {
                self.tally.selected += 1;
                self.tally.selected_bytes = self.tally.selected_bytes.saturating_add(listing.size);
            }
            Verdict::Unknown if listing.headers.is_none() && by_query == Verdict::Unknown => self.tally.no_headers += 1,
            Verdict::Unknown => self.tally.no_uid += 1,
            Verdict::NoMatch => {}
        }
        verdict
    }

    /// "312 of 5000 messages match (48.2 MB)", then what could not be
    /// judged and which given UIDs were not found. `verb` is "match" or
    /// "selected".
    pub fn summary(&self, verb: &str) -> String {
        let t = &self.tally;
        let mut said = format!(
            "{} of {} messages {verb} ({})",
            t.selected,
            t.listed,
            human_size(t.selected_bytes)
        );
        if t.no_headers > 0 {
            said.push_str(&format!(
                "; {} not evaluated: the server gave no headers for {}",
                t.no_headers,
                if t.no_headers == 1 { "it" } else { "them" }
            ));
        }
        if t.no_uid > 0 {
            said.push_str(&format!(
                "; {} not evaluated: the server gave no UID for {}",
                t.no_uid,
                if t.no_uid == 1 { "it" } else { "them" }
            ));
        }
        if let Some(uids) = &self.uids {
            let unknown = uids.unknown();
            if !unknown.is_empty() {
                let shown: Vec<&str> = unknown.iter().take(UNKNOWN_UIDS_SHOWN).copied().collect();
                said.push_str(&format!(
                    "; {} of the {} UIDs given {} not in the maildrop ({}{})",
                    unknown.len(),
                    uids.len(),
                    if unknown.len() == 1 { "is" } else { "are" },
                    shown.join(", "),
                    if unknown.len() > shown.len() { ", …" } else { "" }
                ));
            }
        }
        said
    }
}

/// Now, in seconds since the Unix epoch (0 if the clock is before it).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::headers::HeaderSummary;

    fn listing(msg: u32, uid: Option<&str>, subject: Option<&str>) -> Listing {
        Listing {
            msg,
            uid: uid.map(str::to_string),
            size: 100,
            headers: subject.map(|s| HeaderSummary::parse(format!("Subject: {s}\r\n\r\n").as_bytes())),
            dup: false,
        }
    }

    #[test]
    fn uid_lists_skip_blanks_and_comments_and_refuse_junk() {
        let set = UidSet::parse(b"# from list --json\n\n  aaa  \r\nbbb\naaa\n").unwrap();
        assert_eq!(set.order, ["aaa", "bbb"]);
        assert_eq!(UidSet::parse(b"ok\nwith space\n").unwrap_err().0, 2);
        assert_eq!(UidSet::parse(&[b'x'; 71]).unwrap_err().0, 1);
        let (line, why) = UidSet::parse(b"a\n\x1b[2J\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(crate::sanitize::is_terminal_safe(&why), "{why:?}");
    }

    #[test]
    fn query_and_uids_intersect_and_unknowns_are_counted() {
        let query = parse_match("subject:disk").unwrap();
        let uids = UidSet::parse(b"u1\nu2\nu4\nu9\n").unwrap();
        let mut selector = Selector::new(Some(query), Some(uids));
        let verdicts: Vec<Verdict> = [
            listing(1, Some("u1"), Some("disk full")),
            listing(2, Some("u2"), Some("hello")),
            listing(3, Some("u3"), Some("disk full")),
            listing(4, Some("u4"), None),
            listing(5, None, Some("disk full")),
        ]
        .iter()
        .map(|l| selector.judge(l))
        .collect();
        use Verdict::*;
        assert_eq!(verdicts, [Match, NoMatch, NoMatch, Unknown, Unknown]);
        assert_eq!(
            selector.tally,
            Tally {
                listed: 5,
                selected: 1,
                selected_bytes: 100,
                no_headers: 1,
                no_uid: 1
            }
        );
        let said = selector.summary("selected");
        assert!(said.starts_with("1 of 5 messages selected (100 B)"), "{said}");
        assert!(
            said.contains("1 not evaluated: the server gave no headers for it"),
            "{said}"
        );
        assert!(
            said.contains("1 not evaluated: the server gave no UID for it"),
            "{said}"
        );
        assert!(
            said.contains("1 of the 4 UIDs given is not in the maildrop (u9)"),
            "{said}"
        );
    }

    #[test]
    fn a_bad_query_is_a_usage_error_pointing_at_the_column() {
        let failure = parse_match("subject:\"disk full").unwrap_err();
        assert_eq!(failure.kind, FailureKind::Usage);
        assert!(
            failure.message.contains("        ^ this quote is never closed"),
            "{failure}"
        );
    }
}
