//! The message list: the rows LIST gave, the order they are shown in (a
//! sort, less what a limit leaves out), the selection, a visual range and
//! the marks. Marks are staged here only; nothing reaches the server
//! before the commit dialog (see `commit`).
//!
//! Keeping up with 100,000 rows: a limit is judged once when it is set
//! (one pass) and then only for the rows a header answer touched; a row
//! that starts to match is put in its place by its rank in the sort
//! (a binary search), never by re-filtering the list.

use super::dups::{Dup, DupIndex, Found};
use super::filter::Filter;
use super::keymap::Action;
use super::sort::{SortKey, sort_rows};
use crate::mailbox::UidList;
use std::ops::{Range, RangeInclusive};

pub use super::row::{Headers, MessageRow};

/// The rows one header answer changed, for what depends on them (filters,
/// sender counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    pub row: usize,
    /// Its headers arrived with this answer (they were not in before).
    pub loaded: bool,
    /// A row that this one's lower number made a dup.
    pub displaced: Option<usize>,
    /// Rows whose dup status became known: every lower row is in now.
    pub settled: Range<usize>,
}

impl Touched {
    /// Every touched row (one may come twice).
    pub fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.row)
            .chain(self.displaced)
            .chain(self.settled.clone())
    }
}

/// How the current marks were made, for the commit dialog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkOrigin {
    /// Some were marked one by one (d, a visual range).
    pub by_hand: bool,
    /// What selected the others (queries as popscope writes them, sender
    /// groups), without repeats.
    pub queries: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MessageList {
    /// In LIST order, which is by number.
    pub rows: Vec<MessageRow>,
    /// Display order: indices into `rows`, sorted, less what the limit
    /// leaves out.
    pub order: Vec<usize>,
    /// Every row, sorted.
    sorted: Vec<usize>,
    /// `rank[row]`: the row's position in `sorted`.
    rank: Vec<u32>,
    pub sort: SortKey,
    pub sort_descending: bool,
    /// Position of the selection in `order`.
    pub selected: usize,
    /// First visible position in `order`.
    pub offset: usize,
    /// Where a visual selection started (a position in `order`).
    pub visual: Option<usize>,
    /// LIST has been answered.
    pub listed: bool,
    /// UIDL answered before LIST: applied when the rows exist.
    pending_uids: Option<UidList>,
    /// Marked messages and their total size, kept up to date rather than
    /// counted, because the status bar asks on every frame. Sizes are the
    /// server's numbers: summed exactly in u128 (10 million u64 sizes fit),
    /// shown saturated at u64::MAX.
    marked: (usize, u128),
    mark_origin: MarkOrigin,
    total_bytes: u128,
    limit: Option<Filter>,
    dups: DupIndex,
    /// Every row below this index has its headers in for good.
    settled: usize,
}

impl Default for MessageList {
    fn default() -> MessageList {
        MessageList {
            rows: Vec::new(),
            order: Vec::new(),
            sorted: Vec::new(),
            rank: Vec::new(),
            sort: SortKey::Number,
            sort_descending: false,
            selected: 0,
            offset: 0,
            visual: None,
            listed: false,
            pending_uids: None,
            marked: (0, 0),
            mark_origin: MarkOrigin::default(),
            total_bytes: 0,
            limit: None,
            dups: DupIndex::default(),
            settled: 0,
        }
    }
}

impl MessageList {
    /// The rows of a LIST answer (number, size).
    pub fn fill(&mut self, entries: Vec<(u32, u64)>) {
        self.rows = entries
            .into_iter()
            .map(|(number, size)| MessageRow::new(number, size))
            .collect();
        self.rows.sort_by_key(|r| r.number);
        self.total_bytes = self.rows.iter().map(|r| u128::from(r.size)).sum();
        self.marked = (0, 0);
        self.sorted = (0..self.rows.len()).collect();
        self.rank = (0..self.rows.len() as u32).collect();
        self.order = self.sorted.clone();
        self.listed = true;
        if let Some(uids) = self.pending_uids.take() {
            self.apply_uids(uids);
        }
    }

    /// Labels the rows with their UIDs (now, or once LIST is in). True if
    /// the rows have them now (what judges `uid:` must look again).
    pub(crate) fn apply_uids(&mut self, uids: UidList) -> bool {
        if !self.listed {
            self.pending_uids = Some(uids);
            return false;
        }
        for row in &mut self.rows {
            row.uid = uids.get(row.number).map(Box::from);
        }
        if let Some(limit) = self.limit.as_mut() {
            limit.recompute(&self.rows);
            self.rebuild_order();
        }
        true
    }

    /// Files a header answer for `rows[i]`; says which rows it touched.
    pub(crate) fn set_headers(&mut self, i: usize, headers: Headers) -> Option<Touched> {
        let row = self.rows.get_mut(i)?;
        let was_loaded = matches!(row.headers, Headers::Loaded(_));
        row.headers = headers;
        let mut displaced = None;
        if let (false, Headers::Loaded(h)) = (was_loaded, &self.rows[i].headers) {
            let found = if h.message_id().is_empty() {
                // A message without an ID is nobody's duplicate.
                Some(Dup::No)
            } else {
                let rows = &self.rows;
                match self
                    .dups
                    .record(i, h.message_id(), |j| rows[j].summary().map_or("", |h| h.message_id()))
                {
                    Found::First => None,
                    Found::Dup => Some(Dup::Yes),
                    Found::Displaced(j) => {
                        displaced = Some(j);
                        None
                    }
                }
            };
            if let Some(dup) = found {
                self.rows[i].dup = dup;
            }
            if let Some(j) = displaced {
                self.rows[j].dup = Dup::Yes;
            }
        }
        let touched = Touched {
            row: i,
            loaded: !was_loaded && matches!(self.rows[i].headers, Headers::Loaded(_)),
            displaced,
            settled: self.advance_settled(),
        };
        self.refresh_limit(&touched);
        Some(touched)
    }

    /// Moves the settled mark past the rows now in; a loaded row passed
    /// that no lower row duplicated is not a dup.
    fn advance_settled(&mut self) -> Range<usize> {
        let start = self.settled;
        while let Some(row) = self.rows.get_mut(self.settled)
            && row.headers.settled()
        {
            if row.dup == Dup::Unknown {
                row.dup = Dup::No;
            }
            self.settled += 1;
        }
        start..self.settled
    }

    pub fn marked(&self) -> (usize, u64) {
        (self.marked.0, saturated(self.marked.1))
    }

    pub(crate) fn mark_origin(&self) -> &MarkOrigin {
        &self.mark_origin
    }

    pub fn total_size(&self) -> u64 {
        saturated(self.total_bytes)
    }

    pub fn selected_row(&self) -> Option<&MessageRow> {
        self.order.get(self.selected).map(|&i| &self.rows[i])
    }

    /// Index into `rows` of the selected row.
    pub(crate) fn selected_index(&self) -> Option<usize> {
        self.order.get(self.selected).copied()
    }

    pub fn row_by_number(&self, number: u32) -> Option<&MessageRow> {
        self.row_index(number).map(|i| &self.rows[i])
    }

    pub(crate) fn row_index(&self, number: u32) -> Option<usize> {
        self.rows.binary_search_by_key(&number, |r| r.number).ok()
    }

    /// Where `rows[row]` is in the display order, if it is shown.
    pub fn position_of(&self, row: usize) -> Option<usize> {
        let rank = *self.rank.get(row)?;
        let pos = self.order.partition_point(|&r| self.rank[r] < rank);
        (self.order.get(pos) == Some(&row)).then_some(pos)
    }

    pub fn marked_rows(&self) -> impl Iterator<Item = &MessageRow> {
        self.rows.iter().filter(|r| r.marked)
    }

    /// Marks or unmarks `rows[i]` by hand; says what happened.
    pub fn set_mark(&mut self, i: usize, on: bool) -> String {
        self.mark(i, on);
        if on {
            self.mark_origin.by_hand = true;
        }
        let n = self.rows[i].number;
        if on {
            format!("message {n} marked for deletion (nothing is sent until you quit and confirm)")
        } else {
            format!("message {n} unmarked")
        }
    }

    /// Marks or unmarks `rows[i]`; true if that changed it.
    fn mark(&mut self, i: usize, on: bool) -> bool {
        let row = &mut self.rows[i];
        if row.marked == on {
            return false;
        }
        row.marked = on;
        let (n, b) = &mut self.marked;
        if on {
            *n += 1;
            *b += u128::from(row.size);
        } else {
            *n = n.saturating_sub(1);
            *b = b.saturating_sub(u128::from(row.size));
            if *n == 0 {
                self.mark_origin = MarkOrigin::default();
            }
        }
        true
    }

    /// Marks or unmarks many rows in one pass; `origin` names the query
    /// that chose them (None: by hand). Returns how many changed and their
    /// size.
    pub(crate) fn mark_rows(
        &mut self,
        rows: impl IntoIterator<Item = usize>,
        on: bool,
        origin: Option<&str>,
    ) -> (usize, u64) {
        let mut changed = (0, 0u64);
        for i in rows {
            if i < self.rows.len() && self.mark(i, on) {
                changed.0 += 1;
                changed.1 = changed.1.saturating_add(self.rows[i].size);
            }
        }
        if on && changed.0 > 0 {
            match origin {
                None => self.mark_origin.by_hand = true,
                Some(query) if !self.mark_origin.queries.iter().any(|q| q == query) => {
                    self.mark_origin.queries.push(query.to_string());
                }
                Some(_) => {}
            }
        }
        changed
    }

    /// Marks or unmarks the rows at these display positions.
    pub(crate) fn mark_positions(
        &mut self,
        positions: RangeInclusive<usize>,
        on: bool,
        origin: Option<&str>,
    ) -> (usize, u64) {
        let end = (*positions.end()).min(self.order.len().saturating_sub(1));
        let rows: Vec<usize> = self.order.get(*positions.start()..=end).unwrap_or_default().to_vec();
        self.mark_rows(rows, on, origin)
    }

    /// Marks carried over from an earlier connection, with what made
    /// them; how many rows were marked.
    pub(crate) fn restore_marks(&mut self, rows: impl IntoIterator<Item = usize>, origin: MarkOrigin) -> usize {
        let (n, _) = self.mark_rows(rows, true, None);
        if n > 0 {
            self.mark_origin = origin;
        }
        n
    }

    pub fn unmark_all(&mut self) {
        self.rows.iter_mut().for_each(|r| r.marked = false);
        self.marked = (0, 0);
        self.mark_origin = MarkOrigin::default();
    }

    /// Moves the selection for a movement key, `count` times; `page` is
    /// the rows on screen. False if `action` is not a movement.
    pub(crate) fn move_selection(&mut self, action: Action, page: usize, count: usize) -> bool {
        let last = self.order.len().saturating_sub(1);
        let count = count.max(1);
        self.selected = match action {
            Action::Down => self.selected.saturating_add(count).min(last),
            Action::Up => self.selected.saturating_sub(count),
            Action::PageDown => self.selected.saturating_add(page.saturating_mul(count)).min(last),
            Action::PageUp => self.selected.saturating_sub(page.saturating_mul(count)),
            Action::First => 0,
            Action::Last => last,
            _ => return false,
        };
        true
    }

    /// The selection moves on after a mark, so `d d d` marks a run.
    pub(crate) fn select_next(&mut self) {
        self.selected = (self.selected + 1).min(self.order.len().saturating_sub(1));
    }

    /// Sorts by the next key (number → date → size → sender → subject);
    /// says how it is sorted.
    pub(crate) fn sort_next(&mut self) -> String {
        self.sort = self.sort.next();
        self.resort()
    }

    pub(crate) fn reverse_sort(&mut self) -> String {
        self.sort_descending = !self.sort_descending;
        self.resort()
    }

    /// Sorts by `key`, descending or not, in one step (biggest first).
    pub fn sort_by(&mut self, key: SortKey, descending: bool) -> String {
        self.sort = key;
        self.sort_descending = descending;
        self.resort()
    }

    /// Re-sorts, keeping the selection on the same message.
    fn resort(&mut self) -> String {
        sort_rows(&mut self.sorted, &self.rows, self.sort);
        if self.sort_descending {
            self.sorted.reverse();
        }
        for (pos, &row) in self.sorted.iter().enumerate() {
            self.rank[row] = pos as u32;
        }
        self.rebuild_order();
        format!(
            "sorted by {}{}",
            self.sort.label(),
            if self.sort_descending { ", descending" } else { "" }
        )
    }

    pub fn limit(&self) -> Option<&Filter> {
        self.limit.as_ref()
    }

    /// Shows only the rows `limit` matches (all rows: None). The selection
    /// stays on its message, or moves to the next one shown.
    pub fn set_limit(&mut self, limit: Option<Filter>) {
        self.limit = limit;
        self.rebuild_order();
    }

    /// `order` from `sorted` and the limit, in one pass.
    fn rebuild_order(&mut self) {
        let keep = self.selected_index();
        self.order.clear();
        match &self.limit {
            None => self.order.extend_from_slice(&self.sorted),
            Some(limit) => self
                .order
                .extend(self.sorted.iter().copied().filter(|&row| limit.matches(row))),
        }
        self.visual = None;
        let at = keep.map_or(0, |row| self.order.partition_point(|&r| self.rank[r] < self.rank[row]));
        self.selected = at.min(self.order.len().saturating_sub(1));
    }

    /// Judges the touched rows against the limit; a row that starts (or
    /// stops) matching goes into (out of) the display order in its place.
    fn refresh_limit(&mut self, touched: &Touched) {
        let Some(limit) = self.limit.as_mut() else { return };
        let mut changed = Vec::new();
        for i in touched.rows() {
            let (was, is) = limit.refresh(&self.rows, i);
            if was != is {
                changed.push((i, is));
            }
        }
        for (row, shown) in changed {
            if shown {
                self.insert_shown(row);
            } else {
                self.remove_shown(row);
            }
        }
    }

    /// Puts `row` into the display order by its rank; what was on screen
    /// and selected stays so.
    fn insert_shown(&mut self, row: usize) {
        let rank = self.rank[row];
        let pos = self.order.partition_point(|&r| self.rank[r] < rank);
        if self.order.get(pos) == Some(&row) {
            return;
        }
        let had_rows = !self.order.is_empty();
        self.order.insert(pos, row);
        let shift = |at: &mut usize| {
            if pos <= *at {
                *at += 1;
            }
        };
        if had_rows {
            shift(&mut self.selected);
        }
        if pos < self.offset {
            self.offset += 1;
        }
        if let Some(anchor) = self.visual.as_mut() {
            shift(anchor);
        }
    }

    fn remove_shown(&mut self, row: usize) {
        let Some(pos) = self.position_of(row) else { return };
        self.order.remove(pos);
        let shift = |at: &mut usize| {
            if pos < *at {
                *at -= 1;
            }
        };
        shift(&mut self.selected);
        shift(&mut self.offset);
        if let Some(anchor) = self.visual.as_mut() {
            shift(anchor);
        }
        self.selected = self.selected.min(self.order.len().saturating_sub(1));
    }

    /// Starts a visual selection at the selected row.
    pub(crate) fn start_visual(&mut self) {
        if !self.order.is_empty() {
            self.visual = Some(self.selected);
        }
    }

    /// Positions of the visual selection (anchor to selection), if any.
    pub fn visual_range(&self) -> Option<RangeInclusive<usize>> {
        let anchor = self.visual?;
        Some(anchor.min(self.selected)..=anchor.max(self.selected))
    }

    /// Scrolls so that the selection is among the `height` rows shown.
    pub(crate) fn keep_selection_visible(&mut self, height: usize) {
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
        let end = (self.offset + height.max(1)).min(self.order.len());
        self.offset.min(end)..end
    }

    /// What the header loader needs: the rows, the ones on screen, and the
    /// whole sort order to sweep, from just after the screen.
    pub(crate) fn for_loading(&mut self, height: usize) -> Loading<'_> {
        let on_screen: Vec<usize> = self.order[self.visible(height)].to_vec();
        let sweep_from = on_screen.last().map_or(0, |&row| self.rank[row] as usize + 1);
        Loading {
            rows: &mut self.rows,
            on_screen,
            sweep: &self.sorted,
            sweep_from,
            limit: self.limit.as_ref(),
        }
    }
}

fn saturated(sum: u128) -> u64 {
    u64::try_from(sum).unwrap_or(u64::MAX)
}

/// The list as the header loader sees it.
pub(crate) struct Loading<'a> {
    pub rows: &'a mut [MessageRow],
    /// Row indices on screen, top to bottom.
    pub on_screen: Vec<usize>,
    /// Every row index, in sort order.
    pub sweep: &'a [usize],
    /// Where in `sweep` the screen ends.
    pub sweep_from: usize,
    pub limit: Option<&'a Filter>,
}

#[cfg(test)]
mod tests;
