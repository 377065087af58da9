//! An embedded demo POP3 server with a generated maildrop.
//!
//! `popscope demo` starts one on a free loopback port and points the
//! inspector at it; tests and benchmarks use it as a server they fully
//! control. Everything is in process and on 127.0.0.1: nothing leaves the
//! machine.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use popscope::demo::{DemoOptions, DemoServer, Maildrop};
//! let server = DemoServer::start(Maildrop::generate(3_000, 1), DemoOptions::default()).await?;
//! println!("pop3://{}:{}@127.0.0.1:{}", server.user(), server.password(), server.port());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod maildrop;
mod server;
#[cfg(test)]
mod tests;

pub use maildrop::{
    CHUNK_SIZE, DEFAULT_DEMO_MESSAGES, DemoMessage, MIN_GENERATED_SIZE, Maildrop, MessageChunks, MessageKind,
    normalize_line_ends,
};
pub use server::{DEFAULT_IDLE_TIMEOUT, DEMO_PASSWORD, DEMO_USER, DemoOptions, DemoServer, MAX_COMMAND_LINE};
