//! The integration tests' support library: an isolated slice of the real
//! stack per test (`TestEnv`, here), raw Kafka records (`records`), the
//! binary as a child process (`process`), bounded waits (`wait`), the
//! Atlassian fakes' server (`fake_http`) and their credentials (`atlassian`).

pub mod atlassian;
pub mod fake_http;
pub mod process;
pub mod records;
pub mod wait;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rdkafka::consumer::{BaseConsumer, Consumer};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use tributary_connectors::state::SyncState;
use tributary_connectors::sync::RunTarget;
use tributary_connectors::vault::{self, VaultSyncOptions};
use tributary_connectors::{SyncProgress, SyncStateStore, SyncSummary};
use tributary_core::{db, kafka, Config};
use tributary_indexer::chunk::{chunk_markdown, ChunkerConfig};
use tributary_indexer::embed::{Embedder, OnnxEmbedder};
use tributary_indexer::search::Searcher;
use tributary_indexer::store::{StoredPoint, VectorStore};
use tributary_indexer::{build, IndexStats, Indexer, Pipeline, RunOptions};

/// Loaded once per test binary: the model is the slow part to load.
pub fn embedder() -> OnnxEmbedder {
    static EMBEDDER: OnceLock<OnnxEmbedder> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| {
            let cfg = Config::load(None).expect("default config");
            OnnxEmbedder::load(&build::onnx_settings(&cfg.embedder)).unwrap_or_else(|e| {
                panic!("embedding model or ONNX Runtime missing: {e} (run `make stack-up`)")
            })
        })
        .clone()
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Field order is drop order: the store flushes on drop, so it must go
/// before the directory it lives in.
pub struct TestEnv {
    pub store: Arc<dyn VectorStore>,
    pub config: Config,
    pub pool: sqlx::PgPool,
    pub vault: TempDir,
    /// What the pipeline embeds with: the default ONNX model unless a test
    /// chose otherwise.
    pub embedder: build::EmbedderParts,
    _store_dir: TempDir,
    /// What to drop afterwards, captured before a test can change `config`.
    created: (
        tributary_core::config::KafkaConfig,
        tributary_core::config::DatabaseConfig,
    ),
}

impl TestEnv {
    /// Fresh topic (3 partitions) + DLQ, schema with migrations applied, store
    /// directory, vault directory. Small chunks keep multi-chunk notes cheap.
    pub async fn new() -> TestEnv {
        TestEnv::with_embedder(embedder().into()).await
    }

    /// Like [`TestEnv::new`], embedding with `parts` (the store gets its
    /// dimension).
    pub async fn with_embedder(parts: build::EmbedderParts) -> TestEnv {
        let mut config = Config::load(None).expect("default config");
        let id = unique("t");
        config.kafka.topic = format!("{id}.documents");
        config.kafka.partitions = 3;
        config.indexer.group_id = format!("{id}-indexer");
        config.indexer.chunk_tokens = 64;
        config.indexer.chunk_overlap_tokens = 8;
        config.indexer.batch_wait_ms = 200;
        config.indexer.idle_ms = 300;
        config.database.schema = Some(id.clone());
        let store_dir = tempfile::tempdir().expect("tempdir");
        config.store.path = store_dir.path().join("qdrant");

        let topics = [config.kafka.topic.clone(), config.kafka.dlq_topic()];
        kafka::ensure_topics(&config.kafka, &topics)
            .await
            .unwrap_or_else(|e| {
                panic!("Kafka must be running for integration tests (make stack-up): {e}")
            });
        let pool = db::connect(&config.database).await.unwrap_or_else(|e| {
            panic!("PostgreSQL must be running for integration tests (make stack-up): {e}")
        });
        db::migrate(&pool).await.expect("migrations apply");
        let store = build::open_store(&config.store, parts.embedder.dimension())
            .await
            .expect("store opens");
        TestEnv {
            created: (config.kafka.clone(), config.database.clone()),
            config,
            pool,
            vault: tempfile::tempdir().expect("tempdir"),
            embedder: parts,
            _store_dir: store_dir,
            store,
        }
    }

    pub fn write_note(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.vault.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write note");
        path
    }

    pub fn doc_id(rel: &str) -> String {
        format!("vault:test:{rel}")
    }

    /// Where a connector run under test goes: this env's topic, `store`,
    /// no progress output.
    pub fn target<'a>(&'a self, store: &'a SyncStateStore) -> RunTarget<'a> {
        fn quiet(_: SyncProgress) {}
        RunTarget {
            kafka: &self.config.kafka,
            store,
            progress: &quiet,
        }
    }

    pub fn state(&self) -> SyncStateStore {
        SyncStateStore::new(self.pool.clone())
    }

    /// The recorded state of one connector (`kind:instance`), which must
    /// have run.
    pub async fn sync_state(&self, connector_id: &str) -> SyncState {
        self.state()
            .get(connector_id)
            .await
            .expect("state")
            .expect("row")
    }

    pub async fn sync(&self) -> Result<SyncSummary, tributary_connectors::vault::VaultSyncError> {
        let opts = VaultSyncOptions {
            root: self.vault.path().to_path_buf(),
            instance: "test".into(),
            dry_run: false,
            max_note_bytes: self.config.vault.max_note_bytes,
        };
        vault::sync(&opts, &self.config.kafka, &self.state()).await
    }

    pub fn pipeline(&self) -> Pipeline {
        build::pipeline(
            &self.config,
            self.embedder.clone(),
            Arc::clone(&self.store),
            self.pool.clone(),
        )
    }

    pub fn indexer(&self) -> Indexer {
        Indexer {
            kafka: self.config.kafka.clone(),
            settings: self.config.indexer.clone(),
            pipeline: self.pipeline(),
        }
    }

    /// An indexer running until idle on its own task, stopped early by
    /// `shutdown` (the test may also abort the task: a kill).
    pub fn spawn_indexer(
        &self,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<Result<IndexStats, tributary_indexer::consumer::IndexError>> {
        let indexer = self.indexer();
        tokio::spawn(async move {
            indexer
                .run(
                    RunOptions {
                        until_idle: true,
                        ..Default::default()
                    },
                    shutdown,
                )
                .await
        })
    }

    pub async fn index_until_idle(&self) -> IndexStats {
        self.indexer()
            .run(
                RunOptions {
                    until_idle: true,
                    ..Default::default()
                },
                CancellationToken::new(),
            )
            .await
            .expect("indexer runs")
    }

    /// Searches the test's store with the default model.
    pub fn searcher(&self) -> Searcher {
        Searcher {
            embedder: Arc::new(embedder()) as Arc<dyn Embedder>,
            store: Arc::clone(&self.store),
        }
    }

    pub async fn points(&self, doc_id: &str) -> Vec<StoredPoint> {
        let mut points = self
            .store
            .points(Some(doc_id.to_string()))
            .await
            .expect("points");
        points.sort_by_key(|p| p.payload.chunk_index);
        points
    }

    /// The chunk texts the indexer must produce for a note body, computed
    /// with the same chunker and tokenizer.
    pub fn expected_chunks(&self, title: &str, body: &str) -> Vec<String> {
        let cfg = ChunkerConfig {
            max_tokens: self.config.indexer.chunk_tokens,
            overlap_tokens: self.config.indexer.chunk_overlap_tokens,
        };
        chunk_markdown(title, body, cfg, embedder().counting_tokenizer())
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    /// The indexer group's committed offset per partition of the documents
    /// topic (`None`: nothing committed), with the partition's high watermark.
    pub fn committed_and_high(&self) -> Vec<(Option<i64>, i64)> {
        let consumer: BaseConsumer = kafka::client_config(&self.config.kafka)
            .set("group.id", &self.config.indexer.group_id)
            .create()
            .expect("consumer");
        let timeout = std::time::Duration::from_secs(10);
        let mut tpl = rdkafka::TopicPartitionList::new();
        for p in 0..self.config.kafka.partitions {
            tpl.add_partition(&self.config.kafka.topic, p);
        }
        let committed = consumer
            .committed_offsets(tpl, timeout)
            .expect("committed offsets");
        committed
            .elements()
            .iter()
            .map(|e| {
                let (_, high) = consumer
                    .fetch_watermarks(e.topic(), e.partition(), timeout)
                    .expect("watermarks");
                let offset = match e.offset() {
                    rdkafka::Offset::Offset(o) => Some(o),
                    _ => None,
                };
                (offset, high)
            })
            .collect()
    }

    /// Every message on the test's topic, in no particular order, read by
    /// a consumer group of its own.
    pub async fn published_documents(&self) -> Vec<tributary_core::Document> {
        use rdkafka::consumer::StreamConsumer;
        use rdkafka::message::Message;
        let expected = self.topic_messages() as usize;
        let consumer: StreamConsumer = kafka::client_config(&self.config.kafka)
            .set("group.id", unique("reader"))
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        consumer
            .subscribe(&[&self.config.kafka.topic])
            .expect("subscribe");
        let mut docs = Vec::with_capacity(expected);
        while docs.len() < expected {
            let msg = tokio::time::timeout(std::time::Duration::from_secs(30), consumer.recv())
                .await
                .expect("all messages within 30 s")
                .expect("message");
            docs.push(
                tributary_core::Document::from_json_bytes(msg.payload().expect("payload"))
                    .expect("document"),
            );
        }
        docs
    }

    /// The newest version of each document on the test's topic, by id.
    pub async fn latest_documents(&self) -> HashMap<String, tributary_core::Document> {
        let mut out: HashMap<String, tributary_core::Document> = HashMap::new();
        for d in self.published_documents().await {
            let newer = out.get(&d.id).is_none_or(|o| o.updated_at <= d.updated_at);
            if newer {
                out.insert(d.id.clone(), d);
            }
        }
        out
    }

    /// Sum of the high watermarks of the documents topic: messages ever written.
    pub fn topic_messages(&self) -> i64 {
        let consumer: BaseConsumer = kafka::client_config(&self.config.kafka)
            .create()
            .expect("consumer");
        let timeout = std::time::Duration::from_secs(10);
        (0..self.config.kafka.partitions)
            .map(|p| {
                let (low, high) = consumer
                    .fetch_watermarks(&self.config.kafka.topic, p, timeout)
                    .expect("watermarks");
                high - low
            })
            .sum()
    }
}

/// Tests leave nothing behind on the shared dev stack: their topics and
/// schema are dropped when the fixture goes (also when the test failed).
/// Runs on its own thread and runtime because `Drop` cannot await.
impl Drop for TestEnv {
    fn drop(&mut self) {
        let (kafka_cfg, mut db_cfg) = self.created.clone();
        let Some(schema) = db_cfg.schema.take() else {
            return;
        };
        let topics = [kafka_cfg.topic.clone(), kafka_cfg.dlq_topic()];
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = kafka::client_config(&kafka_cfg)
                    .create::<rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext>>()
                {
                    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
                    let _ = admin
                        .delete_topics(
                            &names,
                            &rdkafka::admin::AdminOptions::new()
                                .request_timeout(Some(std::time::Duration::from_secs(10))),
                        )
                        .await;
                }
                if let Ok(pool) = db::connect(&db_cfg).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .execute(&pool)
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
