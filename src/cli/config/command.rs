//! `popscope config`: checks the config file and shows what each account
//! gives a command, merged with the environment and the defaults, secrets
//! redacted. `popscope config accounts` lists the names for shell
//! completion.

use super::merge::{Merged, Source, account_args};
use super::{ConfigFile, chosen_path};
use crate::cli::output::write_stdout;
use crate::error::{Failure, FailureKind};
use crate::sanitize::sanitize_text;
use crate::session::TlsMode;
use clap::{Args, Subcommand};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: Option<ConfigAction>,
    /// The config file [default: $XDG_CONFIG_HOME/popscope/config.toml].
    #[arg(long, env = "POPSCOPE_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Show only this account.
    #[arg(long, short = 'a', value_name = "NAME", global = true)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ConfigAction {
    /// Check the file and show each account's merged settings (the default).
    Check,
    /// Print the account names, one per line (what shell completion calls).
    #[command(hide = true)]
    Accounts,
}

pub fn run(args: &ConfigArgs) -> Result<(), Failure> {
    let path = chosen_path(args.config.as_deref())?;
    let file = ConfigFile::load(&path, "`popscope config` checks it")?;
    match args.action.unwrap_or(ConfigAction::Check) {
        ConfigAction::Accounts => {
            let names: String = file.accounts.keys().map(|name| format!("{name}\n")).collect();
            write_stdout(&names)
        }
        ConfigAction::Check => {
            let names: Vec<&String> = match &args.account {
                Some(name) => {
                    file.account(name)?;
                    vec![name]
                }
                None => file.accounts.keys().collect(),
            };
            let (text, problems) = describe(&file, &names)?;
            write_stdout(&text)?;
            match problems {
                0 => Ok(()),
                n => Err(Failure::new(
                    FailureKind::Usage,
                    format!("{n} of {} accounts cannot be used as they are", names.len()),
                )),
            }
        }
    }
}

/// The report for `names`, and how many of them cannot be used.
fn describe(file: &ConfigFile, names: &[&String]) -> Result<(String, usize), Failure> {
    let mut out = String::new();
    let mode = file
        .mode
        .map(|m| format!(" (mode {:04o})", m & 0o7777))
        .unwrap_or_default();
    let _ = writeln!(out, "config file {}{mode}", file.path.display());
    if let Some(default) = &file.default {
        let _ = writeln!(out, "default account: {}", sanitize_text(default, false));
    }
    let _ = writeln!(
        out,
        "precedence: command-line flags > POPSCOPE_* variables > the account > defaults"
    );
    let mut problems = 0;
    for name in names {
        let (args, merged) = account_args(file, name, true)?;
        let _ = writeln!(out, "\n[accounts.{}]", sanitize_text(name, false));
        let server = match args.target() {
            Ok(t) => format!("{}@{}:{}, {}", t.user, t.host, t.port, mode_name(t.tls)),
            Err(failure) => {
                problems += 1;
                format!("UNUSABLE: {}", failure.message)
            }
        };
        let _ = writeln!(out, "  {:<20} {}", "server", sanitize_text(&server, false));
        for setting in merged {
            let _ = writeln!(out, "{}", setting_line(&setting));
        }
    }
    if problems == 0 {
        let _ = writeln!(out, "\nOK: {} account(s)", names.len());
    }
    Ok((out, problems))
}

fn setting_line(setting: &Merged) -> String {
    let value = setting.value.as_deref().map(|v| sanitize_text(v, false));
    let from = match setting.source {
        Source::Unset => String::new(),
        source => format!("  ({})", source.label()),
    };
    format!("  {:<20} {}{from}", setting.key, value.as_deref().unwrap_or("-"))
}

fn mode_name(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::Implicit => "implicit TLS",
        TlsMode::Starttls => "STLS",
        TlsMode::None => "no TLS",
    }
}
