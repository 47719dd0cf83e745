//! A sync run from start to end, the same for every source:
//!
//! 1. `begin_run` (skipped in a dry run): the run is visible as running;
//! 2. the sink connects: a dead broker fails the run before the source is
//!    asked anything;
//! 3. the cursor is read, strictly, and the recorded items are loaded;
//! 4. the source walks (pages, renders, publishes through the [`Session`]);
//! 5. `finish_run` moves the watermark the walk vouches for (only
//!    acknowledged items count), or, on any error, `fail_run` records the
//!    failure and the watermark stays where it was.

use std::future::Future;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tributary_core::config::KafkaConfig;

use super::cursor::{CursorError, RunCursor};
use super::decision;
use super::session::Session;
use super::sink::Sink;
use crate::publish::{Incomplete, PublishError, Publisher};
use crate::state::SyncStateStore;
use crate::summary::SyncSummary;

/// What the driver itself can fail with; each connector's error wraps it.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("connector state in PostgreSQL: {0}")]
    State(#[from] sqlx::Error),
    #[error(transparent)]
    Incomplete(#[from] Incomplete),
    #[error(transparent)]
    Cursor(#[from] CursorError),
}

/// One kind of source: pages through it and renders its items. Everything
/// around that (the run's lifecycle, the cursor, what is published and
/// recorded) is the driver's.
pub trait Source: Send {
    /// The source's own cursor fields (see [`RunCursor`]).
    type Cursor: Serialize + DeserializeOwned + Default + Send;
    type Error: From<SyncError> + std::fmt::Display + Send;

    /// The ids of the only items this run looks at, when it looks at a
    /// few (a watched vault's edit); `None`: every recorded item is loaded.
    fn only_items(&self) -> Option<Vec<String>> {
        None
    }

    /// Walks the source, publishing through `session`, and says how far the
    /// acknowledged items reach. May update `ctx.cursor`; it is stored only
    /// if the walk succeeds.
    fn walk(
        &mut self,
        session: &mut Session<'_>,
        ctx: &mut WalkContext<Self::Cursor>,
    ) -> impl Future<Output = Result<WalkEnd, Self::Error>> + Send;
}

/// What a walk starts from.
#[derive(Debug)]
pub struct WalkContext<C> {
    pub cursor: C,
    /// The watermark of the last successful run.
    pub watermark: Option<DateTime<Utc>>,
    /// Whether this run lists every item for deletions (`--prune`, or the
    /// cadence says so).
    pub prune_due: bool,
}

/// How a walk ended.
#[derive(Debug, Default)]
pub struct WalkEnd {
    /// The newest acknowledged position; `None` keeps the old watermark.
    pub watermark: Option<DateTime<Utc>>,
    /// A full listing for deletions was done (resets the prune cadence).
    pub pruned: bool,
    /// Some parts failed while the others' positions were saved (one
    /// Confluence space): the run is recorded as failed with this message.
    pub partial_failure: Option<String>,
}

/// Which run: names the connector and the flags every source has.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub kind: &'static str,
    pub instance: String,
    /// Publish and record nothing; report what would be published.
    pub dry_run: bool,
    /// List every item for deletions this run.
    pub prune: bool,
    /// ... and every Nth run (0: only when `prune`).
    pub prune_every: u32,
}

impl RunSpec {
    pub fn connector_id(&self) -> String {
        format!("{}:{}", self.kind, self.instance)
    }
}

/// Where the documents go (a dry run sends nowhere).
#[derive(Clone, Copy)]
pub enum SinkChoice<'a> {
    /// An idempotent producer connected (and the topic checked) at the start.
    Kafka(&'a KafkaConfig),
    /// An already open sink (a long-lived producer, or memory in tests).
    Given(&'a dyn Sink),
}

/// Runs one sync of `source`. On any error the run is recorded as failed
/// (unless a dry run) and the watermark stays where it was.
pub async fn run<S: Source>(
    source: &mut S,
    spec: &RunSpec,
    store: &SyncStateStore,
    sink: SinkChoice<'_>,
) -> Result<(SyncSummary, WalkEnd), S::Error> {
    let started = Instant::now();
    let connector_id = spec.connector_id();
    let mut summary = SyncSummary {
        connector_id: connector_id.clone(),
        dry_run: spec.dry_run,
        ..SyncSummary::default()
    };
    let state = if spec.dry_run {
        store.get(&connector_id).await.map_err(SyncError::from)?
    } else {
        Some(
            store
                .begin_run(&connector_id, spec.kind)
                .await
                .map_err(SyncError::from)?,
        )
    };
    let result = attempt(source, spec, store, sink, state, &mut summary).await;
    summary.duration = started.elapsed();
    let end = match result {
        Ok(end) => end,
        Err(err) => {
            if !spec.dry_run {
                store
                    .fail_run(&connector_id, &err.to_string(), summary.published as i64)
                    .await
                    .map_err(SyncError::from)?;
            }
            return Err(err);
        }
    };
    if let (false, Some(message)) = (spec.dry_run, &end.partial_failure) {
        store
            .mark_failed(&connector_id, message)
            .await
            .map_err(SyncError::from)?;
    }
    Ok((summary, end))
}

async fn attempt<S: Source>(
    source: &mut S,
    spec: &RunSpec,
    store: &SyncStateStore,
    sink: SinkChoice<'_>,
    state: Option<crate::state::SyncState>,
    summary: &mut SyncSummary,
) -> Result<WalkEnd, S::Error> {
    let connector_id = summary.connector_id.clone();
    // Connect first: a dead broker is reported before any work is done.
    let connected: Option<Publisher> = match (spec.dry_run, sink) {
        (false, SinkChoice::Kafka(kafka)) => {
            Some(Publisher::connect(kafka).map_err(SyncError::from)?)
        }
        _ => None,
    };
    let sink: Option<&dyn Sink> = match (spec.dry_run, sink, connected.as_ref()) {
        (true, _, _) => None,
        (false, _, Some(publisher)) => Some(publisher),
        (false, SinkChoice::Given(given), None) => Some(given),
        (false, SinkChoice::Kafka(_), None) => None, // unreachable: connected above
    };
    let (stored_cursor, watermark) = match &state {
        Some(s) => (s.cursor.clone(), s.watermark),
        None => (serde_json::Value::Null, None),
    };
    let mut cursor: RunCursor<S::Cursor> =
        RunCursor::decode(&connector_id, &stored_cursor).map_err(SyncError::from)?;
    let previous = match source.only_items() {
        None => store.items(&connector_id).await,
        Some(ids) => store.items_for(&connector_id, &ids).await,
    }
    .map_err(SyncError::from)?;
    let mut session = Session::new(std::mem::take(summary), previous, sink, store);
    let mut ctx = WalkContext {
        cursor: std::mem::take(&mut cursor.source),
        watermark,
        prune_due: decision::prune_due(
            spec.prune,
            spec.prune_every,
            cursor.runs,
            cursor.last_prune_run,
        ),
    };
    let walked = source.walk(&mut session, &mut ctx).await;
    *summary = session.summary;
    let end = walked?;
    if spec.dry_run {
        return Ok(end);
    }
    cursor.source = ctx.cursor;
    cursor.runs += 1;
    if end.pruned {
        cursor.last_prune_run = cursor.runs;
        cursor.last_prune_at = Some(Utc::now());
    }
    let stored = cursor.encode(&connector_id).map_err(SyncError::from)?;
    store
        .finish_run(
            &connector_id,
            end.watermark,
            &stored,
            summary.published as i64,
        )
        .await
        .map_err(SyncError::from)?;
    Ok(end)
}
