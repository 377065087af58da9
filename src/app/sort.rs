//! The orders the list can be shown in. Every key ends in the message
//! number, so an order is total and a sort is repeatable.

use super::row::MessageRow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

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
    /// as an empty text or the earliest date. `sort_rows` orders the same
    /// way, faster; this says what it must do.
    #[cfg(test)]
    fn compare(self, a: &MessageRow, b: &MessageRow) -> Ordering {
        let primary = match self {
            SortKey::Number => Ordering::Equal,
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Date => timestamp(a).cmp(&timestamp(b)),
            SortKey::Sender => fold_cmp(text(a, |h| h.from()), text(b, |h| h.from())),
            SortKey::Subject => fold_cmp(text(a, |h| h.subject()), text(b, |h| h.subject())),
        };
        primary.then(a.number.cmp(&b.number))
    }
}

/// Sorts `rows` (indices into `all`) by `key`, then by number. Each row's
/// key is read once into one vector of 16-byte entries, so the 1.7 million
/// comparisons of 100,000 rows compare numbers and touch no row. A text key
/// becomes the rank of the text among the distinct texts (one sender's many
/// messages share one), found with a hash map and one sort of the distinct
/// texts.
pub(crate) fn sort_rows(rows: &mut [usize], all: &[MessageRow], key: SortKey) {
    struct Entry {
        key: u64,
        number: u32,
        row: u32,
    }
    let text_ranks = match key {
        SortKey::Sender | SortKey::Subject => Some(text_ranks(rows.iter().map(|&row| field(&all[row], key)))),
        _ => None,
    };
    let mut entries: Vec<Entry> = rows
        .iter()
        .enumerate()
        .map(|(k, &row)| {
            let r = &all[row];
            let key = match (&text_ranks, key) {
                (Some(ranks), _) => u64::from(ranks[k]),
                (None, SortKey::Size) => r.size,
                // Flipping the sign bit orders i64 as u64.
                (None, SortKey::Date) => (timestamp(r) as u64) ^ (1 << 63),
                (None, _) => 0,
            };
            Entry {
                key,
                number: r.number,
                row: row as u32,
            }
        })
        .collect();
    entries.sort_unstable_by(|a, b| a.key.cmp(&b.key).then(a.number.cmp(&b.number)));
    for (slot, entry) in rows.iter_mut().zip(entries) {
        *slot = entry.row as usize;
    }
}

fn field(row: &MessageRow, key: SortKey) -> &str {
    match key {
        SortKey::Sender => text(row, |h| h.from()),
        _ => text(row, |h| h.subject()),
    }
}

/// For each text, its rank among the distinct texts (ignoring ASCII case).
fn text_ranks<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<u32> {
    let mut ids: HashMap<Folded<'a>, u32> = HashMap::new();
    let mut distinct: Vec<&'a str> = Vec::new();
    let of_each: Vec<u32> = texts
        .map(|text| {
            *ids.entry(Folded(text)).or_insert_with(|| {
                distinct.push(text);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    let mut by_text: Vec<u32> = (0..distinct.len() as u32).collect();
    by_text.sort_unstable_by(|&a, &b| fold_cmp(distinct[a as usize], distinct[b as usize]));
    let mut rank = vec![0u32; distinct.len()];
    for (position, &id) in by_text.iter().enumerate() {
        rank[id as usize] = position as u32;
    }
    of_each.into_iter().map(|id| rank[id as usize]).collect()
}

/// A text that hashes and compares ignoring ASCII case.
struct Folded<'a>(&'a str);

impl Hash for Folded<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for chunk in self.0.as_bytes().chunks(8) {
            let mut word = [0u8; 8];
            for (slot, b) in word.iter_mut().zip(chunk) {
                *slot = b.to_ascii_lowercase();
            }
            state.write_u64(u64::from_le_bytes(word));
        }
        state.write_usize(self.0.len());
    }
}

impl PartialEq for Folded<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for Folded<'_> {}

fn timestamp(row: &MessageRow) -> i64 {
    row.summary().and_then(|h| h.timestamp).unwrap_or(i64::MIN)
}

fn text(row: &MessageRow, field: impl Fn(&crate::mail::HeaderSummary) -> &str) -> &str {
    row.summary().map_or("", field)
}

/// Compares ignoring ASCII case, without allocating; equal bytes (the
/// common case) are passed without folding.
fn fold_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).position(|(x, y)| !x.eq_ignore_ascii_case(y)) {
        Some(at) => a[at].to_ascii_lowercase().cmp(&b[at].to_ascii_lowercase()),
        None => a.len().cmp(&b.len()),
    }
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

    /// The fast sort orders exactly as `compare` does.
    #[test]
    fn sorting_by_keys_agrees_with_compare() {
        use crate::app::row::Headers;
        use crate::mail::HeaderSummary;
        let texts = [
            "bob",
            "Alice",
            "alice",
            "",
            "Bob builder",
            "bobby",
            "\u{e9}t\u{e9}",
            "Z",
            "alice2",
        ];
        let all: Vec<MessageRow> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut row = MessageRow::new(i as u32 + 1, (i as u64 * 7919) % 13);
                let date = if i % 3 == 0 {
                    ""
                } else {
                    "Date: Tue, 1 Jul 2025 10:52:37 +0200\r\n"
                };
                let block = format!("From: {t}\r\nSubject: {t} x\r\n{date}\r\n");
                if i != 4 {
                    row.headers = Headers::Loaded(Box::new(HeaderSummary::parse(block.as_bytes())));
                }
                row
            })
            .collect();
        for key in [
            SortKey::Number,
            SortKey::Date,
            SortKey::Size,
            SortKey::Sender,
            SortKey::Subject,
        ] {
            let mut fast: Vec<usize> = (0..all.len()).rev().collect();
            sort_rows(&mut fast, &all, key);
            let mut slow: Vec<usize> = (0..all.len()).collect();
            slow.sort_by(|&a, &b| key.compare(&all[a], &all[b]));
            assert_eq!(fast, slow, "{key:?}");
        }
    }

    #[test]
    fn text_compares_without_case() {
        assert_eq!(fold_cmp("alice", "Bob"), Ordering::Less);
        assert_eq!(fold_cmp("ALICE", "alice"), Ordering::Equal);
        assert_eq!(fold_cmp("", "a"), Ordering::Less);
    }
}
