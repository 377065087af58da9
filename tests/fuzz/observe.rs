//! Watching a `pop3::client::Client` from outside: every event it reports
//! and every error it returns is checked as it comes, and at the end every
//! command must have ended exactly once.
//!
//! What it checks: text is terminal-safe and holds no secret (trace
//! records, statuses, reasons, errors, the Debug of every event); a
//! collected payload is within its bound and says truthfully whether it
//! was cut; a streamed body's size is what its chunks add up to; barriers
//! never share the wire; every line written is traced; and the deletion
//! guard: no QUIT the person did not confirm goes out while a DELE may be
//! held, that is, a DELE was sent and neither refused nor followed by an
//! accepted RSET that was sent after it.

use crate::checks::{line_safe, no_secret, screen_safe};
use crate::engine::Violation;
use popscope::pop3::client::{Body, Command, CommandKind, Direction, Event, Outcome, ProtocolError, RequestId};
use popscope::pop3::command::BodyMode;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Default)]
pub struct Observer {
    /// What each submitted command is, and the most of its answer kept.
    submitted: HashMap<RequestId, (CommandKind, Option<usize>)>,
    completed: BTreeSet<RequestId>,
    streamed: HashMap<RequestId, u64>,
    /// Sent and not yet ended: (kind, is a barrier).
    outstanding: BTreeMap<RequestId, CommandKind>,
    /// DELEs the server may hold.
    held: BTreeSet<RequestId>,
    /// For each RSET sent, the DELEs it unmarks when accepted.
    rset_covers: HashMap<RequestId, BTreeSet<RequestId>>,
    lines_written: usize,
    lines_traced: usize,
    /// The trace is on: sent lines are seen, so the wire rules are checked.
    tracing: bool,
}

/// The most of an answer to `command` kept in memory, when it is kept.
pub fn kept_bound(command: &Command, collect: Option<usize>) -> Option<usize> {
    match (command.spec().body, collect) {
        (BodyMode::Collect { keep, .. }, _) => Some(keep),
        (BodyMode::Stream, Some(bound)) => Some(bound),
        _ => None,
    }
}

impl Observer {
    pub fn new(tracing: bool) -> Observer {
        Observer {
            tracing,
            ..Observer::default()
        }
    }

    pub fn submitted(&mut self, id: RequestId, kind: CommandKind, kept: Option<usize>) {
        self.submitted.insert(id, (kind, kept));
    }

    /// A command withdrawn before it was sent: it never ends.
    pub fn cancelled(&mut self, id: RequestId) {
        self.submitted.remove(&id);
    }

    pub fn written(&mut self, bytes: &[u8]) {
        self.lines_written += bytes.windows(2).filter(|w| w == b"\r\n").count();
    }

    pub fn error(&self, what: &str, error: &ProtocolError) -> Result<(), Violation> {
        let text = error.to_string();
        line_safe(what, &text)?;
        no_secret(what, &text)?;
        no_secret(what, &format!("{error:?}"))
    }

    pub fn event(&mut self, event: &Event) -> Result<(), Violation> {
        no_secret("an event's Debug", &format!("{event:?}"))?;
        match event {
            Event::Greeting(status) | Event::Unsolicited(status) => line_safe("a status line", &status.to_string()),
            Event::Trace(record) => {
                if record.direction == Direction::Received {
                    screen_safe("a trace record", &record.text)?;
                } else {
                    line_safe("a trace record", &record.text)?;
                }
                no_secret("a trace record", &record.text)?;
                if record.direction == Direction::Sent {
                    self.lines_traced += 1;
                    if let Some(id) = record.request {
                        self.sent(id, &record.text)?;
                    }
                }
                Ok(())
            }
            Event::Data { id, chunk } => {
                let kind = self.submitted.get(id).map(|(k, _)| *k);
                check!(
                    matches!(kind, Some(CommandKind::Retr(_))),
                    "data for a command that streams none",
                    "{id}: {kind:?}"
                );
                *self.streamed.entry(*id).or_default() += chunk.len() as u64;
                Ok(())
            }
            Event::Completed { id, command, outcome } => self.completed(*id, *command, outcome),
            Event::StateChanged(_) => Ok(()),
        }
    }

    /// A command line (or a SASL turn of one) went out.
    fn sent(&mut self, id: RequestId, text: &str) -> Result<(), Violation> {
        let kind = match self.submitted.get(&id) {
            Some((kind, _)) => *kind,
            // Not submitted: the RSET the client sends before a QUIT.
            None => {
                check!(text == "RSET", "an unknown command went out", "{id}: {text:?}");
                CommandKind::Rset
            }
        };
        if matches!(kind, CommandKind::Auth(_)) && self.outstanding.contains_key(&id) {
            return Ok(());
        }
        if self.tracing {
            let barrier = kind.spec().barrier || self.outstanding.values().any(|k| k.spec().barrier);
            check!(
                !barrier || self.outstanding.is_empty(),
                "a barrier shares the wire",
                "{kind} went out while {:?} were outstanding",
                self.outstanding
            );
        }
        self.outstanding.insert(id, kind);
        match kind {
            CommandKind::Dele(_) => {
                self.held.insert(id);
            }
            CommandKind::Rset => {
                self.rset_covers.insert(id, self.held.clone());
            }
            CommandKind::Quit { commit: false } => {
                check!(
                    self.held.is_empty(),
                    "an unconfirmed QUIT went out while DELEs may be held",
                    "DELEs {:?} were sent and neither refused nor reset",
                    self.held
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn completed(&mut self, id: RequestId, command: CommandKind, outcome: &Outcome) -> Result<(), Violation> {
        check!(
            self.completed.insert(id),
            "a command ended twice",
            "{id}: {command} {outcome:?}"
        );
        self.outstanding.remove(&id);
        let (kind, kept) = match self.submitted.get(&id) {
            Some(&(kind, kept)) => (kind, kept),
            None => (CommandKind::Rset, None),
        };
        check!(
            kind == command,
            "an answer for another command",
            "{id}: {kind} ended as {command}"
        );
        match (command, outcome) {
            (CommandKind::Dele(_), Outcome::Err(_) | Outcome::NotSent(_)) => {
                self.held.remove(&id);
            }
            (CommandKind::Rset, Outcome::Ok(_)) => {
                for dele in self.rset_covers.remove(&id).unwrap_or_default() {
                    self.held.remove(&dele);
                }
            }
            _ => {}
        }
        self.outcome(id, kept, outcome)
    }

    fn outcome(&self, id: RequestId, kept: Option<usize>, outcome: &Outcome) -> Result<(), Violation> {
        match outcome {
            Outcome::Ok(reply) => {
                line_safe("a reply's status", &reply.status.to_string())?;
                match &reply.body {
                    Some(Body::Collected {
                        bytes,
                        truncated,
                        total_bytes,
                        ..
                    }) => {
                        let bound = kept.unwrap_or(0);
                        check!(
                            bytes.len() <= bound,
                            "a collected answer beyond its bound",
                            "{} bytes kept, bound {bound}",
                            bytes.len()
                        );
                        check!(
                            *truncated == ((bytes.len() as u64) < *total_bytes),
                            "a collected answer lies about being cut",
                            "{} of {total_bytes} bytes, truncated {truncated}",
                            bytes.len()
                        );
                    }
                    Some(Body::Streamed { total_bytes, .. }) => {
                        let got = self.streamed.get(&id).copied().unwrap_or(0);
                        check!(
                            got == *total_bytes,
                            "a streamed answer's size is not its data",
                            "{got} bytes of data, {total_bytes} reported"
                        );
                    }
                    None => {}
                }
                Ok(())
            }
            Outcome::Err(status) => line_safe("a refusal", &status.to_string()),
            Outcome::AuthFailed { error, server } => {
                line_safe("an authentication error", &error.to_string())?;
                no_secret("an authentication error", &error.to_string())?;
                server
                    .as_ref()
                    .map_or(Ok(()), |s| line_safe("an authentication refusal", &s.to_string()))
            }
            Outcome::NotSent(reason) | Outcome::Lost(reason) => line_safe("a reason", reason),
        }
    }

    /// After the connection closed: every command ended, every line
    /// written was traced.
    pub fn finish(&self) -> Result<(), Violation> {
        let open: Vec<&RequestId> = self
            .submitted
            .keys()
            .filter(|id| !self.completed.contains(id))
            .collect();
        check!(open.is_empty(), "commands never ended", "{open:?}");
        if self.tracing {
            check!(
                self.lines_written == self.lines_traced,
                "a line went out untraced",
                "{} lines written, {} traced",
                self.lines_written,
                self.lines_traced
            );
        }
        Ok(())
    }
}
