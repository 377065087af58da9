//! Authentication arithmetic: which mechanism to use and the exact bytes each
//! one sends. Pure and sans-IO: no sockets, clocks or randomness (the SCRAM
//! client nonce comes from the caller), and no base64 of SASL lines (the
//! protocol state machine frames those).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;

use crate::secret::Secret;

/// Upper bound on the SCRAM iteration count a server may ask for: PBKDF2 runs
/// on our CPU, so a hostile server must not be able to stall us for minutes.
pub(crate) const MAX_SCRAM_ITERATIONS: u32 = 1_000_000;

/// Longest APOP timestamp (brackets included) we accept from a greeting.
pub const MAX_APOP_TIMESTAMP_LEN: usize = 512;

mod policy;

pub use policy::{LoginFacts, MechanismRefusal, Offered, choose_login};

/// How we log in. USER and APOP are POP3 commands rather than SASL
/// mechanisms, but live here so one value names every way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mechanism {
    User,
    Login,
    Plain,
    Apop,
    CramMd5,
    ScramSha1,
    ScramSha256,
    XOAuth2,
    OAuthBearer,
}

impl Mechanism {
    pub const ALL: [Mechanism; 9] = [
        Mechanism::User,
        Mechanism::Login,
        Mechanism::Plain,
        Mechanism::Apop,
        Mechanism::CramMd5,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::User => "USER",
            Mechanism::Login => "LOGIN",
            Mechanism::Plain => "PLAIN",
            Mechanism::Apop => "APOP",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Case-insensitive; accepts "USER", "APOP" and the SASL names.
    pub fn parse(s: &str) -> Option<Mechanism> {
        Self::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(s))
    }

    pub fn is_sasl(self) -> bool {
        !matches!(self, Mechanism::User | Mechanism::Apop)
    }

    /// True when the secret itself crosses the wire (bearer tokens count):
    /// these must never go over an unencrypted link unless the user allowed it.
    pub fn sends_secret_in_clear(self) -> bool {
        matches!(
            self,
            Mechanism::User | Mechanism::Plain | Mechanism::Login | Mechanism::XOAuth2 | Mechanism::OAuthBearer
        )
    }

    pub fn uses_oauth_token(self) -> bool {
        matches!(self, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    }

    fn scram_hash(self) -> Option<ScramHash> {
        match self {
            Mechanism::ScramSha1 => Some(ScramHash::Sha1),
            Mechanism::ScramSha256 => Some(ScramHash::Sha256),
            _ => None,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of secret the user gave us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    Password,
    OAuthToken,
}

/// Password mechanisms, strongest first.
const PASSWORD_PREFERENCE: [Mechanism; 7] = [
    Mechanism::ScramSha256,
    Mechanism::ScramSha1,
    Mechanism::CramMd5,
    Mechanism::Apop,
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::User,
];

/// Pick the mechanism to try. `offered_sasl` holds the SASL names from CAPA
/// (any case); `user_offered` should be true when CAPA was unavailable, since
/// USER is then the only thing RFC 1939 guarantees.
pub(crate) fn choose_mechanism(
    kind: CredentialKind,
    offered_sasl: &[String],
    apop_timestamp_present: bool,
    user_offered: bool,
) -> Option<Mechanism> {
    let offered = |m: Mechanism| offered_sasl.iter().any(|s| s.eq_ignore_ascii_case(m.name()));
    match kind {
        CredentialKind::Password => PASSWORD_PREFERENCE.into_iter().find(|&m| match m {
            Mechanism::Apop => apop_timestamp_present,
            Mechanism::User => user_offered,
            m => offered(m),
        }),
        // XOAUTH2 is the fallback because servers (Microsoft 365 among them)
        // accept it without listing it, which is why Thunderbird tries it blind.
        CredentialKind::OAuthToken => Some(if !offered(Mechanism::XOAuth2) && offered(Mechanism::OAuthBearer) {
            Mechanism::OAuthBearer
        } else {
            Mechanism::XOAuth2
        }),
    }
}

/// APOP digest (RFC 1939 §7): lowercase hex MD5 of the timestamp, angle
/// brackets included, followed by the secret.
pub fn apop_digest(timestamp: &str, secret: &[u8]) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp.as_bytes());
    md5.update(secret);
    hex(&md5.finalize())
}

/// The APOP timestamp `<...@...>` (brackets included) in a greeting, if any.
/// Strict on purpose: the digest covers these exact bytes, so anything that
/// is not one printable token with an '@' is more likely prose than a
/// timestamp.
pub fn apop_timestamp(greeting_text: &str) -> Option<String> {
    let bytes = greeting_text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'<')
        .find_map(|(start, _)| {
            // Bounded search keeps a hostile greeting full of '<' linear.
            let len = bytes[start..]
                .iter()
                .take(MAX_APOP_TIMESTAMP_LEN)
                .position(|&b| b == b'>')?
                + 1;
            let inner = &bytes[start + 1..start + len - 1];
            let printable = inner.iter().all(|&b| b.is_ascii_graphic() && b != b'<' && b != b'>');
            let at = inner.iter().position(|&b| b == b'@')?;
            (printable && at > 0 && at + 1 < inner.len()).then(|| greeting_text[start..start + len].to_owned())
        })
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("{} is a POP3 command, not a SASL mechanism", .0.name())]
    NotSasl(Mechanism),
    #[error("cannot authenticate: {0}")]
    InvalidInput(&'static str),
    #[error("SCRAM client nonce must be non-empty printable ASCII without ','")]
    InvalidClientNonce,
    #[error("malformed server challenge: {0}")]
    MalformedChallenge(String),
    #[error("SCRAM server nonce does not extend our client nonce (replay or tampering)")]
    NonceMismatch,
    #[error("SCRAM server asked for {0} iterations; accepted range is 1..={MAX_SCRAM_ITERATIONS}")]
    IterationCountOutOfRange(u64),
    #[error("SCRAM server signature does not match: the server does not know the password")]
    ServerSignatureMismatch,
    #[error("server rejected SCRAM authentication: {0}")]
    ScramServerError(String),
    #[error("server sent a challenge the mechanism does not expect")]
    UnexpectedChallenge,
    #[error("SCRAM server reported success without proving it knows the password")]
    ServerNotVerified,
    #[error("server reported success before the authentication exchange completed")]
    Incomplete,
}

fn malformed(what: &str) -> AuthError {
    AuthError::MalformedChallenge(what.to_owned())
}

enum Step {
    Start,
    /// The first client message went out; `via_ir` records that it went with
    /// the AUTH command, because a server may ignore SASL-IR and ask again.
    FirstSent {
        via_ir: bool,
    },
    ScramFinalSent {
        server_signature: Vec<u8>,
    },
    Complete,
    Failed,
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Start => "start",
            Step::FirstSent { .. } => "first message sent",
            Step::ScramFinalSent { .. } => "awaiting server signature",
            Step::Complete => "complete",
            Step::Failed => "failed",
        }
    }
}

/// One SASL exchange, client side. Call `initial_response()` once, then
/// `respond()` for each decoded "+ " challenge, then `finish()` after +OK.
pub struct SaslExchange {
    mech: Mechanism,
    user: String,
    secret: Secret,
    client_nonce: String,
    host: String,
    port: u16,
    step: Step,
    server_error: Option<String>,
    /// The message produced last carries the password or token.
    carried_secret: bool,
}

impl fmt::Debug for SaslExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslExchange")
            .field("mechanism", &self.mech)
            .field("step", &self.step.name())
            .finish_non_exhaustive()
    }
}

impl SaslExchange {
    /// `secret` is the password, or the access token for XOAUTH2/OAUTHBEARER.
    /// `client_nonce` (SCRAM only) must be random, printable ASCII without ','.
    /// `host`/`port` are only sent by OAUTHBEARER.
    pub fn new(
        mech: Mechanism,
        user: &str,
        secret: &[u8],
        client_nonce: &str,
        host: &str,
        port: u16,
    ) -> Result<SaslExchange, AuthError> {
        let bad = |msg| Err(AuthError::InvalidInput(msg));
        match mech {
            Mechanism::User | Mechanism::Apop => return Err(AuthError::NotSasl(mech)),
            // NUL is PLAIN's field separator (RFC 4616).
            Mechanism::Plain if user.contains('\0') => {
                return bad("the user name contains a NUL byte");
            }
            Mechanism::Plain if secret.contains(&0) => {
                return bad("the password contains a NUL byte");
            }
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => {
                if user.contains('\0') {
                    return bad("the user name contains a NUL byte");
                }
                if client_nonce.is_empty() || !client_nonce.bytes().all(is_nonce_char) {
                    return Err(AuthError::InvalidClientNonce);
                }
            }
            // \x01 separates OAuth fields; other controls are paste accidents.
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                if user.contains('\x01') || host.contains('\x01') {
                    return bad("the user name or host contains a \\x01 byte");
                }
                if secret.iter().any(u8::is_ascii_control) {
                    return bad("the OAuth token contains a control character");
                }
            }
            _ => {}
        }
        Ok(SaslExchange {
            mech,
            user: user.to_owned(),
            secret: Secret::new(secret),
            client_nonce: client_nonce.to_owned(),
            host: host.to_owned(),
            port,
            step: Step::Start,
            server_error: None,
            carried_secret: false,
        })
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mech
    }

    /// JSON error the server sent during an OAuth exchange, with control
    /// characters replaced so it is safe to put on a terminal.
    pub fn server_error_detail(&self) -> Option<&str> {
        self.server_error.as_deref()
    }

    /// Raw initial response for `AUTH MECH <ir>` (RFC 5034), or None to send
    /// bare `AUTH MECH`. OAuth tokens are deliberately not sent here: they
    /// can exceed the 255-octet command line, and Microsoft 365 requires the
    /// two-step form.
    pub fn initial_response(&mut self) -> Option<Vec<u8>> {
        if !matches!(self.step, Step::Start) {
            return None;
        }
        self.carried_secret = carries_secret(self.mech, &self.step);
        match self.mech {
            Mechanism::Plain => {
                self.step = Step::Complete;
                Some(self.plain_message())
            }
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => {
                self.step = Step::FirstSent { via_ir: true };
                Some(self.scram_client_first().into_bytes())
            }
            _ => None,
        }
    }

    /// Answer one server challenge (raw bytes, base64 already decoded). An
    /// empty Vec means "send an empty line". After an error the exchange is
    /// dead: the caller should cancel with "*".
    pub fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
        let step = std::mem::replace(&mut self.step, Step::Failed);
        self.carried_secret = carries_secret(self.mech, &step);
        let (reply, next) = self.advance(step, challenge)?;
        self.step = next;
        Ok(reply)
    }

    fn advance(&mut self, step: Step, challenge: &[u8]) -> Result<(Vec<u8>, Step), AuthError> {
        use Mechanism as M;
        let first = Step::FirstSent { via_ir: false };
        Ok(match (self.mech, step) {
            // PLAIN's challenge carries no data, so its content is irrelevant.
            (M::Plain, Step::Start) => (self.plain_message(), Step::Complete),
            // LOGIN prompts are free text ("Username:", localised, ...): go by order.
            (M::Login, Step::Start) => (self.user.as_bytes().to_vec(), first),
            (M::Login, Step::FirstSent { .. }) => (self.secret.expose().to_vec(), Step::Complete),
            (M::CramMd5, Step::Start) => {
                if challenge.is_empty() {
                    return Err(malformed("empty CRAM-MD5 challenge"));
                }
                let digest = mac::<Hmac<Md5>>(self.secret.expose(), challenge);
                (format!("{} {}", self.user, hex(&digest)).into_bytes(), Step::Complete)
            }
            (M::ScramSha1 | M::ScramSha256, Step::Start) if challenge.is_empty() => {
                (self.scram_client_first().into_bytes(), first)
            }
            // The server ignored our SASL-IR and asks for client-first again.
            (M::ScramSha1 | M::ScramSha256, Step::FirstSent { via_ir: true }) if challenge.is_empty() => {
                (self.scram_client_first().into_bytes(), first)
            }
            (M::ScramSha1 | M::ScramSha256, Step::FirstSent { .. }) => {
                let (client_final, server_signature) = self.scram_client_final(challenge)?;
                (client_final.into_bytes(), Step::ScramFinalSent { server_signature })
            }
            (M::ScramSha1 | M::ScramSha256, Step::ScramFinalSent { server_signature }) => {
                verify_server_final(challenge, &server_signature)?;
                (Vec::new(), Step::Complete)
            }
            (M::XOAuth2 | M::OAuthBearer, Step::Start) => (self.oauth_message(), first),
            // A second OAuth challenge is the server's JSON error; answering it
            // (empty for XOAUTH2, RFC 7628 §3.2.3 dummy for OAUTHBEARER) makes
            // the server send its -ERR.
            (M::XOAuth2 | M::OAuthBearer, Step::FirstSent { .. }) => {
                self.server_error = Some(printable(challenge));
                let dummy = if self.mech == M::OAuthBearer {
                    b"\x01".to_vec()
                } else {
                    Vec::new()
                };
                (dummy, Step::Complete)
            }
            (M::ScramSha1 | M::ScramSha256, Step::Start) => {
                return Err(malformed("SCRAM server spoke before our client-first-message"));
            }
            _ => return Err(AuthError::UnexpectedChallenge),
        })
    }

    /// Whether the message last produced (`initial_response` or `respond`)
    /// carries the password or token, so that not even its size may be
    /// shown: PLAIN's message, LOGIN's second answer, the OAuth message.
    pub(crate) fn last_message_carries_secret(&self) -> bool {
        self.carried_secret
    }

    /// Call after the server's +OK: checks the exchange really completed, so
    /// a server that skips SCRAM's proof of knowing the password is caught.
    pub fn finish(&self) -> Result<(), AuthError> {
        match (&self.step, self.mech.uses_oauth_token()) {
            (Step::Complete, _) | (Step::FirstSent { .. }, true) => Ok(()),
            _ if self.mech.scram_hash().is_some() => Err(AuthError::ServerNotVerified),
            _ => Err(AuthError::Incomplete),
        }
    }

    fn plain_message(&self) -> Vec<u8> {
        [b"\0", self.user.as_bytes(), b"\0", self.secret.expose()].concat()
    }

    fn oauth_message(&self) -> Vec<u8> {
        let token = self.secret.expose();
        let mut m = Vec::new();
        if self.mech == Mechanism::XOAuth2 {
            m.extend_from_slice(format!("user={}\x01", self.user).as_bytes());
        } else {
            m.extend_from_slice(b"n,");
            if !self.user.is_empty() {
                m.extend_from_slice(format!("a={}", saslname(&self.user)).as_bytes());
            }
            m.extend_from_slice(b",\x01");
            if !self.host.is_empty() {
                m.extend_from_slice(format!("host={}\x01", self.host).as_bytes());
            }
            if self.port != 0 {
                m.extend_from_slice(format!("port={}\x01", self.port).as_bytes());
            }
        }
        m.extend_from_slice(b"auth=Bearer ");
        m.extend_from_slice(token);
        m.extend_from_slice(b"\x01\x01");
        m
    }

    fn scram_client_first_bare(&self) -> String {
        format!("n={},r={}", saslname(&self.user), self.client_nonce)
    }

    fn scram_client_first(&self) -> String {
        // "n,," : no channel binding, no authzid.
        format!("n,,{}", self.scram_client_first_bare())
    }

    /// Returns the client-final-message and the server signature to expect.
    fn scram_client_final(&self, server_first: &[u8]) -> Result<(String, Vec<u8>), AuthError> {
        let hash = self.mech.scram_hash().expect("called for SCRAM only");
        let server_first =
            std::str::from_utf8(server_first).map_err(|_| malformed("server-first-message is not UTF-8"))?;
        let mut attrs = server_first.split(',');
        let nonce = match attrs.next() {
            Some(a) if a.starts_with("m=") => {
                return Err(malformed("server requires an unsupported SCRAM extension"));
            }
            Some(a) if a.starts_with("e=") => return Err(scram_server_error(&a[2..])),
            a => scram_attr(a, "r=", "nonce")?,
        };
        let salt = scram_attr(attrs.next(), "s=", "salt")?;
        let iterations = scram_attr(attrs.next(), "i=", "iteration count")?;

        if !nonce.bytes().all(is_nonce_char) {
            return Err(malformed("server nonce has invalid characters"));
        }
        if nonce.len() <= self.client_nonce.len() || !nonce.starts_with(&self.client_nonce) {
            return Err(AuthError::NonceMismatch);
        }
        let salt = B64
            .decode(salt)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("SCRAM salt is not valid base64"))?;
        let iterations: u64 = iterations
            .parse()
            .map_err(|_| malformed("SCRAM iteration count is not a number"))?;
        let iterations = u32::try_from(iterations)
            .ok()
            .filter(|i| (1..=MAX_SCRAM_ITERATIONS).contains(i))
            .ok_or(AuthError::IterationCountOutOfRange(iterations))?;

        // RFC 5802 §3; "biws" is base64("n,,"), our GS2 header.
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.scram_client_first_bare());
        let salted = hash.salted_password(self.secret.expose(), &salt, iterations);
        let client_key = Secret::new(hash.hmac(salted.expose(), b"Client Key"));
        let stored_key = hash.digest(client_key.expose());
        let client_signature = hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .expose()
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = Secret::new(hash.hmac(salted.expose(), b"Server Key"));
        let server_signature = hash.hmac(server_key.expose(), auth_message.as_bytes());
        Ok((format!("{without_proof},p={}", B64.encode(proof)), server_signature))
    }
}

/// Whether the message `mech` produces at `step` holds the secret itself
/// (CRAM-MD5 and SCRAM send only proofs derived from it).
fn carries_secret(mech: Mechanism, step: &Step) -> bool {
    match mech {
        Mechanism::Plain => true,
        Mechanism::Login => matches!(step, Step::FirstSent { .. }),
        Mechanism::XOAuth2 | Mechanism::OAuthBearer => matches!(step, Step::Start),
        _ => false,
    }
}

fn verify_server_final(server_final: &[u8], expected: &[u8]) -> Result<(), AuthError> {
    let text = std::str::from_utf8(server_final).map_err(|_| malformed("server-final-message is not UTF-8"))?;
    let first = text.split(',').next().unwrap_or_default();
    if let Some(err) = first.strip_prefix("e=") {
        return Err(scram_server_error(err));
    }
    let signature = first
        .strip_prefix("v=")
        .ok_or_else(|| malformed("server-final-message has no verifier"))?;
    let signature = B64
        .decode(signature)
        .map_err(|_| malformed("SCRAM server signature is not valid base64"))?;
    // Compare without early exit: cheap, and removes any timing question.
    let same =
        signature.len() == expected.len() && signature.iter().zip(expected).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same {
        Ok(())
    } else {
        Err(AuthError::ServerSignatureMismatch)
    }
}

fn scram_attr<'a>(attr: Option<&'a str>, key: &str, what: &str) -> Result<&'a str, AuthError> {
    attr.and_then(|a| a.strip_prefix(key))
        .ok_or_else(|| AuthError::MalformedChallenge(format!("server-first-message lacks the {what}")))
}

fn scram_server_error(value: &str) -> AuthError {
    AuthError::ScramServerError(printable(value.as_bytes()))
}

/// RFC 5802 saslname: '=' and ',' are the attribute syntax, so escape them.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

fn is_nonce_char(b: u8) -> bool {
    b.is_ascii_graphic() && b != b','
}

/// Longest server error text kept (SCRAM `e=`, an OAuth JSON error), in
/// characters.
const MAX_SERVER_ERROR_CHARS: usize = 1024;

/// Server-supplied text made safe for a terminal by the one sanitizer
/// (controls, escapes and bidi controls become visible stand-ins) and
/// bounded in size.
fn printable(bytes: &[u8]) -> String {
    // 4 bytes per character at most: enough input for the bound.
    let head = &bytes[..bytes.len().min(MAX_SERVER_ERROR_CHARS * 4)];
    crate::sanitize::sanitize_bytes(head, false)
        .chars()
        .take(MAX_SERVER_ERROR_CHARS)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

// Dispatch by hand: the generic bounds for Hmac<D> in digest 0.10 are longer
// than these two match arms.
#[derive(Clone, Copy)]
enum ScramHash {
    Sha1,
    Sha256,
}

impl ScramHash {
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Secret {
        Secret::new(match self {
            ScramHash::Sha1 => pbkdf2::pbkdf2_hmac_array::<Sha1, 20>(password, salt, iterations).to_vec(),
            ScramHash::Sha256 => pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations).to_vec(),
        })
    }

    fn hmac(self, key: &[u8], msg: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => mac::<Hmac<Sha1>>(key, msg),
            ScramHash::Sha256 => mac::<Hmac<Sha256>>(key, msg),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "pencil";

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn exchange(mech: Mechanism, user: &str, secret: &str, nonce: &str) -> SaslExchange {
        SaslExchange::new(mech, user, secret.as_bytes(), nonce, "pop.example.com", 995).unwrap()
    }

    fn scram_sha1() -> SaslExchange {
        exchange(Mechanism::ScramSha1, "user", PW, "fyko+d2lbbFgONRv9qkxdawL")
    }

    const SHA1_SERVER_FIRST: &[u8] = b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";

    #[test]
    fn mechanism_names_round_trip() {
        for m in Mechanism::ALL {
            assert_eq!(Mechanism::parse(m.name()), Some(m));
            assert_eq!(Mechanism::parse(&m.name().to_lowercase()), Some(m));
            assert_eq!(m.to_string(), m.name());
        }
        assert_eq!(Mechanism::parse("Scram-Sha-256"), Some(Mechanism::ScramSha256));
        assert_eq!(Mechanism::parse("SCRAM-SHA-256-PLUS"), None);
        assert_eq!(Mechanism::parse("GSSAPI"), None);
        assert_eq!(Mechanism::parse(""), None);
    }

    #[test]
    fn mechanism_properties() {
        let sasl: Vec<_> = Mechanism::ALL.into_iter().filter(|m| !m.is_sasl()).collect();
        assert_eq!(sasl, [Mechanism::User, Mechanism::Apop]);
        let clear: Vec<_> = Mechanism::ALL
            .into_iter()
            .filter(|m| m.sends_secret_in_clear())
            .collect();
        use Mechanism::*;
        assert_eq!(clear, [User, Login, Plain, XOAuth2, OAuthBearer]);
        let oauth: Vec<_> = Mechanism::ALL.into_iter().filter(|m| m.uses_oauth_token()).collect();
        assert_eq!(oauth, [XOAuth2, OAuthBearer]);
    }

    #[test]
    fn choose_password_mechanism_strongest_first() {
        use CredentialKind::Password;
        use Mechanism::*;
        let all = names(&["plain", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "scram-sha-256", "XOAUTH2"]);
        assert_eq!(choose_mechanism(Password, &all, true, true), Some(ScramSha256));
        let sha1 = names(&["PLAIN", "SCRAM-SHA-1", "CRAM-MD5"]);
        assert_eq!(choose_mechanism(Password, &sha1, true, true), Some(ScramSha1));
        let cram = names(&["plain", "cram-md5"]);
        assert_eq!(choose_mechanism(Password, &cram, true, true), Some(CramMd5));
        let plain = names(&["PLAIN", "LOGIN"]);
        assert_eq!(choose_mechanism(Password, &plain, true, true), Some(Apop));
        assert_eq!(choose_mechanism(Password, &plain, false, true), Some(Plain));
        let login = names(&["LOGIN", "XOAUTH2"]);
        assert_eq!(choose_mechanism(Password, &login, false, true), Some(Login));
        // Channel-binding variants are not something we can do.
        let plus = names(&["SCRAM-SHA-256-PLUS"]);
        assert_eq!(choose_mechanism(Password, &plus, false, true), Some(User));
        assert_eq!(choose_mechanism(Password, &[], false, true), Some(User));
        assert_eq!(choose_mechanism(Password, &[], false, false), None);
        assert_eq!(choose_mechanism(Password, &names(&["XOAUTH2"]), false, false), None);
    }

    #[test]
    fn choose_token_mechanism() {
        use CredentialKind::OAuthToken;
        use Mechanism::*;
        let both = names(&["oauthbearer", "xoauth2", "PLAIN"]);
        assert_eq!(choose_mechanism(OAuthToken, &both, true, true), Some(XOAuth2));
        let bearer = names(&["PLAIN", "OAUTHBEARER"]);
        assert_eq!(choose_mechanism(OAuthToken, &bearer, false, true), Some(OAuthBearer));
        let none = names(&["PLAIN", "SCRAM-SHA-256"]);
        assert_eq!(choose_mechanism(OAuthToken, &none, true, true), Some(XOAuth2));
        assert_eq!(choose_mechanism(OAuthToken, &[], false, false), Some(XOAuth2));
    }

    #[test]
    fn apop_digest_rfc1939_vector() {
        assert_eq!(
            apop_digest("<1896.697170952@dbc.mtview.ca.us>", b"tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
    }

    #[test]
    fn apop_timestamp_parsing() {
        let ts = |s: &str| apop_timestamp(s);
        assert_eq!(
            ts("POP3 server ready <1896.697170952@dbc.mtview.ca.us>").as_deref(),
            Some("<1896.697170952@dbc.mtview.ca.us>")
        );
        assert_eq!(
            ts("Dovecot ready. <4d2.1.5f5e3a7b.x+Yz==@mx>").as_deref(),
            Some("<4d2.1.5f5e3a7b.x+Yz==@mx>")
        );
        assert_eq!(ts("POP3 server ready"), None);
        assert_eq!(ts(""), None);
        assert_eq!(ts("ready <no-at-sign>"), None);
        assert_eq!(ts("ready <has space@host>"), None);
        assert_eq!(ts("ready <unterminated@host"), None);
        assert_eq!(ts("ready <@host>"), None);
        assert_eq!(ts("ready <1.2@>"), None);
        assert_eq!(ts("ready <a<b@c>"), Some("<b@c>".to_owned()));
        assert_eq!(ts("ready <\u{e9}t\u{e9}@host>"), None);
        assert_eq!(ts("<tab\t@host>"), None);
        // Prose in brackets first, a real timestamp later.
        assert_eq!(ts("Hi <there> <1.2@h>").as_deref(), Some("<1.2@h>"));
        let max = format!("<{}@h>", "x".repeat(MAX_APOP_TIMESTAMP_LEN - 4));
        assert_eq!(ts(&format!("ok {max}")), Some(max.clone()));
        let long = format!("<{}@h>", "x".repeat(MAX_APOP_TIMESTAMP_LEN - 3));
        assert_eq!(ts(&format!("ok {long}")), None);
    }

    #[test]
    fn user_and_apop_are_not_sasl() {
        for m in [Mechanism::User, Mechanism::Apop] {
            let err = SaslExchange::new(m, "u", b"p", "", "", 0).unwrap_err();
            assert_eq!(err, AuthError::NotSasl(m));
        }
    }

    #[test]
    fn plain_with_initial_response() {
        let mut ex = exchange(Mechanism::Plain, "tim", "tanstaaf", "");
        assert_eq!(ex.mechanism(), Mechanism::Plain);
        assert_eq!(ex.initial_response(), Some(b"\0tim\0tanstaaf".to_vec()));
        assert_eq!(ex.initial_response(), None);
        assert_eq!(ex.finish(), Ok(()));
        assert_eq!(ex.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn plain_without_initial_response() {
        let mut ex = exchange(Mechanism::Plain, "tim", "tanstaaf", "");
        assert_eq!(ex.finish(), Err(AuthError::Incomplete));
        assert_eq!(ex.respond(b"").unwrap(), b"\0tim\0tanstaaf");
        assert_eq!(ex.finish(), Ok(()));
        assert_eq!(ex.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn plain_rejects_nul() {
        let err = |u: &str, p: &[u8]| SaslExchange::new(Mechanism::Plain, u, p, "", "", 0).unwrap_err();
        assert!(matches!(err("a\0b", b"p"), AuthError::InvalidInput(_)));
        assert!(matches!(err("ab", b"p\0q"), AuthError::InvalidInput(_)));
    }

    #[test]
    fn login_answers_by_order() {
        let mut ex = exchange(Mechanism::Login, "tim", "tanstaaf", "");
        assert_eq!(ex.initial_response(), None);
        // Prompts vary (localised, or swapped wording); only the order counts.
        assert_eq!(ex.respond(b"Benutzername:").unwrap(), b"tim");
        assert_eq!(ex.finish(), Err(AuthError::Incomplete));
        assert_eq!(ex.respond(b"Username:").unwrap(), b"tanstaaf");
        assert_eq!(ex.finish(), Ok(()));
        assert_eq!(ex.respond(b"More:"), Err(AuthError::UnexpectedChallenge));
        assert_eq!(ex.finish(), Err(AuthError::Incomplete));
    }

    #[test]
    fn cram_md5_rfc2195_vector() {
        let mut ex = exchange(Mechanism::CramMd5, "tim", "tanstaaftanstaaf", "");
        assert_eq!(ex.initial_response(), None);
        assert_eq!(ex.finish(), Err(AuthError::Incomplete));
        let reply = ex.respond(b"<1896.697170952@postoffice.reston.mci.net>").unwrap();
        assert_eq!(reply, b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert_eq!(ex.finish(), Ok(()));
        assert_eq!(ex.respond(b"<x@y>"), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn cram_md5_rejects_empty_challenge() {
        let mut ex = exchange(Mechanism::CramMd5, "tim", "tanstaaftanstaaf", "");
        assert!(matches!(ex.respond(b""), Err(AuthError::MalformedChallenge(_))));
    }

    #[test]
    fn scram_sha1_rfc5802_vector() {
        let mut ex = scram_sha1();
        assert_eq!(ex.initial_response().unwrap(), b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        assert_eq!(
            ex.respond(SHA1_SERVER_FIRST).unwrap(),
            b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert_eq!(ex.finish(), Err(AuthError::ServerNotVerified));
        assert_eq!(ex.respond(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap(), b"");
        assert_eq!(ex.finish(), Ok(()));
        assert_eq!(ex.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn scram_sha256_rfc7677_vector() {
        let mut ex = exchange(Mechanism::ScramSha256, "user", PW, "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(ex.initial_response().unwrap(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            ex.respond(server_first).unwrap(),
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        // RFC 7677 §3 as published; checked against an independent computation.
        let server_final = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
        assert_eq!(ex.respond(server_final).unwrap(), b"");
        assert_eq!(ex.finish(), Ok(()));
    }

    #[test]
    fn scram_client_first_on_empty_challenge() {
        // No SASL-IR: the server's empty challenge asks for client-first.
        let mut ex = scram_sha1();
        assert_eq!(ex.respond(b"").unwrap(), b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        assert!(matches!(ex.respond(b""), Err(AuthError::MalformedChallenge(_))));

        // SASL-IR sent but ignored: resend once, then carry on normally.
        let mut ex = scram_sha1();
        ex.initial_response().unwrap();
        assert_eq!(ex.respond(b"").unwrap(), b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        assert!(ex.respond(SHA1_SERVER_FIRST).unwrap().starts_with(b"c=biws,"));
        assert_eq!(ex.respond(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap(), b"");
        assert_eq!(ex.finish(), Ok(()));

        // Server data before any client-first cannot be a valid server-first.
        let mut ex = scram_sha1();
        assert!(matches!(
            ex.respond(SHA1_SERVER_FIRST),
            Err(AuthError::MalformedChallenge(_))
        ));
    }

    #[test]
    fn scram_escapes_user_name() {
        let mut ex = exchange(Mechanism::ScramSha256, "a=b,c@example.com", PW, "abc");
        assert_eq!(ex.initial_response().unwrap(), b"n,,n=a=3Db=2Cc@example.com,r=abc");
    }

    #[test]
    fn scram_rejects_bad_client_nonce() {
        for nonce in ["", "a,b", "a b", "caf\u{e9}"] {
            let err = SaslExchange::new(Mechanism::ScramSha1, "u", b"p", nonce, "", 0).unwrap_err();
            assert_eq!(err, AuthError::InvalidClientNonce);
        }
    }

    fn scram_after_first(server_first: &[u8]) -> (SaslExchange, Result<Vec<u8>, AuthError>) {
        let mut ex = scram_sha1();
        ex.initial_response().unwrap();
        let r = ex.respond(server_first);
        (ex, r)
    }

    #[test]
    fn scram_wrong_nonce_prefix() {
        for server_first in [
            &b"r=XXXX+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"[..],
            // Echoing our nonce without adding its own is a replay, not a server nonce.
            b"r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",
        ] {
            let (mut ex, r) = scram_after_first(server_first);
            assert_eq!(r, Err(AuthError::NonceMismatch));
            assert_eq!(ex.finish(), Err(AuthError::ServerNotVerified));
            assert_eq!(
                ex.respond(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
                Err(AuthError::UnexpectedChallenge)
            );
        }
    }

    #[test]
    fn scram_wrong_server_signature() {
        let (mut ex, r) = scram_after_first(SHA1_SERVER_FIRST);
        r.unwrap();
        let r = ex.respond(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert_eq!(r, Err(AuthError::ServerSignatureMismatch));
        assert_eq!(ex.finish(), Err(AuthError::ServerNotVerified));

        let (mut ex, _) = scram_after_first(SHA1_SERVER_FIRST);
        assert_eq!(ex.respond(b"v=cm1GOXBxVjg="), Err(AuthError::ServerSignatureMismatch));
        let (mut ex, _) = scram_after_first(SHA1_SERVER_FIRST);
        assert!(matches!(ex.respond(b"v=!!!"), Err(AuthError::MalformedChallenge(_))));
        let (mut ex, _) = scram_after_first(SHA1_SERVER_FIRST);
        assert!(matches!(ex.respond(b"x=1"), Err(AuthError::MalformedChallenge(_))));
    }

    #[test]
    fn scram_server_error_attribute() {
        let (mut ex, _) = scram_after_first(SHA1_SERVER_FIRST);
        let r = ex.respond(b"e=invalid-proof");
        assert_eq!(r, Err(AuthError::ScramServerError("invalid-proof".into())));
        assert_eq!(ex.finish(), Err(AuthError::ServerNotVerified));

        let (_, r) = scram_after_first(b"e=unknown-user\x1b[2J");
        assert_eq!(r, Err(AuthError::ScramServerError("unknown-user\u{241b}[2J".into())));
    }

    /// Issue 11 item 7: server text in SCRAM and OAuth errors goes through
    /// the one sanitizer, bidi controls included.
    #[test]
    fn server_error_texts_are_terminal_safe() {
        let hostile = "evil\u{202e}txt.exe\u{2066}\u{1b}]0;x\u{7}\u{9b}2J";
        let (_, r) = scram_after_first(format!("e={hostile}").as_bytes());
        let Err(AuthError::ScramServerError(text)) = r else {
            panic!("{r:?}")
        };
        assert!(crate::sanitize::is_terminal_safe(&text), "{text:?}");
        assert!(text.starts_with("evil"), "{text:?}");

        let mut ex = exchange(Mechanism::XOAuth2, "someone@example.com", "ya29.token", "");
        ex.respond(b"").unwrap();
        ex.respond(hostile.as_bytes()).unwrap();
        let detail = ex.server_error_detail().unwrap();
        assert!(crate::sanitize::is_terminal_safe(detail), "{detail:?}");

        // Still bounded: a megabyte of JSON is not an error message.
        let mut ex = exchange(Mechanism::OAuthBearer, "u", "t", "");
        ex.respond(b"").unwrap();
        ex.respond(&vec![b'x'; 1 << 20]).unwrap();
        assert_eq!(ex.server_error_detail().unwrap().chars().count(), 1024);
    }

    #[test]
    fn scram_iteration_count_bounds() {
        let with_i = |i: &str| {
            let sf = format!("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i={i}");
            scram_after_first(sf.as_bytes()).1
        };
        assert_eq!(with_i("0"), Err(AuthError::IterationCountOutOfRange(0)));
        assert_eq!(with_i("1000001"), Err(AuthError::IterationCountOutOfRange(1_000_001)));
        assert_eq!(
            with_i("99999999999"),
            Err(AuthError::IterationCountOutOfRange(99_999_999_999))
        );
        assert!(matches!(with_i("-1"), Err(AuthError::MalformedChallenge(_))));
        assert!(matches!(
            with_i("999999999999999999999999"),
            Err(AuthError::MalformedChallenge(_))
        ));
        assert!(with_i("1").is_ok());
    }

    #[test]
    fn scram_malformed_server_first() {
        for sf in [
            &b"s=QSXCR+Q6sek8bf92,i=4096"[..],
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,i=4096",
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92",
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=not base64!,i=4096",
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=,i=4096",
            b"m=ext,r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096",
            b"r=fyko+d2lbbFgONRv9qkxdawL3 fc,s=QSXCR+Q6sek8bf92,i=4096",
            b"\xff\xfe",
        ] {
            let (_, r) = scram_after_first(sf);
            assert!(matches!(r, Err(AuthError::MalformedChallenge(_))), "{r:?}");
        }
        // Extensions after the iteration count are allowed and ignored.
        let (_, r) = scram_after_first(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,x=y");
        assert!(r.is_ok());
    }

    #[test]
    fn xoauth2_exact_bytes() {
        let mut ex = exchange(Mechanism::XOAuth2, "someone@example.com", "ya29.token", "");
        assert_eq!(ex.initial_response(), None);
        assert_eq!(ex.finish(), Err(AuthError::Incomplete));
        assert_eq!(
            ex.respond(b"").unwrap(),
            b"user=someone@example.com\x01auth=Bearer ya29.token\x01\x01"
        );
        assert_eq!(ex.server_error_detail(), None);
        assert_eq!(ex.finish(), Ok(()));
    }

    #[test]
    fn xoauth2_error_challenge() {
        let mut ex = exchange(Mechanism::XOAuth2, "someone@example.com", "ya29.token", "");
        ex.respond(b"").unwrap();
        let json = br#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
        assert_eq!(ex.respond(json).unwrap(), b"");
        assert_eq!(ex.server_error_detail(), Some(std::str::from_utf8(json).unwrap()));
        assert_eq!(ex.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn oauth_error_detail_is_terminal_safe() {
        let mut ex = exchange(Mechanism::XOAuth2, "someone@example.com", "ya29.token", "");
        ex.respond(b"").unwrap();
        ex.respond("{\"status\":\"\u{202e}400\u{2066}\"}".as_bytes()).unwrap();
        let detail = ex.server_error_detail().unwrap();
        assert!(crate::sanitize::is_terminal_safe(detail), "{detail:?}");
        assert!(detail.contains("400"), "{detail:?}");
    }

    #[test]
    fn oauthbearer_exact_bytes() {
        let mut ex = exchange(Mechanism::OAuthBearer, "user@example.com", "vF9dft4qmT", "");
        assert_eq!(ex.initial_response(), None);
        assert_eq!(
            ex.respond(b"").unwrap(),
            b"n,a=user@example.com,\x01host=pop.example.com\x01port=995\x01auth=Bearer vF9dft4qmT\x01\x01"
        );
        assert_eq!(ex.finish(), Ok(()));

        let mut ex = SaslExchange::new(Mechanism::OAuthBearer, "a,b=c", b"t", "", "", 0).unwrap();
        assert_eq!(ex.respond(b"").unwrap(), b"n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01");
    }

    #[test]
    fn oauthbearer_error_challenge() {
        let mut ex = exchange(Mechanism::OAuthBearer, "user@example.com", "vF9dft4qmT", "");
        ex.respond(b"").unwrap();
        let json = b"{\"status\":\"invalid_token\"}\n";
        assert_eq!(ex.respond(json).unwrap(), b"\x01");
        assert_eq!(ex.server_error_detail(), Some("{\"status\":\"invalid_token\"} "));
        assert_eq!(ex.respond(b""), Err(AuthError::UnexpectedChallenge));
    }

    #[test]
    fn oauth_rejects_separator_bytes() {
        for m in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
            let new = |u: &str, t: &[u8]| SaslExchange::new(m, u, t, "", "h", 1).unwrap_err();
            assert!(matches!(new("a\x01b", b"t"), AuthError::InvalidInput(_)));
            assert!(matches!(new("ab", b"t\x01"), AuthError::InvalidInput(_)));
            assert!(matches!(new("ab", b"t\r\n"), AuthError::InvalidInput(_)));
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        for m in Mechanism::ALL.into_iter().filter(|m| m.is_sasl()) {
            let mut ex = exchange(m, "user", PW, "fyko+d2lbbFgONRv9qkxdawL");
            let _ = ex.initial_response();
            let _ = ex.respond(SHA1_SERVER_FIRST);
            let _ = ex.respond(b"v=xxxx");
            let dbg = format!("{ex:?}");
            assert!(!dbg.contains(PW), "{dbg}");
            assert!(dbg.contains("SaslExchange"), "{dbg}");
        }
        let ex = scram_sha1();
        assert_eq!(
            format!("{ex:?}"),
            "SaslExchange { mechanism: ScramSha1, step: \"start\", .. }"
        );
    }

    #[test]
    fn errors_never_show_the_secret() {
        let mut errors = vec![
            AuthError::NotSasl(Mechanism::Apop),
            AuthError::InvalidClientNonce,
            AuthError::NonceMismatch,
            AuthError::IterationCountOutOfRange(0),
            AuthError::ServerSignatureMismatch,
            AuthError::UnexpectedChallenge,
            AuthError::ServerNotVerified,
            AuthError::Incomplete,
        ];
        // Every error the code actually produces, with "pencil" as the secret.
        errors.extend(SaslExchange::new(Mechanism::Plain, "u", b"pencil\0", "", "", 0).err());
        errors.extend(SaslExchange::new(Mechanism::XOAuth2, "u", b"pencil\x01", "", "", 0).err());
        errors.extend(SaslExchange::new(Mechanism::ScramSha1, "u\0", b"pencil", "n", "", 0).err());
        for sf in [
            &b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=,i=4096"[..],
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=x",
            b"m=x",
            b"e=other-error",
        ] {
            errors.extend(scram_after_first(sf).1.err());
        }
        for sfinal in [&b"v=AAAA"[..], b"e=invalid-proof", b"v=!", b"q"] {
            errors.extend(scram_after_first(SHA1_SERVER_FIRST).0.respond(sfinal).err());
        }
        assert_eq!(errors.len(), 19);
        for e in errors {
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(PW), "{shown}");
        }
    }
}
