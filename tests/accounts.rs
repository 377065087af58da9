//! Accounts, `config`, `survey`, completions, the manual, the command
//! line's wording and `list`'s output, through the popscope binary as a person or a script
//! runs it. Every run gets its own config directory (XDG_CONFIG_HOME in a
//! temp dir, no inherited POPSCOPE_* variable), stdin from /dev/null and
//! output to files (so nothing is a terminal), and a hard time limit. The
//! tests that log in start their own Dovecot (tests/support/dovecot.rs).

mod support;

use serde_json::Value;
use std::fs;
use std::io::{Read, Seek};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::binary_run::Run;
use support::dovecot::Dovecot;
use support::maildrop;
use support::raw_pop3::RawPop3;

const USER: &str = "alice";
const PASSWORD: &str = "Acc0unt-Secret-pw!";
/// A locked maildrop costs Dovecot's fixed 10 s lock wait.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

impl Run {
    fn assert_no_password(&self) -> &Run {
        for text in [&self.stdout, &self.stderr] {
            assert!(!text.contains(PASSWORD), "the password leaked\n{}", self.describe());
        }
        self
    }

    /// The `check` line that names the target: `popscope check USER@HOST:PORT (MODE)`.
    fn target_line(&self) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with("popscope check "))
            .unwrap_or_else(|| panic!("no target line\n{}", self.describe()))
    }
}

/// A place for config files; XDG_CONFIG_HOME points here, so a run never
/// sees the real ~/.config.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Writes `text` as `name` with permission bits `mode`; returns its path.
    fn file(&self, name: &str, text: &str, mode: u32) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join(name);
        fs::write(&path, text).expect("write file");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        path.display().to_string()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs popscope with `args` and extra environment `env`.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_program(env!("CARGO_BIN_EXE_popscope"), args, env)
    }

    /// Runs `program` (popscope, or a shell around it) the same way.
    fn run_program(&self, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut stdout = tempfile::tempfile().expect("stdout file");
        let mut stderr = tempfile::tempfile().expect("stderr file");
        let mut command = Command::new(program);
        command.args(args);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("POPSCOPE_") {
                command.env_remove(name);
            }
        }
        command
            .env("XDG_CONFIG_HOME", self.path())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().expect("dup"))
            .stderr(stderr.try_clone().expect("dup"));
        let mut child = command.spawn().expect("spawn popscope");
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let read = |file: &mut fs::File| {
            let mut bytes = Vec::new();
            file.rewind().expect("rewind");
            file.read_to_end(&mut bytes).expect("read");
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let run = Run {
            code: status.and_then(|s| s.code()),
            stdout: read(&mut stdout),
            stderr: read(&mut stderr),
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        assert!(
            status.is_some(),
            "popscope was killed after {RUN_TIMEOUT:?}\n{}",
            run.describe()
        );
        run
    }
}

/// A loopback port nothing listens on.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

// ---------------------------------------------------------------------------
// The config file, without a server

#[test]
fn flags_beat_environment_variables_beat_the_account_beats_the_url() {
    let home = Home::new();
    let port = dead_port();
    let config = home.file(
        "config.toml",
        &format!(
            "[accounts.w]\nurl = \"pop3://urluser@127.0.0.1:{port}\"\nuser = \"acctuser\"\ntls = \"none\"\n\
             password_command = \"echo pw\"\n"
        ),
        0o600,
    );
    let base = ["check", "-a", "w", "--config", config.as_str()];
    let with = |extra: &[&'static str], env: &[(&str, &str)]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        home.run(&args, env)
    };
    let env = [("POPSCOPE_USER", "envuser")];
    let run = with(&["--user", "flaguser"], &env);
    run.assert_exit(3);
    assert_eq!(
        run.target_line(),
        format!("popscope check flaguser@127.0.0.1:{port} (no TLS)")
    );
    let run = with(&[], &env);
    assert_eq!(
        run.target_line(),
        format!("popscope check envuser@127.0.0.1:{port} (no TLS)")
    );
    let run = with(&[], &[]);
    assert_eq!(
        run.target_line(),
        format!("popscope check acctuser@127.0.0.1:{port} (no TLS)")
    );
    // The account's tls beats the URL's scheme (pop3:// = STLS); a flag beats both.
    let run = with(&["--tls", "starttls"], &[]);
    assert_eq!(
        run.target_line(),
        format!("popscope check acctuser@127.0.0.1:{port} (STLS)")
    );
    run.assert_exit(3).assert_stderr_has("connection failed");
}

#[test]
fn config_check_shows_each_setting_and_where_it_came_from() {
    let home = Home::new();
    fs::create_dir_all(home.path().join("popscope")).expect("mkdir");
    home.file(
        "popscope/config.toml",
        &format!(
            "default = \"work\"\n[accounts.work]\nurl = \"pop3s://alice@mail.example.org\"\npassword = \"{PASSWORD}\"\n\
             timeout = 20\nwindow = 50\nbackup = \"/var/backups/mail\"\n"
        ),
        0o600,
    );
    // The default location: $XDG_CONFIG_HOME/popscope/config.toml.
    let run = home.run(&["config"], &[("POPSCOPE_TIMEOUT", "7")]);
    run.assert_exit(0).assert_no_password();
    let line = |key: &str| {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key}\n{}", run.describe()))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("server"), "server alice@mail.example.org:995, implicit TLS");
    assert_eq!(line("timeout"), "timeout 7 (environment)");
    assert_eq!(line("window"), "window 50 (account)");
    assert_eq!(line("starttls"), "starttls required (default)");
    assert_eq!(line("password"), "password ******** (redacted) (account)");
    assert_eq!(line("backup"), "backup /var/backups/mail (account)");
    assert_eq!(line("pin"), "pin -");
    run.assert_stdout_has("default account: work")
        .assert_stdout_has("precedence: command-line flags > POPSCOPE_* variables > the account > defaults");
    let names = home.run(&["config", "accounts"], &[]);
    names.assert_exit(0);
    assert_eq!(names.stdout, "work\n");
}

#[test]
fn a_password_in_a_file_others_can_read_is_refused_and_says_why() {
    let home = Home::new();
    let text = format!("[accounts.w]\nurl = \"pop3s://alice@h.example\"\npassword = \"{PASSWORD}\"\n");
    let config = home.file("config.toml", &text, 0o644);
    for args in [
        vec!["config", "--config", &config],
        vec!["check", "-a", "w", "--config", &config],
    ] {
        home.run(&args, &[])
            .assert_exit(2)
            .assert_stderr_has(
                "[accounts.w] stores a password, but the file's mode is 0644, so other users can read it",
            )
            .assert_stderr_has("needs mode 0600 or stricter")
            .assert_stderr_has(&format!("chmod 600 {config}"))
            .assert_no_password();
    }
    let config = home.file("config.toml", &text, 0o600);
    home.run(&["config", "--config", &config], &[])
        .assert_exit(0)
        .assert_no_password();
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let home = Home::new();
    let config = home.file(
        "config.toml",
        "[accounts.w]\nurl = \"pop3s://alice@h.example\"\n\npasword_file = \"/x\"\n",
        0o600,
    );
    for args in [
        vec!["config", "--config", &config],
        vec!["list", "-a", "w", "--config", &config],
    ] {
        home.run(&args, &[])
            .assert_exit(2)
            .assert_stderr_has(&format!("{config} line 4: unknown key `pasword_file`, expected one of"));
    }
}

#[test]
fn a_mistyped_command_is_called_unknown_with_a_suggestion() {
    let home = Home::new();
    let run = home.run(&["chek", "pop3s://alice@mail.example.org"], &[]);
    run.assert_exit(2)
        .assert_stderr_has("unknown command \"chek\"; did you mean \"check\"?")
        .assert_stderr_has("try: popscope check pop3s://alice@mail.example.org");
    assert!(!run.stderr.contains("cannot be used with"), "{}", run.describe());
}

#[test]
fn the_inspector_without_a_terminal_says_so() {
    let home = Home::new();
    for args in [vec![], vec!["pop3s://alice@mail.example.org"], vec!["demo"]] {
        let run = home.run(&args, &[("POPSCOPE_PASSWORD", PASSWORD)]);
        run.assert_exit(2)
            .assert_stderr_has("the inspector needs a terminal; use `popscope list` in scripts");
        assert!(!run.stderr.contains("os error"), "{}", run.describe());
    }
}

#[test]
fn man_and_completions_come_from_the_binary() {
    let home = Home::new();
    let man = home.run(&["man"], &[]);
    man.assert_exit(0)
        .assert_stdout_has(".SH COMMANDS")
        .assert_stdout_has(".SH KEYS");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = home.run(&["completions", shell], &[]);
        run.assert_exit(0).assert_stdout_has("survey");
    }
    home.run(&["completions", "tcsh"], &[]).assert_exit(2);
}

#[test]
fn bash_completion_offers_the_config_files_account_names() {
    let Ok(bash) = which("bash") else {
        eprintln!("*** SKIPPED: no bash ***");
        return;
    };
    let home = Home::new();
    let config = home.file(
        "config.toml",
        "[accounts.work]\nuser = \"a\"\n[accounts.home]\nuser = \"b\"\n[accounts.lab]\nuser = \"c\"\n",
        0o600,
    );
    let script = home.run(&["completions", "bash"], &[]);
    let script_path = home.file("popscope.bash", &script.stdout, 0o644);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_popscope"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let complete = |words: &str, cword: usize| {
        let program = format!(
            "source {script_path}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; \
             _popscope_with_accounts popscope \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\" | sort"
        );
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        let output = Command::new(&bash)
            .args(["--norc", "-c", &program])
            .env("PATH", path)
            .env("POPSCOPE_CONFIG", &config)
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(complete("popscope check -a ''", 3), "home\nlab\nwork\n");
    assert_eq!(complete("popscope list --account h", 3), "home\n");
    assert_eq!(complete("popscope che", 1), "check\n");
}

fn which(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(program))
                .find(|p| p.is_file())
        })
        .ok_or(())
}

// ---------------------------------------------------------------------------
// With Dovecot

/// A message whose Date is `days_ago` days before now.
fn message(subject: &str, days_ago: u64) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let date = popscope::testmail::dates::format_date((now - days_ago * 86_400) as i64, 0);
    format!("From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: {subject}\nDate: {date}\n\nHello.\n")
        .into_bytes()
}

/// Dovecot with alice and messages aged `ages` days (message 1 first).
fn dovecot(ages: &[u64]) -> Dovecot {
    let dc = Dovecot::builder().user(USER, PASSWORD).start();
    dc.deliver_many(
        USER,
        ages.iter()
            .enumerate()
            .map(|(i, days)| message(&format!("message {i}"), *days)),
    );
    dc
}

/// An `[accounts.NAME]` table for `dc` over implicit TLS, its certificate
/// trusted with ca_file and the password in a file.
fn account(home: &Home, name: &str, dc: &Dovecot) -> String {
    let password_file = home.file(&format!("{name}.password"), PASSWORD, 0o600);
    format!(
        "[accounts.{name}]\nurl = \"pop3s://{USER}@localhost:{}\"\nca_file = \"{}\"\npassword_file = \"{password_file}\"\n\n",
        dc.pop3s_port(),
        dc.cert_pem_path().display()
    )
}

#[test]
fn every_command_takes_an_account() {
    require_dovecot!();
    let dc = dovecot(&[3, 2, 1]);
    let home = Home::new();
    let config = home.file(
        "config.toml",
        &format!("default = \"dc\"\n{}", account(&home, "dc", &dc)),
        0o600,
    );
    let c = config.as_str();
    home.run(&["check", "-a", "dc", "--config", c], &[])
        .assert_exit(0)
        .assert_stdout_has("OK: every step passed")
        .assert_stdout_has(" 3 messages, ");
    let list = home.run(&["list", "-a", "dc", "--config", c, "--json"], &[]);
    list.assert_exit(0);
    let subjects: Vec<String> = list
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON line")["subject"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(subjects, ["message 0", "message 1", "message 2"]);
    home.run(&["retr", "-a", "dc", "--config", c, "-m", "2"], &[])
        .assert_exit(0)
        .assert_stdout_has("Subject: message 1\r\n");
    let maildir = home.path().join("fetched").display().to_string();
    home.run(&["fetch", "-a", "dc", "--config", c, "--to", &maildir], &[])
        .assert_exit(0)
        .assert_stdout_has("fetched 3 messages");
    // No server named: the default account.
    home.run(&["check", "--config", c], &[])
        .assert_exit(0)
        .assert_stdout_has("OK: every step passed");
    // The inspector takes it too (and then needs a terminal, which a test has not).
    home.run(&["-a", "dc", "--config", c], &[])
        .assert_exit(2)
        .assert_stderr_has("needs a terminal");
    home.run(&["-a", "nope", "--config", c], &[])
        .assert_exit(2)
        .assert_stderr_has("has no account \"nope\"");
    assert_eq!(dc.maildir_files(USER).len(), 3, "nothing was deleted");
}

#[test]
fn survey_shows_two_servers_and_a_dead_port_failure_first() {
    require_dovecot!();
    let young = dovecot(&[2, 1]);
    let old = dovecot(&[40, 30, 20, 10, 1]);
    let home = Home::new();
    let text = format!(
        "{}{}[accounts.dead]\nurl = \"pop3s://{USER}@127.0.0.1:{}\"\npassword_command = \"echo x\"\n",
        account(&home, "young", &young),
        account(&home, "old", &old),
        dead_port()
    );
    let config = home.file("config.toml", &text, 0o600);
    let run = home.run(&["survey", "--config", &config], &[]);
    run.assert_exit(3)
        .assert_no_password()
        .assert_stderr_has("3 accounts: 2 ok, 1 failed");
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(rows.len(), 4, "{}", run.describe());
    assert!(rows[0].starts_with("ACCOUNT"), "{}", run.describe());
    let first_word = |line: &str| line.split_whitespace().next().unwrap_or("").to_string();
    assert_eq!(
        rows[1..].iter().map(|r| first_word(r)).collect::<Vec<_>>(),
        ["dead", "old", "young"],
        "failures first, then the oldest mail\n{}",
        run.describe()
    );
    assert!(
        rows[1].contains("FAILED") && rows[1].contains("connection failed"),
        "{}",
        run.describe()
    );
    for (row, count, oldest) in [(rows[2], "5", "40d"), (rows[3], "2", "2d")] {
        let cells: Vec<&str> = row.split_whitespace().collect();
        for cell in ["ok", "SCRAM-SHA-256", count, oldest] {
            assert!(cells.contains(&cell), "{cell} missing in {row:?}\n{}", run.describe());
        }
        assert!(row.contains("TLS 1."), "{row}");
    }

    let json = home.run(&["survey", "--config", &config, "--json"], &[]);
    json.assert_exit(3);
    let rows: Value = serde_json::from_str(&json.stdout).expect("one JSON array");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[0]["account"].as_str(), rows[0]["state"].as_str()),
        (Some("dead"), Some("failed"))
    );
    assert_eq!(rows[0]["error"]["exit_code"], 3);
    assert_eq!(
        (rows[1]["messages"].as_u64(), rows[2]["messages"].as_u64()),
        (Some(5), Some(2))
    );
    let octets: u64 = [2, 1]
        .iter()
        .enumerate()
        .map(|(i, days)| maildrop::virtual_size(&message(&format!("message {i}"), *days)))
        .sum();
    assert_eq!(rows[2]["bytes"].as_u64(), Some(octets), "STAT's size");
    let age = rows[1]["oldest_age_seconds"].as_i64().expect("age");
    assert!((40 * 86_400 - 60..=40 * 86_400 + 3_600).contains(&age), "{age}");
    assert!(rows[1]["cert_expires_days"].as_i64().expect("cert days") > 0);
    assert!(rows[1]["login_ms"].as_u64().is_some());

    // Only some accounts, by name.
    let two = home.run(&["survey", "--config", &config, "-a", "young", "-a", "old"], &[]);
    two.assert_exit(0).assert_stderr_has("2 accounts: 2 ok");
    home.run(&["survey", "--config", &config, "-a", "young", "-a", "nope"], &[])
        .assert_exit(2)
        .assert_stderr_has("has no account \"nope\"");
    assert_eq!(
        (young.maildir_files(USER).len(), old.maildir_files(USER).len()),
        (2, 5),
        "nothing deleted"
    );
}

#[test]
fn survey_shows_a_locked_maildrop() {
    require_dovecot!();
    let dc = dovecot(&[1]);
    let home = Home::new();
    let config = home.file("config.toml", &account(&home, "busy", &dc), 0o600);
    let holder = RawPop3::login(dc.pop3_port(), USER, PASSWORD);
    let run = home.run(&["survey", "--config", &config, "--json"], &[]);
    drop(holder);
    run.assert_exit(6);
    let rows: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(rows[0]["state"], "unavailable", "{}", run.describe());
    assert_eq!(
        (rows[0]["code"].as_str(), rows[0]["locked"].as_bool()),
        (Some("IN-USE"), Some(true))
    );
    assert!(rows[0]["tls_version"].as_str().is_some_and(|v| v.starts_with("TLS 1.")));
}

// ---------------------------------------------------------------------------
// list's output

/// Messages in the maildrop for `list | head`: their rows are well over a
/// pipe's 64 KiB, so the pipe closes while popscope is still writing.
const LIST_MESSAGES: usize = 2_000;

#[test]
fn list_into_head_counts_the_whole_maildrop_and_exits_0() {
    require_dovecot!();
    let dc = Dovecot::builder().user(USER, PASSWORD).start();
    dc.deliver_many(USER, (0..LIST_MESSAGES).map(maildrop::ordinary));
    let octets: u64 = (0..LIST_MESSAGES)
        .map(|i| maildrop::virtual_size(&maildrop::ordinary(i)))
        .sum();
    let url = format!("pop3s://{USER}@localhost:{}", dc.pop3s_port());
    let ca = dc.cert_pem_path().display().to_string();
    let home = Home::new();
    // bash reports popscope's own exit status, not head's.
    let script = "\"$0\" list \"$1\" --ca-file \"$2\" | head -n 3; exit \"${PIPESTATUS[0]}\"";
    let bin = env!("CARGO_BIN_EXE_popscope");
    let run = home.run_program(
        "bash",
        &["-c", script, bin, &url, &ca],
        &[("POPSCOPE_PASSWORD", PASSWORD)],
    );
    run.assert_exit(0).assert_stderr_has(&format!(
        "{LIST_MESSAGES} messages, {}",
        popscope::text::human_size(octets)
    ));
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.describe());
    assert!(
        run.stdout.starts_with("     1  "),
        "no header row into a pipe\n{}",
        run.describe()
    );
    assert!(!run.stderr.to_lowercase().contains("broken pipe"), "{}", run.describe());

    let env = [("POPSCOPE_PASSWORD", PASSWORD)];
    let array = home.run(&["list", &url, "--ca-file", &ca, "--json-array"], &env);
    array.assert_exit(0);
    let rows: Value = serde_json::from_str(&array.stdout).expect("one JSON array");
    assert_eq!(rows.as_array().map(Vec::len), Some(LIST_MESSAGES));
    let exact = home.run(&["list", &url, "--ca-file", &ca, "--bytes"], &env);
    let first_size = maildrop::virtual_size(&maildrop::ordinary(0)).to_string();
    let first = exact.stdout.lines().next().unwrap_or("");
    assert!(first.split_whitespace().any(|cell| cell == first_size), "{first:?}");
    home.run(&["list", &url, "--json", "--json-array"], &env).assert_exit(2);
}
