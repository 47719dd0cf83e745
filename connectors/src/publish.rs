//! The idempotent producer every connector publishes through.
//!
//! `enable.idempotence=true` + `acks=all`: a retried send is never written
//! twice, and an acknowledgement means every in-sync replica has it. Callers
//! get back exactly which documents were acknowledged, so they record
//! progress for those and nothing else.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use rdkafka::message::Header;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use tracing::Instrument;
use tributary_core::config::KafkaConfig;
use tributary_core::envelope;
use tributary_core::kafka::{self, KafkaError};
use tributary_core::Document;

/// Sends in flight at once: bounds memory on a large first sync.
const MAX_IN_FLIGHT: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error("cannot encode document {id}: {source}")]
    Encode {
        id: String,
        source: serde_json::Error,
    },
}

/// What happened to each document of a publish call, by input index.
#[derive(Debug, Default)]
pub struct PublishOutcome {
    pub acked: Vec<usize>,
    pub failed: Vec<(usize, String)>,
}

pub struct Publisher {
    producer: FutureProducer,
    topic: String,
    delivery_timeout: Duration,
}

impl Publisher {
    /// Connects and checks that the broker answers and the topic exists, so
    /// a misconfiguration fails before any work is done.
    pub fn connect(cfg: &KafkaConfig) -> Result<Self, PublishError> {
        kafka::check_topic(cfg, &cfg.topic)?;
        let producer: FutureProducer = kafka::client_config(cfg)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", cfg.delivery_timeout_ms.to_string())
            .set("compression.type", "lz4")
            .create()
            .map_err(KafkaError::from)?;
        Ok(Publisher {
            producer,
            topic: cfg.topic.clone(),
            delivery_timeout: Duration::from_millis(cfg.delivery_timeout_ms),
        })
    }

    /// Publishes every document, keyed by id, and waits for each
    /// acknowledgement (or failure). Never returns before all are settled.
    pub async fn publish_all(&self, docs: &[Document]) -> Result<PublishOutcome, PublishError> {
        let mut encoded = Vec::with_capacity(docs.len());
        for doc in docs {
            let e = envelope::encode(doc).map_err(|source| PublishError::Encode {
                id: doc.id.clone(),
                source,
            })?;
            encoded.push(e);
        }
        // Owned items (not `&Encoded`): a closure over borrowed items makes this
        // future fail the `Send` check behind the `Sink` trait object.
        let results: Vec<(usize, Result<(), String>)> =
            stream::iter(encoded.into_iter().enumerate())
                .map(|(i, e)| {
                    // One span per message; its context travels in the headers
                    // so the indexer's work on this document joins the trace.
                    let span = tracing::info_span!("publish", doc_id = %e.key, topic = %self.topic);
                    let mut headers = e.headers.clone();
                    for (key, value) in tributary_core::trace::headers_of(&span) {
                        headers = headers.insert(Header {
                            key: &key,
                            value: Some(&value),
                        });
                    }
                    async move {
                        let record = FutureRecord::to(&self.topic)
                            .key(&e.key)
                            .payload(&e.payload)
                            .headers(headers);
                        let result = self
                            .producer
                            .send(record, Timeout::After(self.delivery_timeout))
                            .await
                            .map(|_| ())
                            .map_err(|(err, _msg)| err.to_string());
                        (i, result)
                    }
                    .instrument(span)
                })
                .buffer_unordered(MAX_IN_FLIGHT)
                .collect()
                .await;
        let mut outcome = PublishOutcome::default();
        for (i, result) in results {
            match result {
                Ok(()) => outcome.acked.push(i),
                Err(err) => outcome.failed.push((i, err)),
            }
        }
        outcome.acked.sort_unstable();
        outcome.failed.sort_unstable_by_key(|(i, _)| *i);
        // Everything was awaited above; flush is a cheap belt-and-braces.
        let _ = self.producer.flush(Timeout::After(Duration::from_secs(5)));
        Ok(outcome)
    }
}

/// A publish call in which Kafka did not acknowledge every message. The
/// acknowledged ones are recorded; the run fails so the watermark stays.
#[derive(Debug, thiserror::Error)]
#[error(
    "Kafka acknowledged {acked} of {total} messages; first failure: {first_error}. \
     Acknowledged items are recorded, the watermark is unchanged; rerun to publish the rest"
)]
pub struct Incomplete {
    pub acked: usize,
    pub total: usize,
    pub first_error: String,
}
