//! The HTTP embedder against a local OpenAI-shaped server: its request and
//! error mapping, and what the indexer does when the server goes down (pause,
//! lose nothing, dead-letter nothing) or refuses one input (dead-letter
//! exactly that document).

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;
use tributary_core::config::{EmbedderBackend, EmbedderConfig};
use tributary_core::{kafka, Document, SCHEMA_VERSION};
use tributary_indexer::build::{self, EmbedderParts};
use tributary_indexer::dlq::{self, Resolved};
use tributary_indexer::embed::{EmbedError, Embedder, HttpEmbedder, HttpEmbedderSettings};
use tributary_indexer::store::StoreError;
use wiremock::MockServer;

use crate::embedding_fake::{self, FakeEmbeddings, DIMENSION};
use crate::support::{unique, TestEnv};

fn settings(server: &MockServer, batch_size: usize) -> HttpEmbedderSettings {
    HttpEmbedderSettings {
        url: server.uri(),
        model: "fake-embedder".into(),
        api_key: None,
        timeout: Duration::from_secs(5),
        batch_size,
    }
}

/// The `[embedder]` section a deployment would write for this server; no
/// tokenizer.json in `model_dir`, so chunk sizes are estimated.
pub(crate) fn http_config(server: &MockServer) -> EmbedderConfig {
    EmbedderConfig {
        backend: EmbedderBackend::Http,
        url: server.uri(),
        model: "fake-embedder".into(),
        model_dir: std::env::temp_dir().join(unique("no-model")),
        batch_size: 16,
        timeout_ms: 5_000,
        ..EmbedderConfig::default()
    }
}

pub(crate) async fn http_parts(server: &MockServer) -> EmbedderParts {
    build::load_embedder(&http_config(server))
        .await
        .expect("HTTP embedder starts")
}

/// A fake embedding server and a test environment embedding through it.
pub(crate) async fn fake_env() -> (FakeEmbeddings, MockServer, TestEnv) {
    let fake = FakeEmbeddings::default();
    let server = fake.start().await;
    let env = TestEnv::with_embedder(http_parts(&server).await).await;
    (fake, server, env)
}

fn normalised(text: &str) -> Vec<f32> {
    let v = embedding_fake::vector(text);
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

pub(crate) fn document(id: &str, text: &str) -> Document {
    let mut doc: Document = serde_json::from_value(json!({
        "schema_version": SCHEMA_VERSION,
        "id": id,
        "source": {"kind": "test", "instance": "outage"},
        "title": format!("Note {id}"),
        "body": {"text": text},
        "updated_at": "2026-01-01T00:00:00Z",
        "content_hash": "",
    }))
    .expect("document JSON");
    doc.content_hash = doc.compute_content_hash();
    doc
}

pub(crate) async fn publish(env: &TestEnv, docs: &[Document]) {
    let producer: FutureProducer = kafka::client_config(&env.config.kafka)
        .create()
        .expect("producer");
    for doc in docs {
        let payload = serde_json::to_vec(doc).expect("serialise");
        producer
            .send(
                FutureRecord::to(&env.config.kafka.topic)
                    .key(&doc.id)
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("produce");
    }
}

pub(crate) async fn dead_letters(env: &TestEnv) -> Vec<dlq::DeadLetter> {
    dlq::pending(
        &env.config.kafka,
        &env.config.indexer.redrive_group(),
        &Resolved::new(env.pool.clone()),
    )
    .await
    .expect("scan DLQ")
    .letters
}

pub(crate) async fn registry_count(env: &TestEnv) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM documents WHERE NOT deleted")
        .fetch_one(&env.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn batches_split_into_requests_and_vectors_come_back_in_input_order() {
    let fake = FakeEmbeddings::default();
    let server = fake.start().await;
    let embedder = HttpEmbedder::new(settings(&server, 4), DIMENSION).expect("client");
    let texts: Vec<String> = (0..10).map(|i| format!("text {i}")).collect();
    let vectors = embedder.embed(texts.clone()).await.expect("embed");
    assert_eq!(fake.requests(), 3, "ceil(10 / 4) requests");
    assert_eq!(fake.batch_sizes(), [4, 4, 2]);
    for (text, v) in texts.iter().zip(&vectors) {
        let expected = normalised(text);
        assert!(
            v.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-5),
            "vector for {text:?} is not its own (order by `index`)"
        );
    }
    assert_eq!(fake.last_auth(), None, "no key configured, none sent");
}

#[tokio::test]
async fn the_dimension_is_probed_and_the_key_from_the_named_variable_is_sent() {
    let fake = FakeEmbeddings::default();
    let server = fake.start().await;
    let var = unique("TRIBUTARY_TEST_EMBED_KEY").to_uppercase();
    std::env::set_var(&var, "sekrit-key");
    let cfg = EmbedderConfig {
        api_key_env: Some(var.clone()),
        ..http_config(&server)
    };
    let parts = build::load_embedder(&cfg).await.expect("starts");
    assert_eq!(parts.embedder.dimension(), DIMENSION);
    assert_eq!(parts.embedder.model_id(), "fake-embedder");
    assert_eq!(fake.requests(), 1, "one probe request");
    assert_eq!(fake.last_auth().as_deref(), Some("Bearer sekrit-key"));

    let unset = EmbedderConfig {
        api_key_env: Some(unique("TRIBUTARY_TEST_UNSET").to_uppercase()),
        ..http_config(&server)
    };
    assert!(matches!(
        build::load_embedder(&unset).await,
        Err(EmbedError::Load { .. })
    ));
}

#[tokio::test]
async fn errors_map_to_transient_or_permanent() {
    let fake = FakeEmbeddings::default();
    let server = fake.start().await;
    let embedder = HttpEmbedder::new(settings(&server, 8), DIMENSION).expect("client");

    fake.outage(0, 1);
    let err = embedder.embed(vec!["x".into()]).await.unwrap_err();
    assert!(matches!(err, EmbedError::Unavailable(_)), "{err}");
    assert!(err.is_transient());

    // About the server or the credentials, not the input: an outage.
    for status in [401, 403, 404, 408] {
        fake.answer_everything_with(status);
        let err = embedder.embed(vec!["x".into()]).await.unwrap_err();
        assert!(matches!(err, EmbedError::Unavailable(_)), "{status}: {err}");
    }
    fake.heal();
    fake.reject_inputs_containing("BAD");
    let err = embedder
        .embed(vec!["fine".into(), "BAD".into()])
        .await
        .unwrap_err();
    match &err {
        EmbedError::Rejected { status, message } => {
            assert_eq!(*status, 400);
            // The request was halved until the refused input was alone.
            assert_eq!(message, "input 0 is not acceptable");
        }
        other => panic!("expected Rejected, got {other}"),
    }
    assert!(!err.is_transient());
    fake.heal();

    // A limit on the request, not on any input (TEI's max_client_batch_size):
    // halving the request until it fits embeds everything.
    fake.limit_inputs_per_request(3);
    let texts: Vec<String> = (0..8).map(|i| format!("t{i}")).collect();
    let vectors = embedder.embed(texts).await.expect("bisected until it fits");
    assert_eq!(vectors.len(), 8);
    assert!(fake.batch_sizes().iter().rev().take(4).all(|n| *n <= 3));
    fake.heal();

    // A port nothing listens on: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let closed = HttpEmbedder::new(
        HttpEmbedderSettings {
            url: format!("http://127.0.0.1:{port}"),
            ..settings(&server, 8)
        },
        DIMENSION,
    )
    .expect("client");
    let err = closed.embed(vec!["x".into()]).await.unwrap_err();
    assert!(matches!(err, EmbedError::Unavailable(_)), "{err}");
    assert!(err.is_transient());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedder_outage_pauses_indexing_and_loses_nothing() {
    let (fake, _server, env) = fake_env().await;
    let docs: Vec<Document> = (0..200)
        .map(|i| {
            document(
                &format!("test:outage:n{i}"),
                &format!("Short note number {i}."),
            )
        })
        .collect();
    publish(&env, &docs).await;

    // The third request from now on, and the five after it, fail.
    fake.outage(2, 6);
    let stats = env.index_until_idle().await;
    assert!(
        stats.pauses >= 1,
        "the outage paused consumption: {stats:?}"
    );
    assert_eq!(stats.resumes, stats.pauses, "every pause ended in a resume");
    assert!(
        stats.outage_retries >= 1,
        "the health probe saw the outage: {stats:?}"
    );
    assert_eq!(stats.dead_lettered, 0);
    assert_eq!(stats.docs.indexed, 200);
    assert_eq!(registry_count(&env).await, 200);
    assert!(dead_letters(&env).await.is_empty(), "nothing in the DLQ");
    assert_eq!(env.points("test:outage:n0").await.len(), 1);

    // The same document again: the registry knows it, nothing is embedded.
    let before = fake.requests();
    publish(&env, &docs[..1]).await;
    let again = env.index_until_idle().await;
    assert_eq!((again.messages, again.docs.unchanged), (1, 1));
    assert_eq!(
        fake.requests(),
        before,
        "an unchanged document was embedded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_input_dead_letters_exactly_its_document() {
    let (fake, _server, env) = fake_env().await;
    let mut docs: Vec<Document> = (0..10)
        .map(|i| document(&format!("test:outage:ok{i}"), &format!("Fine note {i}.")))
        .collect();
    docs.insert(4, document("test:outage:bad", "This one is FORBIDDEN."));
    publish(&env, &docs).await;
    fake.reject_inputs_containing("FORBIDDEN");

    let stats = env.index_until_idle().await;
    assert_eq!(stats.dead_lettered, 1);
    assert_eq!(stats.docs.indexed, 10);
    assert_eq!(stats.pauses, 0, "a refused input is not an outage");
    let letters = dead_letters(&env).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].class, "EmbedderRejected");
    assert_eq!(letters[0].key.as_deref(), Some("test:outage:bad"));
    assert!(letters[0].reason.contains("400"), "{}", letters[0].reason);
    assert_eq!(registry_count(&env).await, 10);
    assert!(env.points("test:outage:bad").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_another_dimension_is_refused_at_start() {
    let fake = FakeEmbeddings::default();
    let server = fake.start().await;
    // The default environment's store holds MiniLM's 384-dimensional vectors.
    let env = TestEnv::new().await;
    let parts = http_parts(&server).await;
    match build::open_store(&env.config.store, parts.embedder.dimension()).await {
        Err(StoreError::DimensionMismatch { expected, found }) => {
            assert_eq!((expected, found), (DIMENSION, 384));
        }
        Err(other) => panic!("expected DimensionMismatch, got {other}"),
        Ok(_) => panic!("a store of another dimension was opened"),
    }
}

/// A wrong API key (401) or a server refusing everything (400 for every
/// input, the probe included) stops indexing; it must not dead-letter the
/// documents one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_everything_pauses_instead_of_dead_lettering() {
    for status in [401, 400] {
        let (fake, _server, env) = fake_env().await;
        let docs: Vec<Document> = (0..6)
            .map(|i| document(&format!("test:refuse:n{i}"), &format!("Note {i}.")))
            .collect();
        publish(&env, &docs).await;
        fake.answer_everything_with(status);
        let before = fake.requests();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let run = env.spawn_indexer(shutdown.clone());
        // Well past max_attempts (5) requests: long enough to have flooded.
        fake.wait_for_requests(before + 14, Duration::from_secs(60))
            .await;
        shutdown.cancel();
        let stats = run.await.expect("join").expect("indexer stops cleanly");
        assert_eq!(stats.dead_lettered, 0, "{status}: {stats:?}");
        assert!(stats.outage_retries >= 2, "{status}: {stats:?}");
        assert!(dead_letters(&env).await.is_empty(), "{status}");

        fake.heal();
        let stats = env.index_until_idle().await;
        assert_eq!(stats.docs.indexed, 6, "{status}: {stats:?}");
    }
}
