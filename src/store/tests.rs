//! Behaviour every format shares: byte-exact round trips of hostile content
//! in odd-sized chunks, nothing left behind on abort, clear errors before
//! anything is written when the target cannot be written.

use super::*;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

const FORMATS: [Format; 3] = [Format::Maildir, Format::Mbox, Format::Eml];

/// Contents a server can deliver after dot-unstuffing, each ending in
/// CRLF as RETR does.
fn hostile_messages() -> Vec<(&'static str, Vec<u8>)> {
    let mut long_line = b"Subject: long\r\nX-Long: ".to_vec();
    long_line.extend(std::iter::repeat_n(b'L', 200 * 1024));
    long_line.extend_from_slice(b"\r\n\r\nbody\r\n");
    let mut every_byte: Vec<u8> = b"Subject: bytes\r\n\r\n".to_vec();
    every_byte.extend(0..=255u8);
    every_byte.extend_from_slice(b"\r\n");
    vec![
        (
            "dot lines",
            b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n...\r\n".to_vec(),
        ),
        (
            "From lines",
            b"From: a@b\r\n\r\nFrom the start\r\n>From quoted\r\n>>From twice\r\nFrom\r\n".to_vec(),
        ),
        ("NUL", b"Subject: nul\0here\r\n\r\n\0\0\r\n".to_vec()),
        (
            "bare CR and LF",
            b"Subject: x\r\n\r\nbare\rCR and bare\nLF\n\r\n".to_vec(),
        ),
        ("200 KB line", long_line),
        ("every byte", every_byte),
        ("empty", Vec::new()),
    ]
}

fn target_in(dir: &Path, format: Format) -> PathBuf {
    match format {
        Format::Mbox => dir.join("saved.mbox"),
        Format::Maildir | Format::Eml => dir.join("saved"),
    }
}

/// The messages as stored, in the order saved.
fn read_back(format: Format, target: &Path, saved: &[SavedAt]) -> Vec<Vec<u8>> {
    match format {
        Format::Mbox => split_mboxrd(&fs::read(target).unwrap())
            .into_iter()
            .map(|m| m.content)
            .collect(),
        Format::Maildir | Format::Eml => saved.iter().map(|s| fs::read(&s.path).unwrap()).collect(),
    }
}

fn write_in_chunks(sink: &mut dyn MessageSink, number: u32, content: &[u8], chunk: usize) -> SavedAt {
    let meta = MessageMeta {
        number,
        uid: Some(format!("uid-{number}")),
        ..MessageMeta::default()
    };
    let mut writer = sink.begin(&meta).unwrap();
    for piece in content.chunks(chunk) {
        writer.write_chunk(piece).unwrap();
    }
    writer.commit().unwrap()
}

#[test]
fn hostile_content_round_trips_byte_for_byte_in_every_format() {
    for format in FORMATS {
        let dir = tempfile::tempdir().unwrap();
        let target = target_in(dir.path(), format);
        let mut sink = open_sink(format, &target).unwrap();
        let mut originals = Vec::new();
        let mut number = 0;
        for chunk in [1, 7, 4093, 65_537] {
            for (_, content) in hostile_messages() {
                number += 1;
                let promised = write_in_chunks(sink.as_mut(), number, &content, chunk);
                assert_eq!(promised.bytes, content.len() as u64);
                originals.push(content);
            }
        }
        let saved = sink.sync().unwrap();
        assert_eq!(saved.len(), originals.len(), "{format:?}");
        assert_eq!(
            saved.iter().map(|s| s.number).collect::<Vec<_>>(),
            (1..=number).collect::<Vec<_>>()
        );
        let stored = read_back(format, &target, &saved);
        assert_eq!(stored.len(), originals.len(), "{format:?}");
        for (i, (got, want)) in stored.iter().zip(&originals).enumerate() {
            assert!(
                got == want,
                "{format:?}: message {} differs ({} vs {} bytes)",
                i + 1,
                got.len(),
                want.len()
            );
        }
    }
}

#[test]
fn a_20_mb_message_in_odd_chunks_round_trips() {
    let mut content = Vec::with_capacity(20 * 1024 * 1024);
    let mut line = 0u32;
    while content.len() < 20 * 1024 * 1024 {
        line += 1;
        let text = match line % 5 {
            0 => format!("From line {line}\r\n"),
            1 => format!(".dot line {line}\r\n"),
            2 => format!(">From quoted {line}\r\n"),
            _ => format!("{line:0>70}\r\n"),
        };
        content.extend_from_slice(text.as_bytes());
    }
    for format in FORMATS {
        let dir = tempfile::tempdir().unwrap();
        let target = target_in(dir.path(), format);
        let mut sink = open_sink(format, &target).unwrap();
        write_in_chunks(sink.as_mut(), 1, &content, 12_345);
        let saved = sink.sync().unwrap();
        let stored = read_back(format, &target, &saved);
        assert!(stored == [content.clone()], "{format:?}");
    }
}

#[test]
fn a_sync_job_runs_on_another_thread_while_the_next_batch_is_written() {
    for format in FORMATS {
        let dir = tempfile::tempdir().unwrap();
        let target = target_in(dir.path(), format);
        let mut sink = open_sink(format, &target).unwrap();
        for n in 1..=3 {
            write_in_chunks(sink.as_mut(), n, format!("Subject: {n}\r\n\r\nfirst\r\n").as_bytes(), 5);
        }
        let job = sink.start_sync().unwrap();
        assert_eq!(sink.pending(), 0, "{format:?}: the batch moved into the job");
        let first = std::thread::spawn(move || job.run());
        for n in 4..=5 {
            write_in_chunks(
                sink.as_mut(),
                n,
                format!("Subject: {n}\r\n\r\nsecond\r\n").as_bytes(),
                3,
            );
        }
        let first = first.join().unwrap().unwrap();
        assert_eq!(
            first.iter().map(|s| s.number).collect::<Vec<_>>(),
            [1, 2, 3],
            "{format:?}"
        );
        let second = sink.sync().unwrap();
        assert_eq!(
            second.iter().map(|s| s.number).collect::<Vec<_>>(),
            [4, 5],
            "{format:?}"
        );
        let all: Vec<SavedAt> = first.into_iter().chain(second).collect();
        let stored = read_back(format, &target, &all);
        for (n, got) in (1..).zip(&stored) {
            let part = if n <= 3 { "first" } else { "second" };
            assert_eq!(got, format!("Subject: {n}\r\n\r\n{part}\r\n").as_bytes(), "{format:?}");
        }
    }
}

#[test]
fn a_sync_job_dropped_unrun_saves_nothing() {
    for format in [Format::Maildir, Format::Eml] {
        let dir = tempfile::tempdir().unwrap();
        let target = target_in(dir.path(), format);
        let mut sink = open_sink(format, &target).unwrap();
        write_in_chunks(sink.as_mut(), 1, b"Subject: x\r\n\r\n", 4);
        drop(sink.start_sync().unwrap());
        let files: Vec<PathBuf> = walk(dir.path()).into_iter().filter(|p| p.is_file()).collect();
        assert!(files.is_empty(), "{format:?}: {files:?}");
        assert!(sink.sync().unwrap().is_empty());
    }
}

#[test]
fn abort_and_drop_leave_nothing_visible() {
    for format in FORMATS {
        let dir = tempfile::tempdir().unwrap();
        let target = target_in(dir.path(), format);
        let mut sink = open_sink(format, &target).unwrap();
        let mut writer = sink.begin(&MessageMeta::default()).unwrap();
        writer.write_chunk(&vec![b'x'; 3 * SPOOL_CAPACITY + 1]).unwrap();
        writer.abort();
        let mut writer = sink.begin(&MessageMeta::default()).unwrap();
        writer.write_chunk(b"Subject: dropped\r\n").unwrap();
        drop(writer);
        assert!(sink.sync().unwrap().is_empty());
        drop(sink);
        let leftovers: Vec<PathBuf> = walk(dir.path())
            .into_iter()
            .filter(|p| p.is_file() && fs::metadata(p).unwrap().len() > 0)
            .collect();
        assert!(leftovers.is_empty(), "{format:?}: {leftovers:?}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// A directory nothing can be created in, even by root: mode 0555, or when
/// permissions do not bind (root), a read-only tmpfs mounted on it.
struct Unwritable {
    path: PathBuf,
    mounted: bool,
    _dir: tempfile::TempDir,
}

impl Unwritable {
    fn new(options: &str) -> Option<Unwritable> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target");
        fs::create_dir(&path).unwrap();
        if options == "ro" {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o555)).unwrap();
            if fs::write(path.join("probe"), b"").is_err() {
                return Some(Unwritable {
                    path,
                    mounted: false,
                    _dir: dir,
                });
            }
            fs::remove_file(path.join("probe")).unwrap();
        }
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "popscope-test"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
            assert!(
                !ci,
                "cannot make an unwritable or full directory here (need non-root, or root with mount)"
            );
            eprintln!("skipped: cannot mount a tmpfs ({options}) here");
            return None;
        }
        Some(Unwritable {
            path,
            mounted,
            _dir: dir,
        })
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.path).status();
        }
    }
}

#[test]
fn an_unwritable_target_fails_at_open_with_a_clear_error() {
    let Some(ro) = Unwritable::new("ro") else { return };
    for format in FORMATS {
        let targets = match format {
            Format::Mbox => vec![target_in(&ro.path, format)],
            Format::Maildir | Format::Eml => vec![ro.path.clone(), ro.path.join("inner")],
        };
        for target in targets {
            let err = open_sink(format, &target)
                .err()
                .unwrap_or_else(|| panic!("{format:?} {target:?} opened"));
            let text = err.to_string();
            let clear = text.contains("permission denied") || text.contains("read-only");
            assert!(clear, "{format:?}: {text}");
            assert!(text.contains(&ro.path.display().to_string()), "names the path: {text}");
            assert!(err.hint().is_some(), "{text}");
        }
    }
    assert_eq!(fs::read_dir(&ro.path).unwrap().count(), 0, "nothing was written");
}

#[test]
fn a_full_disk_is_reported_and_leaves_nothing_visible() {
    let Some(small) = Unwritable::new("size=256k") else {
        return;
    };
    let big = vec![b'x'; 2 * 1024 * 1024];
    for format in FORMATS {
        let target = target_in(&small.path, format);
        let mut sink = open_sink(format, &target).unwrap();
        let mut save = || {
            let mut writer = sink.begin(&MessageMeta::default())?;
            for piece in big.chunks(10_000) {
                writer.write_chunk(piece)?;
            }
            writer.commit()?;
            sink.sync()
        };
        let outcome = save();
        let err = outcome
            .err()
            .unwrap_or_else(|| panic!("{format:?}: 2 MB fit in 256 KB"));
        assert!(
            err.to_string().contains("no space left on the device"),
            "{format:?}: {err}"
        );
        assert!(err.hint().unwrap().contains("free some space"), "{err}");
        drop(sink);
        let visible: u64 = walk(&small.path)
            .iter()
            .filter(|p| p.is_file())
            .map(|p| fs::metadata(p).unwrap().len())
            .sum();
        assert_eq!(visible, 0, "{format:?}: a partial message was left behind");
        let _ = fs::remove_dir_all(&target);
        let _ = fs::remove_file(&target);
    }
}

#[test]
fn mbox_uid_state_and_eml_live_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("inbox.mbox");
    let state = UidState::path_for(Format::Mbox, &target);
    assert_eq!(state, dir.path().join("inbox.mbox.popscope-uids"));
    let mut uids = UidState::load(&state, Account::new("h", 110, "u")).unwrap();
    uids.insert("1");
    uids.save().unwrap();
    let mut sink = open_sink(Format::Mbox, &target).unwrap();
    write_in_chunks(sink.as_mut(), 1, b"x\r\n", 2);
    sink.sync().unwrap();
    assert!(
        UidState::load(&state, Account::new("h", 110, "u"))
            .unwrap()
            .contains("1")
    );
}
