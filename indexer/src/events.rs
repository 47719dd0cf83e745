//! The indexer's internal events: each thing worth reporting is one struct
//! whose `emit()` writes its log line (a constant message with named
//! fields) and updates its metrics together, so logs and metrics never
//! disagree. Labels are bounded: outcome, dead-letter class, partition;
//! never a document id.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use tributary_core::metrics::{self as registry, now_seconds, FloatGauge};

use crate::pipeline::BatchStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Class {
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Partition {
    topic: String,
    partition: String,
}

struct Metrics {
    documents: Family<Outcome, Counter>,
    dead_letters: Family<Class, Counter>,
    chunks: Counter,
    embed_seconds: Histogram,
    embed_batch: Histogram,
    paused: Gauge,
    paused_seconds: Counter<f64, AtomicU64>,
    lag: Family<Partition, Gauge>,
    last_indexed: FloatGauge,
    rebalances: Counter,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let m = Metrics {
            documents: Family::default(),
            dead_letters: Family::default(),
            chunks: Counter::default(),
            embed_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            embed_batch: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            paused: Gauge::default(),
            paused_seconds: Counter::default(),
            lag: Family::default(),
            last_indexed: FloatGauge::default(),
            rebalances: Counter::default(),
        };
        // Every outcome exists from the start, at 0: `increase()` and the
        // alerts see a series before the first document.
        for outcome in ["indexed", "unchanged", "deleted"] {
            m.documents
                .get_or_create(&Outcome {
                    outcome: outcome.into(),
                })
                .inc_by(0);
        }
        registry::register(|r| {
            r.register(
                "tributary_indexer_documents",
                "Documents the indexer finished, by outcome (indexed, unchanged, deleted)",
                m.documents.clone(),
            );
            r.register(
                "tributary_indexer_dead_letters",
                "Messages written to the dead-letter topic (acknowledged), by class",
                m.dead_letters.clone(),
            );
            r.register(
                "tributary_indexer_chunks_upserted",
                "Chunks written to the vector store",
                m.chunks.clone(),
            );
            r.register(
                "tributary_indexer_embed_duration_seconds",
                "Time of one embedding call",
                m.embed_seconds.clone(),
            );
            r.register(
                "tributary_indexer_embed_batch_size",
                "Chunks per embedding call",
                m.embed_batch.clone(),
            );
            r.register(
                "tributary_indexer_paused",
                "1 while consumption is paused by an outage",
                m.paused.clone(),
            );
            r.register(
                "tributary_indexer_paused_seconds",
                "Seconds spent paused by outages",
                m.paused_seconds.clone(),
            );
            r.register(
                "tributary_indexer_consumer_lag",
                "Messages behind the end of each assigned partition",
                m.lag.clone(),
            );
            r.register(
                "tributary_indexer_last_indexed_timestamp_seconds",
                "When a document was last indexed or deleted",
                m.last_indexed.clone(),
            );
            r.register(
                "tributary_indexer_rebalances",
                "Consumer-group rebalances that assigned partitions",
                m.rebalances.clone(),
            );
        });
        m
    })
}

/// Liveness and readiness facts for `/healthz` and `/readyz`.
pub struct Health {
    /// The consumer loop made progress (a poll returned) at this time.
    heartbeat_ms: AtomicU64,
    /// Paused since this time (0: running).
    paused_since_ms: AtomicU64,
    /// A broker answered in librdkafka's last statistics.
    broker_up: AtomicBool,
    /// The consumer subscribed and started polling.
    started: AtomicBool,
}

pub fn health() -> &'static Health {
    static HEALTH: OnceLock<Health> = OnceLock::new();
    HEALTH.get_or_init(|| Health {
        heartbeat_ms: AtomicU64::new(0),
        paused_since_ms: AtomicU64::new(0),
        broker_up: AtomicBool::new(false),
        started: AtomicBool::new(false),
    })
}

fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    pub reason: String,
}

impl Health {
    pub fn beat(&self) {
        self.heartbeat_ms.store(now_ms(), Ordering::Relaxed);
    }

    pub fn started(&self) {
        self.started.store(true, Ordering::Relaxed);
        self.beat();
    }

    /// Alive unless the consumer loop has not polled for `stall`.
    pub fn live(&self, stall: Duration) -> bool {
        let last = self.heartbeat_ms.load(Ordering::Relaxed);
        !self.started.load(Ordering::Relaxed)
            || now_ms().saturating_sub(last) <= stall.as_millis() as u64
    }

    pub fn readiness(&self, max_paused: Duration) -> Readiness {
        readiness(
            self.started.load(Ordering::Relaxed),
            self.broker_up.load(Ordering::Relaxed),
            match self.paused_since_ms.load(Ordering::Relaxed) {
                0 => None,
                since => Some(Duration::from_millis(now_ms().saturating_sub(since))),
            },
            max_paused,
        )
    }
}

/// The readiness decision, separated from the clock for tests.
pub fn readiness(
    started: bool,
    broker_up: bool,
    paused_for: Option<Duration>,
    max_paused: Duration,
) -> Readiness {
    let (ready, reason) = match paused_for {
        _ if !started => (false, "consumer not started".to_string()),
        _ if !broker_up => (false, "no Kafka broker is up".to_string()),
        Some(p) if p > max_paused => (
            false,
            format!(
                "paused by an outage for {}s (over {}s)",
                p.as_secs(),
                max_paused.as_secs()
            ),
        ),
        _ => (true, "ok".to_string()),
    };
    Readiness { ready, reason }
}

/// What this indexer reports in its heartbeat row.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub paused_since: Option<chrono::DateTime<chrono::Utc>>,
    pub last_indexed: Option<chrono::DateTime<chrono::Utc>>,
    pub lag: Option<i64>,
}

pub fn snapshot() -> Snapshot {
    let at_ms = |ms: i64| chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms);
    let paused = health().paused_since_ms.load(Ordering::Relaxed);
    let last = metrics().last_indexed.get();
    Snapshot {
        paused_since: match paused {
            0 => None,
            ms => at_ms(i64::try_from(ms).unwrap_or(i64::MAX)),
        },
        last_indexed: if last > 0.0 {
            at_ms((last * 1000.0) as i64)
        } else {
            None
        },
        lag: total_lag(),
    }
}

/// Registers every indexer series, so `/metrics` shows them at 0 before
/// the first event.
pub fn init() {
    let _ = metrics();
}

/// A batch was applied and flushed.
pub struct BatchApplied {
    pub stats: BatchStats,
    pub messages: usize,
}

impl BatchApplied {
    pub fn emit(&self) {
        let m = metrics();
        let s = self.stats;
        for (outcome, n) in [
            ("indexed", s.indexed),
            ("unchanged", s.unchanged),
            ("deleted", s.deleted),
        ] {
            m.documents
                .get_or_create(&Outcome {
                    outcome: outcome.into(),
                })
                .inc_by(n);
        }
        m.chunks.inc_by(s.chunks);
        if s.indexed + s.deleted > 0 {
            m.last_indexed.set(now_seconds());
        }
        tracing::debug!(
            messages = self.messages,
            indexed = s.indexed,
            unchanged = s.unchanged,
            deleted = s.deleted,
            chunks = s.chunks,
            "batch applied"
        );
    }
}

/// A dead letter was acknowledged by the DLQ: logged once, here, not per
/// retry.
pub struct DeadLetterWritten<'a> {
    pub class: &'a str,
    pub key: Option<&'a str>,
    pub partition: i32,
    pub offset: i64,
    pub attempts: u32,
    pub reason: &'a str,
}

impl DeadLetterWritten<'_> {
    pub fn emit(&self) {
        metrics()
            .dead_letters
            .get_or_create(&Class {
                class: self.class.into(),
            })
            .inc();
        tracing::warn!(
            class = self.class,
            doc_id = self.key,
            partition = self.partition,
            offset = self.offset,
            attempts = self.attempts,
            reason = self.reason,
            "message dead-lettered"
        );
    }
}

/// One embedding call finished.
pub struct EmbedCompleted {
    pub inputs: usize,
    pub elapsed: Duration,
}

impl EmbedCompleted {
    pub fn emit(&self) {
        let m = metrics();
        m.embed_seconds.observe(self.elapsed.as_secs_f64());
        m.embed_batch.observe(self.inputs as f64);
    }
}

/// Consumption paused by an outage.
pub struct Paused<'a> {
    pub reason: &'a str,
}

impl Paused<'_> {
    pub fn emit(&self) {
        metrics().paused.set(1);
        health().paused_since_ms.store(now_ms(), Ordering::Relaxed);
        tracing::warn!(reason = self.reason, "indexer paused");
    }
}

/// Consumption resumed after a pause.
pub struct Resumed {
    pub paused_for: Duration,
}

impl Resumed {
    pub fn emit(&self) {
        let m = metrics();
        m.paused.set(0);
        m.paused_seconds.inc_by(self.paused_for.as_secs_f64());
        health().paused_since_ms.store(0, Ordering::Relaxed);
        tracing::info!(
            paused_ms = self.paused_for.as_millis() as u64,
            "indexer resumed"
        );
    }
}

/// A rebalance assigned partitions to this consumer.
pub struct PartitionsAssigned {
    pub count: usize,
}

impl PartitionsAssigned {
    pub fn emit(&self) {
        metrics().rebalances.inc();
        tracing::info!(count = self.count, "rebalance: partitions assigned");
    }
}

/// librdkafka's periodic statistics: lag per assigned partition and
/// whether any broker is up. Emitted every `statistics.interval.ms`, so
/// it logs nothing.
pub struct ConsumerStatistics {
    /// `(topic, partition, lag)` of partitions with a known lag.
    pub lags: Vec<(String, i32, i64)>,
    /// Partitions no longer assigned: their series go.
    pub unassigned: Vec<(String, i32)>,
    pub broker_up: bool,
}

impl ConsumerStatistics {
    pub fn emit(&self) {
        let m = metrics();
        for (topic, partition, lag) in &self.lags {
            m.lag
                .get_or_create(&Partition {
                    topic: topic.clone(),
                    partition: partition.to_string(),
                })
                .set(*lag);
        }
        for (topic, partition) in &self.unassigned {
            m.lag.remove(&Partition {
                topic: topic.clone(),
                partition: partition.to_string(),
            });
        }
        health().broker_up.store(self.broker_up, Ordering::Relaxed);
        let total: i64 = self.lags.iter().map(|(_, _, lag)| *lag).sum();
        TOTAL_LAG.store(total, Ordering::Relaxed);
    }
}

static TOTAL_LAG: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(-1);

/// Total lag over the assigned partitions at the last statistics, for
/// progress lines (`None` before the first).
pub fn total_lag() -> Option<i64> {
    match TOTAL_LAG.load(Ordering::Relaxed) {
        n if n < 0 => None,
        n => Some(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(300);

    #[test]
    fn ready_only_when_started_connected_and_not_stuck() {
        assert!(!readiness(false, true, None, MAX).ready);
        assert!(!readiness(true, false, None, MAX).ready);
        assert!(readiness(true, true, None, MAX).ready);
        // A short pause is an outage being waited out, not unreadiness.
        assert!(readiness(true, true, Some(Duration::from_secs(10)), MAX).ready);
        let stuck = readiness(true, true, Some(Duration::from_secs(301)), MAX);
        assert!(!stuck.ready);
        assert!(stuck.reason.contains("paused"), "{}", stuck.reason);
    }
}
