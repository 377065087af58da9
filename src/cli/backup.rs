//! `--backup DIR` for `clean` and `fetch --delete`: the backup Maildir is
//! opened before connecting (an unusable directory stops everything
//! before it starts), and after consent every message about to be
//! deleted is copied into it through [`crate::transfer::backup`], with a
//! progress line on a terminal and Ctrl-C as a cancel. Only a complete
//! backup lets the guarded commit send its DELEs.

use super::progress::ProgressLine;
use crate::error::Failure;
use crate::mailbox::commit::GuardedCommit;
use crate::session::Session;
use crate::store::MessageSink;
use crate::transfer::backup::{self, BackedUp, BackupFailed};
use crate::transfer::{Cancel, Progress, TransferObserver, TransferOptions};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The backup Maildir, open and ready.
pub struct Backup {
    dir: PathBuf,
    sink: Box<dyn MessageSink>,
}

impl Backup {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `--backup DIR`, opened (created when missing) before connecting.
    pub fn open(dir: Option<&Path>) -> Result<Option<Backup>, Failure> {
        let Some(dir) = dir else { return Ok(None) };
        let sink = backup::open_backup(dir)?;
        Ok(Some(Backup {
            dir: dir.to_path_buf(),
            sink,
        }))
    }
}

/// Copies every message of `commit` into the backup; on failure the
/// commit is abandoned and the session closed (`None` back), so a caller
/// only goes on to the DELEs with the session it gets back.
pub(crate) async fn back_up(
    session: Session,
    commit: &mut GuardedCommit,
    backup: Backup,
) -> (Option<Session>, Result<BackedUp, BackupFailed>) {
    let cancel = Cancel::default();
    let watcher = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        }
    });
    let options = TransferOptions {
        lookahead: session.report.window.max(1),
        ..TransferOptions::default()
    };
    let line = std::io::stderr()
        .is_terminal()
        .then(|| ProgressLine::counting("backed up"));
    let (outcome, mut line) = backup::back_up(
        &session,
        commit,
        &backup.dir,
        backup.sink,
        &options,
        Line(line),
        &cancel,
    )
    .await;
    watcher.abort();
    if let Some(line) = &mut line.0 {
        line.finish();
    }
    match &outcome {
        Ok(done) => {
            eprintln!("popscope: {done}");
            (Some(session), outcome)
        }
        // The server refused a RETR: the session is fine, leave politely.
        Err(failed) if failed.retr_refused => {
            session.quit(false).await;
            (None, outcome)
        }
        // Answers may still be in flight (or the session is gone).
        Err(_) => {
            session.abandon().await;
            (None, outcome)
        }
    }
}

/// The progress line, when standard error is a terminal.
struct Line(Option<ProgressLine>);

impl TransferObserver for Line {
    fn progress(&mut self, progress: &Progress) {
        if let Some(line) = &mut self.0 {
            line.update(progress);
        }
    }
}

/// `--json`: where the copies are, or why the backup failed.
#[derive(Debug, Serialize)]
pub(crate) struct JsonBackup {
    dir: String,
    /// Copies synced into `dir`.
    saved: usize,
    bytes: u64,
    /// Why it did not cover every message (nothing was deleted then).
    error: Option<String>,
}

impl JsonBackup {
    pub fn of(outcome: &Result<BackedUp, BackupFailed>) -> JsonBackup {
        match outcome {
            Ok(done) => JsonBackup {
                dir: crate::store::show_path(&done.dir),
                saved: done.messages,
                bytes: done.bytes,
                error: None,
            },
            Err(failed) => JsonBackup {
                dir: crate::store::show_path(&failed.dir),
                saved: failed.saved,
                bytes: 0,
                error: Some(failed.to_string()),
            },
        }
    }
}
