//! The fetch sections of the bench: downloading a maildrop.
//!
//! - Fetch 2,000 messages behind the 10 ms proxy into a Maildir:
//!   `popscope fetch` against `mpop --delivery=maildir,DIR --keep=on
//!   --only-new=off`, both as subprocesses, runs interleaved; the raw limit
//!   (every `RETR n` in one write, read to the last terminator and
//!   dropped); and one library run (`transfer::save_messages`) that says
//!   where popscope's time goes (login, LIST+UIDL, then the writer thread:
//!   waiting for the network, writing files, waiting for sync jobs, and
//!   the jobs' own overlapped time).
//! - Fetch one ~100 MB message into a Maildir: time and peak RSS of
//!   `popscope fetch` against its baseline (`popscope check`), and mpop's.
//!
//! mpop is installed with apt-get when it is missing and the bench runs as
//! root (as `.ci/run` does); otherwise its rows are skipped (a failure
//! under `CI`).

use super::{
    BIG_USER, DEFAULT_WINDOW, DelayProxy, FAST_TIMEOUT, ONE_WAY_DELAY, OPEN_MESSAGES, OPEN_USER, PASSWORD, ProcRun,
    Table, mb, ms, pass, progress, run_measured, session_config,
};
use popscope::mailbox::{apply_list, apply_stat};
use popscope::pop3::client::Command;
use popscope::pop3::response::parse_uidl;
use popscope::session::{Observers, open};
use popscope::store::{Format, open_sink};
use popscope::transfer::{Cancel, TransferOptions, Wanted, save_messages};
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

/// Runs per client; interleaved, the median is reported.
const FETCH_RUNS: usize = 5;
/// Runs per client for the big message.
const BIG_FETCH_RUNS: usize = 3;
/// popscope's target against mpop.
const TARGET_RATIO: f64 = 0.5;
/// Extra memory a 100 MB message may cost.
const BIG_GROWTH_LIMIT: u64 = 16_000_000;

/// 2,000 messages behind the proxy: popscope fetch, mpop, the raw limit.
pub(super) fn section_fetch(table: &mut Table, runtime: &tokio::runtime::Runtime, bin: &Path, dovecot_port: u16) {
    let proxy = DelayProxy::start(SocketAddr::from((Ipv4Addr::LOCALHOST, dovecot_port)), ONE_WAY_DELAY);
    let port = proxy.port;
    progress(&format!(
        "fetch: {OPEN_MESSAGES} messages through the delay proxy on port {port}"
    ));
    let mpop = mpop_available();
    let work = tempfile::Builder::new()
        .prefix("popscope-bench-fetch-")
        .tempdir()
        .expect("temp dir");
    let mut pop = Vec::new();
    let mut mp = Vec::new();
    let mut raw = Vec::new();
    let mut bytes_ok = None;
    for run in 0..FETCH_RUNS {
        progress(&format!("fetch: run {}/{FETCH_RUNS}", run + 1));
        let dir = work.path().join(format!("popscope-{run}"));
        let r = popscope_fetch(bin, port, OPEN_USER, &dir);
        let (count, bytes) = maildir_totals(&dir);
        assert_eq!(count, OPEN_MESSAGES, "popscope fetched {count} messages");
        pop.push(r.wall);
        if mpop {
            let dir = work.path().join(format!("mpop-{run}"));
            let r = mpop_fetch(port, OPEN_USER, &dir, &work.path().join(format!("uidls-{run}")));
            assert_eq!(maildir_totals(&dir).0, OPEN_MESSAGES, "mpop fetched too few");
            mp.push(r.wall);
            let _ = fs::remove_dir_all(&dir);
        }
        let (t, raw_bytes) = raw_retr_all(port, OPEN_USER, OPEN_MESSAGES).expect("raw limit");
        raw.push(t);
        bytes_ok = Some((bytes, raw_bytes));
        let _ = fs::remove_dir_all(&dir);
    }
    let pop_t = median(&pop);
    let raw_t = median(&raw);
    table.row(
        "6a",
        &format!("popscope fetch of {OPEN_MESSAGES} messages into a Maildir (subprocess, median of {FETCH_RUNS})"),
        format!("{:.0} ms (runs {})", ms(pop_t), list(&pop)),
        "",
        "",
    );
    if mpop {
        let mpop_t = median(&mp);
        table.row(
            "6b",
            &format!("mpop --delivery=maildir,DIR --keep=on --only-new=off (median of {FETCH_RUNS})"),
            format!("{:.0} ms (runs {})", ms(mpop_t), list(&mp)),
            "",
            "",
        );
        let ratio = pop_t.as_secs_f64() / mpop_t.as_secs_f64();
        table.row(
            "6a/6b",
            "popscope fetch / mpop",
            format!("{ratio:.2}×"),
            &format!("≤ {TARGET_RATIO}×"),
            pass(ratio <= TARGET_RATIO),
        );
    }
    table.row(
        "6c",
        "raw limit: USER/PASS, then every RETR n in one write, read to the end and dropped",
        format!("{:.0} ms (runs {})", ms(raw_t), list(&raw)),
        "",
        "",
    );
    table.row(
        "6a/6c",
        "popscope fetch / raw limit",
        format!("{:.2}×", pop_t.as_secs_f64() / raw_t.as_secs_f64()),
        "",
        "",
    );
    if let Some((saved, wire)) = bytes_ok {
        table.row(
            "6=",
            "bytes saved by popscope = bytes of the raw client's RETRs",
            format!("{saved} B saved, {wire} B retrieved"),
            "equal",
            pass(saved == wire),
        );
    }
    match lib_fetch(runtime, port, work.path()) {
        Ok(text) => table.row("6·", "where popscope's time goes (one library run)", text, "", ""),
        Err(e) => progress(&format!("fetch: library run failed: {e}")),
    }
    drop(proxy);
}

/// One ~100 MB message: time and memory.
pub(super) fn section_fetch_big(table: &mut Table, bin: &Path, port: u16, wire_size: u64) {
    progress(&format!("fetch: one {:.1} MB message", wire_size as f64 / 1e6));
    let work = tempfile::Builder::new()
        .prefix("popscope-bench-fetch-big-")
        .tempdir()
        .expect("temp dir");
    let url = format!("pop3://{BIG_USER}@127.0.0.1:{port}");
    let mut baseline = Vec::new();
    let mut pop = Vec::new();
    let mut mp = Vec::new();
    let mpop = mpop_available();
    for run in 0..BIG_FETCH_RUNS {
        progress(&format!("fetch: big message, run {}/{BIG_FETCH_RUNS}", run + 1));
        let b = run_measured(
            bin,
            &["check", &url, "--tls", "none", "--allow-plaintext", "--auth", "USER"],
            FAST_TIMEOUT,
        );
        assert!(b.status.success(), "popscope check failed: {}", b.stderr);
        baseline.push(b.peak_bytes);
        let dir = work.path().join(format!("popscope-{run}"));
        let r = popscope_fetch(bin, port, BIG_USER, &dir);
        assert_eq!(maildir_totals(&dir), (1, wire_size), "the big message, byte count");
        pop.push(r);
        let _ = fs::remove_dir_all(&dir);
        if mpop {
            let dir = work.path().join(format!("mpop-{run}"));
            mp.push(mpop_fetch(
                port,
                BIG_USER,
                &dir,
                &work.path().join(format!("uidls-{run}")),
            ));
            let _ = fs::remove_dir_all(&dir);
        }
    }
    baseline.sort_unstable();
    let base = baseline[baseline.len() / 2];
    let peak = pop.iter().map(|r| r.peak_bytes).max().unwrap_or(0);
    let walls: Vec<Duration> = pop.iter().map(|r| r.wall).collect();
    let growth = peak.saturating_sub(base);
    let rate = |d: Duration| wire_size as f64 / 1e6 / d.as_secs_f64();
    table.row(
        "7a",
        &format!(
            "popscope fetch of one {:.1} MB message into a Maildir (median of {BIG_FETCH_RUNS})",
            wire_size as f64 / 1e6
        ),
        format!(
            "{:.2} s, {:.0} MB/s, peak RSS {:.1} MB, growth {:.1} MB over check ({:.1} MB) (runs {} ms)",
            median(&walls).as_secs_f64(),
            rate(median(&walls)),
            mb(peak),
            mb(growth),
            mb(base),
            list(&walls)
        ),
        "growth < 16 MB",
        pass(growth < BIG_GROWTH_LIMIT),
    );
    if mpop {
        let walls: Vec<Duration> = mp.iter().map(|r| r.wall).collect();
        let peak = mp.iter().map(|r| r.peak_bytes).max().unwrap_or(0);
        table.row(
            "7b",
            "mpop, the same message",
            format!(
                "{:.2} s, {:.0} MB/s, peak RSS {:.1} MB (runs {} ms)",
                median(&walls).as_secs_f64(),
                rate(median(&walls)),
                mb(peak),
                list(&walls)
            ),
            "",
            "",
        );
    }
}

fn popscope_fetch(bin: &Path, port: u16, user: &str, dir: &Path) -> ProcRun {
    let url = format!("pop3://{user}@127.0.0.1:{port}");
    let to = dir.display().to_string();
    let args = [
        "fetch",
        &url,
        "--tls",
        "none",
        "--allow-plaintext",
        "--auth",
        "USER",
        "--to",
        &to,
    ];
    let r = run_measured(bin, &args, FAST_TIMEOUT);
    assert!(r.status.success(), "popscope fetch failed: {}\n{}", r.status, r.stderr);
    r
}

fn mpop_fetch(port: u16, user: &str, dir: &Path, uidls: &Path) -> ProcRun {
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(dir.join(sub)).expect("mpop's Maildir");
    }
    let args = [
        "--host=127.0.0.1".to_string(),
        format!("--port={port}"),
        "--tls=off".into(),
        "--auth=user".into(),
        format!("--user={user}"),
        // The bench's own password, through the bench's environment.
        "--passwordeval=printf %s \"$POPSCOPE_PASSWORD\"".into(),
        format!("--delivery=maildir,{}", dir.display()),
        "--keep=on".into(),
        "--only-new=off".into(),
        format!("--uidls-file={}", uidls.display()),
        "--quiet".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_measured(Path::new("mpop"), &args, FAST_TIMEOUT);
    assert!(r.status.success(), "mpop failed: {}\n{}", r.status, r.stderr);
    r
}

/// Messages and bytes in `dir/new` and `dir/cur`.
fn maildir_totals(dir: &Path) -> (usize, u64) {
    let mut count = 0;
    let mut bytes = 0;
    for sub in ["new", "cur"] {
        for entry in fs::read_dir(dir.join(sub)).into_iter().flatten() {
            let entry = entry.expect("read the Maildir");
            count += 1;
            bytes += entry.metadata().map_or(0, |m| m.len());
        }
    }
    (count, bytes)
}

/// Whether `mpop` can be run, installing it with apt-get if it is
/// missing and we may.
fn mpop_available() -> bool {
    let runs = || {
        Process::new("mpop")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if runs() {
        return true;
    }
    let root = fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    if root {
        progress("mpop is missing: apt-get install -y mpop");
        let _ = Process::new("apt-get")
            .args(["install", "-y", "-qq", "mpop"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status();
    }
    if runs() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "mpop is not installed (apt-get install -y mpop)"
    );
    progress("mpop is not installed (apt-get install -y mpop); its rows are skipped");
    false
}

/// Logs in, writes `RETR 1` .. `RETR count` in one write (from a second
/// thread), reads until the `count`-th terminator line and drops the
/// bytes. Returns the time from connect and the bytes of the messages
/// (dot-unstuffed, as a client saves them).
fn raw_retr_all(port: u16, user: &str, count: usize) -> Result<(Duration, u64), String> {
    let start = Instant::now();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(FAST_TIMEOUT)).map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut line = String::new();
    for command in [None, Some(format!("USER {user}")), Some(format!("PASS {PASSWORD}"))] {
        if let Some(command) = command {
            writer
                .write_all(format!("{command}\r\n").as_bytes())
                .map_err(|e| e.to_string())?;
        }
        line.clear();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        if !line.starts_with("+OK") {
            return Err(format!("login: {line:?}"));
        }
    }
    let mut batch = String::with_capacity(count * 12);
    for n in 1..=count {
        let _ = write!(batch, "RETR {n}\r\n");
    }
    let sender = std::thread::spawn(move || writer.write_all(batch.as_bytes()).map(|()| writer));
    let (mut done, mut bytes) = (0usize, 0u64);
    // Per answer: the status line, then body lines up to ".".
    let mut in_body = false;
    let mut buf = Vec::with_capacity(1024);
    while done < count {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("after {done} answers: {e}"))?;
        if n == 0 {
            return Err(format!("closed after {done} answers"));
        }
        if !in_body {
            if !buf.starts_with(b"+OK") {
                return Err(format!("RETR {}: {:?}", done + 1, String::from_utf8_lossy(&buf)));
            }
            in_body = true;
        } else if buf == b".\r\n" {
            in_body = false;
            done += 1;
        } else {
            // A stuffed leading dot is not part of the message.
            bytes += n as u64 - u64::from(buf.starts_with(b".."));
        }
    }
    let elapsed = start.elapsed();
    let mut writer = sender
        .join()
        .map_err(|_| "writer panicked")?
        .map_err(|e| e.to_string())?;
    let _ = writer.write_all(b"QUIT\r\n");
    let _ = reader.read_to_end(&mut Vec::new());
    Ok((elapsed, bytes))
}

/// One fetch through the library, timed in phases, into a fresh Maildir
/// under `work`.
fn lib_fetch(runtime: &tokio::runtime::Runtime, port: u16, work: &Path) -> Result<String, String> {
    let config = session_config(port, OPEN_USER, true, DEFAULT_WINDOW);
    let dir: PathBuf = work.join("library");
    runtime.block_on(async {
        let start = Instant::now();
        let session = open(&config, Observers::default()).await.map_err(|f| f.to_string())?;
        let login = start.elapsed();
        let stat = session.send_now(Command::Stat).map_err(|f| f.to_string())?;
        let list = session.send_now(Command::List(None)).map_err(|f| f.to_string())?;
        let uidl = session.send_now(Command::Uidl(None)).map_err(|f| f.to_string())?;
        let count = apply_stat(stat.await.map_err(|f| f.to_string())?).map_err(|f| f.to_string())?;
        let sizes = apply_list(list.await.map_err(|f| f.to_string())?, count).map_err(|f| f.to_string())?;
        let uidl = uidl.await.map_err(|f| f.to_string())?;
        let uids = match &uidl {
            popscope::pop3::client::Outcome::Ok(reply) => parse_uidl(reply.payload()).map_err(|e| e.to_string())?,
            other => return Err(format!("UIDL: {other}")),
        };
        let listed = start.elapsed();
        let wanted: Vec<Wanted> = sizes
            .iter()
            .zip(uids)
            .map(|(&(number, size), (_, uid))| Wanted {
                number,
                uid: Some(uid),
                size,
            })
            .collect();
        let sink = open_sink(Format::Maildir, &dir).map_err(|e| e.to_string())?;
        let options = TransferOptions::default();
        let t = save_messages(&session, &wanted, sink, &options, (), &Cancel::default()).await;
        let saved = start.elapsed();
        let _ = session.quit(false).await;
        if !t.complete() || t.saved.len() != OPEN_MESSAGES {
            return Err(format!("saved {} of {OPEN_MESSAGES}", t.saved.len()));
        }
        let timing = t.timing;
        let _ = fs::remove_dir_all(&dir);
        Ok(format!(
            "{:.0} ms in all: login {:.0}, LIST+UIDL {:.0}, RETRs and saving {:.0} (ms). The writer thread: \
             waited for the network {:.0}, wrote files {:.0}, waited for sync jobs {:.0}; the {} sync jobs \
             took {:.0} ms, overlapped with the rest",
            ms(saved),
            ms(login),
            ms(listed - login),
            ms(saved - listed),
            ms(timing.waiting),
            ms(timing.writing),
            ms(timing.sync_wait),
            timing.syncs,
            ms(timing.sync_work),
        ))
    })
}

fn median(runs: &[Duration]) -> Duration {
    let mut sorted = runs.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn list(runs: &[Duration]) -> String {
    runs.iter()
        .map(|d| format!("{:.0}", ms(*d)))
        .collect::<Vec<_>>()
        .join(", ")
}
