//! The message view: RETR's progress, then the typed lines the viewer
//! built, styled by kind.

use super::list::gauge;
use super::theme::{self, Theme};
use crate::app::App;
use crate::app::viewer::ViewLine;
use crate::text::human_size;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(v) = &app.viewer else { return };
    let marked = app.list.row_by_number(v.number).is_some_and(|r| r.marked);
    let title = format!(
        " Message {}{}{} ",
        v.number,
        if v.show_raw { " · raw source" } else { "" },
        if marked { " · MARKED FOR DELETION" } else { "" }
    );
    let theme = theme::of(app);
    let block = theme.pane(title, app.context() == crate::app::keymap::Context::Message);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(error) = &v.error {
        frame.render_widget(
            Paragraph::new(error.clone())
                .style(theme.error)
                .wrap(Wrap { trim: false }),
            inner,
        );
        return;
    }
    let [progress_area, text_area] =
        Layout::vertical([Constraint::Length(u16::from(!v.done)), Constraint::Min(1)]).areas(inner);
    if !v.done {
        let ratio = if v.total == 0 {
            0.0
        } else {
            v.received as f64 / v.total as f64
        };
        let label = format!("retrieving {} of {}", human_size(v.received), human_size(v.total));
        frame.render_widget(gauge(theme, ratio, label), progress_area);
    }
    let lines = &v.lines;
    let height = text_area.height as usize;
    let max_scroll = lines.len().saturating_sub(height);
    let start = v.scroll.min(max_scroll);
    let visible: Vec<Line> = lines[start..(start + height).min(lines.len())]
        .iter()
        .map(|line| styled(theme, line))
        .collect();
    frame.render_widget(Paragraph::new(visible), text_area);
}

fn styled(theme: &Theme, line: &ViewLine) -> Line<'static> {
    match line {
        ViewLine::Header { name, value } => Line::from(vec![
            Span::styled(format!("{name:<12} "), theme.label),
            Span::raw(value.clone()),
        ]),
        ViewLine::Attachment { text, selected: false } => Line::styled(text.clone(), theme.attachment),
        ViewLine::Attachment { text, selected: true } => Line::styled(text.clone(), theme.selected),
        ViewLine::Note(text) => Line::styled(text.clone(), theme.note),
        ViewLine::Text(text) => Line::from(text.clone()),
        ViewLine::Blank => Line::from(""),
    }
}
