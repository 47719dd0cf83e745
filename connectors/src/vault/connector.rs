//! One vault sync run: find what changed since the last acknowledged run,
//! publish it (plus tombstones for deleted notes), record only what Kafka
//! acknowledged, and move the watermark only if everything was.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::json;
use tributary_core::config::KafkaConfig;
use tributary_core::{Document, SourceRef};

use super::document::{note_document, NoteDocument};
use super::scan::{scan, ScanError};
use super::skip::{self, SkipReason};
use crate::publish::{publish_and_record, Incomplete, PublishError, Publisher};
use crate::state::{ItemRecord, ItemState, SyncStateStore};
use crate::summary::SyncSummary;

pub const KIND: &str = "vault";

#[derive(Debug, Clone)]
pub struct VaultSyncOptions {
    pub root: PathBuf,
    /// Part of every document id; lets several vaults share one topic.
    pub instance: String,
    /// Report what would be published; publish and record nothing.
    pub dry_run: bool,
    /// Largest document a note becomes, in bytes of JSON; a bigger note's
    /// body is truncated to fit (see `cap`).
    pub max_note_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultSyncError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("connector state in PostgreSQL: {0}")]
    State(#[from] sqlx::Error),
    #[error(transparent)]
    Incomplete(#[from] Incomplete),
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Runs one sync. On any error the run is recorded as failed and the
/// watermark stays where it was.
pub async fn sync(
    opts: &VaultSyncOptions,
    kafka: &KafkaConfig,
    store: &SyncStateStore,
) -> Result<SyncSummary, VaultSyncError> {
    let started = Instant::now();
    let connector_id = format!("{KIND}:{}", opts.instance);
    let mut summary = SyncSummary {
        connector_id: connector_id.clone(),
        dry_run: opts.dry_run,
        ..SyncSummary::default()
    };
    if opts.dry_run {
        run(opts, kafka, store, &connector_id, &mut summary).await?;
    } else {
        store.begin_run(&connector_id, KIND).await?;
        if let Err(err) = run(opts, kafka, store, &connector_id, &mut summary).await {
            store
                .fail_run(&connector_id, &err.to_string(), summary.published as i64)
                .await?;
            return Err(err);
        }
    }
    summary.duration = started.elapsed();
    Ok(summary)
}

async fn run(
    opts: &VaultSyncOptions,
    kafka: &KafkaConfig,
    store: &SyncStateStore,
    connector_id: &str,
    summary: &mut SyncSummary,
) -> Result<(), VaultSyncError> {
    // Connect first: a dead broker is reported before any work is done.
    let publisher = if opts.dry_run {
        None
    } else {
        Some(Publisher::connect(kafka)?)
    };
    let root = opts.root.clone();
    let scanned = tokio::task::spawn_blocking(move || scan(&root)).await??;
    summary.scanned = scanned.files.len() as u64;
    summary.skipped = scanned.skipped.len() as u64;
    let previous = store.items(connector_id).await?;

    let source = SourceRef {
        kind: KIND.into(),
        instance: opts.instance.clone(),
    };
    let mut seen = HashSet::with_capacity(scanned.files.len());
    let mut to_publish: Vec<(Document, ItemRecord, ())> = Vec::new();
    let mut touched: Vec<ItemRecord> = Vec::new();
    for file in &scanned.files {
        let doc_id = Document::make_id(KIND, &opts.instance, &file.rel_path);
        seen.insert(doc_id.clone());
        let prev = previous.get(&doc_id).filter(|p| !p.deleted);
        if prev.is_some_and(|p| p.fingerprint == file.fingerprint()) {
            summary.unchanged += 1;
            continue;
        }
        let bytes = match tokio::fs::read(&file.abs_path).await {
            Ok(b) => b,
            Err(err) => {
                let reason = SkipReason::Unreadable {
                    error: err.to_string(),
                };
                skip::log(&file.rel_path, &reason);
                summary.skipped += 1;
                continue;
            }
        };
        let doc = match note_document(&source, doc_id.clone(), file, &bytes, opts.max_note_bytes)? {
            NoteDocument::Publish(doc) => *doc,
            NoteDocument::Skip(reason) => {
                skip::log(&file.rel_path, &reason);
                summary.skipped += 1;
                continue;
            }
        };
        let record = ItemRecord {
            doc_id,
            state: ItemState {
                fingerprint: file.fingerprint(),
                content_hash: doc.content_hash.clone(),
                deleted: false,
            },
        };
        if prev.is_some_and(|p| p.content_hash == doc.content_hash) {
            // Touched but identical: remember the new mtime, publish nothing.
            summary.unchanged += 1;
            touched.push(record);
        } else {
            to_publish.push((doc, record, ()));
        }
    }
    let now = Utc::now();
    for (doc_id, _) in previous
        .iter()
        .filter(|(id, p)| !p.deleted && !seen.contains(*id))
    {
        let doc = Document::tombstone(doc_id.clone(), source.clone(), now);
        let record = ItemRecord {
            doc_id: doc_id.clone(),
            state: ItemState {
                fingerprint: String::new(),
                content_hash: doc.content_hash.clone(),
                deleted: true,
            },
        };
        summary.tombstones += 1;
        to_publish.push((doc, record, ()));
    }

    if publisher.is_none() {
        // Dry run: report what would be published.
        summary.published = to_publish.len() as u64;
        return Ok(());
    }
    let acked = publish_and_record::<VaultSyncError, ()>(
        publisher.as_ref(),
        store,
        connector_id,
        summary,
        &to_publish,
        touched,
    )
    .await?;
    let watermark: Option<DateTime<Utc>> = acked.iter().map(|&i| to_publish[i].0.updated_at).max();
    let cursor = json!({ "files": summary.scanned });
    store
        .finish_run(connector_id, watermark, &cursor, summary.published as i64)
        .await?;
    Ok(())
}
