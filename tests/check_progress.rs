//! `popscope check` as a monitoring tool: each step printed the moment it
//! ends (readable while a slow login is still under way), `--json`,
//! `--warn-cert-days`, and a TLS port reached with `pop3://` recognized
//! quickly instead of after the whole timeout.
//!
//! Nothing here sleeps to wait for popscope: lines are read as they come,
//! with a deadline; the only delays are the fake server's, on purpose.

#[path = "support/fake_server.rs"]
mod fake_server;

use fake_server::{FakeServer, Step, capa, expect, greeting, quit, send_line};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const USER: &str = "alice";
const PASSWORD: &str = "Tr0ub4dor&3-horse";
/// How long any run may take before the test gives up on it.
const LIMIT: Duration = Duration::from_secs(30);

fn spawn(args: &[&str]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_popscope"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("POPSCOPE_PASSWORD", PASSWORD);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("POPSCOPE_") && key != "POPSCOPE_PASSWORD" {
            cmd.env_remove(key);
        }
    }
    cmd.spawn().expect("start popscope")
}

/// Lines of `child`'s standard output as they arrive, each with the time
/// it was read.
fn lines(child: &mut Child) -> mpsc::Receiver<(String, Instant)> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((line, Instant::now())).is_err() {
                break;
            }
        }
    });
    rx
}

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs popscope to the end (killed after `LIMIT`).
fn run(args: &[&str]) -> Finished {
    let started = Instant::now();
    let mut child = spawn(args);
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let code = wait(&mut child, started);
    Finished {
        code,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

fn wait(child: &mut Child, started: Instant) -> Option<i32> {
    loop {
        if let Some(status) = child.try_wait().expect("poll popscope") {
            return status.code();
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("popscope did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn plain(server: &FakeServer) -> String {
    format!("pop3://{USER}@127.0.0.1:{}", server.port())
}

/// A whole session: greeting, CAPA, USER/PASS (PASS answered after
/// `pass_delay`), CAPA again, STAT, QUIT.
fn session(pass_delay: Duration) -> Vec<Step> {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "UIDL", "TOP"]));
    script.extend([
        Step::Expect(format!("USER {USER}")),
        send_line("+OK"),
        Step::Expect(format!("PASS {PASSWORD}")),
        Step::Pause(pass_delay),
        send_line("+OK logged in"),
    ]);
    script.extend(capa(&["USER", "UIDL", "TOP", "PIPELINING"]));
    script.extend([expect("STAT"), send_line("+OK 2 320")]);
    script.extend(quit());
    script
}

#[test]
fn check_prints_each_step_while_a_slow_login_is_still_under_way() {
    let delay = Duration::from_secs(3);
    let server = FakeServer::start(session(delay));
    let started = Instant::now();
    let url = plain(&server);
    let mut child = spawn(&["check", &url, "--tls", "none", "--allow-plaintext", "--auth", "USER"]);
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    let capa_at = loop {
        let (line, at) = rx
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("no capa line; so far: {seen:#?}"));
        seen.push(line.clone());
        if line.trim_start().starts_with("capa ") {
            break at;
        }
    };
    assert!(
        seen.iter().any(|l| l.trim_start().starts_with("greeting ")),
        "{seen:#?}"
    );
    assert!(
        !seen.iter().any(|l| l.contains("login ")),
        "the login is not over: {seen:#?}"
    );
    let code = wait(&mut child, started);
    let ended = Instant::now();
    let rest: Vec<String> = rx.try_iter().map(|(l, _)| l).collect();
    assert_eq!(code, Some(0), "{seen:#?}\n{rest:#?}");
    assert!(
        ended - capa_at >= delay - Duration::from_millis(500),
        "the capa line was readable {:?} before the end, expected about {delay:?}",
        ended - capa_at
    );
    assert!(rest.iter().any(|l| l.trim_start().starts_with("login ")), "{rest:#?}");
    assert!(rest.iter().any(|l| l.starts_with("OK: every step passed")), "{rest:#?}");
}

#[test]
fn check_json_has_every_step_with_time_and_outcome() {
    let server = FakeServer::start(session(Duration::ZERO));
    let url = plain(&server);
    let run = run(&[
        "check",
        &url,
        "--tls",
        "none",
        "--allow-plaintext",
        "--auth",
        "USER",
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let steps: Vec<(&str, &str)> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("connect", "ok"),
            ("greeting", "ok"),
            ("capa", "ok"),
            ("login", "ok"),
            ("capa again", "ok"),
            ("stat", "ok"),
            ("quit", "ok")
        ]
    );
    assert!(doc["steps"][0]["ms"].is_number());
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["greeting"], fake_server::GREETING);
    assert_eq!(doc["capa_before"], serde_json::json!(["USER", "UIDL", "TOP"]));
    assert_eq!(doc["mechanism"], "USER");
    assert_eq!(doc["tls"], serde_json::Value::Null);
}

#[test]
fn check_json_names_the_step_that_failed() {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER"]));
    script.extend([
        Step::Expect(format!("USER {USER}")),
        send_line("+OK"),
        Step::Expect(format!("PASS {PASSWORD}")),
        send_line("-ERR [AUTH] no"),
        Step::Close,
    ]);
    let server = FakeServer::start(script);
    let url = plain(&server);
    let run = run(&["check", &url, "--tls", "none", "--allow-plaintext", "--json"]);
    assert_eq!(run.code, Some(5), "{}\n{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let last = doc["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["step"], "login");
    assert_eq!(last["outcome"], "failed");
    assert!(last["detail"].as_str().unwrap().contains("[AUTH] no"), "{last}");
    assert_eq!(doc["exit_code"], 5);
    assert_eq!(doc["error"]["kind"], "login failed");
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
}

/// Implicit TLS with the fake server's own certificate (valid until 4096).
fn tls_session() -> FakeServer {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "UIDL", "TOP", "PIPELINING"]));
    script.extend([
        Step::Expect(format!("USER {USER}")),
        send_line("+OK"),
        Step::Expect(format!("PASS {PASSWORD}")),
        send_line("+OK logged in"),
    ]);
    script.extend(capa(&["USER", "UIDL", "TOP", "PIPELINING"]));
    script.extend([expect("STAT"), send_line("+OK 0 0")]);
    script.extend(quit());
    FakeServer::start_tls(script)
}

#[test]
fn warn_cert_days_is_its_own_exit_code() {
    for (days, code) in [("30", 0), ("10000000", 11)] {
        let server = tls_session();
        let url = format!("pop3s://{USER}@localhost:{}", server.port());
        let ca = server.cert_pem_path().display().to_string();
        let run = run(&[
            "check",
            &url,
            "--ca-file",
            &ca,
            "--auth",
            "USER",
            "--warn-cert-days",
            days,
        ]);
        assert_eq!(run.code, Some(code), "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("OK: every step passed"), "{}", run.stdout);
        assert!(run.stdout.contains("(expires in "), "{}", run.stdout);
        if code == 11 {
            assert!(
                run.stdout.contains("WARNING: the server's certificate expires in"),
                "{}",
                run.stdout
            );
            assert!(run.stderr.contains("certificate expiring"), "{}", run.stderr);
        }
        let server = tls_session();
        let url = format!("pop3s://{USER}@localhost:{}", server.port());
        let json = run_json(&url, &ca_of(&server), days);
        assert_eq!(json["exit_code"], code);
        assert!(json["tls"]["certificate"]["expires_in_days"].as_i64().unwrap() > 700_000);
        assert!(json["tls"]["version"].as_str().unwrap().starts_with("TLS 1."));
    }
}

fn ca_of(server: &FakeServer) -> String {
    server.cert_pem_path().display().to_string()
}

fn run_json(url: &str, ca: &str, days: &str) -> serde_json::Value {
    let run = run(&[
        "check",
        url,
        "--ca-file",
        ca,
        "--auth",
        "USER",
        "--warn-cert-days",
        days,
        "--json",
    ]);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn a_tls_record_instead_of_a_greeting_says_use_pop3s_at_once() {
    let alert = b"\x15\x03\x03\x00\x02\x02\x28".to_vec();
    let server = FakeServer::start(vec![Step::Send(alert), Step::Close]);
    let url = plain(&server);
    let run = run(&["check", &url, "--tls", "none", "--allow-plaintext"]);
    assert_eq!(run.code, Some(4), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("this looks like a TLS port"), "{}", run.stderr);
    assert!(run.stderr.contains("pop3s://"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
}

/// A TLS server on every connection it accepts: silent until a ClientHello
/// comes, as a real POP3S port is.
fn silent_tls_port() -> u16 {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(
        tokio_rustls::rustls::pki_types::PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()),
    );
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = acceptor.accept(tcp).await;
                });
            }
        });
    });
    port
}

#[test]
fn a_silent_tls_port_is_recognized_after_a_short_wait() {
    let port = silent_tls_port();
    let url = format!("pop3://{USER}@localhost:{port}");
    // The answer timeout is far longer than the wait: the probe decides.
    let run = run(&["check", &url, "--timeout", "25"]);
    assert_eq!(run.code, Some(4), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("this looks like a TLS port: use pop3s://"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("pop3s://{USER}@localhost:{port}")),
        "{}",
        run.stderr
    );
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    assert!(run.stdout.contains("FAILED at greeting after"), "{}", run.stdout);
}
