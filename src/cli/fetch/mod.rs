//! `popscope fetch URL --to PATH`: download a maildrop into a Maildir
//! (default), an mbox file or a directory of `.eml` files, fast and
//! without ever risking a message.
//!
//! One session: list and select (`listing`: LIST and UIDL, TOP only when
//! `--match` reads headers; `--uids-from`), skip what the target's UID
//! state says is already there, save the rest through
//! [`crate::transfer::save_messages`] (RETRs pipelined, streamed to a
//! writer thread, synced in batches), record the saved UIDs, and only
//! then, with `--delete` and consent, delete exactly the messages that
//! `sync` returned, through the guarded commit every front end shares
//! (`delete`). Without UIDL nothing can be skipped next time, and
//! `--delete` needs `--by-number`.

mod delete;
mod listing;
mod report;

use super::backup::Backup;
use super::list::warn;
use super::progress::ProgressLine;
use super::select::{Selector, UidSet, parse_match};
use super::{ConnectArgs, TraceFile};
use crate::error::{Failure, FailureKind};
use crate::mailbox::commit::ExitReport;
use crate::session::{self, Session};
use crate::store::{Account, EmlSink, Format, MessageSink, OnExists, SavedAt, StoreError, UidState, open_sink};
use crate::transfer::{Cancel, Progress, TransferObserver, TransferOptions, save_messages};
use clap::{Args, ValueEnum};
use delete::Consent;
use listing::{list, refuse_without_uids};
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
    /// Only the messages this query matches (the query language of `list
    /// --match`; headers are fetched only when it needs them).
    #[arg(long = "match", value_name = "QUERY")]
    pub matching: Option<String>,
    /// Only the messages with these UIDs, one per line ("-": standard
    /// input). With --match: those both select.
    #[arg(long, value_name = "FILE")]
    pub uids_from: Option<PathBuf>,
    /// Delete from the server the messages fetched in this run, once their
    /// copies are written and synced. Asks on a terminal; --yes otherwise.
    #[arg(long)]
    pub delete: bool,
    /// With --delete: first copy every message about to be deleted into
    /// this Maildir too (a second RETR) and sync it; if any copy fails,
    /// nothing is deleted.
    #[arg(long, value_name = "DIR", requires = "delete")]
    pub backup: Option<PathBuf>,
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
    // consent, the selection, an unusable target, a damaged state file.
    let stdin_is_the_list = args.uids_from.as_deref().is_some_and(|p| p.as_os_str() == "-");
    let consent = Consent::new(args.delete, args.yes, stdin_is_the_list)?;
    let query = args.matching.as_deref().map(parse_match).transpose()?;
    let uids = args.uids_from.as_deref().map(UidSet::read).transpose()?;
    let selector = (query.is_some() || uids.is_some()).then(|| Selector::new(query, uids));
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
    let backup = Backup::open(args.backup.as_deref())?;
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(&args.connect)?;
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
        selector,
        backup,
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
    selector: Option<Selector>,
    backup: Option<Backup>,
    options: TransferOptions,
}

/// Lists, saves, records and (with consent) deletes, in one session;
/// fills `fetched` with what happened. Ctrl-C cancels whatever is under
/// way (nothing is deleted unless QUIT was already sent).
async fn fetch(session: Session, args: &FetchArgs, plan: Plan, fetched: &mut Fetched) {
    let Plan {
        sink,
        mut state,
        consent,
        mut selector,
        backup,
        options,
    } = plan;
    let cancel = Cancel::default();
    let watcher = tokio::spawn(cancel_on_ctrl_c(cancel.clone()));
    let listed = tokio::select! {
        rows = list(&session, selector.as_mut()) => rows.and_then(|rows| refuse_without_uids(&rows, args).map(|()| rows)),
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
    if let Some(selector) = &selector {
        eprintln!("popscope: {}", selector.summary("selected"));
    }
    let wanted = fetched.choose(&rows, &state);
    if let Some(uids) = &rows.uids_on_server {
        state.forget_missing(uids.iter().map(String::as_str));
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
            why.map(ExitReport::NothingDeleted)
        }
        None => {
            Some(delete::delete_saved(session, consent, &transfer.saved, &cancel, backup, &mut fetched.backup).await)
        }
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

async fn cancel_on_ctrl_c(cancel: Cancel) {
    if tokio::signal::ctrl_c().await.is_ok() {
        cancel.cancel();
    }
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
