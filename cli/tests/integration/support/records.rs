//! Writing raw records to a test's documents topic.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use tributary_core::kafka;

use super::TestEnv;

/// Produces one record with these bytes as they are (poison, for one).
pub async fn produce_raw(env: &TestEnv, key: &str, payload: &[u8]) {
    let producer: FutureProducer = kafka::client_config(&env.config.kafka)
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::to(&env.config.kafka.topic)
                .key(key)
                .payload(payload),
            Duration::from_secs(10),
        )
        .await
        .expect("produce");
}
