//! The prompt: one line typed under the list, for a query (search, limit,
//! pattern mark) or a message number. A query is judged against every row
//! as it is typed, so the prompt can say what it would select before it
//! does anything.

use super::filter::Filter;
use super::row::MessageRow;
use crate::query::{MAX_QUERY_CHARS, MatchContext, Query, QueryError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    Limit,
    /// Mark every message that matches.
    Mark,
    /// Go to a message number.
    Goto,
    /// A file name to save a message as (`s`).
    SaveAs,
    /// A Maildir or `.mbox` file to save many messages into (`W`).
    SaveManyTo,
}

/// The message a save prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveTarget {
    pub number: u32,
    pub uid: Option<String>,
    pub size: u64,
    /// The name that was found to exist and was Entered again: replace it.
    pub replace_confirmed: Option<String>,
}

impl PromptKind {
    /// The prompt box's title.
    pub fn title(self) -> &'static str {
        match self {
            PromptKind::Search => "Search",
            PromptKind::Limit => "Limit the list to",
            PromptKind::Mark => "Mark every message matching",
            PromptKind::Goto => "Go to message number",
            PromptKind::SaveAs => "Save as (.eml, byte for byte)",
            PromptKind::SaveManyTo => "Save into (a Maildir, or a .mbox file)",
        }
    }

    /// What goes before the typed text.
    pub(crate) fn sigil(self) -> &'static str {
        match self {
            PromptKind::Search => "/",
            PromptKind::Goto => ":",
            PromptKind::SaveAs | PromptKind::SaveManyTo => "> ",
            PromptKind::Limit | PromptKind::Mark => "> ",
        }
    }
}

/// What the typed text says so far.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Nothing typed (or only spaces).
    Empty,
    Query(Filter),
    Error(QueryError),
    /// A message number (the Goto prompt).
    Number(u32),
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    /// As typed; sanitized when drawn.
    pub text: String,
    pub parsed: Parsed,
    /// Where the selection was when a search began (Esc goes back there).
    pub origin: usize,
    /// The save prompt's message.
    pub save: Option<SaveTarget>,
}

impl Prompt {
    pub fn new(kind: PromptKind, origin: usize) -> Prompt {
        Prompt {
            kind,
            text: String::new(),
            parsed: Parsed::Empty,
            origin,
            save: None,
        }
    }

    /// A typed character; false if it was refused (too long, or not a
    /// digit where a number is asked).
    pub fn push(&mut self, c: char) -> bool {
        let refused = match self.kind {
            PromptKind::Goto => !c.is_ascii_digit() || self.text.len() >= 10,
            _ => self.text.chars().count() >= MAX_QUERY_CHARS,
        };
        if !refused {
            self.text.push(c);
        }
        !refused
    }

    pub fn delete(&mut self) -> bool {
        self.text.pop().is_some()
    }

    pub fn clear(&mut self) -> bool {
        let had = !self.text.is_empty();
        self.text.clear();
        had
    }

    /// Reads the text again: one pass over the rows for a query.
    pub(crate) fn reparse(&mut self, rows: &[MessageRow], context: MatchContext) {
        self.parsed = if self.text.trim().is_empty() || matches!(self.kind, PromptKind::SaveAs | PromptKind::SaveManyTo)
        {
            Parsed::Empty
        } else if self.kind == PromptKind::Goto {
            self.text.parse().map_or(Parsed::Empty, Parsed::Number)
        } else {
            match Query::parse(&self.text) {
                Ok(query) => Parsed::Query(Filter::new(query, context, rows)),
                Err(error) => Parsed::Error(error),
            }
        };
    }

    pub fn filter(&self) -> Option<&Filter> {
        match &self.parsed {
            Parsed::Query(filter) => Some(filter),
            _ => None,
        }
    }

    pub(crate) fn filter_mut(&mut self) -> Option<&mut Filter> {
        match &mut self.parsed {
            Parsed::Query(filter) => Some(filter),
            _ => None,
        }
    }
}
