//! Parse errors that point at a column and say what to write instead.

use crate::sanitize::sanitize_text;
use std::fmt;
use unicode_width::UnicodeWidthStr;

/// Longest piece of the query quoted inside an error message.
const SHOWN_CHARS: usize = 40;

/// Why a query was refused. User text inside is sanitized and cut to a
/// short length, so a message can be printed as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryErrorKind {
    #[error("the query is empty")]
    Empty,
    #[error("the query is longer than {limit} characters")]
    TooLong { limit: usize },
    #[error("this quote is never closed: add a \" where the value ends")]
    UnclosedQuote,
    #[error("this ( is never closed: add a ) where the group ends")]
    UnclosedParen,
    #[error("this ) closes nothing: there is no ( before it")]
    StrayParen,
    #[error("nothing between these parentheses")]
    EmptyParens,
    #[error("\"{operator}\" needs a term before it")]
    NothingBefore { operator: String },
    #[error("\"{operator}\" needs a term after it")]
    NothingAfter { operator: String },
    #[error("{field} needs a value here, e.g. {example}")]
    EmptyValue { field: String, example: &'static str },
    #[error(
        "unknown field \"{field}\"; fields are from: to: cc: subject: msgid: uid: header: \
         before: after: older: newer: num: has: and size>N; to search for this text, quote it"
    )]
    UnknownField { field: String },
    #[error("unknown pattern \"{alias}\"; the NeoMutt patterns known are ~f ~t ~c ~s ~i ~z ~d")]
    UnknownAlias { alias: String },
    #[error("not a size comparison: \"{text}\"; write size>10M, size<=2k or size=0 (k, M, G are 1024-based)")]
    BadSize { text: String },
    #[error("not a date: \"{text}\"; write YYYY-MM-DD, e.g. 2024-01-31")]
    BadDate { text: String },
    #[error("not an age: \"{text}\"; write a number and a unit s, m, h, d or w, e.g. 30d")]
    BadAge { text: String },
    #[error("~d takes an age: ~d<30d (newer than 30 days) or ~d>30d (older)")]
    BadDateAlias,
    #[error("not a message number range: \"{text}\"; write num:7, num:100-200, num:-50 or num:4000-")]
    BadNumRange { text: String },
    #[error("this range runs backwards; write num:{low}-{high}")]
    ReversedNumRange { low: u32, high: u32 },
    #[error("not a header name: \"{text}\"; write header:Name=value, e.g. header:X-Spam-Flag=YES")]
    BadHeaderName { text: String },
    #[error("has: knows only has:attachment, not \"{text}\"")]
    UnknownHas { text: String },
    #[error("this /regex/ is never closed: add a / where it ends")]
    UnclosedRegex,
    #[error("a /regex/ cannot be empty")]
    EmptyRegex,
    #[error("unknown regex flag \"{flag}\": only i is known; to search for text with slashes, quote it")]
    BadRegexFlag { flag: char },
    #[error("put a space after a /regex/")]
    TextAfterRegex,
    #[error("bad regex: {detail}")]
    BadRegex { detail: String },
}

/// A query that could not be parsed: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    kind: QueryErrorKind,
    column: usize,
    query: String,
}

/// An error before it knows the query it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fault {
    pub kind: QueryErrorKind,
    pub column: usize,
}

impl Fault {
    pub fn new(kind: QueryErrorKind, column: usize) -> Fault {
        Fault { kind, column }
    }
}

impl QueryError {
    pub(super) fn new(fault: Fault, query: &str) -> QueryError {
        QueryError {
            kind: fault.kind,
            column: fault.column,
            query: query.to_string(),
        }
    }

    pub fn kind(&self) -> &QueryErrorKind {
        &self.kind
    }

    /// The 1-based character position the error points at; one past the
    /// last character when something is missing at the end.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, for a person.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }

    /// Two lines: the query, and a caret under the column followed by the
    /// message. Safe to print on a terminal; the caret accounts for wide
    /// characters and tabs.
    pub fn render(&self) -> String {
        let before: String = self.query.chars().take(self.column.saturating_sub(1)).collect();
        let indent = sanitize_text(&before, false).width();
        format!(
            "{}\n{}^ {}",
            sanitize_text(&self.query, false),
            " ".repeat(indent),
            self.kind
        )
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.kind)
    }
}

impl std::error::Error for QueryError {}

/// A piece of the query as an error message may quote it.
pub(super) fn shown(text: &str) -> String {
    let mut out = sanitize_text(text, false);
    if let Some((cut, _)) = out.char_indices().nth(SHOWN_CHARS) {
        out.truncate(cut);
        out.push('…');
    }
    out
}
