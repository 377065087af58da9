use super::*;
use crate::store::names::tests::HOSTILE_NAMES;
use base64::engine::general_purpose::STANDARD;
use std::fs;

fn every_byte() -> Vec<u8> {
    (0..=255u8).cycle().take(3000).collect()
}

fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
        .collect()
}

/// A multipart message with one attachment of each transfer encoding.
fn multipart() -> Vec<u8> {
    let mut m = String::from(
        "From: a@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
         --XX\r\nContent-Type: text/plain\r\n\r\nThe body.\r\n",
    );
    m.push_str(
        "--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"r\u{e9}sum\u{e9}.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    m.push_str(&base64_lines(&every_byte()));
    m.push_str(
        "--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Disposition: attachment; filename=notes.txt\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n\
         caf=E9 =3D 1 \r\nsoft=\r\n break  \r\nlast=0D=0A\r\n",
    );
    m.push_str(
        "--XX\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=data.csv\r\n\
         Content-Transfer-Encoding: 7bit\r\n\r\na,b\r\n1,2\r\n",
    );
    m.push_str(
        "--XX\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n\
         Subject: Forwarded / old\r\n\r\ninner body\r\n",
    );
    m.push_str("--XX\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    m.push_str(&base64_lines(b"%PDF-1.4"));
    m.push_str("--XX--\r\n");
    m.into_bytes()
}

#[test]
fn each_transfer_encoding_decodes_to_the_original_bytes() {
    let raw = multipart();
    let pdf = decode_attachment(&raw, 0).unwrap();
    assert_eq!(pdf.file_name, "r\u{e9}sum\u{e9}.pdf");
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.bytes, every_byte());
    let notes = decode_attachment(&raw, 1).unwrap();
    // Latin-1 stays Latin-1: the file is what the sender attached. The line
    // end before a boundary belongs to the boundary (RFC 2046 §5.1.1).
    assert_eq!(notes.bytes, b"caf\xe9 = 1\r\nsoft break\r\nlast\r\n");
    let csv = decode_attachment(&raw, 2).unwrap();
    assert_eq!(
        (csv.file_name.as_str(), csv.bytes.as_slice()),
        ("data.csv", &b"a,b\r\n1,2"[..])
    );
    let forwarded = decode_attachment(&raw, 3).unwrap();
    assert_eq!(forwarded.file_name, "Forwarded _ old.eml");
    assert_eq!(forwarded.bytes, b"Subject: Forwarded / old\r\n\r\ninner body");
    let unnamed = decode_attachment(&raw, 4).unwrap();
    assert_eq!(
        (unnamed.file_name.as_str(), unnamed.bytes.as_slice()),
        ("attachment.pdf", &b"%PDF-1.4"[..])
    );
    let err = decode_attachment(&raw, 5).unwrap_err();
    assert_eq!(err.message(), "the message has no attachment 6");
}

#[test]
fn saving_is_durable_and_never_overwrites_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let raw = multipart();
    let first = save_attachment(&raw, 0, dir.path(), OnExists::Unique).unwrap();
    let second = save_attachment(&raw, 0, dir.path(), OnExists::Unique).unwrap();
    assert_eq!(first, dir.path().join("r\u{e9}sum\u{e9}.pdf"));
    assert_eq!(second, dir.path().join("r\u{e9}sum\u{e9} (2).pdf"));
    assert_eq!(fs::read(&second).unwrap(), every_byte());
    let err = save_attachment(&raw, 0, dir.path(), OnExists::Fail).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

#[test]
fn hostile_attachment_names_stay_inside_the_chosen_directory() {
    let dir = tempfile::tempdir().unwrap();
    let chosen = dir.path().join("attachments");
    fs::create_dir(&chosen).unwrap();
    let canonical = chosen.canonicalize().unwrap();
    for name in HOSTILE_NAMES.iter().filter(|n| !n.contains(['\r', '\n', '"', '\0'])) {
        let raw = format!(
            "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nx\r\n\
             --B\r\nContent-Type: application/octet-stream\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\r\nsecret\r\n--B--\r\n"
        );
        let path = save_attachment(raw.as_bytes(), 0, &chosen, OnExists::Unique).unwrap();
        let resolved = path.canonicalize().unwrap();
        assert_eq!(
            resolved.parent(),
            Some(canonical.as_path()),
            "{name:?} landed at {resolved:?}"
        );
    }
    // RFC 2231 and encoded-word names are decoded by the parser first and
    // must not smuggle a separator either.
    for header in [
        "filename*=UTF-8''..%2F..%2Fetc%2Fpasswd",
        "filename=\"=?UTF-8?B?Li4vLi4vZXRjL3Bhc3N3ZA==?=\"",
        "filename*=UTF-8''%00%1B%5B2J",
    ] {
        let raw = format!(
            "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nx\r\n\
             --B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; {header}\r\n\r\n\
             secret\r\n--B--\r\n"
        );
        let path = save_attachment(raw.as_bytes(), 0, &chosen, OnExists::Unique).unwrap();
        let resolved = path.canonicalize().unwrap();
        assert_eq!(
            resolved.parent(),
            Some(canonical.as_path()),
            "{header} landed at {resolved:?}"
        );
    }
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written beside the directory"
    );
}

#[test]
fn garbage_never_panics() {
    for raw in [
        &b""[..],
        b"\0\0\0",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
        &[0xff; 100],
    ] {
        for index in [0, 1, usize::MAX] {
            let _ = decode_attachment(raw, index);
        }
    }
}

#[test]
fn quoted_printable_table() {
    let table: &[(&[u8], &[u8])] = &[
        (b"a=3Db", b"a=b"),
        (b"a=3db", b"a=b"),
        (b"soft=\r\nbreak", b"softbreak"),
        (b"soft=\nbreak", b"softbreak"),
        (b"pad   \r\nx", b"pad\r\nx"),
        (b"bad=ZZ", b"bad=ZZ"),
        (b"plus=+1", b"plus=+1"),
        (b"end=", b"end"),
        (b"=", b""),
        (b"lf\nline", b"lf\nline"),
        (b"=E9=e9", b"\xe9\xe9"),
    ];
    for (input, want) in table {
        assert_eq!(
            decode_quoted_printable(input),
            *want,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn base64_table() {
    let table: &[(&[u8], &[u8])] = &[
        (b"aGVsbG8=", b"hello"),
        (b"aGVs\r\nbG8=\r\n", b"hello"),
        (b"aGVsbG8", b"hello"),
        (b"aGVsbG8=junk", b"hello"),
        (b"aGVsbG8h!", b"hello!"),
        (b"a", b""),
        (b"", b""),
    ];
    for (input, want) in table {
        assert_eq!(decode_base64(input), *want, "{:?}", String::from_utf8_lossy(input));
    }
}
