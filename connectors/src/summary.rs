//! The line every sync run ends with, and the numbers tests assert on.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct SyncSummary {
    pub connector_id: String,
    /// Items looked at in the source.
    pub scanned: u64,
    /// Messages acknowledged by Kafka (documents + tombstones).
    pub published: u64,
    pub unchanged: u64,
    pub tombstones: u64,
    /// Items refused (e.g. symlinks leaving the vault) or unreadable.
    pub skipped: u64,
    /// Messages Kafka did not acknowledge.
    pub failed: u64,
    pub dry_run: bool,
    #[serde(with = "millis")]
    pub duration: Duration,
}

mod millis {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

impl SyncSummary {
    /// The counts every connector's summary line starts with, `scanned`
    /// named as the source names it ("scanned" notes, "fetched" issues).
    pub fn write_counts(&self, f: &mut fmt::Formatter<'_>, scanned: &str) -> fmt::Result {
        write!(
            f,
            "{}{}: {scanned} {}, published {}, unchanged {}, tombstones {}, skipped {}, failed {}",
            self.connector_id,
            if self.dry_run { " (dry run)" } else { "" },
            self.scanned,
            self.published,
            self.unchanged,
            self.tombstones,
            self.skipped,
            self.failed,
        )
    }
}

impl SyncSummary {
    /// The one "finished" log line of a run, its counts as fields; `what`
    /// names the run (`sync`, `watch sync`); `report`: the whole report as
    /// JSON, where the source has more to say than the counts.
    pub fn log_finished(&self, what: &str, report: Option<&str>) {
        tracing::info!(
            connector = %self.connector_id,
            scanned = self.scanned,
            published = self.published,
            unchanged = self.unchanged,
            tombstones = self.tombstones,
            skipped = self.skipped,
            failed = self.failed,
            dry_run = self.dry_run,
            duration_ms = self.duration.as_millis() as u64,
            report,
            "{what} finished"
        );
    }

    /// A report's summary line: the counts (`scanned` named as the source
    /// names it), then the source's own numbers, then the duration.
    pub fn write_line(
        &self,
        f: &mut fmt::Formatter<'_>,
        scanned: &str,
        numbers: &[(&str, u64)],
    ) -> fmt::Result {
        self.write_counts(f, scanned)?;
        for (name, value) in numbers {
            write!(f, ", {name} {value}")?;
        }
        write!(f, " in {:.1}s", self.duration.as_secs_f64())
    }
}

/// A run's report as the CLI records, logs and prints it.
pub trait RunReport: Serialize + fmt::Display {
    fn summary(&self) -> &SyncSummary;

    /// Whether "sync finished" carries the whole report as JSON (the
    /// source has numbers beyond the summary's).
    const DETAILED: bool = true;

    /// What an operator should look at, logged after "sync finished".
    fn log_warnings(&self) {}
}

impl RunReport for SyncSummary {
    const DETAILED: bool = false;

    fn summary(&self) -> &SyncSummary {
        self
    }
}

/// Progress while a run pages through an HTTP source (a live line on
/// stderr).
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncProgress {
    /// Distinct items fetched so far.
    pub fetched: u64,
    /// Messages Kafka acknowledged so far.
    pub published: u64,
    /// HTTP requests so far (Jira: search pages).
    pub requests: u64,
}

/// Where a run reports its progress.
pub type ProgressFn = dyn Fn(SyncProgress) + Send + Sync;

impl fmt::Display for SyncSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_line(f, "scanned", &[])
    }
}
