//! The prompt box: what is typed, and under it what the query would
//! select (counting what cannot be told yet) or where it is wrong.

use super::theme;
use crate::app::App;
use crate::app::filter::unknown_note;
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::prompt_box;
use crate::app::prompt::{Parsed, Prompt, PromptKind};
use crate::sanitize::sanitize_text;
use crate::text::{human_size, thousands};
use ratatui::Frame;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

pub(super) fn draw(frame: &mut Frame, app: &App) {
    let Some(prompt) = &app.prompt else { return };
    let area = prompt_box(&app.regions_in(frame.area()));
    let title = format!(
        " {} · {} ok · {} cancel ",
        prompt.kind.title(),
        keys_for(Context::Prompt, Action::PromptAccept),
        keys_for(Context::Prompt, Action::Back)
    );
    let theme = theme::of(app);
    let block = theme.pane(title, true);
    let inner = block.inner(area);
    let width = inner.width as usize;
    let (typed, hidden) = visible_tail(
        &sanitize_text(&prompt.text, false),
        width.saturating_sub(prompt.kind.sigil().width() + 1),
    );
    let input = Line::from(vec![
        Span::styled(prompt.kind.sigil(), theme.label),
        Span::raw(typed),
        Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
    ]);
    let below = match &prompt.parsed {
        Parsed::Error(error) => {
            let before: String = prompt.text.chars().take(error.column().saturating_sub(1)).collect();
            let column = sanitize_text(&before, false).width();
            let indent = prompt.kind.sigil().width() + column.saturating_sub(hidden) + usize::from(hidden > 0);
            Line::styled(format!("{}^ {}", " ".repeat(indent), error.message()), theme.error)
        }
        _ => Line::from(what_it_does(app, prompt)),
    };
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(vec![input, below]).block(block), area);
}

/// The end of `text` that fits in `width` columns, "…" first when cut,
/// and how many columns were cut.
fn visible_tail(text: &str, width: usize) -> (String, usize) {
    let total = text.width();
    if total <= width {
        return (text.to_string(), 0);
    }
    let mut kept = String::new();
    let mut used = 0;
    for c in text.chars().rev() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        kept.insert(0, c);
        used += w;
    }
    (format!("…{kept}"), total - used)
}

/// The second line: what Enter would do.
fn what_it_does(app: &App, prompt: &Prompt) -> String {
    let total = app.list.rows.len();
    let coming = app.headers_coming();
    match (&prompt.parsed, prompt.kind) {
        (Parsed::Query(filter), PromptKind::Mark) => {
            let c = filter.counts();
            let unknown = unknown_note(c, Some(total), coming);
            format!(
                "marks {} message{} ({}){}",
                thousands(c.matched),
                if c.matched == 1 { "" } else { "s" },
                human_size(c.matched_bytes),
                if unknown.is_empty() {
                    unknown
                } else {
                    format!("{unknown} (never marked)")
                }
            )
        }
        (Parsed::Query(filter), _) => filter.summary(total, coming),
        (Parsed::Number(n), _) => match app.list.row_index(*n) {
            Some(_) => format!("goes to message {n}"),
            None => format!("there is no message {n}"),
        },
        (_, PromptKind::Limit) => "Enter with nothing typed shows every message".into(),
        (_, PromptKind::Goto) => "a message number".into(),
        (_, PromptKind::SaveManyTo) => {
            let messages = app.messages_to_save();
            let bytes = messages.iter().fold(0u64, |sum, m| sum.saturating_add(m.size));
            let which = if app.list.marked().0 > 0 { "marked" } else { "shown" };
            format!(
                "saves the {} {which} message{} ({}) exactly as the server sends them",
                thousands(messages.len()),
                if messages.len() == 1 { "" } else { "s" },
                human_size(bytes)
            )
        }
        (_, PromptKind::SaveAs) => match &prompt.save {
            Some(target) => format!(
                "saves message {} ({}) exactly as the server sends it; an existing file is asked about",
                target.number,
                human_size(target.size)
            ),
            None => String::new(),
        },
        _ => "a query: word, from:x, subject:\"two words\", size>1M, older:30d, dup, -term, a or b".into(),
    }
}
