//! The cursor a connector keeps in `connector_sync_state.cursor`: the
//! driver's own fields (runs, the prune cadence) with the source's fields
//! beside them in one JSON object.
//!
//! Read strictly: a cursor that does not decode stops the run with an error.
//! Falling back to an empty cursor would silently reset positions the
//! watermark relies on (Confluence's per-space watermarks, Jira's keys at
//! the watermark) and re-read, or worse mis-skip, a whole source.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, bound(deserialize = "C: Deserialize<'de> + Default"))]
pub struct RunCursor<C> {
    /// Successful runs so far (drives the prune cadence).
    pub runs: u64,
    /// `runs` at the last deletion listing.
    pub last_prune_run: u64,
    pub last_prune_at: Option<DateTime<Utc>>,
    /// The source's own fields, stored beside the driver's.
    #[serde(flatten)]
    pub source: C,
}

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error(
        "the stored cursor of {connector_id} cannot be read: {source}. The run stops rather than \
         start over without its positions; fix connector_sync_state.cursor, or set it to '{{}}' \
         to re-read the whole source"
    )]
    Decode {
        connector_id: String,
        source: serde_json::Error,
    },
    #[error("cannot encode the cursor of {connector_id}: {source}")]
    Encode {
        connector_id: String,
        source: serde_json::Error,
    },
}

impl<C: DeserializeOwned + Serialize + Default> RunCursor<C> {
    /// The stored cursor; SQL NULL or JSON `null` (never written) is a fresh one.
    pub fn decode(connector_id: &str, value: &Value) -> Result<Self, CursorError> {
        if value.is_null() {
            return Ok(RunCursor::default());
        }
        serde_json::from_value(value.clone()).map_err(|source| CursorError::Decode {
            connector_id: connector_id.to_owned(),
            source,
        })
    }

    pub fn encode(&self, connector_id: &str) -> Result<Value, CursorError> {
        serde_json::to_value(self).map_err(|source| CursorError::Encode {
            connector_id: connector_id.to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    struct Own {
        keys: Vec<String>,
    }

    #[test]
    fn driver_and_source_fields_share_one_object() {
        let cursor = RunCursor {
            runs: 3,
            last_prune_run: 2,
            last_prune_at: None,
            source: Own {
                keys: vec!["A-1".into()],
            },
        };
        let value = cursor.encode("jira:x").unwrap();
        assert_eq!(value["runs"], 3);
        assert_eq!(value["keys"], json!(["A-1"]));
        assert_eq!(RunCursor::<Own>::decode("jira:x", &value).unwrap(), cursor);
    }

    #[test]
    fn an_empty_or_older_cursor_reads_with_defaults() {
        let fresh = RunCursor::<Own>::decode("c", &json!({})).unwrap();
        assert_eq!(fresh, RunCursor::default());
        assert_eq!(RunCursor::<Own>::decode("c", &Value::Null).unwrap(), fresh);
        // Written by a build without the driver's fields.
        let old = RunCursor::<Own>::decode("c", &json!({"keys": ["B-2"]})).unwrap();
        assert_eq!(old.source.keys, ["B-2"]);
        assert_eq!(old.runs, 0);
    }

    #[test]
    fn a_cursor_that_does_not_decode_is_an_error_not_a_reset() {
        for bad in [json!({"runs": "three"}), json!({"keys": 5}), json!([1, 2])] {
            let err = RunCursor::<Own>::decode("confluence:acme", &bad).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("confluence:acme"), "{text}");
            assert!(text.contains("cannot be read"), "{text}");
        }
    }
}
