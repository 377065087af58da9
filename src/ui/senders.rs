//! The senders view: groups ranked by count or size, each with a bar of
//! its share of the messages counted so far.

use super::list::draw_gauge;
use super::theme;
use crate::app::App;
use crate::app::filter::{Counts, unknown_note};
use crate::app::senders::{Group, GroupOrder, Grouping, group_label};
use crate::text::{fit, human_size, thousands};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// Eighths of a block, for bars finer than a column.
const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(view) = &app.senders else { return };
    let index = &app.sender_index;
    let counted = index.counted();
    let total = app.list.rows.len();
    let unknown = Counts {
        pending: total.saturating_sub(counted.count),
        ..Counts::default()
    };
    let title = format!(
        " Senders by {} · {} · ranked by {} · {} messages{} ",
        match view.grouping {
            Grouping::Address => "address",
            Grouping::Domain => "domain",
        },
        thousands(index.len(view.grouping)),
        match view.order {
            GroupOrder::Count => "count",
            GroupOrder::Size => "size",
        },
        thousands(counted.count),
        unknown_note(unknown, Some(total), app.headers_coming()),
    );
    let theme = theme::of(app);
    let block = theme.pane(title, app.context() == crate::app::keymap::Context::Senders);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let gauge_h = u16::from(app.shown().headers_gauge);
    let [table_area, gauge_area] = Layout::vertical([Constraint::Min(1), Constraint::Length(gauge_h)]).areas(inner);
    if gauge_h > 0 {
        draw_gauge(frame, app, gauge_area);
    }
    if counted.count == 0 {
        frame.render_widget(Paragraph::new("no headers loaded yet"), table_area);
        return;
    }
    let height = table_area.height.saturating_sub(1) as usize;
    let ranked = index.ranked(view.grouping, view.order, view.offset + height);
    let width = table_area.width as usize;
    let sender_w = (width / 2).clamp(12, 48);
    let bar_w = width.saturating_sub(sender_w + 8 + 9 + 3);
    let rows = ranked.iter().enumerate().skip(view.offset).map(|(pos, (key, group))| {
        let share = share(*group, counted, view.order);
        // The selected row is all reverse video, its bar too.
        let (style, bar_style) = if pos == view.selected {
            (theme.selected, Style::new())
        } else {
            (Style::new(), theme.gauge)
        };
        Row::new(vec![
            Cell::from(fit(group_label(view.grouping, key), sender_w)),
            Cell::from(format!("{:>8}", thousands(group.count))),
            Cell::from(format!("{:>9}", human_size(group.bytes))),
            Cell::from(bar(share, bar_w)).style(bar_style),
        ])
        .style(style)
    });
    let widths = [
        Constraint::Length(sender_w as u16),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(bar_w as u16),
    ];
    let header = Row::new(["sender", "    msgs", "     size", "share"]).style(theme.label);
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), table_area);
}

/// The group's part of what was counted, by the ranking's measure.
fn share(group: Group, counted: Group, order: GroupOrder) -> f64 {
    let (part, whole) = match order {
        GroupOrder::Count => (group.count as f64, counted.count as f64),
        GroupOrder::Size => (group.bytes as f64, counted.bytes as f64),
    };
    if whole > 0.0 {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// "██████▍      42%" in `width` columns.
fn bar(share: f64, width: usize) -> String {
    let label = if share > 0.0 && share < 0.005 {
        "  <1%".to_string()
    } else {
        format!(" {:>3.0}%", share * 100.0)
    };
    let room = width.saturating_sub(label.len());
    let eighths = (share * room as f64 * 8.0).round() as usize;
    let mut bar = "█".repeat(eighths / 8);
    bar.push_str(EIGHTHS[eighths % 8]);
    let used = eighths / 8 + usize::from(!eighths.is_multiple_of(8));
    bar.push_str(&" ".repeat(room.saturating_sub(used)));
    bar.push_str(&label);
    bar
}
