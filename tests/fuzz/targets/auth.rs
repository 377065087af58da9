//! `pop3::auth`: the SASL exchanges against an honest (or impostor, or
//! garbled) server, the APOP timestamp, and the mechanism policy.
//!
//! Invariants: no error, no Debug output and no OAuth error detail holds a
//! secret, and each is a terminal-safe line; SCRAM and CRAM-MD5 never send
//! the password; a SCRAM client's proof verifies at a server that knows
//! the password, and SCRAM finishes only when the server proved it knows
//! it (and always does then, when nothing was garbled); CRAM-MD5, LOGIN
//! and PLAIN answer exactly what their RFCs say; an APOP timestamp is a
//! `<…@…>` token of the greeting; the policy never sends a secret in the
//! clear unless allowed, never picks a mechanism for the wrong credential,
//! and honours `--auth`.

use crate::checks::{PASSWORD, TOKEN, line_safe, no_secret};
use crate::engine::{Probe, Target, Violation};
use crate::sasl_server::{ScramServer, cram_md5_answer};
use crate::tape::Tape;
use popscope::pop3::auth::{
    AuthError, CredentialKind, LoginFacts, MAX_APOP_TIMESTAMP_LEN, Mechanism, Offered, SaslExchange, apop_digest,
    apop_timestamp, choose_login,
};

pub const TARGET: Target = Target {
    name: "auth",
    max_len: 1024,
    dictionary: &[
        b"<1896.697170952@dbc.mtview.ca.us>",
        b"<@>",
        b"<a@b>",
        b"{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.example/\"}",
        b"\xe2\x80\xae",
        b"e=invalid-proof",
        b"m=ext",
    ],
    seeds: || Vec::new(),
    run,
};

const SASL: [Mechanism; 7] = [
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::CramMd5,
    Mechanism::ScramSha1,
    Mechanism::ScramSha256,
    Mechanism::XOAuth2,
    Mechanism::OAuthBearer,
];

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let mut tape = Tape::new(input);
    policy(&mut tape, probe)?;
    apop(&mut tape, probe)?;
    exchange(&mut tape, probe)
}

fn policy(tape: &mut Tape, probe: &mut Probe) -> Result<(), Violation> {
    let names = [
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "XOAUTH2",
        "OAUTHBEARER",
        "X",
    ];
    let sasl: Vec<String> = names
        .iter()
        .filter(|_| tape.chance(40))
        .map(|n| n.to_string())
        .collect();
    let credential = *tape.pick(&[CredentialKind::Password, CredentialKind::OAuthToken]);
    let offered = if tape.chance(20) {
        Offered::Unknown
    } else {
        Offered::Listed {
            sasl: &sasl,
            user: tape.chance(50),
        }
    };
    let facts = LoginFacts {
        credential,
        offered,
        apop_timestamp: tape.chance(50),
        encrypted: tape.chance(50),
        allow_plaintext: tape.chance(30),
        forced: tape.chance(30).then(|| *tape.pick(&Mechanism::ALL)),
        refused: None,
    };
    let chosen = choose_login(&facts);
    probe.hit(("policy", chosen.ok(), facts.forced.is_some()));
    match chosen {
        Ok(m) => {
            check!(
                facts.encrypted || facts.allow_plaintext || !m.sends_secret_in_clear(),
                "the policy sends a secret in the clear",
                "{m:?} for {facts:?}"
            );
            check!(
                m.uses_oauth_token() == (credential == CredentialKind::OAuthToken),
                "the policy picks a mechanism for the other credential",
                "{m:?} for {facts:?}"
            );
            check!(
                facts.forced.is_none_or(|f| f == m),
                "the policy ignores --auth",
                "{m:?} for {facts:?}"
            );
            check!(
                m != Mechanism::Apop || facts.apop_timestamp,
                "APOP without a timestamp",
                "{facts:?}"
            );
        }
        Err(refusal) => line_safe("policy refusal", &refusal.to_string())?,
    }
    Ok(())
}

fn apop(tape: &mut Tape, probe: &mut Probe) -> Result<(), Violation> {
    let greeting = String::from_utf8_lossy(tape.bytes(255)).into_owned();
    let Some(timestamp) = apop_timestamp(&greeting) else {
        return Ok(());
    };
    probe.hit("apop timestamp");
    let inner = timestamp
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or_default();
    let at = inner.find('@');
    check!(
        greeting.contains(&timestamp)
            && timestamp.len() <= MAX_APOP_TIMESTAMP_LEN
            && inner.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
            && at.is_some_and(|at| at > 0 && at + 1 < inner.len()),
        "an APOP timestamp that is not a <…@…> token of the greeting",
        "{timestamp:?} from {greeting:?}"
    );
    let digest = apop_digest(&timestamp, PASSWORD.as_bytes());
    check!(
        digest.len() == 32 && digest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "an APOP digest that is not 32 hex digits",
        "{digest:?}"
    );
    Ok(())
}

fn error_safe(what: &str, error: &AuthError) -> Result<(), Violation> {
    let text = error.to_string();
    line_safe(what, &text)?;
    no_secret(what, &text)?;
    no_secret(what, &format!("{error:?}"))
}

/// What the server does next, as the tape says.
enum Garble {
    None,
    FlipByte(usize, u8),
    Replace(Vec<u8>),
}

fn garble(tape: &mut Tape) -> Garble {
    match tape.below(20) {
        0 => Garble::FlipByte(tape.below(256), 1 << tape.below(8)),
        1 => Garble::Replace(tape.bytes(64).to_vec()),
        _ => Garble::None,
    }
}

fn apply(garble: &Garble, mut challenge: Vec<u8>) -> Vec<u8> {
    match garble {
        Garble::None => challenge,
        Garble::FlipByte(at, bit) => {
            if !challenge.is_empty() {
                let at = at % challenge.len();
                challenge[at] ^= bit;
            }
            challenge
        }
        Garble::Replace(bytes) => bytes.clone(),
    }
}

fn exchange(tape: &mut Tape, probe: &mut Probe) -> Result<(), Violation> {
    let mechanism = *tape.pick(&SASL);
    let user = *tape.pick(&["alice", "alice", "a,b=c", "", "\u{1}x", "j\u{fc}rgen", "x\0y"]);
    let secret = if mechanism.uses_oauth_token() == tape.chance(90) {
        TOKEN
    } else {
        PASSWORD
    };
    let nonce = *tape.pick(&["rOprNGfwEbeRWgbNEkqO", "rOprNGfwEbeRWgbNEkqO", "", "a,b"]);
    let host = *tape.pick(&["mail.example", "", "h\u{1}"]);
    let mut exchange = match SaslExchange::new(mechanism, user, secret.as_bytes(), nonce, host, 995) {
        Ok(x) => x,
        Err(e) => return error_safe("SaslExchange::new error", &e),
    };
    let mut server = Server {
        mechanism,
        user,
        secret,
        honest: true,
        scram: None,
        turns: 0,
    };
    let mut last = exchange.initial_response();
    let mut cut_short = false;
    loop {
        no_secret("SaslExchange Debug", &format!("{exchange:?}"))?;
        if let Some(answer) = &last {
            server.check_answer(answer)?;
        }
        if tape.chance(5) {
            cut_short = true;
            break;
        }
        let honest = server.next_challenge(tape, last.as_deref())?;
        let garble = garble(tape);
        let challenge = match (honest, &garble) {
            (None, Garble::None) => break,
            (honest, garble) => apply(garble, honest.unwrap_or_default()),
        };
        server.honest &= matches!(garble, Garble::None);
        server.turns += 1;
        match exchange.respond(&challenge) {
            Ok(answer) => last = Some(answer),
            Err(e) => {
                probe.hit(("exchange error", std::mem::discriminant(&e)));
                error_safe("SASL error", &e)?;
                check!(
                    !server.honest,
                    "the client refused an honest server",
                    "{mechanism:?} turn {}: {e}",
                    server.turns
                );
                return Ok(());
            }
        }
    }
    if let Some(detail) = exchange.server_error_detail() {
        probe.hit("oauth error detail");
        line_safe("OAuth error detail", detail)?;
        no_secret("OAuth error detail", detail)?;
    }
    let verdict = exchange.finish();
    probe.hit(("finish", mechanism, verdict.is_ok(), server.turns, cut_short));
    if let Err(e) = &verdict {
        error_safe("finish error", e)?;
    }
    check!(
        verdict.is_ok() || cut_short || !server.honest,
        "an exchange with an honest server did not finish",
        "{mechanism:?} after {} turns: {verdict:?}",
        server.turns
    );
    check!(
        verdict.is_err() || !server.is_scram() || (server.honest && server.turns >= 2),
        "SCRAM finished without the server's proof",
        "after {} turns, honest {}",
        server.turns,
        server.honest
    );
    Ok(())
}

/// The server's side of one exchange: what an honest server sends, and
/// whether this one stayed honest (knew the password, garbled nothing).
struct Server {
    mechanism: Mechanism,
    user: &'static str,
    secret: &'static str,
    honest: bool,
    scram: Option<ScramServer>,
    /// Challenges sent so far.
    turns: usize,
}

impl Server {
    fn is_scram(&self) -> bool {
        matches!(self.mechanism, Mechanism::ScramSha1 | Mechanism::ScramSha256)
    }

    /// Checks the client's latest answer against what its RFC says.
    fn check_answer(&self, answer: &[u8]) -> Result<(), Violation> {
        let shown = String::from_utf8_lossy(answer);
        if self.is_scram() || self.mechanism == Mechanism::CramMd5 {
            no_secret("a SCRAM or CRAM-MD5 answer", &shown)?;
        }
        if !self.honest {
            return Ok(());
        }
        let secret = self.secret.as_bytes();
        let want = match (self.mechanism, self.turns) {
            (Mechanism::Plain, 0) => [b"\0", self.user.as_bytes(), b"\0", secret].concat(),
            (Mechanism::Login, 1) => self.user.as_bytes().to_vec(),
            (Mechanism::Login, 2) => secret.to_vec(),
            (Mechanism::CramMd5, 1) => cram_md5_answer(self.user, secret, CRAM_CHALLENGE),
            (Mechanism::XOAuth2 | Mechanism::OAuthBearer, 1) => {
                let bearer = [b"auth=Bearer ", secret, b"\x01\x01"].concat();
                check!(
                    answer.ends_with(&bearer),
                    "an OAuth message without its bearer token",
                    "{shown:?}"
                );
                return Ok(());
            }
            _ => return Ok(()),
        };
        check!(
            answer == want,
            "an answer other than the RFC's",
            "{:?} turn {}: {shown:?}",
            self.mechanism,
            self.turns
        );
        Ok(())
    }

    /// The next honest challenge; `None` when an honest server says +OK.
    fn next_challenge(&mut self, tape: &mut Tape, last: Option<&[u8]>) -> Result<Option<Vec<u8>>, Violation> {
        Ok(match (self.mechanism, self.turns) {
            (Mechanism::Login, 0) => Some(b"Username:".to_vec()),
            (Mechanism::Login, 1) => Some(b"Password:".to_vec()),
            (Mechanism::CramMd5, 0) => Some(CRAM_CHALLENGE.to_vec()),
            (Mechanism::XOAuth2 | Mechanism::OAuthBearer, 0) => Some(Vec::new()),
            // The token was refused: the error JSON (RFC 7628 §3.2.2).
            (Mechanism::XOAuth2 | Mechanism::OAuthBearer, 1) if tape.chance(50) => {
                Some(br#"{"status":"401","schemes":"bearer"}"#.to_vec())
            }
            (m, 0) if self.is_scram() => {
                let knows = tape.chance(80);
                self.honest &= knows;
                let password = if knows { self.secret } else { "impostor" };
                let iterations = 1 + tape.below(64) as u32;
                let first = last.unwrap_or_default();
                let Some(server) =
                    ScramServer::start(m, password.as_bytes(), first, "3rfcNHYJY1ZVvWVs7j", b"NaCl", iterations)
                else {
                    return Err(Violation::new(
                        "a malformed SCRAM client-first-message",
                        format!("{first:?}"),
                    ));
                };
                let server_first = server.server_first().as_bytes().to_vec();
                self.scram = Some(server);
                Some(server_first)
            }
            (_, 1) if self.is_scram() => {
                let server = self.scram.as_ref().expect("started at turn 0");
                let sent = last.unwrap_or_default();
                if self.honest {
                    server
                        .check_proof(sent)
                        .map_err(|e| Violation::new("the SCRAM client's proof does not verify", e))?;
                }
                server.server_final(sent).ok().map(String::into_bytes)
            }
            _ => None,
        })
    }
}

const CRAM_CHALLENGE: &[u8] = b"<1896.697170952@postoffice.example.net>";
