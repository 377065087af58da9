//! Fault injection against the `popscope` binary: a scripted fake POP3
//! server (tests/support/fake_server.rs) misbehaves on purpose, and each test
//! checks the exit code and what popscope tells the person.
//!
//! Every run has a hard deadline: the child is polled with `try_wait` and
//! killed if it overstays, so a hang is a test failure, never a stuck CI job.

#[path = "support/fake_server.rs"]
mod fake_server;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use fake_server::{
    FakeServer, Step, capa, expect, expect_prefix, greeting, multiline, quit, send_line, user_pass_login,
};
use popscope::pop3::codec::ResponseCode;

const USER: &str = "alice";
const PASSWORD: &str = "Tr0ub4dor&3-horse";
const TOKEN: &str = "tok123";
/// How long one popscope run may take before it is killed.
const RUN_LIMIT: Duration = Duration::from_secs(30);
/// How long the fake server may take to finish its script.
const WAIT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code and that nothing panicked.
    fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "wrong exit code; run: {self:#?}");
        self.no_panic()
    }

    fn no_panic(&self) -> &Run {
        let all = self.all();
        assert!(
            !all.contains("panicked") && !all.contains("RUST_BACKTRACE"),
            "popscope panicked: {self:#?}"
        );
        self
    }

    fn stderr_has(&self, needle: &str) -> &Run {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}; run: {self:#?}");
        self
    }

    fn stderr_has_ci(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.to_lowercase().contains(&needle.to_lowercase()),
            "stderr lacks {needle:?} (any case); run: {self:#?}"
        );
        self
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs popscope with `args`, stdin null, the password in POPSCOPE_PASSWORD
/// (unless `None`), no other POPSCOPE_* variables, and a hard deadline.
fn popscope(args: &[String], password: Option<&str>) -> Run {
    let mut cmd = popscope_command(args, password);
    let started = Instant::now();
    let mut child: Child = cmd.spawn().expect("start popscope");
    let out = reader(child.stdout.take().expect("stdout pipe"));
    let err = reader(child.stderr.take().expect("stderr pipe"));
    let deadline = started + RUN_LIMIT;
    let status = loop {
        match child.try_wait().expect("poll popscope") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let elapsed = started.elapsed();
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed,
    };
    assert!(
        status.is_some(),
        "popscope did not finish within {RUN_LIMIT:?}; killed. {run:#?}"
    );
    run
}

/// The command `popscope` runs, not started yet.
fn popscope_command(args: &[String], password: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_popscope"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_BACKTRACE");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("POPSCOPE_") {
            cmd.env_remove(key);
        }
    }
    if let Some(pw) = password {
        cmd.env("POPSCOPE_PASSWORD", pw);
    }
    cmd
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `COMMAND pop3://alice@127.0.0.1:PORT --tls none --allow-plaintext [extra]`.
fn plain_args(command: &str, server: &FakeServer, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&[
        command,
        &format!("pop3://{USER}@127.0.0.1:{}", server.port()),
        "--tls",
        "none",
        "--allow-plaintext",
    ]);
    args.extend(strings(extra));
    args
}

/// `COMMAND URL --ca-file CERT [extra]`, URL on host `localhost` (the name in
/// the fake server's certificate).
fn tls_args(command: &str, scheme: &str, server: &FakeServer, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&[
        command,
        &format!("{scheme}://{USER}@localhost:{}", server.port()),
        "--ca-file",
        &server.cert_pem_path().display().to_string(),
    ]);
    args.extend(strings(extra));
    args
}

// ---------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------

/// Greeting, CAPA, USER/PASS, CAPA again (popscope's plain login).
fn plain_login(caps: &[&str]) -> Vec<Step> {
    let mut s = vec![greeting()];
    s.extend(capa(caps));
    s.extend(user_pass_login(USER, PASSWORD));
    s.extend(capa(caps));
    s
}

fn list_reply() -> Step {
    multiline("+OK 2 messages (320 octets)", &["1 120", "2 200"])
}

fn uidl_reply() -> Step {
    multiline("+OK", &["1 uid-one-AAA", "2 uid-two-BBB"])
}

fn top_reply(subject: &str) -> Step {
    multiline(
        "+OK",
        &[
            "From: Bob <bob@example.org>",
            "To: alice@example.org",
            &format!("Subject: {subject}"),
            "Date: Tue, 02 Jan 2024 10:00:00 +0000",
            "",
        ],
    )
}

fn done(server: &FakeServer) -> fake_server::Transcript {
    server.wait_done(WAIT).expect("fake server script")
}

fn temp_file(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    (dir, path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// 1. Disconnect in the middle of a multi-line response
// ---------------------------------------------------------------------------

fn list_cut_off(last: Step) {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.extend([expect("STAT"), send_line("+OK 2 320")]);
    script.push(expect("LIST"));
    // The LIST body, cut before its "." terminator.
    script.push(Step::Send(b"+OK 2 messages (320 octets)\r\n1 120\r\n".to_vec()));
    script.push(last);
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("list", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(3).stderr_has("LIST");
    assert!(
        run.stderr.contains("closed") || run.stderr.contains("reset"),
        "stderr should say the connection closed: {run:#?}"
    );
    let t = done(&server);
    assert_eq!(t.received.last().map(String::as_str), Some("LIST"));
    assert!(
        !server.received().iter().any(|l| l == "QUIT"),
        "{:?}",
        server.received()
    );
}

#[test]
fn list_body_cut_by_close_exits_3_naming_list() {
    list_cut_off(Step::Close);
}

#[test]
fn list_body_cut_by_reset_exits_3_naming_list() {
    list_cut_off(Step::Reset);
}

// ---------------------------------------------------------------------------
// 2. A status line that is neither +OK nor -ERR
// ---------------------------------------------------------------------------

#[test]
fn non_status_answer_to_stat_is_a_protocol_error() {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.push(expect("STAT"));
    script.push(send_line("HELLO"));
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("check", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(7)
        .stderr_has("neither +OK nor -ERR")
        .stderr_has("HELLO")
        .stderr_has("STAT");
    done(&server);
}

#[test]
fn garbage_greeting_is_a_protocol_error() {
    let server = FakeServer::start(vec![send_line("HTTP/1.1 400 Bad Request")]);
    let run = popscope(&plain_args("check", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(7)
        .stderr_has("neither +OK nor -ERR")
        .stderr_has("greeting");
    done(&server);
    assert!(
        server.received().is_empty(),
        "nothing may be sent after a bad greeting: {:?}",
        server.received()
    );
}

// ---------------------------------------------------------------------------
// 3. STLS response injection
// ---------------------------------------------------------------------------

#[test]
fn bytes_after_stls_ok_abort_as_injection() {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "STLS"]));
    script.push(expect("STLS"));
    // The +OK and an injected line in one write: a man-in-the-middle's trick.
    script.push(Step::Send(b"+OK begin TLS\r\n-ERR injected\r\n".to_vec()));
    let server = FakeServer::start(script);
    let run = popscope(&tls_args("check", "pop3", &server, &[]), Some(PASSWORD));
    run.expect_code(4).stderr_has("injection");
    done(&server);
    let received = server.received();
    assert_eq!(received, ["CAPA", "STLS"], "nothing may follow the aborted STLS");
}

// ---------------------------------------------------------------------------
// 4. Missing capabilities
// ---------------------------------------------------------------------------

#[test]
fn list_without_uidl_gives_null_uids_and_warns() {
    let mut script = plain_login(&["USER", "TOP"]);
    script.extend([expect("STAT"), send_line("+OK 2 320")]);
    script.push(expect("LIST"));
    script.push(list_reply());
    script.push(expect("TOP 1 0"));
    script.push(top_reply("first message"));
    script.push(expect("TOP 2 0"));
    script.push(top_reply("second message"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("list", &server, &["--auth", "USER", "--json"]),
        Some(PASSWORD),
    );
    run.expect_code(0).stderr_has("warning").stderr_has("UIDL");
    let rows: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    assert_eq!(rows.len(), 2, "{run:#?}");
    for (row, (msg, size, subject)) in rows.iter().zip([(1, 120, "first message"), (2, 200, "second message")]) {
        assert_eq!(row["msg"], msg, "{row}");
        assert!(row.get("uid").is_some_and(|u| u.is_null()), "uid must be null: {row}");
        assert_eq!(row["size"], size, "{row}");
        assert_eq!(row["subject"], subject, "{row}");
    }
    let t = done(&server);
    assert!(!t.received.iter().any(|l| l.starts_with("UIDL")), "{:?}", t.received);
}

#[test]
fn list_without_top_shows_no_headers_and_warns() {
    let mut script = plain_login(&["USER", "UIDL"]);
    script.extend([expect("STAT"), send_line("+OK 2 320")]);
    script.push(expect("LIST"));
    script.push(list_reply());
    script.push(expect("UIDL"));
    script.push(uidl_reply());
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("list", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(0).stderr_has("warning").stderr_has("TOP");
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(rows.len(), 2, "{run:#?}");
    assert!(
        rows[0].contains("uid-one-AAA") && rows[1].contains("uid-two-BBB"),
        "{run:#?}"
    );
    let t = done(&server);
    assert!(!t.received.iter().any(|l| l.starts_with("TOP")), "{:?}", t.received);
}

/// One rule for a malformed UIDL line, shared with the inspector: the good
/// lines are kept, the bad one is counted and the person is told.
#[test]
fn list_keeps_the_good_uidl_lines_and_warns_about_a_bad_one() {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.extend([expect("STAT"), send_line("+OK 2 320")]);
    script.push(expect("LIST"));
    script.push(list_reply());
    script.push(expect("UIDL"));
    script.push(multiline("+OK", &["1 uid-one-AAA", "2"]));
    script.push(expect("TOP 1 0"));
    script.push(top_reply("first message"));
    script.push(expect("TOP 2 0"));
    script.push(top_reply("second message"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("list", &server, &["--auth", "USER", "--json"]),
        Some(PASSWORD),
    );
    run.expect_code(0)
        .stderr_has("warning")
        .stderr_has("1 malformed UIDL line skipped");
    let rows: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    assert_eq!(rows.len(), 2, "{run:#?}");
    assert_eq!(rows[0]["uid"], "uid-one-AAA", "{run:#?}");
    assert!(rows[1]["uid"].is_null(), "{run:#?}");
    assert_eq!(rows[1]["subject"], "second message", "{run:#?}");
    done(&server);
}

/// Without CAPA, `list` asks UIDL and TOP and learns from the answers; a
/// refused TOP is said once, not once per message.
#[test]
fn list_without_capa_tries_uidl_and_top() {
    let mut script = vec![greeting()];
    script.push(expect("CAPA"));
    script.push(send_line("-ERR unknown command"));
    script.extend(user_pass_login(USER, PASSWORD));
    script.push(expect("CAPA"));
    script.push(send_line("-ERR unknown command"));
    script.extend([expect("STAT"), send_line("+OK 2 320")]);
    script.push(expect("LIST"));
    script.push(list_reply());
    script.push(expect("UIDL"));
    script.push(uidl_reply());
    script.push(expect("TOP 1 0"));
    script.push(send_line("-ERR unknown command"));
    script.push(expect("TOP 2 0"));
    script.push(send_line("-ERR unknown command"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("list", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(0).stderr_has("does not support TOP");
    assert_eq!(run.stderr.matches("does not support TOP").count(), 1, "{run:#?}");
    // One rule: the missing CAPA said once, and nothing said about UIDL
    // before its answer (which gave real UIDs).
    assert_eq!(run.stderr.matches("does not support CAPA").count(), 1, "{run:#?}");
    assert!(!run.stderr.contains("UIDL ("), "{run:#?}");
    assert!(!run.stderr.contains("offer UIDL"), "{run:#?}");
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert!(
        rows.len() == 2 && rows[0].contains("uid-one-AAA") && rows[1].contains("uid-two-BBB"),
        "{run:#?}"
    );
    done(&server);
}

#[test]
fn check_without_capa_logs_in_with_user_pass() {
    let mut script = vec![greeting()];
    script.push(expect("CAPA"));
    script.push(send_line("-ERR unknown command"));
    script.extend(user_pass_login(USER, PASSWORD));
    script.push(expect("CAPA"));
    script.push(send_line("-ERR unknown command"));
    script.push(expect("STAT"));
    script.push(send_line("+OK 2 320"));
    script.extend(quit());
    let server = FakeServer::start(script);
    // No --auth: popscope must fall back to USER/PASS on its own.
    let run = popscope(&plain_args("check", &server, &[]), Some(PASSWORD));
    run.expect_code(0);
    assert!(run.stdout.contains("2 messages"), "{run:#?}");
    assert_eq!(
        run.all().matches("does not support CAPA").count(),
        1,
        "the missing CAPA should be reported once: {run:#?}"
    );
    assert!(!run.all().contains("does not offer UIDL"), "{run:#?}");
    done(&server);
}

// ---------------------------------------------------------------------------
// 5. A server that stops answering
// ---------------------------------------------------------------------------

#[test]
fn stall_after_greeting_times_out_naming_capa() {
    let server = FakeServer::start(vec![greeting(), Step::Stall]);
    let run = popscope(
        &plain_args("check", &server, &["--auth", "USER", "--timeout", "1"]),
        Some(PASSWORD),
    );
    run.expect_code(8).stderr_has("CAPA");
    assert!(run.elapsed < Duration::from_secs(6), "took {:?}", run.elapsed);
}

#[test]
fn stall_in_the_middle_of_top_times_out_naming_top() {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.extend([expect("STAT"), send_line("+OK 2 320")]);
    script.push(expect("LIST"));
    script.push(list_reply());
    script.push(expect("UIDL"));
    script.push(uidl_reply());
    script.push(expect("TOP 1 0"));
    // Half a header block, then silence.
    script.push(Step::Send(b"+OK\r\nFrom: bob@example.org\r\nSubj".to_vec()));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("list", &server, &["--auth", "USER", "--timeout", "1"]),
        Some(PASSWORD),
    );
    run.expect_code(8).stderr_has("TOP 1");
    assert!(run.elapsed < Duration::from_secs(6), "took {:?}", run.elapsed);
    done(&server);
}

// ---------------------------------------------------------------------------
// 6. OAuth two-step exchanges, exact bytes
// ---------------------------------------------------------------------------

fn oauth_caps() -> Vec<&'static str> {
    vec!["USER", "UIDL", "TOP", "SASL XOAUTH2 OAUTHBEARER"]
}

fn xoauth2_message() -> String {
    B64.encode(format!("user={USER}\x01auth=Bearer {TOKEN}\x01\x01"))
}

fn assert_token_absent(trace: &str, secret_line: &str) {
    assert!(!trace.is_empty(), "trace file is empty");
    assert!(!trace.contains(TOKEN), "token in trace:\n{trace}");
    assert!(!trace.contains(secret_line), "encoded token in trace:\n{trace}");
}

#[test]
fn xoauth2_two_step_exact_bytes() {
    let mut script = vec![greeting()];
    script.extend(capa(&oauth_caps()));
    script.push(expect("AUTH XOAUTH2"));
    script.push(send_line("+ "));
    script.push(Step::Expect(xoauth2_message()));
    script.push(send_line("+OK authenticated"));
    script.extend(capa(&oauth_caps()));
    script.push(expect("STAT"));
    script.push(send_line("+OK 0 0"));
    script.extend(quit());
    let server = FakeServer::start_tls(script);
    let (_dir, trace) = temp_file("trace.txt");
    let trace_arg = trace.display().to_string();
    let run = popscope(
        &tls_args(
            "check",
            "pop3s",
            &server,
            &[
                "--auth",
                "XOAUTH2",
                "--oauth-token-command",
                "echo tok123",
                "--trace",
                &trace_arg,
            ],
        ),
        None,
    );
    run.expect_code(0);
    assert!(!run.all().contains(TOKEN), "{run:#?}");
    let t = done(&server);
    assert!(t.tls);
    assert_token_absent(&read(&trace), &xoauth2_message());
}

#[test]
fn xoauth2_error_challenge_is_answered_empty_then_exit_5() {
    let json = r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#;
    let mut script = vec![greeting()];
    script.extend(capa(&oauth_caps()));
    script.push(expect("AUTH XOAUTH2"));
    script.push(send_line("+ "));
    script.push(Step::Expect(xoauth2_message()));
    script.push(Step::SendLine(format!("+ {}", B64.encode(json))));
    // RFC 7628 / Google: the client answers the error challenge with an
    // empty line, and only then does the server send its -ERR.
    script.push(expect(""));
    script.push(send_line("-ERR [AUTH] Invalid credentials"));
    let server = FakeServer::start_tls(script);
    let (_dir, trace) = temp_file("trace.txt");
    let trace_arg = trace.display().to_string();
    let run = popscope(
        &tls_args(
            "check",
            "pop3s",
            &server,
            &[
                "--auth",
                "XOAUTH2",
                "--oauth-token-command",
                "echo tok123",
                "--trace",
                &trace_arg,
            ],
        ),
        None,
    );
    run.expect_code(5)
        .stderr_has("Invalid credentials")
        .stderr_has(r#""status":"401""#);
    assert!(!run.all().contains(TOKEN), "{run:#?}");
    done(&server);
    assert_token_absent(&read(&trace), &xoauth2_message());
}

#[test]
fn oauthbearer_two_step_exact_bytes() {
    // The message names the server's port, known only once the fake server
    // has bound, after its script is fixed: so the script takes the line as
    // ExpectAny and the test compares it exactly from `received()`.
    let mut script = vec![greeting()];
    script.extend(capa(&oauth_caps()));
    script.push(expect("AUTH OAUTHBEARER"));
    script.push(send_line("+ "));
    script.push(Step::ExpectAny);
    script.push(send_line("+OK authenticated"));
    script.extend(capa(&oauth_caps()));
    script.push(expect("STAT"));
    script.push(send_line("+OK 0 0"));
    script.extend(quit());
    let server = FakeServer::start_tls(script);
    let expected = B64.encode(format!(
        "n,a={USER},\x01host=localhost\x01port={}\x01auth=Bearer {TOKEN}\x01\x01",
        server.port()
    ));
    let (_dir, trace) = temp_file("trace.txt");
    let trace_arg = trace.display().to_string();
    let run = popscope(
        &tls_args(
            "check",
            "pop3s",
            &server,
            &[
                "--auth",
                "OAUTHBEARER",
                "--oauth-token-command",
                "echo tok123",
                "--trace",
                &trace_arg,
            ],
        ),
        None,
    );
    run.expect_code(0);
    let t = done(&server);
    assert_eq!(
        t.received[..3],
        ["CAPA", "AUTH OAUTHBEARER", expected.as_str()],
        "{:?}",
        t.received
    );
    assert!(!run.all().contains(TOKEN), "{run:#?}");
    assert_token_absent(&read(&trace), &expected);
}

// ---------------------------------------------------------------------------
// 7. STLS required but not offered
// ---------------------------------------------------------------------------

#[test]
fn stls_not_offered_is_refused_by_policy() {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "UIDL", "TOP"]));
    let server = FakeServer::start(script);
    let run = popscope(&tls_args("check", "pop3", &server, &[]), Some(PASSWORD));
    run.expect_code(9)
        .stderr_has("pop3s://")
        .stderr_has("--starttls optional");
    done(&server);
    let received = server.received();
    assert_eq!(received, ["CAPA"], "nothing (least of all the password) may follow");
}

#[test]
fn stls_not_offered_continues_when_optional() {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.push(expect("STAT"));
    script.push(send_line("+OK 1 120"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(
        &tls_args(
            "check",
            "pop3",
            &server,
            &["--starttls", "optional", "--allow-plaintext"],
        ),
        Some(PASSWORD),
    );
    run.expect_code(0);
    let all = run.all();
    assert!(all.contains("WARNING") || all.contains("warning"), "{run:#?}");
    assert!(all.contains("WITHOUT encryption"), "{run:#?}");
    let t = done(&server);
    assert!(!t.tls);
    assert!(!t.received.iter().any(|l| l == "STLS"), "{:?}", t.received);
}

// ---------------------------------------------------------------------------
// 8. Locked or unavailable maildrop
// ---------------------------------------------------------------------------

#[test]
fn greeting_sys_temp_is_a_mailbox_failure_with_the_code_explained() {
    let server = FakeServer::start(vec![send_line("-ERR [SYS/TEMP] maintenance")]);
    let run = popscope(&plain_args("check", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(6)
        .stderr_has("SYS/TEMP")
        .stderr_has("maintenance")
        .stderr_has(&ResponseCode::SysTemp.explanation());
    done(&server);
}

#[test]
fn in_use_answer_to_pass_is_exit_6_locked() {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "UIDL", "TOP", "RESP-CODES"]));
    script.push(Step::Expect(format!("USER {USER}")));
    script.push(send_line("+OK"));
    script.push(Step::Expect(format!("PASS {PASSWORD}")));
    script.push(send_line("-ERR [IN-USE] Unable to lock maildrop"));
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("check", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(6).stderr_has("IN-USE").stderr_has_ci("locked");
    assert!(!run.all().contains(PASSWORD), "{run:#?}");
    done(&server);
}

// ---------------------------------------------------------------------------
// 9. Redaction
// ---------------------------------------------------------------------------

#[test]
fn trace_redacts_the_password() {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.push(expect("STAT"));
    script.push(send_line("+OK 0 0"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let (_dir, trace) = temp_file("trace.txt");
    let trace_arg = trace.display().to_string();
    let run = popscope(
        &plain_args("check", &server, &["--auth", "USER", "--trace", &trace_arg]),
        Some(PASSWORD),
    );
    run.expect_code(0);
    done(&server);
    let text = read(&trace);
    assert!(text.contains("PASS ********"), "{text}");
    assert!(text.contains(&format!("USER {USER}")), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!run.all().contains(PASSWORD), "{run:#?}");
}

// ---------------------------------------------------------------------------
// Claimed counts: LIST checked against STAT, TOPs through a sliding window
// ---------------------------------------------------------------------------

/// A LIST whose numbers repeat, step back or pass STAT's count is a
/// protocol error naming the line, and no TOP is sent for it.
#[test]
fn list_numbers_must_rise_and_stay_within_stats_count() {
    for (lines, words) in [
        (
            &["1 120", "1 120"][..],
            "message 1 comes after message 1 (line \"1 120\")",
        ),
        (&["2 120", "1 120"], "message 1 comes after message 2 (line \"1 120\")"),
        (
            &["1 120", "2 200", "3 10"],
            "message 3 is past the 2 messages STAT announced (line \"3 10\")",
        ),
    ] {
        let mut script = plain_login(&["USER", "TOP"]);
        script.extend([expect("STAT"), send_line("+OK 2 320")]);
        script.push(expect("LIST"));
        script.push(multiline("+OK", lines));
        script.extend(quit());
        let server = FakeServer::start(script);
        let run = popscope(&plain_args("list", &server, &["--auth", "USER"]), Some(PASSWORD));
        run.no_panic().stderr_has(words);
        assert_ne!(run.code, Some(0), "{run:#?}");
        assert!(run.stdout.is_empty(), "{run:#?}");
        done(&server);
        assert!(
            !server.received().iter().any(|l| l.starts_with("TOP")),
            "{:?}",
            server.received()
        );
    }
}

/// The largest resident set the process has had, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// 2,000,000 claimed messages: `list` keeps its TOPs to the sliding window
/// (it used to queue one per message up front, 2.97 GB for 5,000,000), so
/// its memory is the LIST answer and little more. Measured while the server
/// sits on the first TOP, when every TOP would have been queued before.
#[test]
fn a_huge_claimed_count_keeps_lists_memory_bounded() {
    const CLAIMED: u32 = 2_000_000;
    let mut list = String::from("+OK\r\n");
    for n in 1..=CLAIMED {
        list.push_str(&format!("{n} 1\r\n"));
    }
    list.push_str(".\r\n");
    let mut script = plain_login(&["USER", "TOP"]);
    script.extend([expect("STAT"), send_line(&format!("+OK {CLAIMED} {CLAIMED}"))]);
    script.push(expect("LIST"));
    script.push(Step::Send(list.into_bytes()));
    script.push(expect("TOP 1 0"));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let mut child = popscope_command(
        &plain_args("list", &server, &["--auth", "USER", "--timeout", "30"]),
        Some(PASSWORD),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("start popscope");
    let waited = server.wait_received(7, WAIT);
    let peak = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let received = waited.expect("the first TOP");
    eprintln!("peak RSS with {CLAIMED} claimed messages: {} MiB", peak / 1024);
    // The LIST answer (~17 MB) and its parsed rows (32 MB) are most of it;
    // two million queued TOPs were several hundred MB.
    assert!(
        peak < 160 * 1024,
        "peak RSS {} MiB; received {:?}",
        peak / 1024,
        &received[..received.len().min(12)]
    );
}

// ---------------------------------------------------------------------------
// 10. Text that reaches the terminal (issue 11 item 7)
// ---------------------------------------------------------------------------

/// The user and host are printed as typed, but sanitized: a user name
/// `%1b%5d0%3b...%07` must not put a raw OSC on the terminal.
#[test]
fn check_prints_the_user_and_host_sanitized() {
    let server = FakeServer::start(vec![greeting(), Step::Close]);
    let url = format!("pop3://%1b%5d0%3bpwned%07@127.0.0.1:{}", server.port());
    let run = popscope(
        &strings(&["check", &url, "--tls", "none", "--allow-plaintext"]),
        Some(PASSWORD),
    );
    run.no_panic();
    let all = run.all();
    assert!(!all.contains('\x1b') && !all.contains('\x07'), "{run:#?}");
    assert!(
        run.stdout.contains("\u{241b}]0;pwned\u{2407}@127.0.0.1"),
        "the user is shown, made visible: {run:#?}"
    );

    let run = popscope(
        &strings(&[
            "check",
            "--host",
            "evil\u{202e}lmth.exe",
            "--user",
            "bob\u{2066}",
            "--tls",
            "none",
            "--allow-plaintext",
        ]),
        Some(PASSWORD),
    );
    run.no_panic();
    let all = run.all();
    assert!(!all.contains('\u{202e}') && !all.contains('\u{2066}'), "{run:#?}");
}

// ---------------------------------------------------------------------------
// 11. Choosing the login mechanism (issue 11 items 15 and 18)
// ---------------------------------------------------------------------------

/// `--auth MECH` the server did not list: said, with what it offers,
/// before anything of the login is sent.
#[test]
fn forced_mechanism_not_offered_is_refused_before_sending_anything() {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "SASL PLAIN LOGIN"]));
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("check", &server, &["--auth", "CRAM-MD5", "--timeout", "2"]),
        Some(PASSWORD),
    );
    run.expect_code(5)
        .stderr_has("does not offer CRAM-MD5")
        .stderr_has("it offers LOGIN, PLAIN, USER");
    done(&server);
    assert_eq!(server.received(), ["CAPA"], "nothing of the login may be sent");
}

const APOP_GREETING: &str = "+OK fake POP3 ready <1896.697170952@fake.example>";

fn plain_initial_response() -> String {
    format!("AUTH PLAIN {}", B64.encode(format!("\0{USER}\0{PASSWORD}")))
}

/// A greeting with a timestamp makes APOP the automatic choice; a server
/// that refuses it gets the next permitted mechanism, once, and the person
/// is told.
#[test]
fn a_refused_automatic_apop_falls_back_to_the_next_mechanism_once() {
    let mut script = vec![send_line(APOP_GREETING)];
    script.extend(capa(&["USER", "SASL PLAIN"]));
    script.push(expect_prefix(&format!("APOP {USER} ")));
    script.push(send_line("-ERR [AUTH] APOP is not enabled here"));
    script.push(Step::Expect(plain_initial_response()));
    script.push(send_line("+OK logged in"));
    script.extend(capa(&["USER", "SASL PLAIN"]));
    script.push(expect("STAT"));
    script.push(send_line("+OK 0 0"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("check", &server, &[]), Some(PASSWORD));
    run.expect_code(0);
    assert!(
        run.stdout.contains("the server refused APOP")
            && run.stdout.contains("-ERR [AUTH] APOP is not enabled here")
            && run.stdout.contains("PLAIN"),
        "the fallback is told: {run:#?}"
    );
    assert!(run.stdout.contains("PLAIN as alice"), "{run:#?}");
    done(&server);
}

/// One fallback only (servers lock or slow down after failed logins), and
/// a forced `--auth` never falls back.
#[test]
fn the_fallback_happens_once_and_never_for_a_forced_mechanism() {
    let mut script = vec![send_line(APOP_GREETING)];
    script.extend(capa(&["USER", "SASL CRAM-MD5 PLAIN"]));
    script.push(expect("AUTH CRAM-MD5"));
    script.push(send_line(&format!("+ {}", B64.encode("<1.2@fake.example>"))));
    script.push(Step::ExpectAny);
    script.push(send_line("-ERR [AUTH] no"));
    script.push(expect_prefix(&format!("APOP {USER} ")));
    script.push(send_line("-ERR [AUTH] no again"));
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("check", &server, &["--timeout", "2"]), Some(PASSWORD));
    run.expect_code(5).stderr_has("APOP").stderr_has("no again");
    done(&server);
    assert_eq!(
        server.received().len(),
        4,
        "CAPA, AUTH, its answer, APOP: {:?}",
        server.received()
    );

    let mut script = vec![send_line(APOP_GREETING)];
    script.extend(capa(&["USER", "SASL PLAIN"]));
    script.push(expect_prefix(&format!("APOP {USER} ")));
    script.push(send_line("-ERR [AUTH] no"));
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("check", &server, &["--auth", "APOP", "--timeout", "2"]),
        Some(PASSWORD),
    );
    run.expect_code(5);
    done(&server);
    assert_eq!(server.received().len(), 2, "{:?}", server.received());

    // A locked maildrop is not about the mechanism: no second try.
    let mut script = vec![send_line(APOP_GREETING)];
    script.extend(capa(&["USER", "SASL PLAIN"]));
    script.push(expect_prefix(&format!("APOP {USER} ")));
    script.push(send_line("-ERR [IN-USE] locked"));
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("check", &server, &["--timeout", "2"]), Some(PASSWORD));
    run.expect_code(6);
    done(&server);
    assert_eq!(server.received().len(), 2, "{:?}", server.received());
}

// ---------------------------------------------------------------------------
// 12. UTF8 (RFC 6856; issue 11 item 17)
// ---------------------------------------------------------------------------

/// A server that lists UTF8 (Courier does) gets `UTF8` after login, and
/// then sends headers in raw UTF-8, which are shown as they are.
#[test]
fn utf8_is_enabled_after_login_when_offered() {
    let caps = ["USER", "UIDL", "TOP", "UTF8 USER"];
    let mut script = plain_login(&caps);
    script.push(expect("UTF8"));
    script.push(send_line("+OK UTF8 enabled"));
    script.extend([expect("STAT"), send_line("+OK 1 120")]);
    script.push(expect("LIST"));
    script.push(multiline("+OK", &["1 120"]));
    script.push(expect("UIDL"));
    script.push(multiline("+OK", &["1 uid-one-AAA"]));
    script.push(expect("TOP 1 0"));
    script.push(top_reply("Grüße aus Köln — 日本語"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("list", &server, &["--auth", "USER", "--json"]),
        Some(PASSWORD),
    );
    run.expect_code(0);
    let row: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("one JSON row");
    assert_eq!(row["subject"], "Grüße aus Köln — 日本語", "{run:#?}");
    done(&server);

    // Refused: said, and the session goes on.
    let mut script = plain_login(&caps);
    script.push(expect("UTF8"));
    script.push(send_line("-ERR not now"));
    script.push(expect("STAT"));
    script.push(send_line("+OK 0 0"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let run = popscope(&plain_args("check", &server, &["--auth", "USER"]), Some(PASSWORD));
    run.expect_code(0);
    assert!(
        run.stdout.contains("UTF8") && run.stdout.contains("-ERR not now"),
        "{run:#?}"
    );
    done(&server);
}

// ---------------------------------------------------------------------------
// 13. A hostile server's floods and endless answers (issue 11 items 1, 3, 4)
// ---------------------------------------------------------------------------

/// Lines nobody asked for: a handful is tolerated, a flood ends the session
/// with a protocol error instead of a growing queue.
#[test]
fn a_flood_of_unsolicited_lines_is_a_protocol_error() {
    let caps = ["USER", "UIDL", "TOP"];
    let mut script = vec![greeting()];
    script.extend(capa(&caps));
    script.extend(user_pass_login(USER, PASSWORD));
    script.push(expect("CAPA"));
    // The CAPA answer and the flood in one write.
    let mut answer = b"+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n".to_vec();
    answer.extend("+OK flood\r\n".repeat(200).as_bytes());
    script.push(Step::Send(answer));
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("check", &server, &["--auth", "USER", "--timeout", "3"]),
        Some(PASSWORD),
    );
    run.expect_code(7).stderr_has("4 lines nobody asked for");
    done(&server);
}

/// The listing so far: login, LIST of `list`, UIDL of as many.
fn listing_script(list: &[&str]) -> Vec<Step> {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.extend([expect("STAT"), send_line(&format!("+OK {} 0", list.len()))]);
    script.push(expect("LIST"));
    script.push(multiline("+OK", list));
    script.push(expect("UIDL"));
    let uids: Vec<String> = (1..=list.len()).map(|n| format!("{n} uid-{n}")).collect();
    let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
    script.push(multiline("+OK", &uids));
    script
}

/// A TOP that never ends, at full speed: stopped at its bound (16 MiB),
/// long before any timeout.
#[test]
fn an_endless_top_is_stopped_at_its_bound() {
    let mut script = listing_script(&["1 120"]);
    script.push(expect("TOP 1 0"));
    let mut flood = b"+OK\r\n".to_vec();
    flood.extend(
        "X-Flood: 0123456789012345678901234567890123456789\r\n"
            .repeat(400_000)
            .as_bytes(),
    );
    script.push(Step::Send(flood));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("list", &server, &["--auth", "USER", "--timeout", "20"]),
        Some(PASSWORD),
    );
    run.expect_code(7)
        .stderr_has("TOP 1 0")
        .stderr_has("longer than 16777216 bytes");
    assert!(run.elapsed < Duration::from_secs(15), "took {:?}", run.elapsed);
}

/// One header line a fifth of a second keeps the silence rule quiet
/// forever; the whole-answer rule (1 KiB/s after the limit) does not.
#[test]
fn a_trickling_top_times_out_soon_after_the_limit() {
    let mut script = listing_script(&["1 120"]);
    script.push(expect("TOP 1 0"));
    script.push(send_line("+OK"));
    for _ in 0..50 {
        script.push(send_line("X-Trickle: slow"));
        script.push(Step::Pause(Duration::from_millis(200)));
    }
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("list", &server, &["--auth", "USER", "--timeout", "1"]),
        Some(PASSWORD),
    );
    run.expect_code(8).stderr_has("TOP 1 0").stderr_has("too slowly");
    assert!(run.elapsed < Duration::from_secs(6), "took {:?}", run.elapsed);
}

/// A LIST answer over 64 MiB is an error that says so, not a listing cut
/// off in the middle of a number.
#[test]
fn a_listing_over_64_mib_is_an_error_not_a_cut() {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.extend([expect("STAT"), send_line("+OK 5000000 0")]);
    script.push(expect("LIST"));
    let mut answer = b"+OK\r\n".to_vec();
    let mut n = 0u32;
    while answer.len() <= 64 * 1024 * 1024 + 64 {
        n += 1;
        answer.extend(format!("{n} 123456789\r\n").as_bytes());
    }
    answer.extend(b".\r\n");
    script.push(Step::Send(answer));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let run = popscope(
        &plain_args("list", &server, &["--auth", "USER", "--json", "--timeout", "20"]),
        Some(PASSWORD),
    );
    run.expect_code(7)
        .stderr_has("LIST")
        .stderr_has("longer than 67108864 bytes");
    assert!(run.stdout.is_empty(), "no partial listing: {} bytes", run.stdout.len());
}

/// `retr` asks LIST for the size and stops a RETR that runs far past it
/// (twice the size plus 1 MiB).
#[test]
fn a_retr_running_far_past_its_list_size_is_stopped() {
    let mut script = plain_login(&["USER", "UIDL", "TOP"]);
    script.push(expect("STAT"));
    script.push(send_line("+OK 1 188"));
    script.push(expect("LIST 1"));
    script.push(send_line("+OK 1 188"));
    script.push(expect("RETR 1"));
    let mut flood = b"+OK 188 octets\r\n".to_vec();
    flood.extend("Subject: more and more and more\r\n".repeat(100_000).as_bytes());
    script.push(Step::Send(flood));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    let (_dir, out) = temp_file("m.eml");
    let out_arg = out.display().to_string();
    let run = popscope(
        &plain_args(
            "retr",
            &server,
            &["--auth", "USER", "--msg", "1", "-o", &out_arg, "--timeout", "20"],
        ),
        Some(PASSWORD),
    );
    run.expect_code(7)
        .stderr_has("RETR 1")
        .stderr_has("LIST gave as 188 bytes");
    assert!(run.elapsed < Duration::from_secs(15), "took {:?}", run.elapsed);
    let written = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    assert!(written <= 2 * 188 + 1024 * 1024, "{written} bytes written");
}
