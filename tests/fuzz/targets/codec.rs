//! `pop3::codec`: status lines, SASL continuations and the multi-line body
//! decoder, on arbitrary bytes.
//!
//! Invariants: status texts, their Display and every error are
//! terminal-safe single lines; `split_line` agrees with a plain reading of
//! its contract at every bound; the body decoder agrees with a line-based
//! reference decoder, whole, cut at points the input decides, and one byte
//! at a time; its counters match its output; what `encode_multiline`
//! stuffs decodes back.

use crate::checks::{cut_points, line_safe, pieces};
use crate::engine::{Probe, Target, Violation};
use popscope::pop3::codec::{
    BodyDecoder, CodecError, MAX_STATUS_LINE, encode_multiline, excerpt, parse_continuation, parse_status_line,
    split_line,
};

pub const TARGET: Target = Target {
    name: "codec",
    max_len: 4096,
    dictionary: &[b"+OK POP3 ready <1.2@host>\r\n", b"-ERR [IN-USE] locked\r\n", b"+ \r\n"],
    seeds: || Vec::new(),
    run,
};

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    status_lines(input, probe)?;
    for max in [1, 2, 5, 64, input.len().max(1)] {
        split_line_contract(input, max)?;
    }
    body(input, probe)?;
    round_trip(input)
}

fn status_lines(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let mut rest = input;
    loop {
        let line = match split_line(rest, MAX_STATUS_LINE) {
            Ok(Some((line, used))) => {
                check!(
                    used <= MAX_STATUS_LINE,
                    "a status line beyond its bound",
                    "{used} bytes"
                );
                rest = &rest[used..];
                line
            }
            Ok(None) => break,
            Err(e) => return error_safe(&e),
        };
        check!(!line.contains(&b'\n'), "a split line holds a line feed", "{line:?}");
        match parse_status_line(line) {
            Ok(status) => {
                probe.hit((
                    "status",
                    status.status == popscope::pop3::codec::Status::Ok,
                    status.code.as_ref().map(std::mem::discriminant),
                ));
                line_safe("status text", &status.text)?;
                let shown = status.to_string();
                line_safe("status line Display", &shown)?;
                if let Some(code) = &status.code {
                    line_safe("response code", &code.to_string())?;
                    line_safe("code explanation", &code.explanation())?;
                }
                let again = parse_status_line(shown.as_bytes());
                check!(
                    again.as_ref().is_ok_and(|s| s.status == status.status),
                    "a status line's Display does not parse back",
                    "{line:?} shown as {shown:?}: {again:?}"
                );
            }
            Err(e) => {
                probe.hit("not a status line");
                error_safe(&e)?;
            }
        }
        let continuation = parse_continuation(line);
        let is_continuation = line == b"+" || line.starts_with(b"+ ");
        check!(
            continuation.is_some() == is_continuation,
            "parse_continuation takes the wrong lines",
            "{line:?}: {continuation:?}"
        );
        if let Some(Err(e)) = continuation {
            probe.hit("bad continuation");
            error_safe(&e)?;
        }
        let shown = excerpt(line);
        line_safe("excerpt", &shown)?;
        // 80 bytes at most, a tab shown as up to 8 spaces.
        check!(
            shown.chars().count() <= 8 * 80 + 1,
            "an excerpt is too long",
            "{shown:?}"
        );
    }
    Ok(())
}

fn error_safe(e: &CodecError) -> Result<(), Violation> {
    line_safe("codec error", &e.to_string())
}

/// `split_line(buf, max)`: the first line if its LF is within `max` bytes,
/// an error if `max` bytes hold no LF, else "need more".
fn split_line_contract(buf: &[u8], max: usize) -> Result<(), Violation> {
    let got = split_line(buf, max);
    let lf = buf.iter().position(|&b| b == b'\n');
    let want = match lf {
        Some(lf) if lf < max => {
            let line = &buf[..lf];
            Ok(Some((line.strip_suffix(b"\r").unwrap_or(line), lf + 1)))
        }
        _ if buf.len() >= max => Err(CodecError::StatusLineTooLong),
        _ => Ok(None),
    };
    check!(
        got == want,
        "split_line breaks its contract",
        "max {max}: got {got:?}, want {want:?}"
    );
    Ok(())
}

/// What the body decoder must produce: RFC 1939 §3 read line by line.
/// An unfinished last line is content, except a lone "." or ".\r", which
/// may still become the terminator.
fn reference_body(input: &[u8]) -> (Vec<u8>, usize, bool) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        let (line, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(lf) => (&rest[..lf], true),
            None => (rest, false),
        };
        let terminator = line == b"." || line == b".\r";
        if terminator && complete {
            return (out, pos + line.len() + 1, true);
        }
        if !terminator {
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
        if complete {
            out.push(b'\n');
        }
        pos += line.len() + usize::from(complete);
    }
    (out, input.len(), false)
}

fn body(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let (want, want_used, want_done) = reference_body(input);
    probe.hit(("body", want_done, want.len().min(4), want_used == input.len()));
    let mut decoder = BodyDecoder::new();
    let mut whole = Vec::new();
    let (used, done) = decoder.decode(input, &mut whole);
    check!(
        (&whole, used, done) == (&want, want_used, want_done),
        "the body decoder disagrees with the line-based reference",
        "got {:?} (used {used}, done {done}), want {:?} (used {want_used}, done {want_done})",
        String::from_utf8_lossy(&whole),
        String::from_utf8_lossy(&want)
    );
    let lines = whole.iter().filter(|&&b| b == b'\n').count() as u64;
    check!(
        decoder.lines() == lines && decoder.bytes() == whole.len() as u64,
        "the body decoder miscounts",
        "lines {} (want {lines}), bytes {} (want {})",
        decoder.lines(),
        decoder.bytes(),
        whole.len()
    );
    let data = &input[..used];
    let cuts = cut_points(input, data.len());
    let one_by_one: Vec<usize> = (1..data.len()).collect();
    for cuts in [cuts, one_by_one] {
        let mut decoder = BodyDecoder::new();
        let mut out = Vec::new();
        let parts = pieces(data, &cuts);
        let count = parts.len();
        for (i, piece) in parts.into_iter().enumerate() {
            let (n, finished) = decoder.decode(piece, &mut out);
            let last = i + 1 == count;
            check!(
                n == piece.len() && finished == (last && done),
                "a piece of a body is not used whole",
                "piece {i} of {count}: used {n} of {}, finished {finished}",
                piece.len()
            );
        }
        check!(
            out == whole,
            "a body cut in pieces decodes differently",
            "cuts {cuts:?}: {:?} vs {:?}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&whole)
        );
    }
    Ok(())
}

/// Any content, stuffed by `encode_multiline`, decodes to itself (with a
/// final line end added when it had none) and uses the whole encoding.
fn round_trip(content: &[u8]) -> Result<(), Violation> {
    let mut wire = Vec::new();
    encode_multiline(content, &mut wire);
    let mut decoder = BodyDecoder::new();
    let mut out = Vec::new();
    let (used, done) = decoder.decode(&wire, &mut out);
    let mut want = content.to_vec();
    if !want.is_empty() && !want.ends_with(b"\n") {
        want.extend_from_slice(b"\r\n");
    }
    check!(
        done && used == wire.len() && out == want,
        "encode_multiline does not round-trip",
        "done {done}, used {used} of {}, {:?}",
        wire.len(),
        String::from_utf8_lossy(&out)
    );
    Ok(())
}
