//! Wrapping text to a number of terminal columns, for the message view.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Wraps `text` to `width` columns (at least 1), measuring with
/// unicode-width: breaks at spaces when it can, hard-breaks words longer than
/// a line, keeps empty lines. Linear in the length of `text`. A single
/// character wider than `width` (a CJK character at width 1) gets a line of
/// its own.
pub fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    if text.is_empty() {
        return lines;
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    for line in text.split('\n') {
        wrap_one(line.strip_suffix('\r').unwrap_or(line), width, &mut lines);
    }
    lines
}

fn wrap_one(line: &str, width: usize, out: &mut Vec<String>) {
    if line.width() <= width {
        out.push(line.to_string());
        return;
    }
    let mut cur = String::new();
    let mut cur_w = 0usize;
    // Last break opportunity in `cur`: (end of the text before the run of
    // spaces, start of the text after it, width of `cur` up to that start).
    let mut brk: Option<(usize, usize, usize)> = None;
    let mut prev: Option<char> = None;
    let mut continuation = false;
    let mut has_content = false;
    for c in line.chars() {
        let w = char_width(prev, c);
        prev = Some(c);
        if c == ' ' {
            if continuation && cur.is_empty() {
                continue; // no leading space on a wrapped line
            }
            if cur_w + 1 > width {
                let done = std::mem::take(&mut cur);
                out.push(done.trim_end_matches(' ').to_string());
                cur_w = 0;
                brk = None;
                continuation = true;
                has_content = false;
                continue;
            }
            if has_content {
                let end = match brk {
                    Some((end, start, _)) if start == cur.len() => end,
                    _ => cur.len(),
                };
                cur.push(' ');
                cur_w += 1;
                brk = Some((end, cur.len(), cur_w));
            } else {
                cur.push(' ');
                cur_w += 1;
            }
            continue;
        }
        while cur_w + w > width && !cur.is_empty() {
            if let Some((end, start, w_at)) = brk.take() {
                let rest = cur.split_off(start);
                cur.truncate(end);
                out.push(std::mem::replace(&mut cur, rest));
                cur_w -= w_at;
            } else {
                out.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            continuation = true;
        }
        cur.push(c);
        cur_w += w;
        has_content = true;
    }
    if !cur.is_empty() || !continuation {
        out.push(cur.trim_end_matches(' ').to_string());
    }
}

/// Columns `c` adds after `prev`. Zero-width characters that change the
/// width of a sequence (an emoji presentation selector) count for what they
/// add, so the sum never falls below what unicode-width gives the line.
fn char_width(prev: Option<char>, c: char) -> usize {
    let w = c.width().unwrap_or(0);
    if w != 0 {
        return w;
    }
    let Some(p) = prev else { return 0 };
    let mut buf = [0u8; 8];
    let p_len = p.encode_utf8(&mut buf).len();
    let c_len = c.encode_utf8(&mut buf[p_len..]).len();
    let pair = std::str::from_utf8(&buf[..p_len + c_len])
        .map(|s| s.width())
        .unwrap_or(0);
    let single = std::str::from_utf8(&buf[..p_len]).map(|s| s.width()).unwrap_or(0);
    pair.saturating_sub(single).min(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_hard_breaks_words() {
        assert_eq!(
            wrap_lines("the quick brown fox jumps", 10),
            ["the quick", "brown fox", "jumps"]
        );
        assert_eq!(wrap_lines("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap_lines("a\n\nb\n", 5), ["a", "", "b"]);
        assert_eq!(wrap_lines("aaaa     bbbb", 6), ["aaaa", "bbbb"]);
        assert_eq!(wrap_lines("  indented text here", 12), ["  indented", "text here"]);
        assert_eq!(wrap_lines("x", 0), ["x"]);
        assert!(wrap_lines("", 10).is_empty());
    }

    #[test]
    fn wrap_is_linear_on_a_huge_line() {
        let huge = "x".repeat(2 * 1024 * 1024);
        let mut words = String::new();
        while words.len() < 2 * 1024 * 1024 {
            words.push_str("word ab \u{1F600} 日本 ");
        }
        let start = std::time::Instant::now();
        for (text, width) in [(&huge, 80usize), (&words, 80), (&words, 7), (&huge, 1)] {
            let lines = wrap_lines(text, width);
            assert!(!lines.is_empty());
            for line in &lines {
                assert!(line.width() <= width.max(2), "{line:?}");
            }
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(wrap_lines(&huge, 80).len(), huge.len().div_ceil(80));
    }

    #[test]
    fn wrap_respects_double_width() {
        let text = "日本語のテキストを折り返す 漢字とかなカナ";
        for width in 1..30 {
            for line in wrap_lines(text, width) {
                assert!(line.width() <= width.max(2), "{width}: {line:?}");
            }
        }
        assert_eq!(wrap_lines("日本語のテキスト", 5), ["日本", "語の", "テキ", "スト"]);
        assert_eq!(wrap_lines("ab日本", 3), ["ab", "日", "本"]);
        // Emoji presentation selectors count for the width they add.
        for line in wrap_lines(&"\u{263a}\u{fe0f}".repeat(50), 9) {
            assert!(line.width() <= 9, "{line:?}");
        }
    }
}
