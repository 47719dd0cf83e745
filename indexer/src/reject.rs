//! Per-message checks whose failure is permanent: the same bytes will fail
//! the same way every time, so the message goes to the DLQ at once (with a
//! class an operator can filter and redrive on once the cause is fixed).

use tributary_core::document::DocumentError;
use tributary_core::Document;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Short, stable class: `InvalidJson`, `DocumentTooLarge`...
    pub class: &'static str,
    pub reason: String,
}

/// A document the embedding server refused on its own (HTTP 4xx other than
/// 429), e.g. too long for the model; redrive after fixing the server or
/// the document.
pub const EMBEDDER_REJECTED: &str = "EmbedderRejected";

/// Parses and validates a message value, or says why it can never be indexed.
pub fn accept(payload: Option<&[u8]>, max_bytes: usize) -> Result<Document, Rejection> {
    let Some(bytes) = payload.filter(|b| !b.is_empty()) else {
        return Err(Rejection {
            class: "EmptyMessage",
            reason: "message has no value".into(),
        });
    };
    if bytes.len() > max_bytes {
        return Err(Rejection {
            class: "DocumentTooLarge",
            reason: format!(
                "document is {} bytes, over indexer.max_document_bytes = {max_bytes}",
                bytes.len()
            ),
        });
    }
    Document::from_json_bytes(bytes).map_err(|err| Rejection {
        class: match err {
            DocumentError::Json(_) => "InvalidJson",
            DocumentError::UnsupportedSchema { .. } => "UnsupportedSchemaVersion",
            _ => "InvalidDocument",
        },
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_name_the_cause() {
        assert_eq!(accept(None, 10).unwrap_err().class, "EmptyMessage");
        assert_eq!(
            accept(Some(b"{not json"), 100).unwrap_err().class,
            "InvalidJson"
        );
        let big = vec![b' '; 101];
        let err = accept(Some(&big), 100).unwrap_err();
        assert_eq!(err.class, "DocumentTooLarge");
        assert!(err.reason.contains("max_document_bytes"));
        let other_version = br#"{"schema_version":9,"id":"x","source":{"kind":"k","instance":"i"},"updated_at":"2026-01-01T00:00:00Z","content_hash":"h"}"#;
        assert_eq!(
            accept(Some(other_version), 1000).unwrap_err().class,
            "UnsupportedSchemaVersion"
        );
    }
}
