//! What one stored chunk looks like, and its deterministic id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Namespace for point ids. Fixed forever: changing it orphans every point.
const POINT_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_4e1a_9b3d_4f0e_8a57_2d3c_b7e1_0a42);

/// UUIDv5 of `doc_id` and chunk index: re-indexing the same chunk
/// overwrites the same point, which is what makes redelivery harmless.
pub fn point_id(doc_id: &str, chunk_index: usize) -> Uuid {
    Uuid::new_v5(
        &POINT_NAMESPACE,
        format!("{doc_id}#{chunk_index}").as_bytes(),
    )
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkPayload {
    pub doc_id: String,
    pub source: String,
    pub source_instance: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub chunk_index: usize,
    pub text: String,
    pub updated_at: DateTime<Utc>,
    pub content_hash: String,
}

#[derive(Debug, Clone)]
pub struct ChunkPoint {
    pub id: Uuid,
    pub vector: Vec<f32>,
    pub payload: ChunkPayload,
}

/// A point read back from the store (tests, status).
#[derive(Debug, Clone)]
pub struct StoredPoint {
    pub id: String,
    pub payload: ChunkPayload,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(point_id("vault:a:x.md", 0), point_id("vault:a:x.md", 0));
        assert_ne!(point_id("vault:a:x.md", 0), point_id("vault:a:x.md", 1));
        assert_ne!(point_id("vault:a:x.md", 0), point_id("vault:a:y.md", 0));
        assert_eq!(point_id("d", 0).get_version_num(), 5);
    }
}
