//! `tributary serve`: the indexer (exactly `tributary index`) and, on one
//! listener, `/search` answered from the store it writes, with `/metrics`,
//! `/healthz` and `/readyz`. The embedded store admits one process; this
//! is how it is searched while it is being indexed.

use std::process::ExitCode;
use std::sync::Arc;

use tributary_core::{shutdown, Config};
use tributary_indexer::endpoint;
use tributary_indexer::search::Searcher;
use tributary_indexer::search_api::routes::SearchService;
use tributary_indexer::search_api::RequestRules;

use super::index::{run_indexer, thresholds};
use super::search::KNOWN_SOURCES;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown::on_signal();
    let pool = super::connect_db(config).await?;
    let search = SearchService::new(RequestRules {
        known_sources: KNOWN_SOURCES.iter().map(ToString::to_string).collect(),
        max_limit: config.serve.max_limit,
    });
    // Bound before the model loads, like `index`'s endpoint: a taken port
    // fails at once, and `/search` says it is starting (503) meanwhile.
    let started = endpoint::start_with(
        "serve.listen",
        &config.serve.listen,
        thresholds(config),
        search.clone().router(),
        shutdown.clone(),
    )
    .await?;
    tracing::info!(addr = %started.addr, "serving /search");
    run_indexer(config, pool, false, shutdown, |embedder, store| {
        search.ready(Searcher {
            embedder: Arc::clone(&embedder.embedder),
            store: Arc::clone(store),
        });
        tracing::info!(addr = %started.addr, "search ready");
    })
    .await
}
