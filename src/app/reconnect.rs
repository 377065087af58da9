//! Reconnecting after the connection was lost: once automatically, with a
//! notice, and on a key. A reconnect opens a new session with the same
//! settings (the event loop does that), lists again and puts the staged
//! marks back by UID. It never deletes anything: the old connection is
//! dropped without QUIT, and the new one only lists until the person
//! confirms a commit again. Marks on messages without a UID cannot be
//! carried (a message number means nothing in another session): they are
//! dropped and the person is told.

use super::list::{MarkOrigin, MessageList};
use super::{App, ConnectionFacts, Effect, Link};
use crate::mailbox::ListingPlan;
use std::collections::HashSet;

/// Marks waiting for the new session's UIDs.
#[derive(Debug, Clone, Default)]
pub struct CarriedMarks {
    uids: HashSet<Box<str>>,
    origin: MarkOrigin,
    /// Marks dropped because their message had no UID, said again with
    /// the outcome.
    numbers_only: usize,
}

impl CarriedMarks {
    pub fn len(&self) -> usize {
        self.uids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.uids.is_empty()
    }
}

/// Where reconnecting stands.
#[derive(Debug, Clone, Default)]
pub struct Reconnect {
    /// A new session is being opened.
    pub underway: bool,
    /// The automatic attempt was used for this loss; armed again once a
    /// keep-alive on the new connection was answered.
    pub auto_spent: bool,
    /// Staged marks to put back once the new listing has its UIDs.
    pub carried: Option<CarriedMarks>,
}

impl App {
    /// Whether a reconnect may start: the connection was lost, no commit
    /// is under way and none ended (a committing QUIT's fate is not for a
    /// reconnect to guess).
    pub(crate) fn can_reconnect(&self) -> bool {
        matches!(self.link, Link::Lost(_))
            && !self.reconnect.underway
            && self.commit.is_idle()
            && self.commit.report.is_none()
    }

    /// The reconnect key, or the automatic attempt.
    pub fn reconnect(&mut self) -> Vec<Effect> {
        if !self.can_reconnect() {
            if self.link == Link::Open {
                self.activity = "the connection is open: nothing to reconnect".into();
            }
            return vec![];
        }
        self.reconnect.underway = true;
        self.activity = "reconnecting… (nothing is deleted by a reconnect)".into();
        vec![Effect::Reconnect]
    }

    /// The connection was lost while open: a notice and, once, an
    /// automatic reconnect.
    pub(super) fn lost(&mut self, reason: String) -> Vec<Effect> {
        self.link = Link::Lost(reason.clone());
        if let Some(v) = self.viewer.as_mut() {
            v.connection_lost();
        }
        let key = self.reconnect_key();
        if self.reconnect.auto_spent || !self.can_reconnect() {
            self.activity = format!("connection lost: {reason}. Read-only; {key} reconnects");
            return vec![];
        }
        self.reconnect.auto_spent = true;
        let effects = self.reconnect();
        self.activity = format!("connection lost: {reason}. Reconnecting once automatically… ({key} to retry later)");
        effects
    }

    /// The new session could not be opened.
    pub fn reconnect_failed(&mut self, why: &str) {
        self.reconnect.underway = false;
        self.link = Link::Lost(why.to_string());
        let carried = self.reconnect.carried.as_ref().map_or(0, CarriedMarks::len) + self.list.marked().0;
        let key = self.reconnect_key();
        self.activity = format!("reconnect failed: {why}. {key} to try again; {carried} marks are kept");
    }

    /// A new session is open: list again and carry the marks over by UID.
    pub fn reconnected(&mut self, facts: ConnectionFacts) -> Vec<Effect> {
        let mut carried = self.reconnect.carried.take().unwrap_or_default();
        for row in self.list.marked_rows() {
            match &row.uid {
                Some(uid) => {
                    carried.uids.insert(uid.clone());
                }
                None => carried.numbers_only += 1,
            }
        }
        let numbers_only = carried.numbers_only;
        if self.list.marked().0 > 0 {
            carried.origin = self.list.mark_origin().clone();
        }
        let (sort, descending) = (self.list.sort, self.list.sort_descending);
        self.list = MessageList::default();
        self.list.sort_by(sort, descending);
        self.header_loader = Default::default();
        self.viewer = None;
        self.senders = None;
        self.sender_index = Default::default();
        self.search = None;
        self.prompt = None;
        self.plan = ListingPlan::new(facts.uidl, facts.top);
        self.announced = None;
        self.listing_notice = None;
        self.tickets.forget_all();
        self.facts = facts;
        self.link = Link::Open;
        self.reconnect.underway = false;
        let mut said = vec!["reconnected; listing again".to_string()];
        if numbers_only > 0 {
            said.push(format!(
                "{numbers_only} marks dropped: those messages had no UID, so they cannot be found again"
            ));
        }
        if !carried.is_empty() {
            if self.plan.asks_uidl() {
                said.push(format!("{} marks to restore by UID…", carried.len()));
                self.reconnect.carried = Some(carried);
            } else {
                said.push(format!(
                    "{} marks dropped: the server gives no UIDs now, so they cannot be carried over",
                    carried.len()
                ));
            }
        }
        self.tell(said.join(" · "));
        self.start()
    }

    /// After the new session's UIDL answer: the carried marks go back on
    /// the rows with the same UID; the others are said and dropped.
    pub(super) fn restore_marks(&mut self) {
        let Some(carried) = self.reconnect.carried.take() else {
            return;
        };
        if self.list.rows.iter().all(|r| r.uid.is_none()) && !self.list.rows.is_empty() {
            self.tell(format!(
                "{} marks dropped: the server gave no UIDs this time, so they cannot be carried over",
                carried.len()
            ));
            return;
        }
        let rows: Vec<usize> = (0..self.list.rows.len())
            .filter(|&i| self.list.rows[i].uid.as_ref().is_some_and(|u| carried.uids.contains(u)))
            .collect();
        let restored = self.list.restore_marks(rows, carried.origin.clone());
        let gone = carried.len().saturating_sub(restored);
        let mut said = format!("reconnected: {restored} marks restored by UID");
        if gone > 0 {
            said.push_str(&format!(
                "; {gone} marked messages are no longer on the server and were unmarked"
            ));
        }
        if carried.numbers_only > 0 {
            said.push_str(&format!("; {} marks without a UID dropped", carried.numbers_only));
        }
        // This replaces "restoring…": the whole outcome in one notice.
        self.listing_notice = None;
        self.tell(said);
    }

    /// A keep-alive on this connection was answered: it lives, so a later
    /// loss may be retried automatically again.
    pub(super) fn keepalive_answered(&mut self) {
        self.reconnect.auto_spent = false;
    }

    fn reconnect_key(&self) -> String {
        super::keymap::keys_for(super::keymap::Context::Global, super::keymap::Action::Reconnect)
    }
}
