//! When waiting for the server has gone on too long. The one place that
//! decides it, so a limit on a whole answer (a minimum rate, or a deadline
//! scaled by the size LIST announced) can be added here later without
//! touching the rest of the client.
//!
//! The rule today: the client is *waiting* while the greeting or an answer
//! to a written command is outstanding. The clock starts when the first
//! awaited command is written (`take_output`) and restarts with every byte
//! that arrives, so a slow but moving answer (a large RETR) never times
//! out, and neither does a trickle of one byte per `limit` — that is what a
//! whole-answer limit would add. Time the caller spends not reading (a
//! slow consumer pushing back) does not count (`reading_resumed`).
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

#[derive(Debug, Clone)]
pub(super) struct AnswerTimer {
    limit: Duration,
    /// More for the answer awaited now (a committing QUIT's); gone once
    /// nothing is awaited.
    extra: Duration,
    /// Since when the client has waited without hearing anything.
    quiet_since: Option<Instant>,
}

impl AnswerTimer {
    /// Created waiting (for the greeting).
    pub(super) fn new(limit: Duration, now: Instant) -> AnswerTimer {
        AnswerTimer {
            limit,
            extra: Duration::ZERO,
            quiet_since: Some(now),
        }
    }

    /// A command the server must answer went on the wire at `now`.
    pub(super) fn written(&mut self, now: Instant) {
        self.quiet_since.get_or_insert(now);
    }

    /// Bytes arrived at `now`.
    pub(super) fn heard(&mut self, now: Instant) {
        if self.quiet_since.is_some() {
            self.quiet_since = Some(now);
        }
    }

    /// Nothing is awaited any more.
    pub(super) fn idle(&mut self) {
        self.quiet_since = None;
        self.extra = Duration::ZERO;
    }

    /// A committing QUIT went out while `marked` messages may be marked.
    pub(super) fn quit_committing(&mut self, marked: u32) {
        self.extra = QUIT_TIME_PER_DELETION.saturating_mul(marked);
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        // A limit too large to add is no limit.
        self.quiet_since.and_then(|t| t.checked_add(self.limit()))
    }

    pub(super) fn expired(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|d| now >= d)
    }

    pub(super) fn limit(&self) -> Duration {
        self.limit.saturating_add(self.extra)
    }
}
