//! The message list: a table of the rows on screen, with a gauge while
//! headers load. The title says how it is sorted and limited; the bottom
//! border says what the search finds. The theme says how the selected row,
//! search matches, a visual selection and marked rows (also `D`) stand out.

use super::theme::{self, Theme};
use crate::app::App;
use crate::app::filter::{Filter, unknown_note};
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::list::{Headers, MessageList, MessageRow};
use crate::text::{fit, human_size, thousands};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Row, Table};

/// Longest query a title shows, in columns.
const QUERY_SHOWN: usize = 32;

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let list = &app.list;
    let theme = theme::of(app);
    let mut block = theme.pane(title(app), matches!(app.context(), Context::List | Context::Visual));
    if let Some(search) = app.search_filter() {
        block = block.title_bottom(Line::from(search_line(app, search)));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let gauge_h = u16::from(app.shown().headers_gauge);
    let [table_area, gauge_area] = Layout::vertical([Constraint::Min(1), Constraint::Length(gauge_h)]).areas(inner);
    if gauge_h > 0 {
        draw_gauge(frame, app, gauge_area);
    }
    if !list.listed {
        frame.render_widget(Paragraph::new("waiting for LIST…"), table_area);
        return;
    }
    if list.rows.is_empty() {
        frame.render_widget(Paragraph::new("the maildrop is empty"), table_area);
        return;
    }
    if list.order.is_empty() {
        let remove = keys_for(Context::List, Action::LimitPrompt);
        frame.render_widget(
            Paragraph::new(format!(
                "nothing matches the limit yet ({remove} then Enter shows every message)"
            )),
            table_area,
        );
        return;
    }
    draw_table(frame, app, table_area);
}

/// Headers loaded, as a bar.
pub(super) fn draw_gauge(frame: &mut Frame, app: &App, area: Rect) {
    let (loaded, total) = app.headers_progress();
    let ratio = if total == 0 { 1.0 } else { loaded as f64 / total as f64 };
    frame.render_widget(gauge(theme::of(app), ratio, format!("headers {loaded}/{total}")), area);
}

/// A progress bar in the theme's colours, its label readable over it.
pub(super) fn gauge(theme: &Theme, ratio: f64, label: String) -> Gauge<'static> {
    Gauge::default()
        .ratio(ratio.clamp(0.0, 1.0))
        .label(Span::styled(label, theme.gauge_label))
        .gauge_style(theme.gauge)
}

/// " Messages · 5000 · sorted by number ", or with a limit
/// " limit: Q · 312 of 5,000 · 48.2 MB · 1,200 not loaded yet · sorted by size ↓ "
/// (what matters first: a narrow pane cuts the end).
fn title(app: &App) -> String {
    let list = &app.list;
    let sorted = format!(
        "sorted by {}{}",
        list.sort.label(),
        if list.sort_descending { " ↓" } else { "" }
    );
    match list.limit() {
        None => format!(" Messages · {} · {sorted} ", list.rows.len()),
        Some(limit) => {
            let c = limit.counts();
            format!(
                " limit: {} · {} of {} · {}{} · {sorted} ",
                shown_query(limit),
                thousands(c.matched),
                thousands(list.rows.len()),
                human_size(c.matched_bytes),
                unknown_note(c, None, app.headers_coming()),
            )
        }
    }
}

/// The query as a title shows it: cut when long.
pub(super) fn shown_query(filter: &Filter) -> String {
    fit(filter.text(), QUERY_SHOWN.min(filter.text().chars().count()))
}

fn search_line(app: &App, search: &Filter) -> String {
    format!(
        " search: {} · {} · {}/{} next/previous ",
        shown_query(search),
        search.summary(app.list.rows.len(), app.headers_coming()),
        keys_for(Context::List, Action::SearchNext),
        keys_for(Context::List, Action::SearchPrevious),
    )
}

fn draw_table(frame: &mut Frame, app: &App, area: Rect) {
    let list = &app.list;
    let width = area.width as usize;
    let number_w = list.rows.last().map(|r| r.number.to_string().len()).unwrap_or(1).max(1);
    let date_w = if width >= 100 { 16 } else { 10 };
    let fixed = number_w + 1 + 1 + 1 + 3 + 1 + 8 + date_w + 4;
    let rest = width.saturating_sub(fixed);
    let from_w = (rest / 3).clamp(8, 28);
    let subject_w = rest.saturating_sub(from_w + 1);
    let height = area.height.saturating_sub(1) as usize;
    let search = app.search_filter();
    let visual = list.visual_range();
    let theme = theme::of(app);
    let rows = list.visible(height).map(|pos| {
        let i = list.order[pos];
        let look = Look {
            selected: pos == list.selected,
            in_visual: visual.as_ref().is_some_and(|r| r.contains(&pos)),
            matched: search.is_some_and(|s| s.matches(i)),
        };
        table_row(list, i, app.big_threshold, theme, look, (date_w, from_w, subject_w))
    });
    let widths = [
        Constraint::Length(number_w as u16),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(8),
        Constraint::Length(date_w as u16),
        Constraint::Length(from_w as u16),
        Constraint::Length(subject_w as u16),
    ];
    let header = Row::new(["#", "", "flg", "size", "date", "from", "subject"]).style(theme.label);
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
}

/// How a row stands out.
#[derive(Clone, Copy)]
struct Look {
    selected: bool,
    in_visual: bool,
    matched: bool,
}

fn table_row(
    list: &MessageList,
    i: usize,
    big_threshold: u64,
    theme: &Theme,
    look: Look,
    (date_w, from_w, subject_w): (usize, usize, usize),
) -> Row<'static> {
    let row: &MessageRow = &list.rows[i];
    let (date, from, subject) = match &row.headers {
        Headers::Loaded(h) => (
            h.date()
                .map(|d| d.get(..date_w).unwrap_or(d).replace('T', " "))
                .unwrap_or_default(),
            fit(h.from(), from_w),
            fit(h.subject(), subject_w),
        ),
        Headers::Unavailable(_) => (String::new(), "(headers unavailable)".into(), String::new()),
        _ => (String::new(), "…".into(), String::new()),
    };
    let mut style = Style::new();
    for (applies, state) in [
        (look.matched, theme.matched),
        (row.marked, theme.marked),
        (look.in_visual, theme.visual),
        (look.selected, theme.selected),
    ] {
        if applies {
            style = style.patch(state);
        }
    }
    Row::new(vec![
        row.number.to_string(),
        if row.marked { "D".into() } else { " ".into() },
        row.flags(big_threshold).iter().collect(),
        format!("{:>8}", human_size(row.size)),
        date,
        from,
        subject,
    ])
    .style(style)
}
