//! The demo POP3 server (RFC 1939, with CAPA/RESP-CODES/PIPELINING from
//! RFC 2449 and SASL PLAIN from RFC 5034) on a loopback port.
//!
//! Each connection runs two halves concurrently: a reader that parses one
//! command line at a time and queues the replies, and a writer that sends
//! them in order. The reader never waits for the writer, so a client that
//! writes a large pipelined batch before reading anything cannot deadlock
//! the session, however full the socket buffers get. Messages are queued
//! as references and streamed by the writer, so queued replies cost little
//! memory even for a 120 MB message.
//!
//! The maildrop is shared by all connections. Like a real server, a session
//! locks it at login (a second one gets `-ERR [IN-USE]`), works on a
//! snapshot, and removes the messages it marked deleted only when QUIT
//! arrives in the TRANSACTION state (RFC 1939 §6).

use super::maildrop::{CHUNK_SIZE, DemoMessage, Maildrop};
use crate::pop3::codec::encode_multiline;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// The user name the demo server accepts.
pub const DEMO_USER: &str = "demo";
/// The password the demo server accepts.
pub const DEMO_PASSWORD: &str = "demo";
/// Longest command line accepted, CRLF included (RFC 2449 §4).
pub const MAX_COMMAND_LINE: usize = 255;
/// How long a connection may do nothing before it is dropped (RFC 1939 §3
/// asks for at least 10 minutes).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How the demo server behaves. `Default` is a well-behaved server.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Delay before answering each batch of commands (the first command
    /// read after the client's input ran dry), to feel a slow link.
    pub latency: Option<Duration>,
    /// Lock the maildrop at login so a second session gets
    /// `-ERR [IN-USE]`. Off: sessions work on independent snapshots.
    pub lock: bool,
    /// List PIPELINING in CAPA (the server pipelines either way).
    pub advertise_pipelining: bool,
    /// List UIDL in CAPA; when false the command is refused too.
    pub advertise_uidl: bool,
    /// List TOP in CAPA; when false the command is refused too.
    pub advertise_top: bool,
    /// Stop answering after this many command lines (the connection stays
    /// open, input is read and ignored): for testing client timeouts.
    pub stall_after: Option<usize>,
    /// Drop a connection after this long without traffic either way.
    pub idle_timeout: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            latency: None,
            lock: true,
            advertise_pipelining: true,
            advertise_uidl: true,
            advertise_top: true,
            stall_after: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// A running demo server. Stops when dropped or on [`shutdown`](Self::shutdown).
pub struct DemoServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Binds a free port on 127.0.0.1 and serves `maildrop` from tasks on
    /// the current tokio runtime.
    pub async fn start(maildrop: Maildrop, options: DemoOptions) -> io::Result<DemoServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options,
            store: Mutex::new(Store {
                messages: maildrop.into_messages().into_iter().map(Arc::new).collect(),
                locked: false,
                deleted: 0,
            }),
            connections: AtomicU64::new(0),
        });
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(DemoServer {
            addr,
            shared,
            accept_task: Some(accept_task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn user(&self) -> &str {
        DEMO_USER
    }

    pub fn password(&self) -> &str {
        DEMO_PASSWORD
    }

    /// Messages in the maildrop now (deletions committed by QUIT are gone).
    pub fn message_count(&self) -> usize {
        self.shared.store().messages.len()
    }

    /// Sum of the sizes of the messages in the maildrop now.
    pub fn total_size(&self) -> u64 {
        self.shared.store().messages.iter().map(|m| m.size()).sum()
    }

    /// Messages removed so far by sessions that ended with QUIT.
    pub fn deleted_count(&self) -> usize {
        self.shared.store().deleted
    }

    /// UIDs of the messages in the maildrop now, in order.
    pub fn uids(&self) -> Vec<String> {
        self.shared
            .store()
            .messages
            .iter()
            .map(|m| m.uid().to_string())
            .collect()
    }

    /// Whether a session holds the maildrop lock.
    pub fn is_locked(&self) -> bool {
        self.shared.store().locked
    }

    /// Connections accepted so far.
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Stops accepting and drops every open connection; returns once the
    /// listening socket is closed. Sessions end as if the network failed:
    /// nothing they marked deleted is removed.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.accept_task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(task) = self.accept_task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for DemoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// State shared by the server handle and all connections.
struct Shared {
    options: DemoOptions,
    store: Mutex<Store>,
    connections: AtomicU64,
}

struct Store {
    messages: Vec<Arc<DemoMessage>>,
    locked: bool,
    deleted: usize,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        // A panicking session must not take the server down with it; the
        // store is consistent after every critical section.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Held by a logged-in session while `DemoOptions::lock` is on; releases
/// the maildrop however the session ends.
struct MaildropLock(Arc<Shared>);

impl Drop for MaildropLock {
    fn drop(&mut self) {
        self.0.store().locked = false;
    }
}

/// The connections' tasks live in the accept loop's `JoinSet`, so aborting
/// the loop (shutdown, drop) aborts them all.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors and the like: back off instead
                // of spinning, the condition is usually temporary.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            // Reap finished sessions so the set does not grow without bound.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// When the connection last made progress either way. The reader's idle
/// timeout consults it so that a long download does not count as idle.
struct Activity(Mutex<Instant>);

impl Activity {
    fn new() -> Activity {
        Activity(Mutex::new(Instant::now()))
    }

    fn touch(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn deadline(&self, idle: Duration) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) + idle
    }
}

/// Awaits `future` as long as the connection keeps making progress; `None`
/// once it has been idle for `idle`.
async fn unless_idle<F: Future>(future: F, activity: &Activity, idle: Duration) -> Option<F::Output> {
    tokio::pin!(future);
    loop {
        let deadline = tokio::time::Instant::from_std(activity.deadline(idle));
        match tokio::time::timeout_at(deadline, &mut future).await {
            Ok(output) => return Some(output),
            Err(_) if activity.deadline(idle) <= Instant::now() => return None,
            Err(_) => continue,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Quit,
    ClientClosed,
    Idle,
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    // Replies are small and the client waits for each: don't let Nagle
    // hold them back.
    let _ = stream.set_nodelay(true);
    let id = shared.connections.fetch_add(1, Ordering::Relaxed) + 1;
    let idle = shared.options.idle_timeout;
    let (read_half, write_half) = stream.into_split();
    let (sender, receiver) = mpsc::unbounded_channel();
    let activity = Activity::new();

    let unix_time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // Unique per connection, as APOP requires (RFC 1939 §7).
    let timestamp = format!("<{}.{id}.{unix_time}@popscope-demo>", std::process::id());
    let replies = Replies(sender);
    replies.ok(&format!("popscope demo server ready {timestamp}"));
    let session = Session {
        shared: Arc::clone(&shared),
        replies,
        state: State::Authorization { user: None },
        timestamp,
    };

    let reader = read_commands(session, read_half, &activity);
    let writer = write_replies(receiver, write_half, &activity);
    tokio::pin!(reader, writer);
    let ending = tokio::select! {
        ending = &mut reader => ending,
        // The writer only finishes early when the socket failed.
        _ = &mut writer => return,
    };
    // The reader is done and has dropped its sender: let the writer send
    // what is queued (QUIT's answer last), then close.
    if ending != Ending::Idle {
        unless_idle(writer, &activity, idle).await;
    }
}

// ---------------------------------------------------------------------------
// Reading commands
// ---------------------------------------------------------------------------

enum Line {
    Complete(Vec<u8>),
    TooLong,
    Eof,
}

/// Reads CRLF (or LF) terminated lines of at most [`MAX_COMMAND_LINE`]
/// bytes; longer lines are skipped to their end and reported as `TooLong`.
/// Cancel-safe: a partial line is kept in `line` across calls, so it can be
/// raced against a timeout.
struct LineReader<R> {
    inner: BufReader<R>,
    line: Vec<u8>,
    too_long: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(inner: R) -> Self {
        LineReader {
            inner: BufReader::new(inner),
            line: Vec::new(),
            too_long: false,
        }
    }

    /// True when a whole line is already buffered, i.e. the client sent more
    /// than one command in a batch.
    fn has_buffered_line(&self) -> bool {
        self.inner.buffer().contains(&b'\n')
    }

    async fn next_line(&mut self) -> io::Result<Line> {
        loop {
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                // A partial last line without its line end is not a command.
                return Ok(Line::Eof);
            }
            let (take, complete) = match buf.iter().position(|&b| b == b'\n') {
                Some(lf) => (lf + 1, true),
                None => (buf.len(), false),
            };
            if !self.too_long {
                if self.line.len() + take > MAX_COMMAND_LINE {
                    self.too_long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(&buf[..take]);
                }
            }
            self.inner.consume(take);
            if complete {
                if std::mem::take(&mut self.too_long) {
                    return Ok(Line::TooLong);
                }
                let mut line = std::mem::take(&mut self.line);
                line.pop(); // LF
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Line::Complete(line));
            }
        }
    }
}

async fn read_commands<R: AsyncRead + Unpin>(mut session: Session, input: R, activity: &Activity) -> Ending {
    let options = session.shared.options.clone();
    let mut lines = LineReader::new(input);
    let mut handled = 0usize;
    loop {
        let fresh_batch = !lines.has_buffered_line();
        let line = match unless_idle(lines.next_line(), activity, options.idle_timeout).await {
            None => return Ending::Idle,
            Some(Err(_)) | Some(Ok(Line::Eof)) => return Ending::ClientClosed,
            Some(Ok(line)) => line,
        };
        activity.touch();
        if options.stall_after.is_some_and(|limit| handled >= limit) {
            continue;
        }
        handled += 1;
        if let (true, Some(latency)) = (fresh_batch, options.latency) {
            tokio::time::sleep(latency).await;
        }
        let flow = match line {
            Line::Complete(line) => session.handle_line(&line),
            Line::TooLong => {
                session
                    .replies
                    .err(&format!("line too long (at most {MAX_COMMAND_LINE} octets)"));
                Flow::Continue
            }
            Line::Eof => unreachable!("handled above"),
        };
        if flow == Flow::Quit {
            return Ending::Quit;
        }
    }
}

// ---------------------------------------------------------------------------
// Writing replies
// ---------------------------------------------------------------------------

enum Reply {
    Bytes(Vec<u8>),
    /// A message body, streamed and byte-stuffed by the writer; with
    /// `body_lines`, only the header and that many body lines (TOP).
    Message {
        message: Arc<DemoMessage>,
        body_lines: Option<usize>,
    },
}

/// The reader's handle on the reply queue. Sending fails only when the
/// writer has stopped because the socket failed, and then the connection
/// is being torn down anyway, so failures are ignored.
struct Replies(mpsc::UnboundedSender<Reply>);

impl Replies {
    fn bytes(&self, bytes: Vec<u8>) {
        let _ = self.0.send(Reply::Bytes(bytes));
    }

    fn ok(&self, text: &str) {
        self.bytes(status_line("+OK", text));
    }

    fn err(&self, text: &str) {
        self.bytes(status_line("-ERR", text));
    }

    /// `+OK text` followed by a multi-line body.
    fn multiline(&self, text: &str, body: &[u8]) {
        let mut out = status_line("+OK", text);
        encode_multiline(body, &mut out);
        self.bytes(out);
    }

    fn message(&self, text: &str, message: &Arc<DemoMessage>, body_lines: Option<usize>) {
        self.ok(text);
        let _ = self.0.send(Reply::Message {
            message: Arc::clone(message),
            body_lines,
        });
    }
}

fn status_line(status: &str, text: &str) -> Vec<u8> {
    if text.is_empty() {
        format!("{status}\r\n")
    } else {
        format!("{status} {text}\r\n")
    }
    .into_bytes()
}

async fn write_replies<W: AsyncWrite + Unpin>(
    mut queue: mpsc::UnboundedReceiver<Reply>,
    output: W,
    activity: &Activity,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(CHUNK_SIZE, output);
    let mut scratch = Vec::new();
    while let Some(reply) = queue.recv().await {
        match reply {
            Reply::Bytes(bytes) => out.write_all(&bytes).await?,
            Reply::Message { message, body_lines } => {
                write_message(&mut out, &message, body_lines, &mut scratch, activity).await?
            }
        }
        activity.touch();
        // Flush only when nothing more is queued: the answers to a
        // pipelined batch leave in as few segments as possible.
        if queue.is_empty() {
            out.flush().await?;
        }
    }
    out.flush().await?;
    out.shutdown().await
}

/// Sends a message as a multi-line body: stored ones through the codec in
/// one piece, generated ones chunk by chunk so only one chunk is ever in
/// memory.
async fn write_message<W: AsyncWrite + Unpin>(
    out: &mut W,
    message: &DemoMessage,
    body_lines: Option<usize>,
    scratch: &mut Vec<u8>,
    activity: &Activity,
) -> io::Result<()> {
    let mut top = body_lines.map(TopCut::new);
    if let Some(bytes) = message.stored_bytes() {
        let end = top.as_mut().map_or(bytes.len(), |top| top.feed(bytes).0);
        scratch.clear();
        encode_multiline(&bytes[..end], scratch);
        return out.write_all(scratch).await;
    }
    let mut stuffer = DotStuffer::default();
    for chunk in message.chunks() {
        let (end, done) = top.as_mut().map_or((chunk.len(), false), |top| top.feed(&chunk));
        scratch.clear();
        stuffer.push(&chunk[..end], scratch);
        out.write_all(scratch).await?;
        activity.touch();
        if done {
            break;
        }
    }
    scratch.clear();
    stuffer.finish(scratch);
    out.write_all(scratch).await
}

/// Byte-stuffing (RFC 1939 §3) across chunk boundaries: the streaming
/// counterpart of `codec::encode_multiline`, which needs the whole body.
#[derive(Debug, Default)]
struct DotStuffer {
    mid_line: bool,
}

impl DotStuffer {
    fn push(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) {
        out.reserve(bytes.len() + bytes.len() / 64);
        while !bytes.is_empty() {
            if !self.mid_line && bytes[0] == b'.' {
                out.push(b'.');
            }
            match bytes.iter().position(|&b| b == b'\n') {
                Some(lf) => {
                    out.extend_from_slice(&bytes[..=lf]);
                    bytes = &bytes[lf + 1..];
                    self.mid_line = false;
                }
                None => {
                    out.extend_from_slice(bytes);
                    self.mid_line = true;
                    return;
                }
            }
        }
    }

    fn finish(self, out: &mut Vec<u8>) {
        if self.mid_line {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

/// Where TOP's output ends: the header, the blank line after it, then
/// `n` body lines (RFC 1939 §7). Fed the message in chunks.
#[derive(Debug)]
struct TopCut {
    in_header: bool,
    /// The current line has had nothing but CRs so far.
    line_blank: bool,
    body_lines_left: usize,
}

impl TopCut {
    fn new(body_lines: usize) -> TopCut {
        TopCut {
            in_header: true,
            line_blank: true,
            body_lines_left: body_lines,
        }
    }

    /// How much of `chunk` belongs to the output, and whether the output
    /// ends there.
    fn feed(&mut self, chunk: &[u8]) -> (usize, bool) {
        let mut pos = 0;
        while let Some(lf) = chunk[pos..].iter().position(|&b| b == b'\n') {
            let blank = self.line_blank && chunk[pos..pos + lf].iter().all(|&b| b == b'\r');
            pos += lf + 1;
            self.line_blank = true;
            if self.in_header {
                if blank {
                    self.in_header = false;
                    if self.body_lines_left == 0 {
                        return (pos, true);
                    }
                }
            } else {
                self.body_lines_left -= 1;
                if self.body_lines_left == 0 {
                    return (pos, true);
                }
            }
        }
        if chunk[pos..].iter().any(|&b| b != b'\r') {
            self.line_blank = false;
        }
        (chunk.len(), false)
    }
}

// ---------------------------------------------------------------------------
// The protocol state machine
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

enum State {
    /// Before login; `user` is set by a successful USER.
    Authorization {
        user: Option<String>,
    },
    /// After `AUTH PLAIN` without an initial response: the next line is
    /// the client's base64 response, not a command.
    SaslPlain,
    Transaction(Transaction),
}

struct Session {
    shared: Arc<Shared>,
    replies: Replies,
    state: State,
    /// The greeting's timestamp, for APOP.
    timestamp: String,
}

impl Session {
    fn handle_line(&mut self, line: &[u8]) -> Flow {
        if matches!(self.state, State::SaslPlain) {
            self.state = State::Authorization { user: None };
            if line == b"*" {
                self.replies.err("authentication cancelled");
            } else {
                self.auth_plain_response(line);
            }
            return Flow::Continue;
        }
        let line = String::from_utf8_lossy(line);
        let (keyword, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let args: Vec<&str> = rest.split_ascii_whitespace().collect();
        let options = &self.shared.options;
        let logged_in = matches!(self.state, State::Transaction(_));
        match keyword.as_str() {
            "" => self.replies.err("empty command"),
            "TOP" if !options.advertise_top => self.replies.err("TOP is not supported by this server"),
            "UIDL" if !options.advertise_uidl => self.replies.err("UIDL is not supported by this server"),
            "CAPA" => match arity("CAPA", &args, 0, 0) {
                Ok(()) => self.capa(),
                Err(text) => self.replies.err(&text),
            },
            "QUIT" => match arity("QUIT", &args, 0, 0) {
                Ok(()) => {
                    self.quit();
                    return Flow::Quit;
                }
                Err(text) => self.replies.err(&text),
            },
            "USER" | "PASS" | "APOP" | "AUTH" if logged_in => self.replies.err("already logged in"),
            "USER" => self.user(rest.trim()),
            "PASS" => self.pass(rest),
            "APOP" => self.apop(&args),
            "AUTH" => self.auth(&args),
            "STAT" | "LIST" | "UIDL" | "TOP" | "RETR" | "DELE" | "RSET" | "NOOP" => match &mut self.state {
                State::Transaction(transaction) => transaction.command(&self.replies, &keyword, &args),
                _ => self.replies.err(&format!("{keyword} is only valid after logging in")),
            },
            _ => self.replies.err(&unknown_command(&keyword)),
        }
        Flow::Continue
    }

    fn capa(&self) {
        let options = &self.shared.options;
        let mut lines = Vec::new();
        if options.advertise_top {
            lines.push("TOP");
        }
        if options.advertise_uidl {
            lines.push("UIDL");
        }
        lines.push("USER");
        if options.advertise_pipelining {
            lines.push("PIPELINING");
        }
        lines.extend([
            "RESP-CODES",
            "AUTH-RESP-CODE",
            "SASL PLAIN",
            "IMPLEMENTATION popscope-demo",
        ]);
        let body: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
        self.replies.multiline("capability list follows", body.as_bytes());
    }

    fn quit(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Authorization { user: None });
        match state {
            // Commit before answering: once the client reads +OK, the
            // deletions are done and the lock is free (RFC 1939 §6).
            State::Transaction(transaction) => {
                let removed = transaction.commit(&self.shared);
                self.replies.ok(&format!(
                    "popscope demo server signing off ({removed} messages deleted)"
                ));
            }
            _ => self.replies.ok("popscope demo server signing off"),
        }
    }

    fn user(&mut self, name: &str) {
        if name.is_empty() {
            return self.replies.err("USER needs a user name");
        }
        // Any name is accepted here; PASS says whether the pair is valid,
        // so the server does not reveal which users exist.
        self.state = State::Authorization {
            user: Some(name.to_string()),
        };
        self.replies.ok("send PASS");
    }

    fn pass(&mut self, password: &str) {
        let State::Authorization { user: Some(user) } = &self.state else {
            return self.replies.err("send USER first");
        };
        let valid = user == DEMO_USER && password == DEMO_PASSWORD;
        self.login(valid);
    }

    fn apop(&mut self, args: &[&str]) {
        let [name, digest] = args else {
            return self.replies.err("APOP needs a user name and a digest");
        };
        let expected = Md5::digest(format!("{}{DEMO_PASSWORD}", self.timestamp).as_bytes());
        let expected: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        self.login(*name == DEMO_USER && digest.eq_ignore_ascii_case(&expected));
    }

    fn auth(&mut self, args: &[&str]) {
        match args {
            [] => self.replies.multiline("SASL mechanisms follow", b"PLAIN\r\n"),
            [mechanism, ..] if !mechanism.eq_ignore_ascii_case("PLAIN") => {
                self.replies.err(&format!("unsupported SASL mechanism {mechanism:?}"))
            }
            [_] => {
                self.state = State::SaslPlain;
                // PLAIN has no challenge: an empty continuation (RFC 5034 §4).
                self.replies.bytes(b"+ \r\n".to_vec());
            }
            [_, initial] if *initial == "=" => self.auth_plain_response(b""),
            [_, initial] => self.auth_plain_response(initial.as_bytes()),
            _ => self
                .replies
                .err("AUTH takes a mechanism and at most one initial response"),
        }
    }

    /// Checks a base64 PLAIN response: authzid NUL authcid NUL password
    /// (RFC 4616).
    fn auth_plain_response(&mut self, response: &[u8]) {
        let Ok(decoded) = BASE64.decode(response.trim_ascii()) else {
            return self.replies.err("the SASL response is not valid base64");
        };
        let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
        let [authzid, authcid, password] = parts[..] else {
            return self.replies.err("[AUTH] malformed PLAIN response");
        };
        let valid = authcid == DEMO_USER.as_bytes()
            && password == DEMO_PASSWORD.as_bytes()
            && (authzid.is_empty() || authzid == authcid);
        self.login(valid);
    }

    fn login(&mut self, valid: bool) {
        self.state = State::Authorization { user: None };
        if !valid {
            return self.replies.err("[AUTH] invalid user name or password");
        }
        let Some(transaction) = Transaction::open(&self.shared) else {
            return self.replies.err("[IN-USE] maildrop locked");
        };
        let (count, size) = transaction.stat();
        self.replies
            .ok(&format!("{DEMO_USER}'s maildrop has {count} messages ({size} octets)"));
        self.state = State::Transaction(transaction);
    }
}

/// `unknown command "FOO"`, echoing the keyword only when it is plainly a
/// word: the reply goes to a terminal on the other side.
fn unknown_command(keyword: &str) -> String {
    if keyword.len() <= 12 && keyword.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        format!("unknown command \"{keyword}\"")
    } else {
        "unknown command".to_string()
    }
}

/// A logged-in session's view: the maildrop as it was at login, and what
/// this session marked deleted.
struct Transaction {
    messages: Vec<Arc<DemoMessage>>,
    deleted: Vec<bool>,
    _lock: Option<MaildropLock>,
}

impl Transaction {
    /// Takes the lock (when locking is on) and the snapshot in one critical
    /// section; `None` when another session holds the lock.
    fn open(shared: &Arc<Shared>) -> Option<Transaction> {
        let mut store = shared.store();
        let lock = if shared.options.lock {
            if store.locked {
                return None;
            }
            store.locked = true;
            Some(MaildropLock(Arc::clone(shared)))
        } else {
            None
        };
        let messages = store.messages.clone();
        drop(store);
        let deleted = vec![false; messages.len()];
        Some(Transaction {
            messages,
            deleted,
            _lock: lock,
        })
    }

    /// Live (not deleted) messages with their 1-based numbers.
    fn live(&self) -> impl Iterator<Item = (usize, &Arc<DemoMessage>)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted[*i])
            .map(|(i, m)| (i + 1, m))
    }

    fn stat(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(count, size), (_, m)| (count + 1, size + m.size()))
    }

    /// The message a number argument names, or the -ERR text.
    fn lookup(&self, arg: &str) -> Result<(usize, &Arc<DemoMessage>), String> {
        let number = arg
            .parse::<usize>()
            .ok()
            .filter(|_| arg.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("invalid message number {arg:?}"))?;
        if number == 0 || number > self.messages.len() {
            return Err(format!("no such message (the maildrop has {})", self.messages.len()));
        }
        if self.deleted[number - 1] {
            return Err(format!("message {number} already deleted"));
        }
        Ok((number, &self.messages[number - 1]))
    }

    fn command(&mut self, replies: &Replies, keyword: &str, args: &[&str]) {
        let result = match keyword {
            "STAT" => self.stat_command(replies, args),
            "LIST" => self.list(replies, args),
            "UIDL" => self.uidl(replies, args),
            "TOP" => self.top(replies, args),
            "RETR" => self.retr(replies, args),
            "DELE" => self.dele(replies, args),
            "RSET" => self.rset(replies, args),
            "NOOP" => self.noop(replies, args),
            _ => unreachable!("dispatched by Session::handle_line"),
        };
        if let Err(text) = result {
            replies.err(&text);
        }
    }

    fn stat_command(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("STAT", args, 0, 0)?;
        let (count, size) = self.stat();
        replies.ok(&format!("{count} {size}"));
        Ok(())
    }

    fn list(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("LIST", args, 0, 1)?;
        if let [arg] = args {
            let (number, message) = self.lookup(arg)?;
            replies.ok(&format!("{number} {}", message.size()));
        } else {
            let (count, size) = self.stat();
            let body: String = self.live().map(|(n, m)| format!("{n} {}\r\n", m.size())).collect();
            replies.multiline(&format!("{count} messages ({size} octets)"), body.as_bytes());
        }
        Ok(())
    }

    fn uidl(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("UIDL", args, 0, 1)?;
        if let [arg] = args {
            let (number, message) = self.lookup(arg)?;
            replies.ok(&format!("{number} {}", message.uid()));
        } else {
            let body: String = self.live().map(|(n, m)| format!("{n} {}\r\n", m.uid())).collect();
            replies.multiline("unique-id listing follows", body.as_bytes());
        }
        Ok(())
    }

    fn top(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("TOP", args, 2, 2)?;
        let (_, message) = self.lookup(args[0])?;
        let lines = args[1]
            .parse::<usize>()
            .ok()
            .filter(|_| args[1].bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("invalid line count {:?}", args[1]))?;
        replies.message("top of message follows", message, Some(lines));
        Ok(())
    }

    fn retr(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("RETR", args, 1, 1)?;
        let (_, message) = self.lookup(args[0])?;
        replies.message(&format!("{} octets", message.size()), message, None);
        Ok(())
    }

    fn dele(&mut self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("DELE", args, 1, 1)?;
        let (number, _) = self.lookup(args[0])?;
        self.deleted[number - 1] = true;
        replies.ok(&format!("message {number} deleted"));
        Ok(())
    }

    fn rset(&mut self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("RSET", args, 0, 0)?;
        self.deleted.fill(false);
        let (count, size) = self.stat();
        replies.ok(&format!("maildrop has {count} messages ({size} octets)"));
        Ok(())
    }

    fn noop(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("NOOP", args, 0, 0)?;
        replies.ok("");
        Ok(())
    }

    /// The UPDATE state: removes the messages marked deleted from the
    /// shared maildrop; returns how many were removed. With locking off,
    /// another session may have removed some already; they count once.
    fn commit(self, shared: &Shared) -> usize {
        let doomed: HashSet<*const DemoMessage> = self
            .messages
            .iter()
            .zip(&self.deleted)
            .filter(|(_, deleted)| **deleted)
            .map(|(m, _)| Arc::as_ptr(m))
            .collect();
        if doomed.is_empty() {
            return 0;
        }
        let mut store = shared.store();
        let before = store.messages.len();
        store.messages.retain(|m| !doomed.contains(&Arc::as_ptr(m)));
        let removed = before - store.messages.len();
        store.deleted += removed;
        removed
        // The lock is released when `self` drops, after the removal.
    }
}

fn arity(keyword: &str, args: &[&str], min: usize, max: usize) -> Result<(), String> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    Err(match (min, max) {
        (0, 0) => format!("{keyword} takes no arguments"),
        (a, b) if a == b => format!("{keyword} takes {a} argument{}", if a == 1 { "" } else { "s" }),
        (a, b) => format!("{keyword} takes {a} to {b} arguments"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffer_matches_codec_for_any_chunking() {
        let body: &[u8] = b"a\r\n.\r\n..\r\n.x\r\nb.c\r\n.";
        let mut expected = Vec::new();
        encode_multiline(body, &mut expected);
        for split in 0..=body.len() {
            for second in split..=body.len() {
                let mut stuffer = DotStuffer::default();
                let mut out = Vec::new();
                for piece in [&body[..split], &body[split..second], &body[second..]] {
                    stuffer.push(piece, &mut out);
                }
                stuffer.finish(&mut out);
                assert_eq!(out, expected, "split at {split}/{second}");
            }
        }
    }

    #[test]
    fn top_cut_in_one_piece_and_in_chunks() {
        let message: &[u8] = b"A: 1\r\nB: 2\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";
        let header_end = b"A: 1\r\nB: 2\r\n\r\n".len();
        for (lines, expected_end) in [
            (0, header_end),
            (1, header_end + 8),
            (2, header_end + 16),
            (9, message.len()),
        ] {
            let mut whole = TopCut::new(lines);
            let (end, done) = whole.feed(message);
            assert_eq!(end, expected_end, "{lines} lines");
            assert_eq!(done, expected_end < message.len());
            for split in 0..message.len() {
                let mut cut = TopCut::new(lines);
                let (first, done) = cut.feed(&message[..split]);
                let total = if done {
                    first
                } else {
                    split + cut.feed(&message[split..]).0
                };
                assert_eq!(total, expected_end, "{lines} lines, split at {split}");
            }
        }
        // No blank line: the whole message is header.
        assert_eq!(TopCut::new(0).feed(b"A: 1\r\nB: 2\r\n"), (12, false));
    }
}
