//! `tributary search`: refuses what cannot mean anything (no words, an
//! unknown source kind, a store that is not there) before loading the model,
//! then asks a running `tributary serve` or the store itself (see
//! [`route`]) and prints the hits the same way either way.

mod route;

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::error::ErrorKind;
use clap::CommandFactory;
use tributary_core::config::StoreBackend;
use tributary_core::Config;
use tributary_indexer::build;
use tributary_indexer::search::{check_query, SearchHit, Searcher};
use tributary_indexer::search_api::client::SearchClient;
use tributary_indexer::store::{EdgeStore, VectorStore};

use crate::cli::{Cli, SearchArgs};
use route::{Plan, Route};

/// The source kinds this build's connectors publish, as stored with every
/// chunk: `--source` takes exactly these (the filter is an exact match,
/// so anything else could only ever find nothing).
pub const KNOWN_SOURCES: [&str; 3] = [
    "vault",
    tributary_connectors::jira::KIND,
    tributary_connectors::confluence::KIND,
];

/// A server on this machine accepts at once; a longer wait would only
/// slow down every search when none runs.
const PROBE_TIMEOUT: Duration = Duration::from_millis(300);

pub async fn run(config: &Config, args: SearchArgs) -> anyhow::Result<ExitCode> {
    if let Err(usage) = check_args(&args.query, args.source.as_deref()) {
        usage.print()?;
        return Ok(ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2)));
    }
    let hits = match choose_route(config).await? {
        Route::Server(url) => {
            tracing::info!(%url, "searching through tributary serve");
            let timeout = Duration::from_millis(config.serve.request_timeout_ms);
            SearchClient::new(&url, timeout)?
                .search(&args.query, args.source.clone(), args.limit)
                .await?
        }
        Route::Direct => search_store(config, &args).await?,
    };
    print_hits(&args, &hits)?;
    Ok(ExitCode::SUCCESS)
}

async fn choose_route(config: &Config) -> anyhow::Result<Route> {
    Ok(match route::plan(config.store.backend, &config.serve)? {
        Plan::Go(route) => route,
        Plan::Probe(addr) => route::after_probe(addr, accepts(addr).await),
    })
}

/// Whether anything accepts a connection at `addr`. Nothing there is the
/// ordinary case (no server running): the store is then opened directly.
async fn accepts(addr: SocketAddr) -> bool {
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => true,
        Ok(Err(err)) => {
            tracing::debug!(%addr, error = %err, "no tributary serve; opening the store");
            false
        }
        Err(_) => {
            tracing::debug!(%addr, "no answer from serve.listen in time; opening the store");
            false
        }
    }
}

/// The search in this process, on the configured store.
async fn search_store(config: &Config, args: &SearchArgs) -> anyhow::Result<Vec<SearchHit>> {
    // Before the model loads: a mistyped path fails at once, naming it.
    if config.store.backend == StoreBackend::Edge {
        EdgeStore::require_existing(&config.store.path)?;
    }
    let embedder = build::load_embedder(&config.embedder).await?.embedder;
    let store: Arc<dyn VectorStore> = match config.store.backend {
        StoreBackend::Edge => {
            Arc::new(EdgeStore::open_existing(&config.store.path, embedder.dimension()).await?)
        }
        StoreBackend::Qdrant => build::open_store(&config.store, embedder.dimension()).await?,
    };
    let searcher = Searcher { embedder, store };
    Ok(searcher
        .search(&args.query, args.source.clone(), args.limit)
        .await?)
}

fn print_hits(args: &SearchArgs, hits: &[SearchHit]) -> anyhow::Result<()> {
    if args.json {
        for hit in hits {
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
    Ok(())
}

/// The arguments clap cannot check on its own, refused as clap refuses bad
/// arguments (same wording, same exit status 2): a query without words, and
/// a `--source` that is not a known kind (listing the known ones).
fn check_args(query: &str, source: Option<&str>) -> Result<(), clap::Error> {
    let mut cli = Cli::command();
    cli.build();
    let Some(search) = cli.find_subcommand_mut("search") else {
        return Err(clap::Error::raw(
            ErrorKind::InvalidSubcommand,
            "the search subcommand is missing from the command line definition\n",
        ));
    };
    if let Err(empty) = check_query(query) {
        return Err(search.error(ErrorKind::InvalidValue, empty));
    }
    if let Some(source) = source {
        let arg = search
            .get_arguments()
            .find(|arg| arg.get_id() == "source")
            .cloned();
        PossibleValuesParser::new(KNOWN_SOURCES).parse_ref(
            search,
            arg.as_ref(),
            OsStr::new(source),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sources_are_accepted() {
        for source in KNOWN_SOURCES {
            assert!(check_args("pg failover", Some(source)).is_ok(), "{source}");
        }
        assert!(check_args("pg failover", None).is_ok());
    }

    #[test]
    fn an_unknown_or_miscased_source_lists_the_known_ones() {
        for source in ["Vault", "github", ""] {
            let err = check_args("pg failover", Some(source)).expect_err(source);
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{source}");
            let text = err.to_string();
            assert!(
                text.contains("[possible values: vault, jira, confluence]"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_query_without_words_is_a_usage_error() {
        for query in ["", "  "] {
            let err = check_args(query, None).expect_err(query);
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains("query is empty"), "{err}");
        }
    }
}
