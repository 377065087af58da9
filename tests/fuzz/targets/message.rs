//! `mail::message_view`: `ParsedMessage::parse`, the raw view, and
//! wrapping the text to the terminal's width.
//!
//! Invariants: every header, the body, every attachment's name and type
//! and the note are terminal-safe (headers and names on one line, within
//! their bounds); the raw view is terminal-safe and, when nothing is cut,
//! is the sanitized input; wrapped lines are no wider than asked (a lone
//! double-width character at width 1 excepted) and keep every character
//! but the spaces they break at.

use crate::checks::{fnv, line_safe, screen_safe};
use crate::engine::{Probe, Target, Violation};
use crate::targets::headers::HEADER_TOKENS;
use popscope::mail::{MAX_HEADER_VALUE, ParsedMessage, raw_source, wrap_lines};
use popscope::sanitize::{decode_bytes, sanitize_text};
use popscope::testmail::maildir::{HOSTILE, hostile, ordinary, to_wire};
use unicode_width::UnicodeWidthStr;

pub const TARGET: Target = Target {
    name: "message",
    max_len: 16 * 1024,
    dictionary: HEADER_TOKENS,
    seeds,
    run,
};

const HEADER_NAMES: [&str; 7] = ["From", "To", "Cc", "Date", "Subject", "Message-ID", "Content-Type"];

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = HOSTILE.iter().map(|(name, _)| to_wire(&hostile(name))).collect();
    seeds.extend((0..8).map(|i| to_wire(&ordinary(i))));
    seeds
}

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let hash = fnv(input);
    let truncated = hash & 1 == 1;
    let total_size = [0, input.len() as u64, u64::MAX, hash >> 40][(hash >> 1) as usize % 4];
    let view = ParsedMessage::parse(input, truncated, total_size);
    probe.hit((
        "view",
        view.headers.len(),
        view.attachments.len().min(4),
        view.parse_note.is_some(),
        view.body.is_empty(),
    ));
    for (name, value) in &view.headers {
        check!(
            HEADER_NAMES.contains(&name.as_str()),
            "an unknown header shown",
            "{name:?}"
        );
        line_safe(name, value)?;
        check!(
            value.chars().count() <= MAX_HEADER_VALUE + 1,
            "a shown header beyond its bound",
            "{name}: {} characters",
            value.chars().count()
        );
    }
    screen_safe("body", &view.body)?;
    for attachment in &view.attachments {
        line_safe("attachment name", &attachment.name)?;
        line_safe("attachment type", &attachment.content_type)?;
        check!(
            !attachment.name.is_empty() && attachment.name.chars().count() <= 256,
            "an attachment name empty or beyond its bound",
            "{:?}",
            attachment.name
        );
        probe.hit(("attachment", attachment.content_type.len().min(40)));
    }
    if let Some(note) = &view.parse_note {
        line_safe("parse note", note)?;
    }
    check!(view.truncated == truncated, "truncated not passed on", "{truncated}");
    raw_view(input)?;
    for width in [1, 2, 3, 7, 40, (hash % 200) as usize] {
        wrapped(&view.body, width)?;
    }
    Ok(())
}

fn raw_view(input: &[u8]) -> Result<(), Violation> {
    let whole = raw_source(input, usize::MAX);
    check!(
        whole == sanitize_text(&decode_bytes(input), true),
        "the raw view of a whole message is not the sanitized message",
        "{whole:?}"
    );
    for max in [0, 1, input.len() / 2] {
        screen_safe("raw view", &raw_source(input, max))?;
    }
    Ok(())
}

fn wrapped(text: &str, width: usize) -> Result<(), Violation> {
    let lines = wrap_lines(text, width);
    for line in &lines {
        check!(!line.contains('\n'), "a wrapped line holds a line break", "{line:?}");
        // At width 1 a double-width character still needs its two columns.
        check!(
            line.width() <= width.max(2),
            "a wrapped line is wider than asked",
            "width {width}: {line:?} is {} columns",
            line.width()
        );
    }
    let kept: String = lines.concat().chars().filter(|&c| c != ' ').collect();
    let given: String = text.chars().filter(|&c| c != ' ' && c != '\n').collect();
    check!(
        kept == given,
        "wrapping lost or added characters",
        "width {width}: {given:?} became {lines:?}"
    );
    Ok(())
}
