//! What went wrong, in words a person can act on, and the exit code that
//! scripts can branch on.

use crate::pop3::codec::{ResponseCode, StatusLine};
use std::fmt;

/// The classes of failure popscope distinguishes. Each has its own exit
/// code (documented in the README); keep the two in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Bad arguments or configuration.
    Usage,
    /// Name resolution or TCP connect failed, or the link dropped.
    Connect,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The server rejected the credentials.
    Auth,
    /// Logged in (or close to it) but the maildrop is locked or unavailable
    /// ([IN-USE], [LOGIN-DELAY], [SYS/TEMP], [SYS/PERM]).
    Mailbox,
    /// The server said something that is not POP3.
    Protocol,
    /// A step took longer than its time limit.
    Timeout,
    /// popscope refused to do something unsafe (plaintext password, no STLS).
    Policy,
    /// A local problem: a file could not be written, a helper command failed.
    Local,
    /// The person (Ctrl-C) or a signal ended the inspector; nothing was
    /// committed.
    Interrupted,
    /// A committing QUIT was sent but the connection ended before its
    /// answer: the messages may or may not have been deleted. Its own code,
    /// because a script must check the mailbox, not simply retry.
    OutcomeUnknown,
    /// `check --warn-cert-days N`: everything worked, but the server's
    /// certificate expires within N days. Its own code, for monitoring.
    CertificateExpiring,
}

impl FailureKind {
    /// Every kind, in exit-code order: what `--help` and the manual list.
    pub const ALL: [FailureKind; 12] = [
        FailureKind::Local,
        FailureKind::Usage,
        FailureKind::Connect,
        FailureKind::Tls,
        FailureKind::Auth,
        FailureKind::Mailbox,
        FailureKind::Protocol,
        FailureKind::Timeout,
        FailureKind::Policy,
        FailureKind::OutcomeUnknown,
        FailureKind::CertificateExpiring,
        FailureKind::Interrupted,
    ];

    /// What the exit code means, in a sentence for the manual.
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            FailureKind::Local => "local error (a file could not be written, a helper command failed)",
            FailureKind::Usage => "usage error (bad arguments or config file, no password available)",
            FailureKind::Connect => "cannot connect, or the connection was lost",
            FailureKind::Tls => {
                "TLS or certificate failure (untrusted, wrong name, pin mismatch, a TLS port reached with pop3://)"
            }
            FailureKind::Auth => "authentication failed (wrong user or password, rejected token)",
            FailureKind::Mailbox => "mailbox locked or unavailable ([IN-USE], [LOGIN-DELAY], [SYS/TEMP], [SYS/PERM])",
            FailureKind::Protocol => "protocol error (the server said something that is not POP3)",
            FailureKind::Timeout => "timeout (the message names the step)",
            FailureKind::Policy => "refused by local security policy (no STLS, clear-text password)",
            FailureKind::OutcomeUnknown => {
                "outcome unknown: a committing QUIT was sent but the connection ended before its answer; check the mailbox"
            }
            FailureKind::CertificateExpiring => {
                "check --warn-cert-days N: every step passed, but the server's certificate expires within N days"
            }
            FailureKind::Interrupted => {
                "interrupted (Ctrl-C, a signal, the terminal gone): no QUIT was sent, nothing was deleted"
            }
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            FailureKind::Local => 1,
            FailureKind::Usage => 2,
            FailureKind::Connect => 3,
            FailureKind::Tls => 4,
            FailureKind::Auth => 5,
            FailureKind::Mailbox => 6,
            FailureKind::Protocol => 7,
            FailureKind::Timeout => 8,
            FailureKind::Policy => 9,
            FailureKind::OutcomeUnknown => 10,
            FailureKind::CertificateExpiring => 11,
            FailureKind::Interrupted => 130,
        }
    }

    /// What a refusal with `status` is: the kind its response code stands
    /// for, or `otherwise` when it has no code that decides it.
    pub fn refusal(status: &StatusLine, otherwise: FailureKind) -> FailureKind {
        status.code.as_ref().and_then(FailureKind::of_code).unwrap_or(otherwise)
    }

    /// The kind a response code stands for (RFC 2449 §8, RFC 3206), if any.
    pub(crate) fn of_code(code: &ResponseCode) -> Option<FailureKind> {
        match code {
            ResponseCode::InUse | ResponseCode::LoginDelay | ResponseCode::SysTemp | ResponseCode::SysPerm => {
                Some(FailureKind::Mailbox)
            }
            ResponseCode::Auth => Some(FailureKind::Auth),
            ResponseCode::Utf8 | ResponseCode::Other(_) => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FailureKind::Local => "error",
            FailureKind::Usage => "usage error",
            FailureKind::Connect => "connection failed",
            FailureKind::Tls => "TLS failed",
            FailureKind::Auth => "login failed",
            FailureKind::Mailbox => "mailbox unavailable",
            FailureKind::Protocol => "protocol error",
            FailureKind::Timeout => "timed out",
            FailureKind::Policy => "refused",
            FailureKind::OutcomeUnknown => "outcome unknown",
            FailureKind::CertificateExpiring => "certificate expiring",
            FailureKind::Interrupted => "interrupted",
        }
    }
}

/// A failure with its class, what happened, and what to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  try: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::codec::Status;

    #[test]
    fn the_listed_kinds_have_distinct_codes_in_order() {
        let codes: Vec<u8> = FailureKind::ALL.iter().map(|k| k.exit_code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn one_mapping_from_response_codes_to_failures() {
        let status = |code: Option<ResponseCode>| StatusLine {
            status: Status::Err,
            code,
            text: "no".into(),
        };
        let table = [
            (Some(ResponseCode::InUse), FailureKind::Mailbox),
            (Some(ResponseCode::LoginDelay), FailureKind::Mailbox),
            (Some(ResponseCode::SysTemp), FailureKind::Mailbox),
            (Some(ResponseCode::SysPerm), FailureKind::Mailbox),
            (Some(ResponseCode::Auth), FailureKind::Auth),
            (Some(ResponseCode::Utf8), FailureKind::Connect),
            (Some(ResponseCode::Other("X-FOO".into())), FailureKind::Connect),
            (None, FailureKind::Connect),
        ];
        for (code, expected) in table {
            let got = FailureKind::refusal(&status(code.clone()), FailureKind::Connect);
            assert_eq!(got, expected, "{code:?}");
        }
    }
}
