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

impl fmt::Display for SyncSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_counts(f, "scanned")?;
        write!(f, " in {:.1}s", self.duration.as_secs_f64())
    }
}
