use super::*;
use crate::session::trace::fixtures::{answer, opening, sent, tops};
use std::time::Duration;

impl TraceStore {
    fn extend_for_test(&mut self, entries: impl IntoIterator<Item = TraceEntry>) {
        for e in entries {
            self.push(e);
        }
    }
}

fn small() -> TraceStore {
    TraceStore::with_budget(Budget {
        bulk: 64 * 1024,
        essential: 16 * 1024,
    })
}

fn texts(store: &TraceStore) -> Vec<String> {
    store.lines().map(|k| k.entry.text.clone()).collect()
}

#[test]
fn the_opening_survives_any_amount_of_bulk() {
    let mut store = small();
    for e in opening() {
        store.push(e);
    }
    for e in tops(1, 20_000, 1000, 10, 3) {
        store.push(e);
    }
    let held = texts(&store);
    assert_eq!(held[0], "+OK Dovecot ready.");
    assert_eq!(held[1], "CAPA");
    assert!(held.contains(&"AUTH PLAIN ********".to_string()), "{:?}", &held[..8]);
    assert!(
        store.memory() <= 64 * 1024 + 16 * 1024 + 2 * GROUP_COST,
        "{}",
        store.memory()
    );
    // The newest TOPs are held in full; the oldest were folded.
    assert!(held.last().unwrap().starts_with("<1 lines"), "{:?}", held.last());
    assert!(store.totals().folded_lines > 50_000);
}

#[test]
fn folded_lines_are_counted_never_lost() {
    let mut store = small();
    let entries = tops(1, 5_000, 100, 10, 1);
    let total = entries.len() as u64;
    for e in entries {
        store.push(e);
    }
    let mut held = 0u64;
    let mut folded = 0u64;
    let mut commands = 0u64;
    for block in store.blocks() {
        match block {
            Block::Line(_) => held += 1,
            Block::Group(g) => {
                held += g.lines.len() as u64;
                folded += g.folded.lines;
                commands += g.stats.commands;
                assert_eq!(g.stats.lines, g.folded.lines + g.lines.len() as u64);
            }
            Block::Folded(f) => {
                for (verb, stats) in &f.runs {
                    assert_eq!(*verb, "TOP");
                    folded += stats.lines;
                    commands += stats.commands;
                }
            }
        }
    }
    assert_eq!(held + folded, total);
    assert_eq!(commands, 5_000);
    assert_eq!(store.totals().lines, total);
}

#[test]
fn one_sweep_is_one_group_with_its_numbers_and_latencies() {
    let mut store = TraceStore::default();
    for e in opening().into_iter().chain(tops(1, 3_000, 1000, 10, 3)) {
        store.push(e);
    }
    let groups: Vec<&Group> = store
        .blocks()
        .filter_map(|b| match b {
            Block::Group(g) => Some(g),
            _ => None,
        })
        .collect();
    assert_eq!(groups.len(), 1);
    let g = groups[0];
    assert_eq!((g.verb, g.stats.commands, g.stats.answers), ("TOP", 3_000, 3_000));
    assert_eq!((g.stats.first, g.stats.last), (Some(1), Some(3_000)));
    assert_eq!(g.folded.lines, 0, "3,000 TOPs fit the default budget");
    let median = g.stats.latency.median().unwrap();
    assert!(
        median > Duration::from_millis(400) && median < Duration::from_millis(600),
        "{median:?}"
    );
}

#[test]
fn an_error_breaks_a_run_and_is_kept() {
    let mut store = small();
    let mut entries = tops(1, 10, 10, 10, 1);
    let refused = CommandKind::Top { msg: 11, lines: 0 };
    entries.push(sent(100, refused, 2, Some(1)));
    entries.push(answer(101, refused, "-ERR no such message", 1, 2));
    entries.extend(tops(12, 20_000, 1000, 200, 3));
    for e in entries {
        store.push(e);
    }
    let errors: Vec<&Kept> = store.lines().filter(|k| k.entry.is_error()).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].entry.command, Some(refused));
    let kinds: Vec<&str> = store
        .blocks()
        .map(|b| match b {
            Block::Line(_) => "line",
            Block::Group(_) => "group",
            Block::Folded(_) => "folded",
        })
        .collect();
    assert_eq!(kinds, ["folded", "line", "group"]);
}

#[test]
fn a_flood_of_alternating_commands_stays_a_few_blocks() {
    let mut store = small();
    for i in 0..20_000u32 {
        let kind = if i % 2 == 0 {
            CommandKind::Noop
        } else {
            CommandKind::Stat
        };
        store.push(sent(u64::from(i), kind, u64::from(i), Some(1)));
        store.push(answer(u64::from(i), kind, "+OK", 1, u64::from(i)));
    }
    assert!(store.len() < 200, "{} blocks", store.len());
    assert!(store.memory() <= 64 * 1024 + 16 * 1024 + 2 * GROUP_COST);
    let Some(Block::Folded(f)) = store.block(0) else {
        panic!("the folded past comes first")
    };
    assert_eq!(f.runs.len(), 2, "one summary per command: {:?}", f.runs);
}

#[test]
fn errors_beyond_their_own_budget_are_folded_too() {
    let mut store = small();
    let kind = CommandKind::Top { msg: 1, lines: 0 };
    for i in 0..50_000u64 {
        store.push(answer(
            i,
            kind,
            "-ERR [SYS/TEMP] try again later, this line is long enough",
            1,
            i,
        ));
    }
    assert!(store.memory() <= 64 * 1024 + 16 * 1024 + 2 * GROUP_COST);
    assert_eq!(store.totals().lines, 50_000);
}

#[test]
fn totals_keep_latencies_per_command_and_of_commands_sent_alone() {
    let mut store = TraceStore::default();
    for e in opening().into_iter().chain(tops(1, 100, 100, 10, 3)) {
        store.push(e);
    }
    let totals = store.totals();
    let verbs: Vec<&str> = totals.by_verb.iter().map(|(v, _)| *v).collect();
    assert_eq!(verbs, ["CAPA", "AUTH", "TOP"]);
    assert_eq!(totals.alone.count(), 2, "CAPA and AUTH are sent alone");
    assert_eq!(totals.alone.min(), Some(Duration::from_millis(1)));
}

#[test]
fn interleaved_commands_keep_to_their_own_groups() {
    let mut store = TraceStore::default();
    let (list, uidl) = (CommandKind::List(None), CommandKind::Uidl(None));
    store.push(sent(1, list, 3, Some(2)));
    store.push(sent(1, uidl, 3, None));
    store.push(answer(2, list, "+OK", 1, 3));
    store.push(answer(3, uidl, "+OK", 2, 3));
    let mut sweep = tops(1, 2_000, 1000, 4, 4).into_iter();
    store.extend_for_test(sweep.by_ref().take(999));
    // UIDL's payload arrives while the first TOPs go out.
    store.push(crate::session::trace::fixtures::body(5, uidl, 3, "1 a\r\n"));
    store.extend_for_test(sweep);
    let groups: Vec<(&str, u64, u64)> = store
        .blocks()
        .map(|b| match b {
            Block::Group(g) => (g.verb, g.stats.commands, g.stats.lines),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(groups, [("LIST", 1, 2), ("UIDL", 1, 3), ("TOP", 2_000, 6_000)]);
}

#[test]
fn an_essential_line_ends_every_run() {
    let mut store = TraceStore::default();
    store.extend_for_test(tops(1, 3, 3, 0, 1));
    store.push(TraceEntry::new(
        Duration::from_millis(9),
        Direction::Note,
        "a note".into(),
    ));
    store.extend_for_test(tops(4, 3, 3, 10, 2));
    assert_eq!(store.len(), 3, "group, note, group");
}
