//! Reads the facts `status` judges: Kafka, the schema, connector runs,
//! indexer heartbeats and backlog, the DLQ, dispatcher runs, the corpus.
//! Every failure to read becomes a fact too (`Err(why)`), never a crash.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use tributary_core::{db, kafka, schema, Config};
use tributary_indexer::dlq::{self, Resolved};
use tributary_indexer::outcomes;

use super::verdict::{ConnectorFacts, DispatcherFacts, Facts, IndexerFacts};

pub async fn facts(config: &Config) -> Facts {
    let now = Utc::now();
    let kafka = match kafka::check_topic(&config.kafka, &config.kafka.topic) {
        Ok(partitions) => Ok(format!(
            "topic {} has {partitions} partitions",
            config.kafka.topic
        )),
        Err(err) => Err(err.to_string()),
    };
    let mut facts = Facts {
        now,
        kafka,
        database: Ok(()),
        connectors: Vec::new(),
        indexers: Vec::new(),
        backlog: Err("not read".into()),
        dlq_pending: Err("not read".into()),
        dispatcher: None,
        corpus: BTreeMap::new(),
        deleted: 0,
    };
    let pool = match db::connect(&config.database).await {
        Ok(pool) => pool,
        Err(err) => {
            facts.database = Err(err.to_string());
            return facts;
        }
    };
    if let Err(err) = schema::ensure_current(&pool).await {
        facts.database = Err(err.to_string());
        return facts;
    }
    if let Err(err) = from_database(&pool, config, &mut facts).await {
        facts.database = Err(format!("reading state: {err}"));
        return facts;
    }
    let kafka_cfg = config.kafka.clone();
    let group = config.indexer.group_id.clone();
    facts.backlog =
        match tokio::task::spawn_blocking(move || outcomes::unindexed(&kafka_cfg, &group)).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(err)) => Err(err.to_string()),
            Err(err) => Err(err.to_string()),
        };
    let resolved = Resolved::new(pool);
    facts.dlq_pending =
        match dlq::pending(&config.kafka, &config.indexer.redrive_group(), &resolved).await {
            Ok(pending) => Ok(dlq::stats(&pending, now).by_class),
            Err(err) => Err(err.to_string()),
        };
    facts
}

async fn from_database(
    pool: &PgPool,
    config: &Config,
    facts: &mut Facts,
) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.connector_id, s.last_run_status, s.last_run_finished_at, s.watermark,
                s.docs_produced, s.last_run_docs, s.last_run_error,
                (SELECT max(finished_at) FROM connector_runs r
                  WHERE r.connector_id = s.connector_id AND r.status = 'succeeded') AS last_success_at
         FROM connector_sync_state s ORDER BY s.connector_id",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        facts.connectors.push(ConnectorFacts {
            connector_id: r.try_get("connector_id")?,
            last_run_status: r.try_get("last_run_status")?,
            last_run_finished_at: r.try_get("last_run_finished_at")?,
            last_success_at: r.try_get("last_success_at")?,
            watermark: r.try_get("watermark")?,
            docs_produced: r.try_get("docs_produced")?,
            last_run_docs: r.try_get("last_run_docs")?,
            last_run_error: r.try_get("last_run_error")?,
        });
    }
    let rows = sqlx::query(
        "SELECT instance, paused_since, last_indexed_at, lag, stopped_at, updated_at
         FROM indexer_heartbeats WHERE group_id = $1 ORDER BY instance",
    )
    .bind(&config.indexer.group_id)
    .fetch_all(pool)
    .await?;
    for r in rows {
        facts.indexers.push(IndexerFacts {
            instance: r.try_get("instance")?,
            paused_since: r.try_get("paused_since")?,
            last_indexed_at: r.try_get("last_indexed_at")?,
            lag: r.try_get("lag")?,
            stopped_at: r.try_get("stopped_at")?,
            updated_at: r.try_get("updated_at")?,
        });
    }
    let rows = sqlx::query(
        "SELECT source_kind, count(*) FILTER (WHERE NOT deleted) AS live,
                count(*) FILTER (WHERE deleted) AS gone
         FROM documents GROUP BY source_kind ORDER BY source_kind",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let live: i64 = r.try_get("live")?;
        facts.deleted += r.try_get::<i64, _>("gone")?;
        if live > 0 {
            facts.corpus.insert(r.try_get("source_kind")?, live);
        }
    }
    facts.dispatcher = dispatcher(pool).await?;
    Ok(())
}

async fn dispatcher(pool: &PgPool) -> Result<Option<DispatcherFacts>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('dispatch_runs') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(None);
    }
    let last = sqlx::query(
        "SELECT result, finished_at, message, communities FROM dispatch_runs
         WHERE finished_at IS NOT NULL ORDER BY run_id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    let Some(last) = last else {
        return Ok(None);
    };
    let totals = sqlx::query(
        "SELECT max(finished_at) FILTER (WHERE result IN ('published', 'unchanged')) AS last_success,
                coalesce(sum(work_items), 0)::BIGINT AS work_items
         FROM dispatch_runs",
    )
    .fetch_one(pool)
    .await?;
    Ok(Some(DispatcherFacts {
        last_result: last.try_get("result")?,
        last_finished_at: last.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
        last_success_at: totals.try_get("last_success")?,
        last_message: last.try_get("message")?,
        communities: last.try_get("communities")?,
        work_items_total: totals.try_get("work_items")?,
    }))
}
