//! Header bytes and values on their way into the model: 8-bit header bytes
//! read the way mail clients read them, and every value bounded and
//! sanitized by one function, for the list and the message view alike.

use crate::sanitize::{decode_bytes, visible_stand_in};
use mail_parser::Address;
use std::borrow::Cow;

/// Longest header value kept, in characters (after whitespace runs became
/// one space); a longer value is cut there and ends in '…'. A 200 KB
/// Subject is cut, not kept.
pub const MAX_HEADER_VALUE: usize = 1024;

/// `value` as one line for a terminal: trimmed, every whitespace run
/// (folding, tabs, line breaks) one space, at most `max_chars` characters
/// (then '…'), sanitized.
pub(crate) fn clean_value(value: &str, max_chars: usize) -> String {
    let mut clean = String::with_capacity(value.len().min(max_chars.saturating_mul(4)));
    push_clean_value(&mut clean, value, max_chars);
    clean
}

/// [`clean_value`] appended to `out`, in one pass that copies runs of
/// printable ASCII whole: the UI parses every header block it receives, so
/// this is on its hot path.
pub(crate) fn push_clean_value(out: &mut String, value: &str, max_chars: usize) {
    let bytes = value.as_bytes();
    let mut chars = 0usize;
    // Whitespace was skipped since the last character written.
    let mut pending_space = false;
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| (0x21..=0x7e).contains(*b)).count();
        let (len, stand_in) = match value[i..].chars().next() {
            Some(c) if run == 0 && c.is_whitespace() => {
                i += c.len_utf8();
                pending_space = chars > 0;
                continue;
            }
            Some(c) if run == 0 => (c.len_utf8(), Some(visible_stand_in(c))),
            _ => (run, None),
        };
        let room = max_chars.saturating_sub(chars + usize::from(pending_space));
        if room == 0 {
            out.push('…');
            return;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        match stand_in {
            Some(c) => {
                out.push(c);
                chars += 1;
            }
            None => {
                let take = run.min(room);
                out.push_str(&value[i..i + take]);
                chars += take;
                if take < run {
                    out.push('…');
                    return;
                }
            }
        }
        i += len;
    }
}

/// [`clean_value`] at [`MAX_HEADER_VALUE`].
pub(crate) fn clean_header(value: &str) -> String {
    clean_value(value, MAX_HEADER_VALUE)
}

/// An address list as "Name <addr>, addr, …", not yet cleaned. Stops once
/// it is well past what [`clean_header`] keeps, so a header with 20,000
/// addresses costs no more than one with a hundred.
pub(crate) fn format_address(address: &Address) -> String {
    let mut out = String::new();
    for a in address.iter() {
        let start = out.len();
        if start > 0 {
            out.push_str(", ");
        }
        let text_start = out.len();
        match (a.name(), a.address()) {
            (Some(name), Some(addr)) => {
                out.push_str(name);
                out.push_str(" <");
                out.push_str(addr);
                out.push('>');
            }
            (Some(text), None) | (None, Some(text)) => out.push_str(text),
            (None, None) => {}
        }
        if out.len() == text_start {
            out.truncate(start); // nothing to show for this one
        } else if out.len() > MAX_HEADER_VALUE * 4 {
            break;
        }
    }
    out
}

/// Text without a header block, or byte soup, makes mail-parser read
/// "headers" whose names are not header names (RFC 5322: printable ASCII
/// but ':').
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

/// A header block whose bytes are UTF-8, for mail-parser: valid UTF-8
/// (RFC 6532 headers) as it is, any other byte read as Windows-1252 /
/// Latin-1, which is what 8-bit bytes in a header usually are and how mail
/// clients show them. mail-parser would turn them into U+FFFD. RFC 2047
/// encoded words are ASCII and pass unchanged.
pub(crate) fn readable_header_bytes(block: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(block) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(decode_bytes(block)),
    }
}

/// `raw` (a whole message) with its header block made readable by
/// [`readable_header_bytes`]; the body's bytes are left as they are, for
/// the body's own charset to decode.
pub(crate) fn with_readable_headers(raw: &[u8]) -> Cow<'_, [u8]> {
    let end = header_block_len(raw);
    match readable_header_bytes(&raw[..end]) {
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(block) => {
            let mut readable = block.into_bytes();
            readable.extend_from_slice(&raw[end..]);
            Cow::Owned(readable)
        }
    }
}

/// Length of the header block at the start of `raw`: up to and including
/// the first empty line (LF or CRLF line ends), or all of `raw` if it has
/// none.
fn header_block_len(raw: &[u8]) -> usize {
    let mut at_line_start = true;
    for (i, &b) in raw.iter().enumerate() {
        match b {
            b'\n' if at_line_start => return i + 1,
            b'\n' => at_line_start = true,
            b'\r' if at_line_start && raw.get(i + 1) == Some(&b'\n') => {}
            _ => at_line_start = false,
        }
    }
    raw.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_collapsed_bounded_and_sanitized() {
        assert_eq!(clean_header("  a \t b\r\n\tc  "), "a b c");
        assert_eq!(clean_header("x\u{1b}[2J"), "x\u{241b}[2J");
        let long = "é".repeat(MAX_HEADER_VALUE + 5);
        let cut = clean_header(&long);
        assert_eq!(cut.chars().count(), MAX_HEADER_VALUE + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(clean_value("abc def", 5), "abc d…");
        assert_eq!(clean_value("abc def", 7), "abc def");
        assert_eq!(clean_value("abc def", 4), "abc…");
        assert_eq!(clean_value("abc def", 3), "abc…");
        assert_eq!(clean_value("abcdef", 3), "abc…");
        assert_eq!(clean_value("ab\u{1b}cd", 3), "ab\u{241b}…");
        assert_eq!(clean_value(" \u{2028} ", 3), "");
    }

    /// The run-copying pass gives what the plain definition gives: trim,
    /// collapse whitespace, cut at `max_chars`, sanitize.
    #[test]
    fn clean_value_matches_its_definition() {
        fn definition(value: &str, max_chars: usize) -> String {
            let words: Vec<&str> = value.split(char::is_whitespace).filter(|w| !w.is_empty()).collect();
            let collapsed = words.join(" ");
            let kept: String = collapsed.chars().take(max_chars).collect();
            let mut clean = crate::sanitize::sanitize_text(&kept, false);
            if kept.len() < collapsed.len() {
                clean.push('…');
            }
            clean
        }
        let pieces = [
            "ab",
            " ",
            "\t\r\n ",
            "é",
            "\u{1b}[2J",
            "日本",
            "\u{202e}",
            "x:y",
            "\u{2028}",
            "\0",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            let mut value = String::new();
            for _ in 0..(seed % 9) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                value.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            for max in [0, 1, 2, 3, 5, 8, 40] {
                assert_eq!(clean_value(&value, max), definition(&value, max), "{value:?} at {max}");
            }
        }
    }

    #[test]
    fn eight_bit_header_bytes_read_as_windows_1252() {
        assert_eq!(
            readable_header_bytes(b"From: J\xfcrgen M\xfcller\r\n"),
            "From: Jürgen Müller\r\n"
        );
        let utf8 = "Subject: Grüße =?utf-8?Q?caf=C3=A9?=\r\n";
        assert!(matches!(readable_header_bytes(utf8.as_bytes()), Cow::Borrowed(b) if b == utf8));
        assert_eq!(
            readable_header_bytes(b"Subject: \x93q\x94 \xc3\xa9\r\n"),
            "Subject: “q” é\r\n"
        );
    }

    #[test]
    fn only_the_header_block_is_transcoded() {
        let raw = b"Subject: caf\xe9\r\n\r\nbody caf\xe9\r\n";
        assert_eq!(
            &*with_readable_headers(raw),
            b"Subject: caf\xc3\xa9\r\n\r\nbody caf\xe9\r\n"
        );
        let lf = b"Subject: \xe9\n\n\xe9";
        assert_eq!(&*with_readable_headers(lf), b"Subject: \xc3\xa9\n\n\xe9");
        let utf8 = "Subject: é\r\n\r\n\u{e9}".as_bytes();
        assert!(matches!(with_readable_headers(utf8), Cow::Borrowed(_)));
        assert_eq!(header_block_len(b"no blank line"), 13);
        assert_eq!(header_block_len(b"\r\nbody"), 2);
        assert_eq!(header_block_len(b"A: 1\nB: 2\n\nbody"), 11);
    }
}
