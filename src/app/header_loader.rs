//! Loading every message's headers with `TOP n 0`, the rows on screen
//! first. A jump (G, a sort, a resize) must be served at once even while
//! 100,000 requests wait their turn, and the whole sweep must cost O(n).

use super::Effect;
use super::filter::{Class, Filter};
use super::list::{Headers, Loading, MessageList, MessageRow, Touched};
use super::tickets::{Purpose, Tickets};
use crate::mailbox::{TopAnswer, budget_for};
use crate::pop3::client::Priority;

#[derive(Debug, Clone, Default)]
pub struct HeaderLoader {
    in_flight: usize,
    loaded: usize,
    /// The background sweep walks the sort order from here...
    background_cursor: usize,
    /// ...and, once that reached the end, from the top.
    wrap_cursor: usize,
    /// Rows a query in view cannot judge yet go first: this walks them.
    pending_cursor: usize,
}

impl HeaderLoader {
    /// Header blocks that arrived (or were refused for good).
    pub fn loaded(&self) -> usize {
        self.loaded
    }

    /// The display order changed: sweep it again from the start (rows
    /// already asked for are skipped).
    pub(crate) fn restart_sweep(&mut self) {
        self.background_cursor = 0;
        self.wrap_cursor = 0;
    }

    /// A different query is in view: look for its undecided rows afresh.
    pub(crate) fn prioritise(&mut self) {
        self.pending_cursor = 0;
    }

    /// Keeps up to `budget_for(window)` TOP requests queued: rows on screen
    /// first, then the rows `first` (the query in view) cannot judge yet,
    /// then onwards from the screen in sort order, then the rest.
    pub(crate) fn pump(
        &mut self,
        list: Loading<'_>,
        first: Option<&Filter>,
        window: usize,
        tickets: &mut Tickets,
    ) -> Vec<Effect> {
        let budget = budget_for(window).saturating_sub(self.in_flight);
        let mut wanted = Vec::new();
        // Marking a row Requested as soon as it is picked keeps the passes
        // below from picking it twice.
        let take = |rows: &mut [MessageRow], i: usize, wanted: &mut Vec<u32>| {
            if rows[i].headers == Headers::Unknown {
                rows[i].headers = Headers::Requested;
                wanted.push(rows[i].number);
            }
        };
        let Loading {
            rows,
            on_screen,
            sweep,
            sweep_from,
            ..
        } = list;
        // Rows on screen are always asked for (a screenful at most), even
        // beyond the budget.
        for &i in &on_screen {
            take(rows, i, &mut wanted);
        }
        // Rows on screen go ahead of the background queue, so a jump (G, a
        // sort) waits at most for the window already in flight.
        let on_screen = wanted.len();
        let budget = budget.max(on_screen);
        if let Some(filter) = first.filter(|f| f.needs_headers()) {
            let mut cursor = self.pending_cursor;
            while wanted.len() < budget && cursor < rows.len() {
                if filter.class(cursor) == Class::Pending {
                    take(rows, cursor, &mut wanted);
                }
                cursor += 1;
            }
            self.pending_cursor = cursor;
        }
        // Then the rows after the screen, then from the top.
        let mut cursor = self.background_cursor.max(sweep_from);
        while wanted.len() < budget && cursor < sweep.len() {
            take(rows, sweep[cursor], &mut wanted);
            cursor += 1;
        }
        self.background_cursor = cursor;
        // The cursors only move forward (until a re-sort or a new query),
        // so sweeping 100,000 rows costs O(n) in all, not O(n) per answer.
        let mut wrap = self.wrap_cursor;
        while wanted.len() < budget && cursor >= sweep.len() && wrap < sweep.len() {
            take(rows, sweep[wrap], &mut wanted);
            wrap += 1;
        }
        self.wrap_cursor = wrap;
        self.in_flight += wanted.len();
        wanted
            .into_iter()
            .enumerate()
            .map(|(k, n)| {
                let priority = if k < on_screen {
                    Priority::Urgent
                } else {
                    Priority::Normal
                };
                tickets.submit(Purpose::Top(n), priority)
            })
            .collect()
    }

    /// Files the answer to `TOP number 0`; says which rows it touched.
    pub fn answered(&mut self, list: &mut MessageList, number: u32, answer: TopAnswer) -> Option<Touched> {
        self.in_flight = self.in_flight.saturating_sub(1);
        let i = list.row_index(number)?;
        let headers = match answer {
            TopAnswer::Headers(summary) => {
                self.loaded += 1;
                Headers::Loaded(summary)
            }
            TopAnswer::Refused(status) => {
                self.loaded += 1;
                Headers::Unavailable(status.to_string().into())
            }
            TopAnswer::NotSupported(_) | TopAnswer::Skipped | TopAnswer::Failed(_) => Headers::Unknown,
        };
        list.set_headers(i, headers)
    }
}
