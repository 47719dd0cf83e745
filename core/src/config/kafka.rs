//! `[kafka]`: brokers, topics and raw librdkafka options.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::SecretString;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated.
    pub brokers: String,
    /// The documents topic every connector produces to and the indexer reads.
    pub topic: String,
    /// Dead-letter topic; `<topic>.dlq` when unset.
    pub dlq_topic: Option<String>,
    /// Partitions for topics `tributary migrate` creates.
    pub partitions: i32,
    pub replication_factor: i32,
    /// How long a produced message may wait for the broker's acknowledgement
    /// before the run fails (librdkafka `message.timeout.ms`).
    pub delivery_timeout_ms: u64,
    /// How long to wait for the broker to answer a metadata request before
    /// declaring it unreachable.
    pub connect_timeout_ms: u64,
    /// Raw librdkafka options (TLS, SASL...), passed through unchanged.
    pub librdkafka_options: BTreeMap<String, String>,
    /// Name of the environment variable holding the SASL password, given to
    /// librdkafka as `sasl.password` (in Kubernetes, a Secret reference). The
    /// password itself never goes in a file; mechanism and user go in
    /// `librdkafka_options`.
    pub sasl_password_env: Option<String>,
    /// The password read from `sasl_password_env` by `Config::load`.
    #[serde(skip)]
    pub sasl_password: Option<SecretString>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topic: "tributary.documents".into(),
            dlq_topic: None,
            partitions: 3,
            replication_factor: 1,
            delivery_timeout_ms: 30_000,
            connect_timeout_ms: 10_000,
            librdkafka_options: BTreeMap::new(),
            sasl_password_env: None,
            sasl_password: None,
        }
    }
}

impl KafkaConfig {
    pub fn dlq_topic(&self) -> String {
        self.dlq_topic
            .clone()
            .unwrap_or_else(|| crate::envelope::default_dlq_topic(&self.topic))
    }
}
