//! What the session says, into the app: LIST and UIDL fill the list, TOP
//! answers file headers (and bring the queries in view and the sender
//! counts up to date with the rows they touched), DELE and QUIT answers go
//! to the commit, and a lost connection makes the inspector read-only.

use super::commit::Closed;
use super::list::Touched;
use super::prompt::Prompt;
use super::tickets::Purpose;
use super::{App, Effect, Link};
use crate::mailbox::{TopAnswer, apply_list};
use crate::pop3::client::Outcome;
use crate::session::driver::SessionEvent;

impl App {
    pub fn handle_session_event(&mut self, event: SessionEvent) -> Vec<Effect> {
        match event {
            SessionEvent::Trace(entry) => {
                self.trace.push(entry);
                vec![]
            }
            SessionEvent::Data { ticket, chunk } => {
                if let Some(v) = self.viewer.as_mut()
                    && v.ticket == ticket
                {
                    v.data(&chunk);
                }
                vec![]
            }
            SessionEvent::Completed { ticket, outcome, .. } => match self.tickets.answered(ticket) {
                Some(purpose) => self.completed(ticket, purpose, outcome),
                None => vec![],
            },
            SessionEvent::Closed(failure) => self.connection_closed(failure.map(|f| f.to_string())),
        }
    }

    fn completed(&mut self, ticket: u64, purpose: Purpose, outcome: Outcome) -> Vec<Effect> {
        match purpose {
            Purpose::List => self.listed(outcome),
            Purpose::Uidl => {
                // An error means the connection ended; its Closed event
                // says so.
                if let Ok(uids) = self.plan.apply_uidl(outcome) {
                    if let Some(notice) = uids.notice() {
                        self.tell(notice);
                    }
                    if self.list.apply_uids(uids) {
                        self.rejudge_all();
                    }
                }
                vec![]
            }
            Purpose::Top(n) => self.top_answered(n, outcome),
            Purpose::Retr(_) => {
                let width = self.message_text_width();
                if let Some(v) = self.viewer.as_mut()
                    && v.ticket == ticket
                    && let Some(said) = v.completed(outcome, width)
                {
                    self.activity = said;
                }
                vec![]
            }
            Purpose::Dele(n) => {
                let update = self.commit.dele_answered(n, outcome, &mut self.tickets);
                self.apply(update)
            }
            Purpose::Rset | Purpose::Noop => vec![],
            Purpose::Quit { commit } => {
                self.link = Link::Closed;
                self.commit.quit_answered(commit, outcome, self.list.marked())
            }
        }
    }

    fn listed(&mut self, outcome: Outcome) -> Vec<Effect> {
        match apply_list(outcome) {
            Ok(entries) => {
                self.list.fill(entries);
                let n = self.list.rows.len();
                self.report_progress(if self.plan.asks_top() {
                    format!("{n} messages; loading headers…")
                } else {
                    format!("{n} messages; the server has no TOP, so no headers")
                });
                self.pump_headers()
            }
            Err(failure) => {
                self.activity = failure.message;
                vec![]
            }
        }
    }

    fn top_answered(&mut self, n: u32, outcome: Outcome) -> Vec<Effect> {
        let answer = self.plan.apply_top(n, outcome);
        if let TopAnswer::NotSupported(notice) = &answer {
            self.tell(notice.clone());
        }
        if let Some(touched) = self.header_loader.answered(&mut self.list, n, answer) {
            self.rejudge(&touched);
        }
        let (loaded, total) = self.headers_progress();
        if total > 0 {
            self.report_progress(if loaded >= total {
                "ready".into()
            } else {
                format!("loading headers {loaded}/{total}")
            });
        }
        self.pump_headers()
    }

    /// Brings the queries in view and the sender counts up to date with
    /// the rows one answer touched.
    fn rejudge(&mut self, touched: &Touched) {
        let rows = &self.list.rows;
        let typed = self.prompt.as_mut().and_then(Prompt::filter_mut);
        for filter in typed.into_iter().chain(self.search.as_mut()) {
            touched.rows().for_each(|i| {
                filter.refresh(rows, i);
            });
        }
        if touched.loaded {
            self.sender_index.add(&rows[touched.row]);
        }
    }

    /// Judges every row again (UIDs arrived: `uid:` can be decided).
    fn rejudge_all(&mut self) {
        let rows = &self.list.rows;
        let typed = self.prompt.as_mut().and_then(Prompt::filter_mut);
        for filter in typed.into_iter().chain(self.search.as_mut()) {
            filter.recompute(rows);
        }
    }

    /// Says something about the listing that must stay on screen until
    /// something other than progress replaces it.
    fn tell(&mut self, notice: String) {
        let notice = match &self.listing_notice {
            Some(earlier) if *earlier == self.activity => format!("{earlier} · {notice}"),
            _ => notice,
        };
        self.activity = notice.clone();
        self.listing_notice = Some(notice);
    }

    fn report_progress(&mut self, text: String) {
        if self.listing_notice.as_ref() != Some(&self.activity) {
            self.activity = text;
        }
    }

    fn connection_closed(&mut self, reason: Option<String>) -> Vec<Effect> {
        let reason = reason.unwrap_or_else(|| "the server closed the connection".into());
        match self.commit.connection_closed(&reason, self.list.marked().0) {
            Closed::Leave(effects) => return effects,
            Closed::CommitCancelled(said) => {
                self.activity = said;
                self.link = Link::Lost(reason);
                return vec![];
            }
            Closed::NotCommitting => {}
        }
        if self.link == Link::Open && self.commit.report.is_none() {
            self.activity = format!("connection lost: {reason}. Read-only: marks cannot be committed");
            self.link = Link::Lost(reason);
            if let Some(v) = self.viewer.as_mut() {
                v.connection_lost();
            }
        }
        vec![]
    }
}
