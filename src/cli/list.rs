//! `popscope list`: every message (or those `--match` selects) with
//! number, UID, size and its main headers, as a table, JSON Lines or a
//! JSON array (`list_output`). Read-only: it never marks.

use super::list_output::{Format, RowWriter};
use super::select::{Selector, parse_match};
use super::{ListArgs, TraceFile};
use crate::error::Failure;
use crate::mail::HeaderSummary;
use crate::mailbox::{ListingPlan, TopAnswer, UidList, apply_list, apply_stat, budget_for};
use crate::pop3::client::{Command, MAX_TOP_BYTES, Outcome, Priority};
use crate::query::{MessageFacts, Verdict};
use crate::session::driver::{CommandResult, Route};
use crate::session::{self, Session};
use crate::text::human_size;
use serde::Serialize;
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use tokio::sync::oneshot;

/// One listed message.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub msg: u32,
    pub uid: Option<String>,
    pub size: u64,
    #[serde(flatten)]
    pub headers: Option<HeaderSummary>,
    /// A message earlier in the list has the same Message-ID.
    #[serde(skip)]
    pub dup: bool,
}

/// What `--match` reads of a listed message.
impl MessageFacts for Listing {
    type Headers = HeaderSummary;

    fn number(&self) -> u32 {
        self.msg
    }

    fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn headers(&self) -> Option<&HeaderSummary> {
        self.headers.as_ref()
    }

    fn is_dup(&self) -> Option<bool> {
        Some(self.dup)
    }
}

pub async fn run(args: &ListArgs) -> Result<(), Failure> {
    let mut selector = args
        .matching
        .as_deref()
        .map(parse_match)
        .transpose()?
        .map(|query| Selector::new(Some(query), None));
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(&args.connect)?;
    let session = session::open(&config, trace.observers(None)).await?;
    for warning in &session.report.warnings {
        eprintln!("popscope: warning: {warning}");
    }
    let stdout = std::io::stdout();
    let format = Format::of(args, stdout.is_terminal());
    let mut rows = RowWriter::new(std::io::BufWriter::new(stdout.lock()), format);
    let result = list_messages(&session, |listing| {
        if let Some(selector) = selector.as_mut()
            && selector.judge(listing) != Verdict::Match
        {
            return Ok(());
        }
        rows.row(listing)
    })
    .await;
    let written = rows.finish();
    let quit = session.quit(false).await;
    trace.finish().await;
    let (count, bytes) = result?;
    written?;
    match &selector {
        // Even with nothing matched: a script can tell "none" from a failure
        // by the exit code, a person by this line.
        Some(selector) => eprintln!("{}", selector.summary("match")),
        None if !format.is_json() => eprintln!("{count} messages, {}", human_size(bytes)),
        None => {}
    }
    if let session::QuitResult::Unknown(reason) = quit {
        eprintln!("popscope: warning: no answer to QUIT ({reason}); nothing was marked, so nothing changes");
    }
    Ok(())
}

/// Fetches STAT, LIST, UIDL and every header block (pipelined when the
/// session allows) and hands each message to `emit` in order, as its
/// answer arrives. The TOPs go through the inspector's sliding window
/// (`mailbox::budget_for`): never more than that many are queued, so
/// memory stays the same however many messages LIST claims. Returns the
/// maildrop's message count and total size (from LIST, however many rows
/// were emitted). Stops early, without error, when `emit` fails (e.g. the
/// reader of a pipe went away). What to ask and how to read the answers is
/// `crate::mailbox`'s, the same as the inspector's; what it has to tell the
/// person goes to standard error.
pub async fn list_messages(
    session: &Session,
    mut emit: impl FnMut(&Listing) -> std::io::Result<()>,
) -> Result<(u64, u64), Failure> {
    let report = &session.report;
    // The TOPs follow as soon as LIST is in, without waiting for UIDL.
    let mut listed = Listed::start(session).await?;
    let sizes = std::mem::take(&mut listed.sizes);
    let total = sizes.iter().fold(0u64, |sum, (_, size)| sum.saturating_add(*size));
    if let Some(notice) = listed.plan.top_notice() {
        warn(notice);
    }
    let mut headers = HeaderWindow::new(session, &sizes, budget_for(report.window));
    if listed.plan.asks_top() {
        headers.refill()?;
    }
    let uids = listed.uids(!sizes.is_empty()).await?;
    let mut plan = listed.plan;
    let mut message_ids = HashSet::new();
    for (msg, size) in &sizes {
        let headers = match headers.next().await? {
            Some(outcome) => {
                let answer = plan.apply_top(*msg, outcome);
                if plan.asks_top() {
                    headers.refill()?;
                }
                match answer {
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
        let dup = headers
            .as_ref()
            .is_some_and(|h| !h.message_id().is_empty() && !message_ids.insert(h.message_id().to_string()));
        let listing = Listing {
            msg: *msg,
            uid: uids.get(*msg).map(str::to_string),
            size: *size,
            headers,
            dup,
        };
        if emit(&listing).is_err() {
            break;
        }
    }
    Ok((sizes.len() as u64, total))
}

/// The TOPs in flight for `list`, in message order: at most `budget` of
/// them, refilled as answers are taken.
struct HeaderWindow<'a> {
    session: &'a Session,
    messages: std::slice::Iter<'a, (u32, u64)>,
    in_flight: VecDeque<oneshot::Receiver<CommandResult>>,
    budget: usize,
}

impl<'a> HeaderWindow<'a> {
    fn new(session: &'a Session, sizes: &'a [(u32, u64)], budget: usize) -> HeaderWindow<'a> {
        HeaderWindow {
            session,
            messages: sizes.iter(),
            in_flight: VecDeque::with_capacity(budget),
            budget,
        }
    }

    /// Sends TOPs until `budget` are in flight or every message was asked.
    fn refill(&mut self) -> Result<(), Failure> {
        while self.in_flight.len() < self.budget {
            let Some((msg, _)) = self.messages.next() else {
                return Ok(());
            };
            let (tx, rx) = oneshot::channel();
            self.session.submit(
                Command::Top { msg: *msg, lines: 0 },
                Priority::Normal,
                Route::Reply {
                    tx,
                    limit: MAX_TOP_BYTES,
                },
            )?;
            self.in_flight.push_back(rx);
        }
        Ok(())
    }

    /// The answer to the oldest TOP in flight; `None` when none is (the
    /// server has no TOP, or was never asked).
    async fn next(&mut self) -> Result<Option<Outcome>, Failure> {
        let Some(rx) = self.in_flight.pop_front() else {
            return Ok(None);
        };
        match rx.await {
            Ok(Ok(outcome)) => Ok(Some(outcome)),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Ok(Some(Outcome::Lost("the session ended while listing".into()))),
        }
    }
}

pub(crate) fn warn(notice: &str) {
    eprintln!("popscope: warning: {notice}");
}

type Pending<'s> = Pin<Box<dyn Future<Output = Result<Outcome, Failure>> + 's>>;

/// The start of every listing (`list`, `clean`, `fetch`): STAT, LIST and
/// UIDL (when the server may have it) on the wire together, and LIST
/// checked against STAT's count; UIDL's answer is taken when wanted.
pub(crate) struct Listed<'s> {
    pub(crate) plan: ListingPlan,
    pub(crate) sizes: Vec<(u32, u64)>,
    uidl: Option<Pending<'s>>,
}

impl<'s> Listed<'s> {
    pub(crate) async fn start(session: &'s Session) -> Result<Listed<'s>, Failure> {
        let report = &session.report;
        let plan = ListingPlan::from_capa(report.capa_after.as_ref().or(report.capa_before.as_ref()));
        let stat = session.send_now(Command::Stat)?;
        let list = session.send_now(Command::List(None))?;
        let uidl: Option<Pending<'s>> = if plan.asks_uidl() {
            Some(Box::pin(session.send_now(Command::Uidl(None))?))
        } else {
            None
        };
        let count = apply_stat(stat.await?)?;
        let sizes = apply_list(list.await?, count)?;
        Ok(Listed { plan, sizes, uidl })
    }

    /// UIDL's answer, applied; says what is missing (a server without
    /// UIDL is worth a word only when there are messages).
    pub(crate) async fn uids(&mut self, any_messages: bool) -> Result<UidList, Failure> {
        let uids = match self.uidl.take() {
            Some(uidl) => self.plan.apply_uidl(uidl.await?)?,
            None => UidList::default(),
        };
        match (uids.notice(), self.plan.uidl_notice()) {
            (Some(notice), _) => warn(&notice),
            (None, Some(notice)) if any_messages => warn(notice),
            _ => {}
        }
        Ok(uids)
    }
}
