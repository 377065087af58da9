//! The message being viewed: RETR's bytes as they stream in (bounded), the
//! parsed message once complete, and the lines shown, wrapped to the screen
//! and typed so that drawing styles them without re-parsing anything.

use super::keymap::Action;
use crate::mail::{ParsedMessage, raw_source, wrap_lines};
use crate::mailbox::outcome_failure;
use crate::pop3::client::{Body, Outcome};
use crate::text::human_size;

/// How much of a message is kept for viewing; the rest streams past and is
/// only counted.
pub(crate) const PREVIEW_CAP: usize = 2 * 1024 * 1024;

/// Columns of a header name in the readable view; long values wrap under
/// themselves, past the name.
const HEADER_NAME_WIDTH: usize = 13;

/// One line of the message view. All text is sanitized already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewLine {
    /// A header; `name` is empty on the lines a long value wraps onto.
    Header {
        name: String,
        value: String,
    },
    /// An attachment line; `selected`: the one Enter or `s` saves.
    Attachment {
        text: String,
        selected: bool,
    },
    /// Why the view may be incomplete or raw.
    Note(String),
    Text(String),
    Blank,
}

#[derive(Debug, Clone)]
pub struct Viewer {
    pub number: u32,
    /// The RETR's ticket, to recognise its data.
    pub ticket: u64,
    /// The size LIST gave, until the answer says better.
    pub total: u64,
    pub received: u64,
    pub raw: Vec<u8>,
    pub done: bool,
    pub parsed: Option<ParsedMessage>,
    pub error: Option<String>,
    pub show_raw: bool,
    pub scroll: usize,
    /// What the viewer shows, wrapped to the screen.
    pub lines: Vec<ViewLine>,
    /// The attachment selected (`a`), by its index in the parsed message.
    pub attachment: Option<usize>,
}

impl Viewer {
    pub fn new(number: u32, ticket: u64, total: u64) -> Viewer {
        Viewer {
            number,
            ticket,
            total,
            received: 0,
            raw: Vec::new(),
            done: false,
            parsed: None,
            error: None,
            show_raw: false,
            scroll: 0,
            lines: Vec::new(),
            attachment: None,
        }
    }

    /// A chunk of the message; beyond `PREVIEW_CAP` it is only counted.
    pub fn data(&mut self, chunk: &[u8]) {
        self.received += chunk.len() as u64;
        let room = PREVIEW_CAP.saturating_sub(self.raw.len());
        self.raw.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// RETR's answer; says what happened when it worked.
    pub fn completed(&mut self, outcome: Outcome, width: usize) -> Option<String> {
        self.done = true;
        let n = self.number;
        match outcome {
            Outcome::Ok(reply) => {
                let total = match reply.body {
                    Some(Body::Streamed { total_bytes, .. }) => total_bytes,
                    _ => self.received,
                };
                let truncated = (self.raw.len() as u64) < total;
                self.parsed = Some(ParsedMessage::parse(&self.raw, truncated, total));
                self.layout(width);
                return Some(format!("message {n} retrieved"));
            }
            Outcome::Err(status) => self.error = Some(format!("the server refused RETR {n}: {status}")),
            other => self.error = Some(outcome_failure(&format!("RETR {n}"), &other).message),
        }
        None
    }

    /// The connection ended: if the message was still arriving, say so.
    pub fn connection_lost(&mut self) {
        if !self.done {
            self.error = Some("the connection was lost before the message arrived".into());
        }
    }

    pub(crate) fn toggle_raw(&mut self, width: usize) {
        self.show_raw = !self.show_raw;
        self.scroll = 0;
        self.layout(width);
    }

    /// A scroll key; `rows` is the text rows on screen.
    pub fn scroll(&mut self, action: Action, rows: usize) {
        let rows = rows.max(1);
        // The same bound the drawing uses, so Up after End moves at once.
        let last = self.lines.len().saturating_sub(rows);
        self.scroll = match action {
            Action::Down => self.scroll + 1,
            Action::Up => self.scroll.saturating_sub(1),
            Action::PageDown => self.scroll + rows,
            Action::PageUp => self.scroll.saturating_sub(rows),
            Action::First => 0,
            Action::Last => last,
            _ => self.scroll,
        }
        .min(last);
    }

    /// Selects the next attachment (the first after the last); says which.
    pub(crate) fn next_attachment(&mut self, width: usize) -> Option<String> {
        let attachments = &self.parsed.as_ref()?.attachments;
        if attachments.is_empty() {
            return None;
        }
        let next = self.attachment.map_or(0, |i| (i + 1) % attachments.len());
        let name = attachments[next].name.clone();
        self.attachment = Some(next);
        self.layout(width);
        Some(name)
    }

    /// The whole message is in `raw` (not cut at [`PREVIEW_CAP`]).
    pub fn complete(&self) -> bool {
        self.done && self.error.is_none() && self.raw.len() as u64 == self.received
    }

    /// Rebuilds `lines` for `width` columns.
    pub fn layout(&mut self, width: usize) {
        self.lines.clear();
        if self.show_raw {
            let raw = raw_source(&self.raw, PREVIEW_CAP);
            self.lines = wrap_lines(&raw, width).into_iter().map(ViewLine::Text).collect();
            return;
        }
        let Some(p) = &self.parsed else { return };
        let value_width = width.saturating_sub(HEADER_NAME_WIDTH).max(10);
        for (name, value) in &p.headers {
            for (k, part) in wrap_lines(value, value_width).into_iter().enumerate() {
                self.lines.push(ViewLine::Header {
                    name: if k == 0 { name.clone() } else { String::new() },
                    value: part,
                });
            }
        }
        if let Some(note) = &p.parse_note {
            self.lines.push(ViewLine::Blank);
            self.lines
                .extend(wrap_lines(note, width).into_iter().map(ViewLine::Note));
        }
        if !p.attachments.is_empty() {
            self.lines.push(ViewLine::Blank);
            for (i, a) in p.attachments.iter().enumerate() {
                self.lines.push(ViewLine::Attachment {
                    text: format!(
                        "[attachment] {}  {}  {}",
                        a.name,
                        a.content_type,
                        human_size(a.size as u64)
                    ),
                    selected: self.attachment == Some(i),
                });
            }
        }
        self.lines.push(ViewLine::Blank);
        self.lines
            .extend(wrap_lines(&p.body, width).into_iter().map(ViewLine::Text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::client::Reply;
    use crate::pop3::codec::parse_status_line;

    fn retrieved(raw: &[u8]) -> Viewer {
        let mut v = Viewer::new(7, 1, raw.len() as u64);
        v.data(raw);
        let said = v.completed(
            Outcome::Ok(Reply {
                status: parse_status_line(b"+OK").unwrap(),
                body: Some(Body::Streamed {
                    lines: 0,
                    total_bytes: raw.len() as u64,
                }),
            }),
            40,
        );
        assert_eq!(said.as_deref(), Some("message 7 retrieved"));
        v
    }

    #[test]
    fn lines_are_typed_not_marked_up() {
        let v = retrieved(b"Subject: \x01H not a header\r\nFrom: a@b\r\n\r\nhello\r\n");
        assert!(
            v.lines
                .iter()
                .any(|l| matches!(l, ViewLine::Header { name, .. } if name == "Subject"))
        );
        assert_eq!(v.lines.last(), Some(&ViewLine::Text("hello".into())));
        for line in &v.lines {
            if let ViewLine::Header { value, .. } | ViewLine::Text(value) = line {
                assert!(!value.contains('\u{1}'), "{value:?}");
            }
        }
    }

    #[test]
    fn long_header_values_wrap_under_themselves() {
        let subject = "word ".repeat(20);
        let v = retrieved(format!("Subject: {subject}\r\n\r\nbody\r\n").as_bytes());
        let parts: Vec<&ViewLine> = v
            .lines
            .iter()
            .take_while(|l| matches!(l, ViewLine::Header { .. }))
            .collect();
        assert!(parts.len() > 1, "{parts:?}");
        assert!(matches!(parts[1], ViewLine::Header { name, .. } if name.is_empty()));
    }

    #[test]
    fn a_lost_answer_reads_as_words() {
        let mut v = Viewer::new(3, 1, 10);
        v.completed(Outcome::Lost("reset by peer".into()), 40);
        let error = v.error.unwrap();
        assert!(error.contains("RETR 3") && error.contains("reset by peer"), "{error}");
        assert!(!error.contains("Lost("), "{error}");
    }

    #[test]
    fn only_the_cap_is_kept() {
        let mut v = Viewer::new(1, 1, 0);
        v.data(&vec![b'x'; PREVIEW_CAP + 10]);
        v.data(b"more");
        assert_eq!((v.raw.len(), v.received), (PREVIEW_CAP, PREVIEW_CAP as u64 + 14));
    }
}
