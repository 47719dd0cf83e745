//! `[database]`: the PostgreSQL that holds watermarks and the documents registry.

use serde::{Deserialize, Serialize};

use crate::secret::SecretString;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Never logged; `***` in a serialised config.
    #[serde(serialize_with = "crate::secret::redacted")]
    pub url: SecretString,
    /// Schema to use (and create); `public` when unset.
    pub schema: Option<String>,
    pub max_connections: u32,
}

/// The local stack's database (`make stack-up`): what runs with no
/// configuration at all.
pub const DEFAULT_DATABASE_URL: &str = "postgres://tributary:tributary@127.0.0.1:5432/tributary";

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: SecretString::from(DEFAULT_DATABASE_URL),
            schema: None,
            max_connections: 5,
        }
    }
}
