//! The demo server driven over real loopback sockets by a raw client, so
//! the tests see exactly the bytes a POP3 client would.

use super::*;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::time::{Instant, timeout};

/// Generous: only a deadlock or a lost reply takes this long.
const PATIENCE: Duration = Duration::from_secs(30);

struct RawClient {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    greeting: String,
}

impl RawClient {
    async fn connect(server: &DemoServer) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", server.port())).await.expect("connect");
        let (read, writer) = stream.into_split();
        let mut client = RawClient {
            reader: BufReader::new(read),
            writer,
            greeting: String::new(),
        };
        client.greeting = client.line().await;
        assert!(
            client.greeting.starts_with("+OK popscope demo server ready <"),
            "{}",
            client.greeting
        );
        client
    }

    async fn login(server: &DemoServer) -> RawClient {
        let mut client = RawClient::connect(server).await;
        assert_eq!(client.cmd(&format!("USER {}", server.user())).await, "+OK send PASS");
        let reply = client.cmd(&format!("PASS {}", server.password())).await;
        assert!(reply.starts_with("+OK"), "{reply}");
        client
    }

    async fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("send");
    }

    /// One line without its CRLF.
    async fn line(&mut self) -> String {
        let mut buf = Vec::new();
        timeout(PATIENCE, self.reader.read_until(b'\n', &mut buf))
            .await
            .expect("reply in time")
            .expect("read");
        assert!(buf.ends_with(b"\r\n"), "line without CRLF: {buf:?}");
        buf.truncate(buf.len() - 2);
        String::from_utf8(buf).expect("status lines are UTF-8")
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.send(line).await;
        self.line().await
    }

    /// The body of a multi-line response, un-stuffed, terminator removed.
    async fn body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let mut line = Vec::new();
            timeout(PATIENCE, self.reader.read_until(b'\n', &mut line))
                .await
                .expect("body in time")
                .expect("read");
            assert!(line.ends_with(b"\n"), "connection closed inside a multi-line response");
            if line == b".\r\n" {
                return body;
            }
            let unstuffed = if line.starts_with(b".") { &line[1..] } else { &line[..] };
            body.extend_from_slice(unstuffed);
        }
    }

    /// Sends a command expecting `+OK` and a multi-line body.
    async fn multiline(&mut self, line: &str) -> Vec<u8> {
        let status = self.cmd(line).await;
        assert!(status.starts_with("+OK"), "{line}: {status}");
        self.body().await
    }

    /// Whether the server closes the connection within `wait`.
    async fn closed_within(&mut self, wait: Duration) -> bool {
        let mut byte = [0u8; 1];
        matches!(timeout(wait, self.reader.read(&mut byte)).await, Ok(Ok(0)) | Ok(Err(_)))
    }

    /// Whether nothing at all arrives within `wait`.
    async fn silent_for(&mut self, wait: Duration) -> bool {
        let mut byte = [0u8; 1];
        timeout(wait, self.reader.read(&mut byte)).await.is_err()
    }
}

async fn start(maildrop: Maildrop) -> DemoServer {
    DemoServer::start(maildrop, DemoOptions::default())
        .await
        .expect("start")
}

/// Waits until the server has noticed a session ended (it releases the
/// lock then).
async fn until_unlocked(server: &DemoServer) {
    let deadline = Instant::now() + PATIENCE;
    while server.is_locked() {
        assert!(Instant::now() < deadline, "session never ended");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn sizes_from_list(body: &[u8]) -> Vec<u64> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let (number, size) = line.split_once(' ').unwrap();
            assert_eq!(number.parse::<usize>().unwrap(), i + 1);
            size.parse().unwrap()
        })
        .collect()
}

fn three_messages() -> Maildrop {
    Maildrop::with_messages(vec![
        b"Subject: one\n\nfirst\n".to_vec(),
        b"Subject: two\r\n\r\nsecond\r\n".to_vec(),
        b"Subject: three\n\nthird".to_vec(),
    ])
}

fn dots_message() -> Vec<u8> {
    b"Subject: dots\n\n.\n..\n...\n.text\nend\n.\n".to_vec()
}

#[tokio::test]
async fn stat_matches_the_maildrop() {
    let maildrop = Maildrop::generate(40, 9);
    let (count, size) = (maildrop.len(), maildrop.total_size());
    let server = start(maildrop).await;
    assert_eq!((server.message_count(), server.total_size()), (count, size));
    let mut client = RawClient::login(&server).await;
    assert_eq!(client.cmd("STAT").await, format!("+OK {count} {size}"));
    let sizes = sizes_from_list(&client.multiline("LIST").await);
    assert_eq!(sizes.len(), count);
    assert_eq!(sizes.iter().sum::<u64>(), size);
    assert_eq!(
        client.cmd("QUIT").await,
        "+OK popscope demo server signing off (0 messages deleted)"
    );
    assert!(client.closed_within(PATIENCE).await);
}

#[tokio::test]
async fn list_sizes_equal_retr_bytes_for_stored_and_generated_messages() {
    let maildrop = Maildrop::with_messages(vec![
        b"Subject: lf\n\nbody\n".to_vec(),
        dots_message(),
        b"Subject: no final newline\r\n\r\nlast line".to_vec(),
        Vec::new(),
    ])
    .with_generated(11, 1_000_003)
    .with_generated(12, 5_000);
    let expected: Vec<Vec<u8>> = maildrop.messages().iter().map(DemoMessage::to_bytes).collect();
    let server = start(maildrop).await;
    let mut client = RawClient::login(&server).await;
    let sizes = sizes_from_list(&client.multiline("LIST").await);
    assert_eq!(sizes.len(), expected.len());
    for (i, (size, bytes)) in sizes.iter().zip(&expected).enumerate() {
        let retrieved = client.multiline(&format!("RETR {}", i + 1)).await;
        assert_eq!(retrieved.len() as u64, *size, "message {}", i + 1);
        assert_eq!(&retrieved, bytes, "message {}", i + 1);
    }
    assert_eq!(expected[0], b"Subject: lf\r\n\r\nbody\r\n");
    assert_eq!(
        expected[1],
        b"Subject: dots\r\n\r\n.\r\n..\r\n...\r\n.text\r\nend\r\n.\r\n"
    );
    assert_eq!(sizes[4], 1_000_003);
}

#[tokio::test]
async fn generated_maildrop_sample_round_trips() {
    let maildrop = Maildrop::generate(30, 3);
    let mut sample: Vec<usize> = [
        MessageKind::Hostile("dot-lines"),
        MessageKind::Hostile("terminal-escapes"),
        MessageKind::Hostile("broken-mime"),
    ]
    .iter()
    .map(|kind| maildrop.position(*kind).expect("special present"))
    .collect();
    sample.extend([0, 1, 2, 29]);
    let expected: Vec<(usize, Vec<u8>)> = sample
        .iter()
        .map(|&i| (i, maildrop.get(i).unwrap().to_bytes()))
        .collect();
    let server = start(maildrop).await;
    let mut client = RawClient::login(&server).await;
    let sizes = sizes_from_list(&client.multiline("LIST").await);
    for (index, bytes) in expected {
        let retrieved = client.multiline(&format!("RETR {}", index + 1)).await;
        assert_eq!(retrieved.len() as u64, sizes[index], "message {}", index + 1);
        assert_eq!(retrieved, bytes, "message {}", index + 1);
    }
}

#[tokio::test]
async fn pipelined_batch_of_500_top_commands_does_not_deadlock() {
    let maildrop = Maildrop::generate_ordinary(120, 2).with_generated(5, 400_000);
    let headers: Vec<Vec<u8>> = maildrop
        .messages()
        .iter()
        .map(|m| {
            let bytes = m.to_bytes();
            let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            bytes[..end].to_vec()
        })
        .collect();
    let count = headers.len();
    let server = start(maildrop).await;
    let mut client = RawClient::login(&server).await;
    let batch: String = (0..500).map(|i| format!("TOP {} 0\r\n", i % count + 1)).collect();
    let run = async {
        // The whole batch before reading a single byte.
        client.writer.write_all(batch.as_bytes()).await.unwrap();
        for i in 0..500 {
            let status = client.line().await;
            assert_eq!(status, "+OK top of message follows", "reply {i}");
            assert_eq!(client.body().await, headers[i % count], "reply {i}");
        }
        assert_eq!(client.cmd("NOOP").await, "+OK");
    };
    timeout(PATIENCE, run)
        .await
        .expect("pipelined batch answered without deadlock");
}

#[tokio::test]
async fn huge_pipelined_batch_written_before_reading_does_not_deadlock() {
    // Far more replies (~20 MB) than socket buffers hold: a server that
    // stops reading while its writes are blocked would hang here.
    let maildrop = Maildrop::generate_ordinary(50, 4);
    let count = maildrop.len();
    let server = start(maildrop).await;
    let mut client = RawClient::login(&server).await;
    let commands = 10_000;
    let batch: String = (0..commands).map(|i| format!("RETR {}\r\n", i % count + 1)).collect();
    let run = async {
        client.writer.write_all(batch.as_bytes()).await.unwrap();
        for _ in 0..commands {
            assert!(client.line().await.starts_with("+OK"));
            client.body().await;
        }
    };
    timeout(Duration::from_secs(120), run).await.expect("no deadlock");
}

#[tokio::test]
async fn top_of_a_generated_message_sends_only_the_head() {
    let maildrop = Maildrop::default().with_generated(3, 2_000_000);
    let bytes = maildrop.messages()[0].to_bytes();
    let server = start(maildrop).await;
    let mut client = RawClient::login(&server).await;
    let top = client.multiline("TOP 1 5").await;
    let header_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut end = header_end;
    for _ in 0..5 {
        end += bytes[end..].iter().position(|&b| b == b'\n').unwrap() + 1;
    }
    assert_eq!(top, &bytes[..end]);
    // More lines than the message has: all of it.
    assert_eq!(client.multiline("TOP 1 100000000").await, bytes);
}

#[tokio::test]
async fn dele_and_quit_removes_the_messages() {
    let server = start(three_messages()).await;
    let mut client = RawClient::login(&server).await;
    assert_eq!(client.cmd("DELE 2").await, "+OK message 2 deleted");
    assert_eq!(client.cmd("DELE 2").await, "-ERR message 2 already deleted");
    assert_eq!(client.cmd("RETR 2").await, "-ERR message 2 already deleted");
    assert_eq!(client.cmd("LIST 2").await, "-ERR message 2 already deleted");
    assert!(client.cmd("STAT").await.starts_with("+OK 2 "));
    let numbers = String::from_utf8(client.multiline("UIDL").await).unwrap();
    assert_eq!(numbers, "1 msg-0\r\n3 msg-2\r\n");
    // Nothing happens before QUIT.
    assert_eq!(server.message_count(), 3);
    assert_eq!(
        client.cmd("QUIT").await,
        "+OK popscope demo server signing off (1 messages deleted)"
    );
    assert_eq!((server.message_count(), server.deleted_count()), (2, 1));
    assert_eq!(server.uids(), ["msg-0", "msg-2"]);

    let mut again = RawClient::login(&server).await;
    assert!(again.cmd("STAT").await.starts_with("+OK 2 "));
    let numbers = String::from_utf8(again.multiline("UIDL").await).unwrap();
    assert_eq!(numbers, "1 msg-0\r\n2 msg-2\r\n");
}

#[tokio::test]
async fn dropped_connection_and_rset_delete_nothing() {
    let server = start(three_messages()).await;
    let mut client = RawClient::login(&server).await;
    assert!(client.cmd("DELE 1").await.starts_with("+OK"));
    assert!(client.cmd("DELE 3").await.starts_with("+OK"));
    drop(client);
    until_unlocked(&server).await;
    assert_eq!((server.message_count(), server.deleted_count()), (3, 0));

    let mut client = RawClient::login(&server).await;
    assert!(client.cmd("STAT").await.starts_with("+OK 3 "));
    assert!(client.cmd("DELE 1").await.starts_with("+OK"));
    assert!(client.cmd("RSET").await.starts_with("+OK maildrop has 3 messages"));
    assert!(client.cmd("QUIT").await.starts_with("+OK"));
    assert_eq!((server.message_count(), server.deleted_count()), (3, 0));
}

#[tokio::test]
async fn second_session_gets_in_use_until_the_first_quits() {
    let server = start(three_messages()).await;
    let mut first = RawClient::login(&server).await;
    let mut second = RawClient::connect(&server).await;
    assert_eq!(second.cmd("USER demo").await, "+OK send PASS");
    assert_eq!(second.cmd("PASS demo").await, "-ERR [IN-USE] maildrop locked");
    assert_eq!(second.cmd("STAT").await, "-ERR STAT is only valid after logging in");
    assert!(first.cmd("QUIT").await.starts_with("+OK"));
    assert_eq!(second.cmd("USER demo").await, "+OK send PASS");
    assert!(second.cmd("PASS demo").await.starts_with("+OK"));
}

#[tokio::test]
async fn without_locking_sessions_share_the_maildrop() {
    let options = DemoOptions {
        lock: false,
        ..DemoOptions::default()
    };
    let server = DemoServer::start(three_messages(), options).await.unwrap();
    let mut first = RawClient::login(&server).await;
    let mut second = RawClient::login(&server).await;
    assert!(first.cmd("DELE 1").await.starts_with("+OK"));
    assert!(second.cmd("DELE 1").await.starts_with("+OK"));
    assert!(second.cmd("DELE 2").await.starts_with("+OK"));
    assert!(first.cmd("QUIT").await.starts_with("+OK"));
    assert_eq!(
        second.cmd("QUIT").await,
        "+OK popscope demo server signing off (1 messages deleted)"
    );
    assert_eq!((server.message_count(), server.deleted_count()), (1, 2));
}

#[tokio::test]
async fn errors_are_clear_and_the_session_continues() {
    let server = start(three_messages()).await;
    let mut client = RawClient::connect(&server).await;
    assert_eq!(client.cmd("FROB").await, "-ERR unknown command \"FROB\"");
    assert_eq!(client.cmd("\u{1b}[2J").await, "-ERR unknown command");
    assert_eq!(client.cmd("").await, "-ERR empty command");
    assert_eq!(client.cmd("RETR 1").await, "-ERR RETR is only valid after logging in");
    assert_eq!(client.cmd("PASS demo").await, "-ERR send USER first");
    assert_eq!(client.cmd("USER demo").await, "+OK send PASS");
    assert_eq!(
        client.cmd("PASS wrong").await,
        "-ERR [AUTH] invalid user name or password"
    );
    assert_eq!(client.cmd("PASS demo").await, "-ERR send USER first");
    assert_eq!(client.cmd("user demo").await, "+OK send PASS");
    assert!(
        client
            .cmd("pass demo")
            .await
            .starts_with("+OK demo's maildrop has 3 messages")
    );
    assert_eq!(client.cmd("USER demo").await, "-ERR already logged in");
    assert_eq!(client.cmd("RETR abc").await, "-ERR invalid message number \"abc\"");
    assert_eq!(client.cmd("RETR +1").await, "-ERR invalid message number \"+1\"");
    assert_eq!(client.cmd("RETR 0").await, "-ERR no such message (the maildrop has 3)");
    assert_eq!(client.cmd("RETR 4").await, "-ERR no such message (the maildrop has 3)");
    assert_eq!(client.cmd("RETR").await, "-ERR RETR takes 1 argument");
    assert_eq!(client.cmd("TOP 1").await, "-ERR TOP takes 2 arguments");
    assert_eq!(client.cmd("TOP 1 x").await, "-ERR invalid line count \"x\"");
    assert_eq!(client.cmd("LIST 1 2").await, "-ERR LIST takes 0 to 1 arguments");
    assert_eq!(client.cmd("STAT now").await, "-ERR STAT takes no arguments");
    assert_eq!(
        client.cmd(&"X".repeat(300)).await,
        "-ERR line too long (at most 255 octets)"
    );
    assert_eq!(client.cmd("nOoP").await, "+OK");
    assert_eq!(
        client.cmd("list 3").await,
        format!("+OK 3 {}", b"Subject: three\r\n\r\nthird\r\n".len())
    );
}

#[tokio::test]
async fn auth_plain_with_initial_response_and_in_two_steps() {
    use base64::Engine as _;
    let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let server = start(three_messages()).await;

    let mut client = RawClient::connect(&server).await;
    let mechanisms = String::from_utf8(client.multiline("AUTH").await).unwrap();
    assert_eq!(mechanisms, "PLAIN\r\n");
    assert_eq!(
        client.cmd("AUTH CRAM-MD5").await,
        "-ERR unsupported SASL mechanism \"CRAM-MD5\""
    );
    let wrong = encode("\0demo\0nope");
    assert_eq!(
        client.cmd(&format!("AUTH PLAIN {wrong}")).await,
        "-ERR [AUTH] invalid user name or password"
    );
    assert_eq!(client.cmd("AUTH PLAIN").await, "+ ");
    assert_eq!(client.cmd("*").await, "-ERR authentication cancelled");
    assert_eq!(
        client.cmd("AUTH PLAIN !!!").await,
        "-ERR the SASL response is not valid base64"
    );
    let good = encode("\0demo\0demo");
    assert!(client.cmd(&format!("auth plain {good}")).await.starts_with("+OK"));
    assert!(client.cmd("QUIT").await.starts_with("+OK"));

    let mut client = RawClient::connect(&server).await;
    assert_eq!(client.cmd("AUTH PLAIN").await, "+ ");
    assert!(client.cmd(&encode("demo\0demo\0demo")).await.starts_with("+OK"));
    assert!(client.cmd("STAT").await.starts_with("+OK 3 "));
}

#[tokio::test]
async fn apop_uses_the_greeting_timestamp() {
    use md5::{Digest, Md5};
    let server = start(three_messages()).await;
    let mut client = RawClient::connect(&server).await;
    let timestamp = &client.greeting[client.greeting.find('<').unwrap()..];
    let digest: String = Md5::digest(format!("{timestamp}demo").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        client.cmd("APOP demo 0123").await,
        "-ERR [AUTH] invalid user name or password"
    );
    assert!(client.cmd(&format!("APOP demo {digest}")).await.starts_with("+OK"));
}

#[tokio::test]
async fn capa_follows_the_options() {
    let server = start(three_messages()).await;
    let mut client = RawClient::connect(&server).await;
    let capa = String::from_utf8(client.multiline("CAPA").await).unwrap();
    assert_eq!(
        capa,
        "TOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nSASL PLAIN\r\nIMPLEMENTATION popscope-demo\r\n"
    );

    let options = DemoOptions {
        advertise_top: false,
        advertise_uidl: false,
        advertise_pipelining: false,
        ..DemoOptions::default()
    };
    let server = DemoServer::start(three_messages(), options).await.unwrap();
    let mut client = RawClient::login(&server).await;
    let capa = String::from_utf8(client.multiline("CAPA").await).unwrap();
    assert!(
        !capa.contains("TOP") && !capa.contains("UIDL") && !capa.contains("PIPELINING"),
        "{capa}"
    );
    assert_eq!(client.cmd("TOP 1 0").await, "-ERR TOP is not supported by this server");
    assert_eq!(client.cmd("UIDL").await, "-ERR UIDL is not supported by this server");
}

#[tokio::test]
async fn stall_after_stops_answering_but_keeps_the_connection() {
    let options = DemoOptions {
        stall_after: Some(2),
        ..DemoOptions::default()
    };
    let server = DemoServer::start(three_messages(), options).await.unwrap();
    let mut client = RawClient::connect(&server).await;
    assert_eq!(client.cmd("USER demo").await, "+OK send PASS");
    assert!(client.cmd("PASS demo").await.starts_with("+OK"));
    client.send("STAT").await;
    assert!(client.silent_for(Duration::from_millis(300)).await);
    assert!(server.is_locked(), "the stalled session is still open");
}

#[tokio::test]
async fn latency_delays_each_batch_once() {
    let latency = Duration::from_millis(200);
    let options = DemoOptions {
        latency: Some(latency),
        ..DemoOptions::default()
    };
    let server = DemoServer::start(three_messages(), options).await.unwrap();
    let mut client = RawClient::connect(&server).await;
    let started = Instant::now();
    client
        .writer
        .write_all(b"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n")
        .await
        .unwrap();
    for _ in 0..5 {
        assert!(client.line().await.starts_with("-ERR"));
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= latency, "{elapsed:?}");
    assert!(
        elapsed < latency * 4,
        "one delay per batch, not per command: {elapsed:?}"
    );
}

#[tokio::test]
async fn idle_connections_are_dropped_and_unlock() {
    let options = DemoOptions {
        idle_timeout: Duration::from_millis(200),
        ..DemoOptions::default()
    };
    let server = DemoServer::start(three_messages(), options).await.unwrap();
    let mut client = RawClient::login(&server).await;
    assert!(client.cmd("DELE 1").await.starts_with("+OK"));
    assert!(client.closed_within(PATIENCE).await);
    until_unlocked(&server).await;
    assert_eq!(server.message_count(), 3);
}

#[tokio::test]
async fn quit_before_login_and_shutdown() {
    let server = start(three_messages()).await;
    let mut client = RawClient::connect(&server).await;
    assert_eq!(client.cmd("QUIT").await, "+OK popscope demo server signing off");
    assert!(client.closed_within(PATIENCE).await);
    let mut open = RawClient::login(&server).await;
    let port = server.port();
    server.shutdown().await;
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "listener closed"
    );
    assert!(open.closed_within(PATIENCE).await, "open sessions are dropped");
}

#[tokio::test]
async fn same_seed_serves_the_same_maildrop() {
    let mut listings = Vec::new();
    for _ in 0..2 {
        let server = start(Maildrop::generate(60, 7)).await;
        let mut client = RawClient::login(&server).await;
        let list = client.multiline("LIST").await;
        let uidl = client.multiline("UIDL").await;
        let top = client.multiline("TOP 5 3").await;
        listings.push((list, uidl, top));
    }
    assert_eq!(listings[0], listings[1]);
    let uidl = String::from_utf8(listings[0].1.clone()).unwrap();
    assert!(uidl.starts_with("1 demo-7-0\r\n2 demo-7-1\r\n"), "{uidl}");
}
