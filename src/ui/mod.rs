//! Drawing: a pure function of `App`. Nothing here changes state or waits
//! on anything; each component draws into the area the layout gives it.
//! Only the rows on screen are turned into widgets, so a 100,000-message
//! list costs what a 30-row one does.

use crate::app::keymap::{BINDINGS, Context};
use crate::app::state::{App, Commit, Headers, Link, MessageRow};
use crate::pop3::client::Direction;
use crate::text::{fit, human_size};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Row, Table, Wrap};

/// Screen regions, derived from the terminal size and what is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regions {
    pub main: Rect,
    pub list: Option<Rect>,
    pub preview: Option<Rect>,
    pub trace: Option<Rect>,
    pub activity: Rect,
    pub status: Rect,
}

/// Regions for the terminal size the app last saw.
pub fn regions(app: &App) -> Regions {
    regions_in(Rect::new(0, 0, app.screen.0, app.screen.1), app)
}

/// Regions inside `area`. Drawing uses the frame's real area, which can be
/// smaller than `app.screen` for one frame before a resize event arrives.
pub fn regions_in(area: Rect, app: &App) -> Regions {
    let [body, activity, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let (main, trace) = if app.trace_visible && body.height >= 8 {
        let [main, trace] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(body);
        (main, Some(trace))
    } else {
        (body, None)
    };
    let (list, preview) = if app.message.is_some() {
        (None, None)
    } else if main.width >= 120 {
        let [list, preview] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(main);
        (Some(list), Some(preview))
    } else if main.height >= 18 {
        let [list, preview] = Layout::vertical([Constraint::Min(5), Constraint::Length(9)]).areas(main);
        (Some(list), Some(preview))
    } else {
        (Some(main), None)
    };
    Regions {
        main,
        list,
        preview,
        trace,
        activity,
        status,
    }
}

/// Message rows the list can show at once.
pub fn list_rows_visible(app: &App) -> usize {
    regions(app)
        .list
        .map(|r| r.height.saturating_sub(2 + 1 + loading_gauge_height(app)) as usize)
        .unwrap_or(0)
}

/// Width available for the message view's text.
pub fn message_text_width(screen: (u16, u16)) -> usize {
    screen.0.saturating_sub(2).max(10) as usize
}

fn loading_gauge_height(app: &App) -> u16 {
    let (loaded, total) = app.headers_progress();
    u16::from(total > 0 && loaded < total)
}

/// Text rows of the message view.
pub fn message_text_rows(app: &App) -> usize {
    let progress = app.message.as_ref().is_some_and(|m| !m.done);
    regions(app).main.height.saturating_sub(2 + u16::from(progress)) as usize
}

/// Text rows of the trace pane (0 when hidden).
pub fn trace_rows(app: &App) -> usize {
    regions(app)
        .trace
        .map(|t| t.height.saturating_sub(2) as usize)
        .unwrap_or(0)
}

pub fn draw(frame: &mut Frame, app: &App) {
    let r = regions_in(frame.area(), app);
    if let Some(area) = r.list {
        draw_list(frame, app, area);
    }
    if let Some(area) = r.preview {
        draw_preview(frame, app, area);
    }
    if app.message.is_some() {
        draw_message(frame, app, r.main);
    }
    if let Some(area) = r.trace {
        draw_trace(frame, app, area);
    }
    draw_activity(frame, app, r.activity);
    draw_status(frame, app, r.status);
    if app.confirm.is_some() {
        draw_confirm(frame, app);
    }
    if app.help {
        draw_help(frame, app);
    }
}

fn focus_style(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

fn draw_list(frame: &mut Frame, app: &App, area: Rect) {
    let title = format!(
        " Messages · {} · sorted by {}{} ",
        app.rows.len(),
        app.sort.label(),
        if app.sort_descending { " ↓" } else { "" }
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(focus_style(app.context() == Context::List))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let gauge_h = loading_gauge_height(app);
    let [table_area, gauge_area] = Layout::vertical([Constraint::Min(1), Constraint::Length(gauge_h)]).areas(inner);
    if gauge_h > 0 {
        let (loaded, total) = app.headers_progress();
        let ratio = if total == 0 { 1.0 } else { loaded as f64 / total as f64 };
        frame.render_widget(
            Gauge::default()
                .ratio(ratio.clamp(0.0, 1.0))
                .label(format!("headers {loaded}/{total}"))
                .gauge_style(Style::new().fg(Color::Blue).bg(Color::Black)),
            gauge_area,
        );
    }
    if !app.listed {
        frame.render_widget(Paragraph::new("waiting for LIST…").dark_gray(), table_area);
        return;
    }
    if app.rows.is_empty() {
        frame.render_widget(Paragraph::new("the maildrop is empty").dark_gray(), table_area);
        return;
    }
    let width = table_area.width as usize;
    let number_w = app.rows.last().map(|r| r.number.to_string().len()).unwrap_or(1).max(1);
    let date_w = if width >= 100 { 16 } else { 10 };
    let fixed = number_w + 1 + 1 + 8 + date_w + 5;
    let rest = width.saturating_sub(fixed);
    let from_w = (rest / 3).clamp(8, 28);
    let subject_w = rest.saturating_sub(from_w + 1);
    let height = table_area.height.saturating_sub(1) as usize;
    let end = (app.offset + height).min(app.order.len());
    let rows = app.order[app.offset..end].iter().enumerate().map(|(i, &idx)| {
        let row = &app.rows[idx];
        let selected = app.offset + i == app.selected;
        list_row(row, selected, date_w, from_w, subject_w)
    });
    let widths = [
        Constraint::Length(number_w as u16),
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Length(date_w as u16),
        Constraint::Length(from_w as u16),
        Constraint::Length(subject_w as u16),
    ];
    let header = Row::new(["#", "", "size", "date", "from", "subject"]).style(Style::new().bold().dark_gray());
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), table_area);
}

fn list_row(row: &MessageRow, selected: bool, date_w: usize, from_w: usize, subject_w: usize) -> Row<'static> {
    let (date, from, subject) = match &row.headers {
        Headers::Loaded(h) => (
            h.date
                .as_deref()
                .map(|d| d.get(..date_w).unwrap_or(d).replace('T', " "))
                .unwrap_or_default(),
            fit(&h.from, from_w),
            fit(&h.subject, subject_w),
        ),
        Headers::Unavailable(_) => (String::new(), "(headers unavailable)".into(), String::new()),
        _ => (String::new(), "…".into(), String::new()),
    };
    let mut style = Style::new();
    if row.marked {
        style = style.fg(Color::Red).add_modifier(Modifier::CROSSED_OUT);
    }
    if selected {
        style = style.bg(Color::Blue).fg(Color::White).add_modifier(Modifier::BOLD);
    }
    Row::new(vec![
        row.number.to_string(),
        if row.marked { "D".into() } else { " ".into() },
        format!("{:>8}", human_size(row.size)),
        date,
        from,
        subject,
    ])
    .style(style)
}

fn draw_preview(frame: &mut Frame, app: &App, area: Rect) {
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(focus_style(false))
        .title(" Preview (TOP, body not fetched) ");
    let Some(row) = app.selected_row() else {
        frame.render_widget(block, area);
        return;
    };
    let label = |name: &'static str| Span::styled(format!("{name:<12}"), Style::new().dark_gray());
    let mut lines = Vec::new();
    match &row.headers {
        Headers::Loaded(h) => {
            for (name, value) in [
                ("From", h.from.as_str()),
                ("To", h.to.as_str()),
                ("Cc", h.cc.as_str()),
                ("Date", h.date.as_deref().unwrap_or("")),
                ("Subject", h.subject.as_str()),
                ("Message-ID", h.message_id.as_str()),
                ("Type", h.content_type.as_str()),
            ] {
                if !value.is_empty() {
                    lines.push(Line::from(vec![label(name), Span::raw(value.to_string())]));
                }
            }
        }
        Headers::Unavailable(why) => lines.push(Line::from(format!("headers unavailable: {why}"))),
        _ => lines.push(Line::from("loading headers…").dark_gray()),
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
        lines.push(Line::from("marked for deletion").red().bold());
    }
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}

fn draw_message(frame: &mut Frame, app: &App, area: Rect) {
    let Some(m) = &app.message else { return };
    let marked = app.row_by_number(m.number).is_some_and(|r| r.marked);
    let title = format!(
        " Message {}{}{} ",
        m.number,
        if m.show_raw { " · raw source" } else { "" },
        if marked { " · MARKED FOR DELETION" } else { "" }
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(focus_style(true))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(error) = &m.error {
        frame.render_widget(Paragraph::new(error.clone()).red().wrap(Wrap { trim: false }), inner);
        return;
    }
    let [progress_area, text_area] =
        Layout::vertical([Constraint::Length(u16::from(!m.done)), Constraint::Min(1)]).areas(inner);
    if !m.done {
        let ratio = if m.total == 0 {
            0.0
        } else {
            m.received as f64 / m.total as f64
        };
        frame.render_widget(
            Gauge::default()
                .ratio(ratio.clamp(0.0, 1.0))
                .label(format!(
                    "retrieving {} of {}",
                    human_size(m.received),
                    human_size(m.total)
                ))
                .gauge_style(Style::new().fg(Color::Blue).bg(Color::Black)),
            progress_area,
        );
    }
    let lines = &m.lines;
    let height = text_area.height as usize;
    let max_scroll = lines.len().saturating_sub(height);
    let start = m.scroll.min(max_scroll);
    let visible: Vec<Line> = lines[start..(start + height).min(lines.len())]
        .iter()
        .map(|l| styled_message_line(l))
        .collect();
    frame.render_widget(Paragraph::new(visible), text_area);
}

fn styled_message_line(line: &str) -> Line<'static> {
    if let Some(rest) = line.strip_prefix("\u{1}H") {
        let (name, value) = rest.split_once('\u{1}').unwrap_or((rest, ""));
        return Line::from(vec![
            Span::styled(format!("{name:<12} "), Style::new().dark_gray()),
            Span::styled(value.to_string(), Style::new().bold()),
        ]);
    }
    if let Some(rest) = line.strip_prefix("\u{1}A") {
        return Line::from(Span::styled(rest.to_string(), Style::new().fg(Color::Yellow)));
    }
    if let Some(rest) = line.strip_prefix("\u{1}N") {
        return Line::from(Span::styled(rest.to_string(), Style::new().fg(Color::Magenta)));
    }
    Line::from(line.to_string())
}

fn draw_trace(frame: &mut Frame, app: &App, area: Rect) {
    let following = app.trace_scroll.is_none();
    let title = format!(
        " Protocol trace · {} lines{} ",
        app.trace.len(),
        if following {
            " · following"
        } else {
            " · scrolled (G to follow)"
        }
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(focus_style(app.context() == Context::Trace))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let len = app.trace.len();
    let start = match app.trace_scroll {
        Some(s) => s.min(len.saturating_sub(height)),
        None => len.saturating_sub(height),
    };
    let width = inner.width as usize;
    let lines: Vec<Line> = app
        .trace
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

fn draw_activity(frame: &mut Frame, app: &App, area: Rect) {
    let hint = match (app.context(), &app.link, &app.commit) {
        (_, Link::Lost(_), _) => " read-only · t trace · ? help · q quit ",
        (_, _, Commit::Deleting { .. } | Commit::Quitting { .. }) => " committing… Ctrl-C leaves without QUIT ",
        (Context::Message, _, _) => " r raw · d mark · Esc back · ? help ",
        (Context::Confirm, _, _) => " y delete · n back · k keep all ",
        _ => " Enter open · d mark · t trace · ? help · q quit ",
    };
    let hint_w = (hint.chars().count() as u16).min(area.width / 2);
    let [left, right] = Layout::horizontal([Constraint::Min(1), Constraint::Length(hint_w)]).areas(area);
    let style = match (&app.link, &app.commit) {
        (Link::Lost(_), _) => Style::new().fg(Color::Red).bold(),
        (_, Commit::Deleting { .. } | Commit::Quitting { commit: true }) => Style::new().fg(Color::Yellow).bold(),
        _ => Style::new(),
    };
    frame.render_widget(
        Paragraph::new(fit(&app.activity, left.width as usize)).style(style),
        left,
    );
    frame.render_widget(Paragraph::new(hint).dark_gray().alignment(Alignment::Right), right);
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
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
        Span::raw(format!("{} msgs, {}", app.rows.len(), human_size(app.total_size()))),
    ]);
    if total > 0 && loaded < total {
        spans.push(Span::raw(format!(" │ headers {loaded}/{total}")));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::Black)),
        area,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

fn draw_confirm(frame: &mut Frame, app: &App) {
    let Some(c) = &app.confirm else { return };
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
    lines.push(Line::from(vec![
        Span::styled(" y ", Style::new().fg(Color::Black).bg(Color::Red).bold()),
        Span::raw(" delete them   "),
        Span::styled(" n ", Style::new().fg(Color::Black).bg(Color::Gray).bold()),
        Span::raw(" go back   "),
        Span::styled(" k ", Style::new().fg(Color::Black).bg(Color::Green).bold()),
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

/// The help screen's lines, straight from the key map.
pub fn help_lines() -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut context = None;
    for b in BINDINGS {
        if context != Some(b.context) {
            if context.is_some() {
                lines.push(Line::from(""));
            }
            lines.push(Line::from(b.context.title()).bold().fg(Color::Cyan));
            context = Some(b.context);
        }
        let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<16}", keys.join(" / ")), Style::new().bold()),
            Span::raw(b.help),
        ]));
    }
    lines
}

/// How far the help can scroll on a screen of this size.
pub fn help_max_scroll(screen: (u16, u16)) -> usize {
    let lines = help_lines().len();
    let popup_height = (lines as u16 + 2).min(screen.1);
    lines.saturating_sub(popup_height.saturating_sub(2) as usize)
}

fn draw_help(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let lines = help_lines();
    let popup = centered(area, 76, lines.len() as u16 + 2);
    let room = popup.height.saturating_sub(2) as usize;
    let clipped = lines.len() > room;
    let start = app.help_scroll.min(lines.len().saturating_sub(room));
    let title = if clipped {
        format!(
            " Keys {}-{} of {} · j/k scroll · Esc close ",
            start + 1,
            (start + room).min(lines.len()),
            lines.len()
        )
    } else {
        " Keys (? or Esc to close) ".to_string()
    };
    let shown: Vec<Line> = lines.into_iter().skip(start).take(room).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(shown).block(Block::new().borders(Borders::ALL).title(title)),
        popup,
    );
}
