//! Typed views of response payloads: STAT, LIST, UIDL and CAPA.
//!
//! A malformed payload is an error that quotes the offending line; it never
//! panics and never guesses.

use super::codec::excerpt;
use std::collections::BTreeSet;

/// The largest message number accepted; message numbers index per-message
/// storage, so an absurd one is treated as a malformed reply.
pub const MAX_MESSAGE_NUMBER: u32 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {what} from the server: {line:?}")]
pub struct PayloadError {
    pub what: &'static str,
    pub line: String,
}

fn malformed(what: &'static str, line: &[u8]) -> PayloadError {
    PayloadError {
        what,
        line: excerpt(line),
    }
}

/// `+OK count octets` of STAT.
pub fn parse_stat(text: &str) -> Result<(u32, u64), PayloadError> {
    let mut words = text.split_ascii_whitespace();
    let count = words.next().and_then(|w| w.parse::<u32>().ok());
    let size = words.next().and_then(|w| w.parse::<u64>().ok());
    match (count, size) {
        (Some(c), Some(s)) if c <= MAX_MESSAGE_NUMBER => Ok((c, s)),
        _ => Err(malformed("STAT reply", text.as_bytes())),
    }
}

/// `msg octets` (a LIST line, or the text of `+OK` for `LIST n`).
pub fn parse_list_entry(line: &[u8]) -> Result<(u32, u64), PayloadError> {
    let text = std::str::from_utf8(line).map_err(|_| malformed("LIST line", line))?;
    let mut words = text.split_ascii_whitespace();
    let n = parse_message_number(words.next());
    let size = words.next().and_then(|w| w.parse::<u64>().ok());
    match (n, size) {
        (Some(n), Some(size)) => Ok((n, size)),
        _ => Err(malformed("LIST line", line)),
    }
}

/// `msg uid` (a UIDL line, or the text of `+OK` for `UIDL n`). UIDs are
/// 1–70 characters in 0x21–0x7E (RFC 1939 §7); anything else is rejected,
/// because a UID is used as a stable key.
pub fn parse_uidl_entry(line: &[u8]) -> Result<(u32, String), PayloadError> {
    let text = std::str::from_utf8(line).map_err(|_| malformed("UIDL line", line))?;
    let mut words = text.split_ascii_whitespace();
    let n = parse_message_number(words.next());
    let uid = words.next();
    match (n, uid) {
        (Some(n), Some(uid))
            if !uid.is_empty() && uid.len() <= 70 && uid.bytes().all(|b| (0x21..=0x7e).contains(&b)) =>
        {
            Ok((n, uid.to_string()))
        }
        _ => Err(malformed("UIDL line", line)),
    }
}

fn parse_message_number(word: Option<&str>) -> Option<u32> {
    word.and_then(|w| w.parse::<u32>().ok())
        .filter(|n| (1..=MAX_MESSAGE_NUMBER).contains(n))
}

/// Lines of a multi-line payload (line ends removed).
pub fn payload_lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

/// All entries of a multi-line LIST.
pub fn parse_list(body: &[u8]) -> Result<Vec<(u32, u64)>, PayloadError> {
    payload_lines(body).map(parse_list_entry).collect()
}

/// All entries of a multi-line UIDL.
pub fn parse_uidl(body: &[u8]) -> Result<Vec<(u32, String)>, PayloadError> {
    payload_lines(body).map(parse_uidl_entry).collect()
}

/// What a server says it can do (RFC 2449 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Every capability line, sanitized, as the server sent it.
    pub lines: Vec<String>,
    pub top: bool,
    pub user: bool,
    pub uidl: bool,
    pub pipelining: bool,
    pub stls: bool,
    pub resp_codes: bool,
    pub auth_resp_code: bool,
    pub utf8: bool,
    /// SASL mechanism names, upper-cased.
    pub sasl: BTreeSet<String>,
    pub implementation: Option<String>,
    pub login_delay: Option<String>,
    pub expire: Option<String>,
}

impl Capabilities {
    pub fn parse(body: &[u8]) -> Capabilities {
        let mut caps = Capabilities::default();
        for raw in payload_lines(body) {
            let line = crate::sanitize::sanitize_bytes(raw, false);
            let mut words = line.split_ascii_whitespace();
            let Some(tag) = words.next() else { continue };
            let rest: Vec<&str> = words.collect();
            match tag.to_ascii_uppercase().as_str() {
                "TOP" => caps.top = true,
                "USER" => caps.user = true,
                "UIDL" => caps.uidl = true,
                "PIPELINING" => caps.pipelining = true,
                "STLS" => caps.stls = true,
                "RESP-CODES" => caps.resp_codes = true,
                "AUTH-RESP-CODE" => caps.auth_resp_code = true,
                "UTF8" => caps.utf8 = true,
                "SASL" => caps.sasl.extend(rest.iter().map(|m| m.to_ascii_uppercase())),
                "IMPLEMENTATION" => caps.implementation = Some(rest.join(" ")),
                "LOGIN-DELAY" => caps.login_delay = Some(rest.join(" ")),
                "EXPIRE" => caps.expire = Some(rest.join(" ")),
                _ => {}
            }
            caps.lines.push(line);
        }
        caps
    }

    pub(crate) fn sasl_list(&self) -> Vec<String> {
        self.sasl.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat() {
        assert_eq!(parse_stat("2 320").unwrap(), (2, 320));
        assert_eq!(parse_stat("0 0 extra words").unwrap(), (0, 0));
        for bad in ["", "x 1", "1", "-1 5", "1 -5", "99999999999 1"] {
            assert!(parse_stat(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn list_entries() {
        assert_eq!(parse_list_entry(b"1 120").unwrap(), (1, 120));
        assert_eq!(parse_list_entry(b"7  5000 extra").unwrap(), (7, 5000));
        for bad in [&b""[..], b"0 12", b"a 12", b"1", b"1 x", b"\xff 1"] {
            assert!(parse_list_entry(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_list(b"1 10\r\n2 20\r\n").unwrap(), vec![(1, 10), (2, 20)]);
        assert!(parse_list(b"1 10\r\ngarbage\r\n").is_err());
    }

    #[test]
    fn uidl_entries() {
        assert_eq!(
            parse_uidl_entry(b"1 whqtswO00WBw418f9t5JxYwZ").unwrap(),
            (1, "whqtswO00WBw418f9t5JxYwZ".into())
        );
        let too_long = format!("1 {}", "x".repeat(71));
        for bad in [&b"1"[..], b"1 \x01", b"x abc", too_long.as_bytes()] {
            assert!(parse_uidl_entry(bad).is_err(), "{bad:?}");
        }
        let max = format!("3 {}", "~".repeat(70));
        assert!(parse_uidl_entry(max.as_bytes()).is_ok());
    }

    #[test]
    fn capa() {
        let caps = Capabilities::parse(
            b"CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN login SCRAM-SHA-256\r\nSTLS\r\nIMPLEMENTATION Dovecot 2.3\r\n",
        );
        assert!(caps.top && caps.uidl && caps.pipelining && caps.user && caps.stls);
        assert!(caps.resp_codes && caps.auth_resp_code);
        assert_eq!(caps.sasl_list(), vec!["LOGIN", "PLAIN", "SCRAM-SHA-256"]);
        assert_eq!(caps.implementation.as_deref(), Some("Dovecot 2.3"));
        assert_eq!(caps.lines.len(), 10);
    }

    #[test]
    fn capa_lines_are_sanitized() {
        let caps = Capabilities::parse(b"IMPLEMENTATION \x1b[2J evil\r\n");
        assert!(crate::sanitize::is_terminal_safe(
            caps.implementation.as_deref().unwrap()
        ));
    }
}
