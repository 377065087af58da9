//! What the client reports: replies, how commands ended, trace records,
//! and the errors that end a session.

use super::{BatchId, CommandKind, RequestId, SessionState};
use crate::pop3::auth::AuthError;
use crate::pop3::codec::{CodecError, StatusLine};
use std::fmt;
use std::time::{Duration, Instant};

/// The body part of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Kept in memory (CAPA, LIST, UIDL, TOP). `truncated`: the payload was
    /// longer than the bound; `total_bytes` says how long.
    Collected {
        bytes: Vec<u8>,
        truncated: bool,
        lines: u64,
        total_bytes: u64,
    },
    /// Handed out as `Event::Data` (RETR); this records how much came.
    Streamed { lines: u64, total_bytes: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusLine,
    pub body: Option<Body>,
}

impl Reply {
    /// The collected payload, or an empty slice.
    pub fn payload(&self) -> &[u8] {
        match &self.body {
            Some(Body::Collected { bytes, .. }) => bytes,
            _ => &[],
        }
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Reply),
    /// The server answered `-ERR`.
    Err(StatusLine),
    /// The SASL exchange failed on our side (bad challenge, the server could
    /// not prove it knows the password, ...).
    AuthFailed {
        error: AuthError,
        server: Option<StatusLine>,
    },
    /// Never sent; the reason says why.
    NotSent(String),
    /// Sent, but the connection ended before the answer was complete: the
    /// server may or may not have acted on it.
    Lost(String),
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
    /// Something popscope itself observed (a TLS upgrade, a summary).
    Note,
}

/// One line for the protocol trace, already redacted and sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// When it happened: a written line at the `take_output` that handed it
    /// out, the first line of an answer when its first byte arrived,
    /// anything else at the call that produced it.
    pub at: Instant,
    pub direction: Direction,
    pub request: Option<RequestId>,
    pub text: String,
    /// The command this line is (written) or answers (received). Its
    /// `Display` never shows a secret, so it may label any line.
    pub command: Option<CommandKind>,
    /// For the first line of an answer (or of a SASL challenge): the time
    /// from the handing out of the line it answers to the answer's first
    /// byte.
    pub latency: Option<Duration>,
    /// The write the command went out in (for its line and its answer's).
    pub batch: Option<BatchId>,
    /// On the first line of a write: what the whole write held.
    pub opens_batch: Option<BatchSize>,
    /// Bytes on the wire (CRLF included), or a multi-line answer's payload
    /// size. None for a line that carries a secret: its length would tell
    /// the secret's.
    pub bytes: Option<u64>,
    /// A multi-line answer's payload (on its summary line), bounded.
    pub payload: Option<Payload>,
}

/// One write to the server: how many lines and bytes went out together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSize {
    pub lines: usize,
    /// None when a line in it carries a secret.
    pub bytes: Option<usize>,
}

/// The first bytes of a multi-line answer's payload, as received (dot
/// stuffing removed). The raw bytes are not handed out: `text` is the only
/// way to read them, sanitized, so nothing from the server reaches a
/// terminal unfiltered.
#[derive(Clone, PartialEq, Eq)]
pub struct Payload {
    sample: Box<[u8]>,
    /// Lines and bytes of the whole payload.
    pub lines: u64,
    pub total_bytes: u64,
}

impl Payload {
    pub fn new(sample: Vec<u8>, lines: u64, total_bytes: u64) -> Payload {
        Payload {
            sample: sample.into_boxed_slice(),
            lines,
            total_bytes,
        }
    }

    /// The sample as sanitized lines, at most `max_lines`. A line cut by
    /// the sample's end is kept as far as it goes.
    pub(crate) fn text_lines(&self, max_lines: usize) -> Vec<String> {
        let text = crate::sanitize::sanitize_bytes(&self.sample, true);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        if text.is_empty() {
            return Vec::new();
        }
        text.split('\n').take(max_lines).map(str::to_string).collect()
    }

    /// Bytes of the payload held here.
    pub(crate) fn sample_len(&self) -> usize {
        self.sample.len()
    }

    /// The sample is the whole payload.
    pub(crate) fn is_complete(&self) -> bool {
        self.sample.len() as u64 >= self.total_bytes
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Payload({} of {} bytes, {} lines)",
            self.sample.len(),
            self.total_bytes,
            self.lines
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Greeting(StatusLine),
    /// A piece of a streamed body (RETR), in order.
    Data {
        id: RequestId,
        chunk: Vec<u8>,
    },
    Completed {
        id: RequestId,
        command: CommandKind,
        outcome: Outcome,
    },
    /// A status line nobody asked for (e.g. an autologout notice).
    Unsolicited(StatusLine),
    StateChanged(SessionState),
    Trace(TraceRecord),
}

/// The session cannot go on: the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("{error} (while waiting for the reply to {during})")]
    Codec { error: CodecError, during: String },
    #[error("the server rejected the connection: {0}")]
    GreetingRejected(StatusLine),
    #[error(
        "the server sent {0} bytes after accepting STLS and before the TLS handshake; this is how a man-in-the-middle injects commands, so the session was aborted"
    )]
    DataAfterStls(usize),
    #[error("the server sent data nobody asked for: {0:?}")]
    Unexpected(String),
    #[error(
        "the server sent {count} lines nobody asked for (RFC 1939 allows none but a closing -ERR); the last: {last:?}"
    )]
    Unsolicited { count: u32, last: String },
    #[error("the connection closed while waiting for the reply to {0}")]
    ClosedMidReply(String),
    #[error("the session already ended: {0}")]
    AlreadyFailed(String),
    #[error("{}", too_long(.command, *.largest, *.listed_size))]
    AnswerTooLong {
        command: String,
        largest: u64,
        listed_size: Option<u64>,
    },
    #[error("no answer to {waiting_for} within {} s", .limit.as_secs_f32())]
    Timeout { waiting_for: String, limit: Duration },
    #[error("the server's first bytes are a TLS record, not a POP3 greeting: this looks like a TLS port")]
    TlsRecordForGreeting,
    #[error(
        "the answer to {waiting_for} comes too slowly: {bytes} bytes in {} s (after the first {} s, at least 1 KiB/s is needed)",
        .elapsed.as_secs(), .limit.as_secs_f32()
    )]
    TooSlow {
        waiting_for: String,
        bytes: u64,
        elapsed: Duration,
        limit: Duration,
    },
}

fn too_long(command: &str, largest: u64, listed_size: Option<u64>) -> String {
    match listed_size {
        Some(size) => format!(
            "the server sent more than {largest} bytes for {command}, whose size LIST gave as {size} bytes (twice that plus 1 MiB is the most accepted); stopped"
        ),
        None => format!(
            "the answer to {command} is longer than {largest} bytes, the most popscope accepts for it; stopped rather than use it cut off"
        ),
    }
}
