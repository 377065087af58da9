//! Timing the login's steps, and telling whoever watches (`check` prints
//! each step the moment it ends, so a stall shows where it stalls).

use super::login::{ConnectReport, Step, StepReport};
use tokio::time::Instant;

/// Hears of the login's steps as they happen.
pub trait LoginProgress: Send {
    /// `step` begins now.
    fn step_started(&mut self, step: Step) {
        let _ = step;
    }

    /// `step` ended (it is the last of `report.steps`).
    fn step_done(&mut self, step: &StepReport, report: &ConnectReport) {
        let _ = (step, report);
    }
}

/// Nobody is watching.
impl LoginProgress for () {}

/// Times the steps, records each in the report as it ends and tells the
/// progress watcher.
pub(super) struct Stopwatch<'p> {
    started: Instant,
    step_started: Instant,
    progress: &'p mut dyn LoginProgress,
}

impl<'p> Stopwatch<'p> {
    pub(super) fn start(progress: &'p mut dyn LoginProgress) -> Stopwatch<'p> {
        let now = Instant::now();
        Stopwatch {
            started: now,
            step_started: now,
            progress,
        }
    }

    pub(super) fn begin(&mut self, step: Step) {
        self.step_started = Instant::now();
        self.progress.step_started(step);
    }

    pub(super) fn record(&mut self, report: &mut ConnectReport, name: Step, detail: String) {
        let step = StepReport {
            name,
            detail,
            elapsed: self.step_started.elapsed(),
        };
        report.steps.push(step.clone());
        self.progress.step_done(&step, report);
        self.step_started = Instant::now();
    }

    pub(super) fn total(&self, report: &mut ConnectReport) {
        report.steps.push(StepReport {
            name: Step::Total,
            detail: String::new(),
            elapsed: self.started.elapsed(),
        });
    }
}
