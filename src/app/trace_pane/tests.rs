use super::*;
use crate::session::trace::fixtures::{opening, tops};

fn pane() -> TracePane {
    let pane = TracePane {
        visible: true,
        focus: true,
        ..TracePane::default()
    };
    for e in opening().into_iter().chain(tops(1, 3_000, 1000, 10, 3)) {
        pane.push(e);
    }
    pane
}

fn selected_text(pane: &TracePane) -> String {
    pane.with_rows(|store, rows| {
        let (_, sel) = pane.window(rows, 10);
        match &rows[sel].kind {
            RowKind::Line(at) => trace_view::kept(store, *at).unwrap().entry.text.clone(),
            RowKind::Group { .. } => "<group>".into(),
            RowKind::Detail(t) => t.clone(),
            other => format!("{other:?}"),
        }
    })
}

#[test]
fn enter_on_the_group_opens_it_and_moves_keep_working() {
    let mut p = pane();
    assert!(p.following());
    assert_eq!(selected_text(&p), "<group>");
    p.act(Action::Open, 10);
    assert!(!p.following(), "Enter takes the selection");
    assert_eq!(selected_text(&p), "<group>");
    p.act(Action::Down, 10);
    assert!(selected_text(&p).starts_with("Marker"), "the first write's marker");
    p.act(Action::Down, 10);
    assert_eq!(selected_text(&p), "TOP 1 0");
    p.act(Action::Up, 10);
    p.act(Action::Up, 10);
    p.act(Action::Open, 10);
    assert_eq!(selected_text(&p), "<group>", "closed again");
    p.act(Action::Up, 10);
    assert_eq!(selected_text(&p), "+OK Logged in.");
}

#[test]
fn first_shows_the_greeting_and_last_follows_again() {
    let mut p = pane();
    p.act(Action::First, 10);
    assert_eq!(selected_text(&p), "+OK Dovecot ready.");
    assert!(!p.following());
    p.act(Action::Last, 10);
    assert!(p.following());
}

#[test]
fn search_finds_a_line_inside_a_collapsed_group() {
    let mut p = pane();
    p.act(Action::First, 10);
    p.act(Action::TraceSearch, 10);
    for c in "tOp 2500".chars() {
        p.type_search(SearchKey::Char(c), 10);
    }
    let update = p.type_search(SearchKey::Done, 10);
    assert_eq!(update, PaneUpdate::default());
    assert_eq!(selected_text(&p), "TOP 2500 0");
    p.act(Action::TraceSearchNext, 10);
    assert_eq!(selected_text(&p), "+OK", "the answer is labelled TOP 2500 0 too");
    let update = p.act(Action::TraceSearchPrevious, 10);
    assert_eq!(update, PaneUpdate::default());
    assert_eq!(selected_text(&p), "TOP 2500 0");
    p.search.query = "no such thing".into();
    let update = p.act(Action::TraceSearchNext, 10);
    assert!(update.say.unwrap().contains("no trace line matches"));
}

#[test]
fn the_filter_cycles_and_save_is_asked_for() {
    let mut p = pane();
    let labels: Vec<String> = (0..4).map(|_| p.act(Action::TraceFilter, 10).say.unwrap()).collect();
    assert_eq!(
        labels,
        [
            "trace: only errors",
            "trace: only commands",
            "trace: bulk groups hidden",
            "trace: everything"
        ]
    );
    assert!(p.act(Action::TraceSave, 10).save);
}
