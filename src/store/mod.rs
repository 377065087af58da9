//! Saving messages: Maildir, mbox (mboxrd) and `.eml` files, written as
//! they stream in, durable before anything may be deleted.
//!
//! A message is stored **byte for byte as RETR delivered it** after
//! dot-unstuffing: CRLF line ends stay CRLF (Maildir convention and mpop
//! write LF; popscope keeps the server's bytes so a copy can be compared
//! with, and restored as, exactly what the server had). mbox adds only its
//! own framing and the reversible mboxrd `>From ` quoting.
//!
//! The life of a message: [`MessageSink::begin`] gives a [`MessageWriter`];
//! [`MessageWriter::write_chunk`] as the bytes arrive (memory stays bounded:
//! at most [`SPOOL_CAPACITY`] bytes are buffered, whatever the
//! message's size); [`MessageWriter::commit`] when the message is complete,
//! or [`MessageWriter::abort`] (or drop) to leave nothing behind.
//!
//! **Durability rule**: a message is durable only once
//! [`MessageSink::sync`] has returned it. For Maildir and `.eml` nothing is
//! visible under its final name before that either: committed files wait
//! under a temporary name, and `sync` fsyncs them (many at once, so the
//! journal commits them together), renames them into place and fsyncs the
//! directory. An mbox is appended to in place and fsynced by `sync`. A
//! caller must call `sync` and only DELE the messages it returned.

mod attachment;
mod eml;
mod error;
mod fsutil;
mod maildir;
mod mbox;
mod names;
mod sink;
mod staging;
mod uids;

pub use attachment::{DecodedAttachment, decode_attachment, save_attachment, save_bytes};
pub use eml::{EmlSink, OnExists};
pub use error::{StoreError, show_path};
pub use fsutil::{Replacement, SPOOL_CAPACITY};
pub use maildir::MaildirSink;
pub use mbox::{MboxMessage, MboxSink, split_mboxrd};
pub use names::{
    EMPTY_UID_FILE_NAME, MAX_NAME_BYTES, is_plain_file_name, propose_eml_name, sanitize_attachment_name, uid_file_name,
    unique_path,
};
pub use sink::{Format, MessageMeta, MessageSink, MessageWriter, SavedAt, SyncJob};
pub use uids::{Account, STATE_FILE_NAME, UidState};

use std::path::Path;

/// Opens `target` as `format` (Maildir and `.eml` directories are created
/// when missing; `.eml` never replaces a file). Fails before anything is
/// written when the target is unusable.
pub fn open_sink(format: Format, target: &Path) -> Result<Box<dyn MessageSink>, StoreError> {
    Ok(match format {
        Format::Maildir => Box::new(MaildirSink::open(target)?),
        Format::Mbox => Box::new(MboxSink::open(target)?),
        Format::Eml => Box::new(EmlSink::open(target, OnExists::Fail)?),
    })
}

#[cfg(test)]
mod tests;
