//! Everything the connector refuses to publish, why, and the one log event
//! each reason gets: a constant message with the file's `path`, so an
//! operator can find every skipped file in the logs by field.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum SkipReason {
    /// A symlink (to a note or a folder) whose target is outside the vault:
    /// following it could publish files the owner never meant to share.
    SymlinkLeavesVault { target: String },
    /// A symlink whose target is inside the vault: the target is published
    /// under its own path, and Obsidian ignores such links too.
    SymlinkInsideVault { target: String },
    /// A symlink that resolves to nothing (or loops).
    DanglingSymlink { error: String },
    /// A FIFO, socket or device named `*.md`: reading it could block.
    NotAFile,
    /// The directory entry or the file could not be read.
    Unreadable { error: String },
    /// The name is not UTF-8 and its encoded id is the real name of another
    /// note in the vault.
    IdTaken,
    /// NUL bytes or mostly undecodable content: not a note.
    Binary,
    /// Even with an empty body the document is over `max_note_bytes`
    /// (its frontmatter or links alone are that big).
    TooLarge { bytes: usize, cap: usize },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::SymlinkLeavesVault { target } => {
                write!(f, "symlink leaves the vault (to {target})")
            }
            SkipReason::SymlinkInsideVault { target } => {
                write!(f, "symlink to {target} inside the vault")
            }
            SkipReason::DanglingSymlink { error } => write!(f, "dangling symlink: {error}"),
            SkipReason::NotAFile => f.write_str("not a regular file"),
            SkipReason::Unreadable { error } => write!(f, "unreadable: {error}"),
            SkipReason::IdTaken => f.write_str("encoded name is another note's name"),
            SkipReason::Binary => f.write_str("binary content"),
            SkipReason::TooLarge { bytes, cap } => {
                write!(f, "{bytes} bytes without its body, over the {cap} byte cap")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Relative to the vault root, as in document ids.
    pub path: String,
    pub reason: SkipReason,
}

impl Skipped {
    /// Records a skip and logs it.
    pub fn new(path: impl Into<String>, reason: SkipReason) -> Self {
        let skipped = Skipped {
            path: path.into(),
            reason,
        };
        log(&skipped.path, &skipped.reason);
        skipped
    }
}

/// The log event of one skipped file.
pub fn log(path: &str, reason: &SkipReason) {
    match reason {
        SkipReason::SymlinkLeavesVault { target } => {
            tracing::warn!(path, target = %target, "symlink leaves the vault root; refused")
        }
        SkipReason::SymlinkInsideVault { target } => tracing::info!(
            path,
            target = %target,
            "symlink to a note or folder inside the vault; skipped, the target is published under its own path"
        ),
        SkipReason::DanglingSymlink { error } => {
            tracing::warn!(path, error = %error, "dangling symlink; skipped")
        }
        SkipReason::NotAFile => {
            tracing::warn!(path, "not a regular file (FIFO, socket or device); skipped")
        }
        SkipReason::Unreadable { error } => {
            tracing::warn!(path, error = %error, "cannot read vault entry; skipped")
        }
        SkipReason::IdTaken => tracing::warn!(
            path,
            "file name is not UTF-8 and its encoded form names another note; skipped"
        ),
        SkipReason::Binary => tracing::warn!(path, "binary file named .md; skipped"),
        SkipReason::TooLarge { bytes, cap } => tracing::warn!(
            path,
            bytes,
            cap,
            "note over the size cap even without its body; skipped"
        ),
    }
}
