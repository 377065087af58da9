//! `popscope survey`: every account of the config file at once, one row
//! each, the stuck ones first — "which of our 200 mailboxes is stuck?".
//!
//! Each account gets its own session (at most `--jobs` at a time) and its
//! own `--deadline`; a row says how far its login got (TLS version,
//! certificate expiry, login time, mechanism), then STAT and the Date of
//! message 1 (one `TOP 1 0`). Read-only: each session ends with an
//! unconfirmed QUIT, which the engine guards. Settings come from the
//! config file and the defaults only (see `config::account_args`), and
//! survey never prompts: an account without a secret source fails its row.
//!
//! Order: failures first (nothing is known about those maildrops), then
//! maildrops that are locked or unavailable ([IN-USE], [LOGIN-DELAY],
//! [SYS/TEMP], [SYS/PERM]), then the rest by the age of their oldest
//! message (oldest first: nobody is collecting that mail), then by size,
//! then by name. The exit code is that of the first row that failed.

use super::config::{ConfigFile, account_args, chosen_path};
use super::output::write_stdout;
use crate::error::{Failure, FailureKind};
use crate::pop3::client::{Command, Outcome};
use crate::pop3::codec::ResponseCode;
use crate::pop3::response::parse_stat;
use crate::sanitize::sanitize_text;
use crate::session::{self, ConnectReport, Observers};
use crate::text::{fit, human_size};
use clap::Args;
use futures_util::StreamExt;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Args)]
pub struct SurveyArgs {
    /// Survey only this account (repeat for several); by default every
    /// account in the config file.
    #[arg(long = "account", short = 'a', value_name = "NAME")]
    pub accounts: Vec<String>,
    /// The config file [default: $XDG_CONFIG_HOME/popscope/config.toml].
    #[arg(long, env = "POPSCOPE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One JSON array (an object per account, in the same order) instead
    /// of a table.
    #[arg(long)]
    pub json: bool,
    /// Accounts surveyed at the same time.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Seconds allowed for each account, from connecting to QUIT.
    #[arg(long, default_value_t = 60.0)]
    pub deadline: f64,
}

/// How an account's survey ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Could not connect, secure, or log in (or a local problem).
    Failed,
    /// Logged in (or nearly) but the maildrop is locked or unavailable.
    Unavailable,
    Ok,
}

/// Why a row failed, for people and for monitoring.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    #[serde(serialize_with = "kind_label")]
    pub kind: FailureKind,
    pub exit_code: u8,
    pub message: String,
}

fn kind_label<S: serde::Serializer>(kind: &FailureKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.label())
}

/// One account's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub account: String,
    pub state: State,
    /// The response code that made the maildrop unavailable ("IN-USE", ...).
    pub code: Option<String>,
    /// True when the maildrop is locked by another session ([IN-USE]).
    pub locked: bool,
    pub server: Option<String>,
    pub tls_version: Option<String>,
    /// Days until the server's certificate expires (negative: expired).
    pub cert_expires_days: Option<i64>,
    /// Connect to logged in.
    pub login_ms: Option<u64>,
    pub mechanism: Option<String>,
    pub messages: Option<u32>,
    pub bytes: Option<u64>,
    /// The Date header of message 1, RFC 3339.
    pub oldest_date: Option<String>,
    pub oldest_age_seconds: Option<i64>,
    pub error: Option<RowError>,
}

impl Row {
    fn new(account: &str) -> Row {
        Row {
            account: account.to_string(),
            state: State::Ok,
            code: None,
            locked: false,
            server: None,
            tls_version: None,
            cert_expires_days: None,
            login_ms: None,
            mechanism: None,
            messages: None,
            bytes: None,
            oldest_date: None,
            oldest_age_seconds: None,
            error: None,
        }
    }

    /// What the login got as far as, even when it then failed.
    fn note_login(&mut self, report: &ConnectReport, now: i64) {
        if let Some(tls) = &report.tls {
            self.tls_version = Some(tls.version.clone());
            self.cert_expires_days = tls
                .certificate
                .as_ref()
                .and_then(|c| c.expires_at)
                .map(|at| at.saturating_sub(now).div_euclid(86_400));
        }
        self.mechanism = report.mechanism.map(|m| m.name().to_string());
        self.login_ms = report.total().map(|t| t.as_millis().try_into().unwrap_or(u64::MAX));
    }

    fn fail(&mut self, failure: &Failure) {
        let code = (failure.kind == FailureKind::Mailbox)
            .then(|| unavailable_code(&failure.message))
            .flatten();
        self.state = if failure.kind == FailureKind::Mailbox {
            State::Unavailable
        } else {
            State::Failed
        };
        self.locked = code == Some(ResponseCode::InUse);
        self.code = code.map(|c| c.to_string());
        self.error = Some(RowError {
            kind: failure.kind,
            exit_code: failure.kind.exit_code(),
            message: sanitize_text(&failure.message, false),
        });
    }
}

/// The response code a "maildrop unavailable" failure quotes. A `Failure`
/// keeps the server's status line only as text, `-ERR [IN-USE] …`.
fn unavailable_code(message: &str) -> Option<ResponseCode> {
    [
        ResponseCode::InUse,
        ResponseCode::LoginDelay,
        ResponseCode::SysTemp,
        ResponseCode::SysPerm,
    ]
    .into_iter()
    .find(|code| message.contains(&format!("[{code}]")))
}

pub async fn run(args: &SurveyArgs) -> Result<(), Failure> {
    let path = chosen_path(args.config.as_deref())?;
    let file = ConfigFile::load(&path, "survey visits its accounts")?;
    let names: Vec<String> = if args.accounts.is_empty() {
        file.accounts.keys().cloned().collect()
    } else {
        for name in &args.accounts {
            file.account(name)?;
        }
        args.accounts.clone()
    };
    if names.is_empty() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{} has no accounts to survey", path.display()),
        ));
    }
    let deadline = seconds(args.deadline)?;
    let jobs = names.iter().map(|name| {
        let settings = account_args(&file, name, false).map(|(args, _)| args);
        survey_account(name.clone(), settings, deadline)
    });
    let mut rows: Vec<Row> = futures_util::stream::iter(jobs)
        .buffer_unordered(usize::from(args.jobs))
        .collect()
        .await;
    sort_rows(&mut rows);
    let text = if args.json {
        serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
    } else {
        render_table(&rows)
    };
    write_stdout(&text)?;
    eprintln!("{}", summary(&rows));
    match rows.iter().find_map(|r| r.error.as_ref()) {
        // The rows said it all; the exit code tells scripts.
        Some(error) => Err(Failure::new(error.kind, "")),
        None => Ok(()),
    }
}

fn seconds(value: f64) -> Result<Duration, Failure> {
    if value.is_finite() && value > 0.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Failure::new(
            FailureKind::Usage,
            "--deadline must be a positive number of seconds",
        ))
    }
}

/// One account, start to end, within `deadline`.
async fn survey_account(name: String, settings: Result<super::ConnectArgs, Failure>, deadline: Duration) -> Row {
    let mut row = Row::new(&name);
    let mut report = ConnectReport::default();
    let outcome = match settings {
        Ok(settings) => tokio::time::timeout(deadline, probe(&settings, &mut report, &mut row))
            .await
            .unwrap_or_else(|_| {
                Err(Failure::new(
                    FailureKind::Timeout,
                    format!("no result within {} s (--deadline)", deadline.as_secs_f64()),
                ))
            }),
        Err(failure) => Err(failure),
    };
    row.note_login(&report, unix_now());
    if let Err(failure) = outcome {
        row.fail(&failure);
    }
    row
}

/// Logs in, asks STAT and the Date of message 1, and QUITs without
/// committing anything.
async fn probe(settings: &super::ConnectArgs, report: &mut ConnectReport, row: &mut Row) -> Result<(), Failure> {
    let has_secret = settings.password.is_some()
        || settings.password_command.is_some()
        || settings.password_file.is_some()
        || settings.oauth_token_command.is_some();
    if !has_secret {
        return Err(Failure::new(
            FailureKind::Usage,
            "the account has no password, password_command, password_file or oauth_token_command (survey never prompts)",
        ));
    }
    let config = settings.session_config().await?;
    row.server = Some(sanitize_text(
        &format!("{}@{}:{}", config.user, config.host, config.port),
        false,
    ));
    let session = session::open_reporting(&config, Observers::default(), report, &mut ()).await?;
    let result = maildrop_facts(&session, row).await;
    session.quit(false).await;
    result
}

async fn maildrop_facts(session: &session::Session, row: &mut Row) -> Result<(), Failure> {
    let stat = session.call_ok(Command::Stat).await?;
    let (count, bytes) =
        parse_stat(&stat.status.text).map_err(|e| Failure::new(FailureKind::Protocol, format!("STAT: {e}")))?;
    row.messages = Some(count);
    row.bytes = Some(bytes);
    if count == 0 {
        return Ok(());
    }
    // A server without TOP, or a message without a Date, leaves the age
    // unknown; that is not a failure of the account.
    if let Outcome::Ok(reply) = session.call(Command::Top { msg: 1, lines: 0 }).await?
        && let Some(date) = mail_parser::MessageParser::default()
            .parse_headers(reply.payload())
            .and_then(|m| m.date().cloned())
    {
        row.oldest_date = Some(sanitize_text(&date.to_rfc3339(), false));
        row.oldest_age_seconds = Some(unix_now().saturating_sub(date.to_timestamp()));
    }
    Ok(())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Failures, then unavailable maildrops, then the oldest mail first, then
/// the largest, then by name.
pub(crate) fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then(b.oldest_age_seconds.cmp(&a.oldest_age_seconds))
            .then(b.bytes.cmp(&a.bytes))
            .then(a.account.cmp(&b.account))
    });
}

/// "3 accounts: 2 ok, 1 failed".
fn summary(rows: &[Row]) -> String {
    let count = |state| rows.iter().filter(|r| r.state == state).count();
    let mut parts = vec![format!("{} ok", count(State::Ok))];
    for (state, label) in [(State::Unavailable, "locked or unavailable"), (State::Failed, "failed")] {
        if count(state) > 0 {
            parts.push(format!("{} {label}", count(state)));
        }
    }
    format!("{} accounts: {}", rows.len(), parts.join(", "))
}

/// The table: a header and one line per row; a failure's reason ends its
/// line.
pub(crate) fn render_table(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| unicode_width::UnicodeWidthStr::width(r.account.as_str()))
        .max()
        .unwrap_or(0)
        .clamp(7, 24);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {:<11}  {:<7}  {:>6}  {:>8}  {:<13}  {:>7}  {:>9}  {:>6}",
        fit("ACCOUNT", width),
        "STATE",
        "TLS",
        "CERT",
        "LOGIN",
        "MECH",
        "MSGS",
        "SIZE",
        "OLDEST"
    );
    for row in rows {
        let dash = || "-".to_string();
        let state = match row.state {
            State::Ok => "ok".to_string(),
            State::Failed => "FAILED".to_string(),
            State::Unavailable => row.code.clone().unwrap_or_else(|| "UNAVAILABLE".into()),
        };
        let mut line = format!(
            "{}  {:<11}  {:<7}  {:>6}  {:>8}  {:<13}  {:>7}  {:>9}  {:>6}",
            fit(&sanitize_text(&row.account, false), width),
            state,
            row.tls_version.clone().unwrap_or_else(dash),
            row.cert_expires_days.map_or_else(dash, cert_days),
            row.login_ms.map_or_else(dash, |ms| format!("{ms} ms")),
            row.mechanism.clone().unwrap_or_else(dash),
            row.messages.map_or_else(dash, |n| n.to_string()),
            row.bytes.map_or_else(dash, human_size),
            row.oldest_age_seconds.map_or_else(dash, age),
        );
        if let Some(error) = &row.error {
            let _ = write!(line, "  {}: {}", error.kind.label(), error.message);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Days until a certificate expires, within the column's six characters:
/// a test certificate valid for two thousand years is "2069y", not a
/// number that pushes every column after it.
fn cert_days(days: i64) -> String {
    if days.abs() < 1_000 {
        format!("{days}d")
    } else {
        format!("{}y", days / 365)
    }
}

/// An age in the largest whole unit: 45s, 12m, 5h, 43d.
fn age(seconds: i64) -> String {
    match seconds {
        s if s < 0 => "future".into(),
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests;
