//! The two bottom lines: what is happening (with the key hints for the
//! situation) and the status bar (link, marks, server, security, size).

use crate::app::commit::Stage;
use crate::app::{App, Link};
use crate::text::{fit, human_size};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn draw_activity(frame: &mut Frame, app: &App, area: Rect) {
    let hint = app.hint().text();
    let hint_w = (hint.chars().count() as u16).min(area.width / 2);
    let [left, right] = Layout::horizontal([Constraint::Min(1), Constraint::Length(hint_w)]).areas(area);
    let style = match (&app.link, app.commit.stage()) {
        (Link::Lost(_), _) => Style::new().fg(Color::Red).bold(),
        (_, Stage::Deleting | Stage::Quitting { commit: true }) => Style::new().fg(Color::Yellow).bold(),
        _ => Style::new(),
    };
    frame.render_widget(
        Paragraph::new(fit(&app.activity, left.width as usize)).style(style),
        left,
    );
    frame.render_widget(Paragraph::new(hint).dark_gray().alignment(Alignment::Right), right);
}

pub(super) fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let (marked, marked_bytes) = app.marked();
    let (loaded, total) = app.headers_progress();
    let link = match &app.link {
        Link::Open => Span::styled(" ● connected ", Style::new().fg(Color::Black).bg(Color::Green)),
        Link::Lost(_) => Span::styled(
            " ✕ CONNECTION LOST · read-only ",
            Style::new().fg(Color::White).bg(Color::Red).bold(),
        ),
        Link::Closed => Span::styled(" closed ", Style::new().fg(Color::Black).bg(Color::Gray)),
    };
    let security_style = if app.facts.verified {
        Style::new().fg(Color::Green)
    } else {
        Style::new().fg(Color::Yellow).bold()
    };
    // The link and the marks first: they must stay visible at 80 columns.
    let mut spans = vec![link, Span::raw(" ")];
    if marked > 0 {
        spans.push(Span::styled(
            format!("{marked} marked ({})", human_size(marked_bytes)),
            Style::new().fg(Color::Red).bold(),
        ));
        spans.push(Span::raw(" │ "));
    }
    spans.extend([
        Span::raw(app.facts.server.clone()).bold(),
        Span::raw(" │ "),
        Span::styled(app.facts.security.clone(), security_style),
        Span::raw(" │ "),
        Span::raw(format!(
            "{} msgs, {}",
            app.list.rows.len(),
            human_size(app.list.total_size())
        )),
    ]);
    if total > 0 && loaded < total {
        spans.push(Span::raw(format!(" │ headers {loaded}/{total}")));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::Black)),
        area,
    );
}
