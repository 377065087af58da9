//! AUTH (RFC 5034): the command line with its initial response, the
//! challenge/response turns, and what the final status means. The trace
//! shows SASL lines only as sizes (the `Sasl` redaction of the command
//! table), and a line that carries the password or token without one.

use super::{Client, InFlight, Outcome, SessionState, outcome_of};
use crate::pop3::auth::{AuthError, SaslExchange};
use crate::pop3::codec::{CodecError, StatusLine};
use crate::pop3::command::{CommandKind, Line, MAX_COMMAND_LINE};
use base64::Engine;

impl InFlight {
    /// The AUTH line for `exchange`, which this command now owns. An
    /// initial response too long for the line waits for the first (empty)
    /// challenge instead (RFC 5034 §4).
    pub(super) fn start_sasl(&mut self, mut exchange: Box<SaslExchange>) -> Line {
        let mechanism = exchange.mechanism();
        let bare = format!("{} {}", CommandKind::Auth(mechanism).spec().verb, mechanism.name());
        let initial = exchange.initial_response();
        let secret = exchange.last_message_carries_secret();
        self.sasl = Some(exchange);
        let Some(raw) = initial else {
            return Line {
                wire: bare.clone().into_bytes(),
                shown: bare,
            };
        };
        // RFC 5034 §4: "=" is an empty initial response.
        let encoded = if raw.is_empty() {
            "=".to_string()
        } else {
            encode_sasl(&raw)
        };
        if bare.len() + 1 + encoded.len() + 2 <= MAX_COMMAND_LINE {
            // The size of a secret would give away its length.
            let shown = if secret {
                format!("{bare} ********")
            } else {
                format!("{bare} ******** ({} bytes)", encoded.len())
            };
            Line {
                wire: format!("{bare} {encoded}").into_bytes(),
                shown,
            }
        } else {
            self.deferred_initial = Some((raw, secret));
            Line {
                wire: bare.clone().into_bytes(),
                shown: bare,
            }
        }
    }
}

impl Client {
    /// A `+ ...` line while AUTH is the command at the head.
    pub(super) fn sasl_challenge(&mut self, challenge: Result<Vec<u8>, CodecError>) {
        let head = self.in_flight.front_mut().expect("head exists");
        let id = head.id;
        let answer = match challenge {
            Ok(raw) if raw.is_empty() && head.deferred_initial.is_some() => {
                Ok(head.deferred_initial.take().expect("checked"))
            }
            Ok(raw) => {
                let exchange = head.sasl.as_mut().expect("sasl exchange present");
                exchange
                    .respond(&raw)
                    .map(|reply| (reply, exchange.last_message_carries_secret()))
            }
            Err(e) => Err(AuthError::MalformedChallenge(e.to_string())),
        };
        let line = match answer {
            Ok((raw, secret)) => {
                let encoded = encode_sasl(&raw);
                let shown = if secret {
                    "<SASL response>".to_string()
                } else {
                    format!("<SASL response, {} bytes>", encoded.len())
                };
                Line {
                    shown,
                    wire: encoded.into_bytes(),
                }
            }
            Err(error) => {
                head.sasl_error = Some(error);
                Line {
                    wire: b"*".to_vec(),
                    shown: "* (cancelling the SASL exchange)".to_string(),
                }
            }
        };
        self.write_line(id, line);
        self.in_flight.front_mut().expect("head exists").unstamped = true;
    }

    /// The status line that ends an AUTH exchange.
    pub(super) fn finish_auth(&mut self, flight: &mut InFlight, status: StatusLine) -> Outcome {
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
}

/// A continuation answer; an empty one is an empty line (RFC 5034 §4).
fn encode_sasl(raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw)
}
