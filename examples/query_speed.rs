//! How long filtering 100,000 messages with a query takes (the UI does it
//! on a keystroke; the goal is one frame, 16 ms).
//!
//! Run: `cargo run --release --example query_speed [ROWS [QUERY...]]`
//! (without queries, a fixed set covering every kind of term).
//!
//! The rows are synthetic but shaped like a real maildrop: display names
//! and addresses of 20–60 characters, subjects of 10–80, dates spread over
//! a year, sizes from 1 KB to 32 MB, one in twenty a duplicate. Each query
//! is timed over every row several times; the best and the median run are
//! printed, in wall time and in this thread's CPU time, which a machine
//! busy with other work disturbs less.

use popscope::query::{HeaderFacts, MatchContext, MessageFacts, Query, Verdict};
use std::hint::black_box;
use std::time::{Duration, Instant};

const NOW: i64 = 1_709_251_200;
const RUNS: usize = 21;

const QUERIES: [&str; 9] = [
    "subject:\"disk full\"",
    "from:example.org or size>1M",
    "/invoice|receipt/",
    "-dup older:30d",
    "disk",
    "köln",
    "num:1000-2000 or big",
    "header:X-Spam-Flag=yes",
    "(from:junk or from:spam) -has:attachment newer:12w size<100k",
];

struct Headers {
    from: String,
    to: String,
    subject: String,
    message_id: String,
    timestamp: Option<i64>,
    spam_flag: &'static str,
}

struct Row {
    number: u32,
    uid: String,
    size: u64,
    headers: Option<Headers>,
    dup: bool,
}

impl HeaderFacts for Headers {
    fn from(&self) -> &str {
        &self.from
    }
    fn to(&self) -> &str {
        &self.to
    }
    fn cc(&self) -> &str {
        ""
    }
    fn subject(&self) -> &str {
        &self.subject
    }
    fn message_id(&self) -> &str {
        &self.message_id
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn is_broken(&self) -> bool {
        self.timestamp.is_none()
    }
    fn has_attachment(&self) -> bool {
        self.message_id.len().is_multiple_of(3)
    }
    fn any_header_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        name.eq_ignore_ascii_case("X-Spam-Flag") && test(self.spam_flag)
    }
}

impl MessageFacts for Row {
    type Headers = Headers;
    fn number(&self) -> u32 {
        self.number
    }
    fn uid(&self) -> Option<&str> {
        Some(&self.uid)
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn headers(&self) -> Option<&Headers> {
        self.headers.as_ref()
    }
    fn is_dup(&self) -> Option<bool> {
        Some(self.dup)
    }
}

/// A small deterministic generator (xorshift), so every run measures the
/// same rows.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn rows(count: u32) -> Vec<Row> {
    const NAMES: [&str; 8] = [
        "Alice Example",
        "Bob",
        "Mail Delivery System",
        "Cron Daemon",
        "Jürgen Müller",
        "noreply",
        "Support Team",
        "Ünïcødé Sender",
    ];
    const DOMAINS: [&str; 6] = [
        "example.org",
        "junk.example",
        "shop.example",
        "mail.example.net",
        "spam.example",
        "köln.example",
    ];
    const SUBJECTS: [&str; 8] = [
        "Cron <root@host> /usr/local/bin/backup.sh",
        "Warning: disk full on /var (98%)",
        "Your invoice #4711 is ready",
        "Re: lunch?",
        "Undelivered Mail Returned to Sender",
        "Grüße aus Köln",
        "Receipt for your payment",
        "[list] Weekly digest, issue 318: what happened this week in the project",
    ];
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    (1..=count)
        .map(|number| {
            let domain = random.pick(&DOMAINS);
            let headers = Headers {
                from: format!("{} <user{}@{domain}>", random.pick(&NAMES), random.next() % 1000),
                to: format!("box{}@example.org", random.next() % 10),
                subject: random.pick(&SUBJECTS).to_string(),
                message_id: format!("{}.{}@{domain}", random.next() % 1_000_000, number),
                timestamp: (!random.next().is_multiple_of(50)).then(|| NOW - (random.next() % (365 * 86_400)) as i64),
                spam_flag: if random.next().is_multiple_of(4) { "YES" } else { "NO" },
            };
            Row {
                number,
                uid: format!("{:08x}{number:08}", random.next() as u32),
                size: 1024 << (random.next() % 16),
                headers: Some(headers),
                dup: random.next().is_multiple_of(20),
            }
        })
        .collect()
}

/// Time this thread has spent on a CPU; `None` if the clock is missing.
fn thread_cpu_time() -> Option<Duration> {
    let mut time = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `time` is a valid, writable timespec for the call's duration.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    let seconds = u64::try_from(time.tv_sec).ok()?;
    let nanoseconds = u32::try_from(time.tv_nsec).ok()?;
    (status == 0).then(|| Duration::new(seconds, nanoseconds))
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let count: u32 = arguments.first().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let queries: Vec<&str> = match arguments.get(1..) {
        Some(given) if !given.is_empty() => given.iter().map(String::as_str).collect(),
        _ => QUERIES.to_vec(),
    };
    let rows = rows(count);
    let context = MatchContext::at(NOW);
    println!("{count} rows, best and median of {RUNS} runs (wall time; this thread's CPU time)");
    println!(
        "{:<62} {:>8} {:>10} {:>10} {:>10}",
        "query", "matches", "parse", "best", "median"
    );
    for input in queries {
        let parse_started = Instant::now();
        let query = Query::parse(input).expect("the example queries parse");
        let parse_time = parse_started.elapsed();
        let mut wall: Vec<Duration> = Vec::with_capacity(RUNS);
        let mut cpu: Vec<Duration> = Vec::with_capacity(RUNS);
        let mut matches = 0;
        for _ in 0..RUNS {
            let cpu_started = thread_cpu_time();
            let started = Instant::now();
            matches = rows
                .iter()
                .filter(|row| query.evaluate(black_box(*row), &context) == Verdict::Match)
                .count();
            wall.push(started.elapsed());
            if let (Some(before), Some(after)) = (cpu_started, thread_cpu_time()) {
                cpu.push(after.saturating_sub(before));
            }
        }
        wall.sort();
        cpu.sort();
        let cpu_shown = |at: usize| cpu.get(at).map_or("-".to_string(), |time| format!("{time:.3?}"));
        println!(
            "{input:<62} {matches:>8} {:>10.3?} {:>10.3?} {:>10.3?} {:>10} {:>10}",
            parse_time,
            wall[0],
            wall[RUNS / 2],
            cpu_shown(0),
            cpu_shown(RUNS / 2)
        );
    }
}
