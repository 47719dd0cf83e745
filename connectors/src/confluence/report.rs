//! What a Confluence run reports: the common [`SyncSummary`] plus what an
//! operator of an HTTP source needs, and which spaces failed.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::summary::{RunReport, SyncSummary};

#[derive(Debug, Default, Clone, Serialize)]
pub struct ConfluenceSyncReport {
    /// `scanned` counts distinct pages and blog posts fetched.
    #[serde(flatten)]
    pub summary: SyncSummary,
    /// Listing and search requests (the slim listing included).
    pub requests: u64,
    /// HTTP retries (429, 5xx overloads, connection errors).
    pub retries: u64,
    /// Whether this run listed every page id and looked for deletions.
    pub pruned: bool,
    /// Pages cut to `max_page_bytes` (flagged `truncated` in metadata).
    pub truncated: u64,
    /// Macros rendered as their plain inner text, by name.
    pub unknown_macros: BTreeMap<String, u64>,
    /// Each space's watermark after the run.
    pub watermarks: BTreeMap<String, Option<DateTime<Utc>>>,
    /// Spaces that failed this run; their watermarks did not move.
    pub failures: Vec<SpaceFailure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpaceFailure {
    pub space: String,
    pub error: String,
}

impl RunReport for ConfluenceSyncReport {
    fn summary(&self) -> &SyncSummary {
        &self.summary
    }

    fn log_warnings(&self) {
        for failure in &self.failures {
            tracing::error!(space = %failure.space, error = %failure.error, "Confluence space failed");
        }
        if !self.unknown_macros.is_empty() {
            tracing::warn!(macros = ?self.unknown_macros, "Confluence macros kept as their plain text");
        }
    }
}

impl fmt::Display for ConfluenceSyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numbers = [
            ("requests", self.requests),
            ("retries", self.retries),
            ("truncated", self.truncated),
        ];
        self.summary.write_line(f, "fetched", &numbers)?;
        for failure in &self.failures {
            write!(f, "\n  space {} failed: {}", failure.space, failure.error)?;
        }
        Ok(())
    }
}
