//! The commit confirmation: how many messages, how many bytes, which ones,
//! and the keys (from the key map) to delete, go back or keep everything.

use crate::app::App;
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::centered;
use crate::text::{fit, human_size};
use ratatui::Frame;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub(super) fn draw(frame: &mut Frame, app: &App) {
    let Some(c) = &app.commit.dialog else { return };
    let area = frame.area();
    let mut lines = vec![
        Line::from(format!(
            "Delete {} message{} ({}) from the server?",
            c.count,
            if c.count == 1 { "" } else { "s" },
            human_size(c.bytes)
        ))
        .bold(),
        Line::from(""),
    ];
    let width = 64usize.min(area.width.saturating_sub(4) as usize);
    for s in &c.subjects {
        lines.push(Line::from(format!("  {}", fit(s, width.saturating_sub(4)).trim_end())));
    }
    if c.count > c.subjects.len() {
        lines.push(Line::from(format!("  … and {} more", c.count - c.subjects.len())).dark_gray());
    }
    lines.push(Line::from(""));
    let button = |action: Action, colour: Color| {
        Span::styled(
            format!(" {} ", keys_for(Context::Confirm, action)),
            Style::new().fg(Color::Black).bg(colour).bold(),
        )
    };
    lines.push(Line::from(vec![
        button(Action::ConfirmCommit, Color::Red),
        Span::raw(" delete them   "),
        button(Action::ConfirmCancel, Color::Gray),
        Span::raw(" go back   "),
        button(Action::ConfirmKeep, Color::Green),
        Span::raw(" quit keeping all"),
    ]));
    let popup = centered(area, width as u16 + 4, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(Style::new().fg(Color::Red))
                .title(" Commit deletions "),
        ),
        popup,
    );
}
