//! Logging in: which mechanism (the policy in `pop3::auth::choose_login`
//! applied to this session, its refusals in words a person can act on), the
//! exchange itself, what its answer means, and one fallback when an
//! automatically chosen APOP or CRAM-MD5 is refused.

use super::config::SessionConfig;
use super::handle::Session;
use super::login::ConnectReport;
use crate::error::{Failure, FailureKind};
use crate::pop3::auth::{
    LoginFacts, Mechanism, MechanismRefusal, Offered, SaslExchange, apop_digest, apop_timestamp, choose_login,
};
use crate::pop3::client::{Command, Outcome};
use crate::pop3::codec::{ResponseCode, StatusLine};
use crate::pop3::response::Capabilities;

/// Logs in with the mechanism the policy picks (recorded in `report` as
/// soon as it is known); returns it.
///
/// APOP (chosen for any timestamp in the greeting) and CRAM-MD5 are refused
/// by servers that print the one or list the other and do not mean it:
/// when the server refuses an automatically chosen one and another
/// permitted mechanism remains, the person is told (a warning) and that one
/// is tried. Once only, never for a forced mechanism, and never for a
/// refusal that is not about the credentials (a locked maildrop): servers
/// lock accounts or slow down after failed logins.
pub(super) async fn authenticate(
    session: &Session,
    config: &SessionConfig,
    greeting: &StatusLine,
    report: &mut ConnectReport,
) -> Result<Mechanism, Failure> {
    let caps = report.capa_before.clone();
    let encrypted = report.tls.is_some();
    let pick = |refused| pick_mechanism(config, caps.as_ref(), greeting, encrypted, refused);
    let mut mechanism = pick(None)?;
    report.mechanism = Some(mechanism);
    let mut outcome = send_login(session, config, mechanism, greeting).await?;
    if let Outcome::Err(status) = &outcome
        && config.mechanism.is_none()
        && matches!(mechanism, Mechanism::Apop | Mechanism::CramMd5)
        && matches!(status.code, None | Some(ResponseCode::Auth))
        && let Ok(next) = pick(Some(mechanism))
    {
        report.warnings.push(format!(
            "the server refused {mechanism} ({status}); logging in with {next} instead (one retry)"
        ));
        mechanism = next;
        report.mechanism = Some(mechanism);
        outcome = send_login(session, config, mechanism, greeting).await?;
    }
    judge_login(session, mechanism, outcome).await?;
    Ok(mechanism)
}

/// The mechanism policy (`pop3::auth::choose_login`) applied to this
/// session, its refusals in words a person can act on.
fn pick_mechanism(
    config: &SessionConfig,
    caps: Option<&Capabilities>,
    greeting: &StatusLine,
    encrypted: bool,
    refused: Option<Mechanism>,
) -> Result<Mechanism, Failure> {
    let sasl = caps.map(|c| c.sasl_list()).unwrap_or_default();
    let facts = LoginFacts {
        credential: config.credential.kind(),
        offered: match caps {
            Some(c) => Offered::Listed {
                sasl: &sasl,
                user: c.user,
            },
            None => Offered::Unknown,
        },
        apop_timestamp: apop_timestamp(&greeting.text).is_some(),
        encrypted,
        allow_plaintext: config.allow_plaintext,
        forced: config.mechanism,
        refused,
    };
    choose_login(&facts).map_err(|refusal| {
        let failure = |kind| Failure::new(kind, refusal.to_string());
        match refusal {
            MechanismRefusal::NoneUsable => failure(FailureKind::Auth)
                .with_hint("run `popscope check` to see what the server offers, then pick one with --auth"),
            MechanismRefusal::NoApopTimestamp => {
                failure(FailureKind::Auth).with_hint("choose another mechanism with --auth")
            }
            MechanismRefusal::NotOffered(_) => Failure::new(
                FailureKind::Auth,
                format!("{refusal}; it offers {}", offered_mechanisms(caps, greeting)),
            )
            .with_hint("choose one of those with --auth, or leave --auth out to let popscope choose"),
            MechanismRefusal::NeedsPassword(_) | MechanismRefusal::NeedsToken(_) => failure(FailureKind::Usage),
            MechanismRefusal::SecretInClear(_) => failure(FailureKind::Policy).with_hint(
                "use pop3s:// or STLS; or, if you accept that anyone on the path can read it, pass --allow-plaintext",
            ),
        }
    })
}

/// What the server offers to log in with, in words: CAPA's SASL list, USER
/// if listed, APOP if the greeting has a timestamp.
fn offered_mechanisms(caps: Option<&Capabilities>, greeting: &StatusLine) -> String {
    let mut names: Vec<String> = caps.map(|c| c.sasl_list()).unwrap_or_default();
    if caps.is_some_and(|c| c.user) {
        names.push("USER".into());
    }
    if apop_timestamp(&greeting.text).is_some() {
        names.push("APOP".into());
    }
    if names.is_empty() {
        "no login mechanism".into()
    } else {
        names.join(", ")
    }
}

/// Sends the login for `mechanism`; the outcome is judged by `judge_login`.
async fn send_login(
    session: &Session,
    config: &SessionConfig,
    mechanism: Mechanism,
    greeting: &StatusLine,
) -> Result<Outcome, Failure> {
    let secret = config.credential.secret();
    Ok(match mechanism {
        Mechanism::User => match session.call(Command::User(config.user.clone())).await? {
            Outcome::Ok(_) => session.call(Command::Pass(secret.clone())).await?,
            other => other,
        },
        Mechanism::Apop => {
            let timestamp = apop_timestamp(&greeting.text).unwrap_or_default();
            let digest = apop_digest(&timestamp, secret.expose());
            session
                .call(Command::Apop {
                    user: config.user.clone(),
                    digest,
                })
                .await?
        }
        sasl => {
            let exchange = SaslExchange::new(
                sasl,
                &config.user,
                secret.expose(),
                &client_nonce()?,
                &config.host,
                config.port,
            )
            .map_err(|e| Failure::new(FailureKind::Auth, e.to_string()))?;
            session.call(Command::Auth(Box::new(exchange))).await?
        }
    })
}

/// Whether the login worked, and if not, why, in words a person can act on.
async fn judge_login(session: &Session, mechanism: Mechanism, outcome: Outcome) -> Result<(), Failure> {
    match outcome {
        Outcome::Ok(_) => Ok(()),
        Outcome::Err(status) => Err(login_refused(mechanism, &status)),
        Outcome::AuthFailed { error, server } => {
            let failure = Failure::new(FailureKind::Auth, format!("{} failed: {error}", mechanism.name()));
            Err(match server {
                Some(status) if status.is_ok() => failure.with_hint(
                    "the server accepted the login without proving it knows the password; it may be an impostor. Check the server and the TLS setup",
                ),
                _ => failure,
            })
        }
        other => Err(session.outcome_failure("login", other).await),
    }
}

fn login_refused(mechanism: Mechanism, status: &StatusLine) -> Failure {
    match (FailureKind::refusal(status, FailureKind::Auth), &status.code) {
        (FailureKind::Mailbox, Some(code)) => Failure::new(
            FailureKind::Mailbox,
            format!("the server refused access to the maildrop: {status}"),
        )
        .with_hint(code.explanation()),
        _ => Failure::new(
            FailureKind::Auth,
            format!("the server rejected the login ({}): {status}", mechanism.name()),
        )
        .with_hint(
            "check the user name and password (or token); `popscope check` shows which mechanisms the server offers",
        ),
    }
}

/// A fresh SCRAM client nonce: 18 random bytes, base64 (never a comma).
fn client_nonce() -> Result<String, Failure> {
    nonce_from(getrandom::getrandom)
}

fn nonce_from(fill: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>) -> Result<String, Failure> {
    use base64::Engine;
    let mut bytes = [0u8; 18];
    // Without randomness the nonce is predictable and SCRAM's replay
    // protection is gone: refuse rather than log in weaker than promised.
    fill(&mut bytes).map_err(|e| {
        Failure::new(
            FailureKind::Local,
            format!("cannot get random bytes for the SCRAM nonce ({e}); not logging in"),
        )
        .with_hint("the system's random source failed; choose another mechanism with --auth, or fix the system")
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11 item 10: a nonce of zeros is predictable; without a working
    /// random source the login fails instead.
    #[test]
    fn no_random_source_no_scram_nonce() {
        let failure = nonce_from(|_| Err(getrandom::Error::UNSUPPORTED)).unwrap_err();
        assert_eq!(failure.kind, FailureKind::Local);
        assert!(failure.message.contains("random"), "{failure}");
        let nonce = nonce_from(|b| {
            b.fill(7);
            Ok(())
        })
        .unwrap();
        assert_eq!(nonce, "BwcHBwcHBwcHBwcHBwcHBwcH");
        assert_ne!(client_nonce().unwrap(), client_nonce().unwrap());
    }
}
