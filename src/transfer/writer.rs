//! The writer thread: owns the sink, writes each message as its chunks
//! arrive, and makes batches durable with `sync` while the network side
//! keeps receiving (the channel between them is bounded, so a slow disk
//! slows the network down instead of filling memory).

use super::{Progress, Timing, TransferObserver};
use crate::store::{MessageMeta, MessageSink, SavedAt, StoreError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the network side asks the writer to do, in order.
pub(super) enum WriteOp {
    Begin(MessageMeta),
    Chunk(Vec<u8>),
    /// The message is complete.
    Commit,
    /// The message will not be complete (refused, or the session ended).
    Abort,
}

/// When to sync: after this many committed messages or bytes, whichever
/// comes first.
#[derive(Debug, Clone, Copy)]
pub(super) struct SyncPolicy {
    pub messages: usize,
    pub bytes: u64,
}

/// How the writer ended.
pub(super) struct WriterEnd<O> {
    pub sink: Box<dyn MessageSink>,
    pub observer: O,
    pub saved: Vec<SavedAt>,
    pub error: Option<StoreError>,
    pub timing: Timing,
}

struct Writer<O> {
    observer: O,
    policy: SyncPolicy,
    progress: Progress,
    started: Instant,
    saved: Vec<SavedAt>,
    timing: Timing,
    /// Committed since the last sync.
    unsynced_messages: usize,
    unsynced_bytes: u64,
}

/// Runs until `ops` is closed (every message handed over) or a write
/// fails; then syncs what was committed and returns it.
pub(super) fn run<O: TransferObserver>(
    mut sink: Box<dyn MessageSink>,
    observer: O,
    policy: SyncPolicy,
    mut ops: mpsc::Receiver<WriteOp>,
    progress: Progress,
    started: Instant,
) -> WriterEnd<O> {
    let mut writer = Writer {
        observer,
        policy,
        progress,
        started,
        saved: Vec::new(),
        timing: Timing::default(),
        unsynced_messages: 0,
        unsynced_bytes: 0,
    };
    let mut error = writer.write_all(sink.as_mut(), &mut ops).err();
    // Stop the network side at once: it sees the channel closed.
    drop(ops);
    if let Err(e) = writer.sync(sink.as_mut()) {
        error.get_or_insert(e);
    }
    writer.timing.writer_total = started.elapsed();
    WriterEnd {
        sink,
        observer: writer.observer,
        saved: writer.saved,
        error,
        timing: writer.timing,
    }
}

impl<O: TransferObserver> Writer<O> {
    fn write_all(&mut self, sink: &mut dyn MessageSink, ops: &mut mpsc::Receiver<WriteOp>) -> Result<(), StoreError> {
        loop {
            let meta = match self.next(ops) {
                None => return Ok(()),
                Some(WriteOp::Begin(meta)) => meta,
                // Chunks of a message the writer never began cannot come
                // from the network side; nothing to do for them.
                Some(_) => continue,
            };
            if !self.write_message(sink, &meta, ops)? {
                return Ok(());
            }
            if self.unsynced_messages >= self.policy.messages || self.unsynced_bytes >= self.policy.bytes {
                self.sync(sink)?;
            }
        }
    }

    /// Writes one message; false when the channel closed in the middle.
    fn write_message(
        &mut self,
        sink: &mut dyn MessageSink,
        meta: &MessageMeta,
        ops: &mut mpsc::Receiver<WriteOp>,
    ) -> Result<bool, StoreError> {
        let t = Instant::now();
        let mut message = sink.begin(meta)?;
        self.timing.writing += t.elapsed();
        let mut bytes = 0u64;
        loop {
            let op = self.next(ops);
            let t = Instant::now();
            match op {
                Some(WriteOp::Chunk(chunk)) => {
                    message.write_chunk(&chunk)?;
                    bytes += chunk.len() as u64;
                    self.progress.bytes = self.progress.bytes.saturating_add(chunk.len() as u64);
                    self.timing.writing += t.elapsed();
                    self.report();
                }
                Some(WriteOp::Commit) => {
                    message.commit()?;
                    self.timing.writing += t.elapsed();
                    self.unsynced_messages += 1;
                    self.unsynced_bytes = self.unsynced_bytes.saturating_add(bytes);
                    self.progress.messages += 1;
                    self.report();
                    return Ok(true);
                }
                Some(WriteOp::Abort) | Some(WriteOp::Begin(_)) => {
                    message.abort();
                    self.progress.bytes = self.progress.bytes.saturating_sub(bytes);
                    return Ok(true);
                }
                None => {
                    message.abort();
                    self.progress.bytes = self.progress.bytes.saturating_sub(bytes);
                    return Ok(false);
                }
            }
        }
    }

    fn next(&mut self, ops: &mut mpsc::Receiver<WriteOp>) -> Option<WriteOp> {
        let t = Instant::now();
        let op = ops.blocking_recv();
        self.timing.waiting += t.elapsed();
        op
    }

    fn sync(&mut self, sink: &mut dyn MessageSink) -> Result<(), StoreError> {
        if sink.pending() == 0 {
            return Ok(());
        }
        let t = Instant::now();
        let result = sink.sync();
        self.timing.syncing += t.elapsed();
        self.timing.syncs += 1;
        self.unsynced_messages = 0;
        self.unsynced_bytes = 0;
        let batch = result?;
        self.progress.synced += batch.len();
        let recorded = self.observer.synced(&batch);
        self.saved.extend(batch);
        self.report();
        recorded
    }

    fn report(&mut self) {
        self.progress.elapsed = self.started.elapsed();
        self.observer.progress(&self.progress);
    }
}

impl Timing {
    /// Time the writer spent on the disk (writes and syncs).
    pub fn disk(&self) -> Duration {
        self.writing + self.syncing
    }
}
