//! A live POP3 session: connecting (TCP, implicit TLS or STLS), logging in,
//! and a handle through which the rest of popscope sends commands.
//!
//! `open` runs the login sequence and records each step for `check`. The
//! returned `Session` talks to the driver task through channels; dropping
//! it closes the connection without QUIT, which deletes nothing.

pub mod driver;
pub mod tls;
pub mod trace;

use crate::error::{Failure, FailureKind};
use crate::pop3::auth::{CredentialKind, Mechanism, SaslExchange, apop_digest, apop_timestamp, choose_mechanism};
use crate::pop3::client::{Client, ClientConfig, Command, Outcome, Priority, Reply, SessionState};
use crate::pop3::codec::{ResponseCode, StatusLine};
use crate::pop3::response::Capabilities;
use crate::secret::Secret;
use driver::{CommandResult, Connection, Driver, DriverConfig, DriverStatus, Request, Route, SessionEvent};
use std::net::SocketAddr;
use std::time::Duration;
use tls::{TlsInfo, TlsOptions, TlsSetup};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use trace::{TraceClock, TraceEntry};

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// TLS from the first byte (pop3s, port 995).
    Implicit,
    /// Plain connect, then upgrade with STLS (pop3, port 110).
    Starttls,
    /// No encryption at all.
    None,
}

/// Whether a missing STLS stops the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
    fn secret(&self) -> &Secret {
        match self {
            Credential::Password(s) | Credential::OAuthToken(s) => s,
        }
    }

    fn kind(&self) -> CredentialKind {
        match self {
            Credential::Password(_) => CredentialKind::Password,
            Credential::OAuthToken(_) => CredentialKind::OAuthToken,
        }
    }
}

/// Everything needed to open a session.
#[derive(Debug, Clone)]
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
    pub response_timeout: Duration,
    /// Use PIPELINING when the server offers it.
    pub pipelining: bool,
    /// Commands in flight at once when pipelining.
    pub window: usize,
    pub trace_bodies: bool,
}

/// Default pipelining window. With W commands in flight and a round trip
/// of R, answers arrive at most W/R per second: mpop's 100 caps a 10 ms link
/// at 10,000 headers/s (2,000 messages: 4x the network's limit, measured in
/// benches/pop3.rs), 1,000 lets the link be the limit. 1,000 `TOP n 0`
/// lines are 14 KB: nothing a server that offers PIPELINING cannot buffer,
/// and reads and writes run concurrently, so neither side can deadlock.
pub const DEFAULT_WINDOW: usize = 1000;

/// One step of the login sequence, for `check`.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub name: &'static str,
    pub detail: String,
    pub elapsed: Duration,
}

/// What `open` found out on the way in.
#[derive(Debug, Clone)]
pub struct ConnectReport {
    pub address: Option<SocketAddr>,
    pub steps: Vec<StepReport>,
    pub tls: Option<TlsInfo>,
    pub greeting: Option<StatusLine>,
    /// CAPA before login (after STLS, if STLS was used).
    pub capa_before: Option<Capabilities>,
    /// CAPA on the plain connection before STLS, if STLS was used.
    pub capa_plain: Option<Capabilities>,
    pub capa_after: Option<Capabilities>,
    pub mechanism: Option<Mechanism>,
    pub window: usize,
    pub warnings: Vec<String>,
}

impl Default for ConnectReport {
    fn default() -> ConnectReport {
        ConnectReport {
            address: None,
            steps: Vec::new(),
            tls: None,
            greeting: None,
            capa_before: None,
            capa_plain: None,
            capa_after: None,
            mechanism: None,
            window: 1,
            warnings: Vec::new(),
        }
    }
}

impl ConnectReport {
    /// The capabilities that apply now (after login when known).
    pub fn capabilities(&self) -> Capabilities {
        self.capa_after
            .clone()
            .or_else(|| self.capa_before.clone())
            .unwrap_or_default()
    }
}

/// Where a session's trace and events go.
#[derive(Default)]
pub struct Observers {
    pub trace: Option<mpsc::UnboundedSender<TraceEntry>>,
    pub events: Option<mpsc::UnboundedSender<SessionEvent>>,
}

/// How a QUIT ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuitResult {
    /// The server answered; its words are here (`+OK` or `-ERR`).
    Answered(StatusLine),
    /// The connection ended before an answer came: whether the server
    /// committed anything is unknown.
    Unknown(String),
    /// QUIT was not sent (e.g. RSET failed before an unconfirmed QUIT).
    NotSent(String),
}

/// A logged-in session. Dropping it closes the connection without QUIT.
pub struct Session {
    requests: mpsc::UnboundedSender<Request>,
    status: watch::Receiver<DriverStatus>,
    task: tokio::task::JoinHandle<()>,
    pub report: ConnectReport,
}

/// Largest RETR body `call` collects in memory.
pub const DEFAULT_COLLECT_LIMIT: usize = 16 * 1024 * 1024;

impl Session {
    /// Sends a command and waits for its outcome. `Lost`/`NotSent` outcomes
    /// (the connection failed) become the session's failure.
    pub async fn call(&self, command: Command) -> Result<Outcome, Failure> {
        self.send_now(command)?.await
    }

    /// Puts a command on its way now; the returned future waits for the
    /// outcome. Lets a caller send several commands before awaiting any.
    pub fn send_now(
        &self,
        command: Command,
    ) -> Result<impl std::future::Future<Output = Result<Outcome, Failure>> + '_, Failure> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Submit {
            command,
            priority: Priority::Normal,
            route: Route::Reply {
                tx,
                limit: DEFAULT_COLLECT_LIMIT,
            },
        })?;
        Ok(self.settle(rx))
    }

    /// Like `call`, but `-ERR` is a failure too (with the server's words).
    pub async fn call_ok(&self, command: Command) -> Result<Reply, Failure> {
        let what = command.kind().to_string();
        match self.call(command).await? {
            Outcome::Ok(reply) => Ok(reply),
            Outcome::Err(status) => Err(server_refused(&what, &status)),
            other => Err(self.outcome_failure(&what, other).await),
        }
    }

    /// Queues a command whose answer arrives on `route`; returns at once.
    pub fn submit(&self, command: Command, priority: Priority, route: Route) -> Result<(), Failure> {
        self.send(Request::Submit {
            command,
            priority,
            route,
        })
    }

    /// RETR streamed in chunks; `capacity` chunks may wait in the channel
    /// before the driver stops reading (backpressure).
    pub fn retr_stream(
        &self,
        msg: u32,
        capacity: usize,
        priority: Priority,
    ) -> Result<(mpsc::Receiver<Vec<u8>>, oneshot::Receiver<CommandResult>), Failure> {
        let (data, data_rx) = mpsc::channel(capacity.max(1));
        let (done, done_rx) = oneshot::channel();
        self.send(Request::Submit {
            command: Command::Retr(msg),
            priority,
            route: Route::Stream { data, done },
        })?;
        Ok((data_rx, done_rx))
    }

    pub fn set_window(&self, window: usize) -> Result<(), Failure> {
        self.send(Request::SetWindow(window))
    }

    pub fn tls(&self) -> Option<TlsInfo> {
        self.status.borrow().tls.clone()
    }

    pub fn state(&self) -> Option<SessionState> {
        self.status.borrow().state
    }

    /// The failure that ended the session, if it has ended.
    pub fn failure(&self) -> Option<Failure> {
        self.status.borrow().failure.clone()
    }

    /// Ends the session with QUIT. `commit: true` only when the person
    /// confirmed the deletion; otherwise marks are reset first (and QUIT is
    /// withheld if that fails). Says exactly what the server answered.
    pub async fn quit(self, commit: bool) -> QuitResult {
        let outcome = self.call(Command::Quit { commit }).await;
        let result = match outcome {
            Ok(Outcome::Ok(reply)) => QuitResult::Answered(reply.status),
            Ok(Outcome::Err(status)) => QuitResult::Answered(status),
            Ok(Outcome::NotSent(reason)) => QuitResult::NotSent(reason),
            Ok(Outcome::Lost(reason)) => QuitResult::Unknown(reason),
            Ok(Outcome::AuthFailed { error, .. }) => QuitResult::NotSent(error.to_string()),
            Err(failure) => QuitResult::Unknown(failure.message),
        };
        drop(self.requests);
        let _ = self.task.await;
        result
    }

    /// Closes the connection without QUIT (nothing can be committed) and
    /// waits for the driver to finish.
    pub async fn abandon(self) {
        drop(self.requests);
        self.task.abort();
        let _ = self.task.await;
    }

    fn send(&self, request: Request) -> Result<(), Failure> {
        self.requests.send(request).map_err(|_| {
            self.failure()
                .unwrap_or_else(|| Failure::new(FailureKind::Connect, "the session has ended"))
        })
    }

    async fn settle(&self, rx: oneshot::Receiver<CommandResult>) -> Result<Outcome, Failure> {
        match rx.await {
            Ok(Ok(outcome @ (Outcome::Lost(_) | Outcome::NotSent(_)))) => {
                // Prefer the classified failure (timeout, TLS, ...) if the
                // session died; a plain NotSent stays an outcome.
                match self.wait_for_failure(&outcome).await {
                    Some(f) => Err(f),
                    None => Ok(outcome),
                }
            }
            Ok(result) => result,
            Err(_) => Err(self
                .wait_for_failure(&Outcome::Lost(String::new()))
                .await
                .unwrap_or_else(|| {
                    Failure::new(
                        FailureKind::Connect,
                        "the session ended before the command was answered",
                    )
                })),
        }
    }

    async fn wait_for_failure(&self, outcome: &Outcome) -> Option<Failure> {
        let mut status = self.status.clone();
        if matches!(outcome, Outcome::Lost(_)) {
            let _ = status.wait_for(|s| s.closed).await;
        }
        let current = status.borrow().clone();
        current.failure
    }

    async fn outcome_failure(&self, what: &str, outcome: Outcome) -> Failure {
        match outcome {
            Outcome::AuthFailed { error, .. } => Failure::new(FailureKind::Auth, format!("{what}: {error}")),
            Outcome::Lost(reason) | Outcome::NotSent(reason) => self
                .failure()
                .unwrap_or_else(|| Failure::new(FailureKind::Connect, format!("{what}: {reason}"))),
            Outcome::Ok(_) | Outcome::Err(_) => {
                Failure::new(FailureKind::Protocol, format!("{what}: unexpected outcome"))
            }
        }
    }
}

/// Explains a `-ERR` in terms of its response code.
pub fn server_refused(what: &str, status: &StatusLine) -> Failure {
    let kind = match status.code {
        Some(ResponseCode::InUse | ResponseCode::LoginDelay | ResponseCode::SysTemp | ResponseCode::SysPerm) => {
            FailureKind::Mailbox
        }
        Some(ResponseCode::Auth) => FailureKind::Auth,
        _ => FailureKind::Protocol,
    };
    let failure = Failure::new(kind, format!("the server refused {what}: {status}"));
    match &status.code {
        Some(code) => failure.with_hint(code.explanation()),
        None => failure,
    }
}

/// Connects, secures, logs in. See the module docs.
pub async fn open(config: &SessionConfig, observers: Observers) -> Result<Session, Failure> {
    open_reporting(config, observers, &mut ConnectReport::default()).await
}

/// `open`, recording each step in `report` as it happens, so a caller can
/// show how far it got when a step fails.
pub async fn open_reporting(
    config: &SessionConfig,
    observers: Observers,
    report: &mut ConnectReport,
) -> Result<Session, Failure> {
    let started = Instant::now();
    let mut step_start = Instant::now();
    let mut step = |report: &mut ConnectReport, name: &'static str, detail: String| {
        report.steps.push(StepReport {
            name,
            detail,
            elapsed: step_start.elapsed(),
        });
        step_start = Instant::now();
    };

    let tls_setup = match config.tls {
        TlsMode::None => None,
        _ => Some(TlsSetup::new(&config.tls_options)?),
    };
    if config.tls_options.insecure && config.tls != TlsMode::None {
        report
            .warnings
            .push("--insecure: the server's certificate is NOT verified; anyone on the path can impersonate it".into());
    }

    let (tcp, address) = connect_tcp(&config.host, config.port, config.connect_timeout).await?;
    report.address = Some(address);
    step(report, "connect", format!("TCP connected to {address}"));

    let conn = match (&config.tls, &tls_setup) {
        (TlsMode::Implicit, Some(tls)) => {
            let (stream, info) = driver::handshake(tcp, tls, &config.host, config.connect_timeout).await?;
            step(report, "tls", format!("{} {}", info.version, info.cipher));
            report.tls = Some(info);
            Connection::Tls(Box::new(stream))
        }
        _ => Connection::Plain(tcp),
    };

    let clock = TraceClock::default();
    if let (Some(trace), Some(info)) = (&observers.trace, &report.tls) {
        let _ = trace.send(clock.note(format!(
            "TLS established: {} {}, certificate {}",
            info.version, info.cipher, info.verification
        )));
    }
    for warning in &report.warnings {
        if let Some(trace) = &observers.trace {
            let _ = trace.send(clock.note(format!("WARNING: {warning}")));
        }
    }
    let client = Client::new(
        ClientConfig {
            window: 1,
            // Trace lines are three strings per command: only make them for
            // someone who reads them.
            trace: observers.trace.is_some() || observers.events.is_some(),
            trace_bodies: config.trace_bodies,
            answer_timeout: config.response_timeout,
        },
        Instant::now().into_std(),
    );
    let (requests_tx, requests_rx) = mpsc::unbounded_channel();
    let (status_tx, status_rx) = watch::channel(DriverStatus {
        tls: report.tls.clone(),
        ..DriverStatus::default()
    });
    let driver = Driver::new(
        client,
        conn,
        DriverConfig {
            host: config.host.clone(),
            tls: tls_setup,
            handshake_timeout: config.response_timeout,
            trace: observers.trace,
            events: observers.events,
            clock,
        },
        requests_rx,
        status_tx,
    );
    let task = tokio::spawn(driver.run());
    let mut session = Session {
        requests: requests_tx,
        status: status_rx,
        task,
        report: ConnectReport::default(),
    };

    // The greeting.
    let greeting = {
        let mut status = session.status.clone();
        let _ = status.wait_for(|s| s.greeting.is_some() || s.closed).await;
        let current = status.borrow().clone();
        match current.greeting {
            Some(g) => g,
            None => {
                return Err(session.failure().unwrap_or_else(|| {
                    Failure::new(
                        FailureKind::Protocol,
                        "the server closed the connection without a greeting",
                    )
                }));
            }
        }
    };
    step(report, "greeting", greeting.to_string());
    report.greeting = Some(greeting.clone());

    let mut caps = capa(&session, report).await?;
    step(report, "capa", describe_capa(&caps));

    // STLS.
    if config.tls == TlsMode::Starttls {
        let offered = caps.as_ref().map(|c| c.stls);
        let outcome = if offered == Some(false) {
            None
        } else {
            Some(session.call(Command::Stls).await?)
        };
        match outcome {
            Some(Outcome::Ok(_)) => {
                report.tls = session.tls();
                let info = report
                    .tls
                    .as_ref()
                    .map(|i| format!("{} {}", i.version, i.cipher))
                    .unwrap_or_default();
                step(report, "stls", info);
                report.capa_plain = caps.take();
                caps = capa(&session, report).await?;
                step(report, "capa", describe_capa(&caps));
            }
            Some(Outcome::Err(_)) | None => {
                let why = match outcome {
                    Some(Outcome::Err(status)) => format!("the server refused STLS ({status})"),
                    _ => "the server does not offer STLS".to_string(),
                };
                if config.starttls == StartTlsPolicy::Required {
                    return Err(Failure::new(FailureKind::Policy, format!("{why}, and encryption is required"))
                        .with_hint("use pop3s:// (implicit TLS, port 995) if the server has it; or pass --starttls optional (or --tls none) to continue unencrypted"));
                }
                report
                    .warnings
                    .push(format!("{why}: continuing WITHOUT encryption (--starttls optional)"));
            }
            Some(other) => return Err(session.outcome_failure("STLS", other).await),
        }
    }
    report.capa_before = caps.clone();
    let encrypted = report.tls.is_some();

    // Login.
    let mechanism = pick_mechanism(config, caps.as_ref(), &greeting, encrypted)?;
    report.mechanism = Some(mechanism);
    authenticate(&session, config, mechanism, &greeting).await?;
    step(
        report,
        "login",
        format!(
            "{} as {}",
            mechanism.name(),
            crate::sanitize::sanitize_text(&config.user, false)
        ),
    );

    // Capabilities can differ after login (RFC 2449 §5): ask again, unless
    // the answer before login already had everything popscope acts on
    // (PIPELINING, TOP, UIDL), where asking would cost a round trip and
    // could change nothing. `check` always asks, to show it.
    if !report.capa_before.as_ref().is_some_and(has_all_we_use) {
        let caps_after = capa(&session, report).await?;
        step(report, "capa again", describe_capa(&caps_after));
        report.capa_after = caps_after;
    }
    let pipelining = report.capabilities().pipelining;
    report.window = if pipelining && config.pipelining {
        config.window.max(1)
    } else {
        1
    };
    if report.window > 1 {
        session.set_window(report.window)?;
    }
    if !report.capabilities().uidl {
        report.warnings.push(
            "the server does not offer UIDL: messages are identified by number only, which changes between sessions"
                .into(),
        );
    }
    if !report.capabilities().top && report.capa_after.is_some() {
        report
            .warnings
            .push("the server does not list TOP: header previews may be unavailable".into());
    }
    report.steps.push(StepReport {
        name: "total",
        detail: String::new(),
        elapsed: started.elapsed(),
    });
    session.report = report.clone();
    Ok(session)
}

async fn connect_tcp(host: &str, port: u16, limit: Duration) -> Result<(TcpStream, SocketAddr), Failure> {
    let attempt = async {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| {
                Failure::new(FailureKind::Connect, format!("cannot resolve {host:?}: {e}"))
                    .with_hint("check the host name and this machine's DNS")
            })?
            .collect();
        let mut last_error = None;
        for address in &addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok((stream, *address));
                }
                Err(e) => last_error = Some((address, e)),
            }
        }
        Err(match last_error {
            Some((address, e)) => Failure::new(FailureKind::Connect, format!("cannot connect to {address}: {e}"))
                .with_hint(
                    "check the host and port, and that a POP3 server listens there (110 for pop3://, 995 for pop3s://)",
                ),
            None => Failure::new(FailureKind::Connect, format!("{host:?} has no addresses")),
        })
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Failure::new(
            FailureKind::Timeout,
            format!(
                "connecting to {host}:{port} did not succeed within {} s",
                limit.as_secs_f32()
            ),
        )
        .with_hint("check the host, the port and any firewall; raise --connect-timeout for slow links")),
    }
}

/// The capabilities whose presence changes what popscope does.
fn has_all_we_use(caps: &Capabilities) -> bool {
    caps.pipelining && caps.top && caps.uidl
}

/// Asks CAPA after login if `open` did not, and records it: for `check`,
/// which shows both answers.
pub async fn recheck_capabilities(session: &mut Session) -> Result<(), Failure> {
    let skipped =
        session.report.capa_after.is_none() && session.report.capa_before.as_ref().is_some_and(has_all_we_use);
    if !skipped {
        return Ok(());
    }
    let started = Instant::now();
    let mut report = session.report.clone();
    let caps = capa(session, &mut report).await?;
    let at = report
        .steps
        .iter()
        .position(|s| s.name == "total")
        .unwrap_or(report.steps.len());
    report.steps.insert(
        at,
        StepReport {
            name: "capa again",
            detail: describe_capa(&caps),
            elapsed: started.elapsed(),
        },
    );
    report.capa_after = caps;
    session.report = report;
    Ok(())
}

async fn capa(session: &Session, report: &mut ConnectReport) -> Result<Option<Capabilities>, Failure> {
    match session.call(Command::Capa).await? {
        Outcome::Ok(reply) => Ok(Some(Capabilities::parse(reply.payload()))),
        Outcome::Err(status) => {
            report.warnings.push(format!(
                "the server does not support CAPA ({status}); assuming a minimal RFC 1939 server"
            ));
            Ok(None)
        }
        other => Err(session.outcome_failure("CAPA", other).await),
    }
}

fn describe_capa(caps: &Option<Capabilities>) -> String {
    match caps {
        Some(c) => c.lines.join(", "),
        None => "not supported".into(),
    }
}

fn pick_mechanism(
    config: &SessionConfig,
    caps: Option<&Capabilities>,
    greeting: &StatusLine,
    encrypted: bool,
) -> Result<Mechanism, Failure> {
    let has_apop = apop_timestamp(&greeting.text).is_some();
    let chosen = match config.mechanism {
        Some(m) => m,
        None => {
            let offered: Vec<String> = caps.map(|c| c.sasl_list()).unwrap_or_default();
            let user_offered = caps.map(|c| c.user).unwrap_or(true);
            let mut candidates = offered.clone();
            if !encrypted && !config.allow_plaintext {
                // Prefer a mechanism that keeps the secret off the wire.
                candidates.retain(|name| Mechanism::parse(name).is_some_and(|m| !m.sends_secret_in_clear()));
                let safe = choose_mechanism(config.credential.kind(), &candidates, has_apop, false)
                    .filter(|m| !m.sends_secret_in_clear());
                if let Some(m) = safe {
                    return Ok(m);
                }
            }
            choose_mechanism(config.credential.kind(), &offered, has_apop, user_offered).ok_or_else(|| {
                Failure::new(
                    FailureKind::Auth,
                    "the server offers no login mechanism popscope can use with this credential",
                )
                .with_hint("run `popscope check` to see what the server offers, then pick one with --auth")
            })?
        }
    };
    if chosen == Mechanism::Apop && !has_apop {
        return Err(Failure::new(
            FailureKind::Auth,
            "APOP was requested but the server's greeting has no APOP timestamp",
        )
        .with_hint("choose another mechanism with --auth"));
    }
    if config.credential.kind() == CredentialKind::OAuthToken && !chosen.uses_oauth_token() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{} needs a password, but an OAuth token was given", chosen.name()),
        ));
    }
    if config.credential.kind() == CredentialKind::Password && chosen.uses_oauth_token() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{} needs an OAuth token (--oauth-token-command)", chosen.name()),
        ));
    }
    if !encrypted && chosen.sends_secret_in_clear() && !config.allow_plaintext {
        return Err(Failure::new(
            FailureKind::Policy,
            format!(
                "refusing to send the password in the clear: {} over an unencrypted connection",
                chosen.name()
            ),
        )
        .with_hint(
            "use pop3s:// or STLS; or, if you accept that anyone on the path can read it, pass --allow-plaintext",
        ));
    }
    Ok(chosen)
}

async fn authenticate(
    session: &Session,
    config: &SessionConfig,
    mechanism: Mechanism,
    greeting: &StatusLine,
) -> Result<(), Failure> {
    let secret = config.credential.secret();
    let outcome = match mechanism {
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
                &client_nonce(),
                &config.host,
                config.port,
            )
            .map_err(|e| Failure::new(FailureKind::Auth, e.to_string()))?;
            session.call(Command::Auth(Box::new(exchange))).await?
        }
    };
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
    match &status.code {
        Some(
            code @ (ResponseCode::InUse | ResponseCode::LoginDelay | ResponseCode::SysTemp | ResponseCode::SysPerm),
        ) => Failure::new(
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
fn client_nonce() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 18];
    // A failing system RNG leaves zeros; SCRAM still works, it is only less
    // unpredictable, and there is nothing better to do without one.
    let _ = getrandom::getrandom(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
