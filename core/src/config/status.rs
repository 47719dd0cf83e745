//! `[status]`: the thresholds behind `tributary status`'s verdicts.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusConfig {
    /// A connector with no successful run for this long is degraded
    /// (default: twice the chart's 15-minute schedule).
    pub connector_stale_secs: u64,
    /// An indexer whose heartbeat is older than this is not running.
    pub indexer_stale_secs: u64,
    /// An indexer paused longer than this is failing, not just degraded.
    pub indexer_paused_failing_secs: u64,
    /// A dispatcher with no successful run for this long is degraded.
    pub dispatcher_stale_secs: u64,
}

impl Default for StatusConfig {
    fn default() -> Self {
        StatusConfig {
            connector_stale_secs: 30 * 60,
            indexer_stale_secs: 120,
            indexer_paused_failing_secs: 15 * 60,
            dispatcher_stale_secs: 26 * 3600,
        }
    }
}
