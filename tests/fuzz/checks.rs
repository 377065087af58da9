//! Invariants every target shares: what may reach a terminal, and that no
//! secret escapes into text.

use crate::engine::Violation;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::OnceLock;

/// The password every login in the targets uses. It must never appear in
/// a trace record, an error, or the Debug output of an event or outcome.
pub const PASSWORD: &str = "hunter2-CANARY-pw";
/// The OAuth token, likewise.
pub const TOKEN: &str = "ya29.CANARY-token";

/// Text that reaches a screen: popscope's own rule
/// (`popscope::sanitize::is_terminal_safe`) and an independent one that
/// does not share its code (no C0/C1 control but a line feed, no DEL, no
/// bidi control, no line or paragraph separator, no tab).
pub fn screen_safe(what: &str, text: &str) -> Result<(), Violation> {
    let unsafe_char = text.chars().find(|&c| {
        c != '\n'
            && (c.is_control()
                || matches!(
                    c,
                    '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}'
                ))
    });
    check!(
        unsafe_char.is_none(),
        "text for the screen holds a control character",
        "{what} holds {unsafe_char:?}: {text:?}"
    );
    check!(
        popscope::sanitize::is_terminal_safe(text),
        "text for the screen is not terminal-safe",
        "{what}: {text:?}"
    );
    Ok(())
}

/// [`screen_safe`], and on one line.
pub fn line_safe(what: &str, text: &str) -> Result<(), Violation> {
    screen_safe(what, text)?;
    check!(
        !text.contains('\n'),
        "one-line text holds a line break",
        "{what}: {text:?}"
    );
    Ok(())
}

/// The secrets as they could leak: as written, and base64-encoded at each
/// of the three alignments (the part of the encoding the secret alone
/// decides), as a SASL line would carry them.
fn secret_forms() -> &'static [String] {
    static FORMS: OnceLock<Vec<String>> = OnceLock::new();
    FORMS.get_or_init(|| {
        let mut forms = Vec::new();
        for secret in [PASSWORD, TOKEN] {
            forms.push(secret.to_string());
            for offset in 0..3usize {
                let mut padded = vec![b'x'; offset];
                padded.extend_from_slice(secret.as_bytes());
                let encoded = B64.encode(&padded);
                let start = offset.div_ceil(3) * 4;
                let end = padded.len() / 3 * 4;
                forms.push(encoded[start..end].to_string());
            }
        }
        forms
    })
}

/// No secret, in any form, in `text`.
pub fn no_secret(what: &str, text: &str) -> Result<(), Violation> {
    let leaked = secret_forms().iter().find(|form| text.contains(form.as_str()));
    check!(leaked.is_none(), "a secret leaked", "{what} holds {leaked:?}: {text:?}");
    Ok(())
}

/// Positions to cut `len` bytes at, decided by the input (so a failure
/// replays from the input alone): a few, sorted, distinct, inside.
pub fn cut_points(seed: &[u8], len: usize) -> Vec<usize> {
    if len < 2 {
        return Vec::new();
    }
    let mut rng = popscope::testmail::Rng::new(fnv(seed));
    let count = 1 + rng.below(6) as usize;
    let mut cuts: Vec<usize> = (0..count).map(|_| 1 + rng.below(len as u64 - 1) as usize).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// `data` cut at `cuts`.
pub fn pieces<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts {
        out.push(&data[start..cut]);
        start = cut;
    }
    out.push(&data[start..]);
    out
}

pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
