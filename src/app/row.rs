//! One message of the list, what the query language reads from it, and the
//! flags the list shows for it.

use super::dups::Dup;
use crate::mail::HeaderSummary;
use crate::query::{HeaderFacts, MessageFacts};

/// One message in the list, kept small: 100,000 of these must fit easily.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub number: u32,
    pub size: u64,
    pub uid: Option<Box<str>>,
    pub headers: Headers,
    pub marked: bool,
    pub dup: Dup,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Headers {
    Unknown,
    Requested,
    Loaded(Box<HeaderSummary>),
    Unavailable(Box<str>),
}

impl Headers {
    /// In for good: loaded, or refused by the server.
    pub fn settled(&self) -> bool {
        matches!(self, Headers::Loaded(_) | Headers::Unavailable(_))
    }
}

impl MessageRow {
    pub fn new(number: u32, size: u64) -> MessageRow {
        MessageRow {
            number,
            size,
            uid: None,
            headers: Headers::Unknown,
            marked: false,
            dup: Dup::Unknown,
        }
    }

    pub fn summary(&self) -> Option<&HeaderSummary> {
        match &self.headers {
            Headers::Loaded(h) => Some(h),
            _ => None,
        }
    }

    /// The flags column's letters for this row.
    pub fn flags(&self, big_threshold: u64) -> [char; 3] {
        let on = |flag: Flag, set: bool| if set { flag.letter } else { ' ' };
        [
            on(FLAGS[0], self.dup == Dup::Yes),
            on(FLAGS[1], self.summary().is_some_and(HeaderFacts::is_broken)),
            on(FLAGS[2], self.size > big_threshold),
        ]
    }
}

impl MessageFacts for MessageRow {
    type Headers = HeaderSummary;

    fn number(&self) -> u32 {
        self.number
    }

    fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn headers(&self) -> Option<&HeaderSummary> {
        self.summary()
    }

    fn is_dup(&self) -> Option<bool> {
        match self.dup {
            Dup::Unknown => None,
            Dup::No => Some(false),
            Dup::Yes => Some(true),
        }
    }
}

/// One letter of the flags column, and what it means (the help's legend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    pub letter: char,
    /// The query-language flag that finds such messages.
    pub query: &'static str,
    pub meaning: &'static str,
}

/// The flags column, in column order.
pub(crate) const FLAGS: [Flag; 3] = [
    Flag {
        letter: 'd',
        query: "dup",
        meaning: "a lower-numbered message has the same Message-ID",
    },
    Flag {
        letter: 'x',
        query: "broken",
        meaning: "the header reader found the headers faulty",
    },
    Flag {
        letter: 'B',
        query: "big",
        meaning: "larger than the big threshold",
    },
];
