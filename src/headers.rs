//! The few headers popscope shows for a message, taken from a `TOP n 0`
//! header block: RFC 2047 decoded by mail-parser, then sanitized once, here,
//! where they enter popscope's model.

use crate::sanitize::sanitize_text;
use mail_parser::{Address, MessageParser, MimeHeaders};
use serde::Serialize;

/// Longest value kept for one header; a 200 KB Subject is cut, not kept.
pub const MAX_HEADER_VALUE: usize = 1024;

/// The displayable facts of one message's header. All strings are safe to
/// print on a terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeaderSummary {
    pub date: Option<String>,
    /// Seconds since the epoch, for sorting; `None` if absent or unparsable.
    #[serde(skip)]
    pub timestamp: Option<i64>,
    pub from: String,
    pub to: String,
    pub cc: String,
    pub subject: String,
    pub message_id: String,
    pub content_type: String,
}

impl HeaderSummary {
    /// Parses a raw header block. Never fails: what cannot be parsed is left
    /// empty, and a parser panic (hostile input) yields an empty summary.
    pub fn parse(raw: &[u8]) -> HeaderSummary {
        std::panic::catch_unwind(|| parse_inner(raw)).unwrap_or_default()
    }
}

fn parse_inner(raw: &[u8]) -> HeaderSummary {
    let Some(message) = MessageParser::default().parse_headers(raw) else {
        return HeaderSummary::default();
    };
    let date = message.date();
    HeaderSummary {
        date: date.map(|d| clean(&d.to_rfc3339())),
        timestamp: date.map(|d| d.to_timestamp()),
        from: message.from().map(format_address).unwrap_or_default(),
        to: message.to().map(format_address).unwrap_or_default(),
        cc: message.cc().map(format_address).unwrap_or_default(),
        subject: message.subject().map(clean).unwrap_or_default(),
        message_id: message.message_id().map(clean).unwrap_or_default(),
        content_type: message
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => clean(&format!("{}/{}", ct.ctype(), sub)),
                None => clean(ct.ctype()),
            })
            .unwrap_or_default(),
    }
}

/// Bounded and sanitized.
fn clean(value: &str) -> String {
    let cut = &value[..value.floor_char_boundary(MAX_HEADER_VALUE)];
    let mut s = sanitize_text(cut.trim(), false);
    if cut.len() < value.len() {
        s.push('…');
    }
    s
}

fn format_address(address: &Address) -> String {
    let parts: Vec<String> = address
        .iter()
        .take(20)
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (Some(name), None) => name.to_string(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    clean(&parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sanitize::is_terminal_safe;

    #[test]
    fn ordinary_headers() {
        let h = HeaderSummary::parse(
            b"From: Alice Example <alice@example.org>\r\nTo: bob@example.net\r\nSubject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 1 Jul 2025 10:52:37 +0200\r\nMessage-ID: <x@y>\r\n\r\n",
        );
        assert_eq!(h.from, "Alice Example <alice@example.org>");
        assert_eq!(h.to, "bob@example.net");
        assert_eq!(h.subject, "Grüße");
        assert_eq!(h.message_id, "x@y");
        assert!(h.date.as_deref().unwrap().starts_with("2025-07-01T10:52:37"));
        assert!(h.timestamp.is_some());
    }

    #[test]
    fn escapes_inside_encoded_words_are_neutralized() {
        // ESC [2J hidden in base64: only visible after RFC 2047 decoding.
        let h = HeaderSummary::parse(
            b"Subject: =?utf-8?B?G1sySmNsZWFyZWQ=?=\r\nFrom: =?utf-8?Q?=1B]0;pwned=07?= <a@b>\r\n\r\n",
        );
        assert!(is_terminal_safe(&h.subject), "{:?}", h.subject);
        assert!(h.subject.contains("[2Jcleared"));
        assert!(is_terminal_safe(&h.from), "{:?}", h.from);
    }

    #[test]
    fn hostile_blocks_do_not_panic_and_are_bounded() {
        let mut long = b"Subject: ".to_vec();
        long.extend(std::iter::repeat_n(b'x', 200 * 1024));
        long.extend_from_slice(b"\r\n\r\n");
        let h = HeaderSummary::parse(&long);
        assert!(h.subject.chars().count() <= MAX_HEADER_VALUE + 1);
        for raw in [
            &b""[..],
            b"\0\0\0",
            b"Subject: \xff\xfe\x00\r\n",
            b"=?x?q?=?=",
            b"From: <<<<@@@>>>",
        ] {
            let h = HeaderSummary::parse(raw);
            assert!(is_terminal_safe(&h.subject) && is_terminal_safe(&h.from));
        }
    }
}
