//! `popscope fetch URL --to PATH`: download a maildrop into a Maildir
//! (default), an mbox file or a directory of `.eml` files, fast and
//! without ever risking a message.
//!
//! One session: list (LIST and UIDL; TOP only when a query needs
//! headers), skip what the target's UID state says is already there,
//! save the rest through [`crate::transfer::save_messages`] (RETRs
//! pipelined, streamed to a writer thread, synced in batches), record the
//! saved UIDs, and only then, with `--delete` and consent, delete exactly
//! the messages that `sync` returned (`delete`). Without UIDL nothing can
//! be skipped next time, and `--delete` needs `--by-number`.

mod delete;
mod report;

use super::progress::ProgressLine;
use super::{ConnectArgs, TraceFile};
use crate::error::{Failure, FailureKind};
use crate::mailbox::{ListingPlan, UidList, apply_list};
use crate::pop3::client::Command;
use crate::session::{self, Session};
use crate::store::{Account, EmlSink, Format, MessageSink, OnExists, SavedAt, StoreError, UidState, open_sink};
use crate::transfer::{Cancel, Progress, TransferObserver, TransferOptions, save_messages};
use clap::{Args, ValueEnum};
use delete::{Consent, Deletion};
use report::Fetched;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The UID state is written at most this often while a fetch runs (and
/// always at the end), so an interrupted fetch skips what it saved.
const STATE_SAVE_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Where to save: a Maildir (created when missing), an mbox file, or a
    /// directory of .eml files (see --format).
    #[arg(long, value_name = "PATH")]
    pub to: PathBuf,
    /// maildir (tmp/ → new/, one file per message), mbox (mboxrd, one
    /// file) or eml (one file per message, named by UID).
    #[arg(long, value_enum, default_value = "maildir")]
    pub format: FormatArg,
    /// Delete from the server the messages fetched in this run, once their
    /// copies are written and synced. Asks on a terminal; --yes otherwise.
    #[arg(long)]
    pub delete: bool,
    /// Do not ask before --delete.
    #[arg(long, requires = "delete")]
    pub yes: bool,
    /// With --delete on a server without UIDL: delete by message number
    /// within this session.
    #[arg(long)]
    pub by_number: bool,
    /// Print the outcome as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Maildir,
    Mbox,
    Eml,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Maildir => Format::Maildir,
            FormatArg::Mbox => Format::Mbox,
            FormatArg::Eml => Format::Eml,
        }
    }
}

pub async fn run(args: &FetchArgs) -> Result<(), Failure> {
    // Everything that can be refused is refused before connecting: the
    // consent, an unusable target, a damaged state file.
    let consent = Consent::new(args.delete, args.yes, false)?;
    let target = args.connect.target()?;
    let format = Format::from(args.format);
    let sink: Box<dyn MessageSink> = match format {
        // A file already named by a UID (the state file was lost, or
        // another server's UID is the same) is kept: the new copy becomes
        // `UID (2).eml`.
        Format::Eml => Box::new(EmlSink::open(&args.to, OnExists::Unique)?),
        _ => open_sink(format, &args.to)?,
    };
    let account = Account::new(&target.host, target.port, &target.user);
    let state = UidState::load(&UidState::path_for(format, &args.to), account)?;
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(args.connect.trace.as_ref())?;
    let started = Instant::now();
    let session = session::open(&config, trace.observers(None)).await?;
    for warning in &session.report.warnings {
        warn(warning);
    }
    let mut fetched = Fetched::new(args, format);
    let plan = Plan {
        sink,
        state,
        consent,
        options: TransferOptions {
            lookahead: args.connect.window.max(1),
            ..TransferOptions::default()
        },
    };
    fetch(session, args, plan, &mut fetched).await;
    trace.finish().await;
    fetched.seconds = started.elapsed().as_secs_f64();
    fetched.finish()
}

/// What `fetch` works with once the session is open.
struct Plan {
    sink: Box<dyn MessageSink>,
    state: UidState,
    consent: Consent,
    options: TransferOptions,
}

/// Lists, saves, records and (with consent) deletes, in one session;
/// fills `fetched` with what happened. Ctrl-C cancels whatever is under
/// way (nothing is deleted unless QUIT was already sent).
async fn fetch(session: Session, args: &FetchArgs, plan: Plan, fetched: &mut Fetched) {
    let cancel = Cancel::default();
    let watcher = tokio::spawn(cancel_on_ctrl_c(cancel.clone()));
    let listed = tokio::select! {
        rows = list(&session) => rows.and_then(|rows| refuse_without_uids(&rows, args).map(|()| rows)),
        _ = cancel.cancelled() => Err(Failure::new(FailureKind::Interrupted, "interrupted")),
    };
    let rows = match listed {
        Ok(rows) => rows,
        Err(failure) => {
            fetched.failure = Some(failure);
            fetched.quit = Some(session.quit(false).await);
            watcher.abort();
            return;
        }
    };
    let Plan {
        sink,
        mut state,
        consent,
        options,
    } = plan;
    let wanted = fetched.choose(&rows, &state);
    if rows.complete_uids {
        state.forget_missing(rows.uids());
    }
    let recorder = Recorder {
        state,
        last_save: Instant::now(),
        line: std::io::stderr().is_terminal().then(ProgressLine::new),
    };
    let transfer = save_messages(&session, &wanted, sink, &options, recorder, &cancel).await;
    fetched.saved = transfer.saved.len();
    fetched.bytes = transfer.bytes();
    let mut recorder = transfer.observer;
    if let Some(line) = &mut recorder.line {
        line.finish();
    }
    fetched.timing = Some(transfer.timing);
    fetched.refused = transfer.refused;
    let mut stopped = transfer.stopped.map(|s| s.failure());
    if let Err(err) = recorder.state.save() {
        stopped.get_or_insert(Failure::from(err));
    }
    fetched.failure = stopped;
    let complete = fetched.failure.is_none();
    fetched.deletion = match why_not_delete(consent, fetched, cancel.is_cancelled()) {
        Some(why) => {
            // Nothing is marked: a complete fetch ends with QUIT; after a
            // stop, answers may still be on their way (a stalled server
            // may never send them), so the connection is just closed.
            if complete {
                fetched.quit = Some(session.quit(false).await);
            } else {
                session.abandon().await;
            }
            why.map(Deletion::NotDone)
        }
        None => Some(delete_saved(session, consent, &transfer.saved, &cancel).await),
    };
    watcher.abort();
}

/// `None` when the fetched messages may be deleted now; otherwise why
/// not (`Some(None)`: `--delete` was not asked for).
fn why_not_delete(consent: Consent, fetched: &Fetched, interrupted: bool) -> Option<Option<String>> {
    if consent == Consent::Keep {
        return Some(None);
    }
    let why = if interrupted {
        "interrupted before every message was saved".to_string()
    } else if let Some(failure) = &fetched.failure {
        format!("not every message could be saved: {}", failure.message)
    } else if !fetched.refused.is_empty() {
        format!(
            "the server refused to send {} message{}; delete only after a complete fetch",
            fetched.refused.len(),
            if fetched.refused.len() == 1 { "" } else { "s" }
        )
    } else if fetched.saved == 0 {
        "no message was fetched".to_string()
    } else {
        return None;
    };
    Some(Some(why))
}

/// Asks (when it must), then deletes exactly the synced messages.
async fn delete_saved(session: Session, consent: Consent, saved: &[SavedAt], cancel: &Cancel) -> Deletion {
    let numbers: Vec<u32> = saved.iter().map(|s| s.number).collect();
    if consent == Consent::Ask {
        let answer = tokio::select! {
            answer = delete::ask(&session, numbers.len()) => Some(answer),
            _ = cancel.cancelled() => None,
        };
        match answer {
            None => {
                session.quit(false).await;
                return Deletion::Interrupted;
            }
            Some(Ok(true)) => {}
            Some(Ok(false)) => {
                session.quit(false).await;
                return Deletion::NotDone("not confirmed".into());
            }
            Some(Err(failure)) => {
                session.abandon().await;
                return Deletion::Lost(failure.message);
            }
        }
    }
    delete::delete(session, &numbers, cancel).await
}

async fn cancel_on_ctrl_c(cancel: Cancel) {
    if tokio::signal::ctrl_c().await.is_ok() {
        cancel.cancel();
    }
}

/// The maildrop as LIST and UIDL give it.
pub struct Rows {
    pub sizes: Vec<(u32, u64)>,
    pub uids: UidList,
    /// UIDL was answered without a malformed line: every message has its
    /// UID here, so saved UIDs that are missing left the server.
    pub complete_uids: bool,
}

impl Rows {
    fn uids(&self) -> impl Iterator<Item = &str> {
        self.sizes.iter().filter_map(|(n, _)| self.uids.get(*n))
    }

    fn any_uid(&self) -> bool {
        self.uids().next().is_some()
    }
}

/// LIST and UIDL, on the wire together. Notices go to standard error.
async fn list(session: &Session) -> Result<Rows, Failure> {
    let report = &session.report;
    let mut plan = ListingPlan::from_capa(report.capa_after.as_ref().or(report.capa_before.as_ref()));
    let list = session.send_now(Command::List(None))?;
    let uidl = if plan.asks_uidl() {
        Some(session.send_now(Command::Uidl(None))?)
    } else {
        None
    };
    let sizes = apply_list(list.await?)?;
    let (uids, answered) = match uidl {
        Some(uidl) => (plan.apply_uidl(uidl.await?)?, true),
        None => (UidList::default(), false),
    };
    let complete_uids = answered && uids.notice().is_none();
    match uids.notice() {
        Some(notice) => warn(&notice),
        None if !answered && !sizes.is_empty() => {
            warn("the server has no UIDL; messages are identified by number only")
        }
        None => {}
    }
    Ok(Rows {
        sizes,
        uids,
        complete_uids,
    })
}

/// Without any UID, a second run cannot tell what it saved, and deleting
/// by number needs `--by-number`.
fn refuse_without_uids(rows: &Rows, args: &FetchArgs) -> Result<(), Failure> {
    if rows.sizes.is_empty() || rows.any_uid() {
        return Ok(());
    }
    warn("without UIDs a second fetch cannot skip what this one saves: it will fetch everything again");
    if args.delete && !args.by_number {
        return Err(Failure::new(
            FailureKind::Policy,
            "this server gives no UIDs (no UIDL): refusing to delete messages by number alone",
        )
        .with_hint(
            "--by-number deletes by message number within this one session (what this run fetched and synced)",
        ));
    }
    Ok(())
}

/// The fetch's observer: records synced UIDs in the state file (saving
/// it now and then) and draws the progress line.
struct Recorder {
    state: UidState,
    last_save: Instant,
    line: Option<ProgressLine>,
}

impl TransferObserver for Recorder {
    fn progress(&mut self, progress: &Progress) {
        if let Some(line) = &mut self.line {
            line.update(progress);
        }
    }

    fn synced(&mut self, batch: &[SavedAt]) -> Result<(), StoreError> {
        for saved in batch {
            if let Some(uid) = &saved.uid {
                self.state.insert(uid);
            }
        }
        if self.last_save.elapsed() >= STATE_SAVE_EVERY {
            self.last_save = Instant::now();
            self.state.save()?;
        }
        Ok(())
    }
}

fn warn(notice: &str) {
    eprintln!("popscope: warning: {notice}");
}
