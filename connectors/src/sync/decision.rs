//! The change decision every connector makes, as pure functions: is an
//! item worth fetching and rendering, does a rendered item need a message,
//! is a vanished item worth a tombstone, and is a deletion listing due.
//! Every source makes the same decision the same way.

use std::collections::HashMap;

use crate::state::ItemState;

/// The recorded state that counts: a tombstoned item is as good as unknown.
pub fn live(prev: Option<&ItemState>) -> Option<&ItemState> {
    prev.filter(|p| !p.deleted)
}

/// Before fetching or rendering an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precheck {
    /// Its fingerprint is already recorded: skip it without reading it.
    Unchanged,
    /// New, changed, or forced: read and render it.
    Render,
}

/// `force`: `--full`, or a change the fingerprint cannot see (a new comment).
pub fn precheck(prev: Option<&ItemState>, fingerprint: &str, force: bool) -> Precheck {
    if !force && live(prev).is_some_and(|p| p.fingerprint == fingerprint) {
        Precheck::Unchanged
    } else {
        Precheck::Render
    }
}

/// What a rendered item needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Touched but nothing indexed changed: record the new fingerprint,
    /// publish nothing (re-embedding identical content is waste).
    Touch,
    /// New or changed content: publish, record once acknowledged.
    Publish,
}

pub fn decide(prev: Option<&ItemState>, content_hash: &str) -> Decision {
    if live(prev).is_some_and(|p| p.content_hash == content_hash) {
        Decision::Touch
    } else {
        Decision::Publish
    }
}

/// An item the source says is gone (deleted, trashed, out of scope) needs a
/// tombstone only if a live version of it was published.
pub fn needs_tombstone(prev: Option<&ItemState>) -> bool {
    live(prev).is_some()
}

/// The tombstone diff: recorded live items the source no longer lists, in
/// id order.
pub fn vanished(
    previous: &HashMap<String, ItemState>,
    listed: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut gone: Vec<String> = previous
        .iter()
        .filter(|(id, p)| !p.deleted && !listed(id))
        .map(|(id, _)| id.clone())
        .collect();
    gone.sort_unstable();
    gone
}

/// Whether the run about to start (successful runs so far: `runs`) lists
/// every item for deletions: when forced (`--prune`), or every `every`th
/// run since the last listing (`every` = 0: only when forced).
pub fn prune_due(forced: bool, every: u32, runs: u64, last_prune_run: u64) -> bool {
    forced || (every > 0 && (runs + 1).saturating_sub(last_prune_run) >= u64::from(every))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(fingerprint: &str, hash: &str, deleted: bool) -> ItemState {
        ItemState {
            fingerprint: fingerprint.into(),
            content_hash: hash.into(),
            deleted,
        }
    }

    #[test]
    fn a_recorded_fingerprint_skips_the_item_unless_forced() {
        let prev = state("f1", "h1", false);
        assert_eq!(precheck(Some(&prev), "f1", false), Precheck::Unchanged);
        assert_eq!(precheck(Some(&prev), "f1", true), Precheck::Render);
        assert_eq!(precheck(Some(&prev), "f2", false), Precheck::Render);
        assert_eq!(precheck(None, "f1", false), Precheck::Render);
        // A tombstoned item is rendered again, whatever its fingerprint.
        let gone = state("f1", "h1", true);
        assert_eq!(precheck(Some(&gone), "f1", false), Precheck::Render);
    }

    #[test]
    fn identical_content_is_touched_changed_or_new_content_published() {
        let prev = state("f1", "h1", false);
        assert_eq!(decide(Some(&prev), "h1"), Decision::Touch);
        assert_eq!(decide(Some(&prev), "h2"), Decision::Publish);
        assert_eq!(decide(None, "h1"), Decision::Publish);
        // Back from the dead with the same content: publish, the index dropped it.
        let gone = state("f1", "h1", true);
        assert_eq!(decide(Some(&gone), "h1"), Decision::Publish);
    }

    #[test]
    fn only_a_live_record_earns_a_tombstone() {
        assert!(needs_tombstone(Some(&state("f", "h", false))));
        assert!(!needs_tombstone(Some(&state("", "h", true))));
        assert!(!needs_tombstone(None));
    }

    #[test]
    fn vanished_lists_live_unlisted_items_in_order() {
        let previous: HashMap<String, ItemState> = [
            ("c".to_owned(), state("f", "h", false)),
            ("a".to_owned(), state("f", "h", false)),
            ("b".to_owned(), state("f", "h", false)),
            ("d".to_owned(), state("", "h", true)),
        ]
        .into();
        assert_eq!(vanished(&previous, |id| id == "b"), ["a", "c"]);
        assert!(vanished(&previous, |_| true).is_empty());
    }

    #[test]
    fn pruning_is_due_every_nth_run_or_when_forced() {
        // every 3rd run, last pruned at run 0: runs 1 and 2 no, the 3rd yes.
        assert!(!prune_due(false, 3, 0, 0));
        assert!(!prune_due(false, 3, 1, 0));
        assert!(prune_due(false, 3, 2, 0));
        assert!(!prune_due(false, 3, 3, 3));
        assert!(prune_due(false, 1, 7, 7));
        assert!(!prune_due(false, 0, 100, 0));
        assert!(prune_due(true, 0, 0, 0));
    }
}
