//! The protocol trace as people and tools read it.
//!
//! The client (`pop3::client`) emits `TraceRecord`s, redacted and
//! sanitized at the source; `TraceClock` turns them into `TraceEntry`s
//! (times since the session began, plus the wall clock at the start, so a
//! line can be matched against the server's own log). The driver hands
//! each entry to its `TraceObserver`s:
//!
//! - `store`: `TraceStore`, the bounded whole conversation — the opening
//!   and every error always kept, bulk traffic up to a budget and folded
//!   into summaries beyond it — behind `SharedTrace` for the inspector's
//!   pane and its save key;
//! - `writer`: the `--trace` file, written on its own thread from a queue
//!   bounded in entries and bytes; what does not fit is dropped, counted
//!   and said in the file;
//! - `format`: the two file formats (text with RFC 3339 timestamps, and
//!   JSON lines), shared by the file and the save key;
//! - `stats`: latency statistics (median, p99) in constant memory;
//! - `detail`: what a line means, in words, for the pane's inline detail.

pub mod detail;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod format;
pub mod stats;
pub mod store;
pub mod writer;

use super::tls::TlsInfo;
pub use crate::pop3::client::Direction;
use crate::pop3::client::{BatchId, BatchSize, CommandKind, Payload, TraceRecord};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
pub use store::TraceStore;

/// Turns the client's instants into times since the session's start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceClock {
    start: Instant,
    /// The wall clock at `start`.
    wall: SystemTime,
}

impl Default for TraceClock {
    fn default() -> Self {
        TraceClock {
            start: tokio::time::Instant::now().into_std(),
            wall: SystemTime::now(),
        }
    }
}

impl TraceClock {
    /// A record from the client; its latency is the round trip shown.
    pub fn entry(&self, record: TraceRecord) -> TraceEntry {
        TraceEntry {
            at: record.at.saturating_duration_since(self.start),
            direction: record.direction,
            text: record.text,
            command: record.command,
            rtt: record.latency,
            batch: record.batch,
            opens_batch: record.opens_batch,
            bytes: record.bytes,
            payload: record.payload,
        }
    }

    /// Something the session layer observed, now.
    pub fn note(&self, text: String) -> TraceEntry {
        TraceEntry::new(self.now(), Direction::Note, text)
    }

    /// The time since the session began.
    pub fn now(&self) -> Duration {
        tokio::time::Instant::now()
            .into_std()
            .saturating_duration_since(self.start)
    }

    /// The wall-clock time the session's trace began.
    pub fn started(&self) -> SystemTime {
        self.wall
    }
}

/// One trace line. `text` is redacted and sanitized already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Since the session began (`TraceHeader::started`).
    pub at: Duration,
    pub direction: Direction,
    pub text: String,
    /// The command this line is, or answers (redacted by its `Display`).
    pub command: Option<CommandKind>,
    /// Command written → its answer's first byte.
    pub rtt: Option<Duration>,
    pub batch: Option<BatchId>,
    /// On a write's first line: what the write held.
    pub opens_batch: Option<BatchSize>,
    /// Wire size; None where it would tell a secret's length.
    pub bytes: Option<u64>,
    /// A multi-line answer's payload, bounded (on its summary line).
    pub payload: Option<Payload>,
}

impl TraceEntry {
    /// A line with nothing but its time, direction and text.
    pub fn new(at: Duration, direction: Direction, text: String) -> TraceEntry {
        TraceEntry {
            at,
            direction,
            text,
            command: None,
            rtt: None,
            batch: None,
            opens_batch: None,
            bytes: None,
            payload: None,
        }
    }

    /// Something popscope observed that went wrong (the session failed).
    pub fn failure(at: Duration, text: &str) -> TraceEntry {
        TraceEntry::new(at, Direction::Note, format!("{ERROR_NOTE}{text}"))
    }

    pub fn arrow(&self) -> &'static str {
        match self.direction {
            Direction::Sent => "C:",
            Direction::Received => "S:",
            Direction::Note => "--",
        }
    }

    /// A `-ERR`, or the session failing (a timeout, a protocol error).
    pub(crate) fn is_error(&self) -> bool {
        match self.direction {
            Direction::Received => self.text.starts_with("-ERR"),
            Direction::Note => self.text.starts_with(ERROR_NOTE),
            Direction::Sent => false,
        }
    }

    /// The write this line opens, when it held more than one line: worth a
    /// marker of its own.
    pub(crate) fn opens_pipelined_batch(&self) -> Option<(BatchId, BatchSize)> {
        let size = self.opens_batch.filter(|b| b.lines > 1)?;
        Some((self.batch?, size))
    }
}

/// How a session failure starts its trace note.
const ERROR_NOTE: &str = "error: ";

/// What a trace file says before its first line: which server, when, how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    pub version: &'static str,
    /// host:port as asked for.
    pub server: String,
    /// The address actually connected to.
    pub address: Option<SocketAddr>,
    /// TLS as established before the session began (implicit TLS); an STLS
    /// upgrade shows as a line in the trace.
    pub tls: Option<TlsInfo>,
    /// The session's start: the trace's times are relative to it.
    pub started: SystemTime,
}

impl TraceHeader {
    pub fn new(server: String, address: Option<SocketAddr>, tls: Option<TlsInfo>, started: SystemTime) -> TraceHeader {
        TraceHeader {
            version: env!("CARGO_PKG_VERSION"),
            server,
            address,
            tls,
            started,
        }
    }
}

/// Where the driver sends the trace. Called on the driver's task: must not
/// block (queue or store, never write to a file here).
pub trait TraceObserver: Send {
    /// The session began: what a file's header says.
    fn started(&mut self, header: &TraceHeader);
    fn entry(&mut self, entry: TraceEntry);
}

/// The trace store shared between the session (which fills it) and a
/// front end (which shows and saves it). Locked briefly by each.
#[derive(Clone, Default)]
pub struct SharedTrace(Arc<Mutex<TraceStore>>);

impl SharedTrace {
    pub fn new(store: TraceStore) -> SharedTrace {
        SharedTrace(Arc::new(Mutex::new(store)))
    }

    /// The store. A panic elsewhere while it was held leaves it usable:
    /// every update keeps it consistent before it can panic.
    pub fn lock(&self) -> MutexGuard<'_, TraceStore> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An observer that fills this store.
    pub fn observer(&self) -> Box<dyn TraceObserver> {
        Box::new(self.clone())
    }
}

impl std::fmt::Debug for SharedTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedTrace")
    }
}

impl TraceObserver for SharedTrace {
    fn started(&mut self, header: &TraceHeader) {
        self.lock().set_header(header.clone());
    }

    fn entry(&mut self, entry: TraceEntry) {
        self.lock().push(entry);
    }
}

/// Hands `entry` to every observer (cloning for all but the last).
pub(crate) fn dispatch(observers: &mut [Box<dyn TraceObserver>], entry: TraceEntry) {
    if let Some((last, rest)) = observers.split_last_mut() {
        for observer in rest {
            observer.entry(entry.clone());
        }
        last.entry(entry);
    }
}
