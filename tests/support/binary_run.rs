//! What one run of the popscope binary did, and the assertions the
//! command-line tests share (each says the whole run when it fails).

use serde_json::Value;

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl Run {
    pub fn describe(&self) -> String {
        format!(
            "popscope {:?}\nexit code: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// The exit code, and no panic on the way.
    pub fn assert_exit(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "wrong exit code\n{}", self.describe());
        assert!(!self.stderr.contains("panicked"), "{}", self.describe());
        self
    }

    pub fn assert_stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    pub fn assert_stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Standard output as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not one JSON document ({e})\n{}", self.describe()))
    }
}
