//! The senders view: who is flooding this box. Messages grouped by sender
//! address or by its domain, with their count and total size. The groups
//! are counted in one pass the first time the view opens, then kept up to
//! date as each header answer arrives (one hash update, not a rescan); the
//! view ranks them when it draws, sorting only the groups it shows.

use super::keymap::Action;
use super::row::MessageRow;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Address,
    Domain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupOrder {
    Count,
    Size,
}

/// The messages of one sender (or domain) whose headers are in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Group {
    pub count: usize,
    pub bytes: u64,
}

impl Group {
    fn add(&mut self, size: u64) {
        self.count += 1;
        self.bytes = self.bytes.saturating_add(size);
    }
}

/// Group counts by lower-cased address and by domain.
#[derive(Debug, Clone, Default)]
pub struct SenderIndex {
    /// Counted once, when the view first opens; kept up to date after.
    built: bool,
    by_address: HashMap<Box<str>, Group>,
    by_domain: HashMap<Box<str>, Group>,
    /// Every message counted in some group.
    counted: Group,
}

impl SenderIndex {
    /// Counts every loaded row, the first time only.
    pub fn build(&mut self, rows: &[MessageRow]) {
        if !self.built {
            self.built = true;
            rows.iter().for_each(|row| self.add(row));
        }
    }

    /// Counts a row whose headers just arrived (nothing before `build`).
    pub fn add(&mut self, row: &MessageRow) {
        let (true, Some(headers)) = (self.built, row.summary()) else {
            return;
        };
        let address = lowercase(sender_address(headers.from()));
        let domain = domain_of(&address);
        bump(&mut self.by_domain, domain, row.size);
        bump(&mut self.by_address, &address, row.size);
        self.counted.add(row.size);
    }

    pub fn counted(&self) -> Group {
        self.counted
    }

    pub fn len(&self, grouping: Grouping) -> usize {
        self.groups(grouping).len()
    }

    fn groups(&self, grouping: Grouping) -> &HashMap<Box<str>, Group> {
        match grouping {
            Grouping::Address => &self.by_address,
            Grouping::Domain => &self.by_domain,
        }
    }

    /// The first `take` groups in `order`: biggest first, ties by key.
    /// Only those are sorted (a selection finds them), so 100,000 distinct
    /// senders cost one pass, not a full sort, per frame.
    pub fn ranked(&self, grouping: Grouping, order: GroupOrder, take: usize) -> Vec<(&str, Group)> {
        let mut all: Vec<(&str, Group)> = self.groups(grouping).iter().map(|(k, g)| (&**k, *g)).collect();
        let rank = |a: &(&str, Group), b: &(&str, Group)| -> Ordering {
            let (first, second) = match order {
                GroupOrder::Count => (b.1.count.cmp(&a.1.count), b.1.bytes.cmp(&a.1.bytes)),
                GroupOrder::Size => (b.1.bytes.cmp(&a.1.bytes), b.1.count.cmp(&a.1.count)),
            };
            first.then(second).then(a.0.cmp(b.0))
        };
        if take == 0 {
            return Vec::new();
        }
        if take < all.len() {
            all.select_nth_unstable_by(take - 1, rank);
            all.truncate(take);
        }
        all.sort_unstable_by(rank);
        all
    }
}

fn bump(groups: &mut HashMap<Box<str>, Group>, key: &str, size: u64) {
    match groups.get_mut(key) {
        Some(group) => group.add(size),
        None => {
            let mut group = Group::default();
            group.add(size);
            groups.insert(key.into(), group);
        }
    }
}

fn lowercase(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_uppercase) {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// The address in a From as the header reader writes it ("Name <addr>",
/// or the bare address); the whole text when there is no `<…>`.
pub(crate) fn sender_address(from: &str) -> &str {
    let from = from.trim();
    match (from.strip_suffix('>'), from.rfind('<')) {
        (Some(inner), Some(open)) if open < inner.len() => inner[open + 1..].trim(),
        _ => from,
    }
}

/// What follows the last `@`; empty without one.
pub(crate) fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// Whether `row` (its headers in) belongs to the group `key`.
pub(crate) fn in_group(row: &MessageRow, grouping: Grouping, key: &str) -> bool {
    let Some(headers) = row.summary() else { return false };
    let address = sender_address(headers.from());
    let text = match grouping {
        Grouping::Address => address,
        Grouping::Domain => domain_of(address),
    };
    text.chars().flat_map(char::to_lowercase).eq(key.chars())
}

/// A query that finds a group, for the limit and its title. From is
/// matched as a substring, so an address that is part of a longer one
/// (`bob@x` in `jimbob@x`) brings that one along; the title shows the
/// query, so the limit says what it does.
pub(crate) fn group_query(grouping: Grouping, key: &str) -> String {
    match (grouping, key) {
        (Grouping::Address, "") => "-header:From".into(),
        (Grouping::Domain, "") => "-from:@".into(),
        (Grouping::Address, key) => format!("from:{}", quoted(key)),
        (Grouping::Domain, key) => format!("from:{}", quoted(&format!("@{key}"))),
    }
}

/// How a group is named on screen.
pub(crate) fn group_label(grouping: Grouping, key: &str) -> &str {
    match (grouping, key) {
        (Grouping::Address, "") => "(no sender)",
        (Grouping::Domain, "") => "(no domain)",
        (_, key) => key,
    }
}

fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The view's own state: how it groups and ranks, and its selection.
#[derive(Debug, Clone)]
pub struct SendersView {
    pub grouping: Grouping,
    pub order: GroupOrder,
    /// Position of the selection in the ranking.
    pub selected: usize,
    /// First position shown.
    pub offset: usize,
}

impl Default for SendersView {
    fn default() -> SendersView {
        SendersView {
            grouping: Grouping::Address,
            order: GroupOrder::Count,
            selected: 0,
            offset: 0,
        }
    }
}

impl SendersView {
    /// A movement key over `len` groups, `page` shown at once.
    pub(crate) fn move_selection(&mut self, action: Action, page: usize, count: usize, len: usize) {
        let last = len.saturating_sub(1);
        let step = count.max(1);
        self.selected = match action {
            Action::Down => self.selected.saturating_add(step),
            Action::Up => self.selected.saturating_sub(step),
            Action::PageDown => self.selected.saturating_add(page.max(1) * step),
            Action::PageUp => self.selected.saturating_sub(page.max(1) * step),
            Action::First => 0,
            Action::Last => last,
            _ => self.selected,
        }
        .min(last);
        self.keep_visible(page, len);
    }

    pub(crate) fn keep_visible(&mut self, height: usize, len: usize) {
        let height = height.max(1);
        self.selected = self.selected.min(len.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }

    /// A new grouping or order: back to the top.
    pub(crate) fn regroup(&mut self, grouping: Grouping, order: GroupOrder) {
        self.grouping = grouping;
        self.order = order;
        self.selected = 0;
        self.offset = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::row::Headers;
    use crate::mail::HeaderSummary;
    use crate::query::{MatchContext, Query};

    fn row(number: u32, size: u64, from: &str) -> MessageRow {
        let mut row = MessageRow::new(number, size);
        let block = format!("From: {from}\r\nSubject: s\r\n\r\n");
        row.headers = Headers::Loaded(Box::new(HeaderSummary::parse(block.as_bytes())));
        row
    }

    #[test]
    fn addresses_and_domains_are_read_from_the_from_text() {
        assert_eq!(sender_address("Bob <Bob@X.example>"), "Bob@X.example");
        assert_eq!(sender_address("bob@x.example"), "bob@x.example");
        assert_eq!(sender_address("Just a name"), "Just a name");
        assert_eq!(sender_address(""), "");
        assert_eq!(domain_of("bob@x.example"), "x.example");
        assert_eq!(domain_of("nobody"), "");
    }

    #[test]
    fn groups_count_and_rank_incrementally() {
        let rows = [
            row(1, 10, "Bob <bob@x.example>"),
            row(2, 500, "Ann <ann@y.example>"),
            row(3, 20, "BOB <BOB@x.example>"),
        ];
        let mut index = SenderIndex::default();
        index.add(&rows[0]);
        assert_eq!(
            index.len(Grouping::Address),
            0,
            "nothing is counted before the view opens"
        );
        index.build(&rows[..2]);
        index.add(&rows[2]);
        let by_count = index.ranked(Grouping::Address, GroupOrder::Count, 10);
        assert_eq!(
            by_count,
            [
                ("bob@x.example", Group { count: 2, bytes: 30 }),
                ("ann@y.example", Group { count: 1, bytes: 500 })
            ]
        );
        let by_size = index.ranked(Grouping::Address, GroupOrder::Size, 1);
        assert_eq!(by_size, [("ann@y.example", Group { count: 1, bytes: 500 })]);
        assert_eq!(index.len(Grouping::Domain), 2);
        assert_eq!(index.counted(), Group { count: 3, bytes: 530 });
        assert!(in_group(&rows[2], Grouping::Address, "bob@x.example"));
        assert!(in_group(&rows[2], Grouping::Domain, "x.example"));
        assert!(!in_group(&rows[1], Grouping::Domain, "x.example"));
    }

    /// Every group query parses, and finds the group's messages.
    #[test]
    fn group_queries_find_their_group() {
        let rows = [
            row(1, 1, "Bob <bob@x.example>"),
            row(2, 1, "\"a\\\"b\" <x\"y@q.example>"),
            row(3, 1, "nobody"),
        ];
        let cases = [
            (Grouping::Address, "bob@x.example", 0),
            (Grouping::Domain, "x.example", 0),
            (Grouping::Address, "x\"y@q.example", 1),
            (Grouping::Domain, "", 2),
        ];
        for (grouping, key, member) in cases {
            let text = group_query(grouping, key);
            let query = Query::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let context = MatchContext::at(0);
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(query.evaluate(r, &context).is_match(), i == member, "{text} on row {i}");
            }
            assert!(in_group(&rows[member], grouping, key), "{key}");
        }
    }
}
