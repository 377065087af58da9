//! The writer thread: owns the sink and writes each message as its chunks
//! arrive. Every batch is made durable by a sync job
//! ([`MessageSink::start_sync`]) on a thread of its own, so the fsyncs of
//! one batch overlap writing the next (and the network delivering it); at
//! most one job runs at a time. The channel from the network side is
//! bounded, so a slow disk slows the network down instead of filling
//! memory.

use super::{Progress, Timing, TransferObserver};
use crate::store::{MessageMeta, MessageSink, SavedAt, StoreError, SyncJob};
use std::thread::JoinHandle;
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

/// A sync job's batch (or error), and how long the job took.
type SyncResult = (Result<Vec<SavedAt>, StoreError>, Duration);

struct Writer<O> {
    observer: O,
    policy: SyncPolicy,
    progress: Progress,
    started: Instant,
    saved: Vec<SavedAt>,
    timing: Timing,
    /// Committed since the last sync job started.
    unsynced_messages: usize,
    unsynced_bytes: u64,
    running: Option<JoinHandle<SyncResult>>,
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
        running: None,
    };
    let mut error = writer.write_all(sink.as_mut(), &mut ops).err();
    // Stop the network side at once: it sees the channel closed.
    drop(ops);
    // What was committed is complete: make it durable even after an error.
    if let Err(e) = writer.finish(sink.as_mut()) {
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
                self.start_sync(sink)?;
            } else if self.running.as_ref().is_some_and(JoinHandle::is_finished) {
                // Report a finished batch promptly.
                self.collect()?;
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

    /// Waits for the running job (if any), then hands the batch committed
    /// since to a new one.
    fn start_sync(&mut self, sink: &mut dyn MessageSink) -> Result<(), StoreError> {
        self.collect()?;
        let job = sink.start_sync()?;
        self.unsynced_messages = 0;
        self.unsynced_bytes = 0;
        let thread = std::thread::Builder::new()
            .name("popscope-sync".into())
            .spawn(move || timed(job))
            .map_err(|e| StoreError::other(None, format!("cannot start a sync thread: {e}"), None))?;
        self.running = Some(thread);
        Ok(())
    }

    /// The last batches: the running job, then what was committed since,
    /// synced here.
    fn finish(&mut self, sink: &mut dyn MessageSink) -> Result<(), StoreError> {
        let running = self.collect();
        if sink.pending() == 0 {
            return running;
        }
        let job = sink.start_sync()?;
        let t = Instant::now();
        let (result, took) = timed(job);
        self.timing.sync_wait += t.elapsed();
        running.and(self.record(result, took))
    }

    /// Waits for the running job and records its batch.
    fn collect(&mut self) -> Result<(), StoreError> {
        let Some(thread) = self.running.take() else {
            return Ok(());
        };
        let t = Instant::now();
        let (result, took) = thread.join().unwrap_or_else(|_| {
            let err = StoreError::other(None, "the sync thread failed", None);
            (Err(err), Duration::ZERO)
        });
        self.timing.sync_wait += t.elapsed();
        self.record(result, took)
    }

    fn record(&mut self, result: Result<Vec<SavedAt>, StoreError>, took: Duration) -> Result<(), StoreError> {
        self.timing.sync_work += took;
        self.timing.syncs += 1;
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

fn timed(job: Box<dyn SyncJob>) -> SyncResult {
    let t = Instant::now();
    let result = job.run();
    (result, t.elapsed())
}
