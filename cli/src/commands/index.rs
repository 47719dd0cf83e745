use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tributary_core::{shutdown, Config};
use tributary_indexer::build::{self, EmbedderParts};
use tributary_indexer::endpoint::{self, Thresholds};
use tributary_indexer::outcomes::{self, OutcomeSources};
use tributary_indexer::store::VectorStore;
use tributary_indexer::{IndexStats, Indexer, RunOptions};

use super::progress::IndexProgress;
use crate::cli::IndexArgs;

pub async fn run(config: &Config, args: IndexArgs) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown::on_signal();
    let pool = super::connect_db(config).await?;
    // Served from the start: a pod waiting for its embedder is alive (and
    // says why it is not ready).
    if !config.metrics.listen.is_empty() {
        endpoint::start(&config.metrics.listen, thresholds(config), shutdown.clone()).await?;
    }
    run_indexer(config, pool, args.until_idle, shutdown, |_, _| {}).await
}

/// `/healthz` and `/readyz` limits from `[metrics]`.
pub(super) fn thresholds(config: &Config) -> Thresholds {
    Thresholds {
        ready_max_paused: Duration::from_secs(config.metrics.ready_max_paused_secs),
        live_max_stall: Duration::from_secs(config.metrics.live_max_stall_secs),
    }
}

/// The indexer once its endpoint is up, shared by `index` and `serve`:
/// outcome gauges, the embedder (waited for), the store, the consumer loop
/// until caught up (`until_idle`) or `shutdown`, and the run's summary.
/// `on_open` gets the embedder and the store as soon as both are open:
/// `tributary serve` answers searches from the very store being written.
pub(super) async fn run_indexer(
    config: &Config,
    pool: PgPool,
    until_idle: bool,
    shutdown: CancellationToken,
    on_open: impl FnOnce(&EmbedderParts, &Arc<dyn VectorStore>),
) -> anyhow::Result<ExitCode> {
    // Heartbeat and outcome gauges, endpoint or not: `tributary status`
    // reads the heartbeat from PostgreSQL.
    let sources = OutcomeSources {
        pool: pool.clone(),
        kafka: config.kafka.clone(),
        indexer: config.indexer.clone(),
    };
    let interval = Duration::from_secs(config.metrics.outcomes_interval_secs.max(1));
    tokio::spawn(outcomes::run(sources.clone(), interval, shutdown.clone()));
    let Some(embedder) = build::load_embedder_waiting(&config.embedder, &shutdown).await? else {
        tracing::info!("stopped before the embedding server answered; nothing was consumed");
        return Ok(ExitCode::SUCCESS);
    };
    let store = build::open_store(&config.store, embedder.embedder.dimension()).await?;
    on_open(&embedder, &store);
    let indexer = Indexer {
        kafka: config.kafka.clone(),
        settings: config.indexer.clone(),
        pipeline: build::pipeline(config, embedder, Arc::clone(&store), pool),
    };
    let (progress_tx, progress_rx) = tokio::sync::watch::channel(IndexStats::default());
    let display = tokio::spawn(IndexProgress::new().follow(progress_rx));
    let stats = indexer
        .run(
            RunOptions {
                until_idle,
                progress: Some(progress_tx),
            },
            shutdown,
        )
        .await;
    // The sender is gone with `run`: the display prints its last line.
    if let Err(err) = display.await {
        tracing::warn!(error = %err, "progress display failed");
    }
    let stats = stats?;
    // The last word of this run (last indexed, lag) for `tributary status`.
    outcomes::heartbeat(&sources, true).await?;
    println!(
        "indexed {} documents ({} chunks), removed {}, unchanged {}, dead-lettered {} from {} messages",
        stats.docs.indexed, stats.docs.chunks, stats.docs.deleted, stats.docs.unchanged, stats.dead_lettered, stats.messages
    );
    if stats.messages > 0 {
        println!(
            "worked {:.3} s, from the first message to the last batch",
            stats.active.as_secs_f64()
        );
    }
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
