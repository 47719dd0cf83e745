//! Confluence as a source of the sync driver (`crate::sync`), which runs
//! the lifecycle, the change decision and the publish-then-record step.
//!
//! Spaces are synced one after another, each with its own watermark (kept
//! in the cursor JSON): a space that fails (403, 404, an outage) keeps its
//! watermark while the others move on; a 401 ends the run. Within a space:
//! the first run (or `--full`) lists every current page and blog post;
//! later runs search `lastmodified >= "<watermark − overlap>"`, and skip
//! pages whose fingerprint (version, place, labels) is already recorded, so
//! the overlap costs requests, not messages. Each page of results is
//! published and its acknowledged items recorded before the next is
//! fetched. A walk over several pages is checked by a slim re-walk before
//! the watermark moves (see [`ConfluenceSource::verify`]). Deletions, restorations and
//! metadata-only changes come from a periodic slim listing of every page.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tributary_core::SourceRef;

use super::api::{ApiError, ConfluenceApi, Pager, Space, IDS_PER_SEARCH};
use super::cql;
use super::model::{recorded_place, RawComment, RawPage};
use super::options::ConfluenceSyncOptions;
use super::page::Renderer;
use super::report::{ConfluenceSyncReport, SpaceFailure};
use crate::atlassian::{AtlassianClient, AtlassianError};
use crate::jira::JqlZone;
use crate::state::ItemState;
use crate::summary::{ProgressFn, SyncProgress};
use crate::sync::decision::{self, Decision, Precheck};
use crate::sync::{Batch, Item, RunTarget, Session, Source, SyncError, WalkContext, WalkEnd};

pub const KIND: &str = "confluence";

/// Slim re-walks after a multi-page walk before a space's watermark is
/// held back.
const MAX_VERIFY_ROUNDS: usize = 3;
/// The name a failed deletion listing is reported under.
const LISTING: &str = "(listing)";

#[derive(Debug, thiserror::Error)]
pub enum ConfluenceSyncError {
    #[error(transparent)]
    Http(#[from] AtlassianError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Fatal for the whole run (a 401: every space would fail the same way).
    #[error(transparent)]
    Api(ApiError),
    #[error("{}", spaces_message(*total, report))]
    Spaces {
        total: usize,
        report: Box<ConfluenceSyncReport>,
    },
}

/// Confluence's own fields of `connector_sync_state.cursor` (beside the
/// driver's).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// Per space key: the max acknowledged `lastmodified`.
    spaces: BTreeMap<String, SpaceCursor>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
struct SpaceCursor {
    watermark: Option<DateTime<Utc>>,
}

/// Runs one sync. A failure of the whole run (Kafka, PostgreSQL, a refused
/// token) is recorded and leaves every watermark where it was; a failure of
/// some spaces is recorded too, after the good spaces' positions were saved.
pub async fn sync(
    opts: &ConfluenceSyncOptions,
    to: &RunTarget<'_>,
) -> Result<ConfluenceSyncReport, ConfluenceSyncError> {
    let client = AtlassianClient::new(opts.http.clone())?;
    let api = ConfluenceApi::new(client.clone(), opts.flavor);
    let renderer = Renderer {
        source: SourceRef {
            kind: KIND.into(),
            instance: opts.run.instance.clone(),
        },
        web_base: api.web_base(),
        max_page_bytes: opts.max_page_bytes,
    };
    let mut source = ConfluenceSource {
        opts,
        api,
        renderer,
        report: ConfluenceSyncReport::default(),
        progress: to.progress,
        seen: HashSet::new(),
    };
    let result = to.run(&mut source, &opts.run.spec(KIND)).await;
    let mut report = source.report;
    // Every HTTP request of the run: listings, searches, comments, retries.
    report.requests = client.requests();
    report.retries = client.retries();
    let (summary, end) = result?;
    report.summary = summary;
    if end.partial_failure.is_some() {
        // Recorded as failed by the driver; the caller prints what was done.
        return Err(ConfluenceSyncError::Spaces {
            total: opts.spaces.len(),
            report: Box::new(report),
        });
    }
    Ok(report)
}

/// The summary of a run in which some spaces (or the deletion listing)
/// failed: says which, and what happened to the others.
fn spaces_message(total: usize, report: &ConfluenceSyncReport) -> String {
    let detail = |f: &SpaceFailure| format!("{}: {}", f.space, f.error);
    let spaces: Vec<String> = report
        .failures
        .iter()
        .filter(|f| f.space != LISTING)
        .map(detail)
        .collect();
    let listing: Vec<String> = report
        .failures
        .iter()
        .filter(|f| f.space == LISTING)
        .map(detail)
        .collect();
    if spaces.is_empty() {
        return format!(
            "the Confluence listing for deletions failed ({}); every space was synced and its watermark moved, nothing was tombstoned",
            listing.join("; ")
        );
    }
    let synced = total.saturating_sub(spaces.len());
    let outcome = match synced {
        0 => "no space was synced and no watermark moved".to_owned(),
        1 => "the other space was synced and its watermark moved".to_owned(),
        n => format!("the other {n} spaces were synced and their watermarks moved"),
    };
    format!(
        "{} of {total} Confluence spaces failed ({}); {outcome}",
        spaces.len(),
        spaces.join("; ")
    )
}

/// Confluence as a [`Source`]: walks each space, renders pages; the
/// driver runs the rest.
struct ConfluenceSource<'a> {
    opts: &'a ConfluenceSyncOptions,
    api: ConfluenceApi,
    renderer: Renderer,
    /// Confluence's own numbers (the summary comes from the driver).
    report: ConfluenceSyncReport,
    progress: &'a ProgressFn,
    /// Page ids any walk of this run returned.
    seen: HashSet<String>,
}

/// Where a space's run stands.
struct SpaceRun {
    space: Space,
    watermark: Option<DateTime<Utc>>,
    /// Page id → version key, for every page a walk returned.
    seen: HashMap<String, String>,
    /// Pages rendered this run (with their current comments).
    rendered: HashSet<String>,
    /// Re-rendered pages whose place (title, ancestors, space) changed:
    /// the breadcrumbs of the pages below them are stale.
    moved: Vec<String>,
}

impl SpaceRun {
    fn new(space: Space) -> Self {
        SpaceRun {
            space,
            watermark: None,
            seen: HashMap::new(),
            rendered: HashSet::new(),
            moved: Vec::new(),
        }
    }
}

/// What a walk was, so it can be walked again slim.
enum Walked {
    Search(String),
    Listing(&'static str),
}

impl Source for ConfluenceSource<'_> {
    type Cursor = Cursor;
    type Error = ConfluenceSyncError;

    async fn walk(
        &mut self,
        session: &mut Session<'_>,
        ctx: &mut WalkContext<Cursor>,
    ) -> Result<WalkEnd, ConfluenceSyncError> {
        let cursor = &mut ctx.cursor;
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

        for key in &self.opts.spaces {
            let old = cursor.spaces.get(key).and_then(|c| c.watermark);
            match self.sync_space(key, old, &zone, session).await {
                Ok(watermark) => {
                    let watermark = watermark.max(old);
                    cursor.spaces.insert(key.clone(), SpaceCursor { watermark });
                    self.report.watermarks.insert(key.clone(), watermark);
                }
                Err(SpaceError::Api(err)) => {
                    // A refused token fails every space alike: say it once.
                    let err = fatal_if_unauthorized(err)?.in_space(key);
                    tracing::error!(connector = session.connector_id(), space = %key, error = %err, "space failed; its watermark stays");
                    self.report.failures.push(SpaceFailure {
                        space: key.clone(),
                        error: err.to_string(),
                    });
                    self.report.watermarks.insert(key.clone(), old);
                }
                Err(SpaceError::Fatal(err)) => return Err(err),
            }
        }

        let mut pruned = false;
        if ctx.prune_due && self.report.failures.is_empty() {
            match self.prune(session).await {
                Ok(()) => pruned = true,
                Err(SpaceError::Api(err)) => {
                    let err = fatal_if_unauthorized(err)?;
                    tracing::error!(connector = session.connector_id(), error = %err, "listing for deletions failed; no tombstones this run");
                    self.report.failures.push(SpaceFailure {
                        space: LISTING.into(),
                        error: err.to_string(),
                    });
                }
                Err(SpaceError::Fatal(err)) => return Err(err),
            }
        } else if ctx.prune_due {
            tracing::warn!(
                connector = session.connector_id(),
                "a space failed; deletions are not looked for this run"
            );
        }
        self.report.pruned = pruned;

        // The connector-wide watermark (for `status`) is the oldest space's.
        let overall = self
            .opts
            .spaces
            .iter()
            .map(|k| cursor.spaces.get(k).and_then(|c| c.watermark))
            .collect::<Option<Vec<_>>>()
            .and_then(|w| w.into_iter().min());
        let partial_failure = (!self.report.failures.is_empty())
            .then(|| spaces_message(self.opts.spaces.len(), &self.report));
        Ok(WalkEnd {
            watermark: overall,
            pruned,
            partial_failure,
        })
    }
}

impl ConfluenceSource<'_> {
    /// Syncs one space; returns the max acknowledged `lastmodified`, or
    /// `None` when the walk could not be confirmed (the watermark stays).
    async fn sync_space(
        &mut self,
        key: &str,
        old: Option<DateTime<Utc>>,
        zone: &JqlZone,
        session: &mut Session<'_>,
    ) -> Result<Option<DateTime<Utc>>, SpaceError> {
        let space = self.api.space(key).await?;
        let mut run = SpaceRun::new(space);
        let since = match (self.opts.run.full, old) {
            (false, Some(w)) => {
                let overlap = chrono::Duration::from_std(self.opts.overlap)
                    .unwrap_or_else(|_| chrono::Duration::minutes(2));
                Some(w - overlap)
            }
            _ => None,
        };
        let mut exact = true;
        if let Some(since) = since {
            let cql = cql::incremental(key, self.opts.include_blogposts, since, zone);
            tracing::info!(connector = session.connector_id(), space = key, %cql, "searching Confluence");
            let pager = self.api.search(&cql, self.opts.page_size);
            let pages = self.walk_pages(&mut run, pager, session).await?;
            if pages > 1 {
                exact = self.verify(&mut run, &Walked::Search(cql), session).await?;
            }
            self.commented_pages(&mut run, key, since, zone, session)
                .await?;
        } else {
            let mut kinds = vec!["page"];
            if self.opts.include_blogposts {
                kinds.push("blogpost");
            }
            for kind in kinds {
                tracing::info!(
                    connector = session.connector_id(),
                    space = key,
                    kind,
                    "listing Confluence"
                );
                let pager = self
                    .api
                    .listing(&run.space, kind, true, self.opts.page_size);
                let pages = self.walk_pages(&mut run, pager, session).await?;
                if pages > 1 {
                    exact &= self
                        .verify(&mut run, &Walked::Listing(kind), session)
                        .await?;
                }
            }
        }
        self.cascade(&mut run, session).await?;
        if !exact {
            tracing::warn!(
                connector = session.connector_id(),
                space = key,
                "results kept moving while paging; the space's watermark stays where it was so the next run re-reads this window"
            );
            return Ok(None);
        }
        Ok(run.watermark)
    }

    /// Processes every page of a walk; returns how many pages it had.
    async fn walk_pages(
        &mut self,
        run: &mut SpaceRun,
        mut pager: Pager,
        session: &mut Session<'_>,
    ) -> Result<u64, SpaceError> {
        let mut pages = 0;
        while let Some(mut batch) = pager.next_page().await? {
            pages += 1;
            if pager.needs_enrich() {
                self.api.enrich(&mut batch, self.opts.page_size).await?;
            }
            self.process(run, batch, session, false).await?;
            self.tick(session);
        }
        Ok(pages)
    }

    /// Walks what was just walked again, slim (no bodies), and fetches what
    /// the walk did not return at its current version. Results are paged by
    /// position in a list ordered by last change (CQL) or by the server's
    /// choice (listings): a page edited, trashed or moved during the walk
    /// leaves its place, the ones behind it move up, and the one on the
    /// page boundary is never returned, while the watermark moves past it.
    /// Whatever the server's paging, a page the walk missed is in this list.
    /// Returns false when rounds kept finding misses.
    async fn verify(
        &mut self,
        run: &mut SpaceRun,
        walked: &Walked,
        session: &mut Session<'_>,
    ) -> Result<bool, SpaceError> {
        for _ in 0..MAX_VERIFY_ROUNDS {
            let limit = self.opts.listing_page_size;
            let mut pager = match walked {
                Walked::Search(cql) => self.api.search_slim(cql, limit),
                Walked::Listing(kind) => self.api.listing(&run.space, kind, false, limit),
            };
            let mut listed = Vec::new();
            while let Some(batch) = pager.next_page().await? {
                self.tick(session);
                listed.extend(batch);
            }
            let missed = missed(&listed, &run.seen, self.opts.include_blogposts);
            if missed.is_empty() {
                return Ok(true);
            }
            tracing::warn!(
                connector = session.connector_id(),
                space = %run.space.key,
                pages = missed.len(),
                "the walk missed pages that moved while it paged; fetching them"
            );
            self.fetch_ids(run, &missed, session, false).await?;
        }
        Ok(false)
    }

    /// Pages with comments written or edited in the window: a comment does
    /// not give its page a new version, so they are re-rendered here.
    async fn commented_pages(
        &mut self,
        run: &mut SpaceRun,
        key: &str,
        since: DateTime<Utc>,
        zone: &JqlZone,
        session: &mut Session<'_>,
    ) -> Result<(), SpaceError> {
        let cql = cql::comments(key, since, zone);
        let mut pager = self.api.comments_since(&cql, self.opts.listing_page_size);
        let mut pages: Vec<String> = Vec::new();
        let mut newest: Option<DateTime<Utc>> = None;
        while let Some(batch) = pager.next_page().await? {
            for comment in batch {
                newest = newest.max(comment.when);
                if let Some(page) = comment.container_id {
                    if !run.rendered.contains(&page) && !pages.contains(&page) {
                        pages.push(page);
                    }
                }
            }
        }
        if !pages.is_empty() {
            tracing::info!(
                connector = session.connector_id(),
                space = key,
                pages = pages.len(),
                "pages with new or edited comments; re-rendering them"
            );
            self.fetch_ids(run, &pages, session, true).await?;
        }
        // Their pages are rendered with them: the window may close behind
        // the newest comment (the page search covered everything up to now).
        run.watermark = run.watermark.max(newest);
        Ok(())
    }

    /// Re-reads every page below a page whose title, ancestors or space
    /// changed: their breadcrumbs (document title and chunk headers) name
    /// it, and none of them got a new version.
    async fn cascade(
        &mut self,
        run: &mut SpaceRun,
        session: &mut Session<'_>,
    ) -> Result<(), SpaceError> {
        // `ancestor in (...)` reaches every depth: one round suffices.
        let moved = std::mem::take(&mut run.moved);
        for chunk in moved.chunks(IDS_PER_SEARCH) {
            tracing::info!(
                connector = session.connector_id(),
                pages = chunk.len(),
                "pages renamed or moved; re-reading the pages below them"
            );
            let mut pager = self.api.descendants(chunk, self.opts.page_size);
            while let Some(batch) = pager.next_page().await? {
                self.process(run, batch, session, false).await?;
                self.tick(session);
            }
        }
        run.moved.clear();
        Ok(())
    }

    /// Fetches the named pages (fully expanded) and processes them;
    /// `force` re-renders them even at a recorded fingerprint.
    async fn fetch_ids(
        &mut self,
        run: &mut SpaceRun,
        ids: &[String],
        session: &mut Session<'_>,
        force: bool,
    ) -> Result<(), SpaceError> {
        for chunk in ids.chunks(IDS_PER_SEARCH) {
            let mut pager = self.api.by_ids(chunk, self.opts.page_size);
            while let Some(batch) = pager.next_page().await? {
                self.process(run, batch, session, force).await?;
                self.tick(session);
            }
        }
        Ok(())
    }

    fn tick(&self, session: &Session<'_>) {
        (self.progress)(SyncProgress {
            requests: self.api.requests(),
            fetched: session.summary.scanned,
            published: session.summary.published,
        });
    }

    /// Renders, publishes and records one page of results.
    async fn process(
        &mut self,
        run: &mut SpaceRun,
        batch: Vec<RawPage>,
        session: &mut Session<'_>,
        force: bool,
    ) -> Result<(), SpaceError> {
        let mut filed: Batch<DateTime<Utc>> = Batch::default();
        let mut candidates: Vec<(RawPage, DateTime<Utc>, String)> = Vec::new();
        for page in batch {
            if page.kind == "blogpost" && !self.opts.include_blogposts {
                continue;
            }
            run.seen.insert(page.id.clone(), page.version_key());
            self.seen.insert(page.id.clone());
            let Some(when) = page.when else {
                tracing::warn!(page = %page.id, "Confluence page without a version date; skipped");
                session.summary.skipped += 1;
                continue;
            };
            session.summary.scanned += 1;
            let doc_id = self.renderer.doc_id(&page.id);
            if page.status != "current" {
                // Trashed, archived, draft: not indexed; gone if it was.
                if decision::needs_tombstone(session.previous.get(&doc_id)) {
                    let source = self.renderer.source.clone();
                    filed
                        .publish
                        .push(Item::tombstone(doc_id, source, when, when));
                } else {
                    session.summary.skipped += 1;
                    run.watermark = run.watermark.max(Some(when));
                }
                continue;
            }
            let fingerprint = page.fingerprint();
            if session.precheck(&doc_id, &fingerprint, self.opts.run.full || force)
                == Precheck::Unchanged
            {
                run.watermark = run.watermark.max(Some(when));
                continue;
            }
            let place = page.place_digest();
            if session
                .live(&doc_id)
                .is_some_and(|p| recorded_place(&p.fingerprint).is_some_and(|d| d != place))
            {
                run.moved.push(page.id.clone());
            }
            candidates.push((page, when, fingerprint));
        }
        // Comments for every page to render, concurrently (the client caps
        // how many requests actually run). A plain loop of named futures
        // keeps the sync future `Send`.
        let api = self.api.clone();
        let mut fetches = Vec::with_capacity(candidates.len());
        for (page, _, _) in &candidates {
            fetches.push(api.footer_comments(page, self.opts.page_size));
        }
        let comments: Vec<Vec<RawComment>> = futures::future::try_join_all(fetches).await?;
        for ((page, when, fingerprint), comments) in candidates.into_iter().zip(comments) {
            run.rendered.insert(page.id.clone());
            let rendered = self.renderer.render(&page, &run.space, when, &comments);
            if rendered.truncated {
                self.report.truncated += 1;
                tracing::warn!(page = %page.id, cap = self.opts.max_page_bytes, "page over the size cap; truncated and flagged");
            }
            for (name, n) in rendered.unknown_macros {
                *self.report.unknown_macros.entry(name).or_default() += n;
            }
            let item = Item::new(rendered.doc, fingerprint, when);
            if session.file(&mut filed, item) == Decision::Touch {
                run.watermark = run.watermark.max(Some(when));
            }
        }
        for item in session.publish(filed).await? {
            run.watermark = run.watermark.max(Some(item.key));
        }
        Ok(())
    }

    /// Lists every current page of every space, slim but with what the
    /// fingerprint is made of, and compares it with what was published:
    /// recorded pages not listed (deleted, trashed, archived, restricted,
    /// moved out of the configured spaces) get tombstones; listed pages
    /// recorded as deleted (restored, un-restricted) or never recorded, and
    /// pages whose title, ancestors, space or labels changed without a new
    /// version, are fetched and published.
    async fn prune(&mut self, session: &mut Session<'_>) -> Result<(), SpaceError> {
        let mut alive = HashSet::new();
        let mut stale: Vec<(Space, Vec<String>)> = Vec::new();
        let mut kinds = vec!["page"];
        if self.opts.include_blogposts {
            kinds.push("blogpost");
        }
        for key in &self.opts.spaces {
            let space = self.api.space(key).await.map_err(|e| e.in_space(key))?;
            let mut listed = Vec::new();
            for kind in &kinds {
                let limit = self.opts.listing_page_size;
                let mut pager = self.api.listing(&space, kind, false, limit);
                while let Some(mut batch) = pager.next_page().await.map_err(|e| e.in_space(key))? {
                    // Cloud v2 listings carry no ancestors or labels.
                    self.api
                        .enrich(&mut batch, limit)
                        .await
                        .map_err(|e| e.in_space(key))?;
                    alive.extend(batch.iter().map(|p| self.renderer.doc_id(&p.id)));
                    listed.extend(batch);
                }
            }
            let ids = stale_pages(&listed, &session.previous, &self.seen, |id| {
                self.renderer.doc_id(id)
            });
            stale.push((space, ids));
        }
        session
            .tombstone_unlisted(&alive, &self.renderer.source, |_, now| now)
            .await?;
        for (space, ids) in stale {
            if ids.is_empty() {
                continue;
            }
            tracing::info!(
                connector = session.connector_id(),
                space = %space.key,
                pages = ids.len(),
                "listed pages restored, never published, or changed without a new version; fetching them"
            );
            let key = space.key.clone();
            let mut run = SpaceRun::new(space);
            self.fetch_ids(&mut run, &ids, session, false)
                .await
                .map_err(|e| e.in_space(&key))?;
            self.cascade(&mut run, session)
                .await
                .map_err(|e| e.in_space(&key))?;
        }
        Ok(())
    }
}

/// Current pages a slim walk returned that the walk before it did not
/// return at that version, in listing order, once each.
fn missed(listed: &[RawPage], seen: &HashMap<String, String>, blogposts: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for page in listed {
        if page.status != "current" || (page.kind == "blogpost" && !blogposts) {
            continue;
        }
        if seen.get(&page.id) == Some(&page.version_key()) || out.contains(&page.id) {
            continue;
        }
        out.push(page.id.clone());
    }
    out
}

/// Listed pages to fetch: recorded as deleted, recorded with another
/// fingerprint (a rename above them, a move, a label edit: no new
/// version), or never recorded and not seen this run.
fn stale_pages(
    listed: &[RawPage],
    previous: &HashMap<String, ItemState>,
    seen: &HashSet<String>,
    doc_id: impl Fn(&str) -> String,
) -> Vec<String> {
    listed
        .iter()
        .filter(|p| p.status == "current")
        .filter(|p| match previous.get(&doc_id(&p.id)) {
            Some(prev) => prev.deleted || prev.fingerprint != p.fingerprint(),
            None => !seen.contains(&p.id),
        })
        .map(|p| p.id.clone())
        .collect()
}

/// A 401 ends the run (as itself, not per space); anything else is the
/// space's own failure.
fn fatal_if_unauthorized(err: ApiError) -> Result<ApiError, ConfluenceSyncError> {
    match err {
        // The token is at fault, not the space the request was about.
        ApiError::Space { source, .. } if err_is_unauthorized(&source) => {
            Err(ConfluenceSyncError::Http(source))
        }
        err if err.is_unauthorized() => Err(ConfluenceSyncError::Api(err)),
        err => Ok(err),
    }
}

fn err_is_unauthorized(err: &AtlassianError) -> bool {
    matches!(err, AtlassianError::Unauthorized { .. })
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

impl From<SyncError> for SpaceError {
    fn from(err: SyncError) -> Self {
        SpaceError::Fatal(err.into())
    }
}

impl From<ConfluenceSyncError> for SpaceError {
    fn from(err: ConfluenceSyncError) -> Self {
        SpaceError::Fatal(err)
    }
}

impl SpaceError {
    /// Attributes an API error to a space (fatal errors stay as they are).
    fn in_space(self, space: &str) -> SpaceError {
        match self {
            SpaceError::Api(err) => SpaceError::Api(err.in_space(space)),
            fatal => fatal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(id: &str, version: u64) -> RawPage {
        RawPage {
            id: id.into(),
            kind: "page".into(),
            status: "current".into(),
            title: format!("Page {id}"),
            version,
            ..RawPage::default()
        }
    }

    #[test]
    fn a_slim_walk_names_pages_missed_or_seen_at_another_version() {
        let seen: HashMap<String, String> = [
            ("1".to_owned(), page("1", 2).version_key()),
            ("2".to_owned(), page("2", 1).version_key()),
        ]
        .into();
        let mut trashed = page("4", 1);
        trashed.status = "trashed".into();
        let mut blog = page("5", 1);
        blog.kind = "blogpost".into();
        let listed = [
            page("1", 2),
            page("2", 2),
            page("3", 1),
            page("3", 1),
            trashed,
            blog,
        ];
        assert_eq!(missed(&listed, &seen, false), ["2", "3"]);
        assert_eq!(missed(&listed, &seen, true), ["2", "3", "5"]);
    }

    #[test]
    fn deleted_unknown_and_changed_pages_are_stale() {
        let record = |p: &RawPage, deleted| ItemState {
            fingerprint: p.fingerprint(),
            content_hash: String::new(),
            deleted,
        };
        let mut relabelled = page("3", 1);
        let previous: HashMap<String, ItemState> = [
            ("d:1".to_owned(), record(&page("1", 1), true)),
            ("d:2".to_owned(), record(&page("2", 1), false)),
            ("d:3".to_owned(), record(&relabelled, false)),
        ]
        .into();
        relabelled.labels = vec!["new".into()];
        let seen: HashSet<String> = ["5".to_owned()].into();
        let listed = [
            page("1", 1),
            page("2", 1),
            relabelled,
            page("4", 1),
            page("5", 1),
        ];
        assert_eq!(
            stale_pages(&listed, &previous, &seen, |id| format!("d:{id}")),
            ["1", "3", "4"]
        );
    }

    #[test]
    fn the_failure_summary_says_what_was_synced() {
        let failure = |space: &str| SpaceFailure {
            space: space.into(),
            error: "boom".into(),
        };
        let mut report = ConfluenceSyncReport {
            failures: vec![failure("SEC")],
            ..ConfluenceSyncReport::default()
        };
        assert_eq!(
            spaces_message(2, &report),
            "1 of 2 Confluence spaces failed (SEC: boom); the other space was synced and its watermark moved"
        );
        report.failures.push(failure("ENG"));
        assert_eq!(
            spaces_message(2, &report),
            "2 of 2 Confluence spaces failed (SEC: boom; ENG: boom); no space was synced and no watermark moved"
        );
        report.failures = vec![failure(LISTING)];
        assert!(spaces_message(2, &report).contains("every space was synced"));
    }
}
