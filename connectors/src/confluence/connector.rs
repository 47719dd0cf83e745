//! One Confluence sync run.
//!
//! Spaces are synced one after another, each with its own watermark (kept
//! in the cursor JSON): a space that fails (403, 404, an outage) keeps its
//! watermark while the others move on. Within a space: the first run (or
//! `--full`) lists every current page and blog post; later runs search
//! `lastmodified >= "<watermark − overlap>"`, and skip pages whose version
//! (the item fingerprint) is already recorded, so the overlap costs
//! requests, not messages. Each page of results is published and its
//! acknowledged items recorded before the next is fetched. Deletions come
//! from a periodic slim listing of every page id.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tributary_core::config::KafkaConfig;
use tributary_core::{Document, SourceRef};

use super::api::{ApiError, ConfluenceApi, Space};
use super::cql;
use super::model::RawPage;
use super::options::ConfluenceSyncOptions;
use super::page::Renderer;
use super::report::{ConfluenceProgress, ConfluenceSyncReport, SpaceFailure};
use crate::atlassian::{AtlassianClient, AtlassianError};
use crate::jira::JqlZone;
use crate::publish::{publish_and_record, Incomplete, PublishError, Publisher};
use crate::state::{ItemRecord, ItemState, SyncStateStore};

pub const KIND: &str = "confluence";

#[derive(Debug, thiserror::Error)]
pub enum ConfluenceSyncError {
    #[error(transparent)]
    Http(#[from] AtlassianError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("connector state in PostgreSQL: {0}")]
    State(#[from] sqlx::Error),
    #[error(transparent)]
    Incomplete(#[from] Incomplete),
    #[error("{} of {} Confluence spaces failed ({}); the others were synced and their watermarks moved",
            report.failures.len(), total,
            report.failures.iter().map(|f| format!("{}: {}", f.space, f.error)).collect::<Vec<_>>().join("; "))]
    Spaces {
        total: usize,
        report: Box<ConfluenceSyncReport>,
    },
}

/// Connector-specific state kept in `connector_sync_state.cursor`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// Successful runs so far (drives the prune cadence).
    runs: u64,
    /// `runs` at the last prune.
    last_prune_run: u64,
    last_prune_at: Option<DateTime<Utc>>,
    /// Per space key: the max acknowledged `lastmodified`.
    spaces: BTreeMap<String, SpaceCursor>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
struct SpaceCursor {
    watermark: Option<DateTime<Utc>>,
}

/// Runs one sync. A failure of the whole run (Kafka, PostgreSQL) is recorded
/// and leaves every watermark where it was; a failure of some spaces is
/// recorded too, after the good spaces' positions were saved.
pub async fn sync(
    opts: &ConfluenceSyncOptions,
    kafka: &KafkaConfig,
    store: &SyncStateStore,
    progress: &(dyn Fn(ConfluenceProgress) + Send + Sync),
) -> Result<ConfluenceSyncReport, ConfluenceSyncError> {
    let started = Instant::now();
    let connector_id = format!("{KIND}:{}", opts.instance);
    let mut report = ConfluenceSyncReport::default();
    report.summary.connector_id = connector_id.clone();
    report.summary.dry_run = opts.dry_run;
    let client = AtlassianClient::new(opts.http.clone())?;
    let api = ConfluenceApi::new(client.clone(), opts.flavor);
    let renderer = Renderer {
        source: SourceRef {
            kind: KIND.into(),
            instance: opts.instance.clone(),
        },
        web_base: api.web_base(),
        max_page_bytes: opts.max_page_bytes,
    };
    if !opts.dry_run {
        store.begin_run(&connector_id, KIND).await?;
    }
    let mut run = Run {
        opts,
        store,
        connector_id: &connector_id,
        api,
        renderer,
        report: &mut report,
        progress,
    };
    let result = run.run(kafka).await;
    report.retries = client.retries();
    report.summary.duration = started.elapsed();
    if let Err(err) = result {
        if !opts.dry_run {
            store
                .fail_run(
                    &connector_id,
                    &err.to_string(),
                    report.summary.published as i64,
                )
                .await?;
        }
        return Err(err);
    }
    if !report.failures.is_empty() {
        let err = ConfluenceSyncError::Spaces {
            total: opts.spaces.len(),
            report: Box::new(report),
        };
        if !opts.dry_run {
            store.mark_failed(&connector_id, &err.to_string()).await?;
        }
        return Err(err);
    }
    Ok(report)
}

struct Run<'a> {
    opts: &'a ConfluenceSyncOptions,
    store: &'a SyncStateStore,
    connector_id: &'a str,
    api: ConfluenceApi,
    renderer: Renderer,
    report: &'a mut ConfluenceSyncReport,
    progress: &'a (dyn Fn(ConfluenceProgress) + Send + Sync),
}

/// Where a space's run stands.
struct SpaceRun {
    space: Space,
    watermark: Option<DateTime<Utc>>,
}

impl Run<'_> {
    async fn run(&mut self, kafka: &KafkaConfig) -> Result<(), ConfluenceSyncError> {
        // Connect first: a dead broker is reported before Confluence is asked anything.
        let publisher = if self.opts.dry_run {
            None
        } else {
            Some(Publisher::connect(kafka)?)
        };
        let state = self.store.get(self.connector_id).await?;
        let mut cursor: Cursor = state
            .as_ref()
            .and_then(|s| serde_json::from_value(s.cursor.clone()).ok())
            .unwrap_or_default();
        let zone = match self.opts.time_zone.as_deref() {
            Some(name) => JqlZone::named(name).unwrap_or_else(|| {
                tracing::warn!(
                    zone = name,
                    "unknown time zone; CQL dates will be written 12 h early"
                );
                JqlZone::Unknown
            }),
            None => JqlZone::Unknown,
        };
        let mut previous = self.store.items(self.connector_id).await?;

        for key in &self.opts.spaces {
            let old = cursor.spaces.get(key).and_then(|c| c.watermark);
            match self
                .sync_space(key, old, &zone, publisher.as_ref(), &mut previous)
                .await
            {
                Ok(watermark) => {
                    let watermark = watermark.max(old);
                    cursor.spaces.insert(key.clone(), SpaceCursor { watermark });
                    self.report.watermarks.insert(key.clone(), watermark);
                }
                Err(SpaceError::Api(err)) => {
                    let err = err.in_space(key);
                    tracing::error!(connector = self.connector_id, space = %key, error = %err, "space failed; its watermark stays");
                    self.report.failures.push(SpaceFailure {
                        space: key.clone(),
                        error: err.to_string(),
                    });
                    self.report.watermarks.insert(key.clone(), old);
                }
                Err(SpaceError::Fatal(err)) => return Err(err),
            }
        }

        let due = self.opts.prune
            || (self.opts.prune_every > 0
                && (cursor.runs + 1).saturating_sub(cursor.last_prune_run)
                    >= u64::from(self.opts.prune_every));
        if due && self.report.failures.is_empty() {
            match self.prune(publisher.as_ref(), &previous).await {
                Ok(()) => {
                    cursor.last_prune_run = cursor.runs + 1;
                    cursor.last_prune_at = Some(Utc::now());
                    self.report.pruned = true;
                }
                Err(SpaceError::Api(err)) => {
                    tracing::error!(connector = self.connector_id, error = %err, "listing for deletions failed; no tombstones this run");
                    self.report.failures.push(SpaceFailure {
                        space: "(listing)".into(),
                        error: err.to_string(),
                    });
                }
                Err(SpaceError::Fatal(err)) => return Err(err),
            }
        } else if due {
            tracing::warn!(
                connector = self.connector_id,
                "a space failed; deletions are not looked for this run"
            );
        }

        if self.opts.dry_run {
            return Ok(());
        }
        cursor.runs += 1;
        // The connector-wide watermark (for `status`) is the oldest space's.
        let overall = self
            .opts
            .spaces
            .iter()
            .map(|k| cursor.spaces.get(k).and_then(|c| c.watermark))
            .collect::<Option<Vec<_>>>()
            .and_then(|w| w.into_iter().min());
        let cursor = serde_json::to_value(&cursor).unwrap_or(Value::Null);
        self.store
            .finish_run(
                self.connector_id,
                overall,
                &cursor,
                self.report.summary.published as i64,
            )
            .await?;
        Ok(())
    }

    /// Syncs one space; returns the max acknowledged `lastmodified`.
    async fn sync_space(
        &mut self,
        key: &str,
        old: Option<DateTime<Utc>>,
        zone: &JqlZone,
        publisher: Option<&Publisher>,
        previous: &mut HashMap<String, ItemState>,
    ) -> Result<Option<DateTime<Utc>>, SpaceError> {
        let space = self.api.space(key).await?;
        let mut run = SpaceRun {
            space,
            watermark: None,
        };
        let since = match (self.opts.full, old) {
            (false, Some(w)) => {
                let overlap = chrono::Duration::from_std(self.opts.overlap)
                    .unwrap_or_else(|_| chrono::Duration::minutes(2));
                Some(w - overlap)
            }
            _ => None,
        };
        if let Some(since) = since {
            let cql = cql::incremental(key, self.opts.include_blogposts, since, zone);
            tracing::info!(connector = self.connector_id, space = key, %cql, "searching Confluence");
            let mut pager = self.api.search(&cql, self.opts.page_size);
            while let Some(batch) = pager.next_page().await? {
                self.process(&mut run, batch, publisher, previous).await?;
                self.report.requests += 1;
                self.tick();
            }
        } else {
            let mut kinds = vec!["page"];
            if self.opts.include_blogposts {
                kinds.push("blogpost");
            }
            for kind in kinds {
                tracing::info!(
                    connector = self.connector_id,
                    space = key,
                    kind,
                    "listing Confluence"
                );
                let mut pager = self
                    .api
                    .listing(&run.space, kind, true, self.opts.page_size);
                while let Some(mut batch) = pager.next_page().await? {
                    self.report.requests += 1;
                    self.api.enrich(&mut batch, self.opts.page_size).await?;
                    self.process(&mut run, batch, publisher, previous).await?;
                    self.tick();
                }
            }
        }
        Ok(run.watermark)
    }

    fn tick(&self) {
        (self.progress)(ConfluenceProgress {
            requests: self.report.requests,
            fetched: self.report.summary.scanned,
            published: self.report.summary.published,
        });
    }

    /// Renders, publishes and records one page of results.
    async fn process(
        &mut self,
        run: &mut SpaceRun,
        batch: Vec<RawPage>,
        publisher: Option<&Publisher>,
        previous: &mut HashMap<String, ItemState>,
    ) -> Result<(), SpaceError> {
        let mut to_publish: Vec<(Document, ItemRecord, DateTime<Utc>)> = Vec::new();
        let mut touched = Vec::new();
        for page in batch {
            if page.kind == "blogpost" && !self.opts.include_blogposts {
                continue;
            }
            let Some(when) = page.when else {
                tracing::warn!(page = %page.id, "Confluence page without a version date; skipped");
                self.report.summary.skipped += 1;
                continue;
            };
            self.report.summary.scanned += 1;
            let doc_id = self.renderer.doc_id(&page.id);
            let prev = previous.get(&doc_id).filter(|p| !p.deleted);
            if page.status != "current" {
                // Trashed, archived, draft: not indexed; gone if it was.
                if prev.is_some() {
                    let doc =
                        Document::tombstone(doc_id.clone(), self.renderer.source.clone(), when);
                    let record = tombstone_record(&doc);
                    to_publish.push((doc, record, when));
                } else {
                    self.report.summary.skipped += 1;
                    run.watermark = run.watermark.max(Some(when));
                }
                continue;
            }
            let fingerprint = page.fingerprint();
            if !self.opts.full && prev.is_some_and(|p| p.fingerprint == fingerprint) {
                self.report.summary.unchanged += 1;
                run.watermark = run.watermark.max(Some(when));
                continue;
            }
            let rendered = self.renderer.render(&page, &run.space, when);
            if rendered.truncated {
                self.report.truncated += 1;
                tracing::warn!(page = %page.id, cap = self.opts.max_page_bytes, "page over the size cap; truncated and flagged");
            }
            for (name, n) in rendered.unknown_macros {
                *self.report.unknown_macros.entry(name).or_default() += n;
            }
            let doc = rendered.doc;
            let record = ItemRecord {
                doc_id: doc.id.clone(),
                state: ItemState {
                    fingerprint,
                    content_hash: doc.content_hash.clone(),
                    deleted: false,
                },
            };
            if prev.is_some_and(|p| p.content_hash == doc.content_hash) {
                self.report.summary.unchanged += 1;
                run.watermark = run.watermark.max(Some(when));
                touched.push(record);
            } else {
                to_publish.push((doc, record, when));
            }
        }
        for record in &touched {
            previous.insert(record.doc_id.clone(), record.state.clone());
        }
        let acked = self.publish(publisher, &to_publish, touched).await?;
        for i in acked {
            let (doc, record, when) = &to_publish[i];
            if doc.deleted {
                self.report.summary.tombstones += 1;
            }
            run.watermark = run.watermark.max(Some(*when));
            previous.insert(record.doc_id.clone(), record.state.clone());
        }
        Ok(())
    }

    /// Publishes and records the batch (plus `touched`), counting it in the
    /// summary; returns the acknowledged indexes.
    async fn publish(
        &mut self,
        publisher: Option<&Publisher>,
        batch: &[(Document, ItemRecord, DateTime<Utc>)],
        touched: Vec<ItemRecord>,
    ) -> Result<Vec<usize>, ConfluenceSyncError> {
        publish_and_record(
            publisher,
            self.store,
            self.connector_id,
            &mut self.report.summary,
            batch,
            touched,
        )
        .await
    }

    /// Lists every current page id of every space and tombstones recorded
    /// pages that are not among them: deleted, trashed, archived, or moved
    /// out of the configured spaces.
    async fn prune(
        &mut self,
        publisher: Option<&Publisher>,
        previous: &HashMap<String, ItemState>,
    ) -> Result<(), SpaceError> {
        let mut alive = HashSet::new();
        let mut kinds = vec!["page"];
        if self.opts.include_blogposts {
            kinds.push("blogpost");
        }
        for key in &self.opts.spaces {
            let space = self.api.space(key).await.map_err(|e| e.in_space(key))?;
            for kind in &kinds {
                let mut pager = self
                    .api
                    .listing(&space, kind, false, self.opts.listing_page_size);
                while let Some(batch) = pager.next_page().await.map_err(|e| e.in_space(key))? {
                    self.report.requests += 1;
                    alive.extend(batch.iter().map(|p| self.renderer.doc_id(&p.id)));
                }
            }
        }
        let now = Utc::now();
        let mut gone: Vec<&String> = previous
            .iter()
            .filter(|(id, p)| !p.deleted && !alive.contains(*id))
            .map(|(id, _)| id)
            .collect();
        gone.sort();
        let batch: Vec<(Document, ItemRecord, DateTime<Utc>)> = gone
            .into_iter()
            .map(|id| {
                let doc = Document::tombstone(id.clone(), self.renderer.source.clone(), now);
                let record = tombstone_record(&doc);
                (doc, record, now)
            })
            .collect();
        tracing::info!(
            connector = self.connector_id,
            alive = alive.len(),
            tombstones = batch.len(),
            "pruned against the page listing"
        );
        let acked = self.publish(publisher, &batch, Vec::new()).await?;
        self.report.summary.tombstones += if publisher.is_some() {
            acked.len() as u64
        } else {
            batch.len() as u64
        };
        Ok(())
    }
}

fn tombstone_record(doc: &Document) -> ItemRecord {
    ItemRecord {
        doc_id: doc.id.clone(),
        state: ItemState {
            fingerprint: String::new(),
            content_hash: doc.content_hash.clone(),
            deleted: true,
        },
    }
}

/// A space's failure (reported, the run goes on) or the run's (it stops).
enum SpaceError {
    Api(ApiError),
    Fatal(ConfluenceSyncError),
}

impl From<ApiError> for SpaceError {
    fn from(err: ApiError) -> Self {
        SpaceError::Api(err)
    }
}

impl From<ConfluenceSyncError> for SpaceError {
    fn from(err: ConfluenceSyncError) -> Self {
        SpaceError::Fatal(err)
    }
}
