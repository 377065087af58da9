//! The demo maildrop: the messages the demo server serves.
//!
//! Messages are kept exactly as they go on the wire (CRLF line ends, before
//! byte-stuffing), so the size LIST reports is exactly what RETR sends.
//! Ordinary messages are a few KB and stored. Huge ones are `Generated`: a
//! seed and a size from which the bytes are produced chunk by chunk while
//! they are sent, so a 120 MB message costs no memory until someone asks
//! for it, and then only one chunk at a time.

use crate::testmail::Rng;
use crate::testmail::dates::format_date;
use crate::testmail::hostile::{self, Stamp};
use crate::testmail::huge;
use crate::testmail::realistic::{self as content, Slot};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::borrow::Cow;

/// How many messages `popscope demo` puts in its maildrop by default.
pub const DEFAULT_DEMO_MESSAGES: usize = 3_000;

/// The smallest size of a generated message; smaller requests are rounded
/// up to it (the MIME frame around the attachment needs the room).
pub const MIN_GENERATED_SIZE: u64 = 4 * 1024;

/// Roughly how many bytes one chunk of a generated message holds.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// Sizes of the huge messages in a generated maildrop, before jitter.
const HUGE_SIZES: [u64; 3] = [8 << 20, 25 << 20, 120 << 20];

/// One base64 line of a generated attachment: 76 characters and CRLF.
const FILL_LINE_CHARS: usize = 76;
const FILL_LINE_LEN: u64 = FILL_LINE_CHARS as u64 + 2;
/// Bytes of attachment data one full line encodes.
const FILL_LINE_DATA: usize = FILL_LINE_CHARS / 4 * 3;
const FILL_LINES_PER_CHUNK: u64 = CHUNK_SIZE as u64 / FILL_LINE_LEN;

/// What a message is, so tests and demos can find the interesting ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Personal mail, work mail, invoices, newsletters, notifications.
    Ordinary,
    /// A delivery status notification from MAILER-DAEMON.
    Bounce,
    /// A generated message with a big attachment, streamed when sent.
    Huge,
    /// A specimen of the hostile catalogue (`testmail::hostile`), by name.
    Hostile(&'static str),
    /// Given by the caller (`Maildrop::with_messages`).
    Custom,
}

/// Where a message's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The wire bytes, CRLF line ends, ending in CRLF unless empty.
    Stored(Vec<u8>),
    /// Produced on demand from `seed`, exactly `size` bytes.
    Generated { seed: u64, size: u64 },
}

/// One message of a maildrop. Immutable: deleting a message removes it
/// from the maildrop, it never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoMessage {
    uid: String,
    kind: MessageKind,
    source: Source,
}

impl DemoMessage {
    /// The unique id UIDL reports; stable for the life of the message.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// Size in octets as LIST reports it: exactly the bytes RETR sends
    /// before byte-stuffing.
    pub fn size(&self) -> u64 {
        match &self.source {
            Source::Stored(bytes) => bytes.len() as u64,
            Source::Generated { size, .. } => *size,
        }
    }

    /// True when the bytes are produced on demand rather than stored.
    pub fn is_generated(&self) -> bool {
        matches!(self.source, Source::Generated { .. })
    }

    /// The bytes of a stored message; `None` for a generated one.
    pub(crate) fn stored_bytes(&self) -> Option<&[u8]> {
        match &self.source {
            Source::Stored(bytes) => Some(bytes),
            Source::Generated { .. } => None,
        }
    }

    /// The message's bytes in order, in pieces of at most about
    /// [`CHUNK_SIZE`]. Every piece ends at a line end.
    pub fn chunks(&self) -> MessageChunks<'_> {
        let state = match &self.source {
            Source::Stored(bytes) => ChunkState::Stored(Some(bytes)),
            Source::Generated { seed, size } => ChunkState::Generated {
                layout: GeneratedLayout::new(*seed, *size),
                next: GeneratedPart::Head,
            },
        };
        MessageChunks { state }
    }

    /// All bytes at once. Meant for tests: a huge message is allocated whole.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size() as usize);
        for chunk in self.chunks() {
            out.extend_from_slice(&chunk);
        }
        out
    }
}

/// The pieces of one message, see [`DemoMessage::chunks`].
pub struct MessageChunks<'a> {
    state: ChunkState<'a>,
}

enum ChunkState<'a> {
    Stored(Option<&'a [u8]>),
    Generated {
        layout: GeneratedLayout,
        next: GeneratedPart,
    },
}

#[derive(Debug, Clone, Copy)]
enum GeneratedPart {
    Head,
    /// The next base64 line to produce.
    Fill(u64),
    Tail,
    Done,
}

impl<'a> Iterator for MessageChunks<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Cow<'a, [u8]>> {
        match &mut self.state {
            ChunkState::Stored(bytes) => bytes.take().filter(|b| !b.is_empty()).map(Cow::Borrowed),
            ChunkState::Generated { layout, next } => loop {
                match *next {
                    GeneratedPart::Head => {
                        *next = GeneratedPart::Fill(0);
                        return Some(Cow::Owned(layout.head.clone()));
                    }
                    GeneratedPart::Fill(line) if line < layout.line_count() => {
                        let end = (line + FILL_LINES_PER_CHUNK).min(layout.line_count());
                        let mut chunk = Vec::with_capacity(((end - line) * FILL_LINE_LEN) as usize);
                        for l in line..end {
                            layout.push_fill_line(l, &mut chunk);
                        }
                        *next = GeneratedPart::Fill(end);
                        return Some(Cow::Owned(chunk));
                    }
                    GeneratedPart::Fill(_) => *next = GeneratedPart::Tail,
                    GeneratedPart::Tail => {
                        *next = GeneratedPart::Done;
                        return Some(Cow::Owned(layout.tail.clone()));
                    }
                    GeneratedPart::Done => return None,
                }
            },
        }
    }
}

/// How a generated message of an exact size is put together: a head
/// (headers, text part, attachment headers), `full_lines` base64 lines of
/// 76 characters, an optional shorter last line, and a tail closing the
/// multipart. The base64 always decodes: the last line's length is a
/// multiple of 4, which a few bytes of padding in the head make possible.
#[derive(Debug, Clone)]
struct GeneratedLayout {
    seed: u64,
    head: Vec<u8>,
    full_lines: u64,
    /// Characters on the last, shorter line; 0 when there is none.
    last_chars: usize,
    tail: Vec<u8>,
}

impl GeneratedLayout {
    fn new(seed: u64, size: u64) -> GeneratedLayout {
        let tail = huge::tail(seed);
        for pad in 0..8 {
            let head = huge::head(seed, size, pad);
            let frame = (head.len() + tail.len()) as u64;
            let Some(fill) = size.checked_sub(frame) else { break };
            let (full_lines, rest) = (fill / FILL_LINE_LEN, (fill % FILL_LINE_LEN) as usize);
            // A partial line needs at least one base64 quantum plus CRLF.
            let last_chars = rest.saturating_sub(2);
            if rest == 0 || (rest >= 6 && last_chars % 4 == 0) {
                return GeneratedLayout {
                    seed,
                    head,
                    full_lines,
                    last_chars,
                    tail,
                };
            }
        }
        unreachable!("generated message of {size} bytes is below MIN_GENERATED_SIZE or cannot be laid out")
    }

    fn line_count(&self) -> u64 {
        self.full_lines + u64::from(self.last_chars > 0)
    }

    /// Appends base64 line `line` and its CRLF. Each line encodes its own
    /// pseudo-random bytes, so any line can be produced without the others.
    fn push_fill_line(&self, line: u64, out: &mut Vec<u8>) {
        let chars = if line < self.full_lines {
            FILL_LINE_CHARS
        } else {
            self.last_chars
        };
        let mut data = [0u8; FILL_LINE_DATA];
        let data = &mut data[..chars / 4 * 3];
        Rng::derive(self.seed, line).fill(data);
        if line == 0 {
            let magic = huge::magic(self.seed);
            let n = magic.len().min(data.len());
            data[..n].copy_from_slice(&magic[..n]);
        }
        let start = out.len();
        out.resize(start + chars, 0);
        BASE64
            .encode_slice(data, &mut out[start..])
            .expect("buffer sized for the encoding");
        out.extend_from_slice(b"\r\n");
    }
}

/// The messages a demo server starts with, in maildrop order (message 1
/// first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maildrop {
    messages: Vec<DemoMessage>,
}

impl Maildrop {
    /// A realistic maildrop of `count` messages, the same for the same
    /// `seed`: about 30% bounces, personal and work mail, invoices with PDF
    /// attachments, HTML newsletters, encoded non-ASCII subjects, dates over
    /// two years. With 12 messages or more it also holds, spread over the
    /// maildrop, one each of the dot-lines, terminal-escapes and broken-mime
    /// hostile specimens and three huge generated messages (~8, ~25,
    /// ~120 MB).
    pub fn generate(count: usize, seed: u64) -> Maildrop {
        Self::build(count, seed, true)
    }

    /// Like [`generate`](Self::generate) but only ordinary messages and
    /// bounces: nothing huge or hostile. For benchmarks that fetch it all.
    pub fn generate_ordinary(count: usize, seed: u64) -> Maildrop {
        Self::build(count, seed, false)
    }

    fn build(count: usize, seed: u64, specials: bool) -> Maildrop {
        let special_at = |index: usize| -> Option<usize> {
            if !specials || count < 2 * SPECIALS.len() {
                return None;
            }
            (0..SPECIALS.len()).find(|k| special_index(*k, count) == index)
        };
        let messages = (0..count)
            .map(|index| {
                let slot = Slot {
                    index,
                    seed,
                    arrival: content::arrival(index, count, seed),
                };
                let uid = format!("demo-{seed}-{index}");
                let (kind, source) = match special_at(index).map(|k| SPECIALS[k]) {
                    Some(Special::Hostile(name)) => {
                        let stamp = Stamp {
                            date: format_date(slot.arrival, 0),
                            id_suffix: format!(".{index}"),
                        };
                        let bytes = hostile::hostile(name, &stamp).unwrap_or_default();
                        (MessageKind::Hostile(name), stored(bytes))
                    }
                    Some(Special::Huge(n)) => {
                        let mut rng = Rng::derive(seed, index as u64);
                        let size = HUGE_SIZES[n] + rng.below(1 << 20);
                        (
                            MessageKind::Huge,
                            Source::Generated {
                                seed: rng.next_u64(),
                                size,
                            },
                        )
                    }
                    // ~30% bounces, decided per message so the share holds
                    // for any count.
                    None if Rng::derive(seed ^ 0xB0B0, index as u64).percent(30) => {
                        (MessageKind::Bounce, stored(content::bounce(&slot)))
                    }
                    None => (MessageKind::Ordinary, stored(content::ordinary(&slot))),
                };
                DemoMessage { uid, kind, source }
            })
            .collect();
        Maildrop { messages }
    }

    /// A maildrop holding exactly these messages, in order. LF or CRLF line
    /// ends are both accepted and sent as CRLF; a missing final line end is
    /// added. UIDs are `msg-<index>`.
    pub fn with_messages(messages: Vec<Vec<u8>>) -> Maildrop {
        let messages = messages
            .into_iter()
            .enumerate()
            .map(|(index, bytes)| DemoMessage {
                uid: format!("msg-{index}"),
                kind: MessageKind::Custom,
                source: stored(bytes),
            })
            .collect();
        Maildrop { messages }
    }

    /// Appends a generated message of exactly `size` bytes (at least
    /// [`MIN_GENERATED_SIZE`]): a mail with a base64 attachment, produced
    /// from `seed` while it is sent. UID `gen-<seed>-<index>`.
    pub fn with_generated(mut self, seed: u64, size: u64) -> Maildrop {
        let index = self.messages.len();
        self.messages.push(DemoMessage {
            uid: format!("gen-{seed}-{index}"),
            kind: MessageKind::Huge,
            source: Source::Generated {
                seed,
                size: size.max(MIN_GENERATED_SIZE),
            },
        });
        self
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Sum of all message sizes, as STAT reports it.
    pub fn total_size(&self) -> u64 {
        self.messages.iter().map(DemoMessage::size).sum()
    }

    pub fn messages(&self) -> &[DemoMessage] {
        &self.messages
    }

    /// The message at 0-based `index` (POP3 message number `index + 1`).
    pub fn get(&self, index: usize) -> Option<&DemoMessage> {
        self.messages.get(index)
    }

    /// 0-based index of the first message of `kind`.
    pub fn position(&self, kind: MessageKind) -> Option<usize> {
        self.messages.iter().position(|m| m.kind == kind)
    }

    pub(crate) fn into_messages(self) -> Vec<DemoMessage> {
        self.messages
    }
}

#[derive(Debug, Clone, Copy)]
enum Special {
    Hostile(&'static str),
    Huge(usize),
}

const SPECIALS: [Special; 6] = [
    Special::Hostile("dot-lines"),
    Special::Hostile("terminal-escapes"),
    Special::Hostile("broken-mime"),
    Special::Huge(0),
    Special::Huge(1),
    Special::Huge(2),
];

/// Where the k-th special message goes: evenly spread, so scrolling through
/// the demo meets them all.
fn special_index(k: usize, count: usize) -> usize {
    (k + 1) * count / (SPECIALS.len() + 1)
}

fn stored(bytes: Vec<u8>) -> Source {
    Source::Stored(normalize_line_ends(bytes))
}

/// Bare LF becomes CRLF and a final CRLF is added when missing; CRLF and
/// lone CR are left alone. Returns the input untouched when it already
/// conforms, which is the common case for generated messages.
pub fn normalize_line_ends(bytes: Vec<u8>) -> Vec<u8> {
    let bare_lf = bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'));
    let needs_final = !bytes.is_empty() && !bytes.ends_with(b"\r\n");
    if !bare_lf && !needs_final {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32 + 2);
    let mut prev = 0u8;
    for &b in &bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_line_ends() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"a\nb\n", b"a\r\nb\r\n"),
            (b"a\r\nb\r\n", b"a\r\nb\r\n"),
            (b"a\r\nb", b"a\r\nb\r\n"),
            (b"\n", b"\r\n"),
            (b"a\rb\n", b"a\rb\r\n"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_line_ends(input.to_vec()), expected.to_vec(), "{input:?}");
        }
    }

    #[test]
    fn generated_messages_have_exactly_their_size() {
        for size in (MIN_GENERATED_SIZE..MIN_GENERATED_SIZE + 200).chain([10_000, 65_536, 200_001, 1_000_003]) {
            for seed in [0, 1, 0xFFFF_FFFF_FFFF_FFFF] {
                let message = Maildrop::default().with_generated(seed, size).into_messages().remove(0);
                let bytes = message.to_bytes();
                assert_eq!(bytes.len() as u64, size, "seed {seed}");
                assert!(bytes.ends_with(b"\r\n"));
                assert!(!bytes.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'), "bare LF");
                assert!(
                    message
                        .chunks()
                        .all(|c| c.len() <= CHUNK_SIZE + 4096 && c.ends_with(b"\r\n"))
                );
            }
        }
    }

    #[test]
    fn generated_attachment_is_valid_base64_mime() {
        let message = Maildrop::default().with_generated(7, 300_017).into_messages().remove(0);
        let bytes = message.to_bytes();
        let parsed = mail_parser::MessageParser::default().parse(&bytes).expect("parses");
        assert_eq!(parsed.attachment_count(), 1);
        let attachment = parsed.attachment(0).unwrap();
        let data = attachment.contents();
        // ~3/4 of the base64 region; the head and tail are small.
        assert!(data.len() > 200_000, "{}", data.len());
        assert!(data.starts_with(huge::magic(7)));
    }

    #[test]
    fn small_generated_sizes_round_up() {
        let drop = Maildrop::default().with_generated(3, 10);
        assert_eq!(drop.messages()[0].size(), MIN_GENERATED_SIZE);
        assert_eq!(drop.messages()[0].to_bytes().len() as u64, MIN_GENERATED_SIZE);
    }

    #[test]
    fn generate_is_deterministic() {
        let a = Maildrop::generate(300, 42);
        let b = Maildrop::generate(300, 42);
        assert_eq!(a, b);
        let c = Maildrop::generate(300, 43);
        assert_ne!(
            a.messages().iter().map(DemoMessage::size).collect::<Vec<_>>(),
            c.messages().iter().map(DemoMessage::size).collect::<Vec<_>>()
        );
        let uids: std::collections::HashSet<_> = a.messages().iter().map(DemoMessage::uid).collect();
        assert_eq!(uids.len(), 300, "UIDs are unique");
    }

    #[test]
    fn generate_places_every_special_once() {
        let drop = Maildrop::generate(100, 5);
        for kind in [
            MessageKind::Hostile("dot-lines"),
            MessageKind::Hostile("terminal-escapes"),
            MessageKind::Hostile("broken-mime"),
        ] {
            assert_eq!(
                drop.messages().iter().filter(|m| m.kind() == kind).count(),
                1,
                "{kind:?}"
            );
        }
        let huge: Vec<u64> = drop
            .messages()
            .iter()
            .filter(|m| m.kind() == MessageKind::Huge)
            .map(DemoMessage::size)
            .collect();
        assert_eq!(huge.len(), 3);
        assert!(
            huge[0] >= 8 << 20 && huge[1] >= 25 << 20 && huge[2] >= 120 << 20,
            "{huge:?}"
        );
        let broken = drop
            .get(drop.position(MessageKind::Hostile("broken-mime")).unwrap())
            .unwrap();
        let bytes = broken.stored_bytes().unwrap();
        assert!(bytes.contains(&0));
        assert!(
            bytes
                .split(|&b| b == b'\n')
                .any(|line| line.len() >= hostile::LONG_HEADER_LINE_LEN - 1)
        );
        assert!(!bytes.windows(5).any(|w| w == b"Date:"));

        let small = Maildrop::generate(5, 5);
        assert!(
            small
                .messages()
                .iter()
                .all(|m| matches!(m.kind(), MessageKind::Ordinary | MessageKind::Bounce))
        );
        assert!(
            Maildrop::generate_ordinary(100, 5)
                .messages()
                .iter()
                .all(|m| !m.is_generated())
        );
    }

    #[test]
    fn generated_maildrop_looks_like_real_mail() {
        let drop = Maildrop::generate_ordinary(1_000, 1);
        let bounces = drop
            .messages()
            .iter()
            .filter(|m| m.kind() == MessageKind::Bounce)
            .count();
        assert!((250..=350).contains(&bounces), "{bounces} bounces");
        let parser = mail_parser::MessageParser::default();
        let (mut encoded_subjects, mut with_attachments, mut html, mut cc) = (0, 0, 0, 0);
        let mut senders = std::collections::HashSet::new();
        for message in drop.messages() {
            let bytes = message.stored_bytes().unwrap();
            assert!(!bytes.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'), "bare LF");
            assert!(bytes.split(|&b| b == b'\n').all(|l| l.len() <= 998), "line too long");
            let parsed = parser.parse(bytes).expect("parses");
            let subject = parsed.subject().expect("subject");
            assert!(parsed.date().is_some() && parsed.message_id().is_some());
            let from = parsed.from().and_then(|a| a.first()).expect("from");
            senders.insert(from.address().unwrap_or_default().to_string());
            if message.kind() == MessageKind::Bounce {
                assert!(
                    from.address()
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                        .starts_with("mailer-daemon@")
                );
            }
            if !subject.is_ascii() {
                encoded_subjects += 1;
            }
            with_attachments += usize::from(parsed.attachment_count() > 0);
            html += usize::from(bytes.windows(24).any(|w| w == b"Content-Type: text/html;"));
            cc += usize::from(parsed.cc().is_some());
        }
        let postfix = drop
            .messages()
            .iter()
            .filter(|m| {
                String::from_utf8_lossy(m.stored_bytes().unwrap())
                    .contains("Subject: Undelivered Mail Returned to Sender")
            })
            .count();
        assert!(postfix * 10 >= bounces * 5, "{postfix} of {bounces}");
        assert!(encoded_subjects >= 40, "{encoded_subjects}");
        assert!(with_attachments >= 100, "{with_attachments}");
        assert!(html >= 50, "{html}");
        assert!(cc >= 30, "{cc}");
        assert!(senders.len() >= 300, "{} senders", senders.len());
    }
}
