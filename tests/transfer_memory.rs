//! Saving many large messages from a session costs bounded memory even
//! when the disk is slower than the network: a counting allocator records
//! the peak of live heap bytes while `transfer::save_messages` saves 30
//! messages of 4 MB (120 MB) from the demo server through a writer that
//! dawdles on every chunk. Every RETR is pipelined at once, so a route
//! that buffered per message would hold most of the maildrop. (Its own
//! test binary, so no other test allocates while it measures.)

use popscope::cli::demo::demo_session_config;
use popscope::demo::{DemoOptions, DemoServer, Maildrop};
use popscope::session::{Observers, open};
use popscope::store::{Format, open_sink};
use popscope::transfer::{Cancel, Progress, TransferObserver, TransferOptions, Wanted, save_messages};
use std::time::Duration;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, peak_above, start_measuring};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MESSAGES: usize = 30;
const SIZE: u64 = 4 * 1024 * 1024;
/// The channels' capacities in chunks of at most 256 KiB, plus the
/// driver's read buffer: a few MB, whatever the maildrop holds.
const BUDGET: usize = 16 * 1024 * 1024;

/// A slow disk: a pause on every chunk.
struct Dawdling;

impl TransferObserver for Dawdling {
    fn progress(&mut self, _: &Progress) {
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_large_messages_cost_a_few_megabytes_however_slow_the_disk() {
    let mut maildrop = Maildrop::with_messages(Vec::new());
    for seed in 0..MESSAGES as u64 {
        maildrop = maildrop.with_generated(seed, SIZE);
    }
    let server = DemoServer::start(maildrop, DemoOptions::default()).await.unwrap();
    let session = open(&demo_session_config(&server), Observers::default()).await.unwrap();
    let wanted: Vec<Wanted> = (1..=MESSAGES as u32)
        .map(|number| Wanted {
            number,
            uid: Some(format!("m{number}")),
            size: SIZE,
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let sink = open_sink(Format::Maildir, dir.path()).unwrap();
    let baseline = start_measuring();
    let transfer = save_messages(
        &session,
        &wanted,
        sink,
        &TransferOptions::default(),
        Dawdling,
        &Cancel::default(),
    )
    .await;
    let peak = peak_above(baseline);
    assert!(transfer.complete(), "{:?}", transfer.stopped);
    assert_eq!(transfer.saved.len(), MESSAGES);
    assert_eq!(transfer.bytes(), SIZE * MESSAGES as u64);
    println!("peak extra heap {peak} bytes for {} bytes saved", transfer.bytes());
    assert!(peak < BUDGET, "{peak} bytes of heap for {} bytes", transfer.bytes());
    session.quit(false).await;
}
