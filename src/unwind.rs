//! Panics popscope catches on purpose, told apart from those that end it.
//!
//! Mail parsing runs under `catching`: a parser bug on hostile mail shows
//! the message raw instead of ending the program. Tokio catches a panic in
//! a spawned task (the session driver) the same way. A panic hook that acts
//! as if the program were ending (the inspector's, which restores the
//! terminal) asks `will_end_the_program` first: restoring the terminal for
//! a panic that is then swallowed would leave the inspector running on a
//! terminal in normal mode.

use std::cell::Cell;
use std::panic::UnwindSafe;

thread_local! {
    /// How many `catching` calls this thread is inside.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic in it (`std::panic::catch_unwind`), and
/// marks the call so that a panic hook knows the panic will be caught.
pub(crate) fn catching<R>(f: impl FnOnce() -> R + UnwindSafe) -> std::thread::Result<R> {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CATCHING.with(|c| c.set(c.get().saturating_sub(1)));
        }
    }
    CATCHING.with(|c| c.set(c.get().saturating_add(1)));
    let _leave = Leave;
    std::panic::catch_unwind(f)
}

/// For a panic hook: false when the panic happening on this thread will be
/// caught, by `catching` or by tokio (a panic in a spawned task ends only
/// that task).
pub(crate) fn will_end_the_program() -> bool {
    CATCHING.with(|c| c.get() == 0) && tokio::task::try_id().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catching_is_known_while_it_runs_and_only_then() {
        assert!(will_end_the_program());
        let inner = catching(|| {
            let nested = catching(will_end_the_program).unwrap();
            (will_end_the_program(), nested)
        });
        assert_eq!(inner.unwrap(), (false, false));
        assert!(will_end_the_program());
        let caught = catching(|| -> u8 { panic!("a parser bug (expected in this test)") });
        assert!(caught.is_err());
        assert!(will_end_the_program(), "reset after a caught panic");
    }

    #[test]
    fn a_spawned_task_is_caught_by_tokio() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let in_task = runtime.block_on(async {
            let outside = will_end_the_program();
            let inside = tokio::spawn(async { will_end_the_program() }).await.unwrap();
            (outside, inside)
        });
        assert_eq!(in_task, (true, false));
    }
}
