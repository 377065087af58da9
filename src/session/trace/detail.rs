//! What a trace line means, in words: the pane's inline detail (Enter on a
//! line). Everything here is either popscope's own words or text that was
//! sanitized where it entered the trace.

use super::format::batch_text;
use super::stats::format_latency;
use super::{Direction, TraceEntry};
use crate::pop3::client::CommandKind;
use crate::pop3::codec::parse_status_line;
use crate::text::human_size;

/// Payload lines shown for anything but CAPA (which is shown whole).
pub(crate) const MAX_DETAIL_LINES: usize = 200;

/// Where a line stands in a SASL exchange: its step (1 = the AUTH line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Context {
    pub sasl_step: Option<u32>,
}

/// The detail lines for `entry`.
pub fn lines(entry: &TraceEntry, context: Context) -> Vec<String> {
    let mut out = Vec::new();
    describe_exchange(entry, &mut out);
    if let CommandKind::Auth(mechanism) = entry.command.unwrap_or(CommandKind::Noop)
        && let Some(step) = context.sasl_step
    {
        let who = match entry.direction {
            Direction::Sent => "popscope's",
            _ => "the server's",
        };
        let size = match (entry.direction, entry.bytes) {
            (Direction::Sent, None) => "size not shown: it would tell the length of a secret".to_string(),
            (_, Some(bytes)) => format!("{bytes} bytes on the wire"),
            (_, None) => "no size".to_string(),
        };
        out.push(format!("SASL {}: step {step}, {who} turn; {size}", mechanism.name()));
        out.push("the exchange itself is never shown: it carries the credentials".to_string());
    }
    if entry.direction == Direction::Received
        && let Ok(status) = parse_status_line(entry.text.as_bytes())
        && let Some(code) = &status.code
    {
        out.push(format!("[{code}] {}", code.explanation()));
    }
    if let Some(payload) = &entry.payload {
        let capa = entry.command == Some(CommandKind::Capa);
        let max = if capa { usize::MAX } else { MAX_DETAIL_LINES };
        let shown = payload.text_lines(max);
        let shown_count = shown.len() as u64;
        out.extend(shown.into_iter().map(|line| format!("│ {line}")));
        if shown_count < payload.lines || !payload.is_complete() {
            out.push(format!(
                "… {} of {} lines shown ({} kept of {})",
                shown_count,
                payload.lines,
                human_size(payload.sample_len() as u64),
                human_size(payload.total_bytes)
            ));
        }
    }
    if out.is_empty() {
        out.push("nothing more is known about this line".to_string());
    }
    out
}

/// Which command, which write, how long, how big.
fn describe_exchange(entry: &TraceEntry, out: &mut Vec<String>) {
    let mut facts = Vec::new();
    match (entry.direction, entry.command) {
        (Direction::Received, Some(kind)) => facts.push(format!("answer to {kind}")),
        (Direction::Received, None) => {
            facts.push("not an answer to a command: the greeting, or a line nobody asked for".to_string())
        }
        _ => {}
    }
    if let Some(batch) = entry.batch {
        match entry.opens_batch {
            Some(size) => facts.push(format!("sent in {}", batch_text(batch, size))),
            None => facts.push(format!("batch {batch}")),
        }
    }
    if let Some(rtt) = entry.rtt {
        facts.push(format!(
            "{} from the write to the answer's first byte",
            format_latency(rtt)
        ));
    }
    if let Some(bytes) = entry.bytes
        && entry.payload.is_none()
    {
        facts.push(format!("{bytes} bytes"));
    }
    if !facts.is_empty() {
        out.push(facts.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::auth::Mechanism;
    use crate::session::trace::fixtures::{answer, body, opening};
    use std::time::Duration;

    #[test]
    fn capa_is_shown_whole_and_a_message_capped() {
        let capa: String = (0..500).map(|i| format!("X-{i}\r\n")).collect();
        let shown = lines(&body(1, CommandKind::Capa, 1, &capa), Context::default());
        assert!(shown.iter().any(|l| l == "│ X-499"), "{shown:?}");
        let top: String = (0..500).map(|i| format!("H{i}: v\r\n")).collect();
        let kind = CommandKind::Top { msg: 3, lines: 0 };
        let shown = lines(&body(1, kind, 1, &top), Context::default());
        assert!(shown.iter().any(|l| l == "│ H199: v"));
        assert!(!shown.iter().any(|l| l == "│ H200: v"));
        assert!(
            shown.last().unwrap().starts_with("… 200 of 500 lines shown"),
            "{shown:?}"
        );
    }

    #[test]
    fn response_codes_are_explained() {
        let kind = CommandKind::Pass;
        for (code, words) in [
            ("IN-USE", "locked"),
            ("LOGIN-DELAY", "too recently"),
            ("SYS/TEMP", "temporary"),
            ("SYS/PERM", "permanent"),
            ("AUTH", "credentials"),
            ("UTF8", "UTF-8"),
        ] {
            let e = answer(5, kind, &format!("-ERR [{code}] no"), 3, 2);
            let shown = lines(&e, Context::default());
            assert!(
                shown
                    .iter()
                    .any(|l| l.starts_with(&format!("[{code}] ")) && l.contains(words)),
                "{code}: {shown:?}"
            );
            assert!(shown[0].contains("answer to PASS; batch 2; 3.0 ms"), "{shown:?}");
        }
    }

    #[test]
    fn a_sasl_step_says_what_it_is_but_not_the_secret_size() {
        let auth = opening().into_iter().find(|e| e.text.starts_with("AUTH")).unwrap();
        let shown = lines(&auth, Context { sasl_step: Some(1) });
        let sasl = shown.iter().find(|l| l.starts_with("SASL")).unwrap();
        assert_eq!(
            sasl,
            "SASL PLAIN: step 1, popscope's turn; size not shown: it would tell the length of a secret"
        );
        assert!(
            !shown.iter().any(|l| l.contains("bytes on") || l.ends_with(" bytes")),
            "{shown:?}"
        );
        let challenge = TraceEntry {
            command: Some(CommandKind::Auth(Mechanism::ScramSha256)),
            bytes: Some(90),
            rtt: Some(Duration::from_millis(4)),
            ..TraceEntry::new(
                Duration::from_millis(9),
                Direction::Received,
                "+ <SASL challenge>".into(),
            )
        };
        let shown = lines(&challenge, Context { sasl_step: Some(2) });
        assert!(shown.contains(&"SASL SCRAM-SHA-256: step 2, the server's turn; 90 bytes on the wire".to_string()));
    }
}
