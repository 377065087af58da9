//! Reading mail: the header summary of a `TOP n 0` block (what the list,
//! `popscope list` and queries know about a message) and the readable view
//! of a retrieved message. Both read header bytes the same way
//! (`value::readable_header_bytes`: 8-bit bytes as Windows-1252) and bound
//! and sanitize every value with the same function (`value::clean_value`),
//! here, where mail enters popscope's model.
//!
//! - `headers`: [`HeaderSummary`], parsed from a header block.
//! - `message_view`: [`ParsedMessage`] (headers, body text, attachments)
//!   and [`raw_source`], from the retrieved bytes.
//! - `html`: HTML bodies turned into plain text.
//! - `wrap`: [`wrap_lines`], text wrapped to terminal columns.
//! - `value`: [`MAX_HEADER_VALUE`] and the shared cleaning of header bytes
//!   and values.

pub mod headers;
mod html;
pub mod message_view;
mod value;
mod wrap;

pub use headers::{Broken, BrokenSet, HeaderParts, HeaderSummary};
pub use message_view::{Attachment, ParsedMessage, raw_source};
pub use value::MAX_HEADER_VALUE;
pub use wrap::wrap_lines;
