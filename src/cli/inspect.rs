//! `popscope URL`: the inspector UI on a live session.

use super::{ConnectArgs, TraceFile};
use crate::error::Failure;
use crate::error::FailureKind;
use crate::event_loop::{Options, Reopen, Reopened, connection_facts, run};
use crate::session::driver::EVENT_CHANNEL_CAPACITY;
use crate::session::trace::{SharedTrace, TraceObserver};
use crate::session::{self, Observers, SessionConfig};
use std::io::IsTerminal;
use std::path::Path;
use tokio::sync::mpsc;

pub async fn run_url(args: &ConnectArgs, backup: Option<&Path>) -> Result<(), Failure> {
    require_terminal()?;
    // Any password prompt happens here, before the screen switches.
    let config = args.session_config().await?;
    inspect(&config, args, false, backup).await
}

/// The inspector draws on standard output and reads keys from the
/// terminal (standard input, or /dev/tty when that is redirected). Checked
/// first, so a script gets a sentence instead of an ioctl's error, and no
/// password command runs for nothing.
pub(crate) fn require_terminal() -> Result<(), Failure> {
    let keys = std::io::stdin().is_terminal() || std::fs::File::open("/dev/tty").is_ok();
    if std::io::stdout().is_terminal() && keys {
        Ok(())
    } else {
        Err(Failure::new(
            FailureKind::Usage,
            "the inspector needs a terminal; use `popscope list` in scripts",
        ))
    }
}

/// Opens the session (errors print as usual, on the normal screen), then
/// runs the UI and prints what happened after the screen is restored.
/// `demo`: the server is the embedded demo, and the screen says so.
/// `backup`: `--backup DIR`, where "back up, then delete" copies to.
pub async fn inspect(
    config: &SessionConfig,
    args: &ConnectArgs,
    demo: bool,
    backup: Option<&Path>,
) -> Result<(), Failure> {
    let mut trace = TraceFile::open(args)?;
    let (events_tx, events_rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
    let store = SharedTrace::default();
    let mut options = Options::new(Some(reopener(config, &trace, &store, demo)));
    if let Some(keepalive) = keepalive_from_env()? {
        options.keepalive = keepalive;
    }
    let session = session::open(config, trace.observers_with_store(Some(events_tx), &store)).await?;
    let mut facts = connection_facts(&session, &config.host, config.port, config.tls);
    facts.demo = demo;
    let colour = args.color.in_this_environment();
    options.backup = backup.map(Path::to_path_buf);
    let report = run(session, events_rx, facts, store, colour, options).await;
    trace.finish().await;
    let (report, backed_up) = report?;
    println!("popscope: {report}");
    if let Some(done) = backed_up {
        println!("popscope: {done}");
    }
    // The line above said it all; the exit code tells scripts (130 after
    // an interrupt, 10 when QUIT's outcome is unknown).
    match report.failure_kind() {
        Some(kind) => Err(Failure::new(kind, "")),
        None => Ok(()),
    }
}

/// How a reconnect opens the next session: the same settings, the same
/// trace store and file.
fn reopener(config: &SessionConfig, trace: &TraceFile, store: &SharedTrace, demo: bool) -> Reopen {
    let (config, store, file) = (config.clone(), store.clone(), trace.another_observer());
    Box::new(move || {
        let (config, store, file) = (config.clone(), store.clone(), file.clone());
        Box::pin(async move {
            let (tx, events) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
            let mut trace: Vec<Box<dyn TraceObserver>> = Vec::new();
            if let Some(file) = file {
                trace.push(Box::new(file));
            }
            trace.push(store.observer());
            let observers = Observers {
                trace,
                events: Some(tx),
            };
            let session = session::open(&config, observers).await?;
            let mut facts = connection_facts(&session, &config.host, config.port, config.tls);
            facts.demo = demo;
            Ok(Reopened { session, events, facts })
        })
    })
}

/// `POPSCOPE_KEEPALIVE_SECS`: the inspector's idle time before a NOOP
/// (default 45 s; tests make it short).
fn keepalive_from_env() -> Result<Option<std::time::Duration>, Failure> {
    let Ok(text) = std::env::var("POPSCOPE_KEEPALIVE_SECS") else {
        return Ok(None);
    };
    match text.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Some(std::time::Duration::from_secs(secs))),
        _ => Err(Failure::new(
            FailureKind::Usage,
            format!("POPSCOPE_KEEPALIVE_SECS must be a number of seconds above 0, not {text:?}"),
        )),
    }
}
