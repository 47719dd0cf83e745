//! What happens to a batch of documents once they are parsed: chunk, embed
//! (one batched call for the whole batch), upsert, remove stale chunks,
//! flush, and only then record them in the registry.

use std::collections::HashSet;

use std::sync::Arc;
use uuid::Uuid;

use tracing::Instrument;
use tributary_core::Document;

use crate::chunk::{chunk_markdown, ChunkerConfig, TokenCounter};
use crate::embed::{EmbedError, Embedder};
use crate::failure::FailureKind;
use crate::registry::Registry;
use crate::store::{point_id, ChunkPayload, ChunkPoint, StoreError, VectorStore};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("embedding failed: {0}")]
    Embed(#[from] EmbedError),
    #[error("embedder returned {got} vectors for {expected} chunks")]
    VectorCount { expected: usize, got: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("documents registry: {0}")]
    Registry(#[from] sqlx::Error),
}

impl ProcessError {
    /// What this failure is about; see [`crate::failure`] for the rules.
    pub fn kind(&self) -> FailureKind {
        crate::failure::classify(self)
    }
}

/// Which dependency failed its health probe.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("embedder: {0}")]
    Embedder(EmbedError),
    #[error("vector store: {0}")]
    Store(StoreError),
    #[error("PostgreSQL: {0}")]
    Registry(#[from] crate::registry::ProbeError),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    pub indexed: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub chunks: u64,
}

impl BatchStats {
    pub fn add(&mut self, other: BatchStats) {
        self.indexed += other.indexed;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
        self.chunks += other.chunks;
    }
}

pub type SharedCounter = Arc<dyn TokenCounter + Send + Sync>;

#[derive(Clone)]
pub struct Pipeline {
    pub embedder: Arc<dyn Embedder>,
    pub counter: SharedCounter,
    pub store: Arc<dyn VectorStore>,
    pub registry: Registry,
    pub chunking: ChunkerConfig,
}

/// Where an upserted document's vectors come from.
enum Vectors {
    /// `texts[start..start + chunks.len()]` of this batch's embedding call.
    Embedded { start: usize },
    /// Carried by the document itself.
    Precomputed(Vec<Vec<f32>>),
}

enum Work {
    Upsert {
        doc: Document,
        chunks: Vec<String>,
        vectors: Vectors,
    },
    Delete {
        doc: Document,
    },
}

impl Pipeline {
    /// Applies documents (at most one version per id, already parsed) so
    /// the store ends up holding exactly their current chunks. Idempotent:
    /// applying the same documents again leaves the same points.
    pub async fn apply(&self, docs: Vec<Document>) -> Result<BatchStats, ProcessError> {
        let mut stats = BatchStats::default();
        let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
        let known = self.registry.lookup(&ids).await?;
        let unchanged = self.proven_unchanged(&docs, &known).await?;
        let mut work = Vec::with_capacity(docs.len());
        let mut texts = Vec::new();
        for doc in docs {
            if doc.deleted {
                work.push(Work::Delete { doc });
                continue;
            }
            if unchanged.contains(&doc.id) {
                stats.unchanged += 1;
                continue;
            }
            if !doc.chunks.is_empty() {
                let (chunks, vectors) = doc
                    .chunks
                    .iter()
                    .map(|c| (c.text.clone(), c.vector.clone()))
                    .unzip();
                work.push(Work::Upsert {
                    doc,
                    chunks,
                    vectors: Vectors::Precomputed(vectors),
                });
                continue;
            }
            let chunks: Vec<String> =
                tracing::info_span!("chunk", doc_id = %doc.id).in_scope(|| {
                    chunk_markdown(
                        &doc.title,
                        &doc.body_text(),
                        self.chunking,
                        self.counter.as_ref(),
                    )
                    .into_iter()
                    .map(|c| c.text)
                    .collect()
                });
            let start = texts.len();
            texts.extend(chunks.iter().cloned());
            work.push(Work::Upsert {
                doc,
                chunks,
                vectors: Vectors::Embedded { start },
            });
        }

        let expected = texts.len();
        // Nothing to embed (unchanged, deleted, precomputed): no call at all,
        // so an embedder outage does not hold up work that needs none.
        let embedded = if texts.is_empty() {
            Vec::new()
        } else {
            let inputs = texts.len();
            let started = std::time::Instant::now();
            let vectors = self
                .embedder
                .embed(texts)
                .instrument(tracing::info_span!("embed", inputs))
                .await?;
            crate::events::EmbedCompleted {
                inputs,
                elapsed: started.elapsed(),
            }
            .emit();
            vectors
        };
        if embedded.len() != expected {
            return Err(ProcessError::VectorCount {
                expected,
                got: embedded.len(),
            });
        }

        let mut points = Vec::with_capacity(expected);
        let mut trims: Vec<(String, usize)> = Vec::new();
        for item in &work {
            match item {
                Work::Upsert {
                    doc,
                    chunks,
                    vectors,
                } => {
                    for (i, text) in chunks.iter().enumerate() {
                        let vector = match vectors {
                            Vectors::Embedded { start } => embedded.get(start + i),
                            Vectors::Precomputed(own) => own.get(i),
                        };
                        let Some(vector) = vector else {
                            return Err(ProcessError::VectorCount {
                                expected: chunks.len(),
                                got: i,
                            });
                        };
                        points.push(ChunkPoint {
                            id: point_id(&doc.id, i),
                            vector: vector.clone(),
                            payload: payload(doc, i, text.clone()),
                        });
                    }
                    // An older, longer version left chunks past the new end.
                    trims.push((doc.id.clone(), chunks.len()));
                    stats.indexed += 1;
                    stats.chunks += chunks.len() as u64;
                }
                Work::Delete { doc } => {
                    trims.push((doc.id.clone(), 0));
                    stats.deleted += 1;
                }
            }
        }
        let written = points.len();
        async {
            if !points.is_empty() {
                self.store.upsert(points).await?;
            }
            // One removal for the batch: after the upsert, so it only
            // takes what lies past each document's new last chunk.
            self.store.delete_chunks_from(&trims).await?;
            self.store.flush().await
        }
        .instrument(tracing::info_span!("upsert", points = written))
        .await?;

        let recorded: Vec<(&Document, usize)> = work
            .iter()
            .map(|w| match w {
                Work::Upsert { doc, chunks, .. } => (doc, chunks.len()),
                Work::Delete { doc } => (doc, 0),
            })
            .collect();
        self.registry.record(&recorded).await?;
        Ok(stats)
    }

    /// Documents whose current version the store provably holds: the
    /// registry records this content hash, and every one of its chunks in
    /// the store carries it, with nothing past the last one. The registry
    /// alone is not proof: it is written after the store, so a process
    /// stopped in between leaves it describing an older version than the
    /// points (and a document that returns to that older content must not
    /// be skipped).
    async fn proven_unchanged(
        &self,
        docs: &[Document],
        known: &std::collections::HashMap<String, crate::registry::Indexed>,
    ) -> Result<HashSet<String>, ProcessError> {
        let mut claims: Vec<(&Document, usize)> = Vec::new();
        let mut ids: Vec<Uuid> = Vec::new();
        for doc in docs {
            let Some(k) = known.get(&doc.id) else {
                continue;
            };
            if doc.deleted || k.deleted || k.content_hash != doc.content_hash {
                continue;
            }
            let chunks = usize::try_from(k.chunk_count).unwrap_or(0);
            // Chunks 0..n must carry the hash; chunk n must not exist.
            ids.extend((0..=chunks).map(|i| point_id(&doc.id, i)));
            claims.push((doc, chunks));
        }
        if claims.is_empty() {
            return Ok(HashSet::new());
        }
        let stored = self.store.content_hashes(ids).await?;
        Ok(claims
            .into_iter()
            .filter(|(doc, chunks)| holds_version(&stored, &doc.id, *chunks, &doc.content_hash))
            .map(|(doc, _)| doc.id.clone())
            .collect())
    }

    /// Probes every dependency a batch needs, cheapest first. Used after a
    /// failure to tell an outage (keep retrying, however long) from a
    /// message that fails while everything is up (dead-letter it after
    /// `indexer.max_attempts`).
    pub async fn health(&self) -> Result<(), Unhealthy> {
        self.registry.probe().await?;
        self.store.health().await.map_err(Unhealthy::Store)?;
        let probe = self
            .embedder
            .embed(vec!["tributary health probe".into()])
            .await
            .map_err(Unhealthy::Embedder)?;
        if probe.len() != 1 {
            return Err(Unhealthy::Embedder(EmbedError::BadResponse(format!(
                "{} vectors for 1 probe input",
                probe.len()
            ))));
        }
        Ok(())
    }
}

/// Whether the store's `stored` hashes show exactly `chunks` chunks of
/// `doc_id`, all of the version `content_hash`.
fn holds_version(
    stored: &std::collections::HashMap<Uuid, String>,
    doc_id: &str,
    chunks: usize,
    content_hash: &str,
) -> bool {
    (0..chunks).all(|i| {
        stored
            .get(&point_id(doc_id, i))
            .is_some_and(|h| h == content_hash)
    }) && !stored.contains_key(&point_id(doc_id, chunks))
}

fn payload(doc: &Document, chunk_index: usize, text: String) -> ChunkPayload {
    ChunkPayload {
        doc_id: doc.id.clone(),
        source: doc.source.kind.clone(),
        source_instance: doc.source.instance.clone(),
        title: doc.title.clone(),
        url: doc.url.clone(),
        path: doc
            .metadata
            .get("path")
            .and_then(|p| p.as_str())
            .map(str::to_string),
        chunk_index,
        text,
        updated_at: doc.updated_at,
        content_hash: doc.content_hash.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(doc: &str, hashes: &[&str]) -> std::collections::HashMap<Uuid, String> {
        hashes
            .iter()
            .enumerate()
            .map(|(i, h)| (point_id(doc, i), h.to_string()))
            .collect()
    }

    #[test]
    fn a_version_is_held_only_when_every_chunk_carries_its_hash() {
        assert!(holds_version(&stored("d", &["a", "a", "a"]), "d", 3, "a"));
        // An interrupted write of version b left its first chunk.
        assert!(!holds_version(&stored("d", &["b"]), "d", 3, "a"));
        assert!(!holds_version(&stored("d", &["b", "a", "a"]), "d", 3, "a"));
        // A longer version's tail is still there.
        assert!(!holds_version(&stored("d", &["a", "a", "b"]), "d", 2, "a"));
        // A missing chunk.
        assert!(!holds_version(&stored("d", &["a"]), "d", 2, "a"));
        assert!(holds_version(&stored("d", &[]), "d", 0, "a"));
    }
}
