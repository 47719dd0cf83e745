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
    /// Largest document a note becomes, in bytes of its JSON (text,
    /// frontmatter, links); a bigger note's body is truncated to fit and
    /// flagged `truncated`. The default leaves room under Kafka's default
    /// 1 MB message limit for the key and headers; raise it together with
    /// Kafka's limits.
    pub max_note_bytes: usize,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            path: None,
            instance: "default".into(),
            max_note_bytes: 900_000,
        }
    }
}
