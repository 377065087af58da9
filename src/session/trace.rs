//! The protocol trace as people read it: each line stamped with the time
//! since the session began, its direction, and for answers the round trip.

use crate::pop3::client::Direction;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// Stamps trace records relative to the session's start (monotonic).
#[derive(Debug, Clone, Copy)]
pub struct TraceClock {
    start: Instant,
}

impl Default for TraceClock {
    fn default() -> Self {
        TraceClock { start: Instant::now() }
    }
}

impl TraceClock {
    pub fn entry(&self, direction: Direction, text: String, rtt: Option<Duration>) -> TraceEntry {
        TraceEntry {
            at: self.start.elapsed(),
            direction,
            text,
            rtt,
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
