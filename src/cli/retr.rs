//! `popscope retr URL --msg N [-o FILE]`: one message, exactly as the
//! server sent it (dot-unstuffed, CRLF), streamed to a file or standard
//! output; memory stays flat whatever the message size. Never marks
//! anything.
//!
//! - `-o FILE`: written beside FILE under a temporary name and renamed
//!   over it only once complete, so a failed RETR never truncates an
//!   existing file. A FILE that is not a regular file (`/dev/null`, a
//!   FIFO) is written directly.
//! - `-o -`, or standard output that is not a terminal: the bytes.
//! - standard output a terminal and no `-o`: the message as the viewer
//!   shows it (headers, text, attachments), sanitized; never raw bytes,
//!   which could drive the terminal.
//!
//! A closed pipe (`| head`) ends the command quietly; a message number
//! the maildrop does not have is a usage error that says how many it has.

use super::{RetrArgs, TraceFile};
use crate::app::viewer::PREVIEW_CAP;
use crate::error::{Failure, FailureKind};
use crate::mail::ParsedMessage;
use crate::mailbox::outcome_failure;
use crate::pop3::client::{Body, Command, Outcome, Priority, Reply};
use crate::pop3::response::{parse_list_entry, parse_stat};
use crate::session::driver::Route;
use crate::session::{self, Session};
use crate::store::Replacement;
use crate::text::human_size;
use std::io::{IsTerminal, Write as _};
use std::path::Path;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;

/// Chunks that may wait between the driver and the writer before the driver
/// stops reading (and TCP pushes back on the server).
const STREAM_DEPTH: usize = 8;

/// Where the message goes, decided (and a file created) before connecting.
enum Destination {
    /// Standard output is a terminal: the sanitized view.
    Terminal,
    Stdout,
    /// A regular (or new) file, replaced on success.
    File(Replacement, std::fs::File),
    /// Something that is not a regular file: written as it is.
    Special(std::fs::File),
}

impl Destination {
    fn choose(output: Option<&Path>) -> Result<Destination, Failure> {
        let Some(path) = output else {
            return Ok(if std::io::stdout().is_terminal() {
                Destination::Terminal
            } else {
                Destination::Stdout
            });
        };
        if path.as_os_str() == "-" {
            return Ok(Destination::Stdout);
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(Failure::new(
                FailureKind::Usage,
                format!("-o {}: it is a directory; give a file name", path.display()),
            )),
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| Failure::new(FailureKind::Local, format!("cannot open {}: {e}", path.display())))?;
                Ok(Destination::Special(file))
            }
            _ => {
                let (replacement, file) = Replacement::begin(path)?;
                Ok(Destination::File(replacement, file))
            }
        }
    }
}

/// How a streamed RETR ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streamed {
    Complete(u64),
    /// The reader went away (a closed pipe): a normal end.
    ReaderGone,
}

pub async fn run(args: &RetrArgs) -> Result<(), Failure> {
    let destination = Destination::choose(args.output.as_deref())?;
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(&args.connect)?;
    let session = session::open(&config, trace.observers(None)).await?;
    let msg = args.message;
    // STAT rides along with RETR: only if RETR is refused does its answer
    // matter (to tell a missing message from a refusal).
    let stat = session.send_now(Command::Stat)?;
    let result = match destination {
        Destination::Terminal => show(&session, msg).await.map(Streamed::Complete),
        Destination::Stdout => retr_to(&session, msg, tokio::io::stdout()).await,
        Destination::Special(file) => retr_to(&session, msg, tokio::fs::File::from_std(file)).await,
        Destination::File(replacement, file) => to_file(&session, msg, replacement, file).await,
    };
    let result = match result {
        Err(failure) if failure.kind == FailureKind::Mailbox || failure.kind == FailureKind::Protocol => {
            Err(missing_message(msg, stat.await).unwrap_or(failure))
        }
        other => {
            drop(stat);
            other
        }
    };
    match result {
        // The rest of the message is still on its way; nothing was marked,
        // so closing without QUIT changes nothing and is quicker.
        Ok(Streamed::ReaderGone) => session.abandon().await,
        _ => {
            session.quit(false).await;
        }
    }
    trace.finish().await;
    if let Streamed::Complete(bytes) = result? {
        eprintln!("message {msg}: {} ({bytes} octets)", human_size(bytes));
    }
    Ok(())
}

/// The usage error for a message number the maildrop does not have, when
/// STAT says so.
fn missing_message(msg: u32, stat: Result<Outcome, Failure>) -> Option<Failure> {
    let Ok(Outcome::Ok(reply)) = stat else {
        return None;
    };
    let (count, _) = parse_stat(&reply.status.text).ok()?;
    if msg <= count {
        return None;
    }
    let has = match count {
        0 => "the maildrop is empty".to_string(),
        1 => "the maildrop has 1 message".to_string(),
        n => format!("the maildrop has {n} messages"),
    };
    Some(
        Failure::new(FailureKind::Usage, format!("no message {msg}; {has}"))
            .with_hint("`popscope list` shows the numbers"),
    )
}

async fn to_file(
    session: &Session,
    msg: u32,
    replacement: Replacement,
    file: std::fs::File,
) -> Result<Streamed, Failure> {
    let file = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(file));
    let streamed = retr_to(session, msg, file).await?;
    replacement.commit()?;
    Ok(streamed)
}

/// Streams message `msg` into `out`. A failed write ends it at once (the
/// caller closes the session): a closed pipe as [`Streamed::ReaderGone`],
/// anything else as an error. Asks `LIST msg` first: a RETR that runs far
/// past that size is stopped.
pub(crate) async fn retr_to(
    session: &Session,
    msg: u32,
    mut out: impl AsyncWrite + Unpin,
) -> Result<Streamed, Failure> {
    let listed_size = listed_size(session, msg).await?;
    let (mut data, done) = session.retr_stream(msg, listed_size, STREAM_DEPTH, Priority::Urgent)?;
    let mut written = 0u64;
    while let Some(chunk) = data.recv().await {
        if let Err(e) = out.write_all(&chunk).await {
            return write_failed(e);
        }
        written += chunk.len() as u64;
    }
    let outcome = done.await.map_err(|_| {
        session
            .failure()
            .unwrap_or_else(|| Failure::new(FailureKind::Connect, "the session ended"))
    })??;
    match outcome {
        Outcome::Ok(Reply {
            body: Some(Body::Streamed { .. }),
            ..
        }) => match out.flush().await {
            Ok(()) => Ok(Streamed::Complete(written)),
            Err(e) => write_failed(e),
        },
        // A session that ended knows why (a timeout names its step).
        Outcome::Lost(_) | Outcome::NotSent(_) if let Some(failure) = session.failure() => Err(failure),
        other => Err(outcome_failure(&format!("RETR {msg}"), &other)),
    }
}

fn write_failed(e: std::io::Error) -> Result<Streamed, Failure> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Ok(Streamed::ReaderGone);
    }
    Err(Failure::new(
        FailureKind::Local,
        format!("cannot write the message: {e}"),
    ))
}

/// Retrieves the message (up to the viewer's cap) and prints it as the
/// viewer shows it. Returns the message's size.
async fn show(session: &Session, msg: u32) -> Result<u64, Failure> {
    let listed_size = listed_size(session, msg).await?;
    let (tx, rx) = oneshot::channel();
    let route = Route::Reply { tx, limit: PREVIEW_CAP };
    session.submit(Command::Retr { msg, listed_size }, Priority::Urgent, route)?;
    let outcome = match rx.await {
        Ok(result) => result?,
        Err(_) => Outcome::Lost("the session ended".into()),
    };
    let (bytes, truncated, total) = match outcome {
        Outcome::Ok(Reply {
            body:
                Some(Body::Collected {
                    bytes,
                    truncated,
                    total_bytes,
                    ..
                }),
            ..
        }) => (bytes, truncated, total_bytes),
        Outcome::Lost(_) | Outcome::NotSent(_) if let Some(failure) = session.failure() => return Err(failure),
        other => return Err(outcome_failure(&format!("RETR {msg}"), &other)),
    };
    let view = ParsedMessage::parse(&bytes, truncated, total);
    let mut out = std::io::stdout().lock();
    let printed = out.write_all(render(&view).as_bytes()).and_then(|()| out.flush());
    match printed {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Failure::new(
                FailureKind::Local,
                format!("cannot show the message: {e}"),
            ));
        }
        _ => {}
    }
    eprintln!("popscope: shown as text (sanitized for the terminal); -o FILE or -o - gives the exact bytes");
    Ok(total)
}

/// The view as plain lines: headers, a blank line, the text, the
/// attachments, and what is missing. Every string in `view` is already
/// safe for a terminal.
fn render(view: &ParsedMessage) -> String {
    let mut text = String::new();
    for (name, value) in &view.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    text.push('\n');
    text.push_str(&view.body);
    if !view.body.ends_with('\n') {
        text.push('\n');
    }
    if !view.attachments.is_empty() {
        text.push_str("\nAttachments:\n");
        for a in &view.attachments {
            text.push_str(&format!(
                "  {}  ({}, {})\n",
                a.name,
                a.content_type,
                human_size(a.size as u64)
            ));
        }
    }
    if let Some(note) = &view.parse_note {
        text.push_str(&format!("\n[{note}]\n"));
    }
    text
}

/// The size `LIST msg` gives. A refusal is no answer (the RETR that follows
/// says why the message cannot be had); a session that ends is a failure.
async fn listed_size(session: &Session, msg: u32) -> Result<Option<u64>, Failure> {
    match session.call(Command::List(Some(msg))).await? {
        Outcome::Ok(reply) => Ok(parse_list_entry(reply.status.text.as_bytes())
            .ok()
            .map(|(_, size)| size)),
        Outcome::Err(_) => Ok(None),
        other => Err(outcome_failure(&format!("LIST {msg}"), &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::client::Reply;
    use crate::pop3::codec::parse_status_line;

    fn stat(line: &str) -> Result<Outcome, Failure> {
        Ok(Outcome::Ok(Reply {
            status: parse_status_line(line.as_bytes()).unwrap(),
            body: None,
        }))
    }

    #[test]
    fn a_number_past_the_end_is_a_usage_error_saying_how_many_there_are() {
        let failure = missing_message(99, stat("+OK 31 4096")).unwrap();
        assert_eq!(failure.kind, FailureKind::Usage);
        assert_eq!(failure.message, "no message 99; the maildrop has 31 messages");
        assert_eq!(
            missing_message(2, stat("+OK 1 10")).unwrap().message,
            "no message 2; the maildrop has 1 message"
        );
        assert_eq!(
            missing_message(1, stat("+OK 0 0")).unwrap().message,
            "no message 1; the maildrop is empty"
        );
        assert!(
            missing_message(3, stat("+OK 31 4096")).is_none(),
            "a refusal, not a missing message"
        );
        assert!(missing_message(99, stat("+OK garbage")).is_none());
        assert!(missing_message(99, Err(Failure::new(FailureKind::Connect, "x"))).is_none());
    }

    #[test]
    fn the_terminal_view_has_no_control_characters_from_the_mail() {
        let raw = b"From: \x1b]0;pwned\x07Eve <e@x>\r\nSubject: \x1b[2Jhi\r\n\r\nbody \x1b]52;c;aGk=\x07 text\r\n";
        let text = render(&ParsedMessage::parse(raw, false, raw.len() as u64));
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(text.contains("Subject: "), "{text}");
        assert!(text.contains("body"), "{text}");
    }
}
