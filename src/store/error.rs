//! Storage failures in words a person can act on: which path, what went
//! wrong, and what to try.

use crate::error::{Failure, FailureKind};
use crate::sanitize::sanitize_text;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A storage operation that failed. `Display` gives the message and, when
/// there is one, the hint; [`Failure`] (kind `Local`) keeps them apart.
#[derive(Debug)]
pub struct StoreError {
    message: String,
    hint: Option<String>,
    path: Option<PathBuf>,
    io_kind: Option<io::ErrorKind>,
}

impl StoreError {
    /// An IO error while doing `action` ("write", "create the Maildir") on
    /// `path`, worded by its kind.
    pub fn io(action: &str, path: &Path, err: &io::Error) -> StoreError {
        let shown = show_path(path);
        let (reason, hint) = explain(err, path);
        StoreError {
            message: format!("could not {action} {shown}: {reason}"),
            hint,
            path: Some(path.to_path_buf()),
            io_kind: Some(err.kind()),
        }
    }

    /// A failure that is not an IO error (a damaged state file, a name that
    /// is not a file name); `message` is shown as given.
    pub fn other(path: Option<&Path>, message: impl Into<String>, hint: Option<String>) -> StoreError {
        StoreError {
            message: message.into(),
            hint,
            path: path.map(Path::to_path_buf),
            io_kind: None,
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The path the failure is about, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The kind of the underlying IO error, if it was one.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        self.io_kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (try: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Failure {
        let failure = Failure::new(FailureKind::Local, err.message);
        match err.hint {
            Some(hint) => failure.with_hint(hint),
            None => failure,
        }
    }
}

/// A path as it may be shown on a terminal: a directory name can hold any
/// byte, including escape sequences.
pub fn show_path(path: &Path) -> String {
    sanitize_text(&path.to_string_lossy(), false)
}

/// Reason and hint for an IO error on `path`.
fn explain(err: &io::Error, path: &Path) -> (String, Option<String>) {
    use io::ErrorKind as K;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(path);
    let dir = show_path(dir);
    let (reason, hint): (&str, Option<String>) = match err.kind() {
        K::PermissionDenied => (
            "permission denied",
            Some(format!(
                "check who may write to {dir} (ls -ld), or choose another target"
            )),
        ),
        K::ReadOnlyFilesystem => (
            "the file system is read-only",
            Some("choose a target on a writable file system".to_string()),
        ),
        K::StorageFull => (
            "no space left on the device",
            Some(format!(
                "free some space on the disk holding {dir}, or choose a target on another disk"
            )),
        ),
        K::QuotaExceeded => (
            "disk quota exceeded",
            Some("free some space within your quota, or choose another target".to_string()),
        ),
        K::NotFound => ("it does not exist", Some(format!("check that {dir} exists"))),
        K::AlreadyExists => (
            "it already exists",
            Some("choose another name, or allow overwriting".to_string()),
        ),
        K::NotADirectory => (
            "a part of the path is not a directory",
            Some("choose a directory as the target".to_string()),
        ),
        K::IsADirectory => (
            "it is a directory",
            Some("give a file name, not a directory".to_string()),
        ),
        K::InvalidFilename => (
            "the name is too long or not valid here",
            Some("choose a shorter name".to_string()),
        ),
        K::FileTooLarge => (
            "the file is too large for this file system",
            Some("choose a target on another file system, or the Maildir format".to_string()),
        ),
        _ => return (sanitize_text(&err.to_string(), false), None),
    };
    (reason.to_string(), hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_name_the_path_and_what_to_try() {
        let path = Path::new("/mail/backup/new/x");
        let full = StoreError::io("write", path, &io::Error::from(io::ErrorKind::StorageFull));
        assert_eq!(
            full.message(),
            "could not write /mail/backup/new/x: no space left on the device"
        );
        assert!(full.hint().unwrap().contains("/mail/backup/new"), "{full}");
        let denied = StoreError::io("create", path, &io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(
            denied
                .to_string()
                .contains("permission denied (try: check who may write to /mail/backup/new")
        );
        let failure: Failure = denied.into();
        assert_eq!(failure.kind, FailureKind::Local);
        assert!(failure.hint.is_some());
    }

    #[test]
    fn paths_with_escape_sequences_are_shown_safely() {
        let path = Path::new("/tmp/\x1b]0;pwned\x07/x");
        let err = StoreError::io("open", path, &io::Error::other("boom"));
        assert!(!err.to_string().contains('\x1b'));
        assert!(crate::sanitize::is_terminal_safe(&err.to_string()));
    }
}
