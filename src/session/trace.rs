//! The protocol trace as people read it: each line stamped with the time
//! since the session began, its direction, and for answers the round trip.

use crate::pop3::client::{Direction, TraceRecord};
use std::fmt;
use std::time::{Duration, Instant};

/// Turns the client's instants into times since the session's start.
#[derive(Debug, Clone, Copy)]
pub struct TraceClock {
    start: Instant,
}

impl Default for TraceClock {
    fn default() -> Self {
        TraceClock {
            start: tokio::time::Instant::now().into_std(),
        }
    }
}

impl TraceClock {
    /// A record from the client; its latency is the round trip shown.
    pub fn entry(&self, record: TraceRecord) -> TraceEntry {
        TraceEntry {
            at: record.at.saturating_duration_since(self.start),
            direction: record.direction,
            text: record.text,
            rtt: record.latency,
        }
    }

    /// Something the session layer observed, now.
    pub fn note(&self, text: String) -> TraceEntry {
        TraceEntry {
            at: tokio::time::Instant::now()
                .into_std()
                .saturating_duration_since(self.start),
            direction: Direction::Note,
            text,
            rtt: None,
        }
    }
}
/// One trace line. `text` is redacted and sanitized already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    pub at: Duration,
    pub direction: Direction,
    pub text: String,
    pub rtt: Option<Duration>,
}

impl TraceEntry {
    pub fn arrow(&self) -> &'static str {
        match self.direction {
            Direction::Sent => "C:",
            Direction::Received => "S:",
            Direction::Note => "--",
        }
    }
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>9.3}s {} {}", self.at.as_secs_f64(), self.arrow(), self.text)?;
        if let Some(rtt) = self.rtt {
            write!(f, "  ({:.1} ms)", rtt.as_secs_f64() * 1000.0)?;
        }
        Ok(())
    }
}
