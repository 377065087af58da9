//! The query language: `Query::parse`, `evaluate`, the canonical form and
//! the error display.
//!
//! Invariants: parsing never panics; an error points inside the query and
//! renders as two terminal-safe lines; a query's canonical form parses
//! back to itself and selects the same messages; `-(q)` is q's negation
//! and `(a) (b)` / `(a) or (b)` are Kleene's and/or of the parts; a
//! decided verdict never changes once headers, a UID or the dup status
//! become known (a query never claims a message it cannot judge); a query
//! that needs no headers is decided the same with or without them.

use crate::checks::{fnv, line_safe, screen_safe};
use crate::engine::{Probe, Target, Violation};
use popscope::mail::HeaderSummary;
use popscope::query::{MatchContext, MessageFacts, Query, Verdict};
use popscope::testmail::maildir::{header_block, hostile, ordinary};
use std::sync::OnceLock;

pub const TARGET: Target = Target {
    name: "query",
    max_len: 512,
    dictionary: &[
        b"from:",
        b"to:",
        b"cc:",
        b"subject:",
        b"msgid:",
        b"uid:",
        b"header:",
        b"header:X-Spam=",
        b"before:",
        b"after:",
        b"older:",
        b"newer:",
        b"num:",
        b"has:attachment",
        b"size>",
        b"size<=",
        b"size=",
        b"~f ",
        b"~s ",
        b"~z>",
        b"~d<",
        b"~d>",
        b"dup",
        b"broken",
        b"big",
        b"nodate",
        b" or ",
        b" and ",
        b"not ",
        b" | ",
        b"-",
        b"!",
        b"(",
        b")",
        b"\"",
        b"\\\"",
        b"/",
        b"/i",
        b"2024-01-31",
        b"30d",
        b"12h",
        b"1.5M",
        b"10G",
        b"100-200",
        b"[",
        b"(?i)",
        b"\\p{L}",
        b"{1000}",
    ],
    seeds: || Vec::new(),
    run,
};

#[derive(Clone, Copy)]
struct Row {
    number: u32,
    uid: Option<&'static str>,
    size: u64,
    headers: Option<&'static HeaderSummary>,
    dup: Option<bool>,
}

impl MessageFacts for Row {
    type Headers = HeaderSummary;

    fn number(&self) -> u32 {
        self.number
    }

    fn uid(&self) -> Option<&str> {
        self.uid
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn headers(&self) -> Option<&HeaderSummary> {
        self.headers
    }

    fn is_dup(&self) -> Option<bool> {
        self.dup
    }
}

fn summaries() -> &'static [HeaderSummary] {
    static SUMMARIES: OnceLock<Vec<HeaderSummary>> = OnceLock::new();
    SUMMARIES.get_or_init(|| {
        let mut blocks: Vec<Vec<u8>> = (0..4).map(|i| header_block(&ordinary(i)).to_vec()).collect();
        for name in [
            "terminal-escapes",
            "latin1-headers",
            "no-headers",
            "broken-encoded-words",
        ] {
            blocks.push(header_block(&hostile(name)).to_vec());
        }
        blocks.iter().map(|b| HeaderSummary::parse(b)).collect()
    })
}

/// Rows that differ in what is known: every combination of a few
/// numbers, sizes, UIDs, headers and dup states, picked by the input.
fn rows(hash: u64) -> Vec<Row> {
    let numbers = [1, 7, 150, 4000, u32::MAX];
    let sizes = [0, 1023, 10 * 1024 * 1024 + 1, 1536 * 1024, u64::MAX];
    let uids = [None, Some("uid-one-AAA"), Some("1")];
    let mut rows = Vec::new();
    for (i, summary) in summaries().iter().enumerate() {
        let pick = (hash >> (i * 3)) as usize;
        rows.push(Row {
            number: numbers[pick % numbers.len()],
            uid: uids[pick % uids.len()],
            size: sizes[(pick / 5) % sizes.len()],
            headers: Some(summary),
            dup: [None, Some(true), Some(false)][i % 3],
        });
    }
    rows
}

fn contexts(hash: u64) -> [MatchContext; 2] {
    [
        MatchContext::at(1_709_251_200),
        MatchContext {
            now: (hash % 8_000_000_000) as i64,
            big_threshold: [0, 1, u64::MAX, hash][(hash >> 60) as usize % 4],
        },
    ]
}

fn not(v: Verdict) -> Verdict {
    match v {
        Verdict::Match => Verdict::NoMatch,
        Verdict::NoMatch => Verdict::Match,
        Verdict::Unknown => Verdict::Unknown,
    }
}

fn and(a: Verdict, b: Verdict) -> Verdict {
    match (a, b) {
        (Verdict::NoMatch, _) | (_, Verdict::NoMatch) => Verdict::NoMatch,
        (Verdict::Match, Verdict::Match) => Verdict::Match,
        _ => Verdict::Unknown,
    }
}

fn or(a: Verdict, b: Verdict) -> Verdict {
    not(and(not(a), not(b)))
}

fn run(input: &[u8], probe: &mut Probe) -> Result<(), Violation> {
    let text = String::from_utf8_lossy(input);
    let hash = fnv(input);
    let Some(whole) = parsed(&text, probe)? else {
        return Ok(());
    };
    let rows = rows(hash);
    for context in contexts(hash) {
        judged(&whole, &rows, &context)?;
    }
    let mut parts = text.splitn(2, '\n');
    if let (Some(a), Some(b)) = (parts.next(), parts.next())
        && let (Ok(a), Ok(b)) = (Query::parse(a), Query::parse(b))
    {
        combined(&a, &b, &rows, &contexts(hash)[0])?;
    }
    Ok(())
}

/// The query if it parses, after checking its error or canonical form.
fn parsed(text: &str, probe: &mut Probe) -> Result<Option<Query>, Violation> {
    let query = match Query::parse(text) {
        Ok(query) => query,
        Err(error) => {
            probe.hit(("error", std::mem::discriminant(error.kind())));
            let rendered = error.render();
            screen_safe("rendered query error", &rendered)?;
            check!(
                rendered.matches('\n').count() == 1,
                "a rendered query error is not two lines",
                "{rendered:?}"
            );
            line_safe("query error message", &error.message())?;
            line_safe("query error", &error.to_string())?;
            let length = text.chars().count();
            check!(
                (1..=length + 1).contains(&error.column()),
                "a query error points outside the query",
                "column {} of {length}",
                error.column()
            );
            return Ok(None);
        }
    };
    let shown = query.to_string();
    probe.hit(("parsed", query.needs_headers(), shown.len().min(64)));
    let again = Query::parse(&shown);
    check!(
        again.as_ref().is_ok_and(|q| q.to_string() == shown),
        "a canonical form does not parse back to itself",
        "{text:?} shown as {shown:?}: {:?}",
        again.map(|q| q.to_string())
    );
    Ok(Some(query))
}

fn judged(query: &Query, rows: &[Row], context: &MatchContext) -> Result<(), Violation> {
    let shown = query.to_string();
    let canonical = Query::parse(&shown).expect("checked above");
    let negated = Query::parse(&format!("-({shown})"));
    check!(negated.is_ok(), "-(q) does not parse", "{shown:?}: {negated:?}");
    let negated = negated.expect("checked");
    for row in rows {
        let verdict = query.evaluate(row, context);
        let same = canonical.evaluate(row, context);
        check!(
            verdict == same,
            "the canonical form selects differently",
            "{shown:?} on row {}: {verdict:?} vs {same:?}",
            row.number
        );
        let opposite = negated.evaluate(row, context);
        check!(
            opposite == not(verdict),
            "-(q) is not the negation of q",
            "{shown:?} on row {}: {verdict:?} vs {opposite:?}",
            row.number
        );
        less_known(query, row, verdict, context)?;
    }
    Ok(())
}

/// The row with its headers, UID or dup status unknown: a verdict decided
/// then must be the one given now; a query needing no headers must not
/// care about them at all.
fn less_known(query: &Query, row: &Row, verdict: Verdict, context: &MatchContext) -> Result<(), Violation> {
    let variants = [
        Row {
            headers: None,
            dup: None,
            ..*row
        },
        Row { uid: None, ..*row },
        Row { dup: None, ..*row },
    ];
    for (i, variant) in variants.iter().enumerate() {
        let before = query.evaluate(variant, context);
        check!(
            before == Verdict::Unknown || before == verdict,
            "a verdict changed when more became known",
            "{query} on row {} (variant {i}): {before:?}, then {verdict:?}",
            row.number
        );
        if i == 0 && !query.needs_headers() {
            check!(
                before == verdict,
                "a query that needs no headers depends on them",
                "{query}: {before:?} without, {verdict:?} with"
            );
        }
    }
    Ok(())
}

fn combined(a: &Query, b: &Query, rows: &[Row], context: &MatchContext) -> Result<(), Violation> {
    let both = Query::parse(&format!("({a}) ({b})"));
    let either = Query::parse(&format!("({a}) or ({b})"));
    let (Ok(both), Ok(either)) = (both, either) else {
        return Err(Violation::new(
            "two queries do not combine",
            format!("({a}) ({b}) or ({a}) or ({b})"),
        ));
    };
    for row in rows {
        let (va, vb) = (a.evaluate(row, context), b.evaluate(row, context));
        check!(
            both.evaluate(row, context) == and(va, vb),
            "(a) (b) is not Kleene's and",
            "{a} / {b}"
        );
        check!(
            either.evaluate(row, context) == or(va, vb),
            "(a) or (b) is not Kleene's or",
            "{a} / {b}"
        );
    }
    Ok(())
}
