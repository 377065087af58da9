//! The help screen, drawn from the key map's lines.

use crate::app::App;
use crate::app::help::{HelpLine, help_lines};
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::help_box;
use ratatui::Frame;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub(super) fn draw(frame: &mut Frame, app: &App) {
    let lines = help_lines();
    let popup = help_box(frame.area(), lines.len());
    let room = popup.height.saturating_sub(2) as usize;
    let clipped = lines.len() > room;
    let start = app.help.scroll.min(lines.len().saturating_sub(room));
    let close = keys_for(Context::Help, Action::Back);
    let title = if clipped {
        format!(
            " Keys {}-{} of {} · {}/{} scroll · {close} close ",
            start + 1,
            (start + room).min(lines.len()),
            lines.len(),
            keys_for(Context::Help, Action::Down),
            keys_for(Context::Help, Action::Up),
        )
    } else {
        format!(
            " Keys ({} or {close} to close) ",
            keys_for(Context::Global, Action::Help)
        )
    };
    let shown: Vec<Line> = lines.iter().skip(start).take(room).map(styled).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(shown).block(Block::new().borders(Borders::ALL).title(title)),
        popup,
    );
}

fn styled(line: &HelpLine) -> Line<'static> {
    match line {
        HelpLine::Title(title) => Line::from(*title).bold().fg(Color::Cyan),
        HelpLine::Keys { keys, help } => Line::from(vec![
            Span::styled(format!("  {keys:<16}"), Style::new().bold()),
            Span::raw(*help),
        ]),
        HelpLine::Legend { letter, meaning } => Line::from(vec![
            Span::styled(format!("  {letter:<16}"), Style::new().bold()),
            Span::raw(meaning.clone()),
        ]),
        HelpLine::Blank => Line::from(""),
    }
}
