//! The one key map: the event loop looks keys up here, and the help screen,
//! the hint bar and the dialogs' buttons take their key labels from the
//! same table, so none of them can drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere except the commit confirmation (which knows only its
    /// own keys and Ctrl-C).
    Global,
    /// The message list.
    List,
    /// The message view.
    Message,
    /// The trace pane, when it has the focus.
    Trace,
    /// The commit confirmation.
    Confirm,
    /// The help screen, over whatever was shown.
    Help,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Message list",
            Context::Message => "Message view",
            Context::Trace => "Trace pane (Tab to focus)",
            Context::Confirm => "Commit confirmation",
            Context::Help => "Help screen",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    Open,
    Back,
    Mark,
    Unmark,
    UnmarkAll,
    SortNext,
    SortReverse,
    ToggleRaw,
    ToggleTrace,
    FocusTrace,
    Help,
    Quit,
    Interrupt,
    ConfirmCommit,
    ConfirmCancel,
    ConfirmKeep,
}

/// A key as written in the help screen and matched against events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
}

impl Key {
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Code(code) => match code {
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::Backspace => "Backspace".into(),
                other => format!("{other:?}"),
            },
        }
    }

    fn matches(self, event: &KeyEvent) -> bool {
        match self {
            Key::Char(c) => {
                event.code == KeyCode::Char(c) && !event.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            }
            Key::Ctrl(c) => event.code == KeyCode::Char(c) && event.modifiers.contains(KeyModifiers::CONTROL),
            Key::Code(code) => event.code == code,
        }
    }
}

pub struct Binding {
    pub context: Context,
    pub keys: &'static [Key],
    pub action: Action,
    pub help: &'static str,
}

use Action::*;
use Context::{Confirm, Global, List, Message, Trace};
use Key::{Char, Code, Ctrl};

/// Every key popscope understands, in the order the help screen lists them.
pub const BINDINGS: &[Binding] = &[
    Binding {
        context: Global,
        keys: &[Char('?')],
        action: Help,
        help: "show or hide this help",
    },
    Binding {
        context: Global,
        keys: &[Char('t')],
        action: ToggleTrace,
        help: "show or hide the protocol trace",
    },
    Binding {
        context: Global,
        keys: &[Code(KeyCode::Tab)],
        action: FocusTrace,
        help: "move the focus between the list and the trace",
    },
    Binding {
        context: Global,
        keys: &[Ctrl('c')],
        action: Interrupt,
        help: "leave at once: no QUIT is sent, nothing is deleted",
    },
    Binding {
        context: List,
        keys: &[Char('j'), Code(KeyCode::Down)],
        action: Down,
        help: "next message",
    },
    Binding {
        context: List,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "previous message",
    },
    Binding {
        context: List,
        keys: &[Code(KeyCode::PageDown), Ctrl('f')],
        action: PageDown,
        help: "page down",
    },
    Binding {
        context: List,
        keys: &[Code(KeyCode::PageUp), Ctrl('b')],
        action: PageUp,
        help: "page up",
    },
    Binding {
        context: List,
        keys: &[Char('g'), Code(KeyCode::Home)],
        action: First,
        help: "first message",
    },
    Binding {
        context: List,
        keys: &[Char('G'), Code(KeyCode::End)],
        action: Last,
        help: "last message",
    },
    Binding {
        context: List,
        keys: &[Code(KeyCode::Enter)],
        action: Open,
        help: "open the message (RETR)",
    },
    Binding {
        context: List,
        keys: &[Char('d')],
        action: Mark,
        help: "mark for deletion (staged; nothing is sent)",
    },
    Binding {
        context: List,
        keys: &[Char('u')],
        action: Unmark,
        help: "unmark",
    },
    Binding {
        context: List,
        keys: &[Char('U')],
        action: UnmarkAll,
        help: "unmark everything",
    },
    Binding {
        context: List,
        keys: &[Char('o')],
        action: SortNext,
        help: "sort by number → date → size",
    },
    Binding {
        context: List,
        keys: &[Char('O')],
        action: SortReverse,
        help: "reverse the sort order",
    },
    Binding {
        context: List,
        keys: &[Char('q')],
        action: Quit,
        help: "quit (asks first when messages are marked)",
    },
    Binding {
        context: Message,
        keys: &[Char('j'), Code(KeyCode::Down)],
        action: Down,
        help: "scroll down",
    },
    Binding {
        context: Message,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "scroll up",
    },
    Binding {
        context: Message,
        keys: &[Code(KeyCode::PageDown), Char(' ')],
        action: PageDown,
        help: "page down",
    },
    Binding {
        context: Message,
        keys: &[Code(KeyCode::PageUp), Char('b')],
        action: PageUp,
        help: "page up",
    },
    Binding {
        context: Message,
        keys: &[Char('g'), Code(KeyCode::Home)],
        action: First,
        help: "top",
    },
    Binding {
        context: Message,
        keys: &[Char('G'), Code(KeyCode::End)],
        action: Last,
        help: "bottom",
    },
    Binding {
        context: Message,
        keys: &[Char('r')],
        action: ToggleRaw,
        help: "raw source / readable text",
    },
    Binding {
        context: Message,
        keys: &[Char('d')],
        action: Mark,
        help: "mark this message for deletion",
    },
    Binding {
        context: Message,
        keys: &[Char('u')],
        action: Unmark,
        help: "unmark this message",
    },
    Binding {
        context: Message,
        keys: &[Code(KeyCode::Esc), Char('q')],
        action: Back,
        help: "back to the list",
    },
    Binding {
        context: Trace,
        keys: &[Char('j'), Code(KeyCode::Down)],
        action: Down,
        help: "scroll the trace down",
    },
    Binding {
        context: Trace,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "scroll the trace up",
    },
    Binding {
        context: Trace,
        keys: &[Code(KeyCode::PageDown)],
        action: PageDown,
        help: "page down",
    },
    Binding {
        context: Trace,
        keys: &[Code(KeyCode::PageUp)],
        action: PageUp,
        help: "page up",
    },
    Binding {
        context: Trace,
        keys: &[Char('G'), Code(KeyCode::End)],
        action: Last,
        help: "follow the newest lines",
    },
    Binding {
        context: Trace,
        keys: &[Char('g'), Code(KeyCode::Home)],
        action: First,
        help: "oldest line",
    },
    Binding {
        context: Trace,
        keys: &[Char('q'), Code(KeyCode::Esc)],
        action: Back,
        help: "back to the list",
    },
    Binding {
        context: Confirm,
        keys: &[Char('y')],
        action: ConfirmCommit,
        help: "delete the marked messages (DELE + QUIT)",
    },
    Binding {
        context: Confirm,
        keys: &[Char('n'), Code(KeyCode::Esc)],
        action: ConfirmCancel,
        help: "go back, keep the marks",
    },
    Binding {
        context: Confirm,
        keys: &[Char('k')],
        action: ConfirmKeep,
        help: "quit keeping every message",
    },
    Binding {
        context: Context::Help,
        keys: &[Char('j'), Code(KeyCode::Down)],
        action: Down,
        help: "scroll down",
    },
    Binding {
        context: Context::Help,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "scroll up",
    },
    Binding {
        context: Context::Help,
        keys: &[Code(KeyCode::PageDown), Char(' ')],
        action: PageDown,
        help: "page down",
    },
    Binding {
        context: Context::Help,
        keys: &[Code(KeyCode::PageUp), Char('b')],
        action: PageUp,
        help: "page up",
    },
    Binding {
        context: Context::Help,
        keys: &[Char('g'), Code(KeyCode::Home)],
        action: First,
        help: "top",
    },
    Binding {
        context: Context::Help,
        keys: &[Char('G'), Code(KeyCode::End)],
        action: Last,
        help: "bottom",
    },
    Binding {
        context: Context::Help,
        keys: &[Code(KeyCode::Esc), Char('q'), Char('?')],
        action: Back,
        help: "close the help",
    },
];

/// The label of the first key bound to `action` in `context`, as the help
/// screen writes it ("y", "Esc", "Ctrl-C"): what the hint bar, the dialogs
/// and titles show. A test makes sure every label shown is bound.
pub fn keys_for(context: Context, action: Action) -> String {
    BINDINGS
        .iter()
        .find(|b| b.context == context && b.action == action)
        .and_then(|b| b.keys.first())
        .map_or_else(|| UNBOUND.to_string(), |k| k.label())
}

/// What `keys_for` says for an action without a key.
pub const UNBOUND: &str = "(unbound)";

/// The action for `event` in `context`. Global bindings apply in every
/// context except the confirmation dialog (which only knows its own keys
/// and Ctrl-C).
pub fn lookup(context: Context, event: &KeyEvent) -> Option<Action> {
    let in_context = BINDINGS
        .iter()
        .find(|b| b.context == context && b.keys.iter().any(|k| k.matches(event)));
    if let Some(b) = in_context {
        return Some(b.action);
    }
    BINDINGS
        .iter()
        .filter(|b| b.context == Global)
        .filter(|b| context != Confirm || b.action == Interrupt)
        .find(|b| b.keys.iter().any(|k| k.matches(event)))
        .map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn contexts_resolve_their_own_keys_first() {
        assert_eq!(lookup(Context::List, &key(KeyCode::Char('q'))), Some(Action::Quit));
        assert_eq!(lookup(Context::Message, &key(KeyCode::Char('q'))), Some(Action::Back));
        assert_eq!(
            lookup(Context::List, &key(KeyCode::Char('t'))),
            Some(Action::ToggleTrace)
        );
        assert_eq!(lookup(Context::Confirm, &key(KeyCode::Char('t'))), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Context::Confirm, &ctrl_c), Some(Action::Interrupt));
        assert_eq!(lookup(Context::List, &key(KeyCode::Char('c'))), None);
    }

    #[test]
    fn the_help_screen_has_its_own_keys() {
        for c in ['?', 'q'] {
            assert_eq!(lookup(Context::Help, &key(KeyCode::Char(c))), Some(Action::Back));
        }
        assert_eq!(lookup(Context::Help, &key(KeyCode::Esc)), Some(Action::Back));
        assert_eq!(lookup(Context::Help, &key(KeyCode::Char(' '))), Some(Action::PageDown));
        assert_eq!(
            lookup(Context::Help, &key(KeyCode::Char('t'))),
            Some(Action::ToggleTrace),
            "global keys still apply"
        );
        assert_eq!(lookup(Context::List, &key(KeyCode::Esc)), None);
    }

    /// The labels drawn outside the hint bar (whose own test reads it back):
    /// the dialog's buttons, the help and trace titles, the busy notice.
    #[test]
    fn every_label_the_screens_show_is_bound() {
        let shown = [
            (Context::Confirm, Action::ConfirmCommit, "y"),
            (Context::Confirm, Action::ConfirmCancel, "n"),
            (Context::Confirm, Action::ConfirmKeep, "k"),
            (Context::Global, Action::Help, "?"),
            (Context::Global, Action::Interrupt, "Ctrl-C"),
            (Context::Help, Action::Back, "Esc"),
            (Context::Help, Action::Down, "j"),
            (Context::Help, Action::Up, "k"),
            (Context::Trace, Action::Last, "G"),
        ];
        for (context, action, label) in shown {
            assert_eq!(keys_for(context, action), label, "{action:?} in {context:?}");
        }
        assert_eq!(keys_for(Context::Confirm, Action::Down), UNBOUND);
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let overlap = a.context == b.context && a.keys.iter().any(|k| b.keys.contains(k));
                assert!(
                    !overlap,
                    "{:?} and {:?} share a key in {:?}",
                    a.action, b.action, a.context
                );
            }
        }
    }

    #[test]
    fn the_readme_documents_every_key() {
        let readme = include_str!("../../README.md");
        for b in BINDINGS {
            assert!(readme.contains(b.help), "README.md lacks the key help {:?}", b.help);
            for k in b.keys {
                assert!(
                    readme.contains(&format!("`{}`", k.label())),
                    "README.md lacks the key {}",
                    k.label()
                );
            }
        }
    }
}
