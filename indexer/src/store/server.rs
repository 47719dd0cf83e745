//! A Qdrant server over gRPC (`qdrant-client`): the production backend.
//!
//! Unlike the embedded store, any number of processes can share it (the
//! indexer writes while `tributary search` reads). Every write is sent with
//! `wait = true`, so an acknowledged upsert or delete is applied and in the
//! server's WAL before the indexer stores the Kafka offset; `flush()` has
//! nothing left to do.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::vectors_config::Config as VectorsConfigKind;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, GetPointsBuilder, PointId, PointStruct,
    Query, QueryPointsBuilder, Range, ScrollPointsBuilder, UpsertPointsBuilder, Value,
    VectorParams, VectorParamsBuilder, VectorsConfigBuilder,
};
use qdrant_client::{Payload, Qdrant, QdrantError};
use uuid::Uuid;

use super::edge::VECTOR_NAME;
use super::{
    tails_by_start, ChunkPayload, ChunkPoint, ScoredPoint, StoreError, StoredPoint, VectorStore,
};
use tributary_core::secret::{ExposeSecret, SecretString};

const SCROLL_PAGE: u32 = 256;

/// Payload fields with an index: the filters the indexer and search use,
/// plus `updated_at` for recency queries downstream.
const INDEXED_FIELDS: [(&str, FieldType); 4] = [
    ("doc_id", FieldType::Keyword),
    ("source", FieldType::Keyword),
    ("chunk_index", FieldType::Integer),
    ("updated_at", FieldType::Datetime),
];

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub url: String,
    pub collection: String,
    pub api_key: Option<SecretString>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

pub struct ServerStore {
    client: Qdrant,
    collection: String,
    url: String,
}

/// Sorts a server error by what it is about (see `crate::failure`): the
/// deployment, the server's availability, or the request's data.
fn op_err(e: QdrantError) -> StoreError {
    let text = e.to_string();
    match &e {
        QdrantError::ResponseError { status } => {
            grpc_error(i32::from(status.code()), status.message(), text)
        }
        QdrantError::ResourceExhaustedError { .. } | QdrantError::Io(_) => {
            StoreError::Unavailable(text)
        }
        _ => StoreError::Operation(text),
    }
}

/// gRPC status codes (<https://grpc.github.io/grpc/core/md_doc_statuscodes.html>).
fn grpc_error(code: i32, message: &str, text: String) -> StoreError {
    const CANCELLED: i32 = 1;
    const INVALID_ARGUMENT: i32 = 3;
    const DEADLINE_EXCEEDED: i32 = 4;
    const NOT_FOUND: i32 = 5;
    const PERMISSION_DENIED: i32 = 7;
    const RESOURCE_EXHAUSTED: i32 = 8;
    const ABORTED: i32 = 10;
    const UNAVAILABLE: i32 = 14;
    const UNAUTHENTICATED: i32 = 16;
    match code {
        // A missing collection, a refused API key.
        NOT_FOUND | PERMISSION_DENIED | UNAUTHENTICATED => StoreError::Configuration(text),
        // A collection recreated with another vector size or without our
        // named vector refuses every point alike.
        INVALID_ARGUMENT if message.contains("dimension") || message.contains("vector name") => {
            StoreError::Configuration(text)
        }
        CANCELLED | DEADLINE_EXCEEDED | RESOURCE_EXHAUSTED | ABORTED | UNAVAILABLE => {
            StoreError::Unavailable(text)
        }
        _ => StoreError::Operation(text),
    }
}

fn doc_filter(doc_id: &str) -> Condition {
    Condition::matches("doc_id", doc_id.to_string())
}

fn uuid_of(id: Option<PointId>) -> Option<Uuid> {
    match id?.point_id_options? {
        PointIdOptions::Uuid(s) => Uuid::parse_str(&s).ok(),
        PointIdOptions::Num(_) => None,
    }
}

fn from_payload(map: HashMap<String, Value>) -> Result<ChunkPayload, StoreError> {
    Payload::from(map)
        .deserialize()
        .map_err(|e| StoreError::Operation(format!("unreadable point payload: {e}")))
}

impl ServerStore {
    /// Connects, creates the collection (named vector `text`, cosine) and its
    /// payload indexes if missing, and refuses a collection whose vector
    /// size differs from `dimension`.
    pub async fn open(settings: ServerSettings, dimension: usize) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: format!("{} (collection {})", settings.url, settings.collection),
            reason,
        };
        let mut config = Qdrant::from_url(&settings.url)
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            // A version mismatch is logged by the client; the calls we use
            // are stable across 1.x servers.
            .skip_compatibility_check();
        if let Some(key) = &settings.api_key {
            config = config.api_key(key.expose_secret().to_string());
        }
        let client = config.build().map_err(|e| open_err(e.to_string()))?;
        let store = ServerStore {
            client,
            collection: settings.collection.clone(),
            url: settings.url.clone(),
        };
        let exists = store
            .client
            .collection_exists(&store.collection)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        if exists {
            let params = store.text_vector().await?.ok_or_else(|| {
                open_err(format!(
                    "the existing collection has no vector named {VECTOR_NAME:?}; it was not \
                     made by Tributary (choose another store.collection)"
                ))
            })?;
            if params.size as usize != dimension {
                return Err(StoreError::DimensionMismatch {
                    expected: dimension,
                    found: params.size as usize,
                });
            }
            if params.distance != Distance::Cosine as i32 {
                return Err(open_err(format!(
                    "vector {VECTOR_NAME:?} uses distance {:?}, not Cosine",
                    Distance::try_from(params.distance).unwrap_or(Distance::UnknownDistance)
                )));
            }
        } else {
            let mut vectors = VectorsConfigBuilder::default();
            vectors.add_named_vector_params(
                VECTOR_NAME,
                VectorParamsBuilder::new(dimension as u64, Distance::Cosine),
            );
            let created = store
                .client
                .create_collection(
                    CreateCollectionBuilder::new(&store.collection).vectors_config(vectors),
                )
                .await;
            // Two indexers starting together both try; the loser finds it made.
            if let Err(err) = created {
                let raced = store
                    .client
                    .collection_exists(&store.collection)
                    .await
                    .unwrap_or(false);
                if !raced {
                    return Err(open_err(err.to_string()));
                }
            }
            tracing::info!(collection = %store.collection, dimension, "created Qdrant collection");
        }
        // Idempotent on the server: re-declaring an index is a no-op.
        for (field, kind) in INDEXED_FIELDS {
            store
                .client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(&store.collection, field, kind)
                        .wait(true),
                )
                .await
                .map_err(|e| open_err(format!("payload index on {field}: {e}")))?;
        }
        Ok(store)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Drops the whole collection (tests; a deliberate reset).
    pub async fn delete_collection(&self) -> Result<(), StoreError> {
        self.client
            .delete_collection(&self.collection)
            .await
            .map_err(op_err)?;
        Ok(())
    }

    /// Parameters of the collection's `text` vector; `None` when the
    /// collection has no vector of that name.
    async fn text_vector(&self) -> Result<Option<VectorParams>, StoreError> {
        let info = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(op_err)?;
        let config = info
            .result
            .and_then(|r| r.config)
            .and_then(|c| c.params)
            .and_then(|p| p.vectors_config)
            .and_then(|v| v.config);
        Ok(match config {
            Some(VectorsConfigKind::ParamsMap(mut map)) => map.map.remove(VECTOR_NAME),
            // One unnamed vector: not ours, and writes naming `text` would fail.
            Some(VectorsConfigKind::Params(_)) | None => None,
        })
    }

    async fn scroll_all(&self, filter: Option<Filter>) -> Result<Vec<StoredPoint>, StoreError> {
        let mut out = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let mut request = ScrollPointsBuilder::new(&self.collection)
                .limit(SCROLL_PAGE)
                .with_payload(true)
                .with_vectors(false);
            if let Some(f) = &filter {
                request = request.filter(f.clone());
            }
            if let Some(o) = offset.take() {
                request = request.offset(o);
            }
            let page = self.client.scroll(request).await.map_err(op_err)?;
            for point in page.result {
                let Some(id) = uuid_of(point.id) else {
                    continue;
                };
                out.push(StoredPoint {
                    id: id.to_string(),
                    payload: from_payload(point.payload)?,
                });
            }
            match page.next_page_offset {
                Some(next) => offset = Some(next),
                None => return Ok(out),
            }
        }
    }
}

#[async_trait::async_trait]
impl VectorStore for ServerStore {
    async fn dimension(&self) -> Result<Option<usize>, StoreError> {
        Ok(self.text_vector().await?.map(|p| p.size as usize))
    }

    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), StoreError> {
        let mut structs = Vec::with_capacity(points.len());
        for p in points {
            let payload = serde_json::to_value(&p.payload)
                .map_err(|e| StoreError::Operation(e.to_string()))
                .and_then(|v| Payload::try_from(v).map_err(op_err))?;
            let vectors: HashMap<String, Vec<f32>> =
                HashMap::from([(VECTOR_NAME.to_string(), p.vector)]);
            structs.push(PointStruct::new(p.id.to_string(), vectors, payload));
        }
        self.client
            .upsert_points(UpsertPointsBuilder::new(&self.collection, structs).wait(true))
            .await
            .map_err(op_err)?;
        Ok(())
    }

    async fn delete_chunks_from(&self, tails: &[(String, usize)]) -> Result<(), StoreError> {
        let mut clauses: Vec<Filter> = Vec::new();
        for (from_index, doc_ids) in tails_by_start(tails) {
            let mut must = vec![Condition::matches("doc_id", doc_ids)];
            if from_index > 0 {
                must.push(Condition::range(
                    "chunk_index",
                    Range {
                        gte: Some(from_index as f64),
                        ..Default::default()
                    },
                ));
            }
            clauses.push(Filter::must(must));
        }
        let filter = match clauses.len() {
            0 => return Ok(()),
            1 => clauses.remove(0),
            _ => Filter::should(clauses.into_iter().map(Condition::from)),
        };
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(filter)
                    .wait(true),
            )
            .await
            .map_err(op_err)?;
        Ok(())
    }

    async fn search(
        &self,
        vector: Vec<f32>,
        source_kind: Option<String>,
        limit: usize,
    ) -> Result<Vec<ScoredPoint>, StoreError> {
        let mut request = QueryPointsBuilder::new(&self.collection)
            .query(Query::new_nearest(vector))
            .using(VECTOR_NAME)
            .limit(limit as u64)
            .with_payload(true);
        if let Some(source) = source_kind {
            request = request.filter(Filter::must([Condition::matches("source", source)]));
        }
        let response = self.client.query(request).await.map_err(op_err)?;
        response
            .result
            .into_iter()
            .map(|hit| {
                Ok(ScoredPoint {
                    score: hit.score,
                    payload: from_payload(hit.payload)?,
                })
            })
            .collect()
    }

    async fn points(&self, doc_id: Option<String>) -> Result<Vec<StoredPoint>, StoreError> {
        self.scroll_all(doc_id.map(|id| Filter::must([doc_filter(&id)])))
            .await
    }

    async fn count(&self, doc_id: Option<String>) -> Result<usize, StoreError> {
        let mut request = CountPointsBuilder::new(&self.collection).exact(true);
        if let Some(id) = doc_id {
            request = request.filter(Filter::must([doc_filter(&id)]));
        }
        let response = self.client.count(request).await.map_err(op_err)?;
        Ok(response.result.map_or(0, |r| r.count as usize))
    }

    async fn existing(&self, ids: Vec<Uuid>) -> Result<HashSet<Uuid>, StoreError> {
        let point_ids: Vec<PointId> = ids.iter().map(|u| PointId::from(u.to_string())).collect();
        let response = self
            .client
            .get_points(
                GetPointsBuilder::new(&self.collection, point_ids)
                    .with_payload(false)
                    .with_vectors(false),
            )
            .await
            .map_err(op_err)?;
        Ok(response
            .result
            .into_iter()
            .filter_map(|p| uuid_of(p.id))
            .collect())
    }

    async fn content_hashes(&self, ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>, StoreError> {
        let point_ids: Vec<PointId> = ids.iter().map(|u| PointId::from(u.to_string())).collect();
        let response = self
            .client
            .get_points(
                GetPointsBuilder::new(&self.collection, point_ids)
                    .with_payload(true)
                    .with_vectors(false),
            )
            .await
            .map_err(op_err)?;
        let mut out = HashMap::with_capacity(response.result.len());
        for point in response.result {
            let Some(id) = uuid_of(point.id) else {
                continue;
            };
            out.insert(id, from_payload(point.payload)?.content_hash);
        }
        Ok(out)
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Writes were sent with wait = true: already applied and logged.
        Ok(())
    }

    /// The server answers and the collection the indexer writes exists: a
    /// deleted collection is a configuration outage, not a bad document.
    async fn health(&self) -> Result<(), StoreError> {
        self.client.health_check().await.map_err(op_err)?;
        let exists = self
            .client
            .collection_exists(&self.collection)
            .await
            .map_err(op_err)?;
        if !exists {
            return Err(StoreError::Configuration(format!(
                "collection {:?} does not exist on {}; it was deleted after the indexer started \
                 (restart the indexer to recreate it, and re-sync with --full)",
                self.collection, self.url
            )));
        }
        Ok(())
    }
}
