//! Self-test of the scripted fake POP3 server in tests/support/fake_server.rs.

#[path = "support/fake_server.rs"]
mod fake_server;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_server::{FakeServer, Step, capa, expect, expect_prefix, greeting, send_line};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

const WAIT: Duration = Duration::from_secs(10);

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(server: &FakeServer) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        Client {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    /// One line without CRLF; None at EOF.
    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read line");
        if n == 0 {
            return None;
        }
        assert!(line.ends_with("\r\n"), "line not CRLF-terminated: {line:?}");
        line.truncate(line.len() - 2);
        Some(line)
    }

    fn send(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\r\n").as_bytes()).expect("write");
    }
}

#[test]
fn plain_script_with_close_mid_response() {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "UIDL", "TOP"]));
    script.extend(fake_server::user_pass_login("alice", "s3cret"));
    script.push(expect("LIST"));
    // A multi-line LIST reply cut off before its "." terminator.
    script.push(Step::Send(b"+OK 2 messages\r\n1 120\r\n".to_vec()));
    script.push(Step::Close);
    let server = FakeServer::start(script);

    let mut c = Client::connect(&server);
    assert_eq!(c.line().as_deref(), Some(fake_server::GREETING));

    c.send("CAPA");
    let mut capa_reply = Vec::new();
    loop {
        let line = c.line().expect("CAPA reply");
        if line == "." {
            break;
        }
        capa_reply.push(line);
    }
    assert_eq!(capa_reply, ["+OK", "USER", "UIDL", "TOP"]);

    c.send("USER alice");
    assert_eq!(c.line().as_deref(), Some("+OK"));
    c.send("PASS s3cret");
    assert_eq!(c.line().as_deref(), Some("+OK logged in"));
    // The server records a line before answering it.
    assert_eq!(server.received(), ["CAPA", "USER alice", "PASS s3cret"]);

    c.send("LIST");
    assert_eq!(c.line().as_deref(), Some("+OK 2 messages"));
    assert_eq!(c.line().as_deref(), Some("1 120"));
    assert_eq!(c.line(), None, "expected EOF mid-response");

    let t = server.wait_done(WAIT).expect("script succeeds");
    assert_eq!(t.received, ["CAPA", "USER alice", "PASS s3cret", "LIST"]);
    assert!(!t.tls);
    let sent = String::from_utf8(t.sent).unwrap();
    assert!(sent.starts_with("+OK fake POP3 ready\r\n+OK\r\nUSER\r\n"));
    assert!(sent.ends_with("+OK 2 messages\r\n1 120\r\n"));
}

#[test]
fn mismatch_names_the_step() {
    let server = FakeServer::start(vec![greeting(), expect("USER alice"), send_line("+OK")]);
    let mut c = Client::connect(&server);
    c.line().expect("greeting");
    c.send("USER bob");

    let err = server.wait_done(WAIT).expect_err("mismatch must fail");
    assert!(err.contains("step 1"), "{err}");
    assert!(err.contains("\"USER alice\""), "{err}");
    assert!(err.contains("\"USER bob\""), "{err}");
    assert_eq!(server.received(), ["USER bob"]);
    // The server hangs up after a failed step.
    let mut rest = Vec::new();
    let _ = c.reader.read_to_end(&mut rest);
    assert!(rest.is_empty());
}

#[test]
fn expect_prefix_is_case_insensitive_for_the_command_word_only() {
    let server = FakeServer::start(vec![
        expect_prefix("USER "),
        send_line("+OK"),
        expect_prefix("APOP alice "),
        send_line("+OK"),
        expect_prefix("AUTH PLAIN"),
    ]);
    let mut c = Client::connect(&server);
    c.send("user alice");
    assert_eq!(c.line().as_deref(), Some("+OK"));
    c.send("apop alice 0123456789abcdef");
    assert_eq!(c.line().as_deref(), Some("+OK"));
    c.send("AUTH plain");
    let err = server.wait_done(WAIT).expect_err("argument case matters");
    assert!(err.contains("step 4"), "{err}");
    assert!(err.contains("\"AUTH plain\""), "{err}");
}

#[test]
fn bare_lf_fails_expect() {
    let server = FakeServer::start(vec![expect("CAPA")]);
    let mut c = Client::connect(&server);
    c.writer.write_all(b"CAPA\n").unwrap();
    let err = server.wait_done(WAIT).expect_err("bare LF");
    assert!(err.contains("step 0") && err.contains("CRLF"), "{err}");
}

#[test]
fn client_closing_early_is_reported_not_panicked() {
    let server = FakeServer::start(vec![greeting(), expect("CAPA"), send_line("+OK")]);
    let mut c = Client::connect(&server);
    c.line().expect("greeting");
    drop(c);
    let err = server.wait_done(WAIT).expect_err("client went away");
    assert!(err.contains("client closed before step 1"), "{err}");
}

#[test]
fn trailing_lines_are_drained_after_the_script() {
    let server = FakeServer::start(vec![greeting()]);
    let mut c = Client::connect(&server);
    c.line().expect("greeting");
    let t = server.wait_done(WAIT).expect("script ends after the greeting");
    assert!(t.received.is_empty());
    // Unscripted QUIT: read and recorded, no reset; the server closes after
    // the client does.
    c.send("QUIT");
    c.writer.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(c.line(), None);
    assert_eq!(server.wait_received(1, WAIT).unwrap(), ["QUIT"]);
}

#[test]
fn reset_step_resets_the_connection() {
    let server = FakeServer::start(vec![greeting(), Step::Reset]);
    let mut c = Client::connect(&server);
    c.line().expect("greeting");
    server.wait_done(WAIT).expect("reset is a normal end");
    let mut buf = [0u8; 16];
    let err = c.reader.get_mut().read(&mut buf).expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn stall_ends_when_server_is_dropped() {
    let server = FakeServer::start(vec![greeting(), Step::Stall]);
    let mut c = Client::connect(&server);
    c.line().expect("greeting");
    // Stall counts as the end of the script.
    server.wait_done(WAIT).expect("stall reached");

    // The connection is still open: a short read times out.
    c.reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = c.reader.read(&mut buf).expect_err("stalled");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );

    // Dropping the server closes it promptly.
    c.reader.get_ref().set_read_timeout(Some(WAIT)).unwrap();
    let started = Instant::now();
    drop(server);
    let closed = match c.reader.read(&mut buf) {
        Ok(n) => n == 0,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    };
    assert!(closed, "connection should be closed after drop");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn drop_without_a_client_is_prompt() {
    let server = FakeServer::start(vec![greeting()]);
    let err = server.wait_done(Duration::from_millis(50)).expect_err("no client");
    assert!(err.contains("timed out"), "{err}");
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
#[should_panic(expected = "must be the last step")]
fn close_must_be_last() {
    let _ = FakeServer::start(vec![Step::Close, greeting()]);
}

fn tls_connector(server: &FakeServer) -> tokio_rustls::TlsConnector {
    let pem = std::fs::read(server.cert_pem_path()).expect("read cert PEM");
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.expect("PEM cert")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> String {
    let mut line = String::new();
    tokio::time::timeout(WAIT, r.read_line(&mut line))
        .await
        .expect("line in time")
        .expect("read line");
    line
}

#[tokio::test]
async fn implicit_tls() {
    let mut script = vec![greeting()];
    script.extend(fake_server::user_pass_login("alice", "pw"));
    script.extend(fake_server::quit());
    let server = FakeServer::start_tls(script);

    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tls_connector(&server).connect(name, tcp).await.unwrap();
    let mut tls = tokio::io::BufReader::new(tls);
    assert_eq!(read_line(&mut tls).await, "+OK fake POP3 ready\r\n");
    tls.write_all(b"USER alice\r\n").await.unwrap();
    assert_eq!(read_line(&mut tls).await, "+OK\r\n");
    tls.write_all(b"PASS pw\r\nQUIT\r\n").await.unwrap();
    assert_eq!(read_line(&mut tls).await, "+OK logged in\r\n");
    assert_eq!(read_line(&mut tls).await, "+OK bye\r\n");
    assert_eq!(read_line(&mut tls).await, "", "close_notify then EOF");

    let t = server.wait_done_async(WAIT).await.expect("script succeeds");
    assert!(t.tls);
    assert_eq!(t.received, ["USER alice", "PASS pw", "QUIT"]);
}

#[tokio::test]
async fn stls_upgrade_by_ip_address() {
    let mut script = vec![greeting()];
    script.extend(capa(&["STLS", "USER"]));
    script.extend(fake_server::stls());
    script.extend(capa(&["USER"]));
    let server = FakeServer::start(script);

    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    let mut plain = tokio::io::BufReader::new(tcp);
    assert_eq!(read_line(&mut plain).await, "+OK fake POP3 ready\r\n");
    plain.write_all(b"CAPA\r\n").await.unwrap();
    for want in ["+OK\r\n", "STLS\r\n", "USER\r\n", ".\r\n"] {
        assert_eq!(read_line(&mut plain).await, want);
    }
    plain.write_all(b"STLS\r\n").await.unwrap();
    assert!(read_line(&mut plain).await.starts_with("+OK"));
    assert!(plain.buffer().is_empty());

    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = tls_connector(&server).connect(name, plain.into_inner()).await.unwrap();
    let mut tls = tokio::io::BufReader::new(tls);
    tls.write_all(b"CAPA\r\n").await.unwrap();
    for want in ["+OK\r\n", "USER\r\n", ".\r\n"] {
        assert_eq!(read_line(&mut tls).await, want);
    }
    let t = server.wait_done_async(WAIT).await.expect("script succeeds");
    assert!(t.tls);
    assert_eq!(t.received, ["CAPA", "STLS", "CAPA"]);
    tls.get_mut().shutdown().await.unwrap();
}

#[test]
fn plaintext_sent_before_tls_handshake_is_caught() {
    let mut script = vec![greeting()];
    script.extend(fake_server::stls());
    let server = FakeServer::start(script);
    let mut c = Client::connect(&server);
    c.line().expect("greeting");
    // Command injection: plaintext after STLS, before the handshake.
    c.writer.write_all(b"STLS\r\nCAPA\r\n").unwrap();
    let err = server.wait_done(WAIT).expect_err("injected bytes");
    assert!(err.contains("step 3 StartTls"), "{err}");
    assert!(err.contains("CAPA"), "{err}");
}
