use super::*;
use crate::session::trace::fixtures::{opening, tops};
use crate::session::trace::store::Budget;
use std::time::Duration;

fn header() -> TraceHeader {
    TraceHeader::new(
        "mail.example.org:995".into(),
        Some("192.0.2.7:995".parse().unwrap()),
        None,
        UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
    )
}

#[test]
fn rfc3339_in_utc_with_milliseconds() {
    let at = |ms: u64| rfc3339(UNIX_EPOCH + Duration::from_millis(ms));
    assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(at(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    assert_eq!(at(1_709_164_800_000), "2024-02-29T00:00:00.000Z");
    assert_eq!(at(951_782_399_999), "2000-02-28T23:59:59.999Z");
    assert_eq!(at(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
}

/// Every line: a `# ` header line, or timestamp, relative time, direction.
fn assert_text_lines(text: &str) {
    for line in text.lines() {
        if line.starts_with("# ") {
            continue;
        }
        let mut words = line.split_whitespace();
        let ts = words.next().unwrap();
        assert_eq!(ts.len(), 24, "{line}");
        assert!(
            ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.',
            "{line}"
        );
        let rel = words.next().unwrap();
        assert!(rel.starts_with('+') && rel.ends_with('s'), "{line}");
        let dir = words.next().unwrap();
        assert!(["C:", "S:", "S|", "--"].contains(&dir), "{line}");
    }
}

fn store() -> TraceStore {
    // Room for the second write of 1,000 TOPs, not the first.
    let mut store = TraceStore::with_budget(Budget {
        bulk: 1024 * 1024,
        essential: 16 * 1024,
    });
    store.set_header(header());
    for e in opening().into_iter().chain(tops(1, 2_000, 1000, 10, 3)) {
        store.push(e);
    }
    store
}

#[test]
fn text_lines_are_stamped_pair_answers_and_mark_batches() {
    let mut out = Vec::new();
    write_store(&store(), &mut TraceWriter::new(TraceFormat::Text, false), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_text_lines(&text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "# trace     popscope 0.1.0 protocol trace of mail.example.org:995"
    );
    assert!(text.contains("# address   192.0.2.7:995\n"), "{text}");
    assert!(text.contains("# started   2023-11-14T22:13:20.123Z\n"), "{text}");
    let body = |needle: &str| lines.iter().find(|l| l.contains(needle)).copied().unwrap_or_default();
    assert_eq!(
        body(" S: +OK Dovecot"),
        "2023-11-14T22:13:20.124Z     +0.001s S: +OK Dovecot ready."
    );
    assert!(body(" S: +OK  [CAPA]").ends_with("S: +OK  [CAPA]  1.0 ms"));
    // CAPA's payload is written without --trace-bodies, stamped like the rest.
    assert!(body(" S| PIPELINING").ends_with("+0.003s S| PIPELINING"));
    assert!(text.contains(" C: AUTH PLAIN ********\n"));
    // Folded TOPs are summarized; the newest are there in full.
    assert!(body("-- … ").contains("TOP commands"), "{text}");
    assert!(
        body(" S: +OK  [TOP 2000 0]").ends_with("[TOP 2000 0]  1.00 s"),
        "{text}"
    );
    assert!(
        body("-- batch 4: ").ends_with("-- batch 4: 1,000 commands, 11.7 KB"),
        "{text}"
    );
    // Other payloads only with bodies.
    assert!(!text.contains("S| Subject: message"));
    let mut out = Vec::new();
    write_store(&store(), &mut TraceWriter::new(TraceFormat::Text, true), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_text_lines(&text);
    assert!(text.contains(" S| Subject: message 2000\n"));
}

#[test]
fn json_lines_have_the_documented_fields() {
    let mut out = Vec::new();
    write_store(&store(), &mut TraceWriter::new(TraceFormat::Jsonl, false), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for field in [
            "ts",
            "rel_ms",
            "dir",
            "kind",
            "command",
            "text",
            "latency_ms",
            "batch",
            "bytes",
        ] {
            assert!(v.get(field).is_some(), "{field} missing: {line}");
        }
        assert!(["C", "S", "I"].contains(&v["dir"].as_str().unwrap()), "{line}");
        kinds.insert(v["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(kinds, ["batch", "folded", "header", "line"].map(String::from).into());
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["header"]["server"], "mail.example.org:995");
    assert_eq!(first["header"]["started"], "2023-11-14T22:13:20.123Z");
    let answer = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["command"] == "TOP 2000 0" && v["dir"] == "S" && v["latency_ms"].is_number())
        .expect("the last TOP's answer");
    assert_eq!(answer["text"], "+OK");
    assert_eq!(answer["batch"], 4);
    assert_eq!(answer["bytes"], 5);
    let capa = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["payload"].is_string())
        .expect("CAPA's payload");
    assert_eq!(capa["command"], "CAPA");
    assert!(capa["payload"].as_str().unwrap().contains("PIPELINING\nSASL PLAIN"));
}

#[test]
fn saving_names_the_file_after_the_server_and_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let path = save(&store(), dir.path(), now).unwrap();
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        "popscope-trace-mail.example.org-995-20231114T221320Z.txt"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("S: +OK Dovecot ready."));
    assert_text_lines(&text);
    // Never overwrites: a second save in the same second fails.
    assert!(save(&store(), dir.path(), now).is_err());
}

#[test]
fn a_saved_trace_is_in_the_order_things_happened() {
    use crate::pop3::client::CommandKind;
    use crate::session::trace::fixtures::{answer, body, sent};
    let (list, uidl, top) = (
        CommandKind::List(None),
        CommandKind::Uidl(None),
        CommandKind::Top { msg: 1, lines: 0 },
    );
    let entries = [
        sent(1, list, 3, Some(2)),
        sent(1, uidl, 3, None),
        answer(2, list, "+OK", 1, 3),
        body(2, list, 3, "1 10\r\n"),
        answer(3, uidl, "+OK", 2, 3),
        sent(4, top, 4, Some(1)),
        body(5, uidl, 3, "1 a\r\n"),
        answer(6, top, "+OK", 2, 4),
    ];
    let mut store = TraceStore::default();
    for e in entries.iter().cloned() {
        store.push(e);
    }
    let mut out = Vec::new();
    write_store(&store, &mut TraceWriter::new(TraceFormat::Text, false), &mut out).unwrap();
    let written: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(" -- "))
        .map(|l| l.split_once(" C: ").or(l.split_once(" S: ")).unwrap().1.to_string())
        .collect();
    let expected: Vec<String> = entries.iter().map(|e| format!("{}{}", e.text, suffix(e))).collect();
    assert_eq!(written, expected);
}

/// Issue 11 item 9: a line that carries the password or token (PLAIN's
/// initial response, LOGIN's second answer, the OAuth message) has no size
/// anywhere a trace goes: its text, the store, the text and JSON-lines
/// files (`bytes` null) and the pane's detail. A size would tell the
/// secret's length to within a few characters.
#[test]
fn a_line_that_carries_a_secret_has_no_size_anywhere() {
    use crate::pop3::auth::{Mechanism, SaslExchange};
    use crate::pop3::client::{Client, ClientConfig, Command, Event, Priority};
    use crate::session::trace::TraceClock;
    use crate::session::trace::detail::{Context, lines};
    use crate::session::trace::store::TraceStore;

    let clock = TraceClock::default();
    let t0 = std::time::Instant::now();
    let mut store = TraceStore::default();
    store.set_header(header());
    for (mechanism, challenges) in [
        (Mechanism::Plain, &[][..]),
        (Mechanism::Login, &["+ VXNlcm5hbWU6\r\n", "+ UGFzc3dvcmQ6\r\n"][..]),
        (Mechanism::XOAuth2, &["+ \r\n"][..]),
    ] {
        let mut c = Client::new(ClientConfig::default(), t0);
        c.receive(t0, b"+OK ready\r\n").unwrap();
        let exchange = SaslExchange::new(mechanism, "alice", b"correct horse", "nonce", "host", 110).unwrap();
        c.submit(Command::Auth(Box::new(exchange)), Priority::Normal).unwrap();
        c.take_output(t0);
        for challenge in challenges {
            c.receive(t0, challenge.as_bytes()).unwrap();
            c.take_output(t0);
        }
        c.receive(t0, b"+OK in\r\n").unwrap();
        while let Some(event) = c.poll_event() {
            if let Event::Trace(record) = event {
                store.push(clock.entry(record));
            }
        }
    }
    let secret_lines = ["AUTH PLAIN ********", "<SASL response>"];
    let kept: Vec<_> = store.lines().map(|k| k.entry.clone()).collect();
    let sent: Vec<&str> = kept
        .iter()
        .filter(|e| e.direction == Direction::Sent)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        sent,
        [
            "AUTH PLAIN ********",
            "AUTH LOGIN",
            "<SASL response, 8 bytes>",
            "<SASL response>",
            "AUTH XOAUTH2",
            "<SASL response>"
        ]
    );
    for entry in kept.iter().filter(|e| secret_lines.contains(&e.text.as_str())) {
        assert_eq!(entry.bytes, None, "{entry:?}");
        assert_eq!(entry.opens_batch.and_then(|b| b.bytes), None, "{entry:?}");
        let detail = lines(entry, Context { sasl_step: Some(1) });
        assert!(
            detail
                .iter()
                .any(|l| l.ends_with("size not shown: it would tell the length of a secret")),
            "{detail:?}"
        );
        assert!(!detail.iter().any(|l| l.contains("bytes")), "{detail:?}");
    }

    let mut text = Vec::new();
    write_store(&store, &mut TraceWriter::new(TraceFormat::Text, false), &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    for shown in secret_lines {
        let line = text.lines().find(|l| l.contains(&format!("C: {shown}"))).unwrap();
        assert!(line.ends_with(&format!("C: {shown}")), "{line}");
    }

    let mut jsonl = Vec::new();
    write_store(&store, &mut TraceWriter::new(TraceFormat::Jsonl, false), &mut jsonl).unwrap();
    let mut seen = 0;
    for line in String::from_utf8(jsonl).unwrap().lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["text"].as_str().is_some_and(|t| secret_lines.contains(&t)) {
            assert_eq!(event["bytes"], serde_json::Value::Null, "{line}");
            seen += 1;
        }
    }
    assert_eq!(seen, 3, "PLAIN's, LOGIN's password and the OAuth message");
}
