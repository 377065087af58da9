//! The trace as a file, for people (text) and for tools (JSON lines).
//!
//! Text: a header of `# ` lines, then one line per event, each starting
//! with the absolute time (RFC 3339, UTC, milliseconds) and the time since
//! the session began:
//!
//! ```text
//! 2025-07-02T09:07:00.015Z    +0.015s S: +OK  [CAPA]  1.1 ms
//! 2025-07-02T09:07:00.015Z    +0.015s S| PIPELINING
//! 2025-07-02T09:07:00.120Z    +0.120s -- batch 3: 1,000 commands, 9.8 KB
//! ```
//!
//! `C:` written, `S:` received, `S|` a payload line, `--` popscope's own
//! notes. JSON lines: one object per event with `ts`, `rel_ms`, `dir`
//! (`C`, `S`, `I`), `kind`, `command`, `text`, `latency_ms`, `batch`,
//! `bytes`, and `payload` where a payload is included.

use super::stats::{RunStats, format_latency, thousands};
use super::store::{Block, TraceStore};
use super::{Direction, TraceEntry, TraceHeader};
use crate::pop3::client::BatchSize;
use crate::text::human_size;
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `--trace-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TraceFormat {
    #[default]
    Text,
    Jsonl,
}

/// Payload lines written, at most, per answer.
const MAX_PAYLOAD_LINES: usize = 2_000;

/// Writes trace events in one format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceWriter {
    pub format: TraceFormat,
    /// Write every payload held (otherwise only CAPA's).
    pub bodies: bool,
    /// The session's start (what relative times are relative to).
    pub started: SystemTime,
}

impl TraceWriter {
    pub fn new(format: TraceFormat, bodies: bool) -> TraceWriter {
        TraceWriter {
            format,
            bodies,
            started: SystemTime::now(),
        }
    }

    /// The header; relative times from here on count from its start.
    pub fn header(&mut self, header: &TraceHeader, out: &mut impl Write) -> io::Result<()> {
        self.started = header.started;
        let facts = header_facts(header);
        match self.format {
            TraceFormat::Text => {
                for (label, value) in &facts {
                    writeln!(out, "# {label:<9} {value}")?;
                }
                Ok(())
            }
            TraceFormat::Jsonl => {
                let mut event = self.event(Duration::ZERO, Direction::Note, "header", &facts[0].1);
                event.header = Some(JsonHeader {
                    version: header.version,
                    server: &header.server,
                    address: header.address.map(|a| a.to_string()),
                    tls: facts.iter().find(|(l, _)| *l == "tls").map(|(_, v)| v.as_str()),
                    certificate: facts.iter().find(|(l, _)| *l == "cert").map(|(_, v)| v.as_str()),
                    started: rfc3339(header.started),
                });
                self.json(out, &event)
            }
        }
    }

    /// One entry: a batch marker first if it opens a pipelined write, then
    /// the line, then its payload if that is written.
    pub fn entry(&self, entry: &TraceEntry, out: &mut impl Write) -> io::Result<()> {
        if let Some((batch, size)) = entry.opens_pipelined_batch() {
            self.marker(entry.at, batch, size, out)?;
        }
        let payload = entry
            .payload
            .as_ref()
            .filter(|_| self.bodies || entry.command.is_some_and(|k| k.spec().verb == "CAPA"));
        match self.format {
            TraceFormat::Text => {
                let stamp = self.stamp(entry.at);
                writeln!(out, "{stamp} {} {}{}", entry.arrow(), entry.text, suffix(entry))?;
                if let Some(payload) = payload {
                    let lines = payload.text_lines(MAX_PAYLOAD_LINES);
                    for line in &lines {
                        writeln!(out, "{stamp} S| {line}")?;
                    }
                    if !payload.is_complete() || lines.len() == MAX_PAYLOAD_LINES {
                        writeln!(out, "{stamp} S| … (the rest is not kept)")?;
                    }
                }
                Ok(())
            }
            TraceFormat::Jsonl => {
                let mut event = self.event(entry.at, entry.direction, "line", &entry.text);
                event.command = entry.command.map(|k| k.to_string());
                event.latency_ms = entry.rtt.map(millis);
                event.batch = entry.batch;
                event.bytes = entry.bytes;
                if let Some(payload) = payload {
                    event.payload = Some(payload.text_lines(MAX_PAYLOAD_LINES).join("\n"));
                    event.payload_complete = Some(payload.is_complete());
                }
                self.json(out, &event)
            }
        }
    }

    fn marker(&self, at: Duration, batch: u64, size: BatchSize, out: &mut impl Write) -> io::Result<()> {
        let text = batch_text(batch, size);
        match self.format {
            TraceFormat::Text => writeln!(out, "{} -- {text}", self.stamp(at)),
            TraceFormat::Jsonl => {
                let mut event = self.event(at, Direction::Note, "batch", &text);
                event.batch = Some(batch);
                event.bytes = size.bytes.map(|b| b as u64);
                event.lines = Some(size.lines as u64);
                self.json(out, &event)
            }
        }
    }

    /// A note of popscope's own at `at` (lines dropped, lines folded).
    pub fn note(&self, at: Duration, kind: &'static str, text: &str, out: &mut impl Write) -> io::Result<()> {
        match self.format {
            TraceFormat::Text => writeln!(out, "{} -- {text}", self.stamp(at)),
            TraceFormat::Jsonl => self.json(out, &self.event(at, Direction::Note, kind, text)),
        }
    }

    fn stamp(&self, at: Duration) -> String {
        format!("{} {:>+10.3}s", rfc3339(self.started + at), at.as_secs_f64())
    }

    fn event<'a>(&self, at: Duration, direction: Direction, kind: &'static str, text: &'a str) -> JsonEvent<'a> {
        JsonEvent {
            ts: rfc3339(self.started + at),
            rel_ms: millis(at),
            dir: match direction {
                Direction::Sent => "C",
                Direction::Received => "S",
                Direction::Note => "I",
            },
            kind,
            command: None,
            text,
            latency_ms: None,
            batch: None,
            bytes: None,
            lines: None,
            payload: None,
            payload_complete: None,
            header: None,
        }
    }

    fn json(&self, out: &mut impl Write, event: &JsonEvent) -> io::Result<()> {
        serde_json::to_writer(&mut *out, event)?;
        out.write_all(b"\n")
    }
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    ts: String,
    rel_ms: f64,
    dir: &'static str,
    kind: &'static str,
    command: Option<String>,
    text: &'a str,
    latency_ms: Option<f64>,
    batch: Option<u64>,
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_complete: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<JsonHeader<'a>>,
}

#[derive(Serialize)]
struct JsonHeader<'a> {
    version: &'static str,
    server: &'a str,
    address: Option<String>,
    tls: Option<&'a str>,
    certificate: Option<&'a str>,
    started: String,
}

/// The header as (label, value) lines; the first is the title.
fn header_facts(header: &TraceHeader) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        (
            "trace",
            format!("popscope {} protocol trace of {}", header.version, header.server),
        ),
        ("version", header.version.to_string()),
        ("server", header.server.clone()),
        (
            "address",
            header
                .address
                .map_or_else(|| "(not connected)".to_string(), |a| a.to_string()),
        ),
    ];
    match &header.tls {
        Some(tls) => {
            facts.push((
                "tls",
                format!("{} {}, certificate {}", tls.version, tls.cipher, tls.verification),
            ));
            if let Some(cert) = &tls.certificate {
                facts.push((
                    "cert",
                    format!(
                        "subject {}; issuer {}; valid {} to {}; sha256 {}",
                        cert.subject, cert.issuer, cert.not_before, cert.not_after, cert.sha256
                    ),
                ));
            }
        }
        None => facts.push(("tls", "none at the start (an STLS upgrade shows below)".to_string())),
    }
    facts.push(("started", rfc3339(header.started)));
    facts.push((
        "columns",
        "time (UTC), seconds since start, C: sent / S: received / S| payload / -- popscope, text".to_string(),
    ));
    facts
}

/// What a pipelined write held: "batch 12: 1,000 commands, 14.2 KB".
pub(crate) fn batch_text(batch: u64, size: BatchSize) -> String {
    let bytes = size
        .bytes
        .map(|b| format!(", {}", human_size(b as u64)))
        .unwrap_or_default();
    format!("batch {batch}: {} commands{bytes}", thousands(size.lines as u64))
}

/// After a line's text: the command it answers and its latency.
pub fn suffix(entry: &TraceEntry) -> String {
    let mut out = String::new();
    if entry.direction == Direction::Received
        && let Some(kind) = entry.command
    {
        out.push_str(&format!("  [{kind}]"));
    }
    if let Some(rtt) = entry.rtt {
        out.push_str("  ");
        out.push_str(&format_latency(rtt));
    }
    out
}

/// "… 2,840 TOP answers, 1.4 MB, median 2.6 ms, p99 9.8 ms …" for lines
/// folded away.
pub(crate) fn fold_text(verb: &str, stats: &RunStats) -> String {
    let count = if stats.commands > 0 {
        format!("{} {verb} commands", thousands(stats.commands))
    } else {
        format!("{} {verb} lines", thousands(stats.lines))
    };
    let mut out = format!("… {count}");
    if stats.answers > 0 {
        out.push_str(&format!(", {} answers", thousands(stats.answers)));
    }
    if stats.bytes > 0 {
        out.push_str(&format!(", {}", human_size(stats.bytes)));
    }
    if let (Some(median), Some(p99)) = (stats.latency.median(), stats.latency.p99()) {
        out.push_str(&format!(
            ", median {}, p99 {}",
            format_latency(median),
            format_latency(p99)
        ));
    }
    if stats.errors > 0 {
        out.push_str(&format!(", {} errors", thousands(stats.errors)));
    }
    out.push_str(" (folded to stay within the trace's memory budget) …");
    out
}

/// Writes everything `store` holds, in the order it happened: the header,
/// every line, and a summary line where lines were folded.
pub(crate) fn write_store(store: &TraceStore, writer: &mut TraceWriter, out: &mut impl Write) -> io::Result<()> {
    if let Some(header) = store.header() {
        writer.header(header, out)?;
    }
    // The store groups interleaved commands; a file tells them in order.
    let mut items: Vec<(u64, Written)> = Vec::new();
    for block in store.blocks() {
        match block {
            Block::Line(kept) => items.push((kept.seq, Written::Line(&kept.entry))),
            Block::Group(group) => {
                if group.folded.lines > 0 {
                    items.push((group.first_seq, Written::Folded(group.verb, &group.folded)));
                }
                items.extend(group.lines.iter().map(|k| (k.seq, Written::Line(&k.entry))));
            }
            Block::Folded(folded) => {
                let runs = folded
                    .runs
                    .iter()
                    .map(|(verb, stats)| (folded.first_seq, Written::Folded(verb, stats)));
                items.extend(runs);
            }
        }
    }
    items.sort_by_key(|(seq, _)| *seq);
    for (_, item) in items {
        match item {
            Written::Line(entry) => writer.entry(entry, out)?,
            Written::Folded(verb, stats) => {
                let at = stats.first_at.unwrap_or_default();
                writer.note(at, "folded", &fold_text(verb, stats), out)?;
            }
        }
    }
    Ok(())
}

/// One thing `write_store` writes.
enum Written<'s> {
    Line(&'s TraceEntry),
    Folded(&'s str, &'s RunStats),
}

/// Saves `store` as text in `dir`, named after the server and the time:
/// `popscope-trace-HOST-PORT-20250702T090700Z.txt`. Returns the path.
pub fn save(store: &TraceStore, dir: &Path, now: SystemTime) -> io::Result<PathBuf> {
    let server = store.header().map_or("unknown", |h| h.server.as_str());
    let safe: String = server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
        .collect();
    let stamp: String = rfc3339(now).chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    // 20250702T090700123Z → 20250702T090700Z (seconds suffice in a name).
    let stamp = format!("{}Z", &stamp[..stamp.len().saturating_sub(4)]);
    let path = dir.join(format!("popscope-trace-{safe}-{stamp}.txt"));
    let mut out = io::BufWriter::new(std::fs::File::create_new(&path)?);
    write_store(store, &mut TraceWriter::new(TraceFormat::Text, true), &mut out)?;
    out.flush()?;
    Ok(path)
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1000.0
}

/// RFC 3339 in UTC with milliseconds: `2025-07-02T09:07:00.015Z`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
