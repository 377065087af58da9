//! File-system building blocks shared by the formats: a bounded write
//! buffer, temporary files that clean up after themselves, parallel fsync,
//! directory fsync, atomic replacement and publishing without overwriting.

use super::error::StoreError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes buffered before a write system call: large enough that small
/// network chunks do not each cost a syscall, small enough to be irrelevant.
pub const SPOOL_CAPACITY: usize = 64 * 1024;
/// Most files fsynced at once by [`fsync_files`]: parallel fsyncs let the
/// file system's journal commit them together (measured: 2,000 sequential
/// fsyncs take seconds here, 16 at a time about a tenth of that).
const FSYNC_THREADS: usize = 16;

/// A file being written through a buffer of at most [`SPOOL_CAPACITY`]
/// bytes. Unlike `BufWriter` it never writes on drop, so a writer that is
/// abandoned can still truncate or remove what it wrote.
pub(crate) struct Spool {
    file: File,
    buf: Vec<u8>,
    written: u64,
}

impl Spool {
    pub fn new(file: File) -> Spool {
        Spool {
            file,
            buf: Vec::with_capacity(SPOOL_CAPACITY),
            written: 0,
        }
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.buf.len() + data.len() > SPOOL_CAPACITY {
            self.flush()?;
        }
        if data.len() >= SPOOL_CAPACITY {
            self.file.write_all(data)?;
        } else {
            self.buf.extend_from_slice(data);
        }
        self.written += data.len() as u64;
        Ok(())
    }

    /// Hands the buffered bytes to the kernel.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Bytes accepted by `write` so far (buffered or not).
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// Forgets the buffered bytes, for a writer that is being abandoned.
    pub fn discard(&mut self) {
        self.buf.clear();
    }

    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// A file created under a fresh unique name that is removed when dropped,
/// unless [`TempFile::keep`] was called.
pub(crate) struct TempFile {
    path: PathBuf,
    spool: Spool,
}

impl TempFile {
    /// Creates `dir/NAME` (mode 0600, never an existing file) with a name
    /// from [`unique_name`] prefixed by `prefix`.
    pub fn create(dir: &Path, prefix: &str, suffix: &str) -> Result<TempFile, StoreError> {
        let path = dir.join(format!("{prefix}{}{suffix}", unique_name()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StoreError::io("create a file in", dir, &e))?;
        Ok(TempFile {
            path,
            spool: Spool::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.spool
            .write(data)
            .map_err(|e| StoreError::io("write", &self.path, &e))
    }

    pub fn written(&self) -> u64 {
        self.spool.written()
    }

    /// Writes out the buffer and closes the file, which stays on disk under
    /// its temporary name (not yet fsynced); returns that name.
    pub fn keep(mut self) -> Result<PathBuf, StoreError> {
        self.spool
            .flush()
            .map_err(|e| StoreError::io("write", &self.path, &e))?;
        let path = std::mem::take(&mut self.path);
        Ok(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.spool.discard();
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A name no other call in any process on this host returns: seconds and
/// microseconds, process id, a per-process counter, and the host name, in
/// the Maildir spec's shape (`1751536800.M123456P4242Q7.host`).
pub(crate) fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "{}.M{}P{}Q{}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        count,
        host_name()
    )
}

/// This host's name with `/` and `:` written as `\057` and `\072` (as the
/// Maildir spec asks) and anything outside printable ASCII escaped too.
fn host_name() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let raw = ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| {
                fs::read_to_string(p)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| "localhost".to_string());
        escape_host(&raw)
    })
}

pub(crate) fn escape_host(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        match b {
            b'/' | b':' | b'\\' => out.push_str(&format!("\\{b:03o}")),
            0x21..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

/// Makes the named files durable, several at a time. On failure, the index
/// (into `paths`) of a file that failed and its error.
pub(crate) fn fsync_files(paths: &[&Path]) -> Result<(), (usize, io::Error)> {
    let fsync = |path: &Path| File::open(path).and_then(|f| f.sync_all());
    if paths.len() <= 1 {
        return paths.first().map_or(Ok(()), |p| fsync(p).map_err(|e| (0, e)));
    }
    let per_thread = paths.len().div_ceil(FSYNC_THREADS);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(per_thread)
            .enumerate()
            .map(|(n, chunk)| {
                scope.spawn(move || {
                    for (i, path) in chunk.iter().enumerate() {
                        fsync(path).map_err(|e| (n * per_thread + i, e))?;
                    }
                    Ok(())
                })
            })
            .collect();
        let mut outcome = Ok(());
        for worker in workers {
            let result = worker
                .join()
                .unwrap_or_else(|_| Err((0, io::Error::other("fsync thread panicked"))));
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    })
}

/// Makes the entries of `dir` (renames, new files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("sync the directory", dir, &e))
}

/// Creates `dir` (and missing parents, mode 0700) unless it exists; fails
/// when it exists as something other than a directory. True if created.
pub(crate) fn ensure_dir(dir: &Path) -> Result<bool, StoreError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(false),
        Ok(_) => Err(StoreError::other(
            Some(dir),
            format!("{} exists and is not a directory", super::error::show_path(dir)),
            Some("choose a directory as the target".to_string()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| StoreError::io("create the directory", dir, &e))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
            Ok(true)
        }
        Err(e) => Err(StoreError::io("open", dir, &e)),
    }
}

/// Fails early, before anything is downloaded, when nothing can be created
/// in `dir` (read-only, permissions): creates and removes a probe file.
pub(crate) fn probe_writable(dir: &Path) -> Result<(), StoreError> {
    let probe = TempFile::create(dir, ".popscope-probe-", "")?;
    drop(probe);
    Ok(())
}

/// Replaces `path` with `bytes` atomically: a temporary file beside it is
/// written, fsynced and renamed over it, then the directory is fsynced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = parent_dir(path);
    let mut temp = TempFile::create(dir, ".popscope-", ".tmp")?;
    temp.write(bytes)?;
    temp.spool
        .flush()
        .map_err(|e| StoreError::io("write", temp.path(), &e))?;
    temp.spool
        .file()
        .sync_all()
        .map_err(|e| StoreError::io("sync", temp.path(), &e))?;
    fs::rename(temp.path(), path).map_err(|e| StoreError::io("replace", path, &e))?;
    temp.path = PathBuf::new();
    sync_dir(dir)
}

/// A file that replaces `target` only once it is complete: written under
/// a hidden temporary name beside it (same directory, so the rename is
/// atomic) and renamed over it by [`Replacement::commit`]. Dropped without
/// `commit`, the temporary file is removed and `target` was never touched
/// (an existing file is not truncated before the new content is known
/// good). Not fsynced: for a copy a person asked for by hand, as `cp`.
#[derive(Debug)]
pub struct Replacement {
    temp: PathBuf,
    target: PathBuf,
}

impl Replacement {
    /// Creates the temporary file (mode 0600) beside `target`.
    pub fn begin(target: &Path) -> Result<(Replacement, File), StoreError> {
        let dir = parent_dir(target);
        let temp = dir.join(format!(".popscope-{}.tmp", unique_name()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| StoreError::io("create a file in", dir, &e))?;
        let replacement = Replacement {
            temp,
            target: target.to_path_buf(),
        };
        Ok((replacement, file))
    }

    /// Gives the complete file the target's name (and an existing
    /// target's permissions).
    pub fn commit(mut self) -> Result<(), StoreError> {
        if let Ok(meta) = fs::metadata(&self.target) {
            let _ = fs::set_permissions(&self.temp, meta.permissions());
        }
        fs::rename(&self.temp, &self.target).map_err(|e| StoreError::io("write", &self.target, &e))?;
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The directory holding `path` ("." for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Gives the (fsynced) file `temp` the name `target` unless `target`
/// exists, atomically where the file system allows hard links; `temp` is
/// gone afterwards only on success. Fails with `AlreadyExists` when taken.
pub(crate) fn publish_no_replace(temp: &Path, target: &Path) -> io::Result<()> {
    match fs::hard_link(temp, target) {
        Ok(()) => {
            fs::remove_file(temp)?;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        // No hard links here (some FUSE or FAT file systems): check, then
        // rename; a file created in between would be replaced.
        Err(_) => match fs::symlink_metadata(target) {
            Ok(_) => Err(io::Error::from(io::ErrorKind::AlreadyExists)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::rename(temp, target),
            Err(e) => Err(e),
        },
    }
}

/// True when something (a file, a directory, even a dangling symlink) has
/// this name.
pub(crate) fn name_taken(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_escaped_as_the_maildir_spec_says() {
        assert_eq!(escape_host("mail.example.org"), "mail.example.org");
        assert_eq!(escape_host("a/b:c"), "a\\057b\\072c");
        assert_eq!(escape_host("x y\u{e9}"), "x\\040y\\303\\251");
    }

    #[test]
    fn unique_names_differ_under_rapid_calls_from_many_threads() {
        let names: Vec<String> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..5000).map(|_| unique_name()).collect::<Vec<_>>()))
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
        });
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), 20_000);
        assert!(
            names
                .iter()
                .all(|n| !n.contains('/') && !n.contains(':') && !n.starts_with('.'))
        );
    }

    #[test]
    fn temp_files_vanish_unless_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut temp = TempFile::create(dir.path(), "t-", "").unwrap();
        temp.write(b"abc").unwrap();
        let path = temp.path().to_path_buf();
        assert!(path.exists());
        drop(temp);
        assert!(!path.exists());
        let mut temp = TempFile::create(dir.path(), "t-", "").unwrap();
        temp.write(&vec![7u8; 3 * SPOOL_CAPACITY + 5]).unwrap();
        let kept = temp.keep().unwrap();
        assert_eq!(fs::read(&kept).unwrap().len(), 3 * SPOOL_CAPACITY + 5);
    }

    #[test]
    fn publishing_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.eml");
        fs::write(&target, b"old").unwrap();
        let temp = dir.path().join("t");
        fs::write(&temp, b"new").unwrap();
        let err = publish_no_replace(&temp, &target).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        publish_no_replace(&temp, &dir.path().join("b.eml")).unwrap();
        assert!(!temp.exists());
        assert_eq!(fs::read(dir.path().join("b.eml")).unwrap(), b"new");
    }

    #[test]
    fn a_replacement_touches_the_target_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("y.eml");
        fs::write(&target, b"old content").unwrap();
        let (replacement, mut file) = Replacement::begin(&target).unwrap();
        file.write_all(b"partial").unwrap();
        drop(file);
        assert_eq!(
            fs::read(&target).unwrap(),
            b"old content",
            "not truncated while writing"
        );
        drop(replacement);
        assert_eq!(fs::read(&target).unwrap(), b"old content");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "the temporary file is gone"
        );
        let (replacement, mut file) = Replacement::begin(&target).unwrap();
        file.write_all(b"new content").unwrap();
        drop(file);
        replacement.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new content");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn fsync_files_reports_which_file_failed() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..40).map(|i| dir.path().join(i.to_string())).collect();
        for p in &paths[..39] {
            fs::write(p, b"x").unwrap();
        }
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        assert!(fsync_files(&refs[..39]).is_ok());
        let (index, err) = fsync_files(&refs).unwrap_err();
        assert_eq!(index, 39);
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
