//! The connection panel, over whatever is shown.

use crate::app::App;
use crate::app::connection::{PanelLine, panel_lines};
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::centered;
use ratatui::Frame;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use std::time::SystemTime;

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
    let shown: Vec<Line> = lines.iter().skip(start).map(styled).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(shown)
            .wrap(Wrap { trim: false })
            .block(Block::new().borders(Borders::ALL).title(title)),
        popup,
    );
}

fn styled(line: &PanelLine) -> Line<'static> {
    match line {
        PanelLine::Title(title) => Line::from(*title).bold().fg(Color::Cyan),
        PanelLine::Fact { label, value } => Line::from(vec![
            Span::styled(format!("  {label:<13}"), Style::new().bold()),
            Span::raw(value.clone()),
        ]),
        PanelLine::Blank => Line::from(""),
    }
}
