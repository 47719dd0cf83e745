//! Kafka I/O: the idempotent work-item producer, and what the starving check
//! reads from the documents topic (its size and the indexer's lag).

use std::time::Duration;

use futures::future::join_all;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use tributary_core::config::KafkaConfig;
use tributary_core::kafka::{self, KafkaError};

use crate::work_item::{HEADER_REASON, HEADER_SCHEMA_VERSION, HEADER_TRACEPARENT};

/// One encoded work item.
pub struct Outgoing {
    pub key: String,
    pub payload: Vec<u8>,
    pub reason: String,
    pub traceparent: Option<String>,
}

/// Same settings as the connectors' publisher: `enable.idempotence=true` +
/// `acks=all`, so a retried send is never written twice and an
/// acknowledgement means every in-sync replica has it.
pub struct WorkItemPublisher {
    producer: FutureProducer,
    topic: String,
    delivery_timeout: Duration,
}

impl WorkItemPublisher {
    /// Checks the broker answers and the topic exists before anything is sent.
    pub fn connect(cfg: &KafkaConfig, topic: &str) -> Result<Self, KafkaError> {
        kafka::check_topic(cfg, topic)?;
        let producer: FutureProducer = kafka::client_config(cfg)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", cfg.delivery_timeout_ms.to_string())
            .set("compression.type", "lz4")
            .create()?;
        Ok(WorkItemPublisher {
            producer,
            topic: topic.to_string(),
            delivery_timeout: Duration::from_millis(cfg.delivery_timeout_ms),
        })
    }

    /// Sends every item and waits for each acknowledgement or failure;
    /// result `i` belongs to `items[i]`.
    pub async fn publish(&self, items: &[Outgoing]) -> Vec<Result<(), String>> {
        let sends = items.iter().map(|item| async move {
            let mut headers = OwnedHeaders::new_with_capacity(3)
                .insert(Header {
                    key: HEADER_SCHEMA_VERSION,
                    value: Some(&crate::work_item::WORK_ITEM_SCHEMA_VERSION.to_string()),
                })
                .insert(Header {
                    key: HEADER_REASON,
                    value: Some(&item.reason),
                });
            if let Some(tp) = &item.traceparent {
                headers = headers.insert(Header {
                    key: HEADER_TRACEPARENT,
                    value: Some(tp),
                });
            }
            let record = FutureRecord::to(&self.topic)
                .key(&item.key)
                .payload(&item.payload)
                .headers(headers);
            self.producer
                .send(record, Timeout::After(self.delivery_timeout))
                .await
                .map(|_| ())
                .map_err(|(err, _)| err.to_string())
        });
        let results = join_all(sends).await;
        // Every send was awaited above; flush is a cheap belt-and-braces.
        if let Err(err) = self.producer.flush(Timeout::After(Duration::from_secs(5))) {
            tracing::warn!(error = %err, "flush after acknowledged sends failed");
        }
        results
    }
}

/// The documents topic as the starving check sees it.
#[derive(Debug, Clone, Copy)]
pub struct TopicView {
    /// Sum of the high watermarks: messages ever written.
    pub messages: i64,
    /// Messages the indexer's group has not committed yet.
    pub indexer_lag: i64,
}

/// Reads the documents topic's watermarks and the indexer group's committed
/// offsets. Blocking librdkafka calls, bounded by `connect_timeout_ms`.
pub fn observe_documents_topic(
    cfg: &KafkaConfig,
    indexer_group: &str,
) -> Result<TopicView, KafkaError> {
    let backlog = kafka::group_backlog(cfg, &cfg.topic, indexer_group)?;
    Ok(TopicView {
        messages: backlog.written,
        indexer_lag: backlog.unconsumed,
    })
}
