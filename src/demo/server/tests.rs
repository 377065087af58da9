use super::wire::{DotStuffer, TopCut};
use crate::pop3::codec::encode_multiline;

#[test]
fn dot_stuffer_matches_codec_for_any_chunking() {
    let body: &[u8] = b"a\r\n.\r\n..\r\n.x\r\nb.c\r\n.";
    let mut expected = Vec::new();
    encode_multiline(body, &mut expected);
    for split in 0..=body.len() {
        for second in split..=body.len() {
            let mut stuffer = DotStuffer::default();
            let mut out = Vec::new();
            for piece in [&body[..split], &body[split..second], &body[second..]] {
                stuffer.push(piece, &mut out);
            }
            stuffer.finish(&mut out);
            assert_eq!(out, expected, "split at {split}/{second}");
        }
    }
}

#[test]
fn top_cut_in_one_piece_and_in_chunks() {
    let message: &[u8] = b"A: 1\r\nB: 2\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";
    let header_end = b"A: 1\r\nB: 2\r\n\r\n".len();
    for (lines, expected_end) in [
        (0, header_end),
        (1, header_end + 8),
        (2, header_end + 16),
        (9, message.len()),
    ] {
        let mut whole = TopCut::new(lines);
        let (end, done) = whole.feed(message);
        assert_eq!(end, expected_end, "{lines} lines");
        assert_eq!(done, expected_end < message.len());
        for split in 0..message.len() {
            let mut cut = TopCut::new(lines);
            let (first, done) = cut.feed(&message[..split]);
            let total = if done {
                first
            } else {
                split + cut.feed(&message[split..]).0
            };
            assert_eq!(total, expected_end, "{lines} lines, split at {split}");
        }
    }
    // No blank line: the whole message is header.
    assert_eq!(TopCut::new(0).feed(b"A: 1\r\nB: 2\r\n"), (12, false));
}
