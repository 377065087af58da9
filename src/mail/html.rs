//! HTML turned into readable plain text for the message view: linear in the
//! input and tolerant of any malformed markup. The text is not sanitized
//! here; the caller sanitizes it once, with the rest of the body.

/// Longest link target kept.
const MAX_LINK: usize = 2000;

/// Turns HTML into readable text (not yet sanitized): tags stripped, script,
/// style and head content dropped, block elements as line breaks, list items
/// as "• ", entities decoded, links kept as "text <url>", runs of blank lines
/// collapsed to one. Linear in the input; tolerates any malformed markup.
pub(super) fn html_to_text(html: &str) -> String {
    let b = html.as_bytes();
    let mut w = HtmlWriter::default();
    let mut finder = TagFinder::default();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        let Some(off) = b[i..].iter().position(|&c| c == b'<') else {
            break;
        };
        i += off;
        let next = b.get(i + 1).copied().unwrap_or(0);
        let is_end_tag = next == b'/' && b.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic());
        if !(next.is_ascii_alphabetic() || next == b'!' || next == b'?' || is_end_tag) {
            i += 1; // a literal '<'
            continue;
        }
        w.text(&html[text_start..i]);
        i = if next == b'!' || next == b'?' {
            if html[i..].starts_with("<!--") {
                html[i + 4..].find("-->").map_or(b.len(), |p| i + 4 + p + 3)
            } else {
                find_byte(b, i, b'>').map_or(b.len(), |p| p + 1)
            }
        } else if is_end_tag {
            let (name, after) = tag_name(html, i + 2);
            w.end_tag(&name);
            find_byte(b, after, b'>').map_or(b.len(), |p| p + 1)
        } else {
            let (name, after) = tag_name(html, i + 1);
            let (attrs, end) = parse_attrs(html, after);
            w.start_tag(&name, &attrs);
            skip_content(html, &name, end, &mut finder)
        };
        text_start = i;
    }
    w.text(&html[text_start.min(b.len())..]);
    w.finish()
}

/// Where to continue after the start tag of `name` ending at `end`: past the
/// content of elements whose content is not text for a reader.
fn skip_content(html: &str, name: &str, end: usize, finder: &mut TagFinder) -> usize {
    let b = html.as_bytes();
    let mut close = |tag: &'static str| finder.find(b, end, tag);
    let skip_to = |at: usize| find_byte(b, at, b'>').map_or(b.len(), |p| p + 1);
    match name {
        // Code: if never closed, the rest is code too.
        "script" => close("</script").map_or(b.len(), skip_to),
        "style" => close("</style").map_or(b.len(), skip_to),
        // Markup containers: if never closed, read on rather than lose the text.
        "head" => match (close("</head"), close("<body")) {
            (Some(a), Some(c)) if c < a => c,
            (Some(a), _) => skip_to(a),
            (None, Some(c)) => c,
            (None, None) => end,
        },
        "title" => close("</title").map_or(end, skip_to),
        "template" => close("</template").map_or(end, skip_to),
        "svg" => close("</svg").map_or(end, skip_to),
        _ => end,
    }
}

/// Finds closing tags, remembering answers so that a thousand unclosed
/// `<title>`s cost one scan, not a thousand: searches start at increasing
/// positions, so an earlier answer at or after the new start is still the
/// first one, and a tag found absent stays absent.
#[derive(Default)]
struct TagFinder {
    memo: Vec<(&'static str, Option<usize>)>,
}

impl TagFinder {
    fn find(&mut self, b: &[u8], from: usize, needle: &'static str) -> Option<usize> {
        let slot = self.memo.iter().position(|(n, _)| *n == needle);
        if let Some(slot) = slot {
            match self.memo[slot].1 {
                None => return None,
                Some(p) if p >= from => return Some(p),
                Some(_) => {}
            }
        }
        let found = find_tag_ci(b, from, needle.as_bytes());
        match slot {
            Some(slot) => self.memo[slot].1 = found,
            None => self.memo.push((needle, found)),
        }
        found
    }
}

fn find_byte(b: &[u8], from: usize, byte: u8) -> Option<usize> {
    b.get(from..)?.iter().position(|&c| c == byte).map(|p| from + p)
}

/// Position of `needle` (starting with '<', ASCII) at or after `from`,
/// ignoring ASCII case.
fn find_tag_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut at = from;
    while let Some(p) = find_byte(b, at, b'<') {
        if b.get(p..p + needle.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(needle))
        {
            return Some(p);
        }
        at = p + 1;
    }
    None
}

/// The lower-case tag name starting at `from`, and where it ends.
fn tag_name(html: &str, from: usize) -> (String, usize) {
    let b = html.as_bytes();
    let mut j = from;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b':') {
        j += 1;
    }
    (html[from..j].to_ascii_lowercase(), j)
}

/// Attributes from `from` to the end of the tag (quotes respected), and the
/// position after the closing '>'.
fn parse_attrs(html: &str, from: usize) -> (Vec<(&str, &str)>, usize) {
    let b = html.as_bytes();
    let mut attrs = Vec::new();
    let mut j = from;
    loop {
        while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
            j += 1;
        }
        if j >= b.len() {
            return (attrs, b.len());
        }
        if b[j] == b'>' {
            return (attrs, j + 1);
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        let name = &html[name_start..j];
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let value;
            if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                let start = j + 1;
                match find_byte(b, start, b[j]) {
                    Some(p) => {
                        value = &html[start..p];
                        j = p + 1;
                    }
                    None => {
                        value = &html[start..];
                        j = b.len();
                    }
                }
            } else {
                let start = j;
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
                value = &html[start..j];
            }
            attrs.push((name, value));
        } else {
            attrs.push((name, ""));
        }
    }
}

fn attr<'a>(attrs: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

#[derive(Default)]
struct HtmlWriter {
    out: String,
    pending_space: bool,
    pre: usize,
    list_depth: usize,
    /// An open link: its target and where its text starts in `out`.
    link: Option<(String, usize)>,
}

impl HtmlWriter {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn push_char(&mut self, c: char) {
        if self.pending_space {
            if !self.at_line_start() {
                self.out.push(' ');
            }
            self.pending_space = false;
        }
        self.out.push(c);
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            self.push_char(c);
        }
    }

    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
        self.pending_space = false;
    }

    fn block(&mut self) {
        if !self.at_line_start() {
            self.newline();
        }
        self.pending_space = false;
    }

    fn paragraph(&mut self) {
        self.block();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Character data between tags: whitespace collapsed (except in
    /// `<pre>`), entities decoded.
    fn text(&mut self, s: &str) {
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if c == '&'
                && let Some((decoded, len)) = decode_entity(rest)
            {
                if let Some(d) = decoded {
                    self.push_char(d);
                }
                rest = &rest[len..];
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '\r' if self.pre > 0 => {}
                '\n' if self.pre > 0 => self.newline(),
                ' ' | '\t' | '\n' | '\r' | '\x0c' if self.pre == 0 => self.pending_space = true,
                c => self.push_char(c),
            }
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        match name {
            "br" => self.newline(),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "hr" | "dl" => self.paragraph(),
            "pre" => {
                self.paragraph();
                self.pre += 1;
            }
            "ul" | "ol" => {
                self.paragraph();
                self.list_depth += 1;
            }
            "li" => {
                self.block();
                let indent = self.list_depth.clamp(1, 8) - 1;
                for _ in 0..indent {
                    self.out.push_str("  ");
                }
                self.out.push_str("• ");
            }
            "div" | "tr" | "section" | "article" | "header" | "footer" | "nav" | "aside" | "main" | "form"
            | "fieldset" | "address" | "figure" | "figcaption" | "dt" | "dd" | "caption" | "center" | "body" => {
                self.block()
            }
            "td" | "th" => self.pending_space = true,
            "a" => {
                self.close_link();
                let href = attr(attrs, "href").map(decode_attr).unwrap_or_default();
                self.link = Some((href, self.out.len()));
            }
            "img" => {
                let alt = attr(attrs, "alt").map(decode_attr).unwrap_or_default();
                if !alt.is_empty() {
                    self.push_str(&format!("[{alt}]"));
                }
            }
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "dl" => self.paragraph(),
            "pre" => {
                self.pre = self.pre.saturating_sub(1);
                self.paragraph();
            }
            "ul" | "ol" => {
                self.list_depth = self.list_depth.saturating_sub(1);
                self.paragraph();
            }
            "li" | "div" | "tr" | "section" | "article" | "header" | "footer" | "nav" | "aside" | "main" | "form"
            | "fieldset" | "address" | "figure" | "figcaption" | "dt" | "dd" | "caption" | "center" => self.block(),
            "td" | "th" => self.pending_space = true,
            "a" => self.close_link(),
            _ => {}
        }
    }

    fn close_link(&mut self) {
        let Some((href, start)) = self.link.take() else {
            return;
        };
        if href.is_empty() || href.starts_with('#') {
            return;
        }
        let text = self.out.get(start..).unwrap_or("").trim();
        let bare = href.strip_prefix("mailto:").unwrap_or(&href);
        if text == href || text == bare {
            return;
        }
        if text.is_empty() {
            self.push_str(&format!("<{href}>"));
        } else {
            self.pending_space = false;
            self.push_str(&format!(" <{href}>"));
        }
    }

    fn finish(mut self) -> String {
        self.close_link();
        tidy_lines(&self.out)
    }
}

/// An attribute value: entities decoded, whitespace collapsed, bounded.
fn decode_attr(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut count = 0;
    while let Some(c) = rest.chars().next() {
        if count >= MAX_LINK {
            out.push('…');
            break;
        }
        if c == '&'
            && let Some((decoded, len)) = decode_entity(rest)
        {
            out.extend(decoded);
            rest = &rest[len..];
        } else {
            out.push(if c.is_whitespace() { ' ' } else { c });
            rest = &rest[c.len_utf8()..];
        }
        count += 1;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lines with trailing whitespace trimmed, runs of blank lines collapsed to
/// one, no blank lines at the start or end.
fn tidy_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for line in s.split('\n') {
        let line = line.trim_end();
        if line.trim_start().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank {
                out.push('\n');
            }
        }
        blank = false;
        out.push_str(line);
    }
    out
}

/// Decodes the entity at the start of `s` (which starts with '&'): the
/// character it stands for (`None` for one that stands for nothing, like
/// `&shy;`) and its length. `None` when it is not a known entity.
/// Long only because of its data table (the named entities).
#[allow(clippy::too_many_lines)]
fn decode_entity(s: &str) -> Option<(Option<char>, usize)> {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'#') {
        let (hex, start) = match b.get(2) {
            Some(b'x' | b'X') => (true, 3),
            _ => (false, 2),
        };
        let mut j = start;
        while j < b.len()
            && j - start < 10
            && (if hex {
                b[j].is_ascii_hexdigit()
            } else {
                b[j].is_ascii_digit()
            })
        {
            j += 1;
        }
        if j == start {
            return None;
        }
        let value = u32::from_str_radix(&s[start..j], if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
        let len = if b.get(j) == Some(&b';') { j + 1 } else { j };
        let c = match value {
            0 => '\u{FFFD}',
            0x80..=0x9f => crate::sanitize::cp1252(value),
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        return Some((Some(c), len));
    }
    let end = b.iter().take(12).position(|&c| c == b';')?;
    let name = &s[1..end];
    let c = match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "shy" | "zwnj" | "zwj" | "lrm" | "rlm" => return Some((None, end + 1)),
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "minus" => '−',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "lsaquo" => '‹',
        "rsaquo" => '›',
        "bull" => '•',
        "middot" => '·',
        "dagger" => '†',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "curren" => '¤',
        "deg" => '°',
        "plusmn" => '±',
        "times" => '×',
        "divide" => '÷',
        "frac12" => '½',
        "frac14" => '¼',
        "frac34" => '¾',
        "sup2" => '²',
        "micro" => 'µ',
        "sect" => '§',
        "para" => '¶',
        "iexcl" => '¡',
        "iquest" => '¿',
        "larr" => '←',
        "rarr" => '→',
        "uarr" => '↑',
        "darr" => '↓',
        "check" => '✓',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "aacute" => 'á',
        "eacute" => 'é',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        "Aacute" => 'Á',
        "Eacute" => 'É',
        "agrave" => 'à',
        "egrave" => 'è',
        "igrave" => 'ì',
        "ograve" => 'ò',
        "ugrave" => 'ù',
        "Agrave" => 'À',
        "Egrave" => 'È',
        "acirc" => 'â',
        "ecirc" => 'ê',
        "icirc" => 'î',
        "ocirc" => 'ô',
        "ucirc" => 'û',
        "euml" => 'ë',
        "iuml" => 'ï',
        "yuml" => 'ÿ',
        "atilde" => 'ã',
        "otilde" => 'õ',
        "ntilde" => 'ñ',
        "Ntilde" => 'Ñ',
        "ccedil" => 'ç',
        "Ccedil" => 'Ç',
        "aring" => 'å',
        "Aring" => 'Å',
        "aelig" => 'æ',
        "AElig" => 'Æ',
        "oslash" => 'ø',
        "Oslash" => 'Ø',
        _ => return None,
    };
    Some((Some(c), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_converter_edge_cases() {
        assert_eq!(html_to_text("a<script>never closed"), "a");
        assert_eq!(html_to_text("<head><title>t</title>no body tag"), "no body tag");
        assert_eq!(html_to_text("<head><meta charset=x><body>text"), "text");
        assert_eq!(html_to_text("a<!-- unterminated"), "a");
        assert_eq!(html_to_text("a <b"), "a");
        assert_eq!(html_to_text("<a href='x\" y'>t"), "t <x\" y>");
        assert_eq!(
            html_to_text("&bogus; &amp &#; &#1114112; &#0;"),
            "&bogus; &amp &#; \u{FFFD} \u{FFFD}"
        );
        assert_eq!(html_to_text("<pre>  a\tb\n  c</pre>d"), "  a\tb\n  c\n\nd");
        assert_eq!(html_to_text("<img alt=\"logo\" src=x> <img alt=''>"), "[logo]");
        assert_eq!(html_to_text("&#150; &#x1b;[2J"), "– \u{1b}[2J"); // sanitized later
        assert_eq!(html_to_text("<ul><li>a<ul><li>b</li></ul></li></ul>"), "• a\n\n  • b");
        let deep = "<div><a href=x>".repeat(10_000);
        let _ = html_to_text(&deep);
        // Unclosed containers and comments, repeated: still linear.
        let start = std::time::Instant::now();
        for unit in [
            "<head>x",
            "<title>x",
            "<svg>x",
            "<template>x",
            "<script>x",
            "<!--x",
            "<a href='x",
            "&#x",
            "<x",
        ] {
            let hostile = unit.repeat(200_000);
            let _ = html_to_text(&hostile);
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }
}
