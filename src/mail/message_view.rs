//! A readable view of one retrieved message: the headers a person looks at,
//! the body as text, and the list of attachments.
//!
//! The input is whatever part of the raw message was retrieved (RETR, cut at
//! a preview cap). Everything in it is untrusted: 8-bit header bytes are read
//! as Windows-1252, header values are RFC 2047 decoded by mail-parser, bodies
//! are decoded by their charset, HTML is turned into plain text, and only
//! then is each resulting string passed through [`sanitize_text`] exactly
//! once, here, where it enters popscope's model. Nothing in this module
//! panics on hostile input: the parser runs under `catch_unwind`, and a
//! message that cannot be parsed is shown as raw text.

use super::html::html_to_text;
use super::value::{clean_header, clean_value, format_address, is_header_name, with_readable_headers};
use crate::sanitize::sanitize_text;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use serde::Serialize;

/// Longest attachment name kept, in characters.
pub(crate) const MAX_ATTACHMENT_NAME: usize = 255;
/// Longest body text kept, in bytes, before sanitizing.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Shown when a message has no text part at all.
pub(crate) const NO_TEXT_PART: &str = "(no text part)";

/// A message made readable. Every string in it is safe to draw on a terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParsedMessage {
    /// Display order: From, To, Cc, Date, Subject, Message-ID, Content-Type;
    /// only those present. Decoded, sanitized, bounded to
    /// [`MAX_HEADER_VALUE`](super::MAX_HEADER_VALUE).
    pub headers: Vec<(String, String)>,
    /// The readable text, newlines kept: the text/plain part when there is
    /// one, else the HTML part turned into text, else [`NO_TEXT_PART`].
    pub body: String,
    pub attachments: Vec<Attachment>,
    /// The raw input was only the first part of the message.
    pub truncated: bool,
    /// Why the view may be incomplete or raw, for a status line.
    pub parse_note: Option<String>,
}

/// One attachment (or non-text inline part) of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// Decoded (RFC 2231/2047) and sanitized; "(unnamed)" if none.
    pub name: String,
    /// Lower-case "type/subtype", sanitized.
    pub content_type: String,
    /// Size of the decoded content that was retrieved, in bytes.
    pub size: usize,
}

impl ParsedMessage {
    /// `raw`: the bytes we have (CRLF or LF line ends); `truncated`: `raw` is
    /// only the first part of the message; `total_size`: the full size from
    /// LIST (may exceed `raw.len()` when truncated). Never panics.
    pub fn parse(raw: &[u8], truncated: bool, total_size: u64) -> ParsedMessage {
        let mut notes = Vec::new();
        let parsed = crate::unwind::catching(|| parse_mime(raw)).ok().flatten();
        let mut message = match parsed {
            Some((message, body_cut)) => {
                if body_cut {
                    notes.push(format!(
                        "the text is longer than {}; the rest is not shown",
                        crate::text::human_size(MAX_BODY_BYTES as u64)
                    ));
                }
                message
            }
            None => {
                notes.push("the message could not be parsed as MIME; showing the raw text".to_string());
                let (text, cut) = bound_body(crate::sanitize::decode_bytes(raw));
                if cut {
                    notes.push(format!(
                        "only the first {} of the raw text are shown",
                        crate::text::human_size(MAX_BODY_BYTES as u64)
                    ));
                }
                ParsedMessage {
                    body: sanitize_text(&text, true),
                    ..ParsedMessage::default()
                }
            }
        };
        if truncated {
            let have = raw.len() as u64;
            if total_size > have {
                notes.push(format!(
                    "only the first {} of {} were retrieved; the text and attachments may be incomplete",
                    crate::text::human_size(have),
                    crate::text::human_size(total_size)
                ));
            } else {
                notes.push(format!(
                    "only the first {} were retrieved; the text and attachments may be incomplete",
                    crate::text::human_size(have)
                ));
            }
        }
        message.truncated = truncated;
        message.parse_note = if notes.is_empty() { None } else { Some(notes.join("; ")) };
        message
    }
}

/// The raw source for the "raw" toggle: at most `max_bytes` of `raw`, decoded
/// as UTF-8 where valid (other bytes as Windows-1252/Latin-1), sanitized with
/// newlines kept. When input was cut, a final line says how much.
pub fn raw_source(raw: &[u8], max_bytes: usize) -> String {
    let mut end = raw.len().min(max_bytes);
    // Do not split a UTF-8 sequence: back up over at most 3 continuation bytes.
    let mut backed = 0;
    while end < raw.len() && end > 0 && backed < 3 && raw[end] & 0xC0 == 0x80 {
        end -= 1;
        backed += 1;
    }
    let mut text = sanitize_text(&crate::sanitize::decode_bytes(&raw[..end]), true);
    if end < raw.len() {
        let cut = (raw.len() - end) as u64;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "[… {} more not shown: showing the first {} of {} bytes]",
            crate::text::human_size(cut),
            end,
            raw.len()
        ));
    }
    text
}

// ---------------------------------------------------------------------------
// MIME

/// The parsed view, and whether the body was cut at [`MAX_BODY_BYTES`];
/// `None` when mail-parser finds no message in `raw`.
fn parse_mime(raw: &[u8]) -> Option<(ParsedMessage, bool)> {
    let raw = &*with_readable_headers(raw);
    let message = MessageParser::default().parse(raw)?;
    // Text without a header block, or byte soup: mail-parser reads "headers"
    // whose names are not header names. Show such input raw.
    let plausible = message.root_part().headers().iter().any(|h| is_header_name(h.name()));
    if !plausible {
        return None;
    }
    let headers = display_headers(&message);
    let (body, body_cut) = bound_body(body_text(&message, raw));
    let attachments = message.attachments().map(attachment).collect();
    let view = ParsedMessage {
        headers,
        body: sanitize_text(&body, true),
        attachments,
        truncated: false,
        parse_note: None,
    };
    Some((view, body_cut))
}

fn display_headers(message: &Message) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let mut push = |name: &str, value: String| headers.push((name.to_string(), clean_header(&value)));
    if let Some(from) = message.from() {
        push("From", format_address(from));
    }
    if let Some(to) = message.to() {
        push("To", format_address(to));
    }
    if let Some(cc) = message.cc() {
        push("Cc", format_address(cc));
    }
    if let Some(date) = message.date() {
        push("Date", date.to_rfc822());
    } else if let Some(date) = message.header_raw("Date") {
        push("Date", date.to_string());
    }
    if let Some(subject) = message.subject() {
        push("Subject", subject.to_string());
    }
    if let Some(id) = message.message_id() {
        push("Message-ID", format!("<{id}>"));
    }
    if let Some(ct) = message.content_type() {
        let mut value = match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        }
        .to_ascii_lowercase();
        if let Some(charset) = ct.attribute("charset") {
            value.push_str("; charset=");
            value.push_str(charset);
        }
        push("Content-Type", value);
    }
    headers
}

/// The readable text of the message, not yet sanitized.
fn body_text(message: &Message, raw: &[u8]) -> String {
    let mut pieces: Vec<String> = Vec::new();
    for part in message.text_bodies() {
        match &part.body {
            PartType::Text(text) => pieces.push(plain_text(part, text, raw)),
            PartType::Html(html) => pieces.push(html_to_text(html)),
            _ => {}
        }
    }
    if pieces.is_empty() {
        for part in message.html_bodies() {
            match &part.body {
                PartType::Html(html) => pieces.push(html_to_text(html)),
                PartType::Text(text) => pieces.push(plain_text(part, text, raw)),
                _ => {}
            }
        }
    }
    if pieces.is_empty() {
        // A single-part text/* message of another subtype, or a multipart
        // whose boundary never occurs (mail-parser then reads it as text).
        let root = message.root_part();
        match &root.body {
            PartType::Text(text) => pieces.push(plain_text(root, text, raw)),
            PartType::Html(html) => pieces.push(html_to_text(html)),
            _ => return NO_TEXT_PART.to_string(),
        }
    }
    let mut body = String::new();
    for piece in pieces {
        let piece = piece.trim_end_matches(['\r', '\n']);
        if piece.is_empty() {
            continue;
        }
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(piece);
    }
    body
}

/// The text of a text/plain part. mail-parser decodes by the declared
/// charset and falls back to lossy UTF-8; for an 8-bit part with no usable
/// charset whose bytes are not UTF-8, the raw bytes are re-read as
/// Windows-1252/Latin-1, which is what such junk usually is.
fn plain_text(part: &MessagePart, text: &str, raw: &[u8]) -> String {
    let charset_known = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .is_some_and(|c| charset_decoder(c.as_bytes()).is_some());
    if text.contains('\u{FFFD}')
        && !charset_known
        && part.encoding == Encoding::None
        && let Some(bytes) = raw.get(part.offset_body as usize..part.offset_end as usize)
        && std::str::from_utf8(bytes).is_err()
    {
        return crate::sanitize::decode_bytes(bytes);
    }
    text.to_string()
}

fn attachment(part: &MessagePart) -> Attachment {
    let name = match (part.attachment_name(), &part.body) {
        (Some(name), _) if !name.trim().is_empty() => clean_value(name, MAX_ATTACHMENT_NAME),
        (_, PartType::Message(nested)) => match nested.subject() {
            Some(subject) if !subject.trim().is_empty() => clean_value(subject, MAX_ATTACHMENT_NAME),
            _ => "(unnamed)".to_string(),
        },
        _ => "(unnamed)".to_string(),
    };
    let content_type = match part.content_type() {
        Some(ct) => {
            let value = match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            };
            clean_value(&value.to_ascii_lowercase(), 100)
        }
        None => match part.body {
            PartType::Message(_) => "message/rfc822",
            PartType::Html(_) => "text/html",
            PartType::Text(_) => "text/plain",
            _ => "application/octet-stream",
        }
        .to_string(),
    };
    Attachment {
        name,
        content_type,
        size: part.len(),
    }
}

/// Cuts `text` to [`MAX_BODY_BYTES`] at a character boundary.
fn bound_body(mut text: String) -> (String, bool) {
    if text.len() <= MAX_BODY_BYTES {
        return (text, false);
    }
    text.truncate(text.floor_char_boundary(MAX_BODY_BYTES));
    text.push_str("\n[…]");
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::MAX_HEADER_VALUE;
    use crate::sanitize::is_terminal_safe;

    fn assert_safe(view: &ParsedMessage) {
        for (name, value) in &view.headers {
            assert!(is_terminal_safe(name) && !name.contains('\n'), "{name:?}");
            assert!(is_terminal_safe(value) && !value.contains('\n'), "{name}: {value:?}");
        }
        for line in view.body.split('\n') {
            assert!(is_terminal_safe(line), "{line:?}");
            assert!(
                line.chars()
                    .all(|c| c >= ' ' && !('\u{7f}'..='\u{9f}').contains(&c) && c != '\u{202e}')
            );
        }
        for a in &view.attachments {
            assert!(is_terminal_safe(&a.name) && !a.name.contains('\n'), "{:?}", a.name);
            assert!(is_terminal_safe(&a.content_type) && !a.content_type.contains('\n'));
        }
        if let Some(note) = &view.parse_note {
            assert!(is_terminal_safe(note));
        }
    }

    fn header<'a>(view: &'a ParsedMessage, name: &str) -> Option<&'a str> {
        view.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn parse(raw: &[u8]) -> ParsedMessage {
        let view = ParsedMessage::parse(raw, false, raw.len() as u64);
        assert_safe(&view);
        view
    }

    #[test]
    fn plain_text_message() {
        let view = parse(
            b"From: Alice Example <alice@example.org>\r\nTo: bob@example.net, carol@example.net\r\n\
              Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 1 Jul 2025 10:52:37 +0200\r\n\
              Message-ID: <x@y>\r\nX-Other: ignored\r\n\r\nHello Bob,\r\n\r\n\tindented line\r\nBye.\r\n",
        );
        let names: Vec<&str> = view.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["From", "To", "Date", "Subject", "Message-ID"]);
        assert_eq!(header(&view, "From"), Some("Alice Example <alice@example.org>"));
        assert_eq!(header(&view, "To"), Some("bob@example.net, carol@example.net"));
        assert_eq!(header(&view, "Subject"), Some("Grüße"));
        assert_eq!(header(&view, "Message-ID"), Some("<x@y>"));
        assert!(header(&view, "Date").unwrap().contains("1 Jul 2025 10:52:37"));
        assert_eq!(view.body, "Hello Bob,\n\n        indented line\nBye.");
        assert!(view.attachments.is_empty());
        assert!(!view.truncated);
        assert_eq!(view.parse_note, None);
    }

    #[test]
    fn alternative_prefers_text_plain() {
        let view = parse(
            b"From: a@b\r\nSubject: alt\r\nMIME-Version: 1.0\r\n\
              Content-Type: multipart/alternative; boundary=\"XX\"\r\n\r\n\
              --XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
              Plain caf=E9 version\r\n\
              --XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML <b>version</b></p>\r\n\
              --XX--\r\n",
        );
        assert_eq!(view.body, "Plain café version");
        assert_eq!(header(&view, "Content-Type"), Some("multipart/alternative"));
        assert!(view.attachments.is_empty(), "{:?}", view.attachments);
    }

    #[test]
    fn html_only_becomes_readable_text() {
        let view = parse(
            b"From: a@b\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
              <!DOCTYPE html><html><head><title>Title text</title><style>.x { color: red }</style></head>\
              <body><script type=\"text/javascript\">alert('owned')</script><!-- a comment -->\
              <h1>Welcome</h1><p>Hello &amp; welcome,&nbsp;&lt;friend&gt; &quot;you&quot; &#39;&#x41;&#66;&#39;</p>\
              <p>Line one<br>Line two</p><p></p><p>&nbsp;</p><p></p>\
              <ul><li>one</li><li>two <a href=\"https://example.org/x?a=1&amp;b=2\">click here</a></li></ul>\
              <div>x &lt; y and a < b</div><a href=\"mailto:me@example.org\">me@example.org</a>\
              <table><tr><td>cell1</td><td>cell2</td></tr></table><SCRIPT>more()</SCRIPT>End\
              </body></html>",
        );
        let body = &view.body;
        assert!(!body.contains('<') || body.contains("<https://"), "{body}");
        for gone in [
            "alert",
            "owned",
            "color",
            "Title text",
            "comment",
            "more()",
            "<p>",
            "<b>",
            "DOCTYPE",
        ] {
            assert!(!body.contains(gone), "{gone:?} in {body}");
        }
        assert!(
            body.contains("Welcome\n\nHello & welcome, <friend> \"you\" 'AB'"),
            "{body}"
        );
        assert!(
            body.contains("Line one\nLine two\n\n• one\n• two click here <https://example.org/x?a=1&b=2>"),
            "{body}"
        );
        assert!(body.contains("x < y and a < b"), "{body}");
        assert!(body.contains("\nme@example.org\n"), "{body}");
        assert!(body.contains("cell1 cell2"), "{body}");
        assert!(body.ends_with("End"), "{body}");
        assert!(!body.contains("\n\n\n"), "{body}");
    }

    #[test]
    fn mixed_with_two_attachments() {
        let view = parse(
            b"From: a@b\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
              preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
              --b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\
              Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20final.pdf\r\n\r\n\
              SGVsbG8sIFdvcmxkIQ==\r\n\
              --b1\r\nContent-Type: application/octet-stream; name=\"=?utf-8?B?0L7RgtGH0LXRgi5iaW4=?=\"\r\n\
              Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n\
              --b1--\r\n",
        );
        assert_eq!(view.body, "See attached.");
        assert_eq!(view.attachments.len(), 2, "{:?}", view.attachments);
        assert_eq!(
            view.attachments[0],
            Attachment {
                name: "résumé final.pdf".into(),
                content_type: "application/pdf".into(),
                size: 13
            }
        );
        assert_eq!(
            view.attachments[1],
            Attachment {
                name: "отчет.bin".into(),
                content_type: "application/octet-stream".into(),
                size: 10
            }
        );
    }

    #[test]
    fn unnamed_and_nested_attachments() {
        let view = parse(
            b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
              Content-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: image/png\r\n\
              Content-Disposition: attachment\r\n\r\nPNGDATA\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n\
              Subject: inner \x1b[31mred\r\nFrom: x@y\r\n\r\ninner body\r\n--b--\r\n",
        );
        assert_eq!(view.body, "body");
        assert_eq!(view.attachments[0].name, "(unnamed)");
        assert_eq!(view.attachments[0].content_type, "image/png");
        assert_eq!(view.attachments[1].content_type, "message/rfc822");
        assert!(
            view.attachments[1].name.starts_with("inner \u{241b}[31mred"),
            "{:?}",
            view.attachments[1]
        );
    }

    #[test]
    fn escapes_everywhere_are_neutralized() {
        let view = parse(
            b"From: =?utf-8?Q?=1B]0;pwned=07?= <a@b>\r\nTo: \x1b[2J<c@d>\r\n\
              Subject: =?utf-8?B?G1sySmNsZWFyZWQ=?= \xc2\x9b31m \xe2\x80\xaetxt.exe\r\n\
              Cc: =?utf-8?B?4oCu?= <e@f>\r\n\
              Content-Type: multipart/mixed; boundary=b\r\n\r\n\
              --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
              body \x1b[2J\x1b]52;c;ZXZpbA==\x07 \xc2\x9b1m \xe2\x80\xae rtl\x7f \x08\x0c\r\n\
              --b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"=?utf-8?B?G1sySi5leGU=?=\"\r\n\r\nx\r\n\
              --b--\r\n",
        );
        assert!(
            header(&view, "Subject").unwrap().contains("[2Jcleared"),
            "{:?}",
            view.headers
        );
        assert!(view.body.contains("body \u{241b}[2J"), "{:?}", view.body);
        assert!(view.attachments[0].name.contains("[2J.exe"), "{:?}", view.attachments);
        assert_safe(&view);
    }

    #[test]
    fn html_entities_cannot_smuggle_controls() {
        let view = parse(
            b"Subject: h\r\nContent-Type: text/html\r\n\r\n<p>&#27;[2J&#x9b;31m&#x202e;&#8238;&#0;&#x7f;\t\x1b</p>\
              <a href=\"&#27;]0;t&#7;\">l</a>",
        );
        assert!(view.body.contains("\u{241b}[2J"), "{:?}", view.body);
        assert_safe(&view);
    }

    #[test]
    fn nul_bytes_and_latin1_junk() {
        let view = parse(
            b"Subject: caf\xe9 \x00 \xff\r\nFrom: J\xf6rg <j@x>\r\n\r\ncaf\xe9 \x00 na\xefve \x93quoted\x94 \x81\r\n",
        );
        assert_eq!(view.body, "café \u{2400} naïve “quoted” \u{FFFD}");
        assert!(header(&view, "Subject").is_some());

        let view = parse(
            b"Subject: m\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
              gr\xfc\xdfe\r\n--b\r\nContent-Type: text/plain; charset=bogus-42\r\n\r\nm\xe9h\r\n--b--\r\n",
        );
        assert!(view.body.starts_with("grüße"), "{:?}", view.body);
        assert!(view.body.contains("méh"), "{:?}", view.body);

        let noise: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let view = parse(&noise);
        assert!(view.body.len() > 1000);
    }

    /// Issue 11 item 20: 8-bit header bytes read as Windows-1252, as mail
    /// clients read them, not as U+FFFD; the body keeps its own charset.
    #[test]
    fn eight_bit_headers_read_as_windows_1252() {
        let view = parse(
            b"From: J\xfcrgen M\xfcller <juergen@example.de>\r\nSubject: Gr\xfc\xdfe \x96 caf\xe9\r\n\
              Content-Type: text/plain; charset=iso-8859-1\r\n\r\nK\xf6rper \xe4\xf6\xfc\r\n",
        );
        assert_eq!(header(&view, "From"), Some("Jürgen Müller <juergen@example.de>"));
        assert_eq!(header(&view, "Subject"), Some("Grüße – café"));
        assert_eq!(view.body, "Körper äöü");

        // A body in UTF-8 under 8-bit headers stays UTF-8.
        let view = parse("Subject: caf\u{e9}\r\n\r\ncafé\r\n".as_bytes());
        assert_eq!(header(&view, "Subject"), Some("café"));
        let mut raw = b"Subject: caf\xe9\r\n\r\n".to_vec();
        raw.extend_from_slice("日本語\r\n".as_bytes());
        let view = parse(&raw);
        assert_eq!(header(&view, "Subject"), Some("café"));
        assert_eq!(view.body, "日本語");

        // Hostile bytes are still harmless.
        let view = parse(b"Subject: \x81\x9d0;t\x07 \x1b[2J \xe9\r\nFrom: \x9b31m <a@b>\r\n\r\nx\r\n");
        assert!(
            header(&view, "Subject").unwrap().contains("\u{241b}[2J é"),
            "{:?}",
            view.headers
        );
    }

    #[test]
    fn huge_header_values_are_bounded() {
        let mut raw = b"Subject: ".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 200 * 1024));
        raw.extend_from_slice(b"\r\nTo: ");
        for i in 0..20_000 {
            raw.extend_from_slice(format!("user{i}@example.org, ").as_bytes());
        }
        raw.extend_from_slice(b"\r\n\r\nbody\r\n");
        let view = parse(&raw);
        let subject = header(&view, "Subject").unwrap();
        assert_eq!(subject.chars().count(), MAX_HEADER_VALUE + 1);
        assert!(subject.ends_with('…'));
        assert!(header(&view, "To").unwrap().chars().count() <= MAX_HEADER_VALUE + 1);
        assert_eq!(view.body, "body");
    }

    #[test]
    fn broken_mime_does_not_panic() {
        // No closing boundary: what is there is still shown.
        let view = parse(
            b"Subject: cut\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\
              Content-Type: text/plain\r\n\r\nfirst part text\r\n--zz\r\nContent-Type: application/pdf\r\n\
              Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8s",
        );
        assert!(view.body.contains("first part text"), "{:?}", view.body);
        // Boundary that never occurs, empty boundary, garbage boundary.
        let view = parse(b"Subject: g\r\nContent-Type: multipart/mixed; boundary=nothere\r\n\r\nstray text\r\n");
        assert!(view.body.contains("stray text"), "{:?}", view.body);
        for raw in [
            &b""[..],
            b"\0\0\0",
            b"no headers at all, just text\nsecond line",
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n----\r\n",
            b"Content-Type: multipart/mixed; boundary=\"\x1b\xff\"\r\n\r\n--\x1b\xff\r\n\r\nx\r\n--\x1b\xff--",
            b"Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n--a--",
            b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n",
            b"Content-Transfer-Encoding: base64\r\n\r\n!!!!====@@@@",
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=\r\n=ZZ=",
            b":\r\n:\r\n\r\n",
        ] {
            let view = parse(raw);
            assert!(!view.body.is_empty() || view.parse_note.is_some() || raw.is_empty() || !view.headers.is_empty());
        }
        let view = parse(b"");
        assert!(view.parse_note.is_some());
        let view = parse(b"no headers at all, just text\nsecond line");
        assert!(view.body.contains("second line"), "{view:?}");

        // Deeply nested multiparts and random byte soup.
        let mut deep = Vec::new();
        for i in 0..500 {
            deep.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
            );
        }
        parse(&deep);
        let pieces: [&[u8]; 10] = [
            b"Content-Type: multipart/mixed; boundary=q\r\n",
            b"--q\r\n",
            b"--q--\r\n",
            b"\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"=?utf-8?B?G1s=?=",
            b"<a href=\"",
            b"\x1b\x00\xff\xc3",
            b"Content-Type: text/html\r\n",
            b"Content-Type: message/rfc822\r\n",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300 {
            let mut raw = Vec::new();
            for _ in 0..40 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                raw.extend_from_slice(pieces[(seed % pieces.len() as u64) as usize]);
            }
            parse(&raw);
        }
    }

    #[test]
    fn truncated_input_sets_the_note() {
        let raw = b"Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
                    Content-Type: text/plain\r\n\r\nthe start\r\n--b\r\nContent-Type: video/mp4\r\n\
                    Content-Transfer-Encoding: base64\r\n\r\nAAAA";
        let view = ParsedMessage::parse(raw, true, 120 * 1024 * 1024);
        assert_safe(&view);
        assert!(view.truncated);
        let note = view.parse_note.as_deref().unwrap();
        assert!(
            note.contains("only the first") && note.contains("of 120.0 MB"),
            "{note}"
        );
        assert!(view.body.contains("the start"));
        assert_eq!(crate::text::human_size(2 * 1024 * 1024), "2.0 MB");
        let view = ParsedMessage::parse(raw, true, 10);
        assert!(view.parse_note.unwrap().contains("only the first"));
    }

    #[test]
    fn raw_source_is_safe_and_bounded() {
        let raw = "Subject: \x1b[2J\r\n\r\nGrüße \u{202e}\r\n".as_bytes();
        let full = raw_source(raw, 1 << 20);
        assert_eq!(full, "Subject: \u{241b}[2J\n\nGrüße \u{FFFD}\n");
        // Cut inside 'ü': no broken character, a final line says how much.
        let cut = raw_source(raw, 20);
        let lines: Vec<&str> = cut.lines().collect();
        assert_eq!(lines[2], "Gr");
        assert!(lines[3].contains("more not shown") && lines[3].contains(&format!("of {}", raw.len())));
        for line in cut.lines() {
            assert!(is_terminal_safe(line));
        }
        assert!(
            raw_source(b"\xff\x00\x9b", 10)
                .chars()
                .all(|c| c != '\0' && c != '\u{9b}')
        );
    }
}
