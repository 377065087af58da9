//! Saving many messages from a live session into a [`MessageSink`]: the
//! loop that `popscope fetch`, a backup before deleting and the
//! inspector's "save marked" share.
//!
//! [`save_messages`] pipelines the RETRs (up to `lookahead` ahead of the
//! message being written, through the session's window) and streams every
//! answer through one bounded channel ([`Route::Tagged`]) to a writer
//! thread that owns the sink. The writer commits each message as its last
//! chunk arrives and starts a sync job every few hundred messages, on a
//! thread of its own, so the fsyncs of one batch overlap writing the next
//! and the network delivering it. Memory is
//! bounded by the channels' capacities, never by a message's size or the
//! number of messages.
//!
//! **What the result promises**: [`Transfer::saved`] holds exactly the
//! messages that `sync` returned, in order. Only those may be DELE'd or
//! recorded as saved; a message that was received but not synced when an
//! error struck is not in it.

pub mod backup;
pub mod single;
mod writer;

use crate::error::{Failure, FailureKind};
use crate::pop3::client::{Command, Outcome, Priority};
use crate::pop3::codec::StatusLine;
use crate::session::driver::{Route, Tagged};
use crate::session::{DEFAULT_WINDOW, Session};
use crate::store::{MessageMeta, MessageSink, SavedAt, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};
use writer::{SyncPolicy, WriteOp};

/// Items (chunks and outcomes) waiting between the session and this
/// loop: with the driver's 256 KiB reads, at most a few MB.
const STREAM_DEPTH: usize = 8;
/// Operations waiting between this loop and the writer thread.
const WRITE_DEPTH: usize = 16;

/// A message to save, as the listing knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub number: u32,
    pub uid: Option<String>,
    /// The size LIST gave: for progress, and the RETR is stopped far past
    /// it (twice plus 1 MiB).
    pub size: u64,
}

/// How the loop paces itself.
#[derive(Debug, Clone, Copy)]
pub struct TransferOptions {
    /// RETRs handed to the session ahead of the message being received.
    pub lookahead: usize,
    /// `sync` after this many committed messages…
    pub sync_messages: usize,
    /// …or this many committed bytes, whichever comes first.
    pub sync_bytes: u64,
}

impl Default for TransferOptions {
    fn default() -> TransferOptions {
        TransferOptions {
            lookahead: DEFAULT_WINDOW,
            sync_messages: 256,
            sync_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Where the transfer stands; handed to [`TransferObserver::progress`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Messages committed (written completely).
    pub messages: usize,
    /// Messages made durable by `sync`.
    pub synced: usize,
    /// Bytes written, the message in progress included.
    pub bytes: u64,
    /// What the transfer was asked for: messages and LIST bytes.
    pub total_messages: usize,
    pub total_bytes: u64,
    pub elapsed: Duration,
}

impl Progress {
    /// Bytes a second so far, once there is enough to tell (a fifth of a
    /// second and a byte).
    pub(crate) fn rate(&self) -> Option<f64> {
        let secs = self.elapsed.as_secs_f64();
        (secs >= 0.2 && self.bytes > 0).then(|| self.bytes as f64 / secs)
    }
}

/// Told what happens, on the writer thread.
pub trait TransferObserver: Send + 'static {
    /// After every chunk and every commit; throttle as needed.
    fn progress(&mut self, _progress: &Progress) {}

    /// A batch just became durable (in order). An error stops the
    /// transfer (the batch stays saved).
    fn synced(&mut self, _batch: &[SavedAt]) -> Result<(), StoreError> {
        Ok(())
    }
}

impl TransferObserver for () {}

/// Stops a transfer from another task or thread (Ctrl-C, Esc).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    flag: AtomicBool,
    notify: Notify,
}

impl Cancel {
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    pub async fn cancelled(&self) {
        let notified = self.0.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }
}

/// Why a transfer ended before every message was tried.
#[derive(Debug)]
pub enum Stopped {
    Cancelled,
    /// Writing or syncing failed (disk full, target unwritable).
    Storage(StoreError),
    /// The session ended (connection lost, timeout).
    Session(Failure),
}

impl Stopped {
    pub fn failure(&self) -> Failure {
        match self {
            Stopped::Cancelled => Failure::new(FailureKind::Interrupted, "cancelled"),
            Stopped::Storage(err) => Failure::new(FailureKind::Local, err.message())
                .with_hint(err.hint().unwrap_or("check the target and try again")),
            Stopped::Session(failure) => failure.clone(),
        }
    }
}

/// Where the time went, measured on the writer thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// Waiting for the network side to hand over the next chunk.
    pub waiting: Duration,
    /// Creating files and writing them.
    pub writing: Duration,
    /// Waiting for a sync job to finish (the part of syncing that did not
    /// overlap anything).
    pub sync_wait: Duration,
    /// The sync jobs' own time (fsyncs, renames, directory fsync), mostly
    /// overlapped with writing and the network.
    pub sync_work: Duration,
    pub syncs: usize,
    /// From the start until the writer finished its last sync.
    pub writer_total: Duration,
}

/// How a transfer ended.
pub struct Transfer<O> {
    /// The messages `sync` returned: durable under their final names.
    pub saved: Vec<SavedAt>,
    /// RETRs the server answered with `-ERR` (message number, answer).
    pub refused: Vec<(u32, StatusLine)>,
    pub stopped: Option<Stopped>,
    /// The sink, with nothing pending.
    pub sink: Box<dyn MessageSink>,
    pub observer: O,
    pub timing: Timing,
}

impl<O> Transfer<O> {
    /// Every message asked for was saved.
    pub fn complete(&self) -> bool {
        self.stopped.is_none() && self.refused.is_empty()
    }

    /// Bytes of the saved messages.
    pub fn bytes(&self) -> u64 {
        self.saved.iter().fold(0u64, |sum, s| sum.saturating_add(s.bytes))
    }
}

/// RETRs every message of `wanted` into `sink`; see the module docs.
/// Messages the server refuses are skipped and listed; a session or
/// storage failure, or `cancel`, stops the transfer after syncing what was
/// complete. The session stays usable (answers still on their way are read
/// and dropped) unless it failed.
pub async fn save_messages<O: TransferObserver>(
    session: &Session,
    wanted: &[Wanted],
    sink: Box<dyn MessageSink>,
    options: &TransferOptions,
    observer: O,
    cancel: &Cancel,
) -> Transfer<O> {
    let started = Instant::now();
    let progress = Progress {
        total_messages: wanted.len(),
        total_bytes: wanted.iter().fold(0u64, |sum, w| sum.saturating_add(w.size)),
        ..Progress::default()
    };
    let policy = SyncPolicy {
        messages: options.sync_messages.max(1),
        bytes: options.sync_bytes.max(1),
    };
    let (ops, ops_rx) = mpsc::channel(WRITE_DEPTH);
    let writer = tokio::task::spawn_blocking(move || writer::run(sink, observer, policy, ops_rx, progress, started));
    let pumped = pump(session, wanted, options.lookahead.max(1), &ops, cancel).await;
    drop(ops);
    let end = match writer.await {
        Ok(end) => end,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    // A storage failure explains why the writer stopped taking messages.
    let stopped = match (end.error, pumped.stopped) {
        (Some(err), _) => Some(Stopped::Storage(err)),
        (None, Some(Pause::Cancelled)) => Some(Stopped::Cancelled),
        (None, Some(Pause::Session(f))) => Some(Stopped::Session(f)),
        (None, Some(Pause::WriterGone)) => Some(Stopped::Storage(StoreError::other(
            None,
            "the writer stopped without saying why",
            None,
        ))),
        (None, None) => None,
    };
    Transfer {
        saved: end.saved,
        refused: pumped.refused,
        stopped,
        sink: end.sink,
        observer: end.observer,
        timing: end.timing,
    }
}

/// Why the network side stopped early.
enum Pause {
    Cancelled,
    Session(Failure),
    /// The writer thread stopped taking operations (it failed).
    WriterGone,
}

struct Pumped {
    refused: Vec<(u32, StatusLine)>,
    stopped: Option<Pause>,
}

/// The network side: keeps `lookahead` RETRs submitted, and turns what
/// comes back into writer operations, in order.
async fn pump(
    session: &Session,
    wanted: &[Wanted],
    lookahead: usize,
    ops: &mpsc::Sender<WriteOp>,
    cancel: &Cancel,
) -> Pumped {
    let (tx, mut rx) = mpsc::channel::<Tagged>(STREAM_DEPTH);
    let mut pump = Pump {
        wanted,
        ops,
        head: 0,
        begun: false,
        refused: Vec::new(),
    };
    // The next message to submit.
    let mut next = 0usize;
    let stopped = 'pump: loop {
        if pump.head == wanted.len() {
            break None;
        }
        while next < wanted.len() && next - pump.head < lookahead {
            let route = Route::Tagged {
                tag: next as u64,
                tx: tx.clone(),
            };
            let retr = Command::Retr {
                msg: wanted[next].number,
                listed_size: Some(wanted[next].size),
            };
            if let Err(failure) = session.submit(retr, Priority::Normal, route) {
                break 'pump Some(Pause::Session(failure));
            }
            next += 1;
        }
        let item = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                // What already arrived is kept; the message in progress
                // is not.
                while let Ok(item) = rx.try_recv() {
                    if pump.handle(session, item).await.is_err() {
                        break;
                    }
                }
                break Some(Pause::Cancelled);
            }
            item = rx.recv() => item,
            // Only once every item the driver had was read (biased order).
            _ = session.closed() => None,
        };
        let Some(item) = item else {
            let failure = session_failure(session, "the session ended while messages were being saved");
            break Some(Pause::Session(failure));
        };
        if let Err(pause) = pump.handle(session, item).await {
            break Some(pause);
        }
    };
    if stopped.is_some() && pump.begun {
        let _ = ops.send(WriteOp::Abort).await;
    }
    Pumped {
        refused: pump.refused,
        stopped,
    }
}

/// Turns tagged items into writer operations, message by message.
struct Pump<'a> {
    wanted: &'a [Wanted],
    ops: &'a mpsc::Sender<WriteOp>,
    /// The message being received.
    head: usize,
    /// Its `Begin` was sent.
    begun: bool,
    refused: Vec<(u32, StatusLine)>,
}

impl Pump<'_> {
    async fn handle(&mut self, session: &Session, item: Tagged) -> Result<(), Pause> {
        let Some(message) = self.wanted.get(self.head) else {
            return Ok(());
        };
        let gone = |_| Pause::WriterGone;
        match item {
            Tagged::Data { chunk, .. } => {
                self.begin(message).await?;
                self.ops.send(WriteOp::Chunk(chunk)).await.map_err(gone)
            }
            Tagged::Done { result, .. } => match result {
                Ok(Outcome::Ok(_)) => {
                    self.begin(message).await?;
                    self.finish_message();
                    self.ops.send(WriteOp::Commit).await.map_err(gone)
                }
                Ok(Outcome::Err(status)) => {
                    self.refused.push((message.number, status));
                    let began = self.finish_message();
                    if began {
                        self.ops.send(WriteOp::Abort).await.map_err(gone)?;
                    }
                    Ok(())
                }
                Ok(other) => {
                    let failure = crate::mailbox::outcome_failure(&format!("RETR {}", message.number), &other);
                    Err(Pause::Session(session.failure().unwrap_or(failure)))
                }
                Err(failure) => Err(Pause::Session(session.failure().unwrap_or(failure))),
            },
        }
    }

    /// Sends `Begin` for `message` unless it was sent.
    async fn begin(&mut self, message: &Wanted) -> Result<(), Pause> {
        if self.begun {
            return Ok(());
        }
        self.begun = true;
        let meta = MessageMeta {
            number: message.number,
            uid: message.uid.clone(),
            ..MessageMeta::default()
        };
        self.ops.send(WriteOp::Begin(meta)).await.map_err(|_| Pause::WriterGone)
    }

    /// Moves on to the next message; whether the one left was begun.
    fn finish_message(&mut self) -> bool {
        self.head += 1;
        std::mem::take(&mut self.begun)
    }
}

fn session_failure(session: &Session, otherwise: &str) -> Failure {
    session
        .failure()
        .unwrap_or_else(|| Failure::new(FailureKind::Connect, otherwise))
}

#[cfg(test)]
mod tests;
