//! `popscope check`: the connection test a sysadmin would otherwise do by
//! hand with telnet or `openssl s_client`, one line per step.

use super::{ConnectArgs, TraceFile};
use crate::error::Failure;
use crate::pop3::client::Command;
use crate::pop3::response::parse_stat;
use crate::session::tls::TlsInfo;
use crate::session::{self, ConnectReport, QuitResult, Step, TlsMode};
use crate::text::human_size;
use std::fmt::Write as _;
use tokio::time::Instant;

pub async fn run(args: &ConnectArgs) -> Result<(), Failure> {
    let config = args.session_config().await?;
    let mut trace = TraceFile::open(args)?;
    let mode = match config.tls {
        TlsMode::Implicit => "implicit TLS",
        TlsMode::Starttls => "STLS",
        TlsMode::None => "no TLS",
    };
    println!(
        "popscope check {}@{}:{} ({mode})",
        config.user, config.host, config.port
    );
    let mut report = ConnectReport::default();
    let mut opened = session::open_reporting(&config, trace.observers(None), &mut report).await;
    if let Ok(session) = &mut opened {
        // A diagnostic shows CAPA after login even when `open` could skip it.
        match session::recheck_capabilities(session).await {
            Ok(()) => report = session.report.clone(),
            Err(failure) => opened = Err(failure),
        }
    }
    print!("{}", render_report(&report));
    let result = match opened {
        Ok(session) => finish(session).await,
        Err(failure) => Err(failure),
    };
    trace.finish().await;
    match &result {
        Ok(total) => println!("OK: every step passed ({:.1} ms)", total * 1000.0),
        // The details go to standard error, once, from main.
        Err(failure) => println!(
            "FAILED: {} (exit code {})",
            failure.kind.label(),
            failure.kind.exit_code()
        ),
    }
    result.map(|_| ())
}

/// STAT and QUIT on an open session; returns the total time in seconds.
async fn finish(session: session::Session) -> Result<f64, Failure> {
    let total_before = session.report.total().unwrap_or_default().as_secs_f64();
    let started = Instant::now();
    let stat = session.call_ok(Command::Stat).await?;
    let detail = match parse_stat(&stat.status.text) {
        Ok((count, size)) => format!("{count} messages, {} ({size} octets)", human_size(size)),
        Err(e) => format!("{} ({e})", stat.status),
    };
    println!("{}", step_line(Step::Stat, started.elapsed().as_secs_f64(), &detail));
    let started = Instant::now();
    let quit = session.quit(false).await;
    let detail = match &quit {
        QuitResult::Answered(status) => status.to_string(),
        QuitResult::Unknown(reason) => format!("no answer: {reason}"),
        QuitResult::NotSent(reason) => format!("not sent: {reason}"),
    };
    println!("{}", step_line(Step::Quit, started.elapsed().as_secs_f64(), &detail));
    Ok(total_before + started.elapsed().as_secs_f64())
}

fn step_line(name: Step, seconds: f64, detail: &str) -> String {
    let name = name.to_string();
    format!("  {name:<10} {:>8.1} ms  {detail}", seconds * 1000.0)
}

/// The steps of a (possibly partial) login, for people.
pub fn render_report(report: &ConnectReport) -> String {
    let mut out = String::new();
    for step in &report.steps {
        if step.name == Step::Total {
            continue;
        }
        let _ = writeln!(
            out,
            "{}",
            step_line(step.name, step.elapsed.as_secs_f64(), &step.detail)
        );
        if matches!(step.name, Step::Tls | Step::Stls)
            && let Some(info) = &report.tls
        {
            out.push_str(&render_tls(info));
        }
    }
    if report.mechanism.is_some() {
        let window = if report.window > 1 {
            format!("pipelining, {} commands in flight", report.window)
        } else {
            "lockstep (no pipelining)".to_string()
        };
        let _ = writeln!(out, "  {:<10} {:>11}  {window}", "mode", "");
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "  WARNING: {warning}");
    }
    out
}

fn render_tls(info: &TlsInfo) -> String {
    let mut out = String::new();
    let pad = "                          ";
    if let Some(cert) = &info.certificate {
        let _ = writeln!(out, "{pad}subject      {}", cert.subject);
        let _ = writeln!(out, "{pad}issuer       {}", cert.issuer);
        let _ = writeln!(out, "{pad}valid        {} to {}", cert.not_before, cert.not_after);
        if !cert.names.is_empty() {
            let _ = writeln!(out, "{pad}names        {}", cert.names.join(", "));
        }
        let _ = writeln!(out, "{pad}sha256       {}", cert.sha256);
    }
    let _ = writeln!(out, "{pad}verification {}", info.verification);
    out
}
