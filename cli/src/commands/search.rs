use std::process::ExitCode;

use tributary_core::Config;
use tributary_indexer::build;
use tributary_indexer::search::Searcher;

use crate::cli::SearchArgs;

pub async fn run(config: &Config, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let embedder = build::load_embedder(&config.embedder).await?.embedder;
    let store = build::open_store(&config.store, embedder.dimension()).await?;
    let searcher = Searcher { embedder, store };
    let hits = searcher
        .search(&args.query, args.source, args.limit)
        .await?;
    if args.json {
        for hit in &hits {
            println!("{}", serde_json::to_string(hit)?);
        }
    } else if hits.is_empty() {
        println!("no hits for {:?}", args.query);
    } else {
        println!("{} hits for {:?}", hits.len(), args.query);
        for (rank, hit) in hits.iter().enumerate() {
            println!(
                "{:>2}. {:.3}  {}  [{}] {}",
                rank + 1,
                hit.score,
                hit.title,
                hit.source,
                hit.location.as_deref().unwrap_or(&hit.doc_id)
            );
            println!("      {}", hit.snippet);
        }
    }
    Ok(ExitCode::SUCCESS)
}
