use std::process::ExitCode;

use tributary_core::{db, shutdown, Config};
use tributary_indexer::{build, Indexer, RunOptions};

use crate::cli::IndexArgs;

pub async fn run(config: &Config, args: IndexArgs) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown::on_signal();
    let pool = db::connect(&config.database).await?;
    let embedder = build::load_embedder(&config.embedder).await?;
    let store = build::open_store(&config.store, embedder.embedder.dimension()).await?;
    let indexer = Indexer {
        kafka: config.kafka.clone(),
        settings: config.indexer.clone(),
        pipeline: build::pipeline(config, embedder, std::sync::Arc::clone(&store), pool),
    };
    let stats = indexer
        .run(
            RunOptions {
                until_idle: args.until_idle,
            },
            shutdown,
        )
        .await?;
    println!(
        "indexed {} documents ({} chunks), removed {}, unchanged {}, dead-lettered {} from {} messages",
        stats.docs.indexed, stats.docs.chunks, stats.docs.deleted, stats.docs.unchanged, stats.dead_lettered, stats.messages
    );
    if stats.pauses > 0 || stats.retries_exhausted > 0 || stats.abandoned > 0 {
        println!(
            "paused {} times ({} retries during outages), {} dead-lettered after max_attempts, {} left to a new partition owner",
            stats.pauses, stats.outage_retries, stats.retries_exhausted, stats.abandoned
        );
    }
    // The outcome, not just the activity: how much is searchable now.
    println!("store holds {} points", store.count(None).await?);
    Ok(ExitCode::SUCCESS)
}
