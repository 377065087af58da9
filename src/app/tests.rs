use super::*;
use crate::mailbox::MIN_HEADER_REQUESTS;

use crate::error::{Failure, FailureKind};
use crate::pop3::client::{Body, CommandKind, Reply};
use crate::pop3::codec::parse_status_line;
use crate::transfer::backup::{BackedUp, BackupFailed};

fn facts(window: usize) -> ConnectionFacts {
    ConnectionFacts {
        server: "test:110".into(),
        security: "TLS 1.3 verified".into(),
        verified: true,
        demo: false,
        top: Offer::Listed,
        uidl: Offer::NotListed,
        window,
    }
}

fn ok(body: &[u8]) -> Outcome {
    Outcome::Ok(Reply {
        status: parse_status_line(b"+OK").unwrap(),
        body: Some(Body::Collected {
            bytes: body.to_vec(),
            truncated: false,
            lines: 0,
            total_bytes: body.len() as u64,
        }),
    })
}

fn err(line: &str) -> Outcome {
    Outcome::Err(parse_status_line(line.as_bytes()).unwrap())
}

fn answer(app: &mut App, ticket: u64, outcome: Outcome) -> Vec<Effect> {
    app.handle_session_event(SessionEvent::Completed {
        ticket,
        command: CommandKind::Noop,
        outcome,
    })
}

fn listing(n: u32) -> String {
    (1..=n).map(|i| format!("{i} {}\r\n", 100 + i)).collect()
}

fn status(line: &str) -> Outcome {
    Outcome::Ok(Reply {
        status: parse_status_line(line.as_bytes()).unwrap(),
        body: None,
    })
}

/// STAT and LIST answered with `n` messages; the effects of LIST's answer.
fn listed_with(facts: ConnectionFacts, n: u32) -> (App, Vec<Effect>) {
    let mut app = App::new(facts, (120, 40));
    let start = submitted(&app.start());
    assert_eq!(start[0].1, CommandKind::Stat);
    assert!(answer(&mut app, start[0].0, status(&format!("+OK {n} 0"))).is_empty());
    let effects = answer(&mut app, start[1].0, ok(listing(n).as_bytes()));
    (app, effects)
}

fn listed(n: u32, window: usize) -> (App, Vec<Effect>) {
    listed_with(facts(window), n)
}

fn submitted(effects: &[Effect]) -> Vec<(u64, CommandKind)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Submit { ticket, command, .. } => Some((*ticket, command.kind())),
            Effect::Exit
            | Effect::SaveTrace
            | Effect::Reconnect
            | Effect::Backup(_)
            | Effect::SaveMessage(_)
            | Effect::SaveMany(_) => None,
        })
        .collect()
}

fn tops(effects: &[Effect]) -> Vec<(u32, Priority)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Submit {
                command: Command::Top { msg, .. },
                priority,
                ..
            } => Some((*msg, *priority)),
            _ => None,
        })
        .collect()
}

#[test]
fn headers_for_the_screen_come_first_and_urgent() {
    let (app, effects) = listed(1000, 10);
    let asked = tops(&effects);
    let height = app.list_rows_visible();
    assert!(height > 5);
    for (k, (msg, priority)) in asked.iter().enumerate() {
        if k < height {
            assert_eq!((*msg, *priority), (k as u32 + 1, Priority::Urgent));
        } else {
            assert_eq!(*priority, Priority::Normal);
        }
    }
    assert_eq!(
        asked.len(),
        height.max(MIN_HEADER_REQUESTS),
        "screen plus the background budget"
    );
}

#[test]
fn a_jump_asks_for_the_new_screen_at_once() {
    let (mut app, _) = listed(1000, 10);
    let effects = app.handle_action(Action::Last);
    let asked = tops(&effects);
    assert!(
        asked.iter().any(|(m, p)| *m == 1000 && *p == Priority::Urgent),
        "{asked:?}"
    );
}

#[test]
fn sweeping_a_huge_list_stays_linear() {
    let (mut app, mut effects) = listed(100_000, 100);
    effects.extend(app.handle_action(Action::Last));
    let started = std::time::Instant::now();
    let mut answered = 0;
    while !effects.is_empty() {
        let mut next = Vec::new();
        for e in effects {
            if let Effect::Submit {
                ticket,
                command: Command::Top { .. },
                ..
            } = e
            {
                next.extend(answer(&mut app, ticket, ok(b"Subject: x\r\n\r\n")));
                answered += 1;
            }
        }
        effects = next;
    }
    assert_eq!(answered, 100_000);
    assert_eq!(app.headers_progress(), (100_000, 100_000));
    // Generous: quadratic behaviour would take minutes, not seconds.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn marks_are_counted_incrementally() {
    let (mut app, _) = listed(10, 10);
    app.handle_action(Action::Mark);
    app.handle_action(Action::Mark);
    assert_eq!(app.marked(), (2, 101 + 102));
    app.handle_action(Action::Up);
    app.handle_action(Action::Unmark);
    assert_eq!(app.marked(), (1, 101));
    app.handle_action(Action::UnmarkAll);
    assert_eq!(app.marked(), (0, 0));
}

/// Without a CAPA answer the inspector asks UIDL and TOP, as `list` does.
#[test]
fn without_capa_uidl_and_top_are_tried() {
    let unknown = ConnectionFacts {
        top: Offer::CapaUnknown,
        uidl: Offer::CapaUnknown,
        ..facts(10)
    };
    let mut app = App::new(unknown.clone(), (120, 40));
    let kinds: Vec<CommandKind> = submitted(&app.start()).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        kinds,
        [CommandKind::Stat, CommandKind::List(None), CommandKind::Uidl(None)]
    );
    let (_, effects) = listed_with(unknown, 20);
    assert!(!tops(&effects).is_empty());
}

/// A `-ERR` to the first TOP without CAPA means "no TOP": said once, and
/// the sweep stops.
#[test]
fn top_refused_without_capa_is_said_once_and_stops_the_sweep() {
    let unknown = ConnectionFacts {
        top: Offer::CapaUnknown,
        ..facts(10)
    };
    let (mut app, effects) = listed_with(unknown, 200);
    let asked = submitted(&effects);
    assert!(asked.len() > 1);
    let mut more = Vec::new();
    for (ticket, _) in &asked {
        more.extend(answer(&mut app, *ticket, err("-ERR unknown command")));
    }
    assert!(more.is_empty(), "no TOP after the refusal: {more:?}");
    assert!(app.activity.contains("does not support TOP"), "{}", app.activity);
    assert_eq!(app.activity.matches("TOP").count(), 1, "{}", app.activity);
    assert_eq!(app.headers_progress(), (0, 0));
    assert!(app.handle_action(Action::Last).is_empty(), "a jump asks nothing");
}

/// Malformed UIDL lines: the good ones are kept, the person is told, and
/// header progress does not hide it.
#[test]
fn a_bad_uidl_line_is_told_on_the_activity_line() {
    let f = ConnectionFacts {
        uidl: Offer::Listed,
        ..facts(10)
    };
    let mut app = App::new(f, (120, 40));
    let start = submitted(&app.start());
    let (list_ticket, uidl_ticket) = (start[1].0, start[2].0);
    assert!(answer(&mut app, start[0].0, status("+OK 3 306")).is_empty());
    answer(&mut app, uidl_ticket, ok(b"1 aaa\r\n2 \x1b[2J\r\n3 ccc\r\n"));
    let effects = answer(&mut app, list_ticket, ok(listing(3).as_bytes()));
    let uids: Vec<Option<&str>> = app.list.rows.iter().map(|r| r.uid.as_deref()).collect();
    assert_eq!(uids, [Some("aaa"), None, Some("ccc")]);
    for (ticket, _) in submitted(&effects) {
        answer(&mut app, ticket, ok(b"Subject: x\r\n\r\n"));
    }
    assert_eq!(app.headers_progress(), (3, 3));
    assert!(
        app.activity.starts_with("1 malformed UIDL line skipped"),
        "{}",
        app.activity
    );
    assert!(crate::sanitize::is_terminal_safe(&app.activity), "{:?}", app.activity);
}

#[test]
fn a_refused_dele_cancels_the_commit_with_rset() {
    let (mut app, _) = listed(3, 10);
    app.handle_action(Action::Mark);
    app.handle_action(Action::Quit);
    let deles = submitted(&app.handle_action(Action::ConfirmCommit));
    assert_eq!(deles.len(), 1);
    let after = submitted(&answer(&mut app, deles[0].0, err("-ERR no")));
    assert_eq!(after.iter().map(|(_, c)| *c).collect::<Vec<_>>(), [CommandKind::Rset]);
    assert_eq!(app.tickets.answered(after[0].0), Some(Purpose::Rset));
    assert!(app.activity.contains("DELE 1: -ERR no"), "{}", app.activity);
    assert!(app.commit.is_idle());
}

#[test]
fn help_is_a_context_with_its_own_keys() {
    let (mut app, _) = listed(10, 10);
    app.handle_action(Action::Help);
    assert_eq!(app.context(), Context::Help);
    let selected = app.list.selected;
    app.handle_action(Action::Down);
    assert_eq!(app.list.selected, selected, "keys go to the help");
    app.handle_action(Action::Back);
    assert_eq!(app.context(), Context::List);
}

// ---- reconnect ----------------------------------------------------------

/// STAT, LIST and UIDL answered for `uids` (message n has uids[n-1]);
/// returns the effects of the last answer.
fn list_again(app: &mut App, start: &[(u64, CommandKind)], uids: &[&str]) -> Vec<Effect> {
    let kinds: Vec<CommandKind> = start.iter().map(|(_, k)| *k).collect();
    assert_eq!(
        kinds,
        [CommandKind::Stat, CommandKind::List(None), CommandKind::Uidl(None)]
    );
    let n = uids.len() as u32;
    answer(app, start[0].0, status(&format!("+OK {n} 0")));
    answer(app, start[1].0, ok(listing(n).as_bytes()));
    let uidl: String = uids
        .iter()
        .enumerate()
        .map(|(i, u)| format!("{} {u}\r\n", i + 1))
        .collect();
    answer(app, start[2].0, ok(uidl.as_bytes()))
}

fn with_uidl() -> ConnectionFacts {
    ConnectionFacts {
        uidl: Offer::Listed,
        ..facts(10)
    }
}

fn lose(app: &mut App) -> Vec<Effect> {
    app.handle_session_event(SessionEvent::Closed(Some(crate::error::Failure::new(
        crate::error::FailureKind::Connect,
        "connection reset by peer",
    ))))
}

fn is_reconnect(effects: &[Effect]) -> bool {
    matches!(effects, [Effect::Reconnect])
}

#[test]
fn a_lost_connection_reconnects_once_automatically_then_by_key() {
    let mut app = App::new(with_uidl(), (120, 40));
    let start = submitted(&app.start());
    list_again(&mut app, &start, &["a", "b"]);
    assert!(is_reconnect(&lose(&mut app)), "the automatic attempt");
    assert!(
        app.activity.contains("connection lost") && app.activity.contains("Reconnecting"),
        "{}",
        app.activity
    );
    assert!(matches!(app.link, Link::Lost(_)));
    assert!(
        app.handle_action(Action::Reconnect).is_empty(),
        "one reconnect at a time"
    );
    app.reconnect_failed("connection refused");
    assert!(
        app.activity.contains("reconnect failed: connection refused"),
        "{}",
        app.activity
    );
    assert!(app.activity.contains("R to try again"), "{}", app.activity);
    assert_eq!(app.hint().text(), hints::CONNECTION_LOST.text());
    assert!(is_reconnect(&app.handle_action(Action::Reconnect)), "the key");
    let again = submitted(&app.reconnected(with_uidl()));
    assert_eq!(app.link, Link::Open);
    list_again(&mut app, &again, &["a", "b"]);
    // Lost again before any keep-alive was answered: no automatic loop.
    assert!(lose(&mut app).is_empty());
    assert!(app.activity.contains("R reconnects"), "{}", app.activity);
    assert!(is_reconnect(&app.handle_action(Action::Reconnect)));
    let third = submitted(&app.reconnected(with_uidl()));
    list_again(&mut app, &third, &["a", "b"]);
    let noop = submitted(&app.keepalive());
    assert_eq!(noop[0].1, CommandKind::Noop);
    answer(&mut app, noop[0].0, status("+OK"));
    assert!(
        is_reconnect(&lose(&mut app)),
        "a keep-alive answered re-arms the automatic attempt"
    );
}

#[test]
fn marks_are_carried_by_uid_and_the_gone_ones_said() {
    let mut app = App::new(with_uidl(), (120, 40));
    let start = submitted(&app.start());
    list_again(&mut app, &start, &["u1", "u2", "u3", "u4"]);
    app.list.set_mark(0, true);
    app.list.set_mark(2, true);
    app.list.set_mark(3, true);
    lose(&mut app);
    let again = submitted(&app.reconnected(with_uidl()));
    assert!(
        again
            .iter()
            .all(|(_, k)| matches!(k, CommandKind::Stat | CommandKind::List(_) | CommandKind::Uidl(_))),
        "a reconnect only lists: {again:?}"
    );
    assert_eq!(app.marked().0, 0, "nothing marked until the UIDs are in");
    // u1 was expunged elsewhere: the rest moved up by one.
    let effects = list_again(&mut app, &again, &["u2", "u3", "u4"]);
    assert!(
        submitted(&effects)
            .iter()
            .all(|(_, k)| matches!(k, CommandKind::Top { .. }))
    );
    let marked: Vec<(u32, Option<&str>)> = app.list.marked_rows().map(|r| (r.number, r.uid.as_deref())).collect();
    assert_eq!(marked, [(2, Some("u3")), (3, Some("u4"))]);
    assert!(app.activity.contains("2 marks restored by UID"), "{}", app.activity);
    assert!(
        app.activity
            .contains("1 marked messages are no longer on the server and were unmarked"),
        "{}",
        app.activity
    );
    assert!(app.list.mark_origin().by_hand);
}

#[test]
fn without_uidl_marks_cannot_be_carried_and_the_person_is_told() {
    let (mut app, _) = listed(3, 10);
    app.list.set_mark(1, true);
    lose(&mut app);
    let again = submitted(&app.reconnected(facts(10)));
    assert_eq!(
        again.iter().map(|(_, k)| *k).collect::<Vec<_>>(),
        [CommandKind::Stat, CommandKind::List(None)]
    );
    assert!(
        app.activity.contains("1 marks dropped: those messages had no UID"),
        "{}",
        app.activity
    );
    answer(&mut app, again[0].0, status("+OK 3 0"));
    answer(&mut app, again[1].0, ok(listing(3).as_bytes()));
    assert_eq!(app.marked().0, 0);
}

#[test]
fn uidl_refused_after_a_reconnect_drops_the_marks_with_a_notice() {
    let mut app = App::new(with_uidl(), (120, 40));
    let start = submitted(&app.start());
    list_again(&mut app, &start, &["u1", "u2"]);
    app.list.set_mark(1, true);
    lose(&mut app);
    let again = submitted(&app.reconnected(with_uidl()));
    answer(&mut app, again[0].0, status("+OK 2 0"));
    answer(&mut app, again[1].0, ok(listing(2).as_bytes()));
    answer(&mut app, again[2].0, err("-ERR not now"));
    assert_eq!(app.marked().0, 0);
    assert!(
        app.activity.contains("1 marks dropped: the server gave no UIDs"),
        "{}",
        app.activity
    );
}

#[test]
fn no_reconnect_while_committing_or_after_a_committing_quit() {
    let mut app = App::new(with_uidl(), (120, 40));
    let start = submitted(&app.start());
    list_again(&mut app, &start, &["u1", "u2"]);
    app.list.set_mark(0, true);
    app.handle_action(Action::Quit);
    let deles = submitted(&app.handle_action(Action::ConfirmCommit));
    assert_eq!(deles[0].1, CommandKind::Dele(1));
    let quit = submitted(&answer(&mut app, deles[0].0, status("+OK")));
    assert_eq!(quit[0].1, CommandKind::Quit { commit: true });
    let effects = lose(&mut app);
    assert!(
        matches!(effects.as_slice(), [Effect::Exit]),
        "QUIT's outcome unknown: leave, never reconnect"
    );
    assert!(app.handle_action(Action::Reconnect).is_empty());
}

/// Issue 11 item 3: the RETR for the viewer carries the size LIST gave, so
/// the session stops a server that sends far more.
#[test]
fn a_retr_carries_the_size_list_gave() {
    let (mut app, _) = listed(3, 10);
    app.list.move_selection(keymap::Action::Down, 10, 1);
    let effects = app.handle_action(keymap::Action::Open);
    let retr: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Submit {
                command: Command::Retr { msg, listed_size },
                priority,
                ..
            } => Some((*msg, *listed_size, *priority)),
            _ => None,
        })
        .collect();
    assert_eq!(retr, [(2, Some(102), Priority::Urgent)]);
}

/// Marks one message, confirms, has its DELE accepted: the QUIT is out.
fn committing(app: &mut App) -> u64 {
    app.handle_action(Action::Mark);
    app.handle_action(Action::Quit);
    let deles = submitted(&app.handle_action(Action::ConfirmCommit));
    let quit = submitted(&answer(app, deles[0].0, ok(b"")));
    assert_eq!(
        quit.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
        [CommandKind::Quit { commit: true }]
    );
    quit[0].0
}

/// Issue 11 item 6b: the connection dropping while QUIT is in flight ends
/// the inspector (it must never wait for an answer that cannot come), and
/// the report says the outcome is unknown.
#[test]
fn the_connection_dropping_during_quit_ends_the_inspector() {
    let (mut app, _) = listed(3, 10);
    committing(&mut app);
    let effects = app.handle_session_event(SessionEvent::Closed(Some(Failure::new(
        FailureKind::Connect,
        "reset by peer",
    ))));
    assert!(matches!(effects[..], [Effect::Exit]), "{effects:?}");
    let report = app.commit.report.clone().expect("a report");
    assert!(
        matches!(&report, ExitReport::Unknown { count: 1, reason } if reason.contains("reset by peer")),
        "{report:?}"
    );

    // An unconfirmed QUIT: nothing was marked on the server.
    let (mut app, _) = listed(3, 10);
    let quit = submitted(&app.handle_action(Action::Quit));
    assert_eq!(quit[0].1, CommandKind::Quit { commit: false });
    let effects = app.handle_session_event(SessionEvent::Closed(None));
    assert!(matches!(effects[..], [Effect::Exit]), "{effects:?}");
    assert!(matches!(app.commit.report, Some(ExitReport::NothingDeleted(_))));
}

/// The exact reports of a QUIT's answers.
#[test]
fn quit_answers_become_exact_reports() {
    let (mut app, _) = listed(3, 10);
    let quit = committing(&mut app);
    let effects = answer(&mut app, quit, ok(b""));
    assert!(matches!(effects[..], [Effect::Exit]), "{effects:?}");
    assert_eq!(
        app.commit.report.as_ref().unwrap().to_string(),
        "deleted 1 message (101 B); server said: +OK"
    );

    let (mut app, _) = listed(3, 10);
    let quit = committing(&mut app);
    answer(&mut app, quit, err("-ERR [SYS/TEMP] not now"));
    assert_eq!(
        app.commit.report,
        Some(ExitReport::QuitRefused {
            count: 1,
            server: parse_status_line(b"-ERR [SYS/TEMP] not now").unwrap()
        })
    );

    let (mut app, _) = listed(3, 10);
    let quit = submitted(&app.handle_action(Action::Quit));
    answer(&mut app, quit[0].0, ok(b""));
    assert_eq!(
        app.commit.report.as_ref().unwrap().to_string(),
        "nothing was deleted (no message was marked on the server; it said: +OK)"
    );
}

/// Marks messages 1 and 2 and chooses "back up, then delete": the job the
/// event loop gets.
fn backing_up(app: &mut App) -> commit::BackupJob {
    app.handle_action(Action::Mark);
    app.handle_action(Action::Mark);
    app.handle_action(Action::Quit);
    let effects = app.handle_action(Action::ConfirmBackup);
    assert!(submitted(&effects).is_empty(), "no DELE before the backup: {effects:?}");
    let [Effect::Backup(job)] = &effects[..] else {
        panic!("{effects:?}")
    };
    job.clone()
}

#[test]
fn back_up_then_delete_sends_deles_only_after_a_complete_backup() {
    let (mut app, _) = listed(3, 10);
    let job = backing_up(&mut app);
    assert_eq!(job.marked.iter().map(|m| m.number).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(job.dir, app.commit.backup_dir);
    assert_eq!(app.context(), Context::Backup);
    assert_eq!(app.hint(), hints::BACKING_UP);
    assert!(app.pump_headers().is_empty(), "no header loading while backing up");
    let done = BackedUp {
        dir: job.dir.clone(),
        messages: 2,
        bytes: 203,
    };
    let deles = submitted(&app.backup_finished(Ok(done.clone())));
    assert_eq!(
        deles.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
        [CommandKind::Dele(1), CommandKind::Dele(2)]
    );
    assert_eq!(app.commit.backed_up, Some(done));
    assert!(app.activity.contains("backed up 2 messages"), "{}", app.activity);
}

#[test]
fn a_failed_or_cancelled_backup_deletes_nothing_and_keeps_the_marks() {
    let (mut app, _) = listed(3, 10);
    let job = backing_up(&mut app);
    // Esc: the copy is told to stop; the commit waits for its end.
    app.handle_key(&KeyEvent::from(KeyCode::Esc));
    assert!(job.cancel.is_cancelled());
    assert_eq!(app.context(), Context::Backup);
    let failed = BackupFailed {
        dir: job.dir.clone(),
        message: Some((2, None)),
        why: "the server refused RETR 2: -ERR busy".into(),
        saved: 1,
        kind: crate::error::FailureKind::Interrupted,
        retr_refused: false,
    };
    let effects = app.backup_finished(Err(failed));
    assert!(
        !submitted(&effects)
            .iter()
            .any(|(_, c)| matches!(c, CommandKind::Dele(_))),
        "{effects:?}"
    );
    assert!(app.commit.is_idle());
    assert_eq!(app.list.marked().0, 2, "the marks stay");
    assert!(app.activity.contains("nothing was deleted"), "{}", app.activity);
    assert!(app.activity.contains("cancelled at message 2"), "{}", app.activity);

    let job = backing_up_again(&mut app);
    let failed = BackupFailed {
        dir: job.dir,
        message: Some((1, Some("uid-1".into()))),
        why: "could not write: read-only file system".into(),
        saved: 0,
        kind: crate::error::FailureKind::Local,
        retr_refused: false,
    };
    app.backup_finished(Err(failed));
    assert!(
        app.activity
            .contains("failed at message 1 (UID uid-1): could not write"),
        "{}",
        app.activity
    );
}

/// The marks are still there: quit and back up again.
fn backing_up_again(app: &mut App) -> commit::BackupJob {
    app.handle_action(Action::Quit);
    let effects = app.handle_action(Action::ConfirmBackup);
    let [Effect::Backup(job)] = &effects[..] else {
        panic!("{effects:?}")
    };
    job.clone()
}

/// A message with two attachments whose names try to leave the directory.
const HOSTILE_ATTACHMENTS: &[u8] = b"From: a@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
--b\r\nContent-Type: application/octet-stream; name=\"../../etc/passwd\"\r\n\
Content-Disposition: attachment; filename=\"../../etc/passwd\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
AAECAwQFBgf/\r\n--b\r\nContent-Type: text/plain\r\n\
Content-Disposition: attachment; filename=\"/abs/CON\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
caf=C3=A9 =3D ok\r\n--b--\r\n";

#[test]
fn attachments_are_selectable_and_save_decoded_inside_the_chosen_directory() {
    let (mut app, _) = listed(1, 10);
    let effects = app.handle_action(Action::Open);
    let (ticket, _) = submitted(&effects)[0];
    app.handle_session_event(SessionEvent::Data {
        ticket,
        chunk: HOSTILE_ATTACHMENTS.to_vec(),
    });
    answer(&mut app, ticket, ok(b""));
    let dir = tempfile::tempdir().unwrap();
    app.save_dir = dir.path().to_path_buf();
    app.handle_action(Action::NextAttachment);
    assert!(app.activity.contains("Enter or s saves it"), "{}", app.activity);
    let selected = app
        .viewer
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .filter(|l| matches!(l, viewer::ViewLine::Attachment { selected: true, .. }))
        .count();
    assert_eq!(selected, 1);
    app.handle_action(Action::SaveAttachment);
    assert!(app.activity.contains("saved the attachment (9 B)"), "{}", app.activity);
    app.handle_action(Action::NextAttachment);
    app.handle_action(Action::SaveMessage);
    assert!(app.prompt.is_none(), "s saves the selected attachment, no prompt");
    // Twice: the second copy gets its own name.
    app.handle_action(Action::SaveMessage);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["_CON", "_CON (2)", "passwd"]);
    for name in &names {
        let path = dir.path().join(name).canonicalize().unwrap();
        assert_eq!(path.parent(), Some(dir.path().canonicalize().unwrap().as_path()));
    }
    assert_eq!(
        std::fs::read(dir.path().join("passwd")).unwrap(),
        [0, 1, 2, 3, 4, 5, 6, 7, 0xff]
    );
    assert_eq!(std::fs::read(dir.path().join("_CON")).unwrap(), "café = ok".as_bytes());
}

/// `s` proposes a name from the subject as decoded, through the store's
/// sanitizer: not the display's stand-ins (`␛`, `�`), no control or bidi
/// character, no separator, no leading dot.
#[test]
fn the_proposed_name_comes_from_the_decoded_subject() {
    let (mut app, _) = listed(1, 10);
    // No Date: the name starts with the subject, whose leading dot goes.
    let header = "From: a@example.org\r\n\
                  Subject: =?utf-8?B?LiBJbnZvaWNlG1szMW0gcmVkG1swbSDigK5mZHAuZXhlIDIwMjQvMDE=?=\r\n\r\n";
    let summary = crate::mail::HeaderSummary::parse(header.as_bytes());
    assert_eq!(
        summary.subject_for_file_name(),
        ". Invoice\x1b[31m red\x1b[0m \u{202e}fdp.exe 2024/01"
    );
    assert!(summary.subject().contains('␛'), "{}", summary.subject());
    app.list.rows[0].headers = row::Headers::Loaded(Box::new(summary));
    app.handle_action(Action::SaveMessage);
    let name = app.prompt.as_ref().expect("the save prompt").text.clone();
    assert_eq!(name, "Invoice_[31m red_[0m fdp.exe 2024_01.eml");
    assert!(crate::sanitize::is_terminal_safe(&name), "{name:?}");
    assert!(crate::store::is_plain_file_name(&name), "{name:?}");
    assert!(!name.starts_with('.'), "{name:?}");
}
