//! What a session needs to know before it connects, and the one way to
//! build it (`SessionConfig::builder`): the command line, the demo, the
//! tests and the benchmarks all start from the same defaults.

use super::tls::TlsOptions;
use crate::pop3::auth::{CredentialKind, Mechanism};
use crate::secret::Secret;
use std::time::Duration;

/// Default pipelining window. With W commands in flight and a round trip
/// of R, answers arrive at most W/R per second: mpop's 100 caps a 10 ms link
/// at 10,000 headers/s (2,000 messages: 4x the network's limit, measured in
/// benches/pop3.rs), 1,000 lets the link be the limit. 1,000 `TOP n 0`
/// lines are 14 KB: nothing a server that offers PIPELINING cannot buffer,
/// and reads and writes run concurrently, so neither side can deadlock.
pub const DEFAULT_WINDOW: usize = 1000;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (pop3s, port 995).
    Implicit,
    /// Plain connect, then upgrade with STLS (pop3, port 110).
    Starttls,
    /// No encryption at all.
    None,
}

/// Whether a missing STLS stops the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTlsPolicy {
    Required,
    Optional,
}

/// What the person logs in with.
#[derive(Debug, Clone)]
pub enum Credential {
    Password(Secret),
    OAuthToken(Secret),
}

impl Credential {
    pub(crate) fn secret(&self) -> &Secret {
        match self {
            Credential::Password(s) | Credential::OAuthToken(s) => s,
        }
    }

    pub(crate) fn kind(&self) -> CredentialKind {
        match self {
            Credential::Password(_) => CredentialKind::Password,
            Credential::OAuthToken(_) => CredentialKind::OAuthToken,
        }
    }
}

/// Everything needed to open a session. Built with `SessionConfig::builder`;
/// the fields can be read (and adjusted) afterwards.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub starttls: StartTlsPolicy,
    pub tls_options: TlsOptions,
    pub user: String,
    pub credential: Credential,
    /// Forces a mechanism instead of choosing the strongest offered.
    pub mechanism: Option<Mechanism>,
    /// Allows USER/PASS, PLAIN, LOGIN and bearer tokens over a link that is
    /// not encrypted.
    pub allow_plaintext: bool,
    pub connect_timeout: Duration,
    /// How long the server may stay silent while an answer is awaited.
    pub response_timeout: Duration,
    /// Use PIPELINING when the server offers it.
    pub pipelining: bool,
    /// Commands in flight at once when pipelining (at least 1).
    pub window: usize,
    pub trace_bodies: bool,
}

impl SessionConfig {
    /// Starts from popscope's defaults, which are the command line's:
    /// implicit TLS with verified certificates, STLS required when STLS is
    /// chosen, no secret in the clear, the strongest mechanism offered,
    /// 15 s to connect, 30 s per answer, pipelining with `DEFAULT_WINDOW`.
    pub fn builder(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        credential: Credential,
    ) -> SessionConfigBuilder {
        SessionConfigBuilder {
            config: SessionConfig {
                host: host.into(),
                port,
                tls: TlsMode::Implicit,
                starttls: StartTlsPolicy::Required,
                tls_options: TlsOptions::default(),
                user: user.into(),
                credential,
                mechanism: None,
                allow_plaintext: false,
                connect_timeout: Duration::from_secs(15),
                response_timeout: Duration::from_secs(30),
                pipelining: true,
                window: DEFAULT_WINDOW,
                trace_bodies: false,
            },
        }
    }
}

/// See `SessionConfig::builder`.
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionConfigBuilder {
    config: SessionConfig,
}

impl SessionConfigBuilder {
    pub fn tls(mut self, mode: TlsMode) -> Self {
        self.config.tls = mode;
        self
    }

    pub fn starttls(mut self, policy: StartTlsPolicy) -> Self {
        self.config.starttls = policy;
        self
    }

    pub(crate) fn tls_options(mut self, options: TlsOptions) -> Self {
        self.config.tls_options = options;
        self
    }

    pub fn mechanism(mut self, mechanism: Option<Mechanism>) -> Self {
        self.config.mechanism = mechanism;
        self
    }

    pub fn allow_plaintext(mut self, allow: bool) -> Self {
        self.config.allow_plaintext = allow;
        self
    }

    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.config.connect_timeout = limit;
        self
    }

    pub fn response_timeout(mut self, limit: Duration) -> Self {
        self.config.response_timeout = limit;
        self
    }

    pub fn pipelining(mut self, use_it: bool) -> Self {
        self.config.pipelining = use_it;
        self
    }

    pub fn window(mut self, window: usize) -> Self {
        self.config.window = window.max(1);
        self
    }

    pub fn trace_bodies(mut self, on: bool) -> Self {
        self.config.trace_bodies = on;
        self
    }

    pub fn build(self) -> SessionConfig {
        self.config
    }
}
