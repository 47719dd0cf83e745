//! Connector positions in PostgreSQL: the run record with its watermark, and
//! the per-item record of what was published and acknowledged.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    pub connector_id: String,
    pub kind: String,
    pub watermark: Option<DateTime<Utc>>,
    pub cursor: Value,
    pub last_run_status: Option<String>,
    pub last_run_error: Option<String>,
    pub docs_produced: i64,
}

/// The last acknowledged version of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemState {
    pub fingerprint: String,
    pub content_hash: String,
    pub deleted: bool,
}

/// One item to record after its message was acknowledged.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub doc_id: String,
    pub state: ItemState,
}

/// Item rows written by one statement of [`SyncStateStore::record_items`].
const RECORD_ROWS: usize = 5_000;

#[derive(Clone)]
pub struct SyncStateStore {
    pool: PgPool,
}

impl SyncStateStore {
    pub fn new(pool: PgPool) -> Self {
        SyncStateStore { pool }
    }

    /// Marks a run as started (creating the connector's row on first use)
    /// and returns the state it resumes from.
    pub async fn begin_run(
        &self,
        connector_id: &str,
        kind: &str,
    ) -> Result<SyncState, sqlx::Error> {
        sqlx::query(
            "INSERT INTO connector_sync_state (connector_id, kind, last_run_started_at, last_run_status)
             VALUES ($1, $2, now(), 'running')
             ON CONFLICT (connector_id) DO UPDATE
               SET last_run_started_at = now(), last_run_status = 'running', last_run_error = NULL",
        )
        .bind(connector_id)
        .bind(kind)
        .execute(&self.pool)
        .await?;
        self.get(connector_id)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn get(&self, connector_id: &str) -> Result<Option<SyncState>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT connector_id, kind, watermark, cursor, last_run_status, last_run_error, docs_produced
             FROM connector_sync_state WHERE connector_id = $1",
        )
        .bind(connector_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SyncState {
                connector_id: r.try_get("connector_id")?,
                kind: r.try_get("kind")?,
                watermark: r.try_get("watermark")?,
                cursor: r.try_get("cursor")?,
                last_run_status: r.try_get("last_run_status")?,
                last_run_error: r.try_get("last_run_error")?,
                docs_produced: r.try_get("docs_produced")?,
            })
        })
        .transpose()
    }

    pub async fn items(
        &self,
        connector_id: &str,
    ) -> Result<HashMap<String, ItemState>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT doc_id, fingerprint, content_hash, deleted FROM connector_items WHERE connector_id = $1",
        )
        .bind(connector_id)
        .fetch_all(&self.pool)
        .await?;
        item_map(rows)
    }

    /// The recorded items among `doc_ids` (a run that looks at a few items,
    /// like a watched vault's edit, need not load them all).
    pub async fn items_for(
        &self,
        connector_id: &str,
        doc_ids: &[String],
    ) -> Result<HashMap<String, ItemState>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT doc_id, fingerprint, content_hash, deleted FROM connector_items
             WHERE connector_id = $1 AND doc_id = ANY($2)",
        )
        .bind(connector_id)
        .bind(doc_ids)
        .fetch_all(&self.pool)
        .await?;
        item_map(rows)
    }

    /// Records items whose messages Kafka acknowledged (or that needed no
    /// message, like a touched-but-unchanged file), in one transaction.
    /// Rows travel as arrays, [`RECORD_ROWS`] to a statement: a first sync
    /// of a large vault records every note, and a round trip per row was
    /// most of its PostgreSQL time.
    pub async fn record_items(
        &self,
        connector_id: &str,
        items: &[ItemRecord],
    ) -> Result<(), sqlx::Error> {
        // One statement cannot upsert a row twice: the last record of an id wins,
        // as it would written one by one.
        let items = tributary_core::db::last_per_key(items, |i| i.doc_id.as_str());
        let mut tx = self.pool.begin().await?;
        for rows in items.chunks(RECORD_ROWS) {
            let doc_ids: Vec<&str> = rows.iter().map(|i| i.doc_id.as_str()).collect();
            let fingerprints: Vec<&str> =
                rows.iter().map(|i| i.state.fingerprint.as_str()).collect();
            let hashes: Vec<&str> = rows.iter().map(|i| i.state.content_hash.as_str()).collect();
            let deleted: Vec<bool> = rows.iter().map(|i| i.state.deleted).collect();
            sqlx::query(
                "INSERT INTO connector_items (connector_id, doc_id, fingerprint, content_hash, deleted, published_at)
                 SELECT $1, t.doc_id, t.fingerprint, t.content_hash, t.deleted, now()
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bool[])
                   AS t(doc_id, fingerprint, content_hash, deleted)
                 ON CONFLICT (connector_id, doc_id) DO UPDATE
                   SET fingerprint = EXCLUDED.fingerprint, content_hash = EXCLUDED.content_hash,
                       deleted = EXCLUDED.deleted, published_at = now()",
            )
            .bind(connector_id)
            .bind(&doc_ids)
            .bind(&fingerprints)
            .bind(&hashes)
            .bind(&deleted)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Closes a successful run: the watermark moves, the counters add up.
    pub async fn finish_run(
        &self,
        connector_id: &str,
        watermark: Option<DateTime<Utc>>,
        cursor: &Value,
        docs: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE connector_sync_state
             SET watermark = GREATEST(watermark, $2), cursor = $3, last_run_finished_at = now(),
                 last_run_status = 'succeeded', last_run_error = NULL,
                 docs_produced = docs_produced + $4, last_run_docs = $4
             WHERE connector_id = $1",
        )
        .bind(connector_id)
        .bind(watermark)
        .bind(cursor)
        .bind(docs)
        .execute(&self.pool)
        .await?;
        self.record_run(connector_id, "succeeded", None, docs).await
    }

    /// Adds the run's summary (items fetched, unchanged, tombstoned, its
    /// duration) to the run `finish_run`/`fail_run` recorded last.
    pub async fn record_run_summary(
        &self,
        summary: &crate::summary::SyncSummary,
    ) -> Result<(), sqlx::Error> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE connector_runs SET fetched = $2, unchanged = $3, tombstoned = $4, duration_seconds = $5
             WHERE run_id = (SELECT max(run_id) FROM connector_runs WHERE connector_id = $1)",
        )
        .bind(&summary.connector_id)
        .bind(count(summary.scanned))
        .bind(count(summary.unchanged))
        .bind(count(summary.tombstones))
        .bind(summary.duration.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Appends the run to `connector_runs`, the history alerts read.
    async fn record_run(
        &self,
        connector_id: &str,
        status: &str,
        error: Option<&str>,
        docs: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO connector_runs (connector_id, started_at, status, published, error)
             SELECT connector_id, last_run_started_at, $2, $3, $4
             FROM connector_sync_state WHERE connector_id = $1",
        )
        .bind(connector_id)
        .bind(status)
        .bind(docs)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a run that [`finish_run`](Self::finish_run) closed as failed after
    /// all: some of its parts (e.g. one Confluence space) did not succeed,
    /// while the positions of those that did were saved.
    pub async fn mark_failed(&self, connector_id: &str, error: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE connector_sync_state SET last_run_status = 'failed', last_run_error = $2
             WHERE connector_id = $1",
        )
        .bind(connector_id)
        .bind(error)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE connector_runs SET status = 'failed', error = $2
             WHERE run_id = (SELECT max(run_id) FROM connector_runs WHERE connector_id = $1)",
        )
        .bind(connector_id)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Closes a failed run. The watermark is left exactly where it was.
    pub async fn fail_run(
        &self,
        connector_id: &str,
        error: &str,
        docs: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE connector_sync_state
             SET last_run_finished_at = now(), last_run_status = 'failed', last_run_error = $2,
                 docs_produced = docs_produced + $3, last_run_docs = $3
             WHERE connector_id = $1",
        )
        .bind(connector_id)
        .bind(error)
        .bind(docs)
        .execute(&self.pool)
        .await?;
        self.record_run(connector_id, "failed", Some(error), docs)
            .await
    }
}

fn item_map(rows: Vec<sqlx::postgres::PgRow>) -> Result<HashMap<String, ItemState>, sqlx::Error> {
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        out.insert(
            r.try_get("doc_id")?,
            ItemState {
                fingerprint: r.try_get("fingerprint")?,
                content_hash: r.try_get("content_hash")?,
                deleted: r.try_get("deleted")?,
            },
        );
    }
    Ok(out)
}
