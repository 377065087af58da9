//! Saving a large message costs bounded memory in every format: a counting
//! allocator records the peak of live heap bytes while a 100 MB message is
//! written in odd-sized chunks. (Its own test binary, so no other test
//! allocates while it measures.)

use popscope::store::{Format, MessageMeta, open_sink};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, peak_above, start_measuring};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Most extra heap a save may use: a few buffers of 64 KiB, nowhere near
/// the message's size.
const BUDGET: usize = 1024 * 1024;
const MESSAGE: usize = 100 * 1024 * 1024;

#[test]
fn a_100_mb_message_costs_less_than_a_megabyte_in_every_format() {
    // Lines that exercise mbox quoting and dot lines, reused for every chunk.
    let pattern: Vec<u8> = (0..2000)
        .flat_map(|i| match i % 4 {
            0 => format!("From line {i}\r\n").into_bytes(),
            1 => format!(">From {i}\r\n").into_bytes(),
            2 => format!(".{i}\r\n").into_bytes(),
            _ => format!("{i:0>60}\r\n").into_bytes(),
        })
        .collect();
    let chunk_sizes = [1, 4093, 7, 16_411, 65_537, 131, 99_991];
    for format in [Format::Maildir, Format::Mbox, Format::Eml] {
        let dir = tempfile::tempdir().unwrap();
        let target = match format {
            Format::Mbox => dir.path().join("big.mbox"),
            _ => dir.path().join("big"),
        };
        let mut sink = open_sink(format, &target).unwrap();
        let baseline = start_measuring();
        let mut writer = sink
            .begin(&MessageMeta {
                number: 1,
                ..MessageMeta::default()
            })
            .unwrap();
        let (mut written, mut offset, mut turn) = (0usize, 0usize, 0usize);
        while written < MESSAGE {
            let size = chunk_sizes[turn % chunk_sizes.len()].min(pattern.len() - offset);
            writer.write_chunk(&pattern[offset..offset + size]).unwrap();
            written += size;
            offset = (offset + size) % pattern.len();
            turn += 1;
        }
        writer.commit().unwrap();
        let saved = sink.sync().unwrap();
        let peak = peak_above(baseline);
        assert_eq!(saved[0].bytes, written as u64);
        assert!(
            peak < BUDGET,
            "{format:?}: {peak} bytes of heap for a {written}-byte message"
        );
        println!("{format:?}: peak extra heap {peak} bytes for {written} bytes");
    }
}
