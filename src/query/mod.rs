//! The query language: one way to say *which* messages, used by the UI
//! (search, limit, pattern mark) and the command line (`--match`).
//!
//! Pure: no IO, no clock. A query is parsed once ([`Query::parse`]) and then
//! evaluated against many messages ([`Query::evaluate`]) through the
//! [`MessageFacts`] / [`HeaderFacts`] traits, with the current time and the
//! `big` threshold passed in a [`MatchContext`].
//!
//! # Language
//!
//! | Query | Matches |
//! |---|---|
//! | `word` | From or Subject contains `word` |
//! | `"two words"` | From or Subject contains `two words` (quotes hold spaces; `\"` is a quote, `\\` a backslash) |
//! | `from:x` `to:x` `cc:x` `subject:x` | that header contains `x` |
//! | `msgid:x` | Message-ID contains `x` (surrounding `<` `>` are ignored) |
//! | `uid:x` | the UIDL unique id contains `x` |
//! | `header:Name=x` | any `Name:` header in the TOP block contains `x` |
//! | `header:Name` | the message has a `Name:` header |
//! | `size>10M` `size<2k` `size>=1.5M` `size<=500` `size=0` | size from LIST; `k` `M` `G` are 1024-based (an optional `B` after them is accepted), no suffix means bytes |
//! | `before:2024-01-31` | dated earlier than 2024-01-31 00:00 UTC (that day excluded) |
//! | `after:2024-01-01` | dated 2024-01-02 00:00 UTC or later (that day excluded) |
//! | `older:30d` | dated more than 30 days before now; units `s` `m` `h` `d` `w` |
//! | `newer:12h` | dated within the last 12 hours (or in the future) |
//! | `nodate` | no parseable Date header |
//! | `num:7` `num:100-200` `num:-50` `num:4000-` | message number, a range, open ranges |
//! | `/regex/` | the regex matches From or Subject (Rust `regex` syntax, case-insensitive; `/regex/i` is accepted) |
//! | `dup` | a Message-ID seen earlier in the list |
//! | `broken` | headers the reader flagged (unparseable, no From/Date, bad encoding, bare CR/NUL) |
//! | `big` | larger than the big threshold (default [`DEFAULT_BIG_THRESHOLD`], 10 MiB) |
//! | `has:attachment` | multipart/mixed or a `Content-Disposition: attachment` |
//! | `a b` or `a and b` | both |
//! | `a or b` or `a \| b` | either |
//! | `-a` `!a` `not a` | not `a` |
//! | `(a or b) c` | grouping |
//! | `~f` `~t` `~c` `~s` `~i` `~z` | NeoMutt aliases of `from:` `to:` `cc:` `subject:` `msgid:` `size`: `~f junk.example`, `~s "disk full"`, `~z>1M` |
//! | `~d<30d` `~d>30d` | NeoMutt ages: `newer:30d`, `older:30d` |
//!
//! Text matching is a case-insensitive substring search on the decoded,
//! sanitized header text. Field names, `or`/`and`/`not` and the flags are
//! case-insensitive. `dup`, `broken`, `big`, `nodate`, `or`, `and`, `not`, and
//! any `word:` are keywords; to search for such text, quote it (`"big"`,
//! `"re:"`). A `-`, `!` or `/` starts a negation or a regex only at the start
//! of a term; quote text that starts with one.
//!
//! Precedence: negation binds tightest, then AND (also implicit, by a space),
//! then OR: `a b or c` is `(a b) or c`, `-a b` is `(-a) b`.
//!
//! Dates are compared in UTC. `before:D` and `after:D` both exclude the day
//! `D` itself, as in "before/after that day"; their negations include it
//! (`-before:D` is "on D or later"). `older:N` is a date earlier than
//! `now - N`; `newer:N` is a date at or after `now - N`, so the two never
//! both hold. A message without a parseable date never matches a date term
//! (and therefore does match its negation): use `nodate` to find those.
//!
//! # Grammar
//!
//! ```text
//! query   = or
//! or      = and { ("or" | "|") and }
//! and     = unary { ["and"] unary }
//! unary   = ("-" | "!") unary        (attached: no space after the sign)
//!         | "not" unary
//!         | "(" or ")"
//!         | "/" regex "/" ["i"]
//!         | term
//! term    = field ":" value | "size" cmp size | "~" letter [value]
//!         | "dup" | "broken" | "big" | "nodate" | value
//! cmp     = ">" | "<" | ">=" | "<=" | "="
//! value   = { char | '"' { char | '\"' | '\\' } '"' }   (up to a space, "(" or ")")
//! ```
//!
//! # Unknown
//!
//! Evaluation is three-valued ([`Verdict`]). A term that needs headers
//! evaluates to [`Verdict::Unknown`] for a message whose headers are not
//! loaded yet, and so does a `uid:` term for a message without a known UID
//! and `dup` while the model cannot tell yet. `and`/`or`/`not` follow
//! Kleene's logic (`NoMatch and Unknown` is `NoMatch`, `Match or Unknown`
//! is `Match`, `not Unknown` is `Unknown`), so a query decides every message
//! it can and never claims a message it cannot judge: act (mark, delete)
//! only on [`Verdict::Match`]. Number, size and `big` terms never need
//! headers.

mod error;
mod eval;
mod lexer;
mod needle;
mod parser;
mod show;
mod term;
#[cfg(test)]
mod tests;
mod values;

pub use error::{QueryError, QueryErrorKind};
pub use eval::{HeaderFacts, MessageFacts};

use std::fmt;
use std::str::FromStr;

/// The default threshold of `big`, for the help screen: 10 MiB.
pub(crate) const DEFAULT_BIG_THRESHOLD: u64 = 10 * 1024 * 1024;

/// Longest query accepted, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 4096;

/// A parsed query, ready to evaluate against many messages. Its `Display`
/// is the canonical form, which parses back to the same query.
#[derive(Debug, Clone)]
pub struct Query {
    /// As written: what `Display` shows.
    expr: term::Expr,
    /// The same, reordered for speed: what `evaluate` runs.
    plan: term::Expr,
}

/// What a query says about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Match,
    NoMatch,
    /// The query needs facts about this message that are not known yet
    /// (headers still loading, no UID yet). Neither a match nor a non-match.
    Unknown,
}

impl Verdict {
    pub fn is_match(self) -> bool {
        self == Verdict::Match
    }
}

/// What evaluation needs besides the message: the time and the `big`
/// threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchContext {
    /// Now, in seconds since the Unix epoch; `older:`/`newer:` count back
    /// from it.
    pub now: i64,
    /// `big` matches messages larger than this many bytes.
    pub big_threshold: u64,
}

impl MatchContext {
    /// The context at `now` with the default `big` threshold.
    pub fn at(now: i64) -> MatchContext {
        MatchContext {
            now,
            big_threshold: DEFAULT_BIG_THRESHOLD,
        }
    }
}

impl Query {
    /// Parses a query. The empty (or all-blank) query is an error, so that
    /// no command can select every message by leaving the query out; a view
    /// that treats an empty query as "no filter" checks for it first.
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        parser::parse(input)
            .map(|expr| Query {
                plan: expr.cheapest_first(),
                expr,
            })
            .map_err(|fault| QueryError::new(fault, input))
    }

    /// Evaluates the query against one message. Allocates nothing.
    pub fn evaluate<M: MessageFacts + ?Sized>(&self, message: &M, context: &MatchContext) -> Verdict {
        self.plan.evaluate(message, context)
    }

    /// Whether some term needs the message's headers (or its `dup` status),
    /// so that messages without loaded headers may evaluate to
    /// [`Verdict::Unknown`]. A query that needs only numbers, sizes and
    /// UIDs can be decided from LIST and UIDL alone.
    pub fn needs_headers(&self) -> bool {
        self.expr.needs_headers()
    }
}

impl FromStr for Query {
    type Err = QueryError;

    fn from_str(input: &str) -> Result<Query, QueryError> {
        Query::parse(input)
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}
