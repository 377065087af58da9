//! Sections 4 and 5 of the bench: cleaning at scale.
//!
//! 4. Commit of 50,000 deletions behind the 10 ms proxy: popscope's guarded
//!    commit (the library: `cli::clean::send_deles` then `cli::clean::finish`,
//!    the two halves of `clean::commit`, window 1000) against the raw limit
//!    (every DELE in one write, then QUIT), timed from the first DELE to
//!    QUIT's answer. Both delete for real, so the maildrop is written again
//!    before every run. A lockstep loop would need about 500 s: it is
//!    measured on a sample (popscope with pipelining off, 500 DELEs, then
//!    the connection is dropped, so nothing is deleted) and extrapolated.
//! 5. Filtering 100,000 rows: the UI model's rows (section 2's child, every
//!    header loaded) evaluated against a few representative queries,
//!    judged on the thread's CPU time (the machine is shared); and, to show
//!    where the time goes, the same queries over a copy of the rows'
//!    headers made in row order.

use super::{
    DEFAULT_WINDOW, DelayProxy, LOCKSTEP_TIMEOUT, ONE_WAY_DELAY, Table, chown, epoch_secs, maildir_name, ms, pass,
    progress, raw_login, raw_ping, raw_session, session_config,
};
use crate::dovecot::Dovecot;
use popscope::app::filter::Filter;
use popscope::app::{App, MessageRow};
use popscope::cli::clean::{DELE_WINDOW_FACTOR, finish, send_deles};
use popscope::mail::headers::HeaderSummary;
use popscope::mailbox::commit::{ExitReport, GuardedCommit, Marked};
use popscope::query::{MatchContext, MessageFacts, Query};
use popscope::session::{Observers, SessionConfig, open};
use std::fs;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// Section 4 maildrop.
pub(super) const COMMIT_USER: &str = "dave";
pub(super) const COMMIT_MESSAGES: usize = 50_000;
/// DELEs the lockstep loop is measured on.
const LOCKSTEP_SAMPLE: usize = 500;
/// Runs per client: each deletes for real, and Dovecot needs minutes to
/// answer QUIT after 50,000 DELEs (about 3 ms per message here), so the
/// faster of two runs is reported.
const COMMIT_RUNS: usize = 2;
/// Longest wait for one commit (the client's own limit for QUIT grows with
/// the deletions; this is only the bench's guard).
const COMMIT_TIMEOUT: Duration = Duration::from_secs(1200);
/// popscope's per-answer limit in this section (30 s by default): other
/// work on the machine has stalled Dovecot's first DELE answer longer.
const SERVER_STALL_ALLOWED: Duration = Duration::from_secs(300);
/// Section 5: runs per query; the median is reported.
const FILTER_RUNS: usize = 21;
/// Section 5's target: one frame.
const FRAME_MS: f64 = 16.0;
/// Representative queries: a quoted substring, an `or` with a size, a
/// regex, flags with a date, a bare word, numbers, a mix with grouping.
pub(super) const FILTER_QUERIES: [&str; 7] = [
    "subject:\"budget spreadsheet\"",
    "from:example.org or size>32k",
    "/invoice|reset/",
    "-dup older:30d",
    "report",
    "num:1000-2000 or big",
    "(from:lovelace or from:hopper) -subject:\"re:\" size<10k",
];
/// The queries' clock: 2024-03-01, two months after the maildrop's dates.
const FILTER_NOW: i64 = 1_709_251_200;

// ---------------------------------------------------------------------------
// Section 4: commit of 50,000 deletions

#[derive(Debug, Clone, Copy)]
struct CommitTimes {
    /// First DELE written to the last DELE answered.
    deles: Duration,
    /// First DELE written to QUIT answered.
    total: Duration,
}

fn fastest(runs: &[CommitTimes]) -> CommitTimes {
    let mut sorted = runs.to_vec();
    sorted.sort_by_key(|t| t.total);
    sorted[0]
}

pub(super) fn section_commit(table: &mut Table, runtime: &tokio::runtime::Runtime, dc: &Dovecot, count: usize) {
    let proxy = DelayProxy::start(SocketAddr::from((Ipv4Addr::LOCALHOST, dc.pop3_port())), ONE_WAY_DELAY);
    let port = proxy.port;
    progress(&format!(
        "section 4: commit of {count} deletions through the proxy on port {port}"
    ));
    refill(dc, count);
    let rtt = raw_ping(port, COMMIT_USER, 10).expect("ping through the proxy");
    let mut popscope = Vec::new();
    let mut raw = Vec::new();
    for run in 0..COMMIT_RUNS {
        progress(&format!("section 4: run {}/{COMMIT_RUNS}", run + 1));
        if run > 0 {
            refill(dc, count);
        }
        popscope.push(lib_commit(runtime, port, count).expect("popscope commit"));
        refill(dc, count);
        raw.push(raw_commit(port, count).expect("raw commit"));
    }
    progress(&format!("section 4: lockstep sample of {LOCKSTEP_SAMPLE} DELEs"));
    refill(dc, LOCKSTEP_SAMPLE);
    let sample = lib_lockstep(runtime, port, LOCKSTEP_SAMPLE).expect("popscope lockstep");
    drop(proxy);

    let (p, r) = (fastest(&popscope), fastest(&raw));
    let describe = |t: &CommitTimes, runs: &[CommitTimes]| {
        format!(
            "{:.2} s (DELEs {:.2} s + QUIT {:.2} s; fastest of runs {})",
            t.total.as_secs_f64(),
            t.deles.as_secs_f64(),
            (t.total - t.deles).as_secs_f64(),
            runs.iter()
                .map(|t| format!("{:.2}", t.total.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    table.row(
        "4",
        "round trip through the proxy (NOOP, median of 10)",
        format!("{:.2} ms", ms(rtt)),
        "10 ms nominal",
        "",
    );
    table.row(
        "4a",
        &format!(
            "popscope commit of {count} deletions, window {DEFAULT_WINDOW} (DELEs: {DELE_WINDOW_FACTOR}× that) (library: clean::send_deles + clean::finish; first DELE to QUIT answered)"
        ),
        describe(&p, &popscope),
        "",
        "",
    );
    table.row(
        "4b",
        "raw limit: every DELE in one write, then QUIT",
        describe(&r, &raw),
        "",
        "",
    );
    let scale = count as f64 / LOCKSTEP_SAMPLE as f64;
    let lockstep = sample.as_secs_f64() * scale + (p.total - p.deles).as_secs_f64();
    table.row(
        "4c",
        &format!("popscope lockstep (pipelining off): {LOCKSTEP_SAMPLE} DELEs measured, {count} extrapolated"),
        format!(
            "≈ {lockstep:.0} s ({LOCKSTEP_SAMPLE} DELEs in {:.2} s × {scale:.0}, + 4a's QUIT)",
            sample.as_secs_f64()
        ),
        "",
        "",
    );
    let ratio = p.total.as_secs_f64() / r.total.as_secs_f64();
    table.row(
        "4a/4b",
        "popscope commit / raw limit",
        format!("{ratio:.2}×"),
        "≤ 1.5×",
        pass(ratio <= 1.5),
    );
    let dele_ratio = p.deles.as_secs_f64() / r.deles.as_secs_f64();
    table.row(
        "4a/4b·",
        "the DELE phase alone, popscope / raw limit",
        format!("{dele_ratio:.2}×"),
        "(≤ 1.5×)",
        pass(dele_ratio <= 1.5),
    );
    table.row(
        "4c/4a",
        "lockstep (extrapolated) / popscope",
        format!("{:.0}×", lockstep / p.total.as_secs_f64()),
        "",
        "",
    );
}

/// Empties `user`'s Maildir and writes `count` small messages into `cur/`
/// (named so that Dovecot numbers them in order), then logs in once so
/// that Dovecot's index is in step before anything is timed.
fn refill(dc: &Dovecot, count: usize) {
    let t = Instant::now();
    let maildir = dc.maildir(COMMIT_USER);
    for sub in ["cur", "new"] {
        for entry in fs::read_dir(maildir.join(sub)).expect("read the maildir").flatten() {
            let _ = fs::remove_file(entry.path());
        }
    }
    let cur = maildir.join("cur");
    let (uid, gid) = dc.mail_owner();
    let base = epoch_secs();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let cur = &cur;
            scope.spawn(move || {
                for i in (t..count).step_by(threads) {
                    let message = small_message(i);
                    let vsize = message.len() + message.iter().filter(|&&b| b == b'\n').count();
                    let path = cur.join(maildir_name(base, i, message.len() as u64, vsize as u64));
                    fs::write(&path, &message).expect("write message");
                    chown(&path, uid, gid);
                }
            });
        }
    });
    let written = t.elapsed();
    let stat = raw_session(dc.pop3_port(), COMMIT_USER, &["STAT"], LOCKSTEP_TIMEOUT).expect("STAT after refill");
    assert!(
        stat[0].starts_with(&format!("+OK {count} ")),
        "{COMMIT_USER}: STAT says {:?} after writing {count}",
        stat[0]
    );
    progress(&format!(
        "section 4: wrote {count} messages in {:.1} s, Dovecot indexed them in {:.1} s",
        written.as_secs_f64(),
        (t.elapsed() - written).as_secs_f64()
    ));
}

fn small_message(i: usize) -> Vec<u8> {
    format!(
        "From: Flood <flood@junk.example>\nTo: dave@example.test\nSubject: disk full ({i})\n\
         Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <{i}.flood@junk.example>\n\nThe disk is full.\n"
    )
    .into_bytes()
}

/// Messages 1..=count, as the commit machine takes them.
fn numbers(count: usize) -> Vec<Marked> {
    (1..=count as u32)
        .map(|number| Marked {
            number,
            uid: None,
            size: 0,
        })
        .collect()
}

/// The section's session: the default window, and a server that may stall
/// for a while on this shared machine is not a failure here.
fn commit_config(port: u16, pipelining: bool, window: usize) -> SessionConfig {
    let mut config = session_config(port, COMMIT_USER, pipelining, window);
    config.response_timeout = SERVER_STALL_ALLOWED;
    config
}

fn lib_commit(runtime: &tokio::runtime::Runtime, port: u16, count: usize) -> Result<CommitTimes, String> {
    let config = commit_config(port, true, DEFAULT_WINDOW);
    runtime.block_on(async {
        let work = async {
            let session = open(&config, Observers::default()).await.map_err(|f| f.to_string())?;
            let mut commit = GuardedCommit::new(numbers(count));
            let start = Instant::now();
            let next = send_deles(&session, &mut commit).await;
            let deles = start.elapsed();
            let report = finish(session, commit, next).await;
            let total = start.elapsed();
            match report {
                ExitReport::Deleted { count: n, .. } if n == count => Ok(CommitTimes { deles, total }),
                other => Err(other.to_string()),
            }
        };
        tokio::time::timeout(COMMIT_TIMEOUT, work)
            .await
            .unwrap_or_else(|_| Err(format!("did not finish within {COMMIT_TIMEOUT:?}")))
    })
}

/// popscope with pipelining off: `sample` DELEs one round trip each, then
/// the connection is dropped without QUIT (nothing is deleted).
fn lib_lockstep(runtime: &tokio::runtime::Runtime, port: u16, sample: usize) -> Result<Duration, String> {
    let config = commit_config(port, false, 1);
    runtime.block_on(async {
        let session = open(&config, Observers::default()).await.map_err(|f| f.to_string())?;
        let mut commit = GuardedCommit::new(numbers(sample));
        let start = Instant::now();
        let next = send_deles(&session, &mut commit).await;
        let elapsed = start.elapsed();
        session.abandon().await;
        match next {
            Some(popscope::mailbox::commit::CommitCommand::Quit) => Ok(elapsed),
            other => Err(format!("lockstep DELEs ended with {other:?}: {:?}", commit.report())),
        }
    })
}

/// Logs in, writes every `DELE n` in one write (from a second thread, so
/// the batch cannot deadlock against the answers), reads the answers, then
/// QUIT and its answer.
fn raw_commit(port: u16, count: usize) -> Result<CommitTimes, String> {
    let mut pop = raw_login(port, COMMIT_USER, COMMIT_TIMEOUT)?;
    let mut batch = Vec::with_capacity(count * 12);
    for n in 1..=count {
        let _ = write!(batch, "DELE {n}\r\n");
    }
    let start = Instant::now();
    let mut writer_stream = pop.writer().map_err(|e| e.to_string())?;
    let writer = std::thread::spawn(move || writer_stream.write_all(&batch));
    for done in 0..count {
        let line = pop.read_line().map_err(|e| format!("after {done} answers: {e}"))?;
        if !line.starts_with("+OK") {
            return Err(format!("DELE answer {}: {line:?}", done + 1));
        }
    }
    let deles = start.elapsed();
    writer
        .join()
        .map_err(|_| "writer thread panicked".to_string())?
        .map_err(|e| e.to_string())?;
    pop.quit()?;
    Ok(CommitTimes {
        deles,
        total: start.elapsed(),
    })
}

// ---------------------------------------------------------------------------
// Section 5: filtering 100,000 rows (measured in the UI-model child)

/// The same facts as a model row, from a copy of the row's headers made
/// in row order, so that consecutive rows sit together in memory: what
/// the filter costs when the model's layout does not get in the way.
struct CompactRow {
    number: u32,
    size: u64,
    headers: Option<HeaderSummary>,
    dup: bool,
}

impl MessageFacts for CompactRow {
    type Headers = HeaderSummary;

    fn number(&self) -> u32 {
        self.number
    }

    fn uid(&self) -> Option<&str> {
        None
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn headers(&self) -> Option<&HeaderSummary> {
        self.headers.as_ref()
    }

    fn is_dup(&self) -> Option<bool> {
        Some(self.dup)
    }
}

/// Time this thread has spent on a CPU; `None` if the clock is missing.
fn thread_cpu_time() -> Option<Duration> {
    let mut time = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `time` is a valid, writable timespec for the call's duration.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    let seconds = u64::try_from(time.tv_sec).ok()?;
    let nanoseconds = u32::try_from(time.tv_nsec).ok()?;
    (status == 0).then(|| Duration::new(seconds, nanoseconds))
}

/// One pass, `FILTER_RUNS` times: the match count and the sorted CPU and
/// wall times in ms.
fn time_passes(mut pass: impl FnMut() -> usize) -> (usize, Vec<f64>, Vec<f64>) {
    let (mut cpu, mut wall, mut matches) = (Vec::new(), Vec::new(), 0);
    for _ in 0..FILTER_RUNS {
        let cpu_started = thread_cpu_time();
        let t = Instant::now();
        matches = pass();
        wall.push(ms(t.elapsed()));
        if let (Some(before), Some(after)) = (cpu_started, thread_cpu_time()) {
            cpu.push(ms(after.saturating_sub(before)));
        }
    }
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    (matches, cpu, wall)
}

/// The query evaluated row by row, nothing else.
fn evaluate_each<R: MessageFacts>(query: &Query, rows: &[R]) -> usize {
    let context = MatchContext::at(FILTER_NOW);
    rows.iter()
        .filter(|row| query.evaluate(std::hint::black_box(*row), &context).is_match())
        .count()
}

fn median(sorted: &[f64]) -> f64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// In the child, after every header is loaded: each query over the
/// model's rows, then over a compact copy of them. Prints `filter=` lines
/// (query, matches, median CPU ms, median wall ms, best wall ms, median CPU
/// ms on the compact copy) for `parse_filter_line`.
pub(super) fn measure_filter(app: &App) {
    // The model's own rows, as its limit and search evaluate them (its
    // Message-ID index has settled every `dup`).
    let rows: &[MessageRow] = &app.list.rows;
    let compact: Vec<CompactRow> = rows
        .iter()
        .map(|row| CompactRow {
            number: row.number,
            size: row.size,
            headers: row.headers().cloned(),
            dup: row.is_dup() == Some(true),
        })
        .collect();
    for text in FILTER_QUERIES {
        let query = Query::parse(text).expect("the bench's queries parse");
        let (matches, cpu, wall) = time_passes(|| {
            Filter::new(query.clone(), MatchContext::at(FILTER_NOW), rows)
                .counts()
                .matched
        });
        let (_, plain_cpu, _) = time_passes(|| evaluate_each(&query, rows));
        let (_, compact_cpu, _) = time_passes(|| evaluate_each(&query, &compact));
        println!(
            "filter={text}\t{matches}\t{}\t{}\t{}\t{}\t{}",
            median(&cpu),
            median(&wall),
            wall[0],
            median(&plain_cpu),
            median(&compact_cpu)
        );
    }
}

/// One measured query, as the child printed it.
#[derive(Debug, Clone)]
pub(super) struct FilterResult {
    query: String,
    matches: usize,
    cpu_median_ms: f64,
    wall_median_ms: f64,
    wall_best_ms: f64,
    plain_cpu_median_ms: f64,
    compact_cpu_median_ms: f64,
}

/// Reads a `filter=` line's value.
pub(super) fn parse_filter_line(value: &str) -> Option<FilterResult> {
    let mut fields = value.split('\t');
    Some(FilterResult {
        query: fields.next()?.to_string(),
        matches: fields.next()?.parse().ok()?,
        cpu_median_ms: fields.next()?.parse().ok()?,
        wall_median_ms: fields.next()?.parse().ok()?,
        wall_best_ms: fields.next()?.parse().ok()?,
        plain_cpu_median_ms: fields.next()?.parse().ok()?,
        compact_cpu_median_ms: fields.next()?.parse().ok()?,
    })
}

/// One row per query, and one saying where the time goes. The verdict is
/// on the median of the thread's CPU time, which other work on this shared
/// 2-core machine disturbs far less than wall time (both are shown).
pub(super) fn section_filter(table: &mut Table, results: &[FilterResult], rows: usize) {
    let letter = |i: usize| (b'a' + i as u8) as char;
    for (i, r) in results.iter().enumerate() {
        // A `|` would end the Markdown cell.
        let query = format!("`{}`", r.query.replace('|', "\\|"));
        table.row(
            &format!("5{}", letter(i)),
            &format!("filter {rows} model rows (headers loaded; the limit's Filter::new): {query}"),
            format!(
                "CPU {:.2} ms median of {FILTER_RUNS} (wall median {:.2} ms, best {:.2} ms), {} match",
                r.cpu_median_ms, r.wall_median_ms, r.wall_best_ms, r.matches
            ),
            &format!("≤ {FRAME_MS:.0} ms CPU"),
            pass(r.cpu_median_ms <= FRAME_MS),
        );
    }
    let plain: Vec<String> = results
        .iter()
        .enumerate()
        .map(|(i, r)| format!("5{} {:.2}", letter(i), r.plain_cpu_median_ms))
        .collect();
    table.row(
        "5·",
        "where the time goes: the same queries evaluated row by row without the model's prefetching (Filter::new asks for the headers 8–16 rows ahead), CPU median",
        format!("{} ms", plain.join(", ")),
        "",
        "",
    );
    let compact: Vec<String> = results
        .iter()
        .enumerate()
        .map(|(i, r)| format!("5{} {:.2}", letter(i), r.compact_cpu_median_ms))
        .collect();
    table.row(
        "5··",
        "where the time goes: the same queries over a copy of the rows' headers made in row order (consecutive rows together in memory), CPU median",
        format!("{} ms", compact.join(", ")),
        "",
        "",
    );
}
