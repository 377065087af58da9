//! The help screen, drawn from the key map's lines.

use super::theme::{self, Theme};
use crate::app::App;
use crate::app::help::{HelpLine, help_lines};
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::help_box;
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

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
    let theme = theme::of(app);
    let shown: Vec<Line> = lines
        .iter()
        .skip(start)
        .take(room)
        .map(|line| styled(theme, line))
        .collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(shown).block(theme.dialog(title, theme.focus_border)),
        popup,
    );
}

fn styled(theme: &Theme, line: &HelpLine) -> Line<'static> {
    match line {
        HelpLine::Title(title) => Line::styled(*title, theme.heading),
        HelpLine::Keys { keys, help } => Line::from(vec![
            Span::styled(format!("  {keys:<16}"), theme.label),
            Span::raw(*help),
        ]),
        HelpLine::Legend { letter, meaning } => Line::from(vec![
            Span::styled(format!("  {letter:<16}"), theme.label),
            Span::raw(meaning.clone()),
        ]),
        HelpLine::Look { look, meaning } => Line::from(vec![
            Span::styled(format!("  {look:<16}"), theme.label),
            Span::raw(*meaning),
        ]),
        HelpLine::Blank => Line::from(""),
    }
}
