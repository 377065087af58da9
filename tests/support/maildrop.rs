//! Deterministic test messages for the Dovecot maildrop.
//!
//! Every generator returns the bytes of one message file with LF line ends,
//! as Maildir files conventionally are. Dovecot converts LF to CRLF on the
//! wire, so what a POP3 client sees is `to_wire(msg)` and what LIST/STAT count
//! is `virtual_size(msg)`. Same input, same bytes: nothing depends on the
//! clock, the host or a random seed.
//!
//! * `ordinary(i)`: a realistic message (Return-Path, Received, From, To,
//!   Subject, Date, Message-ID, MIME headers; sizes from ~0.5 KB to ~64 KB).
//!   `ordinary_meta(i)` gives its From/Subject/Date/Message-ID.
//! * hostile messages, listed in `HOSTILE` by name (each with an
//!   `X-Popscope-Test: <name>` header when it has headers at all).
//! * `mixed_maildrop(n)`: `n` messages, ordinary except at the fixed indices
//!   given by `hostile_positions(n)`.

/// A message generator.
pub type MakeMessage = fn() -> Vec<u8>;

/// Hostile messages by name, in the order they are placed by
/// `mixed_maildrop`: the k-th one sits at index `1 + 3k` (0-based, so POP3
/// message number `2 + 3k`).
pub const HOSTILE: &[(&str, MakeMessage)] = &[
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
];

/// Size of the single header line in `long_header_line` (the line itself,
/// name and LF included).
pub const LONG_HEADER_LINE_LEN: usize = 200 * 1024;
/// Minimum size of the body of `huge_body`.
pub const HUGE_BODY_LEN: usize = 1024 * 1024;

/// The hostile message called `name`; panics on an unknown name.
pub fn hostile(name: &str) -> Vec<u8> {
    match HOSTILE.iter().find(|(n, _)| *n == name) {
        Some((_, make)) => make(),
        None => panic!("no hostile message called {name:?}"),
    }
}

/// 0-based index of the k-th hostile message in a mixed maildrop.
pub fn hostile_index(k: usize) -> usize {
    1 + 3 * k
}

/// (0-based index, name) of every hostile message in `mixed_maildrop(n)`.
/// The POP3 message number is index + 1 when the drop is delivered in order
/// into an empty mailbox.
pub fn hostile_positions(n: usize) -> Vec<(usize, &'static str)> {
    HOSTILE
        .iter()
        .enumerate()
        .map(|(k, (name, _))| (hostile_index(k), *name))
        .filter(|(i, _)| *i < n)
        .collect()
}

/// What `mixed_maildrop(n)` holds at 0-based `index`: the hostile name, or
/// `None` for `ordinary(index)`.
pub fn kind_at(index: usize) -> Option<&'static str> {
    HOSTILE
        .iter()
        .enumerate()
        .find(|(k, _)| hostile_index(*k) == index)
        .map(|(_, (name, _))| *name)
}

/// The message at 0-based `index` of a mixed maildrop (any `n > index`).
pub fn mixed_message(index: usize) -> Vec<u8> {
    match kind_at(index) {
        Some(name) => hostile(name),
        None => ordinary(index),
    }
}

/// `n` messages: `ordinary(i)` at index i, except the hostile ones at the
/// indices given by `hostile_positions(n)` (all of them once n >= 29).
pub fn mixed_maildrop(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(mixed_message).collect()
}

/// The bytes a POP3 client receives for `msg` (RETR, after dot-unstuffing):
/// every LF becomes CRLF (an existing CRLF is kept), and a final CRLF is
/// added when the message does not end with a line end. Dovecot does that
/// even for an empty message: RETR of a 0-byte file yields one empty line.
pub fn to_wire(msg: &[u8]) -> Vec<u8> {
    let mut out = lf_to_crlf(msg);
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// What `TOP n 0` yields for `msg` (after dot-unstuffing): the header block
/// with CRLF line ends, then the empty separator line. For a message without
/// headers (or an empty one) that is just CRLF.
pub fn top0(msg: &[u8]) -> Vec<u8> {
    let mut out = lf_to_crlf(header_block(msg));
    out.extend_from_slice(b"\r\n");
    out
}

/// Every bare LF becomes CRLF; nothing else changes.
pub fn lf_to_crlf(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + msg.len() / 30 + 2);
    let mut prev = 0u8;
    for &b in msg {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// The size LIST/STAT report for `msg`: its length with every bare LF
/// counted as CRLF (no final line end is added).
pub fn virtual_size(msg: &[u8]) -> u64 {
    let mut size = msg.len() as u64;
    let mut prev = 0u8;
    for &b in msg {
        if b == b'\n' && prev != b'\r' {
            size += 1;
        }
        prev = b;
    }
    size
}

/// The header block of a message: everything up to and including the line
/// end before the first empty line (empty if the message starts with one;
/// the whole message if it has no empty line).
pub fn header_block(msg: &[u8]) -> &[u8] {
    if msg.first() == Some(&b'\n') {
        return &msg[..0];
    }
    match msg.windows(2).position(|w| w == b"\n\n") {
        Some(p) => &msg[..p + 1],
        None => msg,
    }
}

// ---------------------------------------------------------------------------
// Ordinary messages

/// Key facts of `ordinary(i)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrdinaryMeta {
    /// Display name of the sender (plain ASCII).
    pub from_name: String,
    /// Sender address.
    pub from_addr: String,
    /// Subject as decoded text (the header may hold an RFC 2047 word).
    pub subject: String,
    /// Raw `Subject:` header value.
    pub subject_raw: String,
    /// `Date:` header value (RFC 5322).
    pub date: String,
    /// Seconds since the epoch of `date`.
    pub timestamp: u64,
    /// `Message-ID:` header value, angle brackets included.
    pub message_id: String,
    /// Number of body lines.
    pub body_lines: usize,
}

const FIRST_NAMES: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Alan", "Radia", "Edsger", "Hedy",
    "Donald", "Sophie", "Niklaus", "Karen",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Turing", "Perlman",
    "Dijkstra", "Lamarr", "Knuth", "Wilson", "Wirth", "Jones",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "lists.example.org",
];
/// (raw header value, decoded text)
const SUBJECTS: &[(&str, &str)] = &[
    ("Quarterly report", "Quarterly report"),
    ("Re: lunch on Friday?", "Re: lunch on Friday?"),
    ("Your invoice is ready", "Your invoice is ready"),
    ("[announce] release 2.4.1", "[announce] release 2.4.1"),
    ("=?UTF-8?Q?Caf=C3=A9_meeting_notes?=", "Caf\u{e9} meeting notes"),
    ("Fwd: photos from the trip", "Fwd: photos from the trip"),
    ("Build failed: main #1234", "Build failed: main #1234"),
    ("=?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGlu?=", "Gr\u{fc}\u{df}e aus Berlin"),
    ("Password reset request", "Password reset request"),
    ("Weekly newsletter", "Weekly newsletter"),
    ("Re: Re: budget spreadsheet", "Re: Re: budget spreadsheet"),
    ("Meeting moved to 3pm", "Meeting moved to 3pm"),
];
const WORDS: &[&str] = &[
    "the",
    "mailbox",
    "server",
    "message",
    "please",
    "find",
    "attached",
    "report",
    "we",
    "will",
    "meet",
    "on",
    "Tuesday",
    "and",
    "discuss",
    "numbers",
    "thanks",
    "for",
    "your",
    "patience",
    "regards",
    "update",
    "schedule",
    "project",
    "deadline",
    "review",
    "draft",
    "coffee",
    "soon",
    "Gr\u{fc}\u{df}e",
    "caf\u{e9}",
    "note",
    "list",
    "delivery",
    "weather",
    "plan",
    "again",
    "late",
];

/// Small deterministic PRNG (SplitMix64).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// 2024-01-01T00:00:00Z
const BASE_TIME: u64 = 1_704_067_200;

/// The key facts of `ordinary(i)`.
pub fn ordinary_meta(i: usize) -> OrdinaryMeta {
    let mut rng = Rng::new(i as u64);
    let first = rng.pick(FIRST_NAMES);
    let last = rng.pick(LAST_NAMES);
    let domain = rng.pick(DOMAINS);
    let (subject_raw, subject) = SUBJECTS[rng.below(SUBJECTS.len())];
    let timestamp = BASE_TIME + i as u64 * 3_607 + rng.below(600) as u64;
    let body_lines = if i % 23 == 22 {
        // ~64 KB
        900 + rng.below(100)
    } else if i % 7 == 6 {
        60 + rng.below(240)
    } else {
        2 + rng.below(25)
    };
    OrdinaryMeta {
        from_name: format!("{first} {last}"),
        from_addr: format!("{}.{}@{domain}", first.to_ascii_lowercase(), last.to_ascii_lowercase()),
        subject: format!("{subject} #{i}"),
        subject_raw: format!("{subject_raw} #{i}"),
        date: rfc5322_date(timestamp),
        timestamp,
        message_id: format!("<{i}.{:016x}@{domain}>", rng.next()),
        body_lines,
    }
}

/// A realistic, well-formed message; deterministic in `i`.
pub fn ordinary(i: usize) -> Vec<u8> {
    let m = ordinary_meta(i);
    let mut rng = Rng::new(0xB0D7 ^ (i as u64).wrapping_mul(0x1000_0001));
    let mut s = String::new();
    let host = rng.below(20);
    s.push_str(&format!("Return-Path: <{}>\n", m.from_addr));
    s.push_str(&format!(
        "Received: from mx{host}.example.net (mx{host}.example.net [192.0.2.{}])\n\
         \tby mail.example.test (Postfix) with ESMTPS id {:010X}\n\
         \tfor <alice@example.test>; {}\n",
        1 + host,
        rng.next() & 0xFF_FFFF_FFFF,
        m.date
    ));
    s.push_str(&format!("From: {} <{}>\n", m.from_name, m.from_addr));
    s.push_str("To: Alice Example <alice@example.test>\n");
    s.push_str(&format!("Subject: {}\n", m.subject_raw));
    s.push_str(&format!("Date: {}\n", m.date));
    s.push_str(&format!("Message-ID: {}\n", m.message_id));
    s.push_str("MIME-Version: 1.0\n");
    s.push_str("Content-Type: text/plain; charset=utf-8\n");
    s.push_str("Content-Transfer-Encoding: 8bit\n");
    s.push('\n');
    s.push_str(&format!("Hello Alice,\n\nthis is test message {i}.\n"));
    for _ in 0..m.body_lines {
        let mut line = String::new();
        let target = 40 + rng.below(32);
        while line.len() < target {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(rng.pick(WORDS));
        }
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(&format!("\n-- \n{}\n", m.from_name));
    s.into_bytes()
}

/// RFC 5322 date in UTC, e.g. "Mon, 01 Jan 2024 00:00:00 +0000".
fn rfc5322_date(t: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = t / 86_400;
    let secs = t % 86_400;
    // civil_from_days (Howard Hinnant), valid for dates after 1970.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

// ---------------------------------------------------------------------------
// Hostile messages

fn headers(name: &str, subject: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: Mallory <mallory@example.com>\n");
    m.extend_from_slice(b"To: Alice Example <alice@example.test>\n");
    m.extend_from_slice(b"Subject: ");
    m.extend_from_slice(subject);
    m.extend_from_slice(b"\n");
    m.extend_from_slice(b"Date: Mon, 01 Jan 2024 12:00:00 +0000\n");
    m.extend_from_slice(format!("Message-ID: <{name}@hostile.example.com>\n").as_bytes());
    m.extend_from_slice(format!("X-Popscope-Test: {name}\n").as_bytes());
    m
}

/// One unfolded header line of exactly `LONG_HEADER_LINE_LEN` bytes
/// (`X-Long-Header: xxxx...` + LF), no spaces after the colon's one.
pub fn long_header_line() -> Vec<u8> {
    let mut m = headers("long-header-line", b"hostile: 200 KB header line");
    let prefix = b"X-Long-Header: ";
    m.extend_from_slice(prefix);
    let fill = LONG_HEADER_LINE_LEN - prefix.len() - 1;
    m.extend((0..fill).map(|k| b"abcdefghijklmnopqrstuvwxyz0123456789"[k % 36]));
    m.extend_from_slice(b"\n\nThe header above is one line of 200 KB.\n");
    m
}

/// NUL bytes in a header value, in the Subject and in the body.
pub fn nul_bytes() -> Vec<u8> {
    let mut m = headers("nul-bytes", b"hostile: NUL\0in subject");
    m.extend_from_slice(b"X-Nul: a\0b\0\0c\n");
    m.extend_from_slice(b"\nbody line with a \0 NUL\n\0\0\0\nend\0\n");
    m
}

/// Body lines made of dots, which POP3 byte-stuffs on the wire.
pub fn dot_lines() -> Vec<u8> {
    let mut m = headers("dot-lines", b"hostile: dot lines");
    m.extend_from_slice(b"X-Dot: .\n");
    m.extend_from_slice(b"\n.\n..\n...\n. \n.x\nx.\n.\t\n\n.\n");
    m
}

/// Raw 8-bit Latin-1 and invalid UTF-8 in headers and body.
pub fn latin1_headers() -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: J\xfcrgen M\xfcller <juergen@example.de>\n");
    m.extend_from_slice(b"To: Alice Example <alice@example.test>\n");
    m.extend_from_slice(b"Subject: hostile: Caf\xe9 cr\xe8me br\xfbl\xe9e \xa4\xff\n");
    m.extend_from_slice(b"Date: Mon, 01 Jan 2024 12:00:00 +0000\n");
    m.extend_from_slice(b"Message-ID: <latin1-headers@hostile.example.com>\n");
    m.extend_from_slice(b"X-Popscope-Test: latin1-headers\n");
    m.extend_from_slice(b"X-Invalid-Utf8: \xc3\x28 \xc0\xaf \xed\xa0\x80 \xf8\x88\x80\x80\x80\n");
    m.extend_from_slice(b"\nK\xf6rper mit Umlauten: \xe4\xf6\xfc\xdf\n");
    m
}

/// Broken (and a few valid) RFC 2047 encoded words.
pub fn broken_encoded_words() -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: =?utf-8?B?SGVsbG8=?= =?iso-8859-1?Q?J=FCrgen?= <juergen@example.com>\n");
    m.extend_from_slice(b"To: =?unknown-charset?Q?x?= <alice@example.test>\n");
    m.extend_from_slice(
        b"Subject: hostile: =?utf-8?B?notbase64!!?= =?unknown-charset?Q?x?= \
          =?utf-8?X?bad-encoding?= =??Q??= =?utf-8?Q?unterminated\n",
    );
    m.extend_from_slice(b"Date: Mon, 01 Jan 2024 12:00:00 +0000\n");
    m.extend_from_slice(b"Message-ID: <broken-encoded-words@hostile.example.com>\n");
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
pub fn terminal_escapes() -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"From: \x1b]52;c;cHduZWQ=\x07Evil \x1b[8mhidden\x1b[0m <evil@example.com>\n");
    m.extend_from_slice(b"Reply-To: =?utf-8?Q?=1B=5B2J=1B]0;encoded-pwned=07?= <evil@example.com>\n");
    m.extend_from_slice(b"To: Alice Example <alice@example.test>\n");
    m.extend_from_slice("Subject: hostile: \x1b[2J\x1b[Hcleared \x1b]0;pwned\x07 \u{202E}gnp.exe\n".as_bytes());
    m.extend_from_slice(b"Date: Mon, 01 Jan 2024 12:00:00 +0000\n");
    m.extend_from_slice(b"Message-ID: <terminal-escapes@hostile.example.com>\n");
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
pub fn no_headers() -> Vec<u8> {
    b"\nThis message has no header fields at all: it starts with the empty line.\n".to_vec()
}

/// A message with a 1 MB body (76-character lines).
pub fn huge_body() -> Vec<u8> {
    let mut m = headers("huge-body", b"hostile: 1 MB body");
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
pub fn no_final_newline() -> Vec<u8> {
    let mut m = headers("no-final-newline", b"hostile: no final newline");
    m.extend_from_slice(b"\nfirst line\nlast line without newline");
    m
}

/// A zero-byte message file.
pub fn empty() -> Vec<u8> {
    Vec::new()
}
