//! Trace entries as a session produces them, for tests.

use super::{Direction, TraceEntry};
use crate::pop3::auth::Mechanism;
use crate::pop3::client::{BatchSize, CommandKind, Payload};
use std::time::Duration;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

pub fn sent(at: u64, kind: CommandKind, batch: u64, opens: Option<usize>) -> TraceEntry {
    let text = kind.to_string();
    TraceEntry {
        command: Some(kind),
        batch: Some(batch),
        bytes: Some(text.len() as u64 + 2),
        opens_batch: opens.map(|lines| BatchSize {
            lines,
            bytes: Some(lines * (text.len() + 2)),
        }),
        ..TraceEntry::new(ms(at), Direction::Sent, text)
    }
}

pub fn answer(at: u64, kind: CommandKind, text: &str, rtt_ms: u64, batch: u64) -> TraceEntry {
    TraceEntry {
        command: Some(kind),
        batch: Some(batch),
        rtt: Some(ms(rtt_ms)),
        bytes: Some(text.len() as u64 + 2),
        ..TraceEntry::new(ms(at), Direction::Received, text.to_string())
    }
}

pub fn body(at: u64, kind: CommandKind, batch: u64, payload: &str) -> TraceEntry {
    let lines = payload.lines().count() as u64;
    let total = payload.len() as u64;
    TraceEntry {
        command: Some(kind),
        batch: Some(batch),
        bytes: Some(total),
        payload: Some(Payload::new(payload.as_bytes().to_vec(), lines, total)),
        ..TraceEntry::new(ms(at), Direction::Received, format!("<{lines} lines, {total} bytes>"))
    }
}

/// Greeting, CAPA, AUTH PLAIN (redacted), CAPA again.
pub fn opening() -> Vec<TraceEntry> {
    let capa = "TOP\r\nUIDL\r\nPIPELINING\r\nSASL PLAIN\r\n";
    let plain = CommandKind::Auth(Mechanism::Plain);
    vec![
        TraceEntry {
            bytes: Some(24),
            ..TraceEntry::new(ms(1), Direction::Received, "+OK Dovecot ready.".into())
        },
        sent(2, CommandKind::Capa, 1, Some(1)),
        answer(3, CommandKind::Capa, "+OK", 1, 1),
        body(3, CommandKind::Capa, 1, capa),
        TraceEntry {
            command: Some(plain),
            batch: Some(2),
            opens_batch: Some(BatchSize { lines: 1, bytes: None }),
            ..TraceEntry::new(ms(4), Direction::Sent, "AUTH PLAIN ********".into())
        },
        answer(6, plain, "+OK Logged in.", 2, 2),
    ]
}

/// `count` pipelined `TOP n 0` from message `first`, `window` per write,
/// each answered in 2 ms plus its place in the write.
pub fn tops(first: u32, count: u32, window: u32, start: u64, first_batch: u64) -> Vec<TraceEntry> {
    let mut out = Vec::new();
    let mut at = start;
    for (i, chunk) in (first..first + count)
        .collect::<Vec<_>>()
        .chunks(window as usize)
        .enumerate()
    {
        let batch = first_batch + i as u64;
        for (j, &msg) in chunk.iter().enumerate() {
            let opens = (j == 0).then_some(chunk.len());
            out.push(sent(at, CommandKind::Top { msg, lines: 0 }, batch, opens));
        }
        for (j, &msg) in chunk.iter().enumerate() {
            let kind = CommandKind::Top { msg, lines: 0 };
            at += 1;
            out.push(answer(at, kind, "+OK", 2 + j as u64, batch));
            out.push(body(at, kind, batch, &format!("Subject: message {msg}\r\n")));
        }
        at += 1;
    }
    out
}
