//! What a Jira run reports: the common [`SyncSummary`] plus the numbers an
//! operator of an HTTP source needs (pages, retries, unknown ADF nodes).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::summary::{RunReport, SyncSummary};

#[derive(Debug, Default, Clone, Serialize)]
pub struct JiraSyncReport {
    /// `scanned` counts distinct issues fetched.
    #[serde(flatten)]
    pub summary: SyncSummary,
    /// Search pages requested (the slim listing included).
    pub pages: u64,
    /// HTTP retries (429, 5xx overloads, connection errors).
    pub retries: u64,
    /// Whether this run listed every key and looked for deletions.
    pub pruned: bool,
    pub unknown_adf_nodes: BTreeMap<String, u64>,
    /// The watermark after the run.
    pub watermark: Option<DateTime<Utc>>,
}

impl RunReport for JiraSyncReport {
    fn summary(&self) -> &SyncSummary {
        &self.summary
    }

    fn log_warnings(&self) {
        if !self.unknown_adf_nodes.is_empty() {
            tracing::warn!(nodes = ?self.unknown_adf_nodes, "ADF node types kept as plain text");
        }
    }
}

impl fmt::Display for JiraSyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numbers = [("pages", self.pages), ("retries", self.retries)];
        self.summary.write_line(f, "fetched", &numbers)
    }
}
