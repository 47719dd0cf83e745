//! The librdkafka side of [`MessageSource`]: a `StreamConsumer` whose
//! context logs rebalances. Calls that wait on the network (commit,
//! watermarks) run on the blocking pool, never on the async workers.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use tributary_core::config::{IndexerConfig, KafkaConfig};
use tributary_core::kafka;

use super::rebalance::{IndexConsumer, RebalanceLog};
use super::settings::consumer_settings;
use super::source::{Delivered, MessageSource, PartitionId, Received};
use super::IndexError;

pub(crate) struct KafkaSource {
    consumer: Arc<IndexConsumer>,
    /// For metadata calls (`kafka.connect_timeout_ms`).
    timeout: Duration,
}

impl KafkaSource {
    /// A consumer in the indexer's group, subscribed to the documents topic.
    pub(crate) fn subscribe(
        kafka: &KafkaConfig,
        settings: &IndexerConfig,
    ) -> Result<Self, IndexError> {
        let mut config = kafka::client_config(kafka);
        for (key, value) in consumer_settings(settings, &kafka.librdkafka_options) {
            config.set(key, value);
        }
        let consumer: IndexConsumer = config.create_with_context(RebalanceLog::default())?;
        consumer.subscribe(&[&kafka.topic])?;
        Ok(KafkaSource {
            consumer: Arc::new(consumer),
            timeout: Duration::from_millis(kafka.connect_timeout_ms),
        })
    }

    /// Runs a blocking librdkafka call off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&IndexConsumer) -> Result<T, IndexError> + Send + 'static,
    ) -> Result<T, IndexError> {
        let consumer = Arc::clone(&self.consumer);
        tokio::task::spawn_blocking(move || call(&consumer))
            .await
            .map_err(|e| IndexError::Task(e.to_string()))?
    }
}

#[async_trait::async_trait]
impl MessageSource for KafkaSource {
    async fn receive(&self) -> Received {
        match self.consumer.recv().await {
            // The mark is taken at receipt: see `rebalance.rs`.
            Ok(msg) => Received::Message(Delivered {
                mark: self.consumer.context().mark(),
                msg: msg.detach(),
            }),
            Err(err) => Received::Error(err.to_string()),
        }
    }

    fn revoked_since(&self, mark: usize, partition: &PartitionId) -> bool {
        self.consumer.context().revoked_since(mark, partition)
    }

    fn pause_all(&self) {
        // `assignment()` and `pause()` are local calls, no network.
        match self.consumer.assignment() {
            Ok(assignment) => {
                if let Err(err) = self.consumer.pause(&assignment) {
                    tracing::warn!(error = %err, "could not pause partitions");
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not read assignment to pause"),
        }
    }

    fn resume_all(&self) {
        match self.consumer.assignment() {
            Ok(assignment) => {
                if let Err(err) = self.consumer.resume(&assignment) {
                    tracing::warn!(error = %err, "could not resume partitions");
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not read assignment to resume"),
        }
    }

    fn store_offset(&self, partition: &PartitionId, offset: i64) -> Result<(), String> {
        self.consumer
            .store_offset(&partition.0, partition.1, offset)
            .map_err(|e| e.to_string())
    }

    async fn commit(&self) -> Result<(), IndexError> {
        self.blocking(
            |consumer| match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) => Ok(()),
                // Nothing stored since the last commit.
                Err(rdkafka::error::KafkaError::ConsumerCommit(
                    rdkafka::types::RDKafkaErrorCode::NoOffset,
                )) => Ok(()),
                Err(err) => Err(IndexError::Commit(err)),
            },
        )
        .await
    }

    async fn caught_up(&self) -> Result<bool, IndexError> {
        let timeout = self.timeout;
        self.blocking(move |consumer| caught_up(consumer, timeout))
            .await
    }

    fn assignments(&self) -> u64 {
        self.consumer.context().assignments()
    }
}

/// True when the group has an assignment and every assigned partition's
/// position is at its high watermark.
fn caught_up(consumer: &IndexConsumer, timeout: Duration) -> Result<bool, IndexError> {
    let assignment = consumer.assignment()?;
    if assignment.count() == 0 {
        return Ok(false);
    }
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
