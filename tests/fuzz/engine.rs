//! The fuzz engine: a seeded mutation runner on stable Rust.
//!
//! Each target is a function from bytes to "every invariant held" (or the
//! one that did not). The runner replays the target's regression inputs,
//! runs its seeds, then mutates inputs from its corpus until its time is up.
//! An input that shows the target something new (a feature its probe had
//! not reported before) joins the corpus, so the search goes deeper than
//! blind mutation. Everything random comes from one seed, printed at the
//! start: the same seed and `POPSCOPE_FUZZ_RUNS` replay the same inputs.
//!
//! A failure (a broken invariant or a panic) is minimized, written to
//! `fuzz/regressions/<target>/`, and reported with the command that
//! replays it; every later run replays it first.

use crate::mutate::mutate;
use popscope::testmail::{Rng, mix};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// The wall time the whole fuzz test takes by default, shared among the
/// targets (and the threads the test harness runs them on); a few seconds
/// below a minute leave room for the seeds, the regression replays and a
/// loaded machine.
const DEFAULT_TOTAL_SECONDS: f64 = 55.0;
/// One run taking longer than this is a hang: the input is saved and the
/// process ends (a debug build on a loaded machine is slow; no target
/// comes near this on any seed).
const HANG_LIMIT: Duration = Duration::from_secs(30);
/// Most inputs kept in memory per target.
const MAX_CORPUS: usize = 8192;
/// What minimizing a failing input may cost.
const MINIMIZE_RUNS: u32 = 4000;
const MINIMIZE_TIME: Duration = Duration::from_secs(20);

/// One fuzz target.
pub struct Target {
    /// Its directory under `fuzz/corpus` and `fuzz/regressions`.
    pub name: &'static str,
    /// Longest input the mutator makes (seeds may be longer).
    pub max_len: usize,
    /// Tokens the mutator inserts besides the shared protocol tokens.
    pub dictionary: &'static [&'static [u8]],
    /// Seeds made in code (e.g. from `popscope::testmail`), besides the
    /// committed files in `fuzz/corpus/<name>`.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Runs one input and checks every invariant.
    pub run: fn(&[u8], &mut Probe) -> Result<(), Violation>,
}

/// A broken invariant: which one (`kind`, stable, used to tell failures
/// apart while minimizing) and the details.
#[derive(Debug, Clone)]
pub struct Violation {
    pub kind: String,
    pub detail: String,
}

impl Violation {
    pub fn new(kind: &str, detail: String) -> Violation {
        Violation {
            kind: kind.to_string(),
            detail,
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// Returns a [`Violation`] from the enclosing function unless `cond` holds.
macro_rules! check {
    ($cond:expr, $kind:expr, $($detail:tt)+) => {
        if !$cond {
            return Err($crate::engine::Violation::new($kind, format!($($detail)+)));
        }
    };
}

/// What a run showed the target: features it reports (a state reached, an
/// error kind, a transition). New features make an input worth keeping.
#[derive(Default)]
pub struct Probe {
    features: Vec<u64>,
}

impl Probe {
    pub fn hit(&mut self, feature: impl Hash) {
        let mut hasher = FxHasher(0);
        feature.hash(&mut hasher);
        self.features.push(hasher.finish());
    }
}

/// A small, fast hasher for features and file names (not for security).
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        mix(self.0, 0x2545_f491_4f6c_dd1d)
    }
}

fn content_hash(bytes: &[u8]) -> u64 {
    let mut hasher = FxHasher(bytes.len() as u64);
    hasher.write(bytes);
    hasher.finish()
}

/// How this run was asked to go (environment variables, see docs/fuzzing.md).
struct Settings {
    seconds: f64,
    seed: u64,
    runs: Option<u64>,
    replay: Option<PathBuf>,
    work_dir: Option<PathBuf>,
}

impl Settings {
    fn from_env(target_count: usize) -> Settings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str| {
            var(name).map(|v| {
                let v = v.trim().replace('_', "");
                let parsed = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                };
                parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number"))
            })
        };
        let seconds = match var("POPSCOPE_FUZZ_SECONDS") {
            Some(v) => v
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("POPSCOPE_FUZZ_SECONDS={v} is not a number of seconds")),
            // The busiest harness thread runs this many targets one after
            // another; together they get the whole time.
            None => DEFAULT_TOTAL_SECONDS / target_count.div_ceil(harness_threads(target_count)) as f64,
        };
        let seed = number("POPSCOPE_FUZZ_SEED").unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            mix(nanos, u64::from(std::process::id()))
        });
        Settings {
            seconds,
            seed,
            runs: number("POPSCOPE_FUZZ_RUNS"),
            replay: var("POPSCOPE_FUZZ_REPLAY").map(PathBuf::from),
            work_dir: var("POPSCOPE_FUZZ_WORK_DIR").map(PathBuf::from),
        }
    }
}

/// How many targets the test harness runs at once.
fn harness_threads(target_count: usize) -> usize {
    let threads = std::env::var("RUST_TEST_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    threads.clamp(1, target_count)
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files directly in `dir`, sorted by name (missing dir: none).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

thread_local! {
    /// Set while a target runs on this thread: its panics are findings,
    /// recorded here rather than printed.
    static IN_TARGET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static PANICS: Cell<u64> = const { Cell::new(0) };
}

fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_TARGET.get() {
                return default(info);
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_string());
            let location = info
                .location()
                .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
            LAST_PANIC.set(Some(format!("{location}: {message}")));
            PANICS.set(PANICS.get() + 1);
        }));
    });
}

/// The input being run, for the hang watchdog.
#[derive(Default)]
struct Current {
    started: Option<Instant>,
    input: Vec<u8>,
}

/// One target's run: its corpus, what it has seen, its counters.
struct Fuzzer<'a> {
    target: &'a Target,
    settings: &'a Settings,
    current: Arc<Mutex<Current>>,
    corpus: Vec<Vec<u8>>,
    features: HashSet<u64>,
    runs: u64,
    slowest: (Duration, usize),
    /// Panics that popscope caught itself (mail parsing runs under
    /// `catch_unwind`): not failures, but worth knowing.
    caught_inside: u64,
    first_caught: Option<String>,
}

/// How one run of one input went.
struct RunResult {
    outcome: Result<(), Violation>,
    new_features: usize,
}

impl<'a> Fuzzer<'a> {
    fn new(target: &'a Target, settings: &'a Settings, current: Arc<Mutex<Current>>) -> Fuzzer<'a> {
        Fuzzer {
            target,
            settings,
            current,
            corpus: Vec::new(),
            features: HashSet::new(),
            runs: 0,
            slowest: (Duration::ZERO, 0),
            caught_inside: 0,
            first_caught: None,
        }
    }

    /// Runs one input under the panic hook and the watchdog.
    fn execute(&mut self, input: &[u8]) -> RunResult {
        let started = Instant::now();
        {
            let mut current = self.current.lock().unwrap();
            current.started = Some(started);
            current.input.clear();
            current.input.extend_from_slice(input);
        }
        let mut probe = Probe::default();
        let panics_before = PANICS.get();
        IN_TARGET.set(true);
        let result = catch_unwind(AssertUnwindSafe(|| (self.target.run)(input, &mut probe)));
        IN_TARGET.set(false);
        let elapsed = started.elapsed();
        self.current.lock().unwrap().started = None;
        self.runs += 1;
        if elapsed > self.slowest.0 {
            self.slowest = (elapsed, input.len());
        }
        let outcome = match result {
            Ok(outcome) => {
                if PANICS.get() > panics_before {
                    self.caught_inside += PANICS.get() - panics_before;
                    self.first_caught
                        .get_or_insert_with(|| LAST_PANIC.take().unwrap_or_default());
                }
                outcome
            }
            Err(_) => {
                let message = LAST_PANIC.take().unwrap_or_else(|| "(unknown panic)".to_string());
                let location = message.split(": ").next().unwrap_or_default().to_string();
                Err(Violation::new(&format!("panic at {location}"), message))
            }
        };
        let mut new_features = 0;
        for feature in probe.features {
            if self.features.insert(feature) {
                new_features += 1;
            }
        }
        RunResult { outcome, new_features }
    }

    /// Smaller inputs that fail the same way: whole lines first, then byte
    /// ranges of halving length.
    fn minimize(&mut self, input: &[u8], kind: &str) -> Vec<u8> {
        let deadline = Instant::now() + MINIMIZE_TIME;
        let mut budget = MINIMIZE_RUNS;
        let mut best = input.to_vec();
        let mut fails_alike = |fuzzer: &mut Fuzzer, candidate: &[u8]| {
            if budget == 0 || Instant::now() > deadline {
                return false;
            }
            budget -= 1;
            matches!(fuzzer.execute(candidate).outcome, Err(v) if v.kind == kind)
        };
        let mut line = 0;
        loop {
            let starts: Vec<usize> = std::iter::once(0)
                .chain(
                    best.iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect();
            let Some(&start) = starts.get(line) else { break };
            let end = starts.get(line + 1).copied().unwrap_or(best.len());
            let candidate = [&best[..start], &best[end..]].concat();
            if end > start && fails_alike(self, &candidate) {
                best = candidate;
            } else {
                line += 1;
            }
        }
        let mut chunk = best.len() / 2;
        while chunk > 0 {
            let mut at = 0;
            while at < best.len() {
                let end = (at + chunk).min(best.len());
                let candidate = [&best[..at], &best[end..]].concat();
                if fails_alike(self, &candidate) {
                    best = candidate;
                } else {
                    at += chunk;
                }
            }
            chunk /= 2;
        }
        best
    }

    /// Minimizes, saves and reports a failure; never returns.
    fn fail(&mut self, input: &[u8], violation: Violation) -> ! {
        let minimized = self.minimize(input, &violation.kind);
        let detail = match self.execute(&minimized).outcome {
            Err(v) if v.kind == violation.kind => v,
            _ => violation,
        };
        let path = save_regression(self.target.name, &detail.kind, &minimized);
        panic!(
            "fuzz target {name} broke an invariant\n  {detail}\n  input: {path} ({len} bytes; {original} before minimizing)\n  \
             seed: POPSCOPE_FUZZ_SEED={seed:#x} (after {runs} runs)\n  \
             replay: POPSCOPE_FUZZ_REPLAY={path} cargo test --test fuzz {name} -- --nocapture\n  \
             every run replays fuzz/regressions/{name}/ first; commit the file with the fix",
            name = self.target.name,
            path = path.display(),
            len = minimized.len(),
            original = input.len(),
            seed = self.settings.seed,
            runs = self.runs,
        );
    }

    fn keep(&mut self, input: Vec<u8>, rng: &mut Rng, seeds: usize) {
        if let Some(dir) = &self.settings.work_dir {
            let dir = dir.join(self.target.name);
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{:016x}", content_hash(&input))), &input);
        }
        if self.corpus.len() < MAX_CORPUS {
            self.corpus.push(input);
        } else if self.corpus.len() > seeds {
            let victim = seeds + rng.below((self.corpus.len() - seeds) as u64) as usize;
            self.corpus[victim] = input;
        }
    }
}

fn save_regression(target: &str, kind: &str, input: &[u8]) -> PathBuf {
    let dir = repository().join("fuzz/regressions").join(target);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let slug: String = kind
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .take(6)
        .collect::<Vec<_>>()
        .join("-");
    let path = dir.join(format!("{slug}-{:08x}", content_hash(input) as u32));
    std::fs::write(&path, input).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path.strip_prefix(repository()).map(Path::to_path_buf).unwrap_or(path)
}

/// Watches for a run that never ends: saves its input and ends the process
/// (a hang cannot be caught like a panic).
fn watchdog(name: &'static str, current: Arc<Mutex<Current>>, done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(250));
            let current = current.lock().unwrap();
            if current.started.is_some_and(|t| t.elapsed() > HANG_LIMIT) {
                let path = save_regression(name, "hang", &current.input);
                eprintln!(
                    "fuzz target {name}: one run took longer than {HANG_LIMIT:?}; input saved as {}",
                    path.display()
                );
                std::process::exit(101);
            }
        }
    });
}

/// Runs `target` as the settings say; panics with a report on a failure.
pub fn fuzz(target: &Target, target_count: usize) {
    install_panic_hook();
    let settings = Settings::from_env(target_count);
    let current = Arc::new(Mutex::new(Current::default()));
    let done = Arc::new(AtomicBool::new(false));
    watchdog(target.name, current.clone(), done.clone());
    let mut fuzzer = Fuzzer::new(target, &settings, current);
    if let Some(path) = &settings.replay {
        replay(&mut fuzzer, path);
    } else {
        replay_regressions(&mut fuzzer);
        explore(&mut fuzzer);
    }
    done.store(true, Ordering::Relaxed);
}

/// `POPSCOPE_FUZZ_REPLAY`: the given file, or every file in the given
/// directory, if it belongs to this target (a path naming no target
/// belongs to every target the test filter selected).
fn replay(fuzzer: &mut Fuzzer, path: &Path) {
    let name = fuzzer.target.name;
    let names: Vec<&str> = crate::targets::ALL.iter().map(|t| t.name).collect();
    let named: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .filter(|c| names.contains(c))
        .collect();
    if !named.is_empty() && !named.contains(&name) {
        return;
    }
    let files = if path.is_dir() {
        files_in(path)
    } else {
        vec![path.to_path_buf()]
    };
    for file in files {
        match fuzzer.execute(&read(&file)).outcome {
            Ok(()) => eprintln!("fuzz {name}: {} passes", file.display()),
            Err(v) => panic!("fuzz {name}: {} fails: {v}", file.display()),
        }
    }
}

/// Every saved failure must pass now; the known open ones (in `open/`)
/// are run and reported, without failing the test.
fn replay_regressions(fuzzer: &mut Fuzzer) {
    let name = fuzzer.target.name;
    let dir = repository().join("fuzz/regressions").join(name);
    for file in files_in(&dir) {
        if let Err(v) = fuzzer.execute(&read(&file)).outcome {
            panic!(
                "fuzz {name}: the regression input {} fails again: {v}\n  replay: POPSCOPE_FUZZ_REPLAY={} cargo test --test fuzz {name} -- --nocapture",
                file.display(),
                file.display()
            );
        }
    }
    for file in files_in(&dir.join("open")) {
        match fuzzer.execute(&read(&file)).outcome {
            Ok(()) => eprintln!(
                "fuzz {name}: the open issue {} passes now: move it up to fuzz/regressions/{name}/",
                file.display()
            ),
            Err(v) => eprintln!("fuzz {name}: open issue {} still fails: {v}", file.display()),
        }
    }
}

/// The seeds, then mutations until the time (or run count) is up.
fn explore(fuzzer: &mut Fuzzer) {
    let target = fuzzer.target;
    let settings = fuzzer.settings;
    let seed = mix(settings.seed, content_hash(target.name.as_bytes()));
    eprintln!(
        "fuzz {}: POPSCOPE_FUZZ_SEED={:#x}, {:.1} s",
        target.name, settings.seed, settings.seconds
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(settings.seconds.max(0.0));
    let mut seeds = seed_inputs(target, settings);
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    let seed_count = seeds.len();
    for input in seeds {
        if let Err(v) = fuzzer.execute(&input).outcome {
            fuzzer.fail(&input, v);
        }
        fuzzer.corpus.push(input);
    }
    let mut rng = Rng::new(seed);
    let limit = settings.runs.unwrap_or(u64::MAX);
    while fuzzer.runs < limit && Instant::now() < deadline {
        let parent = rng.below(fuzzer.corpus.len() as u64) as usize;
        let child = mutate(&mut rng, parent, &fuzzer.corpus, target);
        let result = fuzzer.execute(&child);
        if let Err(v) = result.outcome {
            fuzzer.fail(&child, v);
        }
        if result.new_features > 0 {
            fuzzer.keep(child, &mut rng, seed_count);
        }
    }
    report(fuzzer, seed_count, started.elapsed());
}

fn seed_inputs(target: &Target, settings: &Settings) -> Vec<Vec<u8>> {
    let repo = repository();
    let mut dirs = vec![
        repo.join("fuzz/corpus").join(target.name),
        repo.join("fuzz/regressions").join(target.name),
    ];
    if let Some(work) = &settings.work_dir {
        dirs.push(work.join(target.name));
    }
    let mut inputs: Vec<Vec<u8>> = dirs.iter().flat_map(|d| files_in(d)).map(|f| read(&f)).collect();
    inputs.extend((target.seeds)());
    inputs
}

/// Written to the process's stderr directly: the test harness captures
/// `eprintln!` of passing tests, and the executions per target belong in
/// every CI log.
fn report(fuzzer: &Fuzzer, seeds: usize, elapsed: Duration) {
    use std::io::Write;
    let per_second = fuzzer.runs as f64 / elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        std::io::stderr(),
        "fuzz {}: {} runs in {:.1} s ({:.0}/s), corpus {} -> {}, {} features, slowest run {:.1} ms ({} bytes)",
        fuzzer.target.name,
        fuzzer.runs,
        elapsed.as_secs_f64(),
        per_second,
        seeds,
        fuzzer.corpus.len(),
        fuzzer.features.len(),
        fuzzer.slowest.0.as_secs_f64() * 1e3,
        fuzzer.slowest.1,
    );
    if let Some(first) = &fuzzer.first_caught {
        let _ = writeln!(
            std::io::stderr(),
            "fuzz {}: {} panics were caught inside popscope (its catch_unwind around mail parsing); the first: {first}",
            fuzzer.target.name,
            fuzzer.caught_inside
        );
    }
}
