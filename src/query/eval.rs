//! Evaluating a parsed query against what the list model knows of a
//! message, in three values.

use super::term::{Expr, HeaderTerm, Term, TextField};
use super::{MatchContext, Verdict};

/// What the list model knows about one message. Implemented by the model's
/// row type; every method should be a field read.
pub trait MessageFacts {
    type Headers: HeaderFacts + ?Sized;

    /// The message number in this session (from LIST).
    fn number(&self) -> u32;
    /// The UIDL unique id; `None` while it is not known (or the server has
    /// no UIDL), which makes `uid:` terms [`Verdict::Unknown`].
    fn uid(&self) -> Option<&str>;
    /// The size from LIST, in bytes.
    fn size(&self) -> u64;
    /// The headers from TOP; `None` while they are not loaded, which makes
    /// every term that needs them [`Verdict::Unknown`].
    fn headers(&self) -> Option<&Self::Headers>;
    /// Whether a message earlier in the list has the same Message-ID;
    /// `None` while that cannot be told yet. Asked only when
    /// [`MessageFacts::headers`] is `Some`.
    fn is_dup(&self) -> Option<bool>;
}

/// The headers of one message, RFC 2047-decoded and sanitized (as
/// `crate::mail` delivers them). Absent headers are empty strings.
pub trait HeaderFacts {
    fn from(&self) -> &str;
    fn to(&self) -> &str;
    fn cc(&self) -> &str;
    fn subject(&self) -> &str;
    /// Without the surrounding `<` `>`.
    fn message_id(&self) -> &str;
    /// The Date header in seconds since the epoch; `None` if absent or
    /// unparseable.
    fn timestamp(&self) -> Option<i64>;
    /// The header reader noticed something wrong (see `broken` in the
    /// language table).
    fn is_broken(&self) -> bool;
    /// multipart/mixed, or a `Content-Disposition: attachment` in the TOP
    /// block.
    fn has_attachment(&self) -> bool;
    /// Calls `test` with the value of each header called `name` (compared
    /// ignoring ASCII case), in order, until it returns `true`; returns
    /// whether it did. `header:` terms use this.
    fn any_header_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> bool;
}

impl Expr {
    pub(super) fn evaluate<M: MessageFacts + ?Sized>(&self, message: &M, context: &MatchContext) -> Verdict {
        match self {
            Expr::All(items) => {
                let mut verdict = Verdict::Match;
                for item in items {
                    match item.evaluate(message, context) {
                        Verdict::NoMatch => return Verdict::NoMatch,
                        Verdict::Unknown => verdict = Verdict::Unknown,
                        Verdict::Match => {}
                    }
                }
                verdict
            }
            Expr::Any(items) => {
                let mut verdict = Verdict::NoMatch;
                for item in items {
                    match item.evaluate(message, context) {
                        Verdict::Match => return Verdict::Match,
                        Verdict::Unknown => verdict = Verdict::Unknown,
                        Verdict::NoMatch => {}
                    }
                }
                verdict
            }
            Expr::Not(inner) => match inner.evaluate(message, context) {
                Verdict::Match => Verdict::NoMatch,
                Verdict::NoMatch => Verdict::Match,
                Verdict::Unknown => Verdict::Unknown,
            },
            Expr::Term(term) => term.evaluate(message, context),
        }
    }

    /// The same expression with the children of every `and`/`or` ordered
    /// cheapest first, so that a term decided from LIST data can settle a
    /// row before a text search runs. Kleene's `and`/`or` are commutative,
    /// so the verdicts do not change.
    pub(super) fn cheapest_first(&self) -> Expr {
        let reordered = |items: &[Expr]| {
            let mut items: Vec<Expr> = items.iter().map(Expr::cheapest_first).collect();
            items.sort_by_key(Expr::cost);
            items
        };
        match self {
            Expr::All(items) => Expr::All(reordered(items)),
            Expr::Any(items) => Expr::Any(reordered(items)),
            Expr::Not(inner) => Expr::Not(Box::new(inner.cheapest_first())),
            Expr::Term(term) => Expr::Term(term.clone()),
        }
    }

    /// A rough rank of evaluation cost: list data, then header flags and
    /// dates, then substring searches, then regexes.
    fn cost(&self) -> u32 {
        match self {
            Expr::All(items) | Expr::Any(items) => items.iter().map(Expr::cost).sum(),
            Expr::Not(inner) => inner.cost(),
            Expr::Term(Term::Size { .. } | Term::Num(_) | Term::Big) => 0,
            Expr::Term(Term::Uid(_)) => 1,
            Expr::Term(Term::Dup) => 2,
            Expr::Term(Term::Headers(HeaderTerm::Text { .. } | HeaderTerm::Header { .. })) => 4,
            Expr::Term(Term::Headers(HeaderTerm::Pattern(_))) => 8,
            Expr::Term(Term::Headers(_)) => 2,
        }
    }

    pub(super) fn needs_headers(&self) -> bool {
        match self {
            Expr::All(items) | Expr::Any(items) => items.iter().any(Expr::needs_headers),
            Expr::Not(inner) => inner.needs_headers(),
            Expr::Term(term) => term.needs_headers(),
        }
    }
}

impl Term {
    fn needs_headers(&self) -> bool {
        matches!(self, Term::Dup | Term::Headers(_))
    }

    fn evaluate<M: MessageFacts + ?Sized>(&self, message: &M, context: &MatchContext) -> Verdict {
        let decided = match self {
            Term::Size { comparison, bytes } => Some(comparison.holds(message.size(), *bytes)),
            Term::Num(range) => Some(range.contains(message.number())),
            Term::Big => Some(message.size() > context.big_threshold),
            Term::Uid(needle) => message.uid().map(|uid| needle.is_in(uid)),
            Term::Dup => message.headers().and_then(|_| message.is_dup()),
            Term::Headers(term) => message.headers().map(|headers| term.decide(headers, context)),
        };
        match decided {
            Some(true) => Verdict::Match,
            Some(false) => Verdict::NoMatch,
            None => Verdict::Unknown,
        }
    }
}

impl HeaderTerm {
    fn decide<H: HeaderFacts + ?Sized>(&self, headers: &H, context: &MatchContext) -> bool {
        let timestamp = headers.timestamp();
        match self {
            HeaderTerm::Text { field, needle } => match field {
                TextField::FromOrSubject => needle.is_in(headers.from()) || needle.is_in(headers.subject()),
                TextField::From => needle.is_in(headers.from()),
                TextField::To => needle.is_in(headers.to()),
                TextField::Cc => needle.is_in(headers.cc()),
                TextField::Subject => needle.is_in(headers.subject()),
                TextField::MessageId => needle.is_in(headers.message_id()),
            },
            HeaderTerm::Header { name, value } => match value {
                Some(needle) => headers.any_header_value(name, &mut |value| needle.is_in(value)),
                None => headers.any_header_value(name, &mut |_| true),
            },
            HeaderTerm::Before(day) => timestamp.is_some_and(|t| t < day.midnight()),
            HeaderTerm::After(day) => timestamp.is_some_and(|t| t >= day.next_midnight()),
            HeaderTerm::Older(age) => timestamp.is_some_and(|t| t < age.before(context.now)),
            HeaderTerm::Newer(age) => timestamp.is_some_and(|t| t >= age.before(context.now)),
            HeaderTerm::NoDate => timestamp.is_none(),
            HeaderTerm::Pattern(pattern) => pattern.is_in(headers.from()) || pattern.is_in(headers.subject()),
            HeaderTerm::Broken => headers.is_broken(),
            HeaderTerm::HasAttachment => headers.has_attachment(),
        }
    }
}
