//! Jira as a source of the sync driver (`crate::sync`), which runs the
//! lifecycle, the change decision and the publish-then-record step.
//!
//! Pages through `(<scope>) AND updated >= "<watermark − overlap>" ORDER BY
//! updated ASC, key ASC`; each page is published and its acknowledged items
//! recorded before the next is fetched, so an interrupted run keeps what it
//! finished. The watermark (max acknowledged `updated`) moves only at the
//! end of a run in which everything was acknowledged. The next run re-reads
//! from the old watermark and skips issues whose `updated` (the item
//! fingerprint) is already recorded: the overlap costs requests, not
//! messages. Deletions come from a periodic slim listing of every key.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tributary_core::config::JiraFlavor;
use tributary_core::{Document, SourceRef};

use super::api::{ApiError, JiraApi};
use super::issue::Renderer;
use super::jql::{self, JqlZone};
use super::model::{fingerprint, parse_jira_time, Comment, RawIssue};
use super::options::JiraSyncOptions;
use super::pager::Pager;
use super::report::JiraSyncReport;
use super::wiki::mentions;
use crate::atlassian::{AtlassianClient, AtlassianError};
use crate::state::ItemState;
use crate::summary::{ProgressFn, SyncProgress};
use crate::sync::decision::{Decision, Precheck};
use crate::sync::{Batch, Item, RunTarget, Session, Source, SyncError, WalkContext, WalkEnd};

pub const KIND: &str = "jira";

/// Slim re-walks after a multi-page walk before giving up on the watermark.
const MAX_VERIFY_ROUNDS: usize = 3;
/// Issue keys per `key in (...)` search (keeps the JQL short).
const KEYS_PER_SEARCH: usize = 50;

/// The fields a search asks for: everything a document is built from.
const FIELDS: [&str; 16] = [
    "summary",
    "description",
    "comment",
    "project",
    "issuetype",
    "status",
    "priority",
    "labels",
    "components",
    "assignee",
    "reporter",
    "created",
    "updated",
    "resolutiondate",
    "issuelinks",
    "parent",
];

#[derive(Debug, thiserror::Error)]
pub enum JiraSyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Http(#[from] AtlassianError),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// Jira's own fields of `connector_sync_state.cursor` (beside the driver's).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// The zone JQL dates were written in, for `status` readers.
    jql_time_zone: Option<String>,
    /// Keys acknowledged at exactly the watermark instant.
    keys_at_watermark: Vec<String>,
}

/// Runs one sync. On any error the run is recorded as failed and the
/// watermark stays where it was.
pub async fn sync(
    opts: &JiraSyncOptions,
    to: &RunTarget<'_>,
) -> Result<JiraSyncReport, JiraSyncError> {
    let client = AtlassianClient::new(opts.http.clone())?;
    let mut source = JiraSource {
        opts,
        api: JiraApi::new(client.clone(), opts.flavor),
        report: JiraSyncReport::default(),
        progress: to.progress,
        user_names: HashMap::new(),
        unknown_users: HashSet::new(),
    };
    let result = to.run(&mut source, &opts.run.spec(KIND)).await;
    let mut report = source.report;
    report.retries = client.retries();
    let (summary, _) = result?;
    report.summary = summary;
    Ok(report)
}

/// Jira as a [`Source`]: pages through the search, renders issues; the
/// driver runs the rest.
struct JiraSource<'a> {
    opts: &'a JiraSyncOptions,
    api: JiraApi,
    /// Jira's own numbers (the summary comes from the driver).
    report: JiraSyncReport,
    progress: &'a ProgressFn,
    /// Data Center: user name → display name, for wiki mentions.
    user_names: HashMap<String, String>,
    /// Mentioned user names that have no visible user.
    unknown_users: HashSet<String>,
}

/// What a run has seen and acknowledged so far.
#[derive(Default)]
struct Walk {
    /// Key → newest `updated` returned this run.
    seen: HashMap<String, DateTime<Utc>>,
    watermark: Option<DateTime<Utc>>,
    keys_at_watermark: Vec<String>,
}

impl Walk {
    fn advance(&mut self, updated: DateTime<Utc>, key: &str) {
        advance(
            &mut self.watermark,
            &mut self.keys_at_watermark,
            updated,
            key,
        );
    }
}

/// An issue that needs rendering (its `updated` is new to us).
struct Candidate {
    raw: RawIssue,
    updated: DateTime<Utc>,
}

impl Source for JiraSource<'_> {
    type Cursor = Cursor;
    type Error = JiraSyncError;

    async fn walk(
        &mut self,
        session: &mut Session<'_>,
        ctx: &mut WalkContext<Cursor>,
    ) -> Result<WalkEnd, JiraSyncError> {
        let old_watermark = ctx.watermark;
        // Also the credential check: a 401 here names the token at fault.
        let zone = self.jql_zone().await?;
        ctx.cursor.jql_time_zone = Some(zone.name().to_owned());

        let since = match (self.opts.run.full, old_watermark) {
            (false, Some(w)) => {
                let overlap = chrono::Duration::from_std(self.opts.overlap)
                    .unwrap_or_else(|_| chrono::Duration::minutes(2));
                Some(w - overlap)
            }
            _ => None,
        };
        let jql = jql::incremental(&self.opts.scope, since, &zone);
        tracing::info!(connector = session.connector_id(), %jql, zone = zone.name(), "searching Jira");

        let renderer = self.renderer();
        let mut walk = Walk::default();
        let fields = self.fields();
        // The pager borrows its own handle (cheap: the client is shared)
        // so `self` stays free for publishing between pages.
        let api = self.api.clone();
        let mut pager = Pager::new(
            &api,
            self.opts.flavor,
            jql.clone(),
            fields,
            self.opts.page_size,
        );
        while let Some(page) = pager.next_page().await? {
            self.process_page(session, &renderer, &mut walk, page)
                .await?;
            (self.progress)(SyncProgress {
                requests: pager.requests(),
                fetched: session.summary.scanned,
                published: session.summary.published,
            });
        }
        self.report.pages += pager.requests();
        let mut unreliable = pager.unreliable();
        // One response is a snapshot; a walk over several pages is not.
        if pager.requests() > 1
            && !unreliable
            && !self.verify(&jql, session, &renderer, &mut walk).await?
        {
            unreliable = true;
        }
        let mut watermark = walk.watermark;
        if unreliable {
            tracing::warn!(
                connector = session.connector_id(),
                "results kept shifting while paging; the watermark stays where it was so the next run re-reads this window"
            );
            watermark = None;
        }

        let pruned = ctx.prune_due && self.prune(session, &renderer, &mut walk).await?;
        self.report.pruned = pruned;

        let new_watermark = watermark.max(old_watermark);
        self.report.watermark = new_watermark;
        if watermark.is_some() && watermark == new_watermark {
            ctx.cursor.keys_at_watermark = std::mem::take(&mut walk.keys_at_watermark);
        }
        Ok(WalkEnd {
            watermark,
            pruned,
            partial_failure: None,
        })
    }
}

impl JiraSource<'_> {
    /// Renders, publishes and records one page of search results.
    async fn process_page(
        &mut self,
        session: &mut Session<'_>,
        renderer: &Renderer,
        walk: &mut Walk,
        page: Vec<Value>,
    ) -> Result<(), JiraSyncError> {
        let mut candidates = Vec::new();
        for value in page {
            let Some((raw, updated)) = decode(value) else {
                session.summary.skipped += 1;
                continue;
            };
            if walk.seen.get(&raw.key).is_some_and(|u| *u >= updated) {
                continue; // seen already this run (overlap or restarted paging)
            }
            walk.seen.insert(raw.key.clone(), updated);
            session.summary.scanned += 1;
            let doc_id = renderer.doc_id(&raw.key);
            if session.precheck(&doc_id, &fingerprint(updated), self.opts.run.full)
                == Precheck::Unchanged
            {
                walk.advance(updated, &raw.key);
                continue;
            }
            candidates.push(Candidate { raw, updated });
        }
        let rendered = self.render_all(renderer, candidates).await?;
        let mut batch = Batch::default();
        for (doc, key) in rendered {
            let updated = doc.updated_at;
            let item = Item::new(doc, fingerprint(updated), key.clone());
            if session.file(&mut batch, item) == Decision::Touch {
                // Touched but nothing indexed changed: the new `updated`
                // is recorded, nothing published.
                walk.advance(updated, &key);
            }
        }
        for item in session.publish(batch).await? {
            walk.advance(item.doc.updated_at, &item.key);
        }
        Ok(())
    }

    /// Re-walks the run's search slim (key and `updated` only) and fetches
    /// what the walk did not return. A page token or offset is a position in
    /// a list ordered by `updated`: an issue edited (or hidden) during the
    /// walk leaves its place, everything behind it moves up one, and the
    /// issue on the page boundary is never returned, while the watermark
    /// moves past it. Whatever the server's paging, anything current that
    /// the walk missed shows up here. Returns false when rounds kept finding
    /// misses (the caller then keeps the watermark).
    async fn verify(
        &mut self,
        jql: &str,
        session: &mut Session<'_>,
        renderer: &Renderer,
        walk: &mut Walk,
    ) -> Result<bool, JiraSyncError> {
        let api = self.api.clone();
        for _ in 0..MAX_VERIFY_ROUNDS {
            let mut pager = Pager::new(
                &api,
                self.opts.flavor,
                jql.to_owned(),
                vec!["updated".to_owned()],
                self.opts.listing_page_size,
            );
            let mut slim = Vec::new();
            while let Some(page) = pager.next_page().await? {
                slim.extend(page.iter().filter_map(slim_issue));
            }
            self.report.pages += pager.requests();
            let missed = missed(&slim, &walk.seen);
            if missed.is_empty() && !pager.unreliable() {
                return Ok(true);
            }
            if !missed.is_empty() {
                tracing::warn!(
                    connector = session.connector_id(),
                    issues = missed.len(),
                    "the search walk missed issues that moved while it paged; fetching them"
                );
                self.fetch_keys(&missed, session, renderer, walk).await?;
            }
        }
        Ok(false)
    }

    /// Fetches the named issues (within the scope) and processes them like
    /// a search page.
    async fn fetch_keys(
        &mut self,
        keys: &[String],
        session: &mut Session<'_>,
        renderer: &Renderer,
        walk: &mut Walk,
    ) -> Result<(), JiraSyncError> {
        let api = self.api.clone();
        for chunk in keys.chunks(KEYS_PER_SEARCH) {
            let jql = jql::by_keys(&self.opts.scope, chunk);
            let mut pager = Pager::new(
                &api,
                self.opts.flavor,
                jql,
                self.fields(),
                self.opts.page_size,
            );
            while let Some(page) = pager.next_page().await? {
                self.process_page(session, renderer, walk, page).await?;
            }
            self.report.pages += pager.requests();
        }
        Ok(())
    }

    async fn jql_zone(&self) -> Result<JqlZone, JiraSyncError> {
        let me = self.api.myself().await?;
        let name = self.opts.time_zone.clone().or(me.time_zone);
        Ok(match name.as_deref() {
            Some(name) => JqlZone::named(name).unwrap_or_else(|| {
                tracing::warn!(
                    zone = name,
                    "unknown time zone; JQL dates will be written 12 h early"
                );
                JqlZone::Unknown
            }),
            None => {
                tracing::warn!("Jira did not say the account's time zone; JQL dates will be written 12 h early");
                JqlZone::Unknown
            }
        })
    }

    fn renderer(&self) -> Renderer {
        Renderer {
            source: SourceRef {
                kind: KIND.into(),
                instance: self.opts.run.instance.clone(),
            },
            flavor: self.opts.flavor,
            base_url: self.api.client().base_url().to_string(),
            include_emails: self.opts.include_emails,
            epic_link_field: self.opts.epic_link_field.clone(),
        }
    }

    fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = FIELDS.iter().map(|f| (*f).to_owned()).collect();
        if let Some(epic) = &self.opts.epic_link_field {
            fields.push(epic.clone());
        }
        fields
    }

    /// Fetches the comments a search page did not include (concurrently,
    /// within the client's cap) and renders each candidate.
    async fn render_all(
        &mut self,
        renderer: &Renderer,
        candidates: Vec<Candidate>,
    ) -> Result<Vec<(Document, String)>, JiraSyncError> {
        // A plain loop of named futures rather than a stream combinator with
        // an async closure: keeps the sync future `Send` for `tokio::spawn`.
        // The client's semaphore caps how many requests actually run.
        let mut fetches = Vec::with_capacity(candidates.len());
        for c in candidates {
            fetches.push(with_comments(&self.api, c, self.opts.comment_page_size));
        }
        let with_comments: Vec<(Candidate, Vec<Comment>)> =
            futures::future::try_join_all(fetches).await?;
        if self.opts.flavor == JiraFlavor::Datacenter {
            self.resolve_mentions(&with_comments).await?;
        }
        let mut out = Vec::with_capacity(with_comments.len());
        for (c, comments) in with_comments {
            let rendered = renderer.render(&c.raw, c.updated, &comments, &self.user_names);
            for (kind, n) in rendered.unknown_nodes {
                tracing::debug!(key = %c.raw.key, node = %kind, n, "unknown ADF node kept as text");
                *self.report.unknown_adf_nodes.entry(kind).or_default() += n;
            }
            out.push((rendered.doc, c.raw.key));
        }
        Ok(out)
    }

    /// Data Center wiki markup mentions users by name (`[~jdoe]`); Cloud's
    /// ADF carries display names. Looks up the names not yet known this run
    /// so both flavours read `@Jane Doe`.
    async fn resolve_mentions(
        &mut self,
        issues: &[(Candidate, Vec<Comment>)],
    ) -> Result<(), JiraSyncError> {
        let mut wanted: Vec<String> = Vec::new();
        for (c, comments) in issues {
            let bodies = std::iter::once(c.raw.fields.description.as_ref())
                .chain(comments.iter().map(|k| k.body.as_ref()));
            for body in bodies.flatten() {
                if let Value::String(text) = body {
                    for user in mentions(text) {
                        if !self.user_names.contains_key(&user)
                            && !self.unknown_users.contains(&user)
                            && !wanted.contains(&user)
                        {
                            wanted.push(user);
                        }
                    }
                }
            }
        }
        for user in wanted {
            match self.api.display_name(&user).await? {
                Some(name) => {
                    self.user_names.insert(user, name);
                }
                None => {
                    tracing::debug!(user = %user, "mentioned user not found; kept as @name");
                    self.unknown_users.insert(user);
                }
            }
        }
        Ok(())
    }

    /// Lists every key in scope (no fields) and tombstones recorded issues
    /// that are gone or out of scope. Returns false when the listing could
    /// not be trusted (and nothing was tombstoned).
    async fn prune(
        &mut self,
        session: &mut Session<'_>,
        renderer: &Renderer,
        walk: &mut Walk,
    ) -> Result<bool, JiraSyncError> {
        let listing = jql::listing(&self.opts.scope);
        let api = self.api.clone();
        let mut pager = Pager::new(
            &api,
            self.opts.flavor,
            listing,
            vec!["key".to_owned()],
            self.opts.listing_page_size,
        );
        let mut alive = HashSet::new();
        let mut listed = Vec::new();
        while let Some(page) = pager.next_page().await? {
            for issue in page {
                if let Some(key) = issue.get("key").and_then(Value::as_str) {
                    alive.insert(renderer.doc_id(key));
                    listed.push(key.to_owned());
                }
            }
        }
        self.report.pages += pager.requests();
        if pager.unreliable() {
            tracing::warn!(
                connector = session.connector_id(),
                "the key listing kept shifting; no tombstones this run"
            );
            return Ok(false);
        }
        // Listed but recorded as deleted (made visible again, moved back into
        // scope: neither bumps `updated`) or never recorded: fetch and publish.
        let revive = revivals(&listed, &session.previous, &walk.seen, |k| {
            renderer.doc_id(k)
        });
        session
            .tombstone_unlisted(&alive, &renderer.source, |id, _| id.to_owned())
            .await?;
        if !revive.is_empty() {
            tracing::info!(
                connector = session.connector_id(),
                issues = revive.len(),
                "listed issues recorded as deleted or never published; fetching them"
            );
            self.fetch_keys(&revive, session, renderer, walk).await?;
        }
        Ok(true)
    }
}

/// Decodes one issue of a search page; an undecodable one is skipped with
/// a warning rather than failing the page.
fn decode(value: Value) -> Option<(RawIssue, DateTime<Utc>)> {
    let key = value
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    let raw: RawIssue = match serde_json::from_value(value) {
        Ok(raw) => raw,
        Err(err) => {
            tracing::warn!(key, error = %err, "cannot decode Jira issue; skipped");
            return None;
        }
    };
    let Some(updated) = raw.fields.updated.as_deref().and_then(parse_jira_time) else {
        tracing::warn!(key, "Jira issue has no readable `updated`; skipped");
        return None;
    };
    Some((raw, updated))
}

async fn with_comments(
    api: &JiraApi,
    c: Candidate,
    page_size: u32,
) -> Result<(Candidate, Vec<Comment>), ApiError> {
    let comments = all_comments(api, &c.raw, page_size).await?;
    Ok((c, comments))
}

/// Every comment of an issue: the ones the search returned, then the rest
/// page by page when the search said there are more.
async fn all_comments(
    api: &JiraApi,
    raw: &RawIssue,
    page_size: u32,
) -> Result<Vec<Comment>, ApiError> {
    let Some(first) = &raw.fields.comment else {
        return Ok(Vec::new());
    };
    let mut comments = first.comments.clone();
    let total = first.total.unwrap_or(0);
    while (comments.len() as u64) < total {
        let page = api
            .comments(&raw.key, comments.len() as u64, page_size)
            .await?;
        if page.comments.is_empty() {
            break; // deleted meanwhile; take what there is
        }
        comments.extend(page.comments);
    }
    Ok(comments)
}

/// Key and `updated` of a slim search result; `None` for one without a
/// readable key. An unreadable `updated` reads as `None` (the full walk
/// skipped that issue too).
fn slim_issue(issue: &Value) -> Option<(String, Option<DateTime<Utc>>)> {
    let key = issue.get("key").and_then(Value::as_str)?;
    let updated = issue
        .pointer("/fields/updated")
        .and_then(Value::as_str)
        .and_then(parse_jira_time);
    Some((key.to_owned(), updated))
}

/// Keys a slim walk returned that the run has not seen at that `updated`
/// or later, in listing order, once each.
fn missed(
    slim: &[(String, Option<DateTime<Utc>>)],
    seen: &HashMap<String, DateTime<Utc>>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (key, updated) in slim {
        let Some(updated) = updated else { continue };
        if seen.get(key).is_some_and(|s| s >= updated) || out.contains(key) {
            continue;
        }
        out.push(key.clone());
    }
    out
}

/// Listed keys whose item is recorded as deleted, or not recorded and not
/// seen this run: they are visible again without a newer `updated`.
fn revivals(
    listed: &[String],
    previous: &HashMap<String, ItemState>,
    seen: &HashMap<String, DateTime<Utc>>,
    doc_id: impl Fn(&str) -> String,
) -> Vec<String> {
    listed
        .iter()
        .filter(|key| match previous.get(&doc_id(key)) {
            Some(p) => p.deleted,
            None => !seen.contains_key(*key),
        })
        .cloned()
        .collect()
}

fn advance(
    watermark: &mut Option<DateTime<Utc>>,
    keys: &mut Vec<String>,
    updated: DateTime<Utc>,
    key: &str,
) {
    match (*watermark).cmp(&Some(updated)) {
        std::cmp::Ordering::Less => {
            *watermark = Some(updated);
            keys.clear();
            keys.push(key.to_owned());
        }
        std::cmp::Ordering::Equal => keys.push(key.to_owned()),
        std::cmp::Ordering::Greater => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2025-01-10T08:{minute:02}:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_slim_walk_names_what_the_run_missed_or_saw_older() {
        let seen: HashMap<String, DateTime<Utc>> =
            [("A".to_owned(), at(5)), ("B".to_owned(), at(2))].into();
        let slim = vec![
            ("A".to_owned(), Some(at(5))),
            ("B".to_owned(), Some(at(3))),
            ("C".to_owned(), Some(at(1))),
            ("C".to_owned(), Some(at(1))),
            ("D".to_owned(), None),
        ];
        assert_eq!(missed(&slim, &seen), ["B", "C"]);
    }

    #[test]
    fn listed_but_deleted_or_unknown_items_are_revived() {
        let state = |deleted| ItemState {
            fingerprint: String::new(),
            content_hash: String::new(),
            deleted,
        };
        let previous: HashMap<String, ItemState> = [
            ("id:A".to_owned(), state(true)),
            ("id:B".to_owned(), state(false)),
        ]
        .into();
        let seen: HashMap<String, DateTime<Utc>> = [("D".to_owned(), at(1))].into();
        let listed: Vec<String> = ["A", "B", "C", "D"].map(str::to_owned).into();
        assert_eq!(
            revivals(&listed, &previous, &seen, |k| format!("id:{k}")),
            ["A", "C"]
        );
    }
}
