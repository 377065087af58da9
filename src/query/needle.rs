//! Compiled text searches: a case-insensitive substring (`Needle`) and a
//! `/regex/` (`Pattern`). Both are built once per query; matching a row
//! allocates nothing.

use regex::{Regex, RegexBuilder};

/// A case-insensitive substring search.
#[derive(Debug, Clone)]
pub(super) struct Needle {
    typed: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Ascii(AsciiNeedle),
    /// Anything else goes through the regex engine's Unicode case folding.
    Unicode(Regex),
}

impl Needle {
    pub fn new(typed: &str) -> Result<Needle, regex::Error> {
        let matcher = if typed.is_ascii() {
            Matcher::Ascii(AsciiNeedle::new(typed))
        } else {
            Matcher::Unicode(
                RegexBuilder::new(&regex::escape(typed))
                    .case_insensitive(true)
                    .build()?,
            )
        };
        Ok(Needle {
            typed: typed.to_string(),
            matcher,
        })
    }

    /// The text as the person wrote it.
    pub fn typed(&self) -> &str {
        &self.typed
    }

    pub(crate) fn is_in(&self, haystack: &str) -> bool {
        match &self.matcher {
            Matcher::Ascii(needle) => needle.is_in(haystack.as_bytes()),
            Matcher::Unicode(regex) => regex.is_match(haystack),
        }
    }
}

/// An ASCII needle compared byte by byte, ignoring ASCII case. An ASCII
/// byte never occurs inside a multi-byte UTF-8 character, so this is exact
/// on any text. The search scans for the needle's rarest byte (in either
/// case) and compares around each hit: far fewer false starts than scanning
/// for its first byte, which is often an `e` or a space.
#[derive(Debug, Clone)]
struct AsciiNeedle {
    lower: Box<[u8]>,
    /// Where the rarest byte sits in the needle, and that byte in lower and
    /// upper case.
    rare_at: usize,
    rare: (u8, u8),
}

impl AsciiNeedle {
    fn new(text: &str) -> AsciiNeedle {
        let lower = text.to_ascii_lowercase().into_bytes().into_boxed_slice();
        let (rare_at, rare) = lower
            .iter()
            .enumerate()
            .max_by_key(|&(at, &b)| (rarity(b), usize::MAX - at))
            .map_or((0, 0), |(at, &b)| (at, b));
        AsciiNeedle {
            lower,
            rare_at,
            rare: (rare, rare.to_ascii_uppercase()),
        }
    }

    fn is_in(&self, haystack: &[u8]) -> bool {
        let needle = &self.lower[..];
        if needle.is_empty() {
            return true;
        }
        let Some(last_start) = haystack.len().checked_sub(needle.len()) else {
            return false;
        };
        let scanned = &haystack[self.rare_at..=last_start + self.rare_at];
        let mut from = 0;
        while let Some(offset) = memchr::memchr2(self.rare.0, self.rare.1, &scanned[from..]) {
            let start = from + offset;
            if haystack[start..start + needle.len()].eq_ignore_ascii_case(needle) {
                return true;
            }
            from = start + 1;
        }
        false
    }
}

/// How rare a lower-case byte is in mail headers: higher is rarer. Bytes
/// not listed (most punctuation, non-ASCII) count as rarest.
fn rarity(byte: u8) -> usize {
    const COMMON_FIRST: &[u8] = b" eaoitnsrlhdcmupgfywbv.@<>k-0123456789xjqz";
    COMMON_FIRST
        .iter()
        .position(|&b| b == byte)
        .unwrap_or(COMMON_FIRST.len())
}

/// A `/regex/`, case-insensitive.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    typed: String,
    regex: Regex,
}

impl Pattern {
    /// `typed` is the text between the slashes as written (for display),
    /// `pattern` what the engine gets.
    pub fn new(typed: &str, pattern: &str) -> Result<Pattern, regex::Error> {
        let regex = RegexBuilder::new(pattern).case_insensitive(true).build()?;
        Ok(Pattern {
            typed: typed.to_string(),
            regex,
        })
    }

    pub fn typed(&self) -> &str {
        &self.typed
    }

    pub(crate) fn is_in(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_needles_ignore_case_anywhere() {
        let needle = Needle::new("Disk Full").unwrap();
        for (haystack, expected) in [
            ("disk full", true),
            ("URGENT: DISK FULL on /var", true),
            ("disk ful", false),
            ("dis full", false),
            ("", false),
            ("ddisk full", true),
            ("Grüße, disk full", true),
            ("disk\u{a0}full", false),
        ] {
            assert_eq!(needle.is_in(haystack), expected, "{haystack:?}");
        }
        assert!(Needle::new("").unwrap().is_in("anything"));
        assert!(Needle::new("x").unwrap().is_in("X"));
        assert!(!Needle::new("xy").unwrap().is_in("x"));
        // The rarest byte (x) sits in the middle and near both ends of the
        // haystack.
        let needle = Needle::new("example").unwrap();
        for (haystack, expected) in [
            ("EXAMPLE", true),
            ("an Example.org", true),
            ("xample", false),
            ("exampl", false),
            ("exxample example", true),
            ("ex ample", false),
        ] {
            assert_eq!(needle.is_in(haystack), expected, "{haystack:?}");
        }
    }

    #[test]
    fn unicode_needles_fold_case() {
        let needle = Needle::new("GRÜSSE").unwrap();
        assert!(!needle.is_in("Grüße"), "simple case folding does not expand ß");
        let needle = Needle::new("ÄRGER").unwrap();
        assert!(needle.is_in("großer ärger"));
        assert!(Needle::new("δ").unwrap().is_in("ΑΒΓΔ"));
        assert!(
            Needle::new("a.b*").unwrap().is_in("xA.B*y"),
            "regex characters are literal"
        );
        assert!(!Needle::new("é.").unwrap().is_in("éx"), "regex characters are literal");
    }

    #[test]
    fn patterns_ignore_case() {
        let pattern = Pattern::new("^inv(oice)?", "^inv(oice)?").unwrap();
        assert!(pattern.is_in("INVOICE 42"));
        assert!(!pattern.is_in("your invoice"));
        assert_eq!(pattern.typed(), "^inv(oice)?");
    }
}
