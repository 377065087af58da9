//! The config file: named accounts, so that `popscope check -a work` needs
//! nothing else on the command line.
//!
//! ```toml
//! default = "work"
//!
//! [accounts.work]
//! url = "pop3s://alice@mail.example.org"
//! password_command = "pass show mail/work"
//! ```
//!
//! The file lives at `$XDG_CONFIG_HOME/popscope/config.toml` (default
//! `~/.config/popscope/config.toml`), or wherever `--config` /
//! `POPSCOPE_CONFIG` says. It is read with `toml` + `serde`: an unknown key
//! or a bad value is an error naming its line. `merge` puts an account's
//! values into the command's settings where the command line and the
//! environment left them open; `command` is `popscope config`.

mod command;
mod merge;
mod values;

pub use command::{ConfigAction, ConfigArgs, run};
pub use merge::{account_args, apply_account};

use super::{StartTlsArg, TlsArg};
use crate::error::{Failure, FailureKind};
use crate::pop3::auth::Mechanism;
use crate::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Declares the account keys once: the `[accounts.NAME]` table's fields
/// (all optional, unknown keys refused), the list of key names, and where
/// each value goes in the command's settings (`ConnectArgs` field, which is
/// also its clap id) and with which other settings it competes (`Group`).
/// Adding a key is one line here (plus its field in `ConnectArgs`).
macro_rules! account_keys {
    ($($(#[$attr:meta])* $key:ident: $ty:ty => $field:ident in $group:ident,)*) => {
        /// One `[accounts.NAME]` table.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Account {
            $($(#[$attr])* #[serde(default)] pub $key: Option<$ty>,)*
        }

        impl Account {
            /// Every key an account may hold, in the order they are shown.
            pub const KEYS: &[&str] = &[$(stringify!($key)),*];

            /// Puts each value the account has into `args` where `open`
            /// (group, clap id) allows; returns the keys it put.
            fn fill(
                &self,
                args: &mut super::ConnectArgs,
                open: impl Fn(merge::Group, &str) -> bool,
            ) -> Vec<&'static str> {
                let mut applied = Vec::new();
                $(
                    if let Some(value) = &self.$key
                        && open(merge::Group::$group, stringify!($field))
                    {
                        args.$field = value.clone().into();
                        applied.push(stringify!($key));
                    }
                )*
                applied
            }

            /// (key, clap id, value as shown) for every key, from merged
            /// settings; secrets are redacted.
            fn shown(args: &super::ConnectArgs) -> Vec<(&'static str, &'static str, Option<String>)> {
                use values::Shown as _;
                vec![$((stringify!($key), stringify!($field), args.$field.shown()),)*]
            }
        }
    };
}

account_keys! {
    /// pop3s://user@host[:port] or pop3://user@host[:port].
    #[serde(deserialize_with = "values::url")]
    url: String => url in Server,
    user: String => user in Server,
    #[serde(deserialize_with = "values::value_enum")]
    tls: TlsArg => tls in Server,
    #[serde(deserialize_with = "values::mechanism")]
    auth: Mechanism => mechanism in Plain,
    /// A password kept in the file itself: only in a file no one else can read.
    #[serde(deserialize_with = "values::secret")]
    password: Secret => password in Secret,
    password_command: String => password_command in Secret,
    #[serde(deserialize_with = "values::path")]
    password_file: PathBuf => password_file in Secret,
    oauth_token_command: String => oauth_token_command in Secret,
    #[serde(deserialize_with = "values::path")]
    ca_file: PathBuf => ca_file in Plain,
    #[serde(deserialize_with = "values::pin")]
    pin: String => pin in Plain,
    #[serde(deserialize_with = "values::value_enum")]
    starttls: StartTlsArg => starttls in Plain,
    #[serde(deserialize_with = "values::seconds")]
    timeout: f64 => timeout in Plain,
    #[serde(deserialize_with = "values::window")]
    window: usize => window in Plain,
    #[serde(deserialize_with = "values::path")]
    backup: PathBuf => backup in Plain,
}

/// The keys that say where the secret comes from: an account may set one.
const SECRET_KEYS: [&str; 4] = ["password", "password_command", "password_file", "oauth_token_command"];

impl Account {
    fn secret_keys(&self) -> Vec<&'static str> {
        let set = [
            self.password.is_some(),
            self.password_command.is_some(),
            self.password_file.is_some(),
            self.oauth_token_command.is_some(),
        ];
        SECRET_KEYS
            .iter()
            .zip(set)
            .filter(|(_, s)| *s)
            .map(|(k, _)| *k)
            .collect()
    }
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    default: Option<toml::Spanned<String>>,
    #[serde(default)]
    accounts: BTreeMap<String, Account>,
}

/// A config file, read and checked.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub default: Option<String>,
    pub accounts: BTreeMap<String, Account>,
    /// The permission bits, where the platform has them.
    pub mode: Option<u32>,
}

/// Where the config file is when neither `--config` nor POPSCOPE_CONFIG
/// says: `$XDG_CONFIG_HOME/popscope/config.toml`, or under `~/.config` when
/// that is unset or not absolute (as the XDG spec says).
pub(crate) fn default_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("popscope").join("config.toml"))
}

/// The file `--config` names, or the default one.
pub(crate) fn chosen_path(flag: Option<&Path>) -> Result<PathBuf, Failure> {
    match flag {
        Some(path) => Ok(path.to_path_buf()),
        None => default_path().ok_or_else(|| {
            usage("cannot tell where the config file is: neither XDG_CONFIG_HOME nor HOME is set")
                .with_hint("pass --config FILE")
        }),
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Usage, message)
}

impl ConfigFile {
    /// Reads and checks the file at `path`; `Ok(None)` if there is none.
    pub fn read(path: &Path) -> Result<Option<ConfigFile>, Failure> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(usage(format!("cannot read the config file {}: {e}", path.display()))),
        };
        ConfigFile::parse(path, &text, file_mode(path)).map(Some)
    }

    /// Reads the file at `path`, which must exist (`why` says who needs it).
    pub fn load(path: &Path, why: &str) -> Result<ConfigFile, Failure> {
        ConfigFile::read(path)?.ok_or_else(|| {
            usage(format!("there is no config file at {} ({why})", path.display()))
                .with_hint("create it (`popscope man` shows the format under FILES), or name another with --config")
        })
    }

    /// Checks `text` as the content of `path`, whose permission bits are
    /// `mode`.
    pub fn parse(path: &Path, text: &str, mode: Option<u32>) -> Result<ConfigFile, Failure> {
        let at = |line: Option<usize>, message: &str| match line {
            Some(line) => usage(format!("{} line {line}: {message}", path.display())),
            None => usage(format!("{}: {message}", path.display())),
        };
        let layout: Layout = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| line_of(text, span.start));
            at(line, &e.message().replace("unknown field", "unknown key"))
        })?;
        for (name, account) in &layout.accounts {
            if let [first, second, ..] = account.secret_keys()[..] {
                return Err(at(
                    None,
                    &format!("[accounts.{name}] sets both {first} and {second}; give the secret one way"),
                ));
            }
        }
        if let Some(default) = &layout.default
            && !layout.accounts.contains_key(default.get_ref())
        {
            let line = Some(line_of(text, default.span().start));
            return Err(at(
                line,
                &format!(
                    "default = {:?} names no account{}",
                    default.get_ref(),
                    known_names(layout.accounts.keys())
                ),
            ));
        }
        let file = ConfigFile {
            path: path.to_path_buf(),
            default: layout.default.map(toml::Spanned::into_inner),
            accounts: layout.accounts,
            mode,
        };
        file.check_stored_passwords()?;
        Ok(file)
    }

    /// A password in the file is only as safe as the file: refuse it
    /// unless no one but the owner can read it (mode 0600 or stricter).
    fn check_stored_passwords(&self) -> Result<(), Failure> {
        let Some(mode) = self.mode else { return Ok(()) };
        let Some(name) = self.accounts.iter().find(|(_, a)| a.password.is_some()).map(|(n, _)| n) else {
            return Ok(());
        };
        if mode & 0o077 == 0 {
            return Ok(());
        }
        let path = self.path.display();
        Err(usage(format!(
            "{path}: [accounts.{name}] stores a password, but the file's mode is {:04o}, so other users can read it; \
             a stored password needs mode 0600 or stricter",
            mode & 0o7777
        ))
        .with_hint(format!(
            "chmod 600 {path}; or use password_command or password_file instead of password"
        )))
    }

    /// The account called `name`.
    pub fn account(&self, name: &str) -> Result<&Account, Failure> {
        self.accounts.get(name).ok_or_else(|| {
            let shown = crate::sanitize::sanitize_text(name, false);
            usage(format!(
                "{} has no account {shown:?}{}",
                self.path.display(),
                known_names(self.accounts.keys())
            ))
        })
    }
}

/// ": the accounts are a, b" or ": it has no accounts".
fn known_names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if names.is_empty() {
        "; it has no [accounts.NAME] tables".into()
    } else {
        format!("; the accounts are {}", names.join(", "))
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests;
