//! The change decision: which communities get a work item this run, why,
//! and which of their members changed since their last dispatch.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

/// Why a work item is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// Never dispatched under this id.
    New,
    /// Its fingerprint differs from the last dispatch's.
    Changed,
    /// Unchanged, published again by `dispatch --all`.
    Republished,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::New => "new",
            Reason::Changed => "changed",
            Reason::Republished => "republished",
        }
    }
}

/// A community as last dispatched (from `dispatch_communities`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatched {
    pub fingerprint: String,
    /// doc id → content hash
    pub members: BTreeMap<String, String>,
}

/// A community of this run, with its id and fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub id: String,
    pub fingerprint: String,
    /// (doc id, content hash), sorted by id
    pub members: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `None`: unchanged, nothing to publish.
    pub reason: Option<Reason>,
    /// Members added or edited since the last dispatch (all of them for a
    /// new community).
    pub changed_members: Vec<String>,
    /// Members of the last dispatch that are no longer in the community
    /// (deleted, or moved to another community).
    pub removed_members: Vec<String>,
    pub previous_fingerprint: Option<String>,
}

pub fn decide(current: &Current, last: Option<&Dispatched>, all: bool) -> Decision {
    let Some(last) = last else {
        return Decision {
            reason: Some(Reason::New),
            changed_members: current.members.iter().map(|(id, _)| id.clone()).collect(),
            removed_members: Vec::new(),
            previous_fingerprint: None,
        };
    };
    let changed_members: Vec<String> = current
        .members
        .iter()
        .filter(|(id, hash)| last.members.get(id) != Some(hash))
        .map(|(id, _)| id.clone())
        .collect();
    let now: HashSet<&str> = current.members.iter().map(|(id, _)| id.as_str()).collect();
    let removed_members: Vec<String> = last
        .members
        .keys()
        .filter(|id| !now.contains(id.as_str()))
        .cloned()
        .collect();
    let reason = if last.fingerprint != current.fingerprint {
        Some(Reason::Changed)
    } else if all {
        Some(Reason::Republished)
    } else {
        None
    };
    Decision {
        reason,
        changed_members,
        removed_members,
        previous_fingerprint: Some(last.fingerprint.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::fingerprint;

    fn current(id: &str, members: &[(&str, &str)]) -> Current {
        Current {
            id: id.into(),
            fingerprint: fingerprint(members.iter().copied()),
            members: members
                .iter()
                .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                .collect(),
        }
    }

    fn dispatched(members: &[(&str, &str)]) -> Dispatched {
        Dispatched {
            fingerprint: fingerprint(members.iter().copied()),
            members: members
                .iter()
                .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                .collect(),
        }
    }

    #[test]
    fn new_changed_unchanged_and_all() {
        let c = current("c-1", &[("a", "h1"), ("b", "h2")]);
        let new = decide(&c, None, false);
        assert_eq!(new.reason, Some(Reason::New));
        assert_eq!(new.changed_members, ["a", "b"]);

        let same = dispatched(&[("a", "h1"), ("b", "h2")]);
        assert_eq!(decide(&c, Some(&same), false).reason, None);
        let forced = decide(&c, Some(&same), true);
        assert_eq!(forced.reason, Some(Reason::Republished));
        assert!(forced.changed_members.is_empty());

        let before = dispatched(&[("a", "h0"), ("b", "h2"), ("gone", "h9")]);
        let changed = decide(&c, Some(&before), false);
        assert_eq!(changed.reason, Some(Reason::Changed));
        assert_eq!(changed.changed_members, ["a"]);
        assert_eq!(changed.removed_members, ["gone"]);
        assert_eq!(changed.previous_fingerprint, Some(before.fingerprint));
    }
}
