use super::*;
use crate::pop3::client::Reply;
use crate::pop3::codec::parse_status_line;

fn status(line: &str) -> StatusLine {
    parse_status_line(line.as_bytes()).unwrap()
}

fn ok(line: &str) -> Outcome {
    Outcome::Ok(Reply {
        status: status(line),
        body: None,
    })
}

fn err(line: &str) -> Outcome {
    Outcome::Err(status(line))
}

fn marked(numbers: &[u32]) -> Vec<Marked> {
    numbers
        .iter()
        .map(|&number| Marked {
            number,
            uid: Some(format!("uid{number}").into()),
            size: u64::from(number) * 100,
        })
        .collect()
}

/// A commit of messages 3, 1 and 7 (given out of order), DELEs sent.
fn deleting() -> GuardedCommit {
    let mut commit = GuardedCommit::new(marked(&[3, 1, 7]));
    assert_eq!(commit.stage(), &Stage::Ready, "nothing is sent before begin_delete");
    let sent = commit.begin_delete();
    assert_eq!(
        sent,
        [CommitCommand::Dele(1), CommitCommand::Dele(3), CommitCommand::Dele(7)],
        "every DELE at once, by number"
    );
    assert!(commit.begin_delete().is_empty(), "a second begin sends nothing");
    commit
}

#[test]
fn all_accepted_then_quit_commits_and_reports_the_servers_words() {
    let mut commit = deleting();
    assert_eq!(commit.dele_answered(7, &ok("+OK")), None);
    assert_eq!(commit.dele_answered(1, &ok("+OK")), None);
    assert_eq!(
        commit.dele_answered(3, &ok("+OK message deleted")),
        Some(CommitCommand::Quit)
    );
    assert_eq!(
        CommitCommand::Quit.command().kind(),
        Command::Quit { commit: true }.kind()
    );
    assert_eq!(commit.stage(), &Stage::Quitting);
    commit.quit_answered(ok("+OK Logging out, messages deleted."));
    let report = commit.report().unwrap().clone();
    assert_eq!(
        report,
        ExitReport::Deleted {
            count: 3,
            bytes: 1100,
            server: status("+OK Logging out, messages deleted.")
        }
    );
    assert_eq!(
        report.to_string(),
        "deleted 3 messages (1.1 KB); server said: +OK Logging out, messages deleted."
    );
    assert_eq!((report.failure_kind(), report.deleted()), (None, Some(3)));
}

#[test]
fn one_refused_dele_means_rset_and_no_committing_quit() {
    let mut commit = deleting();
    assert_eq!(commit.dele_answered(1, &ok("+OK")), None);
    assert_eq!(commit.dele_answered(3, &err("-ERR [SYS/TEMP] try later")), None);
    // QUIT is not even considered before the last answer.
    assert!(matches!(commit.stage(), Stage::Deleting { waiting: 1, .. }));
    assert_eq!(commit.dele_answered(7, &ok("+OK")), Some(CommitCommand::Rset));
    let report = commit.report().unwrap().clone();
    assert!(matches!(&report, ExitReport::Cancelled { refused } if refused.count() == 1));
    assert_eq!(
        report.to_string(),
        "commit cancelled, nothing deleted: DELE 3: -ERR [SYS/TEMP] try later"
    );
    assert_eq!(report.failure_kind(), Some(FailureKind::Mailbox));
    assert_eq!(report.deleted(), Some(0));
    // Whatever comes later, no QUIT can follow.
    commit.quit_answered(ok("+OK"));
    assert_eq!(commit.report(), Some(&report));
}

#[test]
fn an_answer_twice_or_for_an_unmarked_number_changes_nothing() {
    let mut commit = deleting();
    assert_eq!(commit.dele_answered(1, &ok("+OK")), None);
    assert_eq!(commit.dele_answered(1, &ok("+OK")), None, "counted once");
    assert_eq!(commit.dele_answered(2, &ok("+OK")), None, "not marked");
    assert_eq!(commit.dele_answered(3, &ok("+OK")), None);
    assert!(matches!(commit.stage(), Stage::Deleting { waiting: 1, .. }));
    assert_eq!(commit.dele_answered(7, &ok("+OK")), Some(CommitCommand::Quit));
}

#[test]
fn connection_lost_while_deleting_deletes_nothing() {
    for lose in [
        |c: &mut GuardedCommit| c.connection_lost("reset by peer"),
        |c: &mut GuardedCommit| assert_eq!(c.dele_answered(3, &Outcome::Lost("reset by peer".into())), None),
    ] {
        let mut commit = deleting();
        assert_eq!(commit.dele_answered(1, &ok("+OK")), None);
        lose(&mut commit);
        let report = commit.report().unwrap().clone();
        assert!(matches!(report, ExitReport::Lost { .. }), "{report:?}");
        assert!(report.to_string().starts_with("nothing was deleted"), "{report}");
        assert_eq!(report.failure_kind(), Some(FailureKind::Connect));
        assert_eq!(commit.dele_answered(7, &ok("+OK")), None, "no QUIT after the loss");
    }
}

#[test]
fn lost_before_quits_answer_is_unknown() {
    let mut commit = deleting();
    for n in [1, 3, 7] {
        commit.dele_answered(n, &ok("+OK"));
    }
    commit.connection_lost("broken pipe");
    let report = commit.report().unwrap().clone();
    assert_eq!(
        report,
        ExitReport::Unknown {
            count: 3,
            reason: "broken pipe".into()
        }
    );
    assert!(report.to_string().starts_with("OUTCOME UNKNOWN"), "{report}");
    assert_eq!(report.failure_kind(), Some(FailureKind::OutcomeUnknown));
    assert_eq!(report.deleted(), None);

    // The same when the QUIT's own outcome says the connection ended.
    let mut commit = deleting();
    for n in [1, 3, 7] {
        commit.dele_answered(n, &ok("+OK"));
    }
    commit.quit_answered(Outcome::Lost("eof".into()));
    assert!(matches!(commit.report(), Some(ExitReport::Unknown { reason, .. }) if reason == "eof"));
}

#[test]
fn quit_refused_is_reported_in_the_servers_words() {
    let mut commit = deleting();
    for n in [1, 3, 7] {
        commit.dele_answered(n, &ok("+OK"));
    }
    commit.quit_answered(err("-ERR some deleted messages not removed"));
    let report = commit.report().unwrap().clone();
    assert!(matches!(report, ExitReport::QuitRefused { count: 3, .. }), "{report:?}");
    assert!(
        report
            .to_string()
            .contains("QUIT with an error: -ERR some deleted messages not removed"),
        "{report}"
    );
    assert_eq!(report.failure_kind(), Some(FailureKind::Protocol));
    assert_eq!(report.deleted(), None);
}

#[test]
fn nothing_marked_or_abandoned_sends_nothing() {
    let mut commit = GuardedCommit::new(Vec::new());
    assert!(commit.begin_delete().is_empty());
    assert_eq!(
        commit.report(),
        Some(&ExitReport::NothingDeleted("nothing was marked".into()))
    );

    // The backup seam: a failed backup ends the commit before any DELE.
    let mut commit = GuardedCommit::new(marked(&[1, 2]));
    commit.abandon("the backup of message 2 failed: disk full".into());
    assert!(commit.begin_delete().is_empty());
    assert_eq!(
        commit.report().unwrap().to_string(),
        "nothing was deleted (the backup of message 2 failed: disk full)"
    );
}

#[test]
fn interrupted_before_quit_deletes_nothing_but_after_quit_is_unknown() {
    let mut commit = deleting();
    commit.interrupted("interrupted (SIGINT)");
    assert!(matches!(commit.report(), Some(ExitReport::Interrupted(_))));
    assert_eq!(commit.report().unwrap().failure_kind(), Some(FailureKind::Interrupted));

    let mut commit = deleting();
    for n in [1, 3, 7] {
        commit.dele_answered(n, &ok("+OK"));
    }
    commit.interrupted("interrupted (SIGINT)");
    assert!(matches!(commit.report(), Some(ExitReport::Unknown { .. })));
}

#[test]
fn many_refusals_are_counted_not_all_listed() {
    let numbers: Vec<u32> = (1..=25).collect();
    let mut commit = GuardedCommit::new(marked(&numbers));
    commit.begin_delete();
    let mut next = None;
    for n in numbers {
        next = commit.dele_answered(n, &err("-ERR no such message"));
    }
    assert_eq!(next, Some(CommitCommand::Rset));
    let said = commit.report().unwrap().to_string();
    assert!(
        said.contains("DELE 10: -ERR no such message (and 15 more refused)"),
        "{said}"
    );
    assert!(!said.contains("DELE 11:"), "{said}");
}

#[test]
fn duplicate_marks_are_one_dele_and_sizes_add_up_without_overflow() {
    let mut list = marked(&[5, 5, 2]);
    list[0].size = u64::MAX;
    let mut commit = GuardedCommit::new(list);
    assert_eq!(commit.count(), 2);
    assert_eq!(commit.bytes(), u64::MAX);
    assert_eq!(commit.begin_delete().len(), 2);
}
