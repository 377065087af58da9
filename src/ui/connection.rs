//! The connection panel, over whatever is shown.

use super::theme::{self, Theme};
use crate::app::App;
use crate::app::connection::{PanelLine, panel_lines};
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::centered;
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use std::time::SystemTime;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub(super) fn draw(frame: &mut Frame, app: &App) {
    let lines = {
        let store = app.trace.store.lock();
        panel_lines(app.connection.report.as_ref(), store.totals(), SystemTime::now())
    };
    let area = frame.area();
    let popup = centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    );
    let room = popup.height.saturating_sub(2) as usize;
    let start = app.connection.scroll.min(lines.len().saturating_sub(room));
    let title = format!(
        " Connection · {}/{} scroll · {} close ",
        keys_for(Context::Connection, Action::Down),
        keys_for(Context::Connection, Action::Up),
        keys_for(Context::Connection, Action::Back)
    );
    let width = popup.width.saturating_sub(2) as usize;
    let theme = theme::of(app);
    let shown: Vec<Line> = lines.iter().flat_map(|l| styled(theme, l, width)).skip(start).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(shown).block(theme.dialog(title, theme.focus_border)),
        popup,
    );
}

/// Label column: two spaces and 13 columns.
const LABEL: usize = 15;

/// A panel line as screen lines of `width`, a long value wrapped under
/// itself.
fn styled(theme: &Theme, line: &PanelLine, width: usize) -> Vec<Line<'static>> {
    match line {
        PanelLine::Title(title) => vec![Line::styled(*title, theme.heading)],
        PanelLine::Fact { label, value } => wrap(value, width.saturating_sub(LABEL).max(10))
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let label = if i == 0 { label.as_str() } else { "" };
                Line::from(vec![
                    Span::styled(format!("  {label:<13}"), theme.label),
                    Span::raw(part),
                ])
            })
            .collect(),
        PanelLine::Blank => vec![Line::from("")],
    }
}

/// `text` in pieces of at most `width` columns, broken at spaces where it
/// can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let needed = current.width() + usize::from(!current.is_empty()) + word.width();
        if needed > width && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        // A word longer than the line is cut where it must be.
        for c in word.chars() {
            if current.width() + c.width().unwrap_or(0) > width {
                out.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
    }
    out.push(current);
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_values_wrap_at_spaces_and_never_overflow() {
        assert_eq!(wrap("TOP · UIDL · USER", 10), ["TOP · UIDL", "· USER"]);
        assert_eq!(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap("", 5), [""]);
    }
}
