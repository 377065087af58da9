//! `store::names`: file names made from what a mail says.
//!
//! Invariants, for `sanitize_attachment_name`, `propose_eml_name` and
//! `uid_file_name` alike: the name is never empty, at most MAX_NAME_BYTES,
//! one plain path component (joined to a directory it stays directly in
//! it), holds no separator, no character Windows refuses, no control or
//! bidi character, does not start or end with a dot or a space, is no
//! Windows device name (by an independent reading of that rule), and is a
//! terminal-safe line. A UID's name ends in `.eml`, reads back to the UID
//! when it was not shortened (the empty UID, which no server may send, is
//! `%.eml`), and differs for different UIDs.

use crate::checks::{fnv, line_safe};
use crate::engine::{Probe, Target, Violation};
use popscope::store::{
    EMPTY_UID_FILE_NAME, MAX_NAME_BYTES, is_plain_file_name, propose_eml_name, sanitize_attachment_name, uid_file_name,
};
use std::path::{Component, Path};

pub const TARGET: Target = Target {
    name: "names",
    max_len: 1024,
    dictionary: &[
        b"CON",
        b"nul.",
        b"COM1",
        b"LPT\xc2\xb9",
        b"CONIN$",
        b"aux.tar.gz",
        b"..",
        b"../",
        b"..\\",
        b"/",
        b"\\",
        b"C:",
        b".eml",
        b".pdf",
        b" .",
        b". ",
        b"%",
        b"%2F",
        b"\xe2\x80\xae",
        b"\xc2\xad",
        b"\xef\xbb\xbf",
        b"Mon, 01 Jan 2024 12:00:00 +0000",
        b"2025-07-03T10:00:00Z",
        b"\n",
    ],
    seeds: || Vec::new(),
    run,
};

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let text = String::from_utf8_lossy(input);
    let mut parts = text.split('\n');
    let (first, second) = (parts.next().unwrap_or(""), parts.next());
    let number = fnv(input) as u32;

    let attachment = sanitize_attachment_name(&text);
    plain("sanitize_attachment_name", &text, &attachment)?;
    probe.hit(("attachment", attachment == "attachment", attachment.len() / 20));

    let eml = propose_eml_name(second, first, number);
    plain("propose_eml_name", &text, &eml)?;
    check!(eml.ends_with(".eml"), "a message name without .eml", "{eml:?}");
    probe.hit((
        "eml",
        eml.len() / 20,
        eml.as_bytes().first().is_some_and(u8::is_ascii_digit),
    ));

    uid(&text, probe)?;
    if let Some(uid_text) = second {
        let one = uid_file_name(first);
        let other = uid_file_name(uid_text);
        check!(
            first == uid_text || one != other,
            "two UIDs share a file name",
            "{first:?} and {uid_text:?} both {one:?}"
        );
    }
    Ok(())
}

fn uid(text: &str, probe: &mut Probe) -> Result<(), Violation> {
    let name = uid_file_name(text);
    plain("uid_file_name", text, &name)?;
    let stem = name.strip_suffix(".eml");
    check!(stem.is_some(), "a UID's name without .eml", "{name:?}");
    let stem = stem.unwrap_or_default();
    let decoded = unescape(stem);
    // A UID too long for a name is cut to this and given a hash.
    let shortened = stem.len() >= MAX_NAME_BYTES - ".eml".len();
    probe.hit(("uid", shortened));
    if text.is_empty() {
        check!(name == EMPTY_UID_FILE_NAME, "the empty UID's name", "{name:?}");
    } else if !shortened {
        check!(
            decoded.as_deref() == Some(text.as_bytes()),
            "a UID's name does not read back to the UID",
            "{text:?} -> {name:?} -> {decoded:?}"
        );
    }
    Ok(())
}

/// `%XX` escapes undone; `None` if the name is not such an encoding.
fn unescape(name: &str) -> Option<Vec<u8>> {
    let bytes = name.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Windows device names, whatever follows a dot: read independently of
/// popscope's own check.
fn windows_device(name: &str) -> bool {
    let base = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches(' ')
        .to_ascii_uppercase();
    let port = |prefix: &str| {
        base.strip_prefix(prefix).is_some_and(|n| {
            matches!(
                n,
                "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
            )
        })
    };
    matches!(base.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$") || port("COM") || port("LPT")
}

fn plain(function: &str, from: &str, name: &str) -> Result<(), Violation> {
    let what = format!("{function}({from:?})");
    check!(!name.is_empty(), "an empty file name", "{what}");
    check!(
        name.len() <= MAX_NAME_BYTES,
        "a file name longer than MAX_NAME_BYTES",
        "{what} = {name:?}: {} bytes",
        name.len()
    );
    check!(
        is_plain_file_name(name),
        "a file name that is not plain",
        "{what} = {name:?}"
    );
    let components: Vec<Component> = Path::new(name).components().collect();
    check!(
        components == [Component::Normal(name.as_ref())],
        "a file name that is not one path component",
        "{what} = {name:?}: {components:?}"
    );
    let refused = name.chars().find(|&c| {
        matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*')
            || c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
    });
    check!(
        refused.is_none(),
        "a file name with a refused character",
        "{what} = {name:?}: {refused:?}"
    );
    check!(
        !name.starts_with(['.', ' ']) && !name.ends_with(['.', ' ']),
        "a file name starting or ending with a dot or space",
        "{what} = {name:?}"
    );
    check!(!windows_device(name), "a Windows device name", "{what} = {name:?}");
    line_safe(function, name)
}
