//! What popscope says about itself: the end of `--help`, shell completion
//! scripts and the manual page. All of it is generated from the clap
//! definitions, the key map (`app::keymap::BINDINGS`), the failure kinds
//! and the account keys, so none of it can drift from what the program
//! does.

use super::config::Account;
use super::output::write_stdout;
use super::{Cli, ConnectArgs};
use crate::app::keymap::{BINDINGS, Context};
use crate::error::{Failure, FailureKind};
use clap::{Args, Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};
use std::fmt::Write as _;

/// How settings combine, as `--help`, the manual and the README say it.
pub(crate) const PRECEDENCE: &str = "Settings: command-line flags beat POPSCOPE_* environment variables, \
which beat the config file's account (-a NAME, or its `default` when no server is named), \
which beats the built-in defaults.";

/// Command lines worth copying, with what they do.
pub(crate) const EXAMPLES: &[(&str, &str)] = &[
    ("popscope", "the inspector on the embedded demo mailbox"),
    (
        "popscope check pop3s://alice@mail.example.org",
        "test a server step by step",
    ),
    (
        "popscope check --ca-file server.pem pop3s://alice@localhost",
        "trust a self-signed server certificate given as itself",
    ),
    ("popscope -a work", "the inspector on the config file's account `work`"),
    (
        "popscope list -a work --json | jq -s 'sort_by(.size) | reverse | .[:10]'",
        "the ten largest messages (--json writes JSON Lines)",
    ),
    (
        "popscope retr -a work -m 42 -o 42.eml",
        "save message 42 as the server sends it",
    ),
    ("popscope survey", "one row per account: which maildrop is stuck?"),
    (
        "popscope config",
        "check the config file and show each account's settings",
    ),
    (
        "popscope completions bash > ~/.local/share/bash-completion/completions/popscope",
        "install bash completion",
    ),
    (
        "popscope man > ~/.local/share/man/man1/popscope.1",
        "install this manual page",
    ),
];

/// The end of `-h`: precedence and the exit codes in one line.
pub(crate) fn after_help() -> String {
    let codes: Vec<String> = FailureKind::ALL
        .iter()
        .map(|k| format!("{} {}", k.exit_code(), k.label()))
        .collect();
    format!(
        "{PRECEDENCE}\n\nExit codes: 0 ok, {}.\n\nMore: popscope --help (examples), popscope man (also the config file and the keys)",
        codes.join(", ")
    )
}

/// The end of `--help`: precedence, examples and the exit codes.
pub(crate) fn after_long_help() -> String {
    let mut out = format!("{PRECEDENCE}\n\nExamples:\n");
    for (command, what) in EXAMPLES {
        let _ = writeln!(out, "  {command}\n      {what}");
    }
    out.push_str("\nExit codes:\n  0    success\n");
    for kind in FailureKind::ALL {
        let _ = writeln!(out, "  {:<4} {}", kind.exit_code(), kind.meaning());
    }
    out
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run_completions(args: &CompletionsArgs) -> Result<(), Failure> {
    write_stdout(&completions(args.shell))
}

pub fn run_man() -> Result<(), Failure> {
    write_stdout(&man_page())
}

/// The completion script for `shell`. bash, zsh and fish also complete
/// account names after `-a`/`--account` by asking `popscope config
/// accounts` when Tab is pressed; elvish and PowerShell complete the
/// commands and options only.
pub fn completions(shell: Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "popscope", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        Shell::Bash => script + BASH_ACCOUNTS,
        Shell::Zsh => zsh_with_accounts(&script),
        Shell::Fish => script + FISH_ACCOUNTS,
        _ => script,
    }
}

/// Wraps the generated `_popscope`: after -a/--account it offers the
/// config file's account names, everywhere else it defers to clap's.
const BASH_ACCOUNTS: &str = r#"
# Account names after -a/--account, from the config file (popscope config accounts).
_popscope_with_accounts() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    if [[ "$prev" == "-a" || "$prev" == "--account" ]]; then
        COMPREPLY=( $(compgen -W "$(popscope config accounts 2>/dev/null)" -- "$cur") )
        return 0
    fi
    _popscope "$@"
}
complete -F _popscope_with_accounts -o bashdefault -o default popscope
"#;

const FISH_ACCOUNTS: &str = "
# Account names after -a/--account, from the config file.
complete -c popscope -s a -l account -x -a '(popscope config accounts 2>/dev/null)'
";

/// The zsh function that lists the account names.
const ZSH_ACCOUNTS: &str = r#"
(( $+functions[_popscope_accounts] )) ||
_popscope_accounts() {
    local -a names
    names=(${(f)"$(popscope config accounts 2>/dev/null)"})
    _describe -t accounts 'account' names
}
"#;

/// clap writes `-a` as `'-a+[help]:NAME:_default'`; the value's action
/// becomes `_popscope_accounts`.
fn zsh_with_accounts(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + ZSH_ACCOUNTS.len());
    for line in script.lines() {
        let option = line.trim_start().trim_start_matches("'*").trim_start_matches('\'');
        let is_account = option.starts_with("-a+[") || option.starts_with("--account=[");
        match line.rfind(":NAME:_default'") {
            Some(at) if is_account => {
                out.push_str(&line[..at]);
                out.push_str(":NAME:_popscope_accounts'");
                out.push_str(&line[at + ":NAME:_default'".len()..]);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out.push_str(ZSH_ACCOUNTS);
    out
}

/// The whole manual page, roff.
pub(crate) fn man_page() -> String {
    let mut command = Cli::command();
    command.build();
    let man = Man::new(command.clone());
    let mut page = Vec::new();
    let _ = man.render_title(&mut page);
    let _ = man.render_name_section(&mut page);
    let _ = man.render_synopsis_section(&mut page);
    let _ = man.render_description_section(&mut page);
    let _ = man.render_options_section(&mut page);
    let mut page = String::from_utf8_lossy(&page).into_owned();
    page.push_str(&commands_section(&command));
    for section in [
        keys_section(),
        files_section(),
        exit_status_section(),
        examples_section(),
    ] {
        page.push_str(&section.render());
    }
    once_each_preamble_line(&page)
}

/// Every rendered piece starts with the same two-line apostrophe preamble
/// (`.ie`/`.el`); the page needs it once.
fn once_each_preamble_line(page: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::with_capacity(page.len());
    for line in page.lines() {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if preamble && seen.contains(&line) {
            continue;
        }
        if preamble {
            seen.push(line);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every visible subcommand: its usage, what it does, and the options of
/// its own (the connection options are listed once, under OPTIONS).
fn commands_section(command: &Command) -> String {
    let shared: Vec<String> = ConnectArgs::augment_args(Command::new("connect"))
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    let mut out = String::from(".SH COMMANDS\n");
    let visible = |c: &&Command| !c.is_hide_set() && c.get_name() != "help";
    for sub in command.get_subcommands().filter(visible) {
        let own: Vec<clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !shared.iter().any(|id| id == a.get_id().as_str()))
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .cloned()
            .collect();
        let mut roff = Roff::new();
        let usage = sub.clone().render_usage().to_string();
        roff.control("SS", [usage.trim_start_matches("Usage:").trim()]);
        let about = sub.get_long_about().or(sub.get_about()).map(|a| a.to_string());
        roff.text([roman(about.unwrap_or_default())]);
        if sub.get_arguments().any(|a| a.get_id() == "url") {
            let and = if own.is_empty() { "." } else { ", and:" };
            roff.control("PP", NO_ARGS);
            roff.text([
                roman("It takes the connection options (see "),
                bold("OPTIONS"),
                roman(format!("){and}")),
            ]);
        }
        for nested in sub.get_subcommands().filter(visible) {
            roff.control("TP", NO_ARGS);
            roff.text([bold(format!("{} {}", sub.get_name(), nested.get_name()))]);
            roff.text([roman(nested.get_about().map(|a| a.to_string()).unwrap_or_default())]);
        }
        out.push_str(&roff.render());
        if own.is_empty() {
            continue;
        }
        // The options as clap_mangen renders them, without its OPTIONS heading.
        let mut rendered = Vec::new();
        let _ = Man::new(Command::new("sub").disable_help_flag(true).args(own)).render_options_section(&mut rendered);
        for line in String::from_utf8_lossy(&rendered)
            .lines()
            .filter(|l| !l.starts_with(".SH"))
        {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A roff request without arguments.
const NO_ARGS: [&str; 0] = [];

/// The inspector's keys, from the key map, one subsection per context.
fn keys_section() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["KEYS"]);
    roff.text([roman(
        "In the inspector (press ? for the same list on screen). Marks are only staged: nothing is deleted \
         until you quit and confirm.",
    )]);
    let mut contexts: Vec<Context> = Vec::new();
    for binding in BINDINGS {
        if !contexts.contains(&binding.context) {
            contexts.push(binding.context);
        }
    }
    for context in contexts {
        roff.control("SS", [context.title()]);
        for binding in BINDINGS.iter().filter(|b| b.context == context) {
            let keys: Vec<String> = binding.keys.iter().map(|k| k.label()).collect();
            roff.control("TP", NO_ARGS);
            roff.text([bold(keys.join(", "))]);
            roff.text([roman(binding.help)]);
        }
    }
    roff
}

/// The config file: where, what it holds, how it combines.
fn files_section() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["FILES"]);
    roff.control("TP", NO_ARGS);
    roff.text([italic("$XDG_CONFIG_HOME/popscope/config.toml")]);
    roff.text([
        roman(
            "(default ~/.config/popscope/config.toml; --config FILE or POPSCOPE_CONFIG names another). \
             TOML: an optional top-level default = \"NAME\" and [accounts.NAME] tables with the keys: ",
        ),
        bold(Account::KEYS.join(", ")),
        roman(
            ". An unknown key is an error naming its line. A password key is refused unless the file is mode \
             0600 or stricter. A URL on the command line replaces the account's url, user and tls; a secret \
             source on the command line or in the environment replaces the account's.",
        ),
    ]);
    roff.control("PP", NO_ARGS);
    roff.text([roman(PRECEDENCE)]);
    roff.control("PP", NO_ARGS);
    roff.control("nf", NO_ARGS);
    for line in CONFIG_EXAMPLE.lines() {
        roff.text([roman(line)]);
        roff.control("br", NO_ARGS);
    }
    roff.control("fi", NO_ARGS);
    roff
}

/// An example config file (also in the README).
pub(crate) const CONFIG_EXAMPLE: &str = r#"default = "work"

[accounts.work]
url = "pop3s://alice@mail.example.org"
password_command = "pass show mail/work"

[accounts.lab]
url = "pop3://bob@lab.example.net"
password_file = "~/.config/popscope/lab.password"
ca_file = "~/lab-ca.pem"
timeout = 60"#;

fn exit_status_section() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    roff.control("TP", NO_ARGS);
    roff.text([bold("0")]);
    roff.text([roman("success")]);
    for kind in FailureKind::ALL {
        roff.control("TP", NO_ARGS);
        roff.text([bold(kind.exit_code().to_string())]);
        roff.text([roman(kind.meaning())]);
    }
    roff.control("PP", NO_ARGS);
    roff.text([roman(
        "survey exits with the code of the first account it lists that failed (they are listed worst first).",
    )]);
    roff
}

fn examples_section() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for (command, what) in EXAMPLES {
        roff.control("TP", NO_ARGS);
        roff.text([bold(*command)]);
        roff.text([roman(*what)]);
    }
    roff
}

#[cfg(test)]
mod tests;
