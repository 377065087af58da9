//! Maildir delivery: each message is written to `tmp/UNIQUE`, and at the
//! next sync fsynced and renamed into `new/UNIQUE` (the name from
//! [`unique_name`]: time, pid, counter, escaped host name).

use super::error::{StoreError, show_path};
use super::fsutil::{TempFile, ensure_dir, probe_writable, sync_dir, unique_name};
use super::sink::{MessageMeta, MessageSink, MessageWriter, SavedAt, SyncJob};
use super::staging::{Staged, StagingQueue};
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

const SUBDIRS: [&str; 3] = ["tmp", "new", "cur"];

/// A Maildir being delivered into.
pub struct MaildirSink {
    root: PathBuf,
    tmp: PathBuf,
    new: PathBuf,
    queue: StagingQueue,
}

impl MaildirSink {
    /// Opens the Maildir at `root`, creating it (mode 0700) or its missing
    /// `tmp/`, `new/`, `cur/`. Refuses a non-empty directory that has none
    /// of the three (a home directory given by mistake), and fails before
    /// anything is written when nothing can be created in `tmp/`.
    pub fn open(root: &Path) -> Result<MaildirSink, StoreError> {
        let created_root = ensure_dir(root)?;
        if !created_root {
            refuse_foreign_directory(root)?;
        }
        let mut created_any = created_root;
        for sub in SUBDIRS {
            let dir = root.join(sub);
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => created_any = true,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) => return Err(StoreError::io("create the Maildir folder", &dir, &e)),
            }
        }
        if created_any {
            sync_dir(root)?;
        }
        let tmp = root.join("tmp");
        probe_writable(&tmp)?;
        Ok(MaildirSink {
            root: root.to_path_buf(),
            new: root.join("new"),
            tmp,
            queue: StagingQueue::default(),
        })
    }
}

fn refuse_foreign_directory(root: &Path) -> Result<(), StoreError> {
    if SUBDIRS.iter().any(|sub| root.join(sub).is_dir()) {
        return Ok(());
    }
    let mut entries = fs::read_dir(root).map_err(|e| StoreError::io("read", root, &e))?;
    if entries.next().is_none() {
        return Ok(());
    }
    Err(StoreError::other(
        Some(root),
        format!(
            "{} is not empty and is not a Maildir (it has no cur/, new/ or tmp/)",
            show_path(root)
        ),
        Some("give a new or empty directory, or an existing Maildir".to_string()),
    ))
}

impl MessageSink for MaildirSink {
    fn begin(&mut self, meta: &MessageMeta) -> Result<Box<dyn MessageWriter + '_>, StoreError> {
        let temp = TempFile::create(&self.tmp, "", "")?;
        Ok(Box::new(MaildirWriter {
            meta: meta.clone(),
            temp,
            sink: self,
        }))
    }

    fn start_sync(&mut self) -> Result<Box<dyn SyncJob>, StoreError> {
        Ok(self.queue.take_job(&self.new, |staged| {
            let target = &staged.saved.path;
            fs::rename(&staged.temp, target).map_err(|e| StoreError::io("move the message into", target, &e))?;
            Ok(target.clone())
        }))
    }

    fn pending(&self) -> usize {
        self.queue.len()
    }

    fn target(&self) -> &Path {
        &self.root
    }
}

struct MaildirWriter<'a> {
    sink: &'a mut MaildirSink,
    meta: MessageMeta,
    temp: TempFile,
}

impl MessageWriter for MaildirWriter<'_> {
    fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.temp.write(chunk)
    }

    fn commit(self: Box<Self>) -> Result<SavedAt, StoreError> {
        let MaildirWriter { sink, meta, temp } = *self;
        let bytes = temp.written();
        let temp = temp.keep()?;
        // The same unique name in tmp/ and new/, as the spec has it.
        let name = temp
            .file_name()
            .map_or_else(unique_name, |n| n.to_string_lossy().into_owned());
        let saved = SavedAt {
            number: meta.number,
            uid: meta.uid,
            path: sink.new.join(&name),
            bytes,
        };
        sink.queue.push(Staged {
            temp,
            saved: saved.clone(),
            requested: name,
        });
        Ok(saved)
    }

    fn abort(self: Box<Self>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn meta(number: u32) -> MessageMeta {
        MessageMeta {
            number,
            uid: Some(format!("uid-{number}")),
            ..MessageMeta::default()
        }
    }

    #[test]
    fn a_new_maildir_is_private_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/b/Mail");
        MaildirSink::open(&root).unwrap();
        for sub in ["", "tmp", "new", "cur"] {
            let mode = fs::metadata(root.join(sub)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{sub}");
        }
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0, "the probe is gone");
    }

    #[test]
    fn messages_appear_in_new_only_at_sync() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = MaildirSink::open(dir.path()).unwrap();
        let mut writer = sink.begin(&meta(1)).unwrap();
        writer.write_chunk(b"Subject: x\r\n\r\n").unwrap();
        writer.write_chunk(b"body\r\n").unwrap();
        let promised = writer.commit().unwrap();
        assert!(!promised.path.exists());
        assert_eq!(fs::read_dir(dir.path().join("new")).unwrap().count(), 0);
        assert_eq!(sink.pending(), 1);
        let saved = sink.sync().unwrap();
        assert_eq!(saved, vec![promised.clone()]);
        assert_eq!(fs::read(&promised.path).unwrap(), b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(promised.bytes, 20);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert_eq!(sink.pending(), 0);
        assert!(sink.sync().unwrap().is_empty());
    }

    #[test]
    fn abort_drop_and_unsynced_commits_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = MaildirSink::open(dir.path()).unwrap();
        let mut writer = sink.begin(&meta(1)).unwrap();
        writer.write_chunk(b"partial").unwrap();
        writer.abort();
        let mut writer = sink.begin(&meta(2)).unwrap();
        writer.write_chunk(b"partial").unwrap();
        drop(writer);
        let writer = sink.begin(&meta(3)).unwrap();
        writer.commit().unwrap();
        drop(sink);
        for sub in SUBDIRS {
            assert_eq!(fs::read_dir(dir.path().join(sub)).unwrap().count(), 0, "{sub}");
        }
    }

    #[test]
    fn a_directory_that_is_not_a_maildir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".bashrc"), b"x").unwrap();
        let err = MaildirSink::open(dir.path()).err().unwrap();
        assert!(err.message().contains("is not a Maildir"), "{err}");
        assert!(!dir.path().join("new").exists());
        let file = dir.path().join(".bashrc");
        let err = MaildirSink::open(&file).err().unwrap();
        assert!(err.message().contains("is not a directory"), "{err}");
    }

    #[test]
    fn a_partial_maildir_is_completed() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("cur")).unwrap();
        fs::write(dir.path().join("cur/1:2,S"), b"old").unwrap();
        MaildirSink::open(dir.path()).unwrap();
        assert!(dir.path().join("new").is_dir() && dir.path().join("tmp").is_dir());
    }
}
