use super::*;
use crate::cli::invocation::{Invalid, parse as parse_argv};
use crate::cli::{Cli, CliCommand};
use clap::CommandFactory;
use std::ffi::OsString;

fn file(text: &str, mode: u32) -> Result<ConfigFile, Failure> {
    ConfigFile::parse(Path::new("/cfg/config.toml"), text, Some(mode))
}

const FULL: &str = r#"
default = "work"

[accounts.work]
url = "pop3s://alice@mail.example.org"
user = "alice2"
auth = "scram-sha-256"
password_command = "pass show mail"
ca_file = "/etc/ca.pem"
pin = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
tls = "implicit"
starttls = "optional"
timeout = 20
window = 50
backup = "/var/backups/mail"

[accounts.lab]
url = "pop3://bob@lab.example.net"
password = "hunter2"
"#;

#[test]
fn a_file_with_every_key_reads() {
    let f = file(FULL, 0o600).unwrap();
    assert_eq!(f.default.as_deref(), Some("work"));
    let work = f.account("work").unwrap();
    assert_eq!(work.mechanism_name(), Some("SCRAM-SHA-256"));
    assert_eq!(work.timeout, Some(20.0));
    assert_eq!(work.window, Some(50));
    assert_eq!(work.starttls, Some(StartTlsArg::Optional));
    assert_eq!(work.backup.as_deref(), Some(Path::new("/var/backups/mail")));
    assert!(!format!("{:?}", f.account("lab").unwrap()).contains("hunter2"));
    for key in [
        "url",
        "user",
        "auth",
        "password_command",
        "password_file",
        "oauth_token_command",
        "ca_file",
        "pin",
        "tls",
        "starttls",
        "timeout",
        "window",
        "backup",
        "password",
    ] {
        assert!(Account::KEYS.contains(&key), "{key}");
    }
}

impl Account {
    fn mechanism_name(&self) -> Option<&'static str> {
        self.auth.map(|m| m.name())
    }
}

#[test]
fn an_unknown_key_is_an_error_with_its_line() {
    let text = "[accounts.work]\nurl = \"pop3s://a@b\"\n\npasword = \"x\"\n";
    let e = file(text, 0o600).unwrap_err();
    assert_eq!(e.kind, FailureKind::Usage);
    assert!(
        e.message.starts_with("/cfg/config.toml line 4: unknown key `pasword`"),
        "{e}"
    );
    let e = file("colour = 1\n", 0o600).unwrap_err();
    assert!(e.message.contains("line 1: unknown key `colour`"), "{e}");
}

#[test]
fn a_bad_value_is_an_error_with_its_line() {
    for (line, bad, needle) in [
        ("tls = \"tls13\"", "tls13", "implicit, starttls, none"),
        ("auth = \"KERBEROS\"", "KERBEROS", "unknown mechanism"),
        ("timeout = -1", "timeout", "positive"),
        ("window = 0", "window", "at least 1"),
        ("pin = \"abc\"", "pin", "sha256"),
        ("url = \"http://x@y\"", "http", "pop3s://"),
        ("url = \"pop3s://a:pw@y\"", "password", "password_file"),
        ("port = 995", "port", "unknown key"),
    ] {
        let text = format!("[accounts.a]\nuser = \"u\"\n{line}\n");
        let e = file(&text, 0o600).unwrap_err();
        assert!(e.message.contains("line 3:"), "{line}: {e}");
        assert!(e.message.contains(bad) && e.message.contains(needle), "{line}: {e}");
    }
}

#[test]
fn a_stored_password_needs_mode_0600_or_stricter() {
    for mode in [0o644, 0o640, 0o604, 0o660, 0o100644] {
        let e = file(FULL, mode).unwrap_err();
        assert!(e.message.contains("[accounts.lab] stores a password"), "{e}");
        assert!(e.message.contains(&format!("mode is {:04o}", mode & 0o7777)), "{e}");
        assert!(e.message.contains("0600 or stricter"), "{e}");
        assert!(e.hint.as_deref().unwrap().contains("chmod 600 /cfg/config.toml"));
        assert!(!e.to_string().contains("hunter2"));
    }
    for mode in [0o600, 0o400, 0o100600] {
        assert!(file(FULL, mode).is_ok(), "{mode:o}");
    }
    let without = FULL.replace("password = \"hunter2\"", "password_file = \"/p\"");
    assert!(file(&without, 0o644).is_ok());
}

#[test]
fn the_default_must_name_an_account_and_one_secret_source_per_account() {
    let e = file("default = \"home\"\n[accounts.work]\nuser = \"u\"\n", 0o600).unwrap_err();
    assert!(e.message.contains("line 1: default = \"home\" names no account"), "{e}");
    assert!(e.message.contains("\"work\""), "{e}");
    let e = file("[accounts.w]\npassword_command = \"a\"\npassword_file = \"b\"\n", 0o600).unwrap_err();
    assert!(
        e.message.contains("sets both password_command and password_file"),
        "{e}"
    );
}

#[test]
fn a_home_relative_path_is_expanded() {
    let f = file("[accounts.w]\nca_file = \"~/ca.pem\"\n", 0o600).unwrap();
    let ca = f.account("w").unwrap().ca_file.clone().unwrap();
    match std::env::var_os("HOME") {
        Some(home) => assert_eq!(ca, PathBuf::from(home).join("ca.pem")),
        None => assert_eq!(ca, PathBuf::from("~/ca.pem")),
    }
}

/// A config file in a temp dir, and argv that points at it.
fn with_config(text: &str, words: &[&str]) -> Result<Cli, Invalid> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut argv: Vec<OsString> = vec!["popscope".into()];
    argv.extend(words.iter().map(OsString::from));
    argv.push("--config".into());
    argv.push(path.into_os_string());
    parse_argv(argv)
}

fn check_args(cli: Cli) -> crate::cli::ConnectArgs {
    match cli.command {
        Some(CliCommand::Check(args)) => args.connect,
        other => panic!("{other:?}"),
    }
}

const ACCOUNTS: &str = r#"
default = "work"
[accounts.work]
url = "pop3://alice@mail.example.org:1110"
user = "alice2"
tls = "none"
password_command = "pass show work"
timeout = 20
backup = "/backups"
[accounts.other]
url = "pop3s://carol@other.example.org"
"#;

#[test]
fn flags_beat_the_account_which_beats_the_defaults() {
    let args = check_args(with_config(ACCOUNTS, &["check", "-a", "work"]).ok().unwrap());
    let t = args.target().unwrap();
    assert_eq!(
        (t.host.as_str(), t.port, t.user.as_str()),
        ("mail.example.org", 1110, "alice2")
    );
    assert_eq!(t.tls, crate::session::TlsMode::None);
    assert_eq!(args.timeout, 20.0);
    assert_eq!(args.window, crate::session::DEFAULT_WINDOW);
    assert_eq!(args.password_command.as_deref(), Some("pass show work"));
    assert_eq!(args.backup.as_deref(), Some(Path::new("/backups")));
    assert_eq!(args.account.as_deref(), Some("work"));

    let args = check_args(
        with_config(
            ACCOUNTS,
            &[
                "check",
                "-a",
                "work",
                "--timeout",
                "5",
                "--user",
                "bob",
                "--tls",
                "starttls",
            ],
        )
        .ok()
        .unwrap(),
    );
    let t = args.target().unwrap();
    assert_eq!((t.user.as_str(), t.tls), ("bob", crate::session::TlsMode::Starttls));
    assert_eq!(args.timeout, 5.0);
}

#[test]
fn a_url_on_the_command_line_replaces_the_accounts_server_and_a_secret_source_its_secrets() {
    let args = check_args(
        with_config(
            ACCOUNTS,
            &[
                "check",
                "-a",
                "work",
                "pop3s://dave@elsewhere.example",
                "--password-file",
                "/pw",
            ],
        )
        .ok()
        .unwrap(),
    );
    let t = args.target().unwrap();
    assert_eq!(
        (t.host.as_str(), t.port, t.user.as_str(), t.tls),
        ("elsewhere.example", 995, "dave", crate::session::TlsMode::Implicit)
    );
    assert_eq!(args.password_command, None);
    assert_eq!(args.timeout, 20.0, "the account's other settings still apply");
}

#[test]
fn the_default_account_applies_only_when_no_server_is_named() {
    let cli = with_config(ACCOUNTS, &[]).ok().unwrap();
    assert_eq!(cli.connect.account.as_deref(), Some("work"));
    assert_eq!(cli.connect.url.as_deref(), Some("pop3://alice@mail.example.org:1110"));
    let args = check_args(with_config(ACCOUNTS, &["check", "pop3s://x@y"]).ok().unwrap());
    assert_eq!((args.account, args.password_command, args.timeout), (None, None, 30.0));
    let args = check_args(with_config(ACCOUNTS, &["check", "-a", "other"]).ok().unwrap());
    assert_eq!(args.target().unwrap().user, "carol");
    assert_eq!(args.password_command, None);
}

#[test]
fn an_unknown_account_or_a_missing_file_says_so() {
    let e = match with_config(ACCOUNTS, &["list", "-a", "nope"]) {
        Err(Invalid::Failure(f)) => f,
        other => panic!("{other:?}"),
    };
    assert!(
        e.message
            .contains("has no account \"nope\"; the accounts are \"other\", \"work\""),
        "{e}"
    );
    let missing =
        parse_argv(["popscope", "check", "-a", "w", "--config", "/nonexistent/popscope.toml"].map(OsString::from));
    match missing {
        Err(Invalid::Failure(f)) => assert!(
            f.message.contains("no config file at /nonexistent/popscope.toml"),
            "{f}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn merged_settings_show_sources_and_redact_secrets() {
    let f = file(FULL, 0o600).unwrap();
    let (_, merged) = account_args(&f, "lab", false).unwrap();
    let get = |key: &str| merged.iter().find(|m| m.key == key).unwrap().clone();
    assert_eq!(get("password").value.as_deref(), Some("******** (redacted)"));
    assert_eq!(get("password").source, merge::Source::Account);
    assert_eq!(get("url").source, merge::Source::Account);
    assert_eq!(get("window").source, merge::Source::Default);
    assert_eq!(get("window").value.as_deref(), Some("1000"));
    assert_eq!(get("ca_file").source, merge::Source::Unset);
    assert_eq!(merged.len(), Account::KEYS.len());
}

#[test]
fn every_command_that_connects_takes_an_account() {
    for words in [
        &["check", "-a", "work"][..],
        &["list", "-a", "work"],
        &["retr", "-a", "work", "-m", "1"],
        &["clean", "-a", "work", "--match", "subject:x", "--dry-run"],
        &["-a", "work"],
        &["-a", "work", "list"],
    ] {
        let mut cli = with_config(ACCOUNTS, words).ok().unwrap();
        let args = match cli.command.as_mut() {
            Some(command) => command.connect_args_mut().unwrap().clone(),
            None => cli.connect.clone(),
        };
        assert_eq!(args.account.as_deref(), Some("work"), "{words:?}");
        assert_eq!(args.timeout, 20.0, "{words:?}");
    }
    // And every subcommand that has connection options reaches them.
    for sub in Cli::command().get_subcommands() {
        let has_url = sub.get_arguments().any(|a| a.get_id() == "url");
        let has_account = sub.get_arguments().any(|a| a.get_id() == "account");
        assert!(!has_url || has_account, "{}", sub.get_name());
    }
}
