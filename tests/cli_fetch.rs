//! `popscope fetch` and `popscope retr` against a real, private Dovecot.
//!
//! What popscope saved is compared byte for byte with what an independent
//! client (`RawPop3`) retrieves: Maildir files (as a multiset: their names
//! are unique, not ordered), `.eml` files by UID, and the mbox after
//! `split_mboxrd` undid its quoting, in order. The maildrop holds the
//! test suite's hostile messages plus bare CR/LF and a 20 MB message.

mod support;

use popscope::store::split_mboxrd;
use std::fs;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::binary_run::Run;
use support::dovecot::Dovecot;
use support::maildrop;
use support::raw_pop3::RawPop3;

const USER: &str = "alice";
const PASSWORD: &str = "Fetch-Pw-9!";
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs popscope (no inherited `POPSCOPE_*`, the password in
/// `POPSCOPE_PASSWORD`, stdin /dev/null), killed after `RUN_TIMEOUT`.
fn popscope(args: &[&str]) -> Run {
    let mut stdout = tempfile::tempfile().unwrap();
    let mut stderr = tempfile::tempfile().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_popscope"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POPSCOPE_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .env("POPSCOPE_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().unwrap())
        .stderr(stderr.try_clone().unwrap());
    let mut child = command.spawn().expect("spawn popscope");
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
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
        file.rewind().unwrap();
        file.read_to_end(&mut bytes).unwrap();
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

fn url(dc: &Dovecot) -> String {
    format!("pop3://{USER}@127.0.0.1:{}", dc.pop3_port())
}

/// `fetch URL --to TARGET [extra]` over the plain port.
fn fetch(dc: &Dovecot, target: &Path, extra: &[&str]) -> Run {
    let url = url(dc);
    let target = target.display().to_string();
    let mut args = vec![
        "fetch",
        url.as_str(),
        "--tls",
        "none",
        "--allow-plaintext",
        "--auth",
        "USER",
        "--to",
        target.as_str(),
    ];
    args.extend_from_slice(extra);
    popscope(&args)
}

/// The maildrop: the mixed hostile drop, bare CR and LF, and a 20 MB
/// message with dot and `From ` lines.
fn hostile_drop() -> Vec<Vec<u8>> {
    let mut messages = maildrop::mixed_maildrop(30);
    messages.push(b"Subject: bare\n\nbare\rCR in a line\nand a line end\n\r\nend\n".to_vec());
    let mut big = b"Subject: twenty megabytes\nFrom: big@example.org\n\n".to_vec();
    let mut line = 0u32;
    while big.len() < 20 * 1024 * 1024 {
        line += 1;
        let text = match line % 4 {
            0 => format!(".dot line {line}\n"),
            1 => format!("From the start {line}\n"),
            2 => format!(">From quoted {line}\n"),
            _ => format!("{line:0>74}\n"),
        };
        big.extend_from_slice(text.as_bytes());
    }
    messages.push(big);
    messages
}

fn dovecot_with(messages: &[Vec<u8>]) -> Dovecot {
    let dc = Dovecot::builder().user(USER, PASSWORD).start();
    dc.deliver_many(USER, messages);
    dc
}

/// Every message as the raw client retrieves it, with its UID, in order.
fn raw_messages(dc: &Dovecot) -> Vec<(String, Vec<u8>)> {
    let mut pop = RawPop3::login(dc.pop3_port(), USER, PASSWORD);
    let uids = pop.uidl();
    let out = uids.into_iter().map(|(n, uid)| (uid, pop.retr(n))).collect();
    pop.quit().expect("QUIT");
    out
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

fn assert_same_messages(what: &str, mut got: Vec<Vec<u8>>, mut want: Vec<Vec<u8>>) {
    assert_eq!(got.len(), want.len(), "{what}: message count");
    got.sort();
    want.sort();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(g == w, "{what}: message {i} differs ({} vs {} bytes)", g.len(), w.len());
    }
}

#[test]
fn fetch_saves_maildir_mbox_and_eml_byte_for_byte_as_the_raw_client_retrieves() {
    require_dovecot!();
    let dc = dovecot_with(&hostile_drop());
    let raw = raw_messages(&dc);
    assert_eq!(raw.len(), 32);
    let dir = tempfile::tempdir().unwrap();

    let maildir = dir.path().join("Mail");
    let run = fetch(&dc, &maildir, &["--json"]);
    run.assert_exit(0);
    let json = run.json();
    assert_eq!(json["fetched"], 32, "{}", run.describe());
    assert_eq!(json["skipped"], 0);
    assert_eq!(json["deleted"], 0);
    let saved: Vec<Vec<u8>> = files_in(&maildir.join("new"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_eq!(
        files_in(&maildir.join("tmp")),
        Vec::<PathBuf>::new(),
        "nothing left in tmp/"
    );
    let want: Vec<Vec<u8>> = raw.iter().map(|(_, m)| m.clone()).collect();
    assert_same_messages("Maildir", saved, want.clone());

    let mbox = dir.path().join("inbox.mbox");
    fetch(&dc, &mbox, &["--format", "mbox"]).assert_exit(0);
    let split: Vec<Vec<u8>> = split_mboxrd(&fs::read(&mbox).unwrap())
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(split.len(), want.len(), "mbox: message count");
    for (i, (got, want)) in split.iter().zip(&want).enumerate() {
        assert!(got == want, "mbox: message {} differs", i + 1);
    }

    let eml = dir.path().join("eml");
    fetch(&dc, &eml, &["--format", "eml"]).assert_exit(0);
    for (uid, want) in &raw {
        let got = fs::read(eml.join(format!("{uid}.eml"))).unwrap_or_else(|e| panic!("{uid}.eml: {e}"));
        assert!(&got == want, ".eml of {uid} differs");
    }
    // Without the state file nothing is skipped, and no file is replaced:
    // the second copies get their own names.
    fs::remove_file(eml.join(".popscope-uids")).unwrap();
    fetch(&dc, &eml, &["--format", "eml"]).assert_exit(0);
    for (uid, want) in &raw {
        assert!(&fs::read(eml.join(format!("{uid}.eml"))).unwrap() == want);
        assert!(&fs::read(eml.join(format!("{uid} (2).eml"))).unwrap() == want);
    }
    // Everything is still on the server: fetch never deletes by itself.
    assert_eq!(raw_messages(&dc).len(), 32);
}

#[test]
fn a_second_fetch_fetches_only_what_is_new_and_says_so() {
    require_dovecot!();
    let dc = dovecot_with(&(0..5).map(maildrop::ordinary).collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    let first = fetch(&dc, &maildir, &[]);
    first.assert_exit(0);
    assert!(first.stdout.contains("fetched 5 messages"), "{}", first.describe());
    let again = fetch(&dc, &maildir, &[]);
    again.assert_exit(0);
    assert!(
        again
            .stdout
            .contains("nothing new to fetch: all 5 messages on the server are already in"),
        "{}",
        again.describe()
    );
    assert_eq!(files_in(&maildir.join("new")).len(), 5, "nothing fetched twice");
    dc.deliver_many(USER, (5..8).map(maildrop::ordinary));
    let third = fetch(&dc, &maildir, &["--json"]);
    third.assert_exit(0);
    let json = third.json();
    assert_eq!((json["fetched"].as_u64(), json["skipped"].as_u64()), (Some(3), Some(5)));
    assert_eq!(json["outcome"], "fetched");
    assert_eq!(files_in(&maildir.join("new")).len(), 8);
}

#[test]
fn delete_removes_exactly_the_messages_this_run_saved() {
    require_dovecot!();
    let dc = dovecot_with(&(0..5).map(maildrop::ordinary).collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    fetch(&dc, &maildir, &[]).assert_exit(0);
    let kept: Vec<String> = raw_messages(&dc).into_iter().map(|(uid, _)| uid).collect();
    dc.deliver_many(USER, (5..8).map(maildrop::ordinary));
    let all = raw_messages(&dc);
    let run = fetch(&dc, &maildir, &["--delete", "--yes", "--json"]);
    run.assert_exit(0);
    let json = run.json();
    assert_eq!(json["fetched"], 3, "{}", run.describe());
    assert_eq!(json["deleted"], 3);
    assert!(json["quit"].as_str().unwrap().starts_with("+OK"), "{}", run.describe());
    let left: Vec<String> = raw_messages(&dc).into_iter().map(|(uid, _)| uid).collect();
    assert_eq!(left, kept, "only the three fetched in this run are gone");
    // And their copies are there, byte for byte.
    let saved: Vec<Vec<u8>> = files_in(&maildir.join("new"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_same_messages("Maildir", saved, all.into_iter().map(|(_, m)| m).collect());
}

#[test]
fn delete_without_yes_and_without_a_terminal_is_refused_before_anything() {
    require_dovecot!();
    let dc = dovecot_with(&(0..3).map(maildrop::ordinary).collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    let run = fetch(&dc, &maildir, &["--delete"]);
    run.assert_exit(2);
    assert!(
        run.stderr.contains("refusing to delete without confirmation"),
        "{}",
        run.describe()
    );
    assert!(!maildir.exists(), "nothing was fetched either");
    assert_eq!(raw_messages(&dc).len(), 3);
}

#[test]
fn retr_to_a_file_replaces_it_only_on_success() {
    require_dovecot!();
    let dc = dovecot_with(&[maildrop::ordinary(0), maildrop::hostile("dot-lines")]);
    let raw = raw_messages(&dc);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("y.eml");
    fs::write(&target, b"precious").unwrap();
    let url = url(&dc);
    let target_arg = target.display().to_string();
    let args = |msg: &'static str| {
        vec![
            "retr",
            url.as_str(),
            "--tls",
            "none",
            "--allow-plaintext",
            "--auth",
            "USER",
            "--msg",
            msg,
            "-o",
            target_arg.as_str(),
        ]
    };
    let missing = popscope(&args("99999"));
    missing.assert_exit(2);
    assert!(
        missing.stderr.contains("no message 99999; the maildrop has 2 messages"),
        "{}",
        missing.describe()
    );
    assert_eq!(fs::read(&target).unwrap(), b"precious", "untouched after a failed RETR");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    popscope(&args("2")).assert_exit(0);
    assert_eq!(fs::read(&target).unwrap(), raw[1].1, "replaced by the message");
}

#[test]
fn match_and_uids_from_choose_what_is_fetched_and_deleted() {
    require_dovecot!();
    let dc = dovecot_with(&(0..10).map(maildrop::ordinary).collect::<Vec<_>>());
    let raw = raw_messages(&dc);
    let dir = tempfile::tempdir().unwrap();
    let picked = dir.path().join("picked");
    // Subjects end in "#i": messages 4 and 8 (ordinary 3 and 7).
    let run = fetch(
        &dc,
        &picked,
        &[
            "--match",
            "subject:\"#3\" or subject:\"#7\"",
            "--delete",
            "--yes",
            "--json",
        ],
    );
    run.assert_exit(0);
    let json = run.json();
    assert_eq!(
        (
            json["listed"].as_u64(),
            json["selected"].as_u64(),
            json["fetched"].as_u64(),
            json["deleted"].as_u64()
        ),
        (Some(10), Some(2), Some(2), Some(2)),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("2 of 10 messages selected"), "{}", run.describe());
    let saved: Vec<Vec<u8>> = files_in(&picked.join("new"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_same_messages("picked", saved, vec![raw[3].1.clone(), raw[7].1.clone()]);
    let left: Vec<String> = raw_messages(&dc).into_iter().map(|(uid, _)| uid).collect();
    let expected: Vec<String> = raw
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 7)
        .map(|(_, (uid, _))| uid.clone())
        .collect();
    assert_eq!(left, expected, "exactly the two selected are gone");

    // A UID list (one of them gone now), narrowed by a query on sizes.
    let list = dir.path().join("uids.txt");
    fs::write(&list, format!("# chosen\n{}\n{}\n{}\n", raw[0].0, raw[3].0, raw[5].0)).unwrap();
    let chosen = dir.path().join("chosen");
    let list_arg = list.display().to_string();
    let run = fetch(&dc, &chosen, &["--uids-from", &list_arg, "--match", "size>0", "--json"]);
    run.assert_exit(0);
    assert_eq!(run.json()["fetched"], 2, "{}", run.describe());
    assert!(
        run.stderr.contains("1 of the 3 UIDs given is not in the maildrop"),
        "{}",
        run.describe()
    );
    let saved: Vec<Vec<u8>> = files_in(&chosen.join("new"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_same_messages("chosen", saved, vec![raw[0].1.clone(), raw[5].1.clone()]);
}

/// `clean URL [extra]` over the plain port.
fn clean(dc: &Dovecot, extra: &[&str]) -> Run {
    let url = url(dc);
    let mut args = vec![
        "clean",
        url.as_str(),
        "--tls",
        "none",
        "--allow-plaintext",
        "--auth",
        "USER",
    ];
    args.extend_from_slice(extra);
    popscope(&args)
}

#[test]
fn clean_and_fetch_back_up_byte_for_byte_then_delete_exactly_those() {
    require_dovecot!();
    let dc = dovecot_with(&hostile_drop());
    let raw = raw_messages(&dc);
    assert_eq!(raw.len(), 32);
    let dir = tempfile::tempdir().unwrap();
    // A dot-stuffed hostile message, an ordinary one, bare CR/LF and the
    // 20 MB message.
    let chosen = [0usize, 5, 30, 31];
    let list = dir.path().join("uids.txt");
    let lines: Vec<&str> = chosen.iter().map(|&i| raw[i].0.as_str()).collect();
    fs::write(&list, lines.join("\n")).unwrap();
    let backup = dir.path().join("backup");
    let (list_arg, backup_arg) = (list.display().to_string(), backup.display().to_string());
    let run = clean(
        &dc,
        &["--uids-from", &list_arg, "--yes", "--backup", &backup_arg, "--json"],
    );
    run.assert_exit(0);
    let json = run.json();
    assert_eq!(json["outcome"], "deleted", "{}", run.describe());
    assert_eq!(json["deleted"], 4);
    assert_eq!(json["backup"]["saved"], 4);
    assert_eq!(json["backup"]["dir"], backup_arg.as_str());
    assert!(run.stderr.contains("backed up 4 messages"), "{}", run.describe());
    let saved: Vec<Vec<u8>> = files_in(&backup.join("new"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    let want: Vec<Vec<u8>> = chosen.iter().map(|&i| raw[i].1.clone()).collect();
    assert_same_messages("backup", saved, want);
    let left: Vec<String> = raw_messages(&dc).into_iter().map(|(uid, _)| uid).collect();
    let expected: Vec<String> = raw
        .iter()
        .enumerate()
        .filter(|(i, _)| !chosen.contains(i))
        .map(|(_, (uid, _))| uid.clone())
        .collect();
    assert_eq!(left, expected, "exactly the backed-up messages are gone");

    // fetch --delete --backup: the fetched copies and a second copy in
    // the backup, then the deletion.
    let to = dir.path().join("Mail");
    let second = dir.path().join("second-backup");
    let second_arg = second.display().to_string();
    let run = fetch(
        &dc,
        &to,
        &["--match", "size<100k", "--delete", "--yes", "--backup", &second_arg],
    );
    run.assert_exit(0);
    assert!(run.stdout.contains("the backup copies are in"), "{}", run.describe());
    let fetched: Vec<Vec<u8>> = files_in(&to.join("new")).iter().map(|p| fs::read(p).unwrap()).collect();
    let copies: Vec<Vec<u8>> = files_in(&second.join("new"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert!(!copies.is_empty());
    assert_same_messages("second backup", copies, fetched);
}
