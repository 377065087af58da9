//! How the config file's values are read (each checked the way the
//! command line checks it, so a bad value fails at its line) and shown.

use super::super::{StartTlsArg, TlsArg, parse_mechanism};
use crate::pop3::auth::Mechanism;
use crate::secret::Secret;
use crate::session::tls::parse_pin;
use clap::ValueEnum;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

/// A URL as the command line takes it: pop3s:// or pop3://, no password.
pub fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    let parsed = url::Url::parse(&text)
        .map_err(|e| D::Error::custom(format!("url: not a URL ({e}); expected pop3s://user@host[:port]")))?;
    if !matches!(parsed.scheme(), "pop3s" | "pop3") {
        return Err(D::Error::custom(format!(
            "url: unsupported scheme {:?}; use pop3s:// or pop3://",
            parsed.scheme()
        )));
    }
    if parsed.password().is_some() {
        return Err(D::Error::custom(
            "url: contains a password; put it in `password` (file mode 0600), password_file or password_command",
        ));
    }
    Ok(Some(text))
}

/// One of a clap value enum's names (`tls`, `starttls`), any case.
pub(crate) fn value_enum<'de, D: Deserializer<'de>, T: ValueEnum>(d: D) -> Result<Option<T>, D::Error> {
    let text = String::deserialize(d)?;
    T::from_str(&text, true).map(Some).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        D::Error::custom(format!("{text:?} is not one of {}", names.join(", ")))
    })
}

pub fn mechanism<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mechanism>, D::Error> {
    let text = String::deserialize(d)?;
    parse_mechanism(&text).map(Some).map_err(D::Error::custom)
}

pub fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    let text = String::deserialize(d)?;
    if text.is_empty() {
        return Err(D::Error::custom("password is empty"));
    }
    Ok(Some(Secret::from(text)))
}

/// A path; a leading `~/` is the home directory.
pub fn path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    let text = String::deserialize(d)?;
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Ok(Some(PathBuf::from(home).join(rest))),
        _ => Ok(Some(PathBuf::from(text))),
    }
}

pub fn pin<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    parse_pin(&text).map_err(|e| D::Error::custom(format!("pin: {e}")))?;
    Ok(Some(text))
}

pub fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = f64::deserialize(d)?;
    if value.is_finite() && value > 0.0 {
        Ok(Some(value))
    } else {
        Err(D::Error::custom("timeout must be a positive number of seconds"))
    }
}

pub fn window<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    match usize::deserialize(d)? {
        0 => Err(D::Error::custom("window must be at least 1")),
        n => Ok(Some(n)),
    }
}

/// A setting as `popscope config` shows it; `None` when unset. Secrets
/// show as stars.
pub trait Shown {
    fn shown(&self) -> Option<String>;
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> Option<String> {
        self.as_ref().and_then(Shown::shown)
    }
}

macro_rules! shown_by {
    ($($ty:ty => |$v:ident| $e:expr;)*) => {
        $(impl Shown for $ty {
            fn shown(&self) -> Option<String> {
                let $v = self;
                Some($e)
            }
        })*
    };
}

shown_by! {
    String => |v| v.clone();
    PathBuf => |v| v.display().to_string();
    f64 => |v| v.to_string();
    usize => |v| v.to_string();
    Mechanism => |v| v.name().to_string();
    Secret => |_v| "******** (redacted)".to_string();
    TlsArg => |v| enum_name(v);
    StartTlsArg => |v| enum_name(v);
}

fn enum_name(value: &impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}
