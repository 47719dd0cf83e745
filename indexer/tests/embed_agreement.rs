//! The default embedder (ONNX Runtime) must give the vectors the reference
//! model gives: all-MiniLM-L6-v2 as sentence-transformers runs it. The
//! reference vectors were computed once, by the candle implementation this
//! embedder replaced (which matched sentence-transformers), for every chunk
//! of examples/vault as the indexer cuts it (`tributary bench-embed
//! --dump-vectors`), and are checked in with their texts.
//!
//! Needs the model and libonnxruntime.so that `make stack-up` installs;
//! without them this test fails, saying so, rather than passing unchecked.

use serde::Deserialize;
use tributary_core::config::EmbedderBackend;
use tributary_core::Config;
use tributary_indexer::build;
use tributary_indexer::embed::pooling::cosine;
use tributary_indexer::embed::OnnxEmbedder;

/// Per chunk, not on average: one badly embedded chunk is a search miss.
const MIN_COSINE: f32 = 0.99;

#[derive(Deserialize)]
struct Fixture {
    model: String,
    max_seq_len: usize,
    chunks: Vec<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    text: String,
    vector: Vec<f32>,
}

#[test]
fn the_default_embedder_agrees_with_the_reference_model_on_every_chunk() {
    let fixture: Fixture =
        serde_json::from_str(include_str!("fixtures/minilm-reference.json")).expect("fixture");
    assert_eq!(fixture.model, "sentence-transformers/all-MiniLM-L6-v2");
    assert!(fixture.chunks.len() > 50, "fixture too small to mean much");
    let cfg = Config::load(None).expect("default configuration");
    assert_eq!(
        cfg.embedder.backend,
        EmbedderBackend::Onnx,
        "this test is about the default embedder"
    );
    let mut settings = build::onnx_settings(&cfg.embedder);
    settings.max_seq_len = fixture.max_seq_len;
    let embedder = OnnxEmbedder::load(&settings).unwrap_or_else(|e| {
        panic!("the default embedder cannot load: {e}\n(run `make stack-up` to install the model and ONNX Runtime)")
    });
    let texts: Vec<String> = fixture.chunks.iter().map(|c| c.text.clone()).collect();
    let vectors = embedder
        .embed_blocking(&texts, cfg.embedder.batch_size)
        .expect("embedding the fixture's chunks");
    assert_eq!(vectors.len(), texts.len());
    let mut worst = (f32::MAX, 0);
    let mut sum = 0.0;
    for (i, (chunk, v)) in fixture.chunks.iter().zip(&vectors).enumerate() {
        assert_eq!(v.len(), chunk.vector.len(), "dimension");
        let c = cosine(v, &chunk.vector);
        sum += c;
        if c < worst.0 {
            worst = (c, i);
        }
    }
    eprintln!(
        "{} chunks: cosine to the reference min {:.5}, mean {:.5}",
        texts.len(),
        worst.0,
        sum / texts.len() as f32
    );
    assert!(
        worst.0 >= MIN_COSINE,
        "chunk {} has cosine {:.5} < {MIN_COSINE} to the reference: {:?}",
        worst.1,
        worst.0,
        texts[worst.1].chars().take(200).collect::<String>()
    );
}
