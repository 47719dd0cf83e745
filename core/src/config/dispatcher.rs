//! `[dispatcher]`: where work items go and how communities are found.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatcherConfig {
    /// Topic the work items are published to (created by `tributary migrate`).
    pub work_items_topic: String,
    /// Louvain resolution: above 1 gives more, smaller communities.
    pub resolution: f64,
    /// Smallest Jaccard similarity between a community and one of the
    /// previous run's for it to keep that community's id.
    pub id_match_threshold: f64,
    /// Report the run as starving when the documents topic grew since the
    /// previous run, the registry did not change, and the indexer's group is
    /// behind (see README "The dispatcher").
    pub stale_registry_check: bool,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            work_items_topic: "tributary.work-items".into(),
            resolution: 1.0,
            id_match_threshold: 0.5,
            stale_registry_check: true,
        }
    }
}
