//! The dead-letter topic: writing to it (the indexer), and reading,
//! summarising and redriving it (`tributary dlq`).
//!
//! How "handled" is tracked: the redrive consumer group
//! (`<indexer group>.dlq-redrive`) commits, per partition, only the
//! contiguous prefix of messages that were redriven; the `dlq_resolved`
//! table records redriven messages beyond that prefix. A message is
//! *pending* until it is in one or the other. Messages a filter did not
//! match are never consumed away: they stay pending for a later run.

mod end_of_partition;
mod letter;
mod redrive;
mod resolved;
mod scan;
mod stats;
mod writer;

pub use letter::DeadLetter;
pub use redrive::{redrive, RedriveOptions, RedriveReport};
pub use resolved::Resolved;
pub use scan::{pending, DlqError, Pending};
pub use stats::{stats, DlqStats};
pub use writer::DeadLetters;

/// Which dead letters a command applies to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub class: Option<String>,
    pub source: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Filter {
    pub fn matches(&self, letter: &DeadLetter) -> bool {
        if self.class.as_ref().is_some_and(|c| c != &letter.class) {
            return false;
        }
        if self
            .source
            .as_ref()
            .is_some_and(|s| letter.source.as_ref() != Some(s))
        {
            return false;
        }
        let at = letter.failed_at;
        if self.since.is_some_and(|since| at.is_none_or(|t| t < since)) {
            return false;
        }
        if self.until.is_some_and(|until| at.is_none_or(|t| t > until)) {
            return false;
        }
        true
    }
}
