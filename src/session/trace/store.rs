//! The trace kept in memory: the whole conversation, within a budget.
//!
//! Lines arrive in order and are numbered (`seq`). Two kinds:
//!
//! - **essential**: the opening (greeting, CAPA, STLS, the login), notes,
//!   RSET and QUIT, and every error. Always kept (within a budget of their
//!   own, which only a hostile server could exhaust; beyond it they are
//!   treated as bulk);
//! - **bulk**: STAT, LIST, UIDL, TOP, RETR, DELE, NOOP and their answers.
//!   A run of bulk lines of one command is a `Group`, counted as it grows
//!   (`RunStats`); pipelined commands of other kinds may interleave with a
//!   run without breaking it (each joins its own kind's group), an
//!   essential line ends it. Bulk lines are kept up to `Budget::bulk`; beyond it the
//!   oldest are folded: removed, but counted in their group's `folded`
//!   statistics. A group folded entirely becomes part of a `Folded` block,
//!   which merges with the one before it, so a flood of small groups stays
//!   a handful of blocks.
//!
//! Blocks are kept in two parts: `settled` (the past: essential lines and
//! folded summaries, which never change again but for a summary growing)
//! and `live` (from the oldest group that still holds lines on). Folding
//! only ever touches the front of `live`, so every push costs O(1)
//! amortized.

use super::stats::RunStats;
use super::{TraceEntry, TraceHeader};
use crate::pop3::client::{CommandKind, Direction};
use crate::session::trace::stats::LatencyStats;
use std::collections::VecDeque;

/// Memory a store may spend on lines, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub bulk: usize,
    pub essential: usize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            bulk: 8 * 1024 * 1024,
            essential: 2 * 1024 * 1024,
        }
    }
}

/// What a group costs besides its lines (its statistics grow a little).
const GROUP_COST: usize = 1024;
/// Groups of different commands that can run side by side: a bulk line
/// joins its command's group among the last this many blocks.
const RUNS_INTERLEAVED: usize = 4;

/// A line and its number in the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub seq: u64,
    pub entry: TraceEntry,
}

/// A run of bulk lines of one command.
#[derive(Debug, Clone)]
pub struct Group {
    pub verb: &'static str,
    pub first_seq: u64,
    /// The lines still held (the newest of the run).
    pub lines: VecDeque<Kept>,
    /// Every line of the run, held or folded.
    pub stats: RunStats,
    /// The lines folded away (the oldest of the run).
    pub folded: RunStats,
}

/// Groups folded entirely, one after the other: per command, what they
/// held.
#[derive(Debug, Clone)]
pub struct Folded {
    pub first_seq: u64,
    pub runs: Vec<(&'static str, RunStats)>,
}

#[derive(Debug, Clone)]
pub enum Block {
    Line(Kept),
    Group(Group),
    Folded(Folded),
}

impl Block {
    /// The number of its first line (held or not).
    pub(crate) fn first_seq(&self) -> u64 {
        match self {
            Block::Line(k) => k.seq,
            Block::Group(g) => g.first_seq,
            Block::Folded(f) => f.first_seq,
        }
    }
}

/// Session-wide counts, for the connection panel.
#[derive(Debug, Clone, Default)]
pub(crate) struct Totals {
    pub lines: u64,
    pub folded_lines: u64,
    /// Answer latencies per command verb.
    pub by_verb: Vec<(&'static str, LatencyStats)>,
    /// Latencies of answers to commands that go alone on the wire (the
    /// barriers: CAPA, the login, RSET, QUIT): a round trip plus little
    /// server work, so the best estimate of the round trip there is.
    pub alone: LatencyStats,
}

impl Totals {
    fn add(&mut self, entry: &TraceEntry) {
        self.lines += 1;
        let (Some(kind), Some(rtt)) = (entry.command, entry.rtt) else {
            return;
        };
        let verb = kind.spec().verb;
        match self.by_verb.iter_mut().find(|(v, _)| *v == verb) {
            Some((_, stats)) => stats.add(rtt),
            None => {
                let mut stats = LatencyStats::default();
                stats.add(rtt);
                self.by_verb.push((verb, stats));
            }
        }
        if kind.spec().barrier {
            self.alone.add(rtt);
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TraceStore {
    header: Option<TraceHeader>,
    settled: Vec<Block>,
    live: VecDeque<Block>,
    budget: Budget,
    bulk_cost: usize,
    essential_cost: usize,
    next_seq: u64,
    generation: u64,
    totals: Totals,
}

impl TraceStore {
    pub fn with_budget(budget: Budget) -> TraceStore {
        TraceStore {
            budget,
            ..TraceStore::default()
        }
    }

    pub(crate) fn set_header(&mut self, header: TraceHeader) {
        self.header = Some(header);
        self.generation += 1;
    }

    pub fn header(&self) -> Option<&TraceHeader> {
        self.header.as_ref()
    }

    pub fn push(&mut self, entry: TraceEntry) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.generation += 1;
        self.totals.add(&entry);
        let cost = cost_of(&entry);
        let kept = Kept { seq, entry };
        if is_essential(&kept.entry) && self.essential_cost + cost <= self.budget.essential {
            self.essential_cost += cost;
            self.live.push_back(Block::Line(kept));
        } else {
            self.push_bulk(kept, cost);
        }
        self.fold_to_budget();
    }

    fn push_bulk(&mut self, kept: Kept, cost: usize) {
        let verb = verb_of(&kept.entry);
        self.bulk_cost += cost;
        match self.recent_group(verb) {
            Some(group) => {
                group.stats.add(&kept.entry);
                group.lines.push_back(kept);
            }
            None => {
                self.bulk_cost += GROUP_COST;
                let mut stats = RunStats::default();
                stats.add(&kept.entry);
                self.live.push_back(Block::Group(Group {
                    verb,
                    first_seq: kept.seq,
                    lines: VecDeque::from([kept]),
                    stats,
                    folded: RunStats::default(),
                }));
            }
        }
    }

    /// The group a bulk line of `verb` joins: one of the last few blocks,
    /// if only other groups came after it. Pipelined commands of different
    /// kinds interleave (UIDL's answer arrives while TOPs are going out,
    /// a RETR is sent amid a sweep); each command's lines stay with their
    /// kind's group. An essential line (an error, a note) ends every run.
    fn recent_group(&mut self, verb: &str) -> Option<&mut Group> {
        let at = self
            .live
            .iter()
            .rev()
            .take(RUNS_INTERLEAVED)
            .map_while(|block| match block {
                Block::Group(group) => Some(group.verb == verb),
                _ => None,
            })
            .position(|same| same)?;
        let index = self.live.len() - 1 - at;
        match self.live.get_mut(index) {
            Some(Block::Group(group)) => Some(group),
            _ => None,
        }
    }

    /// Folds the oldest bulk lines until the rest fits the budget.
    fn fold_to_budget(&mut self) {
        while self.bulk_cost > self.budget.bulk {
            let Some(front) = self.live.front_mut() else { return };
            let Block::Group(group) = front else {
                let line = self.live.pop_front().expect("front exists");
                self.settled.push(line);
                continue;
            };
            if let Some(oldest) = group.lines.pop_front() {
                group.folded.add(&oldest.entry);
                self.bulk_cost -= cost_of(&oldest.entry);
                self.totals.folded_lines += 1;
            }
            if group.lines.is_empty() {
                let Some(Block::Group(group)) = self.live.pop_front() else {
                    unreachable!("the front is this group")
                };
                self.bulk_cost -= GROUP_COST;
                self.settle_folded(group);
            }
        }
    }

    fn settle_folded(&mut self, group: Group) {
        let folded = match self.settled.last_mut() {
            Some(Block::Folded(folded)) => folded,
            _ => {
                self.settled.push(Block::Folded(Folded {
                    first_seq: group.first_seq,
                    runs: Vec::new(),
                }));
                let Some(Block::Folded(folded)) = self.settled.last_mut() else {
                    unreachable!("just pushed")
                };
                folded
            }
        };
        match folded.runs.iter_mut().find(|(verb, _)| *verb == group.verb) {
            Some((_, stats)) => stats.merge(&group.stats),
            None => folded.runs.push((group.verb, group.stats)),
        }
    }

    /// Changes with every update: a view built from the store is stale
    /// once this differs.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub fn len(&self) -> usize {
        self.settled.len() + self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th block, oldest first.
    pub fn block(&self, i: usize) -> Option<&Block> {
        match i.checked_sub(self.settled.len()) {
            None => self.settled.get(i),
            Some(j) => self.live.get(j),
        }
    }

    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.settled.iter().chain(self.live.iter())
    }

    /// Every line held, in order.
    pub fn lines(&self) -> impl Iterator<Item = &Kept> {
        self.blocks().flat_map(|block| -> Box<dyn Iterator<Item = &Kept> + '_> {
            match block {
                Block::Line(kept) => Box::new(std::iter::once(kept)),
                Block::Group(group) => Box::new(group.lines.iter()),
                Block::Folded(_) => Box::new(std::iter::empty()),
            }
        })
    }

    pub(crate) fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Bytes the held lines take (an estimate that counts their text and
    /// payloads).
    pub fn memory(&self) -> usize {
        self.bulk_cost + self.essential_cost
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }
}

/// Kept whatever the budget: what a person debugging a session needs.
fn is_essential(entry: &TraceEntry) -> bool {
    entry.is_error() || entry.command.is_none_or(|kind| !is_bulk(kind))
}

/// The commands whose lines can come by the thousand.
pub(crate) fn is_bulk(kind: CommandKind) -> bool {
    matches!(
        kind,
        CommandKind::Stat
            | CommandKind::List(_)
            | CommandKind::Uidl(_)
            | CommandKind::Top { .. }
            | CommandKind::Retr(_)
            | CommandKind::Dele(_)
            | CommandKind::Noop
    )
}

/// What groups a line: its command's verb.
fn verb_of(entry: &TraceEntry) -> &'static str {
    match (entry.command, entry.direction) {
        (Some(kind), _) => kind.spec().verb,
        (None, Direction::Note) => "notes",
        (None, _) => "unsolicited",
    }
}

fn cost_of(entry: &TraceEntry) -> usize {
    std::mem::size_of::<Kept>() + entry.text.capacity() + entry.payload.as_ref().map_or(0, |p| p.sample_len())
}

#[cfg(test)]
mod tests;
