//! The test Maildir: deterministic messages for a real server's maildrop
//! (the Dovecot tests and the benchmark), and what a POP3 client receives
//! for them.
//!
//! Every generator returns the bytes of one message file with LF line ends,
//! as Maildir files conventionally are. Dovecot converts LF to CRLF on the
//! wire, so what a POP3 client sees is `to_wire(msg)` and what LIST/STAT count
//! is `virtual_size(msg)`. Same input, same bytes: nothing depends on the
//! clock, the host or a random seed.
//!
//! * `ordinary(i)`: a realistic message (Return-Path, Received, From, To,
//!   Subject, Date, Message-ID, MIME headers; sizes from ~0.5 KB to ~64 KB).
//!   `ordinary_meta(i)` gives its From/Subject/Date/Message-ID.
//! * the hostile specimens of `super::hostile`, by name, stamped with
//!   `Stamp::fixed()` (each with an `X-Popscope-Test: <name>` header when it
//!   has headers at all).
//! * `mixed_maildrop(n)`: `n` messages, ordinary except at the fixed indices
//!   given by `hostile_positions(n)`.

use super::dates::format_date;
use super::hostile::Stamp;
use super::rng::Rng;

pub use super::hostile::{HOSTILE, HUGE_BODY_LEN, LONG_HEADER_LINE_LEN};

/// The hostile message called `name`; panics on an unknown name.
pub fn hostile(name: &str) -> Vec<u8> {
    match super::hostile::hostile(name, &Stamp::fixed()) {
        Some(message) => message,
        None => panic!("no hostile message called {name:?}"),
    }
}

/// 0-based index of the k-th hostile message in a mixed maildrop.
pub fn hostile_index(k: usize) -> usize {
    1 + 3 * k
}

/// (0-based index, name) of every hostile message in `mixed_maildrop(n)`.
/// The POP3 message number is index + 1 when the drop is delivered in order
/// into an empty mailbox.
pub fn hostile_positions(n: usize) -> Vec<(usize, &'static str)> {
    HOSTILE
        .iter()
        .enumerate()
        .map(|(k, (name, _))| (hostile_index(k), *name))
        .filter(|(i, _)| *i < n)
        .collect()
}

/// What `mixed_maildrop(n)` holds at 0-based `index`: the hostile name, or
/// `None` for `ordinary(index)`.
pub fn kind_at(index: usize) -> Option<&'static str> {
    HOSTILE
        .iter()
        .enumerate()
        .find(|(k, _)| hostile_index(*k) == index)
        .map(|(_, (name, _))| *name)
}

/// The message at 0-based `index` of a mixed maildrop (any `n > index`).
pub(crate) fn mixed_message(index: usize) -> Vec<u8> {
    match kind_at(index) {
        Some(name) => hostile(name),
        None => ordinary(index),
    }
}

/// `n` messages: `ordinary(i)` at index i, except the hostile ones at the
/// indices given by `hostile_positions(n)` (all of them once n >= 32).
pub fn mixed_maildrop(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(mixed_message).collect()
}

/// The bytes a POP3 client receives for `msg` (RETR, after dot-unstuffing):
/// every LF becomes CRLF (an existing CRLF is kept), and a final CRLF is
/// added when the message does not end with a line end. Dovecot does that
/// even for an empty message: RETR of a 0-byte file yields one empty line.
pub fn to_wire(msg: &[u8]) -> Vec<u8> {
    let mut out = lf_to_crlf(msg);
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// What `TOP n 0` yields for `msg` (after dot-unstuffing): the header block
/// with CRLF line ends, then the empty separator line. For a message without
/// headers (or an empty one) that is just CRLF.
pub fn top0(msg: &[u8]) -> Vec<u8> {
    let mut out = lf_to_crlf(header_block(msg));
    out.extend_from_slice(b"\r\n");
    out
}

/// Every bare LF becomes CRLF; nothing else changes.
pub(crate) fn lf_to_crlf(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + msg.len() / 30 + 2);
    let mut prev = 0u8;
    for &b in msg {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// The size LIST/STAT report for `msg`: its length with every bare LF
/// counted as CRLF (no final line end is added).
pub fn virtual_size(msg: &[u8]) -> u64 {
    let mut size = msg.len() as u64;
    let mut prev = 0u8;
    for &b in msg {
        if b == b'\n' && prev != b'\r' {
            size += 1;
        }
        prev = b;
    }
    size
}

/// The header block of a message: everything up to and including the line
/// end before the first empty line (empty if the message starts with one;
/// the whole message if it has no empty line).
pub fn header_block(msg: &[u8]) -> &[u8] {
    if msg.first() == Some(&b'\n') {
        return &msg[..0];
    }
    match msg.windows(2).position(|w| w == b"\n\n") {
        Some(p) => &msg[..p + 1],
        None => msg,
    }
}

// ---------------------------------------------------------------------------
// Ordinary messages

/// Key facts of `ordinary(i)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrdinaryMeta {
    /// Display name of the sender (plain ASCII).
    pub from_name: String,
    /// Sender address.
    pub from_addr: String,
    /// Subject as decoded text (the header may hold an RFC 2047 word).
    pub subject: String,
    /// Raw `Subject:` header value.
    pub subject_raw: String,
    /// `Date:` header value (RFC 5322).
    pub date: String,
    /// Seconds since the epoch of `date`.
    pub timestamp: u64,
    /// `Message-ID:` header value, angle brackets included.
    pub message_id: String,
    /// Number of body lines.
    pub body_lines: usize,
}

const FIRST_NAMES: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Alan", "Radia", "Edsger", "Hedy",
    "Donald", "Sophie", "Niklaus", "Karen",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Turing", "Perlman",
    "Dijkstra", "Lamarr", "Knuth", "Wilson", "Wirth", "Jones",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "lists.example.org",
];
/// (raw header value, decoded text)
const SUBJECTS: &[(&str, &str)] = &[
    ("Quarterly report", "Quarterly report"),
    ("Re: lunch on Friday?", "Re: lunch on Friday?"),
    ("Your invoice is ready", "Your invoice is ready"),
    ("[announce] release 2.4.1", "[announce] release 2.4.1"),
    ("=?UTF-8?Q?Caf=C3=A9_meeting_notes?=", "Caf\u{e9} meeting notes"),
    ("Fwd: photos from the trip", "Fwd: photos from the trip"),
    ("Build failed: main #1234", "Build failed: main #1234"),
    ("=?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGlu?=", "Gr\u{fc}\u{df}e aus Berlin"),
    ("Password reset request", "Password reset request"),
    ("Weekly newsletter", "Weekly newsletter"),
    ("Re: Re: budget spreadsheet", "Re: Re: budget spreadsheet"),
    ("Meeting moved to 3pm", "Meeting moved to 3pm"),
];
const WORDS: &[&str] = &[
    "the",
    "mailbox",
    "server",
    "message",
    "please",
    "find",
    "attached",
    "report",
    "we",
    "will",
    "meet",
    "on",
    "Tuesday",
    "and",
    "discuss",
    "numbers",
    "thanks",
    "for",
    "your",
    "patience",
    "regards",
    "update",
    "schedule",
    "project",
    "deadline",
    "review",
    "draft",
    "coffee",
    "soon",
    "Gr\u{fc}\u{df}e",
    "caf\u{e9}",
    "note",
    "list",
    "delivery",
    "weather",
    "plan",
    "again",
    "late",
];

/// Seeds of this generator's streams are salted so they differ from the
/// demo's for the same number.
const SALT: u64 = 0x5851_F42D_4C95_7F2D;

/// 2024-01-01T00:00:00Z
const BASE_TIME: u64 = 1_704_067_200;

/// The key facts of `ordinary(i)`.
pub fn ordinary_meta(i: usize) -> OrdinaryMeta {
    let mut rng = Rng::new(i as u64 ^ SALT);
    let first = *rng.pick(FIRST_NAMES);
    let last = *rng.pick(LAST_NAMES);
    let domain = *rng.pick(DOMAINS);
    let (subject_raw, subject) = *rng.pick(SUBJECTS);
    let timestamp = BASE_TIME + i as u64 * 3_607 + rng.below(600);
    let body_lines = if i % 23 == 22 {
        // ~64 KB
        900 + rng.below(100) as usize
    } else if i % 7 == 6 {
        60 + rng.below(240) as usize
    } else {
        2 + rng.below(25) as usize
    };
    OrdinaryMeta {
        from_name: format!("{first} {last}"),
        from_addr: format!("{}.{}@{domain}", first.to_ascii_lowercase(), last.to_ascii_lowercase()),
        subject: format!("{subject} #{i}"),
        subject_raw: format!("{subject_raw} #{i}"),
        date: format_date(timestamp as i64, 0),
        timestamp,
        message_id: format!("<{i}.{:016x}@{domain}>", rng.next_u64()),
        body_lines,
    }
}

/// A realistic, well-formed message; deterministic in `i`.
pub fn ordinary(i: usize) -> Vec<u8> {
    let m = ordinary_meta(i);
    let mut rng = Rng::new(0xB0D7 ^ (i as u64).wrapping_mul(0x1000_0001) ^ SALT);
    let mut s = String::new();
    let host = rng.below(20);
    s.push_str(&format!("Return-Path: <{}>\n", m.from_addr));
    s.push_str(&format!(
        "Received: from mx{host}.example.net (mx{host}.example.net [192.0.2.{}])\n\
         \tby mail.example.test (Postfix) with ESMTPS id {:010X}\n\
         \tfor <alice@example.test>; {}\n",
        1 + host,
        rng.next_u64() & 0xFF_FFFF_FFFF,
        m.date
    ));
    s.push_str(&format!("From: {} <{}>\n", m.from_name, m.from_addr));
    s.push_str("To: Alice Example <alice@example.test>\n");
    s.push_str(&format!("Subject: {}\n", m.subject_raw));
    s.push_str(&format!("Date: {}\n", m.date));
    s.push_str(&format!("Message-ID: {}\n", m.message_id));
    s.push_str("MIME-Version: 1.0\n");
    s.push_str("Content-Type: text/plain; charset=utf-8\n");
    s.push_str("Content-Transfer-Encoding: 8bit\n");
    s.push('\n');
    s.push_str(&format!("Hello Alice,\n\nthis is test message {i}.\n"));
    for _ in 0..m.body_lines {
        let mut line = String::new();
        let target = 40 + rng.below(32) as usize;
        while line.len() < target {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(rng.pick::<&str>(WORDS));
        }
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(&format!("\n-- \n{}\n", m.from_name));
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test maildrop's messages are what the tests' assertions (and
    /// Dovecot runs recorded with them) expect: pin a few.
    #[test]
    fn ordinary_messages_are_pinned() {
        let m = ordinary_meta(0);
        assert_eq!(m.from_addr, "frances.dijkstra@example.com");
        assert_eq!(m.subject, "Your invoice is ready #0");
        assert_eq!(m.date, "Mon, 01 Jan 2024 00:01:15 +0000");
        assert_eq!(m.message_id, "<0.250924992b7b8fb9@example.com>");
        assert_eq!(m.body_lines, 12);
        let m = ordinary_meta(1234);
        assert_eq!(m.date, "Wed, 21 Feb 2024 12:29:09 +0000");
        assert_eq!(m.timestamp, 1_708_518_549);
        assert_eq!(m.message_id, "<1234.47827493791f75f6@example.net>");
        assert_eq!(kind_at(hostile_index(10)), Some("broken-mime"));
    }
}
