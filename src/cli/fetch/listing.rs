//! What `fetch` learns about the maildrop before saving anything: STAT,
//! LIST and UIDL on the wire together, or, when `--match` reads headers, the
//! pipelined LIST/UIDL/TOP sweep of `list`; and which messages the
//! selection (`--match`, `--uids-from`, both: the intersection) takes.

use super::FetchArgs;
use crate::cli::list::{Listed, Listing, list_messages};
use crate::cli::select::Selector;
use crate::error::{Failure, FailureKind};
use crate::mailbox::UidList;
use crate::query::Verdict;
use crate::session::Session;

/// A message the selection took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: u32,
    pub uid: Option<String>,
    pub size: u64,
}

/// The maildrop as the listing saw it.
#[derive(Debug, Default)]
pub struct Rows {
    pub listed: usize,
    /// In list order.
    pub selected: Vec<Row>,
    /// Every message's UID, when every message had one: then a saved UID
    /// missing here has left the server.
    pub uids_on_server: Option<Vec<String>>,
}

impl Rows {
    fn take(&mut self, listing: &Listing, selector: Option<&mut Selector>) {
        self.listed += 1;
        match (&mut self.uids_on_server, &listing.uid) {
            (Some(uids), Some(uid)) => uids.push(uid.clone()),
            (uids, _) => *uids = None,
        }
        let chosen = selector.is_none_or(|s| s.judge(listing) == Verdict::Match);
        if chosen {
            self.selected.push(Row {
                number: listing.msg,
                uid: listing.uid.clone(),
                size: listing.size,
            });
        }
    }

    /// Whether any listed message has a UID.
    pub(crate) fn any_uid(&self) -> bool {
        self.uids_on_server.as_ref().is_some_and(|uids| !uids.is_empty())
            || self.selected.iter().any(|row| row.uid.is_some())
    }
}

/// Lists the maildrop and selects. Headers are asked for only when the
/// query needs them. Notices go to standard error.
pub async fn list(session: &Session, mut selector: Option<&mut Selector>) -> Result<Rows, Failure> {
    let mut rows = Rows {
        uids_on_server: Some(Vec::new()),
        ..Rows::default()
    };
    let needs_headers = selector
        .as_ref()
        .and_then(|s| s.query())
        .is_some_and(|query| query.needs_headers());
    if needs_headers {
        list_messages(session, |listing| {
            rows.take(listing, selector.as_deref_mut());
            Ok(())
        })
        .await?;
        return Ok(rows);
    }
    let (sizes, uids) = list_and_uidl(session).await?;
    for (msg, size) in sizes {
        let listing = Listing {
            msg,
            uid: uids.get(msg).map(str::to_string),
            size,
            headers: None,
            dup: false,
        };
        rows.take(&listing, selector.as_deref_mut());
    }
    Ok(rows)
}

/// STAT, LIST and UIDL (when the server may have it), on the wire
/// together; LIST checked against STAT's count.
async fn list_and_uidl(session: &Session) -> Result<(Vec<(u32, u64)>, UidList), Failure> {
    let mut listed = Listed::start(session).await?;
    let any_messages = !listed.sizes.is_empty();
    let uids = listed.uids(any_messages).await?;
    Ok((listed.sizes, uids))
}

/// Without any UID a second run cannot tell what this one saved (said);
/// `--uids-from` has nothing to select by, and `--delete` needs
/// `--by-number` (refused otherwise, as `clean` does).
pub(crate) fn refuse_without_uids(rows: &Rows, args: &FetchArgs) -> Result<(), Failure> {
    if rows.listed == 0 || rows.any_uid() {
        return Ok(());
    }
    if args.uids_from.is_some() {
        return Err(Failure::new(
            FailureKind::Policy,
            "--uids-from selects by UID, and this server gives no UIDs (no UIDL)",
        )
        .with_hint("select with --match instead"));
    }
    super::warn("without UIDs a second fetch cannot skip what this one saves: it will fetch everything again");
    if args.delete && !args.by_number {
        return Err(Failure::new(
            FailureKind::Policy,
            "this server gives no UIDs (no UIDL): refusing to delete messages by number alone",
        )
        .with_hint(
            "--by-number deletes by message number within this one session (what this run fetched and synced)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::select::{UidSet, parse_match};

    fn listing(msg: u32, uid: Option<&str>, size: u64) -> Listing {
        Listing {
            msg,
            uid: uid.map(str::to_string),
            size,
            headers: None,
            dup: false,
        }
    }

    #[test]
    fn the_selection_takes_the_intersection_and_uids_are_kept_only_when_complete() {
        let mut selector = Selector::new(
            Some(parse_match("size>100").unwrap()),
            Some(UidSet::parse(b"a\nc\n").unwrap()),
        );
        let mut rows = Rows {
            uids_on_server: Some(Vec::new()),
            ..Rows::default()
        };
        for l in [
            listing(1, Some("a"), 500),
            listing(2, Some("b"), 500),
            listing(3, Some("c"), 50),
        ] {
            rows.take(&l, Some(&mut selector));
        }
        assert_eq!(rows.listed, 3);
        assert_eq!(rows.selected.iter().map(|r| r.number).collect::<Vec<_>>(), [1]);
        assert_eq!(
            rows.uids_on_server.as_deref(),
            Some(&["a".to_string(), "b".into(), "c".into()][..])
        );
        rows.take(&listing(4, None, 1), None);
        assert_eq!(rows.uids_on_server, None, "one message without a UID");
        assert!(rows.any_uid());
    }
}
