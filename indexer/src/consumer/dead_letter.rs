//! Writing one message to the dead-letter topic, through DLQ outages: the
//! loop pauses and retries until the DLQ acknowledges it, because an
//! offset may only move past a message once its dead letter is durable.

use backoff::backoff::Backoff;
use rdkafka::message::{Message, OwnedMessage};
use tokio_util::sync::CancellationToken;
use tributary_core::kafka::KafkaError;

use super::applier::Applier;
use super::reject::Rejection;
use super::retry::{retry_backoff, MAX_BACKOFF};
use super::run::Worker;
use super::source::{partition_of, MessageSource};
use crate::dlq::DeadLetters;

/// Where dead letters go; the DLQ producer in production.
#[async_trait::async_trait]
pub(crate) trait DeadLetterSink: Send + Sync {
    /// Writes `msg` with why it failed; `Ok` once acknowledged.
    async fn send(
        &self,
        msg: &OwnedMessage,
        rejection: &Rejection,
        attempts: u32,
        first_failed_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), KafkaError>;
}

#[async_trait::async_trait]
impl DeadLetterSink for DeadLetters {
    async fn send(
        &self,
        msg: &OwnedMessage,
        rejection: &Rejection,
        attempts: u32,
        first_failed_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), KafkaError> {
        DeadLetters::send(self, msg, rejection, attempts, first_failed_at).await
    }
}

impl<S: MessageSource, A: Applier, D: DeadLetterSink> Worker<'_, S, A, D> {
    /// Writes one message to the DLQ, retrying (paused) until the DLQ
    /// acknowledges it; false on shutdown.
    pub(super) async fn dead_letter(
        &mut self,
        msg: &OwnedMessage,
        rejection: &Rejection,
        attempts: u32,
        first_failed_at: Option<chrono::DateTime<chrono::Utc>>,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut backoff = retry_backoff();
        loop {
            // Revoked meanwhile: its next reader decides its fate (and may
            // already have indexed a newer version); writing it here would
            // only duplicate or outdate the dead letter.
            if self.is_revoked(msg) {
                return true;
            }
            match self
                .dlq
                .send(msg, rejection, attempts, first_failed_at)
                .await
            {
                Ok(()) => {
                    self.stats.dead_lettered += 1;
                    self.dead_lettered.insert((partition_of(msg), msg.offset()));
                    let key = msg.key().and_then(|k| std::str::from_utf8(k).ok());
                    crate::events::DeadLetterWritten {
                        class: rejection.class.as_str(),
                        key,
                        partition: msg.partition(),
                        offset: msg.offset(),
                        attempts,
                        reason: &rejection.reason,
                    }
                    .emit();
                    self.resume();
                    return true;
                }
                Err(err) => {
                    self.pause(&format!("DLQ write failed: {err}"));
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
                    self.stats.retries += 1;
                    if !self.gate.wait(wait, shutdown).await {
                        return false;
                    }
                }
            }
        }
    }
}
