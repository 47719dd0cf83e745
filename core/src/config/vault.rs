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
    /// `sync vault --watch`: a full rescan every this many seconds catches
    /// what file-system notifications missed (at least 1).
    pub rescan_secs: u64,
    /// `sync vault --watch`: quiet time per file before its change is
    /// published, in milliseconds (an editor's save is several writes).
    pub debounce_ms: u64,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            path: None,
            instance: "default".into(),
            max_note_bytes: 900_000,
            rescan_secs: 300,
            debounce_ms: 50,
        }
    }
}
