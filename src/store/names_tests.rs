use super::*;
use std::fs;

/// Names a mail can carry to try to choose the directory, hide an
/// extension or hit a device.
pub(crate) const HOSTILE_NAMES: &[&str] = &[
    "../../etc/passwd",
    "../../../../../../../../tmp/escaped",
    "/etc/passwd",
    "/",
    "//",
    "C:\\Windows\\System32\\evil.dll",
    "C:x",
    "\\\\server\\share\\x.txt",
    "..",
    ".",
    "...",
    "",
    "   ",
    ".bashrc",
    "a\0b.txt",
    "\0",
    "a\x1b]0;pwned\x07b.txt",
    "\x1b[2J",
    "invoice\u{202e}fdp.exe",
    "\u{202e}\u{2066}",
    "name. . .",
    "CON",
    "con.txt",
    "Com1.tar.gz",
    "LPT9",
    "nul .txt",
    "AUX..",
    "lpt\u{b9}.txt",
    "a:b*c?d\"e<f>g|h.txt",
    "..\\..\\boot.ini",
    "foo/..",
    "x/./../y",
    "tab\tnew\nline\r.txt",
    "\u{feff}\u{200b}",
    "\u{7f}\u{80}\u{9f}",
];

fn long(unit: &str, times: usize, ext: &str) -> String {
    unit.repeat(times) + ext
}

#[test]
fn attachment_names_table() {
    let table: &[(&str, &str)] = &[
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("C:\\Windows\\System32\\evil.dll", "evil.dll"),
        ("C:x", "C_x"),
        ("\\\\server\\share\\x.txt", "x.txt"),
        ("..", "attachment"),
        (".", "attachment"),
        ("...", "attachment"),
        ("", "attachment"),
        ("   ", "attachment"),
        ("/", "attachment"),
        ("\\", "attachment"),
        ("foo/..", "foo"),
        (".bashrc", "bashrc"),
        ("a\0b.txt", "a_b.txt"),
        ("a\x1b]0;pwned\x07b.txt", "a_]0;pwned_b.txt"),
        ("invoice\u{202e}fdp.exe", "invoicefdp.exe"),
        ("name. . .", "name"),
        ("trailing.txt. ", "trailing.txt"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Com1.tar.gz", "_Com1.tar.gz"),
        ("LPT9", "_LPT9"),
        ("lpt\u{b9}.txt", "_lpt\u{b9}.txt"),
        ("COM10.txt", "COM10.txt"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("nul .txt", "_nul.txt"),
        ("AUX..", "_AUX"),
        ("a:b*c?d\"e<f>g|h.txt", "a_b_c_d_e_f_g_h.txt"),
        ("two  spaces\tand\nnewline.txt", "two spaces and newline.txt"),
        (
            "\u{fc}n\u{ef}c\u{f6}d\u{e9} \u{6587}\u{4ef6}.pdf",
            "\u{fc}n\u{ef}c\u{f6}d\u{e9} \u{6587}\u{4ef6}.pdf",
        ),
        ("\u{7f}\u{80}x", "__x"),
    ];
    for (input, want) in table {
        assert_eq!(sanitize_attachment_name(input), *want, "input {input:?}");
    }
}

#[test]
fn long_attachment_names_are_cut_on_a_char_boundary_keeping_the_extension() {
    for (input, ext) in [
        (long("a", 300, ".pdf"), ".pdf"),
        (long("\u{e9}", 300, ".pdf"), ".pdf"),
        (long("\u{1f600}", 100, ".docx"), ".docx"),
        (long("x", 300, ""), ""),
        (long("\u{6587}", 300, ".averyveryverylongextension"), ""),
    ] {
        let name = sanitize_attachment_name(&input);
        assert!(name.len() <= MAX_NAME_BYTES, "{} bytes", name.len());
        assert!(name.len() > MAX_NAME_BYTES - 8, "cut too much: {}", name.len());
        assert!(name.ends_with(ext), "{name}");
    }
}

/// What every produced name must be, whatever went in.
fn assert_plain(name: &str, input: &str) {
    assert!(is_plain_file_name(name), "{input:?} -> {name:?}");
    assert!(!name.contains(['/', '\\', '\0']), "{input:?} -> {name:?}");
    assert!(
        !name.starts_with('.') && !name.ends_with('.') && !name.ends_with(' '),
        "{input:?} -> {name:?}"
    );
    assert!(name.chars().all(|c| !c.is_control()), "{input:?} -> {name:?}");
    assert!(crate::sanitize::is_terminal_safe(name), "{input:?} -> {name:?}");
    assert!(!is_reserved(name), "{input:?} -> {name:?}");
}

#[test]
fn every_hostile_name_becomes_a_plain_name() {
    for input in HOSTILE_NAMES {
        assert_plain(&sanitize_attachment_name(input), input);
        assert_plain(&propose_eml_name(Some(input), input, 7), input);
    }
}

#[test]
fn hostile_names_stay_inside_the_chosen_directory() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("saved");
    fs::create_dir(&base).unwrap();
    let chosen = base.canonicalize().unwrap();
    for input in HOSTILE_NAMES {
        let name = sanitize_attachment_name(input);
        let path = unique_path(&base, &name).unwrap();
        fs::write(&path, input.as_bytes()).unwrap();
        // The file exists, and resolving every link and `..` lands it
        // directly in the directory that was chosen.
        let resolved = path.canonicalize().unwrap();
        assert_eq!(
            resolved.parent(),
            Some(chosen.as_path()),
            "{input:?} escaped to {resolved:?}"
        );
    }
    // Nothing was written anywhere else in the temp tree.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(fs::read_dir(&base).unwrap().count(), HOSTILE_NAMES.len());
}

#[test]
fn proposed_eml_names_table() {
    let table: &[(Option<&str>, &str, u32, &str)] = &[
        (
            Some("Thu, 03 Jul 2025 10:00:00 +0200"),
            "Invoice 2025-0042",
            1,
            "2025-07-03 Invoice 2025-0042.eml",
        ),
        (
            Some("2025-07-03T23:30:00-05:00"),
            "Re: Meeting",
            2,
            "2025-07-03 Re_ Meeting.eml",
        ),
        (None, "", 12, "message 12.eml"),
        (
            Some("Thu, 03 Jul 2025 10:00:00 +0200"),
            "   ",
            5,
            "2025-07-03 message 5.eml",
        ),
        (Some("garbage"), "Hi", 3, "Hi.eml"),
        (None, ".hidden", 1, "hidden.eml"),
        (None, "../../etc/passwd", 1, "_.._etc_passwd.eml"),
        (None, "CON", 1, "_CON.eml"),
        (None, "a\x1b]0;pwned\x07b", 1, "a_]0;pwned_b.eml"),
        (
            None,
            "Ordre \u{2116} 5 \u{2014} \u{fc}berf\u{e4}llig",
            1,
            "Ordre \u{2116} 5 \u{2014} \u{fc}berf\u{e4}llig.eml",
        ),
        (None, "folded\r\n subject", 1, "folded subject.eml"),
    ];
    for (date, subject, number, want) in table {
        assert_eq!(propose_eml_name(*date, subject, *number), *want, "{date:?} {subject:?}");
    }
}

#[test]
fn a_huge_subject_gives_a_bounded_name() {
    let subject = "\u{e9}".repeat(100_000);
    let name = propose_eml_name(Some("Mon, 1 Jan 2024 00:00:00 +0000"), &subject, 1);
    assert!(name.len() <= MAX_NAME_BYTES);
    assert!(
        name.starts_with("2024-01-01 \u{e9}") && name.ends_with(".eml"),
        "{name}"
    );
}

#[test]
fn uid_file_names_table() {
    let table: &[(&str, &str)] = &[
        ("abc123", "abc123.eml"),
        ("000000017b2c4d5e", "000000017b2c4d5e.eml"),
        ("a/b", "a%2Fb.eml"),
        ("..", "%2E..eml"),
        (".x", "%2Ex.eml"),
        ("100%", "100%25.eml"),
        ("a b\n", "a%20b%0A.eml"),
        ("a:b\\c", "a%3Ab%5Cc.eml"),
        ("CON", "%43ON.eml"),
        ("_CON", "_CON.eml"),
        ("1.2.3", "1.2.3.eml"),
        ("", "%.eml"),
    ];
    for (uid, want) in table {
        assert_eq!(uid_file_name(uid), *want, "uid {uid:?}");
    }
}

#[test]
fn distinct_uids_get_distinct_plain_names() {
    let mut uids: Vec<String> = ["a/b", "a%2Fb", "a_b", "CON", "%43ON", "..", "%2E.", ".", "%2E", "", "%"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    uids.push("x".repeat(300));
    uids.push("x".repeat(299) + "y");
    uids.push("/".repeat(100));
    let names: std::collections::HashSet<String> = uids.iter().map(|u| uid_file_name(u)).collect();
    assert_eq!(names.len(), uids.len());
    for (uid, name) in uids.iter().zip(uids.iter().map(|u| uid_file_name(u))) {
        assert_plain(&name, uid);
    }
}

#[test]
fn a_long_uid_with_a_device_name_stays_within_the_limit() {
    let uid = format!("nul.{}", "\u{16}".repeat(80));
    let name = uid_file_name(&uid);
    assert!(name.len() <= MAX_NAME_BYTES, "{} bytes: {name}", name.len());
    assert!(name.starts_with("%6Eul."), "{name}");
    assert_plain(&name, &uid);
}

#[test]
fn a_long_subject_with_a_device_name_stays_within_the_limit() {
    let subject = format!("nul.{}", "x".repeat(300));
    for name in [propose_eml_name(None, &subject, 1), sanitize_attachment_name(&subject)] {
        assert!(name.len() <= MAX_NAME_BYTES, "{} bytes: {name}", name.len());
        assert!(name.starts_with("_nul."), "{name}");
        assert_plain(&name, &subject);
    }
}

#[test]
fn plain_file_names_table() {
    for (name, plain) in [
        ("a.eml", true),
        (".eml", true),
        ("", false),
        (".", false),
        ("..", false),
        ("a/b", false),
        ("a\0", false),
    ] {
        assert_eq!(is_plain_file_name(name), plain, "{name:?}");
    }
    assert!(!is_plain_file_name(&"x".repeat(MAX_NAME_BYTES + 1)));
}

#[test]
fn unique_path_counts_up_and_respects_dangling_links() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(unique_path(d, "a.eml").unwrap(), d.join("a.eml"));
    fs::write(d.join("a.eml"), b"").unwrap();
    assert_eq!(unique_path(d, "a.eml").unwrap(), d.join("a (2).eml"));
    fs::write(d.join("a (2).eml"), b"").unwrap();
    assert_eq!(unique_path(d, "a.eml").unwrap(), d.join("a (3).eml"));
    fs::write(d.join("notes"), b"").unwrap();
    assert_eq!(unique_path(d, "notes").unwrap(), d.join("notes (2)"));
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("link.txt")).unwrap();
    assert_eq!(unique_path(d, "link.txt").unwrap(), d.join("link (2).txt"));
}
