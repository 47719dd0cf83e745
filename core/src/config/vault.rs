//! `[vault]`: the markdown vault connector.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VaultConfig {
    /// The vault's root directory (`--path` overrides it).
    pub path: Option<PathBuf>,
    /// Instance name, part of every document id: `vault:<instance>:<path>`.
    pub instance: String,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            path: None,
            instance: "default".into(),
        }
    }
}
