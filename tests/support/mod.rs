//! Shared support code for popscope's integration tests.
//!
//! A test binary uses it with `mod support;` at its crate root (each binary
//! uses a subset, hence the `dead_code` allowance):
//!
//! * `binary_run`: what one run of the binary did, and shared assertions;
//! * `certs`: test certificates (self-signed CA:TRUE/CA:FALSE, private CA,
//!   expired, wrong names, Courier-style, one made by `openssl`);
//! * `cut_proxy`: a TCP proxy whose connections a test can cut;
//! * `dovecot`: a private Dovecot POP3 server (`Dovecot::start()`), and the
//!   `require_dovecot!()` availability rule;
//! * `maildrop`: deterministic ordinary and hostile test messages (the
//!   library's `popscope::testmail::maildir`, shared with the demo);
//! * `raw_pop3`: a tiny blocking POP3 client used as an independent oracle.
//!
//! The files are self-contained, so a test may also pull in just one of them
//! with `#[path = "support/<file>.rs"] mod <name>;` (the `require_dovecot!`
//! macro needs the `support::dovecot` path; call
//! `dovecot::dovecot_or_skip(name)` instead).
#![allow(dead_code)]

pub mod binary_run;
pub mod certs;
pub mod cut_proxy;
pub mod dovecot;
// Not every test crate uses it.
#[allow(unused_imports)]
pub use popscope::testmail::maildir as maildrop;
pub mod raw_pop3;
