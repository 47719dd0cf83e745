//! One event per answered `/search`: its log line and its metrics together
//! (the same rule as `crate::events`). The query text is never logged or
//! labelled: it may say more than an operator should read.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use tributary_core::metrics as registry;

/// How a request ended; the bounded `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Hits (possibly none) sent.
    Answered,
    /// Refused as a client error (4xx).
    Refused,
    /// The model and the store are not open yet (503).
    Starting,
    /// The embedder or the store failed (5xx).
    Failed,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Refused => "refused",
            Outcome::Starting => "starting",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

struct Metrics {
    requests: Family<OutcomeLabel, Counter>,
    seconds: Histogram,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let m = Metrics {
            requests: Family::default(),
            seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
        };
        for outcome in [
            Outcome::Answered,
            Outcome::Refused,
            Outcome::Starting,
            Outcome::Failed,
        ] {
            m.requests
                .get_or_create(&OutcomeLabel {
                    outcome: outcome.label().into(),
                })
                .inc_by(0);
        }
        registry::register(|r| {
            r.register(
                "tributary_search_requests",
                "Requests to /search of tributary serve, by outcome (answered, refused, starting, failed)",
                m.requests.clone(),
            );
            r.register(
                "tributary_search_duration_seconds",
                "Time to answer one /search request (embedding the query and ranking)",
                m.seconds.clone(),
            );
        });
        m
    })
}

/// Registers the families, so `/metrics` shows them before the first request.
pub fn init() {
    metrics();
}

/// One request to `/search`, finished.
pub struct SearchServed<'a> {
    pub outcome: Outcome,
    pub hits: usize,
    pub elapsed: Duration,
    /// Why it was refused or failed.
    pub error: Option<&'a str>,
}

impl SearchServed<'_> {
    pub fn emit(&self) {
        let m = metrics();
        m.requests
            .get_or_create(&OutcomeLabel {
                outcome: self.outcome.label().into(),
            })
            .inc();
        let elapsed_ms = self.elapsed.as_millis() as u64;
        match self.outcome {
            Outcome::Answered => {
                m.seconds.observe(self.elapsed.as_secs_f64());
                tracing::debug!(hits = self.hits, elapsed_ms, "search answered");
            }
            Outcome::Refused | Outcome::Starting => {
                tracing::debug!(
                    outcome = self.outcome.label(),
                    error = self.error,
                    "search refused"
                );
            }
            Outcome::Failed => {
                tracing::warn!(error = self.error, elapsed_ms, "search failed");
            }
        }
    }
}
