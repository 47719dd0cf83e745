//! Stable community ids.
//!
//! Rule: each community takes the id of the previous run's (still active)
//! community it overlaps most, measured by Jaccard similarity of the member
//! ids, if that similarity is at least the threshold (0.5 by default).
//! Pairs are matched greedily, best similarity first (ties: the earlier
//! community, then the smaller previous id), so each id goes to at most one
//! community. A community that matches none gets a fresh id derived from
//! its members: `c-` + the first 16 hex digits of sha256 of the sorted
//! member ids, so the same members give the same id even without history.
//! Hence: the same members keep their id; a small change (an edit, one
//! document added or removed from a community of three or more) keeps it; a
//! split keeps the id on the larger part.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

/// A community as the previous run left it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousCommunity {
    pub id: String,
    pub members: BTreeSet<String>,
}

/// An id for each of `current` (member lists), in order.
pub fn assign_ids(
    current: &[Vec<String>],
    previous: &[PreviousCommunity],
    threshold: f64,
) -> Vec<String> {
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (j, p) in previous.iter().enumerate() {
        for m in &p.members {
            owner.insert(m.as_str(), j);
        }
    }
    // (similarity, current index, previous index) of overlapping pairs.
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, members) in current.iter().enumerate() {
        let mut overlap: BTreeMap<usize, usize> = BTreeMap::new();
        for m in members {
            if let Some(&j) = owner.get(m.as_str()) {
                *overlap.entry(j).or_insert(0) += 1;
            }
        }
        for (j, shared) in overlap {
            let union = members.len() + previous[j].members.len() - shared;
            let similarity = shared as f64 / union as f64;
            if similarity >= threshold {
                pairs.push((similarity, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(previous[a.2].id.cmp(&previous[b.2].id))
    });
    let mut ids: Vec<Option<String>> = vec![None; current.len()];
    let mut used = vec![false; previous.len()];
    for (_, i, j) in pairs {
        if ids[i].is_none() && !used[j] {
            ids[i] = Some(previous[j].id.clone());
            used[j] = true;
        }
    }
    // Fresh ids must not take one a previous community still holds.
    let mut taken: BTreeSet<String> = previous.iter().map(|p| p.id.clone()).collect();
    taken.extend(ids.iter().flatten().cloned());
    ids.into_iter()
        .zip(current)
        .map(|(id, members)| {
            id.unwrap_or_else(|| {
                let fresh = fresh_id(members, &taken);
                taken.insert(fresh.clone());
                fresh
            })
        })
        .collect()
}

fn fresh_id(members: &[String], taken: &BTreeSet<String>) -> String {
    let mut sorted: Vec<&str> = members.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let mut salt = 0u32;
    loop {
        let mut hasher = Sha256::new();
        hasher.update(sorted.join("\n").as_bytes());
        if salt > 0 {
            hasher.update(format!("\n#{salt}").as_bytes());
        }
        let id = format!("c-{}", &hex::encode(hasher.finalize())[..16]);
        if !taken.contains(&id) {
            return id;
        }
        salt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_string()).collect()
    }

    fn prev(id: &str, members: &[&str]) -> PreviousCommunity {
        PreviousCommunity {
            id: id.into(),
            members: members.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn the_same_members_give_the_same_id_without_history() {
        let a = assign_ids(&[set(&["x", "y"]), set(&["z"])], &[], 0.5);
        let b = assign_ids(&[set(&["z"]), set(&["y", "x"])], &[], 0.5);
        assert_eq!(a[0], b[1]);
        assert_eq!(a[1], b[0]);
        assert_ne!(a[0], a[1]);
        assert!(a[0].starts_with("c-") && a[0].len() == 18);
    }

    #[test]
    fn a_small_change_keeps_the_id() {
        let previous = [
            prev("c-old", &["a", "b", "c", "d"]),
            prev("c-other", &["x", "y"]),
        ];
        // One member added, one removed: Jaccard 3/5.
        let ids = assign_ids(
            &[set(&["x", "y"]), set(&["a", "b", "c", "e"])],
            &previous,
            0.5,
        );
        assert_eq!(ids, ["c-other", "c-old"]);
    }

    #[test]
    fn a_big_change_gets_a_fresh_id_and_a_split_keeps_it_on_the_larger_part() {
        let previous = [prev("c-old", &["a", "b", "c", "d", "e", "f"])];
        let ids = assign_ids(
            &[set(&["a", "b"]), set(&["c", "d", "e", "f"])],
            &previous,
            0.5,
        );
        assert_eq!(ids[1], "c-old");
        assert_ne!(ids[0], "c-old");
        let unrelated = assign_ids(&[set(&["a", "q", "r", "s"])], &previous, 0.5);
        assert_ne!(unrelated[0], "c-old");
    }

    #[test]
    fn a_fresh_id_never_collides_with_a_held_one() {
        // A previous community whose id is the hash of {a, b} now holds
        // other members; a new {a, b} must not take that id.
        let hash_ab = assign_ids(&[set(&["a", "b"])], &[], 0.5).remove(0);
        let previous = [prev(&hash_ab, &["p", "q", "r"])];
        let ids = assign_ids(&[set(&["p", "q", "r"]), set(&["a", "b"])], &previous, 0.5);
        assert_eq!(ids[0], hash_ab);
        assert_ne!(ids[1], hash_ab);
    }
}
