//! The orders the list can be shown in. Every key ends in the message
//! number, so an order is total and a sort is repeatable.

use super::row::MessageRow;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Number,
    Date,
    Size,
    /// The From text as the list shows it, ignoring ASCII case.
    Sender,
    Subject,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Number => "number",
            SortKey::Date => "date",
            SortKey::Size => "size",
            SortKey::Sender => "sender",
            SortKey::Subject => "subject",
        }
    }

    /// The key `o` moves to.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Number => SortKey::Date,
            SortKey::Date => SortKey::Size,
            SortKey::Size => SortKey::Sender,
            SortKey::Sender => SortKey::Subject,
            SortKey::Subject => SortKey::Number,
        }
    }

    /// Ascending by this key, then by number. Rows without headers sort
    /// as an empty text or the earliest date.
    pub fn compare(self, a: &MessageRow, b: &MessageRow) -> Ordering {
        let primary = match self {
            SortKey::Number => Ordering::Equal,
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Date => timestamp(a).cmp(&timestamp(b)),
            SortKey::Sender => fold_cmp(text(a, |h| &h.from), text(b, |h| &h.from)),
            SortKey::Subject => fold_cmp(text(a, |h| &h.subject), text(b, |h| &h.subject)),
        };
        primary.then(a.number.cmp(&b.number))
    }
}

fn timestamp(row: &MessageRow) -> i64 {
    row.summary().and_then(|h| h.timestamp).unwrap_or(i64::MIN)
}

fn text(row: &MessageRow, field: impl Fn(&crate::mail::HeaderSummary) -> &String) -> &str {
    row.summary().map_or("", |h| field(h).as_str())
}

/// Compares ignoring ASCII case, without allocating.
fn fold_cmp(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_cycle_through_every_order() {
        let mut key = SortKey::Number;
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(key.label());
            key = key.next();
        }
        assert_eq!(key, SortKey::Number);
        assert_eq!(seen, ["number", "date", "size", "sender", "subject"]);
    }

    #[test]
    fn text_compares_without_case() {
        assert_eq!(fold_cmp("alice", "Bob"), Ordering::Less);
        assert_eq!(fold_cmp("ALICE", "alice"), Ordering::Equal);
        assert_eq!(fold_cmp("", "a"), Ordering::Less);
    }
}
