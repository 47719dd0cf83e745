//! Outcome gauges the long-running indexer exports for the short-lived
//! jobs. Connector and dispatcher runs are CronJobs that exit: they record
//! every run in PostgreSQL, and this loop turns those rows (plus the
//! documents topic's unconsumed backlog and the DLQ's pending letters) into
//! series, so every alert works without a Pushgateway.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use tributary_core::config::{IndexerConfig, KafkaConfig};
use tributary_core::kafka;
use tributary_core::metrics::{self as registry, FloatGauge};

use crate::dlq::{self, Resolved};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Connector {
    connector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Class {
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Source {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorItems {
    connector: String,
    outcome: String,
}

struct Metrics {
    items: Family<ConnectorItems, Counter>,
    last_duration: Family<Connector, FloatGauge>,
    watermark_age: Family<Connector, FloatGauge>,
    last_success: Family<Connector, FloatGauge>,
    last_run: Family<Connector, FloatGauge>,
    last_run_success: Family<Connector, Gauge>,
    published: Family<Connector, Counter>,
    dlq_pending: Family<Class, Gauge>,
    unindexed: Gauge,
    corpus: Family<Source, Gauge>,
    dispatch_last_run: FloatGauge,
    dispatch_last_success: FloatGauge,
    dispatch_starving: Gauge,
    dispatch_work_items: Counter,
    dispatch_communities: Gauge,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let m = Metrics {
            items: Family::default(),
            last_duration: Family::default(),
            watermark_age: Family::default(),
            last_success: Family::default(),
            last_run: Family::default(),
            last_run_success: Family::default(),
            published: Family::default(),
            dlq_pending: Family::default(),
            unindexed: Gauge::default(),
            corpus: Family::default(),
            dispatch_last_run: FloatGauge::default(),
            dispatch_last_success: FloatGauge::default(),
            dispatch_starving: Gauge::default(),
            dispatch_work_items: Counter::default(),
            dispatch_communities: Gauge::default(),
        };
        registry::register(|r| {
            r.register(
                "tributary_connector_items",
                "Items each connector's runs fetched, left unchanged or tombstoned (cumulative, from connector_runs)",
                m.items.clone(),
            );
            r.register(
                "tributary_connector_last_run_duration_seconds",
                "How long each connector's last reported run took",
                m.last_duration.clone(),
            );
            r.register(
                "tributary_connector_watermark_age_seconds",
                "Age of each connector's watermark (the newest source change it acknowledged)",
                m.watermark_age.clone(),
            );
            r.register(
                "tributary_connector_last_success_timestamp_seconds",
                "When each connector last finished a successful run",
                m.last_success.clone(),
            );
            r.register(
                "tributary_connector_last_run_timestamp_seconds",
                "When each connector last finished a run, successful or not",
                m.last_run.clone(),
            );
            r.register(
                "tributary_connector_last_run_success",
                "1 when the connector's last run succeeded, 0 when it failed",
                m.last_run_success.clone(),
            );
            r.register(
                "tributary_connector_published_documents",
                "Documents each connector published and Kafka acknowledged (cumulative)",
                m.published.clone(),
            );
            r.register(
                "tributary_dlq_pending",
                "Dead letters not yet redriven, one per source message, by class",
                m.dlq_pending.clone(),
            );
            r.register(
                "tributary_documents_unindexed",
                "Messages on the documents topic past the indexer group's committed offsets",
                m.unindexed.clone(),
            );
            r.register(
                "tributary_corpus_documents",
                "Live documents in the registry, by source",
                m.corpus.clone(),
            );
            r.register(
                "tributary_dispatcher_last_run_timestamp_seconds",
                "When the dispatcher last finished a run",
                m.dispatch_last_run.clone(),
            );
            r.register(
                "tributary_dispatcher_last_success_timestamp_seconds",
                "When the dispatcher last finished a run that was not starving or failed",
                m.dispatch_last_success.clone(),
            );
            r.register(
                "tributary_dispatcher_last_run_starving",
                "1 when the dispatcher's last run found nothing to work on",
                m.dispatch_starving.clone(),
            );
            r.register(
                "tributary_dispatcher_work_items",
                "Work items the dispatcher published (cumulative)",
                m.dispatch_work_items.clone(),
            );
            r.register(
                "tributary_dispatcher_communities",
                "Communities found by the dispatcher's last run",
                m.dispatch_communities.clone(),
            );
        });
        m
    })
}

/// Everything the refresh loop needs.
#[derive(Clone)]
pub struct OutcomeSources {
    pub pool: PgPool,
    pub kafka: KafkaConfig,
    pub indexer: IndexerConfig,
}

impl OutcomeSources {
    /// This indexer's name in `indexer_heartbeats`: its static group
    /// membership id, else host and process id.
    pub fn instance(&self) -> String {
        match &self.indexer.group_instance_id {
            Some(id) => id.clone(),
            None => format!(
                "{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into()),
                std::process::id()
            ),
        }
    }
}

/// Writes this indexer's heartbeat row (see the `indexer_heartbeats`
/// table); `stopped` marks its last one, on exit.
pub async fn heartbeat(sources: &OutcomeSources, stopped: bool) -> Result<(), sqlx::Error> {
    let s = crate::events::snapshot();
    sqlx::query(
        "INSERT INTO indexer_heartbeats (instance, group_id, paused_since, last_indexed_at, lag, stopped_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, now())
         ON CONFLICT (instance) DO UPDATE SET group_id = EXCLUDED.group_id,
           paused_since = EXCLUDED.paused_since, last_indexed_at = EXCLUDED.last_indexed_at,
           lag = EXCLUDED.lag, stopped_at = EXCLUDED.stopped_at, updated_at = now()",
    )
    .bind(sources.instance())
    .bind(&sources.indexer.group_id)
    .bind(s.paused_since)
    .bind(s.last_indexed)
    .bind(s.lag)
    .bind(stopped)
    .execute(&sources.pool)
    .await?;
    // Rows of processes long gone (each local run is its own host:pid).
    sqlx::query("DELETE FROM indexer_heartbeats WHERE updated_at < now() - interval '7 days'")
        .execute(&sources.pool)
        .await?;
    Ok(())
}

/// The DLQ is read to its end for its pending count: every this many
/// refreshes, not every one.
const DLQ_EVERY: u64 = 10;

/// Refreshes the gauges every `interval` until `shutdown`.
pub async fn run(sources: OutcomeSources, interval: Duration, shutdown: CancellationToken) {
    let _ = metrics();
    for round in 0.. {
        if let Err(err) = refresh(&sources, round % DLQ_EVERY == 0).await {
            tracing::warn!(error = %err, "refreshing outcome metrics failed; retried next interval");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("PostgreSQL: {0}")]
    Db(#[from] sqlx::Error),
    #[error("Kafka: {0}")]
    Kafka(#[from] kafka::KafkaError),
    #[error("dead-letter topic: {0}")]
    Dlq(#[from] dlq::DlqError),
    #[error("background task failed: {0}")]
    Task(String),
}

/// One refresh of the outcome series (`with_dlq`: the DLQ's too).
pub async fn refresh(sources: &OutcomeSources, with_dlq: bool) -> Result<(), RefreshError> {
    heartbeat(sources, false).await?;
    connectors(&sources.pool).await?;
    corpus(&sources.pool).await?;
    dispatcher(&sources.pool).await?;
    let kafka_cfg = sources.kafka.clone();
    let group = sources.indexer.group_id.clone();
    let backlog = tokio::task::spawn_blocking(move || unindexed(&kafka_cfg, &group))
        .await
        .map_err(|e| RefreshError::Task(e.to_string()))??;
    metrics().unindexed.set(backlog);
    if !with_dlq {
        return Ok(());
    }
    let resolved = Resolved::new(sources.pool.clone());
    let pending = dlq::pending(&sources.kafka, &sources.indexer.redrive_group(), &resolved).await?;
    let stats = dlq::stats(&pending, chrono::Utc::now());
    let m = metrics();
    m.dlq_pending.clear();
    for (class, n) in stats.by_class {
        m.dlq_pending
            .get_or_create(&Class { class })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    Ok(())
}

fn seconds(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

async fn connectors(pool: &PgPool) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.connector_id, s.docs_produced, s.watermark,
                (SELECT coalesce(sum(fetched), 0)::BIGINT FROM connector_runs r WHERE r.connector_id = s.connector_id) AS fetched,
                (SELECT coalesce(sum(unchanged), 0)::BIGINT FROM connector_runs r WHERE r.connector_id = s.connector_id) AS unchanged,
                (SELECT coalesce(sum(tombstoned), 0)::BIGINT FROM connector_runs r WHERE r.connector_id = s.connector_id) AS tombstoned,
                (SELECT r.duration_seconds FROM connector_runs r
                  WHERE r.connector_id = s.connector_id AND r.duration_seconds IS NOT NULL
                  ORDER BY r.run_id DESC LIMIT 1) AS last_duration,
                (SELECT max(finished_at) FROM connector_runs r
                  WHERE r.connector_id = s.connector_id AND r.status = 'succeeded') AS last_success,
                (SELECT r.finished_at FROM connector_runs r
                  WHERE r.connector_id = s.connector_id ORDER BY r.run_id DESC LIMIT 1) AS last_run,
                (SELECT r.status FROM connector_runs r
                  WHERE r.connector_id = s.connector_id ORDER BY r.run_id DESC LIMIT 1) AS last_status
         FROM connector_sync_state s",
    )
    .fetch_all(pool)
    .await?;
    let m = metrics();
    for r in rows {
        let label = Connector {
            connector: r.try_get("connector_id")?,
        };
        if let Some(t) = r.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("last_success")? {
            m.last_success.get_or_create(&label).set(seconds(t));
        }
        if let Some(t) = r.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("last_run")? {
            m.last_run.get_or_create(&label).set(seconds(t));
        }
        if let Some(status) = r.try_get::<Option<String>, _>("last_status")? {
            m.last_run_success
                .get_or_create(&label)
                .set(i64::from(status == "succeeded"));
        }
        for outcome in ["fetched", "unchanged", "tombstoned"] {
            let total = u64::try_from(r.try_get::<i64, _>(outcome)?).unwrap_or(0);
            let counter = m.items.get_or_create(&ConnectorItems {
                connector: label.connector.clone(),
                outcome: outcome.into(),
            });
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        if let Some(d) = r.try_get::<Option<f64>, _>("last_duration")? {
            m.last_duration.get_or_create(&label).set(d);
        }
        if let Some(w) = r.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("watermark")? {
            let age = (chrono::Utc::now() - w).num_milliseconds() as f64 / 1000.0;
            m.watermark_age.get_or_create(&label).set(age.max(0.0));
        }
        let produced: i64 = r.try_get("docs_produced")?;
        let counter = m.published.get_or_create(&label);
        let produced = u64::try_from(produced).unwrap_or(0);
        // A counter only grows: add what the database gained since.
        counter.inc_by(produced.saturating_sub(counter.get()));
    }
    Ok(())
}

async fn corpus(pool: &PgPool) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT source_kind, count(*) AS live FROM documents WHERE NOT deleted GROUP BY source_kind",
    )
    .fetch_all(pool)
    .await?;
    let m = metrics();
    m.corpus.clear();
    for r in rows {
        m.corpus
            .get_or_create(&Source {
                source: r.try_get("source_kind")?,
            })
            .set(r.try_get("live")?);
    }
    Ok(())
}

async fn dispatcher(pool: &PgPool) -> Result<(), sqlx::Error> {
    // The dispatcher's history, where its migration has been applied.
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('dispatch_runs') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(());
    }
    let row = sqlx::query(
        "SELECT
           (SELECT max(finished_at) FROM dispatch_runs WHERE finished_at IS NOT NULL) AS last_run,
           (SELECT max(finished_at) FROM dispatch_runs WHERE result IN ('published', 'unchanged')) AS last_success,
           (SELECT result FROM dispatch_runs WHERE finished_at IS NOT NULL ORDER BY run_id DESC LIMIT 1) AS last_result,
           (SELECT communities FROM dispatch_runs WHERE finished_at IS NOT NULL ORDER BY run_id DESC LIMIT 1) AS communities,
           (SELECT coalesce(sum(work_items), 0)::BIGINT FROM dispatch_runs) AS work_items",
    )
    .fetch_one(pool)
    .await?;
    let m = metrics();
    if let Some(t) = row.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("last_run")? {
        m.dispatch_last_run.set(seconds(t));
    }
    if let Some(t) = row.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("last_success")? {
        m.dispatch_last_success.set(seconds(t));
    }
    let last: Option<String> = row.try_get("last_result")?;
    m.dispatch_starving
        .set(i64::from(last.as_deref() == Some("starving")));
    if let Some(n) = row.try_get::<Option<i32>, _>("communities")? {
        m.dispatch_communities.set(i64::from(n));
    }
    let items = u64::try_from(row.try_get::<i64, _>("work_items")?).unwrap_or(0);
    m.dispatch_work_items
        .inc_by(items.saturating_sub(m.dispatch_work_items.get()));
    Ok(())
}

/// Messages on the documents topic past the group's committed offsets:
/// produced, not yet indexed (an indexer that never committed counts the
/// whole retained topic).
pub fn unindexed(cfg: &KafkaConfig, group: &str) -> Result<i64, kafka::KafkaError> {
    Ok(kafka::group_backlog(cfg, &cfg.topic, group)?.unconsumed)
}
