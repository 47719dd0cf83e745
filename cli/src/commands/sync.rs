use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tracing::Instrument;
use tributary_connectors::confluence::{
    self, ConfluenceProgress, ConfluenceSyncError, ConfluenceSyncOptions,
};
use tributary_connectors::jira::{self, JiraProgress, JiraSyncOptions};
use tributary_connectors::vault::{self, VaultSyncOptions, WatchOptions};
use tributary_connectors::SyncStateStore;
use tributary_core::Config;

use super::progress::LiveProgress;
use crate::cli::{AtlassianArgs, ConfluenceArgs, JiraArgs, SyncCommand};

pub async fn run(config: &Config, cmd: SyncCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SyncCommand::Vault(args) => {
            let root = args
                .path
                .or_else(|| config.vault.path.clone())
                .context("no vault given: pass --path DIR or set vault.path in the config")?;
            let opts = VaultSyncOptions {
                root,
                instance: args
                    .instance
                    .unwrap_or_else(|| config.vault.instance.clone()),
                dry_run: args.dry_run,
                max_note_bytes: config.vault.max_note_bytes,
            };
            let pool = super::connect_db(config).await?;
            let store = SyncStateStore::new(pool);
            if args.watch {
                return watch_vault(config, opts, &store).await;
            }
            let summary = vault::sync(&opts, &config.kafka, &store)
                .instrument(tracing::info_span!("connector_run", kind = "vault"))
                .await?;
            record_summary(&store, &summary).await?;
            tracing::info!(
                connector = %summary.connector_id,
                scanned = summary.scanned,
                published = summary.published,
                unchanged = summary.unchanged,
                tombstones = summary.tombstones,
                skipped = summary.skipped,
                "sync finished"
            );
            print_report(&summary, args.json)?;
            Ok(ExitCode::SUCCESS)
        }
        SyncCommand::Jira(args) => sync_jira(config, args).await,
        SyncCommand::Confluence(args) => sync_confluence(config, args).await,
    }
}

/// `sync vault --watch`: runs until SIGTERM / Ctrl-C (exit 0), or until
/// the vault folder is replaced by another (exit 1). A vault that is gone
/// is waited for; see `vault::watch`.
async fn watch_vault(
    config: &Config,
    opts: VaultSyncOptions,
    store: &SyncStateStore,
) -> anyhow::Result<ExitCode> {
    let watch = WatchOptions {
        sync: opts,
        debounce: Duration::from_millis(config.vault.debounce_ms.max(1)),
        rescan_every: Duration::from_secs(config.vault.rescan_secs.max(1)),
    };
    let shutdown = tributary_core::shutdown::on_signal();
    vault::watch(
        &watch,
        &config.kafka,
        store,
        shutdown,
        &|_: &tributary_connectors::SyncSummary| {},
    )
    .instrument(tracing::info_span!("connector_watch", kind = "vault"))
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Adds the run's numbers to its `connector_runs` row, where the indexer's
/// outcome gauges read them (a CronJob exits before anyone could scrape it).
async fn record_summary(
    store: &SyncStateStore,
    summary: &tributary_connectors::SyncSummary,
) -> anyhow::Result<()> {
    if summary.dry_run {
        return Ok(());
    }
    store
        .record_run_summary(summary)
        .await
        .context("recording the run's summary in connector_runs")
}

/// The `[jira]` / `[confluence]` section with `--instance` applied, and
/// the run flags `sync jira` and `sync confluence` share.
struct AtlassianRun<C> {
    cfg: C,
    full: bool,
    prune: bool,
    dry_run: bool,
    json: bool,
}

impl<C> AtlassianRun<C> {
    fn new(mut cfg: C, args: AtlassianArgs, instance: impl FnOnce(&mut C) -> &mut String) -> Self {
        if let Some(name) = args.instance {
            *instance(&mut cfg) = name;
        }
        AtlassianRun {
            cfg,
            full: args.full,
            prune: args.prune,
            dry_run: args.dry_run,
            json: args.json,
        }
    }
}

async fn sync_jira(config: &Config, args: JiraArgs) -> anyhow::Result<ExitCode> {
    let run = AtlassianRun::new(config.jira.clone(), args.run, |c| &mut c.instance);
    let auth = jira::resolve_credentials(&run.cfg, |name| std::env::var(name).ok())?;
    let mut opts = JiraSyncOptions::from_config(&run.cfg, auth)?;
    opts.full = run.full;
    opts.prune = run.prune;
    opts.dry_run = run.dry_run;
    let pool = super::connect_db(config).await?;
    let store = SyncStateStore::new(pool);
    let live = LiveProgress::new("jira", "issues", "pages");
    let progress = |p: JiraProgress| live.update(p.fetched, p.published, p.pages);
    let result = jira::sync(&opts, &config.kafka, &store, &progress)
        .instrument(tracing::info_span!("connector_run", kind = "jira"))
        .await;
    live.finish();
    let report = result?;
    let s = &report.summary;
    record_summary(&store, s).await?;
    tracing::info!(
        connector = %s.connector_id,
        fetched = s.scanned,
        published = s.published,
        unchanged = s.unchanged,
        tombstones = s.tombstones,
        skipped = s.skipped,
        pages = report.pages,
        retries = report.retries,
        pruned = report.pruned,
        duration_ms = s.duration.as_millis() as u64,
        "sync finished"
    );
    if !report.unknown_adf_nodes.is_empty() {
        tracing::warn!(nodes = ?report.unknown_adf_nodes, "ADF node types kept as plain text");
    }
    print_report(&report, run.json)?;
    Ok(ExitCode::SUCCESS)
}

async fn sync_confluence(config: &Config, args: ConfluenceArgs) -> anyhow::Result<ExitCode> {
    let run = AtlassianRun::new(config.confluence.clone(), args.run, |c| &mut c.instance);
    let auth = confluence::resolve_credentials(&run.cfg, |name| std::env::var(name).ok())?;
    let mut opts = ConfluenceSyncOptions::from_config(&run.cfg, auth)?;
    opts.full = run.full;
    opts.prune = run.prune;
    opts.dry_run = run.dry_run;
    let pool = super::connect_db(config).await?;
    let store = SyncStateStore::new(pool);
    let live = LiveProgress::new("confluence", "pages", "requests");
    let progress = |p: ConfluenceProgress| live.update(p.fetched, p.published, p.requests);
    let result = confluence::sync(&opts, &config.kafka, &store, &progress)
        .instrument(tracing::info_span!("connector_run", kind = "confluence"))
        .await;
    live.finish();
    // Some spaces failed: the others were synced; print what was done, then fail.
    let (report, failed) = match result {
        Ok(report) => (report, None),
        Err(ConfluenceSyncError::Spaces { report, total }) => {
            let failed = report.failures.len();
            (*report, Some((failed, total)))
        }
        Err(err) => return Err(err.into()),
    };
    let s = &report.summary;
    record_summary(&store, s).await?;
    tracing::info!(
        connector = %s.connector_id,
        fetched = s.scanned,
        published = s.published,
        unchanged = s.unchanged,
        tombstones = s.tombstones,
        skipped = s.skipped,
        requests = report.requests,
        retries = report.retries,
        truncated = report.truncated,
        pruned = report.pruned,
        duration_ms = s.duration.as_millis() as u64,
        "sync finished"
    );
    if !report.unknown_macros.is_empty() {
        tracing::warn!(macros = ?report.unknown_macros, "Confluence macros kept as their plain text");
    }
    print_report(&report, run.json)?;
    if let Some((failed, total)) = failed {
        for f in &report.failures {
            tracing::error!(space = %f.space, error = %f.error, "Confluence space failed");
        }
        eprintln!("{failed} of {total} Confluence spaces failed; their watermarks did not move");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The run's report on stdout: one JSON object for scripts, else the text.
fn print_report<R: serde::Serialize + std::fmt::Display>(
    report: &R,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
