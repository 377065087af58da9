//! Fuzzing on stable Rust: every target of `fuzz/` (one test each) for a
//! bounded time, from the committed seed corpus, with every saved failure
//! replayed first. About 60 s of wall time in all by default; see
//! docs/fuzzing.md for the targets, their invariants, the environment
//! variables (`POPSCOPE_FUZZ_SECONDS`, `POPSCOPE_FUZZ_SEED`, …) and
//! `scripts/fuzz` for longer runs.

#[macro_use]
mod engine;
mod checks;
mod mutate;
mod observe;
mod sasl_server;
mod script;
mod tape;
mod targets;

fn fuzz(target: &engine::Target) {
    engine::fuzz(target, targets::ALL.len());
}

#[test]
fn codec() {
    fuzz(&targets::codec::TARGET);
}

#[test]
fn client() {
    fuzz(&targets::client::TARGET);
}

#[test]
fn response() {
    fuzz(&targets::response::TARGET);
}

#[test]
fn auth() {
    fuzz(&targets::auth::TARGET);
}

#[test]
fn headers() {
    fuzz(&targets::headers::TARGET);
}

#[test]
fn message() {
    fuzz(&targets::message::TARGET);
}

#[test]
fn sanitize() {
    fuzz(&targets::sanitize::TARGET);
}

#[test]
fn query() {
    fuzz(&targets::query::TARGET);
}

#[test]
fn names() {
    fuzz(&targets::names::TARGET);
}

/// The registry and the tests above agree: every target has its test.
#[test]
fn every_target_is_registered_once() {
    let mut names: Vec<&str> = targets::ALL.iter().map(|t| t.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), targets::ALL.len());
}
