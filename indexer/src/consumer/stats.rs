//! What one run of the indexer did, for its caller and progress display.

use crate::pipeline::BatchStats;

#[derive(Debug, Default, Clone, Copy)]
pub struct IndexStats {
    pub messages: u64,
    pub dead_lettered: u64,
    pub docs: BatchStats,
    pub batches: u64,
    pub retries: u64,
    /// Times consumption was paused because a batch could not be applied.
    pub pauses: u64,
    /// Times it resumed after such a pause.
    pub resumes: u64,
    /// Retries after which a health probe failed (an outage).
    pub outage_retries: u64,
    /// Documents dead-lettered after `max_attempts` healthy failures.
    pub retries_exhausted: u64,
    /// Messages whose partition was revoked before their offsets could be
    /// stored (the new owner redoes them).
    pub abandoned: u64,
    /// Rebalances that assigned partitions to this consumer.
    pub assignments: u64,
    /// From the first message received to the last batch settled: the
    /// time the pipeline worked, without start-up, the group join or the
    /// idle wait of `--until-idle` (what the benchmarks divide by).
    pub active: std::time::Duration,
}
