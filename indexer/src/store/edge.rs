//! Qdrant Edge: the embedded, on-disk default store.
//!
//! qdrant-edge 0.7.1 is synchronous, so every call runs on the blocking
//! pool. Two properties of that version shape this file:
//! - `update()` is not durable until `flush()`; reopening does not replay the
//!   WAL. We flush after every batch, before offsets are stored.
//! - `flush()` panics if an `update()` runs concurrently, so writes and
//!   flushes go through one gate (reads need none).
//!
//! The shard directory is locked by the process that opens it: one process
//! at a time. Deployments with several readers use a Qdrant server.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::external::serde_json::{self, Map, Value};
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfig, EdgeShard, EdgeVectorParams,
    FieldCondition, FieldIndexOperations, Filter, JsonPath, Match, NamedQuery, PayloadFieldSchema,
    PayloadSchemaType, PointId, PointInsertOperations, PointOperations, PointStruct, QueryEnum,
    QueryRequest, Range, ScoringQuery, ScrollRequest, UpdateOperation, ValueVariants,
    VectorInternal, Vectors, WithPayloadInterface, WithVector,
};
use uuid::Uuid;

use super::{
    tails_by_start, ChunkPayload, ChunkPoint, ScoredPoint, StoreError, StoredPoint, VectorStore,
};

/// The one named dense vector every point carries.
pub const VECTOR_NAME: &str = "text";
const SCROLL_PAGE: usize = 256;
/// Written by qdrant-edge into every shard directory it opens.
const EDGE_CONFIG_FILE: &str = "edge_config.json";

pub struct EdgeStore {
    shard: Arc<EdgeShard>,
    write_gate: Arc<Mutex<()>>,
    path: PathBuf,
    dimension: usize,
}

fn op_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Operation(e.to_string())
}

fn key(k: &str) -> Result<JsonPath, StoreError> {
    k.parse::<JsonPath>()
        .map_err(|_| StoreError::Operation(format!("invalid payload key {k:?}")))
}

fn keyword(k: &str, v: &str) -> Result<Condition, StoreError> {
    Ok(Condition::Field(FieldCondition::new_match(
        key(k)?,
        Match::new_value(ValueVariants::String(v.to_string())),
    )))
}

/// Vector size recorded by an existing shard, if the directory holds one.
fn existing_dimension(path: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(path.join(EDGE_CONFIG_FILE)).ok()?;
    let config: Value = serde_json::from_str(&text).ok()?;
    config
        .get("vectors")?
        .get(VECTOR_NAME)?
        .get("size")?
        .as_u64()
        .map(|s| s as usize)
}

impl EdgeStore {
    /// Opens the shard at `path`, creating it (and the directory) if needed.
    pub async fn open(path: &Path, dimension: usize) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let open_path = path.clone();
        let open_err = move |reason: String| StoreError::Open {
            path: open_path.display().to_string(),
            reason,
        };
        if let Some(found) = existing_dimension(&path) {
            if found != dimension {
                return Err(StoreError::DimensionMismatch {
                    expected: dimension,
                    found,
                });
            }
        }
        let dir = path.clone();
        let shard = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let config = EdgeConfig::builder()
                .vector(VECTOR_NAME, EdgeVectorParams::builder(dimension, Distance::Cosine).build())
                .build();
            // load() with a config creates an empty shard or opens an existing
            // compatible one; new() would refuse a directory with segments.
            let shard = EdgeShard::load(&dir, Some(config)).map_err(|e| {
                let msg = e.to_string();
                if msg.contains("WAL") {
                    format!("{msg} (is another tributary process using this store? the embedded store allows one process at a time)")
                } else {
                    msg
                }
            })?;
            // Payload indexes are re-declared on every open: cheap, idempotent,
            // and a fresh segment would otherwise lack them.
            for (field, schema) in [
                ("doc_id", PayloadSchemaType::Keyword),
                ("source", PayloadSchemaType::Keyword),
                ("chunk_index", PayloadSchemaType::Integer),
            ] {
                let field_name = field.parse::<JsonPath>().map_err(|_| format!("bad field {field}"))?;
                shard
                    .update(UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(
                        CreateIndex {
                            field_name,
                            field_schema: Some(PayloadFieldSchema::FieldType(schema)),
                        },
                    )))
                    .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(shard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(open_err)?;
        Ok(EdgeStore {
            shard: Arc::new(shard),
            write_gate: Arc::new(Mutex::new(())),
            path,
            dimension,
        })
    }

    /// Opens the shard at `path` only if a store is already there: for
    /// readers (`tributary search`), where a mistyped path must fail naming
    /// it instead of creating an empty store that finds nothing.
    pub async fn open_existing(path: &Path, dimension: usize) -> Result<Self, StoreError> {
        Self::require_existing(path)?;
        Self::open(path, dimension).await
    }

    /// Fails unless `path` holds a store: a directory with the shard's
    /// `edge_config.json`, which every opened shard writes.
    pub fn require_existing(path: &Path) -> Result<(), StoreError> {
        let reason = if !path.exists() {
            "no such directory"
        } else if !path.join(EDGE_CONFIG_FILE).is_file() {
            "not a vector store (no edge_config.json)"
        } else {
            return Ok(());
        };
        Err(StoreError::Open {
            path: path.display().to_string(),
            reason: format!(
                "{reason}; check store.path / TRIBUTARY_STORE_PATH, or run `tributary index` to build it"
            ),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&EdgeShard) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shard = Arc::clone(&self.shard);
        tokio::task::spawn_blocking(move || f(&shard))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn write(&self, op: UpdateOperation) -> Result<(), StoreError> {
        let gate = Arc::clone(&self.write_gate);
        self.blocking(move |shard| {
            let _guard = gate
                .lock()
                .map_err(|_| op_err("store write gate poisoned"))?;
            shard.update(op).map_err(op_err)
        })
        .await
    }
}

fn to_payload(p: &ChunkPayload) -> Result<Value, StoreError> {
    let value = serde_json::to_value(p).map_err(op_err)?;
    match value {
        Value::Object(_) => Ok(value),
        _ => Err(op_err("chunk payload is not a JSON object")),
    }
}

fn from_payload(map: Map<String, Value>) -> Result<ChunkPayload, StoreError> {
    serde_json::from_value(Value::Object(map))
        .map_err(|e| op_err(format!("unreadable point payload: {e}")))
}

#[async_trait::async_trait]
impl VectorStore for EdgeStore {
    async fn dimension(&self) -> Result<Option<usize>, StoreError> {
        Ok(Some(self.dimension))
    }

    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), StoreError> {
        let mut persisted = Vec::with_capacity(points.len());
        for p in points {
            let payload = to_payload(&p.payload)?;
            persisted.push(
                PointStruct::new(
                    PointId::Uuid(p.id),
                    Vectors::new_named([(VECTOR_NAME, p.vector)]),
                    payload,
                )
                .into(),
            );
        }
        self.write(UpdateOperation::PointOperation(
            PointOperations::UpsertPoints(PointInsertOperations::PointsList(persisted)),
        ))
        .await
    }

    async fn delete_chunks_from(&self, tails: &[(String, usize)]) -> Result<(), StoreError> {
        let mut clauses = Vec::new();
        for (from_index, doc_ids) in tails_by_start(tails) {
            let mut must = vec![Condition::Field(FieldCondition::new_match(
                key("doc_id")?,
                Match::from(doc_ids),
            ))];
            if from_index > 0 {
                must.push(Condition::Field(FieldCondition::new_range(
                    key("chunk_index")?,
                    Range {
                        gte: Some(OrderedFloat(from_index as f64)),
                        ..Default::default()
                    },
                )));
            }
            clauses.push(Filter {
                must: Some(must),
                ..Default::default()
            });
        }
        let filter = match clauses.len() {
            0 => return Ok(()),
            1 => clauses.remove(0),
            _ => Filter {
                should: Some(clauses.into_iter().map(Condition::Filter).collect()),
                ..Default::default()
            },
        };
        self.write(UpdateOperation::PointOperation(
            PointOperations::DeletePointsByFilter(filter),
        ))
        .await
    }

    async fn search(
        &self,
        vector: Vec<f32>,
        source_kind: Option<String>,
        limit: usize,
    ) -> Result<Vec<ScoredPoint>, StoreError> {
        let filter = match source_kind {
            Some(s) => Some(Filter::new_must(keyword("source", &s)?)),
            None => None,
        };
        let hits = self
            .blocking(move |shard| {
                shard
                    .query(QueryRequest {
                        prefetches: vec![],
                        query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery::new(
                            VectorInternal::Dense(vector),
                            VECTOR_NAME,
                        )))),
                        filter,
                        score_threshold: None,
                        limit,
                        offset: 0,
                        params: None,
                        with_vector: WithVector::Bool(false),
                        with_payload: WithPayloadInterface::Bool(true),
                    })
                    .map_err(op_err)
            })
            .await?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let Some(payload) = hit.payload else { continue };
            out.push(ScoredPoint {
                score: hit.score,
                payload: from_payload(payload.0)?,
            });
        }
        Ok(out)
    }

    async fn points(&self, doc_id: Option<String>) -> Result<Vec<StoredPoint>, StoreError> {
        let filter = match doc_id {
            Some(id) => Some(Filter::new_must(keyword("doc_id", &id)?)),
            None => None,
        };
        self.blocking(move |shard| {
            let mut out = Vec::new();
            let mut offset = None;
            loop {
                let (page, next) = shard
                    .scroll(ScrollRequest {
                        offset,
                        limit: Some(SCROLL_PAGE),
                        filter: filter.clone(),
                        with_payload: Some(WithPayloadInterface::Bool(true)),
                        with_vector: WithVector::Bool(false),
                        order_by: None,
                    })
                    .map_err(op_err)?;
                for record in page {
                    let Some(payload) = record.payload else {
                        continue;
                    };
                    out.push(StoredPoint {
                        id: record.id.to_string(),
                        payload: from_payload(payload.0)?,
                    });
                }
                match next {
                    Some(n) => offset = Some(n),
                    None => return Ok(out),
                }
            }
        })
        .await
    }

    async fn existing(&self, ids: Vec<Uuid>) -> Result<HashSet<Uuid>, StoreError> {
        self.blocking(move |shard| {
            let point_ids: Vec<PointId> = ids.iter().copied().map(PointId::Uuid).collect();
            let records = shard
                .retrieve(
                    &point_ids,
                    Some(WithPayloadInterface::Bool(false)),
                    Some(WithVector::Bool(false)),
                )
                .map_err(op_err)?;
            Ok(records
                .into_iter()
                .filter_map(|r| match r.id {
                    PointId::Uuid(u) => Some(u),
                    _ => None,
                })
                .collect())
        })
        .await
    }

    async fn content_hashes(
        &self,
        ids: Vec<Uuid>,
    ) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
        self.blocking(move |shard| {
            let point_ids: Vec<PointId> = ids.iter().copied().map(PointId::Uuid).collect();
            let records = shard
                .retrieve(
                    &point_ids,
                    Some(WithPayloadInterface::Bool(true)),
                    Some(WithVector::Bool(false)),
                )
                .map_err(op_err)?;
            let mut out = std::collections::HashMap::with_capacity(records.len());
            for record in records {
                let (PointId::Uuid(id), Some(payload)) = (record.id, record.payload) else {
                    continue;
                };
                out.insert(id, from_payload(payload.0)?.content_hash);
            }
            Ok(out)
        })
        .await
    }

    async fn count(&self, doc_id: Option<String>) -> Result<usize, StoreError> {
        let filter = match doc_id {
            Some(id) => Some(Filter::new_must(keyword("doc_id", &id)?)),
            None => None,
        };
        self.blocking(move |shard| {
            shard
                .count(CountRequest {
                    filter,
                    exact: true,
                })
                .map_err(op_err)
        })
        .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let gate = Arc::clone(&self.write_gate);
        self.blocking(move |shard| {
            let _guard = gate
                .lock()
                .map_err(|_| op_err("store write gate poisoned"))?;
            // qdrant-edge 0.7.1 panics on flush I/O errors; contain it so a
            // full disk is a retried error, not a dead indexer.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shard.flush()))
                .map_err(|_| op_err("flush failed (disk full or unwritable?)"))
        })
        .await
    }

    async fn health(&self) -> Result<(), StoreError> {
        // In-process: healthy when it answers a read.
        self.count(None).await.map(|_| ())
    }
}

// The shard is shared across the blocking pool; make that a compile error if
// a future version stops being thread-safe.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<EdgeShard>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reader_never_creates_a_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let typo = dir.path().join("qdrnat");
        let err = EdgeStore::open_existing(&typo, 4)
            .await
            .err()
            .expect("refused");
        let message = err.to_string();
        assert!(message.contains(&typo.display().to_string()), "{message}");
        assert!(message.contains("no such directory"), "{message}");
        assert!(!typo.exists(), "the mistyped path was created");

        // An existing directory that is not a store is refused and left alone.
        let err = EdgeStore::open_existing(dir.path(), 4)
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains("not a vector store"), "{err}");
        assert!(!dir.path().join(EDGE_CONFIG_FILE).exists());
    }

    #[tokio::test]
    async fn a_reader_opens_a_store_a_writer_made() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("qdrant");
        drop(EdgeStore::open(&path, 4).await.expect("created"));
        let store = EdgeStore::open_existing(&path, 4).await.expect("opens");
        assert_eq!(store.count(None).await.expect("count"), 0);
    }
}
