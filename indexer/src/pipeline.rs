//! What happens to a batch of documents once they are parsed: chunk, embed
//! (one batched call for the whole batch), upsert, remove stale chunks,
//! flush, and only then record them in the registry.

use std::collections::HashSet;
use std::sync::Arc;

use tributary_core::Document;

use crate::chunk::{chunk_markdown, ChunkerConfig, TokenCounter};
use crate::embed::{EmbedError, Embedder};
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
    /// The embedding server refused the input itself: the same documents
    /// fail again on retry, so the culprit is isolated and dead-lettered
    /// instead of retried.
    pub fn is_rejected_input(&self) -> bool {
        matches!(self, ProcessError::Embed(EmbedError::Rejected { .. }))
    }

    /// Everything else is presumed an outage and retried, with the
    /// partitions paused. Whether it really is one is for the health probes
    /// to say: a failure that repeats while they pass is the message's.
    pub fn is_transient(&self) -> bool {
        !self.is_rejected_input()
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
    Registry(sqlx::Error),
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
        // Unchanged per the registry and still present in the store.
        let candidates: Vec<uuid::Uuid> = docs
            .iter()
            .filter(|d| {
                !d.deleted
                    && known
                        .get(&d.id)
                        .is_some_and(|k| !k.deleted && k.content_hash == d.content_hash)
            })
            .map(|d| point_id(&d.id, 0))
            .collect();
        let present: HashSet<uuid::Uuid> = if candidates.is_empty() {
            HashSet::new()
        } else {
            self.store.existing(candidates).await?
        };

        let mut work = Vec::with_capacity(docs.len());
        let mut texts = Vec::new();
        for doc in docs {
            if doc.deleted {
                work.push(Work::Delete { doc });
                continue;
            }
            if present.contains(&point_id(&doc.id, 0)) {
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
            let chunks: Vec<String> = chunk_markdown(
                &doc.title,
                &doc.body_text(),
                self.chunking,
                self.counter.as_ref(),
            )
            .into_iter()
            .map(|c| c.text)
            .collect();
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
            self.embedder.embed(texts).await?
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
        if !points.is_empty() {
            self.store.upsert(points).await?;
        }
        for (doc_id, from) in &trims {
            self.store.delete_chunks_from(doc_id, *from).await?;
        }
        self.store.flush().await?;

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

    /// Probes every dependency a batch needs, cheapest first. Used after a
    /// failure to tell an outage (keep retrying, however long) from a
    /// message that fails while everything is up (dead-letter it after
    /// `indexer.max_attempts`).
    pub async fn health(&self) -> Result<(), Unhealthy> {
        self.registry.ping().await.map_err(Unhealthy::Registry)?;
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
