//! What durability costs when saving many small messages.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bench cargo bench --bench store`
//! (a `harness = false` bench). Writes 2,000 messages of ~5 KB through the
//! store's sinks in a temporary directory (on the disk `TMPDIR` points to)
//! and prints, per case, the median and the fastest of a few runs:
//!
//! - Maildir, `sync` after every message: each message costs a file fsync
//!   and a directory fsync (what a naive "save, then DELE" loop pays);
//! - Maildir, one `sync` at the end: the files are fsynced in parallel,
//!   then renamed, then one directory fsync;
//! - `.eml` and mbox with one `sync` at the end, for comparison;
//! - one lone fsync of a fresh 5 KB file, the unit cost on this disk.
//!
//! Knobs: `POPSCOPE_BENCH_STORE_MESSAGES` (default 2000),
//! `POPSCOPE_BENCH_STORE_RUNS` (default 5).

use popscope::store::{Format, MessageMeta, MessageSink, open_sink};
use std::io::Write;
use std::time::{Duration, Instant};

const MESSAGES: usize = 2000;
const RUNS: usize = 5;
const COMMAND_LINE: &str = "CARGO_TARGET_DIR=/work/target-bench cargo bench --bench store";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("store bench: skipped under cargo test; run `{COMMAND_LINE}`");
        return;
    }
    let messages = env_usize("POPSCOPE_BENCH_STORE_MESSAGES", MESSAGES);
    let runs = env_usize("POPSCOPE_BENCH_STORE_RUNS", RUNS).max(1);
    let bodies: Vec<Vec<u8>> = (0..messages).map(message).collect();
    let total: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "store bench: {messages} messages, {:.1} KB average, {runs} runs each, load average {}",
        total as f64 / messages as f64 / 1e3,
        loadavg()
    );
    let cases: [(&str, Format, bool); 4] = [
        ("Maildir, sync after every message", Format::Maildir, true),
        ("Maildir, one sync at the end", Format::Maildir, false),
        (".eml, one sync at the end", Format::Eml, false),
        ("mbox, one sync at the end", Format::Mbox, false),
    ];
    // Runs are interleaved (case 1, 2, 3, 4, case 1, …) so that load from
    // elsewhere falls on every case alike, and every directory is kept until
    // the end: deleting 2,000 files right before a run would slow it.
    let mut keep = Vec::new();
    let mut times = vec![Vec::new(); cases.len()];
    for _ in 0..runs {
        for (i, (_, format, sync_each)) in cases.iter().enumerate() {
            let (elapsed, dir) = save_all(*format, &bodies, *sync_each);
            times[i].push(elapsed);
            keep.push(dir);
        }
    }
    for ((name, _, _), times) in cases.iter().zip(times) {
        report(name, times, messages);
    }
    let times: Vec<Duration> = (0..runs.max(20)).map(|_| lone_fsync()).collect();
    report("one fsync of a fresh 5 KB file", times, 1);
}

fn save_all(format: Format, bodies: &[Vec<u8>], sync_each: bool) -> (Duration, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = match format {
        Format::Mbox => dir.path().join("bench.mbox"),
        _ => dir.path().join("bench"),
    };
    let mut sink = open_sink(format, &target).expect("open sink");
    let started = Instant::now();
    let mut durable = 0;
    for (i, body) in bodies.iter().enumerate() {
        save(sink.as_mut(), i, body);
        if sync_each {
            durable += sink.sync().expect("sync").len();
        }
    }
    let written = started.elapsed();
    durable += sink.sync().expect("sync").len();
    let elapsed = started.elapsed();
    assert_eq!(durable, bodies.len());
    if std::env::var_os("POPSCOPE_BENCH_STORE_SPLIT").is_some() {
        println!(
            "    {format:?} sync each {sync_each}: writes {:.1} ms, final sync {:.1} ms",
            written.as_secs_f64() * 1e3,
            (elapsed - written).as_secs_f64() * 1e3
        );
    }
    drop(sink);
    (elapsed, dir)
}

fn save(sink: &mut dyn MessageSink, i: usize, body: &[u8]) {
    let meta = MessageMeta {
        number: i as u32 + 1,
        uid: Some(format!("{i:08x}")),
        ..MessageMeta::default()
    };
    let mut writer = sink.begin(&meta).expect("begin");
    // Arrives the way a TLS stream delivers it: in pieces.
    for piece in body.chunks(1400) {
        writer.write_chunk(piece).expect("write");
    }
    writer.commit().expect("commit");
}

fn lone_fsync() -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = std::fs::File::create(dir.path().join("one")).expect("create");
    file.write_all(&message(0)).expect("write");
    let started = Instant::now();
    file.sync_all().expect("fsync");
    started.elapsed()
}

/// A plausible ~5 KB message (4–6 KB), CRLF line ends.
fn message(i: usize) -> Vec<u8> {
    let mut out = format!(
        "Return-Path: <sender{i}@example.org>\r\nFrom: Sender {i} <sender{i}@example.org>\r\n\
         To: ann@example.org\r\nSubject: Message number {i}\r\nDate: Thu, 3 Jul 2025 10:00:00 +0200\r\n\
         Message-ID: <{i}@example.org>\r\n\r\n"
    )
    .into_bytes();
    let target = 4000 + (i * 7919) % 2000;
    while out.len() < target {
        out.extend_from_slice(b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n");
    }
    out
}

fn report(name: &str, mut times: Vec<Duration>, per: usize) {
    times.sort();
    let median = times[times.len() / 2];
    let fastest = times[0];
    println!(
        "  {name:<40} median {:>9.1} ms  fastest {:>9.1} ms  ({:.3} ms per message)",
        median.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3 / per as f64
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}
