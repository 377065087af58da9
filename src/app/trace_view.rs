//! The trace pane's rows: the store's blocks as a person reads them. A run
//! of one command is one group row (expandable), a line can be expanded
//! into its detail, and a filter picks what is shown.
//!
//! Rows are identified by a `RowKey` that survives changes to the store
//! (lines folded away above, new lines below): the number of its block's
//! first line, the number of the line it belongs to, and its place among
//! that line's rows. Blocks are in the order of their first lines and a
//! group's lines in their own order, so keys grow with the rows and a key
//! is found again by binary search.

use crate::session::trace::detail;
use crate::session::trace::store::{Block, Kept, TraceStore};
use crate::session::trace::{Direction, TraceEntry};
use std::collections::HashSet;

/// (its block's first line, its line, its place among that line's rows).
pub(crate) type RowKey = (u64, u64, u32);

const GROUP_ROW: u32 = 0;
const GROUP_FOLDED: u32 = 1;
const MARKER: u32 = 2;
const LINE: u32 = 3;
const DETAIL: u32 = 4;

/// The key of a line's own row, in the block that begins with line
/// `block`.
pub(crate) fn line_key(block: u64, seq: u64) -> RowKey {
    (block, seq, LINE)
}

/// What the pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    /// `-ERR` answers and session failures (timeouts, protocol errors).
    Errors,
    /// The lines written.
    Commands,
    /// Everything but the bulk groups: the opening, notes, errors.
    NoBulk,
}

impl Filter {
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::Errors,
            Filter::Errors => Filter::Commands,
            Filter::Commands => Filter::NoBulk,
            Filter::NoBulk => Filter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "everything",
            Filter::Errors => "only errors",
            Filter::Commands => "only commands",
            Filter::NoBulk => "bulk groups hidden",
        }
    }

    fn shows(self, entry: &TraceEntry) -> bool {
        match self {
            Filter::All | Filter::NoBulk => true,
            Filter::Errors => entry.is_error(),
            Filter::Commands => entry.direction == Direction::Sent,
        }
    }
}

/// Where a row's line is: a block, and for a group the line in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub block: usize,
    pub line: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    Line(At),
    /// Before a line that opens a pipelined write.
    Marker(At),
    /// A line's inline detail.
    Detail(String),
    Group {
        block: usize,
        expanded: bool,
    },
    /// The folded part of an expanded group.
    GroupFolded {
        block: usize,
    },
    /// One command's share of a folded block.
    Folded {
        block: usize,
        run: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: RowKey,
    pub kind: RowKind,
}

/// The line a row stands for, if any.
pub fn kept(store: &TraceStore, at: At) -> Option<&Kept> {
    match (store.block(at.block)?, at.line) {
        (Block::Line(kept), None) => Some(kept),
        (Block::Group(group), Some(i)) => group.lines.get(i),
        _ => None,
    }
}

/// What is open: groups (by their first line's number) and lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Open {
    pub groups: HashSet<u64>,
    pub lines: HashSet<u64>,
}

/// What Enter on a row opens or closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expansion {
    Group(u64),
    Line(u64),
}

impl Open {
    /// Opens what is closed and closes what is open.
    pub(crate) fn toggle(&mut self, what: Expansion) {
        let (set, seq) = match what {
            Expansion::Group(seq) => (&mut self.groups, seq),
            Expansion::Line(seq) => (&mut self.lines, seq),
        };
        if !set.remove(&seq) {
            set.insert(seq);
        }
    }
}

/// Builds the rows for `store` as filtered, with the groups and lines in
/// `open` expanded.
pub fn build(store: &TraceStore, filter: Filter, open: &Open) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut sasl = SaslSteps::default();
    for (block_index, block) in store.blocks().enumerate() {
        let first = block.first_seq();
        let mut line = |rows: &mut Vec<Row>, kept: &Kept, line: Option<usize>| {
            let step = sasl.step(&kept.entry);
            if filter.shows(&kept.entry) {
                let at = At {
                    block: block_index,
                    line,
                };
                push_line(rows, (first, kept), at, filter, &open.lines, step);
            }
        };
        match block {
            Block::Line(kept) => line(&mut rows, kept, None),
            Block::Group(group) => {
                let inline = filter != Filter::All || (group.stats.commands <= 1 && group.folded.lines == 0);
                if filter == Filter::NoBulk {
                    continue;
                }
                if inline {
                    for (i, kept) in group.lines.iter().enumerate() {
                        line(&mut rows, kept, Some(i));
                    }
                    continue;
                }
                let expanded = open.groups.contains(&group.first_seq);
                rows.push(Row {
                    key: (first, 0, GROUP_ROW),
                    kind: RowKind::Group {
                        block: block_index,
                        expanded,
                    },
                });
                if !expanded {
                    continue;
                }
                if group.folded.lines > 0 {
                    rows.push(Row {
                        key: (first, 0, GROUP_FOLDED),
                        kind: RowKind::GroupFolded { block: block_index },
                    });
                }
                for (i, kept) in group.lines.iter().enumerate() {
                    line(&mut rows, kept, Some(i));
                }
            }
            Block::Folded(folded) if filter == Filter::All => {
                for run in 0..folded.runs.len() {
                    rows.push(Row {
                        key: (first, 0, run as u32),
                        kind: RowKind::Folded {
                            block: block_index,
                            run,
                        },
                    });
                }
            }
            Block::Folded(_) => {}
        }
    }
    rows
}

/// A line's rows: its batch marker, itself, its detail if expanded.
fn push_line(
    rows: &mut Vec<Row>,
    (first, kept): (u64, &Kept),
    at: At,
    filter: Filter,
    expanded: &HashSet<u64>,
    step: Option<u32>,
) {
    if filter != Filter::Errors && kept.entry.opens_pipelined_batch().is_some() {
        rows.push(Row {
            key: (first, kept.seq, MARKER),
            kind: RowKind::Marker(at),
        });
    }
    rows.push(Row {
        key: line_key(first, kept.seq),
        kind: RowKind::Line(at),
    });
    if expanded.contains(&kept.seq) {
        let context = detail::Context { sasl_step: step };
        for (n, text) in detail::lines(&kept.entry, context).into_iter().enumerate() {
            rows.push(Row {
                key: (first, kept.seq, DETAIL + n as u32),
                kind: RowKind::Detail(text),
            });
        }
    }
}

/// Counts the steps of each AUTH exchange as its lines go by.
#[derive(Default)]
struct SaslSteps {
    step: u32,
}

impl SaslSteps {
    fn step(&mut self, entry: &TraceEntry) -> Option<u32> {
        let Some(crate::pop3::client::CommandKind::Auth(_)) = entry.command else {
            return None;
        };
        if entry.direction == Direction::Sent && entry.text.starts_with("AUTH ") {
            self.step = 0;
        }
        self.step += 1;
        Some(self.step)
    }
}

/// What Enter on a row opens or closes: a line's marker and detail rows
/// stand for the line, a group's rows for the group.
pub(crate) fn expansion_of(row: &Row) -> Option<Expansion> {
    match row.kind {
        RowKind::Folded { .. } => None,
        RowKind::Group { .. } | RowKind::GroupFolded { .. } => Some(Expansion::Group(row.key.0)),
        RowKind::Line(_) | RowKind::Marker(_) | RowKind::Detail(_) => Some(Expansion::Line(row.key.1)),
    }
}

/// Which rows are on screen: the first shown and the selected one, for
/// `height` rows. `selected` None: the last row (following).
pub fn window(rows: &[Row], selected: Option<RowKey>, top: Option<RowKey>, height: usize) -> (usize, usize) {
    let len = rows.len();
    let height = height.max(1);
    let find = |key: RowKey| rows.partition_point(|r| r.key < key).min(len.saturating_sub(1));
    let Some(selected) = selected else {
        let last = len.saturating_sub(1);
        return (len.saturating_sub(height), last);
    };
    let sel = find(selected);
    let mut first = top.map_or_else(|| sel.saturating_sub(height / 2), find);
    if sel < first {
        first = sel;
    }
    if sel >= first + height {
        first = sel + 1 - height;
    }
    (first.min(len.saturating_sub(height)), sel)
}

#[cfg(test)]
mod tests;
