//! The client side of a POP3 session as a state machine.
//!
//! Callers `submit` commands and feed `receive` with whatever bytes arrived;
//! the machine writes command bytes into an output buffer (`take_output`) and
//! reports replies, streamed message data and trace records as `Event`s
//! (`poll_event`). It never blocks, never reads a clock and never touches a
//! socket: the driver in `crate::session` does that. Time comes in as
//! arguments (quinn-style): `receive(now, ..)` and `take_output(now)` stamp
//! what happens, `poll_timeout()` says when the caller must call
//! `handle_timeout(now)`. This keeps every rule below testable with byte
//! tables and simulated time:
//!
//! - pipelining: up to `window` commands in flight, answers matched in order;
//!   barriers (the command table in `pop3::command` says which: the
//!   state-changing CAPA, STLS, USER, PASS, APOP, AUTH, QUIT, and RSET)
//!   never share the wire with others;
//! - a QUIT that was not confirmed by the person (`commit: false`) is
//!   preceded by RSET whenever a DELE may have been accepted, and is not sent
//!   at all if that RSET fails, so it can never commit a mark;
//! - every buffer is bounded; RETR bodies are handed out in chunks, or
//!   collected up to a limit the caller chooses (`submit_with`);
//! - an answer that does not come within the configured limit fails the
//!   session, naming the command (see `deadline`);
//! - trace records carry their time, and answers the latency from the
//!   moment their command was handed out for writing.
//!
//! `send` puts commands on the wire, `receive` reads answers, `sasl` runs
//! AUTH exchanges.

mod deadline;
mod events;
mod receive;
mod sasl;
mod send;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trace_tests;
#[cfg(test)]
mod transcript;

use super::auth::{AuthError, SaslExchange};
use super::codec::{BodyDecoder, CodecError, StatusLine};
use super::command::BodyMode;
pub use super::command::{
    Command, CommandKind, InvalidCommand, MAX_CAPA_BYTES, MAX_COMMAND_LINE, MAX_LISTING_BYTES, MAX_TOP_BYTES,
};
use deadline::{AnswerTimer, Expiry};
pub use events::{BatchSize, Body, Direction, Event, Outcome, Payload, ProtocolError, Reply, TraceRecord};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Identifies one submitted command for the whole session.
pub type RequestId = u64;

/// Identifies one `take_output`: the commands that went out in one write.
pub(crate) type BatchId = u64;

/// How the body of a streamed answer (RETR) reaches the caller. Other
/// answers are framed and kept as the command table says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In chunks as it arrives (`Event::Data`).
    Stream,
    /// Kept with the reply, up to this many bytes (the rest is counted).
    Collect(usize),
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

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Commands in flight at once; 1 means lockstep.
    pub window: usize,
    /// Emit trace records at all.
    pub trace: bool,
    /// Keep up to 64 KiB of every multi-line payload with its trace line
    /// instead of a short sample (CAPA is always kept whole).
    pub trace_bodies: bool,
    /// How long the server may stay silent while an answer is awaited.
    pub answer_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            window: 1,
            trace: true,
            trace_bodies: false,
            answer_timeout: Duration::from_secs(30),
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
    body: BodyMode,
}

enum Phase {
    Status,
    Body {
        decoder: BodyDecoder,
        status: StatusLine,
        kept: Vec<u8>,
        /// The payload's first bytes, for the trace.
        sample: Vec<u8>,
    },
}

struct InFlight {
    id: RequestId,
    kind: CommandKind,
    body: BodyMode,
    /// The longest answer accepted, and the LIST size it comes from (RETR).
    largest: u64,
    listed_size: Option<u64>,
    phase: Phase,
    sasl: Option<Box<SaslExchange>>,
    /// A SASL initial response too long for the command line, sent at the
    /// first (empty) challenge instead, and whether it carries the secret.
    deferred_initial: Option<(Vec<u8>, bool)>,
    /// Set once we sent `*` to abort a SASL exchange.
    sasl_error: Option<AuthError>,
    /// This RSET was sent on behalf of a withheld QUIT.
    reset_before_quit: Option<Queued>,
    /// Its last line is in the output but not yet handed out.
    unstamped: bool,
    /// When and in which batch its last line was handed out for writing.
    written: Option<(Instant, BatchId)>,
}

/// A trace line for something written, stamped when it is handed out.
struct Unwritten {
    direction: Direction,
    request: Option<RequestId>,
    command: Option<CommandKind>,
    text: String,
    bytes: Option<u64>,
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
    /// Trace lines for `output`, emitted by `take_output`.
    unwritten: Vec<Unwritten>,
    next_batch: BatchId,
    events: VecDeque<Event>,
    timer: AnswerTimer,
    /// The time passed in by the call being handled.
    now: Instant,
    /// When the first byte of the line being read arrived (an answer's
    /// latency ends there, not when its line was complete).
    line_arrived: Instant,
    /// When the first byte still in `input` arrived.
    input_arrived: Instant,
    /// DELEs sent since the last successful RSET: while non-zero, the server
    /// may hold marks, and only a confirmed QUIT may go out without RSET.
    possibly_marked: u32,
    /// Status lines that arrived while nothing was awaited.
    unsolicited: u32,
    failed: Option<String>,
}

impl Client {
    /// A client waiting for the greeting since `now`.
    pub fn new(config: ClientConfig, now: Instant) -> Client {
        Client {
            timer: AnswerTimer::new(config.answer_timeout, now),
            now,
            line_arrived: now,
            input_arrived: now,
            unwritten: Vec::new(),
            next_batch: 1,
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
            unsolicited: 0,
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
    pub(crate) fn waiting_for(&self) -> Option<CommandKind> {
        self.in_flight.front().map(|f| f.kind)
    }

    /// DELEs that the server may currently hold as marks.
    pub fn possibly_marked(&self) -> u32 {
        self.possibly_marked
    }

    /// Queues a command; its bytes appear in the output as soon as the
    /// window allows. A RETR body is streamed.
    pub fn submit(&mut self, command: Command, priority: Priority) -> Result<RequestId, InvalidCommand> {
        self.submit_with(command, priority, Delivery::Stream)
    }

    /// `submit`, choosing how a streamed body reaches the caller.
    pub fn submit_with(
        &mut self,
        command: Command,
        priority: Priority,
        delivery: Delivery,
    ) -> Result<RequestId, InvalidCommand> {
        command.validate()?;
        let id = self.next_id;
        self.next_id += 1;
        let body = match (command.spec().body, delivery) {
            // How much is kept is the caller's choice; how long the answer
            // may be is the command's (`Command::largest_answer`).
            (BodyMode::Stream, Delivery::Collect(limit)) => BodyMode::Collect {
                keep: limit,
                largest: u64::MAX,
            },
            (body, _) => body,
        };
        let queued = Queued { id, command, body };
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

    /// Bytes to write to the server; the caller must write all of them,
    /// starting at `now`. They are one batch: their trace lines and the
    /// latency of their answers are measured from here.
    pub fn take_output(&mut self, now: Instant) -> Vec<u8> {
        self.now = now;
        if self.output.is_empty() {
            return Vec::new();
        }
        let batch = self.next_batch;
        self.next_batch += 1;
        // Lines are written in the order commands join `in_flight` (an AUTH
        // turn is a barrier, alone in flight): the unstamped are the tail.
        for flight in self.in_flight.iter_mut().rev().take_while(|f| f.unstamped) {
            flight.unstamped = false;
            flight.written = Some((now, batch));
        }
        let sent = || self.unwritten.iter().filter(|l| l.direction == Direction::Sent);
        let mut opens_batch = Some(BatchSize {
            lines: sent().count(),
            bytes: sent().all(|l| l.bytes.is_some()).then_some(self.output.len()),
        });
        for line in std::mem::take(&mut self.unwritten) {
            self.events.push_back(Event::Trace(TraceRecord {
                at: now,
                direction: line.direction,
                request: line.request,
                text: line.text,
                command: line.command,
                latency: None,
                batch: Some(batch),
                opens_batch: opens_batch.take(),
                bytes: line.bytes,
                payload: None,
            }));
        }
        if self.awaiting() {
            self.timer.written(now);
        }
        std::mem::take(&mut self.output)
    }

    /// When `handle_timeout` must be called if nothing else happens first.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timer.deadline()
    }

    /// The caller stopped reading at `paused_since` (its own consumer was
    /// slow) and reads again from `now`: that time is not the server's.
    pub fn reading_resumed(&mut self, paused_since: Instant, now: Instant) {
        self.now = now;
        self.timer.resumed(paused_since, now);
    }

    /// Fails the session if the server has been silent too long, or sends
    /// an answer too slowly, while it (or the greeting) is awaited; the
    /// error names what (see `deadline`).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ProtocolError> {
        self.now = now;
        if self.failed.is_some() {
            return Ok(());
        }
        let Some(expiry) = self.timer.expired(now) else {
            return Ok(());
        };
        let waiting_for = match self.waiting_for() {
            Some(kind) => kind.to_string(),
            None => "the server's greeting".to_string(),
        };
        let limit = self.timer.limit();
        self.fail(match expiry {
            Expiry::Silent => ProtocolError::Timeout { waiting_for, limit },
            Expiry::TooSlow { bytes, elapsed } => ProtocolError::TooSlow {
                waiting_for,
                bytes,
                elapsed,
                limit,
            },
        })
    }

    pub(crate) fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The TLS handshake after STLS succeeded. Everything learned before it
    /// is void (RFC 2595 §4); the caller re-asks CAPA.
    pub fn tls_established(&mut self, now: Instant) {
        self.now = now;
        if self.state == SessionState::AwaitingTls {
            self.set_state(SessionState::Authorization);
            self.note("TLS established; capabilities learned before it are discarded");
            self.fill_window();
        }
    }

    /// Feeds bytes that arrived from the server at `now`.
    pub fn receive(&mut self, now: Instant, data: &[u8]) -> Result<(), ProtocolError> {
        self.now = now;
        if let Some(reason) = &self.failed {
            return Err(ProtocolError::AlreadyFailed(reason.clone()));
        }
        if self.state == SessionState::AwaitingTls && !data.is_empty() {
            return self.fail(ProtocolError::DataAfterStls(data.len()));
        }
        let mut input = std::mem::take(&mut self.input);
        let earlier = input.len();
        if earlier == 0 {
            self.input_arrived = now;
        }
        input.extend_from_slice(data);
        let mut pos = 0;
        let result = loop {
            if pos == input.len() {
                break Ok(());
            }
            self.line_arrived = if pos < earlier { self.input_arrived } else { now };
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
        if pos >= earlier {
            self.input_arrived = now;
        }
        if !data.is_empty() {
            self.timer.heard(now);
        }
        if !self.awaiting() {
            self.timer.idle();
        }
        self.fill_window();
        result.or_else(|e| self.fail(e))
    }

    /// True while the greeting or an answer to a written command is due.
    fn awaiting(&self) -> bool {
        self.failed.is_none() && (self.state == SessionState::Greeting || !self.in_flight.is_empty())
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
        self.timer.idle();
        Err(error)
    }

    fn set_state(&mut self, state: SessionState) {
        if self.state != state {
            self.state = state;
            self.events.push_back(Event::StateChanged(state));
        }
    }

    /// A trace line about the session, stamped now.
    fn note(&mut self, text: &str) {
        if self.config.trace {
            let record = self.record(Direction::Note, text.to_string());
            self.events.push_back(Event::Trace(record));
        }
    }

    /// A record of `text` stamped now, labelled with nothing yet.
    fn record(&self, direction: Direction, text: String) -> TraceRecord {
        TraceRecord {
            at: self.now,
            direction,
            request: None,
            text,
            command: None,
            latency: None,
            batch: None,
            opens_batch: None,
            bytes: None,
            payload: None,
        }
    }

    /// A trace line received for the command `flight` (its status line, a
    /// SASL challenge, a payload's summary): labelled with the command and
    /// its batch. `first` marks an answer's first line, which is stamped
    /// with the arrival of its first byte and carries the latency.
    fn trace_received(&self, flight: &InFlight, text: String, first: bool, bytes: Option<u64>) -> Option<TraceRecord> {
        if !self.config.trace {
            return None;
        }
        let at = if first { self.line_arrived } else { self.now };
        Some(TraceRecord {
            at,
            request: Some(flight.id),
            command: Some(flight.kind),
            latency: if first { flight.latency_at(at) } else { None },
            batch: flight.batch(),
            bytes,
            ..self.record(Direction::Received, text)
        })
    }

    fn push_trace(&mut self, record: Option<TraceRecord>) {
        if let Some(record) = record {
            self.events.push_back(Event::Trace(record));
        }
    }

    /// A trace line about something written, stamped by `take_output`.
    fn trace_write(&mut self, direction: Direction, request: Option<RequestId>, text: String, bytes: Option<u64>) {
        if self.config.trace {
            let command = request.and_then(|id| self.in_flight.iter().rev().find(|f| f.id == id).map(|f| f.kind));
            self.unwritten.push(Unwritten {
                direction,
                request,
                command,
                text,
                bytes,
            });
        }
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
            if self.in_flight.back().is_some_and(|f| f.kind.spec().barrier) {
                return;
            }
            let lane = if self.urgent.is_empty() {
                &mut self.normal
            } else {
                &mut self.urgent
            };
            let Some(next) = lane.front() else { return };
            if next.command.spec().barrier && !self.in_flight.is_empty() {
                return;
            }
            let queued = lane.pop_front().expect("front exists");
            self.send(queued);
        }
    }
}

impl InFlight {
    /// The time from its last line going out to `arrived`, for the first
    /// line of the answer to it.
    fn latency_at(&self, arrived: Instant) -> Option<Duration> {
        self.written.map(|(at, _)| arrived.saturating_duration_since(at))
    }

    fn batch(&self) -> Option<BatchId> {
        self.written.map(|(_, batch)| batch)
    }

    fn new(id: RequestId, kind: CommandKind, body: BodyMode) -> InFlight {
        InFlight {
            id,
            kind,
            body,
            largest: u64::MAX,
            listed_size: None,
            phase: Phase::Status,
            sasl: None,
            deferred_initial: None,
            sasl_error: None,
            reset_before_quit: None,
            unstamped: true,
            written: None,
        }
    }
}

fn outcome_of(status: StatusLine) -> Outcome {
    if status.is_ok() {
        Outcome::Ok(Reply { status, body: None })
    } else {
        Outcome::Err(status)
    }
}

fn codec(during: &str, error: CodecError) -> ProtocolError {
    ProtocolError::Codec {
        error,
        during: during.to_string(),
    }
}
