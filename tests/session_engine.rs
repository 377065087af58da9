//! The session engine (`popscope::session`) in-process against the scripted
//! fake POP3 server: pipelined answers matched to their commands, a server
//! vanishing mid-window, priorities, streaming, and how a session ends.
//!
//! Every test is wrapped in a time limit so that a hang fails the test.

#[path = "support/fake_server.rs"]
mod fake_server;

use std::future::Future;
use std::time::{Duration, Instant};

use fake_server::{FakeServer, Step, capa, expect, greeting, multiline, quit, send_line, user_pass_login};
use popscope::error::FailureKind;
use popscope::pop3::auth::Mechanism;
use popscope::pop3::client::{Body, Command, Outcome, Priority, Reply};
use popscope::pop3::codec::{Status, StatusLine};
use popscope::secret::Secret;
use popscope::session::driver::{Route, SessionEvent};
use popscope::session::{Credential, Observers, QuitResult, Session, SessionConfig, StartTlsPolicy, TlsMode, open};
use tokio::sync::oneshot;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";
/// Upper bound for one whole test.
const TEST_LIMIT: Duration = Duration::from_secs(60);
/// Upper bound for the fake server's script.
const WAIT: Duration = Duration::from_secs(20);

fn config(port: u16, window: usize) -> SessionConfig {
    SessionConfig::builder("127.0.0.1", port, USER, Credential::Password(Secret::from(PASSWORD)))
        .tls(TlsMode::None)
        .starttls(StartTlsPolicy::Optional)
        .mechanism(Some(Mechanism::User))
        .allow_plaintext(true)
        .connect_timeout(Duration::from_secs(10))
        .response_timeout(Duration::from_secs(10))
        .window(window)
        .build()
}

/// Greeting, CAPA, USER/PASS, and CAPA again unless the first answer
/// already listed everything popscope acts on (PIPELINING, TOP, UIDL).
fn login(caps: &[&str]) -> Vec<Step> {
    let mut s = vec![greeting()];
    s.extend(capa(caps));
    s.extend(user_pass_login(USER, PASSWORD));
    if !["PIPELINING", "TOP", "UIDL"].iter().all(|c| caps.contains(c)) {
        s.extend(capa(caps));
    }
    s
}

const PIPELINED: &[&str] = &["USER", "UIDL", "TOP", "PIPELINING"];
const LOCKSTEP: &[&str] = &["USER", "UIDL", "TOP"];

async fn start(server: &FakeServer, window: usize) -> Session {
    open(&config(server.port(), window), Observers::default())
        .await
        .unwrap_or_else(|f| panic!("open failed: {f}; server saw {:?}", server.received()))
}

async fn limited<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_LIMIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: did not finish within {TEST_LIMIT:?} (hang)"),
    }
}

/// What the client sent after logging in (and re-asking CAPA, if it did).
fn after_login(received: &[String]) -> &[String] {
    let pass = received
        .iter()
        .position(|l| l.starts_with("PASS "))
        .expect("a PASS line");
    let rest = &received[pass + 1..];
    match rest.first() {
        Some(l) if l == "CAPA" => &rest[1..],
        _ => rest,
    }
}

/// Polls `received()` until `line` shows up (the client has sent it).
async fn until_received(server: &FakeServer, line: &str) {
    let deadline = Instant::now() + WAIT;
    while !server.received().iter().any(|l| l == line) {
        assert!(
            Instant::now() < deadline,
            "{line:?} never arrived; received {:?}",
            server.received()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The header block message `n` answers to `TOP n 0` with: the number of
/// lines varies with `n`, so an answer matched to the wrong command can't
/// look right by accident.
fn headers_of(n: u32) -> Vec<String> {
    let mut lines = vec![
        format!("Subject: message number {n}"),
        format!("Message-ID: <{n}.{}@fake.example>", n * 7919),
    ];
    for k in 0..(n % 4) {
        lines.push(format!("X-Filler-{k}: {}", "x".repeat((n * 13 % 50) as usize)));
    }
    // A header line starting with '.' is dot-stuffed on the wire.
    if n.is_multiple_of(5) {
        lines.push(format!(".X-Dotted: {n}"));
    }
    lines.push(String::new());
    lines
}

fn top_answer(n: u32) -> Vec<u8> {
    let lines = headers_of(n);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    match multiline(&format!("+OK headers of {n} follow"), &refs) {
        Step::Send(bytes) => bytes,
        other => unreachable!("{other:?}"),
    }
}

/// What `TOP n 0`'s reply payload must be (unstuffed, CRLF line ends).
fn top_payload(n: u32) -> Vec<u8> {
    headers_of(n)
        .iter()
        .flat_map(|l| format!("{l}\r\n").into_bytes())
        .collect()
}

fn reply_of(result: Result<Result<Outcome, popscope::error::Failure>, oneshot::error::RecvError>, n: u32) -> Reply {
    match result {
        Ok(Ok(Outcome::Ok(reply))) => reply,
        other => panic!("TOP {n}: expected +OK, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// 1. Pipelined answers are matched to the right commands
// ---------------------------------------------------------------------------

async fn pipelined_tops(window: usize, server: FakeServer) {
    let session = start(&server, window).await;
    assert_eq!(session.report.window, window);
    let mut receivers = Vec::new();
    for n in 1..=50u32 {
        let (tx, rx) = oneshot::channel();
        session
            .submit(
                Command::Top { msg: n, lines: 0 },
                Priority::Normal,
                Route::Reply { tx, limit: 1 << 20 },
            )
            .expect("submit");
        receivers.push((n, rx));
    }
    for (n, rx) in receivers {
        let reply = reply_of(rx.await, n);
        assert_eq!(reply.status.text, format!("headers of {n} follow"));
        assert_eq!(
            String::from_utf8_lossy(reply.payload()),
            String::from_utf8_lossy(&top_payload(n)),
            "TOP {n} got another message's headers"
        );
        match &reply.body {
            Some(Body::Collected {
                truncated: false,
                total_bytes,
                ..
            }) => assert_eq!(*total_bytes, top_payload(n).len() as u64),
            other => panic!("TOP {n}: body {other:?}"),
        }
    }
    let result = session.quit(false).await;
    assert!(matches!(&result, QuitResult::Answered(s) if s.is_ok()), "{result:?}");
    let t = server.wait_done_async(WAIT).await.expect("script");
    let tops: Vec<String> = (1..=50).map(|n| format!("TOP {n} 0")).collect();
    assert_eq!(after_login(&t.received)[..50], tops[..]);
    assert_eq!(t.received.last().map(String::as_str), Some("QUIT"));
}

#[tokio::test]
async fn pipelined_answers_match_their_commands_window_2() {
    // Lockstep-ish: answer each TOP as it comes; two are on the wire at once.
    let mut script = login(PIPELINED);
    for n in 1..=50 {
        script.push(Step::Expect(format!("TOP {n} 0")));
        script.push(Step::Send(top_answer(n)));
    }
    script.extend(quit());
    let server = FakeServer::start(script);
    limited("window 2", pipelined_tops(2, server)).await;
}

#[tokio::test]
async fn pipelined_answers_match_their_commands_window_1000() {
    // All 50 commands must arrive before a single answer goes out; then all
    // 50 answers arrive in one write.
    let mut script = login(PIPELINED);
    let mut answers = Vec::new();
    for n in 1..=50 {
        script.push(Step::Expect(format!("TOP {n} 0")));
        answers.extend(top_answer(n));
    }
    script.push(Step::Send(answers));
    script.extend(quit());
    let server = FakeServer::start(script);
    limited("window 1000", pipelined_tops(1000, server)).await;
}

// ---------------------------------------------------------------------------
// 2. The server closes mid-window
// ---------------------------------------------------------------------------

#[tokio::test]
async fn server_closing_mid_window_fails_the_rest_without_hanging() {
    let mut script = login(PIPELINED);
    for n in 1..=10 {
        script.push(Step::Expect(format!("TOP {n} 0")));
    }
    let mut answers = Vec::new();
    for n in 1..=3 {
        answers.extend(top_answer(n));
    }
    // The 4th answer starts but never ends.
    answers.extend_from_slice(b"+OK headers of 4 follow\r\nSubject: cut");
    script.push(Step::Send(answers));
    script.push(Step::Close);
    let server = FakeServer::start(script);

    limited("close mid-window", async {
        let session = start(&server, 10).await;
        assert_eq!(session.report.window, 10);
        let calls = (1..=10u32).map(|n| session.call(Command::Top { msg: n, lines: 0 }));
        let results = futures_util::future::join_all(calls).await;
        for (i, result) in results.into_iter().enumerate() {
            let n = i as u32 + 1;
            if n <= 3 {
                match result {
                    Ok(Outcome::Ok(reply)) => assert_eq!(reply.payload(), &top_payload(n)[..], "TOP {n}"),
                    other => panic!("TOP {n} was answered in full but got {other:?}"),
                }
            } else {
                match result {
                    Err(f) => assert_eq!(f.kind, FailureKind::Connect, "TOP {n}: {f}"),
                    other => panic!("TOP {n}: expected a Connect failure, got {other:?}"),
                }
            }
        }
        let failure = session.failure().expect("the session records why it ended");
        assert_eq!(failure.kind, FailureKind::Connect, "{failure}");
        assert!(failure.message.contains("TOP 4 0"), "{failure}");
        // A command after the end fails at once instead of waiting forever.
        let late = session.call(Command::Noop).await;
        assert!(matches!(&late, Err(f) if f.kind == FailureKind::Connect), "{late:?}");
        let quit = session.quit(false).await;
        assert!(!matches!(quit, QuitResult::Answered(_)), "{quit:?}");
    })
    .await;
    let t = server.wait_done_async(WAIT).await.expect("script");
    assert!(!t.received.iter().any(|l| l == "QUIT"), "{:?}", t.received);
}

// ---------------------------------------------------------------------------
// 3. An urgent RETR overtakes queued background work
// ---------------------------------------------------------------------------

fn retr_answer(body: &str) -> Vec<u8> {
    format!("+OK {} octets\r\n{body}.\r\n", body.len()).into_bytes()
}

#[tokio::test]
async fn urgent_retr_goes_ahead_of_queued_tops() {
    const BODY: &str = "Subject: wanted now\r\n\r\nHello.\r\n";
    let mut script = login(PIPELINED);
    script.push(expect("TOP 1 0"));
    script.push(expect("TOP 2 0"));
    // Hold the answers while the test submits the urgent RETR (it waits for
    // "TOP 2 0" to arrive here first, so TOP 3..6 are queued by then).
    script.push(Step::Pause(Duration::from_millis(300)));
    script.push(Step::Send([top_answer(1), top_answer(2)].concat()));
    script.push(expect("RETR 9"));
    script.push(expect("TOP 3 0"));
    script.push(Step::Send([retr_answer(BODY), top_answer(3)].concat()));
    script.push(expect("TOP 4 0"));
    script.push(expect("TOP 5 0"));
    script.push(Step::Send([top_answer(4), top_answer(5)].concat()));
    script.push(expect("TOP 6 0"));
    script.push(Step::Send(top_answer(6)));
    script.extend(quit());
    let server = FakeServer::start(script);

    limited("urgent RETR", async {
        let session = start(&server, 2).await;
        let mut tops = Vec::new();
        for n in 1..=6u32 {
            let (tx, rx) = oneshot::channel();
            session
                .submit(
                    Command::Top { msg: n, lines: 0 },
                    Priority::Normal,
                    Route::Reply { tx, limit: 1 << 20 },
                )
                .expect("submit TOP");
            tops.push((n, rx));
        }
        until_received(&server, "TOP 2 0").await;
        let (tx, retr) = oneshot::channel();
        session
            .submit(
                Command::Retr {
                    msg: 9,
                    listed_size: None,
                },
                Priority::Urgent,
                Route::Reply { tx, limit: 1 << 20 },
            )
            .expect("submit RETR");
        let retr = match retr.await {
            Ok(Ok(Outcome::Ok(reply))) => reply,
            other => panic!("RETR 9: {other:?}"),
        };
        assert_eq!(retr.payload(), BODY.as_bytes());
        for (n, rx) in tops {
            assert_eq!(reply_of(rx.await, n).payload(), &top_payload(n)[..], "TOP {n}");
        }
        let quit = session.quit(false).await;
        assert!(matches!(&quit, QuitResult::Answered(s) if s.is_ok()), "{quit:?}");
    })
    .await;
    server.wait_done_async(WAIT).await.expect("script");
    let work: Vec<String> = after_login(&server.received()).to_vec();
    assert_eq!(
        work,
        [
            "TOP 1 0", "TOP 2 0", "RETR 9", "TOP 3 0", "TOP 4 0", "TOP 5 0", "TOP 6 0", "QUIT"
        ]
    );
}

// ---------------------------------------------------------------------------
// 4. Streaming a large RETR
// ---------------------------------------------------------------------------

/// About 5 MB of message, CRLF lines, with lines that need dot-stuffing
/// (".", "..", ".x") sprinkled in.
fn big_message() -> (Vec<u8>, u64) {
    let mut content = Vec::with_capacity(5 * 1024 * 1024 + 200);
    content.extend_from_slice(b"Subject: big\r\nFrom: bob@example.org\r\n\r\n");
    let mut lines = 3u64;
    let mut i = 0u64;
    while content.len() < 5 * 1024 * 1024 {
        let line = match i % 97 {
            0 => ".".to_string(),
            1 => "..".to_string(),
            2 => format!(".leading dot {i}"),
            _ => format!("line {i:08} {}", "abcdefghij".repeat(6)),
        };
        content.extend_from_slice(line.as_bytes());
        content.extend_from_slice(b"\r\n");
        lines += 1;
        i += 1;
    }
    (content, lines)
}

fn stuffed(content: &[u8]) -> Vec<u8> {
    let mut wire = Vec::with_capacity(content.len() + content.len() / 50 + 8);
    for line in content.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            wire.push(b'.');
        }
        wire.extend_from_slice(line);
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

#[tokio::test]
async fn retr_stream_delivers_5mb_exactly_in_chunks() {
    let (content, lines) = big_message();
    let mut wire = format!("+OK {} octets\r\n", content.len()).into_bytes();
    wire.extend(stuffed(&content));
    let mut script = login(LOCKSTEP);
    script.push(expect("RETR 1"));
    script.push(Step::Send(wire));
    script.extend(quit());
    let server = FakeServer::start(script);

    limited("retr_stream", async {
        let session = start(&server, 1).await;
        let (mut data, done) = session.retr_stream(1, None, 4, Priority::Urgent).expect("retr_stream");
        let mut received = Vec::with_capacity(content.len());
        let mut chunks = 0usize;
        while let Some(chunk) = data.recv().await {
            assert!(!chunk.is_empty(), "empty chunk");
            chunks += 1;
            received.extend_from_slice(&chunk);
        }
        assert!(chunks > 1, "5 MB arrived in {chunks} chunk(s)");
        assert_eq!(received.len(), content.len());
        assert!(received == content, "streamed bytes differ from the message");
        match done.await {
            Ok(Ok(Outcome::Ok(Reply {
                status,
                body:
                    Some(Body::Streamed {
                        lines: got_lines,
                        total_bytes,
                    }),
            }))) => {
                assert!(status.is_ok());
                assert_eq!(total_bytes, content.len() as u64);
                assert_eq!(got_lines, lines);
            }
            other => panic!("done: {other:?}"),
        }
        let quit = session.quit(false).await;
        assert!(matches!(&quit, QuitResult::Answered(s) if s.is_ok()), "{quit:?}");
    })
    .await;
    server.wait_done_async(WAIT).await.expect("script");
}

#[tokio::test]
async fn stall_in_the_middle_of_retr_times_out_naming_retr() {
    let mut script = login(LOCKSTEP);
    script.push(expect("RETR 1"));
    script.push(Step::Send(
        b"+OK 5000 octets\r\nSubject: half\r\n\r\nsome of the bo".to_vec(),
    ));
    script.push(Step::Stall);
    let server = FakeServer::start(script);
    limited("retr stall", async {
        let mut cfg = config(server.port(), 1);
        cfg.response_timeout = Duration::from_secs(1);
        let session = open(&cfg, Observers::default()).await.expect("open");
        let started = Instant::now();
        let (mut data, done) = session.retr_stream(1, None, 4, Priority::Urgent).expect("retr_stream");
        let mut got = Vec::new();
        while let Some(chunk) = data.recv().await {
            got.extend(chunk);
        }
        assert!(got.starts_with(b"Subject: half"), "{:?}", String::from_utf8_lossy(&got));
        let outcome = done.await.expect("done is always answered");
        assert!(matches!(outcome, Ok(Outcome::Lost(_))), "{outcome:?}");
        let failure = session.failure().expect("session failure");
        assert_eq!(failure.kind, FailureKind::Timeout, "{failure}");
        assert!(failure.message.contains("RETR 1"), "{failure}");
        assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    })
    .await;
}

// ---------------------------------------------------------------------------
// 5. How a session ends
// ---------------------------------------------------------------------------

fn dele_script() -> Vec<Step> {
    let mut script = login(LOCKSTEP);
    script.push(expect("DELE 1"));
    script.push(send_line("+OK message 1 deleted"));
    script
}

#[tokio::test]
async fn dropping_the_session_closes_without_quit_even_after_dele() {
    let mut script = dele_script();
    // Reads whatever comes next: a QUIT would be read (and the script pass);
    // a close without QUIT fails this step with "client closed".
    script.push(Step::ExpectAny);
    let server = FakeServer::start(script);
    limited("drop", async {
        let session = start(&server, 1).await;
        let reply = session.call_ok(Command::Dele(1)).await.expect("DELE");
        assert!(reply.status.is_ok());
        drop(session);
        let end = server.wait_done_async(WAIT).await;
        let err = end.expect_err("the client must close without sending anything");
        assert!(err.contains("client closed"), "{err}");
    })
    .await;
    let received = server.received();
    assert!(!received.iter().any(|l| l == "QUIT"), "{received:?}");
    assert_eq!(received.last().map(String::as_str), Some("DELE 1"));
}

#[tokio::test]
async fn unconfirmed_quit_after_dele_sends_rset_first() {
    let mut script = dele_script();
    script.push(expect("RSET"));
    script.push(send_line("+OK maildrop has 2 messages"));
    script.push(expect("QUIT"));
    script.push(send_line("+OK bye"));
    script.push(Step::Close);
    let server = FakeServer::start(script);
    limited("quit(false)", async {
        let session = start(&server, 1).await;
        session.call_ok(Command::Dele(1)).await.expect("DELE");
        let result = session.quit(false).await;
        assert_eq!(
            result,
            QuitResult::Answered(StatusLine {
                status: Status::Ok,
                code: None,
                text: "bye".into()
            })
        );
    })
    .await;
    let t = server.wait_done_async(WAIT).await.expect("script");
    assert_eq!(after_login(&t.received), ["DELE 1", "RSET", "QUIT"]);
}

#[tokio::test]
async fn confirmed_quit_sends_quit_directly_and_reports_the_exact_answer() {
    const ANSWER: &str = "+OK dewey POP3 server signing off (1 message deleted)";
    let mut script = dele_script();
    script.push(expect("QUIT"));
    script.push(send_line(ANSWER));
    script.push(Step::Close);
    let server = FakeServer::start(script);
    limited("quit(true)", async {
        let session = start(&server, 1).await;
        session.call_ok(Command::Dele(1)).await.expect("DELE");
        match session.quit(true).await {
            QuitResult::Answered(status) => {
                assert!(status.is_ok());
                assert_eq!(status.text, "dewey POP3 server signing off (1 message deleted)");
                assert_eq!(status.to_string(), ANSWER);
            }
            other => panic!("{other:?}"),
        }
    })
    .await;
    let t = server.wait_done_async(WAIT).await.expect("script");
    assert_eq!(after_login(&t.received), ["DELE 1", "QUIT"]);
}

#[tokio::test]
async fn quit_without_an_answer_is_unknown() {
    let mut script = dele_script();
    script.push(expect("QUIT"));
    script.push(Step::Close);
    let server = FakeServer::start(script);
    limited("quit unanswered", async {
        let session = start(&server, 1).await;
        session.call_ok(Command::Dele(1)).await.expect("DELE");
        let result = session.quit(true).await;
        assert!(matches!(result, QuitResult::Unknown(_)), "{result:?}");
    })
    .await;
    server.wait_done_async(WAIT).await.expect("script");
}

// ---------------------------------------------------------------------------
// A slow event subscriber (issue 11 item 1)
// ---------------------------------------------------------------------------

/// The subscriber's channel is bounded: while it is full the session holds
/// answers (and stops reading) but never loses one.
#[tokio::test]
async fn a_slow_event_subscriber_loses_no_answer() {
    const N: u64 = 300;
    let mut script = login(PIPELINED);
    for _ in 0..N {
        script.push(expect("NOOP"));
    }
    script.push(Step::Send("+OK\r\n".repeat(N as usize).into_bytes()));
    let server = FakeServer::start(script);
    limited("slow subscriber", async {
        let (events, mut received) = tokio::sync::mpsc::channel(8);
        let observers = Observers {
            trace: Vec::new(),
            events: Some(events),
        };
        let session = open(&config(server.port(), 1000), observers)
            .await
            .unwrap_or_else(|f| panic!("open failed: {f}"));
        for ticket in 0..N {
            session
                .submit(Command::Noop, Priority::Normal, Route::Event { ticket })
                .unwrap();
        }
        // Nobody reads until the server has answered everything.
        server.wait_done_async(WAIT).await.expect("script");
        let mut completed = Vec::new();
        while (completed.len() as u64) < N {
            match received.recv().await.expect("the session is alive") {
                SessionEvent::Completed { ticket, outcome, .. } => {
                    assert!(matches!(outcome, Outcome::Ok(_)), "{outcome:?}");
                    completed.push(ticket);
                }
                SessionEvent::Data { .. } => {}
                SessionEvent::Closed(why) => panic!("closed early: {why:?}"),
            }
        }
        assert_eq!(completed, (0..N).collect::<Vec<_>>(), "every answer, in order");
        session.abandon().await;
    })
    .await;
}
