//! Saving one message byte for byte (after dot-unstuffing) as an `.eml`
//! file under a name the person chose: the inspector's `s`. It goes
//! through [`save_messages`], so the file is written beside its final
//! name, fsynced and only then published, and a name that exists is
//! replaced only when `overwrite` says the person agreed.

use super::{Cancel, TransferOptions, Wanted, save_messages};
use crate::store::{EmlSink, MessageMeta, MessageSink, MessageWriter, OnExists, SavedAt, StoreError, SyncJob};
use std::path::{Path, PathBuf};

/// Saves message `wanted` as `path`; the saved file (path and bytes), or
/// why not in words.
pub(crate) async fn save_eml(
    session: &crate::session::Session,
    wanted: Wanted,
    path: &Path,
    overwrite: bool,
) -> Result<SavedAt, String> {
    let (dir, name) = split(path)?;
    let on_exists = if overwrite { OnExists::Overwrite } else { OnExists::Fail };
    let sink = EmlSink::open(&dir, on_exists).map_err(|e| e.to_string())?;
    let named = Named { inner: sink, name };
    let options = TransferOptions {
        lookahead: 1,
        ..TransferOptions::default()
    };
    let number = wanted.number;
    let transfer = save_messages(session, &[wanted], Box::new(named), &options, (), &Cancel::default()).await;
    if let Some(stopped) = transfer.stopped {
        return Err(stopped.failure().to_string());
    }
    if let Some((_, status)) = transfer.refused.first() {
        return Err(format!("the server refused RETR {number}: {status}"));
    }
    transfer
        .saved
        .into_iter()
        .next()
        .ok_or_else(|| "the message was not saved".to_string())
}

/// The directory and the plain file name of `path`.
fn split(path: &Path) -> Result<(PathBuf, String), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| crate::store::is_plain_file_name(n))
        .ok_or_else(|| format!("{} does not end in a file name", crate::store::show_path(path)))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string()))
}

/// An `.eml` sink that names its one message as the person chose.
struct Named {
    inner: EmlSink,
    name: String,
}

impl MessageSink for Named {
    fn begin(&mut self, meta: &MessageMeta) -> Result<Box<dyn MessageWriter + '_>, StoreError> {
        let meta = MessageMeta {
            file_name: Some(self.name.clone()),
            ..meta.clone()
        };
        self.inner.begin(&meta)
    }

    fn start_sync(&mut self) -> Result<Box<dyn SyncJob>, StoreError> {
        self.inner.start_sync()
    }

    fn pending(&self) -> usize {
        self.inner.pending()
    }

    fn target(&self) -> &Path {
        self.inner.target()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_splits_into_its_directory_and_a_plain_name() {
        assert_eq!(
            split(Path::new("a.eml")).unwrap(),
            (PathBuf::from("."), "a.eml".to_string())
        );
        assert_eq!(
            split(Path::new("/tmp/x/b.eml")).unwrap(),
            (PathBuf::from("/tmp/x"), "b.eml".to_string())
        );
        assert!(split(Path::new("/tmp/x/..")).is_err());
        assert!(split(Path::new("/")).is_err());
    }
}
