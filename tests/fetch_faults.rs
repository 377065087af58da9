//! `fetch` and `retr` when things go wrong, against the scripted fake
//! server (tests/support/fake_server.rs): a connection that drops in the
//! middle of `fetch --delete` or of a backup before deleting (`--backup`),
//! an unwritable target or backup, a full disk, a server
//! without UIDL; `retr` into a closed pipe and onto a pseudo-terminal.
//!
//! The fake server lists no PIPELINING, so popscope sends one command at
//! a time and the scripts can expect them in order.

#[path = "support/fake_server.rs"]
mod fake_server;

use fake_server::{FakeServer, Step, capa, expect, greeting, multiline, quit, send_line, user_pass_login};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "alice";
const PASSWORD: &str = "Fault-pw-9";
const RUN_LIMIT: Duration = Duration::from_secs(30);
const WAIT: Duration = Duration::from_secs(15);

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "wrong exit code: {self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        self
    }

    fn says(&self, needle: &str) -> &Run {
        let all = format!("{}{}", self.stdout, self.stderr);
        assert!(all.contains(needle), "output lacks {needle:?}: {self:#?}");
        self
    }
}

fn command(args: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_popscope"));
    cmd.args(args).env_remove("RUST_BACKTRACE").stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("POPSCOPE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("POPSCOPE_PASSWORD", PASSWORD);
    cmd
}

/// Waits for `child` at most `RUN_LIMIT` (killing it after that).
fn wait(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("popscope did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn popscope(args: &[String]) -> Run {
    let mut child = command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = reader(child.stdout.take().unwrap());
    let err = reader(child.stderr.take().unwrap());
    let code = wait(&mut child);
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn args(command: &str, server: &FakeServer, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        command,
        &format!("pop3://{USER}@127.0.0.1:{}", server.port()),
        "--tls",
        "none",
        "--allow-plaintext",
        "--auth",
        "USER",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn login(caps: &[&str]) -> Vec<Step> {
    let mut s = vec![greeting()];
    s.extend(capa(caps));
    s.extend(user_pass_login(USER, PASSWORD));
    s.extend(capa(caps));
    s
}

/// The body of message `n` as the tests send it.
fn body(n: u32) -> String {
    format!("Subject: message {n}\r\nFrom: a@example.org\r\n\r\nline one of {n}\r\n..dot-stuffed\r\n")
}

/// Login, STAT, LIST and UIDL of `count` messages (UIDs `uid-N`).
fn listed(count: u32, uidl: bool) -> Vec<Step> {
    let caps: &[&str] = if uidl {
        &["USER", "UIDL", "TOP"]
    } else {
        &["USER", "TOP"]
    };
    let mut s = login(caps);
    let sizes: Vec<String> = (1..=count).map(|n| format!("{n} {}", body(n).len())).collect();
    s.push(expect("STAT"));
    s.push(send_line(&format!("+OK {count} 0")));
    s.push(expect("LIST"));
    s.push(multiline("+OK", &sizes.iter().map(String::as_str).collect::<Vec<_>>()));
    if uidl {
        let uids: Vec<String> = (1..=count).map(|n| format!("{n} uid-{n}")).collect();
        s.push(expect("UIDL"));
        s.push(multiline("+OK", &uids.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    s
}

fn retr(n: u32) -> Vec<Step> {
    vec![
        expect(&format!("RETR {n}")),
        Step::Send(format!("+OK\r\n{}.\r\n", body(n)).into_bytes()),
    ]
}

fn files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir).map_or_else(|_| Vec::new(), |d| d.map(|e| e.unwrap().path()).collect())
}

#[test]
fn a_connection_lost_among_the_deles_deletes_nothing() {
    let mut script = listed(2, true);
    script.extend(retr(1));
    script.extend(retr(2));
    script.push(expect("DELE 1"));
    script.push(send_line("+OK marked"));
    script.push(expect("DELE 2"));
    script.push(Step::Close);
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    let run = popscope(&args(
        "fetch",
        &server,
        &["--to", &maildir.display().to_string(), "--delete", "--yes"],
    ));
    run.expect_code(3).says("nothing was deleted");
    server.wait_done(WAIT).expect("script");
    let received = server.received();
    assert!(
        !received.iter().any(|l| l == "QUIT"),
        "no QUIT after the DELEs: {received:?}"
    );
    assert_eq!(files(&maildir.join("new")).len(), 2, "the copies stay");
}

#[test]
fn a_connection_lost_while_fetching_sends_no_dele() {
    let mut script = listed(3, true);
    script.extend(retr(1));
    script.push(expect("RETR 2"));
    script.push(Step::Send(b"+OK\r\nSubject: cut\r\n\r\nhalf a mess".to_vec()));
    script.push(Step::Close);
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    let run = popscope(&args(
        "fetch",
        &server,
        &["--to", &maildir.display().to_string(), "--delete", "--yes", "--json"],
    ));
    run.expect_code(3);
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        (json["fetched"].as_u64(), json["deleted"].as_u64()),
        (Some(1), Some(0)),
        "{run:#?}"
    );
    assert_eq!(json["outcome"], "failed");
    server.wait_done(WAIT).expect("script");
    let received = server.received();
    assert!(
        !received.iter().any(|l| l.starts_with("DELE") || l == "QUIT"),
        "{received:?}"
    );
    let saved = files(&maildir.join("new"));
    assert_eq!(saved.len(), 1, "only the complete message is saved");
    assert_eq!(
        fs::read(&saved[0]).unwrap(),
        body(1).replace("\r\n..", "\r\n.").as_bytes()
    );
    assert!(files(&maildir.join("tmp")).is_empty(), "the partial message is gone");
}

#[test]
fn without_uidl_everything_is_fetched_and_delete_needs_by_number() {
    let mut script = listed(2, false);
    script.extend(quit());
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("Mail").display().to_string();
    popscope(&args("fetch", &server, &["--to", &to, "--delete", "--yes"]))
        .expect_code(9)
        .says("--by-number");
    server.wait_done(WAIT).expect("script");
    assert!(
        !server
            .received()
            .iter()
            .any(|l| l.starts_with("RETR") || l.starts_with("DELE"))
    );

    let mut script = listed(2, false);
    script.extend(retr(1));
    script.extend(retr(2));
    script.extend([expect("DELE 1"), send_line("+OK"), expect("DELE 2"), send_line("+OK")]);
    script.extend(quit());
    let server = FakeServer::start(script);
    popscope(&args(
        "fetch",
        &server,
        &["--to", &to, "--delete", "--yes", "--by-number"],
    ))
    .expect_code(0)
    .says("second fetch cannot skip")
    .says("deleted 2 messages (144 B); server said: +OK bye");
    server.wait_done(WAIT).expect("script");
}

#[test]
fn a_query_without_header_terms_sends_no_top() {
    let mut script = listed(3, true);
    script.extend(retr(2));
    script.extend(quit());
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    popscope(&args(
        "fetch",
        &server,
        &[
            "--to",
            &maildir.display().to_string(),
            "--match",
            "num:2 or uid:nowhere",
        ],
    ))
    .expect_code(0)
    .says("1 of 3 messages selected");
    server.wait_done(WAIT).expect("LIST, UIDL, RETR 2, QUIT: no TOP");
    assert_eq!(files(&maildir.join("new")).len(), 1);
}

#[test]
fn ctrl_c_while_fetching_keeps_what_was_saved_and_deletes_nothing() {
    let mut script = listed(3, true);
    script.extend(retr(1));
    script.push(expect("RETR 2"));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    let mut child = command(&args(
        "fetch",
        &server,
        &["--to", &maildir.display().to_string(), "--delete", "--yes"],
    ))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let err = reader(child.stderr.take().unwrap());
    // CAPA, USER, PASS, CAPA, STAT, LIST, UIDL, RETR 1, RETR 2.
    server.wait_received(9, WAIT).expect("RETR 2 sent");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let code = wait(&mut child);
    let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("nothing was deleted"), "{stderr}");
    assert_eq!(files(&maildir.join("new")).len(), 1, "message 1 was saved: {stderr}");
    let state = fs::read_to_string(maildir.join(".popscope-uids")).unwrap();
    assert!(state.lines().any(|l| l == "uid-1"), "{state}");
    assert!(
        !server.received().iter().any(|l| l.starts_with("DELE")),
        "{:?}",
        server.received()
    );
}

/// A directory nothing can be created in, even by root: a read-only (or
/// tiny) tmpfs mounted on it. `None` (test skipped) where mounting is not
/// possible, except on CI.
struct Mounted {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mounted {
    fn new(options: &str) -> Option<Mounted> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target");
        fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "popscope-test"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var_os("CI").is_none(),
                "cannot mount a tmpfs ({options}) here"
            );
            eprintln!("skipped: cannot mount a tmpfs ({options}) here");
            return None;
        }
        Some(Mounted { path, _dir: dir })
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn an_unwritable_target_stops_before_connecting() {
    let Some(ro) = Mounted::new("ro") else { return };
    let server = FakeServer::start(listed(1, true));
    let to = ro.path.join("Mail").display().to_string();
    popscope(&args("fetch", &server, &["--to", &to, "--delete", "--yes"]))
        .expect_code(1)
        .says("read-only");
    assert!(server.received().is_empty(), "no command was sent");
}

#[test]
fn a_full_disk_stops_before_any_dele_with_a_clear_error() {
    let Some(small) = Mounted::new("size=256k") else { return };
    let mut script = listed(2, true);
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(600 * 1024));
    script.push(expect("RETR 1"));
    script.push(Step::Send(format!("+OK\r\n{big}.\r\n").into_bytes()));
    script.extend(retr(2));
    // popscope closes the connection once the disk is full (nothing is
    // marked; the answers still on their way need not be waited for).
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let to = small.path.join("Mail").display().to_string();
    let run = popscope(&args("fetch", &server, &["--to", &to, "--delete", "--yes"]));
    run.expect_code(1).says("no space left");
    assert!(
        !server.received().iter().any(|l| l.starts_with("DELE")),
        "{:?}",
        server.received()
    );
}

/// The body `retr` tests send: enough that a reader that stops early
/// closes the pipe while popscope still writes.
fn long_message() -> String {
    let mut m = String::from("Subject: long\r\n\r\n");
    while m.len() < 2 * 1024 * 1024 {
        m.push_str("0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
    }
    m
}

fn retr_script(message: &str) -> Vec<Step> {
    let mut s = login(&["USER", "UIDL", "TOP"]);
    s.push(expect("STAT"));
    s.push(send_line(&format!("+OK 1 {}", message.len())));
    s.push(expect("LIST 1"));
    s.push(send_line(&format!("+OK 1 {}", message.len())));
    s.push(expect("RETR 1"));
    s.push(Step::Send(format!("+OK\r\n{message}.\r\n").into_bytes()));
    s
}

#[test]
fn retr_into_a_pipe_closed_early_exits_quietly() {
    let server = FakeServer::start(retr_script(&long_message()));
    let mut child = command(&args("retr", &server, &["--msg", "1"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = reader(child.stderr.take().unwrap());
    let mut head = [0u8; 50];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // The reader is gone now (`| head -c 50`).
    let code = wait(&mut child);
    let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.to_lowercase().contains("pipe"), "{stderr}");
    assert_eq!(&head[..15], b"Subject: long\r\n");
}

/// Escape sequences of every kind, in headers and body.
const HOSTILE: &str = "From: \x1b]52;c;cHduZWQ=\x07Evil <evil@example.com>\r\n\
    Subject: \x1b[2J\x1b[Hcleared \x1b]0;pwned\x07 \u{202E}gnp.exe\r\n\
    \r\n\
    \x1b[31mred\x1b[0m \x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\\r\n\
    \x1b[?1049h bell \x07 C1 \u{9b}31m\r\n";

#[test]
fn retr_on_a_terminal_shows_the_message_without_any_escape() {
    let mut script = retr_script(HOSTILE);
    script.extend(quit());
    let server = FakeServer::start(script);
    let (master, slave) = open_pty();
    let mut child = command(&args("retr", &server, &["--msg", "1"]))
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = reader(child.stderr.take().unwrap());
    // The slave end was moved into the child; reading the master ends
    // (EIO) once the child is gone.
    let screen = reader(master);
    let code = wait(&mut child);
    let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    let screen = screen.join().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let text = String::from_utf8(screen.clone()).expect("what reaches the terminal is UTF-8 (no raw C1 byte)");
    assert!(text.contains("cleared"), "the message is shown: {text:?}");
    for (byte, name) in [(0x1b, "ESC"), (0x07, "BEL")] {
        assert!(!screen.contains(&byte), "{name} reached the terminal: {text:?}");
    }
    assert!(
        !text.contains('\u{9b}') && !text.contains('\u{202E}'),
        "C1 CSI or bidi: {text:?}"
    );
    assert!(stderr.contains("-o FILE"), "{stderr}");
}

/// `fetch --delete` on a terminal asks; `answer` is typed.
fn fetch_asking(answer: &str, script: Vec<Step>) -> (Option<i32>, String, FakeServer) {
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("Mail").display().to_string();
    let (mut master, slave) = open_pty();
    let mut child = command(&args("fetch", &server, &["--to", &to, "--delete"]))
        .stdin(Stdio::from(slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = reader(child.stdout.take().unwrap());
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + RUN_LIMIT;
    while !String::from_utf8_lossy(&seen).contains("[y/N]") {
        assert!(
            Instant::now() < deadline,
            "no question: {}",
            String::from_utf8_lossy(&seen)
        );
        let mut buf = [0u8; 256];
        let n = stderr.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "stderr ended before the question: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    use std::io::Write;
    master.write_all(answer.as_bytes()).unwrap();
    let err = reader(stderr);
    let code = wait(&mut child);
    seen.extend(err.join().unwrap());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.join().unwrap()),
        String::from_utf8_lossy(&seen)
    );
    (code, text, server)
}

#[test]
fn delete_asks_on_a_terminal_and_only_yes_deletes() {
    let mut script = listed(2, true);
    script.extend(retr(1));
    script.extend(retr(2));
    script.extend(quit());
    let (code, text, server) = fetch_asking("n\n", script);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Delete 2 fetched messages from the server? [y/N]"),
        "{text}"
    );
    assert!(text.contains("nothing was deleted (not confirmed)"), "{text}");
    server.wait_done(WAIT).expect("script");
    assert!(!server.received().iter().any(|l| l.starts_with("DELE")));

    let mut script = listed(2, true);
    script.extend(retr(1));
    script.extend(retr(2));
    script.extend([expect("DELE 1"), send_line("+OK"), expect("DELE 2"), send_line("+OK")]);
    script.extend(quit());
    let (code, text, server) = fetch_asking("y\n", script);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("deleted 2 messages (144 B); server said: +OK bye"),
        "{text}"
    );
    server.wait_done(WAIT).expect("script");
}

#[test]
fn progress_is_drawn_on_a_terminal_and_erased_before_the_summary() {
    let mut script = listed(2, true);
    script.extend(retr(1));
    script.extend(retr(2));
    script.extend(quit());
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("Mail").display().to_string();
    let (master, slave) = open_pty();
    let mut child = command(&args("fetch", &server, &["--to", &to]))
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let out = reader(child.stdout.take().unwrap());
    let screen = reader(master);
    assert_eq!(wait(&mut child), Some(0));
    let screen = String::from_utf8_lossy(&screen.join().unwrap()).into_owned();
    assert!(screen.contains("\r\x1b[2Kfetched "), "a progress line: {screen:?}");
    assert!(screen.ends_with("\r\x1b[2K"), "erased at the end: {screen:?}");
    let summary = String::from_utf8_lossy(&out.join().unwrap()).into_owned();
    assert!(summary.starts_with("popscope: fetched 2 messages"), "{summary}");
}

/// A pseudo-terminal: (master to read, slave for the child's stdout).
fn open_pty() -> (fs::File, fs::File) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the integers given;
    // each is owned by exactly one File from here on.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    unsafe { (fs::File::from_raw_fd(master), fs::File::from_raw_fd(slave)) }
}

#[test]
fn a_connection_lost_during_the_backup_deletes_nothing_and_names_the_message() {
    let mut script = listed(2, true);
    // The fetch itself…
    script.extend(retr(1));
    script.extend(retr(2));
    // …then the backup's copies: the connection drops in the second.
    script.extend(retr(1));
    script.push(expect("RETR 2"));
    script.push(Step::Send(b"+OK\r\nSubject: cut\r\n\r\nhalf a mess".to_vec()));
    script.push(Step::Close);
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    let backup = dir.path().join("Backup");
    let run = popscope(&args(
        "fetch",
        &server,
        &[
            "--to",
            &maildir.display().to_string(),
            "--delete",
            "--yes",
            "--backup",
            &backup.display().to_string(),
            "--json",
        ],
    ));
    run.expect_code(3);
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(json["outcome"], "backup_failed", "{run:#?}");
    assert_eq!(json["deleted"], 0);
    let error = json["backup"]["error"].as_str().unwrap();
    assert!(error.contains("failed at message 2 (UID uid-2)"), "{error}");
    server.wait_done(WAIT).expect("script");
    let received = server.received();
    assert!(
        !received.iter().any(|l| l.starts_with("DELE") || l == "QUIT"),
        "{received:?}"
    );
    assert_eq!(files(&backup.join("new")).len(), 1, "the first copy is kept");
    assert!(files(&backup.join("tmp")).is_empty(), "the partial copy is gone");
}

/// `clean`'s listing without TOP in CAPA: STAT, LIST and UIDL only, so a
/// selection by number needs no headers.
fn listed_for_clean(count: u32) -> Vec<Step> {
    let mut s = login(&["USER", "UIDL"]);
    let sizes: Vec<String> = (1..=count).map(|n| format!("{n} {}", body(n).len())).collect();
    let total: usize = (1..=count).map(|n| body(n).len()).sum();
    s.push(expect("STAT"));
    s.push(send_line(&format!("+OK {count} {total}")));
    s.push(expect("LIST"));
    s.push(multiline("+OK", &sizes.iter().map(String::as_str).collect::<Vec<_>>()));
    let uids: Vec<String> = (1..=count).map(|n| format!("{n} uid-{n}")).collect();
    s.push(expect("UIDL"));
    s.push(multiline("+OK", &uids.iter().map(String::as_str).collect::<Vec<_>>()));
    s
}

#[test]
fn a_refused_retr_during_a_clean_backup_deletes_nothing() {
    let mut script = listed_for_clean(3);
    script.extend(retr(2));
    script.push(expect("RETR 3"));
    script.push(send_line("-ERR [SYS/TEMP] cannot read that one now"));
    // A refusal leaves the session sound: a plain QUIT keeps everything.
    script.extend(quit());
    let server = FakeServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("Backup");
    let run = popscope(&args(
        "clean",
        &server,
        &["--match", "num:2-3", "--yes", "--backup", &backup.display().to_string()],
    ));
    run.expect_code(6)
        .says("nothing was deleted (the backup to")
        .says("failed at message 3 (UID uid-3): the server refused RETR 3: -ERR [SYS/TEMP]");
    server.wait_done(WAIT).expect("script");
    let received = server.received();
    assert!(!received.iter().any(|l| l.starts_with("DELE")), "{received:?}");
    assert_eq!(files(&backup.join("new")).len(), 1);
}

#[test]
fn a_read_only_backup_directory_stops_before_any_dele() {
    let Some(ro) = Mounted::new("ro") else { return };
    let server = FakeServer::start(listed_for_clean(1));
    let backup = ro.path.join("Backup").display().to_string();
    popscope(&args(
        "clean",
        &server,
        &["--match", "num:1", "--yes", "--backup", &backup],
    ))
    .expect_code(1)
    .says("read-only");
    assert!(server.received().is_empty(), "no command was sent");
}

#[test]
fn a_backup_that_fills_the_disk_stops_before_any_dele() {
    let Some(small) = Mounted::new("size=256k") else { return };
    let mut script = listed_for_clean(2);
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(600 * 1024));
    script.push(expect("RETR 1"));
    script.push(Step::Send(format!("+OK\r\n{big}.\r\n").into_bytes()));
    script.extend(retr(2));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let backup = small.path.join("Backup").display().to_string();
    let run = popscope(&args(
        "clean",
        &server,
        &["--match", "num:1-2", "--yes", "--backup", &backup, "--json"],
    ));
    run.expect_code(1).says("no space left");
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(json["outcome"], "backup_failed", "{run:#?}");
    assert!(
        !server.received().iter().any(|l| l.starts_with("DELE")),
        "{:?}",
        server.received()
    );
}
