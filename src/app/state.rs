//! The inspector's state and how it changes. Plain data and pure updates:
//! keys and session events go in, `Effect`s (commands for the session, or
//! leaving) come out. Drawing reads this state and nothing else.

use super::keymap::{Action, Context};
use crate::headers::HeaderSummary;
use crate::message_view::ParsedMessage;
use crate::pop3::client::{Body, Command, Outcome, Priority};
use crate::pop3::codec::StatusLine;
use crate::pop3::response::{parse_list, parse_uidl};
use crate::session::driver::SessionEvent;
use crate::session::trace::TraceEntry;
use std::collections::{HashMap, VecDeque};

/// Trace lines kept for the trace pane; older ones are dropped.
pub const TRACE_CAPACITY: usize = 5_000;
/// How much of a message is kept for viewing; the rest streams past and is
/// only counted.
pub const PREVIEW_CAP: usize = 2 * 1024 * 1024;
/// TOP requests the app keeps queued in the session at least. The real
/// budget is twice the pipelining window: enough to keep the window full,
/// few enough that a jump reprioritises within one window.
pub const MIN_HEADER_REQUESTS: usize = 50;

/// One message in the list, kept small: 100,000 of these must fit easily.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub number: u32,
    pub size: u64,
    pub uid: Option<Box<str>>,
    pub headers: Headers,
    pub marked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Headers {
    Unknown,
    Requested,
    Loaded(Box<HeaderSummary>),
    Unavailable(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Number,
    Date,
    Size,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Number => "number",
            SortKey::Date => "date",
            SortKey::Size => "size",
        }
    }
}

/// What a ticket (a command submitted by the app) was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    List,
    Uidl,
    Top(u32),
    Retr(u32),
    Dele(u32),
    Noop,
    Quit { commit: bool },
}

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
}

/// The message being viewed.
#[derive(Debug, Clone)]
pub struct MessageScreen {
    pub number: u32,
    pub ticket: u64,
    pub total: u64,
    pub received: u64,
    pub raw: Vec<u8>,
    pub done: bool,
    pub parsed: Option<ParsedMessage>,
    pub error: Option<String>,
    pub show_raw: bool,
    pub scroll: usize,
    /// What the viewer shows, wrapped to the screen. Lines starting with
    /// U+0001 carry a style marker (H header, A attachment, N note); mail
    /// text can never produce U+0001 because sanitizing replaced it.
    pub lines: Vec<String>,
}

impl MessageScreen {
    /// Rebuilds `lines` for `width` columns.
    pub fn layout(&mut self, width: usize) {
        use crate::message_view::{raw_source, wrap_lines};
        self.lines.clear();
        if self.show_raw {
            self.lines = wrap_lines(&raw_source(&self.raw, PREVIEW_CAP), width);
            return;
        }
        let Some(p) = &self.parsed else { return };
        // Long values wrap under themselves, past the 13-column label.
        let value_width = width.saturating_sub(13).max(10);
        for (name, value) in &p.headers {
            for (k, part) in wrap_lines(value, value_width).into_iter().enumerate() {
                let label = if k == 0 { name.as_str() } else { "" };
                self.lines.push(format!("\u{1}H{label}\u{1}{part}"));
            }
        }
        if let Some(note) = &p.parse_note {
            self.lines.push(String::new());
            self.lines
                .extend(wrap_lines(note, width).into_iter().map(|l| format!("\u{1}N{l}")));
        }
        if !p.attachments.is_empty() {
            self.lines.push(String::new());
            for a in &p.attachments {
                self.lines.push(format!(
                    "\u{1}A[attachment] {}  {}  {}",
                    a.name,
                    a.content_type,
                    crate::text::human_size(a.size as u64)
                ));
            }
        }
        self.lines.push(String::new());
        self.lines.extend(wrap_lines(&p.body, width));
    }
}

/// The commit confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub count: usize,
    pub bytes: u64,
    pub subjects: Vec<String>,
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

/// The commit, once confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    Idle,
    /// DELEs sent; waiting for all answers before QUIT.
    Deleting {
        waiting: usize,
        refused: Vec<String>,
    },
    Quitting {
        commit: bool,
    },
}

/// What happened, for the line printed after the screen is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReport {
    NothingDeleted(String),
    /// Left by Ctrl-C, a signal or a vanished terminal, without QUIT.
    Interrupted(String),
    Deleted {
        count: usize,
        bytes: u64,
        server: StatusLine,
    },
    QuitRefused {
        count: usize,
        server: StatusLine,
    },
    Unknown {
        count: usize,
        reason: String,
    },
}

impl std::fmt::Display for ExitReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitReport::NothingDeleted(why) => write!(f, "nothing was deleted ({why})"),
            ExitReport::Interrupted(why) => write!(f, "nothing was deleted ({why}; no QUIT was sent)"),
            ExitReport::Deleted { count, bytes, server } => write!(
                f,
                "deleted {count} message{} ({}); server said: {server}",
                if *count == 1 { "" } else { "s" },
                crate::text::human_size(*bytes)
            ),
            ExitReport::QuitRefused { count, server } => write!(
                f,
                "the server answered QUIT with an error: {server}; some or all of the {count} marked messages may not have been deleted, check the mailbox"
            ),
            ExitReport::Unknown { count, reason } => write!(
                f,
                "OUTCOME UNKNOWN: the connection ended before the server answered QUIT ({reason}); the {count} marked messages may or may not have been deleted, check the mailbox"
            ),
        }
    }
}

/// Facts about the connection for the status bar.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFacts {
    pub server: String,
    pub security: String,
    pub verified: bool,
    pub has_top: bool,
    pub has_uidl: bool,
    /// Commands the session keeps in flight (1 = lockstep).
    pub window: usize,
}

pub struct App {
    pub facts: ConnectionFacts,
    pub rows: Vec<MessageRow>,
    /// Display order: indices into `rows`.
    pub order: Vec<usize>,
    pub sort: SortKey,
    pub sort_descending: bool,
    /// Position of the selection in `order`.
    pub selected: usize,
    /// First visible position in `order`.
    pub offset: usize,
    /// Terminal size, as last reported; layout is derived from it.
    pub screen: (u16, u16),
    pub message: Option<MessageScreen>,
    pub help: bool,
    /// First help line shown, when the help is taller than the screen.
    pub help_scroll: usize,
    pub confirm: Option<Confirmation>,
    pub trace: VecDeque<TraceEntry>,
    pub trace_visible: bool,
    pub trace_focus: bool,
    /// None: follow the newest line; Some(n): first shown line.
    pub trace_scroll: Option<usize>,
    pub link: Link,
    pub commit: Commit,
    pub activity: String,
    pub listed: bool,
    pub exit_report: Option<ExitReport>,
    tickets: HashMap<u64, Purpose>,
    next_ticket: u64,
    headers_in_flight: usize,
    headers_loaded: usize,
    /// Background header loading walks the display order from here...
    background_cursor: usize,
    /// ...and, once that reached the end, from the top.
    wrap_cursor: usize,
    pending_uids: Option<HashMap<u32, String>>,
    marked_totals: (usize, u64),
    total_bytes: u64,
}

impl App {
    pub fn new(facts: ConnectionFacts, screen: (u16, u16)) -> App {
        App {
            facts,
            rows: Vec::new(),
            order: Vec::new(),
            sort: SortKey::Number,
            sort_descending: false,
            selected: 0,
            offset: 0,
            screen,
            message: None,
            help: false,
            help_scroll: 0,
            confirm: None,
            trace: VecDeque::new(),
            trace_visible: false,
            trace_focus: false,
            trace_scroll: None,
            link: Link::Open,
            commit: Commit::Idle,
            activity: "listing messages…".into(),
            listed: false,
            exit_report: None,
            tickets: HashMap::new(),
            next_ticket: 1,
            headers_in_flight: 0,
            headers_loaded: 0,
            background_cursor: 0,
            wrap_cursor: 0,
            pending_uids: None,
            marked_totals: (0, 0),
            total_bytes: 0,
        }
    }

    /// The first commands: LIST and (when offered) UIDL, pipelined.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = vec![self.submit(Purpose::List, Command::List(None), Priority::Urgent)];
        if self.facts.has_uidl {
            effects.push(self.submit(Purpose::Uidl, Command::Uidl(None), Priority::Urgent));
        }
        effects
    }

    fn submit(&mut self, purpose: Purpose, command: Command, priority: Priority) -> Effect {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.tickets.insert(ticket, purpose);
        Effect::Submit {
            ticket,
            command,
            priority,
        }
    }

    pub fn context(&self) -> Context {
        if self.confirm.is_some() {
            Context::Confirm
        } else if self.trace_focus && self.trace_visible {
            Context::Trace
        } else if self.message.is_some() {
            Context::Message
        } else {
            Context::List
        }
    }

    /// Marked messages and their total size (kept up to date, not counted,
    /// because the status bar asks on every frame).
    pub fn marked(&self) -> (usize, u64) {
        self.marked_totals
    }

    pub fn total_size(&self) -> u64 {
        self.total_bytes
    }

    fn set_row_mark(&mut self, i: usize, on: bool) {
        let row = &mut self.rows[i];
        if row.marked != on {
            row.marked = on;
            let (n, b) = &mut self.marked_totals;
            if on {
                *n += 1;
                *b += row.size;
            } else {
                *n -= 1;
                *b -= row.size;
            }
        }
    }

    pub fn headers_progress(&self) -> (usize, usize) {
        (
            self.headers_loaded,
            if self.facts.has_top { self.rows.len() } else { 0 },
        )
    }

    pub fn selected_row(&self) -> Option<&MessageRow> {
        self.order.get(self.selected).map(|&i| &self.rows[i])
    }

    pub fn row_by_number(&self, number: u32) -> Option<&MessageRow> {
        // Rows are stored in LIST order, which is by number.
        self.rows
            .binary_search_by_key(&number, |r| r.number)
            .ok()
            .map(|i| &self.rows[i])
    }

    fn row_index(&self, number: u32) -> Option<usize> {
        self.rows.binary_search_by_key(&number, |r| r.number).ok()
    }

    /// Rows of the list that fit on screen (derived from the layout).
    pub fn list_height(&self) -> usize {
        crate::ui::list_rows_visible(self)
    }

    pub fn resize(&mut self, width: u16, height: u16) -> Vec<Effect> {
        self.screen = (width, height);
        let text_width = crate::ui::message_text_width(self.screen);
        if let Some(m) = self.message.as_mut() {
            m.layout(text_width);
        }
        self.keep_selection_visible();
        self.pump_headers()
    }

    // ---- keys -------------------------------------------------------

    pub fn handle_action(&mut self, action: Action) -> Vec<Effect> {
        match self.context() {
            Context::Confirm => return self.confirm_action(action),
            _ if action == Action::Interrupt => return self.interrupt("interrupted with Ctrl-C"),
            _ => {}
        }
        match action {
            Action::Help => {
                self.help = !self.help;
                self.help_scroll = 0;
                return vec![];
            }
            Action::ToggleTrace => {
                self.trace_visible = !self.trace_visible;
                if !self.trace_visible {
                    self.trace_focus = false;
                }
                self.keep_selection_visible();
                return self.pump_headers();
            }
            Action::FocusTrace => {
                self.trace_focus = self.trace_visible && !self.trace_focus;
                return vec![];
            }
            _ => {}
        }
        if self.help {
            match action {
                Action::Back | Action::Quit => self.help = false,
                Action::Down => self.help_scroll += 1,
                Action::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                Action::PageDown => self.help_scroll += 10,
                Action::Last => self.help_scroll = usize::MAX,
                Action::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
                Action::First => self.help_scroll = 0,
                _ => {}
            }
            self.help_scroll = self.help_scroll.min(crate::ui::help_max_scroll(self.screen));
            return vec![];
        }
        match self.context() {
            Context::Trace => {
                self.trace_action(action);
                vec![]
            }
            Context::Message => self.message_action(action),
            _ => self.list_action(action),
        }
    }

    fn list_action(&mut self, action: Action) -> Vec<Effect> {
        if self.commit != Commit::Idle
            && matches!(
                action,
                Action::Quit | Action::Mark | Action::Unmark | Action::UnmarkAll | Action::Open
            )
        {
            self.activity = "a commit is in progress; Ctrl-C leaves without QUIT (nothing is deleted then)".into();
            return vec![];
        }
        let page = self.list_height().max(1);
        let last = self.order.len().saturating_sub(1);
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => self.selected = (self.selected + page).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(page),
            Action::First => self.selected = 0,
            Action::Last => self.selected = last,
            Action::Open => return self.open_selected(),
            Action::Mark => self.set_mark(true),
            Action::Unmark => self.set_mark(false),
            Action::UnmarkAll => {
                self.rows.iter_mut().for_each(|r| r.marked = false);
                self.marked_totals = (0, 0);
                self.activity = "all marks removed".into();
            }
            Action::SortNext => {
                self.sort = match self.sort {
                    SortKey::Number => SortKey::Date,
                    SortKey::Date => SortKey::Size,
                    SortKey::Size => SortKey::Number,
                };
                self.resort();
            }
            Action::SortReverse => {
                self.sort_descending = !self.sort_descending;
                self.resort();
            }
            Action::Quit => return self.quit(),
            _ => return vec![],
        }
        self.keep_selection_visible();
        self.pump_headers()
    }

    fn set_mark(&mut self, on: bool) {
        if self.commit != Commit::Idle {
            return;
        }
        let number = match &self.message {
            Some(m) => self.row_index(m.number),
            None => self.order.get(self.selected).copied(),
        };
        if let Some(i) = number {
            self.set_row_mark(i, on);
            let n = self.rows[i].number;
            self.activity = if on {
                format!("message {n} marked for deletion (nothing is sent until you quit and confirm)")
            } else {
                format!("message {n} unmarked")
            };
            if on && self.message.is_none() {
                self.selected = (self.selected + 1).min(self.order.len().saturating_sub(1));
            }
        }
    }

    fn message_action(&mut self, action: Action) -> Vec<Effect> {
        let rows = crate::ui::message_text_rows(self).max(1);
        match action {
            Action::Back => {
                self.message = None;
                return self.pump_headers();
            }
            Action::Mark => self.set_mark(true),
            Action::Unmark => self.set_mark(false),
            _ => {}
        }
        let width = crate::ui::message_text_width(self.screen);
        let Some(m) = self.message.as_mut() else { return vec![] };
        if action == Action::ToggleRaw {
            m.show_raw = !m.show_raw;
            m.scroll = 0;
            m.layout(width);
            return vec![];
        }
        // The same bound the drawing uses, so Up after End moves at once.
        let last = m.lines.len().saturating_sub(rows);
        m.scroll = match action {
            Action::Down => m.scroll + 1,
            Action::Up => m.scroll.saturating_sub(1),
            Action::PageDown => m.scroll + rows,
            Action::PageUp => m.scroll.saturating_sub(rows),
            Action::First => 0,
            Action::Last => last,
            _ => m.scroll,
        }
        .min(last);
        vec![]
    }

    fn trace_action(&mut self, action: Action) {
        let len = self.trace.len();
        let page = crate::ui::trace_rows(self).max(1);
        let current = self.trace_scroll.unwrap_or(len.saturating_sub(page));
        self.trace_scroll = match action {
            Action::Down => Some(current + 1),
            Action::Up => Some(current.saturating_sub(1)),
            Action::PageDown => Some(current + page),
            Action::PageUp => Some(current.saturating_sub(page)),
            Action::First => Some(0),
            Action::Last => None,
            Action::Back => {
                self.trace_focus = false;
                self.trace_scroll
            }
            _ => self.trace_scroll,
        };
        if let Some(s) = self.trace_scroll
            && s + page >= len
        {
            // Scrolled down to the newest line: follow again.
            self.trace_scroll = if matches!(action, Action::Down | Action::PageDown) {
                None
            } else {
                Some(len.saturating_sub(page))
            };
        }
    }

    fn open_selected(&mut self) -> Vec<Effect> {
        let Some(row) = self.selected_row() else { return vec![] };
        let (number, total) = (row.number, row.size);
        if self.link != Link::Open {
            self.activity = "the connection is gone: messages can no longer be retrieved".into();
            return vec![];
        }
        let effect = self.submit(Purpose::Retr(number), Command::Retr(number), Priority::Urgent);
        let Effect::Submit { ticket, .. } = &effect else {
            unreachable!()
        };
        self.message = Some(MessageScreen {
            number,
            ticket: *ticket,
            total,
            received: 0,
            raw: Vec::new(),
            done: false,
            parsed: None,
            error: None,
            show_raw: false,
            scroll: 0,
            lines: Vec::new(),
        });
        self.activity = format!("retrieving message {number}…");
        vec![effect]
    }

    fn quit(&mut self) -> Vec<Effect> {
        let (count, bytes) = self.marked();
        if self.link != Link::Open {
            self.exit_report = Some(ExitReport::NothingDeleted(if count > 0 {
                "the connection was lost before the marks could be committed".into()
            } else {
                "nothing was marked".into()
            }));
            return vec![Effect::Exit];
        }
        if count == 0 {
            return self.send_quit(false);
        }
        let subjects = self
            .rows
            .iter()
            .filter(|r| r.marked)
            .take(5)
            .map(|r| match &r.headers {
                Headers::Loaded(h) if !h.subject.is_empty() => format!("#{}  {}", r.number, h.subject),
                _ => format!("#{}", r.number),
            })
            .collect();
        self.confirm = Some(Confirmation { count, bytes, subjects });
        vec![]
    }

    fn confirm_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Interrupt => self.interrupt("interrupted with Ctrl-C"),
            Action::ConfirmCancel => {
                self.confirm = None;
                vec![]
            }
            Action::ConfirmKeep => {
                self.confirm = None;
                // Marks were only ever staged here: a plain QUIT keeps all.
                self.send_quit(false)
            }
            Action::ConfirmCommit => {
                self.confirm = None;
                self.begin_commit()
            }
            _ => vec![],
        }
    }

    /// The only path that may delete: DELE every mark (pipelined), and QUIT
    /// once all were accepted.
    fn begin_commit(&mut self) -> Vec<Effect> {
        let marked: Vec<u32> = self.rows.iter().filter(|r| r.marked).map(|r| r.number).collect();
        self.commit = Commit::Deleting {
            waiting: marked.len(),
            refused: Vec::new(),
        };
        self.activity = format!("deleting {} messages…", marked.len());
        marked
            .into_iter()
            .map(|n| self.submit(Purpose::Dele(n), Command::Dele(n), Priority::Urgent))
            .collect()
    }

    fn send_quit(&mut self, commit: bool) -> Vec<Effect> {
        self.commit = Commit::Quitting { commit };
        self.activity = "logging out…".into();
        vec![self.submit(Purpose::Quit { commit }, Command::Quit { commit }, Priority::Urgent)]
    }

    /// Leaves without QUIT: the server deletes nothing.
    pub fn interrupt(&mut self, why: &str) -> Vec<Effect> {
        self.exit_report = Some(ExitReport::Interrupted(why.to_string()));
        vec![Effect::Exit]
    }

    pub fn scroll_wheel(&mut self, down: bool) -> Vec<Effect> {
        let action = if down { Action::Down } else { Action::Up };
        let mut effects = Vec::new();
        for _ in 0..3 {
            effects.extend(self.handle_action(action));
        }
        effects
    }

    // ---- the list ------------------------------------------------------

    fn resort(&mut self) {
        let selected_row = self.order.get(self.selected).copied();
        let rows = &self.rows;
        let key = self.sort;
        self.order.sort_by(|&a, &b| {
            let (ra, rb) = (&rows[a], &rows[b]);
            let primary = match key {
                SortKey::Number => ra.number.cmp(&rb.number),
                SortKey::Size => ra.size.cmp(&rb.size),
                SortKey::Date => timestamp(ra).cmp(&timestamp(rb)),
            };
            primary.then(ra.number.cmp(&rb.number))
        });
        if self.sort_descending {
            self.order.reverse();
        }
        if let Some(row) = selected_row {
            self.selected = self.order.iter().position(|&i| i == row).unwrap_or(0);
        }
        self.background_cursor = 0;
        self.wrap_cursor = 0;
        self.activity = format!(
            "sorted by {}{}",
            self.sort.label(),
            if self.sort_descending { ", descending" } else { "" }
        );
    }

    fn keep_selection_visible(&mut self) {
        let height = self.list_height().max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.order.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }

    /// Keeps up to `HEADER_REQUESTS_IN_FLIGHT` TOP requests queued: rows on
    /// screen first, then onwards from the screen, then the rest.
    pub fn pump_headers(&mut self) -> Vec<Effect> {
        if !self.facts.has_top || self.link != Link::Open || self.commit != Commit::Idle {
            return vec![];
        }
        let budget = self.header_budget().saturating_sub(self.headers_in_flight);
        let mut wanted = Vec::new();
        // Marking a row Requested as soon as it is picked keeps the passes
        // below from picking it twice.
        let take = |rows: &mut [MessageRow], i: usize, wanted: &mut Vec<usize>| {
            if rows[i].headers == Headers::Unknown {
                rows[i].headers = Headers::Requested;
                wanted.push(i);
            }
        };
        let height = self.list_height().max(1);
        let visible = self.offset..(self.offset + height).min(self.order.len());
        // Rows on screen are always asked for (a screenful at most), even
        // beyond the budget.
        for pos in visible.clone() {
            take(&mut self.rows, self.order[pos], &mut wanted);
        }
        // Rows on screen go ahead of the background queue, so a jump (G, a
        // sort) waits at most for the window already in flight.
        let on_screen = wanted.len();
        // Then the rows after the screen, then from the top.
        let budget = budget.max(on_screen);
        let mut cursor = self.background_cursor.max(visible.end);
        while wanted.len() < budget && cursor < self.order.len() {
            take(&mut self.rows, self.order[cursor], &mut wanted);
            cursor += 1;
        }
        self.background_cursor = cursor;
        // Both cursors only move forward (until a re-sort), so sweeping
        // 100,000 rows costs O(n) in all, not O(n) per answer.
        let mut wrap = self.wrap_cursor;
        while wanted.len() < budget && cursor >= self.order.len() && wrap < self.order.len() {
            take(&mut self.rows, self.order[wrap], &mut wanted);
            wrap += 1;
        }
        self.wrap_cursor = wrap;
        let mut effects = Vec::with_capacity(wanted.len());
        for (k, i) in wanted.into_iter().enumerate() {
            self.headers_in_flight += 1;
            let n = self.rows[i].number;
            let priority = if k < on_screen {
                Priority::Urgent
            } else {
                Priority::Normal
            };
            effects.push(self.submit(Purpose::Top(n), Command::Top { msg: n, lines: 0 }, priority));
        }
        effects
    }

    fn header_budget(&self) -> usize {
        (self.facts.window * 2).max(MIN_HEADER_REQUESTS)
    }

    // ---- session events ---------------------------------------------------

    pub fn handle_session_event(&mut self, event: SessionEvent) -> Vec<Effect> {
        match event {
            SessionEvent::Trace(entry) => {
                if self.trace.len() >= TRACE_CAPACITY {
                    self.trace.pop_front();
                    if let Some(s) = self.trace_scroll.as_mut() {
                        *s = s.saturating_sub(1);
                    }
                }
                self.trace.push_back(entry);
                vec![]
            }
            SessionEvent::Data { ticket, chunk } => {
                if let Some(m) = self.message.as_mut()
                    && m.ticket == ticket
                {
                    m.received += chunk.len() as u64;
                    let room = PREVIEW_CAP.saturating_sub(m.raw.len());
                    m.raw.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                vec![]
            }
            SessionEvent::Completed { ticket, outcome, .. } => match self.tickets.remove(&ticket) {
                Some(purpose) => self.completed(ticket, purpose, outcome),
                None => vec![],
            },
            SessionEvent::Closed(failure) => self.connection_closed(failure.map(|f| f.to_string())),
        }
    }

    fn connection_closed(&mut self, reason: Option<String>) -> Vec<Effect> {
        let reason = reason.unwrap_or_else(|| "the server closed the connection".into());
        match &self.commit {
            Commit::Quitting { commit } if self.exit_report.is_none() => {
                let (count, _) = self.marked();
                self.exit_report = Some(if *commit {
                    ExitReport::Unknown { count, reason }
                } else {
                    ExitReport::NothingDeleted("the connection closed while logging out".into())
                });
                return vec![Effect::Exit];
            }
            Commit::Deleting { .. } => {
                // DELEs without QUIT commit nothing (RFC 1939 §6).
                self.commit = Commit::Idle;
                self.link = Link::Lost(reason.clone());
                self.activity = format!("connection lost while deleting: nothing was deleted ({reason})");
                return vec![];
            }
            _ => {}
        }
        if self.link == Link::Open && self.exit_report.is_none() {
            self.activity = format!("connection lost: {reason}. Read-only: marks cannot be committed");
            self.link = Link::Lost(reason);
            if let Some(m) = self.message.as_mut()
                && !m.done
            {
                m.error = Some("the connection was lost before the message arrived".into());
            }
        }
        vec![]
    }

    fn completed(&mut self, ticket: u64, purpose: Purpose, outcome: Outcome) -> Vec<Effect> {
        match purpose {
            Purpose::List => self.listed(outcome),
            Purpose::Uidl => {
                if let Outcome::Ok(reply) = &outcome {
                    let uids: HashMap<u32, String> =
                        parse_uidl(reply.payload()).unwrap_or_default().into_iter().collect();
                    if self.listed {
                        self.apply_uids(&uids);
                    } else {
                        self.pending_uids = Some(uids);
                    }
                }
                vec![]
            }
            Purpose::Top(n) => {
                self.headers_in_flight = self.headers_in_flight.saturating_sub(1);
                if let Some(i) = self.row_index(n) {
                    self.rows[i].headers = match outcome {
                        Outcome::Ok(reply) => {
                            self.headers_loaded += 1;
                            Headers::Loaded(Box::new(HeaderSummary::parse(reply.payload())))
                        }
                        Outcome::Err(status) => {
                            self.headers_loaded += 1;
                            Headers::Unavailable(status.to_string().into())
                        }
                        _ => Headers::Unknown,
                    };
                }
                let (loaded, total) = self.headers_progress();
                self.activity = if loaded >= total {
                    "ready".into()
                } else {
                    format!("loading headers {loaded}/{total}")
                };
                self.pump_headers()
            }
            Purpose::Retr(n) => {
                if let Some(m) = self.message.as_mut()
                    && m.ticket == ticket
                {
                    m.done = true;
                    match outcome {
                        Outcome::Ok(reply) => {
                            let total = match reply.body {
                                Some(Body::Streamed { total_bytes, .. }) => total_bytes,
                                _ => m.received,
                            };
                            let truncated = (m.raw.len() as u64) < total;
                            m.parsed = Some(ParsedMessage::parse(&m.raw, truncated, total));
                            m.layout(crate::ui::message_text_width(self.screen));
                            self.activity = format!("message {n} retrieved");
                        }
                        Outcome::Err(status) => m.error = Some(format!("the server refused RETR {n}: {status}")),
                        other => m.error = Some(format!("RETR {n} did not complete: {other:?}")),
                    }
                }
                vec![]
            }
            Purpose::Dele(n) => self.dele_answered(n, outcome),
            Purpose::Noop => vec![],
            Purpose::Quit { commit } => {
                let (count, bytes) = self.marked();
                self.link = Link::Closed;
                self.exit_report = Some(match (commit, outcome) {
                    (true, Outcome::Ok(reply)) => ExitReport::Deleted {
                        count,
                        bytes,
                        server: reply.status,
                    },
                    (true, Outcome::Err(status)) => ExitReport::QuitRefused { count, server: status },
                    (true, Outcome::Lost(reason)) => ExitReport::Unknown { count, reason },
                    (true, other) => ExitReport::Unknown {
                        count,
                        reason: format!("{other:?}"),
                    },
                    (false, Outcome::Ok(reply)) => ExitReport::NothingDeleted(format!(
                        "no message was marked on the server; it said: {}",
                        reply.status
                    )),
                    (false, _) => ExitReport::NothingDeleted("QUIT without deletions".into()),
                });
                vec![Effect::Exit]
            }
        }
    }

    fn dele_answered(&mut self, n: u32, outcome: Outcome) -> Vec<Effect> {
        let Commit::Deleting { waiting, refused } = &mut self.commit else {
            return vec![];
        };
        *waiting = waiting.saturating_sub(1);
        match outcome {
            Outcome::Ok(_) => {}
            Outcome::Err(status) => refused.push(format!("DELE {n}: {status}")),
            other => refused.push(format!("DELE {n}: {other:?}")),
        }
        if *waiting > 0 {
            return vec![];
        }
        if refused.is_empty() {
            return self.send_quit(true);
        }
        // Part of the set was refused: commit nothing, say why, and let the
        // person decide again. RSET undoes the accepted DELEs.
        let reasons = refused.join("; ");
        self.commit = Commit::Idle;
        self.activity = format!("commit cancelled, nothing deleted: {reasons}");
        vec![self.submit(Purpose::Noop, Command::Rset, Priority::Urgent)]
    }

    fn listed(&mut self, outcome: Outcome) -> Vec<Effect> {
        match outcome {
            Outcome::Ok(reply) => match parse_list(reply.payload()) {
                Ok(entries) => {
                    self.rows = entries
                        .into_iter()
                        .map(|(number, size)| MessageRow {
                            number,
                            size,
                            uid: None,
                            headers: Headers::Unknown,
                            marked: false,
                        })
                        .collect();
                    self.rows.sort_by_key(|r| r.number);
                    self.total_bytes = self.rows.iter().map(|r| r.size).sum();
                    self.marked_totals = (0, 0);
                    self.order = (0..self.rows.len()).collect();
                    self.listed = true;
                    if let Some(uids) = self.pending_uids.take() {
                        self.apply_uids(&uids);
                    }
                    self.activity = if self.facts.has_top {
                        format!("{} messages; loading headers…", self.rows.len())
                    } else {
                        format!("{} messages; the server has no TOP, so no headers", self.rows.len())
                    };
                    self.pump_headers()
                }
                Err(e) => {
                    self.activity = format!("cannot read the message list: {e}");
                    vec![]
                }
            },
            Outcome::Err(status) => {
                self.activity = format!("the server refused LIST: {status}");
                vec![]
            }
            _ => vec![],
        }
    }

    fn apply_uids(&mut self, uids: &HashMap<u32, String>) {
        for row in &mut self.rows {
            row.uid = uids.get(&row.number).map(|u| u.as_str().into());
        }
    }

    /// Idle keep-alive: some providers drop sessions idle for 60 s.
    pub fn keepalive(&mut self) -> Vec<Effect> {
        if self.link == Link::Open && self.commit == Commit::Idle {
            vec![self.submit(Purpose::Noop, Command::Noop, Priority::Normal)]
        } else {
            vec![]
        }
    }
}

fn timestamp(row: &MessageRow) -> i64 {
    match &row.headers {
        Headers::Loaded(h) => h.timestamp.unwrap_or(i64::MIN),
        _ => i64::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::client::{CommandKind, Reply};
    use crate::pop3::codec::parse_status_line;

    fn facts(window: usize) -> ConnectionFacts {
        ConnectionFacts {
            server: "test:110".into(),
            security: "TLS 1.3 verified".into(),
            verified: true,
            has_top: true,
            has_uidl: false,
            window,
        }
    }

    fn ok(body: &[u8]) -> Outcome {
        Outcome::Ok(Reply {
            status: parse_status_line(b"+OK").unwrap(),
            body: Some(Body::Collected {
                bytes: body.to_vec(),
                truncated: false,
                lines: 0,
                total_bytes: body.len() as u64,
            }),
        })
    }

    fn listed(n: u32, window: usize) -> (App, Vec<Effect>) {
        let mut app = App::new(facts(window), (120, 40));
        let start = app.start();
        let Effect::Submit { ticket, .. } = &start[0] else {
            panic!()
        };
        let listing: String = (1..=n).map(|i| format!("{i} {}\r\n", 100 + i)).collect();
        let effects = app.handle_session_event(SessionEvent::Completed {
            ticket: *ticket,
            command: CommandKind::List(None),
            outcome: ok(listing.as_bytes()),
        });
        (app, effects)
    }

    fn tops(effects: &[Effect]) -> Vec<(u32, Priority)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Submit {
                    command: Command::Top { msg, .. },
                    priority,
                    ..
                } => Some((*msg, *priority)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn headers_for_the_screen_come_first_and_urgent() {
        let (app, effects) = listed(1000, 10);
        let asked = tops(&effects);
        let height = app.list_height();
        assert!(height > 5);
        for (k, (msg, priority)) in asked.iter().enumerate() {
            if k < height {
                assert_eq!((*msg, *priority), (k as u32 + 1, Priority::Urgent));
            } else {
                assert_eq!(*priority, Priority::Normal);
            }
        }
        assert_eq!(
            asked.len(),
            height.max(MIN_HEADER_REQUESTS),
            "screen plus the background budget"
        );
    }

    #[test]
    fn a_jump_asks_for_the_new_screen_at_once() {
        let (mut app, _) = listed(1000, 10);
        let effects = app.handle_action(Action::Last);
        let asked = tops(&effects);
        assert!(
            asked.iter().any(|(m, p)| *m == 1000 && *p == Priority::Urgent),
            "{asked:?}"
        );
    }

    #[test]
    fn sweeping_a_huge_list_stays_linear() {
        let (mut app, mut effects) = listed(100_000, 100);
        effects.extend(app.handle_action(Action::Last));
        let started = std::time::Instant::now();
        let mut answered = 0;
        while !effects.is_empty() {
            let mut next = Vec::new();
            for e in effects {
                if let Effect::Submit {
                    ticket,
                    command: Command::Top { .. },
                    ..
                } = e
                {
                    next.extend(app.handle_session_event(SessionEvent::Completed {
                        ticket,
                        command: CommandKind::Noop,
                        outcome: ok(b"Subject: x\r\n\r\n"),
                    }));
                    answered += 1;
                }
            }
            effects = next;
        }
        assert_eq!(answered, 100_000);
        assert_eq!(app.headers_progress(), (100_000, 100_000));
        // Generous: quadratic behaviour would take minutes, not seconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }

    #[test]
    fn marks_are_counted_incrementally() {
        let (mut app, _) = listed(10, 10);
        app.handle_action(Action::Mark);
        app.handle_action(Action::Mark);
        assert_eq!(app.marked(), (2, 101 + 102));
        app.handle_action(Action::Up);
        app.handle_action(Action::Unmark);
        assert_eq!(app.marked(), (1, 101));
        app.handle_action(Action::UnmarkAll);
        assert_eq!(app.marked(), (0, 0));
    }
}
