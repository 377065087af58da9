//! The sans-IO POP3 core: bytes in, bytes and events out. Nothing in here
//! touches a socket, a clock or a runtime, so every behaviour can be tested
//! with byte tables and replayed exactly.

pub mod auth;
pub mod client;
pub mod codec;
pub mod command;
pub mod response;
