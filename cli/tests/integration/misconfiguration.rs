//! A misconfigured deployment is an outage, never a reason to dead-letter
//! good documents: a schema `migrate` was not run on, a registry table that
//! vanished, a role without write grants. Also the recoveries the first
//! wave's independent checks asked for: a flapping dependency, an
//! interrupted write followed by a revert, a batch with poison abandoned
//! during an outage, an embedder that is down at start.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tributary_core::secret::ExposeSecret;
use tributary_core::{db, kafka, Document};
use tributary_indexer::consumer::IndexError;
use tributary_indexer::dlq::{self, Resolved};
use tributary_indexer::{build, IndexStats, Indexer, Pipeline, RunOptions};

use crate::crash_recovery::index_command;
use crate::embedder_outage::{
    dead_letters, document, fake_env, http_config, publish, registry_count,
};
use crate::embedding_fake::{FakeEmbeddings, DIMENSION};
use crate::support::wait::wait_until;
use crate::support::{unique, TestEnv};

const WAIT: Duration = Duration::from_secs(60);

struct Running {
    task: JoinHandle<Result<IndexStats, IndexError>>,
    totals: watch::Receiver<IndexStats>,
    shutdown: CancellationToken,
}

/// Runs an indexer over `pipeline` in the background, reporting its totals.
fn start(env: &TestEnv, pipeline: Pipeline, until_idle: bool) -> Running {
    let (tx, totals) = watch::channel(IndexStats::default());
    let shutdown = CancellationToken::new();
    let indexer = Indexer {
        kafka: env.config.kafka.clone(),
        settings: env.config.indexer.clone(),
        pipeline,
    };
    let opts = RunOptions {
        until_idle,
        progress: Some(tx),
    };
    let token = shutdown.clone();
    let task = tokio::spawn(async move { indexer.run(opts, token).await });
    Running {
        task,
        totals,
        shutdown,
    }
}

impl Running {
    /// Waits until the indexer has retried through an outage `n` times.
    async fn outage_retries(&mut self, n: u64) {
        let reached = tokio::time::timeout(WAIT, self.totals.wait_for(|s| s.outage_retries >= n))
            .await
            .map(|r| r.is_ok());
        assert!(
            matches!(reached, Ok(true)),
            "the indexer did not retry through an outage {n} times: {:?}",
            *self.totals.borrow()
        );
    }

    async fn finish(self) -> IndexStats {
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("indexer finishes")
            .expect("join")
            .expect("indexer runs")
    }
}

fn docs(prefix: &str, n: usize) -> Vec<Document> {
    (0..n)
        .map(|i| {
            document(
                &format!("test:{prefix}:d{i}"),
                &format!("Note {i} of {prefix}."),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_refuses_to_start_on_an_unmigrated_schema() {
    let (fake, server, env) = fake_env().await;
    publish(&env, &docs("bare", 5)).await;
    let before = fake.requests();
    let store = tempfile::tempdir().expect("tempdir");
    let bare = unique("bare");
    let out = index_command(&env, &server.uri(), &store.path().join("qdrant"))
        .env("TRIBUTARY_DATABASE__SCHEMA", &bare)
        .arg("--until-idle")
        .output()
        .expect("run tributary index");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The schema exists now (connecting creates it): drop it again.
    let pool = &env.pool;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {bare} CASCADE"))
        .execute(pool)
        .await
        .expect("drop bare schema");
    assert!(!out.status.success(), "must exit non-zero: {stderr}");
    assert!(
        stderr.contains("tributary migrate") && stderr.contains(&bare),
        "the error names the schema and the fix: {stderr}"
    );
    assert!(
        env.committed_and_high().iter().all(|(c, _)| c.is_none()),
        "nothing may be consumed"
    );
    assert_eq!(fake.requests(), before, "nothing embedded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_dropped_while_running_pauses_the_indexer_until_migrate() {
    let (_fake, _server, env) = fake_env().await;
    let schema = env.config.database.schema.clone().expect("schema");
    publish(&env, &docs("before", 3)).await;
    env.index_until_idle().await;
    assert_eq!(registry_count(&env).await, 3);

    // Someone recreates the database under the running deployment.
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&env.pool)
        .await
        .expect("drop schema");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&env.pool)
        .await
        .expect("create schema");
    publish(&env, &docs("after", 4)).await;
    let mut running = start(&env, env.pipeline(), true);
    running.outage_retries(3).await;
    assert_eq!(
        running.totals.borrow().dead_lettered,
        0,
        "a missing table is the deployment's fault"
    );

    db::migrate(&env.pool).await.expect("migrate");
    let stats = running.finish().await;
    assert_eq!(stats.dead_lettered, 0, "{stats:?}");
    assert!(stats.pauses >= 1, "{stats:?}");
    assert_eq!(stats.docs.indexed, 4, "{stats:?}");
    assert_eq!(registry_count(&env).await, 4);
    assert!(dead_letters(&env).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_may_not_write_the_registry_pauses_and_loses_nothing() {
    let (_fake, _server, env) = fake_env().await;
    let schema = env.config.database.schema.clone().expect("schema");
    let role = unique("ro");
    for sql in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'ro'"),
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"),
    ] {
        sqlx::query(&sql).execute(&env.pool).await.expect(&sql);
    }
    let options: PgConnectOptions = env
        .config
        .database
        .url
        .expose_secret()
        .parse::<PgConnectOptions>()
        .expect("database URL")
        .username(&role)
        .password("ro")
        .options([("search_path", schema.as_str())]);
    let read_only = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("connect as the restricted role");
    let pipeline = build::pipeline(
        &env.config,
        env.embedder.clone(),
        std::sync::Arc::clone(&env.store),
        read_only.clone(),
    );
    publish(&env, &docs("ro", 5)).await;
    let mut running = start(&env, pipeline, true);
    running.outage_retries(3).await;
    assert_eq!(running.totals.borrow().dead_lettered, 0);

    sqlx::query(&format!(
        "GRANT INSERT, UPDATE ON {schema}.documents TO {role}"
    ))
    .execute(&env.pool)
    .await
    .expect("grant");
    let stats = running.finish().await;
    read_only.close().await;
    for sql in [
        format!("REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}"),
        format!("REVOKE ALL ON SCHEMA {schema} FROM {role}"),
        format!("DROP ROLE {role}"),
    ] {
        sqlx::query(&sql).execute(&env.pool).await.expect(&sql);
    }
    assert_eq!(stats.dead_lettered, 0, "{stats:?}");
    assert_eq!(stats.docs.indexed, 5, "{stats:?}");
    assert!(dead_letters(&env).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_that_recovers_before_the_probe_costs_no_attempt() {
    let (fake, _server, mut env) = fake_env().await;
    // One healthy failure would dead-letter the document at once.
    env.config.indexer.max_attempts = 1;
    publish(&env, &docs("flap", 1)).await;
    // The document's embedding request fails; the probe right after it
    // (the next request) finds the server back.
    fake.outage(0, 1);
    let stats = env.index_until_idle().await;
    assert_eq!(stats.dead_lettered, 0, "{stats:?}");
    assert_eq!(stats.retries_exhausted, 0, "{stats:?}");
    assert_eq!(stats.docs.indexed, 1, "{stats:?}");
    assert!(dead_letters(&env).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_write_then_a_revert_leaves_the_reverted_chunks() {
    let (_fake, _server, env) = fake_env().await;
    let long: String = (0..200).map(|i| format!("alpha{i} ")).collect();
    let a = document("test:revert:doc", &long);
    let b = document("test:revert:doc", "A single short paragraph.");
    publish(&env, std::slice::from_ref(&a)).await;
    env.index_until_idle().await;
    let a_chunks = env.points(&a.id).await.len();
    assert!(a_chunks > 1, "version A must have several chunks");

    // Version B reaches the store, but its registry write is held...
    let mut lock = env.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE documents IN EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");
    publish(&env, std::slice::from_ref(&b)).await;
    let running = start(&env, env.pipeline(), false);
    wait_until("version B in the store", WAIT, || async {
        let points = env.points(&b.id).await;
        points.len() == 1 && points[0].payload.content_hash == b.content_hash
    })
    .await;
    // ...and the process dies there.
    running.task.abort();
    let _ = running.task.await;
    lock.rollback().await.expect("release");

    // The document returns to version A: it is not "unchanged".
    publish(&env, std::slice::from_ref(&a)).await;
    let mut env = env;
    env.config.indexer.group_id = unique("t-after");
    env.index_until_idle().await;
    let points = env.points(&a.id).await;
    assert_eq!(points.len(), a_chunks, "A's chunks, nothing of B");
    assert!(
        points
            .iter()
            .all(|p| p.payload.content_hash == a.content_hash),
        "every chunk holds version A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_in_a_batch_abandoned_during_an_outage_is_dead_lettered_once() {
    let (fake, _server, env) = fake_env().await;
    let producer: FutureProducer = kafka::client_config(&env.config.kafka)
        .create()
        .expect("producer");
    let good = document("test:twice:good", "A good note.");
    let payload = serde_json::to_vec(&good).expect("serialise");
    for (key, value) in [
        ("test:twice:good", payload.as_slice()),
        ("poison", b"{not json".as_slice()),
    ] {
        producer
            .send(
                FutureRecord::to(&env.config.kafka.topic)
                    .partition(0)
                    .key(key)
                    .payload(value),
                Duration::from_secs(10),
            )
            .await
            .expect("produce");
    }
    fake.answer_everything_with(503);
    let mut running = start(&env, env.pipeline(), false);
    running.outage_retries(2).await;
    // SIGTERM during the outage: the batch is abandoned.
    running.shutdown.cancel();
    running.finish().await;
    fake.heal();
    let stats = env.index_until_idle().await;
    assert_eq!(stats.docs.indexed, 1, "{stats:?}");

    let pending = dlq::pending(
        &env.config.kafka,
        &env.config.indexer.redrive_group(),
        &Resolved::new(env.pool.clone()),
    )
    .await
    .expect("scan DLQ");
    assert_eq!(pending.letters.len(), 1);
    assert_eq!(pending.duplicates.count(), 0, "written once");
    assert_eq!(pending.retained, 1, "one message in the DLQ topic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_waits_for_an_embedder_that_is_down_at_start() {
    let fake = FakeEmbeddings::default();
    // A free port nobody listens on yet.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut cfg = http_config(&fake.start().await);
    cfg.url = format!("http://{addr}");
    cfg.dimension = None;
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let mut loading = tokio::spawn(async move { build::load_embedder_waiting(&cfg, &token).await });
    // Refused connections are answered at once: had it given up, it would
    // be done by now.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut loading)
            .await
            .is_err(),
        "gave up on an embedder that is only down"
    );
    let listener = std::net::TcpListener::bind(addr).expect("rebind the port");
    let server = wiremock::MockServer::builder()
        .listener(listener)
        .start()
        .await;
    fake.mount(&server).await;
    let parts = tokio::time::timeout(WAIT, loading)
        .await
        .expect("loads once the server answers")
        .expect("join")
        .expect("no error")
        .expect("not shut down");
    assert_eq!(parts.embedder.dimension(), DIMENSION);
    shutdown.cancel();
}
