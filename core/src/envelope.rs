//! How a [`Document`](crate::Document) travels on Kafka: key, value, headers.
//!
//! Key: the document id (so every version of a document lands on one
//! partition, in order). Value: the document's JSON. Headers: a few fields
//! copied out so tools like kcat can filter without parsing JSON.

use rdkafka::message::{Header, OwnedHeaders};

use crate::Document;

pub const HEADER_SCHEMA_VERSION: &str = "tributary.schema_version";
pub const HEADER_SOURCE_KIND: &str = "tributary.source_kind";
pub const HEADER_SOURCE_INSTANCE: &str = "tributary.source_instance";
pub const HEADER_CONTENT_HASH: &str = "tributary.content_hash";
pub const HEADER_TOMBSTONE: &str = "tributary.tombstone";

/// Headers on dead-lettered messages, named after Kafka Connect's
/// `__connect.errors.*` so existing DLQ tooling can read them.
pub const DLQ_HEADER_TOPIC: &str = "__connect.errors.topic";
pub const DLQ_HEADER_PARTITION: &str = "__connect.errors.partition";
pub const DLQ_HEADER_OFFSET: &str = "__connect.errors.offset";
pub const DLQ_HEADER_EXCEPTION_CLASS: &str = "__connect.errors.exception.class.name";
pub const DLQ_HEADER_EXCEPTION_MESSAGE: &str = "__connect.errors.exception.message";
/// Where it failed, in Connect's vocabulary: `VALUE_CONVERTER` (the bytes
/// are not a valid Document) or `TASK_PUT` (embedding or storing it failed).
pub const DLQ_HEADER_STAGE: &str = "__connect.errors.stage";
/// Connect puts the Java stack trace here; we put the failure's context:
/// class, stage, attempts and the full reason.
pub const DLQ_HEADER_STACKTRACE: &str = "__connect.errors.exception.stacktrace";
pub const DLQ_HEADER_CONNECTOR_NAME: &str = "__connect.errors.connector.name";
/// Short error class (`InvalidJson`, `DocumentTooLarge`...): what `dlq --class` filters on.
pub const DLQ_HEADER_CLASS: &str = "tributary.errors.class";
pub const DLQ_HEADER_ATTEMPTS: &str = "tributary.errors.attempts";
/// When this message first failed; kept across redrives.
pub const DLQ_HEADER_FIRST_FAILED_AT: &str = "tributary.errors.first_failed_at";
/// When it failed this time.
pub const DLQ_HEADER_FAILED_AT: &str = "tributary.errors.failed_at";
pub const DLQ_HEADER_INDEXER_VERSION: &str = "tributary.errors.indexer_version";
/// How many times `tributary dlq redrive` has re-published this message.
pub const HEADER_REDRIVE_COUNT: &str = "tributary.redrive.count";

/// Headers that describe a failure, stripped when a message is redriven
/// (the first-failure time is kept: it dates the problem, not the attempt).
pub fn is_error_header(key: &str) -> bool {
    (key.starts_with("__connect.errors.") || key.starts_with("tributary.errors."))
        && key != DLQ_HEADER_FIRST_FAILED_AT
}

/// A document ready to be produced.
pub struct Encoded {
    pub key: String,
    pub payload: Vec<u8>,
    pub headers: OwnedHeaders,
}

pub fn encode(doc: &Document) -> Result<Encoded, serde_json::Error> {
    let payload = serde_json::to_vec(doc)?;
    let schema = doc.schema_version.to_string();
    let tombstone = if doc.deleted { "true" } else { "false" };
    let headers = OwnedHeaders::new_with_capacity(5)
        .insert(header(HEADER_SCHEMA_VERSION, &schema))
        .insert(header(HEADER_SOURCE_KIND, &doc.source.kind))
        .insert(header(HEADER_SOURCE_INSTANCE, &doc.source.instance))
        .insert(header(HEADER_CONTENT_HASH, &doc.content_hash))
        .insert(header(HEADER_TOMBSTONE, tombstone));
    Ok(Encoded {
        key: doc.id.clone(),
        payload,
        headers,
    })
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}

/// The default dead-letter topic for a documents topic.
pub fn default_dlq_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}
