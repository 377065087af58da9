//! Tickets: every command the inspector submits carries one, and the
//! session's answer comes back with it. A ticket says what the command was
//! for, and the purpose alone decides which command goes on the wire.

use super::Effect;
use crate::pop3::client::{Command, Priority};
use std::collections::HashMap;

/// What a ticket (a command submitted by the app) was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Stat,
    List,
    Uidl,
    Top(u32),
    /// The message, and its size from LIST (a RETR running far past it is
    /// stopped).
    Retr {
        msg: u32,
        listed_size: u64,
    },
    Dele(u32),
    /// Undoes the DELEs of a commit that was cancelled half-way.
    Rset,
    /// The idle keep-alive.
    Noop,
    Quit {
        commit: bool,
    },
}

impl Purpose {
    fn command(self) -> Command {
        match self {
            Purpose::Stat => Command::Stat,
            Purpose::List => Command::List(None),
            Purpose::Uidl => Command::Uidl(None),
            Purpose::Top(msg) => Command::Top { msg, lines: 0 },
            Purpose::Retr { msg, listed_size } => Command::Retr {
                msg,
                listed_size: Some(listed_size),
            },
            Purpose::Dele(n) => Command::Dele(n),
            Purpose::Rset => Command::Rset,
            Purpose::Noop => Command::Noop,
            Purpose::Quit { commit } => Command::Quit { commit },
        }
    }
}

/// The commands in flight, by ticket.
#[derive(Debug)]
pub struct Tickets {
    open: HashMap<u64, Purpose>,
    next: u64,
}

impl Default for Tickets {
    fn default() -> Tickets {
        Tickets {
            open: HashMap::new(),
            next: 1,
        }
    }
}

impl Tickets {
    /// The effect that sends the command for `purpose`.
    pub fn submit(&mut self, purpose: Purpose, priority: Priority) -> Effect {
        self.issue(purpose, priority).1
    }

    /// `submit`, also giving the ticket (to recognise the answer's data).
    pub fn issue(&mut self, purpose: Purpose, priority: Priority) -> (u64, Effect) {
        let ticket = self.next;
        self.next += 1;
        self.open.insert(ticket, purpose);
        let effect = Effect::Submit {
            ticket,
            command: purpose.command(),
            priority,
        };
        (ticket, effect)
    }

    /// Forgets every open ticket: their session is gone (a reconnect),
    /// and numbers go on rising, so no old answer can be taken for a new.
    pub(crate) fn forget_all(&mut self) {
        self.open.clear();
    }

    /// What an answered ticket was for; `None` for a ticket this app did
    /// not issue (or already saw answered).
    pub fn answered(&mut self, ticket: u64) -> Option<Purpose> {
        self.open.remove(&ticket)
    }
}
