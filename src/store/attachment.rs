//! An attachment's bytes as its sender had them: the part's body undone
//! from its transfer encoding (base64, quoted-printable; 7bit, 8bit and
//! binary as they are) and nothing else. Text attachments keep their
//! charset and line ends, so a saved file is byte for byte the original.
//!
//! Attachments are numbered as mail-parser lists them
//! (`Message::attachments()`), the order the inspector shows.

use super::eml::{EmlSink, OnExists};
use super::error::StoreError;
use super::names::{propose_eml_name, sanitize_attachment_name};
use super::sink::{MessageMeta, MessageSink};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use std::path::{Path, PathBuf};

/// One attachment, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedAttachment {
    /// A safe file name from the attachment's own name (see
    /// [`sanitize_attachment_name`]); for a forwarded message without one
    /// its subject, else `attachment` with an extension from the type.
    pub file_name: String,
    /// Lower-case `type/subtype` as the mail declares it (not sanitized:
    /// pass it through `crate::sanitize` before showing it).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Decodes attachment `index` (0-based) of the message `raw`. Never panics;
/// a message that cannot be parsed or has no such attachment is an error
/// that says so.
pub fn decode_attachment(raw: &[u8], index: usize) -> Result<DecodedAttachment, StoreError> {
    match crate::unwind::catching(|| extract(raw, index)) {
        Ok(Some(attachment)) => Ok(attachment),
        Ok(None) => Err(StoreError::other(
            None,
            format!("the message has no attachment {}", index.saturating_add(1)),
            None,
        )),
        Err(_) => Err(StoreError::other(
            None,
            "the message could not be parsed to find its attachments",
            Some("save the whole message instead".to_string()),
        )),
    }
}

/// Decodes attachment `index` of `raw` and saves it in `dir` under its
/// sanitized name, durably (fsynced, then named); returns the file's path.
/// Whatever the mail calls it, the file lands directly in `dir`.
pub fn save_attachment(raw: &[u8], index: usize, dir: &Path, on_exists: OnExists) -> Result<PathBuf, StoreError> {
    let attachment = decode_attachment(raw, index)?;
    save_bytes(dir, &attachment.file_name, &attachment.bytes, on_exists)
}

/// Saves `bytes` as `dir/name` (a plain name), durably and without
/// replacing a file unless `on_exists` allows it; returns the path used.
pub fn save_bytes(dir: &Path, name: &str, bytes: &[u8], on_exists: OnExists) -> Result<PathBuf, StoreError> {
    let mut sink = EmlSink::open(dir, on_exists)?;
    let meta = MessageMeta {
        file_name: Some(name.to_string()),
        ..MessageMeta::default()
    };
    let mut writer = sink.begin(&meta)?;
    writer.write_chunk(bytes)?;
    writer.commit()?;
    let saved = sink.sync()?;
    saved
        .into_iter()
        .next()
        .map(|s| s.path)
        .ok_or_else(|| StoreError::other(Some(dir), "the file was not saved", None))
}

fn extract(raw: &[u8], index: usize) -> Option<DecodedAttachment> {
    let message = MessageParser::default().parse(raw)?;
    let part = message.attachment(u32::try_from(index).ok()?)?;
    let content_type = match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        },
        None if matches!(part.body, PartType::Message(_)) => "message/rfc822".to_string(),
        None => "application/octet-stream".to_string(),
    }
    .to_ascii_lowercase();
    let file_name = match (part.attachment_name(), &part.body) {
        (Some(name), _) if !name.trim().is_empty() => sanitize_attachment_name(name),
        (_, PartType::Message(nested)) => propose_eml_name(None, nested.subject().unwrap_or(""), 1),
        _ => format!("attachment.{}", extension_for(&content_type)),
    };
    let start = usize::try_from(part.raw_body_offset()).ok()?;
    let end = usize::try_from(part.raw_end_offset()).ok()?;
    let body = raw.get(start..end.max(start))?;
    let encoding = part
        .content_transfer_encoding()
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => decode_base64(body),
        "quoted-printable" => decode_quoted_printable(body),
        // 7bit, 8bit, binary, and encodings nobody implements: as sent.
        _ => body.to_vec(),
    };
    Some(DecodedAttachment {
        file_name,
        content_type,
        bytes,
    })
}

/// An extension for an unnamed attachment, so it opens in the right
/// program.
fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/calendar" => "ics",
        "application/zip" => "zip",
        "message/rfc822" => "eml",
        _ => "bin",
    }
}

/// Lenient base64: characters outside the alphabet (line breaks, spaces)
/// are skipped, decoding stops at padding, a dangling last character is
/// dropped.
fn decode_base64(body: &[u8]) -> Vec<u8> {
    let mut clean: Vec<u8> = body
        .iter()
        .copied()
        .take_while(|&b| b != b'=')
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    engine.decode(&clean).unwrap_or_default()
}

/// Lenient quoted-printable (RFC 2045 §6.7): `=XX` is a byte, `=` at a line
/// end joins lines, trailing blanks are transport padding; any other `=` is
/// kept as it is. Hard line ends keep their form (CRLF or LF).
fn decode_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    for line in body.split_inclusive(|&b| b == b'\n') {
        let (text, ending): (&[u8], &[u8]) = if let Some(text) = line.strip_suffix(b"\r\n") {
            (text, b"\r\n")
        } else if let Some(text) = line.strip_suffix(b"\n") {
            (text, b"\n")
        } else {
            (line, b"")
        };
        let text = text.trim_ascii_end();
        let (text, soft_break) = match text.strip_suffix(b"=") {
            Some(text) => (text, true),
            None => (text, false),
        };
        let mut i = 0;
        while i < text.len() {
            let escaped = match text.get(i..i + 3) {
                Some([b'=', high, low]) => hex_value(*high).zip(hex_value(*low)).map(|(h, l)| h << 4 | l),
                _ => None,
            };
            match escaped {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    out.push(text[i]);
                    i += 1;
                }
            }
        }
        if !soft_break {
            out.extend_from_slice(ending);
        }
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|v| v as u8)
}

#[cfg(test)]
#[path = "attachment_tests.rs"]
mod tests;
