//! Putting commands on the wire: the line each command becomes, and the
//! deletion guard, which acts when a command is sent (not when it is
//! queued), because only then is it known what the server may hold.

use super::{Client, Direction, InFlight, Queued, RequestId};
use crate::pop3::command::{Command, CommandKind, Line};

impl Client {
    /// Writes one queued command (the window and barriers allow it).
    pub(super) fn send(&mut self, queued: Queued) {
        if matches!(queued.command, Command::Quit { commit: false }) && self.possibly_marked > 0 {
            self.reset_before_quit(queued);
            return;
        }
        let Queued { id, command, body } = queued;
        let kind = command.kind();
        let mut flight = InFlight::new(id, kind, body);
        flight.largest = command.largest_answer();
        if let Command::Retr { listed_size, .. } = command {
            flight.listed_size = listed_size;
        }
        let line = match command {
            Command::Auth(exchange) => flight.start_sasl(exchange),
            other => other.line(),
        };
        match kind {
            // Counted when sent, whatever the answer: a DELE whose answer
            // is lost may still have been accepted.
            CommandKind::Dele(_) => self.possibly_marked = self.possibly_marked.saturating_add(1),
            CommandKind::Quit { commit: true } => self.timer.quit_committing(self.possibly_marked),
            _ => {}
        }
        // In flight before its line is traced, which labels the line with it.
        self.in_flight.push_back(flight);
        self.write_line(id, line);
    }

    /// Marks may be held and the person did not confirm: unmark first, and
    /// only quit if that worked (see `finish_status`).
    fn reset_before_quit(&mut self, quit: Queued) {
        let rset_id = self.next_id;
        self.next_id += 1;
        self.trace_write(
            Direction::Note,
            None,
            "QUIT was not confirmed and messages may be marked: sending RSET first".to_string(),
            None,
        );
        let kind = CommandKind::Rset;
        self.in_flight.push_back(InFlight {
            reset_before_quit: Some(quit),
            ..InFlight::new(rset_id, kind, kind.spec().body)
        });
        self.write_line(rset_id, Command::Rset.line());
    }

    /// Puts a line for the command `id` (already in flight) on the wire.
    pub(super) fn write_line(&mut self, id: RequestId, line: Line) {
        self.output.extend_from_slice(&line.wire);
        self.output.extend_from_slice(b"\r\n");
        // A line shown other than sent had something hidden: its size could
        // tell a secret's length, so it has none.
        let bytes = (line.wire == line.shown.as_bytes()).then_some(line.wire.len() as u64 + 2);
        self.trace_write(Direction::Sent, Some(id), line.shown, bytes);
    }
}
