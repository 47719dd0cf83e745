//! Vector stores behind one trait: Qdrant Edge (embedded, on disk) is the
//! default; a Qdrant server over gRPC is the production backend.

mod edge;
mod point;
mod server;

pub use edge::EdgeStore;
pub use point::{point_id, ChunkPayload, ChunkPoint, StoredPoint};
pub use server::{ServerSettings, ServerStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open vector store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "collection vector size is {found} but the embedding model produces {expected}; \
         refusing to mix vectors (use a new store path or collection)"
    )]
    DimensionMismatch { expected: usize, found: usize },
    /// The store answered, refusing the deployment rather than the data: a
    /// missing collection, a refused credential, another vector size.
    #[error("vector store refuses this deployment: {0}")]
    Configuration(String),
    /// The store could not be reached or is overloaded.
    #[error("vector store unavailable: {0}")]
    Unavailable(String),
    #[error("vector store operation failed: {0}")]
    Operation(String),
    #[error("vector store task was cancelled or panicked: {0}")]
    Task(String),
}

/// The documents of `tails` grouped by the chunk index their removal starts
/// at, so a batch's removals become one filter: one clause per distinct
/// start (a batch of one-chunk documents is one clause), not one write per
/// document.
pub(crate) fn tails_by_start(tails: &[(String, usize)]) -> Vec<(usize, Vec<String>)> {
    let mut groups: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for (doc_id, from) in tails {
        groups.entry(*from).or_default().push(doc_id.clone());
    }
    groups.into_iter().collect()
}

/// A search hit as the store returns it.
#[derive(Debug, Clone)]
pub struct ScoredPoint {
    pub score: f32,
    pub payload: ChunkPayload,
}

#[async_trait::async_trait]
pub trait VectorStore: Send + Sync {
    /// Vector size of the existing collection, if any.
    async fn dimension(&self) -> Result<Option<usize>, StoreError>;
    /// Inserts or replaces points (same id = same doc + chunk index).
    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), StoreError>;
    /// Removes, for every `(doc_id, from_index)`, that document's chunks
    /// whose index is `>= from_index` (0 removes the whole document), in
    /// one operation for the whole list (see [`tails_by_start`]).
    async fn delete_chunks_from(&self, tails: &[(String, usize)]) -> Result<(), StoreError>;
    /// Nearest neighbours, optionally only from one source kind.
    async fn search(
        &self,
        vector: Vec<f32>,
        source_kind: Option<String>,
        limit: usize,
    ) -> Result<Vec<ScoredPoint>, StoreError>;
    /// Every stored point of a document (all points when `None`).
    async fn points(&self, doc_id: Option<String>) -> Result<Vec<StoredPoint>, StoreError>;
    /// Exact number of points, of one document or of all.
    async fn count(&self, doc_id: Option<String>) -> Result<usize, StoreError>;
    /// The `content_hash` stored with each of `ids` that exists. Proves
    /// the skip-unchanged shortcut by what the store holds, chunk by chunk.
    async fn content_hashes(
        &self,
        ids: Vec<uuid::Uuid>,
    ) -> Result<std::collections::HashMap<uuid::Uuid, String>, StoreError>;
    /// Which of `ids` exist. Guards the skip-unchanged shortcut: a registry
    /// that says "indexed" must not hide a store that was wiped.
    async fn existing(
        &self,
        ids: Vec<uuid::Uuid>,
    ) -> Result<std::collections::HashSet<uuid::Uuid>, StoreError>;
    /// Makes everything written so far durable on disk.
    async fn flush(&self) -> Result<(), StoreError>;
    /// Cheap liveness probe: tells an outage (retry, keep the message) from
    /// a failure of one message while the store is fine.
    async fn health(&self) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::tails_by_start;

    #[test]
    fn removals_are_grouped_by_their_first_chunk() {
        let tails = [
            ("a".to_string(), 1),
            ("b".to_string(), 0),
            ("c".to_string(), 1),
            ("d".to_string(), 3),
        ];
        assert_eq!(
            tails_by_start(&tails),
            [
                (0, vec!["b".to_string()]),
                (1, vec!["a".to_string(), "c".to_string()]),
                (3, vec!["d".to_string()]),
            ]
        );
        assert!(tails_by_start(&[]).is_empty());
    }
}
