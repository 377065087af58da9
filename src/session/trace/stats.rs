//! Counting a run of trace lines: commands, answers, bytes, errors, the
//! message numbers it spans, and its latencies as a histogram that answers
//! the median and the 99th percentile to within 1 % in at most a few KB,
//! however many answers it has seen.

use super::{Direction, TraceEntry};
use crate::pop3::client::CommandKind;
use std::time::Duration;

/// Bucket width: each bucket holds latencies within a factor of this.
const RATIO: f64 = 1.02;

/// Latencies in logarithmic buckets (1 µs and up, 2 % wide), kept sparse:
/// a run of similar answers touches a few dozen buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyStats {
    /// (bucket, count), ordered by bucket.
    buckets: Vec<(u16, u32)>,
    count: u64,
    min: Option<Duration>,
}

impl LatencyStats {
    pub fn add(&mut self, latency: Duration) {
        self.count += 1;
        self.min = Some(self.min.map_or(latency, |m| m.min(latency)));
        self.add_to(bucket_of(latency), 1);
    }

    fn add_to(&mut self, bucket: u16, count: u32) {
        match self.buckets.binary_search_by_key(&bucket, |&(b, _)| b) {
            Ok(i) => self.buckets[i].1 = self.buckets[i].1.saturating_add(count),
            Err(i) => self.buckets.insert(i, (bucket, count)),
        }
    }

    pub(crate) fn merge(&mut self, other: &LatencyStats) {
        self.count += other.count;
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for &(bucket, count) in &other.buckets {
            self.add_to(bucket, count);
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The smallest latency seen, exactly.
    pub fn min(&self) -> Option<Duration> {
        self.min
    }

    /// The latency below which a fraction `q` (0..=1) of them lie, to
    /// within the bucket width.
    pub(crate) fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for &(bucket, count) in &self.buckets {
            seen += u64::from(count);
            if seen >= rank {
                return Some(value_of(bucket));
            }
        }
        self.buckets.last().map(|&(b, _)| value_of(b))
    }

    pub fn median(&self) -> Option<Duration> {
        self.quantile(0.5)
    }

    pub fn p99(&self) -> Option<Duration> {
        self.quantile(0.99)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(u16, u32)>()
    }
}

fn bucket_of(latency: Duration) -> u16 {
    let micros = latency.as_secs_f64() * 1e6;
    if micros < 1.0 {
        return 0;
    }
    let bucket = (micros.ln() / RATIO.ln()).floor() + 1.0;
    if bucket >= f64::from(u16::MAX) {
        u16::MAX
    } else {
        bucket as u16
    }
}

/// The middle of a bucket (geometrically).
fn value_of(bucket: u16) -> Duration {
    if bucket == 0 {
        return Duration::from_nanos(500);
    }
    let micros = (RATIO.ln() * (f64::from(bucket) - 0.5)).exp();
    Duration::from_secs_f64(micros / 1e6)
}

/// What a run of trace lines held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    pub lines: u64,
    /// Lines written.
    pub commands: u64,
    /// Answers begun (status lines and SASL challenges).
    pub answers: u64,
    /// Bytes received (status lines and payloads).
    pub bytes: u64,
    pub errors: u64,
    pub latency: LatencyStats,
    /// The message numbers of its first and last command, if they have one.
    pub first: Option<u32>,
    pub last: Option<u32>,
    /// The times of its first and last line.
    pub first_at: Option<Duration>,
    pub last_at: Option<Duration>,
}

impl RunStats {
    pub fn add(&mut self, entry: &TraceEntry) {
        self.lines += 1;
        self.first_at.get_or_insert(entry.at);
        self.last_at = Some(entry.at);
        match entry.direction {
            Direction::Sent => {
                self.commands += 1;
                if let Some(n) = entry.command.and_then(message_number) {
                    self.first.get_or_insert(n);
                    self.last = Some(n);
                }
            }
            Direction::Received => {
                self.bytes = self.bytes.saturating_add(entry.bytes.unwrap_or(0));
                if let Some(rtt) = entry.rtt {
                    self.answers += 1;
                    self.latency.add(rtt);
                }
            }
            Direction::Note => {}
        }
        self.errors += u64::from(entry.is_error());
    }

    /// `other` came after these lines.
    pub(crate) fn merge(&mut self, other: &RunStats) {
        self.lines += other.lines;
        self.commands += other.commands;
        self.answers += other.answers;
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.errors += other.errors;
        self.latency.merge(&other.latency);
        self.first = self.first.or(other.first);
        self.last = other.last.or(self.last);
        self.first_at = self.first_at.or(other.first_at);
        self.last_at = other.last_at.or(self.last_at);
    }
}

/// The message number a command names.
pub(crate) fn message_number(kind: CommandKind) -> Option<u32> {
    match kind {
        CommandKind::Top { msg, .. } => Some(msg),
        CommandKind::Retr(n) | CommandKind::Dele(n) | CommandKind::List(Some(n)) | CommandKind::Uidl(Some(n)) => {
            Some(n)
        }
        _ => None,
    }
}

/// "2.6 ms", "840 µs", "1.20 s".
pub(crate) fn format_latency(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1e6 {
        format!("{:.1} ms", micros / 1000.0)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

/// 2840 → "2,840".
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_the_bucket_width() {
        let mut stats = LatencyStats::default();
        for micros in 1..=10_000u64 {
            stats.add(Duration::from_micros(micros * 10));
        }
        let close = |got: Duration, want_ms: f64| {
            let got = got.as_secs_f64() * 1000.0;
            assert!(
                (got - want_ms).abs() / want_ms < 0.02,
                "{got} ms, expected {want_ms} ms"
            );
        };
        close(stats.median().unwrap(), 50.0);
        close(stats.p99().unwrap(), 99.0);
        assert_eq!(stats.min(), Some(Duration::from_micros(10)));
        assert_eq!(stats.count(), 10_000);
        // Four decades of latencies: some 470 buckets.
        assert!(stats.heap_bytes() <= 4096, "{}", stats.heap_bytes());
    }

    #[test]
    fn merging_is_adding() {
        let (mut a, mut b, mut both) = (
            LatencyStats::default(),
            LatencyStats::default(),
            LatencyStats::default(),
        );
        for (i, ms) in [3u64, 1, 4, 1, 5, 9, 2, 6].into_iter().enumerate() {
            let d = Duration::from_millis(ms);
            if i % 2 == 0 { &mut a } else { &mut b }.add(d);
            both.add(d);
        }
        a.merge(&b);
        assert_eq!(a, both);
    }

    #[test]
    fn extremes_do_not_panic() {
        let mut stats = LatencyStats::default();
        stats.add(Duration::ZERO);
        stats.add(Duration::MAX);
        assert_eq!(stats.quantile(0.0), Some(value_of(0)));
        assert!(stats.quantile(1.0).is_some());
        assert_eq!(LatencyStats::default().median(), None);
    }

    #[test]
    fn numbers_read_easily() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(2840), "2,840");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(format_latency(Duration::from_micros(2600)), "2.6 ms");
        assert_eq!(format_latency(Duration::from_micros(840)), "840 µs");
        assert_eq!(format_latency(Duration::from_millis(1200)), "1.20 s");
    }
}
