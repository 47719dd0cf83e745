//! From facts to verdicts: one line per component, each `ok`, `degraded`
//! or `failing`, and an exit code scripts can use (0, 1, 2). Pure: the
//! facts are gathered in `gather.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tributary_core::config::StatusConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Degraded,
    Failing,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Degraded => 1,
            Verdict::Failing => 2,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Degraded => "degraded",
            Verdict::Failing => "failing",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub component: String,
    pub verdict: Verdict,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectorFacts {
    pub connector_id: String,
    pub last_run_status: Option<String>,
    pub last_run_finished_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub watermark: Option<DateTime<Utc>>,
    pub docs_produced: i64,
    pub last_run_docs: i64,
    pub last_run_error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexerFacts {
    pub instance: String,
    pub paused_since: Option<DateTime<Utc>>,
    pub last_indexed_at: Option<DateTime<Utc>>,
    pub lag: Option<i64>,
    /// Its last heartbeat said it was exiting.
    pub stopped_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DispatcherFacts {
    pub last_result: Option<String>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_message: Option<String>,
    pub communities: Option<i32>,
    pub work_items_total: i64,
}

/// Everything `status` looked at. A `Err(String)` is a component that
/// could not be read, with why.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub now: DateTime<Utc>,
    pub kafka: Result<String, String>,
    pub database: Result<(), String>,
    pub connectors: Vec<ConnectorFacts>,
    pub indexers: Vec<IndexerFacts>,
    /// Messages on the documents topic past the indexer group's commits.
    pub backlog: Result<i64, String>,
    pub dlq_pending: Result<BTreeMap<String, usize>, String>,
    /// `None`: the dispatcher has never run.
    pub dispatcher: Option<DispatcherFacts>,
    pub corpus: BTreeMap<String, i64>,
    pub deleted: i64,
}

fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s}s ago"),
        s if s < 7200 => format!("{}m ago", s / 60),
        s if s < 172_800 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

fn line(component: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Line {
    Line {
        component: component.into(),
        verdict,
        detail: detail.into(),
    }
}

/// One verdict per component, in a fixed order.
pub fn judge(f: &Facts, t: &StatusConfig) -> Vec<Line> {
    let mut out = Vec::new();
    out.push(match &f.kafka {
        Ok(detail) => line("kafka", Verdict::Ok, detail.clone()),
        Err(e) => line("kafka", Verdict::Failing, e.clone()),
    });
    if let Err(e) = &f.database {
        out.push(line("database", Verdict::Failing, e.clone()));
        return out;
    }
    out.push(line("database", Verdict::Ok, "schema current"));
    out.extend(connectors(f, t));
    out.push(indexer(f, t));
    out.push(dlq(f));
    out.push(dispatcher(f, t));
    out.push(corpus(f));
    out
}

fn connectors(f: &Facts, t: &StatusConfig) -> Vec<Line> {
    if f.connectors.is_empty() {
        return vec![line(
            "connectors",
            Verdict::Degraded,
            "no connector has run yet (`tributary sync ...`)",
        )];
    }
    let stale = Duration::seconds(i64::try_from(t.connector_stale_secs).unwrap_or(i64::MAX));
    f.connectors
        .iter()
        .map(|c| {
            let name = format!("connector {}", c.connector_id);
            let facts = format!(
                "watermark {}, {} published ({} last run)",
                c.watermark.map_or("-".into(), |w| w.to_rfc3339()),
                c.docs_produced,
                c.last_run_docs
            );
            let success = c
                .last_success_at
                .map_or("never succeeded".to_string(), |s| {
                    format!("last success {}", ago(f.now, s))
                });
            match c.last_run_status.as_deref() {
                Some("failed") => line(
                    name,
                    Verdict::Failing,
                    format!(
                        "last run failed {}: {}; {success}; {facts}",
                        c.last_run_finished_at
                            .map_or("-".into(), |at| ago(f.now, at)),
                        c.last_run_error.as_deref().unwrap_or("(no error recorded)")
                    ),
                ),
                _ => match c.last_success_at {
                    None => line(name, Verdict::Degraded, format!("{success}; {facts}")),
                    Some(s) if f.now - s > stale => line(
                        name,
                        Verdict::Degraded,
                        format!(
                            "no successful run for over {}s ({success}); {facts}",
                            t.connector_stale_secs
                        ),
                    ),
                    Some(_) => line(name, Verdict::Ok, format!("{success}; {facts}")),
                },
            }
        })
        .collect()
}

fn indexer(f: &Facts, t: &StatusConfig) -> Line {
    let backlog = match &f.backlog {
        Ok(n) => *n,
        Err(e) => return line("indexer", Verdict::Failing, format!("backlog unknown: {e}")),
    };
    let stale = Duration::seconds(i64::try_from(t.indexer_stale_secs).unwrap_or(i64::MAX));
    let alive: Vec<&IndexerFacts> = f
        .indexers
        .iter()
        .filter(|i| i.stopped_at.is_none() && f.now - i.updated_at <= stale)
        .collect();
    let last_indexed = f
        .indexers
        .iter()
        .filter_map(|i| i.last_indexed_at)
        .max()
        .map_or("never".to_string(), |t| ago(f.now, t));
    if alive.is_empty() {
        let seen =
            f.indexers
                .iter()
                .max_by_key(|i| i.updated_at)
                .map_or("never seen".to_string(), |i| match i.stopped_at {
                    Some(t) => format!("stopped {}", ago(f.now, t)),
                    None => format!("last seen {}", ago(f.now, i.updated_at)),
                });
        let verdict = if backlog > 0 {
            Verdict::Failing
        } else {
            Verdict::Degraded
        };
        return line(
            "indexer",
            verdict,
            format!(
                "not running ({seen}); {backlog} messages waiting; last indexed {last_indexed}"
            ),
        );
    }
    let paused: Vec<DateTime<Utc>> = alive.iter().filter_map(|i| i.paused_since).collect();
    let detail = format!(
        "{} running, {backlog} messages waiting, last indexed {last_indexed}",
        alive.len()
    );
    match paused.iter().min() {
        Some(since) => {
            let failing = f.now - *since
                > Duration::seconds(
                    i64::try_from(t.indexer_paused_failing_secs).unwrap_or(i64::MAX),
                );
            line(
                "indexer",
                if failing {
                    Verdict::Failing
                } else {
                    Verdict::Degraded
                },
                format!(
                    "paused by an outage since {} (see its log); {detail}",
                    ago(f.now, *since)
                ),
            )
        }
        None => line("indexer", Verdict::Ok, detail),
    }
}

fn dlq(f: &Facts) -> Line {
    match &f.dlq_pending {
        Err(e) => line("dlq", Verdict::Degraded, format!("could not read: {e}")),
        Ok(by_class) if by_class.is_empty() => line("dlq", Verdict::Ok, "0 pending"),
        Ok(by_class) => {
            let total: usize = by_class.values().sum();
            let classes: Vec<String> = by_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
            line(
                "dlq",
                Verdict::Degraded,
                format!(
                    "{total} pending ({}); `tributary dlq stats`",
                    classes.join(", ")
                ),
            )
        }
    }
}

fn dispatcher(f: &Facts, t: &StatusConfig) -> Line {
    let Some(d) = &f.dispatcher else {
        return line(
            "dispatcher",
            Verdict::Degraded,
            "has never run (`tributary dispatch`)",
        );
    };
    let when = d
        .last_finished_at
        .map_or("-".to_string(), |at| ago(f.now, at));
    let facts = format!(
        "{} communities, {} work items published in all",
        d.communities.map_or("-".into(), |c| c.to_string()),
        d.work_items_total
    );
    match d.last_result.as_deref() {
        Some("starving") => line(
            "dispatcher",
            Verdict::Failing,
            format!(
                "starving {when}: {}",
                d.last_message.as_deref().unwrap_or("nothing to work on")
            ),
        ),
        Some("failed") => line(
            "dispatcher",
            Verdict::Failing,
            format!(
                "last run failed {when}: {}",
                d.last_message.as_deref().unwrap_or("(no error recorded)")
            ),
        ),
        _ => {
            let stale =
                Duration::seconds(i64::try_from(t.dispatcher_stale_secs).unwrap_or(i64::MAX));
            match d.last_success_at {
                Some(s) if f.now - s <= stale => line(
                    "dispatcher",
                    Verdict::Ok,
                    format!(
                        "last run {} {when}; {facts}",
                        d.last_result.as_deref().unwrap_or("-")
                    ),
                ),
                _ => line(
                    "dispatcher",
                    Verdict::Degraded,
                    format!(
                        "no successful run for over {}s; {facts}",
                        t.dispatcher_stale_secs
                    ),
                ),
            }
        }
    }
}

fn corpus(f: &Facts) -> Line {
    let total: i64 = f.corpus.values().sum();
    if total == 0 {
        return line(
            "corpus",
            Verdict::Degraded,
            "no documents are indexed (is the indexer running and caught up?)",
        );
    }
    let per: Vec<String> = f.corpus.iter().map(|(s, n)| format!("{s} {n}")).collect();
    line(
        "corpus",
        Verdict::Ok,
        format!(
            "{total} documents ({}), {} deleted",
            per.join(", "),
            f.deleted
        ),
    )
}

/// The worst verdict: what the exit code reports.
pub fn overall(lines: &[Line]) -> Verdict {
    lines.iter().map(|l| l.verdict).max().unwrap_or(Verdict::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn healthy() -> Facts {
        let now = now();
        Facts {
            now,
            kafka: Ok("topic has 3 partitions".into()),
            database: Ok(()),
            connectors: vec![ConnectorFacts {
                connector_id: "vault:notes".into(),
                last_run_status: Some("succeeded".into()),
                last_run_finished_at: Some(now - Duration::minutes(5)),
                last_success_at: Some(now - Duration::minutes(5)),
                docs_produced: 36,
                ..ConnectorFacts::default()
            }],
            indexers: vec![IndexerFacts {
                instance: "a".into(),
                updated_at: now - Duration::seconds(10),
                last_indexed_at: Some(now - Duration::minutes(4)),
                ..IndexerFacts::default()
            }],
            backlog: Ok(0),
            dlq_pending: Ok(BTreeMap::new()),
            dispatcher: Some(DispatcherFacts {
                last_result: Some("unchanged".into()),
                last_finished_at: Some(now - Duration::hours(1)),
                last_success_at: Some(now - Duration::hours(1)),
                communities: Some(4),
                ..DispatcherFacts::default()
            }),
            corpus: [("vault".to_string(), 36)].into_iter().collect(),
            deleted: 0,
        }
    }

    fn verdict_of(lines: &[Line], component: &str) -> Verdict {
        lines
            .iter()
            .find(|l| l.component.starts_with(component))
            .map(|l| l.verdict)
            .unwrap_or(Verdict::Ok)
    }

    #[test]
    fn a_healthy_pipeline_is_ok() {
        let lines = judge(&healthy(), &StatusConfig::default());
        assert_eq!(overall(&lines), Verdict::Ok, "{lines:?}");
        assert_eq!(overall(&lines).exit_code(), 0);
    }

    #[test]
    fn a_producer_with_no_consumer_fails() {
        let mut f = healthy();
        f.indexers[0].updated_at = f.now - Duration::hours(3);
        f.backlog = Ok(600);
        let lines = judge(&f, &StatusConfig::default());
        assert_eq!(verdict_of(&lines, "indexer"), Verdict::Failing);
        assert_eq!(overall(&lines).exit_code(), 2);
        // Nothing waiting: stopped, not failing.
        f.backlog = Ok(0);
        let lines = judge(&f, &StatusConfig::default());
        assert_eq!(verdict_of(&lines, "indexer"), Verdict::Degraded);
        // An indexer that said it exited is not running, however recent.
        f.indexers[0].updated_at = f.now;
        f.indexers[0].stopped_at = Some(f.now);
        f.backlog = Ok(5);
        let lines = judge(&f, &StatusConfig::default());
        assert_eq!(verdict_of(&lines, "indexer"), Verdict::Failing);
    }

    #[test]
    fn a_long_pause_fails_a_short_one_degrades() {
        let mut f = healthy();
        f.indexers[0].paused_since = Some(f.now - Duration::minutes(2));
        assert_eq!(
            verdict_of(&judge(&f, &StatusConfig::default()), "indexer"),
            Verdict::Degraded
        );
        f.indexers[0].paused_since = Some(f.now - Duration::hours(1));
        assert_eq!(
            verdict_of(&judge(&f, &StatusConfig::default()), "indexer"),
            Verdict::Failing
        );
    }

    #[test]
    fn stale_and_failed_connectors() {
        let mut f = healthy();
        f.connectors[0].last_success_at = Some(f.now - Duration::hours(2));
        assert_eq!(
            verdict_of(&judge(&f, &StatusConfig::default()), "connector"),
            Verdict::Degraded
        );
        f.connectors[0].last_run_status = Some("failed".into());
        assert_eq!(
            verdict_of(&judge(&f, &StatusConfig::default()), "connector"),
            Verdict::Failing
        );
    }

    #[test]
    fn a_starving_dispatcher_fails_and_an_empty_corpus_degrades() {
        let mut f = healthy();
        if let Some(d) = f.dispatcher.as_mut() {
            d.last_result = Some("starving".into());
        }
        f.corpus.clear();
        let lines = judge(&f, &StatusConfig::default());
        assert_eq!(verdict_of(&lines, "dispatcher"), Verdict::Failing);
        assert_eq!(verdict_of(&lines, "corpus"), Verdict::Degraded);
    }

    #[test]
    fn pending_dead_letters_degrade_and_a_database_error_fails() {
        let mut f = healthy();
        f.dlq_pending = Ok([("InvalidJson".to_string(), 2)].into_iter().collect());
        assert_eq!(
            verdict_of(&judge(&f, &StatusConfig::default()), "dlq"),
            Verdict::Degraded
        );
        f.database = Err("schema behind".into());
        let lines = judge(&f, &StatusConfig::default());
        assert_eq!(overall(&lines), Verdict::Failing);
        assert_eq!(lines.len(), 2);
    }
}
