//! `[store]`: where vectors live.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::tributary_home;

/// Which vector store the indexer writes and `tributary search` reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// Qdrant Edge, embedded, on disk at `path`: one process at a time.
    #[default]
    Edge,
    /// A Qdrant server over gRPC at `url`: the production backend.
    Qdrant,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `edge` (embedded, the default) or `qdrant` (a server).
    pub backend: StoreBackend,
    /// `edge` backend: directory of the embedded Qdrant Edge shard.
    pub path: PathBuf,
    /// `qdrant` backend: gRPC URL, e.g. `http://qdrant:6334`. An `https://`
    /// URL turns TLS on, verified against the system's roots (a private CA
    /// can be added with `SSL_CERT_FILE`).
    pub url: String,
    /// `qdrant` backend: collection name; created when missing.
    pub collection: String,
    /// `qdrant` backend: name of the environment variable holding the API
    /// key (sent as the `api-key` header). The key never goes in a file.
    pub api_key_env: Option<String>,
    /// `qdrant` backend: per-request timeout.
    pub timeout_ms: u64,
    /// `qdrant` backend: connect timeout.
    pub connect_timeout_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: StoreBackend::Edge,
            path: tributary_home().join("qdrant"),
            url: "http://127.0.0.1:6334".into(),
            collection: "tributary".into(),
            api_key_env: None,
            timeout_ms: 30_000,
            connect_timeout_ms: 5_000,
        }
    }
}
