//! popscope: see and clean a remote POP3 mailbox, safely.

pub mod app;
pub mod cli;
pub mod demo;
pub mod error;
pub mod event_loop;
pub mod mail;
pub mod mailbox;
pub mod pop3;
pub mod query;
pub mod sanitize;
pub mod secret;
pub mod session;
pub mod store;
pub mod testmail;
pub mod text;
pub mod transfer;
pub mod ui;
pub mod unwind;
