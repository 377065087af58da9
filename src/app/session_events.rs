//! Answers that fill the list: STAT the count LIST must keep to, LIST
//! gives the rows, TOP answers file
//! headers and bring the queries in view and the sender counts up to date
//! with the rows they touched; notices about the listing stay on the
//! activity line.

use super::list::Touched;
use super::prompt::Prompt;
use super::{App, Effect};
use crate::mailbox::{TopAnswer, apply_list, apply_stat};
use crate::pop3::client::Outcome;

impl App {
    pub(super) fn counted(&mut self, outcome: Outcome) -> Vec<Effect> {
        match apply_stat(outcome) {
            Ok(count) => self.announced = Some(count),
            Err(failure) => self.activity = failure.message,
        }
        vec![]
    }

    pub(super) fn listed(&mut self, outcome: Outcome) -> Vec<Effect> {
        // Without STAT's count the listing cannot be checked: STAT's
        // failure is what the activity line says.
        let Some(count) = self.announced else {
            return vec![];
        };
        match apply_list(outcome, count) {
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

    pub(super) fn top_answered(&mut self, n: u32, outcome: Outcome) -> Vec<Effect> {
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
    pub(super) fn rejudge_all(&mut self) {
        let rows = &self.list.rows;
        let typed = self.prompt.as_mut().and_then(Prompt::filter_mut);
        for filter in typed.into_iter().chain(self.search.as_mut()) {
            filter.recompute(rows);
        }
    }

    /// Says something about the listing that must stay on screen until
    /// something other than progress replaces it.
    pub(super) fn tell(&mut self, notice: String) {
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
}
