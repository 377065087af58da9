//! A query applied to the whole list (a search, a limit, the preview of a
//! pattern mark): what it says about each row, and running counts. Judged
//! in one pass when the query is set, then row by row as headers arrive
//! (the rows an answer touched, never a rescan per answer).

use super::dups::Dup;
use super::row::{Headers, MessageRow};
use crate::mail::HeaderSummary;
use crate::query::{MatchContext, Query, Verdict};
use crate::sanitize::sanitize_text;
use crate::text::{human_size, thousands};

/// What a query says about one row, with the reason when it cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Match,
    NoMatch,
    /// Unknown until its headers (or those of a lower-numbered message,
    /// for `dup`) arrive.
    Pending,
    /// Unknown for good: no headers (TOP refused), no UID.
    Undecidable,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub matched: usize,
    pub matched_bytes: u64,
    pub pending: usize,
    pub undecidable: usize,
}

#[derive(Debug, Clone)]
pub struct Filter {
    query: Query,
    /// The canonical query, sanitized: what titles and dialogs show.
    text: String,
    context: MatchContext,
    /// One per row, in row (message-number) order.
    classes: Vec<Class>,
    counts: Counts,
}

impl Filter {
    /// Judges every row: one pass, no allocation per row.
    pub fn new(query: Query, context: MatchContext, rows: &[MessageRow]) -> Filter {
        let text = sanitize_text(&query.to_string(), false);
        let mut filter = Filter {
            query,
            text,
            context,
            classes: Vec::new(),
            counts: Counts::default(),
        };
        filter.recompute(rows);
        filter
    }

    /// Judges every row again (after UIDL answered, say).
    pub(crate) fn recompute(&mut self, rows: &[MessageRow]) {
        self.classes.clear();
        self.classes.reserve(rows.len());
        self.counts = Counts::default();
        let reads_headers = self.query.needs_headers();
        for (i, row) in rows.iter().enumerate() {
            if reads_headers {
                prefetch_ahead(rows, i);
            }
            let class = classify(&self.query, &self.context, row);
            count(&mut self.counts, class, row.size, true);
            self.classes.push(class);
        }
    }

    /// Judges row `i` again; returns whether it matched before and now.
    pub(crate) fn refresh(&mut self, rows: &[MessageRow], i: usize) -> (bool, bool) {
        let (Some(row), Some(&old)) = (rows.get(i), self.classes.get(i)) else {
            return (false, false);
        };
        let new = classify(&self.query, &self.context, row);
        if new != old {
            count(&mut self.counts, old, row.size, false);
            count(&mut self.counts, new, row.size, true);
            self.classes[i] = new;
        }
        (old == Class::Match, new == Class::Match)
    }

    pub fn class(&self, i: usize) -> Class {
        self.classes.get(i).copied().unwrap_or(Class::Pending)
    }

    pub fn matches(&self, i: usize) -> bool {
        self.class(i) == Class::Match
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The query as popscope writes it, safe to draw.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn needs_headers(&self) -> bool {
        self.query.needs_headers()
    }

    /// Row indices of the matches, in row order.
    pub(crate) fn matching_rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.classes
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == Class::Match)
            .map(|(i, _)| i)
    }

    /// "312 match (48.2 MB) · 1,200 of 5,000 not loaded yet"; `coming`
    /// says whether the missing headers are still being loaded (without
    /// TOP they never come, and are counted as what cannot be told).
    pub fn summary(&self, total: usize, coming: bool) -> String {
        let c = self.counts;
        let mut text = format!("{} match ({})", thousands(c.matched), human_size(c.matched_bytes));
        text.push_str(&unknown_note(c, Some(total), coming));
        text
    }
}

/// " · 1,200 of 5,000 not loaded yet · 3 cannot be told" (without "of
/// 5,000" when the total went before), or nothing.
pub(crate) fn unknown_note(c: Counts, total: Option<usize>, coming: bool) -> String {
    let (pending, undecidable) = if coming {
        (c.pending, c.undecidable)
    } else {
        (0, c.pending + c.undecidable)
    };
    let mut text = String::new();
    match (pending, total) {
        (0, _) => {}
        (pending, Some(total)) => {
            text.push_str(&format!(
                " · {} of {} not loaded yet",
                thousands(pending),
                thousands(total)
            ));
        }
        (pending, None) => text.push_str(&format!(" · {} not loaded yet", thousands(pending))),
    }
    if undecidable > 0 {
        text.push_str(&format!(" · {} cannot be told", thousands(undecidable)));
    }
    text
}

/// A pass over 100,000 rows is bound by memory latency, not by the query:
/// each row's summary and its text (one allocation) lie scattered over the
/// heap as the answers were parsed, and a row costs two dependent cache
/// misses (bench section 5). Asking early for the summary 16 rows ahead,
/// and for its From and Subject text 8 rows ahead (by then the summary is
/// in), lets those misses overlap instead of queueing.
#[inline]
fn prefetch_ahead(rows: &[MessageRow], i: usize) {
    if let Some(MessageRow {
        headers: Headers::Loaded(summary),
        ..
    }) = rows.get(i + 16)
    {
        prefetch(std::ptr::from_ref::<HeaderSummary>(summary).cast());
    }
    if let Some(MessageRow {
        headers: Headers::Loaded(summary),
        ..
    }) = rows.get(i + 8)
    {
        for address in summary.prefetch_addresses() {
            prefetch(address);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn prefetch(address: *const u8) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is a hint to the cache; it reads nothing and
    // never faults, whatever the address.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn prefetch(_address: *const u8) {}

fn classify(query: &Query, context: &MatchContext, row: &MessageRow) -> Class {
    match query.evaluate(row, context) {
        Verdict::Match => Class::Match,
        Verdict::NoMatch => Class::NoMatch,
        Verdict::Unknown => match (&row.headers, row.dup) {
            (Headers::Unknown | Headers::Requested, _) | (Headers::Loaded(_), Dup::Unknown) => Class::Pending,
            _ => Class::Undecidable,
        },
    }
}

fn count(counts: &mut Counts, class: Class, size: u64, add: bool) {
    let n = match class {
        Class::Match => {
            counts.matched_bytes = if add {
                counts.matched_bytes.saturating_add(size)
            } else {
                counts.matched_bytes.saturating_sub(size)
            };
            &mut counts.matched
        }
        Class::NoMatch => return,
        Class::Pending => &mut counts.pending,
        Class::Undecidable => &mut counts.undecidable,
    };
    *n = if add { *n + 1 } else { n.saturating_sub(1) };
}
