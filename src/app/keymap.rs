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
    /// A visual selection in the list (moving keys of the list extend it).
    Visual,
    /// The senders view.
    Senders,
    /// A prompt being typed (search, limit, pattern mark, message number).
    Prompt,
    /// The commit confirmation.
    Confirm,
    /// "Discard N marks?", after `K` in the confirmation.
    Discard,
    /// The backup before deleting is under way (its gauge is shown).
    Backup,
    /// The help screen, over whatever was shown.
    Help,
    /// The connection panel, over whatever was shown.
    Connection,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Message list",
            Context::Message => "Message view",
            Context::Trace => "Trace pane (Tab to focus)",
            Context::Visual => "Visual selection (after v; the list's moving keys extend it)",
            Context::Senders => "Senders view",
            Context::Prompt => "Prompts (/ search, l limit, D mark matching, : message number)",
            Context::Confirm => "Commit confirmation",
            Context::Discard => "Discard question (K with more than 5 marks)",
            Context::Backup => "Copying messages (b in the confirmation, W)",
            Context::Help => "Help screen",
            Context::Connection => "Connection panel",
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
    SortBiggest,
    /// A digit of a count prefix (the key event says which).
    Count,
    GotoPrompt,
    SaveMessage,
    SaveMarked,
    NextAttachment,
    SaveAttachment,
    SearchPrompt,
    SearchNext,
    SearchPrevious,
    ClearSearch,
    LimitPrompt,
    MarkMatching,
    MarkShown,
    Visual,
    MarkRange,
    UnmarkRange,
    Senders,
    LimitToGroup,
    MarkGroup,
    SortGroups,
    ToggleGrouping,
    PromptAccept,
    PromptDelete,
    PromptClear,
    ToggleRaw,
    TogglePreview,
    ToggleTrace,
    FocusTrace,
    Help,
    Quit,
    Interrupt,
    ConfirmCommit,
    ConfirmCancel,
    ConfirmKeep,
    ConfirmDiscard,
    ConfirmBackup,
    CancelBackup,
    TraceSearch,
    TraceSearchNext,
    TraceSearchPrevious,
    TraceFilter,
    TraceSave,
    ToggleConnection,
    Reconnect,
}

/// A key as written in the help screen and matched against events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
    /// Any of 0-9.
    Digit,
}

impl Key {
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Digit => "0-9".into(),
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
            Key::Digit => {
                matches!(event.code, KeyCode::Char('0'..='9'))
                    && !event.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            }
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
use Context::{Confirm, Discard, Global, List, Message, Prompt, Senders, Trace, Visual};
use Key::{Char, Code, Ctrl, Digit};

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
        keys: &[Char('i')],
        action: ToggleConnection,
        help: "show or hide the connection panel (TLS, timings)",
    },
    Binding {
        context: Global,
        keys: &[Char('R')],
        action: Reconnect,
        help: "reconnect when lost (marks kept by UID; deletes nothing)",
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
        keys: &[Digit],
        action: Count,
        help: "count before a key (5d, 20j); N Enter: go to message N",
    },
    Binding {
        context: List,
        keys: &[Char(':')],
        action: GotoPrompt,
        help: "go to a message number (:N Enter)",
    },
    Binding {
        context: List,
        keys: &[Char('s')],
        action: SaveMessage,
        help: "save the message as .eml, byte for byte",
    },
    Binding {
        context: List,
        keys: &[Char('W')],
        action: SaveMarked,
        help: "save the marked (or all shown) into a Maildir or .mbox",
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
        keys: &[Char('v')],
        action: Action::Visual,
        help: "visual selection: move to extend it, then d or u",
    },
    Binding {
        context: List,
        keys: &[Char('D')],
        action: MarkMatching,
        help: "mark all messages matching a query (whole maildrop)",
    },
    Binding {
        context: List,
        keys: &[Char('M')],
        action: MarkShown,
        help: "mark every message of the limited list",
    },
    Binding {
        context: List,
        keys: &[Char('U')],
        action: UnmarkAll,
        help: "unmark everything",
    },
    Binding {
        context: List,
        keys: &[Char('/')],
        action: SearchPrompt,
        help: "search as you type (a query); matches are highlighted",
    },
    Binding {
        context: List,
        keys: &[Char('n')],
        action: SearchNext,
        help: "next match of the search",
    },
    Binding {
        context: List,
        keys: &[Char('N')],
        action: SearchPrevious,
        help: "previous match of the search",
    },
    Binding {
        context: List,
        keys: &[Code(KeyCode::Esc)],
        action: ClearSearch,
        help: "clear the search and a count",
    },
    Binding {
        context: List,
        keys: &[Char('l')],
        action: LimitPrompt,
        help: "limit the list to a query (empty or Esc: all)",
    },
    Binding {
        context: List,
        keys: &[Char('o')],
        action: SortNext,
        help: "sort by number → date → size → sender → subject",
    },
    Binding {
        context: List,
        keys: &[Char('O')],
        action: SortReverse,
        help: "reverse the sort order",
    },
    Binding {
        context: List,
        keys: &[Char('B')],
        action: SortBiggest,
        help: "biggest first: sort by size, descending, from the top",
    },
    Binding {
        context: List,
        keys: &[Char('S')],
        action: Action::Senders,
        help: "senders view: who sends how much",
    },
    Binding {
        context: List,
        keys: &[Char('p')],
        action: TogglePreview,
        help: "show or hide the preview (the list gets its rows)",
    },
    Binding {
        context: List,
        keys: &[Char('q')],
        action: Quit,
        help: "quit (asks first when messages are marked)",
    },
    Binding {
        context: Visual,
        keys: &[Char('d')],
        action: MarkRange,
        help: "mark every message of the selection",
    },
    Binding {
        context: Visual,
        keys: &[Char('u')],
        action: UnmarkRange,
        help: "unmark every message of the selection",
    },
    Binding {
        context: Visual,
        keys: &[Code(KeyCode::Esc), Char('v')],
        action: Back,
        help: "end the selection, marking nothing",
    },
    Binding {
        context: Senders,
        keys: &[Char('j'), Code(KeyCode::Down)],
        action: Down,
        help: "next sender",
    },
    Binding {
        context: Senders,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "previous sender",
    },
    Binding {
        context: Senders,
        keys: &[Code(KeyCode::PageDown), Ctrl('f')],
        action: PageDown,
        help: "page down",
    },
    Binding {
        context: Senders,
        keys: &[Code(KeyCode::PageUp), Ctrl('b')],
        action: PageUp,
        help: "page up",
    },
    Binding {
        context: Senders,
        keys: &[Char('g'), Code(KeyCode::Home)],
        action: First,
        help: "first sender",
    },
    Binding {
        context: Senders,
        keys: &[Char('G'), Code(KeyCode::End)],
        action: Last,
        help: "last sender",
    },
    Binding {
        context: Senders,
        keys: &[Code(KeyCode::Enter)],
        action: LimitToGroup,
        help: "limit the list to this sender's messages",
    },
    Binding {
        context: Senders,
        keys: &[Char('D')],
        action: MarkGroup,
        help: "mark every message of this sender (headers loaded)",
    },
    Binding {
        context: Senders,
        keys: &[Char('o')],
        action: SortGroups,
        help: "rank by count / by size",
    },
    Binding {
        context: Senders,
        keys: &[Char('a')],
        action: ToggleGrouping,
        help: "group by address / by domain",
    },
    Binding {
        context: Senders,
        keys: &[Code(KeyCode::Esc), Char('q'), Char('S')],
        action: Back,
        help: "back to the list",
    },
    Binding {
        context: Prompt,
        keys: &[Code(KeyCode::Enter)],
        action: PromptAccept,
        help: "do it (an empty limit shows every message)",
    },
    Binding {
        context: Prompt,
        keys: &[Code(KeyCode::Esc)],
        action: Back,
        help: "cancel (in the limit prompt: show the whole list)",
    },
    Binding {
        context: Prompt,
        keys: &[Code(KeyCode::Backspace)],
        action: PromptDelete,
        help: "delete the last character",
    },
    Binding {
        context: Prompt,
        keys: &[Ctrl('u')],
        action: PromptClear,
        help: "clear the line",
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
        keys: &[Char('s')],
        action: SaveMessage,
        help: "save as .eml (or the selected attachment)",
    },
    Binding {
        context: Message,
        keys: &[Char('a')],
        action: NextAttachment,
        help: "select the next attachment",
    },
    Binding {
        context: Message,
        keys: &[Code(KeyCode::Enter)],
        action: SaveAttachment,
        help: "save the selected attachment, decoded",
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
        help: "select the next trace line",
    },
    Binding {
        context: Trace,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "select the previous trace line",
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
    // The trace pane's tools and the connection panel (its key is global,
    // above).
    Binding {
        context: Trace,
        keys: &[Code(KeyCode::Enter)],
        action: Open,
        help: "expand or collapse the selected group or line",
    },
    Binding {
        context: Trace,
        keys: &[Char('/')],
        action: TraceSearch,
        help: "search the trace (Enter to find, Esc to cancel)",
    },
    Binding {
        context: Trace,
        keys: &[Char('n')],
        action: TraceSearchNext,
        help: "next match",
    },
    Binding {
        context: Trace,
        keys: &[Char('N')],
        action: TraceSearchPrevious,
        help: "previous match",
    },
    Binding {
        context: Trace,
        keys: &[Char('f')],
        action: TraceFilter,
        help: "filter: all → errors → commands → no bulk groups",
    },
    Binding {
        context: Trace,
        keys: &[Char('w')],
        action: TraceSave,
        help: "save the trace to a file in the current directory",
    },
    Binding {
        context: Context::Connection,
        keys: &[Char('j'), Code(KeyCode::Down)],
        action: Down,
        help: "scroll down",
    },
    Binding {
        context: Context::Connection,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "scroll up",
    },
    Binding {
        context: Context::Connection,
        keys: &[Code(KeyCode::Esc), Char('q'), Char('i')],
        action: Back,
        help: "close the connection panel",
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
        keys: &[Char('K')],
        action: ConfirmKeep,
        help: "quit keeping every message (asks again above 5 marks)",
    },
    Binding {
        context: Confirm,
        keys: &[Char('b')],
        action: ConfirmBackup,
        help: "copy the marked into a Maildir first, then delete",
    },
    Binding {
        context: Confirm,
        keys: &[Char('j'), Code(KeyCode::Down)],
        action: Down,
        help: "scroll the list of messages down",
    },
    Binding {
        context: Confirm,
        keys: &[Char('k'), Code(KeyCode::Up)],
        action: Up,
        help: "scroll the list of messages up",
    },
    Binding {
        context: Confirm,
        keys: &[Code(KeyCode::PageDown), Char(' ')],
        action: PageDown,
        help: "page down",
    },
    Binding {
        context: Confirm,
        keys: &[Code(KeyCode::PageUp)],
        action: PageUp,
        help: "page up",
    },
    Binding {
        context: Context::Backup,
        keys: &[Code(KeyCode::Esc)],
        action: CancelBackup,
        help: "cancel the copy: nothing is deleted, the marks stay",
    },
    Binding {
        context: Discard,
        keys: &[Char('y')],
        action: ConfirmDiscard,
        help: "yes: quit, delete nothing, forget the marks",
    },
    Binding {
        context: Discard,
        keys: &[Char('n'), Code(KeyCode::Esc)],
        action: ConfirmCancel,
        help: "no: back to the confirmation",
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
pub(crate) fn keys_for(context: Context, action: Action) -> String {
    BINDINGS
        .iter()
        .find(|b| b.context == context && b.action == action)
        .and_then(|b| b.keys.first())
        .map_or_else(|| UNBOUND.to_string(), |k| k.label())
}

/// What `keys_for` says for an action without a key.
pub(crate) const UNBOUND: &str = "(unbound)";

/// The action for `event` in `context`. A visual selection also takes
/// the list's moving keys (and a count). Global bindings apply everywhere
/// except where typing or a decision is under way (a prompt, the commit
/// confirmation and its discard question), which know only their own keys
/// and Ctrl-C.
pub(crate) fn lookup(context: Context, event: &KeyEvent) -> Option<Action> {
    let find = |context: Context, allowed: &dyn Fn(Action) -> bool| {
        BINDINGS
            .iter()
            .find(|b| b.context == context && allowed(b.action) && b.keys.iter().any(|k| k.matches(event)))
            .map(|b| b.action)
    };
    let modal = matches!(context, Confirm | Discard | Prompt | Context::Backup);
    find(context, &|_| true)
        .or_else(|| {
            (context == Visual)
                .then(|| find(List, &|a| a.is_movement() || a == Count))
                .flatten()
        })
        .or_else(|| find(Global, &|a| !modal || a == Interrupt))
}

impl Action {
    /// Moves a selection or a scroll position.
    pub(crate) fn is_movement(self) -> bool {
        matches!(self, Up | Down | PageUp | PageDown | First | Last)
    }
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

    /// The dialog's keys cannot be typed by reflex: k moves up everywhere
    /// else, so in the dialog it scrolls; only a shifted K keeps all.
    #[test]
    fn the_confirmation_keys_are_not_reflexes() {
        assert_eq!(lookup(Context::Confirm, &key(KeyCode::Char('k'))), Some(Action::Up));
        let shift_k = KeyEvent::new(KeyCode::Char('K'), KeyModifiers::SHIFT);
        assert_eq!(lookup(Context::Confirm, &shift_k), Some(Action::ConfirmKeep));
        assert_eq!(lookup(Context::Confirm, &key(KeyCode::Char('q'))), None);
        assert_eq!(lookup(Context::Discard, &key(KeyCode::Char('k'))), None);
        assert_eq!(
            lookup(Context::Discard, &key(KeyCode::Char('y'))),
            Some(Action::ConfirmDiscard)
        );
    }

    #[test]
    fn prompts_and_visual_selections_route_keys() {
        for c in ['?', 't', 'q', 'j'] {
            assert_eq!(lookup(Context::Prompt, &key(KeyCode::Char(c))), None, "{c} is text");
        }
        assert_eq!(lookup(Context::Prompt, &key(KeyCode::Esc)), Some(Action::Back));
        assert_eq!(lookup(Context::Visual, &key(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(lookup(Context::Visual, &key(KeyCode::Char('7'))), Some(Action::Count));
        assert_eq!(
            lookup(Context::Visual, &key(KeyCode::Char('d'))),
            Some(Action::MarkRange)
        );
        assert_eq!(
            lookup(Context::Visual, &key(KeyCode::Char('o'))),
            None,
            "no sorting mid-selection"
        );
        assert_eq!(lookup(Context::Visual, &key(KeyCode::Char('?'))), Some(Action::Help));
        assert_eq!(lookup(Context::List, &key(KeyCode::Char('0'))), Some(Action::Count));
        let ctrl_5 = KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Context::List, &ctrl_5), None);
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
        assert_eq!(lookup(Context::Message, &key(KeyCode::Char('/'))), None);
    }

    /// The labels drawn outside the hint bar (whose own test reads it back):
    /// the dialog's buttons, the help and trace titles, the busy notice.
    #[test]
    fn every_label_the_screens_show_is_bound() {
        let shown = [
            (Context::Confirm, Action::ConfirmCommit, "y"),
            (Context::Confirm, Action::ConfirmCancel, "n"),
            (Context::Confirm, Action::ConfirmKeep, "K"),
            (Context::Discard, Action::ConfirmDiscard, "y"),
            (Context::Discard, Action::ConfirmCancel, "n"),
            (Context::Prompt, Action::PromptAccept, "Enter"),
            (Context::Prompt, Action::Back, "Esc"),
            (Context::List, Action::SearchNext, "n"),
            (Context::List, Action::SearchPrevious, "N"),
            (Context::Visual, Action::MarkRange, "d"),
            (Context::Visual, Action::UnmarkRange, "u"),
            (Context::Visual, Action::Back, "Esc"),
            (Context::Senders, Action::LimitToGroup, "Enter"),
            (Context::Senders, Action::MarkGroup, "D"),
            (Context::Senders, Action::SortGroups, "o"),
            (Context::Senders, Action::ToggleGrouping, "a"),
            (Context::Senders, Action::Back, "Esc"),
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
        assert_eq!(keys_for(Context::Confirm, Action::Open), UNBOUND);
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
