//! Reading answers: the greeting, status lines, multi-line bodies
//! (collected or streamed), and what each answer does to the session.

use super::{
    Body, Client, Direction, Event, InFlight, Outcome, Payload, Phase, ProtocolError, Reply, SessionState, TraceRecord,
    codec, outcome_of,
};
use crate::pop3::codec::{BodyDecoder, MAX_STATUS_LINE, StatusLine, parse_continuation, parse_status_line, split_line};
use crate::pop3::command::{BodyMode, CommandKind, MAX_CAPA_BYTES};

/// How much of a multi-line payload the trace keeps with its summary line:
/// enough for a TOP's header block or the start of a LIST.
const TRACE_SAMPLE: usize = 2 * 1024;
/// The same with `trace_bodies`.
const MAX_TRACED_BODY: usize = 64 * 1024;

/// Status lines nobody asked for that a session tolerates. RFC 1939 has
/// none but the `-ERR` a server may send before it closes (an autologout);
/// more than a handful is a server flooding us.
const MAX_UNSOLICITED: u32 = 3;

impl Client {
    /// Handles as much of `input` as makes one step of progress; returns the
    /// bytes used (0: need more).
    pub(super) fn step(&mut self, input: &[u8]) -> Result<usize, ProtocolError> {
        if self.state == SessionState::Greeting {
            // A TLS server stays silent or sends an alert record; either way
            // the first bytes are a record header (type, version 3.x).
            if let [0x15 | 0x16, 0x03, ..] = input {
                return Err(ProtocolError::TlsRecordForGreeting);
            }
            let Some((line, used)) = split_line(input, MAX_STATUS_LINE).map_err(|e| codec("the greeting", e))? else {
                return Ok(0);
            };
            let status = parse_status_line(line).map_err(|e| codec("the greeting", e))?;
            if self.config.trace {
                let at = self.line_arrived;
                self.events.push_back(Event::Trace(TraceRecord {
                    at,
                    bytes: Some(used as u64),
                    ..self.record(Direction::Received, status.to_string())
                }));
            }
            if !status.is_ok() {
                return Err(ProtocolError::GreetingRejected(status));
            }
            self.events.push_back(Event::Greeting(status));
            self.set_state(SessionState::Authorization);
            return Ok(used);
        }
        let Some(head) = self.in_flight.front() else {
            return self.unsolicited(input);
        };
        if let Phase::Body { .. } = head.phase {
            return self.body_step(input);
        }
        let during = head.kind.to_string();
        let Some((line, used)) = split_line(input, MAX_STATUS_LINE).map_err(|e| codec(&during, e))? else {
            return Ok(0);
        };
        self.timer.progress(used as u64);
        if head.sasl.is_some()
            && let Some(challenge) = parse_continuation(line)
        {
            let record = self.trace_received(head, "+ <SASL challenge>".to_string(), true, Some(used as u64));
            self.push_trace(record);
            self.sasl_challenge(challenge);
            // The challenge was an answer; the next is to our response.
            self.timer.next_answer(self.now);
            return Ok(used);
        }
        let status = parse_status_line(line).map_err(|e| codec(&during, e))?;
        let record = self.trace_received(head, status.to_string(), true, Some(used as u64));
        self.push_trace(record);
        let head = self.in_flight.front_mut().expect("head exists");
        if status.is_ok() && head.body != BodyMode::None {
            head.phase = Phase::Body {
                decoder: BodyDecoder::new(),
                status,
                kept: Vec::new(),
                sample: Vec::new(),
            };
            return Ok(used);
        }
        let flight = self.in_flight.pop_front().expect("head exists");
        self.finish_status(flight, status);
        self.answer_finished();
        Ok(used)
    }

    /// The answer at the head ended: the next one's clock starts now.
    fn answer_finished(&mut self) {
        if self.awaiting() {
            self.timer.next_answer(self.now);
        }
    }

    fn unsolicited(&mut self, input: &[u8]) -> Result<usize, ProtocolError> {
        let Some((line, used)) =
            split_line(input, MAX_STATUS_LINE).map_err(|e| codec("nothing (no command was pending)", e))?
        else {
            return Ok(0);
        };
        match parse_status_line(line) {
            Ok(status) => {
                self.unsolicited = self.unsolicited.saturating_add(1);
                if self.unsolicited > MAX_UNSOLICITED {
                    return Err(ProtocolError::Unsolicited {
                        count: self.unsolicited,
                        last: status.to_string(),
                    });
                }
                if self.config.trace {
                    let at = self.line_arrived;
                    self.events.push_back(Event::Trace(TraceRecord {
                        at,
                        bytes: Some(used as u64),
                        ..self.record(Direction::Received, status.to_string())
                    }));
                }
                self.events.push_back(Event::Unsolicited(status));
                Ok(used)
            }
            Err(_) => Err(ProtocolError::Unexpected(crate::pop3::codec::excerpt(line))),
        }
    }

    fn body_step(&mut self, input: &[u8]) -> Result<usize, ProtocolError> {
        let sample_limit = self.sample_limit();
        let head = self.in_flight.front_mut().expect("head exists");
        let id = head.id;
        let (mode, largest) = (head.body, head.largest);
        let Phase::Body {
            decoder, kept, sample, ..
        } = &mut head.phase
        else {
            unreachable!("body_step is only called in the body phase")
        };
        let mut chunk = Vec::new();
        let (used, done) = decoder.decode(input, &mut chunk);
        if decoder.bytes() > largest {
            return Err(ProtocolError::AnswerTooLong {
                command: head.kind.to_string(),
                largest,
                listed_size: head.listed_size,
            });
        }
        let room = sample_limit(head.kind).saturating_sub(sample.len());
        sample.extend_from_slice(&chunk[..chunk.len().min(room)]);
        match mode {
            BodyMode::Collect { keep, .. } => {
                let room = keep.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            BodyMode::Stream if !chunk.is_empty() => {
                self.events.push_back(Event::Data { id, chunk });
            }
            _ => {}
        }
        self.timer.progress(used as u64);
        if done {
            let flight = self.in_flight.pop_front().expect("head exists");
            self.finish_body(flight);
            self.answer_finished();
        }
        Ok(used)
    }

    /// How much of a payload the trace keeps, by command (none without a
    /// trace).
    fn sample_limit(&self) -> impl Fn(CommandKind) -> usize + use<> {
        let (trace, bodies) = (self.config.trace, self.config.trace_bodies);
        move |kind| match kind {
            _ if !trace => 0,
            CommandKind::Capa => MAX_CAPA_BYTES,
            _ if bodies => MAX_TRACED_BODY,
            _ => TRACE_SAMPLE,
        }
    }

    fn finish_body(&mut self, mut flight: InFlight) {
        let Phase::Body {
            decoder,
            status,
            kept,
            sample,
        } = std::mem::replace(&mut flight.phase, Phase::Status)
        else {
            unreachable!("finish_body is only called in the body phase")
        };
        let (lines, total_bytes) = (decoder.lines(), decoder.bytes());
        let record = self
            .trace_received(
                &flight,
                format!("<{lines} lines, {total_bytes} bytes>"),
                false,
                Some(total_bytes),
            )
            .map(|r| TraceRecord {
                payload: Some(Payload::new(sample, lines, total_bytes)),
                ..r
            });
        self.push_trace(record);
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
}
