//! The connection panel: what `popscope check` would say about the session
//! in use — address, TLS and the certificate, greeting, capabilities before
//! and after login, mechanism, pipelining — and what the trace measured:
//! the round trip and each command's server think time (its median answer
//! latency less the round trip).

use super::keymap::Action;
use crate::pop3::response::Capabilities;
use crate::session::ConnectReport;
use crate::session::trace::stats::{LatencyStats, format_latency, thousands};
use crate::session::trace::store::Totals;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Default)]
pub struct ConnectionPanel {
    pub open: bool,
    /// First line shown.
    pub scroll: usize,
    /// The session's report (none in tests that have no session).
    pub report: Option<ConnectReport>,
}

impl ConnectionPanel {
    pub(crate) fn toggle(&mut self) {
        self.open = !self.open;
        self.scroll = 0;
    }

    pub fn act(&mut self, action: Action) {
        match action {
            Action::Back | Action::Quit | Action::ToggleConnection => self.open = false,
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            _ => {}
        }
    }
}

/// One line of the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PanelLine {
    Title(&'static str),
    Fact { label: String, value: String },
    Blank,
}

fn fact(label: impl Into<String>, value: impl Into<String>) -> PanelLine {
    PanelLine::Fact {
        label: label.into(),
        value: value.into(),
    }
}

/// The panel's lines, from the login's report and the trace's totals.
pub(crate) fn panel_lines(report: Option<&ConnectReport>, totals: &Totals, now: SystemTime) -> Vec<PanelLine> {
    let mut out = Vec::new();
    let Some(report) = report else {
        out.push(fact("", "no connection report for this session"));
        return out;
    };
    out.push(PanelLine::Title("Connection"));
    let address = report.address.map_or_else(|| "unknown".to_string(), |a| a.to_string());
    out.push(fact("address", address));
    tls_lines(report, now, &mut out);
    out.push(PanelLine::Blank);
    out.push(PanelLine::Title("Session"));
    if let Some(greeting) = &report.greeting {
        out.push(fact("greeting", greeting.to_string()));
    }
    for (label, capa) in [
        ("CAPA (plain)", &report.capa_plain),
        ("CAPA before", &report.capa_before),
        ("CAPA after", &report.capa_after),
    ] {
        if let Some(caps) = capa {
            out.push(fact(label, describe_capa(caps)));
        }
    }
    if report.capa_after.is_none() && report.mechanism.is_some() {
        out.push(fact(
            "CAPA after",
            "not asked: the answer before login listed all popscope uses (`check` asks)",
        ));
    }
    if let Some(m) = report.mechanism {
        out.push(fact("mechanism", m.name()));
    }
    let mode = match report.window {
        0 | 1 => "lockstep (no pipelining)".to_string(),
        n => format!("pipelining, {} commands in flight", thousands(n as u64)),
    };
    out.push(fact("window", mode));
    for warning in &report.warnings {
        out.push(fact("warning", warning.clone()));
    }
    out.push(PanelLine::Blank);
    timing_lines(report, totals, &mut out);
    out
}

fn tls_lines(report: &ConnectReport, now: SystemTime, out: &mut Vec<PanelLine>) {
    let Some(tls) = &report.tls else {
        out.push(fact("TLS", "none: the session is NOT encrypted"));
        return;
    };
    out.push(fact("TLS", format!("{} {}", tls.version, tls.cipher)));
    out.push(fact("verified", tls.verification.to_string()));
    if let Some(cert) = &tls.certificate {
        out.push(fact("subject", cert.subject.clone()));
        out.push(fact("issuer", cert.issuer.clone()));
        let left = match cert.days_left(now) {
            Some(days) if days < 0 => format!(" (EXPIRED {} days ago)", -days),
            Some(days) => format!(" (expires in {days} days)"),
            None => String::new(),
        };
        out.push(fact(
            "valid",
            format!("{} to {}{left}", cert.not_before, cert.not_after),
        ));
        if !cert.names.is_empty() {
            out.push(fact("names", cert.names.join(", ")));
        }
        out.push(fact("sha256", cert.sha256.clone()));
    }
}

/// The round trip, and per command its answers' latency and the server's
/// think time.
fn timing_lines(report: &ConnectReport, totals: &Totals, out: &mut Vec<PanelLine>) {
    out.push(PanelLine::Title("Timings (from the trace)"));
    let mut round_trip = totals.alone.clone();
    if let Some(handshake) = report.tcp_handshake {
        round_trip.add(handshake);
    }
    let rtt = round_trip.min();
    match (rtt, round_trip.median()) {
        (Some(min), Some(median)) => out.push(fact(
            "round trip",
            format!(
                "min {}, median {} (TCP handshake and {} commands sent alone)",
                format_latency(min),
                format_latency(median),
                thousands(totals.alone.count())
            ),
        )),
        _ => out.push(fact("round trip", "not measured yet")),
    }
    for (verb, stats) in &totals.by_verb {
        out.push(fact(*verb, per_command(stats, rtt)));
    }
}

fn per_command(stats: &LatencyStats, rtt: Option<Duration>) -> String {
    let (Some(median), Some(p99)) = (stats.median(), stats.p99()) else {
        return "no answers".into();
    };
    let think = rtt.map_or_else(String::new, |rtt| {
        format!(", server think time ≈ {}", format_latency(median.saturating_sub(rtt)))
    });
    let answers = match stats.count() {
        1 => "1 answer".to_string(),
        n => format!("{} answers", thousands(n)),
    };
    format!(
        "{answers}, median {}, p99 {}{think}",
        format_latency(median),
        format_latency(p99)
    )
}

fn describe_capa(caps: &Capabilities) -> String {
    if caps.lines.is_empty() {
        "(empty)".into()
    } else {
        caps.lines.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::trace::TraceStore;
    use crate::session::trace::fixtures::{opening, tops};

    #[test]
    fn think_time_is_the_median_less_the_round_trip() {
        let mut store = TraceStore::default();
        for e in opening().into_iter().chain(tops(1, 10, 10, 10, 3)) {
            store.push(e);
        }
        let report = ConnectReport {
            tcp_handshake: Some(Duration::from_micros(500)),
            window: 1000,
            ..ConnectReport::default()
        };
        let lines = panel_lines(Some(&report), store.totals(), SystemTime::now());
        let value = |label: &str| {
            lines
                .iter()
                .find_map(|l| match l {
                    PanelLine::Fact { label: l, value } if l == label => Some(value.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no {label} in {lines:?}"))
        };
        let round_trip = value("round trip");
        assert!(round_trip.starts_with("min 500 µs, median 99"), "{round_trip}");
        assert!(
            round_trip.ends_with("(TCP handshake and 2 commands sent alone)"),
            "{round_trip}"
        );
        // TOP answers: 2..11 ms, median ~6 ms, so ~5.5 ms of think time.
        let top = value("TOP");
        assert!(top.starts_with("10 answers, median 6.0 ms"), "{top}");
        assert!(top.ends_with("server think time ≈ 5.5 ms"), "{top}");
        assert_eq!(value("window"), "pipelining, 1,000 commands in flight");
        assert_eq!(value("TLS"), "none: the session is NOT encrypted");
    }
}
