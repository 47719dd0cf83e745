//! One module per subcommand; each turns parsed arguments and the loaded
//! configuration into library calls and prints the result.

mod bench_embed;
mod dispatch;
pub mod dlq;
mod index;
mod migrate;
mod progress;
mod search;
mod serve;
mod status;
mod sync;

use std::process::ExitCode;

use anyhow::Context;
use sqlx::PgPool;
use tributary_core::{db, schema, Config};

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    match cli.command {
        Command::Sync(cmd) => sync::run(&config, cmd).await,
        Command::Index(args) => index::run(&config, args).await,
        Command::Search(args) => search::run(&config, args).await,
        Command::Serve => serve::run(&config).await,
        Command::Migrate(args) => migrate::run(&config, args).await,
        Command::Status(args) => status::run(&config, args).await,
        Command::Dlq(cmd) => dlq::run(&config, cmd).await,
        Command::Dispatch(args) => dispatch::run(&config, args).await,
        Command::BenchEmbed(args) => bench_embed::run(&config, args).await,
    }
}

/// PostgreSQL for every command but `migrate`: refuses a schema that is
/// behind (or ahead of) this build before anything is read or consumed.
async fn connect_db(config: &Config) -> anyhow::Result<PgPool> {
    let pool = db::connect(&config.database).await?;
    schema::ensure_current(&pool).await?;
    Ok(pool)
}
