//! The `--trace` file: written on a thread of its own, from a queue bounded
//! in entries and in bytes, so neither a slow disk nor a flood can make
//! popscope hold more than `MAX_QUEUED_BYTES` of trace. What does not fit
//! is dropped, counted, and said in the file where it happened. When the
//! session is over, `finish` waits a short while for the queue to drain
//! and then leaves the rest unwritten: after Ctrl-C popscope exits in
//! seconds, whatever the disk does.

use super::format::{TraceFormat, TraceWriter};
use super::{TraceEntry, TraceHeader, TraceObserver};
use crate::error::{Failure, FailureKind};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Entries waiting to be written, at most.
pub(crate) const MAX_QUEUED_ENTRIES: usize = 65_536;
/// Bytes of entries waiting to be written, at most.
pub(crate) const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;
/// How long `finish` lets the writer catch up.
pub(crate) const FINISH_WITHIN: Duration = Duration::from_secs(2);

enum Item {
    Header(TraceHeader),
    Entry(TraceEntry),
}

impl Item {
    fn cost(&self) -> usize {
        match self {
            Item::Header(_) => 0,
            Item::Entry(e) => {
                std::mem::size_of::<TraceEntry>() + e.text.len() + e.payload.as_ref().map_or(0, |p| p.sample_len())
            }
        }
    }
}

/// What the session side and the writing thread share.
#[derive(Default)]
struct Shared {
    /// Dropped since the file last said so.
    dropped: AtomicU64,
    /// Dropped in all.
    dropped_total: AtomicU64,
    queued_bytes: AtomicUsize,
    /// `finish` gave up: write nothing more.
    stop: AtomicBool,
}

/// The session's end of the queue. A clone writes to the same file (the
/// inspector's reconnect: each session's lines follow its own header).
#[derive(Clone)]
pub(crate) struct FileObserver {
    tx: mpsc::Sender<Item>,
    shared: Arc<Shared>,
    bodies: bool,
}

impl FileObserver {
    fn offer(&self, item: Item) {
        let cost = item.cost();
        let fits = self.shared.queued_bytes.load(Ordering::Relaxed) + cost <= MAX_QUEUED_BYTES;
        if fits && self.tx.try_send(item).is_ok() {
            self.shared.queued_bytes.fetch_add(cost, Ordering::Relaxed);
        } else {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            self.shared.dropped_total.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl TraceObserver for FileObserver {
    fn started(&mut self, header: &TraceHeader) {
        self.offer(Item::Header(header.clone()));
    }

    fn entry(&mut self, mut entry: TraceEntry) {
        let capa = entry.command.is_some_and(|k| k.spec().verb == "CAPA");
        if !self.bodies && !capa {
            // Not written: not worth queueing.
            entry.payload = None;
        }
        self.offer(Item::Entry(entry));
    }
}

/// A trace file being written (or none, when none was asked for).
pub(crate) struct TraceFile {
    observer: Option<FileObserver>,
    done: Option<oneshot::Receiver<()>>,
    shared: Arc<Shared>,
}

impl TraceFile {
    /// No file.
    pub fn none() -> TraceFile {
        TraceFile {
            observer: None,
            done: None,
            shared: Arc::default(),
        }
    }

    /// Creates `path` ("-": standard error) and starts its writer.
    pub fn create(path: &Path, format: TraceFormat, bodies: bool) -> Result<TraceFile, Failure> {
        let sink: Box<dyn Write + Send> = if path.as_os_str() == "-" {
            Box::new(io::stderr())
        } else {
            Box::new(std::fs::File::create(path).map_err(|e| {
                Failure::new(
                    FailureKind::Local,
                    format!("cannot write the trace file {}: {e}", path.display()),
                )
            })?)
        };
        Ok(TraceFile::start(sink, TraceWriter::new(format, bodies)))
    }

    /// Writes to `sink` on a thread of its own.
    pub fn start(sink: Box<dyn Write + Send>, writer: TraceWriter) -> TraceFile {
        let (tx, rx) = mpsc::channel(MAX_QUEUED_ENTRIES);
        let (done_tx, done) = oneshot::channel();
        let shared = Arc::new(Shared::default());
        let thread_shared = shared.clone();
        std::thread::spawn(move || {
            let mut out = io::BufWriter::with_capacity(64 * 1024, sink);
            // A failing disk ends the file; the session goes on.
            let _ = write_queue(rx, &thread_shared, writer, &mut out);
            let _ = out.flush();
            let _ = done_tx.send(());
        });
        TraceFile {
            observer: Some(FileObserver {
                tx,
                shared: shared.clone(),
                bodies: writer.bodies,
            }),
            done: Some(done),
            shared,
        }
    }

    /// The observer for the session (once; later calls get none).
    pub fn observer(&mut self) -> Option<Box<dyn TraceObserver>> {
        self.observer.take().map(|o| Box::new(o) as Box<dyn TraceObserver>)
    }

    /// Another observer on this file, for a later session (a reconnect);
    /// the file is complete once every one of them is dropped.
    pub(crate) fn another_observer(&self) -> Option<FileObserver> {
        self.observer.clone()
    }

    /// Trace lines that did not fit the queue, in all.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped_total.load(Ordering::Relaxed)
    }

    /// Waits until every queued line is written, for `FINISH_WITHIN` at
    /// most. The session must be over (its observer dropped).
    pub async fn finish(mut self) {
        self.observer = None;
        if let Some(done) = self.done.take()
            && tokio::time::timeout(FINISH_WITHIN, done).await.is_err()
        {
            self.shared.stop.store(true, Ordering::Relaxed);
        }
    }
}

fn write_queue(
    mut rx: mpsc::Receiver<Item>,
    shared: &Shared,
    mut writer: TraceWriter,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut last_at = Duration::ZERO;
    loop {
        let item = match rx.try_recv() {
            Ok(item) => item,
            Err(mpsc::error::TryRecvError::Empty) => {
                out.flush()?;
                match rx.blocking_recv() {
                    Some(item) => item,
                    None => break,
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        };
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        shared.queued_bytes.fetch_sub(item.cost(), Ordering::Relaxed);
        report_dropped(shared, &writer, last_at, out)?;
        match item {
            Item::Header(header) => writer.header(&header, out)?,
            Item::Entry(entry) => {
                last_at = entry.at;
                writer.entry(&entry, out)?;
            }
        }
    }
    report_dropped(shared, &writer, last_at, out)
}

/// Says in the file how many lines did not fit since it last said so.
fn report_dropped(shared: &Shared, writer: &TraceWriter, at: Duration, out: &mut impl Write) -> io::Result<()> {
    let dropped = shared.dropped.swap(0, Ordering::Relaxed);
    if dropped == 0 {
        return Ok(());
    }
    let text = format!(
        "… {} trace lines dropped here: the trace file could not keep up …",
        super::stats::thousands(dropped)
    );
    writer.note(at, "dropped", &text, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::trace::fixtures::tops;
    use std::sync::Mutex;

    /// A sink that takes `delay` per write, like a slow disk.
    struct Slow {
        written: Arc<Mutex<Vec<u8>>>,
        delay: Duration,
    }

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            std::thread::sleep(self.delay);
            self.written.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn slow_file(delay: Duration) -> (TraceFile, Arc<Mutex<Vec<u8>>>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = Slow {
            written: written.clone(),
            delay,
        };
        let file = TraceFile::start(Box::new(sink), TraceWriter::new(TraceFormat::Text, false));
        (file, written)
    }

    #[tokio::test]
    async fn a_flood_is_dropped_counted_and_said_and_finish_does_not_wait_long() {
        let (mut file, written) = slow_file(Duration::from_millis(20));
        let mut observer = file.observer().unwrap();
        let entries = tops(1, 100_000, 1000, 0, 1);
        let total = entries.len() as u64;
        for e in entries {
            observer.entry(e);
        }
        let queued = file.shared.queued_bytes.load(Ordering::Relaxed);
        assert!(queued <= MAX_QUEUED_BYTES, "{queued}");
        let dropped = file.dropped();
        assert!(
            dropped > total / 2,
            "most of the flood is dropped: {dropped} of {total}"
        );
        drop(observer);
        let started = std::time::Instant::now();
        file.finish().await;
        assert!(started.elapsed() < FINISH_WITHIN + Duration::from_millis(500));
        // Giving up means the backlog is left unwritten: at most the write
        // under way when finish gave up lands afterwards.
        let len = written.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(200));
        let later = written.lock().unwrap().len();
        assert!(
            later - len <= 64 * 1024 + 4096,
            "{} bytes written after finish",
            later - len
        );
    }

    #[tokio::test]
    async fn dropped_lines_are_said_in_the_file() {
        let (mut file, written) = slow_file(Duration::ZERO);
        let mut observer = file.observer().unwrap();
        file.shared.dropped.store(12_345, Ordering::Relaxed);
        assert_eq!(file.dropped(), 0, "set by hand above, not counted");
        for e in tops(1, 3, 3, 0, 1) {
            observer.entry(e);
        }
        drop(observer);
        file.finish().await;
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        assert!(text.contains("-- … 12,345 trace lines dropped here"), "{text}");
        assert_eq!(text.lines().filter(|l| l.contains(" C: TOP ")).count(), 3, "{text}");
    }
}
