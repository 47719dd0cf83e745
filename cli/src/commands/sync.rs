//! `tributary sync <source>`: where a connector's run begins and ends on the
//! command line. The run itself (cursor, change decision, publish, record)
//! is the connectors' sync driver; this file resolves the options, shows
//! progress, records the run's numbers, logs and prints its report.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tracing::Instrument;
use tributary_connectors::atlassian::resolve_credentials;
use tributary_connectors::confluence::{self, ConfluenceSyncError, ConfluenceSyncOptions};
use tributary_connectors::jira::{self, JiraSyncOptions};
use tributary_connectors::sync::RunTarget;
use tributary_connectors::vault::{self, VaultSyncOptions, WatchOptions};
use tributary_connectors::{RunReport, SyncStateStore, SyncSummary};
use tributary_core::config::{ConfluenceConfig, ConfluenceFlavor, JiraConfig, JiraFlavor};
use tributary_core::Config;

use super::progress::LiveProgress;
use crate::cli::{AtlassianArgs, SyncCommand, VaultArgs};

pub async fn run(config: &Config, cmd: SyncCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SyncCommand::Vault(args) => sync_vault(config, args).await,
        SyncCommand::Jira(args) => {
            let opts = jira_options(&config.jira, &args.run)?;
            let live = LiveProgress::new(jira::KIND, "issues", "pages");
            sync_atlassian(config, &args.run, live, async |to| {
                let report = jira::sync(&opts, to).await?;
                Ok((report, None))
            })
            .await
        }
        SyncCommand::Confluence(args) => {
            let opts = confluence_options(&config.confluence, &args.run)?;
            let live = LiveProgress::new(confluence::KIND, "pages", "requests");
            sync_atlassian(config, &args.run, live, async |to| {
                match confluence::sync(&opts, to).await {
                    Ok(report) => Ok((report, None)),
                    // Some spaces failed: the others were synced; the
                    // report says what was done, then the run fails.
                    Err(ConfluenceSyncError::Spaces { report, total }) => {
                        let failed = report.failures.len();
                        let message = format!(
                            "{failed} of {total} Confluence spaces failed; their watermarks did not move"
                        );
                        Ok((*report, Some(message)))
                    }
                    Err(err) => Err(err.into()),
                }
            })
            .await
        }
    }
}

async fn sync_vault(config: &Config, args: VaultArgs) -> anyhow::Result<ExitCode> {
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
    let store = SyncStateStore::new(super::connect_db(config).await?);
    if args.watch {
        return watch_vault(config, opts, &store).await;
    }
    let summary = vault::sync(&opts, &config.kafka, &store)
        .instrument(tracing::info_span!("connector_run", kind = vault::KIND))
        .await?;
    finish(&store, &summary, args.json).await?;
    Ok(ExitCode::SUCCESS)
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
        &|_: &SyncSummary| {},
    )
    .instrument(tracing::info_span!("connector_watch", kind = vault::KIND))
    .await?;
    Ok(ExitCode::SUCCESS)
}

fn jira_options(cfg: &JiraConfig, args: &AtlassianArgs) -> anyhow::Result<JiraSyncOptions> {
    let cloud = cfg.flavor == JiraFlavor::Cloud;
    let auth = resolve_credentials(&jira::PRODUCT, cloud, &cfg.site, env_var)?;
    let mut opts = JiraSyncOptions::from_config(cfg, auth)?;
    args.apply(&mut opts.run);
    Ok(opts)
}

fn confluence_options(
    cfg: &ConfluenceConfig,
    args: &AtlassianArgs,
) -> anyhow::Result<ConfluenceSyncOptions> {
    let cloud = cfg.flavor == ConfluenceFlavor::Cloud;
    let auth = resolve_credentials(&confluence::PRODUCT, cloud, &cfg.site, env_var)?;
    let mut opts = ConfluenceSyncOptions::from_config(cfg, auth)?;
    args.apply(&mut opts.run);
    Ok(opts)
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// One Atlassian run, Jira's or Confluence's: live progress while it pages,
/// then the report. `sync` returns the report and, when part of the run
/// failed while the rest was kept, what to say about it (exit 1).
async fn sync_atlassian<R: RunReport>(
    config: &Config,
    args: &AtlassianArgs,
    live: LiveProgress,
    sync: impl AsyncFnOnce(&RunTarget<'_>) -> anyhow::Result<(R, Option<String>)>,
) -> anyhow::Result<ExitCode> {
    let store = SyncStateStore::new(super::connect_db(config).await?);
    let progress = move |p| live.update(p);
    let target = RunTarget {
        kafka: &config.kafka,
        store: &store,
        progress: &progress,
    };
    let result = sync(&target)
        .instrument(tracing::info_span!("connector_run", kind = live.source()))
        .await;
    live.finish();
    let (report, failed) = result?;
    finish(&store, &report, args.json).await?;
    match failed {
        Some(message) => {
            eprintln!("{message}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Every run's end: its numbers added to its `connector_runs` row (where
/// the indexer's outcome gauges read them: a CronJob exits before anyone
/// could scrape it), the "sync finished" log line, the report on stdout
/// (one JSON object for scripts, else the text).
async fn finish<R: RunReport>(
    store: &SyncStateStore,
    report: &R,
    json: bool,
) -> anyhow::Result<()> {
    let summary = report.summary();
    if !summary.dry_run {
        store
            .record_run_summary(summary)
            .await
            .context("recording the run's summary in connector_runs")?;
    }
    let as_json = serde_json::to_string(report)?;
    summary.log_finished("sync", R::DETAILED.then_some(as_json.as_str()));
    report.log_warnings();
    if json {
        println!("{as_json}");
    } else {
        println!("{report}");
    }
    Ok(())
}
