//! The message list: a table of the rows on screen, with a gauge while
//! headers load.

use super::focus_style;
use crate::app::App;
use crate::app::keymap::Context;
use crate::app::list::{Headers, MessageRow};
use crate::text::{fit, human_size};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Row, Table};

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let list = &app.list;
    let title = format!(
        " Messages · {} · sorted by {}{} ",
        list.rows.len(),
        list.sort.label(),
        if list.sort_descending { " ↓" } else { "" }
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(focus_style(app.context() == Context::List))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let gauge_h = u16::from(app.shown().headers_gauge);
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
    if !list.listed {
        frame.render_widget(Paragraph::new("waiting for LIST…").dark_gray(), table_area);
        return;
    }
    if list.rows.is_empty() {
        frame.render_widget(Paragraph::new("the maildrop is empty").dark_gray(), table_area);
        return;
    }
    let width = table_area.width as usize;
    let number_w = list.rows.last().map(|r| r.number.to_string().len()).unwrap_or(1).max(1);
    let date_w = if width >= 100 { 16 } else { 10 };
    let fixed = number_w + 1 + 1 + 8 + date_w + 5;
    let rest = width.saturating_sub(fixed);
    let from_w = (rest / 3).clamp(8, 28);
    let subject_w = rest.saturating_sub(from_w + 1);
    let height = table_area.height.saturating_sub(1) as usize;
    let end = (list.offset + height).min(list.order.len());
    let rows = list.order[list.offset..end].iter().enumerate().map(|(i, &idx)| {
        let row = &list.rows[idx];
        let selected = list.offset + i == list.selected;
        table_row(row, selected, date_w, from_w, subject_w)
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

fn table_row(row: &MessageRow, selected: bool, date_w: usize, from_w: usize, subject_w: usize) -> Row<'static> {
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
