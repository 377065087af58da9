//! The UIDs already saved into a target, so a second `fetch` saves only
//! what is new (mpop keeps a UIDL file for the same reason). One small
//! text file per target, holding a list per account (host, port, user),
//! replaced atomically on every save:
//!
//! ```text
//! popscope-uids 1
//! account pop.example.org 995 ann
//! 000000017b2c4d5e
//! ```
//!
//! Fields are written with `%XX` for `%` and any byte outside 0x21–0x7E.

use super::error::{StoreError, show_path};
use super::fsutil::write_atomic;
use super::sink::Format;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const MAGIC: &str = "popscope-uids 1";
/// The state file's name inside a Maildir or `.eml` directory.
pub const STATE_FILE_NAME: &str = ".popscope-uids";

/// Whose UIDs: a UID is only unique within one maildrop.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Account {
    /// Lower-cased: `POP.Example.org` is the same server.
    pub host: String,
    pub port: u16,
    pub user: String,
}

impl Account {
    pub fn new(host: &str, port: u16, user: &str) -> Account {
        Account {
            host: host.to_ascii_lowercase(),
            port,
            user: user.to_string(),
        }
    }
}

/// The saved UIDs of one account, with the other accounts' lists kept so
/// that saving does not lose them.
#[derive(Debug, Clone)]
pub struct UidState {
    path: PathBuf,
    account: Account,
    accounts: BTreeMap<Account, BTreeSet<String>>,
}

impl UidState {
    /// Where the state of `target` lives: `.popscope-uids` inside a Maildir
    /// or `.eml` directory, `FILE.popscope-uids` beside an mbox file.
    pub(crate) fn path_for(format: Format, target: &Path) -> PathBuf {
        match format {
            Format::Maildir | Format::Eml => target.join(STATE_FILE_NAME),
            Format::Mbox => {
                let mut name = target.file_name().unwrap_or_default().to_os_string();
                name.push(STATE_FILE_NAME);
                target.with_file_name(name)
            }
        }
    }

    /// Reads the state at `path` for `account`; a missing file is an empty
    /// state. A damaged file is an error that says how to recover.
    pub fn load(path: &Path, account: Account) -> Result<UidState, StoreError> {
        let accounts = match fs::read(path) {
            Ok(bytes) => parse(&bytes).map_err(|(line, reason)| damaged(path, line, reason))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(StoreError::io("read the UID state file", path, &e)),
        };
        Ok(UidState {
            path: path.to_path_buf(),
            account,
            accounts,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, uid: &str) -> bool {
        self.accounts.get(&self.account).is_some_and(|uids| uids.contains(uid))
    }

    /// Records `uid` as saved; false if it already was.
    pub fn insert(&mut self, uid: &str) -> bool {
        self.accounts
            .entry(self.account.clone())
            .or_default()
            .insert(uid.to_string())
    }

    /// How many UIDs are recorded for this account.
    pub fn len(&self) -> usize {
        self.accounts.get(&self.account).map_or(0, BTreeSet::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets this account's UIDs that are no longer on the server (so the
    /// file does not grow forever); returns how many were forgotten.
    pub(crate) fn forget_missing<'a>(&mut self, on_server: impl IntoIterator<Item = &'a str>) -> usize {
        let Some(uids) = self.accounts.get_mut(&self.account) else {
            return 0;
        };
        let present: BTreeSet<&str> = on_server.into_iter().collect();
        let before = uids.len();
        uids.retain(|uid| present.contains(uid.as_str()));
        before - uids.len()
    }

    /// Writes the state: a temporary file, fsynced, renamed over the old.
    pub fn save(&self) -> Result<(), StoreError> {
        let mut out = String::from(MAGIC);
        out.push_str(
            "\n# UIDs of messages already saved here, per account. Deleting this file\n\
             # makes the next fetch save every message again.\n",
        );
        for (account, uids) in self.accounts.iter().filter(|(_, uids)| !uids.is_empty()) {
            out.push_str(&format!(
                "account {} {} {}\n",
                escape(&account.host),
                account.port,
                escape(&account.user)
            ));
            for uid in uids {
                out.push_str(&escape(uid));
                out.push('\n');
            }
        }
        write_atomic(&self.path, out.as_bytes())
    }
}

fn damaged(path: &Path, line: usize, reason: &str) -> StoreError {
    StoreError::other(
        Some(path),
        format!(
            "the UID state file {} is damaged (line {line}: {reason})",
            show_path(path)
        ),
        Some(format!(
            "move it aside (mv '{0}' '{0}.damaged'); the next fetch then saves every message again, \
             including those already saved",
            show_path(path)
        )),
    )
}

type Accounts = BTreeMap<Account, BTreeSet<String>>;

fn parse(bytes: &[u8]) -> Result<Accounts, (usize, &'static str)> {
    let text = std::str::from_utf8(bytes).map_err(|_| (0, "not text"))?;
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    match lines.next() {
        Some((_, MAGIC)) => {}
        _ => return Err((1, "it does not start with \"popscope-uids 1\"")),
    }
    let mut accounts = Accounts::new();
    let mut current: Option<Account> = None;
    for (number, line) in lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("account ") {
            let fields: Vec<&str> = rest.split(' ').collect();
            let [host, port, user] = fields[..] else {
                return Err((number, "an account line needs host, port and user"));
            };
            let port = port.parse().map_err(|_| (number, "the port is not a number"))?;
            let host = unescape(host).ok_or((number, "bad %-escape"))?;
            let user = unescape(user).ok_or((number, "bad %-escape"))?;
            let account = Account::new(&host, port, &user);
            accounts.entry(account.clone()).or_default();
            current = Some(account);
            continue;
        }
        let Some(account) = &current else {
            return Err((number, "a UID before any account line"));
        };
        if line.contains(' ') {
            return Err((number, "a UID with a space in it"));
        }
        let uid = unescape(line).ok_or((number, "bad %-escape"))?;
        accounts.entry(account.clone()).or_default().insert(uid);
    }
    Ok(accounts)
}

fn escape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    for b in field.bytes() {
        match b {
            b'%' => out.push_str("%25"),
            0x21..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if out.is_empty() {
        // An empty user still needs a field; a lone `%` never comes from a
        // non-empty one.
        out.push('%');
    }
    out
}

fn unescape(field: &str) -> Option<String> {
    if field == "%" {
        return Some(String::new());
    }
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann() -> Account {
        Account::new("POP.Example.org", 995, "ann")
    }

    #[test]
    fn state_files_sit_in_or_beside_the_target() {
        assert_eq!(
            UidState::path_for(Format::Maildir, Path::new("/m/Mail")),
            Path::new("/m/Mail/.popscope-uids")
        );
        assert_eq!(
            UidState::path_for(Format::Eml, Path::new("out")),
            Path::new("out/.popscope-uids")
        );
        assert_eq!(
            UidState::path_for(Format::Mbox, Path::new("/m/inbox.mbox")),
            Path::new("/m/inbox.mbox.popscope-uids")
        );
    }

    #[test]
    fn saved_uids_survive_a_reload_per_account() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE_NAME);
        let mut state = UidState::load(&path, ann()).unwrap();
        assert!(state.is_empty());
        for uid in ["b", "a/b", "100%", "weird uid\n", "\u{e9}"] {
            assert!(state.insert(uid));
        }
        assert!(!state.insert("b"));
        state.save().unwrap();
        let mut bob = UidState::load(&path, Account::new("pop.example.org", 995, "bob")).unwrap();
        assert!(bob.is_empty(), "accounts are kept apart");
        bob.insert("b");
        bob.save().unwrap();
        let state = UidState::load(&path, Account::new("pop.example.ORG", 995, "ann")).unwrap();
        assert_eq!(state.len(), 5);
        for uid in ["b", "a/b", "100%", "weird uid\n", "\u{e9}"] {
            assert!(state.contains(uid), "{uid:?}");
        }
        assert!(!state.contains("c"));
        assert!(
            !UidState::load(&path, Account::new("pop.example.org", 110, "ann"))
                .unwrap()
                .contains("b")
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [STATE_FILE_NAME], "no temporary file left behind");
    }

    #[test]
    fn uids_no_longer_on_the_server_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = UidState::load(&dir.path().join("s"), ann()).unwrap();
        for uid in ["1", "2", "3"] {
            state.insert(uid);
        }
        assert_eq!(state.forget_missing(["2", "4"]), 2);
        assert!(state.contains("2") && !state.contains("1"));
    }

    #[test]
    fn a_damaged_file_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE_NAME);
        for (content, needle) in [
            (&b"garbage\n"[..], "line 1"),
            (
                b"popscope-uids 1\nuid-before-account\n",
                "line 2: a UID before any account line",
            ),
            (b"popscope-uids 1\naccount h x u\n", "the port is not a number"),
            (b"popscope-uids 1\naccount h 1 u\nbad%zz\n", "line 3: bad %-escape"),
            (b"popscope-uids 1\naccount h 1\n", "needs host, port and user"),
            (b"\xff\xfe", "not text"),
        ] {
            fs::write(&path, content).unwrap();
            let err = UidState::load(&path, ann()).err().unwrap();
            assert!(
                err.message().contains("is damaged") && err.message().contains(needle),
                "{err}"
            );
            assert!(err.hint().unwrap().contains("move it aside"), "{err}");
        }
    }

    #[test]
    fn escaping_round_trips() {
        for field in ["", "\0", "a", "%", "%00", "a b", "\u{e9}\n\t", "x%25y"] {
            assert_eq!(unescape(&escape(field)).as_deref(), Some(field), "{field:?}");
        }
    }
}
