//! `popscope check` and `popscope list` against a real, private Dovecot.
//!
//! Every test starts its own Dovecot (tests/support/dovecot.rs) and runs the
//! popscope binary as a subprocess, the way a person or a script would: the
//! password comes from `POPSCOPE_PASSWORD` (or a file / a command), stdin is
//! /dev/null and every run has a hard time limit. What popscope reports is
//! cross-checked with `RawPop3`, an independent POP3 client, and with the
//! Maildir on disk.
//!
//! `cargo test --test dovecot_cli -- --nocapture` also shows the measured
//! wall time of `list` on 2,000 messages.

mod support;

use std::fs;
use std::io::{Read, Seek};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use support::dovecot::Dovecot;
use support::maildrop;
use support::raw_pop3::RawPop3;

const USER: &str = "alice";
/// Distinctive, so that a leak cannot hide in ordinary text.
const PASSWORD: &str = "Sup3r-Secret-pw!";
const WRONG_PASSWORD: &str = "Wr0ng-Guess-pw?";
/// Every password mechanism popscope implements (names as `--auth` takes them).
const MECHANISMS: [&str; 7] = [
    "USER",
    "APOP",
    "PLAIN",
    "LOGIN",
    "CRAM-MD5",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
];
/// The ones that send the password itself (possibly base64-encoded).
const CLEAR_TEXT_MECHANISMS: [&str; 3] = ["USER", "PLAIN", "LOGIN"];
/// Hard limit for one popscope run. A locked maildrop costs 10 s (Dovecot's
/// fixed lock wait); nothing else here should come close.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Hard limit for `list` on the big maildrop.
const LIST_TIMEOUT: Duration = Duration::from_secs(300);
/// Messages in the big maildrop.
const BIG_MAILDROP: usize = 2_000;

// ---------------------------------------------------------------------------
// Running popscope

/// What one popscope run did.
struct Run {
    /// `None` if it died from a signal.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    args: Vec<String>,
}

impl Run {
    /// Everything about the run, for assertion messages.
    fn describe(&self) -> String {
        format!(
            "popscope {:?}\nexit code: {:?} after {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args, self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    fn assert_exit(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "wrong exit code\n{}", self.describe());
        self
    }

    fn assert_stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    fn assert_stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// The `check` step line for `step` ("login", "stls", ...): a line whose
    /// first word is the step name. "capa again" is matched whole.
    fn step(&self, step: &str) -> Option<&str> {
        self.stdout.lines().find(|l| {
            let l = l.trim_start();
            l.strip_prefix(step)
                .is_some_and(|rest| rest.starts_with(' ') && (step.contains(' ') || !rest.starts_with(" again")))
        })
    }

    fn assert_step(&self, step: &str, detail: &str) -> &Run {
        match self.step(step) {
            Some(line) => assert!(
                line.contains(detail),
                "step {step:?} does not mention {detail:?}: {line:?}\n{}",
                self.describe()
            ),
            None => panic!("no {step:?} step\n{}", self.describe()),
        }
        self
    }

    fn assert_no_step(&self, step: &str) -> &Run {
        assert!(
            self.step(step).is_none(),
            "unexpected {step:?} step\n{}",
            self.describe()
        );
        self
    }

    /// A successful `check`: exit 0, the final verdict, the login naming
    /// `mechanism`, STAT with `messages`, and QUIT answered.
    fn assert_check_ok(&self, mechanism: &str, messages: usize) -> &Run {
        self.assert_exit(0)
            .assert_stdout_has("OK: every step passed")
            .assert_step("greeting", "+OK")
            .assert_step("capa", "")
            .assert_step("login", &format!("{mechanism} as {USER}"))
            .assert_step("capa again", "")
            .assert_step("stat", &format!(" ms  {messages} messages, "))
            .assert_step("quit", "+OK");
        assert!(
            !self.stdout.contains("FAILED"),
            "FAILED in a passing check\n{}",
            self.describe()
        );
        self
    }

    /// A failed `check` with exit `code`: the verdict on stdout, details on
    /// stderr (`popscope: <label>: ...`).
    fn assert_check_failed(&self, code: i32) -> &Run {
        self.assert_exit(code)
            .assert_stdout_has(&format!("(exit code {code})"))
            .assert_stdout_has("FAILED: ")
            .assert_stderr_has("popscope: ");
        assert!(
            !self.stdout.contains("OK: every step passed"),
            "a failed check claims success\n{}",
            self.describe()
        );
        self
    }

    /// Neither output stream holds the password in any form.
    fn assert_no_secret(&self) -> &Run {
        assert_no_secret("stdout", &self.stdout);
        assert_no_secret("stderr", &self.stderr);
        self
    }
}

/// Runs popscope with `args` and extra environment `env` (every inherited
/// `POPSCOPE_*` variable is removed first), stdin from /dev/null, and kills
/// it if it has not exited within `timeout`. Output goes to unnamed temp
/// files, so a large output cannot block the child on a full pipe.
fn popscope(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Run {
    let mut stdout = tempfile::tempfile().expect("temp file for stdout");
    let mut stderr = tempfile::tempfile().expect("temp file for stderr");
    let mut command = Command::new(env!("CARGO_BIN_EXE_popscope"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POPSCOPE_") {
            command.env_remove(name);
        }
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().expect("dup stdout file"))
        .stderr(stderr.try_clone().expect("dup stderr file"));
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn popscope");
    let deadline = started + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for popscope") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let read_all = |file: &mut fs::File| {
        let mut bytes = Vec::new();
        file.rewind().expect("rewind output file");
        file.read_to_end(&mut bytes).expect("read output file");
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: read_all(&mut stdout),
        stderr: read_all(&mut stderr),
        elapsed,
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    assert!(
        status.is_some(),
        "popscope did not finish within {timeout:?} and was killed\n{}",
        run.describe()
    );
    run
}

/// popscope with the password in `POPSCOPE_PASSWORD` and the usual limit.
fn popscope_pw(args: &[&str]) -> Run {
    popscope(args, &[("POPSCOPE_PASSWORD", PASSWORD)], RUN_TIMEOUT)
}

// ---------------------------------------------------------------------------
// The server

/// A Dovecot with user alice (password `PASSWORD`) and `messages` ordinary
/// messages.
fn dovecot_with(messages: usize) -> Dovecot {
    let dc = Dovecot::builder().user(USER, PASSWORD).start();
    dc.deliver_many(USER, (0..messages).map(maildrop::ordinary));
    dc
}

/// `pop3s://alice@localhost:PORT` (implicit TLS).
fn pop3s_url(dc: &Dovecot) -> String {
    format!("pop3s://{USER}@localhost:{}", dc.pop3s_port())
}

/// `pop3://alice@localhost:PORT` (STLS, or nothing with `--tls none`).
fn pop3_url(dc: &Dovecot) -> String {
    format!("pop3://{USER}@localhost:{}", dc.pop3_port())
}

fn ca_file(dc: &Dovecot) -> String {
    dc.cert_pem_path().display().to_string()
}

/// The maildrop as an independent client sees it.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    /// STAT: (message count, total octets).
    stat: (u32, u64),
    /// UIDL: (message number, unique id).
    uidl: Vec<(u32, String)>,
    /// LIST: (message number, size).
    list: Vec<(u32, u64)>,
}

/// STAT, UIDL and LIST from `RawPop3`; ends with QUIT (nothing is marked,
/// so nothing changes).
fn raw_snapshot(dc: &Dovecot) -> Snapshot {
    let mut pop = RawPop3::login(dc.pop3_port(), USER, PASSWORD);
    let snapshot = Snapshot {
        stat: pop.stat(),
        uidl: pop.uidl(),
        list: pop.list(),
    };
    pop.quit().expect("RawPop3 QUIT");
    snapshot
}

// ---------------------------------------------------------------------------
// Secrets

/// Every form in which the password could show up: itself, the base64 of
/// the PLAIN and LOGIN payloads, and the part of its base64 that is the same
/// wherever it sits inside a longer base64 string (one per alignment mod 3).
fn secret_forms() -> Vec<(String, String)> {
    let pw = PASSWORD.as_bytes();
    let mut forms = vec![
        ("the password".to_string(), PASSWORD.to_string()),
        ("base64 of the password (LOGIN)".into(), BASE64.encode(pw)),
        (
            "base64 of \\0alice\\0password (PLAIN)".into(),
            BASE64.encode(format!("\0{USER}\0{PASSWORD}")),
        ),
        (
            "base64 of alice\\0alice\\0password (PLAIN)".into(),
            BASE64.encode(format!("{USER}\0{USER}\0{PASSWORD}")),
        ),
    ];
    for offset in 0..3 {
        // Bytes of the password that share a base64 group with what precedes it.
        let shared = (3 - offset) % 3;
        let rest = &pw[shared..];
        let whole = rest.len() / 3 * 3;
        forms.push((
            format!("base64 of the password at offset {offset} mod 3"),
            BASE64.encode(&rest[..whole]),
        ));
    }
    forms
}

fn assert_no_secret(what: &str, text: &str) {
    for (form, needle) in secret_forms() {
        assert!(!text.contains(&needle), "{what} contains {form} ({needle:?}):\n{text}");
    }
}

// ---------------------------------------------------------------------------
// 1. Every mechanism, over STLS and implicit TLS, with a clean trace

/// `check --auth MECH --trace FILE` over pop3:// + STLS (a text trace) and
/// over pop3s:// (a JSON-lines trace), both verified with `--ca-file`.
fn check_mechanism_on_both_transports(mechanism: &str) {
    let dc = dovecot_with(3);
    let octets: u64 = (0..3).map(|i| maildrop::virtual_size(&maildrop::ordinary(i))).sum();
    let traces = tempfile::tempdir().expect("temp dir for traces");
    for (url, stls) in [(pop3_url(&dc), true), (pop3s_url(&dc), false)] {
        let (name, format) = if stls {
            ("stls.trace", "text")
        } else {
            ("pop3s.jsonl", "jsonl")
        };
        let trace_path = traces.path().join(name);
        let trace_arg = trace_path.display().to_string();
        let ca = ca_file(&dc);
        let run = popscope_pw(&[
            "check",
            &url,
            "--ca-file",
            &ca,
            "--auth",
            mechanism,
            "--trace",
            &trace_arg,
            "--trace-format",
            format,
        ]);
        run.assert_check_ok(mechanism, 3)
            .assert_step("stat", &format!("({octets} octets)"))
            .assert_no_secret();
        if stls {
            run.assert_step("stls", "TLS").assert_no_step("tls");
        } else {
            run.assert_step("tls", "TLS").assert_no_step("stls");
        }
        run.assert_stdout_has(&format!("verification verified (CA file {ca}"));

        let trace = fs::read_to_string(&trace_path).unwrap_or_else(|e| panic!("read trace {trace_arg}: {e}"));
        assert!(!trace.trim().is_empty(), "empty trace\n{}", run.describe());
        assert_no_secret(&format!("the {mechanism} trace ({url})"), &trace);
        let events = if stls { text_trace(&trace) } else { jsonl_trace(&trace) };
        let sent: Vec<&TraceEvent> = events.iter().filter(|e| e.dir == "C").collect();
        assert!(!sent.is_empty(), "no C: lines in the trace:\n{trace}");
        assert!(
            events.iter().any(|e| e.dir == "S" && e.text.starts_with("+OK")),
            "no S: +OK lines in the trace:\n{trace}"
        );
        assert_eq!(
            sent.iter().any(|e| e.text == "STLS"),
            stls,
            "STLS in the trace iff pop3://:\n{trace}"
        );
        // The login command is there, with its secret part masked.
        let login = match mechanism {
            "USER" => "PASS ********".to_string(),
            "APOP" => format!("APOP {USER} ********"),
            sasl => format!("AUTH {sasl}"),
        };
        assert!(
            sent.iter().any(|e| e.text.starts_with(&login)),
            "no {login:?} in the trace:\n{trace}"
        );
        // The greeting is there, and CAPA in full.
        assert!(
            events.iter().any(|e| e.text.starts_with("+OK Dovecot ready")),
            "{trace}"
        );
        assert!(
            events.iter().any(|e| e.text.contains("SASL PLAIN")),
            "CAPA's lines:\n{trace}"
        );
    }
}

/// One event of a trace file, whatever its format.
#[derive(Debug)]
struct TraceEvent {
    /// "C", "S" (also for payload lines) or "I".
    dir: String,
    text: String,
}

/// A text trace, line by line: `# ` header lines first (naming the
/// server, the address and the start), then every line with its RFC 3339
/// timestamp (UTC, milliseconds) and its time since the start.
fn text_trace(trace: &str) -> Vec<TraceEvent> {
    let header: Vec<&str> = trace.lines().take_while(|l| l.starts_with("# ")).collect();
    for field in ["# trace ", "# server ", "# address ", "# tls ", "# started "] {
        assert!(
            header.iter().any(|l| l.starts_with(field)),
            "no {field:?} in the header:\n{trace}"
        );
    }
    let mut events = Vec::new();
    for line in trace.lines().skip(header.len()) {
        let ts = line.get(..24).unwrap_or_default();
        let well_formed = ts.len() == 24
            && ts.ends_with('Z')
            && ts.as_bytes()[10] == b'T'
            && ts.as_bytes()[19] == b'.'
            && ts[..4].parse::<u32>().is_ok();
        assert!(well_formed, "no RFC 3339 timestamp: {line:?}");
        let rest = line[24..].trim_start();
        let (rel, rest) = rest.split_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        assert!(rel.starts_with('+') && rel.ends_with('s'), "no relative time: {line:?}");
        let (dir, text) = rest.split_at_checked(2).unwrap_or_else(|| panic!("{line:?}"));
        let dir = match dir {
            "C:" => "C",
            "S:" | "S|" => "S",
            "--" => "I",
            other => panic!("unknown direction {other:?}: {line:?}"),
        };
        events.push(TraceEvent {
            dir: dir.to_string(),
            text: text.trim_start().to_string(),
        });
    }
    events
}

/// A JSON-lines trace: every line an object with the documented fields; a
/// line written for a secret gives no size.
fn jsonl_trace(trace: &str) -> Vec<TraceEvent> {
    let mut events = Vec::new();
    for line in trace.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for field in ["ts", "rel_ms", "dir", "command", "text", "latency_ms", "batch", "bytes"] {
            assert!(v.get(field).is_some(), "no {field:?}: {line}");
        }
        assert_eq!(v["ts"].as_str().map(str::len), Some(24), "{line}");
        assert!(v["rel_ms"].is_number(), "{line}");
        let dir = v["dir"].as_str().unwrap_or_default().to_string();
        assert!(["C", "S", "I"].contains(&dir.as_str()), "{line}");
        let text = v["text"].as_str().unwrap_or_default().to_string();
        let command = v["command"].as_str().unwrap_or_default();
        let carries_secret = dir == "C"
            && (["PASS", "APOP"].iter().any(|c| command.starts_with(c))
                || (command.starts_with("AUTH") && text != command));
        if carries_secret {
            assert!(v["bytes"].is_null(), "a secret's size: {line}");
        }
        if let Some(payload) = v["payload"].as_str() {
            events.extend(payload.lines().map(|l| TraceEvent {
                dir: "S".into(),
                text: l.to_string(),
            }));
        }
        events.push(TraceEvent { dir, text });
    }
    let header: Value = serde_json::from_str(trace.lines().next().unwrap_or("{}")).unwrap_or_default();
    assert_eq!(header["kind"], "header", "{trace}");
    assert!(header["header"]["started"].is_string(), "{trace}");
    assert!(header["header"]["address"].is_string(), "{trace}");
    events
}

#[test]
fn check_auth_user_over_stls_and_pop3s() {
    require_dovecot!();
    check_mechanism_on_both_transports("USER");
}

#[test]
fn check_auth_apop_over_stls_and_pop3s() {
    require_dovecot!();
    check_mechanism_on_both_transports("APOP");
}

#[test]
fn check_auth_plain_over_stls_and_pop3s() {
    require_dovecot!();
    check_mechanism_on_both_transports("PLAIN");
}

#[test]
fn check_auth_login_over_stls_and_pop3s() {
    require_dovecot!();
    check_mechanism_on_both_transports("LOGIN");
}

#[test]
fn check_auth_cram_md5_over_stls_and_pop3s() {
    require_dovecot!();
    check_mechanism_on_both_transports("CRAM-MD5");
}

#[test]
fn check_auth_scram_sha_1_over_stls_and_pop3s() {
    require_dovecot!();
    check_mechanism_on_both_transports("SCRAM-SHA-1");
}

#[test]
fn check_auth_scram_sha_256_over_stls_and_pop3s() {
    require_dovecot!();
    check_mechanism_on_both_transports("SCRAM-SHA-256");
}

// ---------------------------------------------------------------------------
// 2. Default mechanism

#[test]
fn check_picks_scram_sha_256_by_default() {
    require_dovecot!();
    let dc = dovecot_with(2);
    let ca = ca_file(&dc);
    for url in [pop3s_url(&dc), pop3_url(&dc)] {
        let run = popscope_pw(&["check", &url, "--ca-file", &ca]);
        run.assert_check_ok("SCRAM-SHA-256", 2).assert_no_secret();
    }
}

// ---------------------------------------------------------------------------
// 3. Certificates: pin, untrusted, insecure

#[test]
fn check_accepts_the_right_pin_and_rejects_a_wrong_one() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let fingerprint = dc.cert_sha256_hex().to_string();
    let pin = format!("sha256:{fingerprint}");

    for url in [pop3s_url(&dc), pop3_url(&dc)] {
        let run = popscope_pw(&["check", &url, "--pin", &pin]);
        run.assert_check_ok("SCRAM-SHA-256", 1)
            .assert_stdout_has(&format!("sha256       {fingerprint}"));
        let verification = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("verification "))
            .unwrap_or_else(|| panic!("no verification line\n{}", run.describe()));
        assert!(verification.contains("SHA-256 pin"), "{verification:?}");
    }

    // The same certificate, pinned with a different last digit.
    let last = fingerprint.chars().last().expect("non-empty fingerprint");
    let other = if last == '0' { '1' } else { '0' };
    let wrong = format!("sha256:{}{other}", &fingerprint[..fingerprint.len() - 1]);
    for url in [pop3s_url(&dc), pop3_url(&dc)] {
        let run = popscope_pw(&["check", &url, "--pin", &wrong]);
        run.assert_check_failed(4)
            .assert_stderr_has("popscope: TLS failed: ")
            .assert_stderr_has("pinned")
            // It names what the server presented.
            .assert_stderr_has(&fingerprint)
            .assert_no_step("login")
            .assert_no_secret();
    }
}

#[test]
fn check_rejects_an_untrusted_certificate_and_names_its_fingerprint() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let fingerprint = dc.cert_sha256_hex().to_string();

    // No --ca-file: the self-signed certificate is checked against the
    // system roots and is not signed by any of them.
    for url in [pop3s_url(&dc), pop3_url(&dc)] {
        let run = popscope_pw(&["check", &url]);
        run.assert_check_failed(4)
            .assert_stderr_has("popscope: TLS failed: ")
            .assert_stderr_has("not signed by a trusted authority")
            .assert_stderr_has(&format!("--pin sha256:{fingerprint}"))
            .assert_no_step("login")
            .assert_no_secret();
    }

    // A --ca-file holding some unrelated CA: the same verdict.
    let dir = tempfile::tempdir().expect("temp dir");
    let other_ca = write_self_signed(dir.path(), "Some Other Test CA");
    let run = popscope_pw(&["check", &pop3s_url(&dc), "--ca-file", &other_ca]);
    run.assert_check_failed(4)
        .assert_stderr_has("not signed by a trusted authority")
        .assert_stderr_has(&format!("--pin sha256:{fingerprint}"));
}

/// Writes a new self-signed certificate for localhost whose subject (and
/// issuer) is `CN=<common_name>`; returns the PEM file's path.
fn write_self_signed(dir: &Path, common_name: &str) -> String {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("certificate params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let key = rcgen::KeyPair::generate().expect("key pair");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    let path = dir.join(format!("{}.pem", common_name.replace(' ', "-")));
    fs::write(&path, cert.pem()).expect("write certificate");
    path.display().to_string()
}

/// The everyday case of a self-signed server whose certificate was
/// regenerated: the saved --ca-file holds the OLD certificate, with the same
/// name as the new one. It must be refused like any untrusted certificate,
/// in words (not a Rust enum name), with the new fingerprint to pin.
#[test]
fn check_explains_a_replaced_self_signed_certificate() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let fingerprint = dc.cert_sha256_hex().to_string();
    let (_, server_cert) = x509_parser::parse_x509_certificate(dc.cert_der()).expect("parse the server certificate");
    let common_name = server_cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .expect("the server certificate has a CN")
        .to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let old_cert = write_self_signed(dir.path(), &common_name);
    for url in [pop3s_url(&dc), pop3_url(&dc)] {
        let run = popscope_pw(&["check", &url, "--ca-file", &old_cert]);
        run.assert_check_failed(4)
            .assert_stderr_has("popscope: TLS failed: ")
            .assert_stderr_has(&format!("--pin sha256:{fingerprint}"))
            .assert_no_step("login");
        assert!(
            !run.stderr.contains("BadSignature"),
            "a Rust error variant instead of an explanation\n{}",
            run.describe()
        );
        run.assert_stderr_has("not signed by a trusted authority");
    }
}

#[test]
fn check_insecure_connects_but_says_it_is_not_verified() {
    require_dovecot!();
    let dc = dovecot_with(1);
    for url in [pop3s_url(&dc), pop3_url(&dc)] {
        let run = popscope_pw(&["check", &url, "--insecure"]);
        run.assert_check_ok("SCRAM-SHA-256", 1)
            .assert_stdout_has("verification NOT VERIFIED")
            .assert_stdout_has("WARNING: --insecure")
            .assert_no_secret();
    }
}

// ---------------------------------------------------------------------------
// 4. Wrong password

#[test]
fn check_with_a_wrong_password_is_an_authentication_failure() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let ca = ca_file(&dc);
    for (url, auth) in [
        (pop3s_url(&dc), None),
        (pop3s_url(&dc), Some("SCRAM-SHA-256")),
        (pop3_url(&dc), Some("USER")),
        (pop3s_url(&dc), Some("USER")),
    ] {
        let mut args = vec!["check", &url, "--ca-file", &ca];
        if let Some(mechanism) = auth {
            args.extend(["--auth", mechanism]);
        }
        let run = popscope(&args, &[("POPSCOPE_PASSWORD", WRONG_PASSWORD)], RUN_TIMEOUT);
        let mechanism = auth.unwrap_or("SCRAM-SHA-256");
        run.assert_check_failed(5)
            .assert_stdout_has("FAILED: login failed (exit code 5)")
            .assert_stderr_has("popscope: login failed: ")
            .assert_stderr_has(&format!("the server rejected the login ({mechanism})"))
            .assert_no_step("login")
            .assert_no_step("stat");
        assert!(
            !run.stdout.contains(WRONG_PASSWORD) && !run.stderr.contains(WRONG_PASSWORD),
            "the password is shown\n{}",
            run.describe()
        );
    }
    // The right password still works afterwards (no lockout).
    popscope_pw(&["check", &pop3s_url(&dc), "--ca-file", &ca]).assert_check_ok("SCRAM-SHA-256", 1);
}

// ---------------------------------------------------------------------------
// 5. Locked maildrop

#[test]
fn check_on_a_locked_maildrop_exits_6_and_works_once_it_is_free() {
    require_dovecot!();
    let dc = dovecot_with(2);
    let ca = ca_file(&dc);
    let holder = RawPop3::login(dc.pop3_port(), USER, PASSWORD);

    // Dovecot waits 10 s for the lock before it answers [IN-USE].
    let run = popscope_pw(&["check", &pop3s_url(&dc), "--ca-file", &ca]);
    run.assert_check_failed(6)
        .assert_stdout_has("FAILED: mailbox unavailable (exit code 6)")
        .assert_stderr_has("popscope: mailbox unavailable: ")
        .assert_no_step("stat")
        .assert_no_secret();
    assert!(
        run.stderr.contains("IN-USE") || run.stderr.contains("locked"),
        "stderr does not say the maildrop is locked\n{}",
        run.describe()
    );

    holder.quit().expect("QUIT of the session holding the lock");
    popscope_pw(&["check", &pop3s_url(&dc), "--ca-file", &ca]).assert_check_ok("SCRAM-SHA-256", 2);
}

// ---------------------------------------------------------------------------
// 6. Plaintext policy

#[test]
fn plaintext_passwords_need_allow_plaintext_on_an_unencrypted_link() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let url = pop3_url(&dc);
    let dir = tempfile::tempdir().expect("temp dir");

    for mechanism in MECHANISMS {
        let trace_path = dir.path().join(format!("{mechanism}.trace"));
        let trace_arg = trace_path.display().to_string();
        let run = popscope_pw(&[
            "check", &url, "--tls", "none", "--auth", mechanism, "--trace", &trace_arg,
        ]);
        let trace = fs::read_to_string(&trace_path).unwrap_or_default();
        assert_no_secret("trace", &trace);
        run.assert_no_secret();
        if !CLEAR_TEXT_MECHANISMS.contains(&mechanism) {
            // Challenge-response: the password never crosses the wire.
            run.assert_check_ok(mechanism, 1)
                .assert_no_step("stls")
                .assert_no_step("tls");
            continue;
        }
        run.assert_check_failed(9)
            .assert_stdout_has("FAILED: refused (exit code 9)")
            .assert_stderr_has("popscope: refused: refusing to send the password in the clear")
            .assert_stderr_has("--allow-plaintext")
            .assert_no_step("login");
        // Refused after CAPA, before any part of the login was sent.
        assert!(
            trace.contains("C: CAPA"),
            "{mechanism}: no session in the trace:\n{trace}"
        );
        for command in ["C: USER", "C: PASS", "C: AUTH"] {
            assert!(
                !trace.contains(command),
                "{mechanism}: {command} was sent although refused:\n{trace}"
            );
        }
    }

    let run = popscope_pw(&["check", &url, "--tls", "none", "--auth", "USER", "--allow-plaintext"]);
    run.assert_check_ok("USER", 1)
        .assert_no_step("stls")
        .assert_no_step("tls")
        .assert_no_secret();

    // Without --auth, a challenge-response mechanism keeps the password off
    // the wire, so no permission is needed.
    let run = popscope_pw(&["check", &url, "--tls", "none"]);
    run.assert_check_ok("SCRAM-SHA-256", 1)
        .assert_no_step("stls")
        .assert_no_secret();
}

// ---------------------------------------------------------------------------
// 7. list on 2,000 messages, hostile ones included

/// A character that must never reach a terminal from a mail header: C0 and
/// C1 controls, DEL, and the bidi embeddings/overrides/isolates.
fn is_unsafe_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Every string value (and key) anywhere in `value`.
fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => {
            for (key, v) in map {
                out.push(key.clone());
                strings_in(v, out);
            }
        }
        _ => {}
    }
}

#[test]
fn list_json_matches_the_server_on_2000_hostile_messages() {
    require_dovecot!();
    let dc = Dovecot::builder().user(USER, PASSWORD).start();
    let messages = maildrop::mixed_maildrop(BIG_MAILDROP);
    assert_eq!(maildrop::hostile_positions(BIG_MAILDROP).len(), maildrop::HOSTILE.len());
    dc.deliver_many(USER, &messages);
    let Snapshot { stat, uidl, list } = raw_snapshot(&dc);
    assert_eq!(stat.0 as usize, BIG_MAILDROP);
    assert_eq!(uidl.len(), BIG_MAILDROP);
    assert_eq!(list.len(), BIG_MAILDROP);
    let ca = ca_file(&dc);

    let run = popscope(
        &["list", &pop3s_url(&dc), "--ca-file", &ca, "--json"],
        &[("POPSCOPE_PASSWORD", PASSWORD)],
        LIST_TIMEOUT,
    );
    eprintln!(
        "popscope list --json of {BIG_MAILDROP} messages (pop3s, pipelined): {:.3} s wall",
        run.elapsed.as_secs_f64()
    );
    run.assert_exit(0).assert_no_secret();
    assert!(!run.stdout.contains('\u{1b}'), "ESC in the JSON output");

    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), BIG_MAILDROP, "one JSON line per message\n{}", run.stderr);
    for (i, line) in lines.iter().enumerate() {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1));
        let object = value
            .as_object()
            .unwrap_or_else(|| panic!("line {} is not an object: {line}", i + 1));
        let (n, uid) = &uidl[i];
        let (n2, size) = list[i];
        assert_eq!((*n as usize, n2 as usize), (i + 1, i + 1), "oracle numbering");
        assert_eq!(object.get("msg").and_then(Value::as_u64), Some(i as u64 + 1), "{line}");
        assert_eq!(object.get("uid").and_then(Value::as_str), Some(uid.as_str()), "{line}");
        assert_eq!(object.get("size").and_then(Value::as_u64), Some(size), "{line}");
        assert_eq!(
            size,
            maildrop::virtual_size(&messages[i]),
            "oracle size of message {}",
            i + 1
        );

        for (key, field) in object {
            assert!(
                matches!(key.as_str(), "msg" | "size") || field.is_string() || field.is_null(),
                "message {}: {key} is neither a string nor null: {line}",
                i + 1
            );
        }

        let mut strings = Vec::new();
        strings_in(&value, &mut strings);
        for s in &strings {
            assert!(
                !s.chars().any(is_unsafe_char),
                "message {} ({:?}): unsafe character in {s:?}",
                i + 1,
                maildrop::kind_at(i)
            );
        }

        let subject = object.get("subject").and_then(Value::as_str);
        match maildrop::kind_at(i) {
            None => {
                let meta = maildrop::ordinary_meta(i);
                assert_eq!(subject, Some(meta.subject.as_str()), "message {}: {line}", i + 1);
                let from = object.get("from").and_then(Value::as_str).unwrap_or_default();
                assert!(from.contains(&meta.from_addr), "message {}: {line}", i + 1);
                assert!(
                    object
                        .get("date")
                        .and_then(Value::as_str)
                        .is_some_and(|d| !d.is_empty()),
                    "message {}: no date: {line}",
                    i + 1
                );
            }
            Some("terminal-escapes") => {
                // Neutralized, not dropped: the readable text is still there.
                let subject = subject.unwrap_or_default();
                assert!(subject.contains("cleared") && subject.contains("gnp.exe"), "{line}");
            }
            Some("latin1-headers") => {
                // 8-bit header bytes read as Windows-1252, not U+FFFD.
                let from = object.get("from").and_then(Value::as_str);
                assert_eq!(from, Some("Jürgen Müller <juergen@example.de>"), "{line}");
                assert!(subject.is_some_and(|s| s.contains("Café crème brûlée")), "{line}");
            }
            Some(_) => {}
        }
    }

    // The table form: one line per message, no escape byte at all.
    let run = popscope(
        &["list", &pop3_url(&dc), "--ca-file", &ca],
        &[("POPSCOPE_PASSWORD", PASSWORD)],
        LIST_TIMEOUT,
    );
    eprintln!(
        "popscope list (table) of {BIG_MAILDROP} messages (STLS, pipelined): {:.3} s wall",
        run.elapsed.as_secs_f64()
    );
    run.assert_exit(0)
        .assert_stderr_has(&format!("{BIG_MAILDROP} messages"))
        .assert_no_secret();
    assert_eq!(run.stdout.lines().count(), BIG_MAILDROP, "one table row per message");
    let bad = run.stdout.char_indices().find(|&(_, c)| c != '\n' && is_unsafe_char(c));
    assert!(bad.is_none(), "unsafe character in the table: {bad:?}");
    for (row, (n, uid)) in run.stdout.lines().zip(&uidl) {
        let mut words = row.split_whitespace();
        assert_eq!(words.next(), Some(n.to_string().as_str()), "{row:?}");
        assert_eq!(words.next(), Some(uid.as_str()), "{row:?}");
    }
}

// ---------------------------------------------------------------------------
// 8. Nothing is ever marked

fn maildir_count(dc: &Dovecot) -> usize {
    dc.maildir_files(USER).len()
}

#[test]
fn check_and_list_never_mark_anything() {
    require_dovecot!();
    let dc = Dovecot::builder().user(USER, PASSWORD).start();
    dc.deliver_many(USER, maildrop::mixed_maildrop(40));
    let files_before = maildir_count(&dc);
    assert_eq!(files_before, 40);
    let before = raw_snapshot(&dc);
    assert_eq!(before.stat.0, 40);
    let ca = ca_file(&dc);

    popscope_pw(&["check", &pop3s_url(&dc), "--ca-file", &ca]).assert_check_ok("SCRAM-SHA-256", 40);
    popscope_pw(&["check", &pop3_url(&dc), "--ca-file", &ca, "--auth", "USER"]).assert_check_ok("USER", 40);
    let run = popscope_pw(&["list", &pop3s_url(&dc), "--ca-file", &ca, "--json"]);
    run.assert_exit(0);
    assert_eq!(run.stdout.lines().count(), 40);
    popscope_pw(&["list", &pop3_url(&dc), "--ca-file", &ca, "--no-pipelining"]).assert_exit(0);

    let after = raw_snapshot(&dc);
    assert_eq!(after.stat, before.stat, "STAT changed");
    assert_eq!(after.uidl, before.uidl, "UIDL changed");
    assert_eq!(after.list, before.list, "LIST changed");
    assert_eq!(maildir_count(&dc), files_before, "Maildir file count changed");
}

// ---------------------------------------------------------------------------
// 9. Where the password comes from

#[test]
fn password_file_and_password_command_work() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let url = pop3s_url(&dc);
    let ca = ca_file(&dc);
    let dir = tempfile::tempdir().expect("temp dir");

    let file = dir.path().join("password");
    fs::write(&file, format!("{PASSWORD}\nsecond line is ignored\n")).expect("write password file");
    let file_arg = file.display().to_string();
    popscope(
        &["check", &url, "--ca-file", &ca, "--password-file", &file_arg],
        &[],
        RUN_TIMEOUT,
    )
    .assert_check_ok("SCRAM-SHA-256", 1)
    .assert_no_secret();

    let command = format!("echo '{PASSWORD}'");
    popscope(
        &["check", &url, "--ca-file", &ca, "--password-command", &command],
        &[],
        RUN_TIMEOUT,
    )
    .assert_check_ok("SCRAM-SHA-256", 1)
    .assert_no_secret();
}

#[test]
fn a_failing_password_command_is_a_local_error() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let run = popscope(
        &[
            "check",
            &pop3s_url(&dc),
            "--ca-file",
            &ca_file(&dc),
            "--password-command",
            "echo 'not-the-password'; exit 3",
        ],
        &[],
        RUN_TIMEOUT,
    );
    run.assert_exit(1)
        .assert_stderr_has("popscope: error: --password-command failed")
        .assert_stderr_has("try: ");
    assert!(
        !run.stdout.contains("not-the-password") && !run.stderr.contains("not-the-password"),
        "the command's output is shown\n{}",
        run.describe()
    );
    assert!(
        run.step("connect").is_none(),
        "connected without a password\n{}",
        run.describe()
    );
}

#[test]
fn no_password_and_no_terminal_is_a_usage_error() {
    require_dovecot!();
    let dc = dovecot_with(1);
    let run = popscope(
        &["check", &pop3s_url(&dc), "--ca-file", &ca_file(&dc)],
        &[],
        RUN_TIMEOUT,
    );
    run.assert_exit(2)
        .assert_stderr_has("popscope: usage error: no password available and standard input is not a terminal")
        .assert_stderr_has("POPSCOPE_PASSWORD");
    assert!(
        run.step("connect").is_none(),
        "connected without a password\n{}",
        run.describe()
    );
    let run = popscope(
        &["list", &pop3s_url(&dc), "--ca-file", &ca_file(&dc), "--json"],
        &[],
        RUN_TIMEOUT,
    );
    run.assert_exit(2)
        .assert_stderr_has("no password available and standard input is not a terminal");
    assert!(run.stdout.is_empty(), "list printed something\n{}", run.describe());
}

/// Pipelined answers are matched to the right commands whatever the
/// window: lockstep, a tiny window, and one larger than the maildrop must
/// all give exactly what an independent session sees, with each message's
/// own Subject.
#[test]
fn list_is_identical_under_every_window() {
    require_dovecot!();
    const MESSAGES: usize = 300;
    let dc = dovecot_with(MESSAGES);
    let Snapshot { uidl, list, .. } = raw_snapshot(&dc);
    let ca = ca_file(&dc);
    let url = pop3s_url(&dc);
    let mut outputs = Vec::new();
    for window_args in [
        vec!["--no-pipelining"],
        vec!["--window", "2"],
        vec!["--window", "100000"],
    ] {
        let mut args = vec!["list", url.as_str(), "--ca-file", ca.as_str(), "--json"];
        args.extend(window_args.iter().copied());
        let run = popscope_pw(&args);
        run.assert_exit(0);
        let rows: Vec<Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(rows.len(), MESSAGES, "{window_args:?}");
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(
                row["uid"].as_str(),
                Some(uidl[i].1.as_str()),
                "{window_args:?} message {}",
                i + 1
            );
            assert_eq!(
                row["size"].as_u64(),
                Some(list[i].1),
                "{window_args:?} message {}",
                i + 1
            );
            let subject = row["subject"].as_str().unwrap_or_default();
            assert_eq!(
                subject,
                maildrop::ordinary_meta(i).subject,
                "{window_args:?} message {}",
                i + 1
            );
        }
        outputs.push(run.stdout);
    }
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "the listings differ between windows"
    );
}
