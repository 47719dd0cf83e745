//! Per-message checks whose failure is permanent: the same bytes will fail
//! the same way every time, so the message goes to the DLQ at once (with a
//! class an operator can filter and redrive on once the cause is fixed).
//!
//! The classes, as they appear in the `tributary.errors.class` header:
//! - `EmptyMessage`: no value (a tombstone record, not a tombstone document).
//! - `DocumentTooLarge`: over `indexer.max_document_bytes`.
//! - `InvalidUtf8`: the value is not UTF-8, so it cannot be JSON.
//! - `InvalidJson`: not JSON, or JSON that is not a Document.
//! - `UnsupportedSchemaVersion`: a `schema_version` this build does not know.
//! - `InvalidDocument`: parses, but breaks a rule (empty id, bad chunk...).
//! - `VectorDimensionMismatch`: precomputed vectors of another model's size.
//! - `EmbedderRejected`: the embedding server refused this input (4xx).
//! - `RetriesExhausted`: failed `indexer.max_attempts` times while every
//!   health probe passed: a problem with this message, not an outage.

use tributary_core::document::DocumentError;
use tributary_core::Document;

/// Why a message went to the DLQ: the `tributary.errors.class` header, the
/// `class` label of the dead-letter metrics, what `dlq redrive --class`
/// filters on. The names are a stable interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadLetterClass {
    EmptyMessage,
    DocumentTooLarge,
    InvalidUtf8,
    InvalidJson,
    UnsupportedSchemaVersion,
    InvalidDocument,
    VectorDimensionMismatch,
    /// The embedding server refused this input on its own (HTTP 4xx other
    /// than 429), e.g. too long for the model; redrive after fixing the
    /// server or the document.
    EmbedderRejected,
    /// Kept failing while the embedder, the store and PostgreSQL all
    /// answered their health probes.
    RetriesExhausted,
}

impl DeadLetterClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterClass::EmptyMessage => "EmptyMessage",
            DeadLetterClass::DocumentTooLarge => "DocumentTooLarge",
            DeadLetterClass::InvalidUtf8 => "InvalidUtf8",
            DeadLetterClass::InvalidJson => "InvalidJson",
            DeadLetterClass::UnsupportedSchemaVersion => "UnsupportedSchemaVersion",
            DeadLetterClass::InvalidDocument => "InvalidDocument",
            DeadLetterClass::VectorDimensionMismatch => "VectorDimensionMismatch",
            DeadLetterClass::EmbedderRejected => "EmbedderRejected",
            DeadLetterClass::RetriesExhausted => "RetriesExhausted",
        }
    }

    /// Kafka Connect's stage names: the bytes could not become a Document
    /// (`VALUE_CONVERTER`), or the Document could not be embedded and
    /// stored (`TASK_PUT`).
    pub fn stage(self) -> &'static str {
        match self {
            DeadLetterClass::EmbedderRejected | DeadLetterClass::RetriesExhausted => "TASK_PUT",
            _ => "VALUE_CONVERTER",
        }
    }
}

impl std::fmt::Display for DeadLetterClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub class: DeadLetterClass,
    pub reason: String,
}

/// What a message must satisfy besides parsing.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `indexer.max_document_bytes`.
    pub max_bytes: usize,
    /// The embedding model's vector size; precomputed vectors must match.
    pub dimension: usize,
}

/// Parses and validates a message value, or says why it can never be indexed.
pub fn accept(payload: Option<&[u8]>, limits: Limits) -> Result<Document, Rejection> {
    let Some(bytes) = payload.filter(|b| !b.is_empty()) else {
        return Err(Rejection {
            class: DeadLetterClass::EmptyMessage,
            reason: "message has no value".into(),
        });
    };
    if bytes.len() > limits.max_bytes {
        return Err(Rejection {
            class: DeadLetterClass::DocumentTooLarge,
            reason: format!(
                "document is {} bytes, over indexer.max_document_bytes = {}",
                bytes.len(),
                limits.max_bytes
            ),
        });
    }
    if let Err(err) = std::str::from_utf8(bytes) {
        return Err(Rejection {
            class: DeadLetterClass::InvalidUtf8,
            reason: format!("message value is not UTF-8: {err}"),
        });
    }
    let doc = Document::from_json_bytes(bytes).map_err(|err| Rejection {
        class: match err {
            DocumentError::Json(_) => DeadLetterClass::InvalidJson,
            DocumentError::UnsupportedSchema { .. } => DeadLetterClass::UnsupportedSchemaVersion,
            _ => DeadLetterClass::InvalidDocument,
        },
        reason: err.to_string(),
    })?;
    match doc.precomputed_dimension() {
        Some(found) if found != limits.dimension => Err(Rejection {
            class: DeadLetterClass::VectorDimensionMismatch,
            reason: format!(
                "precomputed vectors have {found} dimensions; the collection's model has {}",
                limits.dimension
            ),
        }),
        _ => Ok(doc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_bytes: usize) -> Limits {
        Limits {
            max_bytes,
            dimension: 3,
        }
    }

    #[test]
    fn classes_name_the_cause() {
        assert_eq!(
            accept(None, limits(10)).unwrap_err().class,
            DeadLetterClass::EmptyMessage
        );
        assert_eq!(
            accept(Some(b"{not json"), limits(100)).unwrap_err().class,
            DeadLetterClass::InvalidJson
        );
        assert_eq!(
            accept(Some(b"{\"id\": \"\xff\xfe\"}"), limits(100))
                .unwrap_err()
                .class,
            DeadLetterClass::InvalidUtf8
        );
        let big = vec![b' '; 101];
        let err = accept(Some(&big), limits(100)).unwrap_err();
        assert_eq!(err.class, DeadLetterClass::DocumentTooLarge);
        assert!(err.reason.contains("max_document_bytes"));
        let other_version = br#"{"schema_version":9,"id":"x","source":{"kind":"k","instance":"i"},"updated_at":"2026-01-01T00:00:00Z","content_hash":"h"}"#;
        assert_eq!(
            accept(Some(other_version), limits(1000)).unwrap_err().class,
            DeadLetterClass::UnsupportedSchemaVersion
        );
    }

    #[test]
    fn precomputed_vectors_must_match_the_model() {
        let doc = |vector: &str| {
            format!(
                r#"{{"schema_version":1,"id":"x","source":{{"kind":"k","instance":"i"}},"updated_at":"2026-01-01T00:00:00Z","content_hash":"h","chunks":[{{"text":"t","vector":{vector}}}]}}"#
            )
        };
        assert!(accept(Some(doc("[0.1,0.2,0.3]").as_bytes()), limits(1000)).is_ok());
        let err = accept(Some(doc("[0.1,0.2]").as_bytes()), limits(1000)).unwrap_err();
        assert_eq!(err.class, DeadLetterClass::VectorDimensionMismatch);
        assert!(err.reason.contains("2 dimensions"), "{}", err.reason);
        let err = accept(Some(doc("[0,0,0]").as_bytes()), limits(1000)).unwrap_err();
        assert_eq!(err.class, DeadLetterClass::InvalidDocument);
    }
}
