//! `[serve]`: `tributary serve`, the indexer that also answers searches
//! over HTTP, and how `tributary search` finds it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Address `tributary serve` listens on for `/search`, `/metrics`,
    /// `/healthz` and `/readyz`. `tributary search` also looks for a running
    /// server here when `url` is unset. In a container use `0.0.0.0:7700`.
    pub listen: String,
    /// The server `tributary search` must use (e.g. `http://indexer:7700`).
    /// Unset: the one at `listen` if it answers, else the store is opened
    /// directly. Set: used always; a server that does not answer is an error.
    pub url: Option<String>,
    /// Most hits one search may ask for; more is refused (400), not cut.
    pub max_limit: usize,
    /// How long `tributary search` waits for the server's answer (the query
    /// is embedded by the same model that indexes, which may be busy).
    pub request_timeout_ms: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:7700".into(),
            url: None,
            max_limit: 100,
            request_timeout_ms: 30_000,
        }
    }
}
