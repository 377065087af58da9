//! `popscope list`: every message with number, UID, size and its main
//! headers, as a table or as JSON lines. Read-only: it never marks.

use super::{ListArgs, TraceFile};
use crate::error::Failure;
use crate::mail::HeaderSummary;
use crate::mailbox::{ListingPlan, TopAnswer, UidList, apply_list};
use crate::pop3::client::{Command, MAX_TOP_BYTES, Outcome, Priority};
use crate::session::driver::Route;
use crate::session::{self, Session};
use crate::text::{fit, human_size};
use serde::Serialize;
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
/// reader of a pipe went away). What to ask and how to read the answers is
/// `crate::mailbox`'s, the same as the inspector's; what it has to tell the
/// person goes to standard error.
pub async fn list_messages(
    session: &Session,
    mut emit: impl FnMut(&Listing) -> std::io::Result<()>,
) -> Result<(u64, u64), Failure> {
    let report = &session.report;
    let mut plan = ListingPlan::from_capa(report.capa_after.as_ref().or(report.capa_before.as_ref()));
    // LIST and UIDL go out together; the TOPs follow as soon as LIST is
    // in, without waiting for UIDL.
    let list = session.send_now(Command::List(None))?;
    let uidl = if plan.asks_uidl() {
        Some(session.send_now(Command::Uidl(None))?)
    } else {
        None
    };
    let sizes = apply_list(list.await?)?;
    if let Some(notice) = plan.top_notice() {
        warn(notice);
    }
    let mut pending: Vec<oneshot::Receiver<_>> = Vec::new();
    if plan.asks_top() {
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
    let uids = match uidl {
        Some(uidl) => plan.apply_uidl(uidl.await?)?,
        None => UidList::default(),
    };
    match (uids.notice(), plan.uidl_notice()) {
        (Some(notice), _) => warn(&notice),
        (None, Some(notice)) if !sizes.is_empty() => warn(notice),
        _ => {}
    }
    let mut total = 0u64;
    let mut receivers = pending.into_iter();
    for (msg, size) in &sizes {
        let headers = match receivers.next() {
            Some(rx) => {
                let outcome = match rx.await {
                    Ok(Ok(outcome)) => outcome,
                    Ok(Err(failure)) => return Err(failure),
                    Err(_) => Outcome::Lost("the session ended while listing".into()),
                };
                match plan.apply_top(*msg, outcome) {
                    TopAnswer::Headers(summary) => Some(*summary),
                    TopAnswer::NotSupported(notice) => {
                        warn(&notice);
                        None
                    }
                    TopAnswer::Refused(_) | TopAnswer::Skipped => None,
                    // A session that ended knows why (a timeout names the
                    // TOP it waited for); prefer its words.
                    TopAnswer::Failed(failure) => return Err(session.failure().unwrap_or(failure)),
                }
            }
            None => None,
        };
        total += size;
        let listing = Listing {
            msg: *msg,
            uid: uids.get(*msg).map(str::to_string),
            size: *size,
            headers,
        };
        if emit(&listing).is_err() {
            break;
        }
    }
    Ok((sizes.len() as u64, total))
}

fn warn(notice: &str) {
    eprintln!("popscope: warning: {notice}");
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
