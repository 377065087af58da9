//! What a fetch did: which messages it chose, the one-line summary, the
//! `--json` object and the exit status.

use super::FetchArgs;
use super::listing::Rows;
use crate::cli::backup::JsonBackup;
use crate::error::{Failure, FailureKind};
use crate::mailbox::commit::ExitReport;
use crate::pop3::codec::StatusLine;
use crate::sanitize::sanitize_text;
use crate::session::QuitResult;
use crate::store::{Format, UidState, show_path};
use crate::text::human_size;
use crate::transfer::backup::{BackedUp, BackupFailed};
use crate::transfer::{Timing, Wanted};
use serde::Serialize;
use std::path::PathBuf;

/// Refusals named in the summary; the rest are counted.
const REFUSALS_SHOWN: usize = 3;

/// Everything the summary and the JSON outcome say.
#[derive(Debug)]
pub(crate) struct Fetched {
    target: PathBuf,
    format: Format,
    json: bool,
    pub listed: usize,
    /// Taken by the selection (every listed message without one).
    pub selected: usize,
    /// Already in the target (by UID).
    pub skipped: usize,
    /// Chosen to be fetched.
    pub wanted: usize,
    /// Written and synced.
    pub saved: usize,
    pub bytes: u64,
    pub refused: Vec<(u32, StatusLine)>,
    /// Why the fetch stopped (or could not start).
    pub failure: Option<Failure>,
    /// `None`: no `--delete`.
    pub deletion: Option<ExitReport>,
    /// The answer to a QUIT that kept everything.
    pub quit: Option<QuitResult>,
    /// `--backup`: how the copy before deleting went.
    pub backup: Option<Result<BackedUp, BackupFailed>>,
    pub seconds: f64,
    pub timing: Option<Timing>,
}

impl Fetched {
    pub fn new(args: &FetchArgs, format: Format) -> Fetched {
        Fetched {
            target: args.to.clone(),
            format,
            json: args.json,
            listed: 0,
            selected: 0,
            skipped: 0,
            wanted: 0,
            saved: 0,
            bytes: 0,
            refused: Vec::new(),
            failure: None,
            deletion: None,
            quit: None,
            backup: None,
            seconds: 0.0,
            timing: None,
        }
    }

    /// The messages to fetch: every selected one whose UID the target does
    /// not hold yet (a message without a UID is always fetched).
    pub(crate) fn choose(&mut self, rows: &Rows, state: &UidState) -> Vec<Wanted> {
        self.listed = rows.listed;
        self.selected = rows.selected.len();
        let wanted: Vec<Wanted> = rows
            .selected
            .iter()
            .filter(|row| row.uid.as_deref().is_none_or(|uid| !state.contains(uid)))
            .map(|row| Wanted {
                number: row.number,
                uid: row.uid.clone(),
                size: row.size,
            })
            .collect();
        self.skipped = self.selected - wanted.len();
        self.wanted = wanted.len();
        wanted
    }

    /// Prints the summary (or the JSON object) and returns the exit
    /// status.
    pub fn finish(self) -> Result<(), Failure> {
        if self.json {
            println!("{}", serde_json::to_string(&self.json_outcome()).unwrap_or_default());
        } else {
            println!("popscope: {}", self.summary());
            if let Some(deletion) = &self.deletion {
                println!("popscope: {deletion}");
            }
            if let Some(Ok(done)) = &self.backup {
                println!("popscope: the backup copies are in {}", show_path(&done.dir));
            }
        }
        if let Some(QuitResult::Unknown(reason)) = &self.quit {
            eprintln!("popscope: warning: no answer to QUIT ({reason}); nothing was marked, so nothing changes");
        }
        if let Some(failure) = self.failure {
            return Err(match failure.kind {
                FailureKind::Interrupted => Failure::new(
                    FailureKind::Interrupted,
                    "what was fetched before is saved; nothing was deleted",
                ),
                _ => failure,
            });
        }
        if let Some(Err(failed)) = &self.backup {
            // The deletion line said it; the exit code tells scripts.
            return Err(Failure::new(failed.kind, ""));
        }
        if let Some(kind) = self.deletion.as_ref().and_then(ExitReport::failure_kind) {
            // The line above said it; the exit code tells scripts.
            return Err(Failure::new(kind, ""));
        }
        if let Some((_, status)) = self.refused.first() {
            let kind = FailureKind::refusal(status, FailureKind::Protocol);
            return Err(Failure::new(
                kind,
                format!("the server refused to send {} of the messages", self.refused.len()),
            ));
        }
        Ok(())
    }

    fn target_shown(&self) -> String {
        sanitize_text(&self.target.display().to_string(), false)
    }

    /// One line: what was fetched where, how fast, what was skipped or
    /// refused.
    pub fn summary(&self) -> String {
        let target = self.target_shown();
        let format = format_name(self.format);
        if self.selected > 0 && self.wanted == 0 {
            let which = if self.selected == self.listed {
                "on the server"
            } else {
                "selected"
            };
            return format!(
                "nothing new to fetch: all {} message{} {which} are already in {format} {target} ({} skipped)",
                self.selected,
                plural(self.selected),
                self.skipped
            );
        }
        let mut line = if self.saved == self.wanted || self.failure.is_none() {
            format!(
                "fetched {} message{} ({}) into {format} {target} in {:.2} s",
                self.saved,
                plural(self.saved),
                human_size(self.bytes),
                self.seconds
            )
        } else {
            format!(
                "fetched {} of {} messages ({}) into {format} {target} before stopping, in {:.2} s",
                self.saved,
                self.wanted,
                human_size(self.bytes),
                self.seconds
            )
        };
        line.push_str(&format!("; {} already there, skipped", self.skipped));
        if !self.refused.is_empty() {
            let shown: Vec<String> = self
                .refused
                .iter()
                .take(REFUSALS_SHOWN)
                .map(|(n, status)| format!("RETR {n}: {status}"))
                .collect();
            line.push_str(&format!(
                "; the server refused {} ({}{})",
                self.refused.len(),
                shown.join("; "),
                if self.refused.len() > REFUSALS_SHOWN {
                    "; …"
                } else {
                    ""
                }
            ));
        }
        line
    }

    fn json_outcome(&self) -> JsonOutcome {
        let outcome = match (&self.failure, &self.deletion) {
            (Some(f), _) if f.kind == FailureKind::Interrupted => "interrupted",
            (Some(_), _) => "failed",
            (None, _) if !self.refused.is_empty() => "partial",
            (None, _) if matches!(self.backup, Some(Err(_))) => "backup_failed",
            (None, Some(ExitReport::Interrupted(_))) => "interrupted",
            (None, Some(d)) if d.failure_kind().is_some() => "delete_failed",
            (None, _) if self.selected > 0 && self.wanted == 0 => "nothing_new",
            (None, _) => "fetched",
        };
        let quit = match (&self.deletion, &self.quit) {
            (Some(ExitReport::Deleted { server, .. } | ExitReport::QuitRefused { server, .. }), _) => {
                Some(server.to_string())
            }
            (Some(ExitReport::Unknown { .. }), _) | (_, Some(QuitResult::Unknown(_))) => Some("unknown".into()),
            (_, Some(QuitResult::Answered(status))) => Some(status.to_string()),
            _ => None,
        };
        JsonOutcome {
            outcome,
            fetched: self.saved,
            skipped: self.skipped,
            listed: self.listed,
            selected: self.selected,
            wanted: self.wanted,
            refused: self.refused.len(),
            bytes: self.bytes,
            seconds: self.seconds,
            target: self.target_shown(),
            format: match self.format {
                Format::Maildir => "maildir",
                Format::Mbox => "mbox",
                Format::Eml => "eml",
            },
            deleted: self.deletion.as_ref().map_or(Some(0), ExitReport::deleted),
            deletion: self.deletion.as_ref().map(ToString::to_string),
            quit,
            error: self.failure.as_ref().map(|f| f.message.clone()),
            backup: self.backup.as_ref().map(JsonBackup::of),
            timing: self.timing.map(|t| JsonTiming {
                network_wait_ms: millis(t.waiting),
                writing_ms: millis(t.writing),
                sync_wait_ms: millis(t.sync_wait),
                sync_jobs_ms: millis(t.sync_work),
                syncs: t.syncs,
            }),
        }
    }
}

/// `--json`.
#[derive(Debug, Serialize)]
struct JsonOutcome {
    /// fetched, nothing_new, partial (some RETRs refused), failed,
    /// interrupted, delete_failed, backup_failed.
    outcome: &'static str,
    fetched: usize,
    skipped: usize,
    listed: usize,
    selected: usize,
    wanted: usize,
    refused: usize,
    bytes: u64,
    seconds: f64,
    target: String,
    format: &'static str,
    /// `null` when unknown (QUIT refused or unanswered).
    deleted: Option<usize>,
    deletion: Option<String>,
    /// The server's answer to QUIT, or "unknown".
    quit: Option<String>,
    error: Option<String>,
    /// `--backup`: where the copies are, or why the backup failed.
    backup: Option<JsonBackup>,
    /// Where the saving time went (the writer thread's view).
    timing: Option<JsonTiming>,
}

#[derive(Debug, Serialize)]
struct JsonTiming {
    /// Waiting for the network to deliver.
    network_wait_ms: f64,
    /// Creating and writing files.
    writing_ms: f64,
    /// Waiting for a sync job (not overlapped).
    sync_wait_ms: f64,
    /// The sync jobs' own time, mostly overlapped.
    sync_jobs_ms: f64,
    syncs: usize,
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Maildir => "Maildir",
        Format::Mbox => "mbox",
        Format::Eml => ".eml directory",
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
