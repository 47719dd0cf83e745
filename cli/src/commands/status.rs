//! `tributary status`: every component, and whether work is getting done,
//! not just whether things are up.

use std::process::ExitCode;

use serde::Serialize;
use sqlx::Row;
use tributary_core::{db, kafka, Config};

use crate::cli::StatusArgs;

#[derive(Debug, Serialize)]
struct Status {
    kafka: String,
    database: String,
    connectors: Vec<ConnectorStatus>,
    documents_indexed: Option<i64>,
    documents_deleted: Option<i64>,
    /// The last `tributary dispatch` run; `None` when it never ran.
    dispatcher: Option<DispatcherStatus>,
    healthy: bool,
}

#[derive(Debug, Serialize)]
struct DispatcherStatus {
    run_id: i64,
    result: String,
    started_at: chrono::DateTime<chrono::Utc>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
    communities: i32,
    work_items: i32,
    message: Option<String>,
}

#[derive(Debug, Serialize)]
struct ConnectorStatus {
    connector_id: String,
    last_run_status: Option<String>,
    last_run_finished_at: Option<chrono::DateTime<chrono::Utc>>,
    watermark: Option<chrono::DateTime<chrono::Utc>>,
    docs_produced: i64,
    last_run_error: Option<String>,
}

pub async fn run(config: &Config, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let mut healthy = true;
    let kafka = match kafka::check_topic(&config.kafka, &config.kafka.topic) {
        Ok(partitions) => format!(
            "ok: topic {} has {partitions} partitions",
            config.kafka.topic
        ),
        Err(err) => {
            healthy = false;
            format!("error: {err}")
        }
    };
    let mut status = Status {
        kafka,
        database: String::new(),
        connectors: Vec::new(),
        documents_indexed: None,
        documents_deleted: None,
        dispatcher: None,
        healthy,
    };
    match db::connect(&config.database).await {
        Err(err) => {
            status.healthy = false;
            status.database = format!("error: {err}");
        }
        Ok(pool) => {
            status.database = "ok".into();
            let rows = sqlx::query(
                "SELECT connector_id, last_run_status, last_run_finished_at, watermark, docs_produced, last_run_error
                 FROM connector_sync_state ORDER BY connector_id",
            )
            .fetch_all(&pool)
            .await;
            match rows {
                Ok(rows) => {
                    for r in rows {
                        status.connectors.push(ConnectorStatus {
                            connector_id: r.try_get("connector_id")?,
                            last_run_status: r.try_get("last_run_status")?,
                            last_run_finished_at: r.try_get("last_run_finished_at")?,
                            watermark: r.try_get("watermark")?,
                            docs_produced: r.try_get("docs_produced")?,
                            last_run_error: r.try_get("last_run_error")?,
                        });
                    }
                    status.dispatcher = last_dispatch(&pool).await?;
                    let registry = tributary_indexer::registry::Registry::new(pool);
                    let (live, gone) = registry.counts().await?;
                    status.documents_indexed = Some(live);
                    status.documents_deleted = Some(gone);
                }
                Err(err) => {
                    status.healthy = false;
                    status.database = format!("error: {err} (run `tributary migrate`?)");
                }
            }
        }
    }
    if status
        .connectors
        .iter()
        .any(|c| c.last_run_status.as_deref() == Some("failed"))
    {
        status.healthy = false;
    }
    // A starving or failed dispatcher is not healthy: agents get no work.
    if status
        .dispatcher
        .as_ref()
        .is_some_and(|d| d.result == "starving" || d.result == "failed")
    {
        status.healthy = false;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!("kafka:     {}", status.kafka);
        println!("database:  {}", status.database);
        for c in &status.connectors {
            println!(
                "connector: {:<24} last run {:<9} finished {} watermark {} produced {}{}",
                c.connector_id,
                c.last_run_status.as_deref().unwrap_or("never"),
                c.last_run_finished_at
                    .map_or("-".into(), |t| t.to_rfc3339()),
                c.watermark.map_or("-".into(), |t| t.to_rfc3339()),
                c.docs_produced,
                c.last_run_error
                    .as_ref()
                    .map_or(String::new(), |e| format!(" error: {e}"))
            );
        }
        if let (Some(live), Some(gone)) = (status.documents_indexed, status.documents_deleted) {
            println!("corpus:    {live} documents indexed, {gone} deleted");
        }
        match &status.dispatcher {
            None => println!("dispatch:  never ran"),
            Some(d) => println!(
                "dispatch:  last run {} {} at {}: {} communities, {} work items{}",
                d.run_id,
                d.result,
                d.started_at.to_rfc3339(),
                d.communities,
                d.work_items,
                d.message
                    .as_ref()
                    .map_or(String::new(), |m| format!(" ({m})"))
            ),
        }
    }
    Ok(if status.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The latest dispatch run, for the `dispatch:` line.
async fn last_dispatch(pool: &sqlx::PgPool) -> anyhow::Result<Option<DispatcherStatus>> {
    let row = sqlx::query(
        "SELECT run_id, result, started_at, finished_at, communities, work_items, message
         FROM dispatch_runs ORDER BY run_id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok::<_, anyhow::Error>(DispatcherStatus {
            run_id: r.try_get("run_id")?,
            result: r.try_get("result")?,
            started_at: r.try_get("started_at")?,
            finished_at: r.try_get("finished_at")?,
            communities: r.try_get("communities")?,
            work_items: r.try_get("work_items")?,
            message: r.try_get("message")?,
        })
    })
    .transpose()
}
