use std::process::ExitCode;

use anyhow::Context;
use tributary_connectors::vault::{self, VaultSyncOptions};
use tributary_connectors::SyncStateStore;
use tributary_core::{db, Config};

use crate::cli::SyncCommand;

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
            };
            let pool = db::connect(&config.database).await?;
            let store = SyncStateStore::new(pool);
            let summary = vault::sync(&opts, &config.kafka, &store).await?;
            tracing::info!(
                connector = %summary.connector_id,
                scanned = summary.scanned,
                published = summary.published,
                unchanged = summary.unchanged,
                tombstones = summary.tombstones,
                skipped = summary.skipped,
                "sync finished"
            );
            if args.json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                println!("{summary}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
