//! An account's values in a command's settings, where the command line and
//! the environment left them open. Precedence, highest first: command-line
//! flags, `POPSCOPE_*` environment variables, the account, the defaults.

use super::{Account, ConfigFile, chosen_path};
use crate::cli::{Cli, ConnectArgs};
use crate::error::{Failure, FailureKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

/// Which settings an account key gives way to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Group {
    /// `url`, `user`, `tls`: a URL on the command line (or in POPSCOPE_URL)
    /// names the server completely, so these give way to it as well as to
    /// their own flag.
    Server,
    /// Where the secret comes from: a secret source on the command line or
    /// in the environment (POPSCOPE_PASSWORD included) replaces every one
    /// the account has, so a password never goes to a server it was not
    /// meant for because two layers mixed.
    Secret,
    /// Everything else gives way to its own flag or variable only.
    Plain,
}

/// The clap ids of the secret sources.
const SECRET_ARGS: [&str; 3] = ["password_command", "password_file", "oauth_token_command"];

/// What the person gave: on the command line or in the environment (not a
/// default, not absent).
fn given(matches: &ArgMatches, id: &str) -> bool {
    matches.ids().any(|i| i == id)
        && matches!(
            matches.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
}

/// May the account's value for `id` (in `group`) be used?
fn open(matches: &ArgMatches, secret_in_environment: bool, group: Group, id: &str) -> bool {
    if given(matches, id) {
        return false;
    }
    match group {
        Group::Server => !given(matches, "url"),
        Group::Secret => !secret_in_environment && !SECRET_ARGS.iter().any(|a| given(matches, a)),
        Group::Plain => true,
    }
}

/// Merges the account the command names (`-a`, POPSCOPE_ACCOUNT) into its
/// settings, or the file's `default` account when the command names no
/// server at all. A URL without `-a` does not read the file: the default
/// account's secrets must not go to a server named by hand.
pub fn apply_account(cli: &mut Cli, matches: &ArgMatches) -> Result<(), Failure> {
    let (args, matches) = match cli.command.as_mut() {
        None => (&mut cli.connect, matches),
        Some(command) => {
            let Some(args) = command.connect_args_mut() else {
                return Ok(());
            };
            let Some((_, sub)) = matches.subcommand() else {
                return Ok(());
            };
            (args, sub)
        }
    };
    let path = chosen_path(args.config.as_deref())?;
    let (file, name) = match args.account.clone() {
        Some(name) => (
            ConfigFile::load(&path, &format!("account {name:?} was asked for"))?,
            name,
        ),
        None if !args.names_no_server() => return Ok(()),
        None => {
            let file = match ConfigFile::read(&path)? {
                Some(file) => file,
                None if args.config.is_some() => {
                    return Err(Failure::new(
                        FailureKind::Usage,
                        format!("there is no config file at {}", path.display()),
                    ));
                }
                None => return Ok(()),
            };
            match file.default.clone() {
                Some(name) => (file, name),
                None => return Ok(()),
            }
        }
    };
    fill(args, matches, file.account(&name)?);
    if args.names_no_server() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("account {name:?} in {} has no url", file.path.display()),
        )
        .with_hint("add url = \"pop3s://user@host\" to it, or give a URL on the command line"));
    }
    args.account = Some(name);
    Ok(())
}

/// Puts `account` into `args` where `matches` (the parse that made
/// `args`) left it open; returns the keys used.
fn fill(args: &mut ConnectArgs, matches: &ArgMatches, account: &Account) -> Vec<&'static str> {
    let secret_in_environment = std::env::var_os("POPSCOPE_PASSWORD").is_some();
    account.fill(args, |group, id| open(matches, secret_in_environment, group, id))
}

/// Where a merged setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    Environment,
    Account,
    Default,
    Unset,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::CommandLine => "command line",
            Source::Environment => "environment",
            Source::Account => "account",
            Source::Default => "default",
            Source::Unset => "",
        }
    }
}

/// One merged setting: the account key, its value (secrets redacted) and
/// where it came from.
#[derive(Debug, Clone)]
pub struct Merged {
    pub key: &'static str,
    pub value: Option<String>,
    pub source: Source,
}

/// The settings account `name` gives `popscope check -a NAME` with no
/// flags: defaults, the account, and (with `environment`) the POPSCOPE_*
/// variables above it. `survey` passes `environment: false` so that one
/// shell's variables cannot redirect or re-key every account.
pub fn account_args(file: &ConfigFile, name: &str, environment: bool) -> Result<(ConnectArgs, Vec<Merged>), Failure> {
    let account = file.account(name)?;
    let mut command = Cli::command();
    if !environment {
        command = command.mut_subcommand("check", |check| check.mut_args(|arg| arg.env(None)));
    }
    let matches = command
        .try_get_matches_from(["popscope", "check"])
        .map_err(|e| Failure::new(FailureKind::Usage, format!("the environment: {}", e.kind())))?;
    let check = matches
        .subcommand_matches("check")
        .ok_or_else(|| Failure::new(FailureKind::Usage, "the check command is missing"))?;
    let mut args = ConnectArgs::from_arg_matches(check).map_err(|e| Failure::new(FailureKind::Usage, e.to_string()))?;
    let applied = if environment {
        fill(&mut args, check, account)
    } else {
        account.fill(&mut args, |_, _| true)
    };
    let merged = Account::shown(&args)
        .into_iter()
        .map(|(key, id, value)| {
            let source = if applied.contains(&key) {
                Source::Account
            } else if value.is_none() {
                Source::Unset
            } else {
                match check.ids().any(|i| i == id).then(|| check.value_source(id)).flatten() {
                    Some(ValueSource::EnvVariable) => Source::Environment,
                    Some(ValueSource::CommandLine) => Source::CommandLine,
                    _ => Source::Default,
                }
            };
            Merged { key, value, source }
        })
        .collect();
    Ok((args, merged))
}
