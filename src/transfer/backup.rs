//! Backing up before deleting (issue 9): every message a guarded commit
//! is about to delete is RETR'd into a Maildir and synced before the
//! commit may send its first DELE. `clean --backup`, `fetch --delete
//! --backup` and the inspector's "back up, then delete" all go through
//! [`back_up`].
//!
//! The rule is all or nothing: the commit goes on only when `sync`
//! returned a copy of *every* marked message. A refused RETR, a storage
//! error, a lost connection or a cancel abandons the commit
//! ([`GuardedCommit::abandon`]), so nothing is deleted, and the failure
//! names the message it stopped at and why.

use super::{Cancel, Progress, Stopped, TransferObserver, TransferOptions, Wanted, save_messages};
use crate::error::FailureKind;
use crate::mailbox::commit::{GuardedCommit, Marked};
use crate::sanitize::sanitize_text;
use crate::session::Session;
use crate::store::{MaildirSink, MessageSink, SavedAt, StoreError, show_path};
use crate::text::human_size;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// A backup that holds every marked message, durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackedUp {
    pub dir: PathBuf,
    pub messages: usize,
    pub bytes: u64,
}

impl fmt::Display for BackedUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backed up {} message{} ({}) to the Maildir {}",
            self.messages,
            if self.messages == 1 { "" } else { "s" },
            human_size(self.bytes),
            show_path(&self.dir)
        )
    }
}

/// Why a backup did not cover every marked message (so nothing may be
/// deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackupFailed {
    pub dir: PathBuf,
    /// The message it stopped at (number, UID), when one is to blame.
    pub message: Option<(u32, Option<String>)>,
    pub why: String,
    /// Copies that were synced before it stopped (they stay in `dir`).
    pub saved: usize,
    pub kind: FailureKind,
    /// It stopped because the server refused a RETR: the session itself
    /// is fine and nothing is in flight.
    pub retr_refused: bool,
}

impl BackupFailed {
    pub fn cancelled(&self) -> bool {
        self.kind == FailureKind::Interrupted
    }
}

impl fmt::Display for BackupFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cancelled() {
            write!(f, "the backup to {} was cancelled", show_path(&self.dir))?;
        } else {
            write!(f, "the backup to {} failed", show_path(&self.dir))?;
        }
        if let Some((number, uid)) = &self.message {
            write!(f, " at message {number}")?;
            if let Some(uid) = uid {
                write!(f, " (UID {})", sanitize_text(uid, false))?;
            }
        }
        if !self.cancelled() {
            write!(f, ": {}", self.why)?;
        }
        if self.saved > 0 {
            write!(
                f,
                " ({} cop{} kept there)",
                self.saved,
                if self.saved == 1 { "y" } else { "ies" }
            )?;
        }
        Ok(())
    }
}

/// Opens (or creates) the backup Maildir; a caller does this before
/// connecting, so an unusable directory stops everything before it starts.
pub(crate) fn open_backup(dir: &Path) -> Result<Box<dyn MessageSink>, StoreError> {
    Ok(Box::new(MaildirSink::open(dir)?))
}

/// The messages of a commit as a transfer wants them.
pub fn wanted(marked: &[Marked]) -> Vec<Wanted> {
    marked
        .iter()
        .map(|m| Wanted {
            number: m.number,
            uid: m.uid.as_deref().map(str::to_string),
            size: m.size,
        })
        .collect()
}

/// Saves every message `commit` would delete into `sink` (the Maildir
/// at `dir`) and syncs them. On success the commit may begin; on any
/// failure the commit is abandoned (nothing will be deleted) and the
/// failure says where it stopped. The session stays usable unless it
/// failed; after a cancel or a storage error answers may still be in
/// flight (close it rather than wait).
pub(crate) async fn back_up<O: TransferObserver>(
    session: &Session,
    commit: &mut GuardedCommit,
    dir: &Path,
    sink: Box<dyn MessageSink>,
    options: &TransferOptions,
    observer: O,
    cancel: &Cancel,
) -> (Result<BackedUp, BackupFailed>, O) {
    let (outcome, observer) = copy(session, commit.marked(), dir, sink, options, observer, cancel).await;
    if let Err(failed) = &outcome {
        commit.abandon(failed.to_string());
    }
    (outcome, observer)
}

/// [`back_up`] for a caller that holds the commit elsewhere (the
/// inspector): opens the Maildir at `dir` and copies `marked` into it. The
/// caller must abandon its commit on `Err`.
pub(crate) async fn copy_into<O: TransferObserver>(
    session: &Session,
    marked: &[Marked],
    dir: &Path,
    options: &TransferOptions,
    observer: O,
    cancel: &Cancel,
) -> (Result<BackedUp, BackupFailed>, O) {
    match open_backup(dir) {
        Ok(sink) => copy(session, marked, dir, sink, options, observer, cancel).await,
        Err(err) => {
            let why = match err.hint() {
                Some(hint) => format!("{} (try: {hint})", err.message()),
                None => err.message().to_string(),
            };
            let failed = BackupFailed {
                dir: dir.to_path_buf(),
                message: None,
                why,
                saved: 0,
                kind: FailureKind::Local,
                retr_refused: false,
            };
            (Err(failed), observer)
        }
    }
}

async fn copy<O: TransferObserver>(
    session: &Session,
    marked: &[Marked],
    dir: &Path,
    sink: Box<dyn MessageSink>,
    options: &TransferOptions,
    observer: O,
    cancel: &Cancel,
) -> (Result<BackedUp, BackupFailed>, O) {
    let wanted = wanted(marked);
    let tracker = Tracker {
        inner: observer,
        committed: 0,
    };
    let transfer = save_messages(session, &wanted, sink, options, tracker, cancel).await;
    let outcome = judge(
        dir,
        &wanted,
        &transfer.saved,
        &transfer.refused,
        transfer.stopped,
        transfer.observer.committed,
    );
    (outcome, transfer.observer.inner)
}

/// Every wanted message is among `saved`, or the failure that explains
/// why not.
fn judge(
    dir: &Path,
    wanted: &[Wanted],
    saved: &[SavedAt],
    refused: &[(u32, crate::pop3::codec::StatusLine)],
    stopped: Option<Stopped>,
    committed: usize,
) -> Result<BackedUp, BackupFailed> {
    let at = |index: usize| wanted.get(index).map(|w| (w.number, w.uid.clone()));
    let failed = |message, why: String, kind| BackupFailed {
        dir: dir.to_path_buf(),
        message,
        why,
        saved: saved.len(),
        kind,
        retr_refused: false,
    };
    if let Some(stopped) = stopped {
        let failure = stopped.failure();
        let why = match &failure.hint {
            Some(hint) => format!("{} (try: {hint})", failure.message),
            None => failure.message.clone(),
        };
        return Err(failed(at(committed), why, failure.kind));
    }
    if let Some((number, status)) = refused.first() {
        let uid = wanted.iter().find(|w| w.number == *number).and_then(|w| w.uid.clone());
        let kind = FailureKind::refusal(status, FailureKind::Protocol);
        return Err(BackupFailed {
            retr_refused: true,
            ..failed(
                Some((*number, uid)),
                format!("the server refused RETR {number}: {status}"),
                kind,
            )
        });
    }
    let copied: HashSet<u32> = saved.iter().map(|s| s.number).collect();
    if let Some(index) = wanted.iter().position(|w| !copied.contains(&w.number)) {
        return Err(failed(at(index), "no copy was saved".into(), FailureKind::Local));
    }
    Ok(BackedUp {
        dir: dir.to_path_buf(),
        messages: saved.len(),
        bytes: saved.iter().fold(0u64, |sum, s| sum.saturating_add(s.bytes)),
    })
}

/// Remembers how many messages were committed, to name the one a
/// failure struck.
struct Tracker<O> {
    inner: O,
    committed: usize,
}

impl<O: TransferObserver> TransferObserver for Tracker<O> {
    fn progress(&mut self, progress: &Progress) {
        self.committed = progress.messages;
        self.inner.progress(progress);
    }

    fn synced(&mut self, batch: &[SavedAt]) -> Result<(), StoreError> {
        self.inner.synced(batch)
    }
}
