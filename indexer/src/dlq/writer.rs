//! Dead-letter writer: the original key, value and headers byte for byte,
//! plus Kafka Connect-style `__connect.errors.*` headers saying why.

use std::time::Duration;

use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use tributary_core::config::KafkaConfig;
use tributary_core::envelope::*;
use tributary_core::kafka::{self, KafkaError};

use crate::consumer::reject::Rejection;

pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
    timeout: Duration,
}

impl DeadLetters {
    pub fn connect(cfg: &KafkaConfig) -> Result<Self, KafkaError> {
        let topic = cfg.dlq_topic();
        kafka::check_topic(cfg, &topic)?;
        let producer = kafka::client_config(cfg)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", cfg.delivery_timeout_ms.to_string())
            .create()?;
        Ok(DeadLetters {
            producer,
            topic,
            timeout: Duration::from_millis(cfg.delivery_timeout_ms),
        })
    }

    /// Writes `msg` to the DLQ and waits for the acknowledgement.
    /// `first_failed_at`: when its first attempt failed, if it was retried
    /// (a redriven message keeps the time of its very first failure).
    pub async fn send(
        &self,
        msg: &OwnedMessage,
        rejection: &Rejection,
        attempts: u32,
        first_failed_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), KafkaError> {
        let now = chrono::Utc::now().to_rfc3339();
        let this_run_first = first_failed_at.map(|t| t.to_rfc3339());
        let mut first_failed_at = None;
        let mut headers = OwnedHeaders::new();
        if let Some(original) = msg.headers() {
            for h in original.iter() {
                if h.key == DLQ_HEADER_FIRST_FAILED_AT {
                    first_failed_at = h.value.map(|v| String::from_utf8_lossy(v).to_string());
                    continue;
                }
                // A message failing again after a redrive: describe this failure only.
                if is_error_header(h.key) {
                    continue;
                }
                headers = headers.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
        }
        let first_failed_at = first_failed_at
            .or(this_run_first)
            .unwrap_or_else(|| now.clone());
        let partition = msg.partition().to_string();
        let offset = msg.offset().to_string();
        let attempts = attempts.to_string();
        let exception_class = format!("tributary.{}", rejection.class);
        let stage = rejection.class.stage();
        let context = format!(
            "{exception_class}: {}\n  stage: {stage}\n  attempts: {attempts}\n  indexer: tributary {}",
            rejection.reason,
            env!("CARGO_PKG_VERSION")
        );
        for (key, value) in [
            (DLQ_HEADER_TOPIC, msg.topic()),
            (DLQ_HEADER_PARTITION, partition.as_str()),
            (DLQ_HEADER_OFFSET, offset.as_str()),
            (DLQ_HEADER_EXCEPTION_CLASS, exception_class.as_str()),
            (DLQ_HEADER_EXCEPTION_MESSAGE, rejection.reason.as_str()),
            (DLQ_HEADER_STAGE, stage),
            (DLQ_HEADER_STACKTRACE, context.as_str()),
            (DLQ_HEADER_CONNECTOR_NAME, "tributary-indexer"),
            (DLQ_HEADER_CLASS, rejection.class.as_str()),
            (DLQ_HEADER_ATTEMPTS, attempts.as_str()),
            (DLQ_HEADER_FIRST_FAILED_AT, first_failed_at.as_str()),
            (DLQ_HEADER_FAILED_AT, now.as_str()),
            (DLQ_HEADER_INDEXER_VERSION, env!("CARGO_PKG_VERSION")),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&self.topic).headers(headers);
        if let Some(key) = msg.key() {
            record = record.key(key);
        }
        if let Some(payload) = msg.payload() {
            record = record.payload(payload);
        }
        tracing::warn!(topic = msg.topic(), partition = msg.partition(), offset = msg.offset(),
            class = %rejection.class, reason = %rejection.reason, "message dead-lettered");
        self.producer
            .send(record, Timeout::After(self.timeout))
            .await
            .map(|_| ())
            .map_err(|(err, _)| KafkaError::Client(err))
    }
}
