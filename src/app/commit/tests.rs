//! The inspector's side of the commit on its own: the dialog, the stages
//! the bars show, and how the guarded commit's end becomes the exit report
//! (issue 11 item 6b: each test kills mutants that the app-level tests let
//! pass).

use super::*;
use crate::pop3::client::{Command, Reply};
use crate::pop3::codec::parse_status_line;

/// Subject lines the dialog has room for in these tests.
const SHOWN: usize = 10;

/// Three messages of 10, 20 and 30 bytes; `marked` are marked.
fn list(marked: &[usize]) -> MessageList {
    let mut list = MessageList::default();
    list.fill(vec![(1, 10), (2, 20), (3, 30)]);
    for &i in marked {
        let _ = list.set_mark(i, true);
    }
    list
}

fn commands(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Submit { command, .. } => command.kind().to_string(),
            Effect::Exit => "exit".into(),
            Effect::SaveTrace => "save".into(),
            Effect::Reconnect => "reconnect".into(),
            Effect::Backup(_) => "backup".into(),
            Effect::SaveMessage(_) | Effect::SaveMany(_) => "save messages".into(),
        })
        .collect()
}

fn ok() -> Outcome {
    Outcome::Ok(Reply {
        status: parse_status_line(b"+OK bye").unwrap(),
        body: None,
    })
}

fn err(line: &str) -> Outcome {
    Outcome::Err(parse_status_line(line.as_bytes()).unwrap())
}

/// A commit of `list`'s marks, confirmed: its DELEs are out.
fn confirmed(list: &MessageList, tickets: &mut Tickets) -> (Commit, Vec<String>) {
    let mut commit = Commit::default();
    let _ = commit.quit(list, true, tickets);
    let update = commit.dialog_action(Action::ConfirmCommit, list, tickets, SHOWN);
    (commit, commands(&update.effects))
}

#[test]
fn idle_until_a_quit_or_a_commit_is_under_way() {
    let mut tickets = Tickets::default();
    let mut commit = Commit::default();
    assert!(commit.is_idle());
    let update = commit.quit(&list(&[0]), true, &mut tickets);
    assert!(update.effects.is_empty(), "marks: the dialog asks first");
    assert!(commit.is_idle(), "a dialog is not a commit");
    let update = commit.dialog_action(Action::ConfirmCommit, &list(&[0]), &mut tickets, SHOWN);
    assert_eq!(commands(&update.effects), ["DELE 1"]);
    assert_eq!(commit.stage(), Stage::Deleting);
    assert!(!commit.is_idle());
    let _ = commit.dele_answered(1, ok(), &mut tickets);
    assert_eq!(commit.stage(), Stage::Quitting { commit: true });

    let mut commit = Commit::default();
    let update = commit.quit(&list(&[]), true, &mut tickets);
    assert_eq!(commands(&update.effects), ["QUIT"]);
    assert_eq!(commit.stage(), Stage::Quitting { commit: false });
    assert!(!commit.is_idle());
}

#[test]
fn the_busy_notice_names_the_way_out() {
    assert_eq!(
        Commit::busy_notice(),
        "a commit is in progress; Ctrl-C leaves without QUIT (nothing is deleted then)"
    );
}

#[test]
fn quitting_after_the_link_is_lost_deletes_nothing_and_says_why() {
    let mut tickets = Tickets::default();
    for (marked, why) in [
        (&[1][..], "the connection was lost before the marks could be committed"),
        (&[][..], "nothing was marked"),
    ] {
        let mut commit = Commit::default();
        let update = commit.quit(&list(marked), false, &mut tickets);
        assert_eq!(commands(&update.effects), ["exit"]);
        assert_eq!(commit.report, Some(ExitReport::NothingDeleted(why.into())));
    }
}

#[test]
fn the_dialog_counts_the_marks_and_their_size() {
    let mut tickets = Tickets::default();
    let list = list(&[0, 2]);
    let mut commit = Commit::default();
    let _ = commit.quit(&list, true, &mut tickets);
    let dialog = commit.dialog.expect("a dialog");
    assert_eq!((dialog.count, dialog.bytes, &dialog.rows[..]), (2, 40, &[0, 2][..]));
    assert_eq!((dialog.scroll, dialog.discarding), (0, false));
    assert_eq!(dialog.selected_by(), None, "marked by hand");
}

#[test]
fn the_dialog_cancels_keeps_or_commits() {
    let mut tickets = Tickets::default();
    let list = list(&[0]);
    let mut commit = Commit::default();
    let _ = commit.quit(&list, true, &mut tickets);
    let update = commit.dialog_action(Action::ConfirmCancel, &list, &mut tickets, SHOWN);
    assert!(update.effects.is_empty() && commit.dialog.is_none() && commit.is_idle());

    let _ = commit.quit(&list, true, &mut tickets);
    let update = commit.dialog_action(Action::ConfirmKeep, &list, &mut tickets, SHOWN);
    assert!(matches!(
        update.effects[..],
        [Effect::Submit {
            command: Command::Quit { commit: false },
            ..
        }]
    ));
    assert!(commit.dialog.is_none());

    let mut commit = Commit::default();
    let _ = commit.quit(&list, true, &mut tickets);
    let update = commit.dialog_action(Action::Down, &list, &mut tickets, SHOWN);
    assert!(
        update.effects.is_empty() && commit.dialog.is_some(),
        "other keys do nothing"
    );
}

#[test]
fn quit_follows_only_the_last_accepted_dele() {
    let mut tickets = Tickets::default();
    let list = list(&[0, 2]);
    let (mut commit, sent) = confirmed(&list, &mut tickets);
    assert_eq!(sent, ["DELE 1", "DELE 3"]);
    assert!(commit.dele_answered(1, ok(), &mut tickets).effects.is_empty());
    let update = commit.dele_answered(3, ok(), &mut tickets);
    assert_eq!(commands(&update.effects), ["QUIT"]);
    assert!(matches!(
        update.effects[..],
        [Effect::Submit {
            command: Command::Quit { commit: true },
            ..
        }]
    ));
    assert_eq!(update.say.as_deref(), Some("logging out…"));

    // One refused: RSET, nothing committed, the refusal said.
    let (mut commit, _) = confirmed(&list, &mut tickets);
    let _ = commit.dele_answered(1, err("-ERR gone"), &mut tickets);
    let update = commit.dele_answered(3, ok(), &mut tickets);
    assert_eq!(commands(&update.effects), ["RSET"]);
    assert_eq!(
        update.say.as_deref(),
        Some("commit cancelled, nothing deleted: DELE 1: -ERR gone")
    );
    assert!(commit.is_idle());
    assert_eq!(commit.report, None, "the inspector stays");
}

#[test]
fn quits_answer_becomes_the_report() {
    let mut tickets = Tickets::default();
    let list = list(&[0]);
    let (mut commit, _) = confirmed(&list, &mut tickets);
    let _ = commit.dele_answered(1, ok(), &mut tickets);
    assert_eq!(commands(&commit.quit_answered(true, ok())), ["exit"]);
    assert_eq!(
        commit.report.as_ref().map(ToString::to_string).as_deref(),
        Some("deleted 1 message (10 B); server said: +OK bye")
    );

    let (mut commit, _) = confirmed(&list, &mut tickets);
    let _ = commit.dele_answered(1, ok(), &mut tickets);
    let _ = commit.quit_answered(true, err("-ERR disk full"));
    assert!(
        matches!(&commit.report, Some(ExitReport::QuitRefused { count: 1, server }) if server.text == "disk full"),
        "{:?}",
        commit.report
    );

    // A plain QUIT deletes nothing, whatever the server says.
    let mut commit = Commit::default();
    let _ = commit.quit(&list, true, &mut tickets);
    let _ = commit.dialog_action(Action::ConfirmKeep, &list, &mut tickets, SHOWN);
    let _ = commit.quit_answered(false, ok());
    assert_eq!(
        commit.report,
        Some(ExitReport::NothingDeleted(
            "no message was marked on the server; it said: +OK bye".into()
        ))
    );
    let mut commit = Commit::default();
    let _ = commit.quit_answered(false, err("-ERR no"));
    assert_eq!(
        commit.report,
        Some(ExitReport::NothingDeleted("QUIT without deletions".into()))
    );
}

#[test]
fn a_lost_connection_during_a_commit() {
    let mut tickets = Tickets::default();
    let list = list(&[0]);
    // While deleting: nothing was committed, the inspector stays.
    let (mut commit, _) = confirmed(&list, &mut tickets);
    let Closed::CommitCancelled(said) = commit.connection_closed("reset") else {
        panic!("{:?}", commit.stage())
    };
    assert_eq!(said, "nothing was deleted (the connection was lost before QUIT: reset)");
    assert!(commit.is_idle() && commit.report.is_none());

    // After the committing QUIT went out, unanswered: unknown, and leave.
    let (mut commit, _) = confirmed(&list, &mut tickets);
    let _ = commit.dele_answered(1, ok(), &mut tickets);
    let Closed::Leave(effects) = commit.connection_closed("reset") else {
        panic!("{:?}", commit.stage())
    };
    assert_eq!(commands(&effects), ["exit"]);
    assert!(matches!(commit.report, Some(ExitReport::Unknown { count: 1, .. })));

    // After QUIT was answered the report stands; the close changes nothing.
    let (mut commit, _) = confirmed(&list, &mut tickets);
    let _ = commit.dele_answered(1, ok(), &mut tickets);
    let _ = commit.quit_answered(true, ok());
    let report = commit.report.clone();
    assert!(matches!(
        report,
        Some(ExitReport::Deleted {
            count: 1,
            bytes: 10,
            ..
        })
    ));
    assert!(matches!(commit.connection_closed("closed"), Closed::NotCommitting));
    assert_eq!(commit.report, report);

    // Logging out without deletions: leave, nothing deleted.
    let mut commit = Commit::default();
    let _ = commit.quit(&MessageList::default(), true, &mut tickets);
    let Closed::Leave(_) = commit.connection_closed("closed") else {
        panic!("{:?}", commit.stage())
    };
    assert_eq!(
        commit.report,
        Some(ExitReport::NothingDeleted(
            "the connection closed while logging out".into()
        ))
    );

    // Idle: not a commit matter.
    assert!(matches!(
        Commit::default().connection_closed("x"),
        Closed::NotCommitting
    ));
}

#[test]
fn an_interrupt_leaves_without_quit() {
    let mut commit = Commit::default();
    let effects = commit.interrupt("interrupted (SIGINT)");
    assert_eq!(commands(&effects), ["exit"]);
    assert_eq!(
        commit.report.as_ref().map(ToString::to_string).as_deref(),
        Some("nothing was deleted (interrupted (SIGINT); no QUIT was sent)")
    );

    // After the committing QUIT went out the outcome is unknown.
    let mut tickets = Tickets::default();
    let (mut commit, _) = confirmed(&list(&[0]), &mut tickets);
    let _ = commit.dele_answered(1, ok(), &mut tickets);
    let _ = commit.interrupt("interrupted (SIGINT)");
    assert!(matches!(commit.report, Some(ExitReport::Unknown { count: 1, .. })));
    // A second interrupt keeps the first report.
    let report = commit.report.clone();
    assert_eq!(commands(&commit.interrupt("again")), ["exit"]);
    assert_eq!(commit.report, report);
}
