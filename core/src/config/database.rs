//! `[database]`: the PostgreSQL that holds watermarks and the documents registry.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Never logged.
    pub url: Secret,
    /// Schema to use (and create); `public` when unset.
    pub schema: Option<String>,
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: Secret::new("postgres://tributary:tributary@127.0.0.1:5432/tributary"),
            schema: None,
            max_connections: 5,
        }
    }
}
