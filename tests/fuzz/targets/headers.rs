//! `mail::headers`: `HeaderSummary::parse` on a `TOP n 0` block.
//!
//! Invariants: every field, every kept header name and value, and the
//! JSON `list --json` prints are terminal-safe single lines within their
//! bounds (values at most MAX_HEADER_VALUE characters and a '…'; at most
//! 64 other headers of at most 128 characters); NUL bytes and bare CRs are
//! always flagged; a date and its timestamp come together; parsing is a
//! pure function of the bytes (the reused buffer leaks nothing from one
//! block into the next).

use crate::checks::line_safe;
use crate::engine::{Probe, Target, Violation};
use popscope::mail::{Broken, HeaderSummary, MAX_HEADER_VALUE};
use popscope::testmail::maildir::{HOSTILE, header_block, hostile, ordinary, top0};

pub const TARGET: Target = Target {
    name: "headers",
    max_len: 8192,
    dictionary: HEADER_TOKENS,
    seeds,
    run,
};

/// Header names and values that take the parser down its branches.
pub const HEADER_TOKENS: &[&[u8]] = &[
    b"From: ",
    b"To: ",
    b"Cc: ",
    b"Subject: ",
    b"Date: ",
    b"Message-ID: ",
    b"Received: from a by b; ",
    b"Content-Type: text/plain; charset=utf-8\r\n",
    b"Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    b"Content-Disposition: attachment; filename*=utf-8''%E2%80%AEtxt.exe\r\n",
    b"Mon, 01 Jan 2024 12:00:00 +0000",
    b"31 Dec 9999 23:59:60 -9959",
    b"=?utf-8?B?4oCu?=",
    b"=?utf-8?Q?=1B[2J?=",
    b"=?x-unknown?B?AAAA?=",
    b"=?utf-8?B?",
    b"\r\n ",
    b"\r\n\t",
    b"\"Mallory\" <mallory@example.com>",
    b"undisclosed-recipients:;",
    b"<a@b>",
];

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = HOSTILE.iter().map(|(name, _)| top0(&hostile(name))).collect();
    seeds.extend((0..8).map(|i| top0(&ordinary(i))));
    seeds.extend((0..4).map(|i| header_block(&ordinary(i)).to_vec()));
    seeds
}

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let summary = HeaderSummary::parse(input);
    fields(&summary)?;
    flags(input, &summary, probe)?;
    other_headers(&summary, probe)?;
    let json = serde_json::to_string(&summary).map_err(|e| Violation::new("JSON failed", e.to_string()))?;
    check!(
        !json.contains('\u{1b}') && !json.contains('\u{9b}'),
        "the JSON holds an escape character",
        "{json}"
    );
    HeaderSummary::parse(b"X-Other: one\r\nReceived: elsewhere\r\nFrom: b@c\r\n\r\n");
    let again = HeaderSummary::parse(input);
    check!(
        again == summary,
        "parsing the same block twice gives two summaries",
        "{summary:?} vs {again:?}"
    );
    Ok(())
}

fn fields(summary: &HeaderSummary) -> Result<(), Violation> {
    let named = [
        ("From", summary.from()),
        ("To", summary.to()),
        ("Cc", summary.cc()),
        ("Subject", summary.subject()),
        ("Message-ID", summary.message_id()),
        ("Content-Type", summary.content_type()),
    ];
    for (name, value) in named.into_iter().chain(summary.date().map(|d| ("Date", d))) {
        line_safe(name, value)?;
        let chars = value.chars().count();
        check!(
            chars <= MAX_HEADER_VALUE + 1,
            "a header value beyond its bound",
            "{name}: {chars} characters"
        );
        check!(
            value.trim() == value,
            "a header value with surrounding blanks",
            "{name}: {value:?}"
        );
    }
    check!(
        summary.date().is_some() == summary.timestamp.is_some(),
        "a date without its timestamp, or the reverse",
        "{:?} / {:?}",
        summary.date(),
        summary.timestamp
    );
    Ok(())
}

fn flags(input: &[u8], summary: &HeaderSummary, probe: &mut Probe) -> Result<(), Violation> {
    let broken: Vec<Broken> = summary.broken.iter().collect();
    probe.hit(("broken", &broken));
    // A parser panic leaves only "unparsable"; everything else scans the bytes.
    let scanned = broken != [Broken::Unparsable];
    if scanned {
        let bare_cr = input
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && input.get(i + 1) != Some(&b'\n'));
        check!(
            !input.contains(&0) || summary.broken.contains(Broken::Nul),
            "a NUL byte not flagged",
            "{broken:?}"
        );
        check!(
            !bare_cr || summary.broken.contains(Broken::BareCr),
            "a bare CR not flagged",
            "{broken:?}"
        );
    }
    check!(
        !summary.broken.contains(Broken::NoFrom) || summary.from().is_empty(),
        "\"no From\" with a From",
        "{:?}",
        summary.from()
    );
    Ok(())
}

fn other_headers(summary: &HeaderSummary, probe: &mut Probe) -> Result<(), Violation> {
    let mut count = 0;
    for (name, value) in summary.other_headers() {
        count += 1;
        line_safe("header name", name)?;
        line_safe("header value", value)?;
        check!(!name.is_empty(), "a kept header without a name", "{value:?}");
        check!(
            value.chars().count() <= 129,
            "a kept header value beyond its bound",
            "{name}: {value:?}"
        );
        check!(
            summary.header_values(name).any(|v| v == value),
            "header_values misses a kept header",
            "{name}: {value:?}"
        );
        probe.hit(("other", name.len().min(30)));
    }
    check!(count <= 64, "more kept headers than the bound", "{count}");
    for name in ["from", "SUBJECT", "date", "Message-ID", "received", "x-none"] {
        for value in summary.header_values(name) {
            line_safe("header_values", value)?;
        }
    }
    probe.hit(("other count", count));
    Ok(())
}
