//! `[indexer]`: the consumer group, batching, chunking and size limits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexerConfig {
    pub group_id: String,
    /// Messages taken from Kafka per batch, at most. Each batch ends with
    /// one store flush and one registry write, so larger batches index
    /// precomputed vectors several times faster (64 → 512: ~2.7× here).
    pub batch_size: usize,
    /// Message bytes per batch, at most: what bounds a batch's memory when
    /// documents are large (`batch_size` × `max_document_bytes` would not).
    /// A message bigger than this is a batch of its own.
    pub batch_bytes: usize,
    /// Longest wait to fill a batch before processing what there is.
    pub batch_wait_ms: u64,
    /// Target chunk size in model tokens, title prefix included. Kept at or
    /// under the model's `max_seq_len` so nothing is silently truncated.
    pub chunk_tokens: usize,
    /// Tokens repeated from the end of one chunk at the start of the next.
    pub chunk_overlap_tokens: usize,
    /// With `--until-idle`: how long the consumer must see nothing new, once
    /// caught up, before exiting.
    pub idle_ms: u64,
    /// Largest message (document JSON) indexed; bigger ones are dead-lettered
    /// as `DocumentTooLarge` and can be redriven after raising this.
    pub max_document_bytes: usize,
    /// Attempts a document gets while the embedder, the store and PostgreSQL
    /// all pass their health probes; then it is dead-lettered as
    /// `RetriesExhausted`. Attempts during an outage (a probe fails) do not
    /// count: an outage pauses consumption, it never fills the DLQ.
    pub max_attempts: u32,
    /// After one `RetriesExhausted`, how long the next suspect is held
    /// (retried, paused, logged as an error) before it is dead-lettered too,
    /// unless another document indexes meanwhile. Guards against a failure
    /// the health probes cannot see draining the topic into the DLQ.
    pub suspect_hold_secs: u64,
    /// How often stored offsets are committed (librdkafka
    /// `auto.commit.interval.ms`); also committed on shutdown and rebalance.
    pub commit_interval_ms: u64,
    /// Consumer group session timeout (librdkafka `session.timeout.ms`):
    /// how long the group waits for a member that stopped heartbeating
    /// (a SIGKILLed indexer) before its partitions go to someone else. The
    /// heartbeat interval is a third of it.
    pub session_timeout_ms: u64,
    /// Static group membership (`group.instance.id`, KIP-345), e.g. the pod
    /// name: a restarted member with the same id gets its partitions back
    /// at once, without waiting for its old session to expire. Unique per
    /// running indexer.
    pub group_instance_id: Option<String>,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        IndexerConfig {
            group_id: "tributary-indexer".into(),
            batch_size: 512,
            batch_bytes: 16 * 1024 * 1024,
            batch_wait_ms: 500,
            chunk_tokens: 256,
            chunk_overlap_tokens: 32,
            idle_ms: 1_000,
            max_document_bytes: 5 * 1024 * 1024,
            max_attempts: 5,
            suspect_hold_secs: 600,
            commit_interval_ms: 5_000,
            session_timeout_ms: 10_000,
            group_instance_id: None,
        }
    }
}

impl IndexerConfig {
    /// Consumer group `tributary dlq` uses to remember what it has handled.
    pub fn redrive_group(&self) -> String {
        format!("{}.dlq-redrive", self.group_id)
    }
}
