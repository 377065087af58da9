//! How the inspector looks: every style the panes use, named by what it
//! means. Emphasis comes from the terminal's own foreground and background
//! with reverse video, bold, underline and strike-through, so it reads on
//! dark and light terminal themes alike; colour only adds to it, from the
//! few named colours that read on both (red, green, blue and magenta as
//! text, black text on a red, green or yellow background). Never the pale
//! colour 8, never a black background, never white text.
//!
//! Without colour (`NO_COLOR`, `--color never`, a dumb terminal) the same
//! styles lose their colours and keep their modifiers, and the few that
//! would then say nothing get a modifier of their own: nothing that
//! matters is said by colour alone.

use crate::app::App;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders};

/// The styles, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// The cursor row of the list and of the senders view.
    pub selected: Style,
    /// A message marked for deletion (its row also shows `D`).
    pub marked: Style,
    /// A row the search matches.
    pub matched: Style,
    /// A row inside a visual selection.
    pub visual: Style,
    /// Column headers, header names, the help's keys.
    pub label: Style,
    /// A section title (the help's contexts).
    pub heading: Style,
    /// A pane without the focus, and one with it.
    pub border: Style,
    pub focus_border: Style,
    /// How a focused pane's (and a dialog's) border is drawn.
    pub focus_border_type: BorderType,
    /// The commit dialog's border.
    pub danger_border: Style,
    /// The whole status bar; the parts below are drawn on it.
    pub status_bar: Style,
    pub link_ok: Style,
    pub link_lost: Style,
    /// "2 marked (817 B)" in the status bar.
    pub marks: Style,
    /// The server part when it is the demo.
    pub demo: Style,
    /// The security part: verified, or not (a warning).
    pub verified: Style,
    pub unverified: Style,
    /// Text that warns (a commit under way) or says something failed.
    pub warning: Style,
    pub error: Style,
    /// Trace lines: a command sent, an answer, an -ERR answer, a note.
    pub sent: Style,
    pub received: Style,
    pub refused: Style,
    pub note: Style,
    /// A trace group's summary line ("▸ TOP × 3,000 · …").
    pub group: Style,
    /// A trace row the trace search finds.
    pub found: Style,
    /// Progress bars and the senders view's share bars.
    pub gauge: Style,
    /// A gauge's label, over the bar.
    pub gauge_label: Style,
    /// An attachment line of the message view.
    pub attachment: Style,
    /// The dialog's buttons: the one that deletes, going back, keeping all.
    pub button_danger: Style,
    pub button: Style,
    pub button_safe: Style,
}

const fn style() -> Style {
    Style::new()
}

const BOLD: Modifier = Modifier::BOLD;
const REVERSED: Modifier = Modifier::REVERSED;

/// Black text on a colour, reading the same on any terminal theme; not
/// reversed even inside the reversed status bar.
const fn badge(colour: Color) -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(colour)
        .add_modifier(BOLD)
        .remove_modifier(REVERSED)
}

/// Normal video inside the reversed status bar, in bold: a badge without
/// colour.
const fn plain_badge() -> Style {
    Style::new().add_modifier(BOLD).remove_modifier(REVERSED)
}

impl Theme {
    pub const fn new(colour: bool) -> Theme {
        // `both`: the style with colour, or without it and its modifiers
        // kept; `pick`: a style of its own for each case.
        const fn both(colour: bool, s: Style) -> Style {
            if colour {
                s
            } else {
                Style {
                    fg: None,
                    bg: None,
                    ..s
                }
            }
        }
        const fn pick(colour: bool, with: Style, without: Style) -> Style {
            if colour { with } else { without }
        }
        let c = colour;
        Theme {
            selected: style().add_modifier(REVERSED.union(BOLD)),
            marked: both(c, style().fg(Color::Red).add_modifier(Modifier::CROSSED_OUT)),
            matched: both(c, style().fg(Color::Magenta).add_modifier(BOLD)),
            visual: style().add_modifier(Modifier::UNDERLINED),
            label: style().add_modifier(BOLD),
            heading: style().add_modifier(BOLD.union(Modifier::UNDERLINED)),
            border: style(),
            focus_border: both(c, style().fg(Color::Blue).add_modifier(BOLD)),
            focus_border_type: if colour { BorderType::Plain } else { BorderType::Double },
            danger_border: both(c, style().fg(Color::Red).add_modifier(BOLD)),
            status_bar: style().add_modifier(REVERSED),
            link_ok: pick(c, badge(Color::Green), style().add_modifier(BOLD)),
            link_lost: pick(c, badge(Color::Red), plain_badge()),
            marks: pick(c, badge(Color::Red), plain_badge()),
            demo: pick(c, badge(Color::Yellow), plain_badge()),
            verified: style(),
            unverified: pick(c, badge(Color::Yellow), plain_badge()),
            warning: both(c, style().fg(Color::Magenta).add_modifier(BOLD)),
            error: both(c, style().fg(Color::Red).add_modifier(BOLD)),
            sent: both(c, style().fg(Color::Blue)),
            received: both(c, style().fg(Color::Green)),
            refused: both(c, style().fg(Color::Red).add_modifier(BOLD)),
            note: both(c, style().fg(Color::Magenta)),
            group: both(c, style().fg(Color::Magenta).add_modifier(BOLD)),
            found: pick(
                c,
                badge(Color::Yellow),
                style().add_modifier(BOLD.union(Modifier::UNDERLINED)),
            ),
            gauge: both(c, style().fg(Color::Blue)),
            gauge_label: both(c, style().fg(Color::Reset).bg(Color::Reset).add_modifier(BOLD)),
            attachment: both(c, style().fg(Color::Blue)),
            button_danger: pick(c, badge(Color::Red), style().add_modifier(REVERSED.union(BOLD))),
            button: style().add_modifier(REVERSED.union(BOLD)),
            button_safe: pick(c, badge(Color::Green), style().add_modifier(REVERSED.union(BOLD))),
        }
    }

    /// A pane's frame: a focused pane has a bold title and a border of its
    /// own (coloured, or double without colour).
    pub fn pane<'a>(&self, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
        let block = Block::new().borders(Borders::ALL).title(title);
        if focused {
            block
                .border_style(self.focus_border)
                .border_type(self.focus_border_type)
                .title_style(self.label)
        } else {
            block.border_style(self.border)
        }
    }

    /// A dialog's frame (it has the focus): `border` is its colour.
    pub fn dialog<'a>(&self, title: impl Into<Line<'a>>, border: Style) -> Block<'a> {
        Block::new()
            .borders(Borders::ALL)
            .title(title)
            .border_style(border)
            .border_type(self.focus_border_type)
            .title_style(self.label)
    }
}

/// The theme with colour.
pub const COLOUR: Theme = Theme::new(true);
/// The theme without any colour.
pub(crate) const MONO: Theme = Theme::new(false);

/// The theme `app` is drawn with.
pub fn of(app: &App) -> &'static Theme {
    if app.colour { &COLOUR } else { &MONO }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(theme: &Theme) -> Vec<Style> {
        let t = *theme;
        vec![
            t.selected,
            t.marked,
            t.matched,
            t.visual,
            t.label,
            t.heading,
            t.border,
            t.focus_border,
            t.danger_border,
            t.status_bar,
            t.link_ok,
            t.link_lost,
            t.marks,
            t.demo,
            t.verified,
            t.unverified,
            t.warning,
            t.error,
            t.sent,
            t.received,
            t.refused,
            t.note,
            t.group,
            t.found,
            t.gauge,
            t.gauge_label,
            t.attachment,
            t.button_danger,
            t.button,
            t.button_safe,
        ]
    }

    #[test]
    fn without_colour_no_style_has_a_colour() {
        for s in all(&MONO) {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
    }

    /// Text colours that read on a dark and a light background alike, and
    /// backgrounds only under black text.
    #[test]
    fn colours_read_on_dark_and_light_backgrounds() {
        let text = [Color::Reset, Color::Red, Color::Green, Color::Blue, Color::Magenta];
        for s in all(&COLOUR) {
            match s.bg {
                None | Some(Color::Reset) => {
                    assert!(s.fg.is_none_or(|fg| text.contains(&fg)), "{s:?}");
                }
                Some(bg) => {
                    assert_ne!(bg, Color::Black, "{s:?}");
                    assert_eq!(s.fg, Some(Color::Black), "{s:?}");
                }
            }
        }
    }

    /// The states a row can be in differ by more than colour: in the list,
    /// and in the trace (where a group line is bold).
    #[test]
    fn row_states_differ_without_colour() {
        let list = [MONO.selected, MONO.marked, MONO.matched, MONO.visual];
        let trace = [MONO.selected, MONO.found, MONO.group];
        for states in [&list[..], &trace[..]] {
            let mods: Vec<Modifier> = states.iter().map(|s| s.add_modifier).collect();
            for (i, a) in mods.iter().enumerate() {
                assert!(!a.is_empty());
                for b in &mods[i + 1..] {
                    assert_ne!(a, b);
                }
            }
        }
    }
}
