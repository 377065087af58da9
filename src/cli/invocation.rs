//! From argv to a `Cli` ready to run: a mistyped command is called that
//! (clap alone would take `chek` for the inspector's URL and complain about
//! the next word), and the config file's account is merged in.

use super::{Cli, config};
use crate::error::{Failure, FailureKind};
use clap::{Command, CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// Why the command line cannot run.
#[derive(Debug)]
pub enum Invalid {
    /// clap's own verdict (including --help and --version), which prints
    /// itself with `exit()`.
    Clap(clap::Error),
    /// Ours: an unknown command, a config file problem.
    Failure(Failure),
}

/// Parses `argv` (program name first) and merges the account.
pub fn parse(argv: impl IntoIterator<Item = OsString>) -> Result<Cli, Invalid> {
    let command = Cli::command();
    let argv = options_after_command(&command, argv.into_iter().collect());
    if let Some(failure) = unknown_command(&command, &argv) {
        return Err(Invalid::Failure(failure));
    }
    let matches = command.try_get_matches_from(&argv).map_err(Invalid::Clap)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(Invalid::Clap)?;
    config::apply_account(&mut cli, &matches).map_err(Invalid::Failure)?;
    Ok(cli)
}

/// `popscope -a work list` means `popscope list -a work`: clap alone would
/// take `list` for the inspector's URL once an option came first (the
/// options before a command are the connection options every connecting
/// command has).
fn options_after_command(command: &Command, mut argv: Vec<OsString>) -> Vec<OsString> {
    let Some((index, word)) = first_word(command, &argv) else {
        return argv;
    };
    if index > 1 && command.find_subcommand(word).is_some() {
        let name = argv.remove(index);
        argv.insert(1, name);
    }
    argv
}

/// A first word that is neither a command nor a server: `popscope chek
/// URL`. A server is a URL (pop3s://…), so a bare word there is a command
/// that does not exist.
fn unknown_command(command: &Command, argv: &[OsString]) -> Option<Failure> {
    let (index, word) = first_word(command, argv)?;
    let known = command
        .get_subcommands()
        .any(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word));
    let looks_like_a_command = word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if known || word == "help" || !looks_like_a_command {
        return None;
    }
    let names: Vec<&str> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name())
        .collect();
    let suggestion = names
        .iter()
        .map(|name| (strsim::jaro(name, word), *name))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name);
    let failure = match suggestion {
        Some(name) => {
            let mut fixed: Vec<String> = argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
            fixed[0] = "popscope".into();
            fixed[index] = name.into();
            Failure::new(
                FailureKind::Usage,
                format!("unknown command \"{word}\"; did you mean \"{name}\"?"),
            )
            .with_hint(crate::sanitize::sanitize_text(&fixed.join(" "), false))
        }
        None => Failure::new(FailureKind::Usage, format!("unknown command \"{word}\"")).with_hint(format!(
            "the commands are {}; a server is named by a URL such as pop3s://user@host",
            names.join(", ")
        )),
    };
    Some(failure)
}

/// The first word on the command line that is not an option or an
/// option's value, with its position.
fn first_word<'a>(command: &Command, argv: &'a [OsString]) -> Option<(usize, &'a str)> {
    let takes_value = |found: Option<&clap::Arg>| found.is_some_and(|a| a.get_action().takes_values());
    let mut index = 1;
    while let Some(word) = argv.get(index) {
        let word = word.to_str()?;
        if word == "--" {
            return None;
        }
        let skip_value = if let Some(long) = word.strip_prefix("--") {
            !long.contains('=') && takes_value(command.get_arguments().find(|a| a.get_long() == Some(long)))
        } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let first = chars.next();
            chars.as_str().is_empty() && takes_value(command.get_arguments().find(|a| a.get_short() == first))
        } else {
            return Some((index, word));
        };
        index += if skip_value { 2 } else { 1 };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("popscope")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn failure(words: &[&str]) -> Failure {
        match parse(argv(words)) {
            Err(Invalid::Failure(f)) => f,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    #[test]
    fn a_mistyped_command_is_called_unknown_and_the_right_one_suggested() {
        let f = failure(&["chek", "pop3s://alice@mail.example"]);
        assert_eq!(f.kind, FailureKind::Usage);
        assert_eq!(f.message, "unknown command \"chek\"; did you mean \"check\"?");
        assert_eq!(f.hint.as_deref(), Some("popscope check pop3s://alice@mail.example"));
        let f = failure(&["--timeout", "5", "lsit"]);
        assert!(f.message.contains("\"lsit\"; did you mean \"list\""), "{f}");
        let f = failure(&["frobnicate"]);
        assert_eq!(f.message, "unknown command \"frobnicate\"");
        assert!(f.hint.unwrap().contains("check, list"));
    }

    #[test]
    fn options_before_a_command_go_after_it() {
        let moved = options_after_command(
            &Cli::command(),
            argv(&["-a", "work", "--timeout", "5", "list", "--json"]),
        );
        assert_eq!(moved, argv(&["list", "-a", "work", "--timeout", "5", "--json"]));
        let kept = argv(&["--user", "list", "pop3s://h"]);
        assert_eq!(options_after_command(&Cli::command(), kept.clone()), kept);
        match parse(argv(&["--timeout", "5", "check", "pop3s://a@h"])) {
            Ok(Cli {
                command: Some(crate::cli::CliCommand::Check(args)),
                ..
            }) => assert_eq!(args.connect.timeout, 5.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_options_and_real_commands_are_not_taken_for_typos() {
        for words in [
            &["--user", "chek", "--host", "h"][..],
            &["-a", "work", "check"],
            &["check", "pop3s://alice@mail.example"],
            &["pop3s://alice@mail.example"],
            &["--", "chek"],
            &["help"],
        ] {
            assert!(unknown_command(&Cli::command(), &argv(words)).is_none(), "{words:?}");
        }
    }
}
