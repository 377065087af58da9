//! Reading answers: the greeting, status lines, multi-line bodies
//! (collected or streamed), and what each answer does to the session.

use super::{
    Body, Client, Direction, Event, InFlight, Outcome, Phase, ProtocolError, Reply, SessionState, codec, outcome_of,
};
use crate::pop3::codec::{BodyDecoder, MAX_STATUS_LINE, StatusLine, parse_continuation, parse_status_line, split_line};
use crate::pop3::command::{BodyMode, CommandKind};
use crate::sanitize::sanitize_bytes;

/// How much of one multi-line payload `trace_bodies` copies into the trace.
const MAX_TRACED_BODY: usize = 64 * 1024;

impl Client {
    /// Handles as much of `input` as makes one step of progress; returns the
    /// bytes used (0: need more).
    pub(super) fn step(&mut self, input: &[u8]) -> Result<usize, ProtocolError> {
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
        let (latency, batch) = head.answered_at(self.now);
        self.trace_answer(Direction::Received, Some(id), status.to_string(), latency, batch);
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
            Err(_) => Err(ProtocolError::Unexpected(crate::pop3::codec::excerpt(line))),
        }
    }

    fn body_step(&mut self, input: &[u8]) -> usize {
        let trace_bodies = self.config.trace_bodies && self.config.trace;
        let head = self.in_flight.front_mut().expect("head exists");
        let (id, batch) = (head.id, head.batch());
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
            self.trace_answer(Direction::Received, Some(id), text, None, batch);
        }
        if done {
            let flight = self.in_flight.pop_front().expect("head exists");
            self.finish_body(flight);
        }
        used
    }

    fn finish_body(&mut self, flight: InFlight) {
        let batch = flight.batch();
        let Phase::Body {
            decoder, status, kept, ..
        } = flight.phase
        else {
            unreachable!("finish_body is only called in the body phase")
        };
        let (lines, total_bytes) = (decoder.lines(), decoder.bytes());
        self.trace_answer(
            Direction::Received,
            Some(flight.id),
            format!("<{lines} lines, {total_bytes} bytes>"),
            None,
            batch,
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
}
