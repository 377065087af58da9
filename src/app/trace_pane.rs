//! The protocol trace pane: the newest trace lines, following the tail
//! until the person scrolls.

use super::keymap::Action;
use crate::session::trace::TraceEntry;
use std::collections::VecDeque;

/// Trace lines kept for the pane; older ones are dropped.
pub const TRACE_CAPACITY: usize = 5_000;

#[derive(Debug, Clone, Default)]
pub struct TracePane {
    pub lines: VecDeque<TraceEntry>,
    pub visible: bool,
    /// Keys go to the pane (only while it is visible).
    pub focus: bool,
    /// None: follow the newest line; Some(n): first shown line.
    pub scroll: Option<usize>,
}

impl TracePane {
    pub fn push(&mut self, entry: TraceEntry) {
        if self.lines.len() >= TRACE_CAPACITY {
            self.lines.pop_front();
            if let Some(s) = self.scroll.as_mut() {
                *s = s.saturating_sub(1);
            }
        }
        self.lines.push_back(entry);
    }

    pub fn focused(&self) -> bool {
        self.focus && self.visible
    }

    pub fn toggle(&mut self) {
        self.visible = !self.visible;
        if !self.visible {
            self.focus = false;
        }
    }

    pub fn toggle_focus(&mut self) {
        self.focus = self.visible && !self.focus;
    }

    /// A key while the pane has the focus; `page` is its rows on screen.
    pub fn act(&mut self, action: Action, page: usize) {
        let len = self.lines.len();
        let page = page.max(1);
        let current = self.scroll.unwrap_or(len.saturating_sub(page));
        self.scroll = match action {
            Action::Down => Some(current + 1),
            Action::Up => Some(current.saturating_sub(1)),
            Action::PageDown => Some(current + page),
            Action::PageUp => Some(current.saturating_sub(page)),
            Action::First => Some(0),
            Action::Last => None,
            Action::Back => {
                self.focus = false;
                self.scroll
            }
            _ => self.scroll,
        };
        if let Some(s) = self.scroll
            && s + page >= len
        {
            // Scrolled down to the newest line: follow again.
            self.scroll = if matches!(action, Action::Down | Action::PageDown) {
                None
            } else {
                Some(len.saturating_sub(page))
            };
        }
    }

    /// First line shown in a pane of `height` rows.
    pub fn first_shown(&self, height: usize) -> usize {
        let last_page = self.lines.len().saturating_sub(height);
        self.scroll.map_or(last_page, |s| s.min(last_page))
    }
}
