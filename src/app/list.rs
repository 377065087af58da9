//! The message list: the rows LIST gave, the order they are shown in, the
//! selection and the marks. Marks are staged here only; nothing reaches
//! the server before the commit dialog (see `commit`).

use super::keymap::Action;
use crate::mail::HeaderSummary;
use crate::mailbox::UidList;
use std::ops::Range;

/// One message in the list, kept small: 100,000 of these must fit easily.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub number: u32,
    pub size: u64,
    pub uid: Option<Box<str>>,
    pub headers: Headers,
    pub marked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Headers {
    Unknown,
    Requested,
    Loaded(Box<HeaderSummary>),
    Unavailable(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Number,
    Date,
    Size,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Number => "number",
            SortKey::Date => "date",
            SortKey::Size => "size",
        }
    }

    fn next(self) -> SortKey {
        match self {
            SortKey::Number => SortKey::Date,
            SortKey::Date => SortKey::Size,
            SortKey::Size => SortKey::Number,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MessageList {
    /// In LIST order, which is by number.
    pub rows: Vec<MessageRow>,
    /// Display order: indices into `rows`.
    pub order: Vec<usize>,
    pub sort: SortKey,
    pub sort_descending: bool,
    /// Position of the selection in `order`.
    pub selected: usize,
    /// First visible position in `order`.
    pub offset: usize,
    /// LIST has been answered.
    pub listed: bool,
    /// UIDL answered before LIST: applied when the rows exist.
    pending_uids: Option<UidList>,
    /// Marked messages and their total size, kept up to date rather than
    /// counted, because the status bar asks on every frame.
    marked: (usize, u64),
    total_bytes: u64,
}

impl Default for MessageList {
    fn default() -> MessageList {
        MessageList {
            rows: Vec::new(),
            order: Vec::new(),
            sort: SortKey::Number,
            sort_descending: false,
            selected: 0,
            offset: 0,
            listed: false,
            pending_uids: None,
            marked: (0, 0),
            total_bytes: 0,
        }
    }
}

impl MessageList {
    /// The rows of a LIST answer (number, size).
    pub fn fill(&mut self, entries: Vec<(u32, u64)>) {
        self.rows = entries
            .into_iter()
            .map(|(number, size)| MessageRow {
                number,
                size,
                uid: None,
                headers: Headers::Unknown,
                marked: false,
            })
            .collect();
        self.rows.sort_by_key(|r| r.number);
        self.total_bytes = self.rows.iter().map(|r| r.size).sum();
        self.marked = (0, 0);
        self.order = (0..self.rows.len()).collect();
        self.listed = true;
        if let Some(uids) = self.pending_uids.take() {
            self.apply_uids(uids);
        }
    }

    /// Labels the rows with their UIDs (now, or once LIST is in).
    pub fn apply_uids(&mut self, uids: UidList) {
        if !self.listed {
            self.pending_uids = Some(uids);
            return;
        }
        for row in &mut self.rows {
            row.uid = uids.get(row.number).map(Box::from);
        }
    }

    pub fn marked(&self) -> (usize, u64) {
        self.marked
    }

    pub fn total_size(&self) -> u64 {
        self.total_bytes
    }

    pub fn selected_row(&self) -> Option<&MessageRow> {
        self.order.get(self.selected).map(|&i| &self.rows[i])
    }

    /// Index into `rows` of the selected row.
    pub fn selected_index(&self) -> Option<usize> {
        self.order.get(self.selected).copied()
    }

    pub fn row_by_number(&self, number: u32) -> Option<&MessageRow> {
        self.row_index(number).map(|i| &self.rows[i])
    }

    pub fn row_index(&self, number: u32) -> Option<usize> {
        self.rows.binary_search_by_key(&number, |r| r.number).ok()
    }

    pub fn marked_rows(&self) -> impl Iterator<Item = &MessageRow> {
        self.rows.iter().filter(|r| r.marked)
    }

    /// Marks or unmarks `rows[i]`; says what happened.
    pub fn set_mark(&mut self, i: usize, on: bool) -> String {
        let row = &mut self.rows[i];
        if row.marked != on {
            row.marked = on;
            let (n, b) = &mut self.marked;
            if on {
                *n += 1;
                *b += row.size;
            } else {
                *n -= 1;
                *b -= row.size;
            }
        }
        let n = row.number;
        if on {
            format!("message {n} marked for deletion (nothing is sent until you quit and confirm)")
        } else {
            format!("message {n} unmarked")
        }
    }

    pub fn unmark_all(&mut self) {
        self.rows.iter_mut().for_each(|r| r.marked = false);
        self.marked = (0, 0);
    }

    /// Moves the selection for a movement key; `page` is the rows on
    /// screen. False if `action` is not a movement.
    pub fn move_selection(&mut self, action: Action, page: usize) -> bool {
        let last = self.order.len().saturating_sub(1);
        self.selected = match action {
            Action::Down => (self.selected + 1).min(last),
            Action::Up => self.selected.saturating_sub(1),
            Action::PageDown => (self.selected + page).min(last),
            Action::PageUp => self.selected.saturating_sub(page),
            Action::First => 0,
            Action::Last => last,
            _ => return false,
        };
        true
    }

    /// The selection moves on after a mark, so `d d d` marks a run.
    pub fn select_next(&mut self) {
        self.selected = (self.selected + 1).min(self.order.len().saturating_sub(1));
    }

    /// Sorts by the next key (number → date → size); says how it is sorted.
    pub fn sort_next(&mut self) -> String {
        self.sort = self.sort.next();
        self.resort()
    }

    pub fn reverse_sort(&mut self) -> String {
        self.sort_descending = !self.sort_descending;
        self.resort()
    }

    /// Re-sorts the display order, keeping the selection on the same message.
    fn resort(&mut self) -> String {
        let selected_row = self.selected_index();
        let rows = &self.rows;
        let key = self.sort;
        self.order.sort_by(|&a, &b| {
            let (ra, rb) = (&rows[a], &rows[b]);
            let primary = match key {
                SortKey::Number => ra.number.cmp(&rb.number),
                SortKey::Size => ra.size.cmp(&rb.size),
                SortKey::Date => timestamp(ra).cmp(&timestamp(rb)),
            };
            primary.then(ra.number.cmp(&rb.number))
        });
        if self.sort_descending {
            self.order.reverse();
        }
        if let Some(row) = selected_row {
            self.selected = self.order.iter().position(|&i| i == row).unwrap_or(0);
        }
        format!(
            "sorted by {}{}",
            self.sort.label(),
            if self.sort_descending { ", descending" } else { "" }
        )
    }

    /// Scrolls so that the selection is among the `height` rows shown.
    pub fn keep_selection_visible(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.order.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }

    /// Positions in `order` of the `height` rows shown.
    pub fn visible(&self, height: usize) -> Range<usize> {
        self.offset..(self.offset + height.max(1)).min(self.order.len())
    }
}

fn timestamp(row: &MessageRow) -> i64 {
    match &row.headers {
        Headers::Loaded(h) => h.timestamp.unwrap_or(i64::MIN),
        _ => i64::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: u32) -> MessageList {
        let mut list = MessageList::default();
        list.fill((1..=n).map(|i| (i, 100 + u64::from(i))).collect());
        list
    }

    #[test]
    fn marks_are_counted_incrementally() {
        let mut list = list(10);
        list.set_mark(0, true);
        list.set_mark(1, true);
        list.set_mark(1, true);
        assert_eq!(list.marked(), (2, 101 + 102));
        list.set_mark(1, false);
        assert_eq!(list.marked(), (1, 101));
        list.unmark_all();
        assert_eq!(list.marked(), (0, 0));
    }

    #[test]
    fn sorting_keeps_the_selected_message() {
        let mut list = list(10);
        list.selected = 3;
        assert_eq!(list.sort_next(), "sorted by date");
        assert_eq!(list.sort_next(), "sorted by size");
        assert_eq!(list.reverse_sort(), "sorted by size, descending");
        assert_eq!(list.selected_row().map(|r| r.number), Some(4));
        assert_eq!(list.order[0], 9, "biggest first");
    }

    #[test]
    fn uids_that_come_before_the_list_wait_for_it() {
        let mut plan = crate::mailbox::ListingPlan::new(crate::mailbox::Offer::Listed, crate::mailbox::Offer::Listed);
        let uids = plan
            .apply_uidl(crate::pop3::client::Outcome::Ok(crate::pop3::client::Reply {
                status: crate::pop3::codec::parse_status_line(b"+OK").unwrap(),
                body: Some(crate::pop3::client::Body::Collected {
                    bytes: b"2 two\r\n".to_vec(),
                    truncated: false,
                    lines: 1,
                    total_bytes: 7,
                }),
            }))
            .unwrap();
        let mut list = MessageList::default();
        list.apply_uids(uids);
        list.fill(vec![(1, 10), (2, 20)]);
        assert_eq!(list.rows[0].uid, None);
        assert_eq!(list.rows[1].uid.as_deref(), Some("two"));
    }

    #[test]
    fn the_selection_stays_on_screen() {
        let mut list = list(100);
        list.move_selection(Action::Last, 10);
        list.keep_selection_visible(10);
        assert_eq!((list.selected, list.offset), (99, 90));
        assert_eq!(list.visible(10), 90..100);
        list.move_selection(Action::PageUp, 10);
        list.move_selection(Action::PageUp, 10);
        list.keep_selection_visible(10);
        assert_eq!((list.selected, list.offset), (79, 79));
    }
}
