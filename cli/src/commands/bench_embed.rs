//! `tributary bench-embed` (hidden): how fast the configured embedder turns
//! a vault's chunks into vectors, with nothing else running: no Kafka, no
//! store. `make bench` sets it beside the indexer's end-to-end speed on the
//! same chunks (pipeline efficiency) and beside sentence-transformers.
//! It can also write the chunks, and the chunks with their vectors, so other
//! embedders and the agreement test run on exactly these texts.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tributary_connectors::vault::{parse_note, scan};
use tributary_core::Config;
use tributary_indexer::build;
use tributary_indexer::chunk::{chunk_markdown, TokenCounter};
use tributary_indexer::embed::pooling::cosine;

use crate::cli::BenchEmbedArgs;

/// One timed run, printed as a JSON line on stdout.
#[derive(Debug, Serialize)]
struct Run {
    batch_size: usize,
    run: usize,
    chunks: usize,
    tokens: usize,
    seconds: f64,
    chunks_per_s: f64,
}

/// A chunk and its vector, for the agreement fixture.
#[derive(Debug, Serialize)]
struct Reference<'a> {
    text: &'a str,
    vector: Vec<f64>,
}

/// The fixture `--dump-vectors` writes, as `--reference` reads it back.
#[derive(Debug, Deserialize)]
struct Fixture {
    chunks: Vec<FixtureChunk>,
}

#[derive(Debug, Deserialize)]
struct FixtureChunk {
    text: String,
    vector: Vec<f32>,
}

pub async fn run(config: &Config, args: BenchEmbedArgs) -> anyhow::Result<ExitCode> {
    let parts = build::load_embedder(&config.embedder)
        .await
        .context("loading the embedder")?;
    if let Some(path) = &args.reference {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let fixture: Fixture = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a --dump-vectors fixture", path.display()))?;
        let texts = fixture.chunks.iter().map(|c| c.text.clone()).collect();
        let vectors = parts.embedder.embed(texts).await?;
        let cosines: Vec<f32> = fixture
            .chunks
            .iter()
            .zip(&vectors)
            .map(|(c, v)| cosine(&c.vector, v))
            .collect();
        let (min, mean) = min_mean(&cosines);
        println!(
            "{}",
            serde_json::json!({ "reference": path, "chunks": cosines.len(), "min_cosine": min, "mean_cosine": mean })
        );
        return Ok(ExitCode::SUCCESS);
    }
    let chunks = vault_chunks(config, &args.vault, parts.counter.as_ref())?;
    anyhow::ensure!(!chunks.is_empty(), "no chunks in {}", args.vault.display());
    let tokens: usize = chunks.iter().map(|c| parts.counter.count(c)).sum();
    eprintln!(
        "{} chunks, {:.0} tokens on average, from {}",
        chunks.len(),
        tokens as f64 / chunks.len() as f64,
        args.vault.display()
    );
    if let Some(path) = &args.dump_chunks {
        write_lines(
            path,
            chunks
                .iter()
                .map(|text| serde_json::json!({ "text": text })),
        )?;
    }
    if let Some(path) = &args.dump_vectors {
        let vectors = parts.embedder.embed(chunks.clone()).await?;
        let fixture: Vec<Reference<'_>> = chunks
            .iter()
            .zip(vectors)
            .map(|(text, v)| Reference {
                text,
                vector: v.iter().map(|&x| round5(x)).collect(),
            })
            .collect();
        let body = serde_json::json!({
            "model": parts.embedder.model_id(),
            "backend": config.embedder.backend,
            "max_seq_len": config.embedder.max_seq_len,
            "chunks": fixture,
        });
        std::fs::write(path, serde_json::to_string(&body)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.runs == 0 {
        // Only the dumps were asked for.
        return Ok(ExitCode::SUCCESS);
    }
    let batch_sizes = if args.batch_sizes.is_empty() {
        vec![config.embedder.batch_size]
    } else {
        args.batch_sizes.clone()
    };
    let stdout = std::io::stdout();
    for batch_size in batch_sizes {
        let mut cfg = config.embedder.clone();
        cfg.batch_size = batch_size;
        let embedder = build::load_embedder(&cfg).await?.embedder;
        // Warm-up: first-run allocations and lazy initialisation.
        embedder.embed(chunks.clone()).await?;
        for run in 1..=args.runs {
            let texts = chunks.clone();
            let started = Instant::now();
            let vectors = embedder.embed(texts).await?;
            let seconds = started.elapsed().as_secs_f64();
            anyhow::ensure!(vectors.len() == chunks.len(), "embedder lost inputs");
            let line = Run {
                batch_size,
                run,
                chunks: chunks.len(),
                tokens,
                seconds,
                chunks_per_s: chunks.len() as f64 / seconds,
            };
            writeln!(stdout.lock(), "{}", serde_json::to_string(&line)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Smallest and mean of `values` (NaN-free: cosines of unit vectors).
fn min_mean(values: &[f32]) -> (f32, f32) {
    let min = values.iter().copied().fold(f32::INFINITY, f32::min);
    let mean = values.iter().sum::<f32>() / values.len().max(1) as f32;
    (min, mean)
}

/// Rounds to 5 decimals: cosine against the rounded vector moves by less
/// than 1e-6, and the fixture stays small.
fn round5(x: f32) -> f64 {
    (f64::from(x) * 1e5).round() / 1e5
}

/// Every note of the vault, in path order, chunked as the indexer does.
fn vault_chunks(
    config: &Config,
    vault: &Path,
    counter: &(dyn TokenCounter + Send + Sync),
) -> anyhow::Result<Vec<String>> {
    let mut files = scan(vault)?.files;
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let chunking = build::chunker_config(config);
    let mut chunks = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file.abs_path)
            .with_context(|| format!("reading {}", file.abs_path.display()))?;
        let note = parse_note(&file.rel_path, &String::from_utf8_lossy(&bytes));
        chunks.extend(
            chunk_markdown(&note.title, &note.body, chunking, counter)
                .into_iter()
                .map(|c| c.text),
        );
    }
    Ok(chunks)
}

fn write_lines(path: &Path, lines: impl Iterator<Item = serde_json::Value>) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_and_mean() {
        assert_eq!(min_mean(&[0.5, 1.0, 0.75]), (0.5, 0.75));
    }

    #[test]
    fn rounding_keeps_five_decimals() {
        assert_eq!(round5(0.123_456_7), 0.12346);
        assert_eq!(round5(-0.000_004), -0.0);
    }
}
