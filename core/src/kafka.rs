//! Kafka client plumbing shared by producers and consumers: the client
//! configuration (with the raw librdkafka escape hatch), a reachability
//! check that fails fast with a clear message, and topic creation.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::config::KafkaConfig;
use crate::secret::ExposeSecret;

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(
        "Kafka broker(s) at {brokers} unreachable after {timeout_ms} ms: {source}. \
         Is Kafka running? (`make stack-up`, or check kafka.brokers / KAFKA_BROKERS)"
    )]
    Unreachable {
        brokers: String,
        timeout_ms: u64,
        source: rdkafka::error::KafkaError,
    },
    #[error("Kafka topic {topic:?} does not exist; create it with `tributary migrate`")]
    MissingTopic { topic: String },
    #[error("creating Kafka topic {topic:?} failed: {reason}")]
    CreateTopic { topic: String, reason: String },
    #[error("Kafka client error: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
}

impl KafkaError {
    /// The message exceeds the producer's `message.max.bytes` or the
    /// topic's `max.message.bytes`: retrying the same bytes cannot succeed.
    pub fn is_message_too_large(&self) -> bool {
        use rdkafka::types::RDKafkaErrorCode;
        match self {
            KafkaError::Client(err) => matches!(
                err.rdkafka_error_code(),
                Some(RDKafkaErrorCode::MessageSizeTooLarge)
            ),
            _ => false,
        }
    }
}

/// Base client config: brokers, every raw librdkafka option from config, and
/// the SASL password read from `kafka.sasl_password_env`.
pub fn client_config(cfg: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &cfg.brokers);
    for (key, value) in &cfg.librdkafka_options {
        client.set(key, value);
    }
    if let Some(password) = &cfg.sasl_password {
        client.set("sasl.password", password.expose_secret());
    }
    client
}

/// Asks the cluster for the topic's metadata. Distinguishes "no broker
/// answered" from "the topic is missing", the two mistakes people make.
pub fn check_topic(cfg: &KafkaConfig, topic: &str) -> Result<usize, KafkaError> {
    let consumer: BaseConsumer = client_config(cfg).create()?;
    let timeout = Duration::from_millis(cfg.connect_timeout_ms);
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|source| KafkaError::Unreachable {
            brokers: cfg.brokers.clone(),
            timeout_ms: cfg.connect_timeout_ms,
            source,
        })?;
    let Some(found) = metadata.topics().iter().find(|t| t.name() == topic) else {
        return Err(KafkaError::MissingTopic {
            topic: topic.to_string(),
        });
    };
    if found.error().is_some() || found.partitions().is_empty() {
        return Err(KafkaError::MissingTopic {
            topic: topic.to_string(),
        });
    }
    Ok(found.partitions().len())
}

/// Creates the topics if missing (idempotent). Partitions and replication
/// come from config; an existing topic is left as it is.
pub async fn ensure_topics(cfg: &KafkaConfig, topics: &[String]) -> Result<(), KafkaError> {
    // Probe first, so an absent broker gives the clear error, not a timeout.
    let consumer: BaseConsumer = client_config(cfg).create()?;
    consumer
        .fetch_metadata(None, Duration::from_millis(cfg.connect_timeout_ms))
        .map_err(|source| KafkaError::Unreachable {
            brokers: cfg.brokers.clone(),
            timeout_ms: cfg.connect_timeout_ms,
            source,
        })?;
    let admin: AdminClient<DefaultClientContext> = client_config(cfg).create()?;
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            NewTopic::new(
                t,
                cfg.partitions,
                TopicReplication::Fixed(cfg.replication_factor),
            )
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&new_topics, &opts).await? {
        match result {
            Ok(topic) => tracing::info!(topic, partitions = cfg.partitions, "created topic"),
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic, "topic already exists")
            }
            Err((topic, code)) => {
                return Err(KafkaError::CreateTopic {
                    topic,
                    reason: code.to_string(),
                })
            }
        }
    }
    Ok(())
}

/// A topic seen from a consumer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupBacklog {
    /// Sum of the high watermarks: messages ever written.
    pub written: i64,
    /// Messages past the group's committed offsets (all retained ones for a
    /// group that never committed): produced, not yet consumed.
    pub unconsumed: i64,
}

/// Reads `topic`'s watermarks and `group`'s committed offsets. Blocking
/// librdkafka calls, each bounded by `connect_timeout_ms`.
pub fn group_backlog(
    cfg: &KafkaConfig,
    topic: &str,
    group: &str,
) -> Result<GroupBacklog, KafkaError> {
    let partitions = check_topic(cfg, topic)?;
    let consumer: BaseConsumer = client_config(cfg)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let timeout = Duration::from_millis(cfg.connect_timeout_ms);
    let mut tpl = TopicPartitionList::new();
    // Kafka partition numbers are i32 on the wire; a count from metadata fits.
    for p in 0..partitions as i32 {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, timeout)?;
    let mut backlog = GroupBacklog {
        written: 0,
        unconsumed: 0,
    };
    for e in committed.elements() {
        let (low, high) = consumer.fetch_watermarks(e.topic(), e.partition(), timeout)?;
        backlog.written += high;
        let consumed = match e.offset() {
            Offset::Offset(o) => o.max(low),
            _ => low,
        };
        backlog.unconsumed += (high - consumed).max(0);
    }
    Ok(backlog)
}
