//! `--color`: whether the inspector may use colour (no-color.org).

use clap::ValueEnum;
use std::ffi::OsStr;

pub(super) const COLOR_HELP: &str = "Colours in the inspector: auto (none when NO_COLOR is set or TERM=dumb), always or never. \
Without colour the selection, marks and focus show by reverse video, strike-through, bold and double borders";

/// `--color`: whether the inspector may use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour, unless NO_COLOR is set and not empty (no-color.org) or TERM
    /// is "dumb".
    Auto,
    Always,
    Never,
}

impl ColorArg {
    /// Whether to use colour, with NO_COLOR and TERM as given. `always`
    /// and `never` are asked for by name and beat NO_COLOR, as no-color.org
    /// says a command-line setting should.
    pub fn wanted(self, no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
        match self {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => no_color.is_none_or(OsStr::is_empty) && term.is_none_or(|t| t != "dumb"),
        }
    }

    /// `wanted` with this process's environment.
    pub(crate) fn in_this_environment(self) -> bool {
        self.wanted(
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn colour_follows_no_color_term_and_the_flag() {
        let os = |s: &'static str| Some(OsStr::new(s));
        assert!(ColorArg::Auto.wanted(None, os("xterm-256color")));
        assert!(ColorArg::Auto.wanted(None, None));
        assert!(
            ColorArg::Auto.wanted(os(""), os("xterm")),
            "an empty NO_COLOR counts as unset"
        );
        assert!(!ColorArg::Auto.wanted(os("1"), os("xterm")));
        assert!(!ColorArg::Auto.wanted(None, os("dumb")));
        assert!(ColorArg::Always.wanted(os("1"), os("dumb")), "asked for by name");
        assert!(!ColorArg::Never.wanted(None, os("xterm")));
        let cli = super::super::Cli::try_parse_from(["popscope", "--color", "never", "pop3s://a@b"]).unwrap();
        assert_eq!(cli.connect.color, ColorArg::Never);
        match super::super::Cli::try_parse_from(["popscope", "demo", "--color", "always"])
            .unwrap()
            .command
        {
            Some(super::super::CliCommand::Demo(demo)) => assert_eq!(demo.color, ColorArg::Always),
            other => panic!("{other:?}"),
        }
        assert!(super::super::Cli::try_parse_from(["popscope", "--color", "sometimes"]).is_err());
    }
}
