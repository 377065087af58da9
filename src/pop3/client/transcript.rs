//! Protocol tests that read like the RFC's examples:
//!
//! ```text
//! S: +OK ready
//! C: USER alice
//! S: +OK
//! C: PASS s3cret
//! ```
//!
//! `C:` lines are what the client must have written, byte for byte (CRLF
//! added); consecutive `C:` lines are one batch of output, so a pipelined
//! write is written as several `C:` lines in a row and a lockstep exchange
//! alternates. `S:` lines are fed to the client; consecutive ones arrive in
//! one read. A blank line ends a group without changing direction (two
//! reads, or two batches). `S:` with nothing after it is an empty line.

use super::Client;
use std::time::Instant;

/// Plays `script` against `client`, panicking with the exact bytes at the
/// first difference. Every byte the client writes must be in the script
/// where it is written: before each `S:` group and at the end, nothing
/// unlisted may be waiting.
pub(super) fn transcript(client: &mut Client, script: &str) {
    for (direction, text) in groups(script) {
        match direction {
            'C' => {
                let written = String::from_utf8_lossy(&client.take_output(Instant::now())).into_owned();
                assert_eq!(written, text, "the client wrote something else; transcript:\n{script}");
            }
            _ => {
                assert_nothing_written(client, script);
                if let Err(e) = client.receive(Instant::now(), text.as_bytes()) {
                    panic!("feeding {text:?}: {e}; transcript:\n{script}");
                }
            }
        }
    }
    assert_nothing_written(client, script);
}

fn assert_nothing_written(client: &mut Client, script: &str) {
    let unlisted = client.take_output(Instant::now());
    assert!(
        unlisted.is_empty(),
        "the client also wrote {:?}; transcript:\n{script}",
        String::from_utf8_lossy(&unlisted)
    );
}

/// The script as (direction, CRLF-terminated text) groups.
fn groups(script: &str) -> Vec<(char, String)> {
    let mut groups: Vec<(char, String)> = Vec::new();
    let mut open = false;
    for line in script.lines().map(str::trim_start) {
        if line.is_empty() {
            open = false;
            continue;
        }
        let (direction, text) = match line.split_at_checked(2) {
            Some(("C:", text)) => ('C', text),
            Some(("S:", text)) => ('S', text),
            _ => panic!("a transcript line starts with C: or S:, not {line:?}"),
        };
        let text = text.strip_prefix(' ').unwrap_or(text);
        match groups.last_mut() {
            Some((d, joined)) if open && *d == direction => {
                joined.push_str(text);
                joined.push_str("\r\n");
            }
            _ => groups.push((direction, format!("{text}\r\n"))),
        }
        open = true;
    }
    groups
}

#[test]
fn groups_follow_direction_changes_and_blank_lines() {
    let script = "S: +OK hi\nC: TOP 1 0\nC: TOP 2 0\nS: +OK\nS:\n\nS: .\n";
    assert_eq!(
        groups(script),
        [
            ('S', "+OK hi\r\n".to_string()),
            ('C', "TOP 1 0\r\nTOP 2 0\r\n".to_string()),
            ('S', "+OK\r\n\r\n".to_string()),
            ('S', ".\r\n".to_string()),
        ]
    );
}
