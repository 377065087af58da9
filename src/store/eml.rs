//! One `.eml` file per message in a directory. Each is written to a hidden
//! temporary file beside its target and, at the next sync, fsynced and
//! given its name; an existing file is replaced only under
//! [`OnExists::Overwrite`].

use super::error::{StoreError, show_path};
use super::fsutil::{TempFile, ensure_dir, name_taken, probe_writable, publish_no_replace};
use super::names::{is_plain_file_name, uid_file_name, unique_path};
use super::sink::{MessageMeta, MessageSink, MessageWriter, SavedAt, SyncJob};
use super::staging::{Staged, StagingQueue};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What to do when a message's file name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExists {
    /// Refuse: `begin` fails if the name is taken then, `sync` if it was
    /// taken in the meantime. The existing file is never touched.
    Fail,
    /// Replace the existing file (only when the person said so).
    Overwrite,
    /// Use the next free `name (2).eml` (see [`unique_path`]).
    Unique,
}

/// A directory of `.eml` files being saved into.
pub struct EmlSink {
    dir: PathBuf,
    on_exists: OnExists,
    queue: StagingQueue,
}

impl EmlSink {
    /// Opens `dir`, creating it (mode 0700) when missing; fails before
    /// anything is written when nothing can be created in it.
    pub fn open(dir: &Path, on_exists: OnExists) -> Result<EmlSink, StoreError> {
        ensure_dir(dir)?;
        probe_writable(dir)?;
        Ok(EmlSink {
            dir: dir.to_path_buf(),
            on_exists,
            queue: StagingQueue::default(),
        })
    }

    /// The file name for `meta`: the given one, else from the UID, else
    /// from the message number.
    fn file_name(meta: &MessageMeta) -> Result<String, StoreError> {
        match (&meta.file_name, &meta.uid) {
            (Some(name), _) if is_plain_file_name(name) => Ok(name.clone()),
            (Some(name), _) => Err(StoreError::other(
                None,
                format!("\"{}\" is not a plain file name", show_path(Path::new(name))),
                Some("give a name without '/', not '.' or '..', at most 200 bytes".to_string()),
            )),
            (None, Some(uid)) => Ok(uid_file_name(uid)),
            (None, None) => Ok(format!("message-{}.eml", meta.number)),
        }
    }

    fn target_for(&self, name: &str) -> Result<PathBuf, StoreError> {
        let target = self.dir.join(name);
        match self.on_exists {
            OnExists::Fail if self.queue.is_promised(&target) || name_taken(&target) => Err(already_exists(&target)),
            // A name promised to a queued message is resolved at sync.
            OnExists::Unique => unique_path(&self.dir, name),
            OnExists::Fail | OnExists::Overwrite => Ok(target),
        }
    }
}

fn already_exists(target: &Path) -> StoreError {
    StoreError::io("save", target, &io::Error::from(io::ErrorKind::AlreadyExists))
}

/// Gives `temp` the name `target` as `on_exists` says (under `Unique`, the
/// next free variant of `requested` if `target` was taken meanwhile);
/// returns the name it got.
fn publish(temp: &Path, target: &Path, requested: &str, on_exists: OnExists) -> Result<PathBuf, StoreError> {
    let err = match on_exists {
        OnExists::Overwrite => match fs::rename(temp, target) {
            Ok(()) => return Ok(target.to_path_buf()),
            Err(e) => e,
        },
        OnExists::Fail => match publish_no_replace(temp, target) {
            Ok(()) => return Ok(target.to_path_buf()),
            Err(e) => e,
        },
        OnExists::Unique => {
            let dir = super::fsutil::parent_dir(target);
            let mut candidate = target.to_path_buf();
            // Each lost race means another file took the name just now;
            // a handful of retries is plenty.
            for _ in 0..16 {
                match publish_no_replace(temp, &candidate) {
                    Ok(()) => return Ok(candidate),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => candidate = unique_path(dir, requested)?,
                    Err(e) => return Err(StoreError::io("save", &candidate, &e)),
                }
            }
            io::Error::from(io::ErrorKind::AlreadyExists)
        }
    };
    Err(StoreError::io("save", target, &err))
}

impl MessageSink for EmlSink {
    fn begin(&mut self, meta: &MessageMeta) -> Result<Box<dyn MessageWriter + '_>, StoreError> {
        let name = Self::file_name(meta)?;
        let target = self.target_for(&name)?;
        let temp = TempFile::create(&self.dir, ".popscope-", ".tmp")?;
        Ok(Box::new(EmlWriter {
            sink: self,
            meta: meta.clone(),
            name,
            target,
            temp,
        }))
    }

    fn start_sync(&mut self) -> Result<Box<dyn SyncJob>, StoreError> {
        let on_exists = self.on_exists;
        Ok(self.queue.take_job(&self.dir, move |staged| {
            publish(&staged.temp, &staged.saved.path, &staged.requested, on_exists)
        }))
    }

    fn pending(&self) -> usize {
        self.queue.len()
    }

    fn target(&self) -> &Path {
        &self.dir
    }
}

struct EmlWriter<'a> {
    sink: &'a mut EmlSink,
    meta: MessageMeta,
    /// The name asked for; `target` may be a " (2)" variant of it.
    name: String,
    target: PathBuf,
    temp: TempFile,
}

impl MessageWriter for EmlWriter<'_> {
    fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.temp.write(chunk)
    }

    fn commit(self: Box<Self>) -> Result<SavedAt, StoreError> {
        let EmlWriter {
            sink,
            meta,
            name,
            target,
            temp,
        } = *self;
        let bytes = temp.written();
        let temp = temp.keep()?;
        let saved = SavedAt {
            number: meta.number,
            uid: meta.uid,
            path: target,
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

    fn meta(number: u32, uid: &str) -> MessageMeta {
        MessageMeta {
            number,
            uid: Some(uid.to_string()),
            ..MessageMeta::default()
        }
    }

    fn save(sink: &mut EmlSink, meta: &MessageMeta, content: &[u8]) -> Result<SavedAt, StoreError> {
        let mut writer = sink.begin(meta)?;
        writer.write_chunk(content)?;
        writer.commit()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn messages_are_named_by_uid_and_appear_at_sync() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = EmlSink::open(dir.path(), OnExists::Fail).unwrap();
        save(&mut sink, &meta(1, "a/b"), b"one\r\n").unwrap();
        save(&mut sink, &meta(2, "x"), b"two\r\n").unwrap();
        let no_uid = MessageMeta {
            number: 3,
            ..MessageMeta::default()
        };
        save(&mut sink, &no_uid, b"three\r\n").unwrap();
        assert!(names(dir.path()).iter().all(|n| n.starts_with(".popscope-")));
        let saved = sink.sync().unwrap();
        assert_eq!(saved.len(), 3);
        assert_eq!(names(dir.path()), ["a%2Fb.eml", "message-3.eml", "x.eml"]);
        assert_eq!(fs::read(dir.path().join("a%2Fb.eml")).unwrap(), b"one\r\n");
    }

    #[test]
    fn an_existing_file_is_never_replaced_without_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x.eml"), b"precious").unwrap();
        let mut sink = EmlSink::open(dir.path(), OnExists::Fail).unwrap();
        let err = save(&mut sink, &meta(1, "x"), b"new").err().unwrap();
        assert_eq!(err.io_kind(), Some(io::ErrorKind::AlreadyExists));
        assert!(err.to_string().contains("x.eml: it already exists"), "{err}");
        // Taken between begin and sync: sync refuses, nothing is replaced
        // and the temporary file is gone.
        save(&mut sink, &meta(2, "y"), b"new").unwrap();
        fs::write(dir.path().join("y.eml"), b"also precious").unwrap();
        let err = sink.sync().err().unwrap();
        assert_eq!(err.io_kind(), Some(io::ErrorKind::AlreadyExists));
        assert_eq!(fs::read(dir.path().join("y.eml")).unwrap(), b"also precious");
        assert_eq!(names(dir.path()), ["x.eml", "y.eml"]);
    }

    #[test]
    fn overwrite_and_unique() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x.eml"), b"old").unwrap();
        let mut sink = EmlSink::open(dir.path(), OnExists::Overwrite).unwrap();
        save(&mut sink, &meta(1, "x"), b"replaced").unwrap();
        sink.sync().unwrap();
        assert_eq!(fs::read(dir.path().join("x.eml")).unwrap(), b"replaced");
        let mut sink = EmlSink::open(dir.path(), OnExists::Unique).unwrap();
        save(&mut sink, &meta(1, "x"), b"second").unwrap();
        save(&mut sink, &meta(1, "x"), b"third").unwrap();
        let saved = sink.sync().unwrap();
        let paths: Vec<PathBuf> = saved.into_iter().map(|s| s.path).collect();
        assert_eq!(paths, [dir.path().join("x (2).eml"), dir.path().join("x (3).eml")]);
        assert_eq!(fs::read(dir.path().join("x (3).eml")).unwrap(), b"third");
    }

    #[test]
    fn given_names_must_be_plain() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = EmlSink::open(dir.path(), OnExists::Fail).unwrap();
        for bad in ["../x.eml", "", "..", "a/b"] {
            let meta = MessageMeta {
                file_name: Some(bad.to_string()),
                ..MessageMeta::default()
            };
            assert!(sink.begin(&meta).is_err(), "{bad}");
        }
        let meta = MessageMeta {
            file_name: Some("2025-07-03 Invoice.eml".to_string()),
            ..MessageMeta::default()
        };
        save(&mut sink, &meta, b"x").unwrap();
        sink.sync().unwrap();
        assert_eq!(names(dir.path()), ["2025-07-03 Invoice.eml"]);
    }

    #[test]
    fn abort_and_unsynced_commits_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = EmlSink::open(dir.path(), OnExists::Fail).unwrap();
        let mut writer = sink.begin(&meta(1, "a")).unwrap();
        writer.write_chunk(b"partial").unwrap();
        writer.abort();
        save(&mut sink, &meta(2, "b"), b"committed, never synced").unwrap();
        drop(sink);
        assert!(names(dir.path()).is_empty());
    }
}
