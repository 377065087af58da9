//! The trace records as a debugging instrument: every answer line names the
//! command it answers (however many are in flight), its latency runs from
//! the write to the answer's first byte, each write says what it held, and
//! nothing reveals a secret's length.

use super::tests::time::{at, logged_in_at as logged_in};
use super::*;
use crate::pop3::auth::{Mechanism, SaslExchange};
use crate::secret::Secret;
use std::time::Instant;

fn records(c: &mut Client) -> Vec<TraceRecord> {
    std::iter::from_fn(|| c.poll_event())
        .filter_map(|e| match e {
            Event::Trace(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// The server's answer to `TOP n 0`: refused for `refused`, otherwise a
/// header naming `n`.
fn top_answer(n: u32, refused: u32) -> String {
    if n == refused {
        format!("-ERR message {n} is gone\r\n")
    } else {
        format!("+OK top of {n}\r\nSubject: {n}\r\n.\r\n")
    }
}

/// Runs `count` pipelined TOPs at `window`, message `refused` answered
/// `-ERR`, the answers to each write arriving in reads of `chunk` bytes.
/// Returns every trace record.
fn pipelined_tops(window: usize, count: u32, refused: u32, chunk: usize) -> Vec<TraceRecord> {
    let t0 = Instant::now();
    let mut c = logged_in(t0, window);
    for msg in 1..=count {
        c.submit(Command::Top { msg, lines: 0 }, Priority::Normal).unwrap();
    }
    let mut all = Vec::new();
    let mut ms = 10;
    loop {
        let out = c.take_output(at(t0, ms));
        if out.is_empty() {
            break;
        }
        let answers: String = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| {
                let n: u32 = line.split(' ').nth(1).unwrap().parse().unwrap();
                top_answer(n, refused)
            })
            .collect();
        for piece in answers.as_bytes().chunks(chunk) {
            ms += 1;
            c.receive(at(t0, ms), piece).unwrap();
        }
        all.extend(records(&mut c));
        ms += 1;
    }
    all.extend(records(&mut c));
    all
}

/// Every received line names the command whose answer it is: the number in
/// the answer's text is the number of the TOP it is labelled with. Every
/// command's answer shares its command line's batch.
fn assert_paired(records: &[TraceRecord], count: u32, refused: u32) {
    let mut batch_of = std::collections::HashMap::new();
    let mut answered = 0;
    for r in records {
        let Some(CommandKind::Top { msg, .. }) = r.command else {
            panic!("a line without its command: {r:?}");
        };
        match r.direction {
            Direction::Sent => {
                assert_eq!(r.text, format!("TOP {msg} 0"));
                batch_of.insert(msg, r.batch);
            }
            Direction::Received => {
                let expected = if r.text.starts_with('<') {
                    "<1 lines, ".to_string()
                } else {
                    answered += 1;
                    assert!(r.latency.is_some(), "a status line without latency: {r:?}");
                    match msg == refused {
                        true => format!("-ERR message {msg} is gone"),
                        false => format!("+OK top of {msg}"),
                    }
                };
                assert!(r.text.starts_with(&expected), "{r:?} is not the answer to TOP {msg}");
                assert_eq!(Some(&r.batch), batch_of.get(&msg), "{r:?} in another batch");
            }
            Direction::Note => panic!("unexpected note {r:?}"),
        }
    }
    assert_eq!(answered, count, "every command answered once");
}

#[test]
fn pipelined_answers_are_paired_with_their_command_at_any_window() {
    for (window, count) in [(1, 12), (7, 40), (1000, 2500)] {
        // Refused in the middle of the first batch.
        let refused = (window as u32 / 2).max(1) + 1;
        for chunk in [5, 64, 1 << 20] {
            let records = pipelined_tops(window, count, refused, chunk);
            assert_paired(&records, count, refused);
        }
    }
}

#[test]
fn a_write_says_what_it_held_on_its_first_line() {
    let records = pipelined_tops(7, 10, 0, 1 << 20);
    let opened: Vec<(Option<BatchId>, BatchSize)> = records
        .iter()
        .filter_map(|r| r.opens_batch.map(|b| (r.batch, b)))
        .collect();
    // The first write fills the window; then each read's answers free the
    // whole window again.
    assert_eq!(
        opened[0].1,
        BatchSize {
            lines: 7,
            bytes: Some(7 * "TOP 1 0\r\n".len())
        }
    );
    assert_eq!(opened[1].1.lines, 3);
    let first_lines = records
        .iter()
        .filter(|r| r.direction == Direction::Sent)
        .filter(|r| r.opens_batch.is_some())
        .count();
    assert_eq!(first_lines, opened.len(), "only a write's first line opens it");
}

#[test]
fn latency_runs_to_the_first_byte_of_the_answer() {
    let t0 = Instant::now();
    let mut c = logged_in(t0, 10);
    c.submit(Command::Stat, Priority::Normal).unwrap();
    c.submit(Command::Noop, Priority::Normal).unwrap();
    c.take_output(at(t0, 100));
    // STAT's answer starts at 103 and ends at 150; NOOP's starts in the
    // read at 150.
    c.receive(at(t0, 103), b"+OK 2 ").unwrap();
    c.receive(at(t0, 150), b"320\r\n+OK\r\n").unwrap();
    let rows: Vec<(String, u128, Option<u128>)> = records(&mut c)
        .into_iter()
        .filter(|r| r.direction == Direction::Received)
        .map(|r| {
            (
                r.text,
                r.at.duration_since(t0).as_millis(),
                r.latency.map(|l| l.as_millis()),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("+OK 2 320".to_string(), 103, Some(3)),
            ("+OK".to_string(), 150, Some(50)),
        ]
    );
}

#[test]
fn sizes_are_given_except_for_lines_that_carry_a_secret() {
    let t0 = Instant::now();
    let mut c = Client::new(ClientConfig::default(), t0);
    c.receive(t0, b"+OK ready\r\n").unwrap();
    c.submit(Command::User("alice".into()), Priority::Normal).unwrap();
    c.take_output(t0);
    c.receive(t0, b"+OK\r\n").unwrap();
    c.submit(Command::Pass(Secret::from("hunter2")), Priority::Normal)
        .unwrap();
    c.take_output(t0);
    c.receive(t0, b"+OK in\r\n").unwrap();
    let sizes: Vec<(String, Option<u64>)> = records(&mut c).into_iter().map(|r| (r.text, r.bytes)).collect();
    assert_eq!(
        sizes,
        [
            ("+OK ready".to_string(), Some(11)),
            ("USER alice".to_string(), Some(12)),
            ("+OK".to_string(), Some(5)),
            ("PASS ********".to_string(), None),
            ("+OK in".to_string(), Some(8)),
        ]
    );
    let opened: Vec<Option<BatchSize>> = {
        let mut c = Client::new(ClientConfig::default(), t0);
        c.receive(t0, b"+OK ready\r\n").unwrap();
        c.submit(Command::Pass(Secret::from("hunter2")), Priority::Normal)
            .unwrap();
        c.take_output(t0);
        records(&mut c).into_iter().map(|r| r.opens_batch).collect()
    };
    // The write's size would reveal the password's length as well.
    assert_eq!(opened, [None, Some(BatchSize { lines: 1, bytes: None })]);
}

#[test]
fn every_sasl_client_line_is_sizeless_and_labelled_auth() {
    for mechanism in [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::XOAuth2,
        Mechanism::CramMd5,
    ] {
        let t0 = Instant::now();
        let mut c = Client::new(ClientConfig::default(), t0);
        c.receive(t0, b"+OK ready <1.2@host>\r\n").unwrap();
        let exchange = SaslExchange::new(mechanism, "user", b"hunter2", "nonce", "host", 110).unwrap();
        c.submit(Command::Auth(Box::new(exchange)), Priority::Normal).unwrap();
        c.take_output(t0);
        for challenge in ["+ VXNlcm5hbWU6\r\n", "+ UGFzc3dvcmQ6\r\n"] {
            if c.waiting_for().is_some() && c.state() == SessionState::Authorization {
                let _ = c.receive(t0, challenge.as_bytes());
                c.take_output(t0);
            }
        }
        for r in records(&mut c).into_iter().skip(1) {
            assert_eq!(r.command, Some(CommandKind::Auth(mechanism)), "{r:?}");
            if r.direction == Direction::Sent && r.text != format!("AUTH {}", mechanism.name()) {
                assert_eq!(r.bytes, None, "{mechanism:?}: {r:?}");
                assert_eq!(r.opens_batch.and_then(|b| b.bytes), None, "{mechanism:?}: {r:?}");
            }
        }
    }
}

#[test]
fn payloads_are_sampled_capa_whole_and_others_bounded() {
    let t0 = Instant::now();
    let mut c = logged_in(t0, 10);
    let capa: String = (0..300).map(|i| format!("X-CAPABILITY-{i}\r\n")).collect();
    let header = "X-Long: ".to_string() + &"h".repeat(10_000) + "\r\n";
    c.submit(Command::Capa, Priority::Normal).unwrap();
    c.take_output(t0);
    c.receive(t0, format!("+OK\r\n{capa}.\r\n").as_bytes()).unwrap();
    c.submit(Command::Top { msg: 1, lines: 0 }, Priority::Normal).unwrap();
    c.take_output(t0);
    c.receive(t0, format!("+OK\r\n{header}.\r\n").as_bytes()).unwrap();
    let payloads: Vec<Payload> = records(&mut c).into_iter().filter_map(|r| r.payload).collect();
    assert_eq!(payloads.len(), 2);
    assert!(payloads[0].is_complete(), "{:?}", payloads[0]);
    assert_eq!(payloads[0].text_lines(1000).len(), 300);
    assert_eq!(payloads[0].text_lines(1000)[299], "X-CAPABILITY-299");
    assert!(!payloads[1].is_complete());
    assert_eq!(payloads[1].total_bytes, header.len() as u64);
    assert!(payloads[1].sample_len() <= 2 * 1024, "{:?}", payloads[1]);
}

#[test]
fn payload_text_is_sanitized() {
    let p = Payload::new(b"Subject: \x1b]0;owned\x07\r\nX: \xe2\x80\xae\r\n".to_vec(), 2, 30);
    for line in p.text_lines(10) {
        assert!(!line.chars().any(|c| c.is_control() || c == '\u{202e}'), "{line:?}");
    }
}

#[test]
fn a_tls_record_instead_of_a_greeting_fails_at_once() {
    for first in [&b"\x16\x03\x01\x00\x2a"[..], b"\x15\x03\x03\x00\x02\x02\x28"] {
        let mut c = Client::new(ClientConfig::default(), Instant::now());
        let e = c.receive(Instant::now(), first).unwrap_err();
        assert_eq!(e, ProtocolError::TlsRecordForGreeting);
        assert!(e.to_string().contains("TLS port"), "{e}");
    }
}

/// A line that arrives in pieces is stamped with its first byte, the
/// greeting and a line nobody asked for too; an answer names the request
/// it answers (issue 11 item 6b: mutants that dropped these survived).
#[test]
fn lines_in_pieces_are_stamped_with_their_first_byte_and_answers_name_their_request() {
    let t0 = Instant::now();
    let mut c = Client::new(ClientConfig::default(), t0);
    c.receive(t0, b"+OK rea").unwrap();
    c.receive(at(t0, 40), b"dy\r\n").unwrap();
    let greeting = records(&mut c);
    assert_eq!(greeting.len(), 1, "{greeting:?}");
    assert_eq!((greeting[0].text.as_str(), greeting[0].at), ("+OK ready", t0));

    let mut c = logged_in(t0, 4);
    c.receive(at(t0, 50), b"-ERR auto").unwrap();
    c.receive(at(t0, 90), b"logout soon\r\n").unwrap();
    let unsolicited = records(&mut c);
    assert_eq!(unsolicited.len(), 1, "{unsolicited:?}");
    assert_eq!(unsolicited[0].at, at(t0, 50));
    assert_eq!(unsolicited[0].bytes, Some(22), "its size on the wire");
    assert_eq!(unsolicited[0].request, None);

    let id = c.submit(Command::Noop, Priority::Normal).unwrap();
    c.take_output(at(t0, 100));
    c.receive(at(t0, 110), b"+OK\r\n").unwrap();
    let answer: Vec<TraceRecord> = records(&mut c)
        .into_iter()
        .filter(|r| r.direction == Direction::Received)
        .collect();
    assert_eq!(answer.len(), 1, "{answer:?}");
    assert_eq!((answer[0].request, answer[0].at), (Some(id), at(t0, 110)));
}
