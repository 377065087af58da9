//! The inspector's event loop: one `tokio::select!` over terminal input,
//! session events, signals and a tick. State changes happen in
//! `crate::app`, drawing in `crate::ui`; this file only moves events in and
//! effects out, draws, and owns the terminal. It sits above both, so that
//! `app` never depends on `ui`.
//!
//! Every way out except an answered, confirmed QUIT leaves by dropping the
//! session, which closes the socket without QUIT: the server deletes
//! nothing (RFC 1939 §6). The terminal is restored on every path,
//! including a panic that ends the program (and only then: see
//! `panic_hook`).

use crate::app::commit::{BackupJob, Gauge};
use crate::app::saving::{SaveJob, SaveManyJob, SavedMany};
use crate::app::{App, ConnectionFacts, Effect, ExitReport};
use crate::error::{Failure, FailureKind};
use crate::mailbox::Offer;
use crate::session::driver::{Route, SessionEvent};
use crate::session::tls::Verification;
use crate::session::trace::SharedTrace;
use crate::session::trace::format::rfc3339;
use crate::session::{Session, TlsMode};
use crate::store::{SavedAt, open_sink, sanitize_attachment_name};
use crate::transfer::backup::{self, BackedUp, BackupFailed};
use crate::transfer::{Progress, TransferObserver, TransferOptions, Wanted, save_messages, single};
use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures_util::StreamExt;
use futures_util::future::{BoxFuture, LocalBoxFuture};
use futures_util::stream::FuturesUnordered;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::Stdout;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Send NOOP after this much silence: some providers end sessions idle for
/// 60 s.
const KEEPALIVE_AFTER: Duration = Duration::from_secs(45);
/// Session events handled before the screen is redrawn.
const EVENTS_PER_FRAME: usize = 2_000;

/// What the connection looks like, for the status bar.
pub fn connection_facts(session: &Session, host: &str, port: u16, mode: TlsMode) -> ConnectionFacts {
    let report = &session.report;
    let capa = report.capa_after.as_ref().or(report.capa_before.as_ref());
    let tls = session.tls();
    let (security, verified) = match (&tls, mode) {
        (Some(info), _) => {
            let how = match &info.verification {
                Verification::Insecure => "NOT VERIFIED",
                Verification::Pinned => "pinned",
                _ => "verified",
            };
            (
                format!("{} {how}", info.version),
                !matches!(info.verification, Verification::Insecure),
            )
        }
        (None, _) if is_loopback(host) => ("no TLS (loopback)".to_string(), true),
        (None, _) => ("NO TLS".to_string(), false),
    };
    ConnectionFacts {
        server: crate::sanitize::sanitize_text(&format!("{host}:{port}"), false),
        security,
        verified,
        demo: false,
        top: Offer::from_capa(capa, |c| c.top),
        uidl: Offer::from_capa(capa, |c| c.uidl),
        window: report.window,
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether popscope's screen is up (the alternate screen, raw mode).
static SCREEN_UP: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back the way it was. Safe to call twice: only the
/// first call after `TerminalGuard::enter` touches the screen.
pub(crate) fn restore_terminal() {
    let _ = disable_raw_mode();
    if !SCREEN_UP.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        // The alternate screen is emptied before it is left: a terminal
        // resized in between (tmux 3.3 when it grew) copies lines of it
        // back onto the normal screen and into the scrollback, and the
        // last frame would stay there after popscope has gone.
        Clear(ClearType::All),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// The inspector's panic hook: a panic that will end the program (on the UI
/// thread, outside `unwind::catching` and outside a spawned task) gets the
/// terminal back before its message is printed, so the message can be read.
/// Any other panic is caught and the inspector goes on (mail shown raw, the
/// session ended): the terminal is left as it is, and nothing is printed over
/// the screen.
fn panic_hook(ui_thread: ThreadId, restore: fn(), previous: Arc<PanicHook>) -> PanicHook {
    Box::new(move |info| {
        if std::thread::current().id() == ui_thread && crate::unwind::will_end_the_program() {
            restore();
            previous(info);
        }
    })
}

struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    /// The hook before ours, put back when the inspector ends.
    previous_hook: Arc<PanicHook>,
}

impl TerminalGuard {
    fn enter() -> Result<TerminalGuard, Failure> {
        let local = |e: std::io::Error| Failure::new(FailureKind::Local, format!("cannot set up the terminal: {e}"));
        let previous_hook: Arc<PanicHook> = Arc::new(std::panic::take_hook());
        std::panic::set_hook(panic_hook(
            std::thread::current().id(),
            restore_terminal,
            Arc::clone(&previous_hook),
        ));
        enable_raw_mode().map_err(local)?;
        SCREEN_UP.store(true, Ordering::SeqCst);
        let terminal = execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            crossterm::event::EnableMouseCapture
        )
        .and_then(|()| Terminal::new(CrosstermBackend::new(std::io::stdout())));
        match terminal {
            Ok(terminal) => Ok(TerminalGuard {
                terminal,
                previous_hook,
            }),
            Err(e) => {
                restore_terminal();
                std::panic::set_hook(Box::new(move |info| previous_hook(info)));
                Err(local(e))
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
        let previous = Arc::clone(&self.previous_hook);
        std::panic::set_hook(Box::new(move |info| previous(info)));
    }
}

/// Opens a new session with the inspector's settings (same server, user,
/// credential, TLS, trace observers), for a reconnect.
pub(crate) type Reopen = Box<dyn Fn() -> BoxFuture<'static, Result<Reopened, Failure>> + Send>;

/// A session opened again.
pub struct Reopened {
    pub session: Session,
    pub events: mpsc::Receiver<SessionEvent>,
    pub facts: ConnectionFacts,
}

/// How the inspector keeps its session.
pub struct Options {
    /// NOOP after this much silence.
    pub keepalive: Duration,
    /// How to reconnect; without it the lost UI stays read-only.
    pub reopen: Option<Reopen>,
    /// Where "back up, then delete" copies to (`--backup DIR`; `None`:
    /// `popscope-backup-HOST-DATE` in the current directory).
    pub backup: Option<PathBuf>,
}

impl Options {
    pub fn new(reopen: Option<Reopen>) -> Options {
        Options {
            keepalive: KEEPALIVE_AFTER,
            reopen,
            backup: None,
        }
    }
}

/// When a keep-alive is due: after `after` without a command sent or an
/// answer received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keepalive {
    after: Duration,
    last_traffic: Instant,
}

impl Keepalive {
    pub fn new(after: Duration, now: Instant) -> Keepalive {
        Keepalive {
            after,
            last_traffic: now,
        }
    }

    pub(crate) fn traffic(&mut self, now: Instant) {
        self.last_traffic = now;
    }

    /// True once per silence of `after`: the caller sends NOOP now.
    pub fn due(&mut self, now: Instant) -> bool {
        let due = now.saturating_duration_since(self.last_traffic) >= self.after;
        if due {
            self.last_traffic = now;
        }
        due
    }
}

/// The session under the inspector, and the way to a new one.
struct Live {
    /// None while a reconnect opens the next one. Shared with the jobs.
    session: Option<Arc<Session>>,
    /// Backups and saves under way (`Effect::Backup`, `SaveMessage`,
    /// `SaveMany`), each holding the session it runs on.
    jobs: FuturesUnordered<LocalBoxFuture<'static, JobDone>>,
    events: mpsc::Receiver<SessionEvent>,
    /// Once the driver has gone, its channel answers None at once, forever:
    /// stop asking, or the read-only UI would spin.
    events_open: bool,
    keepalive: Keepalive,
    reopen: Option<Reopen>,
    reopening: Option<tokio::task::JoinHandle<Result<Reopened, Failure>>>,
}

impl Live {
    /// Hands the effects on; true if the app asked to leave.
    fn apply(&mut self, app: &mut App, effects: Vec<Effect>) -> bool {
        let mut exit = false;
        for effect in effects {
            match effect {
                Effect::Submit {
                    ticket,
                    command,
                    priority,
                } => {
                    self.keepalive.traffic(Instant::now());
                    // A session that has ended refuses this; the app already
                    // knows from the Closed event it got or is about to get.
                    if let Some(session) = &self.session {
                        let _ = session.submit(command, priority, Route::Event { ticket });
                    }
                }
                Effect::Exit => exit = true,
                Effect::SaveTrace => app.save_trace(std::path::Path::new("."), std::time::SystemTime::now()),
                Effect::Reconnect => self.start_reconnect(app),
                Effect::Backup(job) => {
                    let lost = JobDone::Backup(Err(BackupFailed {
                        dir: job.dir.clone(),
                        message: None,
                        why: NO_SESSION.into(),
                        saved: 0,
                        kind: FailureKind::Connect,
                        retr_refused: false,
                    }));
                    self.start_job(|s| Box::pin(run_backup(s, job)), lost);
                }
                Effect::SaveMessage(job) => {
                    let lost = JobDone::Saved(job.number, Err(NO_SESSION.into()));
                    self.start_job(|s| Box::pin(save_message(s, job)), lost);
                }
                Effect::SaveMany(job) => {
                    let lost = JobDone::SavedMany(Err(NO_SESSION.into()));
                    self.start_job(|s| Box::pin(save_many(s, job)), lost);
                }
            }
        }
        exit
    }

    /// Runs a job on the session; without one (a reconnect is under way)
    /// it ends at once as `lost`.
    fn start_job(&mut self, job: impl FnOnce(Arc<Session>) -> LocalBoxFuture<'static, JobDone>, lost: JobDone) {
        match &self.session {
            Some(session) => self.jobs.push(job(session.clone())),
            None => self.jobs.push(Box::pin(async { lost })),
        }
    }

    /// Drops the old session without QUIT (the server deletes nothing) and
    /// opens a new one in the background.
    fn start_reconnect(&mut self, app: &mut App) {
        let Some(reopen) = &self.reopen else {
            app.reconnect_failed("this session cannot be reopened");
            return;
        };
        if let Some(old) = self.session.take() {
            close(old);
        }
        self.events_open = false;
        self.reopening = Some(tokio::spawn(reopen()));
    }

    /// The background open ended.
    fn reopened(
        &mut self,
        app: &mut App,
        result: Result<Result<Reopened, Failure>, tokio::task::JoinError>,
    ) -> Vec<Effect> {
        self.reopening = None;
        match result {
            Ok(Ok(reopened)) => {
                app.connection.report = Some(reopened.session.report.clone());
                self.session = Some(Arc::new(reopened.session));
                self.events = reopened.events;
                self.events_open = true;
                self.keepalive.traffic(Instant::now());
                app.reconnected(reopened.facts)
            }
            Ok(Err(failure)) => {
                app.reconnect_failed(&failure.to_string());
                vec![]
            }
            Err(e) => {
                app.reconnect_failed(&format!("the reconnect stopped ({e})"));
                vec![]
            }
        }
    }

    /// A burst of session events, up to `EVENTS_PER_FRAME`.
    fn session_events(&mut self, app: &mut App, first: Option<SessionEvent>) -> Vec<Effect> {
        self.keepalive.traffic(Instant::now());
        let Some(event) = first else {
            self.events_open = false;
            return app.handle_session_event(SessionEvent::Closed(None));
        };
        let mut pending = app.handle_session_event(event);
        // Drain a burst before redrawing: 100,000 header replies must not
        // mean 100,000 frames.
        for _ in 1..EVENTS_PER_FRAME {
            match self.events.try_recv() {
                Ok(event) => pending.extend(app.handle_session_event(event)),
                Err(_) => break,
            }
        }
        pending
    }
}

/// Why a job asked for while a reconnect opens the next session fails.
const NO_SESSION: &str = "the connection is lost; reconnect first";

/// Closes a session without QUIT (the server deletes nothing): at once
/// when nothing else holds it; otherwise the last job to end drops it.
fn close(session: Arc<Session>) {
    if let Ok(session) = Arc::try_unwrap(session) {
        tokio::spawn(session.abandon());
    }
}

/// Waits for a background reopen, or forever when there is none.
async fn reopen_done(
    reopening: &mut Option<tokio::task::JoinHandle<Result<Reopened, Failure>>>,
) -> Result<Result<Reopened, Failure>, tokio::task::JoinError> {
    match reopening {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

/// Runs the inspector until the person leaves (how it ended, and the
/// backup made before deleting, if any). `events` must be the receiving
/// end of the session's (bounded) event channel, `trace` the store the
/// session's trace goes to; `colour`: whether the screen may use colour.
pub async fn run(
    session: Session,
    events: mpsc::Receiver<SessionEvent>,
    facts: ConnectionFacts,
    trace: SharedTrace,
    colour: bool,
    mut options: Options,
) -> Result<(ExitReport, Option<BackedUp>), Failure> {
    let mut guard = TerminalGuard::enter()?;
    let size = guard
        .terminal
        .size()
        .map_err(|e| Failure::new(FailureKind::Local, format!("cannot read the terminal size: {e}")))?;
    let backup = options
        .backup
        .take()
        .unwrap_or_else(|| default_backup_dir(&facts.server, SystemTime::now()));
    let mut app = App::new(facts, (size.width, size.height));
    app.commit.backup_dir = backup;
    app.trace.store = trace;
    app.connection.report = Some(session.report.clone());
    app.colour = colour;
    for warning in &session.report.warnings {
        app.activity = format!("warning: {warning}");
    }
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut signals = Signals::new()?;
    let mut live = Live {
        session: Some(Arc::new(session)),
        jobs: FuturesUnordered::new(),
        events,
        events_open: true,
        keepalive: Keepalive::new(options.keepalive, Instant::now()),
        reopen: options.reopen,
        reopening: None,
    };
    let mut pending = app.start();

    loop {
        if live.apply(&mut app, std::mem::take(&mut pending)) {
            break;
        }
        guard
            .terminal
            .draw(|frame| crate::ui::draw(frame, &app))
            .map_err(|e| Failure::new(FailureKind::Local, format!("cannot draw: {e}")))?;

        tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => pending = app.handle_key(&key),
                Some(Ok(Event::Mouse(mouse))) => match mouse.kind {
                    MouseEventKind::ScrollDown => pending = app.scroll_wheel(true),
                    MouseEventKind::ScrollUp => pending = app.scroll_wheel(false),
                    _ => {}
                },
                Some(Ok(Event::Resize(w, h))) => pending = app.resize(w, h),
                Some(Ok(_)) => {}
                // The terminal is gone (e.g. the SSH session closed).
                Some(Err(_)) | None => pending = app.interrupt("the terminal went away"),
            },
            event = live.events.recv(), if live.events_open => pending = live.session_events(&mut app, event),
            result = reopen_done(&mut live.reopening) => pending = live.reopened(&mut app, result),
            Some(done) = live.jobs.next(), if !live.jobs.is_empty() => {
                live.keepalive.traffic(Instant::now());
                pending = match done {
                    JobDone::Backup(outcome) => app.backup_finished(outcome),
                    JobDone::Saved(number, outcome) => app.message_saved(number, outcome),
                    JobDone::SavedMany(outcome) => app.many_saved(outcome),
                };
            }
            why = signals.next() => pending = app.interrupt(why),
            _ = tick.tick() => {
                if live.keepalive.due(Instant::now()) {
                    pending = app.keepalive();
                }
            }
        }
    }
    drop(guard);
    if let Some(reopening) = live.reopening.take() {
        reopening.abort();
    }
    // A backup or save still running stops here (its unsynced files are
    // removed).
    live.jobs.clear();
    // Without an answered QUIT this closes the socket: nothing is deleted.
    if let Some(session) = live.session.take()
        && let Ok(session) = Arc::try_unwrap(session)
    {
        session.abandon().await;
    }
    let report = app
        .commit
        .report
        .unwrap_or_else(|| ExitReport::NothingDeleted("left without QUIT".into()));
    Ok((report, app.commit.backed_up))
}

type BackupOutcome = Result<BackedUp, BackupFailed>;

/// How a job of the event loop ended.
enum JobDone {
    Backup(BackupOutcome),
    /// `s`: the message number, and the file or why not.
    Saved(u32, Result<SavedAt, String>),
    SavedMany(Result<SavedMany, String>),
}

/// `W`: every chosen message into the Maildir or mbox, with the gauge.
async fn save_many(session: Arc<Session>, job: SaveManyJob) -> JobDone {
    let session = &*session;
    let sink = match open_sink(job.format, &job.target) {
        Ok(sink) => sink,
        Err(err) => return JobDone::SavedMany(Err(err.to_string())),
    };
    let options = TransferOptions {
        lookahead: session.report.window.max(1),
        ..TransferOptions::default()
    };
    let wanted = backup::wanted(&job.messages);
    let transfer = save_messages(session, &wanted, sink, &options, GaugeObserver(job.gauge), &job.cancel).await;
    let stopped = match (&transfer.stopped, transfer.refused.first()) {
        (Some(stopped), _) => Some(stopped.failure().to_string()),
        (None, Some((n, status))) => Some(format!(
            "the server refused {} message(s), the first RETR {n}: {status}",
            transfer.refused.len()
        )),
        (None, None) => None,
    };
    JobDone::SavedMany(Ok(SavedMany {
        messages: transfer.saved.len(),
        bytes: transfer.bytes(),
        stopped,
    }))
}

/// `s`: RETRs one message into the file the person named.
async fn save_message(session: Arc<Session>, job: SaveJob) -> JobDone {
    let session = &*session;
    let wanted = Wanted {
        number: job.number,
        uid: job.uid,
        size: job.size,
    };
    let outcome = single::save_eml(session, wanted, &job.path, job.overwrite).await;
    JobDone::Saved(job.number, outcome)
}

/// Copies a backup job's messages, updating its gauge.
async fn run_backup(session: Arc<Session>, job: BackupJob) -> JobDone {
    let session = &*session;
    let options = TransferOptions {
        lookahead: session.report.window.max(1),
        ..TransferOptions::default()
    };
    let gauge = GaugeObserver(job.gauge);
    let (outcome, _) = backup::copy_into(session, &job.marked, &job.dir, &options, gauge, &job.cancel).await;
    JobDone::Backup(outcome)
}

/// Keeps the app's gauge up to date from the writer thread.
struct GaugeObserver(Gauge);

impl TransferObserver for GaugeObserver {
    fn progress(&mut self, progress: &Progress) {
        if let Ok(mut gauge) = self.0.lock() {
            gauge.clone_from(progress);
        }
    }
}

/// `popscope-backup-HOST-DATE` (UTC), a plain name in the current
/// directory whatever the host name holds.
pub(crate) fn default_backup_dir(server: &str, now: SystemTime) -> PathBuf {
    let host = server.rsplit_once(':').map_or(server, |(host, _)| host);
    let date = &rfc3339(now)[..10];
    PathBuf::from(sanitize_attachment_name(&format!("popscope-backup-{host}-{date}")))
}

/// SIGINT, SIGTERM and SIGHUP, each leading to the same safe exit.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let install = |kind| {
                signal(kind)
                    .map_err(|e| Failure::new(FailureKind::Local, format!("cannot install a signal handler: {e}")))
            };
            Ok(Signals {
                interrupt: install(SignalKind::interrupt())?,
                terminate: install(SignalKind::terminate())?,
                hangup: install(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "interrupted (SIGINT)",
                _ = self.terminate.recv() => "terminated (SIGTERM)",
                _ = self.hangup.recv() => "the terminal hung up (SIGHUP)",
            }
        }
        #[cfg(not(unix))]
        std::future::pending().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_keepalive_is_due_once_per_silence_and_traffic_resets_it() {
        let start = Instant::now();
        let mut keepalive = Keepalive::new(Duration::from_secs(60), start);
        assert!(!keepalive.due(start + Duration::from_secs(59)));
        assert!(keepalive.due(start + Duration::from_secs(60)));
        assert!(!keepalive.due(start + Duration::from_secs(61)), "once, not every tick");
        assert!(keepalive.due(start + Duration::from_secs(120)));
        keepalive.traffic(start + Duration::from_secs(150));
        assert!(!keepalive.due(start + Duration::from_secs(209)));
        assert!(keepalive.due(start + Duration::from_secs(210)));
    }

    static RESTORED: AtomicUsize = AtomicUsize::new(0);
    static PRINTED: AtomicUsize = AtomicUsize::new(0);

    fn count_restore() {
        RESTORED.fetch_add(1, Ordering::SeqCst);
    }

    fn counts() -> (usize, usize) {
        (RESTORED.load(Ordering::SeqCst), PRINTED.load(Ordering::SeqCst))
    }

    /// Issue 11 item 10: panics that are caught (mail parsing, a spawned
    /// task, another thread) leave the terminal alone; only a panic that
    /// ends the program restores it.
    #[test]
    fn the_terminal_is_restored_only_for_a_panic_that_ends_the_program() {
        let original = std::panic::take_hook();
        let previous: Arc<PanicHook> = Arc::new(Box::new(|_| {
            PRINTED.fetch_add(1, Ordering::SeqCst);
        }));
        std::panic::set_hook(panic_hook(std::thread::current().id(), count_restore, previous));
        let parsed = crate::unwind::catching(|| -> u8 { panic!("a mail parser bug") });
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let task = runtime.block_on(async { tokio::spawn(async { panic!("a driver bug") }).await });
        let thread = std::thread::spawn(|| panic!("elsewhere")).join();
        let caught = counts();
        // What the end of `main` would see: a panic nobody catches.
        let ending = std::panic::catch_unwind(|| -> u8 { panic!("the end") });
        let ended = counts();
        std::panic::set_hook(original);
        assert!(parsed.is_err() && task.is_err() && thread.is_err() && ending.is_err());
        assert_eq!(caught, (0, 0), "restored or printed for a caught panic");
        assert_eq!(ended, (1, 1));
    }
}
