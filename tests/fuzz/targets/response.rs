//! `pop3::response`: STAT, LIST, UIDL and CAPA payloads.
//!
//! Invariants: no panic; every error and every capability text is a
//! terminal-safe line; what parses is within the documented bounds (message
//! numbers 1..=MAX_MESSAGE_NUMBER, UIDs of 1–70 printable characters);
//! a whole payload parses exactly when every line does, to the same
//! entries; parsed entries written back parse to themselves.

use crate::checks::line_safe;
use crate::engine::{Probe, Target, Violation};
use popscope::pop3::response::{
    Capabilities, MAX_MESSAGE_NUMBER, parse_list, parse_list_entry, parse_stat, parse_uidl, parse_uidl_entry,
    payload_lines,
};

pub const TARGET: Target = Target {
    name: "response",
    max_len: 4096,
    dictionary: &[
        b"1 120\r\n",
        b"2 uid-two-BBB\r\n",
        b"SASL PLAIN LOGIN SCRAM-SHA-256 XOAUTH2\r\n",
        b"IMPLEMENTATION ",
        b"LOGIN-DELAY 900\r\n",
        b"EXPIRE NEVER\r\n",
        b"PIPELINING\r\n",
        b"STLS\r\n",
        b"UTF8\r\n",
        b"RESP-CODES\r\n",
        b"AUTH-RESP-CODE\r\n",
        b"TOP\r\nUIDL\r\nUSER\r\n",
    ],
    seeds: || Vec::new(),
    run,
};

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    listing(input, probe)?;
    capabilities(input, probe)?;
    let text = String::from_utf8_lossy(input);
    for line in text.lines() {
        match parse_stat(line) {
            Ok((count, _)) => {
                probe.hit("stat ok");
                check!(
                    count <= MAX_MESSAGE_NUMBER,
                    "STAT count beyond the bound",
                    "{line:?}: {count}"
                );
            }
            Err(e) => line_safe("STAT error", &e.to_string())?,
        }
    }
    Ok(())
}

fn number_ok(n: u32) -> bool {
    (1..=MAX_MESSAGE_NUMBER).contains(&n)
}

fn listing(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let mut list_entries = Some(Vec::new());
    let mut uidl_entries = Some(Vec::new());
    for line in payload_lines(input) {
        check!(
            !line.is_empty() && !line.contains(&b'\n'),
            "a payload line is empty or holds a line feed",
            "{line:?}"
        );
        match parse_list_entry(line) {
            Ok((n, size)) => {
                probe.hit("list entry");
                check!(number_ok(n), "LIST number beyond the bound", "{line:?}: {n}");
                let again = parse_list_entry(format!("{n} {size}").as_bytes());
                check!(
                    again == Ok((n, size)),
                    "a LIST entry does not round-trip",
                    "{line:?}: {again:?}"
                );
                if let Some(entries) = &mut list_entries {
                    entries.push((n, size));
                }
            }
            Err(e) => {
                probe.hit("list error");
                line_safe("LIST error", &e.to_string())?;
                list_entries = None;
            }
        }
        match parse_uidl_entry(line) {
            Ok((n, uid)) => {
                probe.hit("uidl entry");
                check!(number_ok(n), "UIDL number beyond the bound", "{line:?}: {n}");
                check!(
                    (1..=70).contains(&uid.len()) && uid.bytes().all(|b| (0x21..=0x7e).contains(&b)),
                    "a UID outside RFC 1939's alphabet or length",
                    "{line:?}: {uid:?}"
                );
                let again = parse_uidl_entry(format!("{n} {uid}").as_bytes());
                check!(
                    again.as_ref().ok() == Some(&(n, uid.clone())),
                    "a UIDL entry does not round-trip",
                    "{line:?}: {again:?}"
                );
                if let Some(entries) = &mut uidl_entries {
                    entries.push((n, uid));
                }
            }
            Err(e) => {
                probe.hit("uidl error");
                line_safe("UIDL error", &e.to_string())?;
                uidl_entries = None;
            }
        }
    }
    let list = parse_list(input);
    check!(
        list.as_ref().ok() == list_entries.as_ref(),
        "LIST as a whole disagrees with its lines",
        "{list:?} vs {list_entries:?}"
    );
    let uidl = parse_uidl(input);
    check!(
        uidl.as_ref().ok() == uidl_entries.as_ref(),
        "UIDL as a whole disagrees with its lines",
        "{uidl:?} vs {uidl_entries:?}"
    );
    Ok(())
}

fn capabilities(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let caps = Capabilities::parse(input);
    for line in &caps.lines {
        line_safe("capability line", line)?;
    }
    for text in [&caps.implementation, &caps.login_delay, &caps.expire]
        .into_iter()
        .flatten()
    {
        line_safe("capability argument", text)?;
    }
    for mechanism in &caps.sasl {
        line_safe("SASL mechanism", mechanism)?;
        check!(
            !mechanism.is_empty() && !mechanism.contains(' ') && *mechanism == mechanism.to_ascii_uppercase(),
            "a SASL mechanism name is not one upper-case word",
            "{mechanism:?}"
        );
    }
    let tags = caps.lines.len();
    check!(
        tags <= payload_lines(input).count(),
        "more capability lines than payload lines",
        "{tags}"
    );
    probe.hit((
        "caps",
        caps.top,
        caps.uidl,
        caps.user,
        caps.pipelining,
        caps.stls,
        caps.utf8,
        caps.sasl.len().min(3),
    ));
    Ok(())
}
