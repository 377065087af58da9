//! The commit confirmation: how many messages, how many bytes, what
//! selected them, which ones (a scrollable list of subjects), and the keys
//! (from the key map) to delete, go back or keep everything; then, for the
//! keep-all key with many marks, the question whether to discard them.

use super::theme::{self, Theme};
use crate::app::App;
use crate::app::commit::Confirmation;
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::{centered, dialog_subject_rows};
use crate::text::{fit, human_size, thousands};
use ratatui::Frame;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn draw(frame: &mut Frame, app: &App) {
    let Some(c) = &app.commit.dialog else { return };
    let area = frame.area();
    let width = 64usize.min(area.width.saturating_sub(4) as usize);
    let theme = theme::of(app);
    let (title, lines) = if c.discarding {
        (" Discard marks? ", discard_lines(theme, c))
    } else {
        (" Commit deletions ", confirm_lines(theme, c, app, width))
    };
    let popup = centered(area, width as u16 + 4, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(theme.dialog(title, theme.danger_border)),
        popup,
    );
}

fn button(context: Context, action: Action, style: Style) -> Span<'static> {
    Span::styled(format!(" {} ", keys_for(context, action)), style)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn confirm_lines(theme: &Theme, c: &Confirmation, app: &App, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(format!(
            "Delete {} message{} ({}) from the server?",
            thousands(c.count),
            plural(c.count),
            human_size(c.bytes)
        ))
        .bold(),
    ];
    if let Some(by) = c.selected_by() {
        lines.push(Line::styled(
            fit(&format!("Selected by {by}"), width).trim_end().to_string(),
            theme.label,
        ));
    }
    lines.push(Line::from(""));
    let shown = dialog_subject_rows(app.screen);
    let start = c.scroll.min(c.rows.len().saturating_sub(shown));
    for &i in c.rows.iter().skip(start).take(shown) {
        let Some(row) = app.list.rows.get(i) else { continue };
        let text = match row.summary() {
            Some(h) if !h.subject().is_empty() => format!("#{}  {}", row.number, h.subject()),
            _ => format!("#{}", row.number),
        };
        lines.push(Line::from(format!(
            "  {}",
            fit(&text, width.saturating_sub(4)).trim_end()
        )));
    }
    if c.rows.len() > shown {
        lines.push(Line::from(format!(
            "  {}-{} of {} · {}/{} scroll",
            thousands(start + 1),
            thousands((start + shown).min(c.rows.len())),
            thousands(c.rows.len()),
            keys_for(Context::Confirm, Action::Down),
            keys_for(Context::Confirm, Action::Up),
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        button(Context::Confirm, Action::ConfirmCommit, theme.button_danger),
        Span::raw(" delete them   "),
        button(Context::Confirm, Action::ConfirmCancel, theme.button),
        Span::raw(" go back   "),
        button(Context::Confirm, Action::ConfirmKeep, theme.button_safe),
        Span::raw(" quit keeping all"),
    ]));
    lines.push(Line::from(vec![
        button(Context::Confirm, Action::ConfirmBackup, theme.button_safe),
        Span::raw(" back up to a Maildir, then delete"),
    ]));
    // The directory on a line of its own: a long path is cut at the end.
    let dir = format!("    to {}", crate::store::show_path(&app.commit.backup_dir));
    lines.push(Line::styled(fit(&dir, width).trim_end().to_string(), theme.label));
    lines
}

fn discard_lines(theme: &Theme, c: &Confirmation) -> Vec<Line<'static>> {
    vec![
        Line::from(format!(
            "Quit and discard {} mark{}?",
            thousands(c.count),
            plural(c.count)
        ))
        .bold(),
        Line::from("Nothing is deleted; the marks are forgotten."),
        Line::from(""),
        Line::from(vec![
            button(Context::Discard, Action::ConfirmDiscard, theme.button_safe),
            Span::raw(" discard the marks and quit   "),
            button(Context::Discard, Action::ConfirmCancel, theme.button),
            Span::raw(" back"),
        ]),
    ]
}
