//! popscope's speed goals, measured against a private Dovecot.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bench cargo bench --bench pop3`
//! (a `harness = false` bench: `main` below is the whole thing). It prints
//! one table with every figure from the same run and rewrites the generated
//! block of docs/benchmarks.md (text outside the markers is kept).
//!
//! Sections:
//! 1. Open: 2,000 messages behind a delaying TCP proxy (5 ms each way,
//!    10 ms RTT). popscope pipelined / lockstep / larger windows against the
//!    raw limit (a minimal client that writes every `TOP n 0` in one write).
//! 2. Scale: 100,000 messages, no delay. `popscope list --json` as a
//!    subprocess (wall time, peak RSS) against the raw limit; the UI model
//!    (`App`) fed with LIST + 100,000 TOP answers, measured in a fresh child
//!    process (this bench binary re-executed) so its peak RSS is its own;
//!    frame render time at 100,000 rows.
//! 3. Big message: one ~100 MB message, `popscope retr` against `curl`.
//! 4. Commit of 50,000 deletions behind the proxy: popscope's guarded
//!    commit against every DELE in one write, and a lockstep loop measured
//!    on a sample (benches/pop3/clean.rs).
//! 5. Filtering 100,000 rows of the UI model (section 2's child) with a few
//!    representative queries (benches/pop3/clean.rs).
//! 6. Fetch: section 1's 2,000 messages behind the proxy into a Maildir,
//!    `popscope fetch` against mpop and the raw RETR limit, and where the
//!    time goes (benches/pop3/fetch.rs).
//! 7. Fetch of section 3's ~100 MB message: time and RSS growth, and mpop
//!    (benches/pop3/fetch.rs).
//!
//! The popscope binary is the one cargo builds for this bench anyway
//! (`CARGO_BIN_EXE_popscope`: cargo builds a package's binaries before its
//! benches, same target dir, `bench` profile = `release` settings);
//! `POPSCOPE_BIN=/path/to/popscope` overrides it. Peak RSS of subprocesses
//! comes from GNU time (`/usr/bin/time -f %M`, the kernel's ru_maxrss) when
//! installed, otherwise from polling /proc/PID/status VmHWM every
//! millisecond.
//!
//! Knobs (for quick iterations only; the published numbers use defaults):
//! `POPSCOPE_BENCH_SCALE` (messages in section 2, default 100000),
//! `POPSCOPE_BENCH_BIG_MB` (section 3 size in 10^6 bytes, default 100),
//! `POPSCOPE_BENCH_COMMIT` (deletions in section 4, default 50000),
//! `POPSCOPE_BENCH_NO_DOCS=1` (do not touch docs/benchmarks.md),
//! `POPSCOPE_BENCH_SECTIONS=4,5` (run only these sections; their rows
//! replace the same sections' rows in docs/benchmarks.md, the rest stay),
//! `POPSCOPE_BENCH_HOLD_SECS=N` (investigation: set everything up, print the
//! ports, keep Dovecot and the delay proxy up for N seconds, measure nothing).
//!
//! Units: MB = 10^6 bytes, MB/s = 10^6 bytes per second.

/// Sections 4 and 5: the commit of 50,000 deletions, filtering.
#[path = "pop3/clean.rs"]
mod clean;
#[allow(dead_code)]
#[path = "../tests/support/dovecot.rs"]
mod dovecot;
/// Fetching a maildrop.
#[path = "pop3/fetch.rs"]
mod fetch;
#[allow(dead_code)]
#[path = "../tests/support/raw_pop3.rs"]
mod raw_pop3;

use dovecot::Dovecot;
use popscope::app::keymap::Action;
use popscope::app::{App, ConnectionFacts, Effect, Headers};
use popscope::cli::list::list_messages;
use popscope::mailbox::Offer;
use popscope::pop3::auth::Mechanism;
use popscope::pop3::client::{Body, Command, CommandKind, Outcome, Reply};
use popscope::pop3::codec::{Status, StatusLine};
use popscope::secret::Secret;
use popscope::session::driver::SessionEvent;
use popscope::session::trace::{TraceEntry, TraceHeader, TraceObserver};
use popscope::session::{Credential, DEFAULT_WINDOW, Observers, SessionConfig, StartTlsPolicy, Step, TlsMode, open};
use popscope::testmail::maildir as maildrop;
use raw_pop3::RawPop3;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const COMMAND_LINE: &str = "cargo bench --bench pop3";
const PASSWORD: &str = "bench-Pw-7";
/// Section 1 maildrop.
const OPEN_USER: &str = "alice";
const OPEN_MESSAGES: usize = 2_000;
/// Section 2 maildrop.
const SCALE_USER: &str = "bob";
const SCALE_MESSAGES: usize = 100_000;
/// Section 3 maildrop (one big message).
const BIG_USER: &str = "carol";
const BIG_MB: u64 = 100;
/// mpop's window, popscope's default before it was measured here.
const OLD_WINDOW: usize = 100;
/// One-way delay of the proxy: 10 ms round trip.
const ONE_WAY_DELAY: Duration = Duration::from_millis(5);
/// Runs whose median is reported, for the fast measurements.
const RUNS: usize = 3;
/// Runs per client in section 3 (they are short and noisier).
const BIG_RUNS: usize = 5;
/// Frames rendered for the render-time median.
const FRAMES: usize = 100;
/// Limits: every wait in this bench is bounded.
const FAST_TIMEOUT: Duration = Duration::from_secs(60);
const LOCKSTEP_TIMEOUT: Duration = Duration::from_secs(180);
const SCALE_TIMEOUT: Duration = Duration::from_secs(300);
/// Environment variable that turns this binary into the UI-model child.
const CHILD_ENV: &str = "POPSCOPE_BENCH_UI_CHILD";
const BEGIN_MARK: &str = "<!-- bench:begin (generated by benches/pop3.rs; edits inside are overwritten) -->";
const END_MARK: &str = "<!-- bench:end -->";

fn main() {
    if let Ok(n) = std::env::var(CHILD_ENV) {
        ui_model_child(n.parse().expect("child message count"));
        return;
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` (CI) runs this
    // binary without it. The bench takes minutes and wants a release build,
    // so under `cargo test` it only says how to run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("pop3 bench: skipped under cargo test; run `{COMMAND_LINE}`");
        return;
    }
    let started = Instant::now();
    let load_at_start = loadavg();
    let sections = Sections::from_env();
    let needs_dovecot = [1, 2, 3, 4, 6, 7].iter().any(|n| sections.has(*n));
    if needs_dovecot && !Dovecot::available() {
        eprintln!("pop3 bench: dovecot is not installed (apt-get install -y dovecot-pop3d); nothing measured");
        std::process::exit(if std::env::var_os("CI").is_some() { 1 } else { 0 });
    }
    let scale_messages = env_usize("POPSCOPE_BENCH_SCALE", SCALE_MESSAGES);
    let big_bytes = env_usize("POPSCOPE_BENCH_BIG_MB", BIG_MB as usize) as u64 * 1_000_000;
    let commit_messages = env_usize("POPSCOPE_BENCH_COMMIT", clean::COMMIT_MESSAGES);
    let mut table = Table::default();

    let bin = popscope_binary();
    progress(&format!("popscope binary: {}", bin.display()));
    let setup = needs_dovecot.then(|| set_up_dovecot(&sections, scale_messages, big_bytes));

    if let Some(secs) = std::env::var("POPSCOPE_BENCH_HOLD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        && let Some(setup) = &setup
    {
        hold(&setup.dc, secs, setup.big_wire_size);
        return;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    // The UI model's child serves sections 2 (memory, frames) and 5
    // (filtering).
    let ui = (sections.has(2) || sections.has(5)).then(|| {
        progress("UI model (child process)");
        run_ui_child(scale_messages)
    });
    if let Some(setup) = &setup {
        let port = setup.dc.pop3_port();
        if sections.has(1) {
            section_open(&mut table, &runtime, port);
        }
        if sections.has(2) {
            section_scale(
                &mut table,
                &bin,
                port,
                scale_messages,
                ui.as_ref().expect("UI model run"),
            );
        }
        if sections.has(3) {
            section_big(&mut table, &bin, port, setup.big_wire_size);
        }
        if sections.has(4) {
            clean::section_commit(&mut table, &runtime, &setup.dc, commit_messages);
        }
        if sections.has(6) {
            fetch::section_fetch(&mut table, &runtime, &bin, port);
        }
        if sections.has(7) {
            fetch::section_fetch_big(&mut table, &bin, port, setup.big_wire_size);
        }
    }
    if let Some(ui) = &ui
        && sections.has(5)
    {
        clean::section_filter(&mut table, &ui.filters, scale_messages);
    }
    drop(runtime);

    let total = started.elapsed();
    let rendered = table.render();
    println!("\n{rendered}");
    println!("(bench ran {:.0} s)", total.as_secs_f64());
    let load = format!("{load_at_start} at start, {} at the end", loadavg());
    println!("(load average 1/5/15 min: {load})");
    if std::env::var_os("POPSCOPE_BENCH_NO_DOCS").is_none() {
        let sizes = format!(
            "section 1 {OPEN_MESSAGES} messages, section 2 {scale_messages} messages, section 3 {:.0} MB body, \
             section 4 {commit_messages} deletions, section 5 {scale_messages} rows, \
             section 6 {OPEN_MESSAGES} messages fetched, section 7 the section 3 message fetched",
            big_bytes as f64 / 1e6
        );
        if sections.all() {
            write_docs(&rendered, total, &sizes, &load);
        } else {
            write_docs_sections(&table, &sections, &load);
        }
    }
    drop(setup);
}

/// Which sections to run: all, or those listed in
/// `POPSCOPE_BENCH_SECTIONS` (e.g. `4,5`).
struct Sections(Vec<u8>);

impl Sections {
    const ALL: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];

    fn from_env() -> Sections {
        match std::env::var("POPSCOPE_BENCH_SECTIONS") {
            Ok(list) => Sections(
                list.split(',')
                    .map(|n| {
                        n.trim()
                            .parse()
                            .expect("POPSCOPE_BENCH_SECTIONS: numbers 1-7, comma-separated")
                    })
                    .collect(),
            ),
            Err(_) => Sections(Sections::ALL.to_vec()),
        }
    }

    fn has(&self, n: u8) -> bool {
        self.0.contains(&n)
    }

    fn all(&self) -> bool {
        Sections::ALL.iter().all(|n| self.has(*n))
    }
}

/// The Dovecot every network section uses, with the maildrops the chosen
/// sections need.
struct Setup {
    dc: Dovecot,
    big_wire_size: u64,
}

fn set_up_dovecot(sections: &Sections, scale_messages: usize, big_bytes: u64) -> Setup {
    let dc = Dovecot::builder()
        .lock_session(false)
        .user(OPEN_USER, PASSWORD)
        .user(SCALE_USER, PASSWORD)
        .user(BIG_USER, PASSWORD)
        .user(clean::COMMIT_USER, PASSWORD)
        .start();
    let port = dc.pop3_port();
    progress(&format!("dovecot on 127.0.0.1:{port}, writing maildrops"));
    let t = Instant::now();
    // Section 6 fetches section 1's maildrop; section 7 section 3's message.
    let users = [(1, 6, OPEN_USER, OPEN_MESSAGES), (2, 2, SCALE_USER, scale_messages)];
    for (section, also, user, count) in users {
        if sections.has(section) || sections.has(also) {
            write_maildrop(&dc, user, count);
        }
    }
    let big_wire_size = if sections.has(3) || sections.has(7) {
        write_big_message(&dc, BIG_USER, big_bytes)
    } else {
        0
    };
    progress(&format!(
        "wrote the maildrops in {:.1} s; indexing",
        t.elapsed().as_secs_f64()
    ));
    // Dovecot indexes a maildrop at its first login; do that (and read
    // every header once, so the caches are warm) before measuring.
    let t = Instant::now();
    for (section, also, user, count) in users {
        if sections.has(section) || sections.has(also) {
            raw_top_all(port, user, count, SCALE_TIMEOUT).unwrap_or_else(|e| panic!("warm-up of {user}: {e}"));
            check_order(port, user, count);
        }
    }
    if sections.has(3) || sections.has(7) {
        raw_session(port, BIG_USER, &["STAT"], FAST_TIMEOUT).expect("warm-up of the big maildrop");
    }
    progress(&format!("indexed and warmed in {:.1} s", t.elapsed().as_secs_f64()));
    Setup { dc, big_wire_size }
}

/// Investigation mode: keeps Dovecot and a delay proxy up for `secs`
/// seconds so popscope can be run by hand under strace or perf.
fn hold(dc: &Dovecot, secs: u64, big_wire_size: u64) {
    let proxy = DelayProxy::start(SocketAddr::from((Ipv4Addr::LOCALHOST, dc.pop3_port())), ONE_WAY_DELAY);
    let stop = std::env::temp_dir().join(format!("popscope-bench-hold-{}.stop", std::process::id()));
    println!(
        "HOLD dovecot_port={} proxy_port={} password={PASSWORD} users: {OPEN_USER} ({OPEN_MESSAGES} messages), \
         {SCALE_USER} (scale), {BIG_USER} (one message of {big_wire_size} B); holding {secs} s \
         or until {} exists",
        dc.pop3_port(),
        proxy.port,
        stop.display()
    );
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline && !stop.exists() {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = fs::remove_file(&stop);
    drop(proxy);
}

// ---------------------------------------------------------------------------
// Section 1: open 2,000 messages over a 10 ms RTT

fn section_open(table: &mut Table, runtime: &tokio::runtime::Runtime, dovecot_port: u16) {
    let proxy = DelayProxy::start(SocketAddr::from((Ipv4Addr::LOCALHOST, dovecot_port)), ONE_WAY_DELAY);
    let port = proxy.port;
    progress(&format!(
        "section 1: {OPEN_MESSAGES} messages through the delay proxy on port {port}"
    ));
    let rtt = raw_ping(port, OPEN_USER, 10).expect("ping through the proxy");
    table.row(
        "1",
        "round trip through the proxy (NOOP, median of 10)",
        format!("{:.2} ms", ms(rtt)),
        "10 ms nominal",
        "",
    );

    let mut limit = Vec::new();
    let mut pipelined = Vec::new();
    let mut w1000 = Vec::new();
    let mut w10000 = Vec::new();
    let mut w100 = Vec::new();
    for run in 0..RUNS {
        progress(&format!("section 1: run {}/{RUNS}", run + 1));
        limit.push(raw_top_all(port, OPEN_USER, OPEN_MESSAGES, FAST_TIMEOUT).expect("raw limit"));
        pipelined.push(lib_list(runtime, port, true, DEFAULT_WINDOW, FAST_TIMEOUT).expect("popscope pipelined"));
        w1000.push(lib_list(runtime, port, true, 1_000, FAST_TIMEOUT).expect("popscope window 1000"));
        w10000.push(lib_list(runtime, port, true, 10_000, FAST_TIMEOUT).expect("popscope window 10000"));
        if DEFAULT_WINDOW != OLD_WINDOW {
            w100.push(lib_list(runtime, port, true, OLD_WINDOW, FAST_TIMEOUT).expect("popscope window 100"));
        }
    }
    progress("section 1: lockstep (about 2,000 round trips)");
    let lockstep = lib_list(runtime, port, false, 1, LOCKSTEP_TIMEOUT).expect("popscope lockstep");

    let limit_t = median_phase(&limit);
    let pipelined_t = median_phase(&pipelined);
    let w1000_t = median_phase(&w1000);
    let w10000_t = median_phase(&w10000);
    let describe = |p: &Phases, runs: &[Phases]| {
        format!(
            "{:.0} ms (login {:.0} + headers {:.0}; runs {})",
            ms(p.total),
            ms(p.login),
            ms(p.total - p.login),
            runs.iter()
                .map(|r| format!("{:.0}", ms(r.total)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    table.row(
        "1a",
        &format!("popscope pipelined, window {DEFAULT_WINDOW} (library: open + list_messages)"),
        describe(&pipelined_t, &pipelined),
        "",
        "",
    );
    table.row(
        "1b",
        "popscope lockstep (pipelining off), one run",
        format!(
            "{:.2} s (login {:.0} ms + headers {:.2} s)",
            lockstep.total.as_secs_f64(),
            ms(lockstep.login),
            (lockstep.total - lockstep.login).as_secs_f64()
        ),
        "",
        "",
    );
    table.row(
        "1c",
        "raw limit: USER/PASS, then every TOP n 0 in one write",
        describe(&limit_t, &limit),
        "",
        "",
    );
    table.row("1d", "popscope window 1000", describe(&w1000_t, &w1000), "", "");
    table.row(
        "1e",
        "popscope window 10000 (unlimited)",
        describe(&w10000_t, &w10000),
        "",
        "",
    );
    if !w100.is_empty() {
        table.row(
            "1f",
            &format!("popscope window {OLD_WINDOW} (mpop's choice, popscope's earlier default)"),
            describe(&median_phase(&w100), &w100),
            "",
            "",
        );
    }
    let ratio = pipelined_t.total.as_secs_f64() / limit_t.total.as_secs_f64();
    table.row(
        "1a/1c",
        "popscope pipelined / raw limit",
        format!("{ratio:.2}×"),
        "≤ 1.5×",
        pass(ratio <= 1.5),
    );
    let speedup = lockstep.total.as_secs_f64() / pipelined_t.total.as_secs_f64();
    table.row(
        "1b/1a",
        "lockstep / popscope pipelined",
        format!("{speedup:.0}×"),
        "≥ 100×",
        pass(speedup >= 100.0),
    );
    let mut others = vec![("1d/1c", "window 1000", w1000_t), ("1e/1c", "window 10000", w10000_t)];
    if !w100.is_empty() {
        others.push(("1f/1c", "window 100", median_phase(&w100)));
    }
    for (label, what, p) in others {
        let r = p.total.as_secs_f64() / limit_t.total.as_secs_f64();
        table.row(
            label,
            &format!("{what} / raw limit"),
            format!("{r:.2}×"),
            "(≤ 1.5×)",
            pass(r <= 1.5),
        );
    }
    match lib_list_traced(runtime, port) {
        Ok(text) => table.row(
            "1a·",
            &format!("where 1a's time goes (one extra run with the protocol trace on, window {DEFAULT_WINDOW})"),
            text,
            "",
            "",
        ),
        Err(e) => progress(&format!("traced run failed: {e}")),
    }
    let login_gap = pipelined_t.login.as_secs_f64() / rtt.as_secs_f64();
    table.row(
        "1·",
        "login phase in round trips, connect to logged in (popscope: steps in 1a·; raw: greeting, USER, PASS)",
        format!(
            "{login_gap:.1} RTT vs raw {:.1} RTT",
            limit_t.login.as_secs_f64() / rtt.as_secs_f64()
        ),
        "",
        "",
    );
    drop(proxy);
}

#[derive(Debug, Clone, Copy)]
struct Phases {
    /// Connect to logged in.
    login: Duration,
    /// Connect to the last header known.
    total: Duration,
}

fn median_phase(runs: &[Phases]) -> Phases {
    let mut sorted = runs.to_vec();
    sorted.sort_by_key(|p| p.total);
    sorted[sorted.len() / 2]
}

fn session_config(port: u16, user: &str, pipelining: bool, window: usize) -> SessionConfig {
    SessionConfig::builder("127.0.0.1", port, user, Credential::Password(Secret::from(PASSWORD)))
        .tls(TlsMode::None)
        .starttls(StartTlsPolicy::Optional)
        .mechanism(Some(Mechanism::User))
        .allow_plaintext(true)
        .connect_timeout(Duration::from_secs(10))
        .pipelining(pipelining)
        .window(window)
        .build()
}

/// popscope's library: open + list_messages (LIST, UIDL, a TOP n 0 for
/// every message), timed from before the connect to the last header.
fn lib_list(
    runtime: &tokio::runtime::Runtime,
    port: u16,
    pipelining: bool,
    window: usize,
    limit: Duration,
) -> Result<Phases, String> {
    let config = session_config(port, OPEN_USER, pipelining, window);
    runtime.block_on(async {
        let work = async {
            let start = Instant::now();
            let session = open(&config, Observers::default()).await.map_err(|f| f.to_string())?;
            let login = start.elapsed();
            let mut with_headers = 0usize;
            let (count, _) = list_messages(&session, |listing| {
                with_headers += usize::from(listing.headers.is_some());
                Ok(())
            })
            .await
            .map_err(|f| f.to_string())?;
            let total = start.elapsed();
            let _ = session.quit(false).await;
            if count as usize != OPEN_MESSAGES || with_headers != OPEN_MESSAGES {
                return Err(format!(
                    "listed {count} messages, {with_headers} with headers; expected {OPEN_MESSAGES}"
                ));
            }
            Ok(Phases { login, total })
        };
        match tokio::time::timeout(limit, work).await {
            Ok(result) => result,
            Err(_) => Err(format!("did not finish within {limit:?}")),
        }
    })
}

/// Every trace line of a session, kept.
#[derive(Clone, Default)]
struct Collected(std::sync::Arc<std::sync::Mutex<Vec<TraceEntry>>>);

impl TraceObserver for Collected {
    fn started(&mut self, _: &TraceHeader) {}

    fn entry(&mut self, entry: TraceEntry) {
        self.0.lock().unwrap().push(entry);
    }
}

/// One `lib_list` run with the trace on: the login steps from the
/// `ConnectReport`, then from the trace when LIST went out, when the first
/// and the last TOP went out, and the end.
fn lib_list_traced(runtime: &tokio::runtime::Runtime, port: u16) -> Result<String, String> {
    use popscope::pop3::client::Direction;
    let config = session_config(port, OPEN_USER, true, DEFAULT_WINDOW);
    runtime.block_on(async {
        let work = async {
            let collected = Collected::default();
            let session = open(
                &config,
                Observers {
                    trace: vec![Box::new(collected.clone())],
                    events: None,
                },
            )
            .await
            .map_err(|f| f.to_string())?;
            let steps = session.report.steps.clone();
            list_messages(&session, |_| Ok(())).await.map_err(|f| f.to_string())?;
            let _ = session.quit(false).await;
            let mut sent = Vec::new();
            let mut last_answer = Duration::ZERO;
            for entry in collected.0.lock().unwrap().drain(..) {
                match entry.direction {
                    Direction::Sent => sent.push((entry.at, entry.text)),
                    Direction::Received if sent.last().is_none_or(|(_, t)| t != "QUIT") => last_answer = entry.at,
                    _ => {}
                }
            }
            let at = |pred: &dyn Fn(&str) -> bool| sent.iter().find(|(_, t)| pred(t)).map(|(a, _)| *a);
            let list = at(&|t| t == "LIST").ok_or("no LIST in the trace")?;
            let first_top = at(&|t| t.starts_with("TOP ")).ok_or("no TOP in the trace")?;
            let last_top = sent
                .iter()
                .rev()
                .find(|(_, t)| t.starts_with("TOP "))
                .map(|(a, _)| *a)
                .ok_or("no TOP in the trace")?;
            let mut text = String::from("login steps:");
            for step in steps.iter().filter(|s| s.name != Step::Total) {
                let _ = write!(text, " {} {:.1},", step.name, ms(step.elapsed));
            }
            let _ = write!(
                text,
                " then LIST+UIDL sent at {:.1}, first TOP sent {:.1} later, ",
                ms(list),
                ms(first_top - list)
            );
            let _ = write!(
                text,
                "last TOP sent at {:.1}, last answer at {:.1} (ms since connect)",
                ms(last_top),
                ms(last_answer)
            );
            Ok(text)
        };
        match tokio::time::timeout(FAST_TIMEOUT, work).await {
            Ok(result) => result,
            Err(_) => Err(format!("did not finish within {FAST_TIMEOUT:?}")),
        }
    })
}

// ---------------------------------------------------------------------------
// The delaying proxy

/// A TCP proxy on 127.0.0.1:0 to `upstream` that delivers every chunk it
/// reads `delay` after reading it, in order, in both directions. Readers
/// never sleep: each direction has a queue of (due time, bytes) and a writer
/// task that sleeps until the head is due (`wait_until`). Runs on its own
/// runtime, so it does not compete with the client's runtime for workers.
struct DelayProxy {
    port: u16,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DelayProxy {
    fn start(upstream: SocketAddr, delay: Duration) -> DelayProxy {
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                    .await
                    .expect("proxy bind");
                port_tx.send(listener.local_addr().expect("proxy addr").port()).ok();
                let accept = async {
                    loop {
                        let Ok((client, _)) = listener.accept().await else {
                            continue;
                        };
                        tokio::spawn(proxy_connection(client, upstream, delay));
                    }
                };
                tokio::select! {
                    _ = accept => {},
                    _ = stop => {},
                }
            });
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("proxy did not start");
        DelayProxy {
            port,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn proxy_connection(client: tokio::net::TcpStream, upstream: SocketAddr, delay: Duration) {
    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = tokio::spawn(delayed_pipe(client_read, server_write, delay));
    let down = tokio::spawn(delayed_pipe(server_read, client_write, delay));
    let _ = tokio::join!(up, down);
}

/// Sleeps until `at`, never returning early and rarely more than ~0.1 ms
/// late: tokio's timer (1 ms ticks, deadlines rounded up) sleeps to 2 ms
/// before, a blocking `std::thread::sleep` (nanosleep) does the rest with
/// `block_in_place`, so the proxy's other tasks move to its other worker.
async fn wait_until(at: tokio::time::Instant) {
    let coarse = at - Duration::from_millis(2);
    if coarse > tokio::time::Instant::now() {
        tokio::time::sleep_until(coarse).await;
    }
    let rest = at.saturating_duration_since(tokio::time::Instant::now());
    if !rest.is_zero() {
        tokio::task::block_in_place(|| std::thread::sleep(rest));
    }
}

async fn delayed_pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (queue, mut due) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, chunk)) = due.recv().await {
            wait_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if queue
                    .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    drop(queue);
    let _ = writer.await;
}

// ---------------------------------------------------------------------------
// The raw client (tests/support/raw_pop3.rs): the limit any POP3 client can reach

fn raw_login(port: u16, user: &str, limit: Duration) -> Result<RawPop3, String> {
    let pop = RawPop3::try_login(port, user, PASSWORD)?;
    pop.set_timeout(limit).map_err(|e| e.to_string())?;
    Ok(pop)
}

/// Logs in, writes `TOP 1 0` .. `TOP count 0` in one write (from a second
/// thread, so a batch larger than the socket buffers cannot deadlock), and
/// reads until the `count`-th terminator line.
fn raw_top_all(port: u16, user: &str, count: usize, limit: Duration) -> Result<Phases, String> {
    let start = Instant::now();
    let mut pop = raw_login(port, user, limit)?;
    let login = start.elapsed();
    let mut batch = Vec::with_capacity(count * 14);
    for n in 1..=count {
        let _ = write!(batch, "TOP {n} 0\r\n");
    }
    let mut writer_stream = pop.writer().map_err(|e| e.to_string())?;
    let writer = std::thread::spawn(move || writer_stream.write_all(&batch));
    let mut done = 0usize;
    let mut errors = 0usize;
    let mut line = [0u8; 4];
    let mut line_len = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    while done < count {
        let n = pop
            .read_raw(&mut buf)
            .map_err(|e| format!("after {done} answers: {e}"))?;
        if n == 0 {
            return Err(format!("connection closed after {done} answers"));
        }
        for &b in &buf[..n] {
            if b == b'\n' {
                if line_len == 2 && line[..2] == *b".\r" {
                    done += 1;
                } else if line_len >= 4 && line == *b"-ERR" {
                    errors += 1;
                }
                line_len = 0;
            } else {
                if line_len < 4 {
                    line[line_len] = b;
                }
                line_len += 1;
            }
        }
        if errors > 0 {
            return Err(format!("{errors} TOP commands failed"));
        }
    }
    let total = start.elapsed();
    writer
        .join()
        .map_err(|_| "writer thread panicked".to_string())?
        .map_err(|e| e.to_string())?;
    let _ = pop.quit();
    Ok(Phases { login, total })
}

/// Median round trip of `n` NOOPs.
fn raw_ping(port: u16, user: &str, n: usize) -> Result<Duration, String> {
    let mut pop = raw_login(port, user, FAST_TIMEOUT)?;
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        pop.command("NOOP")?;
        times.push(t.elapsed());
    }
    let _ = pop.quit();
    times.sort();
    Ok(times[times.len() / 2])
}

/// Logs in, sends `RETR msg` and reads (and drops) the answer up to its
/// terminator: the server's limit for one message. Returns the time from
/// connect to the terminator and the body bytes on the wire.
fn raw_retr(port: u16, user: &str, msg: u32, limit: Duration) -> Result<(Duration, u64), String> {
    let start = Instant::now();
    let mut pop = raw_login(port, user, limit)?;
    pop.command(&format!("RETR {msg}"))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    let mut tail = [0u8; 5];
    loop {
        let n = pop
            .read_raw(&mut buf)
            .map_err(|e| format!("after {bytes} bytes: {e}"))?;
        if n == 0 {
            return Err(format!("connection closed after {bytes} bytes"));
        }
        bytes += n as u64;
        // The last five bytes seen so far, across reads.
        let keep = n.min(5);
        tail.copy_within(keep.., 0);
        tail[5 - keep..].copy_from_slice(&buf[n - keep..n]);
        if tail == *b"\r\n.\r\n" {
            break;
        }
    }
    let elapsed = start.elapsed();
    let _ = pop.quit();
    // The terminator is not part of the message.
    Ok((elapsed, bytes - 3))
}

/// Logs in, sends single-line commands one at a time, returns the answers.
fn raw_session(port: u16, user: &str, commands: &[&str], limit: Duration) -> Result<Vec<String>, String> {
    let mut pop = raw_login(port, user, limit)?;
    let answers = commands.iter().map(|c| pop.command(c)).collect::<Result<_, _>>()?;
    let _ = pop.quit();
    Ok(answers)
}

/// Dovecot numbered the files we wrote in our order: message 1 is
/// ordinary(0) and message `count` is ordinary(count - 1).
fn check_order(port: u16, user: &str, count: usize) {
    let mut pop = raw_login(port, user, FAST_TIMEOUT).expect("login");
    for n in [1, count / 2, count] {
        let head = String::from_utf8_lossy(&pop.top(n as u32, 0)).into_owned();
        let want = format!("<{}.", n - 1);
        assert!(
            head.lines().any(|l| l.starts_with("Message-ID: ") && l.contains(&want)),
            "message {n} of {user} is not ordinary({}):\n{head}",
            n - 1
        );
    }
    let (messages, _) = pop.stat();
    assert_eq!(messages as usize, count, "{user}: STAT");
    let _ = pop.quit();
}

// ---------------------------------------------------------------------------
// Maildrops

/// Writes ordinary(0..count) straight into `~user/Maildir/cur`, in parallel,
/// named like the harness names deliveries (`<secs>.M<usecs>P<pid>Q<seq>`,
/// growing with the message number, so Dovecot numbers them in this order)
/// plus Dovecot's `,S=<size>,W=<virtual size>` and the `:2,` info suffix a
/// file in cur/ carries.
fn write_maildrop(dc: &Dovecot, user: &str, count: usize) {
    let cur = dc.maildir(user).join("cur");
    let (uid, gid) = dc.mail_owner();
    let base = epoch_secs();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let cur = &cur;
            scope.spawn(move || {
                for i in (t..count).step_by(threads) {
                    let message = maildrop::ordinary(i);
                    let name = maildir_name(base, i, message.len() as u64, maildrop::virtual_size(&message));
                    let path = cur.join(name);
                    fs::write(&path, &message).expect("write message");
                    chown(&path, uid, gid);
                }
            });
        }
    });
}

fn maildir_name(base: u64, seq: usize, size: u64, vsize: u64) -> String {
    let secs = base + seq as u64 / 1_000_000;
    let usecs = seq % 1_000_000;
    format!(
        "{secs}.M{usecs}P{pid}Q{seq}.popscope-bench,S={size},W={vsize}:2,",
        pid = std::process::id()
    )
}

fn chown(path: &Path, uid: u32, gid: u32) {
    // Only root may give files away; otherwise the harness runs Dovecot as us.
    if std::os::unix::fs::chown(path, Some(uid), Some(gid)).is_err() {
        let me = fs::metadata(path).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).ok();
        assert_eq!(me, Some(uid), "cannot chown {}", path.display());
    }
}

/// One message of about `bytes` bytes (76-character base64-style lines),
/// written streaming; returns its size on the wire (CRLF line ends), which
/// is what RETR yields.
fn write_big_message(dc: &Dovecot, user: &str, bytes: u64) -> u64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let cur = dc.maildir(user).join("cur");
    let tmp = dc.maildir(user).join("tmp").join("big.partial");
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp).expect("create big message"));
    let head = "From: Big Sender <big@example.com>\n\
                To: Alice Example <alice@example.test>\n\
                Subject: one big attachment\n\
                Date: Mon, 01 Jan 2024 12:00:00 +0000\n\
                Message-ID: <big-message@example.com>\n\
                MIME-Version: 1.0\n\
                Content-Type: application/octet-stream; name=\"big.bin\"\n\
                Content-Transfer-Encoding: base64\n\n";
    out.write_all(head.as_bytes()).expect("write");
    let mut size = head.len() as u64;
    let mut lines = head.matches('\n').count() as u64;
    let mut line = [0u8; 77];
    let mut k = 0usize;
    while size < bytes {
        for (j, c) in line[..76].iter_mut().enumerate() {
            *c = ALPHABET[(k * 7 + j) % 64];
        }
        line[76] = b'\n';
        out.write_all(&line).expect("write");
        size += 77;
        lines += 1;
        k += 1;
    }
    out.flush().expect("flush big message");
    drop(out);
    let (uid, gid) = dc.mail_owner();
    chown(&tmp, uid, gid);
    let vsize = size + lines;
    fs::rename(&tmp, cur.join(maildir_name(epoch_secs(), 0, size, vsize))).expect("move big message");
    vsize
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1_700_000_000, |d| d.as_secs())
}

// ---------------------------------------------------------------------------
// Section 2: 100,000 messages

fn section_scale(table: &mut Table, bin: &Path, port: u16, count: usize, ui: &UiResult) {
    progress(&format!("section 2: {count} messages, no delay"));
    let url = format!("pop3://{SCALE_USER}@127.0.0.1:{port}");
    let mut raw = Vec::new();
    let mut list = Vec::new();
    for run in 0..RUNS {
        progress(&format!("section 2: run {}/{RUNS}", run + 1));
        raw.push(raw_top_all(port, SCALE_USER, count, SCALE_TIMEOUT).expect("raw limit"));
        let r = run_measured(
            bin,
            &[
                "list",
                &url,
                "--json",
                "--tls",
                "none",
                "--allow-plaintext",
                "--auth",
                "USER",
            ],
            SCALE_TIMEOUT,
        );
        assert!(r.status.success(), "popscope list failed: {}\n{}", r.status, r.stderr);
        list.push(r);
    }
    list.sort_by_key(|r| r.wall);
    let list_med = &list[list.len() / 2];
    let raw_med = median_phase(&raw);
    let peak_max = list.iter().map(|r| r.peak_bytes).max().unwrap_or(0);
    table.row(
        "2a",
        &format!("popscope list --json > /dev/null, {count} messages (subprocess)"),
        format!(
            "{:.2} s, peak RSS {:.1} MB, CPU {} (runs {}; peak max {:.1} MB)",
            list_med.wall.as_secs_f64(),
            mb(list_med.peak_bytes),
            cpu(list_med.cpu_secs),
            list.iter()
                .map(|r| format!("{:.2}", r.wall.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", "),
            mb(peak_max)
        ),
        "",
        "",
    );
    table.row(
        "2b",
        &format!("raw limit, {count} TOPs in one write"),
        format!(
            "{:.2} s (login {:.0} ms; runs {})",
            raw_med.total.as_secs_f64(),
            ms(raw_med.login),
            raw.iter()
                .map(|r| format!("{:.2}", r.total.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "",
        "",
    );
    let ratio = list_med.wall.as_secs_f64() / raw_med.total.as_secs_f64();
    table.row(
        "2a/2b",
        "popscope list / raw limit",
        format!("{ratio:.2}×"),
        "≤ 2×",
        pass(ratio <= 2.0),
    );

    table.row(
        "2c",
        &format!("UI model: App fed LIST + UIDL + {count} TOP answers (fresh process)"),
        format!(
            "RSS {:.1} → {:.1} MB (growth {:.1} MB); process peak {:.1} MB; {:.2} s in App updates",
            mb(ui.rss_before),
            mb(ui.rss_after),
            mb(ui.rss_after.saturating_sub(ui.rss_before)),
            mb(ui.peak),
            ui.update_secs
        ),
        "peak < 100 MB",
        pass(ui.peak < 100_000_000),
    );
    table.row(
        "2d",
        &format!("frame render, {count} rows, TestBackend 120x40 (median of {FRAMES})"),
        format!(
            "{:.3} ms (p90 {:.3} ms, max {:.3} ms; one Down key in the App: {:.3} ms)",
            ui.frame_median_ms, ui.frame_p90_ms, ui.frame_max_ms, ui.key_down_ms
        ),
        "< 2 ms",
        pass(ui.frame_median_ms < 2.0),
    );
    let per_line_ns = ui.trace_push_secs * 1e9 / ui.trace_lines;
    table.row(
        "2e",
        &format!(
            "trace store: {count} TOPs ({} lines, 2 KiB payload samples) pushed as the driver does",
            ui.trace_lines
        ),
        format!(
            "{:.2} s, {per_line_ns:.0} ns a line; holds {:.1} MB (budget 8 MB bulk + 2 MB essential), RSS growth {:.1} MB",
            ui.trace_push_secs,
            mb(ui.trace_held),
            mb(ui.trace_rss_growth)
        ),
        "< 2 µs a line, < 12 MB held",
        pass(per_line_ns < 2000.0 && ui.trace_held < 12_000_000),
    );
    table.row(
        "2f",
        &format!("frame with the trace pane after {count} TOPs: group collapsed / expanded (median of {FRAMES})"),
        format!(
            "{:.3} ms / {:.3} ms (first frame after a change: {:.3} ms / {:.3} ms)",
            ui.trace_collapsed_median_ms,
            ui.trace_expanded_median_ms,
            ui.trace_collapsed_first_ms,
            ui.trace_expanded_first_ms
        ),
        "< 2 ms",
        pass(ui.trace_collapsed_median_ms < 2.0 && ui.trace_expanded_median_ms < 2.0),
    );
}

#[derive(Debug, Default)]
struct UiResult {
    filters: Vec<clean::FilterResult>,
    rss_before: u64,
    rss_after: u64,
    peak: u64,
    update_secs: f64,
    frame_median_ms: f64,
    frame_p90_ms: f64,
    frame_max_ms: f64,
    key_down_ms: f64,
    trace_lines: f64,
    trace_push_secs: f64,
    trace_rss_growth: u64,
    trace_held: u64,
    trace_collapsed_first_ms: f64,
    trace_collapsed_median_ms: f64,
    trace_expanded_first_ms: f64,
    trace_expanded_median_ms: f64,
}

fn run_ui_child(count: usize) -> UiResult {
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Process::new(exe)
        .env(CHILD_ENV, count.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the UI-model child");
    let mut stdout = child.stdout.take().expect("child stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let status = wait_with_timeout(&mut child, SCALE_TIMEOUT);
    let text = reader.join().unwrap_or_default();
    assert!(status.success(), "UI-model child failed ({status}):\n{text}");
    let mut r = UiResult::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let num = |v: &str| v.trim().parse::<f64>().unwrap_or(f64::NAN);
        match key.trim() {
            "filter" => r.filters.extend(clean::parse_filter_line(value)),
            "rss_before" => r.rss_before = num(value) as u64,
            "rss_after" => r.rss_after = num(value) as u64,
            "peak" => r.peak = num(value) as u64,
            "update_secs" => r.update_secs = num(value),
            "frame_median_ms" => r.frame_median_ms = num(value),
            "frame_p90_ms" => r.frame_p90_ms = num(value),
            "frame_max_ms" => r.frame_max_ms = num(value),
            "key_down_ms" => r.key_down_ms = num(value),
            "trace_lines" => r.trace_lines = num(value),
            "trace_push_secs" => r.trace_push_secs = num(value),
            "trace_rss_growth" => r.trace_rss_growth = num(value) as u64,
            "trace_held" => r.trace_held = num(value) as u64,
            "trace_collapsed_first_ms" => r.trace_collapsed_first_ms = num(value),
            "trace_collapsed_median_ms" => r.trace_collapsed_median_ms = num(value),
            "trace_expanded_first_ms" => r.trace_expanded_first_ms = num(value),
            "trace_expanded_median_ms" => r.trace_expanded_median_ms = num(value),
            _ => {}
        }
    }
    r
}

/// The child: builds an `App`, answers its LIST, UIDL and every TOP it
/// asks for with realistic header blocks (the way the event loop would),
/// then renders frames. Prints `key=value` lines.
fn ui_model_child(count: usize) {
    let rss_before = proc_status_bytes("self", "VmRSS").unwrap_or(0);
    let facts = ConnectionFacts {
        server: "127.0.0.1:110".into(),
        security: "none".into(),
        verified: false,
        demo: false,
        top: Offer::Listed,
        uidl: Offer::Listed,
        window: DEFAULT_WINDOW,
    };
    let mut app = App::new(facts, (120, 40));
    let mut queue: VecDeque<Effect> = app.start().into();
    let mut in_app = Duration::ZERO;
    let mut tops = 0usize;
    while let Some(effect) = queue.pop_front() {
        let Effect::Submit { ticket, command, .. } = effect else {
            continue;
        };
        if let Command::Stat = command {
            let event = SessionEvent::Completed {
                ticket,
                command: CommandKind::Stat,
                outcome: Outcome::Ok(Reply {
                    status: StatusLine {
                        status: Status::Ok,
                        code: None,
                        text: format!("{count} {}", count * 4096),
                    },
                    body: None,
                }),
            };
            queue.extend(app.handle_session_event(event));
            continue;
        }
        let (kind, payload) = match command {
            Command::List(None) => {
                let mut p = String::with_capacity(count * 14);
                for i in 0..count {
                    let _ = write!(p, "{} {}\r\n", i + 1, maildrop::virtual_size(&maildrop::ordinary(i)));
                }
                (CommandKind::List(None), p.into_bytes())
            }
            Command::Uidl(None) => {
                let mut p = String::with_capacity(count * 24);
                for i in 0..count {
                    let _ = write!(p, "{} {:08X}{:08X}\r\n", i + 1, i + 1, 1_700_000_000u32);
                }
                (CommandKind::Uidl(None), p.into_bytes())
            }
            Command::Top { msg, lines } => {
                tops += 1;
                (
                    CommandKind::Top { msg, lines },
                    maildrop::top0(&maildrop::ordinary(msg as usize - 1)),
                )
            }
            other => panic!("the UI model asked for {other:?}"),
        };
        let total_bytes = payload.len() as u64;
        let lines = payload.iter().filter(|&&b| b == b'\n').count() as u64;
        let event = SessionEvent::Completed {
            ticket,
            command: kind,
            outcome: Outcome::Ok(Reply {
                status: StatusLine {
                    status: Status::Ok,
                    code: None,
                    text: String::new(),
                },
                body: Some(Body::Collected {
                    bytes: payload,
                    truncated: false,
                    lines,
                    total_bytes,
                }),
            }),
        };
        let t = Instant::now();
        let more = app.handle_session_event(event);
        in_app += t.elapsed();
        queue.extend(more);
    }
    let loaded = app
        .list
        .rows
        .iter()
        .filter(|r| matches!(r.headers, Headers::Loaded(_)))
        .count();
    assert_eq!(app.list.rows.len(), count, "rows");
    assert_eq!(loaded, count, "rows with headers (TOPs answered: {tops})");
    let rss_after = proc_status_bytes("self", "VmRSS").unwrap_or(0);

    // Frames: scroll one row per frame from the middle of the list.
    let backend = ratatui::backend::TestBackend::new(120, 40);
    let mut terminal = ratatui::Terminal::new(backend).expect("terminal");
    app.list.selected = count / 2;
    app.list.offset = (count / 2).saturating_sub(10);
    let mut frames = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        let t = Instant::now();
        terminal.draw(|frame| popscope::ui::draw(frame, &app)).expect("draw");
        frames.push(ms(t.elapsed()));
        app.list.selected += 1;
        app.list.offset += 1;
    }
    // The key path too (not timed above): a key press must keep up as well.
    let t = Instant::now();
    let _ = app.handle_action(Action::Down);
    let key_ms = ms(t.elapsed());
    frames.sort_by(f64::total_cmp);
    let peak = proc_status_bytes("self", "VmHWM").unwrap_or(0);
    println!("rss_before={rss_before}");
    println!("rss_after={rss_after}");
    println!("peak={peak}");
    println!("update_secs={}", in_app.as_secs_f64());
    println!("frame_median_ms={}", frames[frames.len() / 2]);
    println!("frame_p90_ms={}", frames[frames.len() * 9 / 10]);
    println!("frame_max_ms={}", frames[frames.len() - 1]);
    println!("key_down_ms={key_ms}");
    clean::measure_filter(&app);
    trace_model(&mut app, count, &mut terminal);
}

/// The trace the inspector keeps of the same sweep, measured after the
/// rest (so it does not change the figures above): a C:, an S: and a
/// payload line per TOP, built as the client builds them (a sample of at
/// most 2 KiB of the header block) and pushed through the store's
/// observer as the driver does (only the pushes are timed; making the
/// records was the client's cost before the store too); then frames with the trace pane shown,
/// collapsed and with the TOP group expanded. Prints `trace_*` lines.
fn trace_model(app: &mut App, count: usize, terminal: &mut ratatui::Terminal<ratatui::backend::TestBackend>) {
    use popscope::pop3::client::{BatchSize, Direction, Payload};
    let rss_before = proc_status_bytes("self", "VmRSS").unwrap_or(0);
    let mut observer = app.trace.store.observer();
    let mut push = Duration::ZERO;
    for i in 0..count {
        let msg = i as u32 + 1;
        let kind = CommandKind::Top { msg, lines: 0 };
        let at = Duration::from_micros(i as u64 * 10);
        let batch = i as u64 / 1000 + 3;
        let header = maildrop::top0(&maildrop::ordinary(i));
        let lines = header.iter().filter(|&&b| b == b'\n').count() as u64;
        let sample = header[..header.len().min(2048)].to_vec();
        let text = format!("TOP {msg} 0");
        let entries = [
            TraceEntry {
                command: Some(kind),
                batch: Some(batch),
                bytes: Some(text.len() as u64 + 2),
                opens_batch: (i % 1000 == 0).then_some(BatchSize {
                    lines: 1000,
                    bytes: Some(11_000),
                }),
                ..TraceEntry::new(at, Direction::Sent, text)
            },
            TraceEntry {
                command: Some(kind),
                batch: Some(batch),
                rtt: Some(Duration::from_micros(2_000 + (i as u64 % 1000) * 3)),
                bytes: Some(5),
                ..TraceEntry::new(at, Direction::Received, "+OK".into())
            },
            TraceEntry {
                command: Some(kind),
                batch: Some(batch),
                bytes: Some(header.len() as u64),
                payload: Some(Payload::new(sample, lines, header.len() as u64)),
                ..TraceEntry::new(
                    at,
                    Direction::Received,
                    format!("<{lines} lines, {} bytes>", header.len()),
                )
            },
        ];
        // Timed: the store's part (the client made such records before).
        let t = Instant::now();
        for entry in entries {
            observer.entry(entry);
        }
        push += t.elapsed();
    }
    let rss_after = proc_status_bytes("self", "VmRSS").unwrap_or(0);
    let held = app.trace.store.lock().memory();
    let frame = |app: &App, terminal: &mut ratatui::Terminal<ratatui::backend::TestBackend>| {
        let t = Instant::now();
        terminal.draw(|frame| popscope::ui::draw(frame, app)).expect("draw");
        ms(t.elapsed())
    };
    app.handle_action(Action::ToggleTrace);
    app.handle_action(Action::FocusTrace);
    let collapsed_first = frame(app, terminal);
    let mut collapsed: Vec<f64> = (0..FRAMES).map(|_| frame(app, terminal)).collect();
    collapsed.sort_by(f64::total_cmp);
    app.handle_action(Action::Open);
    let expanded_first = frame(app, terminal);
    let mut expanded: Vec<f64> = (0..FRAMES).map(|_| frame(app, terminal)).collect();
    expanded.sort_by(f64::total_cmp);
    println!("trace_lines={}", count * 3);
    println!("trace_push_secs={}", push.as_secs_f64());
    println!("trace_rss_growth={}", rss_after.saturating_sub(rss_before));
    println!("trace_held={held}");
    println!("trace_collapsed_first_ms={collapsed_first}");
    println!("trace_collapsed_median_ms={}", collapsed[collapsed.len() / 2]);
    println!("trace_expanded_first_ms={expanded_first}");
    println!("trace_expanded_median_ms={}", expanded[expanded.len() / 2]);
}

// ---------------------------------------------------------------------------
// Section 3: one big message

fn section_big(table: &mut Table, bin: &Path, port: u16, wire_size: u64) {
    progress(&format!(
        "section 3: RETR of one {:.1} MB message",
        wire_size as f64 / 1e6
    ));
    let url = format!("pop3://{BIG_USER}@127.0.0.1:{port}");
    let plain = ["--tls", "none", "--allow-plaintext", "--auth", "USER"];
    let out_dir = tempfile::Builder::new()
        .prefix("popscope-bench-out-")
        .tempdir()
        .expect("output dir");
    let pop_file = out_dir.path().join("popscope.eml");
    let curl_file = out_dir.path().join("curl.eml");
    let pop_file_s = pop_file.display().to_string();
    let curl_file_s = curl_file.display().to_string();

    let mut baseline = Vec::new();
    let mut pop = Vec::new();
    let mut curl = Vec::new();
    let mut raw = Vec::new();
    let mut sizes_ok = true;
    let mut size_note = String::new();
    for run in 0..BIG_RUNS {
        progress(&format!("section 3: run {}/{BIG_RUNS}", run + 1));
        let (t, bytes) = raw_retr(port, BIG_USER, 1, FAST_TIMEOUT).expect("raw RETR");
        assert_eq!(bytes, wire_size, "raw RETR size");
        raw.push(t);
        let mut args = vec!["check", url.as_str()];
        args.extend(plain);
        let b = run_measured(bin, &args, FAST_TIMEOUT);
        assert!(b.status.success(), "popscope check failed: {}\n{}", b.status, b.stderr);
        baseline.push(b);

        let mut args = vec!["retr", url.as_str(), "--msg", "1", "-o", pop_file_s.as_str()];
        args.extend(plain);
        let p = run_measured(bin, &args, FAST_TIMEOUT);
        assert!(p.status.success(), "popscope retr failed: {}\n{}", p.status, p.stderr);
        let p_size = fs::metadata(&pop_file).map_or(0, |m| m.len());
        pop.push(p);

        let curl_url = format!("pop3://127.0.0.1:{port}/1");
        let user = format!("{BIG_USER}:{PASSWORD}");
        let c = run_measured(
            Path::new("curl"),
            &["-s", "-S", "-u", &user, &curl_url, "-o", &curl_file_s],
            FAST_TIMEOUT,
        );
        assert!(c.status.success(), "curl failed: {}\n{}", c.status, c.stderr);
        let c_size = fs::metadata(&curl_file).map_or(0, |m| m.len());
        curl.push(c);
        if p_size != c_size || p_size != wire_size {
            sizes_ok = false;
        }
        size_note = format!("popscope {p_size} B, curl {c_size} B, expected {wire_size} B");
        let _ = fs::remove_file(&pop_file);
        let _ = fs::remove_file(&curl_file);
    }
    baseline.sort_by_key(|r| r.peak_bytes);
    pop.sort_by_key(|r| r.wall);
    curl.sort_by_key(|r| r.wall);
    raw.sort();
    let raw_med = raw[raw.len() / 2];
    let base = &baseline[baseline.len() / 2];
    let p = &pop[pop.len() / 2];
    let c = &curl[curl.len() / 2];
    let p_peak = pop.iter().map(|r| r.peak_bytes).max().unwrap_or(0);
    let c_peak = curl.iter().map(|r| r.peak_bytes).max().unwrap_or(0);
    let rate = |wall: Duration| wire_size as f64 / 1e6 / wall.as_secs_f64();
    let walls = |runs: &[ProcRun]| {
        runs.iter()
            .map(|r| format!("{:.2}", r.wall.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    table.row(
        "3·",
        &format!("baseline: popscope check, peak RSS (median of {BIG_RUNS})"),
        format!("{:.1} MB", mb(base.peak_bytes)),
        "",
        "",
    );
    let growth = p_peak.saturating_sub(base.peak_bytes);
    table.row(
        "3a",
        &format!(
            "popscope retr --msg 1 -o FILE, {:.1} MB (median of {BIG_RUNS})",
            wire_size as f64 / 1e6
        ),
        format!(
            "{:.2} s, {:.0} MB/s, peak RSS {:.1} MB (growth {:.1} MB over check), CPU {} (runs {} s)",
            p.wall.as_secs_f64(),
            rate(p.wall),
            mb(p_peak),
            mb(growth),
            cpu(p.cpu_secs),
            walls(&pop)
        ),
        "growth < 16 MB",
        pass(growth < 16_000_000),
    );
    table.row(
        "3b",
        &format!("curl -s -u USER:PASS pop3://127.0.0.1:PORT/1 -o FILE (median of {BIG_RUNS})"),
        format!(
            "{:.2} s, {:.0} MB/s, peak RSS {:.1} MB, CPU {} (runs {} s)",
            c.wall.as_secs_f64(),
            rate(c.wall),
            mb(c_peak),
            cpu(c.cpu_secs),
            walls(&curl)
        ),
        "",
        "",
    );
    table.row(
        "3c",
        "raw limit: the bench's client, login + RETR read and dropped (median)",
        format!(
            "{:.2} s, {:.0} MB/s (runs {} s)",
            raw_med.as_secs_f64(),
            rate(raw_med),
            raw.iter()
                .map(|d| format!("{:.2}", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "",
        "",
    );
    let ratio = rate(p.wall) / rate(c.wall);
    table.row(
        "3a/3b",
        "throughput popscope / curl",
        format!("{ratio:.2}×"),
        "≥ 1×",
        pass(ratio >= 1.0),
    );
    table.row("3=", "both files the same size", size_note, "equal", pass(sizes_ok));
}

// ---------------------------------------------------------------------------
// Subprocesses

struct ProcRun {
    wall: Duration,
    peak_bytes: u64,
    /// User + system CPU seconds (GNU time only).
    cpu_secs: Option<f64>,
    status: ExitStatus,
    stderr: String,
}

const GNU_TIME: &str = "/usr/bin/time";

fn gnu_time_available() -> bool {
    Process::new(GNU_TIME)
        .args(["-f", "%M", "-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `program args` with stdout to /dev/null, POPSCOPE_PASSWORD set,
/// stdin closed; measures wall time and peak RSS. Killed after `limit`.
fn run_measured(program: &Path, args: &[&str], limit: Duration) -> ProcRun {
    let stats = tempfile::NamedTempFile::new().expect("temp file");
    let use_time = gnu_time_available();
    let mut command = if use_time {
        let mut c = Process::new(GNU_TIME);
        c.arg("-f").arg("%M %U %S").arg("-o").arg(stats.path()).arg(program);
        c
    } else {
        Process::new(program)
    };
    let stderr_file = tempfile::NamedTempFile::new().expect("temp file");
    command
        .args(args)
        .env("POPSCOPE_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr_file.reopen().expect("reopen"));
    let start = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let pid = child.id();
    let mut polled_peak = 0u64;
    let deadline = start + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if !use_time && let Some(hwm) = proc_status_bytes(&pid.to_string(), "VmHWM") {
            polled_peak = polled_peak.max(hwm);
        }
        if Instant::now() >= deadline {
            kill_tree(&mut child);
            panic!("{} {args:?} did not finish within {limit:?}", program.display());
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let wall = start.elapsed();
    let (peak_bytes, cpu_secs) = if use_time {
        // The last line holds "%M %U %S" (an earlier one may say "Command
        // exited with non-zero status").
        let text = fs::read_to_string(stats.path()).unwrap_or_default();
        let last: Vec<f64> = text
            .lines()
            .next_back()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        match last[..] {
            [kib, user, sys] => (kib as u64 * 1024, Some(user + sys)),
            _ => (0, None),
        }
    } else {
        (polled_peak, None)
    };
    let stderr = fs::read_to_string(stderr_file.path()).unwrap_or_default();
    ProcRun {
        wall,
        peak_bytes,
        cpu_secs,
        status,
        stderr,
    }
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() >= deadline {
            kill_tree(child);
            panic!("child process did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills our child and its direct children (GNU time's child), by pid.
fn kill_tree(child: &mut Child) {
    let pid = child.id();
    let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for grandchild in children.split_whitespace() {
        let _ = Process::new("kill").arg("-9").arg(grandchild).status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A `kB` field of /proc/PID/status, in bytes.
fn proc_status_bytes(pid: &str, field: &str) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    let kb: u64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The popscope binary: `$POPSCOPE_BIN` if set, else the one cargo built
/// for this bench. Cargo builds a package's binaries before its benches and
/// integration tests and passes the path as `CARGO_BIN_EXE_<name>` at
/// compile time, so it is always the binary of the source being measured,
/// from the same target dir and profile (`bench`, which inherits
/// `release`).
fn popscope_binary() -> PathBuf {
    let path =
        std::env::var_os("POPSCOPE_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_popscope")), PathBuf::from);
    assert!(path.is_file(), "no popscope binary at {}", path.display());
    path
}

// ---------------------------------------------------------------------------
// The table and the docs

#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn row(&mut self, id: &str, what: &str, value: String, target: &str, result: &str) {
        eprintln!("  {id:<6} {what}: {value} {target} {result}");
        self.rows
            .push([id.into(), what.into(), value, target.into(), result.into()]);
    }

    fn render(&self) -> String {
        let mut s = String::from("| # | measurement | result | target | verdict |\n|---|---|---|---|---|\n");
        for [id, what, value, target, result] in &self.rows {
            let _ = writeln!(s, "| {id} | {what} | {value} | {target} | {result} |");
        }
        s
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "**MISS**" }
}

fn docs_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md")
}

fn write_docs(table: &str, total: Duration, sizes: &str, load: &str) {
    let path = docs_path();
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let dovecot_version = dovecot::dovecot_binary()
        .and_then(|b| Process::new(b).arg("--version").output().ok())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut block = String::new();
    let _ = writeln!(block, "{BEGIN_MARK}");
    let _ = writeln!(block, "Command: `{COMMAND_LINE}`\n");
    let _ = writeln!(block, "- date: {}", shell("date -u '+%Y-%m-%d %H:%M:%S UTC'"));
    let _ = writeln!(block, "- uname -a: `{}`", shell("uname -a"));
    let _ = writeln!(block, "- CPU: {cpu} ({cores} cores)");
    let _ = writeln!(block, "- Dovecot: {dovecot_version}");
    let _ = writeln!(block, "- sizes: {sizes}");
    let _ = writeln!(block, "- load average (1/5/15 min): {load}");
    let _ = writeln!(block, "- whole bench: {:.0} s\n", total.as_secs_f64());
    block.push_str(table);
    let _ = writeln!(block, "{END_MARK}");
    let old = fs::read_to_string(&path).unwrap_or_default();
    let new = match (old.find(BEGIN_MARK), old.find(END_MARK)) {
        (Some(a), Some(b)) if a < b => {
            let rest = old[b + END_MARK.len()..].trim_start_matches('\n');
            format!("{}{block}\n{rest}", &old[..a])
        }
        _ => format!("# Benchmarks\n\n{block}\n{old}"),
    };
    fs::write(&path, new).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    progress(&format!("wrote {}", path.display()));
}

/// A run of some sections only (`POPSCOPE_BENCH_SECTIONS`): their rows
/// replace the same sections' rows in the committed block, in place, the
/// other rows stay, and a line says which sections were re-run when.
fn write_docs_sections(table: &Table, sections: &Sections, load: &str) {
    let path = docs_path();
    let old = fs::read_to_string(&path).unwrap_or_default();
    let (Some(begin), Some(end)) = (old.find(BEGIN_MARK), old.find(END_MARK)) else {
        progress("docs/benchmarks.md has no generated block yet: run every section once");
        return;
    };
    let section_of = |line: &str| {
        line.strip_prefix("| ")
            .and_then(|rest| rest.chars().next())
            .and_then(|c| c.to_digit(10))
            .map(|d| d as u8)
    };
    let rendered = table.render();
    let new_rows: Vec<&str> = rendered.lines().skip(2).collect();
    let note_prefix = "- re-run alone: ";
    let mut lines: Vec<String> = Vec::new();
    let mut placed: Vec<u8> = Vec::new();
    let listed: Vec<String> = sections.0.iter().map(u8::to_string).collect();
    // A note on an earlier re-run of other sections stays.
    let same_run = format!("{note_prefix}section {} on ", listed.join(", "));
    for line in old[begin..end].lines() {
        if line.starts_with(&same_run) {
            continue;
        }
        if line.starts_with("- whole bench: ") {
            // Where Dovecot's files live changes what its deletions cost.
            let tmpdir = std::env::var("TMPDIR").map_or_else(|_| String::new(), |dir| format!("TMPDIR={dir} "));
            lines.push(format!(
                "{note_prefix}section {} on {} (`{tmpdir}POPSCOPE_BENCH_SECTIONS={} {COMMAND_LINE}`; load {load})",
                listed.join(", "),
                shell("date -u '+%Y-%m-%d %H:%M:%S UTC'"),
                listed.join(",")
            ));
        }
        match section_of(line) {
            Some(n) if sections.has(n) => {
                if !placed.contains(&n) {
                    placed.push(n);
                    lines.extend(
                        new_rows
                            .iter()
                            .filter(|r| section_of(r) == Some(n))
                            .map(|r| r.to_string()),
                    );
                }
            }
            _ => lines.push(line.to_string()),
        }
    }
    // Sections the block did not have yet go at the end of the table.
    for n in sections.0.iter().filter(|n| !placed.contains(n)) {
        lines.extend(
            new_rows
                .iter()
                .filter(|r| section_of(r) == Some(*n))
                .map(|r| r.to_string()),
        );
    }
    let new = format!("{}\n{}", lines.join("\n"), &old[end..]);
    fs::write(&path, format!("{}{new}", &old[..begin])).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    progress(&format!("updated sections {:?} in {}", sections.0, path.display()));
}

/// The first three fields of /proc/loadavg.
fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn shell(command: &str) -> String {
    Process::new("sh")
        .arg("-c")
        .arg(command)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Small helpers

fn progress(text: &str) {
    eprintln!("[pop3 bench] {text}");
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn cpu(secs: Option<f64>) -> String {
    secs.map_or_else(|| "n/a".into(), |s| format!("{s:.2} s"))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
