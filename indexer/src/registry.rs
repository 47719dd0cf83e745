//! The `documents` registry: what the indexer has indexed, per document.
//! Lets it skip re-embedding unchanged content and tells the dispatcher and
//! `tributary status` what the corpus holds.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
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

    /// Records documents whose points are durable in the store, in one
    /// statement (rows as arrays): a round trip per document was most of a
    /// batch's PostgreSQL time.
    pub async fn record(&self, docs: &[(&Document, usize)]) -> Result<(), sqlx::Error> {
        // One statement cannot upsert a row twice: the last version of an id
        // wins, as it would written one by one.
        let docs = tributary_core::db::last_per_key(docs, |(doc, _)| doc.id.as_str());
        if docs.is_empty() {
            return Ok(());
        }
        let mut rows = RegistryRows::with_capacity(docs.len());
        for (doc, chunks) in docs {
            rows.push(doc, *chunks);
        }
        sqlx::query(
            "INSERT INTO documents (doc_id, source_kind, source_instance, title, url, content_hash,
                                    chunk_count, deleted, updated_at, indexed_at, links, metadata)
             SELECT t.doc_id, t.source_kind, t.source_instance, t.title, t.url, t.content_hash,
                    t.chunk_count, t.deleted, t.updated_at, now(), t.links, t.metadata
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::int4[], $8::bool[], $9::timestamptz[], $10::jsonb[], $11::jsonb[])
               AS t(doc_id, source_kind, source_instance, title, url, content_hash,
                    chunk_count, deleted, updated_at, links, metadata)
             ON CONFLICT (doc_id) DO UPDATE SET
               source_kind = EXCLUDED.source_kind, source_instance = EXCLUDED.source_instance,
               title = EXCLUDED.title, url = EXCLUDED.url, content_hash = EXCLUDED.content_hash,
               chunk_count = EXCLUDED.chunk_count, deleted = EXCLUDED.deleted,
               updated_at = EXCLUDED.updated_at, indexed_at = now(), links = EXCLUDED.links,
               metadata = EXCLUDED.metadata",
        )
        .bind(&rows.doc_id)
        .bind(&rows.source_kind)
        .bind(&rows.source_instance)
        .bind(&rows.title)
        .bind(&rows.url)
        .bind(&rows.content_hash)
        .bind(&rows.chunk_count)
        .bind(&rows.deleted)
        .bind(&rows.updated_at)
        .bind(&rows.links)
        .bind(&rows.metadata)
        .execute(&self.pool)
        .await?;
        Ok(())
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

/// The `documents` rows of one [`Registry::record`], column by column.
struct RegistryRows<'a> {
    doc_id: Vec<&'a str>,
    source_kind: Vec<&'a str>,
    source_instance: Vec<&'a str>,
    title: Vec<&'a str>,
    url: Vec<Option<&'a str>>,
    content_hash: Vec<&'a str>,
    chunk_count: Vec<i32>,
    deleted: Vec<bool>,
    updated_at: Vec<DateTime<Utc>>,
    links: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
}

impl<'a> RegistryRows<'a> {
    fn with_capacity(n: usize) -> Self {
        RegistryRows {
            doc_id: Vec::with_capacity(n),
            source_kind: Vec::with_capacity(n),
            source_instance: Vec::with_capacity(n),
            title: Vec::with_capacity(n),
            url: Vec::with_capacity(n),
            content_hash: Vec::with_capacity(n),
            chunk_count: Vec::with_capacity(n),
            deleted: Vec::with_capacity(n),
            updated_at: Vec::with_capacity(n),
            links: Vec::with_capacity(n),
            metadata: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, doc: &'a Document, chunks: usize) {
        self.doc_id.push(&doc.id);
        self.source_kind.push(&doc.source.kind);
        self.source_instance.push(&doc.source.instance);
        self.title.push(&doc.title);
        self.url.push(doc.url.as_deref());
        self.content_hash.push(&doc.content_hash);
        self.chunk_count
            .push(i32::try_from(chunks).unwrap_or(i32::MAX));
        self.deleted.push(doc.deleted);
        self.updated_at.push(doc.updated_at);
        self.links
            .push(serde_json::to_value(&doc.links).unwrap_or_default());
        // What the dispatcher resolves links by (aliases, keys, spaces).
        self.metadata
            .push(serde_json::Value::Object(doc.metadata.clone()));
    }
}
