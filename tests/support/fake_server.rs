//! A scripted fake POP3 server for integration tests.
//!
//! It exists to produce faults a real server won't: malformed replies,
//! connections closed mid-response, stalls, slow replies, STARTTLS at odd
//! moments. Each [`FakeServer`] listens on `127.0.0.1:0`, accepts exactly ONE
//! connection and plays a fixed [`Step`] script against it.
//!
//! The server runs on its own background thread with its own current-thread
//! tokio runtime, so it works the same from `#[test]` (e.g. tests that run the
//! `popscope` binary as a subprocess) and from `#[tokio::test]`. In async tests
//! use [`FakeServer::wait_done_async`] rather than the blocking
//! [`FakeServer::wait_done`] if the client runs on the test's runtime.
//!
//! Step numbers in messages are 0-based indexes into the script vector.
//!
//! ```ignore
//! let mut script = vec![greeting()];
//! script.extend(capa(&["USER", "UIDL"]));
//! script.extend(user_pass_login("alice", "secret"));
//! script.extend(quit());
//! let server = FakeServer::start(script);
//! // run the client against 127.0.0.1:server.port() ...
//! let transcript = server.wait_done(Duration::from_secs(10)).unwrap();
//! ```
#![allow(dead_code)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Upper bound for every single network wait of the server (accepting the
/// connection, reading one line, writing one step, a TLS handshake). Keeps a
/// broken test from hanging forever.
pub const IO_LIMIT: Duration = Duration::from_secs(30);

/// A line longer than this (without a line feed) fails the step.
pub const MAX_LINE: usize = 64 * 1024;

/// The greeting text sent by [`greeting`].
pub const GREETING: &str = "+OK fake POP3 ready";

/// One action of the server's script.
#[derive(Clone, PartialEq, Eq)]
pub enum Step {
    /// Write these exact bytes.
    Send(Vec<u8>),
    /// Write the text followed by `"\r\n"`.
    SendLine(String),
    /// Read one CRLF-terminated line; it must equal this exactly (CRLF
    /// excluded, case-sensitive). A line ending in a bare LF also fails.
    Expect(String),
    /// Read one CRLF-terminated line; it must start with this. The first word
    /// of the prefix (up to its first space) is compared case-insensitively,
    /// the rest exactly: `ExpectPrefix("USER ")` matches `"user bob"`.
    ExpectPrefix(String),
    /// Read one line (any terminator), whatever it is.
    ExpectAny,
    /// Close the connection now (mid-response allowed). Over TLS a
    /// close_notify is sent first. Must be the last step.
    Close,
    /// Close abruptly with a TCP reset (SO_LINGER 0), no TLS close_notify.
    /// Must be the last step.
    Reset,
    /// Stop reading and writing but keep the socket open until the
    /// [`FakeServer`] is dropped. Counts as the script's end for
    /// [`FakeServer::wait_done`]. Must be the last step.
    Stall,
    /// Server-side TLS handshake now (send the `+OK` yourself before this).
    /// The rest of the script runs over TLS. Fails if the client had already
    /// sent bytes past its last line (plaintext injected before the
    /// handshake).
    StartTls,
    /// Wait this long before the next step (a deliberately slow server).
    Pause(Duration),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Send(b) => write!(f, "Send({:?})", String::from_utf8_lossy(b)),
            Step::SendLine(s) => write!(f, "SendLine({s:?})"),
            Step::Expect(s) => write!(f, "Expect({s:?})"),
            Step::ExpectPrefix(s) => write!(f, "ExpectPrefix({s:?})"),
            Step::ExpectAny => f.write_str("ExpectAny"),
            Step::Close => f.write_str("Close"),
            Step::Reset => f.write_str("Reset"),
            Step::Stall => f.write_str("Stall"),
            Step::StartTls => f.write_str("StartTls"),
            Step::Pause(d) => write!(f, "Pause({d:?})"),
        }
    }
}

// ---------------------------------------------------------------------------
// Script helpers
// ---------------------------------------------------------------------------

/// `SendLine("+OK fake POP3 ready")`.
pub fn greeting() -> Step {
    Step::SendLine(GREETING.to_string())
}

/// `SendLine(text)`.
pub fn send_line(text: &str) -> Step {
    Step::SendLine(text.to_string())
}

/// `Expect(line)`.
pub fn expect(line: &str) -> Step {
    Step::Expect(line.to_string())
}

/// `ExpectPrefix(prefix)`.
pub fn expect_prefix(prefix: &str) -> Step {
    Step::ExpectPrefix(prefix.to_string())
}

/// A complete, well-formed multi-line response: `status` line, the body
/// lines dot-stuffed, then the `"."` terminator.
pub fn multiline(status: &str, lines: &[&str]) -> Step {
    let mut out = format!("{status}\r\n");
    for line in lines {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    Step::Send(out.into_bytes())
}

/// Expect `CAPA`, answer `+OK`, one line per tag, `.`.
pub fn capa(tags: &[&str]) -> Vec<Step> {
    vec![expect("CAPA"), multiline("+OK", tags)]
}

/// Expect `USER user` / `PASS pass` (exactly), answering `+OK` to both.
pub fn user_pass_login(user: &str, pass: &str) -> Vec<Step> {
    vec![
        Step::Expect(format!("USER {user}")),
        send_line("+OK"),
        Step::Expect(format!("PASS {pass}")),
        send_line("+OK logged in"),
    ]
}

/// Expect `STLS`, answer `+OK`, do the TLS handshake.
pub fn stls() -> Vec<Step> {
    vec![expect("STLS"), send_line("+OK begin TLS negotiation"), Step::StartTls]
}

/// Expect `QUIT`, answer `+OK bye`, then close.
pub fn quit() -> Vec<Step> {
    vec![expect("QUIT"), send_line("+OK bye"), Step::Close]
}

// ---------------------------------------------------------------------------
// Public handle
// ---------------------------------------------------------------------------

/// What happened on the connection, as of the end of the script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Lines the client sent up to the end of the script (CRLF stripped,
    /// lossy UTF-8). Lines sent after the script ended show up only in
    /// [`FakeServer::received`].
    pub received: Vec<String>,
    /// Every byte the server wrote, as plaintext (before TLS encryption).
    pub sent: Vec<u8>,
    /// Whether the connection was running over TLS when the script ended.
    pub tls: bool,
}

/// A one-connection scripted POP3 server. Dropping it stops the server
/// thread promptly (closing any stalled connection) and deletes the
/// certificate file.
pub struct FakeServer {
    port: u16,
    cert_pem_path: PathBuf,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _cert_dir: tempfile::TempDir,
}

impl FakeServer {
    /// Binds `127.0.0.1:0` and serves one plaintext connection with `script`
    /// (a later `Step::StartTls` upgrades it).
    ///
    /// Panics if `Close`, `Reset` or `Stall` is not the last step.
    pub fn start(script: Vec<Step>) -> FakeServer {
        Self::spawn(script, false)
    }

    /// Like [`FakeServer::start`], but TLS from the first byte (POP3S).
    pub fn start_tls(script: Vec<Step>) -> FakeServer {
        Self::spawn(script, true)
    }

    /// The port on 127.0.0.1 the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// PEM file of the self-signed certificate (SANs `localhost` and
    /// `127.0.0.1`) used for TLS; give it to the client as its CA file.
    pub fn cert_pem_path(&self) -> &Path {
        &self.cert_pem_path
    }

    /// Every line the client sent so far, in order (CRLF stripped, lossy
    /// UTF-8), including lines read after the script ended.
    pub fn received(&self) -> Vec<String> {
        self.shared.lock().received.clone()
    }

    /// Blocks until at least `count` lines have been received; returns them.
    /// Err on timeout, or if the script failed first.
    pub fn wait_received(&self, count: usize, timeout: Duration) -> Result<Vec<String>, String> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if state.received.len() >= count {
                return Ok(state.received.clone());
            }
            if let Some(Err(e)) = &state.outcome {
                return Err(format!("script failed before {count} lines were received: {e}"));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "timed out after {timeout:?} waiting for {count} lines; received so far: {:?}",
                    state.received
                ));
            }
            state = self.shared.wait(state, deadline - now);
        }
    }

    /// Blocks until the script ended (all steps run, or `Close`/`Reset`
    /// done, or `Stall` reached) or failed. Err if a step failed (the
    /// message names the step, expected vs got), the client went away
    /// early, or `timeout` passed first.
    ///
    /// Don't call this from an async test while the client still needs the
    /// same runtime to make progress: use [`FakeServer::wait_done_async`].
    pub fn wait_done(&self, timeout: Duration) -> Result<Transcript, String> {
        wait_outcome(&self.shared, timeout)
    }

    /// Async version of [`FakeServer::wait_done`] (waits on tokio's blocking
    /// pool, so the calling runtime keeps running).
    pub async fn wait_done_async(&self, timeout: Duration) -> Result<Transcript, String> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || wait_outcome(&shared, timeout))
            .await
            .map_err(|e| format!("wait task failed: {e}"))?
    }

    fn spawn(script: Vec<Step>, implicit_tls: bool) -> FakeServer {
        if let Some(i) = script
            .iter()
            .position(|s| matches!(s, Step::Close | Step::Reset | Step::Stall))
        {
            assert!(
                i + 1 == script.len(),
                "fake_server: step {i} {:?} must be the last step of the script",
                script[i]
            );
        }

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("set listener non-blocking");
        let port = listener.local_addr().expect("listener address").port();

        let (cert_dir, cert_pem_path, tls_config) = make_tls();
        let shared = Arc::new(Shared::default());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();

        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fake-pop3-{port}"))
            .spawn(move || {
                // Records an outcome if the thread ends (or panics) without one,
                // so that waiters don't sit out their whole timeout.
                let _guard = OutcomeGuard(Arc::clone(&thread_shared));
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fake server runtime");
                rt.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            thread_shared.finish(Err(format!("listener setup failed: {e}")));
                            return;
                        }
                    };
                    let server = serve(listener, script, implicit_tls, tls_config, Arc::clone(&thread_shared));
                    tokio::select! {
                        _ = stop_rx => {}
                        _ = server => {}
                    }
                });
            })
            .expect("spawn fake server thread");

        FakeServer {
            port,
            cert_pem_path,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
            _cert_dir: cert_dir,
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn wait_outcome(shared: &Shared, timeout: Duration) -> Result<Transcript, String> {
    let deadline = Instant::now() + timeout;
    let mut state = shared.lock();
    loop {
        if let Some(outcome) = &state.outcome {
            return outcome.clone();
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "timed out after {timeout:?} waiting for the script to end (at step {}); received so far: {:?}",
                state.step, state.received
            ));
        }
        state = shared.wait(state, deadline - now);
    }
}

// ---------------------------------------------------------------------------
// Shared state between the handle and the server thread
// ---------------------------------------------------------------------------

#[derive(Default)]
struct State {
    received: Vec<String>,
    /// Index of the step being run (for timeout messages).
    step: usize,
    outcome: Option<Result<Transcript, String>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>, dur: Duration) -> MutexGuard<'a, State> {
        match self.changed.wait_timeout(guard, dur) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        }
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// Sets the outcome unless one is already set.
    fn finish(&self, outcome: Result<Transcript, String>) {
        self.update(|s| {
            if s.outcome.is_none() {
                s.outcome = Some(outcome);
            }
        });
    }
}

struct OutcomeGuard(Arc<Shared>);

impl Drop for OutcomeGuard {
    fn drop(&mut self) {
        let msg = if std::thread::panicking() {
            "fake server thread panicked"
        } else {
            "FakeServer was dropped before the script ended"
        };
        self.0.finish(Err(msg.to_string()));
    }
}

// ---------------------------------------------------------------------------
// TLS material
// ---------------------------------------------------------------------------

fn make_tls() -> (tempfile::TempDir, PathBuf, Arc<rustls::ServerConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("generate self-signed certificate");
    let dir = tempfile::tempdir().expect("temp dir for certificate");
    let path = dir.path().join("fake-pop3-cert.pem");
    std::fs::write(&path, certified.cert.pem()).expect("write certificate PEM");

    let cert_der = certified.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.key_pair.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key_der)
        .expect("TLS server config");
    (dir, path, Arc::new(config))
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// Only while upgrading to TLS.
    Gone,
}

impl Conn {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf).await,
            Conn::Tls(s) => s.read(buf).await,
            Conn::Gone => Ok(0),
        }
    }

    async fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
            Conn::Tls(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
            Conn::Gone => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    /// Graceful close of our sending side (close_notify over TLS, then FIN).
    async fn shutdown(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.shutdown().await,
            Conn::Tls(s) => s.shutdown().await,
            Conn::Gone => Ok(()),
        }
    }

    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Conn::Plain(s) => Some(s),
            Conn::Tls(s) => Some(s.get_ref().0),
            Conn::Gone => None,
        }
    }
}

enum Flow {
    Continue,
    /// Our side is closed (`Close`): drain, don't write.
    Closed,
    /// Connection already reset: nothing more to do.
    Reset,
    Stall,
}

enum ReadError {
    Closed { partial: Vec<u8> },
    Io(std::io::Error),
    Timeout,
    TooLong,
}

struct Session {
    conn: Conn,
    /// Bytes read from the connection but not yet consumed as a line.
    buf: Vec<u8>,
    sent: Vec<u8>,
    shared: Arc<Shared>,
    acceptor: TlsAcceptor,
}

async fn serve(
    listener: TcpListener,
    script: Vec<Step>,
    implicit_tls: bool,
    tls_config: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
) {
    let tcp = match tokio::time::timeout(IO_LIMIT, listener.accept()).await {
        Ok(Ok((tcp, _))) => tcp,
        Ok(Err(e)) => {
            shared.finish(Err(format!("accept failed: {e}")));
            return;
        }
        Err(_) => {
            shared.finish(Err(format!("no client connected within {IO_LIMIT:?}")));
            return;
        }
    };
    // One connection only: later connection attempts are refused.
    drop(listener);
    let _ = tcp.set_nodelay(true);

    let mut session = Session {
        conn: Conn::Plain(tcp),
        buf: Vec::new(),
        sent: Vec::new(),
        shared: Arc::clone(&shared),
        acceptor: TlsAcceptor::from(tls_config),
    };

    if implicit_tls && let Err(e) = session.upgrade().await {
        shared.finish(Err(format!("implicit TLS handshake failed before step 0: {e}")));
        return;
    }

    let mut flow = Flow::Continue;
    for (i, step) in script.iter().enumerate() {
        shared.update(|s| s.step = i);
        match session.run_step(i, step).await {
            Ok(Flow::Continue) => {}
            Ok(other) => {
                flow = other;
                break;
            }
            Err(msg) => {
                shared.finish(Err(msg));
                return;
            }
        }
    }
    shared.update(|s| s.step = script.len());
    shared.finish(Ok(session.transcript()));

    match flow {
        Flow::Continue => {
            // Normal end: keep reading (and recording) until the client
            // closes, so e.g. an unscripted QUIT doesn't meet a reset.
            session.drain().await;
            let _ = tokio::time::timeout(IO_LIMIT, session.conn.shutdown()).await;
        }
        // Our side is already closed; drain so that unread client bytes
        // don't turn the close into a reset.
        Flow::Closed => session.drain().await,
        Flow::Reset => {}
        Flow::Stall => std::future::pending::<()>().await,
    }
}

impl Session {
    fn transcript(&self) -> Transcript {
        Transcript {
            received: self.shared.lock().received.clone(),
            sent: self.sent.clone(),
            tls: matches!(self.conn, Conn::Tls(_)),
        }
    }

    async fn run_step(&mut self, i: usize, step: &Step) -> Result<Flow, String> {
        match step {
            Step::Send(bytes) => self.send(i, step, bytes).await,
            Step::SendLine(text) => {
                let mut bytes = text.as_bytes().to_vec();
                bytes.extend_from_slice(b"\r\n");
                self.send(i, step, &bytes).await
            }
            Step::Expect(want) => {
                let got = self.expect_line(i, step).await?;
                if got == want.as_bytes() {
                    Ok(Flow::Continue)
                } else {
                    Err(mismatch(i, step, &got))
                }
            }
            Step::ExpectPrefix(prefix) => {
                let got = self.expect_line(i, step).await?;
                if prefix_matches(prefix.as_bytes(), &got) {
                    Ok(Flow::Continue)
                } else {
                    Err(mismatch(i, step, &got))
                }
            }
            Step::ExpectAny => {
                self.read_line().await.map_err(|e| read_failure(i, step, e))?;
                Ok(Flow::Continue)
            }
            Step::Close => {
                let _ = tokio::time::timeout(IO_LIMIT, self.conn.shutdown()).await;
                Ok(Flow::Closed)
            }
            Step::Reset => {
                if let Some(tcp) = self.conn.tcp() {
                    let _ = tcp.set_zero_linger();
                }
                self.conn = Conn::Gone;
                Ok(Flow::Reset)
            }
            Step::Stall => Ok(Flow::Stall),
            Step::StartTls => {
                if !self.buf.is_empty() {
                    return Err(format!(
                        "step {i} {step:?}: client sent {} byte(s) before the TLS handshake: {:?}",
                        self.buf.len(),
                        String::from_utf8_lossy(&self.buf)
                    ));
                }
                if matches!(self.conn, Conn::Tls(_)) {
                    return Err(format!("step {i} {step:?}: script error: connection is already TLS"));
                }
                self.upgrade()
                    .await
                    .map_err(|e| format!("step {i} {step:?}: TLS handshake failed: {e}"))?;
                Ok(Flow::Continue)
            }
            Step::Pause(d) => {
                tokio::time::sleep(*d).await;
                Ok(Flow::Continue)
            }
        }
    }

    async fn send(&mut self, i: usize, step: &Step, bytes: &[u8]) -> Result<Flow, String> {
        match tokio::time::timeout(IO_LIMIT, self.conn.write_all(bytes)).await {
            Ok(Ok(())) => {
                self.sent.extend_from_slice(bytes);
                Ok(Flow::Continue)
            }
            Ok(Err(e)) => Err(format!("step {i} {step:?}: write failed (client gone?): {e}")),
            Err(_) => Err(format!(
                "step {i} {step:?}: write not accepted within {IO_LIMIT:?} (client not reading)"
            )),
        }
    }

    /// Reads a line for `Expect`/`ExpectPrefix`, which must end in CRLF;
    /// returns it without the CRLF.
    async fn expect_line(&mut self, i: usize, step: &Step) -> Result<Vec<u8>, String> {
        let mut line = self.read_line().await.map_err(|e| read_failure(i, step, e))?;
        if !line.ends_with(b"\r\n") {
            return Err(format!(
                "step {i} {step:?}: line not terminated by CRLF: got {:?}",
                String::from_utf8_lossy(&line)
            ));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    /// Reads one line, including its terminator, and records it (without
    /// the terminator) in `received`.
    async fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = line
                    .strip_suffix(b"\r\n")
                    .or_else(|| line.strip_suffix(b"\n"))
                    .unwrap_or(&line);
                let text = String::from_utf8_lossy(text).into_owned();
                self.shared.update(|s| s.received.push(text));
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(ReadError::TooLong);
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout(IO_LIMIT, self.conn.read(&mut chunk)).await {
                Ok(Ok(0)) => {
                    return Err(ReadError::Closed {
                        partial: std::mem::take(&mut self.buf),
                    });
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Err(ReadError::Io(e)),
                Err(_) => return Err(ReadError::Timeout),
            }
        }
    }

    /// Reads and records lines until the client closes, errs or idles out.
    async fn drain(&mut self) {
        while self.read_line().await.is_ok() {}
    }

    async fn upgrade(&mut self) -> std::io::Result<()> {
        let tcp = match std::mem::replace(&mut self.conn, Conn::Gone) {
            Conn::Plain(tcp) => tcp,
            other => {
                self.conn = other;
                return Err(std::io::Error::other("not a plain TCP connection"));
            }
        };
        match tokio::time::timeout(IO_LIMIT, self.acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => {
                self.conn = Conn::Tls(Box::new(tls));
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no handshake within {IO_LIMIT:?}"),
            )),
        }
    }
}

/// Case-insensitive on the prefix's first word, exact on the rest.
fn prefix_matches(prefix: &[u8], line: &[u8]) -> bool {
    if line.len() < prefix.len() {
        return false;
    }
    let word_len = prefix.iter().position(|&b| b == b' ').unwrap_or(prefix.len());
    line[..word_len].eq_ignore_ascii_case(&prefix[..word_len]) && line[word_len..prefix.len()] == prefix[word_len..]
}

fn mismatch(i: usize, step: &Step, got: &[u8]) -> String {
    let want = match step {
        Step::Expect(s) => format!("{s:?}"),
        Step::ExpectPrefix(s) => format!("a line starting with {s:?}"),
        other => format!("{other:?}"),
    };
    format!(
        "step {i} {step:?}: expected {want}, got {:?}",
        String::from_utf8_lossy(got)
    )
}

fn read_failure(i: usize, step: &Step, e: ReadError) -> String {
    match e {
        ReadError::Closed { partial } if partial.is_empty() => {
            format!("client closed before step {i} {step:?}")
        }
        ReadError::Closed { partial } => format!(
            "client closed before step {i} {step:?} (after sending an unterminated line {:?})",
            String::from_utf8_lossy(&partial)
        ),
        ReadError::Io(e) => format!("step {i} {step:?}: read failed: {e}"),
        ReadError::Timeout => {
            format!("step {i} {step:?}: no line from the client within {IO_LIMIT:?}")
        }
        ReadError::TooLong => {
            format!("step {i} {step:?}: client line longer than {MAX_LINE} bytes")
        }
    }
}
