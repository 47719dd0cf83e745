//! Consumer-group rebalances, seen from the indexer.
//!
//! A rebalance can take partitions away while a batch is being applied (the
//! consumer is polled during outage retries, so it happens exactly when
//! things are slow). Every message is stamped, on receipt, with the
//! position of the revocation log below. If its partition is revoked after
//! that, the message is not ours any more: its next reader (another
//! indexer, or this one after the partition comes back) starts again from
//! the committed offset. So it is not applied (any further: retries stop,
//! the new owner may already hold newer versions) and its offset is never
//! stored. A copy read after the partition came back is ours as usual.
//! Nothing unprocessed is ever stored, and librdkafka's commit on revoke
//! only commits what was stored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::ClientContext;

use super::source::PartitionId;

/// The indexer's consumer: a `StreamConsumer` that logs and counts rebalances.
pub(crate) type IndexConsumer = StreamConsumer<RebalanceLog>;

#[derive(Debug, Default)]
pub(crate) struct RebalanceLog {
    /// Every partition revocation, in order: a position in this list is a
    /// mark, and what was revoked since a mark is the tail after it.
    revoked: Mutex<Vec<PartitionId>>,
    assignments: AtomicU64,
}

impl RebalanceLog {
    /// The current end of the revocation log.
    pub(crate) fn mark(&self) -> usize {
        self.log().len()
    }

    /// Whether `partition` was revoked after `mark`, even if assigned again
    /// since: work read from it before the revocation belongs to whoever
    /// reads it next from the committed offset.
    pub(crate) fn revoked_since(&self, mark: usize, partition: &PartitionId) -> bool {
        self.log().iter().skip(mark).any(|p| p == partition)
    }

    /// A panic elsewhere cannot make the log lie: a poisoned lock still
    /// holds every revocation recorded.
    fn log(&self) -> std::sync::MutexGuard<'_, Vec<PartitionId>> {
        self.revoked.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn assignments(&self) -> u64 {
        self.assignments.load(Ordering::SeqCst)
    }
}

impl ClientContext for RebalanceLog {
    /// librdkafka's statistics (every `statistics.interval.ms`): the lag of
    /// each partition this consumer fetches, and whether a broker is up.
    fn stats(&self, statistics: rdkafka::Statistics) {
        let mut lags = Vec::new();
        let mut unassigned = Vec::new();
        for (topic, t) in &statistics.topics {
            for (&partition, p) in &t.partitions {
                // -1 is librdkafka's internal "unassigned" partition.
                if partition < 0 {
                    continue;
                }
                if p.fetch_state == "none" {
                    unassigned.push((topic.clone(), partition));
                } else if p.consumer_lag >= 0 {
                    lags.push((topic.clone(), partition, p.consumer_lag));
                }
            }
        }
        let broker_up = statistics.brokers.values().any(|b| b.state == "UP");
        crate::events::ConsumerStatistics {
            lags,
            unassigned,
            broker_up,
        }
        .emit();
    }
}

impl ConsumerContext for RebalanceLog {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                let ids: Vec<PartitionId> = partitions
                    .elements()
                    .iter()
                    .map(|e| (e.topic().to_string(), e.partition()))
                    .collect();
                let list: Vec<String> = ids.iter().map(|(t, p)| format!("{t}/{p}")).collect();
                self.log().extend(ids);
                tracing::info!(partitions = ?list,
                    "rebalance: partitions revoked; in-flight work for them keeps no offsets");
            }
            Rebalance::Assign(partitions) => {
                self.assignments.fetch_add(1, Ordering::SeqCst);
                crate::events::PartitionsAssigned {
                    count: partitions.count(),
                }
                .emit();
            }
            Rebalance::Error(err) => tracing::warn!(error = %err, "rebalance error"),
        }
    }
}
