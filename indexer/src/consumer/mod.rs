//! The indexer's Kafka consumer: at-least-once, idempotent, in order.
//!
//! Where a message's fate is decided: `run.rs` (`Worker::process` and
//! `Worker::settle`). The rest, one job per file:
//! - `source.rs`: what the loop needs from Kafka (a trait); `kafka_source.rs`
//!   implements it with librdkafka, `settings.rs` holds its settings.
//! - `batch.rs`: decode a batch, keep the last version per id, set aside
//!   poison (pure). `reject.rs`: the checks and the dead-letter classes.
//! - `retry.rs`: applying through outages; `attempts.rs`: the pure decision
//!   of whether a failure counts against a document.
//! - `isolate.rs`: finding the document at fault in a failing batch.
//! - `dead_letter.rs`: writing a dead letter through DLQ outages.
//! - `fate.rs`: which offsets a batch's outcome lets us store (pure).
//! - `pause.rs`, `rebalance.rs`: pausing without leaving the group, and
//!   knowing which partitions were taken away mid-batch.
//!
//! Offsets are *stored* (`enable.auto.offset.store=false`) only once a
//! message's fate is durable: its document's points are flushed, or its
//! dead letter acknowledged; the background auto-commit only ever commits
//! what was stored. Within a partition messages are applied in order, so
//! storing the highest settled offset never skips work. Failures are first
//! presumed outages: the partitions are paused (the consumer is still
//! polled, so it stays in the group) and the batch is retried, forever,
//! until shutdown; good messages are never drained into the DLQ. Only a
//! document the embedding server refuses (`EmbedderRejected`), one that
//! keeps failing while every dependency answers its health probe
//! (`RetriesExhausted`), and messages that can never be a document (see
//! `reject.rs`) are dead-lettered.

mod applier;
mod attempts;
mod batch;
mod dead_letter;
mod fate;
mod isolate;
mod kafka_source;
mod pause;
mod rebalance;
pub mod reject;
mod retry;
mod run;
mod settings;
mod source;
mod stats;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_core::config::{IndexerConfig, KafkaConfig};
use tributary_core::kafka::{self, KafkaError};

use crate::dlq::DeadLetters;
use crate::pipeline::Pipeline;
use attempts::AttemptPolicy;
use kafka_source::KafkaSource;
pub use reject::{DeadLetterClass, Rejection};
pub use run::RunOptions;
use run::{Tuning, Worker};
pub use stats::IndexStats;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error("committing offsets failed: {0}")]
    Commit(rdkafka::error::KafkaError),
    #[error("a Kafka call on the blocking pool failed: {0}")]
    Task(String),
}

impl From<rdkafka::error::KafkaError> for IndexError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        IndexError::Kafka(KafkaError::Client(e))
    }
}

pub struct Indexer {
    pub kafka: KafkaConfig,
    pub settings: IndexerConfig,
    pub pipeline: Pipeline,
}

impl Indexer {
    /// Consumes until `shutdown` is cancelled (or, with `until_idle`, until
    /// caught up). Returns what it did; offsets of everything it finished are
    /// committed before it returns.
    pub async fn run(
        &self,
        opts: RunOptions,
        shutdown: CancellationToken,
    ) -> Result<IndexStats, IndexError> {
        // Both ask the cluster for metadata: off the async workers.
        let kafka_cfg = self.kafka.clone();
        let dlq = tokio::task::spawn_blocking(move || {
            kafka::check_topic(&kafka_cfg, &kafka_cfg.topic)?;
            DeadLetters::connect(&kafka_cfg)
        })
        .await
        .map_err(|e| IndexError::Task(e.to_string()))??;
        let source = KafkaSource::subscribe(&self.kafka, &self.settings)?;
        tracing::info!(topic = %self.kafka.topic, group = %self.settings.group_id, "indexer started");
        crate::events::init();
        crate::events::health().started();
        let policy = AttemptPolicy::new(
            self.settings.max_attempts,
            Duration::from_secs(self.settings.suspect_hold_secs),
        );
        Worker::new(
            &source,
            &self.pipeline,
            &dlq,
            Tuning::from(&self.settings),
            policy,
            opts.progress,
        )
        .run(opts.until_idle, &shutdown)
        .await
    }
}
