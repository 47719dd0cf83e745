//! Applying a batch's documents, and isolating the ones at fault: when a
//! batch fails on its input (refused by the embedder, or failing while
//! every probe passes), which document is to blame is unknown, so each is
//! tried alone; only those that fail alone are dead-lettered, the rest are
//! indexed.

use rdkafka::message::OwnedMessage;
use tokio_util::sync::CancellationToken;
use tributary_core::Document;

use super::applier::Applier;
use super::dead_letter::DeadLetterSink;
use super::reject::{DeadLetterClass, Rejection};
use super::retry::{Applied, Failure, RetryState};
use super::run::{BatchOutcome, Worker};
use super::source::MessageSource;

impl<S: MessageSource, A: Applier, D: DeadLetterSink> Worker<'_, S, A, D> {
    /// Applies the batch's parsed documents, through outages; isolates and
    /// dead-letters the ones that fail on their own.
    pub(super) async fn apply_docs(
        &mut self,
        mut docs: Vec<(Document, &OwnedMessage)>,
        shutdown: &CancellationToken,
    ) -> BatchOutcome {
        // One retry state for the batch, kept across rebalances so backoff
        // and attempt counts do not restart each time partitions move.
        let mut retry = RetryState::new();
        let failed = loop {
            // Documents of revoked partitions belong to their new owner,
            // who may already have written newer versions of them.
            let before = docs.len();
            docs.retain(|(_, msg)| !self.is_revoked(msg));
            if docs.len() != before {
                retry.restart_counts();
            }
            if docs.is_empty() {
                return BatchOutcome::Done;
            }
            let all: Vec<Document> = docs.iter().map(|(doc, _)| doc.clone()).collect();
            let msgs: Vec<&OwnedMessage> = docs.iter().map(|(_, m)| *m).collect();
            match self
                .apply_through_outages(all, &msgs, &mut retry, shutdown)
                .await
            {
                Applied::Done(batch_stats) => {
                    self.applied(batch_stats, docs.len());
                    return BatchOutcome::Done;
                }
                Applied::Abandoned => return BatchOutcome::Abandoned,
                Applied::Revoked => continue,
                Applied::Failed(failure) => break failure,
            }
        };
        if let [(doc, msg)] = docs.as_slice() {
            return self
                .dead_letter_failure(&doc.id, msg, failed, shutdown)
                .await;
        }
        tracing::warn!(error = %failed.error, docs = docs.len(),
            "a batch failed on its input; retrying its documents one by one");
        for (doc, msg) in docs {
            let msgs = [msg];
            let mut retry = RetryState::new();
            if self.is_revoked(msg) {
                continue;
            }
            match self
                .apply_through_outages(vec![doc.clone()], &msgs, &mut retry, shutdown)
                .await
            {
                Applied::Done(batch_stats) => self.applied(batch_stats, 1),
                Applied::Abandoned => return BatchOutcome::Abandoned,
                // Its new owner decides its fate.
                Applied::Revoked => {}
                Applied::Failed(failure) => {
                    if let BatchOutcome::Abandoned = self
                        .dead_letter_failure(&doc.id, msg, failure, shutdown)
                        .await
                    {
                        return BatchOutcome::Abandoned;
                    }
                }
            }
        }
        BatchOutcome::Done
    }

    /// Dead-letters a document that failed on its own (refused by the
    /// embedder, or out of healthy attempts).
    async fn dead_letter_failure(
        &mut self,
        doc_id: &str,
        msg: &OwnedMessage,
        failure: Failure,
        shutdown: &CancellationToken,
    ) -> BatchOutcome {
        tracing::debug!(doc_id, class = %failure.class, error = %failure.error,
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
                shutdown,
            )
            .await
        {
            return BatchOutcome::Abandoned;
        }
        if failure.class == DeadLetterClass::RetriesExhausted {
            self.stats.retries_exhausted += 1;
            self.policy.record_dead_letter();
        }
        BatchOutcome::Done
    }
}
