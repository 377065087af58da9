//! The test suite's hostile maildrop, as a POP3 client receives it (CRLF,
//! after dot-unstuffing), saved through every store format in
//! network-sized chunks and read back byte for byte. (The same check
//! against a live Dovecot belongs to `fetch`.)

use popscope::store::{Format, MessageMeta, open_sink, split_mboxrd};
use popscope::testmail::maildir as maildrop;
use std::fs;

#[test]
fn the_hostile_maildrop_round_trips_in_every_format() {
    let messages: Vec<(&str, Vec<u8>)> = maildrop::HOSTILE
        .iter()
        .map(|(name, _)| (*name, maildrop::to_wire(&maildrop::hostile(name))))
        .chain((0..20).map(|i| ("ordinary", maildrop::to_wire(&maildrop::ordinary(i)))))
        .collect();
    for format in [Format::Maildir, Format::Mbox, Format::Eml] {
        let dir = tempfile::tempdir().unwrap();
        let target = match format {
            Format::Mbox => dir.path().join("drop.mbox"),
            _ => dir.path().join("drop"),
        };
        let mut sink = open_sink(format, &target).unwrap();
        for (i, (_, wire)) in messages.iter().enumerate() {
            let meta = MessageMeta {
                number: i as u32 + 1,
                uid: Some(format!("uid/{i}")),
                ..MessageMeta::default()
            };
            let mut writer = sink.begin(&meta).unwrap();
            // TLS records are at most 16 KiB; vary the size around that.
            for piece in wire.chunks(16_384 - i * 13) {
                writer.write_chunk(piece).unwrap();
            }
            writer.commit().unwrap();
        }
        let saved = sink.sync().unwrap();
        assert_eq!(saved.len(), messages.len());
        let stored: Vec<Vec<u8>> = match format {
            Format::Mbox => split_mboxrd(&fs::read(&target).unwrap())
                .into_iter()
                .map(|m| m.content)
                .collect(),
            _ => saved.iter().map(|s| fs::read(&s.path).unwrap()).collect(),
        };
        assert_eq!(stored.len(), messages.len(), "{format:?}");
        for ((name, wire), got) in messages.iter().zip(&stored) {
            assert!(
                got == wire,
                "{format:?}: {name} differs ({} vs {} bytes)",
                got.len(),
                wire.len()
            );
        }
    }
}
