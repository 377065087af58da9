//! The protocol trace pane: the session's trace store (the whole
//! conversation, bulk runs as groups), a selected row that Enter expands,
//! a filter, a search, and following the newest line until the person
//! moves.

use super::keymap::Action;
use super::trace_view::{self, Expansion, Filter, Open, Row, RowKey, RowKind, line_key};
use crate::session::trace::SharedTrace;
use crate::session::trace::TraceEntry;
use crate::session::trace::store::{Block, TraceStore};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::cell::RefCell;
use std::path::Path;
use std::time::SystemTime;

/// The rows last built, and from what.
#[derive(Debug, Default)]
struct View {
    built_from: Option<(u64, u64)>,
    rows: Vec<Row>,
}

/// The search typed after `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Keys go to the query (until Enter or Esc).
    pub editing: bool,
    pub query: String,
}

#[derive(Debug, Default)]
pub struct TracePane {
    pub store: SharedTrace,
    pub visible: bool,
    /// Keys go to the pane (only while it is visible).
    pub focus: bool,
    /// None: follow the newest row.
    selected: Option<RowKey>,
    /// The first row shown, while not following.
    top: Option<RowKey>,
    /// Groups and lines expanded.
    open: Open,
    pub filter: Filter,
    pub search: Search,
    /// Changes with `open` and `filter`.
    shape: u64,
    view: RefCell<View>,
}

/// What a key in the pane asks of the app.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PaneUpdate {
    pub say: Option<String>,
    pub save: bool,
}

impl TracePane {
    /// Adds a line (what the session does through the store).
    pub fn push(&self, entry: TraceEntry) {
        self.store.lock().push(entry);
    }

    pub fn focused(&self) -> bool {
        self.focus && self.visible
    }

    pub fn following(&self) -> bool {
        self.selected.is_none()
    }

    pub(crate) fn toggle(&mut self) {
        self.visible = !self.visible;
        if !self.visible {
            self.focus = false;
        }
    }

    pub(crate) fn toggle_focus(&mut self) {
        self.focus = self.visible && !self.focus;
    }

    /// Calls `f` with the store and the current rows (rebuilt if the store
    /// or the pane's shape changed since).
    pub(crate) fn with_rows<R>(&self, f: impl FnOnce(&TraceStore, &[Row]) -> R) -> R {
        let store = self.store.lock();
        let mut view = self.view.borrow_mut();
        let now = (store.generation(), self.shape);
        if view.built_from != Some(now) {
            view.rows = trace_view::build(&store, self.filter, &self.open);
            view.built_from = Some(now);
        }
        f(&store, &view.rows)
    }

    /// The first row shown and the selected row, in a pane of `height`.
    pub fn window(&self, rows: &[Row], height: usize) -> (usize, usize) {
        trace_view::window(rows, self.selected, self.top, height)
    }

    /// A key while the pane has the focus; `page` is its rows on screen.
    pub fn act(&mut self, action: Action, page: usize) -> PaneUpdate {
        let page = page.max(1);
        match action {
            Action::Back => {
                self.focus = false;
                PaneUpdate::default()
            }
            Action::Open => self.toggle_selected(page),
            Action::TraceFilter => {
                self.filter = self.filter.next();
                self.shape += 1;
                say(format!("trace: {}", self.filter.label()))
            }
            Action::TraceSearch => {
                self.search = Search {
                    editing: true,
                    query: String::new(),
                };
                PaneUpdate::default()
            }
            Action::TraceSearchNext => self.find(true, page),
            Action::TraceSearchPrevious => self.find(false, page),
            Action::TraceSave => PaneUpdate {
                save: true,
                ..PaneUpdate::default()
            },
            _ => {
                self.move_selection(action, page);
                PaneUpdate::default()
            }
        }
    }

    /// A key while the search is being typed: Enter searches, Esc gives
    /// up.
    pub(crate) fn type_search(&mut self, key: SearchKey, page: usize) -> PaneUpdate {
        match key {
            SearchKey::Char(c) => self.search.query.push(c),
            SearchKey::Backspace => {
                self.search.query.pop();
            }
            SearchKey::Cancel => {
                self.search = Search::default();
            }
            SearchKey::Done => {
                self.search.editing = false;
                if !self.search.query.is_empty() {
                    return self.find(true, page);
                }
            }
        }
        PaneUpdate::default()
    }

    fn move_selection(&mut self, action: Action, page: usize) {
        let (first, sel, len, keys) = self.with_rows(|_, rows| {
            let (first, sel) = trace_view::window(rows, self.selected, self.top, page);
            let keys = |i: usize| rows.get(i).map(|r| r.key);
            let target = match action {
                Action::Down => sel + 1,
                Action::Up => sel.saturating_sub(1),
                Action::PageDown => sel + page,
                Action::PageUp => sel.saturating_sub(page),
                Action::First => 0,
                Action::Last => usize::MAX,
                _ => sel,
            };
            let target = target.min(rows.len().saturating_sub(1));
            (first, target, rows.len(), (keys(target), keys(first)))
        });
        let at_end = sel + 1 >= len;
        if action == Action::Last || (at_end && matches!(action, Action::Down | Action::PageDown)) {
            self.selected = None;
            self.top = None;
            return;
        }
        self.selected = keys.0;
        self.top = keys.1;
        // Keep the new selection on screen, moving the view as little as
        // possible.
        let (first_now, _) = self.with_rows(|_, rows| trace_view::window(rows, self.selected, self.top, page));
        if first_now != first {
            self.top = self.with_rows(|_, rows| rows.get(first_now).map(|r| r.key));
        }
    }

    /// Enter: opens or closes the selected group or line.
    fn toggle_selected(&mut self, page: usize) -> PaneUpdate {
        let target = self.with_rows(|_, rows| {
            let (first, sel) = trace_view::window(rows, self.selected, self.top, page);
            // What opens below a row in the lower half would be off screen:
            // the view then starts at the row.
            let top = if sel - first > page / 2 { sel } else { first };
            rows.get(sel)
                .map(|row| (row.key, trace_view::expansion_of(row), rows[top].key))
        });
        let Some((key, expansion, top)) = target else {
            return PaneUpdate::default();
        };
        let Some(expansion) = expansion else {
            return say("folded lines are not kept, only counted: their figures are on the line".into());
        };
        self.open.toggle(expansion);
        self.shape += 1;
        // The row keeps the selection (a detail row gives it to its line).
        let selected = match expansion {
            Expansion::Line(seq) if key > line_key(key.0, seq) => line_key(key.0, seq),
            _ => key,
        };
        self.selected = Some(selected);
        self.top = Some(if top > selected { selected } else { top });
        PaneUpdate::default()
    }

    /// The next (or previous) line matching the search, opening its group
    /// and showing everything if the filter hides it.
    fn find(&mut self, forward: bool, page: usize) -> PaneUpdate {
        let query = self.search.query.to_lowercase();
        if query.is_empty() {
            return say("type / and a text to search the trace".into());
        }
        let from = self.with_rows(|_, rows| {
            let (_, sel) = trace_view::window(rows, self.selected, self.top, page);
            rows.get(sel).map_or((0, 0), |r| (r.key.0, r.key.1))
        });
        let found = {
            let store = self.store.lock();
            find_line(&store, &query, from, forward)
        };
        let Some((seq, group)) = found else {
            return say(format!("no trace line matches {:?}", self.search.query));
        };
        if let Some(first) = group {
            self.open.groups.insert(first);
        }
        let key = line_key(group.unwrap_or(seq), seq);
        self.shape += 1;
        let visible = self.with_rows(|_, rows| rows.binary_search_by_key(&key, |r| r.key).is_ok());
        if !visible {
            self.filter = Filter::All;
        }
        self.shape += 1;
        self.selected = Some(key);
        self.top = None;
        PaneUpdate::default()
    }
}

impl super::App {
    /// A key typed into the trace search, while it is being typed; None:
    /// the key is not text (it goes through the key map as usual, so
    /// Ctrl-C still leaves).
    pub(crate) fn text_input(&mut self, key: &KeyEvent) -> Option<Vec<super::Effect>> {
        if self.context() != super::keymap::Context::Trace || !self.trace.search.editing {
            return None;
        }
        let typed = match key.code {
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                SearchKey::Char(c)
            }
            KeyCode::Backspace => SearchKey::Backspace,
            KeyCode::Enter => SearchKey::Done,
            KeyCode::Esc => SearchKey::Cancel,
            _ => return None,
        };
        let page = super::layout::trace_rows(&self.regions());
        let update = self.trace.type_search(typed, page);
        Some(self.trace_update(update))
    }

    pub(super) fn trace_update(&mut self, update: PaneUpdate) -> Vec<super::Effect> {
        if let Some(said) = update.say {
            self.activity = said;
        }
        if update.save {
            vec![super::Effect::SaveTrace]
        } else {
            vec![]
        }
    }

    /// Writes everything the trace holds to a file in `dir`, named after the
    /// server and `now`, and says where.
    pub(crate) fn save_trace(&mut self, dir: &Path, now: SystemTime) {
        let saved = crate::session::trace::format::save(&self.trace.store.lock(), dir, now);
        self.activity = match saved {
            Ok(path) => format!("trace saved to {}", path.display()),
            Err(e) => format!("cannot save the trace in {}: {e}", dir.display()),
        };
    }
}

/// A key while the search is being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchKey {
    Char(char),
    Backspace,
    Done,
    Cancel,
}

fn say(text: String) -> PaneUpdate {
    PaneUpdate {
        say: Some(text),
        save: false,
    }
}

/// The first line after (or before) the row at `from` (its block's first
/// line, its line) whose text or command contains `query` (lowercase),
/// wrapping around; with the first line of its group when it is in one.
fn find_line(store: &TraceStore, query: &str, from: (u64, u64), forward: bool) -> Option<(u64, Option<u64>)> {
    let mut candidates: Vec<(u64, Option<u64>)> = Vec::new();
    for block in store.blocks() {
        let (lines, group): (Vec<_>, _) = match block {
            Block::Line(kept) => (vec![kept], None),
            Block::Group(g) => (g.lines.iter().collect(), Some(g.first_seq)),
            Block::Folded(_) => continue,
        };
        for kept in lines {
            if matches(&kept.entry, query) {
                candidates.push((kept.seq, group));
            }
        }
    }
    let place = |&(seq, group): &(u64, Option<u64>)| (group.unwrap_or(seq), seq);
    let after = candidates.iter().position(|c| place(c) > from);
    let before = candidates.iter().rposition(|c| place(c) < from);
    let pick = if forward {
        after.or((!candidates.is_empty()).then_some(0))
    } else {
        before.or(candidates.len().checked_sub(1))
    };
    pick.map(|i| candidates[i])
}

fn matches(entry: &TraceEntry, query: &str) -> bool {
    entry.text.to_lowercase().contains(query)
        || entry
            .command
            .is_some_and(|k| k.to_string().to_lowercase().contains(query))
}

/// Whether a row is the line a search found (for highlighting).
pub(crate) fn row_matches(store: &TraceStore, row: &Row, query: &str) -> bool {
    if query.is_empty() {
        return false;
    }
    match &row.kind {
        RowKind::Line(at) => trace_view::kept(store, *at).is_some_and(|k| matches(&k.entry, &query.to_lowercase())),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
