//! `[metrics]`: where the long-running indexer serves `/metrics`,
//! `/healthz` and `/readyz`, and the thresholds behind them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`);
    /// empty turns it off. In a container use `0.0.0.0:9464`.
    pub listen: String,
    /// `/readyz` fails once consumption has been paused by an outage this
    /// long (an embedder scaled to zero, a database refusing writes).
    pub ready_max_paused_secs: u64,
    /// `/healthz` fails when the consumer loop has not polled for this long
    /// (a wedged process; a pause still polls).
    pub live_max_stall_secs: u64,
    /// How often the outcome gauges read from PostgreSQL and Kafka
    /// (connector runs, dispatcher runs, DLQ pending) are refreshed.
    pub outcomes_interval_secs: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: "127.0.0.1:9464".into(),
            ready_max_paused_secs: 300,
            live_max_stall_secs: 300,
            outcomes_interval_secs: 30,
        }
    }
}
