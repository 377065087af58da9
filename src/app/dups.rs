//! Duplicates: a message is a `dup` when a message with a lower number has
//! the same Message-ID. Found as headers arrive, in any order, at O(1) per
//! answer: an index from each Message-ID to the lowest-numbered message
//! loaded with it. The index keeps 64-bit hashes (a few MB for 100,000
//! messages instead of a copy of every ID) and checks a hit against the
//! other row's own ID, so a hash collision can never make a message a dup.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, RandomState};

/// Whether a message is a duplicate, as far as can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dup {
    /// Its headers are not in, or a lower-numbered message's are not.
    Unknown,
    No,
    Yes,
}

/// What recording one message's Message-ID found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// The lowest-numbered message with this ID so far.
    First,
    /// A lower-numbered message has this ID.
    Dup,
    /// This message is lower-numbered than the one that was first with the
    /// ID: that one (a row index) is a dup now.
    Displaced(usize),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DupIndex<H = RandomState> {
    hasher: H,
    /// Hash of a Message-ID → the lowest row index loaded with it.
    first: HashMap<u64, u32>,
    /// IDs whose hash is another ID's (practically never), by their text.
    collided: HashMap<Box<str>, u32>,
}

impl<H: BuildHasher> DupIndex<H> {
    /// Records that row `i` has the (non-empty) Message-ID `id`. Rows are
    /// in message-number order, so a lower index is a lower number.
    /// `id_of(j)` is the ID of a row recorded earlier.
    pub fn record<'r>(&mut self, i: usize, id: &str, id_of: impl Fn(usize) -> &'r str) -> Found {
        let row = u32::try_from(i).unwrap_or(u32::MAX);
        let slot = match self.first.entry(self.hasher.hash_one(id)) {
            Entry::Vacant(vacant) => {
                vacant.insert(row);
                return Found::First;
            }
            Entry::Occupied(slot) => slot,
        };
        let j = *slot.get() as usize;
        if id_of(j) == id {
            return keep_lowest(slot.into_mut(), row);
        }
        match self.collided.entry(id.into()) {
            Entry::Vacant(vacant) => {
                vacant.insert(row);
                Found::First
            }
            Entry::Occupied(slot) => keep_lowest(slot.into_mut(), row),
        }
    }
}

/// `first` holds the lowest row with an ID; `row` has it too.
fn keep_lowest(first: &mut u32, row: u32) -> Found {
    if *first < row {
        Found::Dup
    } else {
        let displaced = *first as usize;
        *first = row;
        Found::Displaced(displaced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_number_is_the_original_whatever_the_order() {
        let ids = ["a", "b", "a", "c", "a"];
        let mut index = DupIndex::<RandomState>::default();
        assert_eq!(index.record(2, ids[2], |j| ids[j]), Found::First);
        assert_eq!(index.record(4, ids[4], |j| ids[j]), Found::Dup);
        assert_eq!(index.record(1, ids[1], |j| ids[j]), Found::First);
        assert_eq!(index.record(0, ids[0], |j| ids[j]), Found::Displaced(2));
        assert_eq!(index.record(3, ids[3], |j| ids[j]), Found::First);
    }

    /// A hasher that gives every ID the same hash.
    #[derive(Default)]
    struct Colliding;

    impl BuildHasher for Colliding {
        type Hasher = Zero;
        fn build_hasher(&self) -> Zero {
            Zero
        }
    }

    struct Zero;

    impl std::hash::Hasher for Zero {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, _: &[u8]) {}
    }

    /// IDs that share a hash are still told apart by their text.
    #[test]
    fn a_hash_collision_is_not_a_dup() {
        let ids = ["x", "y", "y", "x", "z"];
        let mut index = DupIndex::<Colliding>::default();
        let found: Vec<Found> = [3, 2, 1, 0, 4]
            .iter()
            .map(|&i| index.record(i, ids[i], |j| ids[j]))
            .collect();
        assert_eq!(
            found,
            [
                Found::First,
                Found::First,
                Found::Displaced(2),
                Found::Displaced(3),
                Found::First
            ]
        );
    }
}
