//! The prompt's keys, and what an accepted prompt does: search (as you
//! type, then `n`/`N`), limit the list, mark what matches, go to a
//! message number. Also the count typed before a key.

use super::keymap::Action;
use super::prompt::{Parsed, Prompt, PromptKind};
use super::{App, Effect};
use crate::text::{human_size, thousands};

/// Largest count: beyond any message number.
const MAX_COUNT: u32 = 999_999_999;

impl App {
    /// A digit typed in the list: part of a count (`5d`, `20j`, `120 Enter`).
    pub(super) fn count_digit(&mut self, digit: char) -> Vec<Effect> {
        let Some(d) = digit.to_digit(10) else { return vec![] };
        let count = match self.count {
            None if d == 0 => return vec![],
            None => d,
            Some(n) => n.saturating_mul(10).saturating_add(d).min(MAX_COUNT),
        };
        self.count = Some(count);
        self.activity = format!("{count}: a move or d/u repeats {count} times; Enter goes to message {count}");
        vec![]
    }

    pub(super) fn open_prompt(&mut self, kind: PromptKind) -> Vec<Effect> {
        self.prompt = Some(Prompt::new(kind, self.list.selected));
        self.activity = match kind {
            PromptKind::Goto => "type a message number".into(),
            _ => "type a query, e.g. subject:\"disk full\" or from:example.org size>1M".into(),
        };
        vec![]
    }

    pub(super) fn prompt_typed(&mut self, c: char) -> Vec<Effect> {
        let typed = self.prompt.as_mut().is_some_and(|prompt| prompt.push(c));
        if typed { self.prompt_changed() } else { vec![] }
    }

    pub(super) fn prompt_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else {
            return vec![];
        };
        match action {
            Action::PromptAccept => self.accept_prompt(),
            Action::Back => self.cancel_prompt(),
            Action::PromptDelete if prompt.delete() => self.prompt_changed(),
            Action::PromptClear if prompt.clear() => self.prompt_changed(),
            _ => vec![],
        }
    }

    /// The text changed: judge it against every row (one pass); a search
    /// moves to its first match as it is typed.
    fn prompt_changed(&mut self) -> Vec<Effect> {
        let context = self.match_context();
        let Some(prompt) = self.prompt.as_mut() else {
            return vec![];
        };
        prompt.reparse(&self.list.rows, context);
        if prompt.kind == PromptKind::Search {
            let origin = prompt.origin;
            let first = prompt.filter().and_then(|search| {
                let order = &self.list.order;
                let n = order.len();
                (0..n).map(|k| (origin + k) % n).find(|&pos| search.matches(order[pos]))
            });
            self.list.selected = first.unwrap_or(origin);
            self.list.keep_selection_visible(self.list_rows_visible());
        }
        self.header_loader.prioritise();
        self.pump_headers()
    }

    fn accept_prompt(&mut self) -> Vec<Effect> {
        let Some(prompt) = self.prompt.take() else {
            return vec![];
        };
        if let Parsed::Error(error) = &prompt.parsed {
            self.activity = format!("the query is not finished: {error}");
            self.prompt = Some(prompt);
            return vec![];
        }
        let kind = prompt.kind;
        match kind {
            PromptKind::SaveAs => return self.accept_save(prompt),
            PromptKind::SaveManyTo => return self.accept_save_many(prompt),
            _ => {}
        }
        match (kind, prompt.parsed) {
            (PromptKind::Search, Parsed::Query(search)) => {
                self.activity = format!(
                    "search: {} · {}",
                    search.text(),
                    search.summary(self.list.rows.len(), self.headers_coming())
                );
                self.search = Some(search);
            }
            (PromptKind::Search, _) => {
                self.search = None;
                self.list.selected = prompt.origin;
            }
            (PromptKind::Limit, Parsed::Query(limit)) => {
                self.activity = format!(
                    "limited to {}: {} of {}",
                    limit.text(),
                    thousands(limit.counts().matched),
                    thousands(self.list.rows.len())
                );
                self.list.set_limit(Some(limit));
                self.header_loader.restart_sweep();
            }
            (PromptKind::Limit, _) => self.remove_limit(),
            (PromptKind::Mark, Parsed::Query(filter)) => self.mark_matching(&filter),
            (PromptKind::Goto, Parsed::Number(number)) => self.go_to(number),
            _ => self.activity = "nothing done".into(),
        }
        self.header_loader.prioritise();
        self.list.keep_selection_visible(self.list_rows_visible());
        self.pump_headers()
    }

    fn cancel_prompt(&mut self) -> Vec<Effect> {
        let Some(prompt) = self.prompt.take() else {
            return vec![];
        };
        match prompt.kind {
            PromptKind::Search => {
                self.list.selected = prompt.origin;
                self.activity = "search cancelled".into();
            }
            // Esc in the limit prompt is how the limit is taken away.
            PromptKind::Limit => self.remove_limit(),
            PromptKind::Mark | PromptKind::Goto => self.activity = "cancelled".into(),
            PromptKind::SaveAs | PromptKind::SaveManyTo => self.activity = "not saved".into(),
        }
        self.header_loader.prioritise();
        self.list.keep_selection_visible(self.list_rows_visible());
        self.pump_headers()
    }

    fn remove_limit(&mut self) {
        if self.list.limit().is_some() {
            self.list.set_limit(None);
            self.header_loader.restart_sweep();
            self.activity = format!("limit removed: all {} messages", thousands(self.list.rows.len()));
        } else {
            self.activity = "no limit".into();
        }
    }

    /// Marks every message the query matches; a message it cannot judge
    /// yet is never marked, and the line says how many those are.
    fn mark_matching(&mut self, filter: &super::filter::Filter) {
        if !self.commit.is_idle() {
            self.activity = super::commit::Commit::busy_notice();
            return;
        }
        let counts = filter.counts();
        let (newly, _) = self.list.mark_rows(filter.matching_rows(), true, Some(filter.text()));
        let already = counts.matched - newly.min(counts.matched);
        let unknown = super::filter::unknown_note(counts, Some(self.list.rows.len()), self.headers_coming());
        self.activity = format!(
            "marked {} message{} ({}) matching {}{}{}",
            thousands(counts.matched),
            if counts.matched == 1 { "" } else { "s" },
            human_size(counts.matched_bytes),
            filter.text(),
            if already > 0 {
                format!(" ({} were marked already)", thousands(already))
            } else {
                String::new()
            },
            if unknown.is_empty() {
                String::new()
            } else {
                format!("{unknown}: not marked")
            }
        );
    }

    /// `n`/`N`: the next or previous match in the shown order, wrapping.
    pub(super) fn search_step(&mut self, forward: bool, times: usize) {
        let Some(search) = self.search.as_ref() else {
            self.activity = "no search: / starts one".into();
            return;
        };
        let order = &self.list.order;
        let n = order.len();
        let mut at = self.list.selected;
        let mut wrapped = false;
        for _ in 0..times.max(1) {
            let next = (1..=n)
                .map(|k| if forward { (at + k) % n } else { (at + n - k % n) % n })
                .find(|&pos| search.matches(order[pos]));
            let Some(next) = next else {
                self.activity = format!("no match for {} in the list shown", search.text());
                return;
            };
            wrapped |= if forward { next <= at } else { next >= at };
            at = next;
        }
        self.list.selected = at;
        self.activity = match (wrapped, forward) {
            (true, true) => "search reached the bottom, continued at the top".into(),
            (true, false) => "search reached the top, continued at the bottom".into(),
            _ => format!("search: {}", search.text()),
        };
    }

    /// Selects message `number`, if it is shown.
    pub(super) fn go_to(&mut self, number: u32) {
        let Some(row) = self.list.row_index(number) else {
            let last = self.list.rows.last().map_or(0, |r| r.number);
            self.activity = format!("there is no message {number} (the last is {last})");
            return;
        };
        match self.list.position_of(row) {
            Some(pos) => {
                self.list.selected = pos;
                self.activity = format!("message {number}");
            }
            None => {
                self.activity = format!("message {number} is outside the limit (l then Enter shows every message)");
            }
        }
    }
}
