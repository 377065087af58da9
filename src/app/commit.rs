//! Leaving, and the only path that may delete: the confirmation dialog,
//! then the guarded commit shared with `popscope clean`
//! (`crate::mailbox::commit`: DELE for every mark, pipelined, then QUIT
//! once every DELE was accepted; RSET otherwise). This module maps that
//! machine's commands to tickets and its end to the exit report. Anything
//! else ends without a committing QUIT, and the server deletes nothing
//! (RFC 1939 §6).
//!
//! "b: back up, then delete" puts the commit on hold in [`Stage::BackingUp`]
//! while the event loop copies every mark into a Maildir
//! ([`crate::transfer::backup`]); only a complete backup lets the commit
//! send its DELEs, and Esc, a failure or a lost connection abandons it
//! (nothing deleted, the marks kept).

use super::keymap::{Action, Context, keys_for};
use super::list::{MarkOrigin, MessageList};
use super::tickets::{Purpose, Tickets};
use super::{Effect, Update};
use crate::mailbox::commit::{self as guarded, CommitCommand, GuardedCommit, Marked};
use crate::pop3::client::{Outcome, Priority};
use crate::transfer::backup::{BackedUp, BackupFailed};
use crate::transfer::{Cancel, Progress};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use crate::mailbox::commit::ExitReport;

/// Quitting without deleting asks again above this many marks: that much
/// work should not go by one key.
pub(crate) const DISCARD_ASKS_ABOVE: usize = 5;

/// The commit confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub count: usize,
    pub bytes: u64,
    /// The marked rows (indices into the list's rows), by number; the
    /// dialog lists their subjects, scrolled by `scroll`.
    pub rows: Vec<usize>,
    pub scroll: usize,
    /// How the marks were made: the queries that selected them.
    pub origin: MarkOrigin,
    /// Asking "discard N marks?" after the keep-all key.
    pub discarding: bool,
}

impl Confirmation {
    /// "subject:x · sender a@b, and by hand", or None when every mark was
    /// made by hand.
    pub(crate) fn selected_by(&self) -> Option<String> {
        let queries = &self.origin.queries;
        if queries.is_empty() {
            return None;
        }
        let hand = if self.origin.by_hand { ", and by hand" } else { "" };
        Some(format!("{}{hand}", queries.join(" · ")))
    }

    /// Scrolls the subject list; `shown` is how many lines it has.
    fn scroll(&mut self, action: Action, shown: usize) {
        let max = self.rows.len().saturating_sub(shown.max(1));
        self.scroll = match action {
            Action::Down => self.scroll + 1,
            Action::Up => self.scroll.saturating_sub(1),
            Action::PageDown => self.scroll + shown.max(1),
            Action::PageUp => self.scroll.saturating_sub(shown.max(1)),
            _ => self.scroll,
        }
        .min(max);
    }
}

/// Where leaving stands, as the hint and status bars show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Idle,
    /// The marked messages are being copied before any DELE.
    BackingUp,
    /// The guarded commit's DELEs are in flight.
    Deleting,
    Quitting {
        commit: bool,
    },
}

/// What a lost connection means for the commit.
#[derive(Debug)]
pub enum Closed {
    /// It ended the logout: leave now.
    Leave(Vec<Effect>),
    /// It cancelled a commit half-way: nothing was deleted; this says so.
    CommitCancelled(String),
    NotCommitting,
}

/// Where a backup stands, shared with the writer thread that copies.
pub(crate) type Gauge = Arc<Mutex<Progress>>;

/// What the event loop runs for "back up, then delete".
#[derive(Debug, Clone)]
pub struct BackupJob {
    pub marked: Vec<Marked>,
    pub dir: PathBuf,
    pub cancel: Cancel,
    pub gauge: Gauge,
}

/// A backup under way: the commit it holds back, and its gauge.
#[derive(Debug, Clone)]
pub struct RunningBackup {
    commit: GuardedCommit,
    pub dir: PathBuf,
    cancel: Cancel,
    pub gauge: Gauge,
}

impl RunningBackup {
    pub fn progress(&self) -> Progress {
        self.gauge.lock().map(|p| p.clone()).unwrap_or_default()
    }

    pub fn cancelling(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// The dialog, the commit in progress and how it ended.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub dialog: Option<Confirmation>,
    pub report: Option<ExitReport>,
    /// Where "back up, then delete" copies to (`--backup DIR`, else a
    /// default named by the server and the date).
    pub backup_dir: PathBuf,
    /// The backup before the commit, while it runs.
    pub backup: Option<RunningBackup>,
    /// The last complete backup, for the exit report.
    pub backed_up: Option<BackedUp>,
    /// The confirmed commit, from its first DELE until it ends.
    running: Option<GuardedCommit>,
    /// A QUIT that keeps every message is on its way.
    logging_out: bool,
}

impl Commit {
    pub fn new(backup_dir: PathBuf) -> Commit {
        Commit {
            backup_dir,
            ..Commit::default()
        }
    }

    pub(crate) fn stage(&self) -> Stage {
        if self.backup.is_some() {
            return Stage::BackingUp;
        }
        match &self.running {
            Some(commit) if *commit.stage() == guarded::Stage::Quitting => Stage::Quitting { commit: true },
            Some(_) => Stage::Deleting,
            None if self.logging_out => Stage::Quitting { commit: false },
            None => Stage::Idle,
        }
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.stage() == Stage::Idle
    }

    /// What the activity line says when a key would interfere with a
    /// commit in progress.
    pub(crate) fn busy_notice() -> String {
        format!(
            "a commit is in progress; {} leaves without QUIT (nothing is deleted then)",
            keys_for(Context::Global, Action::Interrupt)
        )
    }

    /// Quit from the list: asks first when messages are marked.
    pub fn quit(&mut self, list: &MessageList, link_open: bool, tickets: &mut Tickets) -> Update {
        let (count, bytes) = list.marked();
        if !link_open {
            self.report = Some(ExitReport::NothingDeleted(if count > 0 {
                "the connection was lost before the marks could be committed".into()
            } else {
                "nothing was marked".into()
            }));
            return Update::effects(vec![Effect::Exit]);
        }
        if count == 0 {
            return self.send_plain_quit(tickets);
        }
        let rows = (0..list.rows.len()).filter(|&i| list.rows[i].marked).collect();
        self.dialog = Some(Confirmation {
            count,
            bytes,
            rows,
            scroll: 0,
            origin: list.mark_origin().clone(),
            discarding: false,
        });
        Update::default()
    }

    /// A key in the dialog; `shown` is how many subject lines it shows.
    pub(crate) fn dialog_action(
        &mut self,
        action: Action,
        list: &MessageList,
        tickets: &mut Tickets,
        shown: usize,
    ) -> Update {
        let Some(dialog) = self.dialog.as_mut() else {
            return Update::default();
        };
        match action {
            Action::ConfirmCancel if dialog.discarding => {
                dialog.discarding = false;
                Update::default()
            }
            Action::ConfirmCancel => {
                self.dialog = None;
                Update::default()
            }
            Action::ConfirmKeep if !dialog.discarding && dialog.count > DISCARD_ASKS_ABOVE => {
                dialog.discarding = true;
                Update::default()
            }
            // Each key means something in one question only: y to "discard
            // N marks?" must never delete.
            Action::ConfirmDiscard if !dialog.discarding => Update::default(),
            Action::ConfirmCommit | Action::ConfirmKeep if dialog.discarding => Update::default(),
            Action::ConfirmKeep | Action::ConfirmDiscard => {
                self.dialog = None;
                // Marks were only ever staged here: a plain QUIT keeps all.
                self.send_plain_quit(tickets)
            }
            Action::ConfirmCommit => {
                self.dialog = None;
                self.begin(list, tickets)
            }
            Action::ConfirmBackup => {
                self.dialog = None;
                self.begin_backup(list)
            }
            _ => {
                dialog.scroll(action, shown);
                Update::default()
            }
        }
    }

    /// Starts the guarded commit of every mark.
    fn begin(&mut self, list: &MessageList, tickets: &mut Tickets) -> Update {
        self.delete(GuardedCommit::new(marked(list)), tickets)
    }

    /// Holds the commit of every mark back while the event loop copies
    /// them into `backup_dir`.
    fn begin_backup(&mut self, list: &MessageList) -> Update {
        let commit = GuardedCommit::new(marked(list));
        let job = BackupJob {
            marked: commit.marked().to_vec(),
            dir: self.backup_dir.clone(),
            cancel: Cancel::default(),
            gauge: Gauge::default(),
        };
        let said = format!(
            "backing up {} messages to {} before deleting…",
            commit.count(),
            crate::store::show_path(&job.dir)
        );
        self.backup = Some(RunningBackup {
            commit,
            dir: job.dir.clone(),
            cancel: job.cancel.clone(),
            gauge: job.gauge.clone(),
        });
        Update::say(vec![Effect::Backup(job)], said)
    }

    /// Esc while backing up: the copy stops; the commit is abandoned when
    /// the event loop reports the backup's end.
    pub(crate) fn cancel_backup(&mut self) -> Update {
        match &self.backup {
            Some(backup) => {
                backup.cancel.cancel();
                Update::say(Vec::new(), "cancelling the backup; nothing will be deleted…".into())
            }
            None => Update::default(),
        }
    }

    /// The backup ended: the DELEs go out only if it holds every mark.
    pub(crate) fn backup_finished(&mut self, outcome: Result<BackedUp, BackupFailed>, tickets: &mut Tickets) -> Update {
        let Some(RunningBackup { mut commit, .. }) = self.backup.take() else {
            return Update::default();
        };
        match outcome {
            Ok(done) if self.report.is_none() => {
                let said = format!("{done}; deleting…");
                self.backed_up = Some(done);
                let mut update = self.delete(commit, tickets);
                update.say = Some(said);
                update
            }
            Ok(_) => Update::default(),
            Err(failed) => {
                commit.abandon(failed.to_string());
                let said = commit.report().map(ToString::to_string).unwrap_or_default();
                Update::say(Vec::new(), format!("{said}; the marks are kept"))
            }
        }
    }

    /// Sends every DELE of `commit`.
    fn delete(&mut self, mut commit: GuardedCommit, tickets: &mut Tickets) -> Update {
        let said = format!("deleting {} messages…", commit.count());
        let effects = commit
            .begin_delete()
            .into_iter()
            .map(|command| submit(command, tickets))
            .collect();
        self.running = Some(commit);
        Update::say(effects, said)
    }

    pub(crate) fn dele_answered(&mut self, n: u32, outcome: Outcome, tickets: &mut Tickets) -> Update {
        let Some(commit) = self.running.as_mut() else {
            return Update::default();
        };
        let next = commit.dele_answered(n, &outcome);
        let effects = next.into_iter().map(|command| submit(command, tickets)).collect();
        match commit.report() {
            // Cancelled (a DELE refused; RSET is on its way) or the
            // connection went: nothing was deleted, and the person may
            // decide again while the link lasts.
            Some(report) => {
                let said = report.to_string();
                self.running = None;
                Update::say(effects, said)
            }
            None if next == Some(CommitCommand::Quit) => Update::say(effects, "logging out…".into()),
            None => Update::effects(effects),
        }
    }

    fn send_plain_quit(&mut self, tickets: &mut Tickets) -> Update {
        self.logging_out = true;
        Update::say(
            vec![tickets.submit(Purpose::Quit { commit: false }, Priority::Urgent)],
            "logging out…".into(),
        )
    }

    /// QUIT's answer: the end.
    pub(crate) fn quit_answered(&mut self, commit: bool, outcome: Outcome) -> Vec<Effect> {
        self.report = Some(match (commit, self.running.take()) {
            (true, Some(mut running)) => {
                running.quit_answered(outcome);
                running
                    .into_report()
                    .unwrap_or_else(|| ExitReport::NothingDeleted("QUIT without deletions".into()))
            }
            (_, _) => match outcome {
                Outcome::Ok(reply) => ExitReport::NothingDeleted(format!(
                    "no message was marked on the server; it said: {}",
                    reply.status
                )),
                _ => ExitReport::NothingDeleted("QUIT without deletions".into()),
            },
        });
        vec![Effect::Exit]
    }

    /// The connection ended; what that means for a commit.
    pub fn connection_closed(&mut self, reason: &str) -> Closed {
        if self.report.is_some() {
            return Closed::NotCommitting;
        }
        if let Some(mut running) = self.running.take() {
            running.connection_lost(reason);
            return match running.into_report() {
                // Lost after the committing QUIT went out: unknown.
                Some(report @ ExitReport::Unknown { .. }) => {
                    self.report = Some(report);
                    Closed::Leave(vec![Effect::Exit])
                }
                // DELEs without QUIT commit nothing (RFC 1939 §6).
                Some(report) => Closed::CommitCancelled(report.to_string()),
                None => Closed::NotCommitting,
            };
        }
        if self.logging_out {
            self.report = Some(ExitReport::NothingDeleted(
                "the connection closed while logging out".into(),
            ));
            return Closed::Leave(vec![Effect::Exit]);
        }
        Closed::NotCommitting
    }

    /// Leaves without QUIT: the server deletes nothing, unless a
    /// committing QUIT was already sent (then the outcome is unknown).
    pub(crate) fn interrupt(&mut self, why: &str) -> Vec<Effect> {
        if self.report.is_some() {
            return vec![Effect::Exit];
        }
        if let Some(backup) = self.backup.take() {
            // The copy stops; no DELE was sent.
            backup.cancel.cancel();
        }
        self.report = Some(match self.running.take() {
            Some(mut running) => {
                running.interrupted(why);
                running
                    .into_report()
                    .unwrap_or_else(|| ExitReport::Interrupted(why.to_string()))
            }
            None => ExitReport::Interrupted(why.to_string()),
        });
        vec![Effect::Exit]
    }
}

/// Every marked row, as the guarded commit takes them.
fn marked(list: &MessageList) -> Vec<Marked> {
    list.marked_rows()
        .map(|r| Marked {
            number: r.number,
            uid: r.uid.clone(),
            size: r.size,
        })
        .collect()
}

/// The ticket that sends one of the guarded commit's commands.
fn submit(command: CommitCommand, tickets: &mut Tickets) -> Effect {
    let purpose = match command {
        CommitCommand::Dele(n) => Purpose::Dele(n),
        CommitCommand::Rset => Purpose::Rset,
        CommitCommand::Quit => Purpose::Quit { commit: true },
    };
    tickets.submit(purpose, Priority::Urgent)
}

#[cfg(test)]
mod tests;
