use super::*;
use crate::mail::HeaderSummary;
use crate::query::{MatchContext, Query};

fn list(n: u32) -> MessageList {
    let mut list = MessageList::default();
    list.fill((1..=n).map(|i| (i, 100 + u64::from(i))).collect());
    list
}

fn loaded(subject: &str, id: &str) -> Headers {
    let block = format!("From: a@example.org\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\r\n");
    Headers::Loaded(Box::new(HeaderSummary::parse(block.as_bytes())))
}

fn filter(query: &str, list: &MessageList) -> Filter {
    Filter::new(Query::parse(query).unwrap(), MatchContext::at(0), &list.rows)
}

fn shown_numbers(list: &MessageList) -> Vec<u32> {
    list.order.iter().map(|&i| list.rows[i].number).collect()
}

fn dups(list: &MessageList) -> Vec<Dup> {
    list.rows.iter().map(|r| r.dup).collect()
}

#[test]
fn marks_are_counted_incrementally() {
    let mut list = list(10);
    list.set_mark(0, true);
    list.set_mark(1, true);
    list.set_mark(1, true);
    assert_eq!(list.marked(), (2, 101 + 102));
    list.set_mark(1, false);
    assert_eq!(list.marked(), (1, 101));
    list.unmark_all();
    assert_eq!(list.marked(), (0, 0));
}

/// Issue 11 item 5: sizes are the server's numbers; sums of them must
/// neither wrap nor panic (the test profile has overflow checks on).
#[test]
fn sizes_near_u64_max_saturate_instead_of_wrapping() {
    let mut list = MessageList::default();
    list.fill(vec![(1, u64::MAX), (2, u64::MAX - 1), (3, 5)]);
    assert_eq!(list.total_size(), u64::MAX);
    list.set_mark(0, true);
    list.set_mark(1, true);
    assert_eq!(list.marked(), (2, u64::MAX));
    list.set_mark(0, false);
    assert_eq!(list.marked(), (1, u64::MAX - 1), "unmarking is exact, not saturated");
    list.set_mark(2, true);
    list.set_mark(1, false);
    assert_eq!(list.marked(), (1, 5));
}

#[test]
fn sorting_keeps_the_selected_message() {
    let mut list = list(10);
    list.selected = 3;
    assert_eq!(list.sort_next(), "sorted by date");
    assert_eq!(list.sort_next(), "sorted by size");
    assert_eq!(list.reverse_sort(), "sorted by size, descending");
    assert_eq!(list.selected_row().map(|r| r.number), Some(4));
    assert_eq!(list.order[0], 9, "biggest first");
    assert_eq!(list.sort_next(), "sorted by sender, descending");
    assert_eq!(list.sort_by(SortKey::Size, true), "sorted by size, descending");
    assert_eq!(list.selected_row().map(|r| r.number), Some(4));
}

#[test]
fn sorting_by_subject_ignores_case() {
    let mut list = list(3);
    for (i, subject) in ["beta", "Alpha", "gamma"].iter().enumerate() {
        list.set_headers(i, loaded(subject, &format!("{i}@x")));
    }
    list.sort_by(SortKey::Subject, false);
    assert_eq!(shown_numbers(&list), [2, 1, 3]);
}

#[test]
fn uids_that_come_before_the_list_wait_for_it() {
    let mut plan = crate::mailbox::ListingPlan::new(crate::mailbox::Offer::Listed, crate::mailbox::Offer::Listed);
    let uids = plan
        .apply_uidl(crate::pop3::client::Outcome::Ok(crate::pop3::client::Reply {
            status: crate::pop3::codec::parse_status_line(b"+OK").unwrap(),
            body: Some(crate::pop3::client::Body::Collected {
                bytes: b"2 two\r\n".to_vec(),
                truncated: false,
                lines: 1,
                total_bytes: 7,
            }),
        }))
        .unwrap();
    let mut list = MessageList::default();
    assert!(!list.apply_uids(uids));
    list.fill(vec![(1, 10), (2, 20)]);
    assert_eq!(list.rows[0].uid, None);
    assert_eq!(list.rows[1].uid.as_deref(), Some("two"));
}

#[test]
fn the_selection_stays_on_screen() {
    let mut list = list(100);
    list.move_selection(Action::Last, 10, 1);
    list.keep_selection_visible(10);
    assert_eq!((list.selected, list.offset), (99, 90));
    assert_eq!(list.visible(10), 90..100);
    list.move_selection(Action::PageUp, 10, 1);
    list.move_selection(Action::PageUp, 10, 1);
    list.keep_selection_visible(10);
    assert_eq!((list.selected, list.offset), (79, 79));
    list.move_selection(Action::Down, 10, 5);
    assert_eq!(list.selected, 84, "a count moves that many rows");
    list.move_selection(Action::PageUp, 10, 3);
    assert_eq!(list.selected, 54);
}

/// A dup is a Message-ID seen on a lower number; it is known only once
/// every lower row is in, whatever order the headers arrive in.
#[test]
fn dups_are_decided_as_lower_rows_arrive() {
    let mut list = list(5);
    let ids = ["a", "b", "a", "c", "a"];
    for i in [4, 2] {
        list.set_headers(i, loaded("s", ids[i]));
    }
    assert_eq!(dups(&list)[4], Dup::Yes, "a lower row (3) has its ID");
    assert_eq!(dups(&list)[2], Dup::Unknown, "rows 1 and 2 are not in yet");
    let touched = list.set_headers(0, loaded("s", "a")).unwrap();
    assert_eq!(touched.displaced, Some(2));
    assert_eq!(touched.settled, 0..1);
    assert_eq!(dups(&list)[..3], [Dup::No, Dup::Unknown, Dup::Yes]);
    let touched = list.set_headers(1, loaded("s", "b")).unwrap();
    assert_eq!(touched.settled, 1..3);
    list.set_headers(3, Headers::Unavailable("-ERR no".into()));
    assert_eq!(dups(&list), [Dup::No, Dup::No, Dup::Yes, Dup::No, Dup::Yes]);
}

#[test]
fn a_limit_shows_matches_and_takes_new_ones_in_place() {
    let mut list = list(6);
    list.sort_by(SortKey::Number, true);
    list.selected = list.position_of(2).unwrap(); // message 3
    for i in [0, 3] {
        list.set_headers(i, loaded("disk full", &format!("{i}@x")));
    }
    list.set_headers(1, loaded("hello", "1@x"));
    let limit = filter("subject:disk", &list);
    assert_eq!(limit.counts().matched, 2);
    assert_eq!(limit.counts().pending, 3);
    list.set_limit(Some(limit));
    assert_eq!(shown_numbers(&list), [4, 1]);
    assert_eq!(
        list.selected_row().unwrap().number,
        1,
        "message 3 is not shown: the next one is selected"
    );
    // Answers arrive: the new matches go where the sort puts them, and
    // the selection stays on message 1.
    list.set_headers(4, loaded("disk full again", "4@x"));
    list.set_headers(2, loaded("disk", "2@x"));
    list.set_headers(5, loaded("other", "5@x"));
    assert_eq!(shown_numbers(&list), [5, 4, 3, 1]);
    assert_eq!(list.selected_row().unwrap().number, 1);
    assert_eq!(list.limit().unwrap().counts().pending, 0);
    list.set_limit(None);
    assert_eq!(shown_numbers(&list), [6, 5, 4, 3, 2, 1]);
    assert_eq!(list.selected_row().unwrap().number, 1);
}

#[test]
fn a_limit_on_dup_follows_the_settled_rows() {
    let mut list = list(3);
    list.set_limit(Some(filter("dup", &list)));
    list.set_headers(2, loaded("s", "x"));
    list.set_headers(1, loaded("s", "x"));
    assert_eq!(shown_numbers(&list), [3], "3 is a dup of 2");
    list.set_headers(0, loaded("s", "x"));
    assert_eq!(shown_numbers(&list), [2, 3], "2 became a dup of 1");
    let counts = list.limit().unwrap().counts();
    assert_eq!((counts.matched, counts.pending), (2, 0));
}

#[test]
fn marking_many_rows_counts_them_and_names_the_query() {
    let mut list = list(10);
    let (n, bytes) = list.mark_rows([1, 2, 2, 3], true, Some("size>100"));
    assert_eq!((n, bytes), (3, 102 + 103 + 104));
    list.set_mark(0, true);
    list.mark_rows([4], true, Some("size>100"));
    assert_eq!(
        list.mark_origin(),
        &MarkOrigin {
            by_hand: true,
            queries: vec!["size>100".into()]
        }
    );
    assert_eq!(
        list.mark_positions(0..=20, false, None),
        (5, 101 + 102 + 103 + 104 + 105)
    );
    assert_eq!(list.marked(), (0, 0));
    assert_eq!(list.mark_origin(), &MarkOrigin::default(), "no marks, no origin");
}

#[test]
fn a_visual_range_follows_the_selection() {
    let mut list = list(10);
    list.selected = 5;
    list.start_visual();
    list.move_selection(Action::Up, 10, 3);
    assert_eq!(list.visual_range(), Some(2..=5));
    list.sort_next();
    assert_eq!(list.visual_range(), None, "a new order ends the visual selection");
}
