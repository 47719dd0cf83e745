//! Builds the indexer's parts from configuration, so the binary and the
//! tests wire things up the same way.

use std::sync::Arc;

use sqlx::PgPool;
use tributary_core::config::{Config, EmbedderConfig, StoreConfig};

use crate::chunk::ChunkerConfig;
use crate::embed::{EmbedError, Embedder, MiniLmEmbedder};
use crate::pipeline::Pipeline;
use crate::registry::Registry;
use crate::store::{EdgeStore, StoreError, VectorStore};

pub fn load_embedder(cfg: &EmbedderConfig) -> Result<MiniLmEmbedder, EmbedError> {
    MiniLmEmbedder::load(&cfg.model_dir, cfg.max_seq_len, cfg.batch_size)
}

/// Opens (or creates) the store and refuses one whose vectors have a
/// different size than the model's: mixed vectors would make every search
/// silently wrong.
pub async fn open_store(
    cfg: &StoreConfig,
    dimension: usize,
) -> Result<Arc<dyn VectorStore>, StoreError> {
    let store: Arc<dyn VectorStore> = Arc::new(EdgeStore::open(&cfg.path, dimension).await?);
    match store.dimension().await? {
        Some(found) if found != dimension => Err(StoreError::DimensionMismatch {
            expected: dimension,
            found,
        }),
        _ => Ok(store),
    }
}

pub fn pipeline(
    cfg: &Config,
    embedder: MiniLmEmbedder,
    store: Arc<dyn VectorStore>,
    pool: PgPool,
) -> Pipeline {
    let chunking = ChunkerConfig {
        max_tokens: cfg.indexer.chunk_tokens.min(cfg.embedder.max_seq_len),
        overlap_tokens: cfg.indexer.chunk_overlap_tokens,
    };
    Pipeline {
        counter: Arc::new(embedder.counting_tokenizer().clone()),
        embedder: Arc::new(embedder) as Arc<dyn Embedder>,
        store,
        registry: Registry::new(pool),
        chunking,
    }
}
