//! Embedders turn chunk texts into unit vectors. Behind a trait because the
//! embedded CPU model (ONNX Runtime) is the default, not the only choice: an
//! HTTP embedding server (TEI, vLLM, Ollama) can take its place.

mod http;
mod length_batches;
mod onnx;
mod onnx_runtime;
pub mod pooling;

pub use http::{HttpEmbedder, HttpEmbedderSettings};
pub use onnx::{OnnxEmbedder, OnnxSettings};

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
    /// The embedding server could not be reached, timed out, failed (5xx) or
    /// asked us to slow down (429): nothing is wrong with the input.
    #[error("embedding server unavailable: {0}")]
    Unavailable(String),
    /// The embedding server refused the input (4xx other than 429).
    #[error("embedding server rejected the input ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// The server answered 2xx with something that is not the expected vectors.
    #[error("embedding server sent an unusable response: {0}")]
    BadResponse(String),
}

impl EmbedError {
    /// Whether retrying the same input later may succeed. A model that
    /// cannot tokenize or run an input, or a server that refused it, will
    /// fail the same way next time; an unavailable server may be back.
    pub fn is_transient(&self) -> bool {
        matches!(self, EmbedError::Task(_) | EmbedError::Unavailable(_))
    }
}

#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// Identifies the model (the `http` backend's `model`, the built-in
    /// model's name). Not stored with the points: the store checks only the
    /// vector size, so another model of the same size goes unnoticed.
    fn model_id(&self) -> &str;
    fn dimension(&self) -> usize;
    /// One L2-normalised vector per input, in input order.
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError>;
}
