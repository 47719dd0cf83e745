//! One dispatch run: read the registry, build the graph, find communities,
//! decide what changed, publish, record. The pure steps live in their own
//! modules; this file only sequences them with the I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use tributary_core::Config;

use crate::community::{detect, Grouping};
use crate::corpus::CorpusDoc;
use crate::error::DispatchError;
use crate::fingerprint::fingerprint;
use crate::graph::{LinkGraph, UnresolvedLink};
use crate::identity::assign_ids;
use crate::kafka::{observe_documents_topic, Outgoing, WorkItemPublisher};
use crate::plan::{decide, Current, Reason};
use crate::resolve::{KnownKey, Resolver};
use crate::starving::{self, Observed};
use crate::store::{self, RunInputs, RunOutcome};
use crate::work_item::{Member, Sizes, Source, Trace, WorkItem, WORK_ITEM_SCHEMA_VERSION};

/// Titles shown per community in the report.
const TITLES_SHOWN: usize = 3;
/// Unresolved links listed in the report (all are counted).
const UNRESOLVED_SHOWN: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct DispatchOptions {
    /// Compute and report; publish and record nothing.
    pub dry_run: bool,
    /// Publish every community, changed or not.
    pub all: bool,
    /// W3C traceparent of the caller, if any (already validated).
    pub traceparent: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunResult {
    /// At least one work item published (or, dry run: would be).
    Published,
    /// Nothing changed: healthy, nothing to publish.
    Unchanged,
    /// Nothing to work on: exit code 2.
    Starving,
}

impl RunResult {
    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Published => "published",
            RunResult::Unchanged => "unchanged",
            RunResult::Starving => "starving",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CommunityReport {
    pub community_id: String,
    pub size: usize,
    pub grouping: Grouping,
    /// `None`: unchanged, not published.
    pub reason: Option<Reason>,
    pub changed_members: usize,
    pub removed_members: usize,
    pub titles: Vec<String>,
    pub published: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run_id: Option<i64>,
    pub dry_run: bool,
    pub all: bool,
    pub result: RunResult,
    /// The starving cause, when starving.
    pub starving: Option<String>,
    pub work_items_topic: String,
    pub documents: usize,
    pub deleted_documents: usize,
    pub links_resolved: usize,
    pub links_unresolved: usize,
    pub links_external: usize,
    pub unresolved_sample: Vec<UnresolvedLink>,
    pub communities: Vec<CommunityReport>,
    /// Communities that are new or whose fingerprint changed.
    pub changed_communities: usize,
    /// Work items published (dry run: that would be).
    pub work_items: usize,
    pub summary: String,
}

/// Runs one dispatch. A run row is written first (not on a dry run) and
/// always finished: `published`, `unchanged`, `starving` or `failed`.
pub async fn dispatch(
    config: &Config,
    pool: &PgPool,
    options: &DispatchOptions,
) -> Result<Report, DispatchError> {
    let started = Utc::now();
    let run_id = if options.dry_run {
        None
    } else {
        Some(store::start_run(pool, started).await?)
    };
    let result = run(config, pool, options, run_id, started).await;
    if let (Some(run_id), Err(err)) = (run_id, &result) {
        let message = err.to_string();
        let outcome = RunOutcome {
            result: "failed",
            communities: 0,
            changed_communities: 0,
            work_items: 0,
            message: &message,
        };
        if let Err(record_err) = store::finish_run(pool, run_id, &outcome).await {
            tracing::error!(run_id, error = %record_err, "cannot record the failed dispatch run");
        }
    }
    result
}

/// A community of this run with everything the report and work item need.
struct Planned {
    current: Current,
    grouping: Grouping,
    internal_links: f64,
    decision: crate::plan::Decision,
}

async fn run(
    config: &Config,
    pool: &PgPool,
    options: &DispatchOptions,
    run_id: Option<i64>,
    started: DateTime<Utc>,
) -> Result<Report, DispatchError> {
    let registry = store::load_registry(pool).await?;
    let topic = observe_documents_topic(&config.kafka, &config.indexer.group_id)?;
    let known = store::known_keys(pool).await?;
    let resolver = Resolver::new(&registry.live, &known);
    let graph = LinkGraph::build(&registry.live, &resolver);
    let communities = detect(&graph, &registry.live, config.dispatcher.resolution);
    let dispatched = store::dispatched(pool).await?;
    let member_lists: Vec<Vec<String>> = communities.iter().map(|c| c.members.clone()).collect();
    let ids = assign_ids(
        &member_lists,
        &store::previous_communities(&dispatched),
        config.dispatcher.id_match_threshold,
    );
    let docs: HashMap<&str, &CorpusDoc> =
        registry.live.iter().map(|d| (d.id.as_str(), d)).collect();
    let planned: Vec<Planned> = communities
        .iter()
        .zip(&ids)
        .map(|(community, id)| {
            let members: Vec<(String, String)> = community
                .members
                .iter()
                .map(|m| {
                    let hash = docs.get(m.as_str()).map_or("", |d| d.content_hash.as_str());
                    (m.clone(), hash.to_string())
                })
                .collect();
            let current = Current {
                id: id.clone(),
                fingerprint: fingerprint(members.iter().map(|(a, b)| (a.as_str(), b.as_str()))),
                members,
            };
            let decision = decide(&current, dispatched.get(id), options.all);
            Planned {
                current,
                grouping: community.grouping,
                internal_links: community.internal_links,
                decision,
            }
        })
        .collect();

    let observed = Observed {
        live_documents: registry.live.len(),
        deleted_documents: registry.deleted,
        communities: planned.len(),
        topic_messages: topic.messages,
        registry_indexed_at: registry.last_indexed_at,
        indexer_lag: topic.indexer_lag,
    };
    let baseline = store::baseline(pool).await?;
    let starving = starving::check(
        &observed,
        baseline.as_ref(),
        config.dispatcher.stale_registry_check,
    );
    let inputs = RunInputs {
        topic_messages: topic.messages,
        registry_indexed_at: registry.last_indexed_at,
        live_documents: registry.live.len(),
        links_resolved: graph.resolved,
        links_unresolved: graph.unresolved.len(),
    };
    let changed_communities = planned
        .iter()
        .filter(|p| matches!(p.decision.reason, Some(Reason::New | Reason::Changed)))
        .count();

    let mut report = Report {
        run_id,
        dry_run: options.dry_run,
        all: options.all,
        result: RunResult::Unchanged,
        starving: None,
        work_items_topic: config.dispatcher.work_items_topic.clone(),
        documents: registry.live.len(),
        deleted_documents: registry.deleted,
        links_resolved: graph.resolved,
        links_unresolved: graph.unresolved.len(),
        links_external: graph.external,
        unresolved_sample: graph
            .unresolved
            .iter()
            .take(UNRESOLVED_SHOWN)
            .cloned()
            .collect(),
        communities: planned
            .iter()
            .map(|p| CommunityReport {
                community_id: p.current.id.clone(),
                size: p.current.members.len(),
                grouping: p.grouping,
                reason: p.decision.reason,
                changed_members: p.decision.changed_members.len(),
                removed_members: p.decision.removed_members.len(),
                titles: p
                    .current
                    .members
                    .iter()
                    .take(TITLES_SHOWN)
                    .filter_map(|(id, _)| docs.get(id.as_str()).map(|d| d.title.clone()))
                    .collect(),
                published: false,
            })
            .collect(),
        changed_communities,
        work_items: 0,
        summary: String::new(),
    };

    if let Some(cause) = starving {
        let message = cause.to_string();
        tracing::error!(cause = %message, "dispatcher is starving");
        report.result = RunResult::Starving;
        report.summary = format!("dispatch: STARVING: {message}");
        report.starving = Some(message);
        if let Some(run_id) = run_id {
            store::record_inputs(pool, run_id, &inputs).await?;
            finish(pool, run_id, &report).await?;
        }
        return Ok(report);
    }

    let to_publish: Vec<usize> = planned
        .iter()
        .enumerate()
        .filter(|(_, p)| p.decision.reason.is_some())
        .map(|(i, _)| i)
        .collect();
    let Some(run_id) = run_id else {
        report.work_items = to_publish.len();
        report.result = if to_publish.is_empty() {
            RunResult::Unchanged
        } else {
            RunResult::Published
        };
        report.summary = summary(&report);
        return Ok(report);
    };

    let dispatched_at = Utc::now();
    let trace = options
        .traceparent
        .clone()
        .map(|traceparent| Trace { traceparent });
    let mut outgoing = Vec::with_capacity(to_publish.len());
    let mut sent = Vec::with_capacity(to_publish.len());
    for &i in &to_publish {
        let Some(reason) = planned[i].decision.reason else {
            continue; // to_publish holds only communities with a reason
        };
        let item = work_item(
            &planned[i],
            reason,
            &docs,
            run_id,
            dispatched_at,
            trace.clone(),
        );
        let payload = serde_json::to_vec(&item).map_err(|source| DispatchError::Encode {
            community_id: item.community_id.clone(),
            source,
        })?;
        sent.push(i);
        outgoing.push(Outgoing {
            key: item.community_id.clone(),
            payload,
            reason: item.reason.as_str().to_string(),
            traceparent: options.traceparent.clone(),
        });
    }
    if !outgoing.is_empty() {
        let publisher =
            WorkItemPublisher::connect(&config.kafka, &config.dispatcher.work_items_topic)?;
        let results = publisher.publish(&outgoing).await;
        let mut first_error = None;
        for (&i, result) in sent.iter().zip(results) {
            match result {
                Ok(()) => {
                    let p = &planned[i];
                    let members: BTreeMap<String, String> =
                        p.current.members.iter().cloned().collect();
                    store::record_dispatch(
                        pool,
                        run_id,
                        &p.current.id,
                        &p.current.fingerprint,
                        &members,
                        dispatched_at,
                    )
                    .await?;
                    report.communities[i].published = true;
                    report.work_items += 1;
                }
                Err(err) => {
                    tracing::error!(community_id = %planned[i].current.id, error = %err, "work item not acknowledged");
                    if first_error.is_none() {
                        first_error = Some(err);
                    }
                }
            }
        }
        if let Some(first_error) = first_error {
            return Err(DispatchError::Incomplete {
                acked: report.work_items,
                total: outgoing.len(),
                first_error,
            });
        }
    }

    // Only after a complete run: communities that vanished are retired, and
    // the Jira keys seen are remembered for moved-key resolution.
    let current_ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let vanished: Vec<String> = dispatched
        .keys()
        .filter(|id| !current_ids.contains(id.as_str()))
        .cloned()
        .collect();
    store::retire(pool, &vanished).await?;
    let seen_keys: Vec<KnownKey> = registry
        .live
        .iter()
        .filter(|d| d.kind == "jira")
        .filter_map(|d| {
            Some(KnownKey {
                instance: d.instance.clone(),
                key: d.jira_key(),
                issue_id: d.jira_issue_id()?,
            })
        })
        .collect();
    store::remember_keys(pool, &seen_keys).await?;

    report.result = if report.work_items > 0 {
        RunResult::Published
    } else {
        RunResult::Unchanged
    };
    report.summary = summary(&report);
    store::record_inputs(pool, run_id, &inputs).await?;
    finish(pool, run_id, &report).await?;
    tracing::info!(
        run_id,
        result = report.result.as_str(),
        communities = report.communities.len(),
        changed = report.changed_communities,
        work_items = report.work_items,
        elapsed_ms = (Utc::now() - started).num_milliseconds(),
        "dispatch finished"
    );
    Ok(report)
}

async fn finish(pool: &PgPool, run_id: i64, report: &Report) -> Result<(), DispatchError> {
    store::finish_run(
        pool,
        run_id,
        &RunOutcome {
            result: report.result.as_str(),
            communities: report.communities.len(),
            changed_communities: report.changed_communities,
            work_items: report.work_items,
            message: report.starving.as_deref().unwrap_or(&report.summary),
        },
    )
    .await
}

fn work_item(
    p: &Planned,
    reason: Reason,
    docs: &HashMap<&str, &CorpusDoc>,
    run_id: i64,
    dispatched_at: DateTime<Utc>,
    trace: Option<Trace>,
) -> WorkItem {
    let changed: BTreeSet<&str> = p
        .decision
        .changed_members
        .iter()
        .map(String::as_str)
        .collect();
    let members: Vec<Member> = p
        .current
        .members
        .iter()
        .filter_map(|(id, hash)| {
            let doc = docs.get(id.as_str())?;
            Some(Member {
                id: id.clone(),
                title: doc.title.clone(),
                url: doc.url.clone(),
                source: Source {
                    kind: doc.kind.clone(),
                    instance: doc.instance.clone(),
                },
                content_hash: hash.clone(),
                changed: changed.contains(id.as_str()),
            })
        })
        .collect();
    WorkItem {
        schema_version: WORK_ITEM_SCHEMA_VERSION,
        community_id: p.current.id.clone(),
        reason,
        run_id,
        dispatched_at,
        fingerprint: p.current.fingerprint.clone(),
        previous_fingerprint: p.decision.previous_fingerprint.clone(),
        grouping: p.grouping,
        sizes: Sizes {
            members: members.len(),
            changed: p.decision.changed_members.len(),
            removed: p.decision.removed_members.len(),
            internal_links: p.internal_links as u64,
        },
        members,
        changed_members: p.decision.changed_members.clone(),
        removed_members: p.decision.removed_members.clone(),
        trace,
    }
}

/// The last line of the report.
pub fn summary(report: &Report) -> String {
    let verb = if report.dry_run {
        "would be published"
    } else {
        "published"
    };
    format!(
        "dispatch: {} documents, {} communities, {} changed communities, {} work items {verb} to {}{}",
        report.documents,
        report.communities.len(),
        report.changed_communities,
        report.work_items,
        report.work_items_topic,
        if report.links_unresolved > 0 {
            format!("; {} unresolved links", report.links_unresolved)
        } else {
            String::new()
        }
    )
}
