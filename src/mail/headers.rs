//! What popscope knows about a message from its `TOP n 0` header block: the
//! headers it shows, why the block looks broken, whether it announces
//! attachments, and the other headers for `header:Name=value` queries.
//! Values are RFC 2047 decoded by mail-parser, then bounded and sanitized
//! once, here, where they enter popscope's model.
//!
//! The inspector keeps one of these per message (100,000 of them for a big
//! maildrop), so a summary keeps all its text, the other headers included,
//! in one bounded allocation.

use super::value::{clean_header, format_address, is_header_name, push_clean_value, readable_header_bytes};
use crate::sanitize::visible_stand_in;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderName, HeaderValue, Message, MessageParser, MimeHeaders};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

/// Most bytes of header lines kept for header queries per message.
pub(crate) const MAX_OTHER_HEADER_BYTES: usize = 2048;
/// Most headers kept for header queries per message.
pub(crate) const MAX_OTHER_HEADERS: usize = 64;
/// Longest value kept for header queries, in characters: the start of a
/// Received line (the hosts) or of a DKIM signature (the domain), so that
/// the trace headers at the top of a block leave room for the rest.
const MAX_OTHER_VALUE: usize = 128;
/// Longest header name kept, in characters.
const MAX_NAME: usize = 64;
/// RFC 5322 §2.1.1: a line is at most 998 characters, CRLF excluded.
const MAX_LINE: usize = 998;
/// Most bytes of a decoded Subject kept for naming a saved file: several
/// times the longest file name made from it.
const MAX_NAME_SUBJECT_BYTES: usize = 1024;

/// The displayable facts of one message's header. All strings are safe to
/// print on a terminal, except what [`HeaderSummary::subject_for_file_name`]
/// gives.
///
/// The inspector keeps 100,000 of these, so the text lives in one
/// allocation: Date, From, To, Cc, Subject, Message-ID, Content-Type, the
/// other headers and the Subject as decoded back to back in `text`, each
/// ending at its offset in `ends` (the last with `text`). Eight separate
/// strings cost some 30 MB more at 100,000 rows and scatter a row's text
/// over the heap, which makes a filter pass wait on memory (bench
/// sections 2 and 5).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HeaderSummary {
    text: Box<str>,
    /// Where each [`Field`] and the other headers end in `text`.
    ends: [u32; FIELDS + 1],
    /// The Date field is present (it may be present and empty).
    has_date: bool,
    /// Seconds since the epoch, for sorting; `None` if absent or unparsable.
    pub timestamp: Option<i64>,
    /// Why the header block looks wrong; empty when it looks sound.
    pub broken: BrokenSet,
    /// The block announces attachments: Content-Type multipart/mixed, or
    /// Content-Disposition attachment.
    pub has_attachment: bool,
}

/// The text fields of a [`HeaderSummary`], in their order in its text.
#[derive(Clone, Copy)]
enum Field {
    Date,
    From,
    To,
    Cc,
    Subject,
    MessageId,
    ContentType,
}

const FIELDS: usize = 7;

/// The field values a [`HeaderSummary`] is built from
/// ([`HeaderSummary::from_parts`]); the flags are set on the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderParts<'a> {
    pub date: Option<&'a str>,
    pub from: &'a str,
    pub to: &'a str,
    pub cc: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub content_type: &'a str,
    /// The headers that the fields do not hold, one line each, in block
    /// order, within [`MAX_OTHER_HEADERS`] and [`MAX_OTHER_HEADER_BYTES`]
    /// (a header that does not fit is left out): "Name: value\n", or for a
    /// name in [`CODED_NAMES`] its code byte and the value. Names as
    /// mail-parser spells the ones it knows ("List-ID") and as written
    /// otherwise; values decoded and cleaned. Cleaned text holds no C0
    /// control, so neither holds a line break, a code byte starts no name,
    /// and a name holds no ':'.
    pub other_headers: &'a str,
    /// The decoded Subject before display conversion, cut to
    /// [`MAX_NAME_SUBJECT_BYTES`], when that conversion put stand-ins
    /// (`␛`, `�`) in `subject`: a file name is made from what the sender
    /// wrote, not from what the terminal was shown. Not terminal-safe.
    pub subject_as_decoded: Option<&'a str>,
}

impl HeaderSummary {
    /// A summary holding `parts`, in one allocation of exactly their size;
    /// no timestamp, nothing broken, no attachment.
    pub fn from_parts(parts: &HeaderParts<'_>) -> HeaderSummary {
        let fields = [
            parts.date.unwrap_or_default(),
            parts.from,
            parts.to,
            parts.cc,
            parts.subject,
            parts.message_id,
            parts.content_type,
        ];
        let subject_as_decoded = parts.subject_as_decoded.unwrap_or_default();
        let len = fields.iter().map(|f| f.len()).sum::<usize>() + parts.other_headers.len() + subject_as_decoded.len();
        let mut text = String::with_capacity(len);
        let mut ends = [0; FIELDS + 1];
        for (end, field) in ends.iter_mut().zip(fields.into_iter().chain([parts.other_headers])) {
            text.push_str(field);
            // The fields are bounded to a few KiB; a text past 4 GiB would
            // read as empty fields, never as a panic.
            *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        text.push_str(subject_as_decoded);
        HeaderSummary {
            text: text.into_boxed_str(),
            ends,
            has_date: parts.date.is_some(),
            ..HeaderSummary::default()
        }
    }

    fn field_text(&self, field: Field) -> &str {
        let index = field as usize;
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
        let end = self.ends[index];
        self.text.get(start as usize..end as usize).unwrap_or_default()
    }

    /// The Date header as RFC 3339; `None` when there is none, or one
    /// mail-parser cannot read at all.
    pub fn date(&self) -> Option<&str> {
        self.has_date.then(|| self.field_text(Field::Date))
    }

    pub fn from(&self) -> &str {
        self.field_text(Field::From)
    }

    pub fn to(&self) -> &str {
        self.field_text(Field::To)
    }

    pub fn cc(&self) -> &str {
        self.field_text(Field::Cc)
    }

    pub fn subject(&self) -> &str {
        self.field_text(Field::Subject)
    }

    /// Without angle brackets.
    pub fn message_id(&self) -> &str {
        self.field_text(Field::MessageId)
    }

    /// "type/subtype", or the type alone.
    pub fn content_type(&self) -> &str {
        self.field_text(Field::ContentType)
    }

    /// Where the From and the Subject text start in memory, for a
    /// prefetch: computed without reading the text (the accessors read its
    /// bytes to check char boundaries, which would wait on the very cache
    /// miss the prefetch is meant to hide).
    pub(crate) fn prefetch_addresses(&self) -> [*const u8; 2] {
        let start = |field: Field| self.ends[field as usize - 1] as usize;
        let text = self.text.as_ptr();
        [
            text.wrapping_add(start(Field::From)),
            text.wrapping_add(start(Field::Subject)),
        ]
    }

    /// The other headers' lines (see [`HeaderParts::other_headers`]).
    fn other_header_lines(&self) -> &str {
        let (start, end) = (self.ends[FIELDS - 1], self.ends[FIELDS]);
        self.text.get(start as usize..end as usize).unwrap_or_default()
    }

    /// The Subject as decoded, before display conversion, for proposing
    /// a file name: NOT terminal-safe, so only ever through the store's
    /// name sanitizer (which makes it so). `subject` when the two differ
    /// at most in how whitespace is written.
    pub fn subject_for_file_name(&self) -> &str {
        self.subject_as_decoded().unwrap_or(self.subject())
    }

    /// See [`HeaderParts::subject_as_decoded`]; kept only when it differs
    /// from `subject`, so never empty.
    fn subject_as_decoded(&self) -> Option<&str> {
        let decoded = self.text.get(self.ends[FIELDS] as usize..).unwrap_or_default();
        (!decoded.is_empty()).then_some(decoded)
    }

    /// Parses a raw header block. Never fails: what cannot be parsed is left
    /// empty (and named in `broken`), and a parser panic (hostile input)
    /// yields an empty summary marked [`Broken::Unparsable`].
    pub fn parse(raw: &[u8]) -> HeaderSummary {
        crate::unwind::catching(|| parse_inner(raw)).unwrap_or_else(|_| HeaderSummary {
            broken: BrokenSet::of(Broken::Unparsable),
            ..HeaderSummary::default()
        })
    }

    /// The decoded, sanitized values of every header called `name` (ASCII
    /// case-insensitive), in block order. From, To, Cc, Subject and
    /// Message-ID give their field above (Message-ID without angle
    /// brackets; for a repeated one, the last, as mail-parser reads it),
    /// and so does a valid Date (RFC 3339); every other header gives what
    /// was kept of it (see [`HeaderParts::other_headers`]).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.field(name).filter(|v| !v.is_empty()).into_iter().chain(
            self.other_headers()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
        )
    }

    /// The field that holds the header `name`, if one does.
    fn field(&self, name: &str) -> Option<&str> {
        let is = |field: &str| name.eq_ignore_ascii_case(field);
        if is("from") {
            Some(self.from())
        } else if is("to") {
            Some(self.to())
        } else if is("cc") {
            Some(self.cc())
        } else if is("subject") {
            Some(self.subject())
        } else if is("message-id") {
            Some(self.message_id())
        } else if is("date") && !self.broken.contains(Broken::BadDate) {
            self.date()
        } else {
            None
        }
    }

    /// The headers kept besides the fields, as (name, value), in block order.
    pub fn other_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.other_header_lines().lines().filter_map(|line| {
            let code = line.as_bytes().first()?.wrapping_sub(FIRST_CODE);
            match CODED_NAMES.get(usize::from(code)) {
                Some(name) => Some((*name, &line[1..])),
                None => line.split_once(": "),
            }
        })
    }
}

/// The text fields by name, as `list --json` has always written them.
impl Serialize for HeaderSummary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields = serializer.serialize_struct("HeaderSummary", FIELDS)?;
        fields.serialize_field("date", &self.date())?;
        fields.serialize_field("from", self.from())?;
        fields.serialize_field("to", self.to())?;
        fields.serialize_field("cc", self.cc())?;
        fields.serialize_field("subject", self.subject())?;
        fields.serialize_field("message_id", self.message_id())?;
        fields.serialize_field("content_type", self.content_type())?;
        fields.end()
    }
}

impl fmt::Debug for HeaderSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderSummary")
            .field("date", &self.date())
            .field("timestamp", &self.timestamp)
            .field("from", &self.from())
            .field("to", &self.to())
            .field("cc", &self.cc())
            .field("subject", &self.subject())
            .field("message_id", &self.message_id())
            .field("content_type", &self.content_type())
            .field("broken", &self.broken)
            .field("has_attachment", &self.has_attachment)
            .field("other_headers", &self.other_header_lines())
            .finish()
    }
}

/// Why a header block looks broken. Each is something the reader notices
/// cheaply while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Broken {
    /// No header could be read: an empty block, or bytes that are not a
    /// header block at all (or the parser gave up on them).
    Unparsable,
    /// No From header, or one with neither a name nor an address.
    NoFrom,
    /// No Date header.
    NoDate,
    /// A Date header that is not a valid date.
    BadDate,
    /// An RFC 2047 encoded word that cannot be decoded: an unknown or empty
    /// charset, an encoding other than B or Q, invalid base64, or no
    /// closing `?=`.
    BadEncodedWord,
    /// A CR not followed by LF (a line break to some readers, not to others).
    BareCr,
    /// A NUL byte.
    Nul,
    /// Bytes that are not UTF-8 and not encoded (RFC 2047), so their charset
    /// is a guess (they are read as Windows-1252).
    Raw8Bit,
    /// A line longer than the 998 characters RFC 5322 allows.
    LongLine,
}

impl Broken {
    /// Every reason, in the order [`BrokenSet::iter`] gives them.
    pub const ALL: [Broken; 9] = [
        Broken::Unparsable,
        Broken::NoFrom,
        Broken::NoDate,
        Broken::BadDate,
        Broken::BadEncodedWord,
        Broken::BareCr,
        Broken::Nul,
        Broken::Raw8Bit,
        Broken::LongLine,
    ];

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Broken {
    /// A few words for a person.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Broken::Unparsable => "no readable header",
            Broken::NoFrom => "no From",
            Broken::NoDate => "no Date",
            Broken::BadDate => "invalid Date",
            Broken::BadEncodedWord => "undecodable encoded word",
            Broken::BareCr => "bare CR",
            Broken::Nul => "NUL byte",
            Broken::Raw8Bit => "unencoded 8-bit bytes",
            Broken::LongLine => "line over 998 characters",
        })
    }
}

/// A set of [`Broken`] reasons, two bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BrokenSet(u16);

impl BrokenSet {
    fn of(reason: Broken) -> BrokenSet {
        BrokenSet(reason.bit())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, reason: Broken) -> bool {
        self.0 & reason.bit() != 0
    }

    pub fn insert(&mut self, reason: Broken) {
        self.0 |= reason.bit();
    }

    pub fn iter(self) -> impl Iterator<Item = Broken> {
        Broken::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl fmt::Debug for BrokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

fn parse_inner(raw: &[u8]) -> HeaderSummary {
    let mut broken = scan_bytes(raw);
    let block = readable_header_bytes(raw);
    if matches!(block, Cow::Owned(_)) {
        broken.insert(Broken::Raw8Bit);
    }
    let message = MessageParser::default()
        .parse_headers(block.as_bytes())
        .filter(|m| m.headers().iter().any(|h| is_header_name(h.name())));
    let Some(message) = message else {
        for reason in [Broken::Unparsable, Broken::NoFrom, Broken::NoDate] {
            broken.insert(reason);
        }
        return HeaderSummary {
            broken,
            ..HeaderSummary::default()
        };
    };
    let date = message.date();
    let address = |a: Option<&mail_parser::Address>| a.map(|a| clean_header(&format_address(a))).unwrap_or_default();
    let date_text = date.map(|d| clean_header(&d.to_rfc3339()));
    let (from, to, cc) = (address(message.from()), address(message.to()), address(message.cc()));
    let subject = message.subject().map(clean_header).unwrap_or_default();
    let subject_as_decoded = message.subject().filter(|s| shown_with_stand_ins(s)).map(|s| {
        let mut cut = s.len().min(MAX_NAME_SUBJECT_BYTES);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        &s[..cut]
    });
    let message_id = message.message_id().map(clean_header).unwrap_or_default();
    let content_type = message
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => clean_header(&format!("{}/{}", ct.ctype(), sub)),
            None => clean_header(ct.ctype()),
        })
        .unwrap_or_default();
    let parts = HeaderParts {
        date: date_text.as_deref(),
        from: &from,
        to: &to,
        cc: &cc,
        subject: &subject,
        message_id: &message_id,
        content_type: &content_type,
        other_headers: "",
        subject_as_decoded,
    };
    if from.is_empty() {
        broken.insert(Broken::NoFrom);
    }
    match date {
        Some(d) if d.is_valid() => {}
        Some(_) => broken.insert(Broken::BadDate),
        None if message.header_raw(HeaderName::Date).is_some() => broken.insert(Broken::BadDate),
        None => broken.insert(Broken::NoDate),
    }
    // The other headers are built in a reused buffer, so each summary
    // costs one allocation, its text.
    thread_local! {
        static LINES: RefCell<String> = const { RefCell::new(String::new()) };
    }
    LINES.with(|lines| {
        let mut lines = lines.borrow_mut();
        lines.clear();
        push_other_headers(&mut lines, &message, &block, &parts, &mut broken);
        let parts = HeaderParts {
            other_headers: &lines,
            ..parts
        };
        let mut summary = HeaderSummary::from_parts(&parts);
        summary.timestamp = date.map(|d| d.to_timestamp());
        summary.broken = broken;
        summary.has_attachment = has_attachment(&message);
        summary
    })
}

/// True when display conversion changes `value` beyond its whitespace:
/// a control (even VT, FF, NEL, which it shows as spaces), a bidi or
/// format character.
fn shown_with_stand_ins(value: &str) -> bool {
    !value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && value
            .chars()
            .any(|c| visible_stand_in(c) != c && !matches!(c, '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}'))
}

/// What one pass over the raw block's bytes notices: bare CRs, NULs, long
/// lines.
fn scan_bytes(raw: &[u8]) -> BrokenSet {
    let mut broken = BrokenSet::default();
    let mut line_start = 0usize;
    for (i, &b) in raw.iter().enumerate() {
        if b > b'\r' {
            continue;
        }
        match b {
            b'\n' => {
                let cr = usize::from(i > line_start && raw[i - 1] == b'\r');
                if i - line_start - cr > MAX_LINE {
                    broken.insert(Broken::LongLine);
                }
                line_start = i + 1;
            }
            b'\r' if raw.get(i + 1) != Some(&b'\n') => broken.insert(Broken::BareCr),
            0 => broken.insert(Broken::Nul),
            _ => {}
        }
    }
    if raw.len() - line_start > MAX_LINE {
        broken.insert(Broken::LongLine);
    }
    broken
}

fn has_attachment(message: &Message) -> bool {
    let mixed = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("mixed"))
    });
    let attached = message
        .content_disposition()
        .is_some_and(|cd| cd.ctype().eq_ignore_ascii_case("attachment"));
    mixed || attached
}

/// Pushes the "Name: value\n" lines of the headers that `fields` do not
/// hold; notes undecodable encoded words in any header on the way. `block`
/// is what `message` was parsed from.
fn push_other_headers(
    lines: &mut String,
    message: &Message,
    block: &str,
    fields: &HeaderParts<'_>,
    broken: &mut BrokenSet,
) {
    let mut count = 0usize;
    for header in message.headers() {
        let value = block
            .get(header.offset_start as usize..header.offset_end as usize)
            .unwrap_or_default();
        let encoded = value.contains("=?");
        if encoded && has_bad_encoded_word(value.as_bytes()) {
            broken.insert(Broken::BadEncodedWord);
        }
        let held_in_field = match header.name {
            HeaderName::From => !fields.from.is_empty(),
            HeaderName::To => !fields.to.is_empty(),
            HeaderName::Cc => !fields.cc.is_empty(),
            HeaderName::Subject => !fields.subject.is_empty(),
            HeaderName::MessageId => !fields.message_id.is_empty(),
            HeaderName::Date => fields.date.is_some() && !broken.contains(Broken::BadDate),
            _ => false,
        };
        if held_in_field || count >= MAX_OTHER_HEADERS {
            continue;
        }
        let start = lines.len();
        match name_code(&header.name) {
            Some(code) => lines.push(char::from(code)),
            None => {
                push_clean_value(lines, header.name(), MAX_NAME);
                if lines.len() == start {
                    // A name of whitespace alone would read as no name.
                    lines.push(char::REPLACEMENT_CHARACTER);
                }
                lines.push_str(": ");
            }
        }
        push_clean_value(lines, &decoded(value, encoded), MAX_OTHER_VALUE);
        lines.push('\n');
        if lines.len() > MAX_OTHER_HEADER_BYTES {
            lines.truncate(start);
        } else {
            count += 1;
        }
    }
}

/// Long header names most messages carry, stored in `other_headers` as
/// one byte, [`FIRST_CODE`] + their position (a C0 control past CR),
/// instead of "Name: ": 100,000 summaries stay smaller by the names' bytes.
const CODED_NAMES: [&str; 18] = [
    "Received",
    "Return-Path",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Reply-To",
    "In-Reply-To",
    "References",
    "List-ID",
    "List-Unsubscribe",
    "List-Post",
    "List-Subscribe",
    "DKIM-Signature",
    "ARC-Seal",
    "ARC-Message-Signature",
    "ARC-Authentication-Results",
    "Authentication-Results",
];

/// The code of a name in [`CODED_NAMES`].
fn name_code(name: &HeaderName) -> Option<u8> {
    let index = match name {
        HeaderName::Received => 0,
        HeaderName::ReturnPath => 1,
        HeaderName::MimeVersion => 2,
        HeaderName::ContentType => 3,
        HeaderName::ContentTransferEncoding => 4,
        HeaderName::ContentDisposition => 5,
        HeaderName::ReplyTo => 6,
        HeaderName::InReplyTo => 7,
        HeaderName::References => 8,
        HeaderName::ListId => 9,
        HeaderName::ListUnsubscribe => 10,
        HeaderName::ListPost => 11,
        HeaderName::ListSubscribe => 12,
        HeaderName::DkimSignature => 13,
        HeaderName::ArcSeal => 14,
        HeaderName::ArcMessageSignature => 15,
        HeaderName::ArcAuthenticationResults => 16,
        HeaderName::AuthenticationResults => 17,
        _ => return None,
    };
    Some(FIRST_CODE + index)
}

/// The first code byte: the codes stay clear of LF and CR, which end lines.
const FIRST_CODE: u8 = 0x0e;

/// A raw header value as text, RFC 2047 decoded when it holds an encoded
/// word (the whole value read as unstructured text).
fn decoded(value: &str, encoded: bool) -> Cow<'_, str> {
    if !encoded {
        return Cow::Borrowed(value);
    }
    match MessageStream::new(value.as_bytes()).parse_unstructured() {
        HeaderValue::Text(text) => text,
        _ => Cow::Borrowed(""),
    }
}

/// True when `value` holds something meant as an RFC 2047 encoded word
/// (`=?charset?X?`) that cannot be decoded.
fn has_bad_encoded_word(value: &[u8]) -> bool {
    let mut rest = value;
    while let Some(start) = rest.windows(2).position(|w| w == b"=?") {
        rest = &rest[start + 2..];
        let Some((charset, encoding, data)) = split_encoded_word(rest) else {
            continue; // "=?" in ordinary text
        };
        let Some(end) = data.windows(2).position(|w| w == b"?=") else {
            return true;
        };
        let (data, after) = data.split_at(end);
        let charset = charset.split(|&b| b == b'*').next().unwrap_or_default();
        let known = charset.eq_ignore_ascii_case(b"utf-8")
            || charset.eq_ignore_ascii_case(b"utf8")
            || mail_parser::decoders::charsets::map::charset_decoder(charset).is_some();
        let decodable = match encoding {
            b'B' | b'b' => is_base64(data),
            b'Q' | b'q' => true,
            _ => false,
        };
        if !known || !decodable {
            return true;
        }
        rest = after;
    }
    false
}

/// `charset?X?data...` after an "=?": the charset (no space or '?', at
/// most 40 bytes), the encoding byte and what follows its '?'; `None` when
/// this is not shaped like an encoded word.
fn split_encoded_word(after: &[u8]) -> Option<(&[u8], u8, &[u8])> {
    let q = after
        .iter()
        .take(41)
        .position(|&b| b == b'?' || b.is_ascii_whitespace())?;
    if after[q] != b'?' {
        return None;
    }
    match after.get(q + 1..q + 3)? {
        [encoding, b'?'] if !encoding.is_ascii_whitespace() => Some((&after[..q], *encoding, &after[q + 3..])),
        _ => None,
    }
}

/// Base64 that decodes: the alphabet, then at most two '=' (mail-parser
/// accepts missing padding, so the length is not checked).
fn is_base64(data: &[u8]) -> bool {
    let body = data
        .strip_suffix(b"==")
        .or_else(|| data.strip_suffix(b"="))
        .unwrap_or(data);
    !body.is_empty()
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[cfg(test)]
mod tests;
