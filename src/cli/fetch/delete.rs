//! `fetch --delete`: consent (asked on a terminal, or `--yes`), then the
//! deletion of exactly the messages whose copies `sync` returned, through
//! the guarded commit every front end shares (`clean::commit`: every DELE
//! at once, the committing QUIT only once all were accepted, RSET and
//! nothing deleted on any refusal, the server's answer to QUIT or
//! "unknown").

use crate::cli::backup::{Backup, back_up};
use crate::cli::clean;
use crate::error::Failure;
use crate::mailbox::commit::{ExitReport, GuardedCommit, Marked};
use crate::session::Session;
use crate::store::SavedAt;
use crate::transfer::Cancel;
use crate::transfer::backup::{BackedUp, BackupFailed};

/// How consent to delete is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consent {
    /// No `--delete`: nothing is ever deleted.
    Keep,
    /// `--delete --yes`.
    Given,
    /// `--delete` on a terminal: ask once the copies are safe.
    Ask,
}

impl Consent {
    /// Refuses before connecting when `--delete` has nobody to ask.
    pub fn new(delete: bool, yes: bool, stdin_is_the_uid_list: bool) -> Result<Consent, Failure> {
        if !delete {
            return Ok(Consent::Keep);
        }
        if yes {
            return Ok(Consent::Given);
        }
        clean::can_ask(
            stdin_is_the_uid_list,
            "add --yes to delete what was fetched, or leave out --delete",
        )?;
        Ok(Consent::Ask)
    }
}

/// Asks (when it must), then deletes exactly `saved`. Ends the session.
/// Ctrl-C while the question waits deletes nothing; during the commit,
/// the commit itself handles it.
pub(crate) async fn delete_saved(
    session: Session,
    consent: Consent,
    saved: &[SavedAt],
    cancel: &Cancel,
    backup: Option<Backup>,
    backed_up: &mut Option<Result<BackedUp, BackupFailed>>,
) -> ExitReport {
    if consent == Consent::Ask {
        let what = format!(
            "{} fetched message{} from the server",
            saved.len(),
            if saved.len() == 1 { "" } else { "s" }
        );
        let what = clean::with_backup(what, backup.as_ref());
        let answer = tokio::select! {
            answer = clean::ask(&session, &what) => Some(answer),
            _ = cancel.cancelled() => None,
        };
        match answer {
            None => {
                session.quit(false).await;
                return ExitReport::Interrupted("interrupted with Ctrl-C".into());
            }
            Some(Ok(true)) => {}
            Some(Ok(false)) => {
                session.quit(false).await;
                return ExitReport::NothingDeleted("not confirmed".into());
            }
            Some(Err(failure)) => {
                session.abandon().await;
                return ExitReport::Lost {
                    reason: failure.message,
                };
            }
        }
    }
    let marked = saved
        .iter()
        .map(|s| Marked {
            number: s.number,
            uid: s.uid.as_deref().map(Box::from),
            size: s.bytes,
        })
        .collect();
    let mut commit = GuardedCommit::new(marked);
    let Some(backup) = backup else {
        return clean::commit(session, commit).await;
    };
    let (session, outcome) = back_up(session, &mut commit, backup).await;
    *backed_up = Some(outcome);
    match session {
        Some(session) => clean::commit(session, commit).await,
        // The commit was abandoned: nothing was sent.
        None => commit
            .into_report()
            .unwrap_or_else(|| ExitReport::NothingDeleted("the backup did not finish".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FailureKind;
    use std::io::IsTerminal;

    #[test]
    fn delete_without_yes_and_without_a_terminal_is_refused() {
        // The test runner's standard input is not a terminal.
        if std::io::stdin().is_terminal() {
            return;
        }
        let refused = Consent::new(true, false, false).unwrap_err();
        assert_eq!(refused.kind, FailureKind::Usage);
        assert!(refused.message.contains("nobody to ask"), "{refused}");
        let refused = Consent::new(true, false, true).unwrap_err();
        assert!(refused.message.contains("UID list"), "{refused}");
        assert_eq!(Consent::new(true, true, true).unwrap(), Consent::Given);
        assert_eq!(Consent::new(false, false, false).unwrap(), Consent::Keep);
    }
}
