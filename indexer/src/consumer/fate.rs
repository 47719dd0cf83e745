//! What became of each message of a batch, and which offsets that lets the
//! consumer store. Pure: no I/O.
//!
//! A message's offset is stored only when its fate is durable: its
//! document's points are flushed (or it was superseded by a later version
//! in the same batch that was), or its dead letter was acknowledged. A
//! message whose partition was revoked after it was received is not ours:
//! its new owner starts again from the committed offset, so storing it
//! could skip work the new owner has not done.

use std::collections::BTreeMap;

use super::source::PartitionId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Applied to the store (indexed, deleted or proven unchanged).
    Indexed,
    /// Acknowledged by the dead-letter topic.
    DeadLettered,
    /// Its partition was revoked after it was received.
    Revoked,
}

/// What to store and what to report after a batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Settlement {
    /// The highest settled offset per partition: storing it covers every
    /// earlier one (messages arrive in offset order per partition).
    pub(crate) store: Vec<(PartitionId, i64)>,
    pub(crate) dead_lettered: u64,
    /// Messages applied (or not) but left to the partition's new owner.
    pub(crate) revoked: u64,
}

pub(crate) fn settle(fates: impl IntoIterator<Item = (PartitionId, i64, Fate)>) -> Settlement {
    let mut highest: BTreeMap<PartitionId, i64> = BTreeMap::new();
    let mut out = Settlement::default();
    for (partition, offset, fate) in fates {
        match fate {
            Fate::Revoked => {
                out.revoked += 1;
                continue;
            }
            Fate::DeadLettered => out.dead_lettered += 1,
            Fate::Indexed => {}
        }
        let entry = highest.entry(partition).or_insert(offset);
        *entry = (*entry).max(offset);
    }
    out.store = highest.into_iter().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: i32) -> PartitionId {
        ("docs".to_string(), n)
    }

    #[test]
    fn the_highest_settled_offset_of_each_partition_is_stored() {
        let got = settle([
            (p(0), 5, Fate::Indexed),
            (p(1), 7, Fate::DeadLettered),
            (p(0), 6, Fate::DeadLettered),
            (p(1), 8, Fate::Indexed),
        ]);
        assert_eq!(got.store, [(p(0), 6), (p(1), 8)]);
        assert_eq!(got.dead_lettered, 2);
        assert_eq!(got.revoked, 0);
    }

    #[test]
    fn a_revoked_partition_stores_nothing() {
        let got = settle([
            (p(0), 5, Fate::Revoked),
            (p(0), 6, Fate::Revoked),
            (p(1), 2, Fate::Indexed),
        ]);
        assert_eq!(got.store, [(p(1), 2)]);
        assert_eq!(got.revoked, 2);
    }
}
