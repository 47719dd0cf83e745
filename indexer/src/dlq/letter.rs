//! One dead letter, read back with its error headers decoded.

use chrono::{DateTime, Utc};
use rdkafka::message::{Headers, Message, OwnedMessage};
use serde::Serialize;
use tributary_core::envelope::*;

#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub partition: i32,
    pub offset: i64,
    /// The original key: the document id for Tributary producers.
    pub key: Option<String>,
    pub class: String,
    pub reason: String,
    /// Source kind, from the producer's header or the id's `<kind>:` prefix.
    pub source: Option<String>,
    pub original_topic: Option<String>,
    pub original_partition: Option<String>,
    pub original_offset: Option<String>,
    pub attempts: u32,
    pub redrive_count: u32,
    pub first_failed_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub bytes: usize,
    #[serde(skip)]
    pub message: OwnedMessage,
}

fn header(msg: &OwnedMessage, key: &str) -> Option<String> {
    msg.headers()?
        .iter()
        .filter(|h| h.key == key)
        .last()
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).to_string())
}

fn time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

impl DeadLetter {
    pub fn from_message(message: OwnedMessage) -> Self {
        let key = message
            .key()
            .map(|k| String::from_utf8_lossy(k).to_string());
        let source = header(&message, HEADER_SOURCE_KIND).or_else(|| {
            key.as_deref()
                .and_then(|k| k.split_once(':'))
                .map(|(kind, _)| kind.to_string())
        });
        DeadLetter {
            partition: message.partition(),
            offset: message.offset(),
            class: header(&message, DLQ_HEADER_CLASS).unwrap_or_else(|| "Unknown".into()),
            reason: header(&message, DLQ_HEADER_EXCEPTION_MESSAGE).unwrap_or_default(),
            source,
            original_topic: header(&message, DLQ_HEADER_TOPIC),
            original_partition: header(&message, DLQ_HEADER_PARTITION),
            original_offset: header(&message, DLQ_HEADER_OFFSET),
            attempts: header(&message, DLQ_HEADER_ATTEMPTS)
                .and_then(|a| a.parse().ok())
                .unwrap_or(1),
            redrive_count: header(&message, HEADER_REDRIVE_COUNT)
                .and_then(|a| a.parse().ok())
                .unwrap_or(0),
            first_failed_at: time(header(&message, DLQ_HEADER_FIRST_FAILED_AT)),
            failed_at: time(header(&message, DLQ_HEADER_FAILED_AT)),
            bytes: message.payload().map_or(0, <[u8]>::len) + message.key().map_or(0, <[u8]>::len),
            key,
            message,
        }
    }
}
