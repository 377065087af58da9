//! The transfer loop against the demo server (real sockets, the real
//! session), saving into real sinks in temporary directories.

use super::*;
use crate::cli::demo::demo_session_config;
use crate::demo::{DemoOptions, DemoServer, Maildrop};
use crate::session::{Observers, open};
use crate::store::{Format, open_sink};
use std::fs;
use std::sync::Mutex;

fn message(i: usize, body_lines: usize) -> Vec<u8> {
    let mut m = format!("Subject: test {i}\r\nFrom: a@example.org\r\n\r\n").into_bytes();
    for line in 0..body_lines {
        m.extend_from_slice(format!("line {line} of message {i}\r\n").as_bytes());
    }
    m.extend_from_slice(b".starts with a dot\r\n");
    m
}

async fn server(messages: Vec<Vec<u8>>) -> DemoServer {
    DemoServer::start(Maildrop::with_messages(messages), DemoOptions::default())
        .await
        .expect("demo server")
}

fn wanted(server: &DemoServer) -> Vec<Wanted> {
    server
        .uids()
        .into_iter()
        .enumerate()
        .map(|(i, uid)| Wanted {
            number: i as u32 + 1,
            uid: Some(uid),
            size: 0,
        })
        .collect()
}

/// Records what the writer thread reported.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

#[derive(Default)]
struct Recorded {
    batches: Vec<usize>,
    last: Progress,
    fail_after_batches: Option<usize>,
}

impl TransferObserver for Recorder {
    fn progress(&mut self, progress: &Progress) {
        self.0.lock().unwrap().last = progress.clone();
    }

    fn synced(&mut self, batch: &[SavedAt]) -> Result<(), StoreError> {
        let mut r = self.0.lock().unwrap();
        r.batches.push(batch.len());
        if r.fail_after_batches.is_some_and(|n| r.batches.len() > n) {
            return Err(StoreError::other(None, "the state file cannot be written", None));
        }
        Ok(())
    }
}

#[tokio::test]
async fn every_message_arrives_byte_for_byte_in_batches() {
    let messages: Vec<Vec<u8>> = (0..300).map(|i| message(i, i % 40)).collect();
    let server = server(messages.clone()).await;
    let session = open(&demo_session_config(&server), Observers::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = open_sink(Format::Maildir, dir.path()).unwrap();
    let options = TransferOptions {
        lookahead: 50,
        sync_messages: 64,
        ..TransferOptions::default()
    };
    let recorder = Recorder::default();
    let transfer = save_messages(
        &session,
        &wanted(&server),
        sink,
        &options,
        recorder.clone(),
        &Cancel::default(),
    )
    .await;
    assert!(transfer.complete(), "{:?}", transfer.stopped);
    assert_eq!(transfer.saved.len(), 300);
    assert_eq!(transfer.sink.pending(), 0);
    for (i, saved) in transfer.saved.iter().enumerate() {
        assert_eq!(saved.number, i as u32 + 1);
        assert_eq!(saved.uid.as_deref(), Some(format!("msg-{i}").as_str()));
        assert_eq!(fs::read(&saved.path).unwrap(), messages[i], "message {}", i + 1);
    }
    {
        let recorded = recorder.0.lock().unwrap();
        assert_eq!(recorded.batches, [64, 64, 64, 64, 44], "a sync every 64, then the rest");
        assert_eq!((recorded.last.messages, recorded.last.synced), (300, 300));
        assert_eq!(recorded.last.bytes, transfer.bytes());
    }
    assert_eq!(transfer.timing.syncs, 5);
    assert!(session.quit(false).await.is_ok_answer());
}

#[tokio::test]
async fn a_refused_retr_is_listed_and_the_rest_is_saved() {
    let server = server((0..5).map(|i| message(i, 3)).collect()).await;
    let session = open(&demo_session_config(&server), Observers::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut asked = wanted(&server);
    asked.insert(
        2,
        Wanted {
            number: 99,
            uid: None,
            size: 10,
        },
    );
    let sink = open_sink(Format::Eml, dir.path()).unwrap();
    let transfer = save_messages(
        &session,
        &asked,
        sink,
        &TransferOptions::default(),
        (),
        &Cancel::default(),
    )
    .await;
    assert!(transfer.stopped.is_none());
    assert_eq!(transfer.refused.len(), 1);
    assert_eq!(transfer.refused[0].0, 99);
    let numbers: Vec<u32> = transfer.saved.iter().map(|s| s.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    assert!(!transfer.complete());
}

#[tokio::test]
async fn a_dropped_connection_keeps_only_what_was_complete_and_synced() {
    // The server stops answering after login + 3 RETRs; the session times
    // out, and the messages before it were synced.
    let options = DemoOptions {
        stall_after: Some(2 + 3),
        ..DemoOptions::default()
    };
    let server = DemoServer::start(
        Maildrop::with_messages((0..10).map(|i| message(i, 2)).collect()),
        options,
    )
    .await
    .unwrap();
    let config = crate::session::SessionConfig {
        response_timeout: Duration::from_millis(500),
        pipelining: false,
        ..demo_session_config(&server)
    };
    let session = open(&config, Observers::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = open_sink(Format::Maildir, dir.path()).unwrap();
    let transfer = save_messages(
        &session,
        &wanted(&server),
        sink,
        &TransferOptions::default(),
        (),
        &Cancel::default(),
    )
    .await;
    let Some(Stopped::Session(failure)) = &transfer.stopped else {
        panic!("{:?}", transfer.stopped)
    };
    assert_eq!(failure.kind, FailureKind::Timeout, "{failure}");
    let numbers: Vec<u32> = transfer.saved.iter().map(|s| s.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(fs::read_dir(dir.path().join("new")).unwrap().count(), 3);
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

#[tokio::test]
async fn cancel_stops_and_syncs_what_was_complete() {
    let server = server((0..400).map(|i| message(i, 5)).collect()).await;
    let session = open(&demo_session_config(&server), Observers::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = open_sink(Format::Mbox, &dir.path().join("box")).unwrap();
    let cancel = Cancel::default();
    cancel.cancel();
    let transfer = save_messages(
        &session,
        &wanted(&server),
        sink,
        &TransferOptions::default(),
        (),
        &cancel,
    )
    .await;
    assert!(matches!(transfer.stopped, Some(Stopped::Cancelled)));
    assert!(transfer.saved.len() < 400);
    // The session is still in step: what was in flight is read and dropped.
    assert!(session.quit(false).await.is_ok_answer());
}

#[tokio::test]
async fn a_failing_observer_stops_the_transfer_but_keeps_the_batch() {
    let server = server((0..40).map(|i| message(i, 1)).collect()).await;
    let session = open(&demo_session_config(&server), Observers::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = open_sink(Format::Maildir, dir.path()).unwrap();
    let recorder = Recorder::default();
    recorder.0.lock().unwrap().fail_after_batches = Some(0);
    let options = TransferOptions {
        lookahead: 4,
        sync_messages: 10,
        ..TransferOptions::default()
    };
    let transfer = save_messages(&session, &wanted(&server), sink, &options, recorder, &Cancel::default()).await;
    let Some(Stopped::Storage(err)) = &transfer.stopped else {
        panic!("{:?}", transfer.stopped)
    };
    assert!(err.message().contains("state file"), "{err}");
    // The first batch, and what was complete when the writer stopped (made
    // durable too: a complete copy is worth keeping).
    assert!((10..40).contains(&transfer.saved.len()), "{}", transfer.saved.len());
    assert!(transfer.saved.iter().all(|s| s.path.is_file()));
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    assert!(session.quit(false).await.is_ok_answer());
}

trait QuitOk {
    fn is_ok_answer(&self) -> bool;
}

impl QuitOk for crate::session::QuitResult {
    fn is_ok_answer(&self) -> bool {
        matches!(self, crate::session::QuitResult::Answered(s) if s.is_ok())
    }
}
