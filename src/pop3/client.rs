//! The client side of a POP3 session as a state machine.
//!
//! Callers `submit` commands and feed `receive` with whatever bytes arrived;
//! the machine writes command bytes into an output buffer (`take_output`) and
//! reports replies, streamed message data and trace records as `Event`s
//! (`poll_event`). It never blocks, never reads a clock and never touches a
//! socket: the driver in `crate::session` does that. This keeps every rule
//! below testable with byte tables:
//!
//! - pipelining: up to `window` commands in flight, answers matched in order;
//!   commands that change the session's state (STLS, USER, PASS, APOP, AUTH,
//!   CAPA, QUIT) are barriers and never share the wire with others;
//! - a QUIT that was not confirmed by the person (`commit: false`) is
//!   preceded by RSET whenever a DELE may have been accepted, and is not sent
//!   at all if that RSET fails, so it can never commit a mark;
//! - every buffer is bounded; RETR bodies are handed out in chunks.

use super::auth::{AuthError, Mechanism, SaslExchange};
use super::codec::{
    BodyDecoder, CodecError, MAX_STATUS_LINE, StatusLine, parse_continuation, parse_status_line, split_line,
};
use crate::sanitize::sanitize_bytes;
use crate::secret::Secret;
use base64::Engine;
use std::collections::VecDeque;
use std::fmt;

/// Identifies one submitted command for the whole session.
pub type RequestId = u64;

/// Largest header block kept from a TOP reply; the rest is counted and
/// dropped (a 200 KB header line fits; a hostile 50 MB one does not).
pub const MAX_TOP_BYTES: usize = 512 * 1024;
/// Largest LIST/UIDL payload kept: ~100 bytes a line for 500,000 messages.
pub const MAX_LISTING_BYTES: usize = 64 * 1024 * 1024;
/// Largest CAPA payload kept.
pub const MAX_CAPA_BYTES: usize = 64 * 1024;
/// Longest command line (RFC 2449 §4: 255 octets including CRLF).
pub const MAX_COMMAND_LINE: usize = 255;
/// How much of one multi-line payload `trace_bodies` copies into the trace.
const MAX_TRACED_BODY: usize = 64 * 1024;

/// A command to send. Secrets are held as `Secret` or inside the SASL
/// exchange, so printing a `Command` never shows them.
#[derive(Debug)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(Secret),
    Apop {
        user: String,
        digest: String,
    },
    Auth(Box<SaslExchange>),
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Top {
        msg: u32,
        lines: u32,
    },
    Retr(u32),
    Dele(u32),
    Rset,
    Noop,
    /// `commit: true` only for a QUIT the person confirmed: it may delete.
    Quit {
        commit: bool,
    },
}

/// What a command was, without its arguments' secrets: for events, traces
/// and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Capa,
    Stls,
    User,
    Pass,
    Apop,
    Auth(Mechanism),
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Top { msg: u32, lines: u32 },
    Retr(u32),
    Dele(u32),
    Rset,
    Noop,
    Quit { commit: bool },
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandKind::Capa => f.write_str("CAPA"),
            CommandKind::Stls => f.write_str("STLS"),
            CommandKind::User => f.write_str("USER"),
            CommandKind::Pass => f.write_str("PASS"),
            CommandKind::Apop => f.write_str("APOP"),
            CommandKind::Auth(m) => write!(f, "AUTH {}", m.name()),
            CommandKind::Stat => f.write_str("STAT"),
            CommandKind::List(None) => f.write_str("LIST"),
            CommandKind::List(Some(n)) => write!(f, "LIST {n}"),
            CommandKind::Uidl(None) => f.write_str("UIDL"),
            CommandKind::Uidl(Some(n)) => write!(f, "UIDL {n}"),
            CommandKind::Top { msg, lines } => write!(f, "TOP {msg} {lines}"),
            CommandKind::Retr(n) => write!(f, "RETR {n}"),
            CommandKind::Dele(n) => write!(f, "DELE {n}"),
            CommandKind::Rset => f.write_str("RSET"),
            CommandKind::Noop => f.write_str("NOOP"),
            CommandKind::Quit { .. } => f.write_str("QUIT"),
        }
    }
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Capa => CommandKind::Capa,
            Command::Stls => CommandKind::Stls,
            Command::User(_) => CommandKind::User,
            Command::Pass(_) => CommandKind::Pass,
            Command::Apop { .. } => CommandKind::Apop,
            Command::Auth(x) => CommandKind::Auth(x.mechanism()),
            Command::Stat => CommandKind::Stat,
            Command::List(n) => CommandKind::List(*n),
            Command::Uidl(n) => CommandKind::Uidl(*n),
            Command::Top { msg, lines } => CommandKind::Top {
                msg: *msg,
                lines: *lines,
            },
            Command::Retr(n) => CommandKind::Retr(*n),
            Command::Dele(n) => CommandKind::Dele(*n),
            Command::Rset => CommandKind::Rset,
            Command::Noop => CommandKind::Noop,
            Command::Quit { commit } => CommandKind::Quit { commit: *commit },
        }
    }

    /// Arguments that would let a caller smuggle a second command onto the
    /// line are refused before anything is sent.
    fn validate(&self) -> Result<(), InvalidCommand> {
        fn clean(what: &'static str, s: &[u8], allow_space: bool) -> Result<(), InvalidCommand> {
            let bad = s
                .iter()
                .any(|&b| b == b'\r' || b == b'\n' || b == 0 || (!allow_space && b == b' '));
            if bad || s.is_empty() {
                Err(InvalidCommand(what))
            } else {
                Ok(())
            }
        }
        let number = |n: u32| {
            if n == 0 {
                Err(InvalidCommand("message numbers start at 1"))
            } else {
                Ok(())
            }
        };
        match self {
            Command::User(u) => clean("the user name contains a line break, NUL or space", u.as_bytes(), false),
            Command::Pass(p) => clean(
                "the password is empty or contains a line break or NUL",
                p.expose(),
                true,
            ),
            Command::Apop { user, digest } => {
                clean(
                    "the user name contains a line break, NUL or space",
                    user.as_bytes(),
                    false,
                )?;
                clean("the APOP digest is malformed", digest.as_bytes(), false)
            }
            Command::List(Some(n)) | Command::Uidl(Some(n)) | Command::Retr(n) | Command::Dele(n) => number(*n),
            Command::Top { msg, .. } => number(*msg),
            _ => Ok(()),
        }
    }

    /// State-changing commands go alone: nothing else is in flight with them.
    fn is_barrier(&self) -> bool {
        matches!(
            self,
            Command::Capa
                | Command::Stls
                | Command::User(_)
                | Command::Pass(_)
                | Command::Apop { .. }
                | Command::Auth(_)
                | Command::Quit { .. }
        )
    }

    fn body_mode(&self) -> BodyMode {
        match self {
            Command::Capa => BodyMode::Collect(MAX_CAPA_BYTES),
            Command::List(None) | Command::Uidl(None) => BodyMode::Collect(MAX_LISTING_BYTES),
            Command::Top { .. } => BodyMode::Collect(MAX_TOP_BYTES),
            Command::Retr(_) => BodyMode::Stream,
            _ => BodyMode::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to send the command: {0}")]
pub struct InvalidCommand(pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyMode {
    None,
    Collect(usize),
    Stream,
}

/// Where the session is (RFC 1939 §3 plus the STLS handshake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Waiting for the server's greeting.
    Greeting,
    Authorization,
    /// STLS was accepted: the driver must run the TLS handshake now and then
    /// call `tls_established`.
    AwaitingTls,
    Transaction,
    /// QUIT was answered; the server is done with us.
    Closed,
}

/// The body part of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Kept in memory (CAPA, LIST, UIDL, TOP). `truncated`: the payload was
    /// longer than the bound; `total_bytes` says how long.
    Collected {
        bytes: Vec<u8>,
        truncated: bool,
        lines: u64,
        total_bytes: u64,
    },
    /// Handed out as `Event::Data` (RETR); this records how much came.
    Streamed { lines: u64, total_bytes: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusLine,
    pub body: Option<Body>,
}

impl Reply {
    /// The collected payload, or an empty slice.
    pub fn payload(&self) -> &[u8] {
        match &self.body {
            Some(Body::Collected { bytes, .. }) => bytes,
            _ => &[],
        }
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Reply),
    /// The server answered `-ERR`.
    Err(StatusLine),
    /// The SASL exchange failed on our side (bad challenge, the server could
    /// not prove it knows the password, ...).
    AuthFailed {
        error: AuthError,
        server: Option<StatusLine>,
    },
    /// Never sent; the reason says why.
    NotSent(String),
    /// Sent, but the connection ended before the answer was complete: the
    /// server may or may not have acted on it.
    Lost(String),
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
    /// Something popscope itself observed (a TLS upgrade, a summary).
    Note,
}

/// One line for the protocol trace, already redacted and sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    pub direction: Direction,
    pub request: Option<RequestId>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Greeting(StatusLine),
    /// A piece of a streamed body (RETR), in order.
    Data {
        id: RequestId,
        chunk: Vec<u8>,
    },
    Completed {
        id: RequestId,
        command: CommandKind,
        outcome: Outcome,
    },
    /// A status line nobody asked for (e.g. an autologout notice).
    Unsolicited(StatusLine),
    StateChanged(SessionState),
    Trace(TraceRecord),
}

/// The session cannot go on: the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("{error} (while waiting for the reply to {during})")]
    Codec { error: CodecError, during: String },
    #[error("the server rejected the connection: {0}")]
    GreetingRejected(StatusLine),
    #[error(
        "the server sent {0} bytes after accepting STLS and before the TLS handshake; this is how a man-in-the-middle injects commands, so the session was aborted"
    )]
    DataAfterStls(usize),
    #[error("the server sent data nobody asked for: {0:?}")]
    Unexpected(String),
    #[error("the connection closed while waiting for the reply to {0}")]
    ClosedMidReply(String),
    #[error("the session already ended: {0}")]
    AlreadyFailed(String),
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Commands in flight at once; 1 means lockstep.
    pub window: usize,
    /// Emit trace records at all.
    pub trace: bool,
    /// Copy multi-line payloads into the trace instead of a summary.
    pub trace_bodies: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            window: 1,
            trace: true,
            trace_bodies: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Something a person is waiting for (a RETR they asked for).
    Urgent,
    Normal,
}

struct Queued {
    id: RequestId,
    command: Command,
}

enum Phase {
    Status,
    Body {
        decoder: BodyDecoder,
        status: StatusLine,
        kept: Vec<u8>,
        traced: usize,
    },
}

struct InFlight {
    id: RequestId,
    kind: CommandKind,
    body: BodyMode,
    phase: Phase,
    sasl: Option<Box<SaslExchange>>,
    /// A SASL initial response too long for the command line, sent at the
    /// first (empty) challenge instead.
    deferred_initial: Option<Vec<u8>>,
    /// Set once we sent `*` to abort a SASL exchange.
    sasl_error: Option<AuthError>,
    /// This RSET was sent on behalf of a withheld QUIT.
    reset_before_quit: Option<Queued>,
}

/// The POP3 client state machine. See the module docs.
pub struct Client {
    config: ClientConfig,
    state: SessionState,
    next_id: RequestId,
    urgent: VecDeque<Queued>,
    normal: VecDeque<Queued>,
    in_flight: VecDeque<InFlight>,
    input: Vec<u8>,
    output: Vec<u8>,
    events: VecDeque<Event>,
    /// DELEs sent since the last successful RSET: while non-zero, the server
    /// may hold marks, and only a confirmed QUIT may go out without RSET.
    possibly_marked: u32,
    failed: Option<String>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Client {
        Client {
            config: ClientConfig {
                window: config.window.max(1),
                ..config
            },
            state: SessionState::Greeting,
            next_id: 1,
            urgent: VecDeque::new(),
            normal: VecDeque::new(),
            in_flight: VecDeque::new(),
            input: Vec::new(),
            output: Vec::new(),
            events: VecDeque::new(),
            possibly_marked: 0,
            failed: None,
        }
    }

    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Changes how many commands may be in flight (1 = lockstep).
    pub fn set_window(&mut self, window: usize) {
        self.config.window = window.max(1);
        self.fill_window();
    }

    pub fn window(&self) -> usize {
        self.config.window
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub fn queued(&self) -> usize {
        self.urgent.len() + self.normal.len()
    }

    /// The command whose answer is awaited next.
    pub fn waiting_for(&self) -> Option<CommandKind> {
        self.in_flight.front().map(|f| f.kind)
    }

    /// DELEs that the server may currently hold as marks.
    pub fn possibly_marked(&self) -> u32 {
        self.possibly_marked
    }

    /// Queues a command; its bytes appear in the output as soon as the
    /// window allows.
    pub fn submit(&mut self, command: Command, priority: Priority) -> Result<RequestId, InvalidCommand> {
        command.validate()?;
        let id = self.next_id;
        self.next_id += 1;
        let queued = Queued { id, command };
        if let Some(reason) = &self.failed {
            let reason = reason.clone();
            self.complete(queued.id, queued.command.kind(), Outcome::NotSent(reason));
            return Ok(id);
        }
        match priority {
            Priority::Urgent => self.urgent.push_back(queued),
            Priority::Normal => self.normal.push_back(queued),
        }
        self.fill_window();
        Ok(id)
    }

    /// Withdraws a command that has not been sent yet. Returns false when it
    /// is already on the wire (its answer will still come).
    pub fn cancel(&mut self, id: RequestId) -> bool {
        for lane in [&mut self.urgent, &mut self.normal] {
            if let Some(pos) = lane.iter().position(|q| q.id == id) {
                lane.remove(pos);
                return true;
            }
        }
        false
    }

    /// Bytes to write to the server; the caller must write all of them.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The TLS handshake after STLS succeeded. Everything learned before it
    /// is void (RFC 2595 §4); the caller re-asks CAPA.
    pub fn tls_established(&mut self) {
        if self.state == SessionState::AwaitingTls {
            self.set_state(SessionState::Authorization);
            self.note("TLS established; capabilities learned before it are discarded");
            self.fill_window();
        }
    }

    /// Feeds bytes that arrived from the server.
    pub fn receive(&mut self, data: &[u8]) -> Result<(), ProtocolError> {
        if let Some(reason) = &self.failed {
            return Err(ProtocolError::AlreadyFailed(reason.clone()));
        }
        if self.state == SessionState::AwaitingTls && !data.is_empty() {
            return self.fail(ProtocolError::DataAfterStls(data.len()));
        }
        let mut input = std::mem::take(&mut self.input);
        input.extend_from_slice(data);
        let mut pos = 0;
        let result = loop {
            if pos == input.len() {
                break Ok(());
            }
            match self.step(&input[pos..]) {
                Ok(0) => break Ok(()),
                Ok(used) => pos += used,
                Err(e) => break Err(e),
            }
            if self.state == SessionState::AwaitingTls && pos < input.len() {
                break Err(ProtocolError::DataAfterStls(input.len() - pos));
            }
        };
        input.drain(..pos);
        self.input = input;
        self.fill_window();
        result.or_else(|e| self.fail(e))
    }

    /// The server closed the connection. Anything still awaited is lost.
    pub fn connection_closed(&mut self) -> Result<(), ProtocolError> {
        let during = self.in_flight.front().map(|f| f.kind.to_string());
        let reason = match &during {
            Some(what) => format!("the connection closed while waiting for the reply to {what}"),
            None => "the connection closed".to_string(),
        };
        let was_closed = self.state == SessionState::Closed;
        self.abandon(&reason);
        match during {
            Some(what) if !was_closed => Err(ProtocolError::ClosedMidReply(what)),
            _ => Ok(()),
        }
    }

    /// Ends every pending command with `reason` (sent ones as `Lost`, queued
    /// ones as `NotSent`) and refuses further work.
    pub fn abandon(&mut self, reason: &str) {
        if self.failed.is_none() {
            self.failed = Some(reason.to_string());
        }
        while let Some(f) = self.in_flight.pop_front() {
            self.complete(f.id, f.kind, Outcome::Lost(reason.to_string()));
            if let Some(quit) = f.reset_before_quit {
                self.complete(quit.id, quit.command.kind(), Outcome::NotSent(reason.to_string()));
            }
        }
        let queued: Vec<Queued> = self.urgent.drain(..).chain(self.normal.drain(..)).collect();
        for q in queued {
            self.complete(q.id, q.command.kind(), Outcome::NotSent(reason.to_string()));
        }
    }

    fn fail(&mut self, error: ProtocolError) -> Result<(), ProtocolError> {
        self.abandon(&error.to_string());
        Err(error)
    }

    fn set_state(&mut self, state: SessionState) {
        if self.state != state {
            self.state = state;
            self.events.push_back(Event::StateChanged(state));
        }
    }

    fn trace(&mut self, direction: Direction, request: Option<RequestId>, text: String) {
        if self.config.trace {
            self.events.push_back(Event::Trace(TraceRecord {
                direction,
                request,
                text,
            }));
        }
    }

    fn note(&mut self, text: &str) {
        self.trace(Direction::Note, None, text.to_string());
    }

    fn complete(&mut self, id: RequestId, command: CommandKind, outcome: Outcome) {
        self.events.push_back(Event::Completed { id, command, outcome });
    }

    /// Sends queued commands while the window and barriers allow.
    fn fill_window(&mut self) {
        if self.failed.is_some()
            || matches!(
                self.state,
                SessionState::Greeting | SessionState::AwaitingTls | SessionState::Closed
            )
        {
            return;
        }
        loop {
            if self.in_flight.len() >= self.config.window {
                return;
            }
            if self.in_flight.back().is_some_and(|f| is_barrier_kind(f.kind)) {
                return;
            }
            let lane = if self.urgent.is_empty() {
                &mut self.normal
            } else {
                &mut self.urgent
            };
            let Some(next) = lane.front() else { return };
            if next.command.is_barrier() && !self.in_flight.is_empty() {
                return;
            }
            let queued = lane.pop_front().expect("front exists");
            self.send(queued);
        }
    }

    fn send(&mut self, queued: Queued) {
        let Queued { id, command } = queued;
        let kind = command.kind();
        if let Command::Quit { commit: false } = command
            && self.possibly_marked > 0
        {
            // Marks may be held: unmark first, and only quit if that worked.
            let rset_id = self.next_id;
            self.next_id += 1;
            self.note("QUIT was not confirmed and messages may be marked: sending RSET first");
            self.write_line(rset_id, b"RSET".to_vec(), "RSET".to_string());
            self.in_flight.push_back(InFlight {
                reset_before_quit: Some(Queued { id, command }),
                ..InFlight::new(rset_id, CommandKind::Rset, BodyMode::None)
            });
            return;
        }
        let mut flight = InFlight::new(id, kind, command.body_mode());
        let (line, shown): (Vec<u8>, String) = match command {
            Command::Capa => (b"CAPA".to_vec(), "CAPA".into()),
            Command::Stls => (b"STLS".to_vec(), "STLS".into()),
            Command::User(u) => (
                format!("USER {u}").into_bytes(),
                format!("USER {}", sanitize_bytes(u.as_bytes(), false)),
            ),
            Command::Pass(p) => {
                let mut line = b"PASS ".to_vec();
                line.extend_from_slice(p.expose());
                (line, "PASS ********".into())
            }
            Command::Apop { user, digest } => (
                format!("APOP {user} {digest}").into_bytes(),
                format!("APOP {} ********", sanitize_bytes(user.as_bytes(), false)),
            ),
            Command::Auth(mut exchange) => {
                let name = exchange.mechanism().name();
                let initial = exchange.initial_response();
                flight.sasl = Some(exchange);
                match initial {
                    Some(raw) => {
                        // RFC 5034 §4: "=" is an empty initial response.
                        let encoded = if raw.is_empty() {
                            "=".to_string()
                        } else {
                            encode_sasl(&raw)
                        };
                        if 5 + name.len() + 1 + encoded.len() + 2 <= MAX_COMMAND_LINE {
                            (
                                format!("AUTH {name} {encoded}").into_bytes(),
                                format!("AUTH {name} ******** ({} bytes)", encoded.len()),
                            )
                        } else {
                            flight.deferred_initial = Some(raw);
                            (format!("AUTH {name}").into_bytes(), format!("AUTH {name}"))
                        }
                    }
                    None => (format!("AUTH {name}").into_bytes(), format!("AUTH {name}")),
                }
            }
            Command::Stat => (b"STAT".to_vec(), "STAT".into()),
            Command::List(None) => (b"LIST".to_vec(), "LIST".into()),
            Command::List(Some(n)) => plain(format!("LIST {n}")),
            Command::Uidl(None) => (b"UIDL".to_vec(), "UIDL".into()),
            Command::Uidl(Some(n)) => plain(format!("UIDL {n}")),
            Command::Top { msg, lines } => plain(format!("TOP {msg} {lines}")),
            Command::Retr(n) => plain(format!("RETR {n}")),
            Command::Dele(n) => {
                self.possibly_marked += 1;
                plain(format!("DELE {n}"))
            }
            Command::Rset => (b"RSET".to_vec(), "RSET".into()),
            Command::Noop => (b"NOOP".to_vec(), "NOOP".into()),
            Command::Quit { .. } => (b"QUIT".to_vec(), "QUIT".into()),
        };
        self.write_line(id, line, shown);
        self.in_flight.push_back(flight);
    }

    fn write_line(&mut self, id: RequestId, line: Vec<u8>, shown: String) {
        self.output.extend_from_slice(&line);
        self.output.extend_from_slice(b"\r\n");
        self.trace(Direction::Sent, Some(id), shown);
    }

    /// Handles as much of `input` as makes one step of progress; returns the
    /// bytes used (0: need more).
    fn step(&mut self, input: &[u8]) -> Result<usize, ProtocolError> {
        if self.state == SessionState::Greeting {
            let Some((line, used)) = split_line(input, MAX_STATUS_LINE).map_err(|e| codec("the greeting", e))? else {
                return Ok(0);
            };
            let status = parse_status_line(line).map_err(|e| codec("the greeting", e))?;
            self.trace(Direction::Received, None, status.to_string());
            if !status.is_ok() {
                return Err(ProtocolError::GreetingRejected(status));
            }
            self.events.push_back(Event::Greeting(status));
            self.set_state(SessionState::Authorization);
            return Ok(used);
        }
        let Some(head) = self.in_flight.front_mut() else {
            return self.unsolicited(input);
        };
        if let Phase::Body { .. } = head.phase {
            return Ok(self.body_step(input));
        }
        let during = head.kind.to_string();
        let Some((line, used)) = split_line(input, MAX_STATUS_LINE).map_err(|e| codec(&during, e))? else {
            return Ok(0);
        };
        if head.sasl.is_some()
            && let Some(challenge) = parse_continuation(line)
        {
            self.sasl_challenge(challenge);
            return Ok(used);
        }
        let status = parse_status_line(line).map_err(|e| codec(&during, e))?;
        let id = head.id;
        self.trace(Direction::Received, Some(id), status.to_string());
        let head = self.in_flight.front_mut().expect("head exists");
        if status.is_ok() && head.body != BodyMode::None {
            head.phase = Phase::Body {
                decoder: BodyDecoder::new(),
                status,
                kept: Vec::new(),
                traced: 0,
            };
            return Ok(used);
        }
        let flight = self.in_flight.pop_front().expect("head exists");
        self.finish_status(flight, status);
        Ok(used)
    }

    fn unsolicited(&mut self, input: &[u8]) -> Result<usize, ProtocolError> {
        let Some((line, used)) =
            split_line(input, MAX_STATUS_LINE).map_err(|e| codec("nothing (no command was pending)", e))?
        else {
            return Ok(0);
        };
        match parse_status_line(line) {
            Ok(status) => {
                self.trace(Direction::Received, None, status.to_string());
                self.events.push_back(Event::Unsolicited(status));
                Ok(used)
            }
            Err(_) => Err(ProtocolError::Unexpected(super::codec::excerpt(line))),
        }
    }

    fn body_step(&mut self, input: &[u8]) -> usize {
        let trace_bodies = self.config.trace_bodies && self.config.trace;
        let head = self.in_flight.front_mut().expect("head exists");
        let id = head.id;
        let mode = head.body;
        let Phase::Body {
            decoder, kept, traced, ..
        } = &mut head.phase
        else {
            unreachable!("body_step is only called in the body phase")
        };
        let mut chunk = Vec::new();
        let (used, done) = decoder.decode(input, &mut chunk);
        let mut traced_text = None;
        if trace_bodies && *traced < MAX_TRACED_BODY && !chunk.is_empty() {
            let take = chunk.len().min(MAX_TRACED_BODY - *traced);
            *traced += take;
            traced_text = Some(sanitize_bytes(&chunk[..take], true));
        }
        match mode {
            BodyMode::Collect(limit) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            BodyMode::Stream if !chunk.is_empty() => {
                self.events.push_back(Event::Data { id, chunk });
            }
            _ => {}
        }
        if let Some(text) = traced_text {
            self.trace(Direction::Received, Some(id), text);
        }
        if done {
            let flight = self.in_flight.pop_front().expect("head exists");
            self.finish_body(flight);
        }
        used
    }

    fn finish_body(&mut self, flight: InFlight) {
        let Phase::Body {
            decoder, status, kept, ..
        } = flight.phase
        else {
            unreachable!("finish_body is only called in the body phase")
        };
        let (lines, total_bytes) = (decoder.lines(), decoder.bytes());
        self.trace(
            Direction::Received,
            Some(flight.id),
            format!("<{lines} lines, {total_bytes} bytes>"),
        );
        let body = match flight.body {
            BodyMode::Stream => Body::Streamed { lines, total_bytes },
            _ => Body::Collected {
                truncated: (kept.len() as u64) < total_bytes,
                bytes: kept,
                lines,
                total_bytes,
            },
        };
        self.complete(
            flight.id,
            flight.kind,
            Outcome::Ok(Reply {
                status,
                body: Some(body),
            }),
        );
    }

    fn finish_status(&mut self, mut flight: InFlight, status: StatusLine) {
        let ok = status.is_ok();
        if let Some(quit) = flight.reset_before_quit.take() {
            if ok {
                self.possibly_marked = 0;
                self.urgent.push_front(quit);
            } else {
                self.note("RSET failed: QUIT withheld so no mark can be committed; drop the connection");
                self.complete(
                    quit.id,
                    quit.command.kind(),
                    Outcome::NotSent(format!(
                        "RSET failed ({status}); QUIT was not sent, so nothing can be deleted: close the connection"
                    )),
                );
            }
            self.complete(flight.id, flight.kind, outcome_of(status));
            return;
        }
        match flight.kind {
            CommandKind::Rset if ok => self.possibly_marked = 0,
            CommandKind::Stls if ok => self.set_state(SessionState::AwaitingTls),
            CommandKind::Pass | CommandKind::Apop if ok => self.set_state(SessionState::Transaction),
            CommandKind::Quit { .. } if ok => self.set_state(SessionState::Closed),
            CommandKind::Auth(_) => {
                let outcome = self.finish_auth(&mut flight, status);
                self.complete(flight.id, flight.kind, outcome);
                return;
            }
            _ => {}
        }
        self.complete(flight.id, flight.kind, outcome_of(status));
    }

    fn finish_auth(&mut self, flight: &mut InFlight, status: StatusLine) -> Outcome {
        if let Some(error) = flight.sasl_error.take() {
            return Outcome::AuthFailed {
                error,
                server: Some(status),
            };
        }
        if !status.is_ok() {
            // An OAuth server explains a rejected token in its JSON challenge,
            // not in the -ERR line: pass that on (it holds no secret).
            let detail = flight
                .sasl
                .as_ref()
                .and_then(|x| x.server_error_detail().map(str::to_string));
            let mut status = status;
            if let Some(detail) = detail {
                status.text = format!("{} (server detail: {detail})", status.text);
            }
            return Outcome::Err(status);
        }
        let verdict = flight.sasl.as_ref().map(|x| x.finish()).unwrap_or(Ok(()));
        match verdict {
            Ok(()) => {
                self.set_state(SessionState::Transaction);
                outcome_of(status)
            }
            // The server let us in without proving it knows the password
            // (SCRAM): treat it as an impostor.
            Err(error) => Outcome::AuthFailed {
                error,
                server: Some(status),
            },
        }
    }

    fn sasl_challenge(&mut self, challenge: Result<Vec<u8>, CodecError>) {
        let head = self.in_flight.front_mut().expect("head exists");
        let id = head.id;
        let answer = match challenge {
            Ok(raw) if raw.is_empty() && head.deferred_initial.is_some() => {
                Ok(head.deferred_initial.take().expect("checked"))
            }
            Ok(raw) => head
                .sasl
                .as_mut()
                .expect("sasl exchange present")
                .respond(&raw)
                .map_err(|e| (e, raw.len())),
            Err(e) => Err((AuthError::MalformedChallenge(e.to_string()), 0)),
        };
        let line_len;
        let (line, shown) = match answer {
            Ok(raw) => {
                let encoded = encode_sasl(&raw);
                line_len = encoded.len();
                (encoded.into_bytes(), format!("<SASL response, {line_len} bytes>"))
            }
            Err((error, _)) => {
                head.sasl_error = Some(error);
                (b"*".to_vec(), "* (cancelling the SASL exchange)".to_string())
            }
        };
        self.trace(Direction::Received, Some(id), "+ <SASL challenge>".to_string());
        self.write_line(id, line, shown);
    }
}

impl InFlight {
    fn new(id: RequestId, kind: CommandKind, body: BodyMode) -> InFlight {
        InFlight {
            id,
            kind,
            body,
            phase: Phase::Status,
            sasl: None,
            deferred_initial: None,
            sasl_error: None,
            reset_before_quit: None,
        }
    }
}

fn is_barrier_kind(kind: CommandKind) -> bool {
    matches!(
        kind,
        CommandKind::Capa
            | CommandKind::Stls
            | CommandKind::User
            | CommandKind::Pass
            | CommandKind::Apop
            | CommandKind::Auth(_)
            | CommandKind::Quit { .. }
    )
}

fn outcome_of(status: StatusLine) -> Outcome {
    if status.is_ok() {
        Outcome::Ok(Reply { status, body: None })
    } else {
        Outcome::Err(status)
    }
}

fn plain(line: String) -> (Vec<u8>, String) {
    (line.clone().into_bytes(), line)
}

/// A continuation answer; an empty one is an empty line (RFC 5034 §4).
fn encode_sasl(raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn codec(during: &str, error: CodecError) -> ProtocolError {
    ProtocolError::Codec {
        error,
        during: during.to_string(),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
