//! The writer thread: owns the sink and writes each message as its chunks
//! arrive. Every batch is made durable by a sync job
//! ([`MessageSink::start_sync`]) on a thread of its own, so the fsyncs of
//! one batch overlap writing the next (and the network delivering it); at
//! most [`MAX_JOBS`] run at a time, and their batches are recorded in
//! order. The channel from the network side is
//! bounded, so a slow disk slows the network down instead of filling
//! memory.

use super::{Progress, Timing, TransferObserver};
use crate::store::{MessageMeta, MessageSink, SavedAt, StoreError, SyncJob};
use std::collections::VecDeque;
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

/// Sync jobs running at once. Two measured a quarter faster than one
/// (2,000 messages behind the 10 ms proxy: 0.32 s against 0.45 s): more
/// fsyncs in flight share more journal commits. Three were no faster.
const MAX_JOBS: usize = 2;

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
    /// Sync jobs running, oldest first.
    running: VecDeque<JoinHandle<SyncResult>>,
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
        running: VecDeque::new(),
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
            } else {
                // Report finished batches promptly.
                while self.running.front().is_some_and(JoinHandle::is_finished) {
                    self.collect_oldest()?;
                }
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

    /// Hands the batch committed since the last job to a new one, once
    /// fewer than `MAX_JOBS` run.
    fn start_sync(&mut self, sink: &mut dyn MessageSink) -> Result<(), StoreError> {
        while self.running.len() >= MAX_JOBS {
            self.collect_oldest()?;
        }
        let job = sink.start_sync()?;
        self.unsynced_messages = 0;
        self.unsynced_bytes = 0;
        let thread = std::thread::Builder::new()
            .name("popscope-sync".into())
            .spawn(move || timed(job))
            .map_err(|e| StoreError::other(None, format!("cannot start a sync thread: {e}"), None))?;
        self.running.push_back(thread);
        Ok(())
    }

    /// The last batch as a job too, then every job's batch in order. The
    /// first error is returned; every job is still waited for.
    fn finish(&mut self, sink: &mut dyn MessageSink) -> Result<(), StoreError> {
        let mut result = Ok(());
        if sink.pending() > 0 {
            result = self.start_sync(sink);
        }
        while !self.running.is_empty() {
            let collected = self.collect_oldest();
            if result.is_ok() {
                result = collected;
            }
        }
        result
    }

    /// Waits for the oldest job and records its batch.
    fn collect_oldest(&mut self) -> Result<(), StoreError> {
        let Some(thread) = self.running.pop_front() else {
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
