//! `tributary dlq stats | show | redrive`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use tributary_core::{shutdown, Config};
use tributary_indexer::dlq::{self, Filter, RedriveOptions, Resolved};

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Pending dead letters by error class, source and age; oldest, newest, bytes.
    Stats(JsonArg),
    /// List pending dead letters: key, error class and message, attempts, when.
    Show(ShowArgs),
    /// Re-publish matching dead letters to the documents topic (see README, "Operating the DLQ").
    Redrive(RedriveArgs),
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this error class (e.g. DocumentTooLarge, InvalidJson).
    #[arg(long)]
    pub class: Option<String>,
    /// Only this source kind (vault, jira, confluence).
    #[arg(long)]
    pub source: Option<String>,
    /// Only messages that failed at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<DateTime<Utc>>,
    /// Only messages that failed at or before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
}

impl FilterArgs {
    fn filter(&self) -> Filter {
        Filter {
            class: self.class.clone(),
            source: self.source.clone(),
            since: self.since,
            until: self.until,
        }
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// At most this many messages.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Redrive at most N messages this run.
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,
    /// At most R messages per second.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Report what would be redriven; publish and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also redrive messages whose redrive count reached --max-redrives.
    #[arg(long)]
    pub force: bool,
    /// Loop guard: skip messages already redriven this many times.
    #[arg(long, default_value_t = 3)]
    pub max_redrives: u32,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(config: &Config, cmd: DlqCommand) -> anyhow::Result<ExitCode> {
    let pool = super::connect_db(config).await?;
    let resolved = Resolved::new(pool);
    let group = config.indexer.redrive_group();
    match cmd {
        DlqCommand::Stats(args) => {
            let pending = dlq::pending(&config.kafka, &group, &resolved).await?;
            let stats = dlq::stats(&pending, Utc::now());
            if args.json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                println!(
                    "topic {}: {} pending ({} bytes), {} retained",
                    stats.topic, stats.pending, stats.pending_bytes, stats.retained
                );
                for (name, map) in [
                    ("class", &stats.by_class),
                    ("source", &stats.by_source),
                    ("age", &stats.by_age),
                ] {
                    let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!(
                        "  by {name:<6} {}",
                        if parts.is_empty() {
                            "-".into()
                        } else {
                            parts.join(" ")
                        }
                    );
                }
                if let (Some(old), Some(new)) = (stats.oldest_failure, stats.newest_failure) {
                    println!("  oldest failure {old}, newest {new}");
                }
            }
        }
        DlqCommand::Show(args) => {
            let pending = dlq::pending(&config.kafka, &group, &resolved).await?;
            let filter = args.filter.filter();
            for letter in pending
                .letters
                .iter()
                .filter(|l| filter.matches(l))
                .take(args.limit)
            {
                if args.json {
                    println!("{}", serde_json::to_string(letter)?);
                } else {
                    println!(
                        "{}/{}  {}  key={}  attempts={} redrives={}  failed={}\n    {}",
                        letter.partition,
                        letter.offset,
                        letter.class,
                        letter.key.as_deref().unwrap_or("-"),
                        letter.attempts,
                        letter.redrive_count,
                        letter.failed_at.map_or("-".into(), |t| t.to_rfc3339()),
                        letter.reason
                    );
                }
            }
        }
        DlqCommand::Redrive(args) => {
            let shutdown = shutdown::on_signal();
            let opts = RedriveOptions {
                filter: args.filter.filter(),
                max: args.max,
                rate_per_sec: args.rate,
                dry_run: args.dry_run,
                force: args.force,
                max_redrives: args.max_redrives,
            };
            let tty = std::io::stderr().is_terminal();
            let progress = move |done: usize, total: usize| {
                if tty {
                    eprint!("\rredriven {done}/{total}");
                }
            };
            let report = dlq::redrive(
                &config.kafka,
                &group,
                &resolved,
                &opts,
                &shutdown,
                &progress,
            )
            .await
            .context("redrive")?;
            if tty {
                eprintln!();
            }
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "{}matched {}, redriven {}, skipped {} (redrive limit {}, over --max {}, shutdown {}), remaining {}",
                    if report.dry_run { "dry run: " } else { "" },
                    report.matched,
                    report.redriven,
                    report.skipped_loop_guard + report.skipped_over_max + report.skipped_shutdown,
                    report.skipped_loop_guard,
                    report.skipped_over_max,
                    report.skipped_shutdown,
                    report.remaining
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
