//! The consumer loop, and only the loop: poll a batch, process it, settle
//! its offsets, commit. Every message's fate is decided here, in
//! [`Worker::process`] (decode → apply through outages → dead-letter what
//! cannot be indexed) and [`Worker::settle`] (which offsets that lets us
//! store).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::message::{Headers, Message, OwnedMessage};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tributary_core::config::IndexerConfig;

use super::applier::Applier;
use super::attempts::AttemptPolicy;
use super::batch;
use super::dead_letter::DeadLetterSink;
use super::fate::{self, Fate};
use super::pause::PauseGate;
use super::reject::Limits;
use super::source::{partition_of, Delivered, MessageSource, PartitionId, Received};
use super::stats::IndexStats;
use super::IndexError;
use crate::pipeline::BatchStats;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Exit once every assigned partition is consumed to its end.
    pub until_idle: bool,
    /// Receives the running totals after every batch (progress display).
    pub progress: Option<tokio::sync::watch::Sender<IndexStats>>,
}

/// How long, after a message, the loop waits for the next one before it
/// processes what it has. A backlog is already fetched by librdkafka and
/// arrives well within it, so batches fill; on a quiet topic a lone edit
/// is processed at once instead of waiting out `indexer.batch_wait_ms`.
const QUIET_GAP: Duration = Duration::from_millis(5);

/// The loop's knobs, from `[indexer]`.
#[derive(Debug, Clone)]
pub(crate) struct Tuning {
    pub(crate) batch_size: usize,
    /// Payload bytes a batch stops taking messages at.
    pub(crate) batch_bytes: usize,
    /// Longest wait for a batch's first message before checking idleness.
    pub(crate) batch_wait: Duration,
    /// With `until_idle`: how long nothing must arrive before exiting.
    pub(crate) idle: Duration,
    pub(crate) max_document_bytes: usize,
}

impl From<&IndexerConfig> for Tuning {
    fn from(cfg: &IndexerConfig) -> Self {
        Tuning {
            batch_size: cfg.batch_size.max(1),
            batch_bytes: cfg.batch_bytes.max(1),
            batch_wait: Duration::from_millis(cfg.batch_wait_ms),
            idle: Duration::from_millis(cfg.idle_ms),
            max_document_bytes: cfg.max_document_bytes,
        }
    }
}

pub(super) enum BatchOutcome {
    /// Every message has a fate (applied, dead-lettered or revoked).
    Done,
    /// Shutdown came first: nothing of the batch is stored.
    Abandoned,
}

/// One run of the consumer loop and what it carries between batches.
pub(crate) struct Worker<'a, S, A, D> {
    pub(super) source: &'a S,
    pub(super) applier: &'a A,
    pub(super) dlq: &'a D,
    pub(super) tuning: Tuning,
    /// Revocation mark at the receipt of each message of the current batch.
    marks: HashMap<(PartitionId, i64), usize>,
    /// Messages of the current batch whose dead letter was acknowledged.
    pub(super) dead_lettered: HashSet<(PartitionId, i64)>,
    pub(super) gate: PauseGate<'a, S>,
    pub(super) policy: AttemptPolicy,
    pub(super) stats: IndexStats,
    /// Where the running totals go after every batch and every retry.
    progress: Option<tokio::sync::watch::Sender<IndexStats>>,
}

impl<'a, S: MessageSource, A: Applier, D: DeadLetterSink> Worker<'a, S, A, D> {
    pub(crate) fn new(
        source: &'a S,
        applier: &'a A,
        dlq: &'a D,
        tuning: Tuning,
        policy: AttemptPolicy,
        progress: Option<tokio::sync::watch::Sender<IndexStats>>,
    ) -> Self {
        Worker {
            source,
            applier,
            dlq,
            tuning,
            marks: HashMap::new(),
            dead_lettered: HashSet::new(),
            gate: PauseGate::new(source),
            policy,
            stats: IndexStats::default(),
            progress,
        }
    }

    /// Consumes until `shutdown` (or, with `until_idle`, until caught up).
    /// Offsets of everything finished are committed before it returns.
    pub(crate) async fn run(
        mut self,
        until_idle: bool,
        shutdown: &CancellationToken,
    ) -> Result<IndexStats, IndexError> {
        let mut last_message = Instant::now();
        let mut first_message: Option<Instant> = None;
        loop {
            // Messages delivered while paused lead, in their order.
            let mut received = self.gate.take_held();
            let room = Room {
                messages: self.tuning.batch_size.saturating_sub(received.len()).max(1),
                bytes: self
                    .tuning
                    .batch_bytes
                    .saturating_sub(received.iter().map(|d| payload_len(&d.msg)).sum())
                    .max(1),
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                more = next_batch(self.source, room, self.tuning.batch_wait) => received.extend(more),
            };
            if received.is_empty() {
                if until_idle
                    && last_message.elapsed() >= self.tuning.idle
                    && self.source.caught_up().await?
                {
                    tracing::info!(
                        "caught up with every assigned partition; exiting (--until-idle)"
                    );
                    break;
                }
                continue;
            }
            last_message = Instant::now();
            let first = *first_message.get_or_insert(last_message);
            self.marks = received
                .iter()
                .map(|d| ((partition_of(&d.msg), d.msg.offset()), d.mark))
                .collect();
            self.dead_lettered.clear();
            let batch: Vec<OwnedMessage> = received.into_iter().map(|d| d.msg).collect();
            match self.process(&batch, shutdown).await {
                BatchOutcome::Done => {
                    self.settle(&batch).await;
                    self.stats.active = first.elapsed();
                }
                // Nothing of it is stored: redone from the last commit.
                BatchOutcome::Abandoned => break,
            }
        }
        // Commit what was stored; nothing unprocessed was stored.
        self.source.commit().await?;
        let mut stats = self.stats;
        stats.assignments = self.source.assignments();
        tracing::info!(
            messages = stats.messages,
            indexed = stats.docs.indexed,
            deleted = stats.docs.deleted,
            unchanged = stats.docs.unchanged,
            chunks = stats.docs.chunks,
            dead_lettered = stats.dead_lettered,
            retries_exhausted = stats.retries_exhausted,
            pauses = stats.pauses,
            "indexer stopped"
        );
        Ok(stats)
    }

    /// Decides the fate of every message of the batch: parses it,
    /// dead-letters what cannot be parsed, applies the rest (pausing and
    /// retrying through outages until shutdown).
    async fn process(
        &mut self,
        msgs: &[OwnedMessage],
        shutdown: &CancellationToken,
    ) -> BatchOutcome {
        let limits = Limits {
            max_bytes: self.tuning.max_document_bytes,
            dimension: self.applier.dimension(),
        };
        let batch = batch::build(msgs, limits);
        // Each document's span continues the trace its connector started
        // (the `traceparent` header); the batch span links them all.
        let batch_span = tracing::info_span!("index_batch", documents = batch.docs.len());
        let doc_spans: Vec<tracing::Span> = batch
            .docs
            .iter()
            .map(|(doc, msg)| {
                let span = tracing::info_span!(parent: None, "index_document",
                    doc_id = %doc.id, partition = msg.partition(), offset = msg.offset());
                tributary_core::trace::continue_from(&span, header_pairs(msg));
                tributary_core::trace::link(&batch_span, &span);
                span
            })
            .collect();
        let applied = self
            .apply_docs(batch.docs, shutdown)
            .instrument(batch_span)
            .await;
        drop(doc_spans);
        if let BatchOutcome::Abandoned = applied {
            return BatchOutcome::Abandoned;
        }
        // Poison is dead-lettered only once the rest of its batch is done:
        // a batch abandoned during an outage (SIGTERM) is redone from the
        // last commit, and must not write the same dead letter again.
        for (msg, rejection) in batch.poison {
            if !self.dead_letter(msg, &rejection, 1, None, shutdown).await {
                return BatchOutcome::Abandoned;
            }
        }
        BatchOutcome::Done
    }

    /// Stores the offsets the batch's fates allow, and commits at once when
    /// it wrote dead letters.
    async fn settle(&mut self, msgs: &[OwnedMessage]) {
        self.resume();
        let fates: Vec<(PartitionId, i64, Fate)> = msgs
            .iter()
            .map(|msg| (partition_of(msg), msg.offset(), self.fate_of(msg)))
            .collect();
        let settlement = fate::settle(fates);
        for (partition, offset) in &settlement.store {
            if let Err(err) = self.source.store_offset(partition, *offset) {
                tracing::warn!(topic = %partition.0, partition = partition.1, offset, error = %err,
                    "could not store offset; the messages will be redone, idempotently");
            }
        }
        if settlement.revoked > 0 {
            tracing::info!(messages = settlement.revoked,
                "partitions revoked during the batch; their messages are redone from the last commit");
        }
        self.stats.abandoned += settlement.revoked;
        self.stats.batches += 1;
        self.stats.messages += msgs.len() as u64;
        self.report();
        if settlement.dead_lettered > 0 {
            // Commit now rather than at the next interval: a crash before
            // it would redo the batch and write its dead letters again.
            if let Err(err) = self.source.commit().await {
                tracing::warn!(error = %err, "could not commit after dead-lettering; committed with the next interval");
            }
        }
    }

    /// A processed message's fate. Asked after processing, so a revocation
    /// that came after it was applied still keeps its offset unstored.
    fn fate_of(&self, msg: &OwnedMessage) -> Fate {
        if self.is_revoked(msg) {
            Fate::Revoked
        } else if self
            .dead_lettered
            .contains(&(partition_of(msg), msg.offset()))
        {
            Fate::DeadLettered
        } else {
            Fate::Indexed
        }
    }

    pub(super) fn pause(&mut self, reason: &str) {
        if self.gate.pause(reason) {
            self.stats.pauses += 1;
        }
    }

    pub(super) fn resume(&mut self) {
        if self.gate.resume() {
            self.stats.resumes += 1;
        }
    }

    pub(super) fn report(&self) {
        if let Some(progress) = &self.progress {
            progress.send_replace(self.stats);
        }
    }

    /// Counts a durably applied set of documents.
    pub(super) fn applied(&mut self, stats: BatchStats, messages: usize) {
        self.stats.docs.add(stats);
        crate::events::BatchApplied { stats, messages }.emit();
    }

    /// Whether `msg`'s partition was revoked after `msg` was received: its
    /// next reader starts again from the committed offset, so this copy is
    /// not ours to apply or to store. (A copy received after the partition
    /// came back is ours.)
    pub(super) fn is_revoked(&self, msg: &OwnedMessage) -> bool {
        let partition = partition_of(msg);
        let mark = self
            .marks
            .get(&(partition.clone(), msg.offset()))
            .copied()
            .unwrap_or(0);
        self.source.revoked_since(mark, &partition)
    }
}

/// Up to `max` messages: waits up to `first_wait` for the first, then takes
/// the ones that follow within [`QUIET_GAP`] of each other.
async fn next_batch<S: MessageSource>(
    source: &S,
    room: Room,
    first_wait: Duration,
) -> Vec<Delivered> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    let first_deadline = tokio::time::Instant::now() + first_wait;
    while batch.len() < room.messages && bytes < room.bytes {
        let deadline = if batch.is_empty() {
            first_deadline
        } else {
            tokio::time::Instant::now() + QUIET_GAP
        };
        let polled = tokio::time::timeout_at(deadline, source.receive()).await;
        crate::events::health().beat();
        match polled {
            Ok(Received::Message(delivered)) => {
                bytes += payload_len(&delivered.msg);
                batch.push(delivered);
            }
            Ok(Received::Error(err)) => {
                // Transient client errors (broker restart...) are reported by
                // librdkafka and retried by it; log and keep what we have.
                tracing::warn!(error = %err, "consumer error");
                break;
            }
            Err(_) => break,
        }
    }
    batch
}

/// What a batch may still take: messages and payload bytes. It stops at
/// whichever runs out first (the message that crosses the byte budget is
/// kept: a message larger than the budget is a batch of its own).
#[derive(Debug, Clone, Copy)]
struct Room {
    messages: usize,
    bytes: usize,
}

fn payload_len(msg: &OwnedMessage) -> usize {
    msg.payload().map_or(0, <[u8]>::len)
}

/// A message's headers as `(key, value)` pairs (headers without a value
/// are skipped).
fn header_pairs(msg: &OwnedMessage) -> impl Iterator<Item = (&str, &[u8])> {
    msg.headers()
        .into_iter()
        .flat_map(|h| h.iter())
        .filter_map(|h| Some((h.key, h.value?)))
}
