//! Starving: the dispatcher has nothing to work on, and must say so loudly
//! (exit 2, a `starving` run) instead of publishing nothing in silence.
//! "Nothing changed" is not starving: that is a healthy, quiet corpus.

use std::fmt;

use chrono::{DateTime, Utc};

/// What this run saw of its inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub live_documents: usize,
    pub deleted_documents: usize,
    pub communities: usize,
    /// Sum of the documents topic's high watermarks: messages ever written.
    pub topic_messages: i64,
    /// `max(documents.indexed_at)`: when the registry last changed.
    pub registry_indexed_at: Option<DateTime<Utc>>,
    /// Messages of the documents topic the indexer's group has not consumed.
    pub indexer_lag: i64,
}

/// What the last healthy (published or unchanged) run saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub topic_messages: i64,
    pub registry_indexed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Starving {
    NoDocuments,
    AllDeleted { deleted: usize },
    EmptyGraph { documents: usize },
    StaleRegistry { topic_growth: i64, lag: i64 },
}

/// `Some` when the run is starving. The stale check needs a baseline: the
/// topic grew since the last healthy run, the registry did not change since
/// then, and the indexer's group is behind (so the growth is not merely
/// re-sent unchanged documents the indexer skipped).
pub fn check(
    observed: &Observed,
    baseline: Option<&Baseline>,
    stale_check: bool,
) -> Option<Starving> {
    if observed.live_documents == 0 {
        return Some(if observed.deleted_documents > 0 {
            Starving::AllDeleted {
                deleted: observed.deleted_documents,
            }
        } else {
            Starving::NoDocuments
        });
    }
    if observed.communities == 0 {
        return Some(Starving::EmptyGraph {
            documents: observed.live_documents,
        });
    }
    let baseline = baseline.filter(|_| stale_check)?;
    let growth = observed.topic_messages - baseline.topic_messages;
    let registry_unchanged = observed.registry_indexed_at <= baseline.registry_indexed_at;
    (growth > 0 && registry_unchanged && observed.indexer_lag > 0).then_some(
        Starving::StaleRegistry {
            topic_growth: growth,
            lag: observed.indexer_lag,
        },
    )
}

impl fmt::Display for Starving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Starving::NoDocuments => write!(
                f,
                "no documents are indexed — is the indexer running and caught up? `tributary status`"
            ),
            Starving::AllDeleted { deleted } => write!(
                f,
                "no live documents: all {deleted} indexed documents are deleted — did a connector \
                 prune its whole source? is the indexer running and caught up? `tributary status`"
            ),
            Starving::EmptyGraph { documents } => write!(
                f,
                "the graph is empty: {documents} documents indexed but no community formed — \
                 `tributary status`"
            ),
            Starving::StaleRegistry { topic_growth, lag } => write!(
                f,
                "the registry has not changed since the last dispatch while the documents topic grew \
                 by {topic_growth} messages and the indexer's group is {lag} messages behind — is the \
                 indexer running and caught up? `tributary status`"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed() -> Observed {
        Observed {
            live_documents: 10,
            deleted_documents: 0,
            communities: 3,
            topic_messages: 100,
            registry_indexed_at: DateTime::from_timestamp(1_000, 0),
            indexer_lag: 0,
        }
    }

    #[test]
    fn an_empty_registry_is_starving_with_the_message() {
        let mut o = observed();
        o.live_documents = 0;
        let s = check(&o, None, true).expect("starving");
        assert_eq!(s, Starving::NoDocuments);
        assert!(s.to_string().contains("no documents are indexed"));
        o.deleted_documents = 4;
        assert_eq!(
            check(&o, None, true),
            Some(Starving::AllDeleted { deleted: 4 })
        );
        let mut g = observed();
        g.communities = 0;
        assert_eq!(
            check(&g, None, true),
            Some(Starving::EmptyGraph { documents: 10 })
        );
    }

    #[test]
    fn nothing_changed_is_not_starving() {
        let o = observed();
        let baseline = Baseline {
            topic_messages: 100,
            registry_indexed_at: o.registry_indexed_at,
        };
        assert_eq!(check(&o, Some(&baseline), true), None);
        assert_eq!(check(&o, None, true), None);
    }

    #[test]
    fn a_stale_registry_while_the_topic_grew_and_the_indexer_lags_is_starving() {
        let mut o = observed();
        o.topic_messages = 130;
        o.indexer_lag = 30;
        let baseline = Baseline {
            topic_messages: 100,
            registry_indexed_at: o.registry_indexed_at,
        };
        assert_eq!(
            check(&o, Some(&baseline), true),
            Some(Starving::StaleRegistry {
                topic_growth: 30,
                lag: 30
            })
        );
        assert_eq!(check(&o, Some(&baseline), false), None, "check disabled");
        // Caught up: the indexer skipped unchanged re-sends; not starving.
        o.indexer_lag = 0;
        assert_eq!(check(&o, Some(&baseline), true), None);
        // The registry moved: the indexer is working.
        o.indexer_lag = 30;
        o.registry_indexed_at = DateTime::from_timestamp(2_000, 0);
        assert_eq!(check(&o, Some(&baseline), true), None);
    }
}
