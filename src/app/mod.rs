//! The inspector: a full-screen terminal UI on a live session.
//!
//! Data flows one way. Terminal events (keys, resizes) and session events
//! (answers, data, trace lines) go into `App`, which routes them to its
//! components; their updates change plain state and return `Effect`s
//! (commands for the session, or leaving) for `crate::event_loop`.
//! `crate::ui` draws the state and changes nothing. `app` never imports
//! `ui`: what both need to agree on (the layout) lives in `layout`.

pub mod commit;
pub mod connection;
pub(crate) mod dups;
pub mod filter;
pub(crate) mod header_loader;
pub mod help;
pub mod hints;
pub mod keymap;
pub mod layout;
pub mod list;
mod marking;
pub mod prompt;
mod prompting;
pub mod reconnect;
pub mod row;
pub mod saving;
pub mod senders;
mod session_events;
pub mod sort;
pub mod tickets;
pub(crate) mod trace_pane;
pub(crate) mod trace_view;
pub mod viewer;

use crate::mailbox::{ListingPlan, Offer};
use crate::pop3::client::{Command, Outcome, Priority};
use crate::query::{DEFAULT_BIG_THRESHOLD, MatchContext};
use crate::session::driver::SessionEvent;
use commit::{Closed, Commit, Stage};
use connection::ConnectionPanel;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use filter::Filter;
use header_loader::HeaderLoader;
use help::Help;
use hints::Hint;
use keymap::{Action, Context};
use layout::{Regions, Shown};
use list::MessageList;
use prompt::Prompt;
use ratatui::layout::Rect;
use senders::{SenderIndex, SendersView};
use std::path::PathBuf;
use tickets::{Purpose, Tickets};
use trace_pane::TracePane;
use viewer::Viewer;

pub use commit::ExitReport;
pub use list::{Headers, MessageRow};

/// Something the event loop must do for the app.
#[derive(Debug)]
pub enum Effect {
    Submit {
        ticket: u64,
        command: Command,
        priority: Priority,
    },
    /// Leave now. The session is dropped without QUIT unless one was
    /// already answered.
    Exit,
    /// Write the trace to a file (`App::save_trace`).
    SaveTrace,
    /// Drop the lost session without QUIT and open a new one with the same
    /// settings; then `App::reconnected` or `App::reconnect_failed`.
    Reconnect,
    /// Copy the marked messages into a Maildir; the end goes to
    /// `App::backup_finished`.
    Backup(commit::BackupJob),
    /// Save one message as an `.eml` file; the end goes to
    /// `App::message_saved`.
    SaveMessage(saving::SaveJob),
    /// Save many messages into a Maildir or mbox; the end goes to
    /// `App::many_saved`.
    SaveMany(saving::SaveManyJob),
}

/// What a component's update asks for: effects, and perhaps a line for the
/// activity bar.
#[derive(Debug, Default)]
#[must_use]
pub struct Update {
    pub effects: Vec<Effect>,
    pub say: Option<String>,
}

impl Update {
    pub fn effects(effects: Vec<Effect>) -> Update {
        Update { effects, say: None }
    }

    pub fn say(effects: Vec<Effect>, said: String) -> Update {
        Update {
            effects,
            say: Some(said),
        }
    }
}

/// Where the session stands, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Open,
    /// Lost: the UI stays, read-only, with what it had.
    Lost(String),
    /// QUIT was answered or the person left.
    Closed,
}

/// Facts about the connection for the status bar and the listing plan.
#[derive(Debug, Clone)]
pub struct ConnectionFacts {
    pub server: String,
    pub security: String,
    pub verified: bool,
    /// The server is the embedded demo (the status bar says so).
    pub demo: bool,
    pub top: Offer,
    pub uidl: Offer,
    /// Commands the session keeps in flight (1 = lockstep).
    pub window: usize,
}

pub struct App {
    pub facts: ConnectionFacts,
    /// Terminal size, as last reported; layout is derived from it.
    pub screen: (u16, u16),
    pub link: Link,
    pub activity: String,
    pub list: MessageList,
    pub header_loader: HeaderLoader,
    pub viewer: Option<Viewer>,
    pub trace: TracePane,
    pub connection: ConnectionPanel,
    pub help: Help,
    pub commit: Commit,
    /// The line being typed: a search, a limit, a pattern mark, a number.
    pub prompt: Option<Prompt>,
    /// The directory the last save went to (`.` at first).
    pub save_dir: PathBuf,
    /// `W` under way.
    pub saving: Option<saving::RunningSave>,
    /// The search `n`/`N` step through, its matches highlighted.
    pub search: Option<Filter>,
    /// The senders view, when open.
    pub senders: Option<SendersView>,
    pub sender_index: SenderIndex,
    /// A count typed before a key (`5d`, `20j`, `123 Enter`).
    pub count: Option<u32>,
    /// `big` and the flags column's big flag: larger than this.
    pub big_threshold: u64,
    /// Whether the screen may use colour (not with `NO_COLOR`, `--color
    /// never` or a dumb terminal).
    pub colour: bool,
    /// The preview was hidden (`p`): the list gets its rows. Kept until
    /// `p` again, whatever else is opened and closed.
    pub preview_hidden: bool,
    plan: ListingPlan,
    /// STAT's message count: LIST may list no more.
    announced: Option<u32>,
    pub reconnect: reconnect::Reconnect,
    /// The latest thing the listing had to tell the person (a bad UIDL
    /// line, no TOP): progress messages do not overwrite it.
    listing_notice: Option<String>,
    tickets: Tickets,
}

impl App {
    pub fn new(facts: ConnectionFacts, screen: (u16, u16)) -> App {
        App {
            plan: ListingPlan::new(facts.uidl, facts.top),
            announced: None,
            reconnect: reconnect::Reconnect::default(),
            facts,
            screen,
            link: Link::Open,
            activity: "listing messages…".into(),
            list: MessageList::default(),
            header_loader: HeaderLoader::default(),
            viewer: None,
            trace: TracePane::default(),
            connection: ConnectionPanel::default(),
            help: Help::default(),
            commit: Commit::new(PathBuf::from("popscope-backup")),
            save_dir: PathBuf::from("."),
            saving: None,
            prompt: None,
            search: None,
            senders: None,
            sender_index: SenderIndex::default(),
            count: None,
            big_threshold: DEFAULT_BIG_THRESHOLD,
            colour: true,
            preview_hidden: false,
            listing_notice: None,
            tickets: Tickets::default(),
        }
    }

    /// The first commands: STAT, LIST and UIDL, pipelined.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = vec![
            self.tickets.submit(Purpose::Stat, Priority::Urgent),
            self.tickets.submit(Purpose::List, Priority::Urgent),
        ];
        if self.plan.asks_uidl() {
            effects.push(self.tickets.submit(Purpose::Uidl, Priority::Urgent));
        }
        effects
    }

    /// Where keys go.
    pub fn context(&self) -> Context {
        match &self.commit.dialog {
            Some(dialog) if dialog.discarding => Context::Discard,
            Some(_) => Context::Confirm,
            None if self.commit.backup.is_some() || self.saving.is_some() => Context::Backup,
            None if self.help.open => Context::Help,
            None if self.connection.open => Context::Connection,
            None if self.prompt.is_some() => Context::Prompt,
            None => self.pane_context(),
        }
    }

    /// The pane that has the focus, under any dialog.
    fn pane_context(&self) -> Context {
        if self.trace.focused() {
            Context::Trace
        } else if self.viewer.is_some() {
            Context::Message
        } else if self.senders.is_some() {
            Context::Senders
        } else if self.list.visual.is_some() {
            Context::Visual
        } else {
            Context::List
        }
    }

    /// The hint bar for the current situation.
    pub fn hint(&self) -> Hint {
        match (&self.link, self.commit.stage()) {
            (Link::Lost(_), _) => hints::CONNECTION_LOST,
            (_, Stage::BackingUp) => hints::BACKING_UP,
            (_, Stage::Deleting | Stage::Quitting { .. }) => hints::COMMITTING,
            _ => match self.context() {
                Context::Confirm => hints::CONFIRM,
                Context::Backup => hints::SAVING,
                Context::Discard => hints::DISCARD,
                Context::Prompt => hints::PROMPT,
                Context::Trace => hints::TRACE,
                Context::Help => hints::HELP,
                _ => match self.pane_context() {
                    Context::Message => hints::MESSAGE,
                    Context::Senders => hints::SENDERS,
                    Context::Visual => hints::VISUAL,
                    _ => hints::LIST,
                },
            },
        }
    }

    /// What queries are judged with now: the clock and the big threshold.
    pub(crate) fn match_context(&self) -> MatchContext {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        MatchContext {
            now,
            big_threshold: self.big_threshold,
        }
    }

    /// Whether headers are still loading (more will come).
    pub(crate) fn headers_coming(&self) -> bool {
        let (loaded, total) = self.headers_progress();
        loaded < total && self.link == Link::Open
    }

    /// The search as it stands: the one being typed, or the last one.
    pub(crate) fn search_filter(&self) -> Option<&Filter> {
        match &self.prompt {
            Some(p) if p.kind == prompt::PromptKind::Search => p.filter(),
            _ => self.search.as_ref(),
        }
    }

    /// Marked messages and their total size.
    pub fn marked(&self) -> (usize, u64) {
        self.list.marked()
    }

    /// Header blocks loaded, of how many (0 when the server has no TOP).
    pub fn headers_progress(&self) -> (usize, usize) {
        let total = if self.plan.asks_top() { self.list.rows.len() } else { 0 };
        (self.header_loader.loaded(), total)
    }

    // ---- layout -----------------------------------------------------

    pub fn shown(&self) -> Shown {
        let (loaded, total) = self.headers_progress();
        Shown {
            trace: self.trace.visible,
            preview: !self.preview_hidden,
            message: self.viewer.is_some(),
            senders: self.senders.is_some() && self.viewer.is_none(),
            headers_gauge: total > 0 && loaded < total,
            retr_gauge: self.viewer.as_ref().is_some_and(|v| !v.done),
        }
    }

    /// Regions for the terminal size the app last saw.
    pub fn regions(&self) -> Regions {
        self.regions_in(layout::screen_area(self.screen))
    }

    pub(crate) fn regions_in(&self, area: Rect) -> Regions {
        layout::regions(area, self.shown())
    }

    /// Message rows the list can show at once.
    pub fn list_rows_visible(&self) -> usize {
        layout::list_table_rows(&self.regions(), self.shown())
    }

    fn message_text_width(&self) -> usize {
        layout::message_text_width(self.screen)
    }

    pub fn resize(&mut self, width: u16, height: u16) -> Vec<Effect> {
        self.screen = (width, height);
        let text_width = self.message_text_width();
        if let Some(v) = self.viewer.as_mut() {
            v.layout(text_width);
        }
        self.list.keep_selection_visible(self.list_rows_visible());
        let (rows, groups) = (self.senders_rows_visible(), self.senders_len());
        if let Some(view) = self.senders.as_mut() {
            view.keep_visible(rows, groups);
        }
        self.pump_headers()
    }

    // ---- keys -------------------------------------------------------

    /// A key press: an action from the key map, a digit of a count, or
    /// text for the prompt.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        if let Some(effects) = self.text_input(key) {
            return effects;
        }
        let context = self.context();
        match keymap::lookup(context, key) {
            Some(Action::Count) => match key.code {
                KeyCode::Char(digit) => self.count_digit(digit),
                _ => vec![],
            },
            Some(action) => self.handle_action(action),
            None if context == Context::Prompt => match key.code {
                KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                    self.prompt_typed(c)
                }
                _ => vec![],
            },
            None => vec![],
        }
    }

    pub fn handle_action(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Count {
            // Only a key event says which digit.
            return vec![];
        }
        let count = self.count.take();
        match self.context() {
            _ if action == Action::Interrupt => return self.interrupt("interrupted with Ctrl-C"),
            Context::Confirm | Context::Discard => {
                let shown = layout::dialog_subject_rows(self.screen);
                let update = self.commit.dialog_action(action, &self.list, &mut self.tickets, shown);
                return self.apply(update);
            }
            Context::Prompt => return self.prompt_action(action),
            Context::Backup => return self.copy_action(action),
            _ => {}
        }
        match action {
            Action::Help => {
                self.help.toggle();
                return vec![];
            }
            Action::ToggleTrace => {
                self.trace.toggle();
                self.list.keep_selection_visible(self.list_rows_visible());
                return self.pump_headers();
            }
            Action::FocusTrace => {
                self.trace.toggle_focus();
                return vec![];
            }
            Action::ToggleConnection => {
                self.connection.toggle();
                return vec![];
            }
            Action::Reconnect => return self.reconnect(),
            Action::SaveMessage | Action::SaveAttachment | Action::NextAttachment | Action::SaveMarked => {
                return self.save_action(action);
            }
            _ => {}
        }
        match self.context() {
            Context::Help => {
                let lines = help::help_lines().len();
                let rows = layout::help_rows(layout::screen_area(self.screen), lines);
                self.help.act(action, lines.saturating_sub(rows));
                vec![]
            }
            Context::Connection => {
                self.connection.act(action);
                vec![]
            }
            Context::Trace => {
                let update = self.trace.act(action, layout::trace_rows(&self.regions()));
                self.trace_update(update)
            }
            Context::Message => self.message_action(action),
            Context::Senders => self.senders_action(action, count),
            Context::Visual => self.visual_action(action, count),
            _ => self.list_action(action, count),
        }
    }

    fn list_action(&mut self, action: Action, count: Option<u32>) -> Vec<Effect> {
        if !self.commit.is_idle()
            && matches!(
                action,
                Action::Quit
                    | Action::Mark
                    | Action::Unmark
                    | Action::UnmarkAll
                    | Action::Open
                    | Action::Visual
                    | Action::MarkMatching
                    | Action::MarkShown
                    | Action::Senders
            )
        {
            self.activity = Commit::busy_notice();
            return vec![];
        }
        let page = self.list_rows_visible().max(1);
        match (action, count) {
            (Action::Open | Action::Last, Some(number)) => self.go_to(number),
            (Action::Open, None) => return self.open_selected(),
            (Action::Mark, _) => self.mark_run(true, count),
            (Action::Unmark, _) => self.mark_run(false, count),
            (Action::UnmarkAll, _) => {
                self.list.unmark_all();
                self.activity = "all marks removed".into();
            }
            (Action::Visual, _) => self.start_visual(),
            (Action::MarkShown, _) => self.mark_shown(),
            (Action::SortNext | Action::SortReverse | Action::SortBiggest, _) => {
                self.activity = match action {
                    Action::SortNext => self.list.sort_next(),
                    Action::SortReverse => self.list.reverse_sort(),
                    _ => self.list.sort_by(sort::SortKey::Size, true),
                };
                if action == Action::SortBiggest {
                    // Asked for the biggest: show them, not the old selection.
                    self.list.selected = 0;
                }
                self.header_loader.restart_sweep();
            }
            (Action::SearchPrompt, _) => return self.open_prompt(prompt::PromptKind::Search),
            (Action::LimitPrompt, _) => return self.open_prompt(prompt::PromptKind::Limit),
            (Action::MarkMatching, _) => return self.open_prompt(prompt::PromptKind::Mark),
            (Action::GotoPrompt, _) => return self.open_prompt(prompt::PromptKind::Goto),
            (Action::SearchNext | Action::SearchPrevious, _) => {
                self.search_step(action == Action::SearchNext, count.unwrap_or(1) as usize);
            }
            (Action::ClearSearch, _) => {
                if self.search.take().is_some() {
                    self.activity = "search cleared".into();
                }
            }
            (Action::Senders, _) => return self.open_senders(),
            (Action::TogglePreview, _) => {
                self.preview_hidden = !self.preview_hidden;
                let key = keymap::keys_for(Context::List, Action::TogglePreview);
                self.activity = if self.preview_hidden {
                    format!("preview hidden ({key} shows it)")
                } else {
                    "preview shown".into()
                };
            }
            (Action::Quit, _) => {
                let update = self.commit.quit(&self.list, self.link == Link::Open, &mut self.tickets);
                return self.apply(update);
            }
            _ if self.list.move_selection(action, page, count.unwrap_or(1) as usize) => {}
            _ => return vec![],
        }
        self.list.keep_selection_visible(page);
        self.pump_headers()
    }

    /// Marks the message being viewed, or the selected one (and moves on).
    fn set_mark(&mut self, on: bool) {
        if !self.commit.is_idle() {
            return;
        }
        let index = match &self.viewer {
            Some(v) => self.list.row_index(v.number),
            None => self.list.selected_index(),
        };
        if let Some(i) = index {
            self.activity = self.list.set_mark(i, on);
            if on && self.viewer.is_none() {
                self.list.select_next();
            }
        }
    }

    fn message_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Back => {
                self.viewer = None;
                return self.pump_headers();
            }
            Action::Mark => self.set_mark(true),
            Action::Unmark => self.set_mark(false),
            _ => {}
        }
        let rows = layout::message_text_rows(&self.regions(), self.shown());
        let width = self.message_text_width();
        let Some(v) = self.viewer.as_mut() else { return vec![] };
        if action == Action::ToggleRaw {
            v.toggle_raw(width);
        } else {
            v.scroll(action, rows);
        }
        vec![]
    }

    fn open_selected(&mut self) -> Vec<Effect> {
        let Some(row) = self.list.selected_row() else {
            return vec![];
        };
        let (number, total) = (row.number, row.size);
        if self.link != Link::Open {
            self.activity = "the connection is gone: messages can no longer be retrieved".into();
            return vec![];
        }
        let purpose = Purpose::Retr {
            msg: number,
            listed_size: total,
        };
        let (ticket, effect) = self.tickets.issue(purpose, Priority::Urgent);
        self.viewer = Some(Viewer::new(number, ticket, total));
        self.activity = format!("retrieving message {number}…");
        vec![effect]
    }

    /// Leaves without QUIT: the server deletes nothing.
    pub(crate) fn interrupt(&mut self, why: &str) -> Vec<Effect> {
        self.commit.interrupt(why)
    }

    pub(crate) fn scroll_wheel(&mut self, down: bool) -> Vec<Effect> {
        let action = if down { Action::Down } else { Action::Up };
        let mut effects = Vec::new();
        for _ in 0..3 {
            effects.extend(self.handle_action(action));
        }
        effects
    }

    /// Idle keep-alive: some providers drop sessions idle for 60 s.
    pub(crate) fn keepalive(&mut self) -> Vec<Effect> {
        if self.link == Link::Open && self.commit.is_idle() {
            vec![self.tickets.submit(Purpose::Noop, Priority::Normal)]
        } else {
            vec![]
        }
    }

    pub(super) fn apply(&mut self, update: Update) -> Vec<Effect> {
        if let Some(said) = update.say {
            self.activity = said;
        }
        update.effects
    }

    /// Asks for the headers of the rows on screen, then of the rows the
    /// query in view cannot judge yet, then of the rest.
    pub(crate) fn pump_headers(&mut self) -> Vec<Effect> {
        if !self.plan.asks_top() || self.link != Link::Open || !self.commit.is_idle() {
            return vec![];
        }
        let height = if self.shown().senders {
            0
        } else {
            self.list_rows_visible()
        };
        let window = self.facts.window;
        let typed = self.prompt.as_ref().and_then(Prompt::filter);
        let loading = self.list.for_loading(height);
        let first = typed.or(loading.limit).or(self.search.as_ref());
        self.header_loader.pump(loading, first, window, &mut self.tickets)
    }

    // ---- session events ---------------------------------------------

    pub fn handle_session_event(&mut self, event: SessionEvent) -> Vec<Effect> {
        match event {
            SessionEvent::Data { ticket, chunk } => {
                if let Some(v) = self.viewer.as_mut()
                    && v.ticket == ticket
                {
                    v.data(&chunk);
                }
                vec![]
            }
            SessionEvent::Completed { ticket, outcome, .. } => match self.tickets.answered(ticket) {
                Some(purpose) => self.completed(ticket, purpose, outcome),
                None => vec![],
            },
            SessionEvent::Closed(failure) => self.connection_closed(failure.map(|f| f.to_string())),
        }
    }

    fn completed(&mut self, ticket: u64, purpose: Purpose, outcome: Outcome) -> Vec<Effect> {
        match purpose {
            Purpose::Stat => self.counted(outcome),
            Purpose::List => self.listed(outcome),
            Purpose::Uidl => {
                // An error means the connection ended; its Closed event
                // says so.
                if let Ok(uids) = self.plan.apply_uidl(outcome) {
                    if let Some(notice) = uids.notice() {
                        self.tell(notice);
                    }
                    if self.list.apply_uids(uids) {
                        self.rejudge_all();
                    }
                    self.restore_marks();
                }
                vec![]
            }
            Purpose::Top(n) => self.top_answered(n, outcome),
            Purpose::Retr { .. } => {
                let width = self.message_text_width();
                if let Some(v) = self.viewer.as_mut()
                    && v.ticket == ticket
                    && let Some(said) = v.completed(outcome, width)
                {
                    self.activity = said;
                }
                vec![]
            }
            Purpose::Dele(n) => {
                let update = self.commit.dele_answered(n, outcome, &mut self.tickets);
                self.apply(update)
            }
            Purpose::Noop => {
                if outcome.is_ok() {
                    self.keepalive_answered();
                }
                vec![]
            }
            Purpose::Rset => vec![],
            Purpose::Quit { commit } => {
                self.link = Link::Closed;
                self.commit.quit_answered(commit, outcome)
            }
        }
    }

    fn connection_closed(&mut self, reason: Option<String>) -> Vec<Effect> {
        let reason = reason.unwrap_or_else(|| "the server closed the connection".into());
        match self.commit.connection_closed(&reason) {
            Closed::Leave(effects) => return effects,
            Closed::CommitCancelled(said) => {
                self.activity = said;
                self.link = Link::Lost(reason);
                return vec![];
            }
            Closed::NotCommitting => {}
        }
        if self.link == Link::Open && self.commit.report.is_none() {
            return self.lost(reason);
        }
        vec![]
    }
}

#[cfg(test)]
mod tests;
