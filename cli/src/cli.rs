//! The command line: every subcommand and flag, with the help users read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tributary_connectors::sync::RunFlags;
use tributary_core::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "tributary",
    version,
    about = "Kafka-native pipeline that keeps a team's knowledge searchable",
    long_about = "Kafka-native pipeline that keeps a team's knowledge searchable.\n\n\
        Connectors publish documents to Kafka (`sync`), the indexer chunks, embeds and \
        stores them in Qdrant (`index`), and `search` queries the result.\n\n\
        Configuration: built-in defaults (the local stack of `make stack-up`), then the \
        TOML file given by --config, then environment variables \
        (TRIBUTARY_<SECTION>__<FIELD>, e.g. TRIBUTARY_KAFKA__TOPIC; and DATABASE_URL, \
        KAFKA_BROKERS, TRIBUTARY_MODEL_DIR, TRIBUTARY_STORE_PATH). See README.md."
)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(
        long,
        short,
        global = true,
        env = "TRIBUTARY_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Log format; `auto` is human-readable on a terminal, JSON otherwise.
    #[arg(long, global = true, value_enum, default_value_t = LogFormatArg::Auto, env = "TRIBUTARY_LOG_FORMAT")]
    pub log_format: LogFormatArg,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Auto,
    Pretty,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(a: LogFormatArg) -> Self {
        match a {
            LogFormatArg::Auto => LogFormat::Auto,
            LogFormatArg::Pretty => LogFormat::Pretty,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Publish a source's new, changed and deleted items to Kafka.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Consume documents from Kafka; chunk, embed and upsert them into Qdrant.
    Index(IndexArgs),
    /// Search the indexed corpus (through a running `tributary serve` when
    /// one answers at `serve.listen` or `serve.url` is set).
    Search(SearchArgs),
    /// The indexer, plus an HTTP search API on the store it writes:
    /// `GET /search?q=..&source=..&limit=..`, `POST /search` with JSON
    /// `{"query", "source", "limit"}`, and `/metrics`, `/healthz`, `/readyz`,
    /// all on `serve.listen` (default 127.0.0.1:7700). Runs until SIGTERM.
    Serve,
    /// Apply database migrations and create the Kafka topics (idempotent).
    Migrate(MigrateArgs),
    /// Show the state of every component: broker, topics, connectors, corpus.
    Status(StatusArgs),
    /// Inspect and redrive the dead-letter topic.
    #[command(subcommand)]
    Dlq(crate::commands::dlq::DlqCommand),
    /// Turn the indexed corpus into work items for agents: one per community
    /// of linked documents that is new or changed since its last dispatch.
    #[command(
        after_help = "Exit codes:\n  0  published, or nothing changed\n  2  starving: nothing indexed to work on (see the message)\n  1  failure"
    )]
    Dispatch(DispatchArgs),
    /// Benchmark: the configured embedder's raw speed on a vault's chunks
    /// (what `make bench` measures the indexer against).
    #[command(hide = true)]
    BenchEmbed(BenchEmbedArgs),
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// A folder of markdown notes (Obsidian-style vault).
    Vault(VaultArgs),
    /// Jira Cloud or Data Center issues, configured in the `[jira]` section.
    /// The token comes from TRIBUTARY_JIRA_TOKEN / JIRA_API_TOKEN or
    /// `jira.token_file`, never from the command line.
    Jira(JiraArgs),
    /// Confluence Cloud or Data Center pages and blog posts of the spaces in
    /// the `[confluence]` section. The token comes from
    /// TRIBUTARY_CONFLUENCE_TOKEN / CONFLUENCE_API_TOKEN or
    /// `confluence.token_file`, never from the command line.
    Confluence(ConfluenceArgs),
}

/// The flags `sync jira` and `sync confluence` share.
#[derive(Debug, Args)]
pub struct AtlassianArgs {
    /// Ignore the watermark(s) and re-read every item in scope (only
    /// changed content is published).
    #[arg(long)]
    pub full: bool,
    /// List every item in scope and publish tombstones for items that
    /// vanished or left the scope (also done every `<section>.prune_every`
    /// runs).
    #[arg(long)]
    pub prune: bool,
    /// Report what would be published; publish and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Instance name, part of every document id (default: the section's
    /// `instance`).
    #[arg(long)]
    pub instance: Option<String>,
    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl AtlassianArgs {
    /// Sets the run's flags as asked (the instance only when given).
    pub fn apply(&self, flags: &mut RunFlags) {
        if let Some(instance) = &self.instance {
            flags.instance.clone_from(instance);
        }
        flags.full = self.full;
        flags.prune = self.prune;
        flags.dry_run = self.dry_run;
    }
}

#[derive(Debug, Args)]
pub struct ConfluenceArgs {
    #[command(flatten)]
    pub run: AtlassianArgs,
}

#[derive(Debug, Args)]
pub struct JiraArgs {
    #[command(flatten)]
    pub run: AtlassianArgs,
}

#[derive(Debug, Args)]
pub struct VaultArgs {
    /// The vault's root directory (default: `vault.path` from config).
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Instance name, part of every document id (default: `vault.instance`).
    #[arg(long)]
    pub instance: Option<String>,
    /// Report what would be published; publish and record nothing.
    #[arg(long, conflicts_with = "watch")]
    pub dry_run: bool,
    /// Print the run summary as JSON on stdout.
    #[arg(long, conflicts_with = "watch")]
    pub json: bool,
    /// Keep running: publish creates, edits, renames and deletes as they
    /// happen (file-system notifications, debounced `vault.debounce_ms`),
    /// with a full rescan every `vault.rescan_secs`. Stops on SIGTERM.
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Exit once every assigned partition has been consumed to its end
    /// (for CronJobs, demos and tests). Without it, run until SIGTERM.
    #[arg(long)]
    pub until_idle: bool,
}

#[derive(Debug, Args)]
pub struct BenchEmbedArgs {
    /// Vault whose notes are chunked the way the indexer chunks them.
    #[arg(long)]
    pub vault: PathBuf,
    /// Batch sizes to time, comma-separated (default: embedder.batch_size).
    #[arg(long, value_delimiter = ',')]
    pub batch_sizes: Vec<usize>,
    /// Timed runs per batch size (after one untimed warm-up run).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Write the chunk texts as JSON lines ({"text": ...}), for other
    /// embedders to run on the same chunks.
    #[arg(long)]
    pub dump_chunks: Option<PathBuf>,
    /// Write the chunks with their vectors (5 decimals) as a JSON fixture.
    #[arg(long)]
    pub dump_vectors: Option<PathBuf>,
    /// A fixture written by --dump-vectors: embed its chunks and report the
    /// cosine of each vector to the fixture's (min and mean, JSON on stdout).
    #[arg(long)]
    pub reference: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for, in plain words.
    pub query: String,
    /// Only hits from this source kind (vault, jira, confluence).
    #[arg(long)]
    pub source: Option<String>,
    /// Number of hits.
    #[arg(long, short = 'n', default_value_t = 5)]
    pub limit: usize,
    /// Print hits as JSON lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DispatchArgs {
    /// Report the communities and what would be published; publish and
    /// record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Publish a work item for every community, changed or not.
    #[arg(long)]
    pub all: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only the database; do not create Kafka topics.
    #[arg(long)]
    pub skip_kafka: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}
