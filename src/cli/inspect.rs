//! `popscope URL`: the inspector UI on a live session.

use super::{ConnectArgs, TraceFile};
use crate::error::Failure;
use crate::error::FailureKind;
use crate::event_loop::{connection_facts, run};
use crate::session::trace::SharedTrace;
use crate::session::{self, SessionConfig};
use std::io::IsTerminal;
use tokio::sync::mpsc;

pub async fn run_url(args: &ConnectArgs) -> Result<(), Failure> {
    require_terminal()?;
    // Any password prompt happens here, before the screen switches.
    let config = args.session_config().await?;
    inspect(&config, args, false).await
}

/// The inspector draws on standard output and reads keys from the
/// terminal (standard input, or /dev/tty when that is redirected). Checked
/// first, so a script gets a sentence instead of an ioctl's error, and no
/// password command runs for nothing.
pub fn require_terminal() -> Result<(), Failure> {
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
pub async fn inspect(config: &SessionConfig, args: &ConnectArgs, demo: bool) -> Result<(), Failure> {
    let mut trace = TraceFile::open(args)?;
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let store = SharedTrace::default();
    let session = session::open(config, trace.observers_with_store(Some(events_tx), &store)).await?;
    let mut facts = connection_facts(&session, &config.host, config.port, config.tls);
    facts.demo = demo;
    let colour = args.color.in_this_environment();
    let report = run(session, events_rx, facts, store, colour).await;
    trace.finish().await;
    let report = report?;
    println!("popscope: {report}");
    // The line above said it all; the exit code tells scripts (130 after
    // an interrupt, 10 when QUIT's outcome is unknown).
    match report.failure_kind() {
        Some(kind) => Err(Failure::new(kind, "")),
        None => Ok(()),
    }
}
