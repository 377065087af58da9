//! The streaming sink API every format implements.

use super::error::StoreError;
use std::path::{Path, PathBuf};

/// What the store knows about a message before its bytes arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageMeta {
    /// The message number in this session.
    pub number: u32,
    /// Its UIDL unique-id, when known: names `.eml` files in fetch.
    pub uid: Option<String>,
    /// mbox: the sender for the `From ` line. `None`: taken from the
    /// message's Return-Path or From header, else `MAILER-DAEMON`.
    pub sender: Option<String>,
    /// `.eml`: the file name to use (a plain name, see
    /// [`super::is_plain_file_name`]); `None`: from the UID, else the number.
    pub file_name: Option<String>,
}

/// A message that is durable, as reported by [`MessageSink::sync`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAt {
    pub number: u32,
    pub uid: Option<String>,
    /// The file holding it (the mbox file for mbox).
    pub path: PathBuf,
    /// Bytes of the message itself (mbox framing and quoting not counted).
    pub bytes: u64,
}

/// Where messages go. `Send`, so a writer thread can own it while the
/// network is read elsewhere.
pub trait MessageSink: Send {
    /// Starts a message. Fails before any byte is written when the target
    /// cannot take it (a `.eml` name that exists and may not be replaced).
    fn begin(&mut self, meta: &MessageMeta) -> Result<Box<dyn MessageWriter + '_>, StoreError>;

    /// The durability barrier: makes every message committed since the last
    /// `sync` durable under its final name and returns them, in commit order.
    /// Call it before any DELE, and DELE only what it returned. On error
    /// none of those messages may be treated as saved.
    fn sync(&mut self) -> Result<Vec<SavedAt>, StoreError> {
        self.start_sync()?.run()
    }

    /// `sync` in two halves: takes the messages committed since the last
    /// sync (quick, on the sink) and returns the slow part (fsyncs,
    /// publishing) as a job that may run on another thread while more
    /// messages are written. The batch is durable only once the job's
    /// `run` returned it; a job dropped without running removes its
    /// messages (Maildir, `.eml`) or leaves them unsynced (mbox). For
    /// `.eml` under [`super::OnExists::Fail`], a name taken by a message
    /// of a job still running is found at that message's own sync, not at
    /// `begin`.
    fn start_sync(&mut self) -> Result<Box<dyn SyncJob>, StoreError>;

    /// Messages committed but not yet returned by `sync`; dropping the sink
    /// with any left removes them (Maildir, `.eml`) or keeps them unsynced
    /// (mbox).
    fn pending(&self) -> usize;

    /// The Maildir, mbox file or `.eml` directory written to.
    fn target(&self) -> &Path;
}

/// The slow half of a sync (see [`MessageSink::start_sync`]).
pub trait SyncJob: Send {
    /// Makes the batch durable under its final names and returns it, in
    /// commit order; on error none of it may be treated as saved.
    fn run(self: Box<Self>) -> Result<Vec<SavedAt>, StoreError>;
}

/// One message being written. Dropping it without `commit` is `abort`.
pub trait MessageWriter {
    /// Appends the next bytes of the message, exactly as received.
    fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), StoreError>;

    /// The message is complete. Returns where it will be once `sync` has
    /// run; `sync`'s answer is authoritative (an `.eml` name taken in the
    /// meantime may change under [`super::OnExists::Unique`]).
    fn commit(self: Box<Self>) -> Result<SavedAt, StoreError>;

    /// Forgets the message: a temporary file is removed, an mbox is cut back
    /// to its length before the message began.
    fn abort(self: Box<Self>);
}

/// The storage formats `fetch` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Maildir,
    Mbox,
    Eml,
}
