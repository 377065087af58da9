//! File names from untrusted text: a subject, an attachment's name, a UID.
//! Whatever the mail says, the result is one plain name that cannot leave
//! the directory it is joined to: no separators, no `.`/`..`, no leading
//! dot, no control or bidi characters, no Windows device names, bounded
//! length, never empty.

use super::error::{StoreError, show_path};
use super::fsutil::name_taken;
use mail_parser::DateTime;
use std::path::{Path, PathBuf};

/// The name [`uid_file_name`] gives an empty UID.
pub const EMPTY_UID_FILE_NAME: &str = "%.eml";

/// Longest name produced, in bytes: below every common file system's limit
/// (255) with room for a " (9999)" suffix.
pub const MAX_NAME_BYTES: usize = 200;
/// An extension longer than this is treated as part of the name.
const MAX_EXTENSION_BYTES: usize = 16;
/// Most " (n)" candidates [`unique_path`] tries.
const MAX_UNIQUE_TRIES: u32 = 9999;

/// A name for a saved message: `2025-07-03 Invoice 2025-0042.eml` from the
/// Date header (RFC 5322 or RFC 3339 text, the date as the sender wrote it)
/// and the decoded subject; `message 12` stands in for an empty subject.
pub fn propose_eml_name(date: Option<&str>, subject: &str, number: u32) -> String {
    let mut subject = clean(subject);
    if subject.is_empty() {
        subject = format!("message {number}");
    }
    let day = date.and_then(parse_day);
    let stem = match day {
        Some(day) => format!("{day} {subject}"),
        None => subject,
    };
    finish(&stem, Some("eml"), "message")
}

/// A safe file name for an attachment whose name came from the mail: the
/// last path component only, every character a file system or a terminal
/// could misread neutralised, Windows device names prefixed with `_`.
/// `attachment` when nothing usable is left.
pub fn sanitize_attachment_name(name_from_mail: &str) -> String {
    let last = name_from_mail
        .rsplit(['/', '\\'])
        .find(|part| !clean(part).is_empty())
        .unwrap_or("");
    let cleaned = clean(last);
    let (stem, ext) = split_extension(&cleaned);
    finish(stem, ext, "attachment")
}

/// The file name for a message saved by UID: the UID with `%`, `/`, a
/// leading `.`, characters Windows refuses, the first letter of a device
/// name and any byte outside 0x21–0x7E written as `%XX` (so distinct UIDs
/// get distinct names), plus `.eml`. A UID too long
/// for a file name is cut and given a hash of the whole, so names stay
/// distinct.
pub fn uid_file_name(uid: &str) -> String {
    if uid.is_empty() {
        // No UID is empty (RFC 1939 §7), but a bare `.eml` would be a
        // hidden file; a lone `%` is no escape, so no other UID gets it.
        return EMPTY_UID_FILE_NAME.to_string();
    }
    let mut out = String::with_capacity(uid.len() + 4);
    for (i, b) in uid.bytes().enumerate() {
        let plain = matches!(b, 0x21..=0x7e)
            && !matches!(b, b'%' | b'/' | b'\\' | b'<' | b'>' | b':' | b'"' | b'|' | b'?' | b'*')
            && !(i == 0 && b == b'.');
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    // Before the cut, so the escape cannot push a long name over the
    // limit; the cut keeps the part before the first dot (a device name's
    // test) or makes the name too long to be one.
    if is_reserved(&out) {
        // Escaping the first letter keeps names distinct and reversible.
        let first = out.remove(0);
        out.insert_str(0, &format!("%{:02X}", first as u32));
    }
    let limit = MAX_NAME_BYTES - ".eml".len();
    if out.len() > limit {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(uid.as_bytes());
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        out.truncate(limit - hash.len() - 1);
        out.push('-');
        out.push_str(&hash);
    }
    out.push_str(".eml");
    out
}

/// True when `name` can be joined to a directory and stay a file directly
/// inside it: not empty, not `.`/`..`, no `/`, no NUL, not over
/// [`MAX_NAME_BYTES`]. Names a person typed are checked with this rather
/// than rewritten.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']) && name.len() <= MAX_NAME_BYTES
}

/// `dir/name` if nothing has that name yet, else `dir/stem (2).ext`,
/// `(3)`, … (what a person who chose not to overwrite expects). The name
/// can still be taken before it is used; writers publish without
/// replacing, so such a race fails instead of overwriting.
pub fn unique_path(dir: &Path, name: &str) -> Result<PathBuf, StoreError> {
    let first = dir.join(name);
    if !name_taken(&first) {
        return Ok(first);
    }
    let (stem, ext) = split_extension(name);
    for n in 2..=MAX_UNIQUE_TRIES {
        let candidate = match ext {
            Some(ext) => format!("{stem} ({n}).{ext}"),
            None => format!("{stem} ({n})"),
        };
        let path = dir.join(candidate);
        if !name_taken(&path) {
            return Ok(path);
        }
    }
    Err(StoreError::other(
        Some(dir),
        format!(
            "{} already holds {MAX_UNIQUE_TRIES} files named like {}",
            show_path(dir),
            show_path(Path::new(name))
        ),
        Some("choose another name or directory".to_string()),
    ))
}

/// `YYYY-MM-DD` of a Date header value, if it parses to a plausible date.
fn parse_day(date: &str) -> Option<String> {
    let date = date.trim();
    let iso = date.len() > 5 && date.as_bytes()[..4].iter().all(u8::is_ascii_digit) && date.as_bytes()[4] == b'-';
    let parse = || match iso {
        true => DateTime::parse_rfc3339(date),
        false => DateTime::parse_rfc822(date),
    };
    let parsed = crate::unwind::catching(parse).ok().flatten()?;
    let plausible =
        (1..=9999).contains(&parsed.year) && (1..=12).contains(&parsed.month) && (1..=31).contains(&parsed.day);
    plausible.then(|| format!("{:04}-{:02}-{:02}", parsed.year, parsed.month, parsed.day))
}

/// Characters mapped or dropped, spaces collapsed, dots and spaces trimmed
/// at both ends.
fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(4 * MAX_NAME_BYTES));
    for c in raw.chars() {
        // A 200 KB subject is cut long before it is all mapped.
        if out.len() > 4 * MAX_NAME_BYTES {
            break;
        }
        let Some(mapped) = map_char(c) else { continue };
        if mapped == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(mapped);
    }
    trim_dots_and_spaces(&out).to_string()
}

fn map_char(c: char) -> Option<char> {
    match c {
        // Path separators and what Windows refuses in names.
        '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*' => Some('_'),
        '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(' '),
        '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some('_'),
        // Bidi controls reorder what is shown ("gnp.exe" read as "exe.png"),
        // format characters hide in plain sight; dropping them shows the
        // name as the file system will list it.
        '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200b}'..='\u{200f}'
        | '\u{061c}'
        | '\u{00ad}'
        | '\u{2060}'..='\u{2064}'
        | '\u{feff}'
        | '\u{fffe}'
        | '\u{ffff}'
        | '\u{e0000}'..='\u{e007f}' => None,
        c if c.is_whitespace() => Some(' '),
        c => Some(c),
    }
}

fn trim_dots_and_spaces(s: &str) -> &str {
    s.trim_matches(|c| c == '.' || c == ' ')
}

/// Splits off a short alphanumeric extension: `("report", Some("pdf"))`.
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.len() <= MAX_EXTENSION_BYTES
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            (stem, Some(ext))
        }
        _ => (name, None),
    }
}

/// Bounds `stem` so that `stem.ext` fits [`MAX_NAME_BYTES`] (cut on a char
/// boundary), falls back when empty, and defuses device names.
fn finish(stem: &str, ext: Option<&str>, fallback: &str) -> String {
    let room = MAX_NAME_BYTES - ext.map_or(0, |e| e.len() + 1);
    let mut stem = cut_to(stem, room);
    if stem.is_empty() {
        stem = fallback.to_string();
    }
    if is_reserved(&stem) {
        // The prefix takes a byte of the room.
        stem = format!("_{}", cut_to(&stem, room - 1));
    }
    match ext {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem,
    }
}

/// At most `room` bytes of `stem` (whole characters), without trailing
/// dots and spaces.
fn cut_to(stem: &str, room: usize) -> String {
    let mut cut = stem.len().min(room);
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    trim_dots_and_spaces(&stem[..cut]).to_string()
}

/// Windows device names, which refer to a device whatever the extension
/// (`CON`, `nul.txt`, `COM1.tar.gz`, `LPT¹`).
fn is_reserved(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    let upper = base.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let (Some(head), Some(tail)) = (upper.get(..3), upper.get(3..)) else {
                return false;
            };
            let port = (tail.len() == 1 && tail.as_bytes()[0].is_ascii_digit()) || matches!(tail, "¹" | "²" | "³");
            (head == "COM" || head == "LPT") && port
        }
    }
}

#[cfg(test)]
#[path = "names_tests.rs"]
pub(super) mod tests;
