//! The help screen: a context of its own over whatever is shown, with its
//! own scroll. Its lines come from the key map, then the legend of the
//! list's flag columns, then how things stand out without colour.

use super::keymap::{Action, BINDINGS};
use super::row::FLAGS;
use crate::query::DEFAULT_BIG_THRESHOLD;
use crate::text::human_size;

/// Lines one page-down key scrolls the help.
const HELP_PAGE: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct Help {
    pub open: bool,
    /// First help line shown, when the help is taller than the screen.
    pub scroll: usize,
}

/// One line of the help screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HelpLine {
    /// A context's title.
    Title(&'static str),
    /// Its keys ("j / ↓") and what they do.
    Keys {
        keys: String,
        help: &'static str,
    },
    /// A letter of the list's flag columns and what it means.
    Legend {
        letter: char,
        meaning: String,
    },
    /// How something stands out without colour ("bold") and what it is.
    Look {
        look: &'static str,
        meaning: &'static str,
    },
    Blank,
}

impl Help {
    pub(crate) fn toggle(&mut self) {
        self.open = !self.open;
        self.scroll = 0;
    }

    /// A key while the help is open; `max_scroll` is how far the help can
    /// scroll on this screen.
    pub fn act(&mut self, action: Action, max_scroll: usize) {
        match action {
            // Quit too: whatever key means "leave" where the help was
            // opened must close the help, never quit behind it.
            Action::Back | Action::Quit => self.open = false,
            Action::Down => self.scroll += 1,
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::PageDown => self.scroll += HELP_PAGE,
            Action::PageUp => self.scroll = self.scroll.saturating_sub(HELP_PAGE),
            Action::First => self.scroll = 0,
            Action::Last => self.scroll = usize::MAX,
            _ => {}
        }
        self.scroll = self.scroll.min(max_scroll);
    }
}

/// The help screen's lines, straight from the key map.
pub(crate) fn help_lines() -> Vec<HelpLine> {
    let mut lines = Vec::new();
    let mut context = None;
    for b in BINDINGS {
        if context != Some(b.context) {
            if context.is_some() {
                lines.push(HelpLine::Blank);
            }
            lines.push(HelpLine::Title(b.context.title()));
            context = Some(b.context);
        }
        let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
        lines.push(HelpLine::Keys {
            keys: keys.join(" / "),
            help: b.help,
        });
    }
    lines.push(HelpLine::Blank);
    lines.extend(legend_lines());
    lines.push(HelpLine::Blank);
    lines.push(HelpLine::Title(WITHOUT_COLOUR_TITLE));
    lines.extend(
        WITHOUT_COLOUR
            .iter()
            .map(|&(look, meaning)| HelpLine::Look { look, meaning }),
    );
    lines
}

/// Title of the note on the screen without colour.
pub(crate) const WITHOUT_COLOUR_TITLE: &str = "Without colour (NO_COLOR set, --color never or TERM=dumb)";

/// What stands out how when there is no colour (with colour too, and then
/// coloured as well).
const WITHOUT_COLOUR: [(&str, &str); 5] = [
    ("reverse video", "the selected row (list, trace, senders)"),
    ("struck out", "a message marked for deletion (D in its row)"),
    ("bold", "a row the search matches (in the trace underlined too)"),
    ("underlined", "a row of the visual selection"),
    ("double border", "the pane that has the focus"),
];

/// Title of the flags legend.
pub(crate) const LEGEND_TITLE: &str = "List columns after the number (each flag is also a query word)";

fn legend_lines() -> Vec<HelpLine> {
    let mut lines = vec![
        HelpLine::Title(LEGEND_TITLE),
        HelpLine::Legend {
            letter: 'D',
            meaning: "marked for deletion".into(),
        },
    ];
    for flag in FLAGS {
        let mut meaning = format!("{}: {}", flag.query, flag.meaning);
        if flag.query == "big" {
            meaning.push_str(&format!(" ({})", human_size(DEFAULT_BIG_THRESHOLD)));
        }
        lines.push(HelpLine::Legend {
            letter: flag.letter,
            meaning,
        });
    }
    lines
}
