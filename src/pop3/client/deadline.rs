//! When waiting for the server has gone on too long: the one place that
//! decides it.
//!
//! The client is *waiting* while the greeting or an answer to a written
//! command is outstanding. Two rules, both measured against
//! `ClientConfig::answer_timeout` (the limit):
//!
//! - **silence**: the clock starts when the first awaited command is written
//!   (`take_output`) and restarts with every byte that arrives; a silence
//!   longer than the limit fails the session;
//! - **the whole answer**: each answer (the one at the head of the pipeline;
//!   its clock starts when the answer before it ended, or when its command
//!   was written) must arrive at an average of at least `MIN_ANSWER_RATE`
//!   once the limit is over: by `start + limit + bytes / MIN_ANSWER_RATE`.
//!   A server that trickles one line a second, which the silence rule never
//!   catches, fails soon after the limit; a large RETR on a slow but real
//!   link never comes near it. (A flood at full speed is bounded by size
//!   instead: see the command table's `largest` answers.)
//!
//! Time the caller spends not reading (a slow consumer pushing back) counts
//! for neither rule (`resumed`).
//!
//! One answer is allowed more: a committing QUIT's. The server deletes
//! before it answers, silently, and that takes time per message: Dovecot
//! 2.3 on this project's loaded 2-core machine spent about 3 ms per
//! message (14 s for 5,000, so some 150 s for 50,000; benches/pop3.rs,
//! section 4). Timing that out would turn a successful deletion into
//! "outcome unknown", so the limit grows by [`QUIT_TIME_PER_DELETION`] for
//! every message that may be marked: a few times what was measured, as the
//! price of a dead server is only a longer wait (Ctrl-C ends it).

use std::time::{Duration, Instant};

/// Extra time a committing QUIT may take per message that may be marked.
pub(super) const QUIT_TIME_PER_DELETION: Duration = Duration::from_millis(10);

/// The slowest average rate an answer may arrive at once the limit is over:
/// 1 KiB/s, a fraction of any working link.
pub(super) const MIN_ANSWER_RATE: u64 = 1024;

/// Why the wait is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    /// Nothing arrived for the whole limit.
    Silent,
    /// The answer arrives, but too slowly: `bytes` in `elapsed`.
    TooSlow { bytes: u64, elapsed: Duration },
}

#[derive(Debug, Clone)]
pub(super) struct AnswerTimer {
    limit: Duration,
    /// More for the answer awaited now (a committing QUIT's); gone once
    /// nothing is awaited.
    extra: Duration,
    /// Since when the client has waited without hearing anything.
    quiet_since: Option<Instant>,
    /// The answer now awaited: since when, and how many bytes of it came.
    answer: Option<(Instant, u64)>,
}

impl AnswerTimer {
    /// Created waiting (for the greeting).
    pub(super) fn new(limit: Duration, now: Instant) -> AnswerTimer {
        AnswerTimer {
            limit,
            extra: Duration::ZERO,
            quiet_since: Some(now),
            answer: Some((now, 0)),
        }
    }

    /// A command the server must answer went on the wire at `now`.
    pub(super) fn written(&mut self, now: Instant) {
        self.quiet_since.get_or_insert(now);
        self.answer.get_or_insert((now, 0));
    }

    /// Bytes arrived at `now`.
    pub(super) fn heard(&mut self, now: Instant) {
        if self.quiet_since.is_some() {
            self.quiet_since = Some(now);
        }
    }

    /// `bytes` of the awaited answer were read.
    pub(super) fn progress(&mut self, bytes: u64) {
        if let Some((_, got)) = &mut self.answer {
            *got = got.saturating_add(bytes);
        }
    }

    /// An answer ended at `now` and the next one is awaited.
    pub(super) fn next_answer(&mut self, now: Instant) {
        self.answer = Some((now, 0));
    }

    /// The caller did not read from `paused_since` to `now`: neither rule
    /// counts that time against the server.
    pub(super) fn resumed(&mut self, paused_since: Instant, now: Instant) {
        self.heard(now);
        if let Some((start, _)) = &mut self.answer {
            *start += now.saturating_duration_since(paused_since);
        }
    }

    /// Nothing is awaited any more.
    pub(super) fn idle(&mut self) {
        self.quiet_since = None;
        self.extra = Duration::ZERO;
        self.answer = None;
    }

    /// A committing QUIT went out while `marked` messages may be marked.
    pub(super) fn quit_committing(&mut self, marked: u32) {
        self.extra = QUIT_TIME_PER_DELETION.saturating_mul(marked);
    }

    fn silent_until(&self) -> Option<Instant> {
        // A limit too large to add is no limit.
        self.quiet_since.and_then(|t| t.checked_add(self.limit()))
    }

    fn slow_until(&self) -> Option<Instant> {
        let (start, bytes) = self.answer?;
        let allowance = Duration::from_millis(bytes.saturating_mul(1000) / MIN_ANSWER_RATE);
        start.checked_add(self.limit())?.checked_add(allowance)
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        match (self.silent_until(), self.slow_until()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn expired(&self, now: Instant) -> Option<Expiry> {
        if self.silent_until().is_some_and(|d| now >= d) {
            return Some(Expiry::Silent);
        }
        let (start, bytes) = self.answer?;
        self.slow_until().filter(|d| now >= *d).map(|_| Expiry::TooSlow {
            bytes,
            elapsed: now.saturating_duration_since(start),
        })
    }

    pub(super) fn limit(&self) -> Duration {
        self.limit.saturating_add(self.extra)
    }
}
