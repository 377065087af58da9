//! The hint bar: which keys to suggest in which situation. Each hint names
//! (context, action, short text); the key shown is the one the key map
//! binds, so a hint cannot advertise a key that does something else.

use super::keymap::{Action, Context, keys_for};

/// One hint bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    /// Words before the keys (a state), with their own separator.
    pub lead: &'static str,
    pub keys: &'static [(Context, Action, &'static str)],
}

impl Hint {
    /// " KEY text · KEY text ", as drawn.
    pub fn text(&self) -> String {
        self.text_of(self.keys.len())
    }

    /// As many of the keys as fit in `width` columns, whole, from the
    /// first (the lead always stays).
    pub(crate) fn text_within(&self, width: usize) -> String {
        (0..=self.keys.len())
            .rev()
            .map(|n| self.text_of(n))
            .find(|text| text.chars().count() <= width)
            .unwrap_or_default()
    }

    fn text_of(&self, keys: usize) -> String {
        let lead = if keys == 0 {
            self.lead.trim_end_matches([' ', '·'])
        } else {
            self.lead
        };
        let keys: Vec<String> = self.keys[..keys]
            .iter()
            .map(|&(context, action, text)| format!("{} {text}", keys_for(context, action)))
            .collect();
        format!(" {lead}{} ", keys.join(" · "))
    }
}

pub const LIST: Hint = Hint {
    lead: "",
    keys: &[
        (Context::List, Action::Open, "open"),
        (Context::List, Action::Mark, "mark"),
        (Context::Global, Action::ToggleTrace, "trace"),
        (Context::Global, Action::Help, "help"),
        (Context::List, Action::Quit, "quit"),
    ],
};

pub const MESSAGE: Hint = Hint {
    lead: "",
    keys: &[
        (Context::Message, Action::ToggleRaw, "raw"),
        (Context::Message, Action::Mark, "mark"),
        (Context::Message, Action::Back, "back"),
        (Context::Global, Action::Help, "help"),
    ],
};

pub(crate) const TRACE: Hint = Hint {
    lead: "",
    keys: &[
        (Context::Trace, Action::Open, "expand"),
        (Context::Trace, Action::TraceSearch, "search"),
        (Context::Trace, Action::TraceFilter, "filter"),
        (Context::Trace, Action::TraceSave, "save"),
        (Context::Trace, Action::Back, "back"),
    ],
};

/// The help screen is open.
pub(crate) const HELP: Hint = Hint {
    lead: "help · ",
    keys: &[
        (Context::Help, Action::Down, "down"),
        (Context::Help, Action::Up, "up"),
        (Context::Help, Action::Back, "close"),
    ],
};

pub(crate) const CONFIRM: Hint = Hint {
    lead: "",
    keys: &[
        (Context::Confirm, Action::ConfirmCommit, "delete"),
        (Context::Confirm, Action::ConfirmCancel, "back"),
        (Context::Confirm, Action::ConfirmKeep, "keep all"),
        (Context::Confirm, Action::ConfirmBackup, "back up first"),
    ],
};

pub(crate) const DISCARD: Hint = Hint {
    lead: "",
    keys: &[
        (Context::Discard, Action::ConfirmDiscard, "discard the marks and quit"),
        (Context::Discard, Action::ConfirmCancel, "back"),
    ],
};

pub(crate) const PROMPT: Hint = Hint {
    lead: "",
    keys: &[
        (Context::Prompt, Action::PromptAccept, "ok"),
        (Context::Prompt, Action::Back, "cancel"),
    ],
};

pub(crate) const VISUAL: Hint = Hint {
    lead: "visual · ",
    keys: &[
        (Context::Visual, Action::MarkRange, "mark"),
        (Context::Visual, Action::UnmarkRange, "unmark"),
        (Context::Visual, Action::Back, "cancel"),
    ],
};

pub(crate) const SENDERS: Hint = Hint {
    lead: "",
    keys: &[
        (Context::Senders, Action::LimitToGroup, "limit"),
        (Context::Senders, Action::MarkGroup, "mark all"),
        (Context::Senders, Action::SortGroups, "count/size"),
        (Context::Senders, Action::ToggleGrouping, "address/domain"),
        (Context::Senders, Action::Back, "back"),
    ],
};

pub(crate) const CONNECTION_LOST: Hint = Hint {
    lead: "read-only · ",
    keys: &[
        (Context::Global, Action::Reconnect, "reconnect"),
        (Context::Global, Action::ToggleTrace, "trace"),
        (Context::Global, Action::Help, "help"),
        (Context::List, Action::Quit, "quit"),
    ],
};

pub(crate) const BACKING_UP: Hint = Hint {
    lead: "backing up before deleting… ",
    keys: &[
        (Context::Backup, Action::CancelBackup, "cancel (nothing is deleted)"),
        (Context::Global, Action::Interrupt, "leaves without QUIT"),
    ],
};

pub(crate) const SAVING: Hint = Hint {
    lead: "saving… ",
    keys: &[(Context::Backup, Action::CancelBackup, "cancel")],
};

pub(crate) const COMMITTING: Hint = Hint {
    lead: "committing… ",
    keys: &[(Context::Global, Action::Interrupt, "leaves without QUIT")],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::BINDINGS;

    #[test]
    fn a_narrow_hint_drops_whole_keys_from_the_end() {
        let full = LIST.text();
        assert_eq!(LIST.text_within(full.chars().count()), full);
        assert_eq!(LIST.text_within(40), " Enter open · d mark · t trace · ? help ");
        assert_eq!(LIST.text_within(39), " Enter open · d mark · t trace ");
        assert_eq!(VISUAL.text_within(12), " visual ");
        assert_eq!(VISUAL.text_within(3), "");
    }

    const ALL: [Hint; 13] = [
        LIST,
        MESSAGE,
        TRACE,
        HELP,
        CONFIRM,
        DISCARD,
        PROMPT,
        VISUAL,
        SENDERS,
        CONNECTION_LOST,
        COMMITTING,
        BACKING_UP,
        SAVING,
    ];

    /// Reads the drawn hint back: each "KEY text" must name a key that the
    /// key map binds to that action in that context.
    #[test]
    fn every_hint_names_a_key_bound_to_its_action() {
        for hint in ALL {
            let drawn = hint.text();
            let mut rest = drawn.trim().strip_prefix(hint.lead.trim_end()).unwrap_or(drawn.trim());
            for &(context, action, text) in hint.keys {
                rest = rest.trim_start().trim_start_matches('·').trim_start();
                let shown = rest
                    .split(&format!(" {text}"))
                    .next()
                    .unwrap_or_else(|| panic!("{drawn:?} lacks {text:?}"));
                let bound = BINDINGS
                    .iter()
                    .any(|b| b.context == context && b.action == action && b.keys.iter().any(|k| k.label() == shown));
                assert!(bound, "{drawn:?}: {shown:?} is not bound to {action:?} in {context:?}");
                rest = &rest[shown.len() + 1 + text.len()..];
            }
            assert!(rest.trim().is_empty(), "{drawn:?}: left over {rest:?}");
        }
    }

    #[test]
    fn hints_read_as_before() {
        assert_eq!(LIST.text(), " Enter open · d mark · t trace · ? help · q quit ");
        assert_eq!(MESSAGE.text(), " r raw · d mark · Esc back · ? help ");
        assert_eq!(CONFIRM.text(), " y delete · n back · K keep all · b back up first ");
        assert_eq!(DISCARD.text(), " y discard the marks and quit · n back ");
        assert_eq!(VISUAL.text(), " visual · d mark · u unmark · Esc cancel ");
        assert_eq!(TRACE.text(), " Enter expand · / search · f filter · w save · q back ");
        assert_eq!(HELP.text(), " help · j down · k up · Esc close ");
        assert_eq!(
            CONNECTION_LOST.text(),
            " read-only · R reconnect · t trace · ? help · q quit "
        );
        assert_eq!(COMMITTING.text(), " committing… Ctrl-C leaves without QUIT ");
    }
}
