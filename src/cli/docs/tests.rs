use super::*;

/// The commands a person can type (clap's own `help` aside).
fn visible_commands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

#[test]
fn every_completion_script_is_generated_and_names_every_command() {
    let commands = visible_commands();
    assert!(commands.len() >= 8, "{commands:?}");
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Elvish, Shell::PowerShell] {
        let script = completions(shell);
        assert!(script.len() > 1_000, "{shell}: {} bytes", script.len());
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell} lacks {command}");
        }
        for option in ["account", "ca-file", "json"] {
            assert!(script.contains(option), "{shell} lacks {option}");
        }
    }
}

#[test]
fn bash_zsh_and_fish_complete_account_names_from_the_config_file() {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        assert!(
            completions(shell).contains("popscope config accounts 2>/dev/null"),
            "{shell}"
        );
    }
    let zsh = completions(Shell::Zsh);
    let account_lines: Vec<&str> = zsh
        .lines()
        .filter(|l| l.contains("-a+[") || l.contains("--account=["))
        .collect();
    assert!(!account_lines.is_empty());
    for line in account_lines {
        assert!(line.contains(":NAME:_popscope_accounts'"), "{line}");
    }
}

/// `text` as the roff crate writes it in a text line.
fn roff_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('-', "\\-").replace('\'', "\\*(Aq")
}

#[test]
fn the_manual_has_every_command_key_exit_code_and_account_key() {
    let page = man_page();
    assert!(page.starts_with(".ie"), "{}", &page[..80]);
    assert_eq!(page.matches(".ds Aq").count(), 2, "the preamble once");
    for section in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "COMMANDS",
        "KEYS",
        "FILES",
        "EXIT STATUS",
        "EXAMPLES",
    ] {
        let heading = |s: &str| page.contains(&format!(".SH {s}\n")) || page.contains(&format!(".SH \"{s}\"\n"));
        assert!(heading(section), "no {section}");
    }
    for command in visible_commands() {
        assert!(page.contains(&format!(".SS \"popscope {command}")), "no {command}");
    }
    for binding in BINDINGS {
        assert!(page.contains(&roff_text(binding.help)), "no key {:?}", binding.help);
    }
    for kind in FailureKind::ALL {
        assert!(
            page.contains(&format!("\\fB{}\\fR", kind.exit_code())),
            "no exit code {kind:?}"
        );
    }
    for key in Account::KEYS {
        assert!(page.contains(key), "no account key {key}");
    }
    // Options of a subcommand's own, and a connection option once.
    assert!(page.contains("\\-\\-deadline"));
    assert_eq!(page.matches("\\fB\\-\\-ca\\-file\\fR \\fI").count(), 1);
}

#[test]
fn help_states_the_precedence_and_every_exit_code() {
    let short = Cli::command().render_help().to_string();
    let long = Cli::command().render_long_help().to_string();
    for help in [&short, &long] {
        assert!(help.contains("command-line flags beat POPSCOPE_* environment variables"));
        for kind in FailureKind::ALL {
            assert!(help.contains(&kind.exit_code().to_string()), "{kind:?}");
        }
    }
    for (command, _) in EXAMPLES {
        assert!(long.contains(command), "{command}");
    }
}
