use super::*;
use std::fs;

fn quote_all(pieces: &[&[u8]]) -> Vec<u8> {
    let mut quoter = Quoter::default();
    let mut out = Vec::new();
    for piece in pieces {
        quoter.push(piece, &mut out);
    }
    quoter.finish(&mut out);
    out
}

/// Deterministic xorshift, so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Content built from the pieces that matter to mboxrd, ending in a line
/// feed as every RETR does.
fn hostile_content(rng: &mut Rng) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"From ",
        b">From ",
        b">>From x",
        b"From",
        b"Fro",
        b">",
        b".",
        b"..",
        b"\r",
        b"\n",
        b"\r\n",
        b"x",
        b" ",
        b"\0",
        b"F",
        b"From:",
        b"\n\n",
        b"\xff",
    ];
    let mut out = Vec::new();
    for _ in 0..rng.below(60) {
        out.extend_from_slice(PIECES[rng.below(PIECES.len())]);
    }
    out.extend_from_slice(if rng.below(2) == 0 { b"\r\n" } else { b"\n" });
    out
}

fn open(dir: &Path) -> (PathBuf, MboxSink) {
    let path = dir.join("saved.mbox");
    let sink = MboxSink::open(&path).unwrap();
    (path, sink)
}

fn save(sink: &mut MboxSink, number: u32, pieces: &[&[u8]]) -> SavedAt {
    let meta = MessageMeta {
        number,
        ..MessageMeta::default()
    };
    let mut writer = sink.begin(&meta).unwrap();
    for piece in pieces {
        writer.write_chunk(piece).unwrap();
    }
    writer.commit().unwrap()
}

#[test]
fn quoting_table() {
    let table: &[(&[u8], &[u8])] = &[
        (b"From x\n", b">From x\n"),
        (b">From x\n", b">>From x\n"),
        (b">>>From \n", b">>>>From \n"),
        (b"From", b"From"),
        (b"From:", b"From:"),
        (b"Fro\n", b"Fro\n"),
        (b" From x", b" From x"),
        (b"a\nFrom b\n", b"a\n>From b\n"),
        (b"a\r\nFrom b\r\n", b"a\r\n>From b\r\n"),
        (b"a\rFrom b", b"a\rFrom b"),
        (b"FroFrom x", b"FroFrom x"),
        (b">\n>x\n", b">\n>x\n"),
        (b"\nFrom \n\nFrom ", b"\n>From \n\n>From "),
        (b"", b""),
    ];
    for (input, want) in table {
        assert_eq!(quote_all(&[input]), *want, "input {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn quoting_is_the_same_for_every_chunk_split() {
    let mut rng = Rng(0x5eed);
    for _ in 0..200 {
        let content = hostile_content(&mut rng);
        let whole = quote_all(&[&content]);
        for k in 0..=content.len() {
            assert_eq!(quote_all(&[&content[..k], &content[k..]]), whole, "split at {k}");
        }
        let bytes: Vec<&[u8]> = content.chunks(1).collect();
        assert_eq!(quote_all(&bytes), whole);
    }
}

#[test]
fn round_trip_with_every_chunk_split() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut sink) = open(dir.path());
    let content: &[u8] = b"Return-Path: <a@b.example>\r\nFrom: x\r\n\r\nFrom here\r\n>From there\r\n.\r\nFrom";
    let content = [content, b"\r\n"].concat();
    for k in 0..=content.len() {
        save(&mut sink, k as u32, &[&content[..k], &content[k..]]);
    }
    assert_eq!(sink.sync().unwrap().len(), content.len() + 1);
    let messages = split_mboxrd(&fs::read(&path).unwrap());
    assert_eq!(messages.len(), content.len() + 1);
    for message in messages {
        assert_eq!(message.content, content);
        assert!(
            message.from_line.starts_with(b"From a@b.example "),
            "{:?}",
            message.from_line
        );
    }
}

#[test]
fn round_trip_property_over_random_hostile_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut sink) = open(dir.path());
    let mut rng = Rng(42);
    let mut originals = Vec::new();
    for number in 0..300 {
        let content = hostile_content(&mut rng);
        let mut pieces: Vec<&[u8]> = Vec::new();
        let mut rest = content.as_slice();
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(1 + rng.below(rest.len()));
            pieces.push(piece);
            rest = tail;
        }
        let saved = save(&mut sink, number, &pieces);
        assert_eq!(saved.bytes, content.len() as u64);
        originals.push(content);
    }
    sink.sync().unwrap();
    let contents: Vec<Vec<u8>> = split_mboxrd(&fs::read(&path).unwrap())
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, originals);
}

#[test]
fn empty_and_unterminated_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut sink) = open(dir.path());
    save(&mut sink, 1, &[]);
    save(&mut sink, 2, &[b"no final line end"]);
    save(&mut sink, 3, &[b"x\r\n"]);
    sink.sync().unwrap();
    let contents: Vec<Vec<u8>> = split_mboxrd(&fs::read(&path).unwrap())
        .into_iter()
        .map(|m| m.content)
        .collect();
    // A message without a final line end gains one: mbox cannot tell the
    // line feed before the blank line from the message's own. RETR always
    // ends its message with CRLF.
    assert_eq!(
        contents,
        [b"".to_vec(), b"no final line end\n".to_vec(), b"x\r\n".to_vec()]
    );
}

#[test]
fn the_from_line_names_the_sender_and_the_time() {
    assert_eq!(asctime(0), "Thu Jan  1 00:00:00 1970");
    assert_eq!(asctime(1_751_529_600), "Thu Jul  3 08:00:00 2025");
    assert_eq!(asctime(951_868_799), "Tue Feb 29 23:59:59 2000");
    assert_eq!(asctime(-1), "Wed Dec 31 23:59:59 1969");
    let table: &[(&[u8], Option<&str>)] = &[
        (
            b"Return-Path: <bounce@lists.example>\r\nFrom: A <a@example.org>\r\n\r\n",
            Some("bounce@lists.example"),
        ),
        (b"From: \"Ann\" <ann@example.org>\r\n\r\n", Some("ann@example.org")),
        (b"from: ann@example.org (Ann)\n\n", Some("ann@example.org")),
        (b"Return-Path: <>\r\nFrom: a@b\r\n\r\n", Some(UNKNOWN_SENDER)),
        (b"Subject: x\r\n\r\nFrom: body@example.org\r\n", None),
        (b"From: Undisclosed\r\n\r\n", None),
        (b"From: <evil \x1b[2J@x>\r\n\r\n", None),
        (b"", None),
    ];
    for (header, want) in table {
        assert_eq!(
            sender_from_header(header),
            *want,
            "{:?}",
            String::from_utf8_lossy(header)
        );
    }
}

#[test]
fn the_sender_is_found_across_chunks_and_after_a_huge_header() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut sink) = open(dir.path());
    let mut content = b"Return-Path: <r@example.org>\r\nX-Long: ".to_vec();
    content.extend(std::iter::repeat_n(b'a', 200 * 1024));
    content.extend_from_slice(b"\r\n\r\nbody\r\n");
    let pieces: Vec<&[u8]> = content.chunks(1000).collect();
    save(&mut sink, 1, &pieces);
    save(&mut sink, 2, &[b"Subj", b"ect: x\r\n", b"\r\n"]);
    let meta = MessageMeta {
        number: 3,
        sender: Some("given@example.org".to_string()),
        ..MessageMeta::default()
    };
    let mut writer = sink.begin(&meta).unwrap();
    writer.write_chunk(b"From: other@example.org\r\n\r\n").unwrap();
    writer.commit().unwrap();
    sink.sync().unwrap();
    let messages = split_mboxrd(&fs::read(&path).unwrap());
    assert_eq!(messages[0].content, content);
    let senders: Vec<String> = messages
        .iter()
        .map(|m| {
            String::from_utf8_lossy(&m.from_line)
                .split(' ')
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(senders, ["r@example.org", UNKNOWN_SENDER, "given@example.org"]);
}

#[test]
fn abort_and_drop_cut_the_file_back() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut sink) = open(dir.path());
    save(&mut sink, 1, &[b"Subject: kept\r\n\r\nFrom me\r\n"]);
    let before = fs::read(&path).unwrap();
    let mut writer = sink.begin(&MessageMeta::default()).unwrap();
    writer.write_chunk(b"Subject: gone\r\n\r\n").unwrap();
    writer.write_chunk(&vec![b'x'; 3 * SPOOL_CAPACITY]).unwrap();
    writer.abort();
    assert_eq!(fs::read(&path).unwrap(), before);
    let mut writer = sink.begin(&MessageMeta::default()).unwrap();
    writer.write_chunk(b"Subject: dropped\r\n").unwrap();
    drop(writer);
    assert_eq!(fs::read(&path).unwrap(), before);
    save(&mut sink, 2, &[b"Subject: next\r\n\r\n"]);
    assert_eq!(
        sink.sync().unwrap().iter().map(|s| s.number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(split_mboxrd(&fs::read(&path).unwrap()).len(), 2);
}

#[test]
fn a_file_that_is_not_an_mbox_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".bashrc");
    fs::write(&path, b"export PATH=x\n").unwrap();
    let err = MboxSink::open(&path).err().unwrap();
    assert!(err.message().contains("is not an mbox file"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"export PATH=x\n");
}

#[test]
fn appending_completes_a_missing_blank_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.mbox");
    fs::write(&path, b"From a Thu Jan  1 00:00:00 1970\nSubject: old\n\nlast line").unwrap();
    let mut sink = MboxSink::open(&path).unwrap();
    save(&mut sink, 1, &[b"Subject: new\r\n\r\n"]);
    sink.sync().unwrap();
    let messages = split_mboxrd(&fs::read(&path).unwrap());
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].content, b"Subject: old\n\nlast line\n");
    assert_eq!(messages[1].content, b"Subject: new\r\n\r\n");
}

#[test]
fn a_second_writer_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let (path, sink) = open(dir.path());
    let err = MboxSink::open(&path).err().unwrap();
    assert!(err.message().contains("is locked by another program"), "{err}");
    drop(sink);
    MboxSink::open(&path).unwrap();
}

#[test]
fn memory_stays_bounded_for_long_lines_and_many_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut sink) = open(dir.path());
    let mut writer = MboxWriter {
        start: 0,
        meta: MessageMeta::default(),
        header: None,
        header_scanned: 0,
        quoter: Quoter::default(),
        scratch: Vec::new(),
        bytes: 0,
        last_byte: None,
        done: false,
        sink: &mut sink,
    };
    let line = b"From From From \n".repeat(20_000);
    for piece in line.chunks(SPOOL_CAPACITY * 2) {
        writer.write_chunk(piece).unwrap();
        // Quoting adds at most one byte per five: the scratch buffer holds
        // one spool's worth of input, quoted.
        assert!(
            writer.scratch.capacity() <= 2 * SPOOL_CAPACITY,
            "{}",
            writer.scratch.capacity()
        );
        assert!(writer.sink.spool.buffer_capacity() <= SPOOL_CAPACITY);
    }
}
