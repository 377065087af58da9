//! The protocol trace pane.

use super::focus_style;
use crate::app::App;
use crate::app::keymap::{Action, Context, keys_for};
use crate::pop3::client::Direction;
use crate::text::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let trace = &app.trace;
    let state = match trace.scroll {
        None => " · following".to_string(),
        Some(_) => format!(" · scrolled ({} to follow)", keys_for(Context::Trace, Action::Last)),
    };
    let title = format!(" Protocol trace · {} lines{state} ", trace.lines.len());
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(focus_style(app.context() == Context::Trace))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let len = trace.lines.len();
    let start = trace.first_shown(height);
    let width = inner.width as usize;
    let lines: Vec<Line> = trace
        .lines
        .range(start..(start + height).min(len))
        .map(|e| {
            let color = match e.direction {
                Direction::Sent => Color::Cyan,
                Direction::Received if e.text.starts_with("-ERR") => Color::Red,
                Direction::Received => Color::Green,
                Direction::Note => Color::Yellow,
            };
            let rtt = e
                .rtt
                .map(|d| format!("  {:.1} ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_default();
            let text = fit(&e.text, width.saturating_sub(14 + rtt.len()))
                .trim_end()
                .to_string();
            Line::from(vec![
                Span::styled(format!("{:>9.3} ", e.at.as_secs_f64()), Style::new().dark_gray()),
                Span::styled(format!("{} ", e.arrow()), Style::new().fg(color).bold()),
                Span::styled(text, Style::new().fg(color)),
                Span::styled(rtt, Style::new().dark_gray()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
