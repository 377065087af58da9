//! Saving from the inspector: `s` on a message (list or viewer) proposes
//! a safe `.eml` name (date and subject through the store's sanitizer: no
//! separators, no leading dot; the subject as decoded, not as shown, so
//! an ESC is dropped rather than named `␛`) in the directory used last (else the
//! current one), in the prompt; Enter saves it byte for byte (the event
//! loop RETRs it into the file); a name that exists is replaced only after
//! a second Enter on the same name.
//!
//! `W` saves every marked message (or, with none marked, every message the
//! list shows) into a Maildir, or an mbox file when the name ends in
//! `.mbox`, with the backup's gauge; Esc cancels (what was synced stays).

use super::commit::Gauge;
use super::keymap::Action;
use super::prompt::{Prompt, PromptKind, SaveTarget};
use super::{App, Effect};
use crate::mailbox::commit::Marked;
use crate::store::{Format, OnExists, SavedAt, decode_attachment, propose_eml_name, save_bytes, show_path};
use crate::text::{human_size, thousands};
use crate::transfer::Cancel;
use crate::transfer::backup::{BackedUp, BackupFailed};
use std::path::{Path, PathBuf};

/// What the event loop saves for `W`.
#[derive(Debug, Clone)]
pub struct SaveManyJob {
    pub messages: Vec<Marked>,
    pub target: PathBuf,
    pub format: Format,
    pub cancel: Cancel,
    pub gauge: Gauge,
}

/// `W` under way: where to, its gauge, and how to stop it.
#[derive(Debug, Clone)]
pub struct RunningSave {
    pub target: PathBuf,
    pub format: Format,
    pub cancel: Cancel,
    pub gauge: Gauge,
}

/// How a `W` ended: messages and bytes synced, and why it stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMany {
    pub messages: usize,
    pub bytes: u64,
    pub stopped: Option<String>,
}

/// `.mbox` at the end of the name: an mbox file; anything else a Maildir.
pub(crate) fn format_for(target: &Path) -> Format {
    match target.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("mbox") => Format::Mbox,
        _ => Format::Maildir,
    }
}

/// What the event loop saves for `s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveJob {
    pub number: u32,
    pub uid: Option<String>,
    pub size: u64,
    pub path: PathBuf,
    /// The person agreed to replace an existing file.
    pub overwrite: bool,
}

impl App {
    /// `s`: the prompt, with a proposed name, for the message in view or
    /// the selected one.
    pub(super) fn open_save_prompt(&mut self) -> Vec<Effect> {
        let index = match &self.viewer {
            Some(v) => self.list.row_index(v.number),
            None => self.list.selected_index(),
        };
        let Some(row) = index.and_then(|i| self.list.rows.get(i)) else {
            self.activity = "no message to save".into();
            return vec![];
        };
        let (date, subject) = match row.summary() {
            Some(h) => (h.date(), h.subject_for_file_name()),
            None => (None, ""),
        };
        let name = propose_eml_name(date, subject, row.number);
        let target = SaveTarget {
            number: row.number,
            uid: row.uid.as_deref().map(str::to_string),
            size: row.size,
            replace_confirmed: None,
        };
        let mut prompt = Prompt::new(PromptKind::SaveAs, self.list.selected);
        prompt.text = if self.save_dir == Path::new(".") {
            name
        } else {
            self.save_dir.join(name).display().to_string()
        };
        prompt.save = Some(target);
        self.prompt = Some(prompt);
        self.activity = "save as .eml, byte for byte: edit the name or press Enter".into();
        vec![]
    }

    /// Enter in the save prompt: the job, or a question about a file that
    /// exists (the prompt stays open).
    pub(super) fn accept_save(&mut self, mut prompt: Prompt) -> Vec<Effect> {
        let Some(target) = prompt.save.as_mut() else {
            return vec![];
        };
        let text = prompt.text.trim().to_string();
        if text.is_empty() {
            self.activity = "type a file name".into();
            self.prompt = Some(prompt);
            return vec![];
        }
        let path = PathBuf::from(&text);
        let exists = std::fs::symlink_metadata(&path).is_ok();
        if path.is_dir() {
            self.activity = format!("{} is a directory: add a file name", show_path(&path));
            self.prompt = Some(prompt);
            return vec![];
        }
        if exists && target.replace_confirmed.as_deref() != Some(text.as_str()) {
            target.replace_confirmed = Some(text);
            self.activity = format!(
                "{} exists: Enter again replaces it; edit the name to keep it",
                show_path(&path)
            );
            self.prompt = Some(prompt);
            return vec![];
        }
        self.save_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        self.activity = format!("saving message {} to {}…", target.number, show_path(&path));
        vec![Effect::SaveMessage(SaveJob {
            number: target.number,
            uid: target.uid.clone(),
            size: target.size,
            path,
            overwrite: exists,
        })]
    }

    /// The save keys: `s` (the message, or the selected attachment), `a`,
    /// Enter on an attachment, `W`.
    pub(super) fn save_action(&mut self, action: Action) -> Vec<Effect> {
        let attachment_selected = self.viewer.as_ref().is_some_and(|v| v.attachment.is_some());
        match action {
            Action::SaveMessage | Action::SaveAttachment if attachment_selected => self.save_attachment(),
            Action::SaveMessage => return self.open_save_prompt(),
            Action::NextAttachment => {
                let width = self.message_text_width();
                self.activity = match self.viewer.as_mut().and_then(|v| v.next_attachment(width)) {
                    Some(name) => format!("attachment {name}: Enter or s saves it, decoded"),
                    None => "this message has no attachment".into(),
                };
            }
            Action::SaveMarked => return self.open_save_many_prompt(),
            _ => {}
        }
        vec![]
    }

    /// A key while a copy runs (the backup before deleting, or `W`): Esc
    /// cancels it.
    pub(super) fn copy_action(&mut self, action: Action) -> Vec<Effect> {
        if action != Action::CancelBackup {
            return vec![];
        }
        if self.saving.is_some() {
            self.cancel_save_many();
            return vec![];
        }
        let update = self.commit.cancel_backup();
        self.apply(update)
    }

    /// The backup before deleting ended (the event loop ran it): the
    /// DELEs if it holds every mark, otherwise nothing is deleted.
    pub(crate) fn backup_finished(&mut self, outcome: Result<BackedUp, BackupFailed>) -> Vec<Effect> {
        let update = self.commit.backup_finished(outcome, &mut self.tickets);
        let mut effects = self.apply(update);
        // After a failure the header loading that the backup paused goes on.
        effects.extend(self.pump_headers());
        effects
    }

    /// The messages `W` saves: the marked ones, else the list as shown.
    pub(crate) fn messages_to_save(&self) -> Vec<Marked> {
        let marked = |r: &super::row::MessageRow| Marked {
            number: r.number,
            uid: r.uid.clone(),
            size: r.size,
        };
        if self.list.marked().0 > 0 {
            self.list.marked_rows().map(marked).collect()
        } else {
            self.list
                .order
                .iter()
                .filter_map(|&i| self.list.rows.get(i))
                .map(marked)
                .collect()
        }
    }

    /// `W`: the prompt for the Maildir (or `.mbox` file) to save into.
    pub(super) fn open_save_many_prompt(&mut self) -> Vec<Effect> {
        if self.saving.is_some() {
            self.activity = "a save is already under way".into();
            return vec![];
        }
        let mut prompt = Prompt::new(PromptKind::SaveManyTo, self.list.selected);
        prompt.text = self.save_dir.join("popscope-saved").display().to_string();
        self.prompt = Some(prompt);
        self.activity = "a Maildir to save into (a name ending in .mbox: an mbox file)".into();
        vec![]
    }

    /// Enter in the `W` prompt: the job.
    pub(super) fn accept_save_many(&mut self, prompt: Prompt) -> Vec<Effect> {
        let text = prompt.text.trim().to_string();
        let messages = self.messages_to_save();
        if text.is_empty() || messages.is_empty() {
            self.activity = if messages.is_empty() {
                "nothing to save".into()
            } else {
                "type a directory (or a .mbox file)".into()
            };
            if !messages.is_empty() {
                self.prompt = Some(prompt);
            }
            return vec![];
        }
        let target = PathBuf::from(&text);
        let format = format_for(&target);
        let job = SaveManyJob {
            messages,
            target: target.clone(),
            format,
            cancel: Cancel::default(),
            gauge: Gauge::default(),
        };
        self.activity = format!(
            "saving {} messages into {}…",
            thousands(job.messages.len()),
            show_path(&target)
        );
        self.saving = Some(RunningSave {
            target,
            format,
            cancel: job.cancel.clone(),
            gauge: job.gauge.clone(),
        });
        vec![Effect::SaveMany(job)]
    }

    /// Esc while `W` runs: the copy stops (what was synced stays).
    pub(super) fn cancel_save_many(&mut self) {
        if let Some(saving) = &self.saving {
            saving.cancel.cancel();
            self.activity = "cancelling the save; what is already synced stays…".into();
        }
    }

    /// The event loop finished a `W`.
    pub fn many_saved(&mut self, outcome: Result<SavedMany, String>) -> Vec<Effect> {
        let Some(saving) = self.saving.take() else {
            return vec![];
        };
        let into = format!(
            "{} {}",
            if saving.format == Format::Mbox {
                "the mbox"
            } else {
                "the Maildir"
            },
            show_path(&saving.target)
        );
        self.activity = match outcome {
            Ok(SavedMany {
                messages,
                bytes,
                stopped: None,
            }) => format!(
                "saved {} message{} ({}) into {into}",
                thousands(messages),
                if messages == 1 { "" } else { "s" },
                human_size(bytes)
            ),
            Ok(SavedMany {
                messages,
                bytes,
                stopped: Some(why),
            }) => format!(
                "saved {} ({}) into {into}, then stopped: {why}",
                thousands(messages),
                human_size(bytes)
            ),
            Err(why) => format!("nothing saved into {into}: {why}"),
        };
        vec![]
    }

    /// Enter or `s` on the selected attachment: decoded, under its
    /// sanitized name (never a directory from the mail), in the last
    /// directory used; an existing file is kept and the copy gets
    /// `name (2).ext`.
    pub(super) fn save_attachment(&mut self) {
        let Some(viewer) = &self.viewer else { return };
        let Some(index) = viewer.attachment else { return };
        if !viewer.complete() {
            self.activity =
                "only part of this message is held for viewing: save the whole message with s instead".into();
            return;
        }
        self.activity = match decode_attachment(&viewer.raw, index)
            .and_then(|a| save_bytes(&self.save_dir, &a.file_name, &a.bytes, OnExists::Unique).map(|p| (p, a)))
        {
            Ok((path, a)) => format!(
                "saved the attachment ({}) to {}",
                human_size(a.bytes.len() as u64),
                show_path(&path)
            ),
            Err(err) => format!("the attachment was not saved: {err}"),
        };
    }

    /// The event loop saved (or could not save) a message.
    pub(crate) fn message_saved(&mut self, number: u32, outcome: Result<SavedAt, String>) -> Vec<Effect> {
        self.activity = match outcome {
            Ok(saved) => format!(
                "saved message {number} ({}) to {}",
                human_size(saved.bytes),
                show_path(&saved.path)
            ),
            Err(why) => format!("message {number} was not saved: {why}"),
        };
        vec![]
    }
}
