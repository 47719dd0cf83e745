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

use rdkafka::message::Message;
use tokio_util::sync::CancellationToken;

use super::source::{Delivered, MessageSource, Received};

/// Tracks whether the consumer is paused and for how long.
pub(crate) struct PauseGate<'a, S> {
    source: &'a S,
    since: Option<Instant>,
    /// Delivered while paused; they lead the next batch.
    held: Vec<Delivered>,
}

impl<'a, S: MessageSource> PauseGate<'a, S> {
    pub(crate) fn new(source: &'a S) -> Self {
        PauseGate {
            source,
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
        self.source.pause_all();
        crate::events::Paused { reason }.emit();
        self.since = Some(Instant::now());
        true
    }

    /// Resumes after a pause; true when it was paused.
    pub(crate) fn resume(&mut self) -> bool {
        let Some(since) = self.since.take() else {
            return false;
        };
        self.source.resume_all();
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
                r = tokio::time::timeout_at(deadline, self.source.receive()) => r,
            };
            crate::events::health().beat();
            match polled {
                Err(_elapsed) => return true,
                Ok(Received::Error(err)) => {
                    tracing::warn!(error = %err, "consumer error while paused")
                }
                // Only a partition assigned after the pause (a rebalance) can
                // deliver. Keep the message for the next batch and pause the
                // partition like the others.
                Ok(Received::Message(delivered)) => {
                    tracing::debug!(
                        partition = delivered.msg.partition(),
                        offset = delivered.msg.offset(),
                        "message from a partition assigned while paused; kept for the next batch"
                    );
                    self.held.push(delivered);
                    self.source.pause_all();
                }
            }
        }
    }

    /// Messages delivered while paused, in arrival order (so in offset
    /// order per partition), each with the revocation mark at its receipt.
    pub(crate) fn take_held(&mut self) -> Vec<Delivered> {
        std::mem::take(&mut self.held)
    }
}
