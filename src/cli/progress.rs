//! The progress line `fetch` redraws on standard error when it is a
//! terminal: count, bytes, rate and time left, throttled.

use crate::text::human_size;
use crate::transfer::Progress;
use std::io::Write;
use std::time::{Duration, Instant};

/// Redraws at most this often.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// A line redrawn in place with `\r` (and erased when done).
#[derive(Debug)]
pub(crate) struct ProgressLine {
    /// What the count is of: "fetched", "backed up".
    verb: &'static str,
    last_drawn: Option<Instant>,
    drawn: bool,
}

impl ProgressLine {
    pub fn new() -> ProgressLine {
        ProgressLine::counting("fetched")
    }

    /// A line that counts what `verb` says ("backed up 3/10 · …").
    pub fn counting(verb: &'static str) -> ProgressLine {
        ProgressLine {
            verb,
            last_drawn: None,
            drawn: false,
        }
    }

    /// Draws `progress` unless the last redraw was less than 100 ms ago.
    pub fn update(&mut self, progress: &Progress) {
        let now = Instant::now();
        if self.last_drawn.is_some_and(|at| now - at < REDRAW_EVERY) {
            return;
        }
        self.last_drawn = Some(now);
        self.drawn = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", describe_as(self.verb, progress));
        let _ = err.flush();
    }

    /// Erases the line, so the summary starts on a clean one.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Default for ProgressLine {
    fn default() -> ProgressLine {
        ProgressLine::new()
    }
}

/// `fetched 812/2000 · 4.1 MB of 10.2 MB · 9.8 MB/s · 1 s left`.
pub fn describe(p: &Progress) -> String {
    describe_as("fetched", p)
}

/// [`describe`] with another verb.
pub(crate) fn describe_as(verb: &str, p: &Progress) -> String {
    let mut line = format!(
        "{verb} {}/{} · {} of {}",
        p.messages,
        p.total_messages,
        human_size(p.bytes),
        human_size(p.total_bytes.max(p.bytes))
    );
    if let Some(rate) = p.rate() {
        line.push_str(&format!(" · {}/s", human_size(rate as u64)));
        let left = p.total_bytes.saturating_sub(p.bytes) as f64 / rate;
        line.push_str(&format!(" · {} left", duration_words(left)));
    }
    line
}

/// `4 s`, `2 min 5 s`, `1 h 3 min`.
pub(crate) fn duration_words(secs: f64) -> String {
    let secs = if secs.is_finite() {
        secs.max(0.0).round() as u64
    } else {
        0
    };
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_count_bytes_rate_and_time_left() {
        let p = Progress {
            messages: 812,
            synced: 768,
            bytes: 4 * 1024 * 1024,
            total_messages: 2000,
            total_bytes: 10 * 1024 * 1024,
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(
            describe(&p),
            "fetched 812/2000 · 4.0 MB of 10.0 MB · 2.0 MB/s · 3 s left"
        );
        let start = Progress {
            elapsed: Duration::from_millis(10),
            ..p
        };
        assert_eq!(describe(&start), "fetched 812/2000 · 4.0 MB of 10.0 MB");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(0.4), "0 s");
        assert_eq!(duration_words(125.0), "2 min 5 s");
        assert_eq!(duration_words(3780.0), "1 h 3 min");
        assert_eq!(duration_words(f64::NAN), "0 s");
    }
}
