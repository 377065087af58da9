//! Deterministic mail for the demo, the tests and the benchmarks: one
//! random source, one date formatter, one catalogue of hostile specimens.
//! Everything is a pure function of its inputs (a seed, an index, a
//! stamp); nothing reads the clock, so the same input gives the same bytes
//! on every machine and every day.
//!
//! - `realistic`: the demo's mail (people, companies, newsletters,
//!   invoices, bounces), CRLF as on the wire; its words and names are in
//!   `people`, its encodings in `encode`; `huge` frames the demo's huge
//!   streamed messages.
//! - `hostile`: specimens a parser, sanitizer or client must survive.
//! - `maildir`: the test Maildir (simple ordinary messages plus the
//!   specimens) and what a POP3 server makes of its files.
//! - `rng`, `dates`: the shared randomness and RFC 5322 dates.

pub mod dates;
mod encode;
pub mod hostile;
pub mod huge;
pub mod maildir;
mod people;
pub mod realistic;
pub mod rng;

pub use rng::{Rng, mix};
