//! `popscope check`: the connection test a sysadmin would otherwise do by
//! hand with telnet or `openssl s_client`, one line per step, each printed
//! the moment the step ends (so a stall shows where it stalls). `--json`
//! prints one document at the end instead, for monitoring, and
//! `--warn-cert-days N` turns a certificate that expires within N days
//! into exit code 11.

use super::{CheckArgs, TraceFile};
use crate::error::{Failure, FailureKind};
use crate::pop3::client::Command;
use crate::pop3::response::{Capabilities, parse_stat};
use crate::session::tls::TlsInfo;
use crate::session::{self, ConnectReport, LoginProgress, QuitResult, SessionConfig, Step, StepReport, TlsMode};
use crate::text::human_size;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

pub async fn run(args: &CheckArgs) -> Result<(), Failure> {
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(&args.connect)?;
    let mut out = Printer::new(args.json);
    out.say(&format!(
        "popscope check {}@{}:{} ({})",
        crate::sanitize::sanitize_text(&config.user, false),
        crate::sanitize::sanitize_text(&config.host, false),
        config.port,
        mode(&config)
    ));
    let mut report = ConnectReport::default();
    let mut opened = session::open_reporting(&config, trace.observers(None), &mut report, &mut out).await;
    if let Ok(session) = &mut opened {
        // A diagnostic shows CAPA after login even when `open` could skip it.
        match session::recheck_capabilities(session, &mut out).await {
            Ok(()) => report = session.report.clone(),
            Err(failure) => opened = Err(failure),
        }
    }
    out.warnings(&report);
    let result = match opened {
        Ok(session) => finish(session, &mut out).await,
        Err(failure) => Err(out.failed(failure)),
    };
    trace.finish().await;
    let expiry = certificate_expiry(&report, args.warn_cert_days);
    out.verdict(&config, &report, &result, expiry.as_ref());
    match (result, expiry) {
        (Err(failure), _) => Err(failure),
        (Ok(_), Some(expiring)) => Err(expiring),
        (Ok(_), None) => Ok(()),
    }
}

fn mode(config: &SessionConfig) -> &'static str {
    match config.tls {
        TlsMode::Implicit => "implicit TLS",
        TlsMode::Starttls => "STLS",
        TlsMode::None => "no TLS",
    }
}

/// STAT and QUIT on an open session; returns the total time.
async fn finish(session: session::Session, out: &mut Printer) -> Result<Duration, Failure> {
    let total_before = session.report.total().unwrap_or_default();
    let started = Instant::now();
    out.step_started(Step::Stat);
    let stat = session.call_ok(Command::Stat).await.map_err(|f| out.failed(f))?;
    let detail = match parse_stat(&stat.status.text) {
        Ok((count, size)) => format!("{count} messages, {} ({size} octets)", human_size(size)),
        Err(e) => format!("{} ({e})", stat.status),
    };
    out.step(Step::Stat, started.elapsed(), detail, &session.report);
    let quit_started = Instant::now();
    out.step_started(Step::Quit);
    let report = session.report.clone();
    let quit = session.quit(false).await;
    let detail = match &quit {
        QuitResult::Answered(status) => status.to_string(),
        QuitResult::Unknown(reason) => format!("no answer: {reason}"),
        QuitResult::NotSent(reason) => format!("not sent: {reason}"),
    };
    out.step(Step::Quit, quit_started.elapsed(), detail, &report);
    Ok(total_before + started.elapsed())
}

/// `--warn-cert-days N`: a certificate that expires within N days.
fn certificate_expiry(report: &ConnectReport, warn_days: Option<u32>) -> Option<Failure> {
    let warn_days = i64::from(warn_days?);
    let cert = report.tls.as_ref()?.certificate.as_ref()?;
    let days = cert.days_left(SystemTime::now())?;
    (days < warn_days).then(|| {
        Failure::new(
            FailureKind::CertificateExpiring,
            format!(
                "the server's certificate expires in {days} days ({}), within --warn-cert-days {warn_days}",
                cert.not_after
            ),
        )
        .with_hint("renew the certificate on the server")
    })
}

/// Prints the steps as they end (or, with `--json`, keeps them for the
/// document at the end).
struct Printer {
    json: bool,
    steps: Vec<Value>,
    /// The step under way and when it began.
    current: Option<(Step, Instant)>,
}

impl Printer {
    fn new(json: bool) -> Printer {
        Printer {
            json,
            steps: Vec::new(),
            current: None,
        }
    }

    fn say(&self, line: &str) {
        if !self.json {
            println!("{line}");
        }
    }

    fn step(&mut self, name: Step, elapsed: Duration, detail: String, report: &ConnectReport) {
        self.current = None;
        self.steps.push(json!({
            "step": name.to_string(),
            "ms": millis(elapsed),
            "outcome": "ok",
            "detail": detail,
        }));
        if self.json {
            return;
        }
        println!("{}", step_line(name, elapsed, &detail));
        if matches!(name, Step::Tls | Step::Stls)
            && let Some(info) = &report.tls
        {
            print!("{}", render_tls(info));
        }
    }

    /// Names the step that failed, then hands the failure on.
    fn failed(&mut self, failure: Failure) -> Failure {
        if let Some((step, started)) = self.current.take() {
            let elapsed = started.elapsed();
            self.steps.push(json!({
                "step": step.to_string(),
                "ms": millis(elapsed),
                "outcome": "failed",
                "detail": failure.message,
            }));
            self.say(&format!("  FAILED at {step} after {:.1} ms", millis(elapsed)));
        }
        failure
    }

    fn warnings(&self, report: &ConnectReport) {
        if report.mechanism.is_some() {
            self.say(&format!("  {:<10} {:>11}  {}", "mode", "", window(report)));
        }
        for warning in &report.warnings {
            self.say(&format!("  WARNING: {warning}"));
        }
    }

    fn verdict(
        &self,
        config: &SessionConfig,
        report: &ConnectReport,
        result: &Result<Duration, Failure>,
        expiry: Option<&Failure>,
    ) {
        if self.json {
            let document = document(config, report, &self.steps, result, expiry);
            println!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
            return;
        }
        match result {
            Ok(total) => println!("OK: every step passed ({:.1} ms)", millis(*total)),
            // The details go to standard error, once, from main.
            Err(failure) => println!(
                "FAILED: {} (exit code {})",
                failure.kind.label(),
                failure.kind.exit_code()
            ),
        }
        if let (Ok(_), Some(expiring)) = (result, expiry) {
            println!(
                "WARNING: {} (exit code {})",
                expiring.message,
                expiring.kind.exit_code()
            );
        }
    }
}

impl LoginProgress for Printer {
    fn step_started(&mut self, step: Step) {
        self.current = Some((step, Instant::now()));
    }

    fn step_done(&mut self, step: &StepReport, report: &ConnectReport) {
        self.step(step.name, step.elapsed, step.detail.clone(), report);
    }
}

/// The `--json` document: every step with its time and outcome, the TLS
/// facts, the certificate's days left, CAPA, and the verdict.
fn document(
    config: &SessionConfig,
    report: &ConnectReport,
    steps: &[Value],
    result: &Result<Duration, Failure>,
    expiry: Option<&Failure>,
) -> Value {
    let failure = result.as_ref().err().or(expiry);
    let capa = |c: &Option<Capabilities>| c.as_ref().map(|c| c.lines.clone());
    json!({
        "server": format!("{}:{}", config.host, config.port),
        "user": config.user,
        "mode": mode(config),
        "address": report.address.map(|a| a.to_string()),
        "ok": failure.is_none(),
        "exit_code": failure.map_or(0, |f| f.kind.exit_code()),
        "error": failure.map(|f| json!({
            "kind": f.kind.label(),
            "message": f.message,
            "hint": f.hint,
        })),
        "steps": steps,
        "total_ms": result.as_ref().ok().map(|d| millis(*d)),
        "tls": report.tls.as_ref().map(tls_json),
        "greeting": report.greeting.as_ref().map(|g| g.to_string()),
        "capa_plain": capa(&report.capa_plain),
        "capa_before": capa(&report.capa_before),
        "capa_after": capa(&report.capa_after),
        "mechanism": report.mechanism.map(|m| m.name()),
        "window": report.window,
        "warnings": report.warnings,
    })
}

fn tls_json(info: &TlsInfo) -> Value {
    json!({
        "version": info.version,
        "cipher": info.cipher,
        "verification": info.verification.to_string(),
        "verified": !matches!(info.verification, crate::session::tls::Verification::Insecure),
        "certificate": info.certificate.as_ref().map(|c| json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "not_before": c.not_before,
            "not_after": c.not_after,
            "expires_in_days": c.days_left(SystemTime::now()),
            "names": c.names,
            "sha256": c.sha256,
        })),
    })
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

fn window(report: &ConnectReport) -> String {
    if report.window > 1 {
        format!("pipelining, {} commands in flight", report.window)
    } else {
        "lockstep (no pipelining)".to_string()
    }
}

fn step_line(name: Step, elapsed: Duration, detail: &str) -> String {
    let name = name.to_string();
    format!("  {name:<10} {:>8.1} ms  {detail}", millis(elapsed))
}

fn render_tls(info: &TlsInfo) -> String {
    let mut out = String::new();
    let pad = "                          ";
    if let Some(cert) = &info.certificate {
        let _ = writeln!(out, "{pad}subject      {}", cert.subject);
        let _ = writeln!(out, "{pad}issuer       {}", cert.issuer);
        let left = match cert.days_left(SystemTime::now()) {
            Some(days) if days < 0 => format!(" (EXPIRED {} days ago)", -days),
            Some(days) => format!(" (expires in {days} days)"),
            None => String::new(),
        };
        let _ = writeln!(out, "{pad}valid        {} to {}{left}", cert.not_before, cert.not_after);
        if !cert.names.is_empty() {
            let _ = writeln!(out, "{pad}names        {}", cert.names.join(", "));
        }
        let _ = writeln!(out, "{pad}sha256       {}", cert.sha256);
    }
    let _ = writeln!(out, "{pad}verification {}", info.verification);
    out
}
