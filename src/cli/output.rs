//! Writing a command's report to standard output, where a reader that went
//! away (`popscope survey | head`) is a normal end, not an error.

use crate::error::{Failure, FailureKind};
use std::io::Write;

/// Writes `text` to standard output; a closed pipe ends quietly.
pub(crate) fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(
            FailureKind::Local,
            format!("cannot write to standard output: {e}"),
        )),
        _ => Ok(()),
    }
}
