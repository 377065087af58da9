//! `popscope list`: every message with number, UID, size and its main
//! headers, as a table or as JSON lines. Read-only: it never marks.

use super::{ListArgs, TraceFile};
use crate::error::{Failure, FailureKind};
use crate::headers::HeaderSummary;
use crate::pop3::client::{Command, MAX_TOP_BYTES, Outcome, Priority};
use crate::pop3::response::{parse_list, parse_uidl};
use crate::session::driver::Route;
use crate::session::{self, Session};
use crate::text::{fit, human_size};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use tokio::sync::oneshot;

/// One listed message.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub msg: u32,
    pub uid: Option<String>,
    pub size: u64,
    #[serde(flatten)]
    pub headers: Option<HeaderSummary>,
}

pub async fn run(args: &ListArgs) -> Result<(), Failure> {
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(args.connect.trace.as_ref())?;
    let session = session::open(&config, trace.observers(None)).await?;
    for warning in &session.report.warnings {
        eprintln!("popscope: warning: {warning}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let json = args.json;
    let result = list_messages(&session, |listing| {
        let line = if json {
            serde_json::to_string(listing).unwrap_or_default()
        } else {
            table_row(listing)
        };
        writeln!(out, "{line}")
    })
    .await;
    let _ = out.flush();
    drop(out);
    let quit = session.quit(false).await;
    trace.finish().await;
    let (count, bytes) = result?;
    if !json {
        eprintln!("{count} messages, {}", human_size(bytes));
    }
    if let session::QuitResult::Unknown(reason) = quit {
        eprintln!("popscope: warning: no answer to QUIT ({reason}); nothing was marked, so nothing changes");
    }
    Ok(())
}

/// Fetches LIST, UIDL and every header block (pipelined when the session
/// allows) and hands each message to `emit` in order. Returns the count and
/// total size. Stops early, without error, when `emit` fails (e.g. the
/// reader of a pipe went away).
pub async fn list_messages(
    session: &Session,
    mut emit: impl FnMut(&Listing) -> std::io::Result<()>,
) -> Result<(u64, u64), Failure> {
    let caps = session.report.capabilities();
    let capa_known = session.report.capa_after.is_some() || session.report.capa_before.is_some();
    let want_uidl = caps.uidl || !capa_known;
    // LIST and UIDL go out together; the TOPs follow as soon as LIST is
    // in, without waiting for UIDL.
    let list = session.send_now(Command::List(None))?;
    let uidl = if want_uidl {
        Some(session.send_now(Command::Uidl(None))?)
    } else {
        None
    };
    let sizes = match list.await? {
        Outcome::Ok(reply) => {
            parse_list(reply.payload()).map_err(|e| Failure::new(FailureKind::Protocol, e.to_string()))?
        }
        Outcome::Err(status) => return Err(crate::session::server_refused("LIST", &status)),
        other => {
            return Err(Failure::new(
                FailureKind::Protocol,
                format!("LIST: unexpected outcome {other:?}"),
            ));
        }
    };
    let mut want_top = caps.top || !capa_known;
    if !want_top {
        eprintln!("popscope: warning: the server does not offer TOP; headers are not shown");
    }
    let mut pending: Vec<oneshot::Receiver<_>> = Vec::new();
    if want_top {
        for (msg, _) in &sizes {
            let (tx, rx) = oneshot::channel();
            session.submit(
                Command::Top { msg: *msg, lines: 0 },
                Priority::Normal,
                Route::Reply {
                    tx,
                    limit: MAX_TOP_BYTES,
                },
            )?;
            pending.push(rx);
        }
    }
    let uids: HashMap<u32, String> = match uidl {
        Some(uidl) => match uidl.await? {
            Outcome::Ok(reply) => parse_uidl(reply.payload())
                .map_err(|e| Failure::new(FailureKind::Protocol, e.to_string()))?
                .into_iter()
                .collect(),
            _ => HashMap::new(),
        },
        None => HashMap::new(),
    };
    if uids.is_empty() && !sizes.is_empty() {
        eprintln!("popscope: warning: the server has no UIDL; messages are identified by number only");
    }
    let mut total = 0u64;
    let mut receivers = pending.into_iter();
    for (count, (msg, size)) in sizes.iter().enumerate() {
        let headers = match (want_top, receivers.next()) {
            (true, Some(rx)) => match rx.await {
                Ok(Ok(Outcome::Ok(reply))) => Some(HeaderSummary::parse(reply.payload())),
                Ok(Ok(Outcome::Err(status))) => {
                    if count == 0 && !capa_known {
                        eprintln!("popscope: warning: TOP failed ({status}); headers are not shown");
                        want_top = false;
                    }
                    None
                }
                Ok(Ok(_)) | Err(_) => {
                    return Err(session
                        .failure()
                        .unwrap_or_else(|| Failure::new(FailureKind::Connect, "the session ended while listing")));
                }
                Ok(Err(failure)) => return Err(failure),
            },
            _ => None,
        };
        total += size;
        let listing = Listing {
            msg: *msg,
            uid: uids.get(msg).cloned(),
            size: *size,
            headers,
        };
        if emit(&listing).is_err() {
            break;
        }
    }
    Ok((sizes.len() as u64, total))
}

fn table_row(listing: &Listing) -> String {
    let h = listing.headers.clone().unwrap_or_default();
    let date = h
        .date
        .as_deref()
        .map(|d| d.get(..16).unwrap_or(d).replace('T', " "))
        .unwrap_or_default();
    format!(
        "{:>6}  {:<24}  {:>9}  {:<16}  {}  {}",
        listing.msg,
        fit(listing.uid.as_deref().unwrap_or("-"), 24),
        human_size(listing.size),
        date,
        fit(&h.from, 32),
        fit(&h.subject, 60).trim_end(),
    )
}
