//! Making untrusted text safe to put on a terminal.
//!
//! Everything a server or a mail author wrote passes through here exactly
//! once, where it enters popscope's model. After this, text may be drawn or
//! printed without further thought: no byte of it can move the cursor, set
//! the window title, reach the clipboard or reorder the line.

/// Tab stops used when expanding tabs.
const TAB_WIDTH: usize = 8;

/// Turns arbitrary text into text that contains no control characters, no
/// escape sequences and no bidi controls. Each such character becomes a
/// visible stand-in (the Unicode "control pictures" block for C0 controls,
/// `\u{FFFD}`-style markers otherwise) so a person can see that something
/// was there. Tabs are expanded to spaces; line breaks are kept only when
/// `keep_newlines` is set (bodies), otherwise they become spaces (headers).
pub fn sanitize_text(input: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(input.len());
    let mut column = 0usize;
    for c in input.chars() {
        match c {
            '\t' => {
                let spaces = TAB_WIDTH - (column % TAB_WIDTH);
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' if keep_newlines => {
                out.push('\n');
                column = 0;
            }
            '\r' if keep_newlines => {}
            '\n' | '\r' => {
                out.push(' ');
                column += 1;
            }
            c => {
                let visible = visible_stand_in(c);
                out.push(visible);
                column += 1;
            }
        }
    }
    out
}

/// Bytes of unknown encoding (a status line, a raw header) made safe; see
/// `decode_bytes` for how they are read.
pub fn sanitize_bytes(input: &[u8], keep_newlines: bool) -> String {
    sanitize_text(&decode_bytes(input), keep_newlines)
}

/// Bytes of unknown encoding as text (not yet sanitized): valid UTF-8 runs as they are, any
/// other byte as Windows-1252 (Latin-1 where that leaves a byte undefined).
pub fn decode_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|&b| cp1252(b as u32)));
    }
    out
}

/// Windows-1252 for 0x80..=0x9F (the bytes Latin-1 leaves to controls);
/// Latin-1 otherwise. Undefined positions stay C1 controls for the
/// sanitizer to mark.
pub(crate) fn cp1252(b: u32) -> char {
    const TABLE: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => TABLE[(b - 0x80) as usize],
        _ => char::from_u32(b).unwrap_or('\u{FFFD}'),
    }
}

/// The character to show in place of `c`; `c` itself when it is harmless.
/// (`sanitize_text` but for tabs and line breaks, one character at a time.)
pub(crate) fn visible_stand_in(c: char) -> char {
    match c {
        // C0 controls (including ESC and NUL) map onto U+2400..U+241F.
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7f}' => '\u{2421}',
        // C1 controls: CSI (U+009B) and OSC (U+009D) start escape sequences
        // on terminals that honour 8-bit controls.
        '\u{80}'..='\u{9f}' => '\u{FFFD}',
        // Bidi embeddings, overrides and isolates can make text read in a
        // different order than it is stored (the "Trojan Source" trick).
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' => '\u{FFFD}',
        // Line and paragraph separators break lines in some terminals.
        '\u{2028}' | '\u{2029}' => ' ',
        // Zero-width and other format characters hide things in plain sight;
        // keep ZWJ (emoji sequences) and the BOM is dropped to a marker.
        '\u{200b}' | '\u{200c}' | '\u{2060}'..='\u{2064}' | '\u{feff}' => '\u{FFFD}',
        // Tag characters can smuggle invisible text.
        '\u{e0000}'..='\u{e007f}' => '\u{FFFD}',
        c => c,
    }
}

/// True when `s` holds nothing that `sanitize_text` would have replaced.
pub fn is_terminal_safe(s: &str) -> bool {
    s.chars().all(|c| c == '\n' || visible_stand_in(c) == c) && !s.contains('\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        let s = sanitize_text("a\x1b[2Jb\x1b]0;pwned\x07c", false);
        assert_eq!(s, "a\u{241b}[2Jb\u{241b}]0;pwned\u{2407}c");
        assert!(is_terminal_safe(&s));
    }

    #[test]
    fn nul_c1_and_bidi_are_replaced() {
        let s = sanitize_text("x\0y\u{9b}31mz\u{202e}txt.exe", false);
        assert!(!s.contains('\0'));
        assert!(!s.contains('\u{9b}'));
        assert!(!s.contains('\u{202e}'));
        assert!(is_terminal_safe(&s));
    }

    #[test]
    fn tabs_expand_to_the_next_stop() {
        assert_eq!(sanitize_text("ab\tc", false), "ab      c");
        assert_eq!(sanitize_text("\t", false), "        ");
    }

    #[test]
    fn newlines_kept_only_in_bodies() {
        assert_eq!(sanitize_text("a\r\nb", true), "a\nb");
        assert_eq!(sanitize_text("a\r\nb", false), "a  b");
    }

    #[test]
    fn invalid_utf8_reads_as_latin1() {
        assert_eq!(sanitize_bytes(b"caf\xe9", false), "café");
        assert_eq!(sanitize_bytes(b"\x1b\xff", false), "\u{241b}ÿ");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let s = "Grüße, 日本語 👩‍💻";
        assert_eq!(sanitize_text(s, false), s);
    }
}
