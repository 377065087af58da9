//! The script language of the `client` target: what the person submits,
//! what the server sends, and what time does, one action a line. Plain
//! text, so seeds are readable and mutations stay meaningful:
//!
//! ```text
//! @ window=4 trace=on timeout=30     (first line; trace=off|on|bodies)
//! < +OK ready <1.2@host>             server sends the line and CRLF
//! << +OK\r\n1 120\r\n                server sends exactly these bytes
//! > USER alice                       submit (>! submits urgent)
//! > PASS                             (the canary password)
//! > AUTH SCRAM-SHA-256               (PLAIN, LOGIN, CRAM-MD5, …, XOAUTH2)
//! > RETR 3 4096                      collect up to 4096 bytes (no size: stream)
//! > QUIT!                            a QUIT the person confirmed
//! tick 31000                         31 s pass; the client checks its deadline
//! tls                                the TLS handshake after STLS succeeded
//! resume                             reading resumes after a pause
//! cancel 5 / window 8 / close
//! ```
//!
//! Escapes in server text: `\r \n \t \0 \e \\ \xHH`. Unknown lines are
//! ignored.

use popscope::pop3::auth::Mechanism;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracing {
    Off,
    On,
    Bodies,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub window: usize,
    pub tracing: Tracing,
    pub timeout_secs: u64,
}

/// A command to submit; made into a `Command` at each play (a `Command`
/// owns its SASL exchange and cannot be copied).
#[derive(Debug, Clone)]
pub enum Submit {
    User(String),
    Pass,
    Apop,
    Auth(Mechanism),
    Capa,
    Stls,
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Top(u32, u32),
    Retr(u32, Option<usize>),
    Dele(u32),
    Rset,
    Noop,
    Quit { commit: bool },
}

#[derive(Debug, Clone)]
pub enum Action {
    Submit { command: Submit, urgent: bool },
    Server(Vec<u8>),
    Tick(u64),
    Tls,
    Resume,
    Cancel(u64),
    Window(usize),
    Close,
}

pub struct Script {
    pub settings: Settings,
    pub actions: Vec<Action>,
}

/// Longest window a script may ask for: large enough to pipeline
/// everything a script can submit.
const MAX_WINDOW: usize = 10_000;
/// Longest single tick: a few days.
const MAX_TICK_MS: u64 = 1 << 28;

pub fn parse(input: &[u8]) -> Script {
    let text = String::from_utf8_lossy(input);
    let mut settings = Settings {
        window: 1,
        tracing: Tracing::On,
        timeout_secs: 30,
    };
    let mut actions = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i == 0
            && let Some(rest) = line.strip_prefix('@')
        {
            parse_settings(rest, &mut settings);
            continue;
        }
        if let Some(action) = parse_action(line) {
            actions.push(action);
        }
    }
    Script { settings, actions }
}

fn parse_settings(text: &str, settings: &mut Settings) {
    for word in text.split_whitespace() {
        match word.split_once('=') {
            Some(("window", n)) => settings.window = n.parse().unwrap_or(1).min(MAX_WINDOW),
            Some(("timeout", n)) => settings.timeout_secs = n.parse().unwrap_or(30),
            Some(("trace", "off")) => settings.tracing = Tracing::Off,
            Some(("trace", "bodies")) => settings.tracing = Tracing::Bodies,
            _ => {}
        }
    }
}

fn parse_action(line: &str) -> Option<Action> {
    if let Some(rest) = line.strip_prefix("<<") {
        return Some(Action::Server(unescape(rest.strip_prefix(' ').unwrap_or(rest))));
    }
    if let Some(rest) = line.strip_prefix('<') {
        let mut bytes = unescape(rest.strip_prefix(' ').unwrap_or(rest));
        bytes.extend_from_slice(b"\r\n");
        return Some(Action::Server(bytes));
    }
    if let Some(rest) = line.strip_prefix(">!") {
        return parse_submit(rest.trim()).map(|command| Action::Submit { command, urgent: true });
    }
    if let Some(rest) = line.strip_prefix('>') {
        return parse_submit(rest.trim()).map(|command| Action::Submit { command, urgent: false });
    }
    let mut words = line.split_whitespace();
    let number = |w: Option<&str>| w.and_then(|w| w.parse::<u64>().ok());
    match words.next()? {
        "tick" => Some(Action::Tick(number(words.next())?.min(MAX_TICK_MS))),
        "tls" => Some(Action::Tls),
        "resume" => Some(Action::Resume),
        "cancel" => Some(Action::Cancel(number(words.next())?)),
        "window" => Some(Action::Window((number(words.next())? as usize).min(MAX_WINDOW))),
        "close" => Some(Action::Close),
        _ => None,
    }
}

fn parse_submit(text: &str) -> Option<Submit> {
    let mut words = text.split(' ');
    let verb = words.next()?.to_ascii_uppercase();
    let args: Vec<&str> = words.collect();
    let n = |i: usize| args.get(i).and_then(|w| w.parse::<u32>().ok());
    Some(match verb.as_str() {
        "USER" => Submit::User(args.join(" ")),
        "PASS" => Submit::Pass,
        "APOP" => Submit::Apop,
        "AUTH" => Submit::Auth(Mechanism::parse(args.first()?).filter(|m| m.is_sasl())?),
        "CAPA" => Submit::Capa,
        "STLS" => Submit::Stls,
        "STAT" => Submit::Stat,
        "LIST" => Submit::List(n(0)),
        "UIDL" => Submit::Uidl(n(0)),
        "TOP" => Submit::Top(n(0)?, n(1).unwrap_or(0)),
        "RETR" => Submit::Retr(n(0)?, args.get(1).and_then(|w| w.parse().ok())),
        "DELE" => Submit::Dele(n(0)?),
        "RSET" => Submit::Rset,
        "NOOP" => Submit::Noop,
        "QUIT" => Submit::Quit { commit: false },
        "QUIT!" => Submit::Quit { commit: true },
        _ => return None,
    })
}

fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'e') => out.push(0x1b),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let value = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(value.unwrap_or(b'?'));
            }
            Some(other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}
