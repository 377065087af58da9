//! Committed files waiting under a temporary name for the next sync, and
//! the sync itself: fsync them all, then publish them, then fsync the
//! directory. Shared by the Maildir and `.eml` sinks.

use super::error::StoreError;
use super::fsutil::{fsync_files, sync_dir};
use super::sink::{SavedAt, SyncJob};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// One committed message: its closed temporary file and what it will be.
pub(crate) struct Staged {
    pub temp: PathBuf,
    /// `path` is the intended final name.
    pub saved: SavedAt,
    /// The name asked for (before any " (2)" was added to it).
    pub requested: String,
}

/// Committed files not yet synced; dropping the queue removes them.
#[derive(Default)]
pub(crate) struct StagingQueue {
    items: Vec<Staged>,
    /// The final names promised to queued messages.
    promised: HashSet<PathBuf>,
}

impl StagingQueue {
    pub fn push(&mut self, staged: Staged) {
        self.promised.insert(staged.saved.path.clone());
        self.items.push(staged);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when a queued message will take the name `path`.
    pub(crate) fn is_promised(&self, path: &Path) -> bool {
        self.promised.contains(path)
    }

    /// fsyncs every queued file (in parallel), publishes each with
    /// `publish(staged)` (which returns the name it got), then fsyncs
    /// `dir`. Nothing is published unless every fsync succeeded; on any
    /// error the queued files not yet published are removed.
    pub fn sync(
        &mut self,
        dir: &Path,
        mut publish: impl FnMut(&Staged) -> Result<PathBuf, StoreError>,
    ) -> Result<Vec<SavedAt>, StoreError> {
        if self.items.is_empty() {
            return Ok(Vec::new());
        }
        let temps: Vec<&Path> = self.items.iter().map(|s| s.temp.as_path()).collect();
        if let Err((index, err)) = fsync_files(&temps) {
            let number = self.items[index].saved.number;
            let path = self.items[index].temp.clone();
            self.clear();
            return Err(StoreError::io(&format!("save message {number} to"), &path, &err));
        }
        self.promised.clear();
        let mut saved = Vec::with_capacity(self.items.len());
        let mut items = std::mem::take(&mut self.items).into_iter();
        for staged in items.by_ref() {
            match publish(&staged) {
                Ok(path) => saved.push(SavedAt { path, ..staged.saved }),
                Err(err) => {
                    let _ = fs::remove_file(&staged.temp);
                    self.items = items.collect();
                    self.clear();
                    return Err(err);
                }
            }
        }
        sync_dir(dir)?;
        Ok(saved)
    }

    /// Moves the queued messages into a job that syncs them into `dir`
    /// with `publish`; the queue is empty afterwards.
    pub(crate) fn take_job<F>(&mut self, dir: &Path, publish: F) -> Box<dyn SyncJob>
    where
        F: FnMut(&Staged) -> Result<PathBuf, StoreError> + Send + 'static,
    {
        Box::new(StagedSync {
            queue: std::mem::take(self),
            dir: dir.to_path_buf(),
            publish,
        })
    }

    fn clear(&mut self) {
        self.promised.clear();
        for staged in self.items.drain(..) {
            let _ = fs::remove_file(&staged.temp);
        }
    }
}

impl Drop for StagingQueue {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A batch of staged files and how to publish them, synced by `run`
/// (dropped unrun, its files are removed).
struct StagedSync<F> {
    queue: StagingQueue,
    dir: PathBuf,
    publish: F,
}

impl<F> SyncJob for StagedSync<F>
where
    F: FnMut(&Staged) -> Result<PathBuf, StoreError> + Send + 'static,
{
    fn run(mut self: Box<Self>) -> Result<Vec<SavedAt>, StoreError> {
        let StagedSync { queue, dir, publish } = &mut *self;
        queue.sync(dir, publish)
    }
}
