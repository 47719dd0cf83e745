//! `[embedder]`: which model computes vectors, in-process or over HTTP.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::tributary_home;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbedderConfig {
    /// Which embedder computes vectors.
    pub backend: EmbedderBackend,
    /// Directory holding `tokenizer.json` and the ONNX model files. With the
    /// `http` backend only `tokenizer.json` is read, when present, to size
    /// chunks in the server model's tokens; without it chunk sizes are
    /// estimated.
    pub model_dir: PathBuf,
    /// `onnx` backend: the ONNX graph; a relative path is taken inside
    /// `model_dir`.
    pub onnx_model: PathBuf,
    /// `onnx` backend: `libonnxruntime.so`, loaded at start (the
    /// `ORT_DYLIB_PATH` environment variable sets it too).
    pub onnxruntime_library: PathBuf,
    /// `onnx` backend: ONNX Runtime threads per forward pass; 0 uses every core.
    pub threads: usize,
    /// Chunks per forward pass (`onnx`, at most) or per request (`http`).
    pub batch_size: usize,
    /// `onnx` backend: padded tokens (chunks × the longest one) per forward
    /// pass, at most; long chunks go a few at a time, short ones by the dozen.
    pub batch_tokens: usize,
    /// Longest input in tokens; all-MiniLM-L6-v2 was trained on 256.
    pub max_seq_len: usize,
    /// `http` backend: base URL of an OpenAI-compatible server; requests go
    /// to `{url}/v1/embeddings`.
    pub url: String,
    /// `http` backend: the `model` field sent with each request (not stored
    /// with the points).
    pub model: String,
    /// `http` backend: name of the environment variable holding the API key
    /// sent as `Authorization: Bearer`. The key itself never goes in a file.
    pub api_key_env: Option<String>,
    /// `http` backend: per-request timeout.
    pub timeout_ms: u64,
    /// `http` backend: vector size; probed from the server at start when unset.
    pub dimension: Option<usize>,
}

/// Where embeddings come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderBackend {
    /// all-MiniLM-L6-v2 exported to ONNX, run in-process on the CPU by
    /// ONNX Runtime. `minilm`, the name of the candle model it replaced, is
    /// read as this backend so existing configurations keep working.
    #[default]
    #[serde(alias = "minilm")]
    Onnx,
    /// An OpenAI-compatible embeddings server (TEI, vLLM, Ollama, OpenAI).
    Http,
}

/// The model file `scripts/stack/model.sh` installs in `model_dir`.
pub const DEFAULT_ONNX_MODEL: &str = "model-int8.onnx";

impl EmbedderConfig {
    /// The ONNX model file: `onnx_model`, inside `model_dir` when relative.
    pub fn onnx_model_path(&self) -> PathBuf {
        self.model_dir.join(&self.onnx_model)
    }
}

impl Default for EmbedderConfig {
    fn default() -> Self {
        EmbedderConfig {
            backend: EmbedderBackend::Onnx,
            model_dir: tributary_home().join("models").join("all-minilm-l6-v2"),
            onnx_model: PathBuf::from(DEFAULT_ONNX_MODEL),
            onnxruntime_library: tributary_home()
                .join("onnxruntime")
                .join("libonnxruntime.so"),
            threads: 0,
            batch_size: 32,
            // Measured on 2 cores with ~180-token chunks: 2–4 chunks per pass
            // embed ~1.5× faster than 32 and in a third of the memory (the
            // attention tensors grow with batch × length²).
            batch_tokens: 768,
            max_seq_len: 256,
            url: "http://localhost:8080".into(),
            model: "sentence-transformers/all-MiniLM-L6-v2".into(),
            api_key_env: None,
            timeout_ms: 30_000,
            dimension: None,
        }
    }
}
