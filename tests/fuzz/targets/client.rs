//! `pop3::client::Client`: a script (see `script.rs`) of submitted
//! commands, server bytes, windows, ticks, STLS handshakes, cancels and
//! closes, played against the state machine.
//!
//! Invariants (checked by `observe.rs` as events come): no panic; every
//! trace record, status, reason and error is terminal-safe and holds no
//! secret, nor does the Debug of any event or error; collected answers
//! stay within their bound and say truthfully whether they were cut; a
//! streamed body's size is the sum of its chunks; a barrier (STLS, AUTH,
//! QUIT, …) never shares the wire; every written line is traced; every
//! command ends exactly once; and the deletion guard: no unconfirmed QUIT
//! goes out after a possibly-held DELE without an accepted RSET. Here:
//! the server's bytes cut at points the input decides give the same
//! replies, data and first error as the same bytes whole.

use crate::checks::{PASSWORD, TOKEN, cut_points, fnv, pieces};
use crate::engine::{Probe, Target, Violation};
use crate::observe::{Observer, kept_bound};
use crate::script::{self, Action, Script, Submit, Tracing};
use popscope::pop3::auth::{Mechanism, SaslExchange, apop_digest};
use popscope::pop3::client::{Client, ClientConfig, Delivery, Event, Outcome, Priority, ProtocolError, RequestId};
use popscope::pop3::command::Command;
use popscope::secret::Secret;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const TARGET: Target = Target {
    name: "client",
    max_len: 4096,
    dictionary: &[
        b"@ window=4 trace=on\n",
        b"@ window=1 trace=bodies timeout=5\n",
        b"< +OK ready <1.2@host>\n",
        b"< +OK\n",
        b"< -ERR no\n",
        b"< +OK 2 messages\n",
        b"< .\n",
        b"<< +OK\\r\\n1 120\\r\\n.\\r\\n\n",
        b"< + \n",
        b"< + dXNlcg==\n",
        b"> USER alice\n",
        b"> PASS\n",
        b"> APOP\n",
        b"> AUTH PLAIN\n",
        b"> AUTH LOGIN\n",
        b"> AUTH CRAM-MD5\n",
        b"> AUTH SCRAM-SHA-256\n",
        b"> AUTH XOAUTH2\n",
        b"> AUTH OAUTHBEARER\n",
        b"> CAPA\n",
        b"> STLS\n",
        b"> STAT\n",
        b"> LIST\n",
        b"> UIDL 1\n",
        b"> TOP 1 0\n",
        b"> RETR 1\n",
        b">! RETR 2 64\n",
        b"> DELE 1\n",
        b"> RSET\n",
        b"> NOOP\n",
        b"> QUIT\n",
        b"> QUIT!\n",
        b"tick 31000\n",
        b"tls\n",
        b"resume\n",
        b"cancel 3\n",
        b"window 8\n",
        b"close\n",
    ],
    seeds: || Vec::new(),
    run,
};

/// What a play showed, for comparing whole and chunked server bytes
/// (trace records aside: their grouping may follow the reads).
#[derive(Debug, PartialEq)]
struct Transcript {
    events: Vec<Event>,
    data: BTreeMap<RequestId, Vec<u8>>,
    first_error: Option<String>,
    /// A line came that nothing awaited. Whether a command went out before
    /// it depends on where the reads ended (the client sends what it
    /// queued after each read), so such a play may read either way.
    unasked: bool,
}

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let script = script::parse(input);
    let whole = play(&script, None, probe)?;
    let chunked = play(&script, Some(input), probe)?;
    check!(
        whole.unasked || chunked.unasked || whole == chunked,
        "chunked server bytes read differently",
        "whole: {whole:?}\nchunked: {chunked:?}"
    );
    Ok(())
}

/// One play of the script; with `cut_seed`, each server send is cut into
/// pieces at points decided by it.
fn play(script: &Script, cut_seed: Option<&[u8]>, probe: &mut Probe) -> Result<Transcript, Violation> {
    let start = Instant::now();
    let mut now = start;
    let config = ClientConfig {
        window: script.settings.window,
        trace: script.settings.tracing != Tracing::Off,
        trace_bodies: script.settings.tracing == Tracing::Bodies,
        answer_timeout: Duration::from_secs(script.settings.timeout_secs),
    };
    let mut player = Player {
        client: Client::new(config, start),
        observer: Observer::new(script.settings.tracing != Tracing::Off),
        transcript: Transcript {
            events: Vec::new(),
            data: BTreeMap::new(),
            first_error: None,
            unasked: false,
        },
        greeting: "<1.2@host>".to_string(),
    };
    for (step, action) in script.actions.iter().enumerate() {
        match action {
            Action::Submit { command, urgent } => player.submit(command, *urgent, probe)?,
            Action::Server(bytes) => {
                let cuts = match cut_seed {
                    Some(seed) => cut_points(&[seed, &step.to_le_bytes()].concat(), bytes.len()),
                    None => Vec::new(),
                };
                for piece in pieces(bytes, &cuts) {
                    let result = player.client.receive(now, piece);
                    player.outcome("receive", result)?;
                    player.drain(now)?;
                }
            }
            Action::Tick(ms) => {
                now += Duration::from_millis(*ms);
                let result = player.client.handle_timeout(now);
                player.outcome("a timeout", result)?;
            }
            Action::Tls => player.client.tls_established(now),
            Action::Resume => player.client.reading_resumed(now, now),
            Action::Cancel(id) => {
                if player.client.cancel(*id) {
                    player.observer.cancelled(*id);
                }
            }
            Action::Window(window) => player.client.set_window(*window),
            Action::Close => {
                let result = player.client.connection_closed();
                player.outcome("a close", result)?;
            }
        }
        probe.hit((
            "after",
            std::mem::discriminant(action),
            format!("{:?}", player.client.state()),
        ));
        player.drain(now)?;
    }
    let result = player.client.connection_closed();
    player.outcome("the final close", result)?;
    player.drain(now)?;
    player.observer.finish()?;
    Ok(player.transcript)
}

struct Player {
    client: Client,
    observer: Observer,
    transcript: Transcript,
    greeting: String,
}

impl Player {
    fn submit(&mut self, submit: &Submit, urgent: bool, probe: &mut Probe) -> Result<(), Violation> {
        let (command, delivery) = match command_for(submit, &self.greeting) {
            Ok(made) => made,
            Err(e) => {
                probe.hit(("sasl refused", std::mem::discriminant(&e)));
                let text = e.to_string();
                crate::checks::line_safe("a SASL setup error", &text)?;
                return crate::checks::no_secret("a SASL setup error", &format!("{text} {e:?}"));
            }
        };
        let kind = command.kind();
        let collect = match delivery {
            Delivery::Collect(bound) => Some(bound),
            Delivery::Stream => None,
        };
        let kept = kept_bound(&command, collect);
        crate::checks::no_secret("a command's Debug", &format!("{command:?}"))?;
        let priority = if urgent { Priority::Urgent } else { Priority::Normal };
        match self.client.submit_with(command, priority, delivery) {
            Ok(id) => {
                self.observer.submitted(id, kind, kept);
                probe.hit((
                    "submitted",
                    std::mem::discriminant(&kind),
                    self.client.in_flight().min(4),
                ));
            }
            Err(invalid) => probe.hit(("invalid", invalid.0)),
        }
        Ok(())
    }

    /// A call's error: checked, and the first one kept for the transcript.
    fn outcome(&mut self, what: &str, result: Result<(), ProtocolError>) -> Result<(), Violation> {
        let Err(error) = result else { return Ok(()) };
        self.observer.error(what, &error)?;
        self.transcript.unasked |= matches!(error, ProtocolError::Unexpected(_));
        if self.transcript.first_error.is_none() {
            self.transcript.first_error = Some(error_key(&error));
        }
        Ok(())
    }

    /// Takes the output and every event, checking each.
    fn drain(&mut self, now: Instant) -> Result<(), Violation> {
        let output = self.client.take_output(now);
        self.observer.written(&output);
        while let Some(event) = self.client.poll_event() {
            self.observer.event(&event)?;
            match event {
                Event::Trace(_) => {}
                Event::Data { id, chunk } => self.transcript.data.entry(id).or_default().extend(chunk),
                Event::Greeting(status) => {
                    if let Some(stamp) = popscope::pop3::auth::apop_timestamp(&status.text) {
                        self.greeting = stamp;
                    }
                    self.transcript.events.push(Event::Greeting(status));
                }
                Event::Completed {
                    id,
                    command,
                    outcome: Outcome::NotSent(reason),
                } => self.transcript.events.push(Event::Completed {
                    id,
                    command,
                    outcome: Outcome::NotSent(reason_key(reason)),
                }),
                Event::Completed {
                    id,
                    command,
                    outcome: Outcome::Lost(reason),
                } => self.transcript.events.push(Event::Completed {
                    id,
                    command,
                    outcome: Outcome::Lost(reason_key(reason)),
                }),
                other => {
                    self.transcript.unasked |= matches!(other, Event::Unsolicited(_));
                    self.transcript.events.push(other);
                }
            }
        }
        Ok(())
    }
}

/// An error as whole and chunked reads must agree on it: how many bytes
/// came after an accepted STLS depends on how they were read.
fn error_key(error: &ProtocolError) -> String {
    match error {
        ProtocolError::DataAfterStls(_) => "data after STLS".to_string(),
        other => other.to_string(),
    }
}

/// A reason as whole and chunked reads must agree on it (see [`error_key`]).
fn reason_key(reason: String) -> String {
    if reason.contains("after accepting STLS") {
        "data after STLS".to_string()
    } else {
        reason
    }
}

fn command_for(submit: &Submit, timestamp: &str) -> Result<(Command, Delivery), popscope::pop3::auth::AuthError> {
    let command = match submit {
        Submit::User(name) => Command::User(name.clone()),
        Submit::Pass => Command::Pass(Secret::new(PASSWORD)),
        Submit::Apop => Command::Apop {
            user: "alice".to_string(),
            digest: apop_digest(timestamp, PASSWORD.as_bytes()),
        },
        Submit::Auth(mechanism) => {
            let secret = match mechanism {
                Mechanism::XOAuth2 | Mechanism::OAuthBearer => TOKEN,
                _ => PASSWORD,
            };
            let nonce = format!("{:016x}", fnv(mechanism.name().as_bytes()));
            let exchange = SaslExchange::new(*mechanism, "alice", secret.as_bytes(), &nonce, "pop.example.com", 110)?;
            Command::Auth(Box::new(exchange))
        }
        Submit::Capa => Command::Capa,
        Submit::Stls => Command::Stls,
        Submit::Stat => Command::Stat,
        Submit::List(n) => Command::List(*n),
        Submit::Uidl(n) => Command::Uidl(*n),
        Submit::Top(msg, lines) => Command::Top {
            msg: *msg,
            lines: *lines,
        },
        Submit::Retr(msg, Some(bound)) => {
            return Ok((
                Command::Retr {
                    msg: *msg,
                    listed_size: None,
                },
                Delivery::Collect((*bound).min(1 << 20)),
            ));
        }
        Submit::Retr(msg, None) => Command::Retr {
            msg: *msg,
            listed_size: None,
        },
        Submit::Dele(msg) => Command::Dele(*msg),
        Submit::Rset => Command::Rset,
        Submit::Noop => Command::Noop,
        Submit::Quit { commit } => Command::Quit { commit: *commit },
    };
    Ok((command, Delivery::Stream))
}
