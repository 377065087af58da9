//! A minimal, blocking, independent POP3 client used as the test oracle.
//!
//! It shares no code with popscope on purpose: tests use it to cross-check
//! what popscope reports (counts, sizes, UIDs, message bytes) and to set up
//! or inspect server state. It speaks plain POP3 over `std::net::TcpStream`,
//! one command at a time, and is meant to be obviously correct:
//!
//! * every line read is bounded (`MAX_LINE`), every read has a timeout
//!   (`TIMEOUT`, 30 s: longer than Dovecot's fixed 10 s wait for a locked
//!   maildrop, so a `[IN-USE]` answer arrives before the timeout fires);
//! * multi-line responses end at a line holding only `.`; any other line
//!   starting with `.` has that first `.` removed (RFC 1939 §3);
//! * multi-line bodies are returned exactly as the server sent them after
//!   unstuffing, with CRLF after every line (so `retr(n)` of a Maildir file
//!   written with LF line ends equals `maildrop::to_wire(file)`).
//!
//! benches/pop3.rs uses it too, for the raw limit any POP3 client can
//! reach: `writer()` and `read_raw()` let it pipeline a batch of commands
//! from a second thread and count the answers itself.
//!
//! Dropping a `RawPop3` closes the connection WITHOUT `QUIT`, so the server
//! never enters the UPDATE state and no `DELE` takes effect. Call `quit()` to
//! commit deletions.
//!
//! Convenience methods (`stat`, `list`, `top`, ...) panic with the server's
//! answer on `-ERR`; use `command`/`multiline` (which return `Result`) when a
//! test expects an error.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Read/write timeout on the socket.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound on one line (status or content), CRLF included. Big enough for
/// the 200 KB header line of `maildrop::long_header_line`.
pub const MAX_LINE: usize = 4 * 1024 * 1024;

pub struct RawPop3 {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    greeting: String,
}

impl RawPop3 {
    /// Connects to 127.0.0.1:`port` and reads the greeting, which must be
    /// `+OK`.
    pub fn connect(port: u16) -> io::Result<RawPop3> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        // Every command is one write; Nagle would only delay pipelined ones.
        stream.set_nodelay(true)?;
        let writer = stream.try_clone()?;
        let mut pop = RawPop3 {
            reader: BufReader::new(stream),
            writer,
            greeting: String::new(),
        };
        pop.set_timeout(TIMEOUT)?;
        let greeting = pop.read_line()?;
        if !is_ok(&greeting) {
            return Err(io::Error::other(format!("bad greeting: {greeting:?}")));
        }
        pop.greeting = greeting;
        Ok(pop)
    }

    /// Connects and logs in with USER/PASS; panics with the server's answer
    /// if anything fails.
    pub fn login(port: u16, user: &str, pass: &str) -> RawPop3 {
        match RawPop3::try_login(port, user, pass) {
            Ok(pop) => pop,
            Err(e) => panic!("RawPop3 login as {user:?} on port {port} failed: {e}"),
        }
    }

    /// Connects and logs in with USER/PASS. `Err` holds the server's `-ERR`
    /// line (e.g. `-ERR [IN-USE] ...`, `-ERR [AUTH] ...`) or an I/O error
    /// description.
    pub fn try_login(port: u16, user: &str, pass: &str) -> Result<RawPop3, String> {
        let mut pop = RawPop3::connect(port).map_err(|e| format!("connect: {e}"))?;
        pop.command(&format!("USER {user}"))?;
        pop.command(&format!("PASS {pass}"))?;
        Ok(pop)
    }

    /// Sets the read and write timeout of the socket (default `TIMEOUT`).
    pub fn set_timeout(&self, limit: Duration) -> io::Result<()> {
        self.writer.set_read_timeout(Some(limit))?;
        self.writer.set_write_timeout(Some(limit))
    }

    /// Another handle on the socket, to write from a second thread while
    /// this one reads (a pipelined batch larger than the socket buffers
    /// would otherwise deadlock).
    pub fn writer(&self) -> io::Result<TcpStream> {
        self.writer.try_clone()
    }

    /// Reads whatever bytes arrive next, unparsed (after any that were
    /// already buffered); 0 at the end of the stream.
    pub fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }

    /// The server greeting line (without CRLF).
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// The APOP timestamp `<...>` from the greeting, if any.
    pub fn apop_timestamp(&self) -> Option<&str> {
        let start = self.greeting.find('<')?;
        let end = start + self.greeting[start..].find('>')?;
        Some(&self.greeting[start..=end])
    }

    /// Sends `line` followed by CRLF. No checks: the line is sent as given.
    pub fn send_raw(&mut self, line: &str) -> io::Result<()> {
        self.send_raw_bytes(line.as_bytes())
    }

    /// Sends raw bytes followed by CRLF.
    pub fn send_raw_bytes(&mut self, line: &[u8]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(line.len() + 2);
        buf.extend_from_slice(line);
        buf.extend_from_slice(b"\r\n");
        self.writer.write_all(&buf)?;
        self.writer.flush()
    }

    /// Reads one line and returns it without its line end, as bytes.
    /// End of stream before any byte is an `UnexpectedEof` error.
    pub fn read_line_bytes(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        let n = (&mut self.reader).take(MAX_LINE as u64).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        if line.last() != Some(&b'\n') {
            if line.len() >= MAX_LINE {
                return Err(io::Error::other("line longer than MAX_LINE"));
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a line",
            ));
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(line)
    }

    /// Reads one line (lossy UTF-8, without its line end).
    pub fn read_line(&mut self) -> io::Result<String> {
        Ok(String::from_utf8_lossy(&self.read_line_bytes()?).into_owned())
    }

    /// Sends a command and reads its one-line status. `Ok` holds the `+OK`
    /// line, `Err` the `-ERR` line (or an I/O error description).
    pub fn command(&mut self, line: &str) -> Result<String, String> {
        self.send_raw(line).map_err(|e| format!("send {line:?}: {e}"))?;
        let status = self
            .read_line()
            .map_err(|e| format!("reading answer to {line:?}: {e}"))?;
        if is_ok(&status) { Ok(status) } else { Err(status) }
    }

    /// Sends a command whose `+OK` answer is followed by a multi-line body;
    /// returns the unstuffed body with CRLF after every line. `Err` holds the
    /// `-ERR` line (no body follows it).
    pub fn multiline(&mut self, line: &str) -> Result<Vec<u8>, String> {
        self.command(line)?;
        self.read_multiline_body()
            .map_err(|e| format!("reading body of {line:?}: {e}"))
    }

    /// Reads the body of a multi-line response (after its status line).
    pub fn read_multiline_body(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line_bytes()?;
            if line == b"." {
                return Ok(body);
            }
            let content = match line.strip_prefix(b".") {
                Some(rest) => rest,
                None => &line[..],
            };
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
    }

    /// Reads a multi-line body and splits it into lines (without CRLF).
    fn multiline_lines(&mut self, line: &str) -> Vec<String> {
        let body = self.expect_multi(line);
        let text = String::from_utf8(body).unwrap_or_else(|e| panic!("{line}: not UTF-8: {e}"));
        text.split_terminator("\r\n").map(str::to_owned).collect()
    }

    fn expect_ok(&mut self, line: &str) -> String {
        self.command(line)
            .unwrap_or_else(|e| panic!("RawPop3: {line:?} failed: {e}"))
    }

    fn expect_multi(&mut self, line: &str) -> Vec<u8> {
        self.multiline(line)
            .unwrap_or_else(|e| panic!("RawPop3: {line:?} failed: {e}"))
    }

    /// `STAT` → (message count, total octets).
    pub fn stat(&mut self) -> (u32, u64) {
        let status = self.expect_ok("STAT");
        let mut words = status.split_ascii_whitespace().skip(1);
        let count = words.next().and_then(|w| w.parse().ok());
        let octets = words.next().and_then(|w| w.parse().ok());
        match (count, octets) {
            (Some(c), Some(o)) => (c, o),
            _ => panic!("RawPop3: unparsable STAT answer {status:?}"),
        }
    }

    /// `LIST` → (message number, size) for every undeleted message.
    pub fn list(&mut self) -> Vec<(u32, u64)> {
        self.multiline_lines("LIST")
            .iter()
            .map(|l| {
                let mut w = l.split_ascii_whitespace();
                match (
                    w.next().and_then(|x| x.parse().ok()),
                    w.next().and_then(|x| x.parse().ok()),
                ) {
                    (Some(n), Some(s)) => (n, s),
                    _ => panic!("RawPop3: unparsable LIST line {l:?}"),
                }
            })
            .collect()
    }

    /// `UIDL` → (message number, unique id) for every undeleted message.
    pub fn uidl(&mut self) -> Vec<(u32, String)> {
        self.multiline_lines("UIDL")
            .iter()
            .map(|l| {
                let mut w = l.split_ascii_whitespace();
                match (w.next().and_then(|x| x.parse().ok()), w.next()) {
                    (Some(n), Some(id)) => (n, id.to_owned()),
                    _ => panic!("RawPop3: unparsable UIDL line {l:?}"),
                }
            })
            .collect()
    }

    /// `TOP n lines` → headers, blank line and `lines` body lines (CRLF).
    pub fn top(&mut self, n: u32, lines: u32) -> Vec<u8> {
        self.expect_multi(&format!("TOP {n} {lines}"))
    }

    /// `RETR n` → the whole message (CRLF line ends, unstuffed).
    pub fn retr(&mut self, n: u32) -> Vec<u8> {
        self.expect_multi(&format!("RETR {n}"))
    }

    /// `DELE n`; panics on `-ERR`. Takes effect only after `quit()`.
    pub fn dele(&mut self, n: u32) {
        self.expect_ok(&format!("DELE {n}"));
    }

    /// `RSET`; panics on `-ERR`.
    pub fn rset(&mut self) {
        self.expect_ok("RSET");
    }

    /// `NOOP`; panics on `-ERR`.
    pub fn noop(&mut self) {
        self.expect_ok("NOOP");
    }

    /// `CAPA` → capability lines.
    pub fn capa(&mut self) -> Vec<String> {
        self.multiline_lines("CAPA")
    }

    /// `QUIT`: commits deletions and closes. `Ok` is the `+OK` line, `Err` the
    /// `-ERR` line (e.g. when the server could not remove messages).
    pub fn quit(mut self) -> Result<String, String> {
        self.command("QUIT")
    }
}

/// True if a status line starts with `+OK` (case-insensitively).
pub fn is_ok(status: &str) -> bool {
    status.len() >= 3 && status.as_bytes()[..3].eq_ignore_ascii_case(b"+OK")
}
