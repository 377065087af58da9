//! `popscope clean URL --match QUERY | --uids-from FILE`: delete what a
//! query or a UID list selects, from a script or a shell, safely.
//!
//! In one session: list (the pipelined LIST/UIDL/TOP path of `list`, every
//! header waited for), select (`select`), show the plan, then stop
//! (`--dry-run`), ask (`Delete N messages (SIZE)? [y/N]` on a terminal) or
//! go on (`--yes`), and commit through the guarded path the inspector uses
//! (`crate::mailbox::commit`). The selection is made by UID inside the
//! session that deletes, so a message number is only ever used with the
//! listing it came from; a server without UIDL is refused unless
//! `--by-number` is given.

use super::backup::JsonBackup;
use super::backup::{Backup, back_up};
use super::list::{Listing, list_messages};
use super::list_output::table_row;
use super::select::{Selector, UidSet, parse_match};
use super::{CleanArgs, TraceFile};
use crate::error::{Failure, FailureKind};
use crate::mailbox::ListingPlan;
use crate::mailbox::commit::{CommitCommand, ExitReport, GuardedCommit, Marked};
use crate::pop3::client::{Command, Outcome, Priority, Reply};
use crate::query::Verdict;
use crate::session::driver::Route;
use crate::session::{self, DEFAULT_COLLECT_LIMIT, QuitResult, Session};
use crate::text::human_size;
use crate::transfer::backup::{BackedUp, BackupFailed};
use serde::Serialize;
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::sync::oneshot;

/// Rows of the plan shown from each end of the selection.
const PLAN_ROWS_EACH_END: usize = 5;
/// While the question waits for an answer, a NOOP this often keeps the
/// session from being logged out for idleness (RFC 1939: at least 10 min).
const KEEPALIVE: Duration = Duration::from_secs(60);
/// A commit's DELEs may have this many times the session's window in
/// flight. The window bounds what the server must buffer and answer at
/// once, sized for TOP (an answer of kilobytes); a DELE and its answer are
/// some 30 bytes. With 1,000 in flight, 50,000 DELEs behind a 10 ms round
/// trip took 0.68 s where the server needed 0.15 s (benches/pop3.rs,
/// section 4): the window, not the server, was the limit.
pub const DELE_WINDOW_FACTOR: usize = 10;

/// Whether a person can be asked on standard input (`clean` and `fetch
/// --delete` ask before deleting): else a usage error saying why, with
/// `hint`.
pub(crate) fn can_ask(stdin_is_the_uid_list: bool, hint: &str) -> Result<(), Failure> {
    if std::io::stdin().is_terminal() && !stdin_is_the_uid_list {
        return Ok(());
    }
    let why = if stdin_is_the_uid_list {
        "standard input carries the UID list, so there is no terminal to ask on"
    } else {
        "standard input is not a terminal, so there is nobody to ask"
    };
    Err(Failure::new(
        FailureKind::Usage,
        format!("refusing to delete without confirmation: {why}"),
    )
    .with_hint(hint))
}

/// How the person's consent is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consent {
    /// `--dry-run`: show the plan, delete nothing.
    DryRun,
    /// `--yes`.
    Given,
    /// Ask on the terminal.
    Ask,
}

impl Consent {
    /// Refuses at once (before connecting) when nobody could be asked.
    fn from_args(args: &CleanArgs) -> Result<Consent, Failure> {
        if args.dry_run {
            return Ok(Consent::DryRun);
        }
        if args.yes {
            return Ok(Consent::Given);
        }
        let stdin_is_the_list = args.uids_from.as_deref().is_some_and(|p| p.as_os_str() == "-");
        can_ask(
            stdin_is_the_list,
            "add --dry-run to see what would be deleted, then --yes to delete it",
        )?;
        Ok(Consent::Ask)
    }
}

/// What `clean` selected, and the rows its plan shows.
#[derive(Debug, Default)]
struct Plan {
    marked: Vec<Marked>,
    first: Vec<Listing>,
    last: VecDeque<Listing>,
    /// Some listed message had a UID.
    saw_uids: bool,
}

impl Plan {
    fn add(&mut self, listing: &Listing) {
        self.marked.push(Marked {
            number: listing.msg,
            uid: listing.uid.as_deref().map(Box::from),
            size: listing.size,
        });
        if self.first.len() < PLAN_ROWS_EACH_END {
            self.first.push(listing.clone());
        } else {
            if self.last.len() == PLAN_ROWS_EACH_END {
                self.last.pop_front();
            }
            self.last.push_back(listing.clone());
        }
    }

    /// The selected rows, the first and last few, sanitized like `list`.
    fn rows(&self) -> Vec<String> {
        let mut rows: Vec<String> = self.first.iter().map(|l| table_row(l, false)).collect();
        let hidden = self.marked.len() - self.first.len() - self.last.len();
        if hidden > 0 {
            rows.push(format!("{:>6}  … {hidden} more …", ""));
        }
        rows.extend(self.last.iter().map(|l| table_row(l, false)));
        rows
    }
}

/// How a clean ended.
#[derive(Debug)]
enum Ending {
    NothingSelected,
    DryRun,
    Declined,
    Committed,
}

pub async fn run(args: &CleanArgs) -> Result<(), Failure> {
    // Everything that can be refused is refused before connecting.
    let query = args.matching.as_deref().map(parse_match).transpose()?;
    let uids = args.uids_from.as_deref().map(UidSet::read).transpose()?;
    let consent = Consent::from_args(args)?;
    let mut selector = Selector::new(query, uids).requiring_uids(!args.by_number);
    let backup = Backup::open(args.backup.as_deref())?;
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(&args.connect)?;
    let session = session::open(&config, trace.observers(None)).await?;
    for warning in &session.report.warnings {
        eprintln!("popscope: warning: {warning}");
    }
    let result = clean(session, &mut selector, args, consent, backup).await;
    trace.finish().await;
    let cleaned = result?;
    let report = &cleaned.report;
    if args.json {
        let json = json_outcome(&cleaned, &selector);
        println!("{}", serde_json::to_string(&json).unwrap_or_default());
    } else {
        println!("popscope: {report}");
        if let Some(Ok(done)) = &cleaned.backup
            && report.deleted() != Some(0)
        {
            println!("popscope: the copies are in {}", crate::store::show_path(&done.dir));
        }
    }
    if let Some(QuitResult::Unknown(reason)) = &cleaned.quit {
        eprintln!("popscope: warning: no answer to QUIT ({reason}); nothing was marked, so nothing changes");
    }
    if let Some(Err(failed)) = &cleaned.backup {
        // The line above said it; the exit code tells scripts.
        return Err(Failure::new(failed.kind, ""));
    }
    match report.failure_kind() {
        // The line above said it all; the exit code tells scripts.
        Some(kind) => Err(Failure::new(kind, "")),
        None => Ok(()),
    }
}

/// How a clean ended, for the report.
struct Cleaned {
    ending: Ending,
    report: ExitReport,
    marked: Vec<Marked>,
    /// The answer to a QUIT that kept everything.
    quit: Option<QuitResult>,
    /// `--backup`: how the copy before deleting went.
    backup: Option<Result<BackedUp, BackupFailed>>,
}

/// Lists, selects, shows, asks and commits (or not), in one session.
async fn clean(
    session: Session,
    selector: &mut Selector,
    args: &CleanArgs,
    consent: Consent,
    backup: Option<Backup>,
) -> Result<Cleaned, Failure> {
    let plan = match plan(&session, selector, args.by_number).await {
        Ok(plan) => plan,
        Err(failure) => {
            session.quit(false).await;
            return Err(failure);
        }
    };
    show_plan(&plan, selector, args.json);
    let count = plan.marked.len();
    if count == 0 {
        return Ok(keep(
            session,
            Ending::NothingSelected,
            "no message was selected".into(),
            plan.marked,
        )
        .await);
    }
    let what = format!(
        "{count} message{} ({})",
        if count == 1 { "" } else { "s" },
        human_size(selector.tally.selected_bytes)
    );
    match consent {
        Consent::DryRun => {
            let why = format!("dry run: {what} would be deleted");
            return Ok(keep(session, Ending::DryRun, why, plan.marked).await);
        }
        Consent::Ask if !ask(&session, &with_backup(what, backup.as_ref())).await? => {
            return Ok(keep(session, Ending::Declined, "not confirmed".into(), plan.marked).await);
        }
        Consent::Ask | Consent::Given => {}
    }
    let marked = plan.marked.clone();
    let mut guarded = GuardedCommit::new(plan.marked);
    let (session, backup) = match backup {
        None => (Some(session), None),
        Some(backup) => {
            let (session, outcome) = back_up(session, &mut guarded, backup).await;
            (session, Some(outcome))
        }
    };
    let report = match session {
        Some(session) => commit(session, guarded).await,
        // The backup failed: the commit was abandoned, nothing was sent.
        None => guarded
            .into_report()
            .unwrap_or_else(|| ExitReport::NothingDeleted("the backup did not finish".into())),
    };
    Ok(Cleaned {
        ending: Ending::Committed,
        report,
        marked,
        quit: None,
        backup,
    })
}

/// The question's words: what is deleted, and where it is copied first.
pub(crate) fn with_backup(what: String, backup: Option<&Backup>) -> String {
    match backup {
        Some(backup) => format!("{what} after copying them to {}", crate::store::show_path(backup.dir())),
        None => what,
    }
}

/// Ends the session keeping every message.
async fn keep(session: Session, ending: Ending, why: String, marked: Vec<Marked>) -> Cleaned {
    let quit = session.quit(false).await;
    Cleaned {
        ending,
        report: ExitReport::NothingDeleted(why),
        marked,
        quit: Some(quit),
        backup: None,
    }
}

/// Lists every message (headers included) and selects. Refuses a server
/// without UIDL unless `by_number`.
async fn plan(session: &Session, selector: &mut Selector, by_number: bool) -> Result<Plan, Failure> {
    let report = &session.report;
    let capa = report.capa_after.as_ref().or(report.capa_before.as_ref());
    // Known from CAPA: refuse before listing anything.
    if !ListingPlan::from_capa(capa).asks_uidl() {
        no_uidl(by_number, selector)?;
    }
    let mut plan = Plan::default();
    list_messages(session, |listing| {
        plan.saw_uids |= listing.uid.is_some();
        if selector.judge(listing) == Verdict::Match {
            plan.add(listing);
        }
        Ok(())
    })
    .await?;
    // Learnt from the answers (no CAPA, or UIDL refused).
    if !plan.saw_uids && selector.tally.listed > 0 {
        no_uidl(by_number, selector)?;
    }
    Ok(plan)
}

/// The server gives no UIDs: fine with `--by-number` and a query, refused
/// otherwise.
fn no_uidl(by_number: bool, selector: &Selector) -> Result<(), Failure> {
    if selector.uids().is_some() {
        return Err(Failure::new(
            FailureKind::Policy,
            "--uids-from selects by UID, and this server gives no UIDs (no UIDL)",
        )
        .with_hint("select with --match and --by-number instead"));
    }
    if by_number {
        return Ok(());
    }
    Err(Failure::new(
        FailureKind::Policy,
        "this server gives no UIDs (no UIDL): refusing to select messages by number alone",
    )
    .with_hint(
        "--by-number selects by message number within this one session (numbers are not stable across sessions)",
    ))
}

/// The plan: how many, how much, by what, and the first and last rows.
/// On standard output, or standard error when the outcome is JSON.
fn show_plan(plan: &Plan, selector: &Selector, json: bool) {
    let mut lines = vec![selector.summary("selected")];
    if let Some(query) = selector.query() {
        lines.push(format!(
            "query: {}",
            crate::sanitize::sanitize_text(&query.to_string(), false)
        ));
    }
    lines.extend(plan.rows());
    let text = lines.join("\n");
    if json {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
}

/// Asks `Delete {what}? [y/N]` on the terminal; only "y" or "yes" is a
/// yes. Keeps the session alive while the question waits. (`fetch
/// --delete` asks with it too.)
pub async fn ask(session: &Session, what: &str) -> Result<bool, Failure> {
    eprint!("Delete {what}? [y/N] ");
    let (tx, mut answer) = oneshot::channel();
    // A plain thread, not the blocking pool: if the session fails while
    // the question waits, popscope must be able to exit without an answer.
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    loop {
        tokio::select! {
            line = &mut answer => {
                let line = line
                    .map_err(|_| Failure::new(FailureKind::Local, "cannot read the answer"))?
                    .map_err(|e| Failure::new(FailureKind::Local, format!("cannot read the answer: {e}")))?;
                let line = line.trim().to_ascii_lowercase();
                return Ok(line == "y" || line == "yes");
            }
            _ = keepalive.tick() => {
                if !session.call(Command::Noop).await?.is_ok() {
                    return Err(Failure::new(FailureKind::Protocol, "the server refused NOOP while the question waited"));
                }
            }
        }
    }
}

/// Runs the guarded commit on `session` and ends the session: every DELE
/// pipelined, then the committing QUIT only if all were accepted (RSET and
/// a plain QUIT otherwise). Ctrl-C stops it; the report says what that
/// means.
pub async fn commit(session: Session, mut commit: GuardedCommit) -> ExitReport {
    let next = tokio::select! {
        next = send_deles(&session, &mut commit) => next,
        _ = tokio::signal::ctrl_c() => {
            commit.interrupted(INTERRUPTED);
            None
        }
    };
    finish(session, commit, next).await
}

const INTERRUPTED: &str = "interrupted with Ctrl-C";

/// The second half of [`commit`] (public so that the benchmark can time
/// the two halves): sends what the machine asked for after the DELEs and
/// ends the session.
pub async fn finish(session: Session, mut commit: GuardedCommit, next: Option<CommitCommand>) -> ExitReport {
    match next {
        Some(CommitCommand::Quit) => {
            let answered = tokio::select! {
                quit = session.quit(true) => Some(quit),
                _ = tokio::signal::ctrl_c() => None,
            };
            match answered {
                Some(quit) => commit.quit_answered(quit_outcome(quit)),
                None => commit.interrupted(INTERRUPTED),
            }
        }
        Some(CommitCommand::Rset) => {
            // The commit is over (cancelled); leave keeping everything.
            // Should RSET fail, the session's guard withholds QUIT.
            let _ = session.call(Command::Rset).await;
            session.quit(false).await;
        }
        // Lost or interrupted: close without QUIT, nothing is deleted.
        _ => session.abandon().await,
    }
    commit
        .into_report()
        .unwrap_or_else(|| ExitReport::NothingDeleted("the commit did not finish".into()))
}

/// The first half of [`commit`]: sends every DELE at once and feeds the
/// answers to the machine; returns what it asks for next (QUIT or RSET),
/// or `None` if it ended.
pub async fn send_deles(session: &Session, commit: &mut GuardedCommit) -> Option<CommitCommand> {
    // Only a pipelining session (window > 1) widens it; the session ends
    // after the commit, so it is not narrowed again.
    let window = session.report.window;
    if window > 1
        && let Err(failure) = session.set_window(window.saturating_mul(DELE_WINDOW_FACTOR))
    {
        commit.connection_lost(&failure.message);
        return None;
    }
    let mut answers = Vec::with_capacity(commit.count());
    for command in commit.begin_delete() {
        let CommitCommand::Dele(n) = command else { continue };
        let (tx, rx) = oneshot::channel();
        let route = Route::Reply {
            tx,
            limit: DEFAULT_COLLECT_LIMIT,
        };
        if let Err(failure) = session.submit(command.command(), Priority::Urgent, route) {
            commit.connection_lost(&failure.message);
            return None;
        }
        answers.push((n, rx));
    }
    for (n, rx) in answers {
        let outcome = match rx.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(failure)) => Outcome::Lost(failure.message),
            Err(_) => Outcome::Lost("the session ended".into()),
        };
        if let Some(next) = commit.dele_answered(n, &outcome) {
            return Some(next);
        }
        if commit.report().is_some() {
            return None;
        }
    }
    None
}

/// A QUIT's result as the machine reads outcomes.
fn quit_outcome(quit: QuitResult) -> Outcome {
    match quit {
        QuitResult::Answered(status) if status.is_ok() => Outcome::Ok(Reply { status, body: None }),
        QuitResult::Answered(status) => Outcome::Err(status),
        QuitResult::Unknown(reason) => Outcome::Lost(reason),
        QuitResult::NotSent(reason) => Outcome::NotSent(reason),
    }
}

/// `--json`: one object saying what happened.
#[derive(Debug, Serialize)]
struct JsonOutcome<'a> {
    /// deleted, dry_run, declined, nothing_selected, cancelled, lost,
    /// quit_refused, unknown, interrupted, backup_failed.
    outcome: &'static str,
    message: String,
    listed: u64,
    selected: u64,
    selected_bytes: u64,
    /// `null` when unknown (QUIT refused or unanswered).
    deleted: Option<usize>,
    kept: Option<u64>,
    /// The server's answer to QUIT, when there was one.
    server: Option<String>,
    not_evaluated: u64,
    unknown_uids: Vec<&'a str>,
    messages: Vec<JsonMessage<'a>>,
    /// `--backup`: where the copies are, or why the backup failed.
    backup: Option<JsonBackup>,
}

#[derive(Debug, Serialize)]
struct JsonMessage<'a> {
    msg: u32,
    uid: Option<&'a str>,
    size: u64,
}

fn json_outcome<'a>(cleaned: &'a Cleaned, selector: &'a Selector) -> JsonOutcome<'a> {
    let Cleaned {
        ending,
        report,
        marked,
        quit,
        backup,
    } = cleaned;
    let outcome = match (ending, report) {
        _ if matches!(backup, Some(Err(_))) => "backup_failed",
        (Ending::NothingSelected, _) => "nothing_selected",
        (Ending::DryRun, _) => "dry_run",
        (Ending::Declined, _) => "declined",
        (Ending::Committed, ExitReport::Deleted { .. }) => "deleted",
        (Ending::Committed, ExitReport::Cancelled { .. }) => "cancelled",
        (Ending::Committed, ExitReport::QuitRefused { .. }) => "quit_refused",
        (Ending::Committed, ExitReport::Unknown { .. }) => "unknown",
        (Ending::Committed, ExitReport::Interrupted(_)) => "interrupted",
        (Ending::Committed, ExitReport::Lost { .. } | ExitReport::NothingDeleted(_)) => "lost",
    };
    let server = match (report, quit.as_ref()) {
        (ExitReport::Deleted { server, .. } | ExitReport::QuitRefused { server, .. }, _) => Some(server.to_string()),
        (_, Some(QuitResult::Answered(status))) => Some(status.to_string()),
        _ => None,
    };
    let tally = &selector.tally;
    let deleted = report.deleted();
    JsonOutcome {
        outcome,
        message: report.to_string(),
        listed: tally.listed,
        selected: tally.selected,
        selected_bytes: tally.selected_bytes,
        deleted,
        kept: deleted.map(|d| tally.listed.saturating_sub(d as u64)),
        server,
        not_evaluated: tally.no_headers + tally.no_uid,
        unknown_uids: selector.uids().map(UidSet::unknown).unwrap_or_default(),
        messages: marked
            .iter()
            .map(|m| JsonMessage {
                msg: m.number,
                uid: m.uid.as_deref(),
                size: m.size,
            })
            .collect(),
        backup: backup.as_ref().map(JsonBackup::of),
    }
}
