//! `tributary index` killed with SIGKILL in the middle of a batch, then
//! restarted: the store ends up holding exactly the current chunks of every
//! document. Nothing lost, nothing twice, no chunk of an older version left.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use tributary_core::Document;
use tributary_indexer::chunk::{chunk_markdown, ChunkerConfig};
use tributary_indexer::store::{point_id, EdgeStore, VectorStore};
use tributary_indexer::token_estimate::EstimatedTokens;

use crate::embedder_outage::{document, fake_env, publish};
use crate::embedding_fake::DIMENSION;
use crate::support::wait::poll_until;
use crate::support::{process, TestEnv};

fn long_text(words: usize, tag: &str) -> String {
    (0..words)
        .map(|i| format!("{tag}{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `tributary index` on the test's topic, group and schema, embedding with
/// the fake server, into its own store directory.
pub(crate) fn index_command(env: &TestEnv, embed_url: &str, store: &std::path::Path) -> Command {
    let cfg = &env.config;
    let mut cmd = process::plain_command(env, store);
    cmd.arg("index")
        .env("TRIBUTARY_EMBEDDER__BACKEND", "http")
        .env("TRIBUTARY_EMBEDDER__URL", embed_url)
        .env("TRIBUTARY_EMBEDDER__MODEL", "fake-embedder")
        .env("TRIBUTARY_EMBEDDER__DIMENSION", DIMENSION.to_string())
        .env("TRIBUTARY_EMBEDDER__MODEL_DIR", store.join("no-model"))
        .env("TRIBUTARY_EMBEDDER__TIMEOUT_MS", "120000")
        .env("TRIBUTARY_INDEXER__BATCH_SIZE", "4")
        .env(
            "TRIBUTARY_INDEXER__CHUNK_TOKENS",
            cfg.indexer.chunk_tokens.to_string(),
        )
        .env(
            "TRIBUTARY_INDEXER__CHUNK_OVERLAP_TOKENS",
            cfg.indexer.chunk_overlap_tokens.to_string(),
        )
        .env("TRIBUTARY_INDEXER__IDLE_MS", "300")
        .env("TRIBUTARY_INDEXER__COMMIT_INTERVAL_MS", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Committed offsets of the indexer's group, summed over partitions.
fn committed_total(env: &TestEnv) -> i64 {
    env.committed_and_high()
        .iter()
        .filter_map(|(committed, _)| *committed)
        .sum()
}

/// Polls the group's committed offsets (a broker-side fact no event tells
/// us about) until some are committed; fails after 30 s.
async fn wait_for_commit(env: &TestEnv) -> i64 {
    let what = "the indexer to commit";
    poll_until(
        what,
        Duration::from_secs(30),
        Duration::from_millis(50),
        || {
            let total = committed_total(env);
            std::future::ready((total > 0).then_some(total).ok_or_else(String::new))
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_then_restart_leaves_exactly_the_current_chunks() {
    let (fake, server, env) = fake_env().await;
    let store_dir = tempfile::tempdir().expect("tempdir");
    let store_path = store_dir.path().join("qdrant");

    // 20 documents, some several chunks long; one shrinks from many chunks
    // to one and one is deleted, both after their first version.
    let mut docs: Vec<Document> = (0..20)
        .map(|i| {
            let words = if i % 3 == 0 { 150 } else { 12 };
            document(
                &format!("test:crash:n{i}"),
                &long_text(words, &format!("w{i}x")),
            )
        })
        .collect();
    let shrinks_v1 = document("test:crash:shrinks", &long_text(200, "old"));
    let doomed = document("test:crash:doomed", &long_text(120, "gone"));
    docs.insert(2, shrinks_v1);
    docs.insert(3, doomed.clone());
    docs.push(document(
        "test:crash:shrinks",
        "Now a single short paragraph.",
    ));
    docs.push(Document::tombstone(
        doomed.id.clone(),
        doomed.source.clone(),
        doomed.updated_at,
    ));
    publish(&env, &docs).await;

    // Three embedding requests are answered, then they hang: the indexer is
    // killed while a batch waits for its vectors.
    let before = fake.requests();
    fake.hang_after(3);
    let mut child = index_command(&env, &server.uri(), &store_path)
        .spawn()
        .expect("start tributary index");
    fake.wait_for_requests(before + 4, Duration::from_secs(120))
        .await;
    // Let the auto-commit publish what the three finished batches stored,
    // so the restart resumes mid-topic rather than from the start.
    let committed = wait_for_commit(&env).await;
    child.kill().expect("SIGKILL");
    assert!(
        committed <= 12,
        "committed {committed} offsets, more than the 3 finished batches of at most 4"
    );
    let status = child.wait().expect("reap");
    assert!(!status.success(), "killed, not exited: {status}");

    fake.heal();
    let out = index_command(&env, &server.uri(), &store_path)
        .arg("--until-idle")
        .output()
        .expect("restart tributary index");
    process::stdout_ok(&out, "restart");

    // The final version of every document, chunked the way the indexer does.
    let mut latest: BTreeMap<String, Document> = BTreeMap::new();
    for doc in &docs {
        latest.insert(doc.id.clone(), doc.clone());
    }
    let chunking = ChunkerConfig {
        max_tokens: env.config.indexer.chunk_tokens,
        overlap_tokens: env.config.indexer.chunk_overlap_tokens,
    };
    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    for doc in latest.values().filter(|d| !d.deleted) {
        let chunks = chunk_markdown(&doc.title, &doc.body_text(), chunking, &EstimatedTokens);
        for (i, chunk) in chunks.into_iter().enumerate() {
            expected.insert(
                point_id(&doc.id, i).to_string(),
                (chunk.text, doc.content_hash.clone()),
            );
        }
    }
    assert!(
        expected.len() > latest.len(),
        "the fixture must have multi-chunk documents"
    );

    let store = EdgeStore::open(&store_path, DIMENSION)
        .await
        .expect("open store");
    let points = store.points(None).await.expect("points");
    let found: BTreeSet<String> = points.iter().map(|p| p.id.clone()).collect();
    let wanted: BTreeSet<String> = expected.keys().cloned().collect();
    assert_eq!(points.len(), found.len(), "a point id listed twice");
    let unexpected: Vec<String> = points
        .iter()
        .filter(|p| !wanted.contains(&p.id))
        .map(|p| format!("{}#{}", p.payload.doc_id, p.payload.chunk_index))
        .collect();
    assert!(
        unexpected.is_empty(),
        "stale or unexpected points ({} found, {} wanted): {unexpected:?}",
        found.len(),
        wanted.len()
    );
    assert_eq!(found, wanted, "missing points");
    for point in &points {
        let (text, hash) = &expected[&point.id];
        assert_eq!(&point.payload.text, text, "point {} text", point.id);
        assert_eq!(
            &point.payload.content_hash, hash,
            "point {} version",
            point.id
        );
    }
    assert_eq!(
        store.count(Some(doomed.id.clone())).await.expect("count"),
        0
    );

    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM documents WHERE NOT deleted")
        .fetch_one(&env.pool)
        .await
        .expect("registry");
    assert_eq!(
        rows as usize,
        latest.values().filter(|d| !d.deleted).count()
    );
}
