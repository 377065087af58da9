//! The handle to a live session: send commands (and wait for their
//! answers, or have them routed), end it with QUIT, or drop the connection.
//! It talks to the driver task through channels; dropping it closes the
//! connection without QUIT, which deletes nothing.

use super::driver::{CommandResult, DriverStatus, Request, Route};
use super::login::ConnectReport;
use super::tls::TlsInfo;
use crate::error::{Failure, FailureKind};
use crate::pop3::client::{Command, Outcome, Priority, Reply, SessionState};
use crate::pop3::codec::StatusLine;
use tokio::sync::{mpsc, oneshot, watch};

/// How a QUIT ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuitResult {
    /// The server answered; its words are here (`+OK` or `-ERR`).
    Answered(StatusLine),
    /// The connection ended before an answer came: whether the server
    /// committed anything is unknown.
    Unknown(String),
    /// QUIT was not sent (e.g. RSET failed before an unconfirmed QUIT).
    NotSent(String),
}

/// A logged-in session. Dropping it closes the connection without QUIT.
pub struct Session {
    pub(super) requests: mpsc::UnboundedSender<Request>,
    pub(super) status: watch::Receiver<DriverStatus>,
    pub(super) task: tokio::task::JoinHandle<()>,
    pub report: ConnectReport,
}

/// Largest RETR body `call` collects in memory.
pub const DEFAULT_COLLECT_LIMIT: usize = 16 * 1024 * 1024;

impl Session {
    /// Sends a command and waits for its outcome. `Lost`/`NotSent` outcomes
    /// (the connection failed) become the session's failure.
    pub async fn call(&self, command: Command) -> Result<Outcome, Failure> {
        self.send_now(command)?.await
    }

    /// Puts a command on its way now; the returned future waits for the
    /// outcome. Lets a caller send several commands before awaiting any.
    pub fn send_now(
        &self,
        command: Command,
    ) -> Result<impl std::future::Future<Output = Result<Outcome, Failure>> + '_, Failure> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Submit {
            command,
            priority: Priority::Normal,
            route: Route::Reply {
                tx,
                limit: DEFAULT_COLLECT_LIMIT,
            },
        })?;
        Ok(self.settle(rx))
    }

    /// Like `call`, but `-ERR` is a failure too (with the server's words).
    pub async fn call_ok(&self, command: Command) -> Result<Reply, Failure> {
        let what = command.kind().to_string();
        match self.call(command).await? {
            Outcome::Ok(reply) => Ok(reply),
            Outcome::Err(status) => Err(server_refused(&what, &status)),
            other => Err(self.outcome_failure(&what, other).await),
        }
    }

    /// Queues a command whose answer arrives on `route`; returns at once.
    pub fn submit(&self, command: Command, priority: Priority, route: Route) -> Result<(), Failure> {
        self.send(Request::Submit {
            command,
            priority,
            route,
        })
    }

    /// RETR streamed in chunks; `capacity` chunks may wait in the channel
    /// before the driver stops reading (backpressure). `listed_size`, the
    /// size LIST gave, bounds the answer (see `Command::Retr`).
    pub fn retr_stream(
        &self,
        msg: u32,
        listed_size: Option<u64>,
        capacity: usize,
        priority: Priority,
    ) -> Result<(mpsc::Receiver<Vec<u8>>, oneshot::Receiver<CommandResult>), Failure> {
        let (data, data_rx) = mpsc::channel(capacity.max(1));
        let (done, done_rx) = oneshot::channel();
        self.send(Request::Submit {
            command: Command::Retr { msg, listed_size },
            priority,
            route: Route::Stream { data, done },
        })?;
        Ok((data_rx, done_rx))
    }

    pub fn set_window(&self, window: usize) -> Result<(), Failure> {
        self.send(Request::SetWindow(window))
    }

    pub fn tls(&self) -> Option<TlsInfo> {
        self.status.borrow().tls.clone()
    }

    pub fn state(&self) -> Option<SessionState> {
        self.status.borrow().state
    }

    /// The failure that ended the session, if it has ended.
    pub fn failure(&self) -> Option<Failure> {
        self.status.borrow().failure.clone()
    }

    /// Resolves once the connection has ended, after every outcome (and
    /// every streamed item) was handed to its route.
    pub async fn closed(&self) {
        let mut status = self.status.clone();
        let _ = status.wait_for(|s| s.closed).await;
    }

    /// Ends the session with QUIT. `commit: true` only when the person
    /// confirmed the deletion; otherwise marks are reset first (and QUIT is
    /// withheld if that fails). Says exactly what the server answered.
    pub async fn quit(self, commit: bool) -> QuitResult {
        let outcome = self.call(Command::Quit { commit }).await;
        let result = match outcome {
            Ok(Outcome::Ok(reply)) => QuitResult::Answered(reply.status),
            Ok(Outcome::Err(status)) => QuitResult::Answered(status),
            Ok(Outcome::NotSent(reason)) => QuitResult::NotSent(reason),
            Ok(Outcome::Lost(reason)) => QuitResult::Unknown(reason),
            Ok(Outcome::AuthFailed { error, .. }) => QuitResult::NotSent(error.to_string()),
            Err(failure) => QuitResult::Unknown(failure.message),
        };
        drop(self.requests);
        let _ = self.task.await;
        result
    }

    /// Closes the connection without QUIT (nothing can be committed) and
    /// waits for the driver to finish.
    pub async fn abandon(self) {
        drop(self.requests);
        self.task.abort();
        let _ = self.task.await;
    }

    fn send(&self, request: Request) -> Result<(), Failure> {
        self.requests.send(request).map_err(|_| {
            self.failure()
                .unwrap_or_else(|| Failure::new(FailureKind::Connect, "the session has ended"))
        })
    }

    async fn settle(&self, rx: oneshot::Receiver<CommandResult>) -> Result<Outcome, Failure> {
        match rx.await {
            Ok(Ok(outcome @ (Outcome::Lost(_) | Outcome::NotSent(_)))) => {
                // Prefer the classified failure (timeout, TLS, ...) if the
                // session died; a plain NotSent stays an outcome.
                match self.wait_for_failure(&outcome).await {
                    Some(f) => Err(f),
                    None => Ok(outcome),
                }
            }
            Ok(result) => result,
            Err(_) => Err(self
                .wait_for_failure(&Outcome::Lost(String::new()))
                .await
                .unwrap_or_else(|| {
                    Failure::new(
                        FailureKind::Connect,
                        "the session ended before the command was answered",
                    )
                })),
        }
    }

    async fn wait_for_failure(&self, outcome: &Outcome) -> Option<Failure> {
        let mut status = self.status.clone();
        if matches!(outcome, Outcome::Lost(_)) {
            let _ = status.wait_for(|s| s.closed).await;
        }
        let current = status.borrow().clone();
        current.failure
    }

    pub(super) async fn outcome_failure(&self, what: &str, outcome: Outcome) -> Failure {
        match outcome {
            Outcome::AuthFailed { error, .. } => Failure::new(FailureKind::Auth, format!("{what}: {error}")),
            Outcome::Lost(reason) | Outcome::NotSent(reason) => self
                .failure()
                .unwrap_or_else(|| Failure::new(FailureKind::Connect, format!("{what}: {reason}"))),
            Outcome::Ok(_) | Outcome::Err(_) => {
                Failure::new(FailureKind::Protocol, format!("{what}: unexpected outcome"))
            }
        }
    }
}

/// Explains a `-ERR` in terms of its response code.
pub fn server_refused(what: &str, status: &StatusLine) -> Failure {
    let kind = FailureKind::refusal(status, FailureKind::Protocol);
    let failure = Failure::new(kind, format!("the server refused {what}: {status}"));
    match &status.code {
        Some(code) => failure.with_hint(code.explanation()),
        None => failure,
    }
}
