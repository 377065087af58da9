//! End-to-end tests of the real `popscope` binary in a real terminal.
//!
//! tmux is the terminal: every test starts its own tmux server (a unique
//! `-L` socket, no user config) whose single pane runs popscope through
//! `sh -c`, types with `send-keys` (one key per call) and reads the screen
//! with `capture-pane`. The server side is a private Dovecot
//! (`support::dovecot`) holding `maildrop::mixed_maildrop(40)`, and what is
//! left on it afterwards is checked with the independent `RawPop3` client
//! (and Dovecot's own log says whether the session ended with QUIT).
//!
//! Nothing here sleeps to wait: every wait polls the screen (or the log)
//! until a condition holds on a settled screen (unchanged for `SETTLE`)
//! and panics after `WAIT` showing the last screen.
//!
//! The shell command in the pane is
//! `popscope ...; echo "EXIT:$?"; <tty mode>; sleep 300`, so popscope's last
//! line, its exit code and whether it left the tty in raw mode stay on
//! screen after it exits.
//!
//! Availability: like `require_dovecot!()`, a missing tmux panics when `$CI`
//! is set and otherwise skips the test with a loud line on stderr.

mod support;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use support::cut_proxy::CutProxy;
use support::dovecot::Dovecot;
use support::maildrop;
use support::raw_pop3::RawPop3;

/// alice's password; popscope gets it from `POPSCOPE_PASSWORD`.
const PASSWORD: &str = "e2e-Secret-42";
/// Messages in the maildrop.
const MESSAGES: usize = 40;
/// Terminal size of every pane.
const COLS: u16 = 120;
const ROWS: u16 = 32;
/// How long any single wait may take.
const WAIT: Duration = Duration::from_secs(20);
/// Poll interval while waiting (not a wait in itself).
const POLL: Duration = Duration::from_millis(40);
/// How long the pane must stay unchanged to count as settled. Long enough
/// to outlast a frame written in pieces by a descheduled process on a busy
/// machine (`scripts/e2e-under-load`).
const SETTLE: Duration = Duration::from_millis(200);
/// Marker the pane's shell prints after popscope exits.
const EXIT_MARK: &str = "EXIT:";

// ---------------------------------------------------------------------------
// tmux availability

fn tmux_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("tmux"))
        .find(|p| p.is_file())
}

/// The availability rule for tmux, the same as `dovecot_or_skip`: true if
/// tmux is installed; if not, panics when `$CI` is set, else prints a loud
/// SKIPPED line and returns false.
fn tmux_or_skip() -> bool {
    if tmux_binary().is_some() {
        return true;
    }
    let current = std::thread::current();
    let test = current.name().unwrap_or("e2e_tui");
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("CI is set but tmux is not installed: apt-get install -y tmux (needed by {test})");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: tmux not installed ({test}); apt-get install -y tmux to run it ***"
    );
    false
}

/// First statements of every test here: Dovecot and tmux must be there.
macro_rules! require_terminal_and_dovecot {
    () => {
        require_dovecot!();
        if !tmux_or_skip() {
            return;
        }
    };
}

// ---------------------------------------------------------------------------
// A tmux server with one pane

static SEQ: AtomicU32 = AtomicU32::new(0);

/// One private tmux server (own socket) with one session `s` of
/// `COLS`x`ROWS`. Killed on drop.
struct Tmux {
    socket: String,
    // The server's socket file, removed on drop (tmux leaves it behind).
    socket_path: Option<PathBuf>,
    // Holds the tmux config file; removed after the server is killed.
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts a server whose only pane runs `cmd` (through the shell).
    fn start(name: &str, cmd: &str) -> Tmux {
        let dir = tempfile::Builder::new()
            .prefix("popscope-e2e-tmux-")
            .tempdir()
            .expect("temp dir for tmux config");
        let config = dir.path().join("tmux.conf");
        // set-clipboard on: an OSC 52 that got through would become a tmux
        // paste buffer, which `paste_buffers` can see.
        std::fs::write(&config, "set -s set-clipboard on\nset -g status off\n").expect("write tmux.conf");
        let socket = format!(
            "popscope-e2e-{}-{}-{name}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let mut tmux = Tmux {
            socket,
            socket_path: None,
            _dir: dir,
        };
        let cols = COLS.to_string();
        let rows = ROWS.to_string();
        let config = config.to_str().expect("utf-8 temp path");
        let mut command = Command::new("tmux");
        command
            .args(["-f", config, "-L", &tmux.socket])
            .args(["new-session", "-d", "-x", &cols, "-y", &rows, "-s", "s", cmd])
            .env_remove("TMUX");
        // The server passes its environment on to the pane: no POPSCOPE_*
        // setting of whoever runs the tests may change what popscope does.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("POPSCOPE_") {
                command.env_remove(name);
            }
        }
        let out = command.output().expect("run tmux");
        assert!(out.status.success(), "tmux new-session failed: {}", describe(&out));
        tmux.socket_path = Some(PathBuf::from(tmux.format("#{socket_path}")));
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "tmux {args:?} failed: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen as text, one line per row (trailing blanks cut).
    fn screen(&self) -> String {
        self.run_ok(&["capture-pane", "-p", "-t", "s"])
    }

    /// The visible screen with wrapped lines joined (for shell output).
    fn screen_joined(&self) -> String {
        self.run_ok(&["capture-pane", "-p", "-J", "-t", "s"])
    }

    /// The visible screen with colours and attributes as escape sequences.
    fn screen_styled(&self) -> String {
        self.run_ok(&["capture-pane", "-p", "-e", "-t", "s"])
    }

    /// The whole pane: its scrollback and the visible screen.
    fn history(&self) -> String {
        self.run_ok(&["capture-pane", "-p", "-S", "-", "-t", "s"])
    }

    /// Resizes the window (and its only pane), as a terminal window would.
    fn resize(&self, cols: u16, rows: u16) {
        self.run_ok(&[
            "resize-window",
            "-t",
            "s",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
        ]);
    }

    /// A tmux format (`#{...}`) evaluated for the pane.
    fn format(&self, format: &str) -> String {
        self.run_ok(&["display-message", "-p", "-t", "s", format])
            .trim_end()
            .to_string()
    }

    /// tmux's paste buffers (an OSC 52 that reached tmux makes one).
    fn paste_buffers(&self) -> String {
        // Exit status is not checked: no buffers is not an error.
        String::from_utf8_lossy(&self.run(&["list-buffers"]).stdout).into_owned()
    }

    /// Sends one key (tmux key name or a single character).
    fn send(&self, key: &str) {
        self.run_ok(&["send-keys", "-t", "s", key]);
    }

    /// Types `text` as it is (tmux's literal mode: no key names).
    fn type_text(&self, text: &str) {
        self.run_ok(&["send-keys", "-t", "s", "-l", text]);
    }

    /// Waits until `ok` holds on a settled screen: the pane unchanged for
    /// `SETTLE` (a frame caught half drawn, or the moment between two
    /// frames, is never judged); panics after `WAIT` with the last screen.
    /// Returns the screen that satisfied it. Every wait goes through here.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = self.screen();
        let mut unchanged_since = Instant::now();
        loop {
            if unchanged_since.elapsed() >= SETTLE && ok(&last) {
                return last;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {WAIT:?} waiting for {what} on a settled screen\n--- last screen ---\n{last}\n--- end of screen ---"
                );
            }
            std::thread::sleep(POLL);
            let now = self.screen();
            if now != last {
                last = now;
                unchanged_since = Instant::now();
            }
        }
    }

    /// Sends `key` and waits until the screen differs from what it was
    /// before (needed after Esc: ESC quickly followed by a letter reads as
    /// Alt+letter) and has settled (a frame may be caught half drawn).
    /// Returns the new screen.
    fn send_and_wait_change(&self, key: &str) -> String {
        let before = self.settled();
        self.send(key);
        self.wait_for(&format!("the screen to change after {key}"), |s| s != before);
        self.settled()
    }

    /// The screen once it stayed the same for `SETTLE`.
    fn settled(&self) -> String {
        self.wait_for("the screen to settle", |_| true)
    }

    /// Waits until popscope has exited and the shell printed `EXIT:<code>`;
    /// returns the (joined) screen and the exit code.
    fn wait_exit(&self) -> (String, i32) {
        self.wait_for("popscope to exit (the EXIT: line)", |s| exit_code(s).is_some());
        let screen = self.screen_joined();
        let code = exit_code(&screen).expect("EXIT line vanished");
        (screen, code)
    }

    /// The pid of the pane's shell.
    fn pane_pid(&self) -> u32 {
        self.format("#{pane_pid}").parse().expect("pane_pid is a number")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn describe(out: &Output) -> String {
    format!(
        "{}; stdout {:?}; stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The code from the shell's `EXIT:<code>` line, once it is on screen.
fn exit_code(screen: &str) -> Option<i32> {
    screen
        .lines()
        .filter_map(|l| l.trim().strip_prefix(EXIT_MARK))
        .find_map(|rest| rest.trim().parse().ok())
}

/// Row `n` (0-based) of a captured screen.
fn row(screen: &str, n: u16) -> &str {
    screen.lines().nth(n as usize).unwrap_or("")
}

/// The status bar: the last row.
fn status_bar(screen: &str) -> &str {
    row(screen, ROWS - 1)
}

/// The list row of message `n` (2-column number field), if visible:
/// `Some(true)` when it shows the `D` mark.
fn row_marked(screen: &str, n: usize) -> Option<bool> {
    let prefix = format!("│{n:<2} ");
    screen
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.starts_with('D'))
}

/// Children of `pid` called `name` (from /proc).
fn children_named(pid: u32, name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if comm == name && ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

// ---------------------------------------------------------------------------
// One popscope run against a private Dovecot

/// How popscope connects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// pop3s:// (implicit TLS)
    Pop3s,
    /// pop3:// (upgraded with STLS)
    Pop3Stls,
}

/// A Dovecot with alice's 40 messages and popscope running on it in tmux.
/// Field order matters: tmux (and popscope in it) goes before Dovecot.
struct Run {
    tmux: Tmux,
    dovecot: Dovecot,
}

impl Run {
    fn start(name: &str, scheme: Scheme) -> Run {
        Run::start_after(name, scheme, |_| {})
    }

    /// Like `start`, running `before` on the filled Dovecot before popscope
    /// starts (e.g. to read the UIDL while nobody holds the lock).
    fn start_after(name: &str, scheme: Scheme, before: impl FnOnce(&Dovecot)) -> Run {
        Run::start_with(name, scheme, "", before)
    }

    /// Like `start_after`, with more arguments for popscope.
    fn start_with(name: &str, scheme: Scheme, extra: &str, before: impl FnOnce(&Dovecot)) -> Run {
        Run::start_on(name, scheme, extra, &maildrop::mixed_maildrop(MESSAGES), before)
    }

    /// Like `start_with`, on a maildrop of `messages` instead of the 40.
    fn start_on(name: &str, scheme: Scheme, extra: &str, messages: &[Vec<u8>], before: impl FnOnce(&Dovecot)) -> Run {
        let dovecot = Dovecot::builder().user("alice", PASSWORD).start();
        let n = dovecot.deliver_many("alice", messages);
        assert_eq!(n, messages.len());
        before(&dovecot);
        let url = match scheme {
            Scheme::Pop3s => format!("pop3s://alice@localhost:{}", dovecot.pop3s_port()),
            Scheme::Pop3Stls => format!("pop3://alice@localhost:{}", dovecot.pop3_port()),
        };
        let cmd = pane_command(
            &format!("POPSCOPE_PASSWORD={PASSWORD}"),
            &format!("{url} --ca-file {} {extra}", shell_quote(dovecot.cert_pem_path())),
        );
        let tmux = Tmux::start(name, &cmd);
        Run { tmux, dovecot }
    }

    /// Waits for the list: 40 messages in the status bar, every header
    /// loaded (no `headers n/m` progress) and message 1's subject shown.
    fn wait_list(&self) -> String {
        let first_subject = maildrop::ordinary_meta(0).subject;
        self.tmux
            .wait_for("the list with 40 messages and all headers loaded", |s| {
                let status = status_bar(s);
                status.contains(" ● connected ")
                    && status.contains(&format!("{MESSAGES} msgs"))
                    && !status.contains("headers ")
                    && s.contains(&first_subject)
            })
    }

    /// Moves the selection down once and waits for the preview to show
    /// message `expect`.
    fn down_to(&self, expect: usize) -> String {
        self.tmux.send("j");
        self.wait_preview(expect)
    }

    fn up_to(&self, expect: usize) -> String {
        self.tmux.send("k");
        self.wait_preview(expect)
    }

    fn wait_preview(&self, number: usize) -> String {
        let label = format!("Number/UID  {number} / ");
        self.tmux
            .wait_for(&format!("the preview of message {number}"), |s| s.contains(&label))
    }

    /// Waits for the status bar to count `n` marked messages (none: no
    /// "marked" part at all).
    fn wait_marked(&self, n: usize) -> String {
        self.tmux
            .wait_for(&format!("{n} marked messages in the status bar"), |s| {
                let status = status_bar(s);
                if n == 0 {
                    !status.contains(" marked (")
                } else {
                    status.contains(&format!(" {n} marked ("))
                }
            })
    }

    /// From a loaded list with message 1 selected: moves to message 3 and
    /// does `mark_3_and_4_unmark_4`.
    fn select_3_mark_3_and_4_unmark_4(&self) {
        self.down_to(2);
        self.down_to(3);
        self.mark_3_and_4_unmark_4();
    }

    /// With message 3 selected: marks 3 and 4 (`d` moves down), goes back
    /// to 4 and unmarks it. Leaves message 3 marked and 4 selected.
    fn mark_3_and_4_unmark_4(&self) {
        self.tmux.send("d");
        let s = self.wait_marked(1);
        assert_eq!(row_marked(&s, 3), Some(true), "message 3 shows D:\n{s}");
        self.wait_preview(4);
        self.tmux.send("d");
        let s = self.wait_marked(2);
        assert_eq!(row_marked(&s, 4), Some(true), "message 4 shows D:\n{s}");
        self.wait_preview(5);
        self.up_to(4);
        self.tmux.send("u");
        let s = self.wait_marked(1);
        assert_eq!(row_marked(&s, 3), Some(true), "message 3 still marked:\n{s}");
        assert_eq!(row_marked(&s, 4), Some(false), "message 4 unmarked:\n{s}");
    }

    /// Pid of the popscope process in the pane.
    fn popscope_pid(&self) -> u32 {
        let shell = self.tmux.pane_pid();
        let deadline = Instant::now() + WAIT;
        loop {
            let pids = children_named(shell, "popscope");
            if let [pid] = pids[..] {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "no single popscope child of {shell}: {pids:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// After popscope exited: a fresh session on the maildrop (popscope's
    /// lock is gone, so this does not wait for `[IN-USE]`).
    fn check_session(&self) -> RawPop3 {
        RawPop3::login(self.dovecot.pop3_port(), "alice", PASSWORD)
    }

    /// Dovecot's `Disconnected:` lines for alice's POP3 sessions, waiting
    /// until there are `count` of them.
    fn disconnects(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let log = std::fs::read_to_string(self.dovecot.log_path()).unwrap_or_default();
            let lines: Vec<String> = log
                .lines()
                .filter(|l| l.contains("pop3(alice)") && l.contains("Disconnected"))
                .map(str::to_owned)
                .collect();
            if lines.len() >= count {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "Dovecot logged {} POP3 disconnects, expected {count}\n{}",
                lines.len(),
                self.dovecot.log_tail()
            );
            std::thread::sleep(POLL);
        }
    }
}

/// The pane's shell command: popscope, then the exit code, then whether the
/// tty was left in raw mode (`-icanon`), then a long sleep so the screen
/// stays capturable.
fn pane_command(env: &str, popscope_args: &str) -> String {
    let bin = shell_quote(Path::new(env!("CARGO_BIN_EXE_popscope")));
    format!(
        "{env} {bin} {popscope_args}; echo \"{EXIT_MARK}$?\"; \
         case \"$(stty -a)\" in *-icanon*) echo TTY:raw;; *) echo TTY:cooked;; esac; sleep 300"
    )
}

fn shell_quote(p: &Path) -> String {
    let s = p.to_str().expect("utf-8 path");
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// UIDL of the maildrop (and the session is closed with a QUIT that
/// deletes nothing).
fn uidl(port: u16) -> Vec<(u32, String)> {
    let mut pop = RawPop3::login(port, "alice", PASSWORD);
    let list = pop.uidl();
    pop.quit().expect("QUIT");
    list
}

/// Asserts what a terminal restored by popscope looks like after it left:
/// the normal screen, cursor shown, mouse reporting off, tty not raw.
fn assert_terminal_restored(tmux: &Tmux, screen: &str) {
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "0",
        "popscope left the alternate screen on\n{screen}"
    );
    assert_eq!(tmux.format("#{cursor_flag}"), "1", "cursor left hidden\n{screen}");
    assert_eq!(
        tmux.format("#{mouse_any_flag}"),
        "0",
        "mouse reporting left on\n{screen}"
    );
    let tty = tmux.wait_for("the TTY: line", |s| s.contains("TTY:"));
    assert!(tty.contains("TTY:cooked"), "tty left in raw mode\n{tty}");
}

// ---------------------------------------------------------------------------
// Tests

/// a. Browse, read, mark two, unmark one, commit: exactly that message is
/// deleted on the server.
#[test]
fn browse_read_mark_and_commit_one_deletion() {
    require_terminal_and_dovecot!();
    let mut dovecot_uidl = Vec::new();
    // The UIDL before popscope logs in (this session's QUIT deletes nothing).
    let run = Run::start_after("commit", Scheme::Pop3s, |d| dovecot_uidl = uidl(d.pop3_port()));
    assert_eq!(dovecot_uidl.len(), MESSAGES);
    let t = &run.tmux;

    let s = run.wait_list();
    let status = status_bar(&s);
    assert!(status.contains("TLS 1.3 verified"), "status bar: {status:?}");
    assert!(
        status.contains(&format!("localhost:{}", run.dovecot.pop3s_port())),
        "{status:?}"
    );
    assert!(s.contains(" Messages · 40 "), "list title\n{s}");
    assert!(!s.contains(PASSWORD), "the password is on screen\n{s}");

    // j moves; the preview follows the selection with TOP's headers.
    let s = run.down_to(2);
    assert!(
        s.contains("Subject     hostile: 200 KB header line"),
        "preview of 2\n{s}"
    );
    let s = run.down_to(3);
    let meta = maildrop::ordinary_meta(2);
    assert!(
        s.contains(&format!("Subject     {}", meta.subject)),
        "preview of 3\n{s}"
    );
    assert!(
        s.contains(&format!("Number/UID  3 / {}", dovecot_uidl[2].1)),
        "UID of 3\n{s}"
    );

    // Enter opens message 3 (RETR): title and body text.
    t.send("Enter");
    let s = t.wait_for("message 3 open with its body", |s| {
        row(s, 0).starts_with("┌ Message 3 ") && s.contains("this is test message 2.")
    });
    assert!(
        s.lines().any(|l| l.contains("│Subject ") && l.contains(&meta.subject)),
        "message header\n{s}"
    );
    assert!(s.contains(&meta.from_name), "From\n{s}");

    // Esc goes back to the list (wait for the change before the next key).
    t.send_and_wait_change("Escape");
    let s = t.wait_for("the list again", |s| {
        row(s, 0).starts_with("┌ Messages · 40 ") && s.contains("Number/UID  3 / ")
    });
    assert!(!s.contains("┌ Message 3 "), "{s}");

    run.mark_3_and_4_unmark_4();

    // q asks first; the dialog names one message and its subject.
    t.send("q");
    let s = t.wait_for("the commit dialog", |s| s.contains("Commit deletions"));
    assert!(s.contains("Delete 1 message ("), "dialog text\n{s}");
    assert!(
        s.contains(&format!("#3  {}", meta.subject)),
        "dialog lists message 3\n{s}"
    );

    t.send("y");
    let (s, code) = t.wait_exit();
    assert!(s.contains("popscope: deleted 1 message ("), "exit report\n{s}");
    assert!(s.contains("server said: +OK"), "server's QUIT answer\n{s}");
    assert_eq!(code, 0, "exit code\n{s}");
    assert_terminal_restored(t, &s);

    // Dovecot: popscope's session ended with QUIT and deleted 1 of 40.
    let log = run.disconnects(2);
    let last = log.last().unwrap();
    assert!(last.contains("Logged out") && last.contains("del=1/40"), "{log:#?}");

    // The oracle: 39 left, message 3's UID gone, every other UID there.
    let mut pop = run.check_session();
    assert_eq!(pop.stat().0 as usize, MESSAGES - 1);
    let after: BTreeSet<String> = pop.uidl().into_iter().map(|(_, u)| u).collect();
    let expected: BTreeSet<String> = dovecot_uidl
        .iter()
        .filter(|(n, _)| *n != 3)
        .map(|(_, u)| u.clone())
        .collect();
    assert_eq!(after, expected, "exactly message 3 ({}) was deleted", dovecot_uidl[2].1);
    pop.quit().expect("QUIT");
}

/// a2. `--backup DIR`, mark one, q, b: the copy in the Maildir is
/// byte-identical to the raw client's RETR, and exactly that message is
/// deleted.
#[test]
fn back_up_then_delete_from_the_dialog() {
    require_terminal_and_dovecot!();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    let mut before = (Vec::new(), Vec::new());
    let run = Run::start_with(
        "backup",
        Scheme::Pop3s,
        &format!("--backup {}", shell_quote(&backup)),
        |d| {
            let mut pop = RawPop3::login(d.pop3_port(), "alice", PASSWORD);
            before = (pop.uidl(), pop.retr(3));
            pop.quit().expect("QUIT");
        },
    );
    let (dovecot_uidl, raw_3) = before;
    let t = &run.tmux;
    run.wait_list();
    run.select_3_mark_3_and_4_unmark_4();
    t.send("q");
    let s = t.wait_for("the commit dialog", |s| s.contains("Commit deletions"));
    assert!(s.contains("back up to a Maildir, then delete"), "{s}");
    t.send("b");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "exit code\n{s}");
    assert!(s.contains("popscope: deleted 1 message ("), "exit report\n{s}");
    assert!(s.contains("popscope: backed up 1 message"), "exit report\n{s}");
    let copies: Vec<Vec<u8>> = std::fs::read_dir(backup.join("new"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(copies.len(), 1);
    assert!(copies[0] == raw_3, "the copy differs from the raw RETR");
    let mut pop = run.check_session();
    let after: BTreeSet<String> = pop.uidl().into_iter().map(|(_, u)| u).collect();
    let expected: BTreeSet<String> = dovecot_uidl
        .iter()
        .filter(|(n, _)| *n != 3)
        .map(|(_, u)| u.clone())
        .collect();
    assert_eq!(after, expected, "exactly message 3 was deleted");
    pop.quit().expect("QUIT");
}

/// a3. `s` in the list and in the viewer: the saved .eml files are
/// byte-identical to the raw client's RETR (the 200 KB header line and a
/// hostile message among them), and nothing is deleted.
#[test]
fn s_saves_messages_byte_for_byte_from_the_list_and_the_viewer() {
    require_terminal_and_dovecot!();
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Vec::new();
    let run = Run::start_after("save", Scheme::Pop3s, |d| {
        let mut pop = RawPop3::login(d.pop3_port(), "alice", PASSWORD);
        raw = (1..=3).map(|n| pop.retr(n)).collect();
        pop.quit().expect("QUIT");
    });
    let t = &run.tmux;
    run.wait_list();
    run.down_to(2);
    let save_as = |path: &Path, number: usize| {
        t.send("s");
        t.wait_for("the save prompt", |s| s.contains("Save as (.eml"));
        t.send("C-u");
        t.type_text(&path.display().to_string());
        t.send("Enter");
        t.wait_for(&format!("message {number} saved"), |s| {
            s.contains(&format!("saved message {number} ("))
        });
    };
    let from_list = dir.path().join("two.eml");
    save_as(&from_list, 2);
    assert!(
        std::fs::read(&from_list).unwrap() == raw[1],
        "message 2 differs from the raw RETR"
    );

    run.down_to(3);
    t.send("Enter");
    t.wait_for("message 3 open", |s| row(s, 0).starts_with("┌ Message 3 "));
    let from_viewer = dir.path().join("three.eml");
    save_as(&from_viewer, 3);
    assert!(
        std::fs::read(&from_viewer).unwrap() == raw[2],
        "message 3 differs from the raw RETR"
    );

    // Esc back to the list (waited for: a q right behind an Esc can read
    // as Alt-q), then q.
    t.send_and_wait_change("Escape");
    t.wait_for("the list again", |s| row(s, 0).starts_with("┌ Messages · 40 "));
    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
    let mut pop = run.check_session();
    assert_eq!(pop.stat().0 as usize, MESSAGES, "nothing deleted");
    pop.quit().expect("QUIT");
}

/// Waits for a list of `count` messages with every header loaded and
/// `subject` shown.
fn wait_small_list(run: &Run, count: usize, subject: &str) -> String {
    run.tmux
        .wait_for(&format!("the list with {count} messages and all headers loaded"), |s| {
            let status = status_bar(s);
            status.contains(" ● connected ")
                && status.contains(&format!(" {count} msgs"))
                && !status.contains("headers ")
                && s.contains(subject)
        })
}

/// Waits (polling, up to `WAIT`) until `path` exists and holds `len`
/// bytes; returns its bytes.
fn wait_file(path: &Path, len: usize) -> Vec<u8> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(bytes) = std::fs::read(path)
            && bytes.len() == len
        {
            return bytes;
        }
        if Instant::now() >= deadline {
            let dir = path.parent().expect("a file in a directory");
            let present: Vec<(PathBuf, u64)> = std::fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| (e.path(), e.metadata().map_or(0, |m| m.len())))
                        .collect()
                })
                .unwrap_or_default();
            panic!(
                "{} did not appear with {len} bytes within {WAIT:?}; {} holds {present:?}",
                path.display(),
                dir.display()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// The `s` prompt for the selected message (or the one in view), answered
/// with `path`; waits for the save to be reported.
fn save_message_as(t: &Tmux, path: &Path, number: usize) {
    t.send("s");
    t.wait_for("the save prompt", |s| s.contains("Save as (.eml"));
    t.send("C-u");
    t.type_text(&path.display().to_string());
    t.send("Enter");
    t.wait_for(&format!("message {number} saved"), |s| {
        s.contains(&format!("saved message {number} ("))
    });
}

/// `bytes` as quoted-printable with LF line ends (Dovecot sends CRLF):
/// each CRLF of `bytes` a hard line break, soft breaks keeping lines
/// within 76 characters.
fn quoted_printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut width = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let plain = (b'!'..=b'~').contains(&b) && b != b'=' || (b == b' ' && !last);
            let piece = if plain {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if width + piece.len() > 75 {
                out.push_str("=\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
        out.push('\n');
    }
    // The last piece's LF (after a final CRLF, of an empty piece) is the
    // one that belongs to the boundary that follows.
    out
}

/// `bytes` as base64 lines of 76 characters, LF line ends.
fn base64_lines(bytes: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
        .collect()
}

/// A multipart/mixed message (LF line ends, as in a Maildir) with a text
/// part and the `attachments` (file name as the mail gives it, transfer
/// encoding, bytes).
fn with_attachments(subject: &str, attachments: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut m = format!(
        "From: Bob Sender <bob@example.org>\nTo: alice@example.test\nSubject: {subject}\n\
         Date: Mon, 01 Jan 2024 12:00:00 +0000\nMessage-ID: <attachments@example.org>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"=_part\"\n\n\
         --=_part\nContent-Type: text/plain; charset=utf-8\n\nThe files are attached.\n"
    );
    for (name, encoding, bytes) in attachments {
        m.push_str(&format!(
            "--=_part\nContent-Type: application/octet-stream\n\
             Content-Disposition: attachment; filename=\"{name}\"\n\
             Content-Transfer-Encoding: {encoding}\n\n"
        ));
        m.push_str(&match *encoding {
            "base64" => base64_lines(bytes),
            _ => quoted_printable(bytes),
        });
    }
    m.push_str("--=_part--\n");
    m.into_bytes()
}

/// a5. In the viewer, `a` selects each attachment in turn and Enter saves
/// it decoded, in the directory the `s` prompt was answered with: a
/// 100 KB binary (base64) and a text (quoted-printable) are byte for byte
/// what was attached, and names from the mail that climb out
/// (`../../etc/passwd`) or are absolute land inside that directory.
#[test]
fn attachments_save_decoded_byte_for_byte_inside_the_chosen_directory() {
    require_terminal_and_dovecot!();
    let dir = tempfile::tempdir().unwrap();
    let binary = popscope::testmail::Rng::new(9).bytes(100 * 1024);
    let mut text = "Grüße aus Köln: naïve café = 100 %, tab\there, trailing space \r\n"
        .as_bytes()
        .to_vec();
    text.extend_from_slice(&b"0123456789 abcdefghij ".repeat(12));
    text.extend_from_slice(b"\r\n=3D is not an escape here\r\nlast line\r\n");
    let passwd = b"root:x:0:0:not really:/root:/bin/sh\r\n".to_vec();
    let absolute = b"an absolute name\r\n".to_vec();
    let attachments: [(&str, &str, &[u8]); 4] = [
        ("random.bin", "base64", &binary),
        ("notes.txt", "quoted-printable", &text),
        ("../../etc/passwd", "base64", &passwd),
        ("/tmp/popscope-e2e-absolute/CON.txt", "quoted-printable", &absolute),
    ];
    let subject = "Four attachments";
    let message = with_attachments(subject, &attachments);
    let run = Run::start_on("attachments", Scheme::Pop3s, "", &[message], |_| {});
    let t = &run.tmux;
    wait_small_list(&run, 1, subject);
    t.send("Enter");
    t.wait_for("message 1 open", |s| row(s, 0).starts_with("┌ Message 1 "));
    // Answering the `s` prompt chooses the directory attachments go to.
    save_message_as(t, &dir.path().join("whole.eml"), 1);

    let saved_as = ["random.bin", "notes.txt", "passwd", "_CON.txt"];
    for (i, ((_, _, bytes), name)) in attachments.iter().zip(saved_as).enumerate() {
        t.send("a");
        t.wait_for(&format!("attachment {} selected", i + 1), |s| {
            s.contains(&format!("attachment {}: Enter or s saves it", attachments[i].0))
        });
        t.send("Enter");
        let saved = wait_file(&dir.path().join(name), bytes.len());
        assert!(saved == *bytes, "{name} differs from the attachment");
        t.wait_for(&format!("{name} reported saved"), |s| {
            s.contains("saved the attachment (")
        });
    }
    let mut listed: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, ["_CON.txt", "notes.txt", "passwd", "random.bin", "whole.eml"]);
    assert!(!Path::new("/tmp/popscope-e2e-absolute").exists());

    t.send_and_wait_change("Escape");
    t.wait_for("the list again", |s| row(s, 0).starts_with("┌ Messages · 1 "));
    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
}

/// Bytes of a message of `size` bytes or a little more: the huge demo
/// message's frame around base64 lines of pseudo-random bytes.
fn large_message(seed: u64, size: usize) -> Vec<u8> {
    use popscope::testmail::huge;
    let mut m = huge::head(seed, size as u64, 0);
    let mut rng = popscope::testmail::Rng::new(seed);
    let line_bytes = 57; // 76 base64 characters
    let lines = size.saturating_sub(m.len()) / 78 + 1;
    m.extend_from_slice(
        base64_lines(&rng.bytes(lines * line_bytes))
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    m.extend_from_slice(&huge::tail(seed));
    m
}

/// Line ends a reader may take for something else: bare CRs in headers
/// and body, CR CR LF, a CR before a dot, no final line end (LF line ends
/// otherwise, as in a Maildir).
const BARE_CR_MESSAGE: &[u8] = b"From: Mallory <mallory@example.com>\n\
To: alice@example.test\n\
Subject: hostile: bare CR\rin the subject\n\
Date: Mon, 01 Jan 2024 12:00:00 +0000\n\
Message-ID: <bare-cr@hostile.example.com>\n\
X-Bare-Cr: a\rb\r\rc\n\
\n\
line one\rstill line one\n\
line two\r\r\n\
\rstarts with a CR\n\
.\r.a dot after a CR\n\
..two dots\n\
.\n\
last line ends in a bare CR\r";

/// a6. `s` on a message with bare CRs and on a 20 MB message (saved in
/// under a second here): the saved .eml files are the raw client's RETRs
/// byte for byte.
#[test]
fn s_saves_bare_cr_and_a_20_mb_message_byte_for_byte() {
    require_terminal_and_dovecot!();
    let dir = tempfile::tempdir().unwrap();
    let large = large_message(20, 20 << 20);
    let mut raw = Vec::new();
    let messages = [BARE_CR_MESSAGE.to_vec(), large];
    let run = Run::start_on("save-bare-cr-large", Scheme::Pop3s, "", &messages, |d| {
        let mut pop = RawPop3::login(d.pop3_port(), "alice", PASSWORD);
        raw = (1..=2).map(|n| pop.retr(n)).collect();
        pop.quit().expect("QUIT");
    });
    assert!(raw[1].len() >= 20 << 20, "the large message is 20 MB");
    let t = &run.tmux;
    wait_small_list(&run, 2, "hostile: bare CR");
    run.wait_preview(1);
    let bare_cr = dir.path().join("bare-cr.eml");
    save_message_as(t, &bare_cr, 1);
    assert!(
        std::fs::read(&bare_cr).unwrap() == raw[0],
        "the bare-CR message differs from the raw RETR"
    );
    run.down_to(2);
    let large = dir.path().join("large.eml");
    save_message_as(t, &large, 2);
    assert!(
        std::fs::read(&large).unwrap() == raw[1],
        "the 20 MB message differs from the raw RETR"
    );
    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
}

/// a4. `W` with nothing marked saves every message into an mbox whose
/// messages, unquoted, are the raw client's RETRs.
#[test]
fn w_saves_every_shown_message_into_an_mbox() {
    require_terminal_and_dovecot!();
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Vec::new();
    let run = Run::start_after("save-many", Scheme::Pop3s, |d| {
        let mut pop = RawPop3::login(d.pop3_port(), "alice", PASSWORD);
        raw = (1..=MESSAGES as u32).map(|n| pop.retr(n)).collect();
        pop.quit().expect("QUIT");
    });
    let t = &run.tmux;
    run.wait_list();
    t.send("W");
    t.wait_for("the save-many prompt", |s| s.contains("Save into (a Maildir"));
    let mbox = dir.path().join("all.mbox");
    t.send("C-u");
    t.type_text(&mbox.display().to_string());
    t.send("Enter");
    t.wait_for("every message saved", |s| {
        s.contains(&format!("saved {MESSAGES} messages ("))
    });
    let saved: Vec<Vec<u8>> = popscope::store::split_mboxrd(&std::fs::read(&mbox).unwrap())
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(saved.len(), raw.len());
    for (i, (got, want)) in saved.iter().zip(&raw).enumerate() {
        assert!(got == want, "message {} differs", i + 1);
    }
    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
}

/// b. Over pop3:// + STLS: q, n (back, marks kept), q, K (quit keeping
/// all): nothing is deleted.
#[test]
fn stls_quit_keeping_all_deletes_nothing() {
    require_terminal_and_dovecot!();
    let run = Run::start("keep", Scheme::Pop3Stls);
    let t = &run.tmux;
    let s = run.wait_list();
    let status = status_bar(&s);
    assert!(status.contains("TLS 1.3 verified"), "STLS upgraded: {status:?}");
    assert!(
        status.contains(&format!("localhost:{}", run.dovecot.pop3_port())),
        "{status:?}"
    );

    run.select_3_mark_3_and_4_unmark_4();

    t.send("q");
    t.wait_for("the commit dialog", |s| {
        s.contains("Commit deletions") && s.contains("Delete 1 message (")
    });
    t.send("n");
    let s = t.wait_for("the dialog to close", |s| !s.contains("Commit deletions"));
    assert_eq!(row_marked(&s, 3), Some(true), "mark kept after n\n{s}");
    assert!(status_bar(&s).contains(" 1 marked ("), "{s}");

    t.send("q");
    t.wait_for("the commit dialog again", |s| s.contains("Commit deletions"));
    t.send("K");
    let (s, code) = t.wait_exit();
    assert!(s.contains("popscope: nothing was deleted ("), "exit report\n{s}");
    assert!(!s.contains("popscope: deleted"), "{s}");
    assert_eq!(code, 0, "exit code\n{s}");
    assert_terminal_restored(t, &s);

    // A plain QUIT: Dovecot logs out with nothing deleted.
    let log = run.disconnects(1);
    assert!(log[0].contains("Logged out") && log[0].contains("del=0/40"), "{log:#?}");
    let mut pop = run.check_session();
    assert_eq!(pop.stat().0 as usize, MESSAGES);
    pop.quit().expect("QUIT");
}

/// c. Ctrl-C with marks: leaves at once without QUIT, nothing deleted.
#[test]
fn ctrl_c_with_marks_deletes_nothing() {
    require_terminal_and_dovecot!();
    let run = Run::start("ctrlc", Scheme::Pop3s);
    let t = &run.tmux;
    run.wait_list();
    run.select_3_mark_3_and_4_unmark_4();
    t.send("C-c");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 130, "an interrupted inspector exits 130\n{s}");
    assert!(s.contains("popscope: nothing was deleted ("), "exit report\n{s}");
    assert!(s.contains("no QUIT was sent"), "exit report\n{s}");
    assert_terminal_restored(t, &s);
    let log = run.disconnects(1);
    assert!(!log[0].contains("Logged out"), "popscope sent QUIT: {log:#?}");
    let mut pop = run.check_session();
    assert_eq!(pop.stat().0 as usize, MESSAGES);
    pop.quit().expect("QUIT");
}

/// d. The process is killed with marks staged.
fn killed_with_marks(signal: &str) {
    let run = Run::start(&signal.to_ascii_lowercase(), Scheme::Pop3s);
    let t = &run.tmux;
    run.wait_list();
    run.select_3_mark_3_and_4_unmark_4();
    // One more mark, so two are staged.
    t.send("d");
    run.wait_marked(2);
    let pid = run.popscope_pid();
    let out = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .output()
        .expect("run kill");
    assert!(out.status.success(), "kill -{signal} {pid}: {}", describe(&out));
    let (s, code) = t.wait_exit();
    if signal == "KILL" {
        assert_eq!(code, 128 + 9, "killed by SIGKILL\n{s}");
    } else {
        assert_eq!(code, 130, "an interrupted inspector exits 130\n{s}");
        assert!(s.contains("popscope: nothing was deleted ("), "exit report\n{s}");
        assert!(s.contains("no QUIT was sent"), "exit report\n{s}");
        assert!(s.contains(&format!("SIG{signal}")), "names the signal\n{s}");
        assert_terminal_restored(t, &s);
    }
    let log = run.disconnects(1);
    assert!(!log[0].contains("Logged out"), "popscope sent QUIT: {log:#?}");
    let mut pop = run.check_session();
    assert_eq!(pop.stat().0 as usize, MESSAGES, "after SIG{signal}");
    pop.quit().expect("QUIT");
}

#[test]
fn sigterm_with_marks_deletes_nothing_and_restores_terminal() {
    require_terminal_and_dovecot!();
    killed_with_marks("TERM");
}

#[test]
fn sighup_with_marks_deletes_nothing_and_restores_terminal() {
    require_terminal_and_dovecot!();
    killed_with_marks("HUP");
}

#[test]
fn sigkill_with_marks_deletes_nothing() {
    require_terminal_and_dovecot!();
    killed_with_marks("KILL");
}

/// e. The message full of terminal escape sequences, opened end to end:
/// nothing reaches the terminal (title, clipboard, screen layout).
#[test]
fn escape_sequence_message_cannot_touch_the_terminal() {
    require_terminal_and_dovecot!();
    let run = Run::start("escapes", Scheme::Pop3s);
    let t = &run.tmux;
    let title_before = t.format("#{pane_title}");
    run.wait_list();

    let (index, _) = maildrop::hostile_positions(MESSAGES)
        .into_iter()
        .find(|(_, name)| *name == "terminal-escapes")
        .expect("terminal-escapes is in the maildrop");
    let number = index + 1;
    for n in 2..=number {
        run.down_to(n);
    }
    t.wait_for("the hostile row selected", |s| {
        s.lines()
            .any(|l| l.starts_with(&format!("│{number:<2} ")) && l.contains("hostile: ␛[2J"))
            && s.contains("Subject     hostile: ")
    });
    // Compared row by row below: a whole frame, not one caught half drawn.
    let before = t.settled();
    let check_terminal = |when: &str, screen: &str| {
        let title = t.format("#{pane_title}");
        assert!(
            !title.contains("pwned"),
            "{when}: pane title set to {title:?}\n{screen}"
        );
        assert_eq!(title, title_before, "{when}: pane title changed\n{screen}");
        let buffers = t.paste_buffers();
        assert!(buffers.trim().is_empty(), "{when}: OSC 52 reached tmux: {buffers:?}");
        assert_eq!(
            t.format("#{alternate_on}"),
            "1",
            "{when}: alternate screen switched off"
        );
        let styled = t.screen_styled();
        for bad in ["\x1b]", "\u{9d}", "\x07", "\x1bP", "\x1b_", "\x1bk"] {
            assert!(!styled.contains(bad), "{when}: {bad:?} on screen:\n{styled:?}");
        }
    };
    check_terminal("list", &before);

    t.send("Enter");
    let s = t.wait_for("the hostile message open", |s| {
        row(s, 0).starts_with(&format!("┌ Message {number} ")) && s.contains("clipboard") && s.contains("click me")
    });
    // Sanitized, visible stand-ins instead of the sequences.
    assert!(s.contains("␛"), "escape shown as a stand-in\n{s}");
    assert!(status_bar(&s).contains(" ● connected "), "status bar intact\n{s}");
    assert!(row(&s, ROWS - 3).starts_with('└'), "message frame intact\n{s}");
    check_terminal("message view", &s);

    t.send_and_wait_change("Escape");
    t.wait_for("the list again", |s| row(s, 0).starts_with("┌ Messages · 40 "));
    let after = t.settled();
    check_terminal("back in the list", &after);
    // Same screen as before opening it (the activity line may differ).
    for r in 0..ROWS {
        if r == ROWS - 2 {
            continue;
        }
        assert_eq!(
            row(&after, r),
            row(&before, r),
            "row {r} differs\n{before}\n---\n{after}"
        );
    }
    assert!(row(&after, ROWS - 3).starts_with('└'), "list border in place\n{after}");
    assert!(
        status_bar(&after).starts_with(" ● connected "),
        "status bar in place\n{after}"
    );

    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains("popscope: nothing was deleted ("), "{s}");
    assert!(!t.format("#{pane_title}").contains("pwned"));
}

/// Whether the help overlay is on screen (its frame's title starts with
/// "Keys").
fn help_open(screen: &str) -> bool {
    screen.contains("┌ Keys ")
}

/// The help overlay opens and closes with `?` and scrolls down to the last
/// binding; `t` shows the protocol trace, which never shows the password.
#[test]
fn help_and_trace_overlays() {
    require_terminal_and_dovecot!();
    let run = Run::start("help", Scheme::Pop3s);
    let t = &run.tmux;
    let list = run.wait_list();

    t.send("?");
    let s = t.wait_for("the help overlay", help_open);
    assert!(s.contains("show or hide this help"), "{s}");
    assert!(s.contains("leave at once: no QUIT is sent"), "{s}");
    // The last line of the key table is reachable (scrolling with j when
    // the help is taller than the screen).
    let last_help = "quit keeping every message";
    let mut s = s;
    for _ in 0..200 {
        if s.contains(last_help) {
            break;
        }
        s = t.send_and_wait_change("j");
    }
    assert!(s.contains(last_help), "the end of the help is unreachable\n{s}");
    assert!(help_open(&s), "{s}");
    t.send("?");
    let s = t.wait_for("help closed with ?", |s| !help_open(s));
    assert_eq!(row(&s, 3), row(&list, 3), "list back as it was\n{s}");

    t.send("t");
    let s = t.wait_for("the trace pane", |s| s.contains("Protocol trace · "));
    assert!(!s.contains(PASSWORD), "password in the trace\n{s}");
    // Scroll the trace to its first line: the login is there, redacted.
    t.send("Tab");
    t.send("g");
    let s = t.wait_for("the trace at its first line", |s| s.contains("scrolled (G to follow)"));
    assert!(s.contains("C: CAPA"), "the session's first commands\n{s}");
    assert!(!s.contains(PASSWORD), "password in the trace\n{s}");
    t.send("t");
    let s = t.wait_for("the trace hidden", |s| !s.contains("Protocol trace"));
    assert_eq!(row(&s, ROWS - 3), row(&list, ROWS - 3), "layout back\n{s}");

    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains("popscope: nothing was deleted ("), "{s}");
}

/// The help overlay's title says Esc closes it: it must, from the list
/// too (not only from the message view).
#[test]
fn help_closes_with_esc_as_its_title_says() {
    require_terminal_and_dovecot!();
    let run = Run::start("helpesc", Scheme::Pop3s);
    let t = &run.tmux;
    run.wait_list();
    t.send("?");
    let s = t.wait_for("the help overlay", help_open);
    assert!(row(&s, 0).contains("Esc"), "the title names Esc\n{s}");
    t.send("Escape");
    t.wait_for("help closed with Esc", |s| !help_open(s));
    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
}

/// The SGR parameter lists of a screen captured with `-e`.
fn sgr_codes(styled: &str) -> Vec<Vec<u16>> {
    styled
        .split("\x1b[")
        .skip(1)
        .filter_map(|rest| {
            let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
            (rest[end..].starts_with('m')).then(|| rest[..end].split(';').filter_map(|p| p.parse().ok()).collect())
        })
        .collect()
}

/// Whether an SGR parameter list sets a colour: 16 colours (30-37, 40-47,
/// bright 90-97, 100-107) or 256 / RGB ones (38;5;N, 48;2;R;G;B), as tmux
/// writes them for its terminal type.
fn sets_colour(codes: &[u16]) -> bool {
    codes
        .iter()
        .any(|&p| matches!(p, 30..=38 | 40..=48 | 90..=97 | 100..=107))
}

/// With NO_COLOR set, the real terminal gets not one colour, and still
/// reverse video (the selected row) and strike-through (a mark).
#[test]
fn no_color_draws_without_colour_codes() {
    if !tmux_or_skip() {
        return;
    }
    let tmux = Tmux::start("nocolor", &pane_command("NO_COLOR=1", "demo --messages 50"));
    tmux.wait_for("the demo list with every header loaded", |s| {
        let status = status_bar(s);
        status.contains("50 msgs") && !status.contains("headers ")
    });
    tmux.send("d");
    tmux.wait_for("one mark", |s| status_bar(s).contains(" 1 marked ("));
    let codes = sgr_codes(&tmux.screen_styled());
    assert!(!codes.is_empty(), "no SGR sequences at all: is -e capturing?");
    let coloured: Vec<&Vec<u16>> = codes.iter().filter(|c| sets_colour(c)).collect();
    assert!(coloured.is_empty(), "colours with NO_COLOR set: {coloured:?}");
    assert!(codes.iter().any(|c| c.contains(&7)), "no reverse video: {codes:?}");
    assert!(codes.iter().any(|c| c.contains(&9)), "no strike-through: {codes:?}");
    // The same demo with colour does use colours (the check can fail).
    let tmux = Tmux::start("colour", &pane_command("", "demo --messages 50"));
    tmux.wait_for("the demo list", |s| status_bar(s).contains("50 msgs"));
    let codes = sgr_codes(&tmux.screen_styled());
    assert!(codes.iter().any(|c| sets_colour(c)), "{codes:?}");
    tmux.send("q");
    let (s, code) = tmux.wait_exit();
    assert_eq!(code, 0, "{s}");
}

/// After the terminal grew and popscope quit, nothing of its last frame is
/// left on the normal screen or in the scrollback: tmux copied lines of an
/// alternate screen that was left at another size than it was entered at
/// back onto the normal screen, unless it was cleared first.
#[test]
fn no_frame_is_left_behind_after_a_resize_and_quit() {
    if !tmux_or_skip() {
        return;
    }
    let tmux = Tmux::start("resize", &pane_command("", "demo --messages 200"));
    tmux.wait_for("the demo list with every header loaded", |s| {
        let status = status_bar(s);
        status.contains("200 msgs") && !status.contains("headers ")
    });
    let (cols, rows) = (COLS + 30, ROWS + 8);
    tmux.resize(cols, rows);
    let s = tmux.wait_for("the list drawn at the new size", |s| {
        row(s, rows - 1).contains(" ● connected ") && row(s, 0).chars().count() == cols as usize
    });
    assert!(s.contains("Preview"), "{s}");
    tmux.send("q");
    let (s, code) = tmux.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains("popscope: nothing was deleted"), "{s}");
    let all = tmux.history();
    for leftover in ["│", "Messages · ", "Preview", " ● connected "] {
        assert!(
            !all.contains(leftover),
            "{leftover:?} of the last frame was left behind\n--- scrollback and screen ---\n{all}"
        );
    }
    assert_terminal_restored(&tmux, &s);
}

/// f. `popscope demo`: the embedded server's 3,000 messages, no Dovecot.
#[test]
fn demo_lists_3000_messages() {
    if !tmux_or_skip() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_popscope");
    let help = Command::new(bin).arg("--help").output().expect("run popscope --help");
    let help = String::from_utf8_lossy(&help.stdout);
    if !help.lines().any(|l| l.trim_start().starts_with("demo ")) {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: `popscope demo` does not exist yet (not in popscope --help) ***"
        );
        return;
    }
    let tmux = Tmux::start("demo", &pane_command("", "demo"));
    let s = tmux.wait_for("the demo list, or popscope exiting", |s| {
        status_bar(s).contains(" msgs") || exit_code(s).is_some()
    });
    if exit_code(&s).is_some() && s.contains("not built yet") {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: `popscope demo` is not implemented yet: {} ***",
            s.lines().find(|l| l.contains("popscope:")).unwrap_or("").trim()
        );
        return;
    }
    let s = tmux.wait_for("3000 messages listed", |s| {
        status_bar(s).contains("3000 msgs") && s.contains(" Messages · 3000 ")
    });
    assert!(status_bar(&s).starts_with(" ● connected "), "{s}");
    assert!(
        status_bar(&s).contains(" DEMO (local, generated mailbox) "),
        "the demo says so\n{s}"
    );
    assert!(row_marked(&s, 1).is_some(), "message 1 in the list\n{s}");
    // Every header arrives (3,000 pipelined TOPs): no progress left.
    tmux.wait_for("all 3000 headers loaded", |s| {
        let status = status_bar(s);
        status.contains("3000 msgs") && !status.contains("headers ")
    });
    tmux.send("G");
    tmux.wait_for("the last message selected", |s| s.contains("Number/UID  3000 / "));
    tmux.send("q");
    let (s, code) = tmux.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains("popscope: nothing was deleted"), "{s}");
    assert_terminal_restored(&tmux, &s);
}

// ---------------------------------------------------------------------------
// Cleaning at scale: pattern marks, limits, ranges, the senders view

/// The UIDs of these message numbers, from a UIDL taken before popscope ran.
fn uids_of(uidl: &[(u32, String)], numbers: &[u32]) -> BTreeSet<String> {
    numbers
        .iter()
        .map(|n| {
            uidl.iter()
                .find(|(m, _)| m == n)
                .expect("numbered in the UIDL")
                .1
                .clone()
        })
        .collect()
}

/// After popscope committed: the maildrop holds every UID it held before
/// except exactly `gone`.
fn assert_exactly_gone(run: &Run, before: &[(u32, String)], gone: &BTreeSet<String>) {
    let mut pop = run.check_session();
    let after: BTreeSet<String> = pop.uidl().into_iter().map(|(_, u)| u).collect();
    pop.quit().expect("QUIT");
    let expected: BTreeSet<String> = before
        .iter()
        .map(|(_, u)| u.clone())
        .filter(|u| !gone.contains(u))
        .collect();
    assert_eq!(after, expected, "exactly {gone:?} deleted");
}

/// Numbers of the list rows on screen, top to bottom.
fn listed_numbers(screen: &str) -> Vec<u32> {
    screen
        .lines()
        .skip(2)
        .map_while(|l| l.strip_prefix('│'))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The ASCII subject (without its " #i") most ordinary messages share,
/// and their numbers.
fn commonest_subject() -> (String, Vec<u32>) {
    let mut by_subject: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for i in (0..MESSAGES).filter(|&i| maildrop::kind_at(i).is_none()) {
        let subject = maildrop::ordinary_meta(i).subject;
        let base = subject
            .rsplit_once(" #")
            .map_or(subject.as_str(), |(b, _)| b)
            .to_string();
        by_subject.entry(base).or_default().push(i as u32 + 1);
    }
    let (base, numbers) = by_subject
        .into_iter()
        .filter(|(base, _)| base.is_ascii())
        .max_by_key(|(_, numbers)| numbers.len())
        .expect("ordinary messages");
    // No other subject may contain it (the query is a substring search).
    for i in (0..MESSAGES).filter(|&i| maildrop::kind_at(i).is_none()) {
        let subject = maildrop::ordinary_meta(i).subject.to_lowercase();
        assert_eq!(
            subject.contains(&base.to_lowercase()),
            numbers.contains(&(i as u32 + 1)),
            "{subject}"
        );
    }
    assert!(numbers.len() >= 2, "{base}: {numbers:?}");
    (base, numbers)
}

/// g. D with a subject query marks exactly its messages; the dialog names
/// the query; y deletes exactly those (checked with an independent client).
#[test]
fn pattern_mark_by_subject_and_commit() {
    require_terminal_and_dovecot!();
    let (subject, numbers) = commonest_subject();
    let mut before = Vec::new();
    let run = Run::start_after("pattern", Scheme::Pop3s, |d| before = uidl(d.pop3_port()));
    let t = &run.tmux;
    run.wait_list();
    t.send("D");
    t.wait_for("the pattern-mark prompt", |s| s.contains("Mark every message matching"));
    let query = format!("subject:\"{subject}\"");
    t.type_text(&query);
    let n = numbers.len();
    t.wait_for("the prompt's count", |s| s.contains(&format!("marks {n} messages (")));
    t.send("Enter");
    run.wait_marked(n);
    let s = t.wait_for("the marks", |s| {
        status_bar(s).contains(&format!(" {n} marked (")) && row(s, ROWS - 2).starts_with("marked ")
    });
    assert!(row(&s, ROWS - 2).contains(&format!("marked {n} messages (")), "{s}");
    for &number in &numbers {
        if let Some(marked) = row_marked(&s, number as usize) {
            assert!(marked, "message {number} shows D\n{s}");
        }
    }
    t.send("q");
    let s = t.wait_for("the commit dialog", |s| s.contains("Commit deletions"));
    assert!(s.contains(&format!("Delete {n} messages (")), "{s}");
    assert!(s.contains(&format!("Selected by {query}")), "{s}");
    t.send("y");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains(&format!("popscope: deleted {n} messages (")), "{s}");
    assert_exactly_gone(&run, &before, &uids_of(&before, &numbers));
}

/// h. A limit, a visual range inside it, a commit: exactly the range's
/// messages are deleted.
#[test]
fn limit_range_mark_and_commit() {
    require_terminal_and_dovecot!();
    let mut before = Vec::new();
    let run = Run::start_after("range", Scheme::Pop3s, |d| before = uidl(d.pop3_port()));
    let t = &run.tmux;
    run.wait_list();
    t.send("l");
    t.wait_for("the limit prompt", |s| s.contains("Limit the list to"));
    t.type_text("from:example.org -hostile");
    t.wait_for("the prompt's count", |s| {
        s.contains("> from:example.org -hostile") && s.contains(" match (")
    });
    t.send("Enter");
    // The activity line is drawn after the rows above it: once it says so,
    // the whole frame is on screen.
    let s = t.wait_for("the limited list", |s| {
        row(s, 0).starts_with("┌ limit: from:example.org -hostile · ")
            && row(s, ROWS - 2).starts_with("limited to from:example.org -hostile: ")
    });
    let shown = listed_numbers(&s);
    assert!(shown.len() >= 5, "{s}");
    assert!(shown.len() < MESSAGES, "the limit leaves some out\n{s}");
    // From the second row shown, three rows down: four messages.
    run.wait_preview(shown[0] as usize);
    t.send("j");
    run.wait_preview(shown[1] as usize);
    t.send("v");
    t.wait_for("the visual selection", |s| s.contains("visual selection: 1 message ("));
    for _ in 0..3 {
        t.send("j");
    }
    t.wait_for("four rows selected", |s| s.contains("visual selection: 4 messages ("));
    t.send("d");
    run.wait_marked(4);
    let s = t.wait_for("four marks", |s| {
        status_bar(s).contains(" 4 marked (") && row(s, ROWS - 2).starts_with("marked 4 messages (")
    });
    let range = &shown[1..5];
    for &number in range {
        assert_eq!(row_marked(&s, number as usize), Some(true), "message {number}\n{s}");
    }
    t.send("q");
    t.wait_for("the commit dialog", |s| s.contains("Delete 4 messages ("));
    t.send("y");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains("popscope: deleted 4 messages ("), "{s}");
    assert_exactly_gone(&run, &before, &uids_of(&before, range));
}

/// i. The senders view ranks who sends most; Enter limits the list to the
/// top sender, and the list shows as many messages as the view counted.
#[test]
fn senders_view_limits_to_a_sender() {
    require_terminal_and_dovecot!();
    let run = Run::start("senders", Scheme::Pop3s);
    let t = &run.tmux;
    run.wait_list();
    t.send("S");
    let s = t.wait_for("the senders view", |s| {
        row(s, 0).starts_with("┌ Senders by address · ")
            && s.contains(&format!("· {MESSAGES} messages"))
            && row(s, ROWS - 2).starts_with("senders: ")
    });
    // The first group row: "│sender   count   size unit  bar  pct%│".
    let top: Vec<&str> = row(&s, 2).trim_matches('│').split_whitespace().collect();
    let (sender, count) = (top[0].to_string(), top[1].to_string());
    assert!(sender.contains('@'), "{s}");
    assert!(top.last().is_some_and(|p| p.ends_with('%')), "{s}");
    t.send("Enter");
    let s = t.wait_for("the list limited to the sender", |s| {
        row(s, 0).starts_with("┌ limit: from:") && row(s, ROWS - 2).starts_with("limited to from:")
    });
    let title = row(&s, 0);
    assert!(title.contains(&sender), "{title}");
    assert!(title.contains(&format!(" · {count} of {MESSAGES} · ")), "{title}");
    assert_eq!(listed_numbers(&s).len(), count.parse::<usize>().unwrap(), "{s}");
    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains("popscope: nothing was deleted ("), "{s}");
}

/// j. The trace after the demo's 3,000-header sweep: its top still shows
/// the greeting, CAPA and the redacted login; the TOP sweep is one group
/// line that expands; `w` saves everything to a file in the current
/// directory, and the activity line says where.
#[test]
fn demo_trace_keeps_the_opening_groups_the_sweep_and_saves_it() {
    if !tmux_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("a directory to save the trace in");
    let command = format!("cd {} && {}", shell_quote(dir.path()), pane_command("", "demo"));
    let t = Tmux::start("tracedemo", &command);
    t.wait_for("all 3000 headers loaded", |s| {
        let status = status_bar(s);
        status.contains("3000 msgs") && !status.contains("headers ")
    });
    t.send("t");
    t.wait_for("the trace pane", |s| s.contains("Protocol trace · "));
    t.send("Tab");
    t.wait_for("the trace focused", |s| s.contains("w save"));
    t.send("g");
    let top = t.wait_for("the trace's first line", |s| s.contains("scrolled (G to follow)"));
    assert!(top.contains("S: +OK popscope demo server ready"), "the greeting\n{top}");
    assert!(top.contains("C: CAPA"), "CAPA\n{top}");
    assert!(
        top.contains("S: +OK capability list follows  [CAPA]"),
        "CAPA's answer, paired\n{top}"
    );
    assert!(
        top.lines().any(
            |l| (l.contains("C: APOP demo") || l.contains("C: AUTH") || l.contains("C: PASS"))
                && l.contains("********")
        ),
        "the login, redacted\n{top}"
    );
    t.send("G");
    let group = "▸ TOP × 3,000 ";
    let s = t.wait_for("the TOP group line", |s| s.contains(group));
    assert!(s.contains("median "), "the group's latency\n{s}");
    assert!(s.contains("#1–#3000"), "the group's first and last number\n{s}");
    t.send("Enter");
    let s = t.wait_for("the group expanded", |s| s.contains("▾ TOP × 3,000 "));
    assert!(s.contains("── batch "), "a batch marker\n{s}");
    assert!(s.contains("C: TOP 1 0"), "the group's first command\n{s}");
    t.send("w");
    let s = t.wait_for("the trace saved", |s| s.contains("trace saved to "));
    let saved: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("read the directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("popscope-trace-127.0.0.1-"))
        })
        .collect();
    assert_eq!(saved.len(), 1, "one trace file\n{s}");
    let name = saved[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(s.contains(&name[..40]), "the activity line names the file\n{s}");
    let text = std::fs::read_to_string(&saved[0]).expect("read the saved trace");
    assert!(text.starts_with("# trace     popscope "), "{}", &text[..200]);
    assert!(
        text.contains(" S: +OK popscope demo server ready"),
        "the greeting is saved"
    );
    assert!(text.contains(" C: TOP 3000 0\n"), "the last TOP is saved");
    t.send("q");
    t.wait_for("the list focused again", |s| s.contains("q quit"));
    t.send("q");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
}

/// The connection is cut under the inspector (a proxy between popscope and
/// Dovecot drops it) with message 3 marked: popscope says so, reconnects
/// once by itself, lists again with the mark carried by UID, and the
/// commit afterwards deletes exactly message 3. The cut session deleted
/// nothing: it ended without QUIT.
#[test]
fn a_cut_connection_reconnects_with_the_marks_intact() {
    require_terminal_and_dovecot!();
    let dovecot = Dovecot::builder().user("alice", PASSWORD).start();
    assert_eq!(
        dovecot.deliver_many("alice", maildrop::mixed_maildrop(MESSAGES)),
        MESSAGES
    );
    let before = uidl(dovecot.pop3_port());
    let proxy = CutProxy::start(dovecot.pop3s_port());
    let cmd = pane_command(
        &format!("POPSCOPE_PASSWORD={PASSWORD}"),
        &format!(
            "pop3s://alice@localhost:{} --ca-file {}",
            proxy.port(),
            shell_quote(dovecot.cert_pem_path())
        ),
    );
    let run = Run {
        tmux: Tmux::start("reconnect", &cmd),
        dovecot,
    };
    let t = &run.tmux;
    run.wait_list();
    run.select_3_mark_3_and_4_unmark_4();

    proxy.cut();
    let s = t.wait_for("the reconnect to restore the mark", |s| {
        s.contains("1 marks restored by UID") && status_bar(s).contains(" ● connected ")
    });
    assert_eq!(proxy.accepted(), 2, "one automatic reconnect\n{s}");
    let s = run.wait_list();
    assert_eq!(row_marked(&s, 3), Some(true), "message 3 still marked\n{s}");
    assert_eq!(row_marked(&s, 4), Some(false), "{s}");
    assert!(status_bar(&s).contains(" 1 marked ("), "{s}");
    // The cut session ended without QUIT: Dovecot deleted nothing then.
    let first = &run.disconnects(2)[1];
    assert!(!first.contains("Logged out") && first.contains("del=0/"), "{first}");

    t.send("q");
    let s = t.wait_for("the commit dialog", |s| s.contains("Commit deletions"));
    assert!(s.contains("Delete 1 message ("), "{s}");
    t.send("y");
    let (s, code) = t.wait_exit();
    assert_eq!(code, 0, "{s}");
    assert!(s.contains("popscope: deleted 1 message ("), "{s}");
    assert_exactly_gone(&run, &before, &uids_of(&before, &[3]));
}
