//! Query text to tokens. Columns are 1-based character positions, as a
//! person counts them.

use super::MAX_QUERY_CHARS;
use super::error::{Fault, QueryErrorKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// Column of the first character.
    pub column: usize,
    /// Column just after the last character.
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind {
    Open,
    Close,
    /// `-` or `!` attached to the term that follows.
    Negate(char),
    Word(Word),
    Regex(RegexSource),
}

/// Text up to a space or parenthesis; quoted parts are joined in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    pub text: String,
    /// Bytes at the start of `text` typed outside quotes: only these can
    /// name a field, a flag or a keyword.
    pub plain_len: usize,
    pub quoted: bool,
}

impl Word {
    pub fn plain(&self) -> &str {
        &self.text[..self.plain_len]
    }

    /// The word is exactly `keyword`, unquoted, in any case.
    pub(crate) fn is_bare(&self, keyword: &str) -> bool {
        !self.quoted && self.text.eq_ignore_ascii_case(keyword)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RegexSource {
    /// As typed between the slashes (`\/` kept), for display.
    pub typed: String,
    /// What the regex engine gets (`\/` became `/`).
    pub pattern: String,
    /// The column of each character of `pattern`.
    pub columns: Vec<usize>,
}

pub(super) fn tokenize(input: &str) -> Result<Vec<Token>, Fault> {
    let chars: Vec<char> = input.chars().take(MAX_QUERY_CHARS + 1).collect();
    if chars.len() > MAX_QUERY_CHARS {
        let kind = QueryErrorKind::TooLong { limit: MAX_QUERY_CHARS };
        return Err(Fault::new(kind, MAX_QUERY_CHARS + 1));
    }
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let start = at;
        let kind = match c {
            c if c.is_whitespace() => {
                at += 1;
                continue;
            }
            '(' => {
                at += 1;
                TokenKind::Open
            }
            ')' => {
                at += 1;
                TokenKind::Close
            }
            '-' | '!' => {
                if chars
                    .get(at + 1)
                    .is_none_or(|&next| next.is_whitespace() || next == ')')
                {
                    let operator = c.to_string();
                    return Err(Fault::new(QueryErrorKind::NothingAfter { operator }, at + 1));
                }
                at += 1;
                TokenKind::Negate(c)
            }
            '/' => {
                let (regex, next) = lex_regex(&chars, at)?;
                at = next;
                TokenKind::Regex(regex)
            }
            _ => {
                let (word, next) = lex_word(&chars, at)?;
                at = next;
                TokenKind::Word(word)
            }
        };
        tokens.push(Token {
            kind,
            column: start + 1,
            end: at + 1,
        });
    }
    Ok(tokens)
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')'
}

fn lex_word(chars: &[char], mut at: usize) -> Result<(Word, usize), Fault> {
    let mut text = String::new();
    let mut plain_len = None;
    while let Some(&c) = chars.get(at) {
        if ends_word(c) {
            break;
        }
        if c != '"' {
            text.push(c);
            at += 1;
            continue;
        }
        plain_len.get_or_insert(text.len());
        let opening = at;
        at += 1;
        loop {
            match chars.get(at) {
                None => return Err(Fault::new(QueryErrorKind::UnclosedQuote, opening + 1)),
                Some('"') => break,
                Some('\\') if matches!(chars.get(at + 1), Some('"' | '\\')) => {
                    text.push(chars[at + 1]);
                    at += 2;
                }
                Some(&c) => {
                    text.push(c);
                    at += 1;
                }
            }
        }
        at += 1;
    }
    let word = Word {
        plain_len: plain_len.unwrap_or(text.len()),
        quoted: plain_len.is_some(),
        text,
    };
    Ok((word, at))
}

fn lex_regex(chars: &[char], opening: usize) -> Result<(RegexSource, usize), Fault> {
    let mut source = RegexSource {
        typed: String::new(),
        pattern: String::new(),
        columns: Vec::new(),
    };
    let mut at = opening + 1;
    loop {
        match chars.get(at) {
            None => return Err(Fault::new(QueryErrorKind::UnclosedRegex, opening + 1)),
            Some('/') => break,
            Some('\\') if chars.get(at + 1) == Some(&'/') => {
                source.typed.push_str("\\/");
                source.pattern.push('/');
                source.columns.push(at + 1);
                at += 2;
            }
            Some(&c) => {
                // A backslash takes the next character with it, so `\\/`
                // ends the regex after a literal backslash.
                let take = if c == '\\' && at + 1 < chars.len() { 2 } else { 1 };
                for (offset, &c) in chars[at..at + take].iter().enumerate() {
                    source.typed.push(c);
                    source.pattern.push(c);
                    source.columns.push(at + offset + 1);
                }
                at += take;
            }
        }
    }
    if source.pattern.is_empty() {
        return Err(Fault::new(QueryErrorKind::EmptyRegex, opening + 1));
    }
    at += 1;
    while let Some(&flag) = chars.get(at).filter(|c| c.is_alphanumeric()) {
        if flag != 'i' {
            return Err(Fault::new(QueryErrorKind::BadRegexFlag { flag }, at + 1));
        }
        at += 1;
    }
    if chars.get(at).is_some_and(|&c| !ends_word(c)) {
        return Err(Fault::new(QueryErrorKind::TextAfterRegex, at + 1));
    }
    Ok((source, at))
}
