//! Embedders turn chunk texts into unit vectors. Behind a trait because the
//! embedded CPU model is the default, not the only choice: an HTTP embedding
//! server (TEI, vLLM, Ollama) or ONNX Runtime can take its place.

mod minilm;

pub use minilm::MiniLmEmbedder;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("cannot load embedding model from {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("tokenizer failed: {0}")]
    Tokenize(String),
    #[error("model inference failed: {0}")]
    Inference(String),
    #[error("embedding task was cancelled or panicked: {0}")]
    Task(String),
}

impl EmbedError {
    /// Whether retrying the same input later may succeed. A model that
    /// cannot tokenize or run an input will fail the same way next time.
    pub fn is_transient(&self) -> bool {
        matches!(self, EmbedError::Task(_))
    }
}

#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// Identifies the model; stored with each point so mixed models are visible.
    fn model_id(&self) -> &str;
    fn dimension(&self) -> usize;
    /// One L2-normalised vector per input, in input order.
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError>;
}
