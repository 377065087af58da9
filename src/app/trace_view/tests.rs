use super::*;
use crate::pop3::client::CommandKind;
use crate::session::trace::fixtures::{answer, opening, sent, tops};

fn store() -> TraceStore {
    let mut store = TraceStore::default();
    for e in opening().into_iter().chain(tops(1, 3_000, 1000, 10, 3)) {
        store.push(e);
    }
    store
}

fn kinds(rows: &[Row]) -> Vec<&'static str> {
    rows.iter()
        .map(|r| match r.kind {
            RowKind::Line(_) => "line",
            RowKind::Marker(_) => "marker",
            RowKind::Detail(_) => "detail",
            RowKind::Group { .. } => "group",
            RowKind::GroupFolded { .. } => "group-folded",
            RowKind::Folded { .. } => "folded",
        })
        .collect()
}

#[test]
fn a_sweep_is_one_group_row_under_the_opening() {
    let store = store();
    let rows = build(&store, Filter::All, &Open::default());
    assert_eq!(kinds(&rows), ["line", "line", "line", "line", "line", "line", "group"]);
    assert!(rows.windows(2).all(|w| w[0].key < w[1].key), "keys grow");
}

#[test]
fn an_expanded_group_shows_its_lines_with_batch_markers() {
    let store = store();
    let group_seq = rows_key_of_group(&store);
    let open = Open {
        groups: HashSet::from([group_seq]),
        ..Open::default()
    };
    let rows = build(&store, Filter::All, &open);
    let k = kinds(&rows);
    assert_eq!(k.iter().filter(|&&k| k == "marker").count(), 3, "three writes of 1,000");
    assert_eq!(k.iter().filter(|&&k| k == "line").count(), 6 + 9_000);
    assert_eq!(
        k.iter().filter(|&&k| k == "detail").count(),
        0,
        "its first line stays closed"
    );
    assert!(rows.windows(2).all(|w| w[0].key < w[1].key), "keys grow");
}

fn rows_key_of_group(store: &TraceStore) -> u64 {
    let rows = build(store, Filter::All, &Open::default());
    rows.iter()
        .find(|r| matches!(r.kind, RowKind::Group { .. }))
        .map(|r| r.key.0)
        .unwrap()
}

fn lines_open(seq: u64) -> Open {
    Open {
        lines: HashSet::from([seq]),
        ..Open::default()
    }
}

#[test]
fn a_line_expands_into_its_detail() {
    let store = store();
    let capa_body = store.lines().find(|k| k.entry.payload.is_some()).unwrap().seq;
    let rows = build(&store, Filter::All, &lines_open(capa_body));
    let details: Vec<&str> = rows
        .iter()
        .filter_map(|r| match &r.kind {
            RowKind::Detail(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(details.contains(&"│ PIPELINING"), "{details:?}");
    let auth = store.lines().find(|k| k.entry.text.starts_with("AUTH")).unwrap().seq;
    let rows = build(&store, Filter::All, &lines_open(auth));
    assert!(
        rows.iter()
            .any(|r| matches!(&r.kind, RowKind::Detail(t) if t.starts_with("SASL PLAIN: step 1"))),
        "{rows:?}"
    );
}

#[test]
fn filters_pick_errors_commands_or_the_essentials() {
    let mut store = store();
    let refused = CommandKind::Top { msg: 3001, lines: 0 };
    store.push(sent(9_000, refused, 9, Some(1)));
    store.push(answer(9_001, refused, "-ERR gone", 1, 9));
    let errors = build(&store, Filter::Errors, &Open::default());
    assert_eq!(kinds(&errors), ["line"]);
    let commands = build(&store, Filter::Commands, &Open::default());
    assert_eq!(
        commands.iter().filter(|r| matches!(r.kind, RowKind::Line(_))).count(),
        2 + 3_001,
        "CAPA, AUTH and every TOP"
    );
    let essential = build(&store, Filter::NoBulk, &Open::default());
    // The opening and the -ERR (the TOP it answers is bulk).
    assert_eq!(kinds(&essential), ["line"; 7]);
}

#[test]
fn the_window_follows_or_keeps_the_selection_on_screen() {
    let rows: Vec<Row> = (0..100)
        .map(|i| Row {
            key: line_key(i, i),
            kind: RowKind::Detail(String::new()),
        })
        .collect();
    assert_eq!(window(&rows, None, None, 10), (90, 99));
    let key = |i| Some(line_key(i, i));
    assert_eq!(window(&rows, key(50), key(45), 10), (45, 50));
    assert_eq!(window(&rows, key(44), key(45), 10), (44, 44));
    assert_eq!(window(&rows, key(60), key(45), 10), (51, 60));
    // A key that is gone (folded) finds the row after it.
    assert_eq!(window(&rows[..], Some((50, 0, 0)), key(45), 10), (45, 50));
    assert_eq!(window(&[], None, None, 10), (0, 0));
}
