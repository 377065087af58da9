//! Byte-table tests of the client state machine: what goes out for what
//! comes in.

use super::transcript::transcript;
use super::*;
use crate::pop3::codec::{MAX_STATUS_LINE, ResponseCode, Status};
use crate::secret::Secret;
use std::time::{Duration, Instant};

fn now() -> Instant {
    Instant::now()
}

fn client(window: usize) -> Client {
    let mut c = Client::new(
        ClientConfig {
            window,
            trace: true,
            trace_bodies: false,
            answer_timeout: Duration::from_secs(30),
        },
        now(),
    );
    c.receive(now(), b"+OK ready <1.2@example>\r\n").unwrap();
    drain(&mut c);
    c
}

fn drain(c: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn completions(events: &[Event]) -> Vec<(RequestId, CommandKind, Outcome)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Completed { id, command, outcome } => Some((*id, *command, outcome.clone())),
            _ => None,
        })
        .collect()
}

fn out(c: &mut Client) -> String {
    String::from_utf8(c.take_output(now())).unwrap()
}

fn logged_in(window: usize) -> Client {
    let mut c = client(window);
    c.submit(Command::User("alice".into()), Priority::Normal).unwrap();
    c.submit(Command::Pass(Secret::from("s3cret")), Priority::Normal)
        .unwrap();
    transcript(
        &mut c,
        "C: USER alice
         S: +OK
         C: PASS s3cret
         S: +OK logged in",
    );
    assert_eq!(c.state(), SessionState::Transaction);
    drain(&mut c);
    c
}

#[test]
fn greeting_moves_to_authorization() {
    let mut c = Client::new(ClientConfig::default(), now());
    assert_eq!(c.state(), SessionState::Greeting);
    c.submit(Command::Capa, Priority::Normal).unwrap();
    assert_eq!(out(&mut c), "", "nothing is sent before the greeting");
    c.receive(now(), b"+OK hi\r\n").unwrap();
    assert_eq!(c.state(), SessionState::Authorization);
    assert_eq!(out(&mut c), "CAPA\r\n");
    let events = drain(&mut c);
    assert!(matches!(&events[0], Event::Trace(_)));
    assert!(events.iter().any(|e| matches!(e, Event::Greeting(s) if s.text == "hi")));
}

#[test]
fn rejected_greeting_is_fatal() {
    let mut c = Client::new(ClientConfig::default(), now());
    let err = c.receive(now(), b"-ERR [SYS/TEMP] go away\r\n").unwrap_err();
    assert!(matches!(err, ProtocolError::GreetingRejected(s) if s.code == Some(ResponseCode::SysTemp)));
}

#[test]
fn garbage_greeting_is_a_clear_error() {
    let mut c = Client::new(ClientConfig::default(), now());
    let err = c.receive(now(), b"SSH-2.0-OpenSSH_9.2\r\n").unwrap_err();
    assert!(err.to_string().contains("neither +OK nor -ERR"), "{err}");
    assert!(err.to_string().contains("greeting"), "{err}");
}

#[test]
fn capa_is_collected() {
    let mut c = client(1);
    let id = c.submit(Command::Capa, Priority::Normal).unwrap();
    transcript(
        &mut c,
        "C: CAPA
         S: +OK
         S: TOP
         S: PIPELINING
         S: .",
    );
    let done = completions(&drain(&mut c));
    let (got_id, kind, Outcome::Ok(reply)) = &done[0] else {
        panic!("{done:?}")
    };
    assert_eq!((*got_id, *kind), (id, CommandKind::Capa));
    assert_eq!(reply.payload(), b"TOP\r\nPIPELINING\r\n");
}

#[test]
fn every_split_of_a_reply_stream_gives_the_same_events() {
    let wire: &[u8] = b"+OK 2 messages\r\n1 100\r\n2 200\r\n.\r\n+OK 2 300\r\n-ERR no such message\r\n";
    let reference = {
        let mut c = logged_in(10);
        c.submit(Command::List(None), Priority::Normal).unwrap();
        c.submit(Command::Stat, Priority::Normal).unwrap();
        c.submit(
            Command::Retr {
                msg: 9,
                listed_size: None,
            },
            Priority::Normal,
        )
        .unwrap();
        c.receive(now(), wire).unwrap();
        completions(&drain(&mut c))
    };
    assert_eq!(reference.len(), 3);
    for cut in 0..wire.len() {
        let mut c = logged_in(10);
        c.submit(Command::List(None), Priority::Normal).unwrap();
        c.submit(Command::Stat, Priority::Normal).unwrap();
        c.submit(
            Command::Retr {
                msg: 9,
                listed_size: None,
            },
            Priority::Normal,
        )
        .unwrap();
        c.receive(now(), &wire[..cut]).unwrap();
        c.receive(now(), &wire[cut..]).unwrap();
        assert_eq!(completions(&drain(&mut c)), reference, "cut at {cut}");
    }
}

#[test]
fn pipelining_window_bounds_what_is_in_flight() {
    let mut c = logged_in(3);
    for n in 1..=10 {
        c.submit(Command::Top { msg: n, lines: 0 }, Priority::Normal).unwrap();
    }
    transcript(
        &mut c,
        "C: TOP 1 0
         C: TOP 2 0
         C: TOP 3 0",
    );
    assert_eq!(c.in_flight(), 3);
    // Two answers in one read: both refills go out in one write.
    transcript(
        &mut c,
        "S: +OK
         S: Subject: one
         S:
         S: .
         C: TOP 4 0
         S: +OK
         S: Subject: two
         S: .
         S: +OK
         S: Subject: three
         S: .
         C: TOP 5 0
         C: TOP 6 0",
    );
    let done = completions(&drain(&mut c));
    let kinds: Vec<_> = done.iter().map(|d| d.1).collect();
    assert_eq!(
        kinds,
        vec![
            CommandKind::Top { msg: 1, lines: 0 },
            CommandKind::Top { msg: 2, lines: 0 },
            CommandKind::Top { msg: 3, lines: 0 }
        ]
    );
    let Outcome::Ok(r) = &done[2].2 else { panic!() };
    assert_eq!(r.payload(), b"Subject: three\r\n");
}

#[test]
fn lockstep_sends_one_at_a_time() {
    let mut c = logged_in(1);
    c.submit(Command::Stat, Priority::Normal).unwrap();
    c.submit(Command::Noop, Priority::Normal).unwrap();
    transcript(
        &mut c,
        "C: STAT
         S: +OK 0 0
         C: NOOP",
    );
}

#[test]
fn huge_window_sends_everything_at_once() {
    let mut c = logged_in(100_000);
    for n in 1..=2000 {
        c.submit(Command::Top { msg: n, lines: 0 }, Priority::Normal).unwrap();
    }
    let sent = out(&mut c);
    assert_eq!(sent.lines().count(), 2000);
    let mut wire = Vec::new();
    for n in 1..=2000 {
        wire.extend_from_slice(format!("+OK\r\nSubject: {n}\r\n.\r\n").as_bytes());
    }
    c.receive(now(), &wire).unwrap();
    let done = completions(&drain(&mut c));
    assert_eq!(done.len(), 2000);
    for (i, (_, kind, outcome)) in done.iter().enumerate() {
        let n = i as u32 + 1;
        assert_eq!(*kind, CommandKind::Top { msg: n, lines: 0 });
        let Outcome::Ok(r) = outcome else { panic!() };
        assert_eq!(r.payload(), format!("Subject: {n}\r\n").as_bytes());
    }
}

#[test]
fn barriers_wait_for_the_pipeline_to_drain_and_go_alone() {
    let mut c = logged_in(10);
    c.submit(Command::Dele(1), Priority::Normal).unwrap();
    c.submit(Command::Dele(2), Priority::Normal).unwrap();
    c.submit(Command::Quit { commit: true }, Priority::Normal).unwrap();
    c.submit(Command::Noop, Priority::Normal).unwrap();
    // The transcript fails on any byte written that it does not list: QUIT
    // waits for both answers, and nothing follows QUIT.
    transcript(
        &mut c,
        "C: DELE 1
         C: DELE 2
         S: +OK

         S: +OK
         C: QUIT
         S: +OK bye, 2 deleted",
    );
    assert_eq!(c.state(), SessionState::Closed);
    assert_eq!(out(&mut c), "", "nothing after QUIT");
}

#[test]
fn unconfirmed_quit_resets_marks_first() {
    let mut c = logged_in(10);
    c.submit(Command::Dele(3), Priority::Normal).unwrap();
    let quit = c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
    transcript(
        &mut c,
        "C: DELE 3
         S: +OK marked
         C: RSET
         S: +OK
         C: QUIT
         S: +OK bye",
    );
    let done = completions(&drain(&mut c));
    assert!(done.iter().any(|(id, _, o)| *id == quit && o.is_ok()));
}

#[test]
fn unconfirmed_quit_is_withheld_when_rset_fails() {
    let mut c = logged_in(10);
    c.submit(Command::Dele(3), Priority::Normal).unwrap();
    let quit = c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
    c.receive(now(), b"+OK marked\r\n").unwrap();
    assert_eq!(out(&mut c), "DELE 3\r\nRSET\r\n");
    c.receive(now(), b"-ERR cannot\r\n").unwrap();
    assert_eq!(out(&mut c), "", "QUIT must not go out after a failed RSET");
    let done = completions(&drain(&mut c));
    assert!(
        done.iter()
            .any(|(id, _, o)| *id == quit && matches!(o, Outcome::NotSent(_)))
    );
}

#[test]
fn unconfirmed_quit_resets_even_when_dele_was_refused_or_unanswered() {
    // A DELE still in flight may be accepted: RSET regardless.
    let mut c = logged_in(10);
    c.submit(Command::Dele(3), Priority::Normal).unwrap();
    c.receive(now(), b"-ERR no such message\r\n").unwrap();
    c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
    assert_eq!(out(&mut c), "DELE 3\r\nRSET\r\n");
}

#[test]
fn unconfirmed_quit_without_marks_goes_straight_out() {
    let mut c = logged_in(10);
    c.submit(Command::Dele(1), Priority::Normal).unwrap();
    c.submit(Command::Rset, Priority::Normal).unwrap();
    // RSET is a barrier: it waits for the DELE's answer.
    transcript(
        &mut c,
        "C: DELE 1
         S: +OK
         C: RSET
         S: +OK",
    );
    c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
    transcript(&mut c, "C: QUIT");
}

#[test]
fn a_dele_behind_an_rset_is_not_forgotten_when_the_rset_is_answered() {
    // Issue 11 item 6: DELE 1, RSET, DELE 3 pipelined, then an unconfirmed
    // QUIT. RSET is a barrier, so DELE 3 goes out only after RSET's +OK
    // and still counts: QUIT is preceded by another RSET.
    let mut c = logged_in(10);
    c.submit(Command::Dele(1), Priority::Normal).unwrap();
    c.submit(Command::Rset, Priority::Normal).unwrap();
    c.submit(Command::Dele(3), Priority::Normal).unwrap();
    c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
    transcript(
        &mut c,
        "C: DELE 1
         S: +OK
         C: RSET
         S: +OK
         C: DELE 3
         S: +OK
         C: RSET
         S: +OK
         C: QUIT
         S: +OK bye",
    );
    assert_eq!(c.possibly_marked(), 0);
}

#[test]
fn rset_never_shares_the_wire() {
    let mut c = logged_in(10);
    c.submit(Command::Stat, Priority::Normal).unwrap();
    c.submit(Command::Rset, Priority::Normal).unwrap();
    c.submit(Command::Noop, Priority::Normal).unwrap();
    transcript(
        &mut c,
        "C: STAT
         S: +OK 1 5
         C: RSET
         S: +OK
         C: NOOP
         S: +OK",
    );
}

#[test]
fn retr_streams_in_chunks() {
    let mut c = logged_in(10);
    let id = c
        .submit(
            Command::Retr {
                msg: 1,
                listed_size: None,
            },
            Priority::Normal,
        )
        .unwrap();
    c.receive(now(), b"+OK 30 octets\r\nSubject: x\r\n\r\n..dot\r\n")
        .unwrap();
    c.receive(now(), b"body\r\n.\r\n").unwrap();
    let events = drain(&mut c);
    let data: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            Event::Data { id: i, chunk } if *i == id => Some(chunk.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(data, b"Subject: x\r\n\r\n.dot\r\nbody\r\n");
    let done = completions(&events);
    let Outcome::Ok(Reply {
        body: Some(Body::Streamed { total_bytes, lines }),
        ..
    }) = &done[0].2
    else {
        panic!("{done:?}")
    };
    assert_eq!((*total_bytes, *lines), (26, 4));
}

#[test]
fn top_bodies_are_bounded() {
    let mut c = logged_in(10);
    c.submit(Command::Top { msg: 1, lines: 0 }, Priority::Normal).unwrap();
    let mut wire = b"+OK\r\nX-Long: ".to_vec();
    wire.extend(std::iter::repeat_n(b'a', MAX_TOP_BYTES * 2));
    wire.extend_from_slice(b"\r\n.\r\n");
    c.receive(now(), &wire).unwrap();
    let done = completions(&drain(&mut c));
    let Outcome::Ok(Reply {
        body:
            Some(Body::Collected {
                bytes,
                truncated,
                total_bytes,
                ..
            }),
        ..
    }) = &done[0].2
    else {
        panic!()
    };
    assert!(*truncated);
    assert_eq!(bytes.len(), MAX_TOP_BYTES);
    assert_eq!(*total_bytes as usize, MAX_TOP_BYTES * 2 + 10);
}

#[test]
fn err_replies_are_not_multiline() {
    let mut c = logged_in(10);
    c.submit(Command::Top { msg: 99, lines: 0 }, Priority::Normal).unwrap();
    c.submit(Command::Stat, Priority::Normal).unwrap();
    c.receive(now(), b"-ERR no such message\r\n+OK 1 5\r\n").unwrap();
    let done = completions(&drain(&mut c));
    assert!(matches!(&done[0].2, Outcome::Err(s) if s.status == Status::Err));
    assert!(done[1].2.is_ok());
}

#[test]
fn a_status_line_that_is_neither_is_fatal_and_fails_everything() {
    let mut c = logged_in(10);
    c.submit(Command::Stat, Priority::Normal).unwrap();
    c.submit(Command::Noop, Priority::Normal).unwrap();
    let err = c.receive(now(), b"HELLO\r\n").unwrap_err();
    assert!(err.to_string().contains("STAT"), "{err}");
    let done = completions(&drain(&mut c));
    assert_eq!(done.len(), 2);
    assert!(matches!(done[0].2, Outcome::Lost(_)));
    // Later submissions fail at once instead of hanging.
    let id = c.submit(Command::Noop, Priority::Normal).unwrap();
    let done = completions(&drain(&mut c));
    assert!(matches!(&done[..], [(i, _, Outcome::NotSent(_))] if *i == id));
}

#[test]
fn closed_mid_reply_is_reported_with_the_command() {
    let mut c = logged_in(10);
    c.submit(
        Command::Retr {
            msg: 4,
            listed_size: None,
        },
        Priority::Normal,
    )
    .unwrap();
    c.receive(now(), b"+OK\r\npartial li").unwrap();
    let err = c.connection_closed().unwrap_err();
    assert_eq!(err, ProtocolError::ClosedMidReply("RETR 4".into()));
}

#[test]
fn an_overlong_status_line_is_an_error_not_a_buffer() {
    let mut c = logged_in(10);
    c.submit(Command::Stat, Priority::Normal).unwrap();
    let err = c.receive(now(), &vec![b'+'; MAX_STATUS_LINE + 10]).unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::Codec {
            error: CodecError::StatusLineTooLong,
            ..
        }
    ));
}

#[test]
fn stls_with_injected_bytes_is_refused() {
    let mut c = client(1);
    c.submit(Command::Stls, Priority::Normal).unwrap();
    assert_eq!(out(&mut c), "STLS\r\n");
    let err = c.receive(now(), b"+OK begin TLS\r\nUSER evil\r\n").unwrap_err();
    assert!(matches!(err, ProtocolError::DataAfterStls(11)));
}

#[test]
fn stls_then_tls_established_resumes() {
    let mut c = client(1);
    c.submit(Command::Stls, Priority::Normal).unwrap();
    c.submit(Command::Capa, Priority::Normal).unwrap();
    assert_eq!(out(&mut c), "STLS\r\n");
    c.receive(now(), b"+OK begin TLS\r\n").unwrap();
    assert_eq!(c.state(), SessionState::AwaitingTls);
    assert_eq!(out(&mut c), "", "nothing is written until TLS is up");
    assert!(
        c.receive(now(), b"x").is_err(),
        "bytes before the handshake completes are refused"
    );
    let mut c = client(1);
    c.submit(Command::Stls, Priority::Normal).unwrap();
    c.submit(Command::Capa, Priority::Normal).unwrap();
    c.receive(now(), b"+OK begin TLS\r\n").unwrap();
    c.take_output(now());
    c.tls_established(now());
    assert_eq!(c.state(), SessionState::Authorization);
    assert_eq!(out(&mut c), "CAPA\r\n");
}

#[test]
fn secrets_are_redacted_in_the_trace() {
    let mut c = client(1);
    c.submit(Command::User("bob".into()), Priority::Normal).unwrap();
    c.submit(Command::Pass(Secret::from("hunter2")), Priority::Normal)
        .unwrap();
    transcript(
        &mut c,
        "C: USER bob
         S: +OK
         C: PASS hunter2
         S: -ERR [AUTH] Authentication failed.",
    );
    let traces: Vec<String> = drain(&mut c)
        .into_iter()
        .filter_map(|e| match e {
            Event::Trace(t) => Some(t.text),
            _ => None,
        })
        .collect();
    assert!(traces.contains(&"PASS ********".to_string()), "{traces:?}");
    assert!(traces.iter().all(|t| !t.contains("hunter2")));
}

#[test]
fn command_injection_is_refused() {
    let mut c = client(1);
    assert!(
        c.submit(Command::User("bob\r\nDELE 1".into()), Priority::Normal)
            .is_err()
    );
    assert!(c.submit(Command::User("bob smith".into()), Priority::Normal).is_err());
    assert!(c.submit(Command::Pass(Secret::from("x\ny")), Priority::Normal).is_err());
    assert!(
        c.submit(
            Command::Retr {
                msg: 0,
                listed_size: None
            },
            Priority::Normal
        )
        .is_err()
    );
    assert_eq!(out(&mut c), "");
}

#[test]
fn urgent_commands_jump_the_queue_but_not_the_wire() {
    let mut c = logged_in(2);
    for n in 1..=5 {
        c.submit(Command::Top { msg: n, lines: 0 }, Priority::Normal).unwrap();
    }
    transcript(&mut c, "C: TOP 1 0\nC: TOP 2 0");
    c.submit(
        Command::Retr {
            msg: 5,
            listed_size: None,
        },
        Priority::Urgent,
    )
    .unwrap();
    transcript(
        &mut c,
        "S: +OK
         S: .
         C: RETR 5",
    );
}

#[test]
fn cancel_withdraws_unsent_commands_only() {
    let mut c = logged_in(1);
    let a = c.submit(Command::Stat, Priority::Normal).unwrap();
    let b = c.submit(Command::Noop, Priority::Normal).unwrap();
    assert!(!c.cancel(a));
    assert!(c.cancel(b));
    assert_eq!(out(&mut c), "STAT\r\n");
    c.receive(now(), b"+OK 0 0\r\n").unwrap();
    assert_eq!(out(&mut c), "");
}

#[test]
fn unsolicited_status_lines_are_reported() {
    let mut c = logged_in(1);
    c.receive(now(), b"-ERR autologout timer expired\r\n").unwrap();
    let events = drain(&mut c);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Unsolicited(s) if s.text.contains("autologout")))
    );
}

/// Issue 11 items 3 and 4: an answer longer than its bound is a protocol
/// error naming the command (never a listing silently cut off, possibly in
/// the middle of a number). The bounds are written as literal sizes here so
/// that the constants' values are pinned.
#[test]
fn answers_longer_than_their_bound_are_protocol_errors() {
    type Case = (fn() -> Command, u64, &'static str);
    let cases: [Case; 5] = [
        (|| Command::Capa, 64 * 1024, "CAPA"),
        (|| Command::List(None), 64 * 1024 * 1024, "LIST"),
        (|| Command::Uidl(None), 64 * 1024 * 1024, "UIDL"),
        (|| Command::Top { msg: 1, lines: 0 }, 16 * 1024 * 1024, "TOP 1 0"),
        (
            || Command::Retr {
                msg: 1,
                listed_size: Some(100),
            },
            2 * 100 + 1024 * 1024,
            "RETR 1",
        ),
    ];
    // `n` content bytes (after unstuffing), as lines of at most 1 MiB.
    fn feed(c: &mut Client, mut n: u64) -> Result<(), ProtocolError> {
        while n > 0 {
            let line = n.min(1024 * 1024);
            let mut chunk = vec![b'x'; line as usize - 2];
            chunk.extend_from_slice(b"\r\n");
            c.receive(now(), &chunk)?;
            drain(c);
            n -= line;
        }
        Ok(())
    }
    for (command, bound, name) in cases {
        let mut c = logged_in(1);
        c.submit(command(), Priority::Normal).unwrap();
        assert_eq!(out(&mut c).trim_end(), name);
        c.receive(now(), b"+OK\r\n").unwrap();
        feed(&mut c, bound).unwrap_or_else(|e| panic!("{name}: exactly {bound} bytes are fine: {e}"));
        c.receive(now(), b".\r\n").unwrap();
        let done = completions(&drain(&mut c));
        assert!(matches!(&done[..], [(_, _, Outcome::Ok(_))]), "{name}: {done:?}");

        c.submit(command(), Priority::Normal).unwrap();
        out(&mut c);
        c.receive(now(), b"+OK\r\n").unwrap();
        let err = feed(&mut c, bound + 2).expect_err(name);
        let message = err.to_string();
        assert!(
            message.contains(name) && message.contains(&format!("{bound} bytes")),
            "{name}: {message}"
        );
    }
}

/// Issue 11 item 1: RFC 1939 has no unsolicited responses but a closing
/// -ERR; a server that floods lines nobody asked for is a protocol error,
/// not a growing queue.
#[test]
fn more_than_a_handful_of_unsolicited_lines_is_a_protocol_error() {
    let mut c = logged_in(1);
    c.receive(now(), b"+OK one\r\n+OK two\r\n-ERR three\r\n").unwrap();
    let err = c.receive(now(), b"+OK four\r\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server sent 4 lines nobody asked for (RFC 1939 allows none but a closing -ERR); the last: \"+OK four\""
    );
    let mut c = logged_in(1);
    let flood = "+OK flood\r\n".repeat(100_000);
    assert!(c.receive(now(), flood.as_bytes()).is_err());
    let unsolicited = drain(&mut c)
        .iter()
        .filter(|e| matches!(e, Event::Unsolicited(_)))
        .count();
    assert_eq!(unsolicited, 3, "the flood stops at the bound");
}

#[test]
fn retr_can_be_collected_up_to_a_limit() {
    let mut c = logged_in(10);
    let id = c
        .submit_with(
            Command::Retr {
                msg: 1,
                listed_size: None,
            },
            Priority::Normal,
            Delivery::Collect(8),
        )
        .unwrap();
    transcript(
        &mut c,
        "C: RETR 1
         S: +OK 16 octets
         S: Subject: x
         S: .",
    );
    let events = drain(&mut c);
    assert!(!events.iter().any(|e| matches!(e, Event::Data { .. })), "{events:?}");
    let done = completions(&events);
    let Outcome::Ok(Reply {
        body:
            Some(Body::Collected {
                bytes,
                truncated,
                total_bytes,
                ..
            }),
        ..
    }) = &done[0].2
    else {
        panic!("{done:?}")
    };
    assert_eq!(done[0].0, id);
    assert_eq!(
        (bytes.as_slice(), *truncated, *total_bytes),
        (&b"Subject:"[..], true, 12)
    );
    // Collect changes nothing for answers the table already collects.
    c.submit_with(
        Command::Top { msg: 1, lines: 0 },
        Priority::Normal,
        Delivery::Collect(1),
    )
    .unwrap();
    c.receive(now(), b"+OK\r\nSubject: y\r\n.\r\n").unwrap();
    let done = completions(&drain(&mut c));
    let Outcome::Ok(r) = &done[0].2 else { panic!("{done:?}") };
    assert_eq!(r.payload(), b"Subject: y\r\n");
}

/// The deletion guard against random command sequences, windows and
/// answers (issue 11 item 6): a server that marks what it accepts must
/// never receive an unconfirmed QUIT while it holds a mark.
#[test]
fn no_unconfirmed_quit_reaches_a_server_holding_marks() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut quits = 0;
    for round in 0..2_000 {
        let mut c = logged_in(1 + random(8) as usize);
        let mut marks = 0u32;
        // Lines the server has read but not answered yet.
        let mut unanswered: VecDeque<String> = VecDeque::new();
        'session: for _ in 0..40 {
            for _ in 0..random(4) {
                let command = match random(5) {
                    0 | 1 => Command::Dele(1 + random(5) as u32),
                    2 => Command::Rset,
                    3 => Command::Noop,
                    _ => Command::Quit { commit: false },
                };
                c.submit(command, Priority::Normal).unwrap();
            }
            unanswered.extend(out(&mut c).lines().map(str::to_string));
            // The server answers some of what it has read, in order.
            let mut answers = String::new();
            for _ in 0..=random(unanswered.len() as u64 + 1) {
                let Some(line) = unanswered.pop_front() else { break };
                let refuse = random(5) == 0;
                answers.push_str(match line.split(' ').next() {
                    Some("DELE") if !refuse => {
                        marks += 1;
                        "+OK marked\r\n"
                    }
                    Some("RSET") if !refuse => {
                        marks = 0;
                        "+OK\r\n"
                    }
                    Some("DELE" | "RSET") => "-ERR no\r\n",
                    Some("QUIT") => {
                        assert_eq!(marks, 0, "round {round}: QUIT reached a server holding marks");
                        quits += 1;
                        break 'session;
                    }
                    _ => "+OK\r\n",
                });
            }
            c.receive(now(), answers.as_bytes()).unwrap();
        }
    }
    assert!(quits > 500, "the sequences must reach QUIT often: {quits}");
}

pub(super) mod time {
    //! The deadline and the trace's times, with simulated time: every
    //! instant is `t0` plus an offset, and nothing sleeps.

    use super::*;
    use crate::pop3::auth::Mechanism;

    pub(in crate::pop3::client) fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// A client logged in with USER/PASS at `t0`, its events drained.
    pub(in crate::pop3::client) fn logged_in_at(t0: Instant, window: usize) -> Client {
        let mut c = Client::new(
            ClientConfig {
                window,
                ..ClientConfig::default()
            },
            t0,
        );
        c.receive(t0, b"+OK ready\r\n").unwrap();
        c.submit(Command::User("alice".into()), Priority::Normal).unwrap();
        c.take_output(t0);
        c.receive(t0, b"+OK\r\n").unwrap();
        c.submit(Command::Pass(Secret::from("pw")), Priority::Normal).unwrap();
        c.take_output(t0);
        c.receive(t0, b"+OK\r\n").unwrap();
        drain(&mut c);
        c
    }

    fn timeout_error(c: &mut Client, now: Instant) -> Option<ProtocolError> {
        c.handle_timeout(now).err()
    }

    #[test]
    fn an_unanswered_command_times_out_naming_it() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 1);
        assert_eq!(c.poll_timeout(), None, "nothing is awaited");
        let stat = c.submit(Command::Stat, Priority::Normal).unwrap();
        assert_eq!(c.poll_timeout(), None, "not written yet");
        let t1 = at(t0, 1_000);
        assert_eq!(String::from_utf8(c.take_output(t1)).unwrap(), "STAT\r\n");
        assert_eq!(c.poll_timeout(), Some(at(t1, 30_000)));
        assert_eq!(timeout_error(&mut c, at(t1, 29_000)), None);
        assert_eq!(completions(&drain(&mut c)), []);
        let err = timeout_error(&mut c, at(t1, 31_000)).expect("timed out");
        assert_eq!(err.to_string(), "no answer to STAT within 30 s");
        let done = completions(&drain(&mut c));
        assert!(
            matches!(&done[..], [(id, CommandKind::Stat, Outcome::Lost(why))] if *id == stat && why.contains("STAT")),
            "{done:?}"
        );
        assert_eq!(c.poll_timeout(), None, "a failed session waits for nothing");
        assert_eq!(timeout_error(&mut c, at(t1, 90_000)), None);
    }

    #[test]
    fn a_committing_quit_may_take_longer_for_every_marked_message() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 1000);
        for n in 1..=5_000 {
            c.submit(Command::Dele(n), Priority::Normal).unwrap();
        }
        let mut answered = 0;
        while answered < 5_000 {
            let sent = String::from_utf8(c.take_output(t0)).unwrap().lines().count();
            assert!(sent > 0, "the window refills");
            c.receive(t0, "+OK\r\n".repeat(sent).as_bytes()).unwrap();
            answered += sent;
        }
        assert_eq!(c.poll_timeout(), None, "every DELE answered");
        c.submit(Command::Quit { commit: true }, Priority::Normal).unwrap();
        assert_eq!(String::from_utf8(c.take_output(t0)).unwrap(), "QUIT\r\n");
        // 30 s, and 10 ms for each of the 5,000 marks: 80 s.
        let allowed = Duration::from_secs(30) + deadline::QUIT_TIME_PER_DELETION * 5_000;
        assert_eq!(allowed, Duration::from_secs(80));
        assert_eq!(c.poll_timeout(), Some(t0 + allowed));
        assert_eq!(timeout_error(&mut c, at(t0, 79_000)), None);
        let err = timeout_error(&mut c, at(t0, 80_000)).expect("timed out");
        assert_eq!(err.to_string(), "no answer to QUIT within 80 s");
    }

    #[test]
    fn the_extra_time_is_for_that_quit_only() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 1);
        c.submit(Command::Quit { commit: true }, Priority::Normal).unwrap();
        c.take_output(t0);
        assert_eq!(c.poll_timeout(), Some(at(t0, 30_000)), "nothing marked: no extra time");
    }

    #[test]
    fn a_silent_server_times_out_naming_the_greeting() {
        let t0 = Instant::now();
        let mut c = Client::new(ClientConfig::default(), t0);
        assert_eq!(c.poll_timeout(), Some(at(t0, 30_000)));
        assert_eq!(timeout_error(&mut c, at(t0, 29_999)), None);
        let err = timeout_error(&mut c, at(t0, 30_000)).expect("timed out");
        assert_eq!(err.to_string(), "no answer to the server's greeting within 30 s");
    }

    #[test]
    fn every_byte_restarts_the_silence_clock_and_an_answer_stops_it() {
        // Documented in `deadline`: bytes keep the silence rule at bay; the
        // whole-answer rule (at least 1 KiB/s after the limit) is met here
        // with 40 KiB in each read.
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 1);
        c.submit(
            Command::Retr {
                msg: 1,
                listed_size: None,
            },
            Priority::Normal,
        )
        .unwrap();
        c.take_output(t0);
        let part = format!("+OK\r\n{}", "x".repeat(40 * 1024 - 5));
        c.receive(at(t0, 20_000), part.as_bytes()).unwrap();
        // Silent until 50 s; slow until 30 + 40 s.
        assert_eq!(c.poll_timeout(), Some(at(t0, 50_000)));
        c.receive(at(t0, 45_000), "y".repeat(40 * 1024).as_bytes()).unwrap();
        assert_eq!(c.poll_timeout(), Some(at(t0, 75_000)));
        assert_eq!(timeout_error(&mut c, at(t0, 70_000)), None);
        c.receive(at(t0, 70_000), b"\r\n.\r\n").unwrap();
        assert_eq!(c.poll_timeout(), None, "answered: nothing is awaited");
        assert_eq!(timeout_error(&mut c, at(t0, 500_000)), None);

        c.submit(
            Command::Retr {
                msg: 2,
                listed_size: None,
            },
            Priority::Normal,
        )
        .unwrap();
        c.take_output(at(t0, 600_000));
        c.receive(at(t0, 610_000), b"+OK\r\npart").unwrap();
        let err = timeout_error(&mut c, at(t0, 640_000)).expect("timed out");
        assert_eq!(err.to_string(), "no answer to RETR 2 within 30 s");
    }

    /// Issue 11 item 3: a trickle (one line a second) resets the silence
    /// clock forever; the whole-answer rule ends it soon after the limit.
    #[test]
    fn a_trickling_answer_fails_soon_after_the_limit_naming_the_command() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 1);
        c.submit(Command::Top { msg: 1, lines: 0 }, Priority::Normal).unwrap();
        c.take_output(t0);
        c.receive(t0, b"+OK\r\n").unwrap();
        let mut failed_at = None;
        for second in 1..=600u64 {
            let now = at(t0, second * 1000);
            if let Some(err) = timeout_error(&mut c, now) {
                failed_at = Some((second, err.to_string()));
                break;
            }
            c.receive(now, b"X-Trickle: 0123456789\r\n").unwrap();
        }
        // 5 + 23 bytes a second: 24 bytes of allowance per 1 KiB/s.
        let (second, message) = failed_at.expect("a trickle must not go on forever");
        assert_eq!(second, 31, "{message}");
        assert_eq!(
            message,
            "the answer to TOP 1 0 comes too slowly: 695 bytes in 31 s (after the first 30 s, at least 1 KiB/s is needed)"
        );
        let done = completions(&drain(&mut c));
        assert!(matches!(&done[..], [(_, _, Outcome::Lost(_))]), "{done:?}");
    }

    /// The whole-answer clock of a pipelined answer starts when the one
    /// before it ends, and a slow consumer's time is not counted.
    #[test]
    fn each_answer_has_its_own_clock_and_pauses_are_credited() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 10);
        c.submit(Command::Stat, Priority::Normal).unwrap();
        c.submit(Command::Top { msg: 1, lines: 0 }, Priority::Normal).unwrap();
        c.take_output(t0);
        c.receive(at(t0, 20_000), b"+OK 1 5\r\n+OK\r\n").unwrap();
        // TOP's answer began at 20 s with 5 bytes: slow from 50.004 s.
        assert_eq!(c.poll_timeout(), Some(at(t0, 50_000)));
        c.receive(at(t0, 49_000), b"X: y\r\n").unwrap();
        assert_eq!(c.poll_timeout(), Some(at(t0, 50_010)), "11 bytes: 10 ms");
        // The consumer held reading up from 49 s to 149 s.
        c.reading_resumed(at(t0, 49_000), at(t0, 149_000));
        assert_eq!(c.poll_timeout(), Some(at(t0, 150_010)));
    }

    #[test]
    fn time_spent_not_reading_is_not_the_servers_silence() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 1);
        c.submit(
            Command::Retr {
                msg: 1,
                listed_size: None,
            },
            Priority::Normal,
        )
        .unwrap();
        c.take_output(t0);
        c.receive(at(t0, 10), b"+OK\r\nSubject: a lot").unwrap();
        // The caller's consumer held it up for 100 s.
        c.reading_resumed(at(t0, 10), at(t0, 100_000));
        assert_eq!(c.poll_timeout(), Some(at(t0, 130_000)));
        assert_eq!(timeout_error(&mut c, at(t0, 129_000)), None);
    }

    #[test]
    fn a_pipelined_batch_is_timed_from_its_first_write() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 10);
        c.submit(Command::Stat, Priority::Normal).unwrap();
        c.take_output(t0);
        c.submit(Command::Noop, Priority::Normal).unwrap();
        // A later write does not give the earlier command more time.
        c.take_output(at(t0, 20_000));
        assert_eq!(c.poll_timeout(), Some(at(t0, 30_000)));
        c.receive(at(t0, 25_000), b"+OK 0 0\r\n").unwrap();
        assert_eq!(c.poll_timeout(), Some(at(t0, 55_000)), "NOOP still awaited");
    }

    #[test]
    fn trace_records_carry_time_latency_and_batch() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 10);
        c.submit(Command::Top { msg: 1, lines: 0 }, Priority::Normal).unwrap();
        c.submit(Command::Top { msg: 2, lines: 0 }, Priority::Normal).unwrap();
        assert!(drain(&mut c).is_empty(), "a line is traced when it is handed out");
        c.take_output(at(t0, 100));
        c.receive(at(t0, 105), b"+OK\r\n.\r\n").unwrap();
        c.receive(at(t0, 109), b"-ERR no such message\r\n").unwrap();
        c.submit(Command::Noop, Priority::Normal).unwrap();
        c.take_output(at(t0, 110));
        c.receive(at(t0, 112), b"+OK\r\n").unwrap();
        let traces: Vec<TraceRecord> = drain(&mut c)
            .into_iter()
            .filter_map(|e| match e {
                Event::Trace(t) => Some(t),
                _ => None,
            })
            .collect();
        let rows: Vec<_> = traces
            .iter()
            .map(|t| {
                (
                    t.direction,
                    t.text.as_str(),
                    t.at.duration_since(t0).as_millis(),
                    t.latency.map(|l| l.as_millis()),
                    t.batch,
                )
            })
            .collect();
        // The login took batches 1 and 2.
        assert_eq!(
            rows,
            [
                (Direction::Sent, "TOP 1 0", 100, None, Some(3)),
                (Direction::Sent, "TOP 2 0", 100, None, Some(3)),
                (Direction::Received, "+OK", 105, Some(5), Some(3)),
                (Direction::Received, "<0 lines, 0 bytes>", 105, None, Some(3)),
                (Direction::Received, "-ERR no such message", 109, Some(9), Some(3)),
                (Direction::Sent, "NOOP", 110, None, Some(4)),
                (Direction::Received, "+OK", 112, Some(2), Some(4)),
            ]
        );
    }

    #[test]
    fn an_answer_keeps_its_batch_while_later_batches_go_out() {
        let t0 = Instant::now();
        let mut c = logged_in_at(t0, 10);
        c.submit(
            Command::Retr {
                msg: 1,
                listed_size: None,
            },
            Priority::Normal,
        )
        .unwrap();
        c.take_output(t0);
        c.receive(at(t0, 5), b"+OK\r\nSubject: still coming\r\n").unwrap();
        c.submit(Command::Noop, Priority::Normal).unwrap();
        c.take_output(at(t0, 6));
        c.receive(at(t0, 9), b".\r\n+OK\r\n").unwrap();
        let rows: Vec<(String, Option<u128>, Option<BatchId>)> = drain(&mut c)
            .into_iter()
            .filter_map(|e| match e {
                Event::Trace(t) => Some((t.text, t.latency.map(|l| l.as_millis()), t.batch)),
                _ => None,
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("RETR 1".to_string(), None, Some(3)),
                ("+OK".to_string(), Some(5), Some(3)),
                ("NOOP".to_string(), None, Some(4)),
                ("<1 lines, 23 bytes>".to_string(), None, Some(3)),
                ("+OK".to_string(), Some(3), Some(4)),
            ]
        );
    }

    #[test]
    fn each_sasl_turn_has_its_own_latency() {
        let t0 = Instant::now();
        let mut c = Client::new(ClientConfig::default(), t0);
        c.receive(t0, b"+OK ready\r\n").unwrap();
        let exchange = SaslExchange::new(Mechanism::Login, "user", b"pw", "nonce", "host", 110).unwrap();
        c.submit(Command::Auth(Box::new(exchange)), Priority::Normal).unwrap();
        c.take_output(at(t0, 10));
        c.receive(at(t0, 13), b"+ VXNlcm5hbWU6\r\n").unwrap();
        c.take_output(at(t0, 20));
        c.receive(at(t0, 27), b"+ UGFzc3dvcmQ6\r\n").unwrap();
        let latencies: Vec<u128> = drain(&mut c)
            .into_iter()
            .filter_map(|e| match e {
                Event::Trace(t) => t.latency.map(|l| l.as_millis()),
                _ => None,
            })
            .collect();
        assert_eq!(latencies, [3, 7]);
    }
}

mod sasl {
    use super::*;
    use crate::pop3::auth::{Mechanism, SaslExchange};

    fn exchange(m: Mechanism, secret: &str) -> Box<SaslExchange> {
        Box::new(
            SaslExchange::new(
                m,
                "user",
                secret.as_bytes(),
                "rOprNGfwEbeRWgbNEkqO",
                "mail.example",
                995,
            )
            .unwrap(),
        )
    }

    #[test]
    fn plain_uses_an_initial_response() {
        let mut c = client(1);
        c.submit(Command::Auth(exchange(Mechanism::Plain, "pw")), Priority::Normal)
            .unwrap();
        transcript(
            &mut c,
            "C: AUTH PLAIN AHVzZXIAcHc=
             S: +OK Logged in.",
        );
        assert_eq!(c.state(), SessionState::Transaction);
    }

    #[test]
    fn xoauth2_is_two_step_and_handles_the_error_json() {
        let mut c = client(1);
        c.submit(Command::Auth(exchange(Mechanism::XOAuth2, "tok")), Priority::Normal)
            .unwrap();
        assert_eq!(out(&mut c), "AUTH XOAUTH2\r\n");
        c.receive(now(), b"+ \r\n").unwrap();
        let line = out(&mut c);
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(line.trim_end())
            .unwrap();
        assert_eq!(raw, b"user=user\x01auth=Bearer tok\x01\x01");
        c.receive(now(), b"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n").unwrap();
        assert_eq!(out(&mut c), "\r\n", "an empty line asks the server for its -ERR");
        c.receive(now(), b"-ERR [AUTH] invalid token\r\n").unwrap();
        let done = completions(&drain(&mut c));
        assert!(matches!(&done[0].2, Outcome::Err(s) if s.code == Some(ResponseCode::Auth)));
        assert!(
            matches!(&done[0].2, Outcome::Err(s) if s.text.contains(r#""status":"401""#)),
            "the JSON detail reaches the person: {done:?}"
        );
        assert_eq!(c.state(), SessionState::Authorization);
    }

    #[test]
    fn scram_server_must_prove_itself() {
        let mut c = client(1);
        c.submit(
            Command::Auth(exchange(Mechanism::ScramSha256, "pencil")),
            Priority::Normal,
        )
        .unwrap();
        let first = out(&mut c);
        assert!(first.starts_with("AUTH SCRAM-SHA-256 "), "{first}");
        // The server skips the proof and says +OK: an impostor.
        c.receive(now(), b"+OK\r\n").unwrap();
        let done = completions(&drain(&mut c));
        assert!(matches!(&done[0].2, Outcome::AuthFailed { .. }), "{done:?}");
        assert_ne!(c.state(), SessionState::Transaction);
    }

    #[test]
    fn a_garbage_challenge_cancels_the_exchange() {
        let mut c = client(1);
        c.submit(Command::Auth(exchange(Mechanism::CramMd5, "pw")), Priority::Normal)
            .unwrap();
        transcript(
            &mut c,
            "C: AUTH CRAM-MD5
             S: + !!!notbase64
             C: *
             S: -ERR cancelled",
        );
        let done = completions(&drain(&mut c));
        assert!(matches!(&done[0].2, Outcome::AuthFailed { .. }));
    }

    fn sent_traces(c: &mut Client) -> Vec<String> {
        drain(c)
            .into_iter()
            .filter_map(|e| match e {
                Event::Trace(t) if t.direction == Direction::Sent => Some(t.text),
                _ => None,
            })
            .collect()
    }

    /// Issue 11 item 9: the size of a line that carries the password or
    /// token would give away its length; such lines show no size.
    #[test]
    fn a_line_carrying_the_secret_shows_no_size() {
        let mut c = client(1);
        c.submit(Command::Auth(exchange(Mechanism::Plain, "hunter2")), Priority::Normal)
            .unwrap();
        transcript(
            &mut c,
            "C: AUTH PLAIN AHVzZXIAaHVudGVyMg==
             S: +OK",
        );
        assert_eq!(sent_traces(&mut c), ["AUTH PLAIN ********"]);

        let mut c = client(1);
        c.submit(Command::Auth(exchange(Mechanism::Login, "hunter2")), Priority::Normal)
            .unwrap();
        transcript(
            &mut c,
            "C: AUTH LOGIN
             S: + VXNlcm5hbWU6
             C: dXNlcg==
             S: + UGFzc3dvcmQ6
             C: aHVudGVyMg==
             S: +OK",
        );
        assert_eq!(
            sent_traces(&mut c),
            ["AUTH LOGIN", "<SASL response, 8 bytes>", "<SASL response>"]
        );

        let mut c = client(1);
        c.submit(Command::Auth(exchange(Mechanism::XOAuth2, "tok")), Priority::Normal)
            .unwrap();
        c.take_output(now());
        c.receive(now(), b"+ \r\n").unwrap();
        c.take_output(now());
        c.receive(now(), b"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n").unwrap();
        c.take_output(now());
        assert_eq!(
            sent_traces(&mut c),
            ["AUTH XOAUTH2", "<SASL response>", "<SASL response, 0 bytes>"]
        );

        // A PLAIN initial response too long for the command line waits for
        // the first challenge, and still shows no size.
        let mut c = client(1);
        let long = "p".repeat(300);
        c.submit(Command::Auth(exchange(Mechanism::Plain, &long)), Priority::Normal)
            .unwrap();
        c.take_output(now());
        c.receive(now(), b"+ \r\n").unwrap();
        c.take_output(now());
        assert_eq!(sent_traces(&mut c), ["AUTH PLAIN", "<SASL response>"]);
    }

    #[test]
    fn sasl_lines_are_redacted() {
        let mut c = client(1);
        c.submit(Command::Auth(exchange(Mechanism::Login, "hunter2")), Priority::Normal)
            .unwrap();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode("hunter2");
        transcript(
            &mut c,
            &format!(
                "C: AUTH LOGIN
                 S: + VXNlcm5hbWU6
                 C: dXNlcg==
                 S: + UGFzc3dvcmQ6
                 C: {b64}
                 S: +OK"
            ),
        );
        let mut sent = 0;
        for e in drain(&mut c) {
            if let Event::Trace(t) = e {
                sent += usize::from(t.direction == Direction::Sent);
                assert!(!t.text.contains("hunter2") && !t.text.contains(&b64), "{t:?}");
            }
        }
        assert_eq!(sent, 3, "every line written is traced");
    }
}

mod guard {
    //! Issue 11 item 6b: the deletion guard, RSET, DELE and QUIT handling
    //! pinned byte for byte, each test killing mutants that survived the
    //! earlier tests (which checked `has_output()` or `is_ok()` and let a
    //! constant pass).

    use super::*;

    #[test]
    fn a_refused_rset_keeps_the_guard_armed() {
        let mut c = logged_in(10);
        assert_eq!(c.possibly_marked(), 0);
        c.submit(Command::Dele(1), Priority::Normal).unwrap();
        c.submit(Command::Dele(2), Priority::Normal).unwrap();
        transcript(&mut c, "C: DELE 1\nC: DELE 2");
        assert_eq!(c.possibly_marked(), 2, "counted when sent, before any answer");
        c.submit(Command::Rset, Priority::Normal).unwrap();
        transcript(
            &mut c,
            "S: +OK
             S: -ERR no such message
             C: RSET
             S: -ERR cannot reset",
        );
        assert_eq!(c.possibly_marked(), 2, "a refused RSET unmarks nothing");
        c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
        transcript(
            &mut c,
            "C: RSET
             S: +OK
             C: QUIT
             S: +OK bye",
        );
        assert_eq!(c.possibly_marked(), 0);
        assert_eq!(c.state(), SessionState::Closed);
    }

    #[test]
    fn an_accepted_rset_disarms_the_guard() {
        let mut c = logged_in(1);
        c.submit(Command::Dele(4), Priority::Normal).unwrap();
        c.submit(Command::Rset, Priority::Normal).unwrap();
        c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
        transcript(
            &mut c,
            "C: DELE 4
             S: +OK
             C: RSET
             S: +OK
             C: QUIT
             S: +OK",
        );
        assert_eq!(c.possibly_marked(), 0);
    }

    #[test]
    fn a_refused_quit_leaves_the_session_open() {
        let mut c = logged_in(1);
        let quit = c.submit(Command::Quit { commit: true }, Priority::Normal).unwrap();
        transcript(
            &mut c,
            "C: QUIT
             S: -ERR [SYS/TEMP] could not remove messages",
        );
        assert_eq!(c.state(), SessionState::Transaction);
        let events = drain(&mut c);
        assert!(
            !events.iter().any(|e| matches!(e, Event::StateChanged(_))),
            "{events:?}"
        );
        let done = completions(&events);
        assert!(
            matches!(&done[..], [(id, CommandKind::Quit { commit: true }, Outcome::Err(s))] if *id == quit && s.code == Some(ResponseCode::SysTemp)),
            "{done:?}"
        );
        // An accepted one closes it, and nothing more is written.
        c.submit(Command::Quit { commit: true }, Priority::Normal).unwrap();
        c.submit(Command::Noop, Priority::Normal).unwrap();
        transcript(
            &mut c,
            "C: QUIT
             S: +OK bye",
        );
        assert_eq!(c.state(), SessionState::Closed);
        assert_eq!(out(&mut c), "");
    }

    #[test]
    fn the_rset_before_an_unconfirmed_quit_has_an_id_of_its_own() {
        let mut c = logged_in(10);
        let dele = c.submit(Command::Dele(1), Priority::Normal).unwrap();
        let quit = c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
        transcript(
            &mut c,
            "C: DELE 1
             S: +OK
             C: RSET
             S: +OK
             C: QUIT
             S: +OK",
        );
        let later = c.submit(Command::Noop, Priority::Normal).unwrap();
        let done = completions(&drain(&mut c));
        let ids: Vec<(RequestId, CommandKind)> = done.iter().map(|(id, kind, _)| (*id, *kind)).collect();
        let rset = ids
            .iter()
            .find(|(_, kind)| *kind == CommandKind::Rset)
            .map(|(id, _)| *id)
            .expect("the RSET completes");
        let mut all = vec![dele, quit, rset, later];
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 4, "ids {dele} {quit} {rset} {later}: {ids:?}");
        assert_eq!(
            ids,
            [
                (dele, CommandKind::Dele(1)),
                (rset, CommandKind::Rset),
                (quit, CommandKind::Quit { commit: false }),
            ]
        );
    }

    #[test]
    fn the_connection_dropping_while_quit_is_awaited() {
        // QUIT in flight: its outcome is unknown, and the error says so.
        let mut c = logged_in(1);
        let quit = c.submit(Command::Quit { commit: true }, Priority::Normal).unwrap();
        assert_eq!(out(&mut c), "QUIT\r\n");
        assert_eq!(c.connection_closed(), Err(ProtocolError::ClosedMidReply("QUIT".into())));
        let done = completions(&drain(&mut c));
        assert!(
            matches!(&done[..], [(id, _, Outcome::Lost(_))] if *id == quit),
            "{done:?}"
        );
        // After QUIT was answered, a close is the normal end.
        let mut c = logged_in(1);
        c.submit(Command::Quit { commit: true }, Priority::Normal).unwrap();
        transcript(&mut c, "C: QUIT\nS: +OK bye");
        assert_eq!(c.connection_closed(), Ok(()));
        // The RSET before an unconfirmed QUIT lost: QUIT was never sent.
        let mut c = logged_in(1);
        c.submit(Command::Dele(1), Priority::Normal).unwrap();
        let quit = c.submit(Command::Quit { commit: false }, Priority::Normal).unwrap();
        transcript(&mut c, "C: DELE 1\nS: +OK\nC: RSET");
        assert_eq!(c.connection_closed(), Err(ProtocolError::ClosedMidReply("RSET".into())));
        let done = completions(&drain(&mut c));
        assert!(
            matches!(&done[..], [(_, CommandKind::Dele(1), Outcome::Ok(_)), (_, CommandKind::Rset, Outcome::Lost(_)), (id, _, Outcome::NotSent(_))] if *id == quit),
            "{done:?}"
        );
        // Nothing awaited: a close says nothing was lost.
        let mut c = logged_in(1);
        assert_eq!(c.connection_closed(), Ok(()));
        assert_eq!(
            c.submit(Command::Noop, Priority::Normal).map(|_| out(&mut c)),
            Ok(String::new())
        );
    }

    #[test]
    fn is_ok_and_has_output_say_what_they_mean() {
        let status = |s: &str| crate::pop3::codec::parse_status_line(s.as_bytes()).unwrap();
        let reply = Outcome::Ok(Reply {
            status: status("+OK"),
            body: None,
        });
        assert!(reply.is_ok());
        for not_ok in [
            Outcome::Err(status("-ERR")),
            Outcome::NotSent("x".into()),
            Outcome::Lost("x".into()),
        ] {
            assert!(!not_ok.is_ok(), "{not_ok:?}");
        }
        let mut c = logged_in(1);
        assert!(!c.has_output());
        c.submit(Command::Noop, Priority::Normal).unwrap();
        assert!(c.has_output());
        assert_eq!(out(&mut c), "NOOP\r\n");
        assert!(!c.has_output());
    }
}

mod bounds {
    //! Issue 11 item 6b: the bounds written as literal sizes, so that the
    //! constants' values are pinned (a test that uses a constant's name
    //! passes whatever the value).

    use super::*;

    fn with(trace: bool, trace_bodies: bool) -> Client {
        let t0 = now();
        let mut c = Client::new(
            ClientConfig {
                window: 1,
                trace,
                trace_bodies,
                answer_timeout: Duration::from_secs(30),
            },
            t0,
        );
        c.receive(t0, b"+OK\r\n").unwrap();
        drain(&mut c);
        c
    }

    #[test]
    fn a_status_line_may_be_8_kib_with_its_line_end() {
        let mut c = logged_in(1);
        c.submit(Command::Noop, Priority::Normal).unwrap();
        out(&mut c);
        let mut line = b"+OK ".to_vec();
        line.resize(8190, b'x');
        line.extend_from_slice(b"\r\n");
        c.receive(now(), &line).unwrap();
        assert!(completions(&drain(&mut c))[0].2.is_ok());
        c.submit(Command::Noop, Priority::Normal).unwrap();
        out(&mut c);
        line.insert(5, b'y');
        let err = c.receive(now(), &line).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the server sent a status line longer than 8192 bytes without a line end (while waiting for the reply to NOOP)"
        );
    }

    /// The payload sample a RETR's summary line carries, by trace settings.
    fn retr_sample(trace: bool, trace_bodies: bool) -> Option<(usize, Vec<String>)> {
        let mut c = with(trace, trace_bodies);
        let retr = Command::Retr {
            msg: 1,
            listed_size: None,
        };
        c.submit(retr, Priority::Normal).unwrap();
        out(&mut c);
        c.receive(now(), b"+OK\r\nX-Evil: \x1b]0;t\x07\r\n..dot\r\n").unwrap();
        let line = format!("{}\r\n", "z".repeat(99_998));
        c.receive(now(), line.as_bytes()).unwrap();
        c.receive(now(), line.as_bytes()).unwrap();
        c.receive(now(), b".\r\n").unwrap();
        let mut payloads: Vec<_> = drain(&mut c)
            .into_iter()
            .filter_map(|e| match e {
                Event::Trace(t) => t.payload,
                _ => None,
            })
            .collect();
        assert!(payloads.len() <= 1, "one summary line: {payloads:?}");
        payloads.pop().map(|p| {
            assert_eq!((p.lines, p.total_bytes), (4, 200_022), "{p:?}");
            (p.sample_len(), p.text_lines(2))
        })
    }

    #[test]
    fn trace_bodies_samples_up_to_64_kib_sanitized() {
        let sanitized = vec!["X-Evil: \u{241b}]0;t\u{2407}".to_string(), ".dot".to_string()];
        assert_eq!(retr_sample(true, true), Some((65_536, sanitized.clone())));
        assert_eq!(retr_sample(true, false), Some((2_048, sanitized)));
        assert_eq!(retr_sample(false, true), None, "no trace: no payload");
        assert_eq!(retr_sample(false, false), None);
    }

    #[test]
    fn an_initial_response_goes_on_the_line_up_to_255_octets() {
        use crate::pop3::auth::{Mechanism, SaslExchange};
        // "AUTH SCRAM-SHA-1 " + 236 base64 + CRLF = 255: on the line.
        // "n,,n=u,r=" is 9 bytes; 177 bytes encode to 236.
        let scram = |nonce_len: usize| {
            let nonce = "N".repeat(nonce_len);
            Box::new(SaslExchange::new(Mechanism::ScramSha1, "u", b"pw", &nonce, "h", 1).unwrap())
        };
        let mut c = client(1);
        c.submit(Command::Auth(scram(168)), Priority::Normal).unwrap();
        let line = out(&mut c);
        assert_eq!(line.len(), 255, "{line}");
        assert!(line.starts_with("AUTH SCRAM-SHA-1 "), "{line}");
        // One byte more (240 base64, 259 octets): sent at the first challenge.
        let mut c = client(1);
        c.submit(Command::Auth(scram(169)), Priority::Normal).unwrap();
        assert_eq!(out(&mut c), "AUTH SCRAM-SHA-1\r\n");
        c.receive(now(), b"+ \r\n").unwrap();
        assert_eq!(out(&mut c).len(), 242);
    }
}

/// A refused STLS, PASS or APOP leaves the session where it was (issue 11
/// item 6b: mutants that moved it on anyway survived).
#[test]
fn a_refused_stls_pass_or_apop_changes_no_state() {
    for command in [
        Command::Stls,
        Command::Pass(crate::secret::Secret::from("pw")),
        Command::Apop {
            user: "alice".into(),
            digest: "0123456789abcdef0123456789abcdef".into(),
        },
    ] {
        let mut c = Client::new(ClientConfig::default(), now());
        c.receive(now(), b"+OK ready <1.2@host>\r\n").unwrap();
        let kind = command.kind();
        c.submit(command, Priority::Normal).unwrap();
        out(&mut c);
        c.receive(now(), b"-ERR no\r\n").unwrap();
        assert_eq!(c.state(), SessionState::Authorization, "{kind}");
        // Still a session that takes commands in the clear.
        c.submit(Command::Noop, Priority::Normal).unwrap();
        assert_eq!(out(&mut c), "NOOP\r\n", "{kind}");
    }
}
