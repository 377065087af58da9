//! The preview beside or under the list: the selected message's headers
//! from TOP (the body is not fetched).

use super::theme;
use crate::app::App;
use crate::app::list::Headers;
use crate::text::human_size;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let theme = theme::of(app);
    let block = theme.pane(" Preview (TOP, body not fetched) ", false);
    let Some(row) = app.list.selected_row() else {
        frame.render_widget(block, area);
        return;
    };
    let label = |name: &'static str| Span::styled(format!("{name:<12}"), theme.label);
    let mut lines = Vec::new();
    match &row.headers {
        Headers::Loaded(h) => {
            for (name, value) in [
                ("From", h.from()),
                ("To", h.to()),
                ("Cc", h.cc()),
                ("Date", h.date().unwrap_or("")),
                ("Subject", h.subject()),
                ("Message-ID", h.message_id()),
                ("Type", h.content_type()),
            ] {
                if !value.is_empty() {
                    lines.push(Line::from(vec![label(name), Span::raw(value.to_string())]));
                }
            }
        }
        Headers::Unavailable(why) => lines.push(Line::from(format!("headers unavailable: {why}"))),
        _ => lines.push(Line::from("loading headers…")),
    }
    lines.push(Line::from(vec![
        label("Size"),
        Span::raw(format!("{} ({} octets)", human_size(row.size), row.size)),
    ]));
    lines.push(Line::from(vec![
        label("Number/UID"),
        Span::raw(format!(
            "{} / {}",
            row.number,
            row.uid.as_deref().unwrap_or("(no UIDL)")
        )),
    ]));
    if row.marked {
        lines.push(Line::styled("marked for deletion", theme.error));
    }
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}
