//! Applying a set of documents through outages. The first failure pauses
//! the assigned partitions; after each failure the health probes and
//! `attempts::step` decide whether it was an outage (retry, uncounted) or
//! these documents' own (counted against `indexer.max_attempts`); the first
//! success resumes consumption. A rebalance that takes their partition away
//! between two attempts ends the retries: the new owner may already hold
//! newer versions.

use std::time::{Duration, Instant};

use backoff::backoff::Backoff;
use backoff::ExponentialBackoffBuilder;
use rdkafka::message::OwnedMessage;
use tokio_util::sync::CancellationToken;
use tributary_core::Document;

use super::applier::Applier;
use super::attempts::{self, Step, Verdict};
use super::dead_letter::DeadLetterSink;
use super::reject::DeadLetterClass;
use super::run::Worker;
use super::source::MessageSource;
use crate::failure::FailureKind;
use crate::pipeline::{BatchStats, ProcessError};

pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub(super) fn retry_backoff() -> backoff::ExponentialBackoff {
    ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_millis(200))
        .with_max_interval(MAX_BACKOFF)
        .with_max_elapsed_time(None)
        .build()
}

/// What became of applying a set of documents.
pub(super) enum Applied {
    Done(BatchStats),
    /// A rebalance took partitions away between two attempts.
    Revoked,
    /// The documents themselves are at fault: refused by the embedder, or
    /// failing `max_attempts` times while every dependency is healthy.
    Failed(Failure),
    /// Shutdown came first.
    Abandoned,
}

pub(super) struct Failure {
    /// `EmbedderRejected` or `RetriesExhausted`.
    pub(super) class: DeadLetterClass,
    pub(super) error: ProcessError,
    pub(super) attempts: u32,
    pub(super) first_failed_at: chrono::DateTime<chrono::Utc>,
}

/// Retry bookkeeping for one set of documents.
pub(super) struct RetryState {
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
    pub(super) fn new() -> Self {
        RetryState {
            backoff: retry_backoff(),
            attempts: 0,
            healthy_failures: 0,
            first_failed_at: None,
            held_since: None,
            healthy_before: false,
        }
    }

    /// Other documents now: their attempts start from zero (the backoff
    /// is kept, the dependencies are the same).
    pub(super) fn restart_counts(&mut self) {
        self.attempts = 0;
        self.healthy_failures = 0;
        self.first_failed_at = None;
        self.held_since = None;
        self.healthy_before = false;
    }
}

impl<S: MessageSource, A: Applier, D: DeadLetterSink> Worker<'_, S, A, D> {
    /// Applies `docs` (from `msgs`), retrying with backoff while anything
    /// but the input is at fault.
    pub(super) async fn apply_through_outages(
        &mut self,
        docs: Vec<Document>,
        msgs: &[&OwnedMessage],
        retry: &mut RetryState,
        shutdown: &CancellationToken,
    ) -> Applied {
        let single = docs.len() == 1;
        loop {
            if msgs.iter().any(|m| self.is_revoked(m)) {
                return Applied::Revoked;
            }
            retry.attempts += 1;
            let attempts = retry.attempts;
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => return Applied::Abandoned,
                r = self.applier.apply(docs.clone()) => r,
            };
            let err = match attempt {
                Ok(batch_stats) => {
                    self.resume();
                    self.policy.record_success();
                    return Applied::Done(batch_stats);
                }
                Err(err) => err,
            };
            let first_failed_at = *retry.first_failed_at.get_or_insert_with(chrono::Utc::now);
            let health = tokio::select! {
                _ = shutdown.cancelled() => return Applied::Abandoned,
                h = self.applier.health() => h,
            };
            let kind = err.kind();
            let healthy_before = retry.healthy_before;
            retry.healthy_before = health.is_ok();
            match attempts::step(kind, health.is_ok(), healthy_before) {
                Step::Reject => {
                    self.resume();
                    return Applied::Failed(Failure {
                        class: DeadLetterClass::EmbedderRejected,
                        error: err,
                        attempts,
                        first_failed_at,
                    });
                }
                Step::Count => {
                    retry.healthy_failures += 1;
                    let healthy_failures = retry.healthy_failures;
                    let held_for = retry.held_since.map_or(Duration::ZERO, |t| t.elapsed());
                    if self
                        .policy
                        .after_failure(healthy_failures, single, held_for)
                        == Verdict::GiveUp
                    {
                        self.resume();
                        return Applied::Failed(Failure {
                            class: DeadLetterClass::RetriesExhausted,
                            error: err,
                            attempts,
                            first_failed_at,
                        });
                    }
                    if self.policy.suspects_hidden_outage(healthy_failures) {
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
                    self.stats.outage_retries += 1;
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
            self.pause(&err.to_string());
            let wait = retry.backoff.next_backoff().unwrap_or(MAX_BACKOFF);
            tracing::warn!(error = %err, wait_ms = wait.as_millis() as u64, docs = docs.len(),
                attempts, healthy_failures = retry.healthy_failures, max_attempts = self.policy.max_attempts(),
                "batch failed; retrying (offsets not stored)");
            self.stats.retries += 1;
            self.report();
            if !self.gate.wait(wait, shutdown).await {
                return Applied::Abandoned;
            }
        }
    }
}
