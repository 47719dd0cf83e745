//! PostgreSQL I/O: the registry the dispatcher reads, and its own tables
//! (`migrations/20261202000010_dispatches.sql`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Row};
use tributary_core::Link;

use crate::corpus::CorpusDoc;
use crate::error::DispatchError;
use crate::identity::PreviousCommunity;
use crate::plan::Dispatched;
use crate::resolve::KnownKey;
use crate::starving::Baseline;

/// The registry as the dispatcher needs it.
#[derive(Debug, Default)]
pub struct Registry {
    pub live: Vec<CorpusDoc>,
    pub deleted: usize,
    pub last_indexed_at: Option<DateTime<Utc>>,
}

pub async fn load_registry(pool: &PgPool) -> Result<Registry, DispatchError> {
    let rows = sqlx::query(
        "SELECT doc_id, source_kind, source_instance, title, url, content_hash, links, metadata,
                deleted, indexed_at
         FROM documents ORDER BY doc_id",
    )
    .fetch_all(pool)
    .await?;
    let mut registry = Registry::default();
    for row in rows {
        let indexed_at: DateTime<Utc> = row.try_get("indexed_at")?;
        registry.last_indexed_at = registry.last_indexed_at.max(Some(indexed_at));
        if row.try_get::<bool, _>("deleted")? {
            registry.deleted += 1;
            continue;
        }
        let id: String = row.try_get("doc_id")?;
        let links: Value = row.try_get("links")?;
        let links: Vec<Link> =
            serde_json::from_value(links).map_err(|source| DispatchError::BadRow {
                doc_id: id.clone(),
                column: "links",
                source,
            })?;
        let metadata = match row.try_get::<Option<Value>, _>("metadata")? {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(other) => {
                return Err(DispatchError::BadRow {
                    doc_id: id,
                    column: "metadata",
                    source: serde::de::Error::custom(format!("not an object: {other}")),
                })
            }
        };
        registry.live.push(CorpusDoc {
            id,
            kind: row.try_get("source_kind")?,
            instance: row.try_get("source_instance")?,
            title: row.try_get("title")?,
            url: row.try_get("url")?,
            content_hash: row.try_get("content_hash")?,
            links,
            metadata,
        });
    }
    Ok(registry)
}

pub async fn known_keys(pool: &PgPool) -> Result<Vec<KnownKey>, DispatchError> {
    let rows = sqlx::query(
        "SELECT source_instance, issue_key, issue_id FROM dispatch_jira_keys ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(KnownKey {
                instance: r.try_get("source_instance")?,
                key: r.try_get("issue_key")?,
                issue_id: r.try_get("issue_id")?,
            })
        })
        .collect()
}

pub async fn remember_keys(pool: &PgPool, keys: &[KnownKey]) -> Result<(), DispatchError> {
    let mut tx = pool.begin().await?;
    for k in keys {
        sqlx::query(
            "INSERT INTO dispatch_jira_keys (source_instance, issue_key, issue_id, last_seen_at)
             VALUES ($1, $2, $3, now())
             ON CONFLICT (source_instance, issue_key) DO UPDATE
             SET issue_id = EXCLUDED.issue_id, last_seen_at = now()",
        )
        .bind(&k.instance)
        .bind(&k.key)
        .bind(&k.issue_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The active (not retired) dispatched communities.
pub async fn dispatched(pool: &PgPool) -> Result<BTreeMap<String, Dispatched>, DispatchError> {
    let rows = sqlx::query(
        "SELECT community_id, fingerprint, members FROM dispatch_communities
         WHERE retired_at IS NULL ORDER BY community_id",
    )
    .fetch_all(pool)
    .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let id: String = r.try_get("community_id")?;
        let members: Value = r.try_get("members")?;
        let members: BTreeMap<String, String> =
            serde_json::from_value(members).map_err(|source| DispatchError::BadRow {
                doc_id: id.clone(),
                column: "dispatch_communities.members",
                source,
            })?;
        out.insert(
            id,
            Dispatched {
                fingerprint: r.try_get("fingerprint")?,
                members,
            },
        );
    }
    Ok(out)
}

pub fn previous_communities(dispatched: &BTreeMap<String, Dispatched>) -> Vec<PreviousCommunity> {
    dispatched
        .iter()
        .map(|(id, d)| PreviousCommunity {
            id: id.clone(),
            members: d.members.keys().cloned().collect::<BTreeSet<_>>(),
        })
        .collect()
}

/// Records one community's dispatch. Called only after Kafka acknowledged
/// its work item.
pub async fn record_dispatch(
    pool: &PgPool,
    run_id: i64,
    community_id: &str,
    fingerprint: &str,
    members: &BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> Result<(), DispatchError> {
    let members_json = serde_json::to_value(members).map_err(|source| DispatchError::BadRow {
        doc_id: community_id.to_string(),
        column: "dispatch_communities.members",
        source,
    })?;
    sqlx::query(
        "INSERT INTO dispatch_communities
           (community_id, fingerprint, members, size, first_dispatched_at, last_dispatched_at,
            last_run_id, retired_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6, NULL)
         ON CONFLICT (community_id) DO UPDATE SET
           fingerprint = EXCLUDED.fingerprint, members = EXCLUDED.members, size = EXCLUDED.size,
           last_dispatched_at = EXCLUDED.last_dispatched_at, last_run_id = EXCLUDED.last_run_id,
           retired_at = NULL",
    )
    .bind(community_id)
    .bind(fingerprint)
    .bind(members_json)
    .bind(i32::try_from(members.len()).unwrap_or(i32::MAX))
    .bind(at)
    .bind(run_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Retires communities that no longer exist (their members are gone or
/// belong to other communities now).
pub async fn retire(pool: &PgPool, ids: &[String]) -> Result<(), DispatchError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE dispatch_communities SET retired_at = now()
         WHERE community_id = ANY($1) AND retired_at IS NULL",
    )
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(())
}

/// The inputs of the latest healthy (published or unchanged) run.
pub async fn baseline(pool: &PgPool) -> Result<Option<Baseline>, DispatchError> {
    let row = sqlx::query(
        "SELECT i.documents_topic_messages, i.registry_indexed_at
         FROM dispatch_run_inputs i JOIN dispatch_runs r USING (run_id)
         WHERE r.result IN ('published', 'unchanged')
         ORDER BY r.run_id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok::<_, DispatchError>(Baseline {
            topic_messages: r.try_get("documents_topic_messages")?,
            registry_indexed_at: r.try_get("registry_indexed_at")?,
        })
    })
    .transpose()
}

pub async fn start_run(pool: &PgPool, at: DateTime<Utc>) -> Result<i64, DispatchError> {
    let row = sqlx::query(
        "INSERT INTO dispatch_runs (started_at, result) VALUES ($1, 'running') RETURNING run_id",
    )
    .bind(at)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get("run_id")?)
}

/// What a run saw, for the next run's stale-registry check.
#[derive(Debug, Clone)]
pub struct RunInputs {
    pub topic_messages: i64,
    pub registry_indexed_at: Option<DateTime<Utc>>,
    pub live_documents: usize,
    pub links_resolved: usize,
    pub links_unresolved: usize,
}

pub async fn record_inputs(
    pool: &PgPool,
    run_id: i64,
    inputs: &RunInputs,
) -> Result<(), DispatchError> {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    sqlx::query(
        "INSERT INTO dispatch_run_inputs
           (run_id, documents_topic_messages, registry_indexed_at, live_documents,
            links_resolved, links_unresolved)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (run_id) DO NOTHING",
    )
    .bind(run_id)
    .bind(inputs.topic_messages)
    .bind(inputs.registry_indexed_at)
    .bind(count(inputs.live_documents))
    .bind(count(inputs.links_resolved))
    .bind(count(inputs.links_unresolved))
    .execute(pool)
    .await?;
    Ok(())
}

/// The final state of a run row.
#[derive(Debug, Clone)]
pub struct RunOutcome<'a> {
    pub result: &'a str,
    pub communities: usize,
    pub changed_communities: usize,
    pub work_items: usize,
    pub message: &'a str,
}

pub async fn finish_run(
    pool: &PgPool,
    run_id: i64,
    outcome: &RunOutcome<'_>,
) -> Result<(), DispatchError> {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    sqlx::query(
        "UPDATE dispatch_runs SET finished_at = now(), result = $2, communities = $3,
           changed_communities = $4, work_items = $5, message = $6
         WHERE run_id = $1",
    )
    .bind(run_id)
    .bind(outcome.result)
    .bind(count(outcome.communities))
    .bind(count(outcome.changed_communities))
    .bind(count(outcome.work_items))
    .bind(outcome.message)
    .execute(pool)
    .await?;
    Ok(())
}
