//! Which way to log in, as a pure function of what is known before the
//! first login byte is sent: the credential, what the server offers, whether
//! the link is encrypted, and what the person allowed or forced.

use super::{CredentialKind, Mechanism, choose_mechanism};

/// What the server said it supports, before login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered<'a> {
    /// CAPA was refused: assume a minimal RFC 1939 server (USER, no SASL).
    Unknown,
    /// CAPA's SASL mechanisms and whether it listed USER.
    Listed { sasl: &'a [String], user: bool },
}

/// Everything the choice depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFacts<'a> {
    pub credential: CredentialKind,
    pub offered: Offered<'a>,
    /// The greeting carries an APOP timestamp.
    pub apop_timestamp: bool,
    pub encrypted: bool,
    /// The person allowed secrets over an unencrypted link.
    pub allow_plaintext: bool,
    /// `--auth`: this mechanism and no other.
    pub forced: Option<Mechanism>,
    /// A mechanism the server already refused in this session: the
    /// automatic choice passes it over.
    pub refused: Option<Mechanism>,
}

/// Why no mechanism can be used. The session layer words these for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MechanismRefusal {
    #[error("the server offers no login mechanism popscope can use with this credential")]
    NoneUsable,
    #[error("APOP was requested but the server's greeting has no APOP timestamp")]
    NoApopTimestamp,
    #[error("the server does not offer {}", .0.name())]
    NotOffered(Mechanism),
    #[error("{} needs a password, but an OAuth token was given", .0.name())]
    NeedsPassword(Mechanism),
    #[error("{} needs an OAuth token (--oauth-token-command)", .0.name())]
    NeedsToken(Mechanism),
    #[error("refusing to send the password in the clear: {} over an unencrypted connection", .0.name())]
    SecretInClear(Mechanism),
}

/// The mechanism to log in with. Without `forced`, the strongest offered;
/// over an unencrypted link without `allow_plaintext`, the strongest that
/// keeps the secret off the wire, and a refusal rather than a fallback to
/// one that does not. A forced mechanism the server's CAPA did not list is
/// refused before anything is sent, except XOAUTH2, which servers accept
/// unlisted (Microsoft 365; Thunderbird tries it blind, and so does the
/// automatic choice for a token). Without a CAPA answer nothing is known,
/// and the person's choice stands.
pub fn choose_login(facts: &LoginFacts) -> Result<Mechanism, MechanismRefusal> {
    let (sasl, user_offered): (&[String], bool) = match facts.offered {
        Offered::Unknown => (&[], true),
        Offered::Listed { sasl, user } => (sasl, user),
    };
    let not_refused = |m: Mechanism| facts.refused != Some(m);
    let sasl: Vec<String> = sasl
        .iter()
        .filter(|name| Mechanism::parse(name).is_none_or(not_refused))
        .cloned()
        .collect();
    let user_offered = user_offered && not_refused(Mechanism::User);
    let apop_offered = facts.apop_timestamp && not_refused(Mechanism::Apop);
    let protect_secret = !facts.encrypted && !facts.allow_plaintext;
    let chosen = match facts.forced {
        Some(m) => m,
        None => {
            if protect_secret {
                let candidates: Vec<String> = sasl
                    .iter()
                    .filter(|name| Mechanism::parse(name).is_some_and(|m| !m.sends_secret_in_clear()))
                    .cloned()
                    .collect();
                let safe = choose_mechanism(facts.credential, &candidates, apop_offered, false)
                    .filter(|m| !m.sends_secret_in_clear());
                if let Some(m) = safe {
                    return Ok(m);
                }
            }
            choose_mechanism(facts.credential, &sasl, apop_offered, user_offered).ok_or(MechanismRefusal::NoneUsable)?
        }
    };
    if chosen == Mechanism::Apop && !facts.apop_timestamp {
        return Err(MechanismRefusal::NoApopTimestamp);
    }
    if facts.forced.is_some() && !listed_or_unknown(chosen, facts.offered) {
        return Err(MechanismRefusal::NotOffered(chosen));
    }
    if facts.credential == CredentialKind::OAuthToken && !chosen.uses_oauth_token() {
        return Err(MechanismRefusal::NeedsPassword(chosen));
    }
    if facts.credential == CredentialKind::Password && chosen.uses_oauth_token() {
        return Err(MechanismRefusal::NeedsToken(chosen));
    }
    if protect_secret && chosen.sends_secret_in_clear() {
        return Err(MechanismRefusal::SecretInClear(chosen));
    }
    Ok(chosen)
}

/// Whether CAPA listed `mechanism`, or there was no CAPA to tell. APOP is
/// offered by the greeting's timestamp (checked apart); XOAUTH2 is taken
/// as offered (see `choose_login`).
fn listed_or_unknown(mechanism: Mechanism, offered: Offered) -> bool {
    match (offered, mechanism) {
        (Offered::Unknown, _) | (_, Mechanism::Apop | Mechanism::XOAuth2) => true,
        (Offered::Listed { user, .. }, Mechanism::User) => user,
        (Offered::Listed { sasl, .. }, m) => sasl.iter().any(|name| name.eq_ignore_ascii_case(m.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::CredentialKind::{OAuthToken as Token, Password as Pw};
    use super::Mechanism::*;
    use super::MechanismRefusal::*;
    use super::*;

    /// Link: encrypted, plain (no --allow-plaintext) or plain with it.
    #[derive(Clone, Copy, Debug)]
    enum Link {
        Tls,
        Plain,
        PlainAllowed,
    }

    struct Row {
        credential: CredentialKind,
        /// None: CAPA unknown.
        sasl: Option<&'static [&'static str]>,
        user: bool,
        apop: bool,
        link: Link,
        forced: Option<Mechanism>,
        expect: Result<Mechanism, MechanismRefusal>,
    }

    const fn row(
        credential: CredentialKind,
        sasl: Option<&'static [&'static str]>,
        user: bool,
        apop: bool,
        link: Link,
        forced: Option<Mechanism>,
        expect: Result<Mechanism, MechanismRefusal>,
    ) -> Row {
        Row {
            credential,
            sasl,
            user,
            apop,
            link,
            forced,
            expect,
        }
    }

    const ALL: &[&str] = &["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"];
    const PLAIN_ONLY: &[&str] = &["PLAIN", "LOGIN"];
    const CRAM: &[&str] = &["PLAIN", "CRAM-MD5"];
    const TOKENS: &[&str] = &["OAUTHBEARER"];
    const NONE: &[&str] = &[];

    #[rustfmt::skip]
    const TABLE: &[Row] = &[
        // Encrypted: the strongest offered.
        row(Pw, Some(ALL), true, true, Link::Tls, None, Ok(ScramSha256)),
        row(Pw, Some(PLAIN_ONLY), true, false, Link::Tls, None, Ok(Plain)),
        row(Pw, Some(PLAIN_ONLY), true, true, Link::Tls, None, Ok(Apop)),
        row(Pw, Some(NONE), true, false, Link::Tls, None, Ok(User)),
        row(Pw, Some(NONE), false, false, Link::Tls, None, Err(NoneUsable)),
        // CAPA unknown: USER is assumed.
        row(Pw, None, false, false, Link::Tls, None, Ok(User)),
        row(Pw, None, false, true, Link::Tls, None, Ok(Apop)),
        // Unencrypted: only what keeps the password off the wire...
        row(Pw, Some(CRAM), true, false, Link::Plain, None, Ok(CramMd5)),
        row(Pw, Some(PLAIN_ONLY), true, true, Link::Plain, None, Ok(Apop)),
        row(Pw, Some(PLAIN_ONLY), true, false, Link::Plain, None, Err(SecretInClear(Plain))),
        row(Pw, None, true, false, Link::Plain, None, Err(SecretInClear(User))),
        // ... unless allowed.
        row(Pw, Some(PLAIN_ONLY), true, false, Link::PlainAllowed, None, Ok(Plain)),
        row(Pw, Some(CRAM), true, false, Link::PlainAllowed, None, Ok(CramMd5)),
        // Tokens: XOAUTH2 unless only OAUTHBEARER is listed.
        row(Token, Some(TOKENS), false, false, Link::Tls, None, Ok(OAuthBearer)),
        row(Token, Some(NONE), false, true, Link::Tls, None, Ok(XOAuth2)),
        row(Token, Some(TOKENS), false, false, Link::Plain, None, Err(SecretInClear(OAuthBearer))),
        // Forced: exactly that, or a refusal saying why.
        row(Pw, Some(ALL), true, true, Link::Tls, Some(Login), Ok(Login)),
        row(Pw, Some(NONE), true, false, Link::Tls, Some(Apop), Err(NoApopTimestamp)),
        row(Pw, Some(NONE), true, true, Link::Tls, Some(Apop), Ok(Apop)),
        row(Token, Some(ALL), true, false, Link::Tls, Some(Plain), Err(NeedsPassword(Plain))),
        row(Pw, Some(TOKENS), true, false, Link::Tls, Some(XOAuth2), Err(NeedsToken(XOAuth2))),
        row(Pw, Some(ALL), true, false, Link::Plain, Some(User), Err(SecretInClear(User))),
        row(Pw, Some(ALL), true, false, Link::PlainAllowed, Some(User), Ok(User)),
        // Forced but not listed: refused before anything is sent...
        row(Pw, Some(PLAIN_ONLY), true, false, Link::Tls, Some(CramMd5), Err(NotOffered(CramMd5))),
        row(Pw, Some(CRAM), false, false, Link::Tls, Some(User), Err(NotOffered(User))),
        row(Token, Some(NONE), false, false, Link::Tls, Some(OAuthBearer), Err(NotOffered(OAuthBearer))),
        row(Pw, Some(&["plain"]), true, false, Link::Tls, Some(Plain), Ok(Plain)),
        // ... except XOAUTH2, and when there was no CAPA to go by.
        row(Token, Some(NONE), false, false, Link::Tls, Some(XOAuth2), Ok(XOAuth2)),
        row(Pw, None, false, false, Link::Tls, Some(CramMd5), Ok(CramMd5)),
    ];

    #[test]
    fn the_policy_table() {
        for (i, r) in TABLE.iter().enumerate() {
            let names: Vec<String> = r.sasl.unwrap_or_default().iter().map(|s| s.to_string()).collect();
            let facts = LoginFacts {
                credential: r.credential,
                offered: match r.sasl {
                    Some(_) => Offered::Listed {
                        sasl: &names,
                        user: r.user,
                    },
                    None => Offered::Unknown,
                },
                apop_timestamp: r.apop,
                encrypted: matches!(r.link, Link::Tls),
                allow_plaintext: matches!(r.link, Link::PlainAllowed),
                forced: r.forced,
                refused: None,
            };
            assert_eq!(choose_login(&facts), r.expect, "row {i}: {facts:?}");
        }
    }

    /// After a refusal (issue 11 item 18) the automatic choice takes the
    /// next permitted mechanism, or none.
    #[test]
    fn a_refused_mechanism_is_passed_over() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = names(ALL);
        let plain_only = names(PLAIN_ONLY);
        let facts = |sasl: &'static [String], encrypted, refused| LoginFacts {
            credential: Pw,
            offered: Offered::Listed { sasl, user: true },
            apop_timestamp: true,
            encrypted,
            allow_plaintext: false,
            forced: None,
            refused,
        };
        let all: &'static [String] = Vec::leak(all);
        let plain_only: &'static [String] = Vec::leak(plain_only);
        assert_eq!(choose_login(&facts(all, true, None)), Ok(ScramSha256));
        assert_eq!(choose_login(&facts(all, true, Some(ScramSha256))), Ok(ScramSha1));
        assert_eq!(choose_login(&facts(plain_only, true, Some(Apop))), Ok(Plain));
        assert_eq!(choose_login(&facts(plain_only, false, None)), Ok(Apop));
        assert_eq!(
            choose_login(&facts(plain_only, false, Some(Apop))),
            Err(SecretInClear(Plain)),
            "no permitted mechanism remains on a plain link"
        );
    }
}
