//! `popscope clean` and `popscope list --match`, run as a script would run
//! them, against a real Dovecot (tests/support/dovecot.rs) and, for what a
//! real server will not do (no UIDL, a refused DELE, a lost QUIT answer),
//! the scripted fake server. What was deleted is checked with the
//! independent raw client (tests/support/raw_pop3.rs), never with popscope.
//!
//! The terminal prompt is tested on a pseudo-terminal: popscope's standard
//! input and error are the PTY's slave side, the test answers on the master.

#[path = "support/fake_server.rs"]
mod fake_server;
mod support;

use fake_server::{FakeServer, Step, capa, expect, greeting, multiline, send_line, user_pass_login};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::binary_run::Run;
use support::dovecot::Dovecot;
use support::raw_pop3::RawPop3;

const USER: &str = "alice";
const PASSWORD: &str = "Cl3an-Sw33p-pw";
/// Hard limit for one popscope run.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Messages in the test maildrop; every third one is about a full disk.
const MESSAGES: usize = 30;

// ---------------------------------------------------------------------------
// Running popscope

/// popscope `args` with the password in the environment, `stdin` as its
/// standard input (none: /dev/null), killed after `RUN_TIMEOUT`.
fn popscope(args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_popscope"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POPSCOPE_") {
            command.env_remove(name);
        }
    }
    command
        .env("POPSCOPE_PASSWORD", PASSWORD)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start popscope");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let stdout = read_in_background(child.stdout.take().expect("stdout pipe"));
    let stderr = read_in_background(child.stderr.take().expect("stderr pipe"));
    let code = wait_for_exit(&mut child);
    Run {
        code,
        stdout: stdout.recv_timeout(RUN_TIMEOUT).unwrap_or_default(),
        stderr: stderr.recv_timeout(RUN_TIMEOUT).unwrap_or_default(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    rx
}

/// The exit code, waiting at most `RUN_TIMEOUT` (then the child is killed
/// and the test fails).
fn wait_for_exit(child: &mut std::process::Child) -> Option<i32> {
    let deadline = Instant::now() + RUN_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for popscope") {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("popscope did not finish within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------
// The maildrop

/// Message `i`: every third is "disk full" (one of them with a terminal
/// escape in its subject, which must never reach the output raw), the
/// others are ordinary; message 7 repeats message 4's Message-ID.
fn message(i: usize) -> Vec<u8> {
    let subject = match i {
        3 => "disk full on /var \u{1b}[2J\u{1b}]0;pwned\u{7}".to_string(),
        _ if i.is_multiple_of(3) => format!("disk full on /var ({i})"),
        _ => format!("weekly report {i}"),
    };
    let id = if i == 7 { 4 } else { i };
    format!(
        "From: Sender {i} <sender{i}@example.org>\n\
         To: {USER}@example.test\n\
         Subject: {subject}\n\
         Date: Mon, 01 Jan 2024 12:{:02}:00 +0000\n\
         Message-ID: <{id}.clean-test@example.org>\n\
         \n\
         Body of message {i}.\n",
        i % 60
    )
    .into_bytes()
}

/// Whether message `i` is one that `subject:"disk full"` selects.
fn is_disk_full(i: usize) -> bool {
    i.is_multiple_of(3)
}

fn dovecot() -> Dovecot {
    let dc = Dovecot::builder().user(USER, PASSWORD).start();
    dc.deliver_many(USER, (0..MESSAGES).map(message));
    dc
}

fn url(dc: &Dovecot) -> String {
    format!("pop3s://{USER}@localhost:{}", dc.pop3s_port())
}

fn ca(dc: &Dovecot) -> String {
    dc.cert_pem_path().display().to_string()
}

/// The UIDs by message index (0-based), as the raw client sees them.
fn uids(dc: &Dovecot) -> Vec<String> {
    let mut pop = RawPop3::login(dc.pop3_port(), USER, PASSWORD);
    let uidl = pop.uidl();
    pop.quit().expect("QUIT");
    uidl.into_iter().map(|(_, uid)| uid).collect()
}

fn uid_set<'a>(uids: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    uids.into_iter().cloned().collect()
}

// ---------------------------------------------------------------------------
// Dovecot

#[test]
fn clean_match_yes_deletes_exactly_the_matching_uids() {
    require_dovecot!();
    let dc = dovecot();
    let before = uids(&dc);
    let (ca, url) = (ca(&dc), url(&dc));
    let run = popscope(
        &[
            "clean",
            &url,
            "--ca-file",
            &ca,
            "--match",
            "subject:\"disk full\"",
            "--yes",
            "--json",
        ],
        None,
    );
    run.assert_exit(0)
        .assert_stderr_has("10 of 30 messages selected")
        .assert_stderr_has("query: subject:\"disk full\"");
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stdout.contains('\u{1b}'),
        "{run:#?}"
    );
    let json = run.json();
    assert_eq!(json["outcome"], "deleted", "{json}");
    assert_eq!((json["deleted"].as_u64(), json["kept"].as_u64()), (Some(10), Some(20)));
    assert!(json["server"].as_str().is_some_and(|s| s.starts_with("+OK")), "{json}");

    let selected: Vec<&String> = before
        .iter()
        .enumerate()
        .filter(|(i, _)| is_disk_full(*i))
        .map(|(_, u)| u)
        .collect();
    let reported: BTreeSet<String> = json["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["uid"].as_str().expect("uid").to_string())
        .collect();
    assert_eq!(reported, uid_set(selected.iter().copied()));
    let after = uids(&dc);
    let expected: Vec<&String> = before
        .iter()
        .enumerate()
        .filter(|(i, _)| !is_disk_full(*i))
        .map(|(_, u)| u)
        .collect();
    assert_eq!(
        uid_set(&after),
        uid_set(expected.iter().copied()),
        "exactly the matching UIDs are gone"
    );
}

#[test]
fn dry_run_and_no_terminal_without_yes_delete_nothing() {
    require_dovecot!();
    let dc = dovecot();
    let before = uids(&dc);
    let (ca, url) = (ca(&dc), url(&dc));

    // The 20 weekly reports: the plan shows the first five and the last
    // five rows, and how many are between.
    let run = popscope(
        &["clean", &url, "--ca-file", &ca, "--match", "~s weekly", "--dry-run"],
        None,
    );
    run.assert_exit(0)
        .assert_stdout_has("20 of 30 messages selected (")
        .assert_stdout_has("query: subject:weekly")
        .assert_stdout_has(&before[1])
        .assert_stdout_has(&before[7])
        .assert_stdout_has("… 10 more …")
        .assert_stdout_has(&before[23])
        .assert_stdout_has(&before[29])
        .assert_stdout_has("nothing was deleted (dry run: 20 messages (");
    assert!(!run.stdout.contains(&before[8]), "only the ends are shown: {run:#?}");
    // The plan of the "disk full" ones shows the hostile subject, defused.
    let run = popscope(
        &["clean", &url, "--ca-file", &ca, "--match", "num:4", "--dry-run"],
        None,
    );
    run.assert_exit(0).assert_stdout_has("disk full on /var");
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
        "{run:#?}"
    );

    let run = popscope(
        &["clean", &url, "--ca-file", &ca, "--match", "subject:\"disk full\""],
        None,
    );
    run.assert_exit(2)
        .assert_stderr_has("refusing to delete without confirmation: standard input is not a terminal")
        .assert_stderr_has("--yes");
    assert!(run.stdout.is_empty(), "refused before connecting: {run:#?}");

    let run = popscope(
        &[
            "clean",
            &url,
            "--ca-file",
            &ca,
            "--match",
            "subject:nothing-like-this",
            "--yes",
        ],
        None,
    );
    run.assert_exit(0)
        .assert_stdout_has("0 of 30 messages selected")
        .assert_stdout_has("nothing was deleted (no message was selected)");

    assert_eq!(uids(&dc), before, "nothing was deleted");
}

#[test]
fn uids_from_stdin_deletes_those_and_reports_unknown_ones() {
    require_dovecot!();
    let dc = dovecot();
    let before = uids(&dc);
    let (ca, url) = (ca(&dc), url(&dc));
    let wanted = [&before[1], &before[2], &before[3]];
    let input = format!(
        "# from popscope list --json | jq -r .uid\n{}\n\n  {}  \n{}\nno-such-uid-here\n",
        wanted[0], wanted[1], wanted[2]
    );
    let run = popscope(
        &["clean", &url, "--ca-file", &ca, "--uids-from", "-", "--yes"],
        Some(&input),
    );
    run.assert_exit(0)
        .assert_stdout_has("3 of 30 messages selected")
        .assert_stdout_has("1 of the 4 UIDs given is not in the maildrop (no-such-uid-here)")
        .assert_stdout_has("popscope: deleted 3 messages (");
    let after = uids(&dc);
    let expected: Vec<&String> = before.iter().filter(|u| !wanted.contains(u)).collect();
    assert_eq!(uid_set(&after), uid_set(expected));

    // With a query too: only what both select (of the messages at 0, 4
    // and 5, only the one at 0 is about a full disk).
    let input = format!("{}\n{}\n{}\n", before[0], before[4], before[5]);
    let run = popscope(
        &[
            "clean",
            &url,
            "--ca-file",
            &ca,
            "--uids-from",
            "-",
            "--match",
            "disk",
            "--yes",
            "--json",
        ],
        Some(&input),
    );
    run.assert_exit(0);
    let json = run.json();
    assert_eq!(json["deleted"].as_u64(), Some(1), "{json}");
    assert_eq!(json["messages"][0]["uid"].as_str(), Some(before[0].as_str()));

    // Without --yes, standard input cannot be both the list and the answer.
    let run = popscope(&["clean", &url, "--ca-file", &ca, "--uids-from", "-"], Some("x\n"));
    run.assert_exit(2)
        .assert_stderr_has("standard input carries the UID list");
}

#[test]
fn list_match_lists_only_matching_rows() {
    require_dovecot!();
    let dc = dovecot();
    let before = uids(&dc);
    let (ca, url) = (ca(&dc), url(&dc));
    let run = popscope(
        &[
            "list",
            &url,
            "--ca-file",
            &ca,
            "--json",
            "--match",
            "subject:\"disk full\" -num:1-10",
        ],
        None,
    );
    run.assert_exit(0).assert_stderr_has("6 of 30 messages match (");
    let rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let numbers: Vec<u64> = rows.iter().map(|r| r["msg"].as_u64().expect("msg")).collect();
    assert_eq!(numbers, [13, 16, 19, 22, 25, 28]);
    assert_eq!(rows[0]["uid"].as_str(), Some(before[12].as_str()));

    // dup: message 8 (index 7) repeats message 5's Message-ID.
    let run = popscope(&["list", &url, "--ca-file", &ca, "--match", "dup"], None);
    run.assert_exit(0).assert_stderr_has("1 of 30 messages match");
    assert_eq!(run.stdout.lines().count(), 1, "{run:#?}");
    assert!(run.stdout.trim_start().starts_with("8 "), "{run:#?}");

    let run = popscope(
        &["list", &url, "--ca-file", &ca, "--match", "from:nobody.example"],
        None,
    );
    run.assert_exit(0).assert_stderr_has("0 of 30 messages match");
    assert!(run.stdout.is_empty(), "{run:#?}");

    let run = popscope(&["list", &url, "--ca-file", &ca, "--match", "subject:\"disk"], None);
    run.assert_exit(2)
        .assert_stderr_has("--match: the query cannot be read")
        .assert_stderr_has("^ this quote is never closed");
    assert_eq!(uids(&dc), before);
}

// ---------------------------------------------------------------------------
// The prompt, on a pseudo-terminal

/// A pseudo-terminal: the master for the test, the slave for popscope.
struct Pty {
    master: std::fs::File,
    slave: OwnedFd,
}

impl Pty {
    fn open() -> Pty {
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: both pointers are valid for writes; name, termios and
        // winsize may be null.
        let status = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(status, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty returned two open descriptors that nothing else owns.
        unsafe {
            Pty {
                master: std::fs::File::from_raw_fd(master),
                slave: OwnedFd::from_raw_fd(slave),
            }
        }
    }
}

/// Runs `clean` with the PTY as standard input and error, waits for the
/// question, answers `answer`, and returns the run (stderr: what the
/// terminal showed).
fn clean_on_a_terminal(args: &[&str], answer: &str) -> Run {
    let pty = Pty::open();
    let mut command = Command::new(env!("CARGO_BIN_EXE_popscope"));
    command
        .args(args)
        .env("POPSCOPE_PASSWORD", PASSWORD)
        .stdin(Stdio::from(pty.slave.try_clone().expect("dup slave")))
        .stderr(Stdio::from(pty.slave.try_clone().expect("dup slave")))
        .stdout(Stdio::piped());
    let mut child = command.spawn().expect("start popscope");
    // Only the child holds the slave now, so the master reads EOF (EIO)
    // once the child has exited.
    drop(pty.slave);
    let stdout = read_in_background(child.stdout.take().expect("stdout pipe"));
    let (chunks_tx, chunks) = mpsc::channel::<Vec<u8>>();
    let mut master_reader = pty.master.try_clone().expect("dup master");
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = master_reader.read(&mut buf) {
            if n == 0 || chunks_tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut screen = Vec::new();
    let deadline = Instant::now() + RUN_TIMEOUT;
    while !String::from_utf8_lossy(&screen).contains("[y/N] ") {
        let left = deadline.saturating_duration_since(Instant::now());
        match chunks.recv_timeout(left) {
            Ok(chunk) => screen.extend(chunk),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "no question on the terminal; it showed: {:?}",
                    String::from_utf8_lossy(&screen)
                );
            }
        }
    }
    let mut master = pty.master;
    master.write_all(format!("{answer}\n").as_bytes()).expect("answer");
    let code = wait_for_exit(&mut child);
    while let Ok(chunk) = chunks.recv_timeout(Duration::from_secs(5)) {
        screen.extend(chunk);
    }
    Run {
        code,
        stdout: stdout.recv_timeout(RUN_TIMEOUT).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&screen).into_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

#[test]
fn the_terminal_prompt_deletes_only_after_yes() {
    require_dovecot!();
    let dc = dovecot();
    let before = uids(&dc);
    let (ca, url) = (ca(&dc), url(&dc));
    let args = ["clean", &url, "--ca-file", &ca, "--match", "num:1-2"];

    let run = clean_on_a_terminal(&args, "n");
    run.assert_exit(0)
        .assert_stderr_has("Delete 2 messages (")
        .assert_stdout_has("nothing was deleted (not confirmed)");
    assert_eq!(uids(&dc), before, "answering n deletes nothing");

    let run = clean_on_a_terminal(&args, "y");
    run.assert_exit(0).assert_stdout_has("popscope: deleted 2 messages (");
    assert_eq!(uids(&dc), before[2..], "answering y deletes messages 1 and 2");
}

// ---------------------------------------------------------------------------
// The fake server: no UIDL, a refused DELE, a lost QUIT answer

/// Greeting, CAPA, USER/PASS and CAPA again (popscope's plain login when
/// CAPA lacks one of PIPELINING, TOP, UIDL), then LIST of three messages.
fn login_and_list(caps: &[&str]) -> Vec<Step> {
    let mut script = vec![greeting()];
    script.extend(capa(caps));
    script.extend(user_pass_login(USER, PASSWORD));
    script.extend(capa(caps));
    script.extend([expect("STAT"), send_line("+OK 3 600")]);
    script.push(expect("LIST"));
    script.push(multiline("+OK 3 messages", &["1 100", "2 200", "3 300"]));
    script
}

fn fake_args(server: &FakeServer, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["clean", &format!("pop3://{USER}@127.0.0.1:{}", server.port())]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(
        [
            "--tls",
            "none",
            "--allow-plaintext",
            "--auth",
            "USER",
            "--match",
            "num:2-3",
            "--yes",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string()),
    );
    args
}

fn run_fake(server: &FakeServer, extra: &[&str]) -> Run {
    let args = fake_args(server, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    popscope(&args, None)
}

fn received(server: &FakeServer) -> Vec<String> {
    server
        .wait_done(RUN_TIMEOUT)
        .expect("the fake server's script")
        .received
}

#[test]
fn a_server_without_uidl_is_refused_unless_by_number() {
    // CAPA without UIDL: refused right after login, before LIST.
    let mut script = vec![greeting()];
    script.extend(capa(&["USER"]));
    script.extend(user_pass_login(USER, PASSWORD));
    script.extend(capa(&["USER"]));
    script.extend([expect("QUIT"), send_line("+OK bye"), Step::Close]);
    let server = FakeServer::start(script);
    run_fake(&server, &[])
        .assert_exit(9)
        .assert_stderr_has("this server gives no UIDs (no UIDL)")
        .assert_stderr_has("--by-number");
    assert!(!received(&server).iter().any(|l| l.starts_with("DELE")));

    let mut script = login_and_list(&["USER"]);
    for line in ["DELE 2", "DELE 3"] {
        script.extend([expect(line), send_line("+OK marked")]);
    }
    script.extend([expect("QUIT"), send_line("+OK 2 messages deleted"), Step::Close]);
    let server = FakeServer::start(script);
    run_fake(&server, &["--by-number"])
        .assert_exit(0)
        .assert_stdout_has("popscope: deleted 2 messages (500 B); server said: +OK 2 messages deleted");
    received(&server);
}

#[test]
fn a_refused_dele_cancels_with_rset_and_never_quits_committing() {
    let mut script = login_and_list(&["USER", "UIDL"]);
    script.extend([expect("UIDL"), multiline("+OK", &["1 aaa", "2 bbb", "3 ccc"])]);
    script.extend([expect("DELE 2"), send_line("+OK marked")]);
    script.extend([expect("DELE 3"), send_line("-ERR [SYS/TEMP] message 3 is busy")]);
    script.extend([expect("RSET"), send_line("+OK reset")]);
    script.extend([expect("QUIT"), send_line("+OK bye, nothing deleted"), Step::Close]);
    let server = FakeServer::start(script);
    let run = run_fake(&server, &["--json"]);
    run.assert_exit(6);
    let json = run.json();
    assert_eq!(json["outcome"], "cancelled", "{json}");
    assert_eq!(json["deleted"].as_u64(), Some(0));
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains("commit cancelled, nothing deleted: DELE 3: -ERR [SYS/TEMP] message 3 is busy")),
        "{json}"
    );
    received(&server);
}

#[test]
fn a_connection_lost_before_quits_answer_is_outcome_unknown() {
    let mut script = login_and_list(&["USER", "UIDL"]);
    script.extend([expect("UIDL"), multiline("+OK", &["1 aaa", "2 bbb", "3 ccc"])]);
    for line in ["DELE 2", "DELE 3"] {
        script.extend([expect(line), send_line("+OK marked")]);
    }
    script.extend([expect("QUIT"), Step::Close]);
    let server = FakeServer::start(script);
    run_fake(&server, &[])
        .assert_exit(10)
        .assert_stdout_has("popscope: OUTCOME UNKNOWN: the connection ended before the server answered QUIT");
    received(&server);
}
