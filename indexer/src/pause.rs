//! Pausing consumption during an outage (embedding server, store or
//! database down) without leaving the consumer group.
//!
//! While a batch cannot be applied, its partitions are paused and the batch
//! itself is retried as the probe; the consumer keeps being polled between
//! retries so librdkafka's `max.poll.interval.ms` never expires and the
//! group does not rebalance the partitions away. Paused partitions deliver
//! nothing; a partition assigned during the pause (a rebalance) may deliver
//! before it is paused too, and those messages are kept, in order, for the
//! next batch: never dropped, never skipped.

use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::message::{Message, OwnedMessage};
use tokio_util::sync::CancellationToken;

use crate::rebalance::IndexConsumer;

/// Tracks whether the consumer is paused and for how long.
pub(crate) struct PauseGate<'a> {
    consumer: &'a IndexConsumer,
    since: Option<Instant>,
    /// Delivered while paused, with the revocation mark at that moment;
    /// they lead the next batch.
    held: Vec<(usize, OwnedMessage)>,
}

impl<'a> PauseGate<'a> {
    pub(crate) fn new(consumer: &'a IndexConsumer) -> Self {
        PauseGate {
            consumer,
            since: None,
            held: Vec::new(),
        }
    }

    /// Pauses every assigned partition; true when this call paused it (it
    /// was running before).
    pub(crate) fn pause(&mut self, reason: &str) -> bool {
        if self.since.is_some() {
            return false;
        }
        self.pause_assignment();
        crate::events::Paused { reason }.emit();
        self.since = Some(Instant::now());
        true
    }

    /// Resumes after a pause; true when it was paused.
    pub(crate) fn resume(&mut self) -> bool {
        let Some(since) = self.since.take() else {
            return false;
        };
        match self.consumer.assignment() {
            Ok(assignment) => {
                if let Err(err) = self.consumer.resume(&assignment) {
                    tracing::warn!(error = %err, "could not resume partitions");
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not read assignment to resume"),
        }
        crate::events::Resumed {
            paused_for: since.elapsed(),
        }
        .emit();
        true
    }

    /// Waits `wait` (or until shutdown, returning false) while polling the
    /// consumer so the group membership stays alive.
    pub(crate) async fn wait(&mut self, wait: Duration, shutdown: &CancellationToken) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let polled = tokio::select! {
                _ = shutdown.cancelled() => return false,
                r = tokio::time::timeout_at(deadline, self.consumer.recv()) => r,
            };
            crate::events::health().beat();
            match polled {
                Err(_elapsed) => return true,
                Ok(Err(err)) => tracing::warn!(error = %err, "consumer error while paused"),
                // Only a partition assigned after the pause (a rebalance) can
                // deliver. Keep the message for the next batch and pause the
                // partition like the others.
                Ok(Ok(msg)) => {
                    tracing::debug!(
                        partition = msg.partition(),
                        offset = msg.offset(),
                        "message from a partition assigned while paused; kept for the next batch"
                    );
                    let mark = self.consumer.context().mark();
                    self.held.push((mark, msg.detach()));
                    self.pause_assignment();
                }
            }
        }
    }

    /// Messages delivered while paused, in arrival order (so in offset
    /// order per partition), each with the revocation mark at its receipt.
    pub(crate) fn take_held(&mut self) -> Vec<(usize, OwnedMessage)> {
        std::mem::take(&mut self.held)
    }

    fn pause_assignment(&self) {
        match self.consumer.assignment() {
            Ok(assignment) => {
                if let Err(err) = self.consumer.pause(&assignment) {
                    tracing::warn!(error = %err, "could not pause partitions");
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not read assignment to pause"),
        }
    }
}
