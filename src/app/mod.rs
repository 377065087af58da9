//! The inspector: a full-screen terminal UI on a live session.

pub mod keymap;
pub mod run;
pub mod state;
