//! The two bottom lines: what is happening (with the key hints for the
//! situation) and the status bar (link, marks, server, security, size).
//!
//! The status bar is never cut mid-word: when it does not fit, its parts
//! are shortened or dropped whole, least important first, until it does.

use super::theme::{self, Theme};
use crate::app::commit::Stage;
use crate::app::{App, Link};
use crate::text::{fit, human_size};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

/// What the status bar's server part says in the demo.
pub(crate) const DEMO_LABEL: &str = "DEMO (local, generated mailbox)";

pub(super) fn draw_activity(frame: &mut Frame, app: &App, area: Rect) {
    let theme = theme::of(app);
    let hint = app.hint().text_within(area.width as usize / 2);
    let hint_w = hint.chars().count() as u16;
    let [left, right] = Layout::horizontal([Constraint::Min(1), Constraint::Length(hint_w)]).areas(area);
    let style = match (&app.link, app.commit.stage()) {
        (Link::Lost(_), _) => theme.error,
        (_, Stage::Deleting | Stage::Quitting { commit: true }) => theme.warning,
        _ => Style::new(),
    };
    frame.render_widget(
        Paragraph::new(fit(&app.activity, left.width as usize)).style(style),
        left,
    );
    frame.render_widget(Paragraph::new(hint).alignment(Alignment::Right), right);
}

pub(super) fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let theme = theme::of(app);
    let line = status_line(app, theme, area.width as usize);
    frame.render_widget(Paragraph::new(line).style(theme.status_bar), area);
}

/// The parts of the status bar after the link, in the order shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Id {
    Marks,
    Server,
    Security,
    Size,
    Headers,
}

/// Which part gives way next when the bar is too wide: each entry moves
/// that part to its next shorter form, or drops it after its last.
const SHRINK_ORDER: [Id; 10] = [
    Id::Size,
    Id::Headers,
    Id::Server,
    Id::Headers,
    Id::Security,
    Id::Server,
    Id::Size,
    Id::Security,
    Id::Marks,
    Id::Server,
];

/// A part of the status bar: its forms, longest first. A form repeated
/// means "keep this one a step longer".
struct Part {
    id: Id,
    style: Style,
    forms: Vec<String>,
    /// The form shown; `forms.len()`: dropped.
    form: usize,
}

impl Part {
    fn new(id: Id, style: Style, forms: Vec<String>) -> Part {
        Part {
            id,
            style,
            forms,
            form: 0,
        }
    }

    fn shown(&self) -> Option<&str> {
        self.forms.get(self.form).map(String::as_str)
    }
}

/// The status bar for `width` columns.
fn status_line(app: &App, theme: &Theme, width: usize) -> Line<'static> {
    let (link, link_style) = match &app.link {
        Link::Open => (" ● connected ", theme.link_ok),
        Link::Lost(_) => (" ✕ CONNECTION LOST · read-only ", theme.link_lost),
        Link::Closed => (" closed ", Style::new()),
    };
    let mut parts = parts(app, theme);
    let fits = |parts: &[Part]| link.width() + joined_width(parts) <= width;
    let mut steps = Vec::new();
    for id in SHRINK_ORDER {
        if fits(&parts) {
            break;
        }
        if let Some(i) = parts.iter().position(|p| p.id == id && p.form < p.forms.len()) {
            parts[i].form += 1;
            steps.push(i);
        }
    }
    // A later step may have made room for an earlier one: undo each,
    // most important first, where it still fits.
    for &i in steps.iter().rev() {
        parts[i].form -= 1;
        if !fits(&parts) {
            parts[i].form += 1;
        }
    }
    let mut spans = vec![Span::styled(link, link_style)];
    for (i, part) in parts.iter().filter(|p| p.shown().is_some()).enumerate() {
        spans.push(Span::raw(if i == 0 { " " } else { " │ " }));
        spans.push(Span::styled(part.shown().unwrap_or_default().to_string(), part.style));
    }
    Line::from(spans)
}

/// Columns the shown parts take, with their separators.
fn joined_width(parts: &[Part]) -> usize {
    parts
        .iter()
        .filter_map(Part::shown)
        .enumerate()
        .map(|(i, text)| text.width() + if i == 0 { 1 } else { 3 })
        .sum()
}

fn parts(app: &App, theme: &Theme) -> Vec<Part> {
    let mut parts = Vec::new();
    let (marked, marked_bytes) = app.marked();
    if marked > 0 {
        parts.push(Part::new(
            Id::Marks,
            theme.marks,
            vec![
                format!("{marked} marked ({})", human_size(marked_bytes)),
                format!("{marked} marked"),
            ],
        ));
    }
    let facts = &app.facts;
    let server = if facts.demo {
        Part::new(
            Id::Server,
            theme.demo,
            vec![DEMO_LABEL.into(), "DEMO".into(), "DEMO".into()],
        )
    } else {
        let host = facts
            .server
            .rsplit_once(':')
            .map_or(facts.server.as_str(), |(host, _)| host);
        Part::new(Id::Server, theme.label, vec![facts.server.clone(), host.to_string()])
    };
    parts.push(server);
    parts.push(if facts.verified {
        Part::new(Id::Security, theme.verified, vec![facts.security.clone()])
    } else {
        Part::new(
            Id::Security,
            theme.unverified,
            vec![facts.security.clone(), "NOT VERIFIED".into()],
        )
    });
    let (count, bytes) = (app.list.rows.len(), app.list.total_size());
    parts.push(Part::new(
        Id::Size,
        Style::new(),
        vec![
            format!("{count} msgs · {}", human_size(bytes)),
            format!("{count} · {}", compact_size(bytes)),
        ],
    ));
    let (loaded, total) = app.headers_progress();
    if total > 0 && loaded < total {
        parts.push(Part::new(
            Id::Headers,
            Style::new(),
            vec![
                format!("headers {loaded}/{total}"),
                format!("headers {}%", loaded * 100 / total),
            ],
        ));
    }
    parts
}

/// A size in whole units: "20 MB", "512 B".
fn compact_size(bytes: u64) -> String {
    let full = human_size(bytes);
    match full.split_once(' ') {
        Some((number, unit)) if number.contains('.') => {
            let value: f64 = number.parse().unwrap_or(0.0);
            format!("{value:.0} {unit}")
        }
        _ => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_sizes_drop_the_decimal() {
        assert_eq!(compact_size(0), "0 B");
        assert_eq!(compact_size(1023), "1023 B");
        assert_eq!(compact_size(20 * 1024 * 1024 + 210 * 1024), "20 MB");
        assert_eq!(compact_size(1536 + 200), "2 KB");
    }
}
