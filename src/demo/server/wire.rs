//! The wire side of a demo connection: reading command lines, queueing
//! replies and streaming them out (dot-stuffed, TOP cut) in order.

use super::*;

pub(super) enum Line {
    Complete(Vec<u8>),
    TooLong,
    Eof,
}

/// Reads CRLF (or LF) terminated lines of at most [`MAX_COMMAND_LINE`]
/// bytes; longer lines are skipped to their end and reported as `TooLong`.
/// Cancel-safe: a partial line is kept in `line` across calls, so it can be
/// raced against a timeout.
pub(super) struct LineReader<R> {
    inner: BufReader<R>,
    line: Vec<u8>,
    too_long: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub(super) fn new(inner: R) -> Self {
        LineReader {
            inner: BufReader::new(inner),
            line: Vec::new(),
            too_long: false,
        }
    }

    /// True when a whole line is already buffered, i.e. the client sent more
    /// than one command in a batch.
    pub(super) fn has_buffered_line(&self) -> bool {
        self.inner.buffer().contains(&b'\n')
    }

    pub(super) async fn next_line(&mut self) -> io::Result<Line> {
        loop {
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                // A partial last line without its line end is not a command.
                return Ok(Line::Eof);
            }
            let (take, complete) = match buf.iter().position(|&b| b == b'\n') {
                Some(lf) => (lf + 1, true),
                None => (buf.len(), false),
            };
            if !self.too_long {
                if self.line.len() + take > MAX_COMMAND_LINE {
                    self.too_long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(&buf[..take]);
                }
            }
            self.inner.consume(take);
            if complete {
                if std::mem::take(&mut self.too_long) {
                    return Ok(Line::TooLong);
                }
                let mut line = std::mem::take(&mut self.line);
                line.pop(); // LF
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Line::Complete(line));
            }
        }
    }
}

pub(super) async fn read_commands<R: AsyncRead + Unpin>(mut session: Session, input: R, activity: &Activity) -> Ending {
    let options = session.shared.options.clone();
    let mut lines = LineReader::new(input);
    let mut handled = 0usize;
    loop {
        let fresh_batch = !lines.has_buffered_line();
        let line = match unless_idle(lines.next_line(), activity, options.idle_timeout).await {
            None => return Ending::Idle,
            Some(Err(_)) | Some(Ok(Line::Eof)) => return Ending::ClientClosed,
            Some(Ok(line)) => line,
        };
        activity.touch();
        if options.stall_after.is_some_and(|limit| handled >= limit) {
            continue;
        }
        handled += 1;
        if let (true, Some(latency)) = (fresh_batch, options.latency) {
            tokio::time::sleep(latency).await;
        }
        let flow = match line {
            Line::Complete(line) => session.handle_line(&line),
            Line::TooLong => {
                session
                    .replies
                    .err(&format!("line too long (at most {MAX_COMMAND_LINE} octets)"));
                Flow::Continue
            }
            Line::Eof => unreachable!("handled above"),
        };
        if flow == Flow::Quit {
            return Ending::Quit;
        }
    }
}

// ---------------------------------------------------------------------------
// Writing replies
// ---------------------------------------------------------------------------

pub(super) enum Reply {
    Bytes(Vec<u8>),
    /// A message body, streamed and byte-stuffed by the writer; with
    /// `body_lines`, only the header and that many body lines (TOP).
    Message {
        message: Arc<DemoMessage>,
        body_lines: Option<usize>,
    },
}

/// The reader's handle on the reply queue. Sending fails only when the
/// writer has stopped because the socket failed, and then the connection
/// is being torn down anyway, so failures are ignored.
pub(super) struct Replies(pub(super) mpsc::UnboundedSender<Reply>);

impl Replies {
    pub(super) fn bytes(&self, bytes: Vec<u8>) {
        let _ = self.0.send(Reply::Bytes(bytes));
    }

    pub(super) fn ok(&self, text: &str) {
        self.bytes(status_line("+OK", text));
    }

    pub(super) fn err(&self, text: &str) {
        self.bytes(status_line("-ERR", text));
    }

    /// `+OK text` followed by a multi-line body.
    pub(super) fn multiline(&self, text: &str, body: &[u8]) {
        let mut out = status_line("+OK", text);
        encode_multiline(body, &mut out);
        self.bytes(out);
    }

    pub(super) fn message(&self, text: &str, message: &Arc<DemoMessage>, body_lines: Option<usize>) {
        self.ok(text);
        let _ = self.0.send(Reply::Message {
            message: Arc::clone(message),
            body_lines,
        });
    }
}

pub(super) fn status_line(status: &str, text: &str) -> Vec<u8> {
    if text.is_empty() {
        format!("{status}\r\n")
    } else {
        format!("{status} {text}\r\n")
    }
    .into_bytes()
}

pub(super) async fn write_replies<W: AsyncWrite + Unpin>(
    mut queue: mpsc::UnboundedReceiver<Reply>,
    output: W,
    activity: &Activity,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(CHUNK_SIZE, output);
    let mut scratch = Vec::new();
    while let Some(reply) = queue.recv().await {
        match reply {
            Reply::Bytes(bytes) => out.write_all(&bytes).await?,
            Reply::Message { message, body_lines } => {
                write_message(&mut out, &message, body_lines, &mut scratch, activity).await?
            }
        }
        activity.touch();
        // Flush only when nothing more is queued: the answers to a
        // pipelined batch leave in as few segments as possible.
        if queue.is_empty() {
            out.flush().await?;
        }
    }
    out.flush().await?;
    out.shutdown().await
}

/// Sends a message as a multi-line body: stored ones through the codec in
/// one piece, generated ones chunk by chunk so only one chunk is ever in
/// memory.
pub(super) async fn write_message<W: AsyncWrite + Unpin>(
    out: &mut W,
    message: &DemoMessage,
    body_lines: Option<usize>,
    scratch: &mut Vec<u8>,
    activity: &Activity,
) -> io::Result<()> {
    let mut top = body_lines.map(TopCut::new);
    if let Some(bytes) = message.stored_bytes() {
        let end = top.as_mut().map_or(bytes.len(), |top| top.feed(bytes).0);
        scratch.clear();
        encode_multiline(&bytes[..end], scratch);
        return out.write_all(scratch).await;
    }
    let mut stuffer = DotStuffer::default();
    for chunk in message.chunks() {
        let (end, done) = top.as_mut().map_or((chunk.len(), false), |top| top.feed(&chunk));
        scratch.clear();
        stuffer.push(&chunk[..end], scratch);
        out.write_all(scratch).await?;
        activity.touch();
        if done {
            break;
        }
    }
    scratch.clear();
    stuffer.finish(scratch);
    out.write_all(scratch).await
}

/// Byte-stuffing (RFC 1939 §3) across chunk boundaries: the streaming
/// counterpart of `codec::encode_multiline`, which needs the whole body.
#[derive(Debug, Default)]
pub(super) struct DotStuffer {
    mid_line: bool,
}

impl DotStuffer {
    pub(super) fn push(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) {
        out.reserve(bytes.len() + bytes.len() / 64);
        while !bytes.is_empty() {
            if !self.mid_line && bytes[0] == b'.' {
                out.push(b'.');
            }
            match bytes.iter().position(|&b| b == b'\n') {
                Some(lf) => {
                    out.extend_from_slice(&bytes[..=lf]);
                    bytes = &bytes[lf + 1..];
                    self.mid_line = false;
                }
                None => {
                    out.extend_from_slice(bytes);
                    self.mid_line = true;
                    return;
                }
            }
        }
    }

    pub(super) fn finish(self, out: &mut Vec<u8>) {
        if self.mid_line {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

/// Where TOP's output ends: the header, the blank line after it, then
/// `n` body lines (RFC 1939 §7). Fed the message in chunks.
#[derive(Debug)]
pub(super) struct TopCut {
    in_header: bool,
    /// The current line has had nothing but CRs so far.
    line_blank: bool,
    body_lines_left: usize,
}

impl TopCut {
    pub(super) fn new(body_lines: usize) -> TopCut {
        TopCut {
            in_header: true,
            line_blank: true,
            body_lines_left: body_lines,
        }
    }

    /// How much of `chunk` belongs to the output, and whether the output
    /// ends there.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> (usize, bool) {
        let mut pos = 0;
        while let Some(lf) = chunk[pos..].iter().position(|&b| b == b'\n') {
            let blank = self.line_blank && chunk[pos..pos + lf].iter().all(|&b| b == b'\r');
            pos += lf + 1;
            self.line_blank = true;
            if self.in_header {
                if blank {
                    self.in_header = false;
                    if self.body_lines_left == 0 {
                        return (pos, true);
                    }
                }
            } else {
                self.body_lines_left -= 1;
                if self.body_lines_left == 0 {
                    return (pos, true);
                }
            }
        }
        if chunk[pos..].iter().any(|&b| b != b'\r') {
            self.line_blank = false;
        }
        (chunk.len(), false)
    }
}

// ---------------------------------------------------------------------------
// The protocol state machine
// ---------------------------------------------------------------------------
