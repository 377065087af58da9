use super::*;
use crate::mail::MAX_HEADER_VALUE;
use crate::sanitize::is_terminal_safe;

const SOUND: &[u8] = b"From: Alice Example <alice@example.org>\r\nTo: bob@example.net\r\n\
    Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 1 Jul 2025 10:52:37 +0200\r\nMessage-ID: <x@y>\r\n\r\n";

fn reasons(raw: &[u8]) -> Vec<Broken> {
    HeaderSummary::parse(raw).broken.iter().collect()
}

fn assert_safe(h: &HeaderSummary) {
    for value in [h.from(), h.to(), h.cc(), h.subject(), h.message_id(), h.content_type()] {
        assert!(is_terminal_safe(value) && !value.contains('\n'), "{value:?}");
    }
    for (name, value) in h.other_headers() {
        assert!(is_terminal_safe(name) && !name.contains(':'), "{name:?}");
        assert!(is_terminal_safe(value) && !value.contains('\n'), "{value:?}");
    }
}

#[test]
fn ordinary_headers() {
    let h = HeaderSummary::parse(SOUND);
    assert_eq!(h.from(), "Alice Example <alice@example.org>");
    assert_eq!(h.to(), "bob@example.net");
    assert_eq!(h.subject(), "Grüße");
    assert_eq!(h.message_id(), "x@y");
    assert!(h.date().unwrap().starts_with("2025-07-01T10:52:37"));
    assert!(h.timestamp.is_some());
    assert!(h.broken.is_empty(), "{:?}", h.broken);
    assert!(!h.has_attachment);
    assert_eq!(h.other_headers().count(), 0, "every header is in a field");
}

#[test]
fn escapes_inside_encoded_words_are_neutralized() {
    // ESC [2J hidden in base64: only visible after RFC 2047 decoding.
    let h = HeaderSummary::parse(
        b"Subject: =?utf-8?B?G1sySmNsZWFyZWQ=?=\r\nFrom: =?utf-8?Q?=1B]0;pwned=07?= <a@b>\r\n\
          X-Note: =?utf-8?B?G1sySmNsZWFyZWQ=?=\r\n\r\n",
    );
    assert!(is_terminal_safe(h.subject()), "{:?}", h.subject());
    assert!(h.subject().contains("[2Jcleared"));
    assert!(is_terminal_safe(h.from()), "{:?}", h.from());
    assert_eq!(h.header_values("x-note").collect::<Vec<_>>(), ["\u{241b}[2Jcleared"]);
    assert_safe(&h);
}

#[test]
fn hostile_blocks_do_not_panic_and_are_bounded() {
    let mut long = b"Subject: ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 200 * 1024));
    long.extend_from_slice(b"\r\n\r\n");
    let h = HeaderSummary::parse(&long);
    assert!(h.subject().chars().count() <= MAX_HEADER_VALUE + 1);
    assert!(h.broken.contains(Broken::LongLine));
    for raw in [
        &b""[..],
        b"\0\0\0",
        b"Subject: \xff\xfe\x00\r\n",
        b"=?x?q?=?=",
        b"From: <<<<@@@>>>",
        b"X-\x1b[2J: v\r\n\r\n",
        b"\xff\xff: \xff\r\n \xff\r\n\r\n",
    ] {
        let h = HeaderSummary::parse(raw);
        assert_safe(&h);
        assert!(!h.broken.is_empty(), "{raw:?}");
    }
}

/// Issue 11 item 20: 8-bit header bytes are Windows-1252, as in mail
/// clients, not U+FFFD.
#[test]
fn eight_bit_headers_read_as_windows_1252() {
    let h = HeaderSummary::parse(
        b"From: J\xfcrgen M\xfcller <juergen@example.de>\r\nSubject: Gr\xfc\xdfe \x96 caf\xe9\r\n\
          Date: Mon, 01 Jan 2024 12:00:00 +0000\r\nX-Mailer: Pr\xe4sident 1.0\r\n\r\n",
    );
    assert_eq!(h.from(), "Jürgen Müller <juergen@example.de>");
    assert_eq!(h.subject(), "Grüße – café");
    assert_eq!(h.header_values("X-Mailer").collect::<Vec<_>>(), ["Präsident 1.0"]);
    assert_eq!(h.broken.iter().collect::<Vec<_>>(), [Broken::Raw8Bit]);

    // Valid UTF-8 (RFC 6532) and encoded words are read as before.
    let utf8 = "From: Jürgen Müller <j@example.de>\r\nSubject: =?iso-8859-1?Q?M=FCller?= 日本\r\n\
                Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n\r\n";
    let h = HeaderSummary::parse(utf8.as_bytes());
    assert_eq!(h.from(), "Jürgen Müller <j@example.de>");
    assert_eq!(h.subject(), "Müller 日本");
    assert!(h.broken.is_empty(), "{:?}", h.broken);

    // Hostile bytes are still made harmless: raw C1 bytes, ESC, NUL.
    let h = HeaderSummary::parse(b"From: \x81\x9b31m \x1b[2J\0 <a@b>\r\nSubject: \x9d0;t\x07 \xe9\r\n\r\n");
    assert_safe(&h);
    assert!(h.from().contains("\u{241b}[2J\u{2400}"), "{:?}", h.from());
    assert!(h.subject().ends_with(" é"), "{:?}", h.subject());
}

#[test]
fn each_broken_reason_is_noticed() {
    let date = "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n";
    let from = "From: a@example.org\r\n";
    let cases: [(String, &[Broken]); 14] = [
        (format!("{from}{date}\r\n"), &[]),
        (String::new(), &[Broken::Unparsable, Broken::NoFrom, Broken::NoDate]),
        ("\r\n".into(), &[Broken::Unparsable, Broken::NoFrom, Broken::NoDate]),
        (
            "just some text, no header at all".into(),
            &[Broken::Unparsable, Broken::NoFrom, Broken::NoDate],
        ),
        (format!("{date}Subject: s\r\n\r\n"), &[Broken::NoFrom]),
        (format!("From: \r\n{date}\r\n"), &[Broken::NoFrom]),
        (format!("{from}Subject: s\r\n\r\n"), &[Broken::NoDate]),
        (format!("{from}Date: yesterday\r\n\r\n"), &[Broken::BadDate]),
        (
            format!("{from}Date: 45 Jan 2024 12:00:00 +0000\r\n\r\n"),
            &[Broken::BadDate],
        ),
        (format!("{from}{date}Subject: a\rb\r\n\r\n"), &[Broken::BareCr]),
        (format!("{from}{date}Subject: a\0b\r\n\r\n"), &[Broken::Nul]),
        (
            format!("{from}{date}X-Long: {}\r\n\r\n", "x".repeat(991)),
            &[Broken::LongLine],
        ),
        (
            format!("{from}{date}Subject: =?utf-8?B?notbase64!!?=\r\n\r\n"),
            &[Broken::BadEncodedWord],
        ),
        (
            format!("{from}{date}X-Y: =?utf-8?Q?unterminated\r\n\r\n"),
            &[Broken::BadEncodedWord],
        ),
    ];
    for (raw, expected) in cases {
        assert_eq!(reasons(raw.as_bytes()), expected, "{raw:?}");
    }
    // Just inside the line limit: 998 characters before CRLF.
    let raw = format!("{from}{date}X-Long: {}\r\n\r\n", "x".repeat(990));
    assert!(reasons(raw.as_bytes()).is_empty());
    assert_eq!(
        reasons(b"From: a@b\r\nSubject: \xe9\r\n\r\n"),
        [Broken::NoDate, Broken::Raw8Bit]
    );
}

#[test]
fn encoded_words_that_do_not_decode() {
    let bad = [
        "=?unknown-charset?Q?x?=",
        "=?utf-8?X?bad-encoding?=",
        "=??Q??=",
        "=?utf-8?B?notbase64!!?=",
        "=?utf-8?Q?unterminated",
        "ok =?utf-8?Q?fine?= then =?nope?B?eA==?=",
    ];
    for word in bad {
        assert!(has_bad_encoded_word(word.as_bytes()), "{word}");
    }
    let good = [
        "=?utf-8?B?4pyTIGNoZWNr?=",
        "=?UTF-8?q?caf=C3=A9?= and =?ISO-8859-1?Q?J=FCrgen?=",
        "=?utf-8*en?B?SGVsbG8?=",
        "=?iso-2022-jp?B?GyRCJEgbKEI=?=",
        "a=?b and x =? y, https://example.org/?a=?b",
        "plain text",
    ];
    for word in good {
        assert!(!has_bad_encoded_word(word.as_bytes()), "{word}");
    }
}

#[test]
fn attachments_are_noticed_in_the_block() {
    let base = "From: a@b\r\nDate: Mon, 01 Jan 2024 12:00:00 +0000\r\n";
    for (extra, expected) in [
        ("Content-Type: multipart/mixed; boundary=x\r\n", true),
        ("Content-Type: Multipart/Mixed; boundary=x\r\n", true),
        (
            "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n",
            true,
        ),
        ("Content-Type: multipart/alternative; boundary=x\r\n", false),
        ("Content-Type: text/plain\r\nContent-Disposition: inline\r\n", false),
        ("", false),
    ] {
        let h = HeaderSummary::parse(format!("{base}{extra}\r\n").as_bytes());
        assert_eq!(h.has_attachment, expected, "{extra:?}");
    }
}

#[test]
fn other_headers_are_kept_for_queries() {
    let h = HeaderSummary::parse(
        b"Return-Path: <bounce@lists.example.org>\r\n\
          Received: from mx1.example.net\r\n\tby mail.example.test; Mon, 01 Jan 2024 12:00:00 +0000\r\n\
          Received: from relay.example.com by mx1.example.net\r\n\
          From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: s\r\n\
          Date: Mon, 01 Jan 2024 12:00:00 +0000\r\nMessage-ID: <id@example.org>\r\n\
          List-Id: =?utf-8?Q?Caf=C3=A9?= list <cafe.lists.example.org>\r\n\
          X-Spam-Flag: YES\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    assert_eq!(
        h.header_values("RECEIVED").collect::<Vec<_>>(),
        [
            "from mx1.example.net by mail.example.test; Mon, 01 Jan 2024 12:00:00 +0000",
            "from relay.example.com by mx1.example.net"
        ]
    );
    assert_eq!(
        h.header_values("list-id").collect::<Vec<_>>(),
        ["Café list <cafe.lists.example.org>"]
    );
    assert_eq!(h.header_values("x-spam-flag").collect::<Vec<_>>(), ["YES"]);
    assert_eq!(
        h.header_values("Return-Path").collect::<Vec<_>>(),
        ["<bounce@lists.example.org>"]
    );
    assert_eq!(
        h.header_values("content-type").collect::<Vec<_>>(),
        ["text/plain; charset=utf-8"]
    );
    // The fields answer for their headers; nothing is stored twice.
    assert_eq!(
        h.header_values("from").collect::<Vec<_>>(),
        ["Alice <alice@example.org>"]
    );
    assert_eq!(h.header_values("Message-Id").collect::<Vec<_>>(), ["id@example.org"]);
    assert_eq!(h.header_values("date").collect::<Vec<_>>(), ["2024-01-01T12:00:00Z"]);
    assert_eq!(h.header_values("cc").count(), 0);
    assert_eq!(h.header_values("x-absent").count(), 0);
    let names: Vec<&str> = h.other_headers().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Return-Path",
            "Received",
            "Received",
            "List-ID",
            "X-Spam-Flag",
            "Content-Type"
        ]
    );

    // A Date that is not a date is kept as written.
    let h = HeaderSummary::parse(b"From: a@b\r\nDate: last Tuesday\r\n\r\n");
    assert_eq!(h.header_values("date").collect::<Vec<_>>(), ["last Tuesday"]);
}

#[test]
fn other_headers_are_bounded() {
    let mut raw = b"From: a@b\r\n".to_vec();
    for i in 0..200 {
        raw.extend_from_slice(format!("X-H{i}: v{i}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    let h = HeaderSummary::parse(&raw);
    assert_eq!(h.other_headers().count(), MAX_OTHER_HEADERS);
    assert_eq!(h.header_values("x-h63").collect::<Vec<_>>(), ["v63"]);

    let mut raw = b"From: a@b\r\n".to_vec();
    raw.extend_from_slice(format!("X-Huge: {}\r\n", "y ".repeat(100_000)).as_bytes());
    for i in 0..20 {
        raw.extend_from_slice(format!("X-Big{i}: {}\r\n", "z".repeat(300)).as_bytes());
    }
    raw.extend_from_slice(b"List-Id: <small.example.org>\r\n\r\n");
    let h = HeaderSummary::parse(&raw);
    let bytes: usize = h.other_headers().map(|(n, v)| n.len() + v.len() + 3).sum();
    assert!(bytes <= MAX_OTHER_HEADER_BYTES, "{bytes}");
    let huge = h.header_values("x-huge").next().unwrap();
    assert!(huge.ends_with('…') && huge.chars().count() <= 129, "{huge}");
    // Headers that no longer fit are left out; a later small one still fits.
    assert!(h.header_values("x-big19").next().is_none());
    assert_eq!(h.header_values("list-id").collect::<Vec<_>>(), ["<small.example.org>"]);
}

#[test]
fn coded_names_round_trip() {
    let mut raw = b"From: a@b\r\n".to_vec();
    for name in CODED_NAMES {
        raw.extend_from_slice(format!("{name}: v-{name}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"X-Other: plain\r\n\r\n");
    let h = HeaderSummary::parse(&raw);
    let kept: Vec<(&str, &str)> = h.other_headers().collect();
    let mut expected: Vec<(&str, String)> = CODED_NAMES.iter().map(|n| (*n, format!("v-{n}"))).collect();
    expected.push(("X-Other", "plain".into()));
    assert_eq!(kept.len(), expected.len());
    for ((name, value), (want_name, want_value)) in kept.iter().zip(&expected) {
        assert_eq!((*name, *value), (*want_name, want_value.as_str()));
    }
    for (k, name) in CODED_NAMES.iter().enumerate() {
        let parsed = mail_parser::HeaderName::parse(*name).unwrap();
        assert_eq!(name_code(&parsed), Some(FIRST_CODE + k as u8), "{name}");
        assert_eq!(parsed.as_str(), *name, "mail-parser spells {name} so");
    }
    assert!(h.other_header_lines().len() < 400, "{}", h.other_header_lines().len());
}

#[test]
fn broken_sets_are_small_sets() {
    let mut set = BrokenSet::default();
    assert!(set.is_empty());
    set.insert(Broken::Nul);
    set.insert(Broken::NoFrom);
    set.insert(Broken::Nul);
    assert_eq!(set.iter().collect::<Vec<_>>(), [Broken::NoFrom, Broken::Nul]);
    assert_eq!(format!("{set:?}"), "{NoFrom, Nul}");
    assert_eq!(Broken::LongLine.to_string(), "line over 998 characters");
    for (k, reason) in Broken::ALL.into_iter().enumerate() {
        assert_eq!(reason as usize, k, "ALL is in declaration order");
    }
    assert_eq!(std::mem::size_of::<BrokenSet>(), 2);
}

#[test]
fn a_header_named_by_whitespace_alone_keeps_a_visible_name() {
    let summary = HeaderSummary::parse(b"8:\n\x0b");
    let headers: Vec<(&str, &str)> = summary.other_headers().collect();
    assert!(!headers.is_empty());
    for (name, value) in headers {
        assert!(!name.is_empty(), "a nameless header with value {value:?}");
    }
}

/// The subject as decoded is kept for file names only when the display
/// put stand-ins in it (a copy per message would double a big list's
/// subjects), and then bounded.
#[test]
fn the_subject_as_decoded_is_kept_only_when_the_display_changed_it() {
    let plain =
        HeaderSummary::parse(b"From: a@b\r\nSubject: Gr\xc3\xbc\xc3\x9fe,\tfolded\r\n  on \xc2\xa0two lines\r\n\r\n");
    assert_eq!(plain.subject_as_decoded(), None);
    assert_eq!(plain.subject_for_file_name(), plain.subject());
    let hostile = HeaderSummary::parse(b"From: a@b\r\nSubject: a\x1b[2Jb \xe2\x80\xae/x\r\n\r\n");
    assert_eq!(hostile.subject_for_file_name(), "a\x1b[2Jb \u{202e}/x");
    assert_eq!(hostile.subject(), "a␛[2Jb �/x");
    let long = format!("From: a@b\r\nSubject: \x0b{}\r\n\r\n", "é".repeat(4000));
    let long = HeaderSummary::parse(long.as_bytes());
    let kept = long.subject_for_file_name();
    assert!(
        kept.len() <= MAX_NAME_SUBJECT_BYTES && kept.len() > MAX_NAME_SUBJECT_BYTES - 4,
        "{}",
        kept.len()
    );
    assert!(kept.starts_with('\u{b}'), "a VT is shown as a space, kept for the name");
}
