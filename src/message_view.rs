//! A readable view of one retrieved message: the headers a person looks at,
//! the body as text, and the list of attachments.
//!
//! The input is whatever part of the raw message was retrieved (RETR, cut at
//! a preview cap). Everything in it is untrusted: header values are RFC 2047
//! decoded by mail-parser, bodies are decoded by their charset, HTML is turned
//! into plain text, and only then is each resulting string passed through
//! [`sanitize_text`] exactly once, here, where it enters popscope's model.
//! Nothing in this module panics on hostile input: the parser runs under
//! `catch_unwind`, and a message that cannot be parsed is shown as raw text.

use crate::sanitize::sanitize_text;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Address, Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use serde::Serialize;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Longest header value kept, in characters; longer values end in '…'.
pub const MAX_HEADER_VALUE: usize = 2000;
/// Longest attachment name kept, in characters.
pub const MAX_ATTACHMENT_NAME: usize = 255;
/// Longest body text kept, in bytes, before sanitizing.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Longest link target kept when HTML is turned into text.
const MAX_LINK: usize = 2000;
/// Shown when a message has no text part at all.
pub const NO_TEXT_PART: &str = "(no text part)";

/// A message made readable. Every string in it is safe to draw on a terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParsedMessage {
    /// Display order: From, To, Cc, Date, Subject, Message-ID, Content-Type;
    /// only those present. Decoded, sanitized, bounded to [`MAX_HEADER_VALUE`].
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
        let parsed = std::panic::catch_unwind(|| parse_mime(raw)).ok().flatten();
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

/// Wraps `text` to `width` columns (at least 1), measuring with
/// unicode-width: breaks at spaces when it can, hard-breaks words longer than
/// a line, keeps empty lines. Linear in the length of `text`. A single
/// character wider than `width` (a CJK character at width 1) gets a line of
/// its own.
pub fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    if text.is_empty() {
        return lines;
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    for line in text.split('\n') {
        wrap_one(line.strip_suffix('\r').unwrap_or(line), width, &mut lines);
    }
    lines
}

fn wrap_one(line: &str, width: usize, out: &mut Vec<String>) {
    if line.width() <= width {
        out.push(line.to_string());
        return;
    }
    let mut cur = String::new();
    let mut cur_w = 0usize;
    // Last break opportunity in `cur`: (end of the text before the run of
    // spaces, start of the text after it, width of `cur` up to that start).
    let mut brk: Option<(usize, usize, usize)> = None;
    let mut prev: Option<char> = None;
    let mut continuation = false;
    let mut has_content = false;
    for c in line.chars() {
        let w = char_width(prev, c);
        prev = Some(c);
        if c == ' ' {
            if continuation && cur.is_empty() {
                continue; // no leading space on a wrapped line
            }
            if cur_w + 1 > width {
                let done = std::mem::take(&mut cur);
                out.push(done.trim_end_matches(' ').to_string());
                cur_w = 0;
                brk = None;
                continuation = true;
                has_content = false;
                continue;
            }
            if has_content {
                let end = match brk {
                    Some((end, start, _)) if start == cur.len() => end,
                    _ => cur.len(),
                };
                cur.push(' ');
                cur_w += 1;
                brk = Some((end, cur.len(), cur_w));
            } else {
                cur.push(' ');
                cur_w += 1;
            }
            continue;
        }
        while cur_w + w > width && !cur.is_empty() {
            if let Some((end, start, w_at)) = brk.take() {
                let rest = cur.split_off(start);
                cur.truncate(end);
                out.push(std::mem::replace(&mut cur, rest));
                cur_w -= w_at;
            } else {
                out.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            continuation = true;
        }
        cur.push(c);
        cur_w += w;
        has_content = true;
    }
    if !cur.is_empty() || !continuation {
        out.push(cur.trim_end_matches(' ').to_string());
    }
}

/// Columns `c` adds after `prev`. Zero-width characters that change the
/// width of a sequence (an emoji presentation selector) count for what they
/// add, so the sum never falls below what unicode-width gives the line.
fn char_width(prev: Option<char>, c: char) -> usize {
    let w = c.width().unwrap_or(0);
    if w != 0 {
        return w;
    }
    let Some(p) = prev else { return 0 };
    let mut buf = [0u8; 8];
    let p_len = p.encode_utf8(&mut buf).len();
    let c_len = c.encode_utf8(&mut buf[p_len..]).len();
    let pair = std::str::from_utf8(&buf[..p_len + c_len])
        .map(|s| s.width())
        .unwrap_or(0);
    let single = std::str::from_utf8(&buf[..p_len]).map(|s| s.width()).unwrap_or(0);
    pair.saturating_sub(single).min(2)
}

// ---------------------------------------------------------------------------
// MIME

/// The parsed view, and whether the body was cut at [`MAX_BODY_BYTES`];
/// `None` when mail-parser finds no message in `raw`.
fn parse_mime(raw: &[u8]) -> Option<(ParsedMessage, bool)> {
    let message = MessageParser::default().parse(raw)?;
    // Text without a header block, or byte soup: mail-parser reads "headers"
    // whose names are not header names. Show such input raw.
    let plausible = message.root_part().headers().iter().any(|h| {
        let name = h.name();
        !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
    });
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

fn format_address(address: &Address) -> String {
    let mut out = String::new();
    for a in address.iter() {
        let one = match (a.name(), a.address()) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (Some(name), None) => name.to_string(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => continue,
        };
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(&one);
        if out.len() > MAX_HEADER_VALUE * 4 {
            break; // `clean_header` cuts it anyway
        }
    }
    out
}

/// Whitespace runs (folding, tabs) become one space, then the value is
/// bounded and sanitized.
fn clean_header(value: &str) -> String {
    clean_bounded(value, MAX_HEADER_VALUE)
}

fn clean_bounded(value: &str, max_chars: usize) -> String {
    let mut collapsed = String::with_capacity(value.len().min(max_chars * 4));
    let mut chars = 0usize;
    let mut cut = false;
    let mut pending_space = false;
    for c in value.trim().chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let needed = if pending_space { 2 } else { 1 };
        if chars + needed > max_chars {
            cut = true;
            break;
        }
        if pending_space {
            collapsed.push(' ');
            pending_space = false;
        }
        collapsed.push(c);
        chars += needed;
    }
    let mut s = sanitize_text(&collapsed, false);
    if cut {
        s.push('…');
    }
    s
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
        (Some(name), _) if !name.trim().is_empty() => clean_bounded(name, MAX_ATTACHMENT_NAME),
        (_, PartType::Message(nested)) => match nested.subject() {
            Some(subject) if !subject.trim().is_empty() => clean_bounded(subject, MAX_ATTACHMENT_NAME),
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
            clean_bounded(&value.to_ascii_lowercase(), 100)
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

// ---------------------------------------------------------------------------
// HTML to text

/// Turns HTML into readable text (not yet sanitized): tags stripped, script,
/// style and head content dropped, block elements as line breaks, list items
/// as "• ", entities decoded, links kept as "text <url>", runs of blank lines
/// collapsed to one. Linear in the input; tolerates any malformed markup.
fn html_to_text(html: &str) -> String {
    let b = html.as_bytes();
    let mut w = HtmlWriter::default();
    let mut finder = TagFinder::default();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        let Some(off) = b[i..].iter().position(|&c| c == b'<') else {
            break;
        };
        i += off;
        let next = b.get(i + 1).copied().unwrap_or(0);
        let is_end_tag = next == b'/' && b.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic());
        if !(next.is_ascii_alphabetic() || next == b'!' || next == b'?' || is_end_tag) {
            i += 1; // a literal '<'
            continue;
        }
        w.text(&html[text_start..i]);
        i = if next == b'!' || next == b'?' {
            if html[i..].starts_with("<!--") {
                html[i + 4..].find("-->").map_or(b.len(), |p| i + 4 + p + 3)
            } else {
                find_byte(b, i, b'>').map_or(b.len(), |p| p + 1)
            }
        } else if is_end_tag {
            let (name, after) = tag_name(html, i + 2);
            w.end_tag(&name);
            find_byte(b, after, b'>').map_or(b.len(), |p| p + 1)
        } else {
            let (name, after) = tag_name(html, i + 1);
            let (attrs, end) = parse_attrs(html, after);
            w.start_tag(&name, &attrs);
            skip_content(html, &name, end, &mut finder)
        };
        text_start = i;
    }
    w.text(&html[text_start.min(b.len())..]);
    w.finish()
}

/// Where to continue after the start tag of `name` ending at `end`: past the
/// content of elements whose content is not text for a reader.
fn skip_content(html: &str, name: &str, end: usize, finder: &mut TagFinder) -> usize {
    let b = html.as_bytes();
    let mut close = |tag: &'static str| finder.find(b, end, tag);
    let skip_to = |at: usize| find_byte(b, at, b'>').map_or(b.len(), |p| p + 1);
    match name {
        // Code: if never closed, the rest is code too.
        "script" => close("</script").map_or(b.len(), skip_to),
        "style" => close("</style").map_or(b.len(), skip_to),
        // Markup containers: if never closed, read on rather than lose the text.
        "head" => match (close("</head"), close("<body")) {
            (Some(a), Some(c)) if c < a => c,
            (Some(a), _) => skip_to(a),
            (None, Some(c)) => c,
            (None, None) => end,
        },
        "title" => close("</title").map_or(end, skip_to),
        "template" => close("</template").map_or(end, skip_to),
        "svg" => close("</svg").map_or(end, skip_to),
        _ => end,
    }
}

/// Finds closing tags, remembering answers so that a thousand unclosed
/// `<title>`s cost one scan, not a thousand: searches start at increasing
/// positions, so an earlier answer at or after the new start is still the
/// first one, and a tag found absent stays absent.
#[derive(Default)]
struct TagFinder {
    memo: Vec<(&'static str, Option<usize>)>,
}

impl TagFinder {
    fn find(&mut self, b: &[u8], from: usize, needle: &'static str) -> Option<usize> {
        let slot = self.memo.iter().position(|(n, _)| *n == needle);
        if let Some(slot) = slot {
            match self.memo[slot].1 {
                None => return None,
                Some(p) if p >= from => return Some(p),
                Some(_) => {}
            }
        }
        let found = find_tag_ci(b, from, needle.as_bytes());
        match slot {
            Some(slot) => self.memo[slot].1 = found,
            None => self.memo.push((needle, found)),
        }
        found
    }
}

fn find_byte(b: &[u8], from: usize, byte: u8) -> Option<usize> {
    b.get(from..)?.iter().position(|&c| c == byte).map(|p| from + p)
}

/// Position of `needle` (starting with '<', ASCII) at or after `from`,
/// ignoring ASCII case.
fn find_tag_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut at = from;
    while let Some(p) = find_byte(b, at, b'<') {
        if b.get(p..p + needle.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(needle))
        {
            return Some(p);
        }
        at = p + 1;
    }
    None
}

/// The lower-case tag name starting at `from`, and where it ends.
fn tag_name(html: &str, from: usize) -> (String, usize) {
    let b = html.as_bytes();
    let mut j = from;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b':') {
        j += 1;
    }
    (html[from..j].to_ascii_lowercase(), j)
}

/// Attributes from `from` to the end of the tag (quotes respected), and the
/// position after the closing '>'.
fn parse_attrs(html: &str, from: usize) -> (Vec<(&str, &str)>, usize) {
    let b = html.as_bytes();
    let mut attrs = Vec::new();
    let mut j = from;
    loop {
        while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
            j += 1;
        }
        if j >= b.len() {
            return (attrs, b.len());
        }
        if b[j] == b'>' {
            return (attrs, j + 1);
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        let name = &html[name_start..j];
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let value;
            if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                let start = j + 1;
                match find_byte(b, start, b[j]) {
                    Some(p) => {
                        value = &html[start..p];
                        j = p + 1;
                    }
                    None => {
                        value = &html[start..];
                        j = b.len();
                    }
                }
            } else {
                let start = j;
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
                value = &html[start..j];
            }
            attrs.push((name, value));
        } else {
            attrs.push((name, ""));
        }
    }
}

fn attr<'a>(attrs: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

#[derive(Default)]
struct HtmlWriter {
    out: String,
    pending_space: bool,
    pre: usize,
    list_depth: usize,
    /// An open link: its target and where its text starts in `out`.
    link: Option<(String, usize)>,
}

impl HtmlWriter {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn push_char(&mut self, c: char) {
        if self.pending_space {
            if !self.at_line_start() {
                self.out.push(' ');
            }
            self.pending_space = false;
        }
        self.out.push(c);
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            self.push_char(c);
        }
    }

    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
        self.pending_space = false;
    }

    fn block(&mut self) {
        if !self.at_line_start() {
            self.newline();
        }
        self.pending_space = false;
    }

    fn paragraph(&mut self) {
        self.block();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Character data between tags: whitespace collapsed (except in
    /// `<pre>`), entities decoded.
    fn text(&mut self, s: &str) {
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if c == '&'
                && let Some((decoded, len)) = decode_entity(rest)
            {
                if let Some(d) = decoded {
                    self.push_char(d);
                }
                rest = &rest[len..];
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '\r' if self.pre > 0 => {}
                '\n' if self.pre > 0 => self.newline(),
                ' ' | '\t' | '\n' | '\r' | '\x0c' if self.pre == 0 => self.pending_space = true,
                c => self.push_char(c),
            }
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        match name {
            "br" => self.newline(),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "hr" | "dl" => self.paragraph(),
            "pre" => {
                self.paragraph();
                self.pre += 1;
            }
            "ul" | "ol" => {
                self.paragraph();
                self.list_depth += 1;
            }
            "li" => {
                self.block();
                let indent = self.list_depth.clamp(1, 8) - 1;
                for _ in 0..indent {
                    self.out.push_str("  ");
                }
                self.out.push_str("• ");
            }
            "div" | "tr" | "section" | "article" | "header" | "footer" | "nav" | "aside" | "main" | "form"
            | "fieldset" | "address" | "figure" | "figcaption" | "dt" | "dd" | "caption" | "center" | "body" => {
                self.block()
            }
            "td" | "th" => self.pending_space = true,
            "a" => {
                self.close_link();
                let href = attr(attrs, "href").map(decode_attr).unwrap_or_default();
                self.link = Some((href, self.out.len()));
            }
            "img" => {
                let alt = attr(attrs, "alt").map(decode_attr).unwrap_or_default();
                if !alt.is_empty() {
                    self.push_str(&format!("[{alt}]"));
                }
            }
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "dl" => self.paragraph(),
            "pre" => {
                self.pre = self.pre.saturating_sub(1);
                self.paragraph();
            }
            "ul" | "ol" => {
                self.list_depth = self.list_depth.saturating_sub(1);
                self.paragraph();
            }
            "li" | "div" | "tr" | "section" | "article" | "header" | "footer" | "nav" | "aside" | "main" | "form"
            | "fieldset" | "address" | "figure" | "figcaption" | "dt" | "dd" | "caption" | "center" => self.block(),
            "td" | "th" => self.pending_space = true,
            "a" => self.close_link(),
            _ => {}
        }
    }

    fn close_link(&mut self) {
        let Some((href, start)) = self.link.take() else {
            return;
        };
        if href.is_empty() || href.starts_with('#') {
            return;
        }
        let text = self.out.get(start..).unwrap_or("").trim();
        let bare = href.strip_prefix("mailto:").unwrap_or(&href);
        if text == href || text == bare {
            return;
        }
        if text.is_empty() {
            self.push_str(&format!("<{href}>"));
        } else {
            self.pending_space = false;
            self.push_str(&format!(" <{href}>"));
        }
    }

    fn finish(mut self) -> String {
        self.close_link();
        tidy_lines(&self.out)
    }
}

/// An attribute value: entities decoded, whitespace collapsed, bounded.
fn decode_attr(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut count = 0;
    while let Some(c) = rest.chars().next() {
        if count >= MAX_LINK {
            out.push('…');
            break;
        }
        if c == '&'
            && let Some((decoded, len)) = decode_entity(rest)
        {
            out.extend(decoded);
            rest = &rest[len..];
        } else {
            out.push(if c.is_whitespace() { ' ' } else { c });
            rest = &rest[c.len_utf8()..];
        }
        count += 1;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lines with trailing whitespace trimmed, runs of blank lines collapsed to
/// one, no blank lines at the start or end.
fn tidy_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for line in s.split('\n') {
        let line = line.trim_end();
        if line.trim_start().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank {
                out.push('\n');
            }
        }
        blank = false;
        out.push_str(line);
    }
    out
}

/// Decodes the entity at the start of `s` (which starts with '&'): the
/// character it stands for (`None` for one that stands for nothing, like
/// `&shy;`) and its length. `None` when it is not a known entity.
fn decode_entity(s: &str) -> Option<(Option<char>, usize)> {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'#') {
        let (hex, start) = match b.get(2) {
            Some(b'x' | b'X') => (true, 3),
            _ => (false, 2),
        };
        let mut j = start;
        while j < b.len()
            && j - start < 10
            && (if hex {
                b[j].is_ascii_hexdigit()
            } else {
                b[j].is_ascii_digit()
            })
        {
            j += 1;
        }
        if j == start {
            return None;
        }
        let value = u32::from_str_radix(&s[start..j], if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
        let len = if b.get(j) == Some(&b';') { j + 1 } else { j };
        let c = match value {
            0 => '\u{FFFD}',
            0x80..=0x9f => crate::sanitize::cp1252(value),
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        return Some((Some(c), len));
    }
    let end = b.iter().take(12).position(|&c| c == b';')?;
    let name = &s[1..end];
    let c = match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "shy" | "zwnj" | "zwj" | "lrm" | "rlm" => return Some((None, end + 1)),
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "minus" => '−',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "lsaquo" => '‹',
        "rsaquo" => '›',
        "bull" => '•',
        "middot" => '·',
        "dagger" => '†',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "curren" => '¤',
        "deg" => '°',
        "plusmn" => '±',
        "times" => '×',
        "divide" => '÷',
        "frac12" => '½',
        "frac14" => '¼',
        "frac34" => '¾',
        "sup2" => '²',
        "micro" => 'µ',
        "sect" => '§',
        "para" => '¶',
        "iexcl" => '¡',
        "iquest" => '¿',
        "larr" => '←',
        "rarr" => '→',
        "uarr" => '↑',
        "darr" => '↓',
        "check" => '✓',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "aacute" => 'á',
        "eacute" => 'é',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        "Aacute" => 'Á',
        "Eacute" => 'É',
        "agrave" => 'à',
        "egrave" => 'è',
        "igrave" => 'ì',
        "ograve" => 'ò',
        "ugrave" => 'ù',
        "Agrave" => 'À',
        "Egrave" => 'È',
        "acirc" => 'â',
        "ecirc" => 'ê',
        "icirc" => 'î',
        "ocirc" => 'ô',
        "ucirc" => 'û',
        "euml" => 'ë',
        "iuml" => 'ï',
        "yuml" => 'ÿ',
        "atilde" => 'ã',
        "otilde" => 'õ',
        "ntilde" => 'ñ',
        "Ntilde" => 'Ñ',
        "ccedil" => 'ç',
        "Ccedil" => 'Ç',
        "aring" => 'å',
        "Aring" => 'Å',
        "aelig" => 'æ',
        "AElig" => 'Æ',
        "oslash" => 'ø',
        "Oslash" => 'Ø',
        _ => return None,
    };
    Some((Some(c), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn html_converter_edge_cases() {
        assert_eq!(html_to_text("a<script>never closed"), "a");
        assert_eq!(html_to_text("<head><title>t</title>no body tag"), "no body tag");
        assert_eq!(html_to_text("<head><meta charset=x><body>text"), "text");
        assert_eq!(html_to_text("a<!-- unterminated"), "a");
        assert_eq!(html_to_text("a <b"), "a");
        assert_eq!(html_to_text("<a href='x\" y'>t"), "t <x\" y>");
        assert_eq!(
            html_to_text("&bogus; &amp &#; &#1114112; &#0;"),
            "&bogus; &amp &#; \u{FFFD} \u{FFFD}"
        );
        assert_eq!(html_to_text("<pre>  a\tb\n  c</pre>d"), "  a\tb\n  c\n\nd");
        assert_eq!(html_to_text("<img alt=\"logo\" src=x> <img alt=''>"), "[logo]");
        assert_eq!(html_to_text("&#150; &#x1b;[2J"), "– \u{1b}[2J"); // sanitized later
        assert_eq!(html_to_text("<ul><li>a<ul><li>b</li></ul></li></ul>"), "• a\n\n  • b");
        let deep = "<div><a href=x>".repeat(10_000);
        let _ = html_to_text(&deep);
        // Unclosed containers and comments, repeated: still linear.
        let start = std::time::Instant::now();
        for unit in [
            "<head>x",
            "<title>x",
            "<svg>x",
            "<template>x",
            "<script>x",
            "<!--x",
            "<a href='x",
            "&#x",
            "<x",
        ] {
            let hostile = unit.repeat(200_000);
            let _ = html_to_text(&hostile);
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
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

    #[test]
    fn wrap_breaks_at_spaces_and_hard_breaks_words() {
        assert_eq!(
            wrap_lines("the quick brown fox jumps", 10),
            ["the quick", "brown fox", "jumps"]
        );
        assert_eq!(wrap_lines("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap_lines("a\n\nb\n", 5), ["a", "", "b"]);
        assert_eq!(wrap_lines("aaaa     bbbb", 6), ["aaaa", "bbbb"]);
        assert_eq!(wrap_lines("  indented text here", 12), ["  indented", "text here"]);
        assert_eq!(wrap_lines("x", 0), ["x"]);
        assert!(wrap_lines("", 10).is_empty());
    }

    #[test]
    fn wrap_is_linear_on_a_huge_line() {
        let huge = "x".repeat(2 * 1024 * 1024);
        let mut words = String::new();
        while words.len() < 2 * 1024 * 1024 {
            words.push_str("word ab \u{1F600} 日本 ");
        }
        let start = std::time::Instant::now();
        for (text, width) in [(&huge, 80usize), (&words, 80), (&words, 7), (&huge, 1)] {
            let lines = wrap_lines(text, width);
            assert!(!lines.is_empty());
            for line in &lines {
                assert!(line.width() <= width.max(2), "{line:?}");
            }
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(wrap_lines(&huge, 80).len(), huge.len().div_ceil(80));
    }

    #[test]
    fn wrap_respects_double_width() {
        let text = "日本語のテキストを折り返す 漢字とかなカナ";
        for width in 1..30 {
            for line in wrap_lines(text, width) {
                assert!(line.width() <= width.max(2), "{width}: {line:?}");
            }
        }
        assert_eq!(wrap_lines("日本語のテキスト", 5), ["日本", "語の", "テキ", "スト"]);
        assert_eq!(wrap_lines("ab日本", 3), ["ab", "日", "本"]);
        // Emoji presentation selectors count for the width they add.
        for line in wrap_lines(&"\u{263a}\u{fe0f}".repeat(50), 9) {
            assert!(line.width() <= 9, "{line:?}");
        }
    }
}
