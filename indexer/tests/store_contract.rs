//! One behaviour, every backend: the same checks run against Qdrant Edge
//! (always) and a Qdrant server (when `QDRANT_URL` is set), so the two
//! `VectorStore` implementations cannot drift apart.
//!
//! Without `QDRANT_URL` (at build time, see `indexer/build.rs`) the server
//! tests are compiled as ignored, so the run says they did not run;
//! `TRIBUTARY_REQUIRE_QDRANT=1` makes a missing `QDRANT_URL` a failure, for
//! CI runs that are meant to cover the server.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tributary_indexer::store::{
    point_id, ChunkPayload, ChunkPoint, EdgeStore, ServerSettings, ServerStore, StoreError,
    VectorStore,
};

const DIM: usize = 8;

/// A unit vector pointing mostly along axis `axis`.
fn vector(axis: usize, wobble: f32) -> Vec<f32> {
    let mut v = [wobble; DIM];
    v[axis % DIM] = 1.0;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

fn chunk(doc_id: &str, source: &str, index: usize, axis: usize) -> ChunkPoint {
    ChunkPoint {
        id: point_id(doc_id, index),
        vector: vector(axis, 0.05),
        payload: ChunkPayload {
            doc_id: doc_id.into(),
            source: source.into(),
            source_instance: "contract".into(),
            title: format!("{doc_id} title"),
            url: Some(format!("https://example.test/{doc_id}")),
            path: None,
            chunk_index: index,
            text: format!("{doc_id} chunk {index} — ünïcode ✓"),
            updated_at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
            content_hash: format!("hash-{doc_id}"),
        },
    }
}

fn doc(doc_id: &str, source: &str, chunks: usize, axis: usize) -> Vec<ChunkPoint> {
    (0..chunks)
        .map(|i| chunk(doc_id, source, i, axis))
        .collect()
}

async fn indexes_of(store: &dyn VectorStore, doc_id: &str) -> BTreeSet<usize> {
    store
        .points(Some(doc_id.into()))
        .await
        .expect("points")
        .into_iter()
        .map(|p| p.payload.chunk_index)
        .collect()
}

/// The contract itself. `reopen` opens the same store again with another
/// dimension, which must be refused.
async fn contract<F, Fut>(store: Arc<dyn VectorStore>, reopen: F)
where
    F: FnOnce(usize) -> Fut,
    Fut: std::future::Future<Output = Result<Arc<dyn VectorStore>, StoreError>>,
{
    store.health().await.expect("healthy");
    assert_eq!(store.dimension().await.expect("dimension"), Some(DIM));
    assert_eq!(store.count(None).await.expect("count"), 0, "starts empty");

    // Upsert and read back: payloads survive the round trip unchanged.
    let a = doc("doc-a", "vault", 5, 0);
    store.upsert(a.clone()).await.expect("upsert a");
    store
        .upsert(doc("doc-b", "jira", 3, 3))
        .await
        .expect("upsert b");
    store.flush().await.expect("flush");
    assert_eq!(store.count(None).await.expect("count"), 8);
    assert_eq!(store.count(Some("doc-a".into())).await.expect("count a"), 5);
    let mut stored = store.points(Some("doc-a".into())).await.expect("points a");
    stored.sort_by_key(|p| p.payload.chunk_index);
    assert_eq!(stored.len(), 5);
    for (got, want) in stored.iter().zip(&a) {
        assert_eq!(got.id, want.id.to_string());
        assert_eq!(got.payload, want.payload);
    }

    // Same ids again: replaced, not duplicated.
    store.upsert(a.clone()).await.expect("re-upsert");
    assert_eq!(store.count(None).await.expect("count"), 8, "idempotent");

    // existing(): exactly the ids that are there.
    let probe = vec![
        point_id("doc-a", 0),
        point_id("doc-a", 4),
        point_id("doc-z", 0),
    ];
    let found = store.existing(probe).await.expect("existing");
    assert_eq!(
        found,
        HashSet::from([point_id("doc-a", 0), point_id("doc-a", 4)])
    );

    // Search: nearest first, and the source filter holds.
    let hits = store.search(vector(3, 0.0), None, 3).await.expect("search");
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|h| h.payload.doc_id == "doc-b"), "{hits:?}");
    assert!(hits[0].score >= hits[2].score, "ordered by score");
    let hits = store
        .search(vector(3, 0.0), Some("vault".into()), 10)
        .await
        .expect("filtered search");
    assert_eq!(hits.len(), 5);
    assert!(hits.iter().all(|h| h.payload.source == "vault"));

    // Trimming a shorter new version removes only the tail.
    store
        .delete_chunks_from(&tails(&[("doc-a", 2)]))
        .await
        .expect("trim");
    assert_eq!(
        indexes_of(store.as_ref(), "doc-a").await,
        BTreeSet::from([0, 1])
    );
    assert_eq!(store.count(Some("doc-b".into())).await.expect("count b"), 3);
    // Trimming past the end is a no-op.
    store
        .delete_chunks_from(&tails(&[("doc-a", 7)]))
        .await
        .expect("no-op trim");
    assert_eq!(store.count(Some("doc-a".into())).await.expect("count"), 2);
    // One call for a batch: several documents, several starts; from 0
    // removes a document, an unknown one is fine, past the end is a no-op.
    store
        .delete_chunks_from(&tails(&[("doc-a", 0), ("never-indexed", 0), ("doc-b", 7)]))
        .await
        .expect("batch removal");
    assert_eq!(store.count(Some("doc-a".into())).await.expect("count"), 0);
    assert_eq!(store.count(Some("doc-b".into())).await.expect("count b"), 3);
    store
        .delete_chunks_from(&[])
        .await
        .expect("nothing to remove");

    // points(None) pages through everything (more than one scroll page).
    let many: Vec<ChunkPoint> = (0..300).map(|i| chunk("doc-many", "vault", i, i)).collect();
    store.upsert(many).await.expect("upsert many");
    store.flush().await.expect("flush");
    let all = store.points(None).await.expect("all points");
    assert_eq!(all.len(), 303);
    let ids: HashSet<&str> = all.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 303, "no point listed twice");

    drop(store);
    match reopen(DIM + 1).await {
        Err(StoreError::DimensionMismatch { expected, found }) => {
            assert_eq!((expected, found), (DIM + 1, DIM));
        }
        Err(other) => panic!("expected a dimension mismatch, got {other}"),
        Ok(_) => panic!("a store with the wrong dimension was opened"),
    }
}

#[tokio::test]
async fn qdrant_edge_honours_the_store_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shard");
    let store: Arc<dyn VectorStore> = Arc::new(EdgeStore::open(&path, DIM).await.expect("open"));
    contract(store, |dim| {
        let path = path.clone();
        async move {
            EdgeStore::open(&path, dim)
                .await
                .map(|s| Arc::new(s) as Arc<dyn VectorStore>)
        }
    })
    .await;
}

#[test]
fn a_required_qdrant_server_is_configured() {
    let server_compiled_in = cfg!(qdrant_server);
    assert!(
        server_compiled_in || std::env::var_os("TRIBUTARY_REQUIRE_QDRANT").is_none(),
        "TRIBUTARY_REQUIRE_QDRANT is set but QDRANT_URL was not when the tests were built"
    );
}

/// The server's address; the tests that call it are ignored without one.
fn qdrant_url() -> String {
    std::env::var("QDRANT_URL").expect("QDRANT_URL was set when this test was built; set it again")
}

#[tokio::test]
#[cfg_attr(not(qdrant_server), ignore = "needs a Qdrant server: set QDRANT_URL")]
async fn qdrant_server_honours_the_store_contract() {
    let url = qdrant_url();
    let first = ServerSettings {
        url,
        collection: format!("contract_{}", uuid::Uuid::new_v4().simple()),
        api_key: None,
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
    };
    let server = ServerStore::open(first.clone(), DIM)
        .await
        .expect("open the Qdrant server store");
    let cleanup = ServerStore::open(first.clone(), DIM)
        .await
        .expect("second handle");
    let store: Arc<dyn VectorStore> = Arc::new(server);
    contract(store, |dim| {
        let again = first.clone();
        async move {
            ServerStore::open(again, dim)
                .await
                .map(|s| Arc::new(s) as Arc<dyn VectorStore>)
        }
    })
    .await;
    cleanup
        .delete_collection()
        .await
        .expect("drop the test collection");
}

#[tokio::test]
#[cfg_attr(not(qdrant_server), ignore = "needs a Qdrant server: set QDRANT_URL")]
async fn qdrant_server_refuses_a_collection_it_did_not_make() {
    let url = qdrant_url();
    use qdrant_client::qdrant::{CreateCollectionBuilder, Distance, VectorParamsBuilder};
    let client = qdrant_client::Qdrant::from_url(&url)
        .skip_compatibility_check()
        .build()
        .expect("client");
    let name = format!("foreign_{}", uuid::Uuid::new_v4().simple());
    // One unnamed vector of the right size: not a Tributary collection.
    client
        .create_collection(
            CreateCollectionBuilder::new(&name)
                .vectors_config(VectorParamsBuilder::new(DIM as u64, Distance::Cosine)),
        )
        .await
        .expect("create a foreign collection");
    let settings = ServerSettings {
        url,
        collection: name.clone(),
        api_key: None,
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
    };
    let opened = ServerStore::open(settings, DIM).await;
    client.delete_collection(&name).await.expect("drop it");
    match opened {
        Err(StoreError::Open { reason, .. }) => {
            assert!(reason.contains("no vector named"), "{reason}");
        }
        Err(other) => panic!("expected an Open error, got {other}"),
        Ok(_) => panic!("a foreign collection was opened"),
    }
}

/// `(doc_id, from_index)` removals as the pipeline hands them over.
fn tails(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    list.iter()
        .map(|(id, from)| ((*id).to_owned(), *from))
        .collect()
}
