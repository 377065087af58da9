//! Leaving, and the only path that may delete: the confirmation dialog,
//! then DELE for every mark (pipelined), then QUIT once every DELE was
//! accepted. Anything else ends without a committing QUIT, and the server
//! deletes nothing (RFC 1939 §6).

use super::keymap::{Action, Context, keys_for};
use super::list::{MarkOrigin, MessageList};
use super::tickets::{Purpose, Tickets};
use super::{Effect, Update};
use crate::pop3::client::{Outcome, Priority};
use crate::pop3::codec::StatusLine;
use crate::text::human_size;

/// Quitting without deleting asks again above this many marks: that much
/// work should not go by one key.
pub const DISCARD_ASKS_ABOVE: usize = 5;

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
    pub fn selected_by(&self) -> Option<String> {
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

/// Where the commit stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Idle,
    /// DELEs sent; waiting for all answers before QUIT.
    Deleting {
        waiting: usize,
        refused: Vec<String>,
    },
    Quitting {
        commit: bool,
    },
}

/// What happened, for the line printed after the screen is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReport {
    NothingDeleted(String),
    /// Left by Ctrl-C, a signal or a vanished terminal, without QUIT.
    Interrupted(String),
    Deleted {
        count: usize,
        bytes: u64,
        server: StatusLine,
    },
    QuitRefused {
        count: usize,
        server: StatusLine,
    },
    Unknown {
        count: usize,
        reason: String,
    },
}

impl std::fmt::Display for ExitReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitReport::NothingDeleted(why) => write!(f, "nothing was deleted ({why})"),
            ExitReport::Interrupted(why) => write!(f, "nothing was deleted ({why}; no QUIT was sent)"),
            ExitReport::Deleted { count, bytes, server } => write!(
                f,
                "deleted {count} message{} ({}); server said: {server}",
                if *count == 1 { "" } else { "s" },
                human_size(*bytes)
            ),
            ExitReport::QuitRefused { count, server } => write!(
                f,
                "the server answered QUIT with an error: {server}; some or all of the {count} marked messages may not have been deleted, check the mailbox"
            ),
            ExitReport::Unknown { count, reason } => write!(
                f,
                "OUTCOME UNKNOWN: the connection ended before the server answered QUIT ({reason}); the {count} marked messages may or may not have been deleted, check the mailbox"
            ),
        }
    }
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

/// The dialog, the commit state machine and how it ended.
#[derive(Debug, Clone)]
pub struct Commit {
    pub dialog: Option<Confirmation>,
    pub stage: Stage,
    pub report: Option<ExitReport>,
}

impl Default for Commit {
    fn default() -> Commit {
        Commit {
            dialog: None,
            stage: Stage::Idle,
            report: None,
        }
    }
}

impl Commit {
    pub fn is_idle(&self) -> bool {
        self.stage == Stage::Idle
    }

    /// What the activity line says when a key would interfere with a
    /// commit in progress.
    pub fn busy_notice() -> String {
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
            return self.send_quit(false, tickets);
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
    pub fn dialog_action(&mut self, action: Action, list: &MessageList, tickets: &mut Tickets, shown: usize) -> Update {
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
                self.send_quit(false, tickets)
            }
            Action::ConfirmCommit => {
                self.dialog = None;
                self.begin(list, tickets)
            }
            _ => {
                dialog.scroll(action, shown);
                Update::default()
            }
        }
    }

    /// DELE every mark (pipelined); QUIT follows once all were accepted.
    fn begin(&mut self, list: &MessageList, tickets: &mut Tickets) -> Update {
        let marked: Vec<u32> = list.marked_rows().map(|r| r.number).collect();
        self.stage = Stage::Deleting {
            waiting: marked.len(),
            refused: Vec::new(),
        };
        let said = format!("deleting {} messages…", marked.len());
        let effects = marked
            .into_iter()
            .map(|n| tickets.submit(Purpose::Dele(n), Priority::Urgent))
            .collect();
        Update::say(effects, said)
    }

    pub fn dele_answered(&mut self, n: u32, outcome: Outcome, tickets: &mut Tickets) -> Update {
        let Stage::Deleting { waiting, refused } = &mut self.stage else {
            return Update::default();
        };
        *waiting = waiting.saturating_sub(1);
        if !outcome.is_ok() {
            refused.push(format!("DELE {n}: {outcome}"));
        }
        if *waiting > 0 {
            return Update::default();
        }
        if refused.is_empty() {
            return self.send_quit(true, tickets);
        }
        // Part of the set was refused: commit nothing, say why, and let the
        // person decide again. RSET undoes the accepted DELEs.
        let said = format!("commit cancelled, nothing deleted: {}", refused.join("; "));
        self.stage = Stage::Idle;
        Update::say(vec![tickets.submit(Purpose::Rset, Priority::Urgent)], said)
    }

    fn send_quit(&mut self, commit: bool, tickets: &mut Tickets) -> Update {
        self.stage = Stage::Quitting { commit };
        Update::say(
            vec![tickets.submit(Purpose::Quit { commit }, Priority::Urgent)],
            "logging out…".into(),
        )
    }

    /// QUIT's answer: the end. `marked` is what a committing QUIT deleted.
    pub fn quit_answered(&mut self, commit: bool, outcome: Outcome, (count, bytes): (usize, u64)) -> Vec<Effect> {
        self.report = Some(match (commit, outcome) {
            (true, Outcome::Ok(reply)) => ExitReport::Deleted {
                count,
                bytes,
                server: reply.status,
            },
            (true, Outcome::Err(status)) => ExitReport::QuitRefused { count, server: status },
            (true, Outcome::Lost(reason)) => ExitReport::Unknown { count, reason },
            (true, other) => ExitReport::Unknown {
                count,
                reason: other.to_string(),
            },
            (false, Outcome::Ok(reply)) => ExitReport::NothingDeleted(format!(
                "no message was marked on the server; it said: {}",
                reply.status
            )),
            (false, _) => ExitReport::NothingDeleted("QUIT without deletions".into()),
        });
        vec![Effect::Exit]
    }

    /// The connection ended; what that means for a commit.
    pub fn connection_closed(&mut self, reason: &str, marked: usize) -> Closed {
        match &self.stage {
            Stage::Quitting { commit } if self.report.is_none() => {
                self.report = Some(if *commit {
                    ExitReport::Unknown {
                        count: marked,
                        reason: reason.to_string(),
                    }
                } else {
                    ExitReport::NothingDeleted("the connection closed while logging out".into())
                });
                Closed::Leave(vec![Effect::Exit])
            }
            Stage::Deleting { .. } => {
                // DELEs without QUIT commit nothing (RFC 1939 §6).
                self.stage = Stage::Idle;
                Closed::CommitCancelled(format!(
                    "connection lost while deleting: nothing was deleted ({reason})"
                ))
            }
            _ => Closed::NotCommitting,
        }
    }

    /// Leaves without QUIT: the server deletes nothing.
    pub fn interrupt(&mut self, why: &str) -> Vec<Effect> {
        self.report = Some(ExitReport::Interrupted(why.to_string()));
        vec![Effect::Exit]
    }
}
