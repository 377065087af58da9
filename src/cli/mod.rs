//! Command-line interface: arguments, where secrets come from, and one
//! module per command (check, config, demo, docs, fetch, inspect, list,
//! retr, survey). `invocation` turns argv into a `Cli` with the account from the
//! config file merged in.

pub mod backup;
pub mod check;
pub mod clean;
pub mod color;
pub mod config;
pub mod demo;
pub mod docs;
pub mod fetch;
pub mod inspect;
pub mod invocation;
pub mod list;
pub(crate) mod list_output;
pub mod output;
pub mod progress;
pub mod retr;
pub mod select;
pub mod survey;

use crate::error::{Failure, FailureKind};
use crate::pop3::auth::Mechanism;
use crate::secret::Secret;
use crate::session::tls::{TlsOptions, parse_pin};
use crate::session::trace::format::TraceFormat;
use crate::session::trace::{SharedTrace, writer};
use crate::session::{Credential, DEFAULT_WINDOW, Observers, SessionConfig, StartTlsPolicy, TlsMode};
use clap::{Args, Parser, Subcommand, ValueEnum};
use color::COLOR_HELP;
pub use color::ColorArg;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Debug, Parser)]
#[command(
    name = "popscope",
    version,
    about = "See, trace and safely clean a remote POP3 mailbox",
    after_help = docs::after_help(),
    after_long_help = docs::after_long_help()
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
    /// Without a subcommand: open the inspector UI on this server.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Inspector: where "b: back up, then delete" copies the marked
    /// messages (a Maildir; default ./popscope-backup-HOST-DATE).
    #[arg(long, value_name = "DIR")]
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Test a server step by step: connect, TLS, greeting, capabilities,
    /// login, STAT. Ends with QUIT; never marks anything.
    Check(CheckArgs),
    /// List every message: number, UID, size, date, sender, subject.
    /// Never marks anything.
    List(ListArgs),
    /// Save one message (as the server sends it) to a file or standard
    /// output, streamed. Never marks anything.
    Retr(RetrArgs),
    /// Delete the messages a query (--match) or a UID list (--uids-from)
    /// selects: shows the plan, then stops (--dry-run), asks on a terminal,
    /// or deletes (--yes), through the same guarded commit as the
    /// inspector.
    #[command(after_help = CLEAN_AFTER_HELP)]
    Clean(CleanArgs),
    /// Download messages into a Maildir, an mbox file or .eml files; a
    /// second run fetches only what is new. Deletes nothing unless
    /// --delete is given, and then only what was saved and synced.
    Fetch(fetch::FetchArgs),
    /// Open the inspector on an embedded demo server with a generated
    /// maildrop (nothing to install, nothing leaves this machine).
    Demo(DemoArgs),
    /// Log in to every account of the config file at once and show one row
    /// per account: reachable, TLS, certificate, login, messages, oldest
    /// message, lock. Never marks anything.
    Survey(survey::SurveyArgs),
    /// Check the config file and show each account's merged settings
    /// (secrets redacted).
    Config(config::ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the manual page (roff) on standard output.
    Man,
}

impl CliCommand {
    /// The connection settings of a command that talks to one server, for
    /// the account merge. Every such command must be listed here.
    pub(crate) fn connect_args_mut(&mut self) -> Option<&mut ConnectArgs> {
        match self {
            CliCommand::Check(args) => Some(&mut args.connect),
            CliCommand::List(args) => Some(&mut args.connect),
            CliCommand::Retr(args) => Some(&mut args.connect),
            CliCommand::Clean(args) => Some(&mut args.connect),
            CliCommand::Fetch(args) => Some(&mut args.connect),
            CliCommand::Demo(_)
            | CliCommand::Survey(_)
            | CliCommand::Config(_)
            | CliCommand::Completions(_)
            | CliCommand::Man => None,
        }
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes as for popscope, and 11 when every step passed but the certificate expires within --warn-cert-days."
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// One JSON document at the end (each step with its time and outcome,
    /// TLS facts, the certificate's days left, CAPA) instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Exit with code 11 when every step passed but the server's
    /// certificate expires within this many days.
    #[arg(long, value_name = "N", env = "POPSCOPE_WARN_CERT_DAYS")]
    pub warn_cert_days: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RetrArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The message number (as shown by `list`).
    #[arg(long = "msg", short = 'm')]
    pub message: u32,
    /// Write here instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// `clean --help`'s epilogue: examples and what the exit codes mean here.
const CLEAN_AFTER_HELP: &str = "\
Examples:
  popscope clean pop3s://alice@mail.example.org --match 'subject:\"disk full\" older:7d' --dry-run
  popscope clean pop3s://alice@mail.example.org --match 'from:cron@ size>1M' --yes --json
  popscope list URL --match 'from:junk.example' --json | jq -r .uid | popscope clean URL --uids-from - --yes

With both --match and --uids-from, a message must satisfy both. A message the
selection cannot judge (no headers or no UID from the server) is kept.

Exit codes: 0 deleted, or nothing to delete (dry run, nothing selected, answered no);
2 usage (including: no terminal to ask on and no --yes); 3 the connection was lost
before QUIT (nothing deleted); 6/7 the server refused a DELE (RSET sent, nothing
deleted) or answered QUIT with -ERR; 9 the server has no UIDL and --by-number was
not given; 10 the connection ended before QUIT was answered: the outcome is
unknown, check the mailbox; 130 interrupted (nothing deleted). The others as for
every command (popscope --help).";

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).multiple(true).args(["matching", "uids_from"])))]
pub struct CleanArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Select the messages this query matches (the README has the
    /// language), e.g. 'subject:"disk full" older:7d'.
    #[arg(long = "match", value_name = "QUERY")]
    pub matching: Option<String>,
    /// Select the messages with these UIDs: one per line ("-" reads
    /// standard input); blank lines and lines starting with # are skipped.
    #[arg(long, value_name = "FILE")]
    pub uids_from: Option<PathBuf>,
    /// Show what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete without asking (needed when standard input is not a
    /// terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the outcome as one JSON object (the plan goes to standard
    /// error).
    #[arg(long)]
    pub json: bool,
    /// Allow selecting by message number when the server has no UIDL
    /// (numbers hold only within this session, which is the one that
    /// deletes).
    #[arg(long)]
    pub by_number: bool,
    /// Before deleting, copy every selected message into this Maildir
    /// (created when missing) and sync it; if any copy fails, nothing is
    /// deleted.
    #[arg(long, value_name = "DIR")]
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many messages the demo maildrop holds.
    #[arg(long, default_value_t = 3_000)]
    pub messages: usize,
    /// Seed for the generated maildrop (same seed, same mailbox).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Added delay per command batch, in milliseconds (to feel a slow link).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Write the protocol trace to this file ("-" for standard error).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    #[arg(long, value_enum, env = "POPSCOPE_COLOR", default_value = "auto", value_name = "WHEN", help = COLOR_HELP)]
    pub color: ColorArg,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// JSON Lines instead of a table: one object per message and line
    /// (`jq -s` collects them into an array).
    #[arg(long, conflicts_with = "json_array")]
    pub json: bool,
    /// Only the messages this query matches, e.g. 'subject:"disk full"',
    /// 'from:junk.example size>1M', 'older:30d' (the README has the
    /// language). Exit 0 even when none match; standard error says how
    /// many of how many did.
    #[arg(long = "match", value_name = "QUERY")]
    pub matching: Option<String>,
    /// One JSON array of objects instead of a table.
    #[arg(long)]
    pub json_array: bool,
    /// Sizes in exact bytes instead of KB and MB.
    #[arg(long)]
    pub bytes: bool,
}

/// How to reach and log in to a server. Every option can also come from a
/// `POPSCOPE_*` environment variable or an account in the config file
/// (flags beat the environment, which beats the account); the password
/// only from POPSCOPE_PASSWORD, a file, a command, the config file or the
/// prompt, never from argv.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// pop3s://user@host[:port] (implicit TLS, 995) or pop3://user@host[:port]
    /// (port 110, upgraded with STLS).
    #[arg(env = "POPSCOPE_URL")]
    pub url: Option<String>,
    /// Take the settings of this account from the config file (what the
    /// command line and POPSCOPE_* variables leave open).
    #[arg(long, short = 'a', env = "POPSCOPE_ACCOUNT", value_name = "NAME")]
    pub account: Option<String>,
    /// The config file [default: $XDG_CONFIG_HOME/popscope/config.toml].
    #[arg(long, env = "POPSCOPE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The server's name or address (instead of the URL's).
    #[arg(long, env = "POPSCOPE_HOST")]
    pub host: Option<String>,
    /// The server's port (instead of the URL's, or 995 / 110).
    #[arg(long, env = "POPSCOPE_PORT")]
    pub port: Option<u16>,
    /// The user to log in as (instead of the URL's).
    #[arg(long, env = "POPSCOPE_USER")]
    pub user: Option<String>,
    /// implicit (pop3s), starttls (pop3 + STLS) or none.
    #[arg(long, value_enum, env = "POPSCOPE_TLS")]
    pub tls: Option<TlsArg>,
    /// With STLS: stop if the server does not offer it (required, the
    /// default) or continue unencrypted (optional).
    #[arg(long, value_enum, env = "POPSCOPE_STARTTLS", default_value = "required")]
    pub starttls: StartTlsArg,
    /// Trust the certificates in this PEM file (private CA or self-signed
    /// server) instead of the system roots.
    #[arg(long, env = "POPSCOPE_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Accept exactly one certificate: sha256:<hex of the leaf's SHA-256>.
    #[arg(long, env = "POPSCOPE_PIN")]
    pub pin: Option<String>,
    /// Do not verify the server's certificate at all (dangerous).
    #[arg(long, env = "POPSCOPE_INSECURE")]
    pub insecure: bool,
    /// Allow sending the password in the clear over an unencrypted link.
    #[arg(long, env = "POPSCOPE_ALLOW_PLAINTEXT")]
    pub allow_plaintext: bool,
    /// Force a login mechanism: USER, APOP, PLAIN, LOGIN, CRAM-MD5,
    /// SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER.
    #[arg(long = "auth", env = "POPSCOPE_AUTH", value_parser = parse_mechanism)]
    pub mechanism: Option<Mechanism>,
    /// Run this shell command and use the first line of its output as the
    /// password.
    #[arg(long, env = "POPSCOPE_PASSWORD_COMMAND")]
    pub password_command: Option<String>,
    /// Read the password from the first line of this file.
    #[arg(long, env = "POPSCOPE_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// Run this shell command and use the first line of its output as the
    /// OAuth access token (XOAUTH2 / OAUTHBEARER).
    #[arg(long, env = "POPSCOPE_OAUTH_TOKEN_COMMAND")]
    pub oauth_token_command: Option<String>,
    /// Seconds allowed for resolving, connecting and the TLS handshake.
    #[arg(long, env = "POPSCOPE_CONNECT_TIMEOUT", default_value_t = 15.0)]
    pub connect_timeout: f64,
    /// Seconds allowed for each answer from the server.
    #[arg(long, env = "POPSCOPE_TIMEOUT", default_value_t = 30.0)]
    pub timeout: f64,
    /// Write the protocol trace to this file ("-" for standard error).
    #[arg(long, env = "POPSCOPE_TRACE")]
    pub trace: Option<PathBuf>,
    /// The trace file's format: text (timestamped lines) or jsonl (one JSON
    /// object per event).
    #[arg(long, value_enum, env = "POPSCOPE_TRACE_FORMAT", default_value = "text")]
    pub trace_format: TraceFormatArg,
    /// Include multi-line payloads in the trace (first 64 KiB of each;
    /// CAPA's is always included).
    #[arg(long, env = "POPSCOPE_TRACE_BODIES")]
    pub trace_bodies: bool,
    /// Never pipeline, even when the server offers PIPELINING.
    #[arg(long, env = "POPSCOPE_NO_PIPELINING")]
    pub no_pipelining: bool,
    /// Commands in flight at once when pipelining.
    #[arg(long, env = "POPSCOPE_WINDOW", default_value_t = DEFAULT_WINDOW)]
    pub window: usize,
    /// The account's stored `password` (config file only; never a flag).
    #[arg(skip)]
    pub password: Option<Secret>,
    /// Where backups go (the account's `backup` key).
    #[arg(skip)]
    pub backup: Option<PathBuf>,
    #[arg(long, value_enum, env = "POPSCOPE_COLOR", default_value = "auto", value_name = "WHEN", help = COLOR_HELP)]
    pub color: ColorArg,
}

/// `--tls`: the session layer's `TlsMode`, as clap parses and documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsArg {
    /// TLS from the first byte (pop3s, port 995).
    Implicit,
    /// Plain connect, then upgrade with STLS (pop3, port 110).
    Starttls,
    /// No encryption at all.
    None,
}

impl From<TlsArg> for TlsMode {
    fn from(arg: TlsArg) -> TlsMode {
        match arg {
            TlsArg::Implicit => TlsMode::Implicit,
            TlsArg::Starttls => TlsMode::Starttls,
            TlsArg::None => TlsMode::None,
        }
    }
}

/// `--trace-format`: the trace writer's `TraceFormat` for clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormatArg {
    Text,
    Jsonl,
}

impl From<TraceFormatArg> for TraceFormat {
    fn from(arg: TraceFormatArg) -> TraceFormat {
        match arg {
            TraceFormatArg::Text => TraceFormat::Text,
            TraceFormatArg::Jsonl => TraceFormat::Jsonl,
        }
    }
}

/// `--starttls`: the session layer's `StartTlsPolicy` for clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartTlsArg {
    Required,
    Optional,
}

impl From<StartTlsArg> for StartTlsPolicy {
    fn from(arg: StartTlsArg) -> StartTlsPolicy {
        match arg {
            StartTlsArg::Required => StartTlsPolicy::Required,
            StartTlsArg::Optional => StartTlsPolicy::Optional,
        }
    }
}

impl ConnectArgs {
    /// Defaults with no server: what the demo starts from.
    pub(crate) fn for_demo() -> ConnectArgs {
        ConnectArgs {
            url: None,
            account: None,
            config: None,
            host: None,
            port: None,
            user: None,
            tls: None,
            starttls: StartTlsArg::Optional,
            ca_file: None,
            pin: None,
            insecure: false,
            allow_plaintext: true,
            mechanism: None,
            password_command: None,
            password_file: None,
            oauth_token_command: None,
            connect_timeout: 15.0,
            timeout: 30.0,
            trace: None,
            trace_format: TraceFormatArg::Text,
            trace_bodies: false,
            no_pipelining: false,
            window: DEFAULT_WINDOW,
            password: None,
            backup: None,
            color: ColorArg::Auto,
        }
    }

    /// True when no server was named at all.
    pub fn names_no_server(&self) -> bool {
        self.url.is_none() && self.host.is_none()
    }
}

fn parse_mechanism(s: &str) -> Result<Mechanism, String> {
    Mechanism::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Mechanism::ALL.iter().map(|m| m.name()).collect();
        format!("unknown mechanism {s:?}; one of {}", names.join(", "))
    })
}

/// Host, port, user and TLS mode from the URL and flags (flags win).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub tls: TlsMode,
}

impl ConnectArgs {
    pub fn target(&self) -> Result<Target, Failure> {
        let usage = |m: String| Failure::new(FailureKind::Usage, m);
        let (mut host, mut port, mut user, mut tls) = (None, None, None, None);
        if let Some(text) = &self.url {
            let url = url::Url::parse(text).map_err(|e| {
                usage(format!(
                    "{:?} is not a URL ({e}); expected pop3s://user@host[:port] or pop3://user@host[:port]",
                    shown_url(text)
                ))
            })?;
            tls = Some(match url.scheme() {
                "pop3s" => TlsMode::Implicit,
                "pop3" => TlsMode::Starttls,
                other => return Err(usage(format!("unsupported scheme {other:?}: use pop3s:// or pop3://"))),
            });
            if url.password().is_some() {
                return Err(usage(
                    "the URL contains a password; it would be visible in the process list and shell history".into(),
                )
                .with_hint("remove it and use --password-file, --password-command, POPSCOPE_PASSWORD or the prompt"));
            }
            host = url
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string());
            port = url.port();
            if !url.username().is_empty() {
                let decoded = percent_decode(url.username());
                user = Some(decoded);
            }
        }
        let tls = self.tls.map(TlsMode::from).or(tls).unwrap_or(TlsMode::Implicit);
        let host = self.host.clone().or(host).filter(|h| !h.is_empty());
        let host = host.ok_or_else(|| usage("no server given: pass a URL like pop3s://user@host or --host".into()))?;
        let port = self.port.or(port).unwrap_or(match tls {
            TlsMode::Implicit => 995,
            _ => 110,
        });
        let user = self.user.clone().or(user).filter(|u| !u.is_empty());
        let user =
            user.ok_or_else(|| usage("no user given: put it in the URL (pop3s://user@host) or pass --user".into()))?;
        Ok(Target { host, port, user, tls })
    }

    /// The full session configuration, with the secret fetched from its
    /// source. Prompts (no echo) when nothing else supplies it.
    pub async fn session_config(&self) -> Result<SessionConfig, Failure> {
        let target = self.target()?;
        let pin = match &self.pin {
            Some(p) => Some(parse_pin(p).map_err(|e| Failure::new(FailureKind::Usage, format!("--pin: {e}")))?),
            None => None,
        };
        let credential = self.credential(&target).await?;
        let seconds = |v: f64, what: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(Failure::new(
                    FailureKind::Usage,
                    format!("{what} must be a positive number of seconds"),
                ))
            }
        };
        Ok(
            SessionConfig::builder(target.host, target.port, target.user, credential)
                .tls(target.tls)
                .starttls(self.starttls.into())
                .tls_options(TlsOptions {
                    ca_file: self.ca_file.clone(),
                    pin,
                    insecure: self.insecure,
                })
                .mechanism(self.mechanism)
                .allow_plaintext(self.allow_plaintext)
                .connect_timeout(seconds(self.connect_timeout, "--connect-timeout")?)
                .response_timeout(seconds(self.timeout, "--timeout")?)
                .pipelining(!self.no_pipelining)
                .window(self.window)
                .trace_bodies(self.trace_bodies)
                .build(),
        )
    }

    async fn credential(&self, target: &Target) -> Result<Credential, Failure> {
        let wants_token = self.mechanism.is_some_and(|m| m.uses_oauth_token());
        if let Some(command) = &self.oauth_token_command {
            return Ok(Credential::OAuthToken(
                run_secret_command(command, "--oauth-token-command").await?,
            ));
        }
        if wants_token {
            return Err(Failure::new(FailureKind::Usage, "this mechanism needs an OAuth token")
                .with_hint("pass --oauth-token-command"));
        }
        if let Some(command) = &self.password_command {
            return Ok(Credential::Password(
                run_secret_command(command, "--password-command").await?,
            ));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read(path).map_err(|e| {
                Failure::new(
                    FailureKind::Usage,
                    format!("cannot read the password file {}: {e}", path.display()),
                )
            })?;
            return Ok(Credential::Password(first_line(text, "the password file")?));
        }
        if let Some(password) = &self.password {
            return Ok(Credential::Password(password.clone()));
        }
        if let Ok(password) = std::env::var("POPSCOPE_PASSWORD") {
            return Ok(Credential::Password(first_line(
                password.into_bytes(),
                "POPSCOPE_PASSWORD",
            )?));
        }
        if std::io::stdin().is_terminal() {
            let prompt = format!("Password for {}@{}: ", target.user, target.host);
            let prompt = crate::sanitize::sanitize_text(&prompt, false);
            let password = tokio::task::spawn_blocking(move || rpassword::prompt_password(prompt))
                .await
                .map_err(|e| Failure::new(FailureKind::Local, e.to_string()))?
                .map_err(|e| Failure::new(FailureKind::Local, format!("cannot read the password: {e}")))?;
            return Ok(Credential::Password(first_line(password.into_bytes(), "the password")?));
        }
        Err(Failure::new(
            FailureKind::Usage,
            "no password available and standard input is not a terminal",
        )
        .with_hint("use --password-file, --password-command or POPSCOPE_PASSWORD"))
    }
}

/// First line, without its line end; an empty result is an error.
fn first_line(mut bytes: Vec<u8>, source: &str) -> Result<Secret, Failure> {
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    bytes.truncate(end);
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    let secret = Secret::new(bytes);
    if secret.is_empty() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{source} gave an empty secret"),
        ));
    }
    Ok(secret)
}

/// Runs `sh -c command`; the secret comes back on its standard output. We
/// never put a secret into a child's argv or environment.
async fn run_secret_command(command: &str, flag: &str) -> Result<Secret, Failure> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(Duration::from_secs(120), child).await {
        Err(_) => {
            return Err(Failure::new(
                FailureKind::Local,
                format!("{flag} did not finish within 120 s"),
            ));
        }
        Ok(Err(e)) => {
            return Err(Failure::new(
                FailureKind::Local,
                format!("{flag} could not be started: {e}"),
            ));
        }
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        return Err(
            Failure::new(FailureKind::Local, format!("{flag} failed ({})", output.status))
                .with_hint("run the command by hand to see what is wrong"),
        );
    }
    first_line(output.stdout, flag)
}

/// A URL as typed, fit to be quoted: any password in its user info
/// (`user:password@`) becomes `****`, and it is sanitized. Everything
/// before the last `@` after the scheme counts as user info, so a password
/// holding `/`, `?` or `@` is hidden too.
fn shown_url(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    let rest = &text[start..];
    let redacted = match rest.rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{}{}:****{}", &text[..start], &rest[..colon], &rest[at..]),
            None => text.to_string(),
        },
        None => text.to_string(),
    };
    crate::sanitize::sanitize_text(&redacted, false)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len() + 1
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `--trace` file, when one was asked for ("-" = standard error), in
/// the format asked for.
pub(crate) struct TraceFile(writer::TraceFile);

impl TraceFile {
    pub fn open(args: &ConnectArgs) -> Result<TraceFile, Failure> {
        Ok(TraceFile(match &args.trace {
            Some(path) => writer::TraceFile::create(path, args.trace_format.into(), args.trace_bodies)?,
            None => writer::TraceFile::none(),
        }))
    }

    /// What the session reports to: this file and, optionally, an event
    /// channel. The session holds the file's only queue, so the file is
    /// complete once the session has ended.
    pub fn observers(&mut self, events: Option<mpsc::Sender<crate::session::driver::SessionEvent>>) -> Observers {
        Observers {
            trace: self.0.observer().into_iter().collect(),
            events,
        }
    }

    /// `observers`, and `store` too (the inspector's trace pane).
    pub(crate) fn observers_with_store(
        &mut self,
        events: Option<mpsc::Sender<crate::session::driver::SessionEvent>>,
        store: &SharedTrace,
    ) -> Observers {
        let mut observers = self.observers(events);
        observers.trace.push(store.observer());
        observers
    }

    /// Another observer on this file, for a later session (a reconnect).
    pub(crate) fn another_observer(&self) -> Option<crate::session::trace::writer::FileObserver> {
        self.0.another_observer()
    }

    /// Waits until every trace line is written (a few seconds at most),
    /// and says if some were dropped.
    pub async fn finish(self) {
        let dropped = self.0.dropped();
        self.0.finish().await;
        if dropped > 0 {
            eprintln!("popscope: the trace file could not keep up: {dropped} lines were dropped (marked in the file)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> ConnectArgs {
        let mut argv = vec!["popscope", "check"];
        argv.extend_from_slice(list);
        match Cli::try_parse_from(argv).unwrap().command {
            Some(CliCommand::Check(a)) => a.connect,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_give_host_port_user_and_mode() {
        let t = args(&["pop3s://alice@mail.example"]).target().unwrap();
        assert_eq!(
            t,
            Target {
                host: "mail.example".into(),
                port: 995,
                user: "alice".into(),
                tls: TlsMode::Implicit
            }
        );
        let t = args(&["pop3://bob%40example.org@127.0.0.1:1110"]).target().unwrap();
        assert_eq!(
            t,
            Target {
                host: "127.0.0.1".into(),
                port: 1110,
                user: "bob@example.org".into(),
                tls: TlsMode::Starttls
            }
        );
        let t = args(&["pop3://u@[::1]"]).target().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 110));
    }

    #[test]
    fn flags_override_the_url() {
        let t = args(&[
            "pop3s://alice@a.example",
            "--host",
            "b.example",
            "--port",
            "2",
            "--user",
            "carol",
            "--tls",
            "none",
        ])
        .target()
        .unwrap();
        assert_eq!(
            t,
            Target {
                host: "b.example".into(),
                port: 2,
                user: "carol".into(),
                tls: TlsMode::None
            }
        );
    }

    #[test]
    fn bad_targets_are_usage_errors() {
        for bad in [
            vec!["http://x@y"],
            vec!["pop3s://a:secret@host"],
            vec!["pop3s://host"],
            vec![],
        ] {
            let e = args(&bad).target().unwrap_err();
            assert_eq!(e.kind, FailureKind::Usage, "{bad:?}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }

    /// Issue 11 item 8: a URL that fails to parse is quoted without its
    /// password.
    #[test]
    fn a_password_in_an_unparsable_url_is_never_echoed() {
        for bad in [
            "pop3s://alice:hunter2@host:99999",
            "pop3s://alice:hunter2@[::1/",
            "pop3s://alice:hunter2@ho st",
            "pop3s://alice:hunter2:more@host:99999/path",
        ] {
            let e = args(&[bad]).target().unwrap_err();
            let shown = format!("{e} {e:?}");
            assert_eq!(e.kind, FailureKind::Usage, "{bad:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("alice"), "the user name helps find the typo: {shown}");
        }
        let e = args(&["pop3s://alice@host:99999\u{202e}\u{1b}]0;x\u{7}"])
            .target()
            .unwrap_err();
        assert!(crate::sanitize::is_terminal_safe(&e.to_string()), "{e}");
    }

    #[test]
    fn shown_urls_hide_exactly_the_password() {
        let table = [
            ("pop3s://alice:hunter2@host:99999", "pop3s://alice:****@host:99999"),
            ("pop3s://alice@host:99999", "pop3s://alice@host:99999"),
            ("pop3s://alice:hun/t@er2@h/x", "pop3s://alice:****@h/x"),
            ("alice:hunter2@host", "alice:****@host"),
            ("pop3s://host:99999", "pop3s://host:99999"),
            ("", ""),
        ];
        for (typed, shown) in table {
            assert_eq!(shown_url(typed), shown, "{typed:?}");
        }
    }

    #[test]
    fn the_command_line_defaults_are_the_session_defaults() {
        let a = args(&["pop3s://alice@mail.example"]);
        let d = SessionConfig::builder("h", 1, "u", Credential::Password(Secret::from("x"))).build();
        assert_eq!(a.target().unwrap().tls, d.tls);
        assert_eq!(StartTlsPolicy::from(a.starttls), d.starttls);
        assert_eq!(a.mechanism, d.mechanism);
        assert_eq!(a.allow_plaintext, d.allow_plaintext);
        assert_eq!(Duration::from_secs_f64(a.connect_timeout), d.connect_timeout);
        assert_eq!(Duration::from_secs_f64(a.timeout), d.response_timeout);
        assert_eq!(!a.no_pipelining, d.pipelining);
        assert_eq!(a.window, d.window);
        assert_eq!(a.trace_bodies, d.trace_bodies);
    }

    #[test]
    fn first_line_only() {
        assert_eq!(first_line(b"pw\r\nrest".to_vec(), "x").unwrap().expose(), b"pw");
        assert!(first_line(b"\n".to_vec(), "x").is_err());
    }
}
