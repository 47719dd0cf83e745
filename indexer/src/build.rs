//! Builds the indexer's parts from configuration, so the binary and the
//! tests wire things up the same way.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokenizers::Tokenizer;
use tributary_core::config::{Config, EmbedderBackend, EmbedderConfig, StoreBackend, StoreConfig};
use tributary_core::secret::{self, SecretString};

use crate::chunk::ChunkerConfig;
use crate::embed::{
    EmbedError, Embedder, HttpEmbedder, HttpEmbedderSettings, OnnxEmbedder, OnnxSettings,
};
use crate::pipeline::{Pipeline, SharedCounter};
use crate::registry::Registry;
use crate::store::{EdgeStore, ServerSettings, ServerStore, StoreError, VectorStore};
use crate::token_estimate::EstimatedTokens;

/// An embedder with the token counter chunks are sized by. They travel
/// together because the counter must describe the same model's tokens.
#[derive(Clone)]
pub struct EmbedderParts {
    pub embedder: Arc<dyn Embedder>,
    pub counter: SharedCounter,
}

impl From<OnnxEmbedder> for EmbedderParts {
    fn from(embedder: OnnxEmbedder) -> Self {
        EmbedderParts {
            counter: Arc::new(embedder.counting_tokenizer().clone()),
            embedder: Arc::new(embedder),
        }
    }
}

/// What the `onnx` backend loads, from `[embedder]`.
pub fn onnx_settings(cfg: &EmbedderConfig) -> OnnxSettings {
    OnnxSettings {
        model_dir: cfg.model_dir.clone(),
        model_file: cfg.onnx_model_path(),
        runtime_library: cfg.onnxruntime_library.clone(),
        max_seq_len: cfg.max_seq_len,
        batch_size: cfg.batch_size,
        batch_tokens: cfg.batch_tokens,
        threads: cfg.threads,
    }
}

/// Builds the configured backend. The `http` backend is contacted here (to
/// learn its dimension unless configured), so a wrong URL fails at start.
pub async fn load_embedder(cfg: &EmbedderConfig) -> Result<EmbedderParts, EmbedError> {
    match cfg.backend {
        EmbedderBackend::Onnx => OnnxEmbedder::load(&onnx_settings(cfg)).map(Into::into),
        EmbedderBackend::Http => {
            let settings = HttpEmbedderSettings {
                url: cfg.url.clone(),
                model: cfg.model.clone(),
                api_key: api_key(cfg)?,
                timeout: Duration::from_millis(cfg.timeout_ms),
                batch_size: cfg.batch_size,
            };
            let embedder = match cfg.dimension {
                Some(dimension) => HttpEmbedder::new(settings, dimension)?,
                None => HttpEmbedder::probe(settings).await?,
            };
            Ok(EmbedderParts {
                embedder: Arc::new(embedder),
                counter: token_counter(cfg)?,
            })
        }
    }
}

/// Like [`load_embedder`], but waits out an embedding server that is not
/// answering yet: at start is the one moment an indexer should wait for it
/// rather than fail (a pod scheduled before its embedder, an embedder
/// scaled to zero). Errors that waiting cannot fix (a missing model file,
/// an unset API key variable) still fail at once. `None` on shutdown.
pub async fn load_embedder_waiting(
    cfg: &EmbedderConfig,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<Option<EmbedderParts>, EmbedError> {
    use backoff::backoff::Backoff;
    let mut backoff = backoff::ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_millis(500))
        .with_max_interval(Duration::from_secs(30))
        .with_max_elapsed_time(None)
        .build();
    loop {
        match load_embedder(cfg).await {
            Ok(parts) => return Ok(Some(parts)),
            Err(err) if err.is_transient() => {
                let wait = backoff.next_backoff().unwrap_or(Duration::from_secs(30));
                tracing::warn!(error = %err, url = %cfg.url, wait_ms = wait.as_millis() as u64,
                    "embedding server not answering at start; waiting for it (the store is opened \
                     once its vector size is known; set embedder.dimension to skip this probe)");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(None),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            Err(err) => return Err(err),
        }
    }
}

fn api_key(cfg: &EmbedderConfig) -> Result<Option<SecretString>, EmbedError> {
    secret::from_named_env(cfg.api_key_env.as_deref()).map_err(|reason| EmbedError::Load {
        path: "embedder.api_key_env".into(),
        reason: format!("API key variable {reason}"),
    })
}

/// The server model's own tokenizer when `model_dir/tokenizer.json` is
/// there, else the documented estimate.
fn token_counter(cfg: &EmbedderConfig) -> Result<SharedCounter, EmbedError> {
    let path = cfg.model_dir.join("tokenizer.json");
    if !path.exists() {
        tracing::info!(
            path = %path.display(),
            "no tokenizer.json for the embedding model; chunk sizes are estimated"
        );
        return Ok(Arc::new(EstimatedTokens));
    }
    let mut tokenizer = Tokenizer::from_file(&path).map_err(|e| EmbedError::Load {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    // Counting needs every token: no padding, no truncation.
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(None)
        .map_err(|e| EmbedError::Load {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(tokenizer))
}

/// Opens (or creates) the configured store and refuses one whose vectors
/// have a different size than the model's: mixed vectors would make every
/// search silently wrong.
pub async fn open_store(
    cfg: &StoreConfig,
    dimension: usize,
) -> Result<Arc<dyn VectorStore>, StoreError> {
    let store: Arc<dyn VectorStore> = match cfg.backend {
        StoreBackend::Edge => Arc::new(EdgeStore::open(&cfg.path, dimension).await?),
        StoreBackend::Qdrant => {
            let api_key = secret::from_named_env(cfg.api_key_env.as_deref()).map_err(|reason| {
                StoreError::Open {
                    path: cfg.url.clone(),
                    reason: format!("API key variable {reason}"),
                }
            })?;
            let settings = ServerSettings {
                url: cfg.url.clone(),
                collection: cfg.collection.clone(),
                api_key,
                timeout: Duration::from_millis(cfg.timeout_ms),
                connect_timeout: Duration::from_millis(cfg.connect_timeout_ms),
            };
            Arc::new(ServerStore::open(settings, dimension).await?)
        }
    };
    match store.dimension().await? {
        Some(found) if found != dimension => Err(StoreError::DimensionMismatch {
            expected: dimension,
            found,
        }),
        _ => Ok(store),
    }
}

/// How documents are cut into chunks: never longer than the model reads.
pub fn chunker_config(cfg: &Config) -> ChunkerConfig {
    ChunkerConfig {
        max_tokens: cfg.indexer.chunk_tokens.min(cfg.embedder.max_seq_len),
        overlap_tokens: cfg.indexer.chunk_overlap_tokens,
    }
}

pub fn pipeline(
    cfg: &Config,
    embedder: EmbedderParts,
    store: Arc<dyn VectorStore>,
    pool: PgPool,
) -> Pipeline {
    let chunking = chunker_config(cfg);
    Pipeline {
        counter: embedder.counter,
        embedder: embedder.embedder,
        store,
        registry: Registry::new(pool),
        chunking,
    }
}
