//! Hostile test mail: one catalogue of specimens that the test Maildir
//! (`super::maildir`) and the demo maildrop both draw from. Each is what a
//! parser, a sanitizer or a POP3 client must survive, with LF line ends (a
//! Maildir's; the demo turns them into CRLF).

/// Makes a specimen, dated and identified by the stamp.
pub(crate) type MakeHostile = fn(&Stamp) -> Vec<u8>;

/// Every specimen, by name. `super::maildir::mixed_maildrop` places them
/// in this order.
pub const HOSTILE: &[(&str, MakeHostile)] = &[
    ("long-header-line", long_header_line),
    ("nul-bytes", nul_bytes),
    ("dot-lines", dot_lines),
    ("latin1-headers", latin1_headers),
    ("broken-encoded-words", broken_encoded_words),
    ("terminal-escapes", terminal_escapes),
    ("no-headers", no_headers),
    ("huge-body", huge_body),
    ("no-final-newline", no_final_newline),
    ("empty", empty),
    ("broken-mime", broken_mime),
];

/// Size of the single header line in `long-header-line` and `broken-mime`
/// (the line itself, name and LF included).
pub const LONG_HEADER_LINE_LEN: usize = 200 * 1024;
/// Minimum size of the body of `huge-body`.
pub const HUGE_BODY_LEN: usize = 1024 * 1024;

/// The Date and Message-ID a specimen carries (those that have them), so
/// that copies of one specimen differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// An RFC 5322 date.
    pub date: String,
    /// Appended to the specimen's name in its Message-ID.
    pub id_suffix: String,
}

impl Stamp {
    /// What the test Maildir uses: one date for every specimen, the
    /// specimen's name as its Message-ID.
    pub fn fixed() -> Stamp {
        Stamp {
            date: "Mon, 01 Jan 2024 12:00:00 +0000".to_string(),
            id_suffix: String::new(),
        }
    }

    fn date_header(&self) -> String {
        format!("Date: {}\n", self.date)
    }

    fn message_id_header(&self, name: &str) -> String {
        format!("Message-ID: <{name}{}@hostile.example.com>\n", self.id_suffix)
    }
}

/// The specimen called `name`, if there is one.
pub fn hostile(name: &str, stamp: &Stamp) -> Option<Vec<u8>> {
    HOSTILE.iter().find(|(n, _)| *n == name).map(|(_, make)| make(stamp))
}

fn headers(name: &str, stamp: &Stamp, subject: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: Mallory <mallory@example.com>\n");
    m.extend_from_slice(b"To: Alice Example <alice@example.test>\n");
    m.extend_from_slice(b"Subject: ");
    m.extend_from_slice(subject);
    m.extend_from_slice(b"\n");
    m.extend_from_slice(stamp.date_header().as_bytes());
    m.extend_from_slice(stamp.message_id_header(name).as_bytes());
    m.extend_from_slice(format!("X-Popscope-Test: {name}\n").as_bytes());
    m
}

/// One unfolded header line of exactly `LONG_HEADER_LINE_LEN` bytes
/// (`X-Long-Header: xxxx...` + LF), no spaces after the colon's one.
fn long_header_line(stamp: &Stamp) -> Vec<u8> {
    let mut m = headers("long-header-line", stamp, b"hostile: 200 KB header line");
    let prefix = b"X-Long-Header: ";
    m.extend_from_slice(prefix);
    let fill = LONG_HEADER_LINE_LEN - prefix.len() - 1;
    m.extend((0..fill).map(|k| b"abcdefghijklmnopqrstuvwxyz0123456789"[k % 36]));
    m.extend_from_slice(b"\n\nThe header above is one line of 200 KB.\n");
    m
}

/// NUL bytes in a header value, in the Subject and in the body.
fn nul_bytes(stamp: &Stamp) -> Vec<u8> {
    let mut m = headers("nul-bytes", stamp, b"hostile: NUL\0in subject");
    m.extend_from_slice(b"X-Nul: a\0b\0\0c\n");
    m.extend_from_slice(b"\nbody line with a \0 NUL\n\0\0\0\nend\0\n");
    m
}

/// Body lines made of dots, which POP3 byte-stuffs on the wire.
fn dot_lines(stamp: &Stamp) -> Vec<u8> {
    let mut m = headers("dot-lines", stamp, b"hostile: dot lines");
    m.extend_from_slice(b"X-Dot: .\n");
    m.extend_from_slice(b"\n.\n..\n...\n. \n.x\nx.\n.\t\n\n.\n");
    m
}

/// Raw 8-bit Latin-1 and invalid UTF-8 in headers and body.
fn latin1_headers(stamp: &Stamp) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: J\xfcrgen M\xfcller <juergen@example.de>\n");
    m.extend_from_slice(b"To: Alice Example <alice@example.test>\n");
    m.extend_from_slice(b"Subject: hostile: Caf\xe9 cr\xe8me br\xfbl\xe9e \xa4\xff\n");
    m.extend_from_slice(stamp.date_header().as_bytes());
    m.extend_from_slice(stamp.message_id_header("latin1-headers").as_bytes());
    m.extend_from_slice(b"X-Popscope-Test: latin1-headers\n");
    m.extend_from_slice(b"X-Invalid-Utf8: \xc3\x28 \xc0\xaf \xed\xa0\x80 \xf8\x88\x80\x80\x80\n");
    m.extend_from_slice(b"\nK\xf6rper mit Umlauten: \xe4\xf6\xfc\xdf\n");
    m
}

/// Broken (and a few valid) RFC 2047 encoded words.
fn broken_encoded_words(stamp: &Stamp) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: =?utf-8?B?SGVsbG8=?= =?iso-8859-1?Q?J=FCrgen?= <juergen@example.com>\n");
    m.extend_from_slice(b"To: =?unknown-charset?Q?x?= <alice@example.test>\n");
    m.extend_from_slice(
        b"Subject: hostile: =?utf-8?B?notbase64!!?= =?unknown-charset?Q?x?= \
          =?utf-8?X?bad-encoding?= =??Q??= =?utf-8?Q?unterminated\n",
    );
    m.extend_from_slice(stamp.date_header().as_bytes());
    m.extend_from_slice(stamp.message_id_header("broken-encoded-words").as_bytes());
    m.extend_from_slice(b"X-Popscope-Test: broken-encoded-words\n");
    m.extend_from_slice(b"X-Valid: =?utf-8?B?4pyTIGNoZWNr?=\n");
    m.extend_from_slice(b"X-Truncated: =?utf-8?B?4pyTI\n");
    m.extend_from_slice(b"\nbody\n");
    m
}

/// Terminal control sequences in Subject, From and body: clear screen, OSC 0
/// title set, OSC 52 clipboard write, OSC 8 hyperlink, alternate screen,
/// C1 CSI (UTF-8 and raw), BEL/BS, and the bidi override U+202E; also an
/// ESC hidden in an RFC 2047 encoded word (Reply-To).
fn terminal_escapes(stamp: &Stamp) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: \x1b]52;c;cHduZWQ=\x07Evil \x1b[8mhidden\x1b[0m <evil@example.com>\n");
    m.extend_from_slice(b"Reply-To: =?utf-8?Q?=1B=5B2J=1B]0;encoded-pwned=07?= <evil@example.com>\n");
    m.extend_from_slice(b"To: Alice Example <alice@example.test>\n");
    m.extend_from_slice("Subject: hostile: \x1b[2J\x1b[Hcleared \x1b]0;pwned\x07 \u{202E}gnp.exe\n".as_bytes());
    m.extend_from_slice(stamp.date_header().as_bytes());
    m.extend_from_slice(stamp.message_id_header("terminal-escapes").as_bytes());
    m.extend_from_slice(b"X-Popscope-Test: terminal-escapes\n");
    m.extend_from_slice(b"\n\x1b[31mred text\x1b[0m\n");
    m.extend_from_slice(b"\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\\n");
    m.extend_from_slice(b"\x1b[?1049halternate screen\n");
    m.extend_from_slice("\u{202E}txet desrever\n".as_bytes());
    m.extend_from_slice(b"bell \x07 backspace \x08\x08\x08 C1 CSI \xc2\x9b31m raw \x9b31m\n");
    m.extend_from_slice(b"\x1b]52;c;cHduZWQ=\x07clipboard\n");
    m
}

/// No header fields at all: the message starts with the empty line.
fn no_headers(_: &Stamp) -> Vec<u8> {
    b"\nThis message has no header fields at all: it starts with the empty line.\n".to_vec()
}

/// A message with a 1 MB body (76-character lines).
fn huge_body(stamp: &Stamp) -> Vec<u8> {
    let mut m = headers("huge-body", stamp, b"hostile: 1 MB body");
    m.push(b'\n');
    let start = m.len();
    let mut n = 0u32;
    while m.len() - start < HUGE_BODY_LEN {
        let line = format!("line {n:07}: ");
        m.extend_from_slice(line.as_bytes());
        m.extend((line.len()..76).map(|k| b"0123456789"[k % 10]));
        m.push(b'\n');
        n += 1;
    }
    m
}

/// The last body line has no line end.
fn no_final_newline(stamp: &Stamp) -> Vec<u8> {
    let mut m = headers("no-final-newline", stamp, b"hostile: no final newline");
    m.extend_from_slice(b"\nfirst line\nlast line without newline");
    m
}

/// A zero-byte message file.
fn empty(_: &Stamp) -> Vec<u8> {
    Vec::new()
}

/// Everything a MIME parser should survive at once: raw Latin-1 (and a
/// cp1252 en dash) in From and Subject, no Date, a 200 KB header line,
/// boundaries that are one letter short or wrong, a NUL byte in the body,
/// a part that is never closed, invalid base64, no closing boundary.
fn broken_mime(_: &Stamp) -> Vec<u8> {
    let mut m: Vec<u8> = Vec::with_capacity(LONG_HEADER_LINE_LEN + 2048);
    m.extend_from_slice(b"Return-Path: <>\n");
    m.extend_from_slice(b"Received: from unknown (HELO ???) by mx.popscope.test; \n");
    m.extend_from_slice(b"From: J\xfcrgen M\xfcller <juergen@broken-mailer.invalid>\n");
    m.extend_from_slice(b"To: Alice Example <alice@example.test>\n");
    m.extend_from_slice(b"Subject: Gr\xfc\xdfe \x96 caf\xe9 \xe0 la cr\xe8me (broken MIME)\n");
    m.extend_from_slice(b"X-Popscope-Test: broken-mime\n");
    let name = b"X-Overlong-Header: ";
    m.extend_from_slice(name);
    let fill = LONG_HEADER_LINE_LEN - name.len() - 1;
    m.extend(b"0123456789abcdefghijklmnopqrstuvwxyz".iter().cycle().take(fill));
    m.extend_from_slice(b"\n");
    m.extend_from_slice(b"MIME-Version: 1.0\n");
    m.extend_from_slice(b"Content-Type: multipart/mixed; boundary=\"outer-boundary\"\n");
    m.extend_from_slice(b"\n");
    m.extend_from_slice(b"--outer-boundary\n");
    m.extend_from_slice(b"Content-Type: text/plain; charset=iso-8859-1\n\n");
    m.extend_from_slice(b"This body has a NUL byte here -> \0 <- and Latin-1 text: \xe9t\xe9, na\xefve, \xa9.\n");
    m.extend_from_slice(b"--outer-boundar\n"); // not the boundary: one letter short
    m.extend_from_slice(b"Content-Type: multipart/alternative; boundary=\"inner\"\n\n");
    m.extend_from_slice(b"--inner\nContent-Type: text/html\n\n<p>This paragraph is never closed\n");
    m.extend_from_slice(b"--wrong-boundary--\n");
    m.extend_from_slice(b"--outer-boundary\n");
    m.extend_from_slice(b"Content-Type: application/octet-stream; name=\"broken.bin\"\n");
    m.extend_from_slice(b"Content-Transfer-Encoding: base64\n\n");
    m.extend_from_slice(b"This is not base64 at all!!! ###\nQUJD\x00REVG\n");
    // No closing "--outer-boundary--".
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specimens_carry_their_stamp_and_name() {
        let stamp = Stamp {
            date: "Tue, 02 Jan 2024 03:04:05 +0100".to_string(),
            id_suffix: ".17".to_string(),
        };
        let mut names: Vec<&str> = HOSTILE.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), HOSTILE.len(), "names are unique");
        for (name, make) in HOSTILE {
            let message = make(&stamp);
            assert_eq!(message, make(&stamp), "{name} is deterministic");
            assert!(!message.windows(2).any(|w| w == b"\r\n"), "{name} has LF line ends");
            let text = String::from_utf8_lossy(&message);
            if text.contains("\nDate: ") || text.starts_with("From: ") {
                assert!(text.contains("Date: Tue, 02 Jan 2024 03:04:05 +0100\n"), "{name}");
                assert!(text.contains(&format!("<{name}.17@hostile.example.com>")), "{name}");
            }
            if !message.is_empty() && !message.starts_with(b"\n") {
                assert!(text.contains(&format!("X-Popscope-Test: {name}\n")), "{name}");
            }
        }
        assert!(hostile("no-such-specimen", &stamp).is_none());
    }
}
