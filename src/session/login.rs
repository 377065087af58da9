//! The way in: connect, secure, greeting, CAPA, STLS, CAPA, authenticate,
//! CAPA again. Each step is a function, and each is recorded in the
//! `ConnectReport` the moment it ends, so `check` can show how far a failed
//! attempt got.

use super::authenticate::authenticate;
use super::config::{SessionConfig, StartTlsPolicy, TlsMode};
use super::connect::{Connection, connect_tcp, handshake, speaks_tls};
use super::driver::{Driver, DriverConfig, DriverStatus, SessionEvent};
use super::handle::Session;
use super::progress::{LoginProgress, Stopwatch};
use super::tls::{TlsInfo, TlsSetup};
use super::trace::{TraceClock, TraceHeader, TraceObserver, dispatch};
use crate::error::{Failure, FailureKind};
use crate::pop3::auth::Mechanism;
use crate::pop3::client::{Client, ClientConfig, Command, Outcome};
use crate::pop3::codec::StatusLine;
use crate::pop3::response::Capabilities;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// A step of the login sequence (and of `check`, which adds STAT and
/// QUIT), as `check` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    Tls,
    Greeting,
    /// CAPA before login (asked again after STLS, under the same name).
    Capa,
    Stls,
    Login,
    /// CAPA after login.
    CapaAgain,
    /// UTF8 after login, when CAPA listed it (RFC 6856).
    Utf8,
    Stat,
    Quit,
    /// The whole sequence, connect to logged in.
    Total,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Connect => "connect",
            Step::Tls => "tls",
            Step::Greeting => "greeting",
            Step::Capa => "capa",
            Step::Stls => "stls",
            Step::Login => "login",
            Step::CapaAgain => "capa again",
            Step::Utf8 => "utf8",
            Step::Stat => "stat",
            Step::Quit => "quit",
            Step::Total => "total",
        })
    }
}

/// One step of the login sequence, for `check`.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub name: Step,
    pub detail: String,
    pub elapsed: Duration,
}

/// What `open` found out on the way in.
#[derive(Debug, Clone)]
pub struct ConnectReport {
    pub address: Option<SocketAddr>,
    /// The TCP handshake: one network round trip.
    pub tcp_handshake: Option<Duration>,
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
            tcp_handshake: None,
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

    /// The time the whole login took, once it is over.
    pub fn total(&self) -> Option<Duration> {
        self.steps.iter().find(|s| s.name == Step::Total).map(|s| s.elapsed)
    }
}

/// Where a session's trace and events go.
#[derive(Default)]
pub struct Observers {
    /// Each gets every trace line (a store, a file, a test's collector).
    pub trace: Vec<Box<dyn TraceObserver>>,
    /// Bounded (see `driver::EVENT_CHANNEL_CAPACITY`): a subscriber that
    /// falls behind slows the session down, and never loses an answer.
    pub events: Option<mpsc::Sender<SessionEvent>>,
}

/// Connects, secures, logs in. See the module docs.
pub async fn open(config: &SessionConfig, observers: Observers) -> Result<Session, Failure> {
    open_reporting(config, observers, &mut ConnectReport::default(), &mut ()).await
}

/// `open`, recording each step in `report` and telling `progress` as it
/// happens, so a caller can show how far it got when a step fails.
pub async fn open_reporting(
    config: &SessionConfig,
    observers: Observers,
    report: &mut ConnectReport,
    progress: &mut dyn LoginProgress,
) -> Result<Session, Failure> {
    let mut watch = Stopwatch::start(progress);
    let tls_setup = tls_setup(config, report)?;
    let conn = connect(config, tls_setup.as_ref(), report, &mut watch).await?;
    let mut session = start_driver(config, conn, tls_setup, observers, report);
    watch.begin(Step::Greeting);
    let greeting = greeting(&session, config, report).await?;
    watch.record(report, Step::Greeting, greeting.to_string());
    report.greeting = Some(greeting.clone());
    watch.begin(Step::Capa);
    let mut caps = capa(&session, report).await?;
    watch.record(report, Step::Capa, describe_capa(&caps));
    if config.tls == TlsMode::Starttls {
        watch.begin(Step::Stls);
        caps = starttls(&session, config, caps, report, &mut watch).await?;
    }
    report.capa_before = caps;
    login(&session, config, &greeting, report, &mut watch).await?;
    settle_in(&session, config, report, &mut watch).await?;
    watch.total(report);
    session.report = report.clone();
    Ok(session)
}

/// The TLS configuration the mode needs, and the warning `--insecure` earns.
fn tls_setup(config: &SessionConfig, report: &mut ConnectReport) -> Result<Option<TlsSetup>, Failure> {
    if config.tls == TlsMode::None {
        return Ok(None);
    }
    let setup = TlsSetup::new(&config.tls_options)?;
    if config.tls_options.insecure {
        report
            .warnings
            .push("--insecure: the server's certificate is NOT verified; anyone on the path can impersonate it".into());
    }
    Ok(Some(setup))
}

/// TCP, then TLS for implicit TLS.
async fn connect(
    config: &SessionConfig,
    tls: Option<&TlsSetup>,
    report: &mut ConnectReport,
    watch: &mut Stopwatch<'_>,
) -> Result<Connection, Failure> {
    watch.begin(Step::Connect);
    let connected = connect_tcp(&config.host, config.port, config.connect_timeout).await?;
    let (tcp, address) = (connected.stream, connected.address);
    report.address = Some(address);
    report.tcp_handshake = Some(connected.handshake);
    watch.record(report, Step::Connect, format!("TCP connected to {address}"));
    match (config.tls, tls) {
        (TlsMode::Implicit, Some(tls)) => {
            watch.begin(Step::Tls);
            let (stream, info) = handshake(tcp, tls, &config.host, config.connect_timeout).await?;
            let detail = format!("{} {}", info.version, info.cipher);
            report.tls = Some(info);
            watch.record(report, Step::Tls, detail);
            Ok(Connection::Tls(Box::new(stream)))
        }
        _ => Ok(Connection::Plain(tcp)),
    }
}

/// Spawns the driver task over `conn` and returns the handle to it.
fn start_driver(
    config: &SessionConfig,
    conn: Connection,
    tls: Option<TlsSetup>,
    observers: Observers,
    report: &ConnectReport,
) -> Session {
    let clock = TraceClock::default();
    let mut observers = observers;
    let header = TraceHeader::new(
        format!("{}:{}", config.host, config.port),
        report.address,
        report.tls.clone(),
        clock.started(),
    );
    for observer in &mut observers.trace {
        observer.started(&header);
    }
    if let Some(info) = &report.tls {
        let note = format!(
            "TLS established: {} {}, certificate {}",
            info.version, info.cipher, info.verification
        );
        dispatch(&mut observers.trace, clock.note(note));
    }
    for warning in &report.warnings {
        dispatch(&mut observers.trace, clock.note(format!("WARNING: {warning}")));
    }
    let client = Client::new(
        ClientConfig {
            window: 1,
            // Trace lines are three strings per command: only make them for
            // someone who reads them.
            trace: !observers.trace.is_empty(),
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
            tls,
            handshake_timeout: config.response_timeout,
            trace: observers.trace,
            events: observers.events,
            clock,
        },
        requests_rx,
        status_tx,
    );
    Session {
        requests: requests_tx,
        status: status_rx,
        task: tokio::spawn(driver.run()),
        report: ConnectReport::default(),
    }
}

/// How long a plain connection may stay silent before popscope asks
/// whether the port speaks TLS instead.
const GREETING_PATIENCE: Duration = Duration::from_secs(2);

/// The greeting. On a plain connection a TLS port says nothing (it waits
/// for a ClientHello), so after `GREETING_PATIENCE` of silence a second
/// connection asks it in TLS: if it answers, waiting longer is pointless.
async fn greeting(session: &Session, config: &SessionConfig, report: &ConnectReport) -> Result<StatusLine, Failure> {
    let wait = wait_for_greeting(session);
    let Some(address) = report.address.filter(|_| config.tls != TlsMode::Implicit) else {
        return wait.await;
    };
    tokio::pin!(wait);
    tokio::select! {
        greeting = &mut wait => return greeting,
        _ = tokio::time::sleep(GREETING_PATIENCE) => {}
    }
    tokio::select! {
        greeting = &mut wait => greeting,
        tls = speaks_tls(address, &config.host, config.connect_timeout) => match tls {
            true => Err(Failure::new(
                FailureKind::Tls,
                format!(
                    "no greeting after {} s, and the port answers in TLS: this looks like a TLS port: use pop3s://",
                    GREETING_PATIENCE.as_secs()
                ),
            )
            .with_hint(format!(
                "pop3s://{}@{}:{} (or --tls implicit)",
                crate::sanitize::sanitize_text(&config.user, false),
                config.host,
                config.port
            ))),
            false => wait.await,
        },
    }
}

async fn wait_for_greeting(session: &Session) -> Result<StatusLine, Failure> {
    let mut status = session.status.clone();
    let _ = status.wait_for(|s| s.greeting.is_some() || s.closed).await;
    let current = status.borrow().clone();
    current.greeting.ok_or_else(|| {
        current.failure.unwrap_or_else(|| {
            Failure::new(
                FailureKind::Protocol,
                "the server closed the connection without a greeting",
            )
        })
    })
}

/// STLS and the CAPA after it; returns the capabilities that now apply.
async fn starttls(
    session: &Session,
    config: &SessionConfig,
    caps: Option<Capabilities>,
    report: &mut ConnectReport,
    watch: &mut Stopwatch<'_>,
) -> Result<Option<Capabilities>, Failure> {
    let outcome = if caps.as_ref().is_some_and(|c| !c.stls) {
        None
    } else {
        Some(session.call(Command::Stls).await?)
    };
    let why = match outcome {
        Some(Outcome::Ok(_)) => {
            report.tls = session.tls();
            let info = report
                .tls
                .as_ref()
                .map(|i| format!("{} {}", i.version, i.cipher))
                .unwrap_or_default();
            watch.record(report, Step::Stls, info);
            watch.begin(Step::Capa);
            report.capa_plain = caps;
            let caps = capa(session, report).await?;
            watch.record(report, Step::Capa, describe_capa(&caps));
            return Ok(caps);
        }
        Some(Outcome::Err(status)) => format!("the server refused STLS ({status})"),
        None => "the server does not offer STLS".to_string(),
        Some(other) => return Err(session.outcome_failure("STLS", other).await),
    };
    if config.starttls == StartTlsPolicy::Required {
        return Err(Failure::new(FailureKind::Policy, format!("{why}, and encryption is required"))
            .with_hint("use pop3s:// (implicit TLS, port 995) if the server has it; or pass --starttls optional (or --tls none) to continue unencrypted"));
    }
    report
        .warnings
        .push(format!("{why}: continuing WITHOUT encryption (--starttls optional)"));
    Ok(caps)
}

async fn login(
    session: &Session,
    config: &SessionConfig,
    greeting: &StatusLine,
    report: &mut ConnectReport,
    watch: &mut Stopwatch<'_>,
) -> Result<(), Failure> {
    watch.begin(Step::Login);
    let mechanism = authenticate(session, config, greeting, report).await?;
    let user = crate::sanitize::sanitize_text(&config.user, false);
    watch.record(report, Step::Login, format!("{} as {user}", mechanism.name()));
    Ok(())
}

/// After login: CAPA again if it could matter, the pipelining window, and
/// warnings about what the server lacks.
async fn settle_in(
    session: &Session,
    config: &SessionConfig,
    report: &mut ConnectReport,
    watch: &mut Stopwatch<'_>,
) -> Result<(), Failure> {
    // Capabilities can differ after login (RFC 2449 §5): ask again, unless
    // the answer before login already had everything popscope acts on
    // (PIPELINING, TOP, UIDL), where asking would cost a round trip and
    // could change nothing. `check` always asks, to show it.
    if !report.capa_before.as_ref().is_some_and(has_all_we_use) {
        watch.begin(Step::CapaAgain);
        let caps_after = capa(session, report).await?;
        watch.record(report, Step::CapaAgain, describe_capa(&caps_after));
        report.capa_after = caps_after;
    }
    if report.capabilities().utf8 {
        enable_utf8(session, report, watch).await?;
    }
    report.window = if report.capabilities().pipelining && config.pipelining {
        config.window.max(1)
    } else {
        1
    };
    if report.window > 1 {
        session.set_window(report.window)?;
    }
    // Without any CAPA answer nothing is known yet: the listing tries UIDL
    // and TOP and says what the answers taught (`crate::mailbox`).
    let capa_known = report.capa_after.is_some() || report.capa_before.is_some();
    if capa_known && !report.capabilities().uidl {
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
    Ok(())
}

/// RFC 6856: a server that lists UTF8 sends raw UTF-8 headers only once
/// asked (Courier substitutes a stand-in message otherwise). Sent after
/// login, which Courier accepts; a refusal is a warning, not a failure.
async fn enable_utf8(session: &Session, report: &mut ConnectReport, watch: &mut Stopwatch<'_>) -> Result<(), Failure> {
    watch.begin(Step::Utf8);
    match session.call(Command::Utf8).await? {
        Outcome::Ok(reply) => watch.record(report, Step::Utf8, reply.status.to_string()),
        Outcome::Err(status) => {
            watch.record(report, Step::Utf8, status.to_string());
            report.warnings.push(format!(
                "the server lists UTF8 but refused it ({status}); messages with UTF-8 headers may be shown as the server rewrites them"
            ));
        }
        other => return Err(session.outcome_failure("UTF8", other).await),
    }
    Ok(())
}

/// The capabilities whose presence changes what popscope does.
fn has_all_we_use(caps: &Capabilities) -> bool {
    caps.pipelining && caps.top && caps.uidl
}

/// Asks CAPA after login if `open` did not, and records it: for `check`,
/// which shows both answers.
pub async fn recheck_capabilities(session: &mut Session, progress: &mut dyn LoginProgress) -> Result<(), Failure> {
    let skipped =
        session.report.capa_after.is_none() && session.report.capa_before.as_ref().is_some_and(has_all_we_use);
    if !skipped {
        return Ok(());
    }
    progress.step_started(Step::CapaAgain);
    let started = Instant::now();
    let mut report = session.report.clone();
    let caps = capa(session, &mut report).await?;
    let at = report
        .steps
        .iter()
        .position(|s| s.name == Step::Total)
        .unwrap_or(report.steps.len());
    let step = StepReport {
        name: Step::CapaAgain,
        detail: describe_capa(&caps),
        elapsed: started.elapsed(),
    };
    report.steps.insert(at, step.clone());
    progress.step_done(&step, &report);
    report.capa_after = caps;
    session.report = report;
    Ok(())
}

/// How the warning about a refused CAPA begins.
const CAPA_REFUSED: &str = "the server does not support CAPA";

async fn capa(session: &Session, report: &mut ConnectReport) -> Result<Option<Capabilities>, Failure> {
    match session.call(Command::Capa).await? {
        Outcome::Ok(reply) => Ok(Some(Capabilities::parse(reply.payload()))),
        Outcome::Err(status) => {
            // Asked before and after login: said once.
            if !report.warnings.iter().any(|w| w.starts_with(CAPA_REFUSED)) {
                report.warnings.push(format!(
                    "{CAPA_REFUSED} ({status}); assuming a minimal RFC 1939 server (UIDL and TOP are tried when listing)"
                ));
            }
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
