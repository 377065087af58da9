//! The one path that may delete, for every front end (the inspector's
//! confirmation dialog, `popscope clean`). Pure, like the protocol core:
//! the caller sends the commands this machine yields and feeds back their
//! outcomes; the machine decides what follows and how it ended.
//!
//! The rules (RFC 1939 §6: DELE only marks; the server deletes in the
//! UPDATE state that a QUIT starts, and never without one):
//! - every DELE goes out at once, so the session can pipeline them;
//! - QUIT (the committing one) is sent only once *every* marked message's
//!   DELE was accepted;
//! - if any DELE is refused, RSET undoes the accepted ones and the commit
//!   ends "cancelled, nothing deleted", naming the refusals: a partial
//!   deletion was never what the person confirmed;
//! - a connection that ends before QUIT deleted nothing; one that ends
//!   after QUIT was sent but before its answer leaves the outcome unknown,
//!   and the report says so.
//!
//! # The backup seam (issue 9)
//!
//! A machine starts in [`Stage::Ready`] and sends nothing until the caller
//! calls [`GuardedCommit::begin_delete`]. A caller that backs up first
//! (`--backup DIR`, the dialog's "back up, then delete") RETRs every
//! message in [`GuardedCommit::marked`], writes and fsyncs each copy, and
//! only then calls `begin_delete`; if any save fails it calls
//! [`GuardedCommit::abandon`] with the reason instead, and the report says
//! nothing was deleted and why. The machine never needs to know whether a
//! backup happened, so no DELE can slip in before one finished.

use crate::error::FailureKind;
use crate::pop3::client::{Command, Outcome};
use crate::pop3::codec::StatusLine;
use crate::text::human_size;
use std::fmt;

/// Refusals kept word for word; the rest are counted.
const REFUSALS_KEPT: usize = 10;

/// A message chosen for deletion, as this session's listing knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    pub number: u32,
    pub uid: Option<Box<str>>,
    pub size: u64,
}

/// What the machine asks its caller to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitCommand {
    Dele(u32),
    /// Undoes the accepted DELEs of a cancelled commit.
    Rset,
    /// The QUIT that commits the deletions.
    Quit,
}

impl CommitCommand {
    /// The protocol command. Only here does a `Quit { commit: true }` come
    /// from: the session's guard lets no other QUIT delete.
    pub fn command(self) -> Command {
        match self {
            CommitCommand::Dele(n) => Command::Dele(n),
            CommitCommand::Rset => Command::Rset,
            CommitCommand::Quit => Command::Quit { commit: true },
        }
    }
}

/// DELEs the server refused: the first few in its words, and how many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusals {
    kept: Vec<(u32, StatusLine)>,
    count: usize,
}

impl Refusals {
    fn push(&mut self, number: u32, status: StatusLine) {
        self.count += 1;
        if self.kept.len() < REFUSALS_KEPT {
            self.kept.push((number, status));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The first refusals: message number and the server's answer.
    pub fn kept(&self) -> &[(u32, StatusLine)] {
        &self.kept
    }
}

impl fmt::Display for Refusals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (number, status)) in self.kept.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "DELE {number}: {status}")?;
        }
        let more = self.count - self.kept.len();
        if more > 0 {
            write!(f, " (and {more} more refused)")?;
        }
        Ok(())
    }
}

/// Where a commit stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Nothing sent yet; a backup, if any, happens now (module docs).
    Ready,
    /// Every DELE sent; `answered[i]` is whether `marked[i]`'s came back.
    Deleting {
        answered: Vec<bool>,
        waiting: usize,
        refused: Refusals,
    },
    /// Every DELE was accepted and the committing QUIT is on its way.
    Quitting,
    Ended(ExitReport),
}

/// How a commit (or leaving without one) ended: the line printed for the
/// person, and what decides the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReport {
    NothingDeleted(String),
    /// Left by Ctrl-C, a signal or a vanished terminal, without QUIT.
    Interrupted(String),
    /// A DELE was refused: RSET was sent, no committing QUIT.
    Cancelled {
        refused: Refusals,
    },
    /// The connection ended before QUIT was sent.
    Lost {
        reason: String,
    },
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

impl ExitReport {
    /// The failure class a command should exit with, `None` for success
    /// (deleted, or nothing to delete).
    pub(crate) fn failure_kind(&self) -> Option<FailureKind> {
        match self {
            ExitReport::NothingDeleted(_) | ExitReport::Deleted { .. } => None,
            ExitReport::Interrupted(_) => Some(FailureKind::Interrupted),
            ExitReport::Cancelled { refused } => {
                Some(refused.kept.first().map_or(FailureKind::Protocol, |(n, status)| {
                    crate::session::server_refused(&format!("DELE {n}"), status).kind
                }))
            }
            ExitReport::Lost { .. } => Some(FailureKind::Connect),
            ExitReport::QuitRefused { server, .. } => Some(crate::session::server_refused("QUIT", server).kind),
            ExitReport::Unknown { .. } => Some(FailureKind::OutcomeUnknown),
        }
    }

    /// How many messages the server deleted: `None` when that is not known.
    pub fn deleted(&self) -> Option<usize> {
        match self {
            ExitReport::Deleted { count, .. } => Some(*count),
            ExitReport::QuitRefused { .. } | ExitReport::Unknown { .. } => None,
            _ => Some(0),
        }
    }
}

impl fmt::Display for ExitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReport::NothingDeleted(why) => write!(f, "nothing was deleted ({why})"),
            ExitReport::Interrupted(why) => write!(f, "nothing was deleted ({why}; no QUIT was sent)"),
            ExitReport::Cancelled { refused } => write!(f, "commit cancelled, nothing deleted: {refused}"),
            ExitReport::Lost { reason } => {
                write!(f, "nothing was deleted (the connection was lost before QUIT: {reason})")
            }
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

/// One guarded commit: the marked messages and where their deletion
/// stands. See the module docs for the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedCommit {
    /// Sorted by number, no number twice.
    marked: Vec<Marked>,
    bytes: u64,
    stage: Stage,
}

impl GuardedCommit {
    pub fn new(mut marked: Vec<Marked>) -> GuardedCommit {
        marked.sort_by_key(|m| m.number);
        marked.dedup_by_key(|m| m.number);
        let bytes = marked.iter().fold(0u64, |sum, m| sum.saturating_add(m.size));
        GuardedCommit {
            marked,
            bytes,
            stage: Stage::Ready,
        }
    }

    /// What will be (or was) deleted, by number.
    pub fn marked(&self) -> &[Marked] {
        &self.marked
    }

    pub fn count(&self) -> usize {
        self.marked.len()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn stage(&self) -> &Stage {
        &self.stage
    }

    /// How it ended, once it has.
    pub fn report(&self) -> Option<&ExitReport> {
        match &self.stage {
            Stage::Ended(report) => Some(report),
            _ => None,
        }
    }

    pub(crate) fn into_report(self) -> Option<ExitReport> {
        match self.stage {
            Stage::Ended(report) => Some(report),
            _ => None,
        }
    }

    /// The DELE for every marked message, all at once (to be pipelined).
    /// The seam for a backup: call this only when every message that must
    /// be saved first has been (module docs). With nothing marked the
    /// commit ends at once, having sent nothing.
    pub(crate) fn begin_delete(&mut self) -> Vec<CommitCommand> {
        if self.stage != Stage::Ready {
            return Vec::new();
        }
        if self.marked.is_empty() {
            self.end(ExitReport::NothingDeleted("nothing was marked".into()));
            return Vec::new();
        }
        self.stage = Stage::Deleting {
            answered: vec![false; self.marked.len()],
            waiting: self.marked.len(),
            refused: Refusals::default(),
        };
        self.marked.iter().map(|m| CommitCommand::Dele(m.number)).collect()
    }

    /// Ends a commit that has not sent anything (a backup failed, the
    /// person backed out): nothing is deleted, for this reason.
    pub fn abandon(&mut self, why: String) {
        if self.stage == Stage::Ready {
            self.end(ExitReport::NothingDeleted(why));
        }
    }

    /// The answer to `DELE number`. Returns what to send next: the
    /// committing QUIT once every DELE was accepted, RSET once all are in
    /// and any was refused.
    pub(crate) fn dele_answered(&mut self, number: u32, outcome: &Outcome) -> Option<CommitCommand> {
        let Ok(index) = self.marked.binary_search_by_key(&number, |m| m.number) else {
            return None;
        };
        let Stage::Deleting {
            answered,
            waiting,
            refused,
        } = &mut self.stage
        else {
            return None;
        };
        if std::mem::replace(&mut answered[index], true) {
            return None;
        }
        *waiting -= 1;
        match outcome {
            Outcome::Ok(_) => {}
            Outcome::Err(status) => refused.push(number, status.clone()),
            // The connection is gone: without QUIT nothing is deleted.
            other => {
                self.end(ExitReport::Lost {
                    reason: other.to_string(),
                });
                return None;
            }
        }
        if *waiting > 0 {
            return None;
        }
        if refused.is_empty() {
            self.stage = Stage::Quitting;
            return Some(CommitCommand::Quit);
        }
        let refused = std::mem::take(refused);
        self.end(ExitReport::Cancelled { refused });
        Some(CommitCommand::Rset)
    }

    /// The answer to the committing QUIT.
    pub(crate) fn quit_answered(&mut self, outcome: Outcome) {
        if self.stage != Stage::Quitting {
            return;
        }
        let count = self.count();
        self.end(match outcome {
            Outcome::Ok(reply) => ExitReport::Deleted {
                count,
                bytes: self.bytes,
                server: reply.status,
            },
            Outcome::Err(server) => ExitReport::QuitRefused { count, server },
            Outcome::Lost(reason) => ExitReport::Unknown { count, reason },
            other => ExitReport::Unknown {
                count,
                reason: other.to_string(),
            },
        });
    }

    /// The connection ended (not by the QUIT's answer).
    pub fn connection_lost(&mut self, reason: &str) {
        let report = match self.stage {
            Stage::Ended(_) => return,
            Stage::Quitting => ExitReport::Unknown {
                count: self.count(),
                reason: reason.to_string(),
            },
            Stage::Ready | Stage::Deleting { .. } => ExitReport::Lost {
                reason: reason.to_string(),
            },
        };
        self.end(report);
    }

    /// The person or a signal stopped popscope; the caller closes the
    /// connection without sending anything more.
    pub fn interrupted(&mut self, why: &str) {
        let report = match self.stage {
            Stage::Ended(_) => return,
            Stage::Quitting => ExitReport::Unknown {
                count: self.count(),
                reason: format!("{why} after QUIT was sent"),
            },
            Stage::Ready | Stage::Deleting { .. } => ExitReport::Interrupted(why.to_string()),
        };
        self.end(report);
    }

    fn end(&mut self, report: ExitReport) {
        self.stage = Stage::Ended(report);
    }
}

#[cfg(test)]
mod tests;
