//! The tokio task that owns one connection and runs the sans-IO client over
//! it. Everything else talks to it through channels, so nothing outside
//! ever waits on the network while holding state.
//!
//! Reads and writes are polled together in one future: while the server is
//! busy writing answers we keep reading, and a large pipelined batch of
//! commands goes out while answers stream in. Neither side can deadlock the
//! other (RFC 2449 §6.6).
//!
//! The subscriber's event channel (the UI's) is bounded (`subscriber`): a
//! slow UI holds the reading up and never loses an answer.
//!
//! When the handle is dropped, the task ends and the socket is closed
//! without QUIT: POP3 then deletes nothing (RFC 1939 §6).

use super::connect::{Connection, handshake};
use super::subscriber::Subscriber;
use super::tls::{TlsInfo, TlsSetup};
use super::trace::{TraceClock, TraceEntry, TraceObserver, dispatch};
use crate::error::{Failure, FailureKind};
use crate::pop3::client::{
    Client, Command, CommandKind, Delivery, Event, Outcome, Priority, ProtocolError, RequestId, SessionState,
};
use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// Size of one socket read: large enough that a streamed 100 MB RETR is a
/// few hundred reads, not thousands.
const READ_CHUNK: usize = 256 * 1024;
/// Requests taken from the channel per loop turn, at most.
const REQUEST_BURST: usize = 4096;
/// A good bound for a subscriber's event channel: twice what the UI takes
/// between two frames.
pub const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// The result of one command as the caller sees it.
pub(crate) type CommandResult = Result<Outcome, Failure>;

/// Where a command's answer goes.
pub enum Route {
    /// The whole reply in one piece; a RETR body is collected (by the
    /// client, `Delivery::Collect`) up to `limit` bytes (the rest is
    /// counted, not kept).
    Reply {
        tx: oneshot::Sender<CommandResult>,
        limit: usize,
    },
    /// RETR data in chunks through a bounded channel (backpressure reaches
    /// the socket), then the outcome.
    Stream {
        data: mpsc::Sender<Vec<u8>>,
        done: oneshot::Sender<CommandResult>,
    },
    /// Completion (and data) as `SessionEvent`s on the session's event
    /// channel, tagged with `ticket`.
    Event { ticket: u64 },
    /// RETR data and then the outcome, as [`Tagged`] items on one bounded
    /// channel that many commands share: however many messages are in
    /// flight, at most the channel's capacity in chunks waits for the
    /// reader (a channel per message would let each of them fill its own).
    Tagged { tag: u64, tx: mpsc::Sender<Tagged> },
}

/// What a [`Route::Tagged`] channel carries, in the order the server
/// answered: a command's chunks, then its `Done`.
#[derive(Debug)]
pub enum Tagged {
    Data { tag: u64, chunk: Vec<u8> },
    Done { tag: u64, result: CommandResult },
}

pub enum Request {
    Submit {
        command: Command,
        priority: Priority,
        route: Route,
    },
    SetWindow(usize),
}

/// What the session tells its event subscriber (the UI).
#[derive(Debug, Clone)]
pub enum SessionEvent {
    Completed {
        ticket: u64,
        command: CommandKind,
        outcome: Outcome,
    },
    Data {
        ticket: u64,
        chunk: Vec<u8>,
    },
    /// The connection is gone; the failure says why (None: after QUIT).
    Closed(Option<Failure>),
}

pub(crate) struct DriverConfig {
    pub host: String,
    pub tls: Option<TlsSetup>,
    /// Limit for the TLS handshake after STLS.
    pub handshake_timeout: Duration,
    /// Each gets every trace line; none: no trace is made at all.
    pub trace: Vec<Box<dyn TraceObserver>>,
    /// The subscriber (see `subscriber`), taken by the driver.
    pub events: Option<mpsc::Sender<SessionEvent>>,
    pub clock: TraceClock,
}

/// Shared view of the driver's condition. The one place the session's
/// failure is kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct DriverStatus {
    pub greeting: Option<crate::pop3::codec::StatusLine>,
    pub tls: Option<TlsInfo>,
    pub failure: Option<Failure>,
    pub state: Option<SessionState>,
    pub closed: bool,
}

pub(crate) struct Driver {
    client: Client,
    conn: Connection,
    config: DriverConfig,
    requests: mpsc::UnboundedReceiver<Request>,
    status: watch::Sender<DriverStatus>,
    routes: HashMap<RequestId, Route>,
    /// The STLS answer is held back until the handshake is done.
    held_stls: Option<(RequestId, CommandKind, Outcome)>,
    /// Streamed items not yet accepted by their (bounded) channel.
    stream_backlog: Vec<Backlogged>,
    subscriber: Subscriber,
}

/// An item waiting for room in a bounded channel.
enum Backlogged {
    Chunk(mpsc::Sender<Vec<u8>>, Vec<u8>),
    Tagged(mpsc::Sender<Tagged>, Tagged),
}

/// Bytes on their way out, and the read buffer.
struct Wire {
    out: Vec<u8>,
    written: usize,
    needs_flush: bool,
    read_buf: Vec<u8>,
}

impl Wire {
    fn drained(&self) -> bool {
        self.written == self.out.len()
    }
}

/// The driver's clock: tokio's, so a test runtime with paused time pauses
/// the client's deadlines too.
fn now() -> std::time::Instant {
    Instant::now().into_std()
}

impl Driver {
    pub fn new(
        client: Client,
        conn: Connection,
        mut config: DriverConfig,
        requests: mpsc::UnboundedReceiver<Request>,
        status: watch::Sender<DriverStatus>,
    ) -> Driver {
        let events = config.events.take();
        Driver {
            client,
            conn,
            config,
            requests,
            status,
            routes: HashMap::new(),
            held_stls: None,
            stream_backlog: Vec::new(),
            subscriber: Subscriber::new(events),
        }
    }

    pub async fn run(mut self) {
        let failure = self.pump().await.err();
        // Recorded before the pending commands learn they are lost, so
        // whoever hears of that finds the reason already here.
        self.status.send_modify(|s| s.failure = failure.clone());
        if let Some(f) = &failure {
            self.trace(TraceEntry::failure(self.config.clock.now(), &f.message));
        }
        match &failure {
            Some(f) => self.client.abandon(&f.message),
            None => self.client.abandon("the session has ended"),
        }
        self.dispatch_events();
        self.flush_streams().await;
        self.subscriber.close(SessionEvent::Closed(failure)).await;
        self.status.send_modify(|s| s.closed = true);
        // Dropping `self.conn` closes the socket. No QUIT is ever sent here.
    }

    async fn pump(&mut self) -> Result<(), Failure> {
        let mut wire = Wire {
            out: Vec::new(),
            written: 0,
            needs_flush: false,
            read_buf: vec![0u8; READ_CHUNK],
        };
        let mut requests_open = true;
        loop {
            self.dispatch_events();
            // Waiting here while a slow consumer catches up means not
            // reading: TCP then pushes back on the server.
            self.flush_streams().await;
            let paused = now();
            if self.subscriber.flush().await {
                self.client.reading_resumed(paused, now());
            }
            let idle = self.client.in_flight() == 0 && wire.drained();
            if idle && self.client.state() == SessionState::Closed {
                return Ok(());
            }
            if idle && !requests_open && self.client.queued() == 0 {
                // Handle dropped and nothing left to do: close without QUIT.
                return Ok(());
            }
            if self.client.state() == SessionState::AwaitingTls && wire.drained() {
                self.upgrade_to_tls().await?;
                continue;
            }
            if wire.drained() && self.client.has_output() {
                wire.out = self.client.take_output(now());
                wire.written = 0;
            }
            let deadline = self.client.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(Instant::from_std(d)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                request = self.requests.recv(), if requests_open => match request {
                    Some(request) => self.accept_burst(request),
                    None => requests_open = false,
                },
                io = poll_io(&mut self.conn, &mut wire) => {
                    if let Some(end) = self.on_io(io, &mut wire) {
                        return end;
                    }
                }
                _ = sleep => self
                    .client
                    .handle_timeout(now())
                    .map_err(|e| protocol_failure(e, FailureKind::Protocol))?,
            }
        }
    }

    /// Takes a burst of requests in one go: 100,000 queued TOPs should cost
    /// a few loop turns, not 100,000.
    fn accept_burst(&mut self, first: Request) {
        self.accept(first);
        for _ in 0..REQUEST_BURST {
            match self.requests.try_recv() {
                Ok(request) => self.accept(request),
                Err(_) => break,
            }
        }
    }

    /// What one socket event means; `Some` ends the session.
    fn on_io(&mut self, io: Io, wire: &mut Wire) -> Option<Result<(), Failure>> {
        match io {
            Io::Wrote(n) => {
                wire.written += n;
                wire.needs_flush = true;
            }
            Io::Flushed => wire.needs_flush = false,
            Io::Read(0) => {
                self.dispatch_events();
                return Some(match self.client.connection_closed() {
                    Ok(()) if self.client.state() == SessionState::Closed => Ok(()),
                    Ok(()) => Err(Failure::new(FailureKind::Connect, "the server closed the connection")),
                    Err(e) => Err(protocol_failure(e, FailureKind::Connect)),
                });
            }
            Io::Read(n) => {
                if let Err(e) = self.client.receive(now(), &wire.read_buf[..n]) {
                    return Some(Err(protocol_failure(e, FailureKind::Protocol)));
                }
            }
            Io::Error(e) => {
                let what = match self.client.waiting_for() {
                    Some(kind) => format!("the connection was lost while waiting for the reply to {kind}: {e}"),
                    None => format!("the connection was lost: {e}"),
                };
                return Some(Err(
                    Failure::new(FailureKind::Connect, what).with_hint("check the network; nothing was committed")
                ));
            }
        }
        None
    }

    async fn flush_streams(&mut self) {
        if self.stream_backlog.is_empty() {
            return;
        }
        let paused = now();
        for item in std::mem::take(&mut self.stream_backlog) {
            // A consumer that went away just stops receiving; the reply is
            // still read to its end so the session stays in step.
            match item {
                Backlogged::Chunk(tx, chunk) => {
                    let _ = tx.send(chunk).await;
                }
                Backlogged::Tagged(tx, item) => {
                    let _ = tx.send(item).await;
                }
            }
        }
        self.client.reading_resumed(paused, now());
    }

    fn accept(&mut self, request: Request) {
        let (command, priority, route) = match request {
            Request::SetWindow(n) => return self.client.set_window(n),
            Request::Submit {
                command,
                priority,
                route,
            } => (command, priority, route),
        };
        let kind = command.kind();
        let delivery = match &route {
            Route::Reply { limit, .. } => Delivery::Collect(*limit),
            Route::Stream { .. } | Route::Event { .. } | Route::Tagged { .. } => Delivery::Stream,
        };
        match self.client.submit_with(command, priority, delivery) {
            Ok(id) => {
                self.routes.insert(id, route);
            }
            Err(invalid) => {
                let failure = Failure::new(FailureKind::Usage, invalid.to_string());
                match route {
                    Route::Reply { tx, .. } | Route::Stream { done: tx, .. } => {
                        let _ = tx.send(Err(failure));
                    }
                    Route::Event { ticket } => self.subscriber.send(SessionEvent::Completed {
                        ticket,
                        command: kind,
                        outcome: Outcome::NotSent(failure.message),
                    }),
                    Route::Tagged { tag, tx } => self.stream_backlog.push(Backlogged::Tagged(
                        tx,
                        Tagged::Done {
                            tag,
                            result: Err(failure),
                        },
                    )),
                }
            }
        }
    }

    async fn upgrade_to_tls(&mut self) -> Result<(), Failure> {
        let Some(tls) = &self.config.tls else {
            return Err(Failure::new(
                FailureKind::Tls,
                "STLS accepted but no TLS configuration is available",
            ));
        };
        let Connection::Plain(tcp) = std::mem::replace(&mut self.conn, Connection::Upgrading) else {
            return Err(Failure::new(
                FailureKind::Protocol,
                "STLS accepted on a connection that is already encrypted",
            ));
        };
        let (stream, info) = handshake(tcp, tls, &self.config.host, self.config.handshake_timeout).await?;
        self.conn = Connection::Tls(Box::new(stream));
        self.trace_note(format!(
            "TLS established: {} {}, certificate {}",
            info.version, info.cipher, info.verification
        ));
        self.status.send_modify(|s| s.tls = Some(info));
        self.client.tls_established(now());
        if let Some((id, kind, outcome)) = self.held_stls.take() {
            self.complete(id, kind, outcome);
        }
        Ok(())
    }

    fn trace_note(&mut self, text: String) {
        self.trace(self.config.clock.note(text));
    }

    fn trace(&mut self, entry: TraceEntry) {
        dispatch(&mut self.config.trace, entry);
    }

    fn dispatch_events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            match event {
                Event::Trace(record) => {
                    let entry = self.config.clock.entry(record);
                    self.trace(entry);
                }
                Event::StateChanged(state) => self.status.send_modify(|s| s.state = Some(state)),
                Event::Greeting(greeting) => self.status.send_modify(|s| s.greeting = Some(greeting)),
                Event::Unsolicited(_) => {}
                Event::Data { id, chunk } => self.deliver_data(id, chunk),
                Event::Completed { id, command, outcome } => {
                    if command == CommandKind::Stls
                        && outcome.is_ok()
                        && self.client.state() == SessionState::AwaitingTls
                    {
                        self.held_stls = Some((id, command, outcome));
                    } else {
                        self.complete(id, command, outcome);
                    }
                }
            }
        }
    }

    fn deliver_data(&mut self, id: RequestId, chunk: Vec<u8>) {
        match self.routes.get(&id) {
            Some(Route::Stream { data, .. }) => self.stream_backlog.push(Backlogged::Chunk(data.clone(), chunk)),
            Some(Route::Event { ticket }) => self.subscriber.send(SessionEvent::Data { ticket: *ticket, chunk }),
            Some(Route::Tagged { tag, tx }) => self
                .stream_backlog
                .push(Backlogged::Tagged(tx.clone(), Tagged::Data { tag: *tag, chunk })),
            // A `Reply` route's body is collected by the client.
            Some(Route::Reply { .. }) | None => {}
        }
    }

    fn complete(&mut self, id: RequestId, command: CommandKind, outcome: Outcome) {
        match self.routes.remove(&id) {
            Some(Route::Reply { tx, .. }) => {
                let _ = tx.send(Ok(outcome));
            }
            Some(Route::Stream { done, .. }) => {
                let _ = done.send(Ok(outcome));
            }
            Some(Route::Event { ticket }) => self.subscriber.send(SessionEvent::Completed {
                ticket,
                command,
                outcome,
            }),
            // Behind its data, in order.
            Some(Route::Tagged { tag, tx }) => self.stream_backlog.push(Backlogged::Tagged(
                tx,
                Tagged::Done {
                    tag,
                    result: Ok(outcome),
                },
            )),
            None => {}
        }
    }
}

enum Io {
    Wrote(usize),
    Flushed,
    Read(usize),
    Error(io::Error),
}

/// Writes what is pending (or flushes) and reads, in one future: whichever
/// makes progress first.
fn poll_io<'a>(conn: &'a mut Connection, wire: &'a mut Wire) -> impl Future<Output = Io> + 'a {
    poll_fn(move |cx| {
        if !wire.drained() {
            match Pin::new(&mut *conn).poll_write(cx, &wire.out[wire.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Io::Error(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => return Poll::Ready(Io::Wrote(n)),
                Poll::Ready(Err(e)) => return Poll::Ready(Io::Error(e)),
                Poll::Pending => {}
            }
        } else if wire.needs_flush {
            match Pin::new(&mut *conn).poll_flush(cx) {
                Poll::Ready(Ok(())) => return Poll::Ready(Io::Flushed),
                Poll::Ready(Err(e)) => return Poll::Ready(Io::Error(e)),
                Poll::Pending => {}
            }
        }
        let mut rb = ReadBuf::new(&mut wire.read_buf);
        match Pin::new(&mut *conn).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) => Poll::Ready(Io::Read(rb.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Io::Error(e)),
            Poll::Pending => Poll::Pending,
        }
    })
}

fn protocol_failure(error: ProtocolError, closed_kind: FailureKind) -> Failure {
    match &error {
        ProtocolError::DataAfterStls(_) => Failure::new(FailureKind::Tls, format!("possible injection attack: {error}"))
            .with_hint("someone between you and the server may be tampering with the connection; use pop3s:// (implicit TLS) if the server offers it"),
        ProtocolError::ClosedMidReply(_) => Failure::new(closed_kind, error.to_string())
            .with_hint("the server dropped the connection; nothing was committed. Check the server's log"),
        ProtocolError::TlsRecordForGreeting => Failure::new(FailureKind::Tls, error.to_string())
            .with_hint("use pop3s:// (implicit TLS) for this port, or pop3:// with the server's plain POP3 port"),
        ProtocolError::Timeout { .. } | ProtocolError::TooSlow { .. } => Failure::new(FailureKind::Timeout, error.to_string())
            .with_hint("the server or the network is stalled; raise --timeout if it is just slow"),
        ProtocolError::AnswerTooLong { .. } | ProtocolError::Unsolicited { .. } => {
            Failure::new(FailureKind::Protocol, error.to_string()).with_hint(
                "the server is broken or hostile; the connection was closed without QUIT, so nothing was deleted",
            )
        }
        ProtocolError::GreetingRejected(status) => {
            let failure = Failure::new(FailureKind::refusal(status, FailureKind::Connect), error.to_string());
            match &status.code {
                Some(code) => failure.with_hint(code.explanation()),
                None => failure,
            }
        }
        _ => Failure::new(FailureKind::Protocol, error.to_string())
            .with_hint("the server does not speak POP3 as expected on this port; run with --trace to see the exchange"),
    }
}
