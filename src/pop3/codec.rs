//! The POP3 wire format: status lines, response codes, and the multi-line
//! body framing with byte-stuffing (RFC 1939 §3).
//!
//! Everything here is a pure function of bytes. Lengths are bounded so a
//! hostile or broken server cannot make us buffer without limit.

use crate::sanitize::sanitize_bytes;
use std::fmt;

/// Longest status line accepted, CRLF included. RFC 1939 allows 512
/// octets; real servers put long texts in greetings and errors, so be
/// lenient, but within a bound.
pub const MAX_STATUS_LINE: usize = 8 * 1024;

/// `+OK` or `-ERR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Err,
}

/// An extended response code (RFC 2449 §8, RFC 3206), the bracketed word
/// right after the status indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseCode {
    InUse,
    LoginDelay,
    SysTemp,
    SysPerm,
    Auth,
    Utf8,
    Other(String),
}

impl ResponseCode {
    fn parse(code: &str) -> ResponseCode {
        match code.to_ascii_uppercase().as_str() {
            "IN-USE" => ResponseCode::InUse,
            "LOGIN-DELAY" => ResponseCode::LoginDelay,
            "SYS/TEMP" => ResponseCode::SysTemp,
            "SYS/PERM" => ResponseCode::SysPerm,
            "AUTH" => ResponseCode::Auth,
            "UTF8" => ResponseCode::Utf8,
            _ => ResponseCode::Other(code.to_string()),
        }
    }

    /// What the code means, in words a person can act on.
    pub fn explanation(&self) -> String {
        match self {
            ResponseCode::InUse => "the maildrop is locked by another session (another client, or a stuck earlier session of yours); close it or wait for the server's timeout, then try again".into(),
            ResponseCode::LoginDelay => "the server allows only one login per time period and you logged in too recently; wait and try again".into(),
            ResponseCode::SysTemp => "a temporary problem on the server; trying again later may work".into(),
            ResponseCode::SysPerm => "a permanent problem on the server (e.g. the account is disabled); retrying will not help, contact the mail administrator".into(),
            ResponseCode::Auth => "the credentials were rejected (wrong user name or password, or this mechanism is not allowed for the account)".into(),
            ResponseCode::Utf8 => "the server reports a UTF-8 related condition".into(),
            ResponseCode::Other(code) => format!("the server gave the response code [{code}]"),
        }
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ResponseCode::InUse => "IN-USE",
            ResponseCode::LoginDelay => "LOGIN-DELAY",
            ResponseCode::SysTemp => "SYS/TEMP",
            ResponseCode::SysPerm => "SYS/PERM",
            ResponseCode::Auth => "AUTH",
            ResponseCode::Utf8 => "UTF8",
            ResponseCode::Other(s) => s,
        };
        f.write_str(s)
    }
}

/// A parsed `+OK ...` / `-ERR ...` line. `text` is already sanitized: it
/// came from the server and may be shown as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub status: Status,
    pub code: Option<ResponseCode>,
    pub text: String,
}

impl StatusLine {
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }
}

impl fmt::Display for StatusLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.status {
            Status::Ok => "+OK",
            Status::Err => "-ERR",
        })?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if !self.text.is_empty() {
            write!(f, " {}", self.text)?;
        }
        Ok(())
    }
}

/// Why bytes from the server could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("the server sent a line that is neither +OK nor -ERR: {0:?}")]
    NotAStatusLine(String),
    #[error("the server sent a status line longer than {MAX_STATUS_LINE} bytes without a line end")]
    StatusLineTooLong,
    #[error("the server sent a malformed SASL challenge: {0}")]
    BadChallenge(String),
}

/// One line of a response, found at the start of `buf`: the line without
/// its line end, and how many bytes it used. `None` means more bytes are
/// needed. A bare LF is accepted as a line end (lenient on input).
pub fn split_line(buf: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, CodecError> {
    let window = &buf[..buf.len().min(max)];
    match window.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            let line = &buf[..lf];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Ok(Some((line, lf + 1)))
        }
        None if buf.len() >= max => Err(CodecError::StatusLineTooLong),
        None => Ok(None),
    }
}

/// Parses a status line (without its line end).
pub fn parse_status_line(line: &[u8]) -> Result<StatusLine, CodecError> {
    let (status, rest) = if starts_with_ignore_case(line, b"+OK") {
        (Status::Ok, &line[3..])
    } else if starts_with_ignore_case(line, b"-ERR") {
        (Status::Err, &line[4..])
    } else {
        return Err(CodecError::NotAStatusLine(excerpt(line)));
    };
    // "+OKAY" is not "+OK": the indicator must end the line or be followed
    // by a space.
    let rest = match rest.first() {
        None => rest,
        Some(b' ') | Some(b'\t') => &rest[1..],
        Some(_) => return Err(CodecError::NotAStatusLine(excerpt(line))),
    };
    let (code, text) = split_response_code(rest);
    Ok(StatusLine {
        status,
        code,
        text: sanitize_bytes(text.trim_ascii(), false),
    })
}

/// Splits `[CODE] text` into its parts; text without a well-formed code is
/// returned whole.
fn split_response_code(rest: &[u8]) -> (Option<ResponseCode>, &[u8]) {
    if rest.first() != Some(&b'[') {
        return (None, rest);
    }
    let Some(close) = rest.iter().position(|&b| b == b']') else {
        return (None, rest);
    };
    let code = &rest[1..close];
    let well_formed = !code.is_empty()
        && code.len() <= 64
        && code
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_' | b'.'));
    if !well_formed {
        return (None, rest);
    }
    let code = ResponseCode::parse(std::str::from_utf8(code).unwrap_or_default());
    (Some(code), rest[close + 1..].trim_ascii_start())
}

/// A SASL continuation line (`+ base64` or a bare `+`), decoded. Returns
/// `None` when the line is not a continuation.
pub fn parse_continuation(line: &[u8]) -> Option<Result<Vec<u8>, CodecError>> {
    use base64::Engine;
    let payload = match line {
        [b'+'] => &[][..],
        [b'+', b' ', rest @ ..] => rest,
        _ => return None,
    };
    let payload = payload.trim_ascii();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map_err(|e| CodecError::BadChallenge(format!("not base64 ({e})"))),
    )
}

fn starts_with_ignore_case(line: &[u8], prefix: &[u8]) -> bool {
    line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// A short, safe excerpt of a line for an error message.
pub fn excerpt(line: &[u8]) -> String {
    const MAX: usize = 80;
    let mut s = sanitize_bytes(&line[..line.len().min(MAX)], false);
    if line.len() > MAX {
        s.push('…');
    }
    s
}

/// Where the multi-line decoder is within the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    LineStart,
    InLine,
    InLineAfterCr,
    LeadingDot,
    LeadingDotCr,
}

/// Decodes the body of a multi-line response as it streams in: removes
/// byte-stuffing and finds the terminating `.` line.
///
/// It works byte by byte and keeps no line buffer, so a 200 KB line or a
/// 500 MB message costs no more memory than a short one. Output keeps the
/// server's line ends (CRLF).
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: BodyState,
    lines: u64,
    bytes: u64,
}

impl Default for BodyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyDecoder {
    pub fn new() -> Self {
        BodyDecoder {
            state: BodyState::LineStart,
            lines: 0,
            bytes: 0,
        }
    }

    /// Decodes from `input`, appending content to `out`. Returns how many
    /// input bytes were used and whether the terminator was seen (the bytes
    /// after it belong to the next response).
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, bool) {
        let before = out.len();
        let mut done = false;
        let mut used = 0;
        // Fast path: copy runs of ordinary bytes in the middle of a line.
        while used < input.len() {
            if self.state == BodyState::InLine {
                let run = &input[used..];
                let stop = run.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(run.len());
                out.extend_from_slice(&run[..stop]);
                used += stop;
                if used == input.len() {
                    break;
                }
            }
            let b = input[used];
            used += 1;
            match self.step(b, out) {
                Some(()) => {
                    done = true;
                    break;
                }
                None => continue,
            }
        }
        self.bytes += (out.len() - before) as u64;
        (used, done)
    }

    /// Advances over one byte; `Some(())` when the terminator is complete.
    fn step(&mut self, b: u8, out: &mut Vec<u8>) -> Option<()> {
        use BodyState::*;
        match self.state {
            LineStart => match b {
                b'.' => self.state = LeadingDot,
                _ => self.content_byte(b, out),
            },
            InLine => self.content_byte(b, out),
            InLineAfterCr => self.content_byte(b, out),
            LeadingDot => match b {
                b'\r' => self.state = LeadingDotCr,
                // A lone "." ended by a bare LF: accept it as the end.
                b'\n' => return Some(()),
                // The leading dot was stuffing; what follows is content.
                _ => self.content_byte(b, out),
            },
            LeadingDotCr => match b {
                b'\n' => return Some(()),
                // ".\r" followed by something else: the dot was stuffing and
                // the CR is content.
                _ => {
                    out.push(b'\r');
                    self.state = InLineAfterCr;
                    self.content_byte(b, out);
                }
            },
        }
        None
    }

    fn content_byte(&mut self, b: u8, out: &mut Vec<u8>) {
        out.push(b);
        self.state = match b {
            b'\n' => {
                self.lines += 1;
                BodyState::LineStart
            }
            b'\r' => BodyState::InLineAfterCr,
            _ => BodyState::InLine,
        };
    }

    /// Complete lines decoded so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Content bytes decoded so far (after unstuffing).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Byte-stuffs `content` for sending as a multi-line body and appends the
/// terminator. Used by the embedded demo server and by tests.
pub fn encode_multiline(content: &[u8], out: &mut Vec<u8>) {
    let mut at_line_start = true;
    for &b in content {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(line: &str) -> StatusLine {
        parse_status_line(line.as_bytes()).unwrap()
    }

    #[test]
    fn status_lines_table() {
        let table: &[(&str, Status, Option<ResponseCode>, &str)] = &[
            ("+OK", Status::Ok, None, ""),
            ("+OK ", Status::Ok, None, ""),
            ("+OK POP3 ready <1.2@host>", Status::Ok, None, "POP3 ready <1.2@host>"),
            ("+ok lower case", Status::Ok, None, "lower case"),
            ("-ERR", Status::Err, None, ""),
            ("-err nope", Status::Err, None, "nope"),
            ("-ERR [IN-USE] locked", Status::Err, Some(ResponseCode::InUse), "locked"),
            ("-ERR [in-use] locked", Status::Err, Some(ResponseCode::InUse), "locked"),
            (
                "-ERR [LOGIN-DELAY] wait",
                Status::Err,
                Some(ResponseCode::LoginDelay),
                "wait",
            ),
            (
                "-ERR [SYS/TEMP] later",
                Status::Err,
                Some(ResponseCode::SysTemp),
                "later",
            ),
            (
                "-ERR [SYS/PERM] never",
                Status::Err,
                Some(ResponseCode::SysPerm),
                "never",
            ),
            (
                "-ERR [AUTH] Authentication failed.",
                Status::Err,
                Some(ResponseCode::Auth),
                "Authentication failed.",
            ),
            (
                "-ERR [X-VENDOR/THING] hm",
                Status::Err,
                Some(ResponseCode::Other("X-VENDOR/THING".into())),
                "hm",
            ),
            ("-ERR [not a code] text", Status::Err, None, "[not a code] text"),
            ("-ERR [unclosed", Status::Err, None, "[unclosed"),
            ("+OK\tTabbed", Status::Ok, None, "Tabbed"),
        ];
        for (input, st, code, text) in table {
            let got = status(input);
            assert_eq!(got.status, *st, "{input}");
            assert_eq!(&got.code, code, "{input}");
            assert_eq!(got.text, *text, "{input}");
        }
    }

    #[test]
    fn non_status_lines_are_errors() {
        for bad in ["", "OK", "+OKAY", "-ERRNO", "* OK imap", "HTTP/1.1 400", "+", "+ abc"] {
            assert!(
                matches!(parse_status_line(bad.as_bytes()), Err(CodecError::NotAStatusLine(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn status_text_is_sanitized() {
        let got = status("-ERR \x1b]0;pwned\x07 bad");
        assert!(!got.text.contains('\x1b'));
        assert!(crate::sanitize::is_terminal_safe(&got.text));
    }

    #[test]
    fn split_line_needs_a_line_end_and_respects_the_bound() {
        assert_eq!(split_line(b"+OK", 100).unwrap(), None);
        assert_eq!(split_line(b"+OK\r", 100).unwrap(), None);
        assert_eq!(split_line(b"+OK\r\nrest", 100).unwrap(), Some((&b"+OK"[..], 5)));
        assert_eq!(split_line(b"+OK\nrest", 100).unwrap(), Some((&b"+OK"[..], 4)));
        assert_eq!(split_line(&[b'x'; 10], 10), Err(CodecError::StatusLineTooLong));
        assert_eq!(split_line(&[b'x'; 9], 10).unwrap(), None);
    }

    #[test]
    fn every_prefix_of_a_status_line_is_incomplete() {
        let full = b"-ERR [IN-USE] mailbox locked\r\n";
        for n in 0..full.len() {
            assert_eq!(split_line(&full[..n], MAX_STATUS_LINE).unwrap(), None, "prefix {n}");
        }
        assert!(split_line(full, MAX_STATUS_LINE).unwrap().is_some());
    }

    #[test]
    fn continuations() {
        assert_eq!(parse_continuation(b"+").unwrap().unwrap(), b"");
        assert_eq!(parse_continuation(b"+ ").unwrap().unwrap(), b"");
        assert_eq!(parse_continuation(b"+ VXNlcm5hbWU6").unwrap().unwrap(), b"Username:");
        assert!(parse_continuation(b"+OK").is_none());
        assert!(parse_continuation(b"+ !!!").unwrap().is_err());
    }

    fn decode_all(input: &[u8]) -> (Vec<u8>, usize, bool) {
        let mut d = BodyDecoder::new();
        let mut out = Vec::new();
        let (used, done) = d.decode(input, &mut out);
        (out, used, done)
    }

    #[test]
    fn multiline_table() {
        let table: &[(&[u8], &[u8], usize)] = &[
            (b".\r\n", b"", 3),
            (b"a\r\n.\r\n", b"a\r\n", 6),
            (b"..\r\n.\r\n", b".\r\n", 7),
            (b"...\r\n.\r\n", b"..\r\n", 8),
            (b".. \r\n.\r\n", b". \r\n", 8),
            (b".x\r\n.\r\n", b"x\r\n", 7),
            (b"a.\r\n.b\r\n.\r\n", b"a.\r\nb\r\n", 11),
            (b"\r\n\r\n.\r\n", b"\r\n\r\n", 7),
            (b"a\n.\n", b"a\n", 4),
            (b"a\x00b\r\n.\r\n", b"a\x00b\r\n", 8),
            (b"a\rb\r\n.\r\n", b"a\rb\r\n", 8),
            (b".\rx\r\n.\r\n", b"\rx\r\n", 8),
            (b"x\r\n.\r\n+OK next\r\n", b"x\r\n", 6),
        ];
        for (input, want, used) in table {
            let (out, n, done) = decode_all(input);
            assert!(done, "{:?}", String::from_utf8_lossy(input));
            assert_eq!(&out[..], *want, "{:?}", String::from_utf8_lossy(input));
            assert_eq!(n, *used, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn every_prefix_of_a_multiline_body_is_incomplete() {
        let full = b"Subject: hi\r\n..dots\r\n.\r\n";
        for n in 0..full.len() {
            let (_, used, done) = decode_all(&full[..n]);
            assert!(!done, "prefix {n} reported done");
            assert_eq!(used, n);
        }
    }

    #[test]
    fn split_anywhere_gives_the_same_output() {
        let full = b"a\r\n..b\r\n.c\r\n\r\n...\r\n.\r\n";
        let (whole, _, _) = decode_all(full);
        for cut in 0..full.len() {
            let mut d = BodyDecoder::new();
            let mut out = Vec::new();
            let (u1, d1) = d.decode(&full[..cut], &mut out);
            assert_eq!((u1, d1), (cut, false));
            let (_, d2) = d.decode(&full[cut..], &mut out);
            assert!(d2);
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn byte_at_a_time() {
        let full = b"x\r\n..y\r\n.\r\n";
        let mut d = BodyDecoder::new();
        let mut out = Vec::new();
        for (i, b) in full.iter().enumerate() {
            let (used, done) = d.decode(std::slice::from_ref(b), &mut out);
            assert_eq!(used, 1);
            assert_eq!(done, i == full.len() - 1);
        }
        assert_eq!(out, b"x\r\n.y\r\n");
        assert_eq!(d.lines(), 2);
    }

    #[test]
    fn a_long_line_costs_no_buffer() {
        let mut input = vec![b'h'; 200 * 1024];
        input.extend_from_slice(b"\r\n.\r\n");
        let (out, _, done) = decode_all(&input);
        assert!(done);
        assert_eq!(out.len(), 200 * 1024 + 2);
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let bodies: &[&[u8]] = &[b"", b"a\r\n", b".\r\n..\r\n. \r\n", b"no final newline", b".lead"];
        for body in bodies {
            let mut wire = Vec::new();
            encode_multiline(body, &mut wire);
            let (out, used, done) = decode_all(&wire);
            assert!(done);
            assert_eq!(used, wire.len());
            let mut want = body.to_vec();
            if !want.is_empty() && !want.ends_with(b"\n") {
                want.extend_from_slice(b"\r\n");
            }
            assert_eq!(out, want);
        }
    }

    #[test]
    fn explanations_are_plain_words() {
        assert!(ResponseCode::InUse.explanation().contains("locked"));
        assert!(ResponseCode::LoginDelay.explanation().contains("wait"));
    }
}
