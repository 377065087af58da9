//! The session's event subscriber (the UI) behind a bounded channel.
//!
//! Answers, data and the end of the session are never lost: when the
//! channel is full they are held, in order, and the driver waits for the
//! subscriber (`flush`) before it reads again, so a slow UI slows the
//! reading and TCP slows the server. Trace lines do not come this way:
//! they go to the trace observers (a store with a byte budget, a file
//! writer's bounded queue that drops and counts).

use super::driver::SessionEvent;
use std::collections::VecDeque;
use tokio::sync::mpsc::Sender;
use tokio::sync::mpsc::error::TrySendError;

pub(super) struct Subscriber {
    /// None once nobody listens (or nobody did).
    tx: Option<Sender<SessionEvent>>,
    /// Events the full channel has not taken yet. Bounded by what one read
    /// and one burst of requests produce: `flush` empties it before the
    /// next read.
    held: VecDeque<SessionEvent>,
}

impl Subscriber {
    pub(super) fn new(tx: Option<Sender<SessionEvent>>) -> Subscriber {
        Subscriber {
            tx,
            held: VecDeque::new(),
        }
    }

    /// Hands `event` over, or holds it while the channel is full.
    pub(super) fn send(&mut self, event: SessionEvent) {
        let Some(tx) = &self.tx else { return };
        // Order: nothing overtakes what is held.
        if !self.held.is_empty() {
            self.held.push_back(event);
            return;
        }
        match tx.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(event)) => self.held.push_back(event),
            Err(TrySendError::Closed(_)) => self.gone(),
        }
    }

    fn gone(&mut self) {
        self.tx = None;
        self.held.clear();
    }

    /// Waits until the subscriber has taken every held event; true if
    /// there were any (the time waited was not the server's).
    pub(super) async fn flush(&mut self) -> bool {
        if self.held.is_empty() {
            return false;
        }
        while let Some(event) = self.held.pop_front() {
            let Some(tx) = &self.tx else { break };
            if tx.send(event).await.is_err() {
                self.gone();
            }
        }
        true
    }

    /// The last event: after everything held.
    pub(super) async fn close(&mut self, event: SessionEvent) {
        self.flush().await;
        if let Some(tx) = &self.tx {
            let _ = tx.send(event).await;
        }
    }
}
