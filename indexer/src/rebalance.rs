//! Consumer-group rebalances, seen from the indexer.
//!
//! A rebalance can take partitions away while a batch is being applied (the
//! consumer is polled during outage retries, so it happens exactly when
//! things are slow). The batch is finished, not interrupted: its writes are
//! idempotent. Its offsets are stored only for partitions still assigned
//! afterwards; a revoked partition's new owner starts from the last
//! committed offset and redoes that work, to the same points. Nothing
//! unprocessed is ever stored, and librdkafka's commit on revoke only
//! commits what was stored.

use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::ClientContext;

/// The indexer's consumer: a `StreamConsumer` that logs and counts rebalances.
pub(crate) type IndexConsumer = StreamConsumer<RebalanceLog>;

#[derive(Debug, Default)]
pub(crate) struct RebalanceLog {
    revocations: AtomicU64,
    assignments: AtomicU64,
}

impl RebalanceLog {
    /// Increases every time partitions are taken away; comparing two
    /// readings tells whether a revocation happened in between.
    pub(crate) fn revocations(&self) -> u64 {
        self.revocations.load(Ordering::SeqCst)
    }

    pub(crate) fn assignments(&self) -> u64 {
        self.assignments.load(Ordering::SeqCst)
    }
}

impl ClientContext for RebalanceLog {}

impl ConsumerContext for RebalanceLog {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                self.revocations.fetch_add(1, Ordering::SeqCst);
                let list: Vec<String> = partitions
                    .elements()
                    .iter()
                    .map(|e| format!("{}/{}", e.topic(), e.partition()))
                    .collect();
                tracing::info!(partitions = ?list,
                    "rebalance: partitions revoked; in-flight work for them keeps no offsets");
            }
            Rebalance::Assign(partitions) => {
                self.assignments.fetch_add(1, Ordering::SeqCst);
                tracing::info!(count = partitions.count(), "rebalance: partitions assigned");
            }
            Rebalance::Error(err) => tracing::warn!(error = %err, "rebalance error"),
        }
    }
}
