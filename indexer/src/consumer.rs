//! The indexer's Kafka loop: at-least-once, idempotent, in order.
//!
//! Offsets are *stored* (`enable.auto.offset.store=false`) only after a
//! batch's points are flushed to the store or its poison messages are
//! acknowledged by the dead-letter topic; the background auto-commit only
//! ever commits what was stored. Within a partition messages are applied in
//! order (a batch keeps the last version of each id, and ids map to one
//! partition), so storing the highest offset of a batch never skips work.
//! Infrastructure errors are retried with backoff, forever, until shutdown:
//! an outage pauses the assigned partitions (the consumer is still polled,
//! so it stays in the group) and the failed batch is retried as the probe;
//! it never drains good messages into the DLQ. Only a document the embedding
//! server refuses on its own is dead-lettered (`EmbedderRejected`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use backoff::backoff::Backoff;
use backoff::ExponentialBackoffBuilder;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;
use tributary_core::config::{IndexerConfig, KafkaConfig};
use tributary_core::kafka::{self, KafkaError};
use tributary_core::Document;

use crate::dlq::DeadLetters;
use crate::pause::PauseGate;
use crate::pipeline::{BatchStats, Pipeline, ProcessError};
use crate::reject::{self, Rejection};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error("committing offsets failed: {0}")]
    Commit(rdkafka::error::KafkaError),
}

impl From<rdkafka::error::KafkaError> for IndexError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        IndexError::Kafka(KafkaError::Client(e))
    }
}

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
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Exit once every assigned partition is consumed to its end.
    pub until_idle: bool,
}

pub struct Indexer {
    pub kafka: KafkaConfig,
    pub settings: IndexerConfig,
    pub pipeline: Pipeline,
}

enum BatchOutcome {
    Done,
    Abandoned,
}

impl Indexer {
    fn consumer(&self) -> Result<StreamConsumer, IndexError> {
        let consumer: StreamConsumer = kafka::client_config(&self.kafka)
            .set("group.id", &self.settings.group_id)
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .create()?;
        Ok(consumer)
    }

    /// Consumes until `shutdown` is cancelled (or, with `until_idle`, until
    /// caught up). Returns what it did; offsets of everything it finished are
    /// committed before it returns.
    pub async fn run(
        &self,
        opts: RunOptions,
        shutdown: CancellationToken,
    ) -> Result<IndexStats, IndexError> {
        kafka::check_topic(&self.kafka, &self.kafka.topic)?;
        let dlq = DeadLetters::connect(&self.kafka)?;
        let consumer = self.consumer()?;
        consumer.subscribe(&[&self.kafka.topic])?;
        tracing::info!(topic = %self.kafka.topic, group = %self.settings.group_id, "indexer started");

        let mut stats = IndexStats::default();
        let mut gate = PauseGate::new(&consumer);
        let mut last_message = Instant::now();
        let batch_wait = Duration::from_millis(self.settings.batch_wait_ms);
        loop {
            let batch = tokio::select! {
                _ = shutdown.cancelled() => break,
                batch = next_batch(&consumer, self.settings.batch_size, batch_wait) => batch?,
            };
            if batch.is_empty() {
                if opts.until_idle
                    && last_message.elapsed() >= Duration::from_millis(self.settings.idle_ms)
                    && caught_up(&consumer, &self.kafka)?
                {
                    tracing::info!(
                        "caught up with every assigned partition; exiting (--until-idle)"
                    );
                    break;
                }
                continue;
            }
            last_message = Instant::now();
            match self
                .process_with_retry(&batch, &dlq, &mut gate, &mut stats, &shutdown)
                .await
            {
                BatchOutcome::Done => {
                    for msg in &batch {
                        // Stored only now: the batch is durable (points or DLQ).
                        if let Err(err) =
                            consumer.store_offset(msg.topic(), msg.partition(), msg.offset())
                        {
                            // Partition revoked meanwhile; its new owner redoes it, idempotently.
                            tracing::warn!(partition = msg.partition(), offset = msg.offset(), error = %err,
                                "could not store offset");
                        }
                    }
                    stats.batches += 1;
                    stats.messages += batch.len() as u64;
                }
                BatchOutcome::Abandoned => break,
            }
        }
        // Commit what was stored; nothing unprocessed was stored.
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => {}
            // Nothing stored since the last auto-commit.
            Err(rdkafka::error::KafkaError::ConsumerCommit(
                rdkafka::types::RDKafkaErrorCode::NoOffset,
            )) => {}
            Err(err) => return Err(IndexError::Commit(err)),
        }
        tracing::info!(
            messages = stats.messages,
            indexed = stats.docs.indexed,
            deleted = stats.docs.deleted,
            unchanged = stats.docs.unchanged,
            chunks = stats.docs.chunks,
            dead_lettered = stats.dead_lettered,
            pauses = stats.pauses,
            "indexer stopped"
        );
        Ok(stats)
    }

    /// Parses the batch, dead-letters what cannot be parsed, applies the
    /// rest; pauses consumption and retries through outages until shutdown.
    async fn process_with_retry(
        &self,
        batch: &[OwnedMessage],
        dlq: &DeadLetters,
        gate: &mut PauseGate<'_>,
        stats: &mut IndexStats,
        shutdown: &CancellationToken,
    ) -> BatchOutcome {
        // Dead-lettering happens once; the parsed remainder is retried.
        let mut latest: HashMap<String, (Document, &OwnedMessage)> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut poison = Vec::new();
        for msg in batch {
            match reject::accept(msg.payload(), self.settings.max_document_bytes) {
                Ok(doc) => {
                    if !latest.contains_key(&doc.id) {
                        order.push(doc.id.clone());
                    }
                    // Later offsets win: the batch's final state per id.
                    latest.insert(doc.id.clone(), (doc, msg));
                }
                Err(rejection) => poison.push((msg, rejection)),
            }
        }
        for (msg, rejection) in poison {
            if !self
                .dead_letter(msg, &rejection, dlq, gate, stats, shutdown)
                .await
            {
                return BatchOutcome::Abandoned;
            }
        }
        let docs: Vec<(Document, &OwnedMessage)> =
            order.iter().filter_map(|id| latest.remove(id)).collect();
        if docs.is_empty() {
            return BatchOutcome::Done;
        }
        let all: Vec<Document> = docs.iter().map(|(doc, _)| doc.clone()).collect();
        let rejected = match self.apply_through_outages(all, gate, stats, shutdown).await {
            Applied::Done(batch_stats) => {
                stats.docs.add(batch_stats);
                return BatchOutcome::Done;
            }
            Applied::Abandoned => return BatchOutcome::Abandoned,
            Applied::Rejected(err) => err,
        };
        // One input made the server refuse the whole request. Which one is
        // unknown, so each document is tried alone once: only those refused
        // on their own are dead-lettered, the rest are indexed.
        tracing::warn!(error = %rejected, docs = docs.len(),
            "embedder rejected a batch; retrying its documents one by one");
        for (doc, msg) in docs {
            let id = doc.id.clone();
            match self
                .apply_through_outages(vec![doc], gate, stats, shutdown)
                .await
            {
                Applied::Done(batch_stats) => stats.docs.add(batch_stats),
                Applied::Abandoned => return BatchOutcome::Abandoned,
                Applied::Rejected(err) => {
                    tracing::warn!(doc_id = %id, error = %err, "document rejected by the embedder");
                    let rejection = Rejection {
                        class: reject::EMBEDDER_REJECTED,
                        reason: err.to_string(),
                    };
                    if !self
                        .dead_letter(msg, &rejection, dlq, gate, stats, shutdown)
                        .await
                    {
                        return BatchOutcome::Abandoned;
                    }
                }
            }
        }
        BatchOutcome::Done
    }

    /// Applies `docs`, retrying with backoff while anything but the input is
    /// at fault. The first failure pauses the assigned partitions; each
    /// retry is the probe, and the first success resumes them.
    async fn apply_through_outages(
        &self,
        docs: Vec<Document>,
        gate: &mut PauseGate<'_>,
        stats: &mut IndexStats,
        shutdown: &CancellationToken,
    ) -> Applied {
        let mut backoff = retry_backoff();
        loop {
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => return Applied::Abandoned,
                r = self.pipeline.apply(docs.clone()) => r,
            };
            let err = match attempt {
                Ok(batch_stats) => {
                    self.resume(gate, stats);
                    return Applied::Done(batch_stats);
                }
                Err(err) if err.is_rejected_input() => {
                    self.resume(gate, stats);
                    return Applied::Rejected(err);
                }
                Err(err) => err,
            };
            if gate.pause(&err.to_string()) {
                stats.pauses += 1;
            }
            let wait = backoff.next_backoff().unwrap_or(MAX_BACKOFF);
            tracing::warn!(error = %err, wait_ms = wait.as_millis() as u64, docs = docs.len(),
                "batch failed; retrying (offsets not stored)");
            stats.retries += 1;
            if !gate.wait(wait, shutdown).await {
                return Applied::Abandoned;
            }
        }
    }

    fn resume(&self, gate: &mut PauseGate<'_>, stats: &mut IndexStats) {
        if gate.resume() {
            stats.resumes += 1;
        }
    }

    /// Writes one message to the DLQ, retrying (paused) until the DLQ
    /// acknowledges it; false on shutdown.
    async fn dead_letter(
        &self,
        msg: &OwnedMessage,
        rejection: &Rejection,
        dlq: &DeadLetters,
        gate: &mut PauseGate<'_>,
        stats: &mut IndexStats,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut backoff = retry_backoff();
        loop {
            match dlq.send(msg, rejection, 1).await {
                Ok(()) => {
                    stats.dead_lettered += 1;
                    self.resume(gate, stats);
                    return true;
                }
                Err(err) => {
                    if gate.pause(&format!("DLQ write failed: {err}")) {
                        stats.pauses += 1;
                    }
                    let wait = backoff.next_backoff().unwrap_or(MAX_BACKOFF);
                    tracing::warn!(error = %err, wait_ms = wait.as_millis() as u64, "DLQ write failed; retrying");
                    stats.retries += 1;
                    if !gate.wait(wait, shutdown).await {
                        return false;
                    }
                }
            }
        }
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

fn retry_backoff() -> backoff::ExponentialBackoff {
    ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_millis(200))
        .with_max_interval(MAX_BACKOFF)
        .with_max_elapsed_time(None)
        .build()
}

/// What became of applying a set of documents.
enum Applied {
    Done(BatchStats),
    /// The embedding server refused the input (permanent for these bytes).
    Rejected(ProcessError),
    Abandoned,
}

/// Up to `max` messages: waits for the first, then takes whatever else
/// arrives within `wait`.
async fn next_batch(
    consumer: &StreamConsumer,
    max: usize,
    wait: Duration,
) -> Result<Vec<OwnedMessage>, IndexError> {
    let mut batch = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while batch.len() < max {
        match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Ok(Ok(msg)) => batch.push(msg.detach()),
            Ok(Err(err)) => {
                // Transient client errors (broker restart...) are reported by
                // librdkafka and retried by it; log and keep what we have.
                tracing::warn!(error = %err, "consumer error");
                break;
            }
            Err(_) => break,
        }
    }
    Ok(batch)
}

/// True when the group has an assignment and every assigned partition's
/// position is at its high watermark.
fn caught_up(consumer: &StreamConsumer, cfg: &KafkaConfig) -> Result<bool, IndexError> {
    let assignment = consumer.assignment()?;
    if assignment.count() == 0 {
        return Ok(false);
    }
    let timeout = Duration::from_millis(cfg.connect_timeout_ms);
    let positions = consumer.position()?;
    let committed = consumer.committed_offsets(assignment.clone(), timeout)?;
    for elem in assignment.elements() {
        let (low, high) = consumer.fetch_watermarks(elem.topic(), elem.partition(), timeout)?;
        let offset_of =
            |tpl: &TopicPartitionList| match tpl.find_partition(elem.topic(), elem.partition()) {
                Some(e) => match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                },
                None => None,
            };
        let next = offset_of(&positions)
            .or_else(|| offset_of(&committed))
            .unwrap_or(low);
        if next < high {
            return Ok(false);
        }
    }
    Ok(true)
}
