//! mbox in the mboxrd variant: each message is `From SENDER DATE`, the
//! message with every line matching `^>*From ` given one more `>`, and a
//! blank line. Reading takes one `>` off such lines, so any message whose
//! last line ends in a line feed (every RETR does) comes back byte for byte.
//!
//! The `From ` line and the blank line end in LF; the message keeps the
//! line ends it had (CRLF from a POP3 server).

use super::error::{StoreError, show_path};
use super::fsutil::{SPOOL_CAPACITY, Spool, parent_dir, sync_dir};
use super::sink::{MessageMeta, MessageSink, MessageWriter, SavedAt, SyncJob};
use mail_parser::DateTime;
use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The sender used when none is known (the mbox convention).
pub(crate) const UNKNOWN_SENDER: &str = "MAILER-DAEMON";
/// Most header bytes held back to find the sender for the `From ` line.
const HEADER_SNIFF_LIMIT: usize = 64 * 1024;
const FROM: &[u8; 5] = b"From ";

/// An mbox file being appended to, locked (flock) against other writers
/// while open.
pub struct MboxSink {
    path: PathBuf,
    spool: Spool,
    /// The file was created by this sink: its directory entry needs an
    /// fsync at the first sync.
    created: bool,
    pending: Vec<SavedAt>,
}

impl MboxSink {
    /// Opens (or creates, mode 0600) the mbox file at `path` and locks it.
    /// Refuses a non-empty file that does not start with `From ` (not an
    /// mbox), and a file another program holds locked.
    pub fn open(path: &Path) -> Result<MboxSink, StoreError> {
        let created = !super::fsutil::name_taken(path);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| StoreError::io("open the mbox", path, &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::other(
                    Some(path),
                    format!("{} is locked by another program", show_path(path)),
                    Some("close the mail reader or other popscope using it, then try again".to_string()),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(StoreError::io("lock", path, &e)),
        }
        let len = file.metadata().map_err(|e| StoreError::io("read", path, &e))?.len();
        if len > 0 {
            let mut head = [0u8; 5];
            let looks_like_mbox = file.read_exact_at(&mut head, 0).is_ok() && &head == FROM;
            if !looks_like_mbox {
                return Err(StoreError::other(
                    Some(path),
                    format!(
                        "{} is not an mbox file (it does not start with \"From \")",
                        show_path(path)
                    ),
                    Some("give a new file name, or an existing mbox".to_string()),
                ));
            }
        }
        Ok(MboxSink {
            path: path.to_path_buf(),
            spool: Spool::new(file),
            created,
            pending: Vec::new(),
        })
    }

    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.spool
            .write(data)
            .map_err(|e| StoreError::io("write to", &self.path, &e))
    }

    /// The file's length, with any previous message's trailing blank line
    /// completed (a file written by another program may lack it).
    fn start_message(&mut self) -> Result<u64, StoreError> {
        self.spool
            .flush()
            .map_err(|e| StoreError::io("write to", &self.path, &e))?;
        let file = self.spool.file();
        let len = file
            .metadata()
            .map_err(|e| StoreError::io("read", &self.path, &e))?
            .len();
        if len > 0 {
            let mut tail = [0u8; 2];
            let from = len.saturating_sub(2);
            let got = &mut tail[..(len - from) as usize];
            file.read_exact_at(got, from)
                .map_err(|e| StoreError::io("read", &self.path, &e))?;
            let missing: &[u8] = match got {
                [.., b'\n', b'\n'] => b"",
                [.., b'\n'] => b"\n",
                _ => b"\n\n",
            };
            self.write(missing)?;
        }
        Ok(len)
    }
}

impl MessageSink for MboxSink {
    fn begin(&mut self, meta: &MessageMeta) -> Result<Box<dyn MessageWriter + '_>, StoreError> {
        let start = self.start_message()?;
        let mut writer = MboxWriter {
            sink: self,
            meta: meta.clone(),
            start,
            header: Some(Vec::new()),
            header_scanned: 0,
            quoter: Quoter::default(),
            scratch: Vec::new(),
            bytes: 0,
            last_byte: None,
            done: false,
        };
        if let Some(sender) = meta.sender.as_deref() {
            let sender = valid_sender(sender.as_bytes()).unwrap_or(UNKNOWN_SENDER);
            writer.write_from_line(sender)?;
        }
        Ok(Box::new(writer))
    }

    fn start_sync(&mut self) -> Result<Box<dyn SyncJob>, StoreError> {
        if self.pending.is_empty() {
            return Ok(Box::new(MboxSync::default()));
        }
        self.spool
            .flush()
            .map_err(|e| StoreError::io("write to", &self.path, &e))?;
        let file = self
            .spool
            .file()
            .try_clone()
            .map_err(|e| StoreError::io("sync", &self.path, &e))?;
        Ok(Box::new(MboxSync {
            file: Some(file),
            path: self.path.clone(),
            sync_dir: std::mem::take(&mut self.created),
            saved: std::mem::take(&mut self.pending),
        }))
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    fn target(&self) -> &Path {
        &self.path
    }
}

/// The fsync of an mbox: its data, and its directory entry when the
/// sink created the file.
#[derive(Default)]
struct MboxSync {
    /// `None`: nothing to sync.
    file: Option<File>,
    path: PathBuf,
    sync_dir: bool,
    saved: Vec<SavedAt>,
}

impl SyncJob for MboxSync {
    fn run(self: Box<Self>) -> Result<Vec<SavedAt>, StoreError> {
        let Some(file) = &self.file else {
            return Ok(Vec::new());
        };
        file.sync_data().map_err(|e| StoreError::io("sync", &self.path, &e))?;
        if self.sync_dir {
            sync_dir(parent_dir(&self.path))?;
        }
        Ok(self.saved)
    }
}

struct MboxWriter<'a> {
    sink: &'a mut MboxSink,
    meta: MessageMeta,
    /// The file's length before this message: abort cuts back to it.
    start: u64,
    /// The start of the message, held until the `From ` line is written.
    header: Option<Vec<u8>>,
    /// How far `header` has been searched for its end.
    header_scanned: usize,
    quoter: Quoter,
    scratch: Vec<u8>,
    bytes: u64,
    last_byte: Option<u8>,
    done: bool,
}

impl MboxWriter<'_> {
    fn write_from_line(&mut self, sender: &str) -> Result<(), StoreError> {
        let line = format!("From {sender} {}\n", asctime(now_seconds()));
        self.sink.write(line.as_bytes())?;
        let held = self.header.take().unwrap_or_default();
        self.quote(&held)
    }

    fn quote(&mut self, data: &[u8]) -> Result<(), StoreError> {
        for piece in data.chunks(SPOOL_CAPACITY) {
            self.scratch.clear();
            self.quoter.push(piece, &mut self.scratch);
            self.sink.write(&self.scratch)?;
        }
        Ok(())
    }

    /// Writes the `From ` line once the header is complete or too long to
    /// hold; the sender is then taken from it.
    fn write_from_line_if_ready(&mut self, at_end: bool) -> Result<(), StoreError> {
        let Some(held) = &self.header else { return Ok(()) };
        let complete = header_complete(held, self.header_scanned);
        self.header_scanned = held.len();
        if at_end || complete || held.len() >= HEADER_SNIFF_LIMIT {
            let sender = sender_from_header(held).unwrap_or(UNKNOWN_SENDER).to_string();
            self.write_from_line(&sender)?;
        }
        Ok(())
    }
}

impl MessageWriter for MboxWriter<'_> {
    fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.bytes += chunk.len() as u64;
        self.last_byte = chunk.last().copied();
        let mut rest = chunk;
        if let Some(held) = &mut self.header {
            let take = rest.len().min(HEADER_SNIFF_LIMIT.saturating_sub(held.len()));
            held.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.write_from_line_if_ready(false)?;
        }
        if !rest.is_empty() {
            self.quote(rest)?;
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<SavedAt, StoreError> {
        self.write_from_line_if_ready(true)?;
        self.scratch.clear();
        self.quoter.finish(&mut self.scratch);
        if self.last_byte.is_some_and(|b| b != b'\n') {
            self.scratch.push(b'\n');
        }
        self.scratch.push(b'\n');
        let tail = std::mem::take(&mut self.scratch);
        self.sink.write(&tail)?;
        self.sink
            .spool
            .flush()
            .map_err(|e| StoreError::io("write to", &self.sink.path, &e))?;
        self.done = true;
        let saved = SavedAt {
            number: self.meta.number,
            uid: self.meta.uid.take(),
            path: self.sink.path.clone(),
            bytes: self.bytes,
        };
        self.sink.pending.push(saved.clone());
        Ok(saved)
    }

    fn abort(self: Box<Self>) {}
}

impl Drop for MboxWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.sink.spool.discard();
            // If even this fails the file keeps a partial message, which a
            // reader sees as a short message; nothing better can be done.
            let _ = self.sink.spool.file().set_len(self.start);
        }
    }
}

/// The mboxrd quoting state between chunks: how much of a line start has
/// been seen. Only the part of `From ` matched so far is held, never a line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Quoter {
    /// At a line start, or after its leading `>`s.
    #[default]
    LineStart,
    /// This many bytes of `From ` matched after the line start.
    Matched(usize),
    /// Past the point where the line could need quoting.
    Rest,
}

impl Quoter {
    /// Appends `input` to `out`, quoted. The extra `>` goes right before
    /// `From `, after any existing `>`s: the same bytes as putting it first.
    fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while let Some(&b) = input.first() {
            match *self {
                Quoter::Rest => match input.iter().position(|&c| c == b'\n') {
                    Some(i) => {
                        out.extend_from_slice(&input[..=i]);
                        input = &input[i + 1..];
                        *self = Quoter::LineStart;
                    }
                    None => {
                        out.extend_from_slice(input);
                        return;
                    }
                },
                Quoter::LineStart if b == b'>' => {
                    out.push(b);
                    input = &input[1..];
                }
                Quoter::LineStart if b == FROM[0] => {
                    *self = Quoter::Matched(1);
                    input = &input[1..];
                }
                Quoter::LineStart => *self = Quoter::Rest,
                Quoter::Matched(k) if b == FROM[k] => {
                    input = &input[1..];
                    if k + 1 == FROM.len() {
                        out.push(b'>');
                        out.extend_from_slice(FROM);
                        *self = Quoter::Rest;
                    } else {
                        *self = Quoter::Matched(k + 1);
                    }
                }
                Quoter::Matched(k) => {
                    out.extend_from_slice(&FROM[..k]);
                    *self = Quoter::Rest;
                }
            }
        }
    }

    /// The message ended: writes out a partly matched `From`.
    fn finish(&mut self, out: &mut Vec<u8>) {
        if let Quoter::Matched(k) = *self {
            out.extend_from_slice(&FROM[..k]);
        }
        *self = Quoter::LineStart;
    }
}

/// One message read back from an mboxrd file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// The `From ` line, without its line end.
    pub from_line: Vec<u8>,
    /// The message with the quoting undone and the separating blank line
    /// removed.
    pub content: Vec<u8>,
}

/// Reads an mboxrd file (for tests and checks; it holds the whole file in
/// memory). Text before the first `From ` line is ignored.
pub fn split_mboxrd(mbox: &[u8]) -> Vec<MboxMessage> {
    let mut messages: Vec<MboxMessage> = Vec::new();
    for line in mbox.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(FROM) {
            let from_line = line.strip_suffix(b"\n").unwrap_or(line).to_vec();
            messages.push(MboxMessage {
                from_line,
                content: Vec::new(),
            });
            continue;
        }
        let Some(current) = messages.last_mut() else { continue };
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if quotes > 0 && line[quotes..].starts_with(FROM) {
            current.content.extend_from_slice(&line[1..]);
        } else {
            current.content.extend_from_slice(line);
        }
    }
    for message in &mut messages {
        if message.content.last() == Some(&b'\n') {
            message.content.pop();
        }
    }
    messages
}

/// True once `header` holds the blank line that ends a header block; only
/// the bytes from `scanned` on (and the two before) are new.
fn header_complete(header: &[u8], scanned: usize) -> bool {
    if header.starts_with(b"\n") || header.starts_with(b"\r\n") {
        return true;
    }
    let new = &header[scanned.saturating_sub(2).min(header.len())..];
    new.windows(2).any(|w| w == b"\n\n") || new.windows(3).any(|w| w == b"\n\r\n")
}

/// The envelope sender from `Return-Path` (an empty one means a bounce:
/// `MAILER-DAEMON`), else the first address of `From`; `None` if neither
/// gives a plausible address. Folded continuation lines are not read.
fn sender_from_header(header: &[u8]) -> Option<&str> {
    let mut from = None;
    for line in header.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"Return-Path") {
            return Some(address_in(value).unwrap_or(UNKNOWN_SENDER));
        }
        if from.is_none() && name.eq_ignore_ascii_case(b"From") {
            from = address_in(value);
        }
    }
    from
}

/// The address in `<...>`, else the first word holding an `@`.
fn address_in(value: &[u8]) -> Option<&str> {
    if let Some(open) = value.iter().position(|&b| b == b'<') {
        let inner = &value[open + 1..];
        let close = inner.iter().position(|&b| b == b'>')?;
        return valid_sender(&inner[..close]);
    }
    value
        .split(|b| b.is_ascii_whitespace())
        .find(|word| word.contains(&b'@'))
        .and_then(valid_sender)
}

/// A sender that fits on the `From ` line: printable ASCII, no spaces or
/// angle brackets, at most 254 bytes.
fn valid_sender(sender: &[u8]) -> Option<&str> {
    let plausible = (1..=254).contains(&sender.len())
        && sender
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) && b != b'<' && b != b'>');
    plausible.then(|| std::str::from_utf8(sender).ok()).flatten()
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `Thu Jul  3 08:00:00 2025` (UTC), the date format of `From ` lines.
fn asctime(seconds: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = DateTime::from_timestamp(seconds);
    let weekday = (seconds.div_euclid(86_400) + 4).rem_euclid(7) as usize;
    let month = MONTHS[usize::from(t.month.clamp(1, 12)) - 1];
    format!(
        "{} {month} {:>2} {:02}:{:02}:{:02} {}",
        DAYS[weekday], t.day, t.hour, t.minute, t.second, t.year
    )
}

#[cfg(test)]
#[path = "mbox_tests.rs"]
mod tests;
