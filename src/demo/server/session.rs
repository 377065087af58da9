//! One demo POP3 session: the RFC 1939 states and what each command does.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Quit,
}

pub(super) enum State {
    /// Before login; `user` is set by a successful USER.
    Authorization {
        user: Option<String>,
    },
    /// After `AUTH PLAIN` without an initial response: the next line is
    /// the client's base64 response, not a command.
    SaslPlain,
    Transaction(Transaction),
}

pub(super) struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) replies: Replies,
    pub(super) state: State,
    /// The greeting's timestamp, for APOP.
    pub(super) timestamp: String,
}

impl Session {
    pub(super) fn handle_line(&mut self, line: &[u8]) -> Flow {
        if matches!(self.state, State::SaslPlain) {
            self.state = State::Authorization { user: None };
            if line == b"*" {
                self.replies.err("authentication cancelled");
            } else {
                self.auth_plain_response(line);
            }
            return Flow::Continue;
        }
        let line = String::from_utf8_lossy(line);
        let (keyword, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let args: Vec<&str> = rest.split_ascii_whitespace().collect();
        let options = &self.shared.options;
        let logged_in = matches!(self.state, State::Transaction(_));
        match keyword.as_str() {
            "" => self.replies.err("empty command"),
            "TOP" if !options.advertise_top => self.replies.err("TOP is not supported by this server"),
            "UIDL" if !options.advertise_uidl => self.replies.err("UIDL is not supported by this server"),
            "CAPA" => match arity("CAPA", &args, 0, 0) {
                Ok(()) => self.capa(),
                Err(text) => self.replies.err(&text),
            },
            "QUIT" => match arity("QUIT", &args, 0, 0) {
                Ok(()) => {
                    self.quit();
                    return Flow::Quit;
                }
                Err(text) => self.replies.err(&text),
            },
            "USER" | "PASS" | "APOP" | "AUTH" if logged_in => self.replies.err("already logged in"),
            "USER" => self.user(rest.trim()),
            "PASS" => self.pass(rest),
            "APOP" => self.apop(&args),
            "AUTH" => self.auth(&args),
            "STAT" | "LIST" | "UIDL" | "TOP" | "RETR" | "DELE" | "RSET" | "NOOP" => match &mut self.state {
                State::Transaction(transaction) => transaction.command(&self.replies, &keyword, &args),
                _ => self.replies.err(&format!("{keyword} is only valid after logging in")),
            },
            _ => self.replies.err(&unknown_command(&keyword)),
        }
        Flow::Continue
    }

    pub(super) fn capa(&self) {
        let options = &self.shared.options;
        let mut lines = Vec::new();
        if options.advertise_top {
            lines.push("TOP");
        }
        if options.advertise_uidl {
            lines.push("UIDL");
        }
        lines.push("USER");
        if options.advertise_pipelining {
            lines.push("PIPELINING");
        }
        lines.extend([
            "RESP-CODES",
            "AUTH-RESP-CODE",
            "SASL PLAIN",
            "IMPLEMENTATION popscope-demo",
        ]);
        let body: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
        self.replies.multiline("capability list follows", body.as_bytes());
    }

    pub(super) fn quit(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Authorization { user: None });
        match state {
            // Commit before answering: once the client reads +OK, the
            // deletions are done and the lock is free (RFC 1939 §6).
            State::Transaction(transaction) => {
                let removed = transaction.commit(&self.shared);
                self.replies.ok(&format!(
                    "popscope demo server signing off ({removed} messages deleted)"
                ));
            }
            _ => self.replies.ok("popscope demo server signing off"),
        }
    }

    pub(super) fn user(&mut self, name: &str) {
        if name.is_empty() {
            return self.replies.err("USER needs a user name");
        }
        // Any name is accepted here; PASS says whether the pair is valid,
        // so the server does not reveal which users exist.
        self.state = State::Authorization {
            user: Some(name.to_string()),
        };
        self.replies.ok("send PASS");
    }

    pub(super) fn pass(&mut self, password: &str) {
        let State::Authorization { user: Some(user) } = &self.state else {
            return self.replies.err("send USER first");
        };
        let valid = user == DEMO_USER && password == DEMO_PASSWORD;
        self.login(valid);
    }

    pub(super) fn apop(&mut self, args: &[&str]) {
        let [name, digest] = args else {
            return self.replies.err("APOP needs a user name and a digest");
        };
        let expected = Md5::digest(format!("{}{DEMO_PASSWORD}", self.timestamp).as_bytes());
        let expected: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        self.login(*name == DEMO_USER && digest.eq_ignore_ascii_case(&expected));
    }

    pub(super) fn auth(&mut self, args: &[&str]) {
        match args {
            [] => self.replies.multiline("SASL mechanisms follow", b"PLAIN\r\n"),
            [mechanism, ..] if !mechanism.eq_ignore_ascii_case("PLAIN") => {
                self.replies.err(&format!("unsupported SASL mechanism {mechanism:?}"))
            }
            [_] => {
                self.state = State::SaslPlain;
                // PLAIN has no challenge: an empty continuation (RFC 5034 §4).
                self.replies.bytes(b"+ \r\n".to_vec());
            }
            [_, initial] if *initial == "=" => self.auth_plain_response(b""),
            [_, initial] => self.auth_plain_response(initial.as_bytes()),
            _ => self
                .replies
                .err("AUTH takes a mechanism and at most one initial response"),
        }
    }

    /// Checks a base64 PLAIN response: authzid NUL authcid NUL password
    /// (RFC 4616).
    pub(super) fn auth_plain_response(&mut self, response: &[u8]) {
        let Ok(decoded) = BASE64.decode(response.trim_ascii()) else {
            return self.replies.err("the SASL response is not valid base64");
        };
        let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
        let [authzid, authcid, password] = parts[..] else {
            return self.replies.err("[AUTH] malformed PLAIN response");
        };
        let valid = authcid == DEMO_USER.as_bytes()
            && password == DEMO_PASSWORD.as_bytes()
            && (authzid.is_empty() || authzid == authcid);
        self.login(valid);
    }

    pub(super) fn login(&mut self, valid: bool) {
        self.state = State::Authorization { user: None };
        if !valid {
            return self.replies.err("[AUTH] invalid user name or password");
        }
        let Some(transaction) = Transaction::open(&self.shared) else {
            return self.replies.err("[IN-USE] maildrop locked");
        };
        let (count, size) = transaction.stat();
        self.replies
            .ok(&format!("{DEMO_USER}'s maildrop has {count} messages ({size} octets)"));
        self.state = State::Transaction(transaction);
    }
}

/// `unknown command "FOO"`, echoing the keyword only when it is plainly a
/// word: the reply goes to a terminal on the other side.
pub(super) fn unknown_command(keyword: &str) -> String {
    if keyword.len() <= 12 && keyword.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        format!("unknown command \"{keyword}\"")
    } else {
        "unknown command".to_string()
    }
}

/// A logged-in session's view: the maildrop as it was at login, and what
/// this session marked deleted.
pub(super) struct Transaction {
    messages: Vec<Arc<DemoMessage>>,
    deleted: Vec<bool>,
    _lock: Option<MaildropLock>,
}

impl Transaction {
    /// Takes the lock (when locking is on) and the snapshot in one critical
    /// section; `None` when another session holds the lock.
    pub(super) fn open(shared: &Arc<Shared>) -> Option<Transaction> {
        let mut store = shared.store();
        let lock = if shared.options.lock {
            if store.locked {
                return None;
            }
            store.locked = true;
            Some(MaildropLock(Arc::clone(shared)))
        } else {
            None
        };
        let messages = store.messages.clone();
        drop(store);
        let deleted = vec![false; messages.len()];
        Some(Transaction {
            messages,
            deleted,
            _lock: lock,
        })
    }

    /// Live (not deleted) messages with their 1-based numbers.
    pub(super) fn live(&self) -> impl Iterator<Item = (usize, &Arc<DemoMessage>)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted[*i])
            .map(|(i, m)| (i + 1, m))
    }

    pub(super) fn stat(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(count, size), (_, m)| (count + 1, size + m.size()))
    }

    /// The message a number argument names, or the -ERR text.
    pub(super) fn lookup(&self, arg: &str) -> Result<(usize, &Arc<DemoMessage>), String> {
        let number = arg
            .parse::<usize>()
            .ok()
            .filter(|_| arg.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("invalid message number {arg:?}"))?;
        if number == 0 || number > self.messages.len() {
            return Err(format!("no such message (the maildrop has {})", self.messages.len()));
        }
        if self.deleted[number - 1] {
            return Err(format!("message {number} already deleted"));
        }
        Ok((number, &self.messages[number - 1]))
    }

    pub(super) fn command(&mut self, replies: &Replies, keyword: &str, args: &[&str]) {
        let result = match keyword {
            "STAT" => self.stat_command(replies, args),
            "LIST" => self.list(replies, args),
            "UIDL" => self.uidl(replies, args),
            "TOP" => self.top(replies, args),
            "RETR" => self.retr(replies, args),
            "DELE" => self.dele(replies, args),
            "RSET" => self.rset(replies, args),
            "NOOP" => self.noop(replies, args),
            _ => unreachable!("dispatched by Session::handle_line"),
        };
        if let Err(text) = result {
            replies.err(&text);
        }
    }

    pub(super) fn stat_command(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("STAT", args, 0, 0)?;
        let (count, size) = self.stat();
        replies.ok(&format!("{count} {size}"));
        Ok(())
    }

    pub(super) fn list(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("LIST", args, 0, 1)?;
        if let [arg] = args {
            let (number, message) = self.lookup(arg)?;
            replies.ok(&format!("{number} {}", message.size()));
        } else {
            let (count, size) = self.stat();
            let body: String = self.live().map(|(n, m)| format!("{n} {}\r\n", m.size())).collect();
            replies.multiline(&format!("{count} messages ({size} octets)"), body.as_bytes());
        }
        Ok(())
    }

    pub(super) fn uidl(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("UIDL", args, 0, 1)?;
        if let [arg] = args {
            let (number, message) = self.lookup(arg)?;
            replies.ok(&format!("{number} {}", message.uid()));
        } else {
            let body: String = self.live().map(|(n, m)| format!("{n} {}\r\n", m.uid())).collect();
            replies.multiline("unique-id listing follows", body.as_bytes());
        }
        Ok(())
    }

    pub(super) fn top(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("TOP", args, 2, 2)?;
        let (_, message) = self.lookup(args[0])?;
        let lines = args[1]
            .parse::<usize>()
            .ok()
            .filter(|_| args[1].bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("invalid line count {:?}", args[1]))?;
        replies.message("top of message follows", message, Some(lines));
        Ok(())
    }

    pub(super) fn retr(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("RETR", args, 1, 1)?;
        let (_, message) = self.lookup(args[0])?;
        replies.message(&format!("{} octets", message.size()), message, None);
        Ok(())
    }

    pub(super) fn dele(&mut self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("DELE", args, 1, 1)?;
        let (number, _) = self.lookup(args[0])?;
        self.deleted[number - 1] = true;
        replies.ok(&format!("message {number} deleted"));
        Ok(())
    }

    pub(super) fn rset(&mut self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("RSET", args, 0, 0)?;
        self.deleted.fill(false);
        let (count, size) = self.stat();
        replies.ok(&format!("maildrop has {count} messages ({size} octets)"));
        Ok(())
    }

    pub(super) fn noop(&self, replies: &Replies, args: &[&str]) -> Result<(), String> {
        arity("NOOP", args, 0, 0)?;
        replies.ok("");
        Ok(())
    }

    /// The UPDATE state: removes the messages marked deleted from the
    /// shared maildrop; returns how many were removed. With locking off,
    /// another session may have removed some already; they count once.
    pub(super) fn commit(self, shared: &Shared) -> usize {
        let doomed: HashSet<*const DemoMessage> = self
            .messages
            .iter()
            .zip(&self.deleted)
            .filter(|(_, deleted)| **deleted)
            .map(|(m, _)| Arc::as_ptr(m))
            .collect();
        if doomed.is_empty() {
            return 0;
        }
        let mut store = shared.store();
        let before = store.messages.len();
        store.messages.retain(|m| !doomed.contains(&Arc::as_ptr(m)));
        let removed = before - store.messages.len();
        store.deleted += removed;
        removed
        // The lock is released when `self` drops, after the removal.
    }
}

pub(super) fn arity(keyword: &str, args: &[&str], min: usize, max: usize) -> Result<(), String> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    Err(match (min, max) {
        (0, 0) => format!("{keyword} takes no arguments"),
        (a, b) if a == b => format!("{keyword} takes {a} argument{}", if a == 1 { "" } else { "s" }),
        (a, b) => format!("{keyword} takes {a} to {b} arguments"),
    })
}
