//! What popscope can say to a POP3 server, and everything that describes
//! each command: its verb, whether it is a barrier, how its answer is
//! framed, and how its line appears in the trace. `CommandKind::spec` is the
//! one table; the client reads it and never matches on commands itself for
//! these properties, so a new command cannot be half declared.

use super::auth::{Mechanism, SaslExchange};
use crate::sanitize::sanitize_bytes;
use crate::secret::Secret;
use std::fmt;

/// Largest header block kept from a TOP reply; the rest is counted and
/// dropped (a 200 KB header line fits; a hostile 50 MB one does not).
pub const MAX_TOP_BYTES: usize = 512 * 1024;
/// Largest TOP answer accepted at all (popscope asks `TOP n 0`, a header
/// block): longer is a server that does not stop, and a protocol error.
pub(crate) const MAX_TOP_ANSWER: u64 = 16 * 1024 * 1024;
/// Largest LIST/UIDL answer: ~100 bytes a line for 500,000 messages. A
/// longer one is a protocol error, not a listing cut off somewhere (a cut
/// could fall in the middle of a number).
pub const MAX_LISTING_BYTES: usize = 64 * 1024 * 1024;
/// Largest CAPA answer; longer is a protocol error.
pub const MAX_CAPA_BYTES: usize = 64 * 1024;
/// How far a RETR may run past the size LIST gave for the message before it
/// is stopped: twice that size plus this (LIST sizes are approximate, and a
/// server may count line ends differently).
pub(crate) const RETR_OVERRUN_SLACK: u64 = 1024 * 1024;
/// Longest command line (RFC 2449 §4: 255 octets including CRLF).
pub const MAX_COMMAND_LINE: usize = 255;

/// A command to send. Secrets are held as `Secret` or inside the SASL
/// exchange, so printing a `Command` never shows them.
#[derive(Debug)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(Secret),
    Apop {
        user: String,
        digest: String,
    },
    Auth(Box<SaslExchange>),
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Top {
        msg: u32,
        lines: u32,
    },
    /// `listed_size`: the size LIST gave, if known; the answer may run to
    /// twice that plus `RETR_OVERRUN_SLACK` and is stopped beyond.
    Retr {
        msg: u32,
        listed_size: Option<u64>,
    },
    Dele(u32),
    Rset,
    Noop,
    /// RFC 6856: the server may send UTF-8 (raw UTF-8 headers) from now on.
    Utf8,
    /// `commit: true` only for a QUIT the person confirmed: it may delete.
    Quit {
        commit: bool,
    },
}

/// What a command was, without its arguments' secrets: for events, traces
/// and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Capa,
    Stls,
    User,
    Pass,
    Apop,
    Auth(Mechanism),
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Top { msg: u32, lines: u32 },
    Retr(u32),
    Dele(u32),
    Rset,
    Noop,
    Utf8,
    Quit { commit: bool },
}

/// How the answer to a command is framed and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// A status line only.
    None,
    /// A multi-line answer kept in memory up to `keep` bytes (the rest is
    /// counted, not kept); one longer than `largest` is a protocol error.
    Collect { keep: usize, largest: u64 },
    /// A multi-line answer handed out in chunks as it arrives.
    Stream,
}

/// How a command's line is shown in the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redaction {
    /// As sent (arguments sanitized).
    Plain,
    /// The last argument is a secret (a password, an APOP digest) and shows
    /// as `********`.
    SecretArgument,
    /// A SASL exchange: the initial response and every continuation line are
    /// shown only as their size.
    Sasl,
}

/// Everything the client needs to know about a command besides its
/// arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    pub verb: &'static str,
    /// Goes alone: sent only when nothing else is in flight, and nothing is
    /// sent behind it until it is answered. RFC 2449 §6.6 names the commands
    /// that change the session's state; RSET is one too, because the
    /// deletion guard forgets the DELEs it has seen when RSET is accepted,
    /// and a DELE sent behind it must not be among them; and UTF8, which
    /// changes what the server may send (RFC 6856).
    pub barrier: bool,
    pub body: BodyMode,
    pub redaction: Redaction,
}

impl CommandKind {
    /// The command table.
    pub fn spec(self) -> CommandSpec {
        use BodyMode::{Collect, Stream};
        // Kept whole, and an error beyond.
        const fn whole(bound: usize) -> BodyMode {
            Collect {
                keep: bound,
                largest: bound as u64,
            }
        }
        const NONE: BodyMode = BodyMode::None;
        use Redaction::{Plain, Sasl, SecretArgument};
        let (verb, barrier, body, redaction) = match self {
            CommandKind::Capa => ("CAPA", true, whole(MAX_CAPA_BYTES), Plain),
            CommandKind::Stls => ("STLS", true, NONE, Plain),
            CommandKind::User => ("USER", true, NONE, Plain),
            CommandKind::Pass => ("PASS", true, NONE, SecretArgument),
            CommandKind::Apop => ("APOP", true, NONE, SecretArgument),
            CommandKind::Auth(_) => ("AUTH", true, NONE, Sasl),
            CommandKind::Stat => ("STAT", false, NONE, Plain),
            CommandKind::List(None) => ("LIST", false, whole(MAX_LISTING_BYTES), Plain),
            CommandKind::List(Some(_)) => ("LIST", false, NONE, Plain),
            CommandKind::Uidl(None) => ("UIDL", false, whole(MAX_LISTING_BYTES), Plain),
            CommandKind::Uidl(Some(_)) => ("UIDL", false, NONE, Plain),
            CommandKind::Top { .. } => (
                "TOP",
                false,
                Collect {
                    keep: MAX_TOP_BYTES,
                    largest: MAX_TOP_ANSWER,
                },
                Plain,
            ),
            CommandKind::Retr(_) => ("RETR", false, Stream, Plain),
            CommandKind::Dele(_) => ("DELE", false, NONE, Plain),
            CommandKind::Rset => ("RSET", true, NONE, Plain),
            CommandKind::Noop => ("NOOP", false, NONE, Plain),
            CommandKind::Utf8 => ("UTF8", true, NONE, Plain),
            CommandKind::Quit { .. } => ("QUIT", true, NONE, Plain),
        };
        CommandSpec {
            verb,
            barrier,
            body,
            redaction,
        }
    }
}

impl fmt::Display for CommandKind {
    /// The command as a person would type it, without secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec().verb)?;
        match self {
            CommandKind::Auth(m) => write!(f, " {}", m.name()),
            CommandKind::List(Some(n)) | CommandKind::Uidl(Some(n)) | CommandKind::Retr(n) | CommandKind::Dele(n) => {
                write!(f, " {n}")
            }
            CommandKind::Top { msg, lines } => write!(f, " {msg} {lines}"),
            _ => Ok(()),
        }
    }
}

/// A command line as it goes on the wire (without CRLF) and as the trace
/// shows it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub wire: Vec<u8>,
    pub shown: String,
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Capa => CommandKind::Capa,
            Command::Stls => CommandKind::Stls,
            Command::User(_) => CommandKind::User,
            Command::Pass(_) => CommandKind::Pass,
            Command::Apop { .. } => CommandKind::Apop,
            Command::Auth(x) => CommandKind::Auth(x.mechanism()),
            Command::Stat => CommandKind::Stat,
            Command::List(n) => CommandKind::List(*n),
            Command::Uidl(n) => CommandKind::Uidl(*n),
            Command::Top { msg, lines } => CommandKind::Top {
                msg: *msg,
                lines: *lines,
            },
            Command::Retr { msg, .. } => CommandKind::Retr(*msg),
            Command::Dele(n) => CommandKind::Dele(*n),
            Command::Rset => CommandKind::Rset,
            Command::Noop => CommandKind::Noop,
            Command::Utf8 => CommandKind::Utf8,
            Command::Quit { commit } => CommandKind::Quit { commit: *commit },
        }
    }

    pub fn spec(&self) -> CommandSpec {
        self.kind().spec()
    }

    /// The longest answer accepted (content bytes, after unstuffing): the
    /// table's bound, or for a RETR whose LIST size is known, twice that
    /// plus `RETR_OVERRUN_SLACK`.
    pub(crate) fn largest_answer(&self) -> u64 {
        match (self, self.spec().body) {
            (
                Command::Retr {
                    listed_size: Some(size),
                    ..
                },
                _,
            ) => size.saturating_mul(2).saturating_add(RETR_OVERRUN_SLACK),
            (_, BodyMode::Collect { largest, .. }) => largest,
            _ => u64::MAX,
        }
    }

    /// Arguments that would let a caller smuggle a second command onto the
    /// line are refused before anything is sent.
    pub(crate) fn validate(&self) -> Result<(), InvalidCommand> {
        fn clean(what: &'static str, s: &[u8], allow_space: bool) -> Result<(), InvalidCommand> {
            let bad = s
                .iter()
                .any(|&b| b == b'\r' || b == b'\n' || b == 0 || (!allow_space && b == b' '));
            if bad || s.is_empty() {
                Err(InvalidCommand(what))
            } else {
                Ok(())
            }
        }
        let number = |n: u32| {
            if n == 0 {
                Err(InvalidCommand("message numbers start at 1"))
            } else {
                Ok(())
            }
        };
        match self {
            Command::User(u) => clean("the user name contains a line break, NUL or space", u.as_bytes(), false),
            Command::Pass(p) => clean(
                "the password is empty or contains a line break or NUL",
                p.expose(),
                true,
            ),
            Command::Apop { user, digest } => {
                clean(
                    "the user name contains a line break, NUL or space",
                    user.as_bytes(),
                    false,
                )?;
                clean("the APOP digest is malformed", digest.as_bytes(), false)
            }
            Command::List(Some(n)) | Command::Uidl(Some(n)) | Command::Dele(n) => number(*n),
            Command::Top { msg, .. } | Command::Retr { msg, .. } => number(*msg),
            _ => Ok(()),
        }
    }

    /// The line for every command but AUTH, whose line depends on its SASL
    /// exchange (see the client's SASL part). Redacted as the table says.
    pub(crate) fn line(&self) -> Line {
        let spec = self.spec();
        let arguments = self.arguments();
        let mut wire = spec.verb.as_bytes().to_vec();
        let mut shown = spec.verb.to_string();
        for (i, argument) in arguments.iter().enumerate() {
            wire.push(b' ');
            wire.extend_from_slice(argument);
            let secret = spec.redaction == Redaction::SecretArgument && i + 1 == arguments.len();
            shown.push(' ');
            if secret {
                shown.push_str("********");
            } else {
                shown.push_str(&sanitize_bytes(argument, false));
            }
        }
        Line { wire, shown }
    }

    fn arguments(&self) -> Vec<Vec<u8>> {
        let number = |n: &u32| n.to_string().into_bytes();
        match self {
            Command::User(u) => vec![u.as_bytes().to_vec()],
            Command::Pass(p) => vec![p.expose().to_vec()],
            Command::Apop { user, digest } => vec![user.as_bytes().to_vec(), digest.as_bytes().to_vec()],
            Command::Auth(x) => vec![x.mechanism().name().as_bytes().to_vec()],
            Command::List(Some(n)) | Command::Uidl(Some(n)) | Command::Retr { msg: n, .. } | Command::Dele(n) => {
                vec![number(n)]
            }
            Command::Top { msg, lines } => vec![number(msg), number(lines)],
            Command::Capa
            | Command::Stls
            | Command::Stat
            | Command::List(None)
            | Command::Uidl(None)
            | Command::Rset
            | Command::Noop
            | Command::Utf8
            | Command::Quit { .. } => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to send the command: {0}")]
pub struct InvalidCommand(pub &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each kind. `ordinal` below fails to compile when a kind is
    /// added, and the test then fails until the kind is listed here.
    fn every_kind() -> Vec<CommandKind> {
        let mut kinds = vec![
            CommandKind::Capa,
            CommandKind::Stls,
            CommandKind::User,
            CommandKind::Pass,
            CommandKind::Apop,
            CommandKind::Stat,
            CommandKind::List(None),
            CommandKind::List(Some(1)),
            CommandKind::Uidl(None),
            CommandKind::Uidl(Some(1)),
            CommandKind::Top { msg: 1, lines: 0 },
            CommandKind::Retr(1),
            CommandKind::Dele(1),
            CommandKind::Rset,
            CommandKind::Noop,
            CommandKind::Utf8,
            CommandKind::Quit { commit: false },
            CommandKind::Quit { commit: true },
        ];
        kinds.extend(
            Mechanism::ALL
                .into_iter()
                .filter(|m| m.is_sasl())
                .map(CommandKind::Auth),
        );
        kinds
    }

    fn ordinal(kind: CommandKind) -> usize {
        match kind {
            CommandKind::Capa => 0,
            CommandKind::Stls => 1,
            CommandKind::User => 2,
            CommandKind::Pass => 3,
            CommandKind::Apop => 4,
            CommandKind::Auth(_) => 5,
            CommandKind::Stat => 6,
            CommandKind::List(_) => 7,
            CommandKind::Uidl(_) => 8,
            CommandKind::Top { .. } => 9,
            CommandKind::Retr(_) => 10,
            CommandKind::Dele(_) => 11,
            CommandKind::Rset => 12,
            CommandKind::Noop => 13,
            CommandKind::Quit { .. } => 14,
            CommandKind::Utf8 => 15,
        }
    }

    #[test]
    fn every_command_kind_has_a_spec() {
        let kinds = every_kind();
        let mut seen = [false; 16];
        for kind in &kinds {
            seen[ordinal(*kind)] = true;
            let spec = kind.spec();
            assert!(!spec.verb.is_empty(), "{kind:?}");
            assert!(
                spec.verb.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
                "{kind:?}"
            );
            assert!(kind.to_string().starts_with(spec.verb), "{kind:?} shows as {kind}");
            if let BodyMode::Collect { keep, largest } = spec.body {
                assert!(keep > 0 && keep as u64 <= largest, "{kind:?}");
            }
        }
        assert!(seen.iter().all(|&s| s), "a kind is missing from every_kind: {seen:?}");
    }

    #[test]
    fn the_barriers_are_exactly_the_state_changing_commands() {
        // RFC 2449 §6.6, plus RSET (the deletion guard, see `barrier`) and
        // UTF8 (RFC 6856: it changes what the server may send).
        let state_changing = ["CAPA", "STLS", "USER", "PASS", "APOP", "AUTH", "QUIT", "RSET", "UTF8"];
        for kind in every_kind() {
            let spec = kind.spec();
            assert_eq!(
                spec.barrier,
                state_changing.contains(&spec.verb),
                "{kind:?} barrier {}",
                spec.barrier
            );
        }
    }

    #[test]
    fn multi_line_answers_are_exactly_those_rfc_1939_and_2449_define() {
        let multi: Vec<String> = every_kind()
            .into_iter()
            .filter(|k| k.spec().body != BodyMode::None)
            .map(|k| k.to_string())
            .collect();
        assert_eq!(multi, ["CAPA", "LIST", "UIDL", "TOP 1 0", "RETR 1"]);
        assert_eq!(CommandKind::Retr(1).spec().body, BodyMode::Stream);
    }

    /// Issue 11 item 6b: every argument that could smuggle a second
    /// command, and every message number 0, is refused with its reason.
    #[test]
    fn validation_refuses_injection_and_message_zero() {
        let apop = |user: &str, digest: &str| Command::Apop {
            user: user.into(),
            digest: digest.into(),
        };
        let user = "the user name contains a line break, NUL or space";
        let digest = "the APOP digest is malformed";
        let zero = "message numbers start at 1";
        let table: Vec<(Command, Option<&str>)> = vec![
            (apop("bob", "c4c9334bac560ecc979e58001b3e22fb"), None),
            (apop("bob\r\nDELE 1", "c4c9"), Some(user)),
            (apop("bob smith", "c4c9"), Some(user)),
            (apop("", "c4c9"), Some(user)),
            (apop("bob", "c4c9\r\nDELE 1"), Some(digest)),
            (apop("bob", "c4 c9"), Some(digest)),
            (apop("bob", "c4\0c9"), Some(digest)),
            (apop("bob", ""), Some(digest)),
            (Command::User("bob\0".into()), Some(user)),
            (Command::User("bob\n".into()), Some(user)),
            (Command::Pass(Secret::from("pass word")), None),
            (
                Command::Pass(Secret::from("")),
                Some("the password is empty or contains a line break or NUL"),
            ),
            (
                Command::Pass(Secret::from("pw\r")),
                Some("the password is empty or contains a line break or NUL"),
            ),
            (Command::Top { msg: 0, lines: 0 }, Some(zero)),
            (Command::Top { msg: 1, lines: 0 }, None),
            (
                Command::Retr {
                    msg: 0,
                    listed_size: None,
                },
                Some(zero),
            ),
            (Command::Dele(0), Some(zero)),
            (Command::Dele(1), None),
            (Command::List(Some(0)), Some(zero)),
            (Command::List(None), None),
            (Command::Uidl(Some(0)), Some(zero)),
            (Command::Uidl(Some(7)), None),
        ];
        for (command, refusal) in table {
            let got = command.validate().err().map(|InvalidCommand(why)| why);
            assert_eq!(got, refusal, "{command:?}");
        }
    }

    #[test]
    fn largest_answers_are_the_tables_or_the_listed_size_twice_plus_1_mib() {
        let retr = |listed_size| Command::Retr { msg: 1, listed_size };
        assert_eq!(retr(Some(0)).largest_answer(), 1_048_576);
        assert_eq!(retr(Some(188)).largest_answer(), 1_048_952);
        assert_eq!(retr(Some(u64::MAX)).largest_answer(), u64::MAX, "saturates");
        assert_eq!(retr(None).largest_answer(), u64::MAX);
        assert_eq!(Command::Capa.largest_answer(), 65_536);
        assert_eq!(Command::List(None).largest_answer(), 67_108_864);
        assert_eq!(Command::Top { msg: 1, lines: 0 }.largest_answer(), 16_777_216);
        assert_eq!(Command::Stat.largest_answer(), u64::MAX);
        assert_eq!(
            CommandKind::Top { msg: 1, lines: 0 }.spec().body,
            BodyMode::Collect {
                keep: 524_288,
                largest: 16_777_216
            }
        );
    }

    #[test]
    fn lines_are_redacted_as_the_table_says() {
        let line = |c: Command| {
            let Line { wire, shown } = c.line();
            (String::from_utf8(wire).unwrap(), shown)
        };
        assert_eq!(
            line(Command::Top { msg: 3, lines: 0 }),
            ("TOP 3 0".into(), "TOP 3 0".into())
        );
        assert_eq!(line(Command::Stat), ("STAT".into(), "STAT".into()));
        assert_eq!(
            line(Command::Pass(Secret::from("hunter2"))),
            ("PASS hunter2".into(), "PASS ********".into())
        );
        assert_eq!(
            line(Command::Apop {
                user: "bob".into(),
                digest: "c4c9334bac560ecc979e58001b3e22fb".into()
            }),
            (
                "APOP bob c4c9334bac560ecc979e58001b3e22fb".into(),
                "APOP bob ********".into()
            )
        );
        // A user name is shown, but never raw control characters.
        let (_, shown) = line(Command::User("b\u{1b}ob".into()));
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
    }
}
