//! The protocol trace pane: lines, batch markers, groups, folded
//! summaries and inline detail, the selected row highlighted while the
//! pane has the focus.

use super::theme::{self, Theme};
use crate::app::App;
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::trace_pane::row_matches;
use crate::app::trace_view::{Row, RowKind, kept};
use crate::pop3::client::Direction;
use crate::session::trace::format::{batch_text, fold_text, suffix};
use crate::session::trace::stats::{RunStats, format_latency, thousands};
use crate::session::trace::store::{Block, Group, TraceStore};
use crate::session::trace::{TraceEntry, stats};
use crate::text::{fit, human_size};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{self, Borders, Paragraph};
use std::time::Duration;

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let trace = &app.trace;
    let theme = theme::of(app);
    let focused = app.context() == Context::Trace;
    let inner = widgets::Block::new().borders(Borders::ALL).inner(area);
    let height = inner.height as usize;
    let width = inner.width as usize;
    let (title, lines) = trace.with_rows(|store, rows| {
        let (first, selected) = trace.window(rows, height);
        let lines: Vec<Line> = rows
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, row)| {
                let line = row_line(theme, store, row, width);
                let found = row_matches(store, row, &trace.search.query) && !trace.search.editing;
                if focused && i == selected {
                    bar(line, width, theme.selected)
                } else if found {
                    bar(line, width, theme.found)
                } else {
                    line
                }
            })
            .collect();
        (title(app, store), lines)
    });
    frame.render_widget(theme.pane(title, focused), area);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `line` across the whole `width` in `style` alone (a selection bar like
/// the list's, or a search match): the line's own colours would make a
/// reversed bar a patchwork of backgrounds.
fn bar(line: Line<'static>, width: usize, style: Style) -> Line<'static> {
    let used: usize = line.spans.iter().map(|s| s.width()).sum();
    let mut spans: Vec<Span> = line.spans.into_iter().map(|s| Span::styled(s.content, style)).collect();
    spans.push(Span::styled(" ".repeat(width.saturating_sub(used)), style));
    Line::from(spans)
}

fn title(app: &App, store: &TraceStore) -> String {
    let trace = &app.trace;
    let state = if trace.following() {
        " · following".to_string()
    } else {
        format!(" · scrolled ({} to follow)", keys_for(Context::Trace, Action::Last))
    };
    let filter = match trace.filter {
        crate::app::trace_view::Filter::All => String::new(),
        other => format!(" · {}", other.label()),
    };
    let search = if trace.search.editing {
        format!(" · /{}▏", trace.search.query)
    } else if !trace.search.query.is_empty() {
        format!(" · /{} (n next)", trace.search.query)
    } else {
        String::new()
    };
    format!(
        " Protocol trace · {} lines{state}{filter}{search} ",
        store.totals().lines
    )
}

const TIME_WIDTH: usize = 10;

fn time(at: Duration) -> Span<'static> {
    Span::raw(format!("{:>9.3} ", at.as_secs_f64()))
}

fn indent() -> Span<'static> {
    Span::raw(" ".repeat(TIME_WIDTH + 3))
}

fn row_line(theme: &Theme, store: &TraceStore, row: &Row, width: usize) -> Line<'static> {
    let room = width.saturating_sub(TIME_WIDTH + 3);
    match &row.kind {
        RowKind::Line(at) => match kept(store, *at) {
            Some(k) => entry_line(theme, &k.entry, width),
            None => Line::default(),
        },
        RowKind::Marker(at) => {
            let text = kept(store, *at)
                .and_then(|k| k.entry.opens_pipelined_batch())
                .map(|(batch, size)| format!("── {}", batch_text(batch, size)))
                .unwrap_or_default();
            Line::from(vec![indent(), Span::styled(fit(&text, room), theme.note)])
        }
        RowKind::Detail(text) => Line::from(vec![indent(), Span::raw(fit(text, room).trim_end().to_string())]),
        RowKind::Group { block, expanded } => match store.block(*block) {
            Some(Block::Group(group)) => group_line(theme, group, *expanded, width),
            _ => Line::default(),
        },
        RowKind::GroupFolded { block } => match store.block(*block) {
            Some(Block::Group(group)) => Line::from(vec![
                indent(),
                Span::styled(
                    fit(&fold_text(group.verb, &group.folded), room).trim_end().to_string(),
                    theme.note,
                ),
            ]),
            _ => Line::default(),
        },
        RowKind::Folded { block, run } => match store.block(*block) {
            Some(Block::Folded(folded)) => match folded.runs.get(*run) {
                Some((verb, stats)) => Line::from(vec![
                    time(stats.first_at.unwrap_or_default()),
                    Span::styled(
                        fit(&fold_text(verb, stats), width.saturating_sub(TIME_WIDTH))
                            .trim_end()
                            .to_string(),
                        theme.note,
                    ),
                ]),
                None => Line::default(),
            },
            _ => Line::default(),
        },
    }
}

fn entry_line(theme: &Theme, e: &TraceEntry, width: usize) -> Line<'static> {
    let style = match e.direction {
        Direction::Sent => theme.sent,
        Direction::Received | Direction::Note if e.is_error() => theme.refused,
        Direction::Received => theme.received,
        Direction::Note => theme.note,
    };
    let suffix = suffix(e);
    let text = fit(&e.text, width.saturating_sub(TIME_WIDTH + 3 + suffix.chars().count()))
        .trim_end()
        .to_string();
    Line::from(vec![
        time(e.at),
        Span::styled(format!("{} ", e.arrow()), style.add_modifier(Modifier::BOLD)),
        Span::styled(text, style),
        Span::raw(suffix),
    ])
}

/// "▸ TOP × 3,000 · 1.4 MB · median 2.6 ms · p99 9.8 ms · #1–#3000".
fn group_line(theme: &Theme, group: &Group, expanded: bool, width: usize) -> Line<'static> {
    let s: &RunStats = &group.stats;
    let mut text = format!(
        "{} {} × {}",
        if expanded { "▾" } else { "▸" },
        group.verb,
        thousands(s.commands.max(s.answers))
    );
    if s.bytes > 0 {
        text.push_str(&format!(" · {}", human_size(s.bytes)));
    }
    if let (Some(median), Some(p99)) = (s.latency.median(), s.latency.p99()) {
        text.push_str(&format!(
            " · median {} · p99 {}",
            format_latency(median),
            format_latency(p99)
        ));
    }
    if let (Some(first), Some(last)) = (s.first, s.last) {
        text.push_str(&format!(" · #{first}–#{last}"));
    }
    if let (Some(a), Some(b)) = (s.first_at, s.last_at) {
        text.push_str(&format!(" · {:.2}–{:.2} s", a.as_secs_f64(), b.as_secs_f64()));
    }
    if group.folded.lines > 0 {
        text.push_str(&format!(" · {} lines folded", stats::thousands(group.folded.lines)));
    }
    let mut spans = vec![
        time(s.first_at.unwrap_or_default()),
        Span::styled(
            fit(&text, width.saturating_sub(TIME_WIDTH)).trim_end().to_string(),
            theme.group,
        ),
    ];
    if s.errors > 0 {
        spans.push(Span::styled(format!(" · {} errors", s.errors), theme.error));
    }
    Line::from(spans)
}
