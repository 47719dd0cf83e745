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
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tributary_core::config::{IndexerConfig, KafkaConfig};
use tributary_core::kafka::{self, KafkaError};
use tributary_core::Document;

use crate::attempts::{self, AttemptPolicy, Step, Verdict};
use crate::dlq::DeadLetters;
use crate::failure::FailureKind;
use crate::pause::PauseGate;
use crate::pipeline::{BatchStats, Pipeline, ProcessError};
use crate::rebalance::{IndexConsumer, PartitionId, RebalanceLog};
use crate::reject::{self, Limits, Rejection};

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
    /// Retries after which a health probe failed (an outage).
    pub outage_retries: u64,
    /// Documents dead-lettered after `max_attempts` healthy failures.
    pub retries_exhausted: u64,
    /// Messages applied whose partition was revoked before their offsets
    /// could be stored (the new owner redoes them).
    pub abandoned: u64,
    /// Rebalances that assigned partitions to this consumer.
    pub assignments: u64,
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Exit once every assigned partition is consumed to its end.
    pub until_idle: bool,
    /// Receives the running totals after every batch (progress display).
    pub progress: Option<tokio::sync::watch::Sender<IndexStats>>,
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
    fn consumer(&self) -> Result<IndexConsumer, IndexError> {
        let mut config = kafka::client_config(&self.kafka);
        for (key, value) in consumer_settings(&self.settings) {
            // An operator's `kafka.librdkafka_options` win over our defaults
            // (a shorter heartbeat, a longer session...).
            if !self.kafka.librdkafka_options.contains_key(key) {
                config.set(key, value);
            }
        }
        Ok(config.create_with_context(RebalanceLog::default())?)
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
        crate::events::init();
        crate::events::health().started();

        let mut run = RunState {
            consumer: &consumer,
            marks: HashMap::new(),
            gate: PauseGate::new(&consumer),
            policy: AttemptPolicy::new(
                self.settings.max_attempts,
                Duration::from_secs(self.settings.suspect_hold_secs),
            ),
            stats: IndexStats::default(),
            progress: opts.progress.clone(),
        };
        let mut last_message = Instant::now();
        let batch_wait = Duration::from_millis(self.settings.batch_wait_ms);
        loop {
            // Messages delivered while paused lead, in their order.
            let mut received = run.gate.take_held();
            let room = self
                .settings
                .batch_size
                .saturating_sub(received.len())
                .max(1);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                more = next_batch(&consumer, room, batch_wait) => received.extend(more?),
            };
            run.marks = received
                .iter()
                .map(|(mark, msg)| ((partition_of(msg), msg.offset()), *mark))
                .collect();
            let batch: Vec<OwnedMessage> = received.into_iter().map(|(_, msg)| msg).collect();
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
            let dead_letters_before = run.stats.dead_lettered;
            match self
                .process_with_retry(&batch, &dlq, &mut run, &shutdown)
                .await
            {
                BatchOutcome::Done => {
                    run.resume();
                    for msg in &batch {
                        if run.is_revoked(msg) {
                            run.stats.abandoned += 1;
                            tracing::info!(partition = msg.partition(), offset = msg.offset(),
                                "partition revoked during the batch; this message is redone from the last commit");
                            continue;
                        }
                        // Stored only now: the batch is durable (points or DLQ).
                        if let Err(err) =
                            consumer.store_offset(msg.topic(), msg.partition(), msg.offset())
                        {
                            tracing::warn!(partition = msg.partition(), offset = msg.offset(), error = %err,
                                "could not store offset; the message will be redone, idempotently");
                        }
                    }
                    run.stats.batches += 1;
                    run.stats.messages += batch.len() as u64;
                    run.report();
                    if run.stats.dead_lettered > dead_letters_before {
                        // Commit now rather than at the next interval: a
                        // crash before it would redo the batch and write
                        // its dead letters again.
                        if let Err(err) = consumer.commit_consumer_state(CommitMode::Sync) {
                            tracing::warn!(error = %err, "could not commit after dead-lettering; committed with the next interval");
                        }
                    }
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
        let mut stats = run.stats;
        stats.assignments = consumer.context().assignments();
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

    /// Parses the batch, dead-letters what cannot be parsed, applies the
    /// rest; pauses consumption and retries through outages until shutdown.
    async fn process_with_retry(
        &self,
        batch: &[OwnedMessage],
        dlq: &DeadLetters,
        run: &mut RunState<'_>,
        shutdown: &CancellationToken,
    ) -> BatchOutcome {
        let limits = Limits {
            max_bytes: self.settings.max_document_bytes,
            dimension: self.pipeline.embedder.dimension(),
        };
        // Dead-lettering happens once; the parsed remainder is retried.
        let mut latest: HashMap<String, (Document, &OwnedMessage)> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut poison = Vec::new();
        for msg in batch {
            match reject::accept(msg.payload(), limits) {
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
        let docs: Vec<(Document, &OwnedMessage)> =
            order.iter().filter_map(|id| latest.remove(id)).collect();
        // Each document's span continues the trace its connector started
        // (the `traceparent` header); the batch span links them all.
        let batch_span = tracing::info_span!("index_batch", documents = docs.len());
        let doc_spans: Vec<tracing::Span> = docs
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
            .apply_docs(docs, dlq, run, shutdown)
            .instrument(batch_span)
            .await;
        drop(doc_spans);
        if let BatchOutcome::Abandoned = applied {
            return BatchOutcome::Abandoned;
        }
        // Poison is dead-lettered only once the rest of its batch is done:
        // a batch abandoned during an outage (SIGTERM) is redone from the
        // last commit, and must not write the same dead letter again.
        for (msg, rejection) in poison {
            if !self
                .dead_letter(msg, &rejection, 1, None, dlq, run, shutdown)
                .await
            {
                return BatchOutcome::Abandoned;
            }
        }
        BatchOutcome::Done
    }

    /// Applies the batch's parsed documents, through outages; isolates and
    /// dead-letters the ones that fail on their own.
    async fn apply_docs(
        &self,
        mut docs: Vec<(Document, &OwnedMessage)>,
        dlq: &DeadLetters,
        run: &mut RunState<'_>,
        shutdown: &CancellationToken,
    ) -> BatchOutcome {
        // One retry state for the batch, kept across rebalances so backoff
        // and attempt counts do not restart each time partitions move.
        let mut retry = RetryState::new();
        let failed = loop {
            // Documents of revoked partitions belong to their new owner,
            // who may already have written newer versions of them.
            let before = docs.len();
            docs.retain(|(_, msg)| !run.is_revoked(msg));
            if docs.len() != before {
                // Other documents now: their attempts start from zero (the
                // backoff is kept, the dependencies are the same).
                retry.restart_counts();
            }
            if docs.is_empty() {
                return BatchOutcome::Done;
            }
            let all: Vec<Document> = docs.iter().map(|(doc, _)| doc.clone()).collect();
            let msgs: Vec<&OwnedMessage> = docs.iter().map(|(_, m)| *m).collect();
            match self
                .apply_through_outages(all, &msgs, &mut retry, run, shutdown)
                .await
            {
                Applied::Done(batch_stats) => {
                    run.applied(batch_stats, docs.len());
                    return BatchOutcome::Done;
                }
                Applied::Abandoned => return BatchOutcome::Abandoned,
                Applied::Revoked => continue,
                Applied::Failed(failure) => break failure,
            }
        };
        if let [(doc, msg)] = docs.as_slice() {
            return self
                .dead_letter_failure(&doc.id, msg, failed, dlq, run, shutdown)
                .await;
        }
        // Something in the batch fails on its own. Which document is
        // unknown, so each is tried alone: only those that fail alone are
        // dead-lettered, the rest are indexed.
        tracing::warn!(error = %failed.error, docs = docs.len(),
            "a batch failed on its input; retrying its documents one by one");
        for (doc, msg) in docs {
            let id = doc.id.clone();
            let msgs = [msg];
            let mut retry = RetryState::new();
            while !run.is_revoked(msg) {
                match self
                    .apply_through_outages(vec![doc.clone()], &msgs, &mut retry, run, shutdown)
                    .await
                {
                    Applied::Done(batch_stats) => run.applied(batch_stats, 1),
                    Applied::Abandoned => return BatchOutcome::Abandoned,
                    // The loop condition now holds false.
                    Applied::Revoked => continue,
                    Applied::Failed(failure) => {
                        if let BatchOutcome::Abandoned = self
                            .dead_letter_failure(&id, msg, failure, dlq, run, shutdown)
                            .await
                        {
                            return BatchOutcome::Abandoned;
                        }
                    }
                }
                break;
            }
        }
        BatchOutcome::Done
    }

    /// Dead-letters a document that failed on its own (refused by the
    /// embedder, or out of healthy attempts).
    async fn dead_letter_failure(
        &self,
        doc_id: &str,
        msg: &OwnedMessage,
        failure: Failure,
        dlq: &DeadLetters,
        run: &mut RunState<'_>,
        shutdown: &CancellationToken,
    ) -> BatchOutcome {
        tracing::debug!(doc_id, class = failure.class, error = %failure.error,
            attempts = failure.attempts, "document fails on its own; dead-lettering it");
        let rejection = Rejection {
            class: failure.class,
            reason: failure.error.to_string(),
        };
        if !self
            .dead_letter(
                msg,
                &rejection,
                failure.attempts,
                Some(failure.first_failed_at),
                dlq,
                run,
                shutdown,
            )
            .await
        {
            return BatchOutcome::Abandoned;
        }
        if failure.class == reject::RETRIES_EXHAUSTED {
            run.stats.retries_exhausted += 1;
            run.policy.record_dead_letter();
        }
        BatchOutcome::Done
    }

    /// Applies `docs`, retrying with backoff while anything but the input is
    /// at fault. The first failure pauses the assigned partitions; the
    /// health probes after each failure decide whether it was an outage
    /// (retry, uncounted) or these documents' (counted against
    /// `indexer.max_attempts`). The first success resumes consumption. A
    /// rebalance that takes partitions away between two attempts ends the
    /// retries (`Revoked`): their new owner may already hold newer versions.
    async fn apply_through_outages(
        &self,
        docs: Vec<Document>,
        msgs: &[&OwnedMessage],
        retry: &mut RetryState,
        run: &mut RunState<'_>,
        shutdown: &CancellationToken,
    ) -> Applied {
        let single = docs.len() == 1;
        loop {
            if msgs.iter().any(|m| run.is_revoked(m)) {
                return Applied::Revoked;
            }
            retry.attempts += 1;
            let attempts = retry.attempts;
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => return Applied::Abandoned,
                r = self.pipeline.apply(docs.clone()) => r,
            };
            let err = match attempt {
                Ok(batch_stats) => {
                    run.resume();
                    run.policy.record_success();
                    return Applied::Done(batch_stats);
                }
                Err(err) => err,
            };
            let first_failed_at = *retry.first_failed_at.get_or_insert_with(chrono::Utc::now);
            let health = tokio::select! {
                _ = shutdown.cancelled() => return Applied::Abandoned,
                h = self.pipeline.health() => h,
            };
            let kind = err.kind();
            let healthy_before = retry.healthy_before;
            retry.healthy_before = health.is_ok();
            match attempts::step(kind, health.is_ok(), healthy_before) {
                Step::Reject => {
                    run.resume();
                    return Applied::Failed(Failure {
                        class: reject::EMBEDDER_REJECTED,
                        error: err,
                        attempts,
                        first_failed_at,
                    });
                }
                Step::Count => {
                    retry.healthy_failures += 1;
                    let healthy_failures = retry.healthy_failures;
                    let held_for = retry.held_since.map_or(Duration::ZERO, |t| t.elapsed());
                    if run.policy.after_failure(healthy_failures, single, held_for)
                        == Verdict::GiveUp
                    {
                        run.resume();
                        return Applied::Failed(Failure {
                            class: reject::RETRIES_EXHAUSTED,
                            error: err,
                            attempts,
                            first_failed_at,
                        });
                    }
                    if run.policy.suspects_hidden_outage(healthy_failures) {
                        retry.held_since.get_or_insert_with(Instant::now);
                        tracing::error!(error = %err, attempts,
                            "document keeps failing while every probe passes, right after another \
                             was dead-lettered for the same; holding it (not dead-lettering) for up to \
                             indexer.suspect_hold_secs unless something else indexes: check the store \
                             and the embedder");
                    }
                }
                Step::Reproduce => {
                    tracing::info!(error = %err, attempts,
                        "batch failed but every probe passes now; retrying once before counting the attempt");
                }
                Step::Outage => {
                    run.stats.outage_retries += 1;
                    match (&health, kind) {
                        (_, FailureKind::Configuration) => tracing::error!(error = %err,
                            "configuration outage: the deployment is refused, not the document; \
                             paused until it is fixed (nothing is dead-lettered for it)"),
                        (Err(why), _) => tracing::warn!(probe = %why,
                            "health probe failed: an outage, not the message"),
                        (Ok(()), _) => tracing::warn!(error = %err,
                            "dependency unavailable: an outage, not the message"),
                    }
                }
            }
            run.pause(&err.to_string());
            let wait = retry.backoff.next_backoff().unwrap_or(MAX_BACKOFF);
            tracing::warn!(error = %err, wait_ms = wait.as_millis() as u64, docs = docs.len(),
                attempts, healthy_failures = retry.healthy_failures, max_attempts = run.policy.max_attempts(),
                "batch failed; retrying (offsets not stored)");
            run.stats.retries += 1;
            run.report();
            if !run.gate.wait(wait, shutdown).await {
                return Applied::Abandoned;
            }
        }
    }

    /// Writes one message to the DLQ, retrying (paused) until the DLQ
    /// acknowledges it; false on shutdown.
    #[allow(clippy::too_many_arguments)]
    async fn dead_letter(
        &self,
        msg: &OwnedMessage,
        rejection: &Rejection,
        attempts: u32,
        first_failed_at: Option<chrono::DateTime<chrono::Utc>>,
        dlq: &DeadLetters,
        run: &mut RunState<'_>,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut backoff = retry_backoff();
        loop {
            // Revoked meanwhile: its next reader decides its fate (and may
            // already have indexed a newer version); writing it here would
            // only duplicate or outdate the dead letter.
            if run.is_revoked(msg) {
                return true;
            }
            match dlq.send(msg, rejection, attempts, first_failed_at).await {
                Ok(()) => {
                    run.stats.dead_lettered += 1;
                    let key = msg.key().and_then(|k| std::str::from_utf8(k).ok());
                    crate::events::DeadLetterWritten {
                        class: rejection.class,
                        key,
                        partition: msg.partition(),
                        offset: msg.offset(),
                        attempts,
                        reason: &rejection.reason,
                    }
                    .emit();
                    run.resume();
                    return true;
                }
                Err(err) => {
                    run.pause(&format!("DLQ write failed: {err}"));
                    let wait = backoff.next_backoff().unwrap_or(MAX_BACKOFF);
                    if err.is_message_too_large() {
                        // Retrying will not shrink it, but dropping it would
                        // lose it: stall loudly until an operator raises the
                        // limits (the indexer keeps its offsets).
                        tracing::error!(error = %err, bytes = msg.payload().map_or(0, <[u8]>::len),
                            "dead letter too large for the DLQ topic or producer: raise \
                             max.message.bytes on the DLQ topic and message.max.bytes in \
                             kafka.librdkafka_options");
                    } else {
                        tracing::warn!(error = %err, wait_ms = wait.as_millis() as u64, "DLQ write failed; retrying");
                    }
                    run.stats.retries += 1;
                    if !run.gate.wait(wait, shutdown).await {
                        return false;
                    }
                }
            }
        }
    }
}

/// The consumer's librdkafka settings on top of the shared client config.
fn consumer_settings(settings: &IndexerConfig) -> Vec<(&'static str, String)> {
    let session = settings.session_timeout_ms.max(1);
    let mut out = vec![
        ("group.id", settings.group_id.clone()),
        // Offsets are stored by hand once a batch is durable; the
        // background commit only commits what was stored.
        ("enable.auto.commit", "true".into()),
        (
            "auto.commit.interval.ms",
            settings.commit_interval_ms.to_string(),
        ),
        ("enable.auto.offset.store", "false".into()),
        ("auto.offset.reset", "earliest".into()),
        ("enable.partition.eof", "false".into()),
        // A SIGKILLed member's partitions move after this long, not
        // librdkafka's 45 s default.
        ("session.timeout.ms", session.to_string()),
        ("heartbeat.interval.ms", (session / 3).max(1).to_string()),
        // Per-partition lag for metrics and progress (events.rs).
        ("statistics.interval.ms", "5000".into()),
    ];
    // Static membership: a restarted member with the same id takes its
    // partitions back at once.
    if let Some(instance) = &settings.group_instance_id {
        out.push(("group.instance.id", instance.clone()));
    }
    out
}

/// What one run of the consumer loop carries between batches.
struct RunState<'c> {
    consumer: &'c IndexConsumer,
    /// Revocation mark at the receipt of each message of the current batch.
    marks: HashMap<(PartitionId, i64), usize>,
    gate: PauseGate<'c>,
    policy: AttemptPolicy,
    stats: IndexStats,
    /// Where the running totals go after every batch and every retry.
    progress: Option<tokio::sync::watch::Sender<IndexStats>>,
}

impl RunState<'_> {
    fn pause(&mut self, reason: &str) {
        if self.gate.pause(reason) {
            self.stats.pauses += 1;
        }
    }

    fn resume(&mut self) {
        if self.gate.resume() {
            self.stats.resumes += 1;
        }
    }

    fn report(&self) {
        if let Some(progress) = &self.progress {
            progress.send_replace(self.stats);
        }
    }

    /// Counts a durably applied set of documents.
    fn applied(&mut self, stats: BatchStats, messages: usize) {
        self.stats.docs.add(stats);
        crate::events::BatchApplied { stats, messages }.emit();
    }

    /// Whether `msg`'s partition was revoked after `msg` was received: its
    /// next reader starts again from the committed offset, so this copy is
    /// not ours to apply or to store. (A copy received after the partition
    /// came back is ours.)
    fn is_revoked(&self, msg: &OwnedMessage) -> bool {
        let partition = partition_of(msg);
        let mark = self
            .marks
            .get(&(partition.clone(), msg.offset()))
            .copied()
            .unwrap_or(0);
        self.consumer.context().revoked_since(mark, &partition)
    }
}

/// Retry bookkeeping for one set of documents.
struct RetryState {
    backoff: backoff::ExponentialBackoff,
    attempts: u32,
    /// Failed attempts after which every health probe passed.
    healthy_failures: u32,
    first_failed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Since when these documents are held as a second suspect.
    held_since: Option<Instant>,
    /// Whether the health probes passed right before the next attempt: a
    /// failure counts only when it happens between two passing probes.
    healthy_before: bool,
}

impl RetryState {
    fn restart_counts(&mut self) {
        self.attempts = 0;
        self.healthy_failures = 0;
        self.first_failed_at = None;
        self.held_since = None;
        self.healthy_before = false;
    }

    fn new() -> Self {
        RetryState {
            backoff: retry_backoff(),
            attempts: 0,
            healthy_failures: 0,
            first_failed_at: None,
            held_since: None,
            healthy_before: false,
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

/// A message's headers as `(key, value)` pairs (headers without a value
/// are skipped).
fn header_pairs(msg: &OwnedMessage) -> impl Iterator<Item = (&str, &[u8])> {
    msg.headers()
        .into_iter()
        .flat_map(|h| h.iter())
        .filter_map(|h| Some((h.key, h.value?)))
}

fn partition_of(msg: &OwnedMessage) -> PartitionId {
    (msg.topic().to_string(), msg.partition())
}

/// What became of applying a set of documents.
enum Applied {
    Done(BatchStats),
    /// A rebalance took partitions away between two attempts.
    Revoked,
    /// The documents themselves are at fault: refused by the embedder, or
    /// failing `max_attempts` times while every dependency is healthy.
    Failed(Failure),
    Abandoned,
}

struct Failure {
    /// `EmbedderRejected` or `RetriesExhausted`.
    class: &'static str,
    error: ProcessError,
    attempts: u32,
    first_failed_at: chrono::DateTime<chrono::Utc>,
}

/// Up to `max` messages: waits for the first, then takes whatever else
/// arrives within `wait`.
async fn next_batch(
    consumer: &IndexConsumer,
    max: usize,
    wait: Duration,
) -> Result<Vec<(usize, OwnedMessage)>, IndexError> {
    let mut batch = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while batch.len() < max {
        let polled = tokio::time::timeout_at(deadline, consumer.recv()).await;
        crate::events::health().beat();
        match polled {
            // The revocation mark at receipt: a later revocation of its
            // partition makes this copy someone else's to process.
            Ok(Ok(msg)) => batch.push((consumer.context().mark(), msg.detach())),
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
fn caught_up(consumer: &IndexConsumer, cfg: &KafkaConfig) -> Result<bool, IndexError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(settings: &'a [(&str, String)], key: &str) -> Option<&'a str> {
        settings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_crashed_member_is_replaced_quickly() {
        let defaults = consumer_settings(&IndexerConfig::default());
        assert_eq!(value(&defaults, "session.timeout.ms"), Some("10000"));
        assert_eq!(value(&defaults, "heartbeat.interval.ms"), Some("3333"));
        assert_eq!(value(&defaults, "group.instance.id"), None);
        assert_eq!(value(&defaults, "enable.auto.offset.store"), Some("false"));
        let pod = IndexerConfig {
            group_instance_id: Some("tributary-indexer-0".into()),
            ..IndexerConfig::default()
        };
        let settings = consumer_settings(&pod);
        assert_eq!(
            value(&settings, "group.instance.id"),
            Some("tributary-indexer-0")
        );
    }
}
