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

mod session;
#[cfg(test)]
mod tests;
mod wire;

use super::maildrop::{CHUNK_SIZE, DemoMessage, Maildrop};
use crate::pop3::codec::encode_multiline;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use session::*;
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
use wire::*;

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
