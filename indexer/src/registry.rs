//! The `documents` registry: what the indexer has indexed, per document.
//! Lets it skip re-embedding unchanged content and tells the dispatcher and
//! `tributary status` what the corpus holds.

use std::collections::HashMap;

use sqlx::{PgPool, Row};
use tributary_core::Document;

/// Why the registry cannot take the indexer's writes right now.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Unreachable, or the table is missing (`tributary migrate`).
    #[error("{0}")]
    Query(#[from] sqlx::Error),
    #[error(
        "the database role cannot write the documents registry ({0}): grant INSERT and UPDATE \
         on the documents table, or point DATABASE_URL at the primary"
    )]
    NotWritable(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    pub content_hash: String,
    pub chunk_count: i32,
    pub deleted: bool,
}

#[derive(Clone)]
pub struct Registry {
    pool: PgPool,
}

impl Registry {
    pub fn new(pool: PgPool) -> Self {
        Registry { pool }
    }

    pub async fn lookup(
        &self,
        doc_ids: &[String],
    ) -> Result<HashMap<String, Indexed>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT doc_id, content_hash, chunk_count, deleted FROM documents WHERE doc_id = ANY($1)",
        )
        .bind(doc_ids)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            out.insert(
                r.try_get("doc_id")?,
                Indexed {
                    content_hash: r.try_get("content_hash")?,
                    chunk_count: r.try_get("chunk_count")?,
                    deleted: r.try_get("deleted")?,
                },
            );
        }
        Ok(out)
    }

    /// Records documents whose points are durable in the store.
    pub async fn record(&self, docs: &[(&Document, usize)]) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for (doc, chunks) in docs {
            let links = serde_json::to_value(&doc.links).unwrap_or_default();
            // What the dispatcher resolves links by (aliases, keys, spaces).
            let metadata = serde_json::Value::Object(doc.metadata.clone());
            sqlx::query(
                "INSERT INTO documents (doc_id, source_kind, source_instance, title, url, content_hash,
                                        chunk_count, deleted, updated_at, indexed_at, links, metadata)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10, $11)
                 ON CONFLICT (doc_id) DO UPDATE SET
                   source_kind = EXCLUDED.source_kind, source_instance = EXCLUDED.source_instance,
                   title = EXCLUDED.title, url = EXCLUDED.url, content_hash = EXCLUDED.content_hash,
                   chunk_count = EXCLUDED.chunk_count, deleted = EXCLUDED.deleted,
                   updated_at = EXCLUDED.updated_at, indexed_at = now(), links = EXCLUDED.links,
                   metadata = EXCLUDED.metadata",
            )
            .bind(&doc.id)
            .bind(&doc.source.kind)
            .bind(&doc.source.instance)
            .bind(&doc.title)
            .bind(&doc.url)
            .bind(&doc.content_hash)
            .bind(i32::try_from(*chunks).unwrap_or(i32::MAX))
            .bind(doc.deleted)
            .bind(doc.updated_at)
            .bind(links)
            .bind(metadata)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Health probe: what a batch needs from PostgreSQL, not just a
    /// connection. The registry table exists (a missing one fails with
    /// `undefined_table`), this role may write it, and the session is not
    /// read-only (a standby, or `default_transaction_read_only`).
    pub async fn probe(&self) -> Result<(), ProbeError> {
        let row = sqlx::query(
            "SELECT has_table_privilege('documents', 'INSERT') AND has_table_privilege('documents', 'UPDATE') AS writable,
                    current_setting('transaction_read_only') = 'on' AS read_only",
        )
        .fetch_one(&self.pool)
        .await?;
        if !row.try_get::<bool, _>("writable")? {
            return Err(ProbeError::NotWritable("no INSERT/UPDATE privilege"));
        }
        if row.try_get::<bool, _>("read_only")? {
            return Err(ProbeError::NotWritable("read-only transaction"));
        }
        Ok(())
    }
}
