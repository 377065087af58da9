//! Marking many messages at once: a count (`5d`), a visual range, the
//! whole limited list (`M`), and the senders view, whose groups can be
//! marked or become the limit. Each is one pass over the rows concerned.

use super::commit::Commit;
use super::filter::{Filter, unknown_note};
use super::keymap::Action;
use super::senders::{GroupOrder, Grouping, SendersView, group_label, group_query, in_group};
use super::{App, Effect, layout};
use crate::query::Query;
use crate::text::{human_size, thousands};

/// "12 messages (3.4 MB)".
fn messages(count: usize, bytes: u64) -> String {
    format!(
        "{} message{} ({})",
        thousands(count),
        if count == 1 { "" } else { "s" },
        human_size(bytes)
    )
}

impl App {
    /// `d`/`u`, perhaps with a count: without one, `d` marks the selected
    /// message and moves on, `u` unmarks it; `5d` marks five from here.
    pub(super) fn mark_run(&mut self, on: bool, count: Option<u32>) {
        let Some(n) = count else {
            self.set_mark(on);
            return;
        };
        let from = self.list.selected;
        let to = from.saturating_add(n as usize - 1);
        let (changed, bytes) = self.list.mark_positions(from..=to, on, None);
        self.list.selected = to.saturating_add(1).min(self.list.order.len().saturating_sub(1));
        self.activity = format!(
            "{} {}",
            if on { "marked" } else { "unmarked" },
            messages(changed, bytes)
        );
    }

    pub(super) fn start_visual(&mut self) {
        self.list.start_visual();
        self.say_visual();
    }

    fn say_visual(&mut self) {
        let Some(range) = self.list.visual_range() else { return };
        let bytes: u64 = self.list.order[range.clone()]
            .iter()
            .map(|&i| self.list.rows[i].size)
            .sum();
        self.activity = format!("visual selection: {}", messages(range.count(), bytes));
    }

    /// A key during a visual selection.
    pub(super) fn visual_action(&mut self, action: Action, count: Option<u32>) -> Vec<Effect> {
        let page = self.list_rows_visible().max(1);
        match action {
            Action::MarkRange | Action::UnmarkRange if !self.commit.is_idle() => {
                self.activity = Commit::busy_notice();
            }
            Action::MarkRange | Action::UnmarkRange => {
                let Some(range) = self.list.visual_range() else {
                    return vec![];
                };
                self.list.visual = None;
                let on = action == Action::MarkRange;
                let (changed, bytes) = self.list.mark_positions(range, on, None);
                self.activity = format!(
                    "{} {}",
                    if on { "marked" } else { "unmarked" },
                    messages(changed, bytes)
                );
            }
            Action::Back => {
                self.list.visual = None;
                self.activity = "visual selection ended; nothing marked".into();
            }
            _ if self.list.move_selection(action, page, count.unwrap_or(1) as usize) => self.say_visual(),
            _ => return vec![],
        }
        self.list.keep_selection_visible(page);
        self.pump_headers()
    }

    /// `M`: every message the limit shows.
    pub(super) fn mark_shown(&mut self) {
        let Some(query) = self.list.limit().map(|l| l.text().to_string()) else {
            self.activity = "M marks the messages of a limited list: limit it first (l)".into();
            return;
        };
        let shown = self.list.order.clone();
        let bytes: u64 = shown.iter().map(|&i| self.list.rows[i].size).sum();
        let (newly, _) = self.list.mark_rows(shown.iter().copied(), true, Some(&query));
        self.activity = format!(
            "marked {} of the limit {query}{}",
            messages(shown.len(), bytes),
            if newly < shown.len() {
                format!(" ({} were marked already)", thousands(shown.len() - newly))
            } else {
                String::new()
            }
        );
    }

    pub(super) fn open_senders(&mut self) -> Vec<Effect> {
        self.sender_index.build(&self.list.rows);
        self.senders = Some(SendersView::default());
        self.activity = "senders: Enter limits the list to one, D marks all its messages".into();
        self.pump_headers()
    }

    /// Senders the view has room for.
    pub(crate) fn senders_rows_visible(&self) -> usize {
        layout::senders_rows(&self.regions(), self.shown())
    }

    /// Groups in the senders view as it groups now.
    pub(crate) fn senders_len(&self) -> usize {
        self.senders.as_ref().map_or(0, |v| self.sender_index.len(v.grouping))
    }

    /// The selected group: its key.
    pub fn selected_group(&self) -> Option<String> {
        let view = self.senders.as_ref()?;
        let ranked = self.sender_index.ranked(view.grouping, view.order, view.selected + 1);
        ranked.last().map(|(key, _)| key.to_string())
    }

    pub(super) fn senders_action(&mut self, action: Action, count: Option<u32>) -> Vec<Effect> {
        let page = self.senders_rows_visible().max(1);
        let Some(view) = self.senders.as_mut() else {
            return vec![];
        };
        let len = self.sender_index.len(view.grouping);
        match action {
            Action::Back => {
                self.senders = None;
                self.list.keep_selection_visible(self.list_rows_visible());
                return self.pump_headers();
            }
            Action::SortGroups => {
                let order = match view.order {
                    GroupOrder::Count => GroupOrder::Size,
                    GroupOrder::Size => GroupOrder::Count,
                };
                view.regroup(view.grouping, order);
            }
            Action::ToggleGrouping => {
                let grouping = match view.grouping {
                    Grouping::Address => Grouping::Domain,
                    Grouping::Domain => Grouping::Address,
                };
                view.regroup(grouping, view.order);
            }
            Action::LimitToGroup => return self.limit_to_group(),
            Action::MarkGroup => self.mark_group(),
            _ if action.is_movement() => {
                view.move_selection(action, page, count.unwrap_or(1) as usize, len);
            }
            _ => {}
        }
        vec![]
    }

    /// Enter in the senders view: the list, limited by the group's query.
    fn limit_to_group(&mut self) -> Vec<Effect> {
        let (Some(key), Some(view)) = (self.selected_group(), self.senders.as_ref()) else {
            return vec![];
        };
        let text = group_query(view.grouping, &key);
        let Ok(query) = Query::parse(&text) else {
            self.activity = format!("no query finds {}", group_label(view.grouping, &key));
            return vec![];
        };
        let limit = Filter::new(query, self.match_context(), &self.list.rows);
        self.activity = format!(
            "limited to {}: {} of {}",
            limit.text(),
            thousands(limit.counts().matched),
            thousands(self.list.rows.len())
        );
        self.list.set_limit(Some(limit));
        self.senders = None;
        self.header_loader.prioritise();
        self.header_loader.restart_sweep();
        self.list.keep_selection_visible(self.list_rows_visible());
        self.pump_headers()
    }

    /// D in the senders view: every message of the group whose headers
    /// are in (the others cannot be told to belong to it yet).
    fn mark_group(&mut self) {
        if !self.commit.is_idle() {
            self.activity = Commit::busy_notice();
            return;
        }
        let (Some(key), Some(view)) = (self.selected_group(), self.senders.as_ref()) else {
            return;
        };
        let grouping = view.grouping;
        let members: Vec<usize> = (0..self.list.rows.len())
            .filter(|&i| in_group(&self.list.rows[i], grouping, &key))
            .collect();
        let bytes: u64 = members.iter().map(|&i| self.list.rows[i].size).sum();
        let count = members.len();
        let origin = match grouping {
            Grouping::Address => format!("sender {}", group_label(grouping, &key)),
            Grouping::Domain => format!("domain {}", group_label(grouping, &key)),
        };
        self.list.mark_rows(members, true, Some(&origin));
        let unknown = super::filter::Counts {
            pending: self.list.rows.len().saturating_sub(self.sender_index.counted().count),
            ..Default::default()
        };
        self.activity = format!(
            "marked {} from {}{}",
            messages(count, bytes),
            group_label(grouping, &key),
            match unknown_note(unknown, Some(self.list.rows.len()), self.headers_coming()) {
                note if note.is_empty() => String::new(),
                note => format!("{note}: not looked at"),
            }
        );
    }
}
