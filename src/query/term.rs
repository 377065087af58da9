//! The parsed form of a query, and how a word or a regex becomes a term.

use super::error::{Fault, QueryErrorKind, shown};
use super::lexer::{RegexSource, Word};
use super::needle::{Needle, Pattern};
use super::values::{Age, Comparison, Day, NumRange, NumRangeError, parse_size};

#[derive(Debug, Clone)]
pub(super) enum Expr {
    /// Every one (at least two, none of them `All`).
    All(Vec<Expr>),
    /// Any one (at least two, none of them `Any`).
    Any(Vec<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

impl Expr {
    pub fn all(items: Vec<Expr>) -> Expr {
        Expr::joined(items, Expr::All, |item| match item {
            Expr::All(inner) => Ok(inner),
            other => Err(other),
        })
    }

    pub fn any(items: Vec<Expr>) -> Expr {
        Expr::joined(items, Expr::Any, |item| match item {
            Expr::Any(inner) => Ok(inner),
            other => Err(other),
        })
    }

    /// Flattens nested joins of the same kind (both are associative) and
    /// unwraps a join of one.
    fn joined(items: Vec<Expr>, join: fn(Vec<Expr>) -> Expr, same: fn(Expr) -> Result<Vec<Expr>, Expr>) -> Expr {
        let mut flat = Vec::with_capacity(items.len());
        for item in items {
            match same(item) {
                Ok(inner) => flat.extend(inner),
                Err(other) => flat.push(other),
            }
        }
        if flat.len() == 1
            && let Some(only) = flat.pop()
        {
            only
        } else {
            join(flat)
        }
    }
}

/// One term, split by what deciding it needs.
#[derive(Debug, Clone)]
pub(super) enum Term {
    Size {
        comparison: Comparison,
        bytes: u64,
    },
    Num(NumRange),
    Big,
    Uid(Needle),
    /// Needs the headers and the model's view of earlier Message-IDs.
    Dup,
    Headers(HeaderTerm),
}

/// A term decided on the message's headers alone.
#[derive(Debug, Clone)]
pub(super) enum HeaderTerm {
    Text {
        field: TextField,
        needle: Needle,
    },
    /// `header:Name` (any value) or `header:Name=value`.
    Header {
        name: String,
        value: Option<Needle>,
    },
    Before(Day),
    After(Day),
    Older(Age),
    Newer(Age),
    NoDate,
    Pattern(Pattern),
    Broken,
    HasAttachment,
}

impl From<HeaderTerm> for Term {
    fn from(term: HeaderTerm) -> Term {
        Term::Headers(term)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextField {
    /// A bare word: From or Subject.
    FromOrSubject,
    From,
    To,
    Cc,
    Subject,
    MessageId,
}

impl TextField {
    /// The prefix that names the field in canonical form.
    pub fn prefix(self) -> &'static str {
        match self {
            TextField::FromOrSubject => "",
            TextField::From => "from:",
            TextField::To => "to:",
            TextField::Cc => "cc:",
            TextField::Subject => "subject:",
            TextField::MessageId => "msgid:",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Text(TextField),
    Uid,
    Header,
    Before,
    After,
    Older,
    Newer,
    Num,
    Has,
}

/// Field names (lower-case, before the colon) with an example for errors.
const FIELDS: [(&str, Field, &str); 13] = [
    ("from", Field::Text(TextField::From), "from:example.org"),
    ("to", Field::Text(TextField::To), "to:alice@"),
    ("cc", Field::Text(TextField::Cc), "cc:alice@"),
    ("subject", Field::Text(TextField::Subject), "subject:\"disk full\""),
    ("msgid", Field::Text(TextField::MessageId), "msgid:1234@example.org"),
    ("uid", Field::Uid, "uid:000001"),
    ("header", Field::Header, "header:X-Spam-Flag=YES"),
    ("before", Field::Before, "before:2024-01-31"),
    ("after", Field::After, "after:2024-01-01"),
    ("older", Field::Older, "older:30d"),
    ("newer", Field::Newer, "newer:12h"),
    ("num", Field::Num, "num:100-200"),
    ("has", Field::Has, "has:attachment"),
];

/// The flags: a bare, unquoted word.
fn flag(word: &Word) -> Option<Term> {
    let term = if word.is_bare("dup") {
        Term::Dup
    } else if word.is_bare("broken") {
        HeaderTerm::Broken.into()
    } else if word.is_bare("big") {
        Term::Big
    } else if word.is_bare("nodate") {
        HeaderTerm::NoDate.into()
    } else {
        return None;
    };
    Some(term)
}

/// A NeoMutt pattern letter (`~f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Alias(char);

/// What one word turned out to be.
pub(super) enum Meaning {
    Term(Term),
    /// `~s` alone: its value is the next word.
    AliasWantsValue(Alias),
}

pub(super) fn word_meaning(word: &Word, column: usize) -> Result<Meaning, Fault> {
    let plain = word.plain();
    if plain.starts_with('~') {
        return alias_meaning(word, column);
    }
    if let Some(name_len) = field_name_len(plain) {
        let value = &word.text[name_len + 1..];
        // The name is ASCII, so its byte length is its width in columns.
        return field_term(&plain[..name_len], value, column, column + name_len + 1).map(Meaning::Term);
    }
    if let Some(rest) = plain
        .get(..4)
        .filter(|name| name.eq_ignore_ascii_case("size"))
        .map(|_| &word.text[4..])
        && Comparison::split(rest).is_some()
    {
        return size_term(rest, column + 4).map(Meaning::Term);
    }
    if let Some(flag) = flag(word) {
        return Ok(Meaning::Term(flag));
    }
    if word.text.is_empty() {
        let kind = QueryErrorKind::EmptyValue {
            field: "a quoted search".to_string(),
            example: "\"disk full\"",
        };
        return Err(Fault::new(kind, column));
    }
    text_term(TextField::FromOrSubject, &word.text, column).map(Meaning::Term)
}

/// `name:` at the start of `plain`: a letters-only name and a colon.
fn field_name_len(plain: &str) -> Option<usize> {
    let colon = plain.find(':')?;
    let name = &plain[..colon];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic())).then_some(colon)
}

fn field_term(typed_name: &str, value: &str, column: usize, value_column: usize) -> Result<Term, Fault> {
    let name = typed_name.to_ascii_lowercase();
    if name == "size" {
        let text = shown(&format!(":{value}"));
        return Err(Fault::new(QueryErrorKind::BadSize { text }, value_column - 1));
    }
    let Some(&(_, field, example)) = FIELDS.iter().find(|(known, ..)| *known == name) else {
        let field = shown(&format!("{typed_name}:"));
        return Err(Fault::new(QueryErrorKind::UnknownField { field }, column));
    };
    let value = match field {
        Field::Text(TextField::MessageId) => strip_angle_brackets(value),
        _ => value,
    };
    if value.is_empty() {
        let kind = QueryErrorKind::EmptyValue {
            field: format!("{name}:"),
            example,
        };
        return Err(Fault::new(kind, value_column));
    }
    let bad = |kind| Fault::new(kind, value_column);
    let text = || shown(value);
    let day = || Day::parse(value).ok_or_else(|| bad(QueryErrorKind::BadDate { text: text() }));
    let age = || Age::parse(value).ok_or_else(|| bad(QueryErrorKind::BadAge { text: text() }));
    match field {
        Field::Text(field) => text_term(field, value, value_column),
        Field::Uid => Ok(Term::Uid(needle(value, value_column)?)),
        Field::Header => header_term(value, value_column),
        Field::Before => Ok(HeaderTerm::Before(day()?).into()),
        Field::After => Ok(HeaderTerm::After(day()?).into()),
        Field::Older => Ok(HeaderTerm::Older(age()?).into()),
        Field::Newer => Ok(HeaderTerm::Newer(age()?).into()),
        Field::Num => NumRange::parse(value).map(Term::Num).map_err(|error| match error {
            NumRangeError::Malformed => bad(QueryErrorKind::BadNumRange { text: text() }),
            // Reported the right way round, as the person should write it.
            NumRangeError::Reversed { low, high } => bad(QueryErrorKind::ReversedNumRange { low: high, high: low }),
        }),
        Field::Has if value.eq_ignore_ascii_case("attachment") => Ok(HeaderTerm::HasAttachment.into()),
        Field::Has => Err(bad(QueryErrorKind::UnknownHas { text: text() })),
    }
}

fn strip_angle_brackets(value: &str) -> &str {
    let value = value.strip_prefix('<').unwrap_or(value);
    value.strip_suffix('>').unwrap_or(value)
}

fn needle(value: &str, column: usize) -> Result<Needle, Fault> {
    Needle::new(value).map_err(|error| regex_fault(error, column))
}

fn text_term(field: TextField, value: &str, column: usize) -> Result<Term, Fault> {
    let needle = needle(value, column)?;
    Ok(HeaderTerm::Text { field, needle }.into())
}

fn header_term(value: &str, column: usize) -> Result<Term, Fault> {
    let (name, wanted) = match value.split_once('=') {
        Some((name, wanted)) => (name, Some(wanted)),
        None => (value, None),
    };
    let valid_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if !valid_name {
        return Err(Fault::new(QueryErrorKind::BadHeaderName { text: shown(name) }, column));
    }
    let value = match wanted {
        None => None,
        Some("") => {
            let kind = QueryErrorKind::EmptyValue {
                field: format!("header:{name}="),
                example: "header:X-Spam-Flag=YES (or header:X-Spam-Flag for any value)",
            };
            return Err(Fault::new(kind, column + name.len() + 1));
        }
        Some(wanted) => Some(needle(wanted, column)?),
    };
    let name = name.to_string();
    Ok(HeaderTerm::Header { name, value }.into())
}

fn size_term(text: &str, column: usize) -> Result<Term, Fault> {
    Comparison::split(text)
        .and_then(|(comparison, size)| parse_size(size).map(|bytes| Term::Size { comparison, bytes }))
        .ok_or_else(|| Fault::new(QueryErrorKind::BadSize { text: shown(text) }, column))
}

fn alias_meaning(word: &Word, column: usize) -> Result<Meaning, Fault> {
    let letter = word.plain()[1..].chars().next();
    let alias = match letter {
        Some(letter @ ('f' | 't' | 'c' | 's' | 'i' | 'z' | 'd')) => Alias(letter),
        _ => {
            let alias = shown(&format!("~{}", letter.map(String::from).unwrap_or_default()));
            return Err(Fault::new(QueryErrorKind::UnknownAlias { alias }, column));
        }
    };
    let value = &word.text[2..];
    if value.is_empty() && !word.quoted {
        return Ok(Meaning::AliasWantsValue(alias));
    }
    alias_term(alias, value, column + 2).map(Meaning::Term)
}

/// The term of `~x value`; `column` is where the value starts.
pub(super) fn alias_term(alias: Alias, value: &str, column: usize) -> Result<Term, Fault> {
    let field = match alias.0 {
        'z' => return size_term(value, column),
        'd' => {
            return match Comparison::split(value).map(|(comparison, age)| (comparison, Age::parse(age))) {
                Some((Comparison::Less, Some(age))) => Ok(HeaderTerm::Newer(age).into()),
                Some((Comparison::Greater, Some(age))) => Ok(HeaderTerm::Older(age).into()),
                _ => Err(Fault::new(QueryErrorKind::BadDateAlias, column)),
            };
        }
        'f' => TextField::From,
        't' => TextField::To,
        'c' => TextField::Cc,
        's' => TextField::Subject,
        _ => TextField::MessageId,
    };
    let value = match field {
        TextField::MessageId => strip_angle_brackets(value),
        _ => value,
    };
    if value.is_empty() {
        return Err(alias_without_value(alias, column));
    }
    text_term(field, value, column)
}

/// `~x` with nothing after it; `column` is where the value should be.
pub(super) fn alias_without_value(alias: Alias, column: usize) -> Fault {
    let example = match alias.0 {
        'f' => "~f junk.example",
        't' => "~t alice@",
        'c' => "~c alice@",
        's' => "~s \"disk full\"",
        'i' => "~i 1234@example.org",
        'z' => "~z>1M",
        _ => "~d<30d",
    };
    let kind = QueryErrorKind::EmptyValue {
        field: format!("~{}", alias.0),
        example,
    };
    Fault::new(kind, column)
}

pub(super) fn pattern_term(source: &RegexSource, column: usize) -> Result<Term, Fault> {
    Pattern::new(&source.typed, &source.pattern)
        .map(|pattern| HeaderTerm::Pattern(pattern).into())
        .map_err(|error| pattern_fault(source, column, error))
}

/// Points at the offending part of the regex when the syntax parser can
/// say where it is.
fn pattern_fault(source: &RegexSource, column: usize, error: regex::Error) -> Fault {
    let parsed = regex_syntax::ParserBuilder::new()
        .case_insensitive(true)
        .build()
        .parse(&source.pattern);
    let located = match parsed {
        Err(regex_syntax::Error::Parse(error)) => Some((error.span().start.offset, error.kind().to_string())),
        Err(regex_syntax::Error::Translate(error)) => Some((error.span().start.offset, error.kind().to_string())),
        _ => None,
    };
    let Some((offset, detail)) = located else {
        return regex_fault(error, column);
    };
    let closing_slash = source.columns.last().map_or(column + 1, |last| last + 1);
    let at = source
        .pattern
        .get(..offset)
        .and_then(|before| source.columns.get(before.chars().count()))
        .copied()
        .unwrap_or(closing_slash);
    Fault::new(QueryErrorKind::BadRegex { detail }, at)
}

fn regex_fault(error: regex::Error, column: usize) -> Fault {
    let detail = error.to_string();
    let last_line = detail.lines().last().unwrap_or_default();
    let detail = last_line.trim_start_matches("error: ").to_string();
    Fault::new(QueryErrorKind::BadRegex { detail }, column)
}
