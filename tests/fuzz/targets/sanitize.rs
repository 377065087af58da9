//! `sanitize`: the one gate between untrusted text and the terminal.
//!
//! Invariants: whatever goes in, what comes out is terminal-safe (by the
//! module's own test and an independent one), on one line unless line
//! breaks were asked for, and sanitizing again changes nothing; line
//! breaks kept are exactly the input's; `is_terminal_safe` holds exactly
//! for text the sanitizer would leave alone; valid UTF-8 decodes as
//! itself.

use crate::checks::{line_safe, screen_safe};
use crate::engine::{Probe, Target, Violation};
use popscope::sanitize::{decode_bytes, is_terminal_safe, sanitize_bytes, sanitize_text};

pub const TARGET: Target = Target {
    name: "sanitize",
    max_len: 1024,
    dictionary: &[
        b"\xe2\x80\x8b",
        b"\xe2\x80\x8d",
        b"\xe2\x80\xa8",
        b"\xf3\xa0\x80\x81",
        b"\xd8\x9c",
        b"\xc2\x9d",
        b"\xed\xa0\x80",
        b"\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb",
        b"\xe6\x97\xa5",
    ],
    seeds: || Vec::new(),
    run,
};

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let decoded = decode_bytes(input);
    if let Ok(text) = std::str::from_utf8(input) {
        check!(
            decoded == text,
            "valid UTF-8 does not decode as itself",
            "{text:?} -> {decoded:?}"
        );
    }
    check!(
        decoded.chars().count() >= String::from_utf8_lossy(input).chars().count(),
        "decoding lost characters",
        "{input:?} -> {decoded:?}"
    );
    for keep_newlines in [false, true] {
        let from_bytes = sanitize_bytes(input, keep_newlines);
        let from_text = sanitize_text(&decoded, keep_newlines);
        check!(
            from_bytes == from_text,
            "sanitize_bytes is not sanitize_text of decode_bytes",
            "{from_bytes:?} vs {from_text:?}"
        );
        if keep_newlines {
            screen_safe("sanitized text", &from_bytes)?;
            let lines_in = decoded.matches('\n').count();
            let lines_out = from_bytes.matches('\n').count();
            check!(
                lines_in == lines_out,
                "line breaks changed",
                "{lines_in} in, {lines_out} out"
            );
        } else {
            line_safe("sanitized text", &from_bytes)?;
        }
        let again = sanitize_text(&from_bytes, keep_newlines);
        check!(
            again == from_bytes,
            "sanitizing twice changes the text",
            "{from_bytes:?} -> {again:?}"
        );
        probe.hit(("changed", keep_newlines, from_bytes != decoded));
    }
    let safe = is_terminal_safe(&decoded);
    let untouched = sanitize_text(&decoded, true) == decoded;
    check!(
        safe == untouched,
        "is_terminal_safe disagrees with the sanitizer",
        "{decoded:?}: safe {safe}, left alone {untouched}"
    );
    for c in decoded.chars() {
        probe.hit(("class", c.is_control(), c.is_ascii(), c.len_utf8()));
    }
    Ok(())
}
