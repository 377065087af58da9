//! The canonical text of a query: full field names, `-` for negation, `or`
//! between alternatives, parentheses only where precedence needs them, and
//! quotes only where a value would otherwise read differently. It parses
//! back to the same query.

use super::term::{Expr, HeaderTerm, Term, TextField};
use super::values::format_size;
use std::fmt::{self, Display, Formatter, Write};

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Any(items) => joined(f, items, " or ", |_| false),
            Expr::All(items) => joined(f, items, " ", |item| matches!(item, Expr::Any(_))),
            Expr::Not(inner) => match **inner {
                Expr::All(_) | Expr::Any(_) => write!(f, "-({inner})"),
                _ => write!(f, "-{inner}"),
            },
            Expr::Term(term) => term.fmt(f),
        }
    }
}

fn joined(f: &mut Formatter<'_>, items: &[Expr], separator: &str, needs_parens: fn(&Expr) -> bool) -> fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        if needs_parens(item) {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}

impl Display for Term {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Term::Size { comparison, bytes } => write!(f, "size{}{}", comparison.sign(), format_size(*bytes)),
            Term::Num(range) => write!(f, "num:{range}"),
            Term::Big => f.write_str("big"),
            Term::Uid(needle) => write!(f, "uid:{}", Value(needle.typed())),
            Term::Dup => f.write_str("dup"),
            Term::Headers(term) => term.fmt(f),
        }
    }
}

impl Display for HeaderTerm {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            HeaderTerm::Text {
                field: TextField::FromOrSubject,
                needle,
            } => write!(f, "{}", BareWord(needle.typed())),
            HeaderTerm::Text { field, needle } => write!(f, "{}{}", field.prefix(), Value(needle.typed())),
            HeaderTerm::Header { name, value: None } => write!(f, "header:{}", Value(name)),
            HeaderTerm::Header {
                name,
                value: Some(needle),
            } => write!(f, "header:{}", Value(&format!("{name}={}", needle.typed()))),
            HeaderTerm::Before(day) => write!(f, "before:{day}"),
            HeaderTerm::After(day) => write!(f, "after:{day}"),
            HeaderTerm::Older(age) => write!(f, "older:{age}"),
            HeaderTerm::Newer(age) => write!(f, "newer:{age}"),
            HeaderTerm::NoDate => f.write_str("nodate"),
            HeaderTerm::Pattern(pattern) => write!(f, "/{}/", pattern.typed()),
            HeaderTerm::Broken => f.write_str("broken"),
            HeaderTerm::HasAttachment => f.write_str("has:attachment"),
        }
    }
}

/// A field's value, quoted when it holds what would end or split it.
struct Value<'a>(&'a str);

impl Display for Value<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let plain = !self.0.is_empty()
            && !self
                .0
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '"' | '(' | ')'));
        if plain { f.write_str(self.0) } else { quoted(f, self.0) }
    }
}

/// A bare search word, quoted also when it would read as something else: a
/// keyword, flag, field, size comparison, negation, regex or alias.
struct BareWord<'a>(&'a str);

impl Display for BareWord<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const RESERVED: [&str; 8] = ["or", "and", "not", "|", "dup", "broken", "big", "nodate"];
        let text = self.0;
        let special = RESERVED.iter().any(|word| text.eq_ignore_ascii_case(word))
            || text.starts_with(['-', '!', '/', '~'])
            || text.contains([':', '<', '>', '='])
            || text.is_empty()
            || text.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '(' | ')'));
        if special { quoted(f, text) } else { f.write_str(text) }
    }
}

fn quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}
