//! A live POP3 session: connecting (TCP, implicit TLS or STLS), logging in,
//! and a handle through which the rest of popscope sends commands.
//!
//! - `config`: what a session needs (`SessionConfig::builder`);
//! - `connect`: TCP and the TLS handshake;
//! - `login`: `open` runs the login sequence step by step and records each
//!   step for `check` (`progress`: timing them, and telling `check` each
//!   step the moment it ends); `authenticate`: its login step (mechanism,
//!   exchange, one fallback);
//! - `handle`: the returned `Session`, which talks to the `driver` task
//!   through channels; dropping it closes the connection without QUIT,
//!   which deletes nothing;
//! - `driver`: the task that moves bytes between the socket and the
//!   sans-IO client and routes what comes back; `subscriber`: its bounded
//!   channel to the UI;
//! - `trace`: the trace as people read it.

mod authenticate;
mod config;
mod connect;
pub mod driver;
mod handle;
mod login;
mod progress;
mod subscriber;
pub mod tls;
pub mod trace;

pub use config::{Credential, DEFAULT_WINDOW, SessionConfig, SessionConfigBuilder, StartTlsPolicy, TlsMode};
pub use handle::{DEFAULT_COLLECT_LIMIT, QuitResult, Session, server_refused};
pub use login::{ConnectReport, Observers, Step, StepReport, open, open_reporting, recheck_capabilities};
pub use progress::LoginProgress;
