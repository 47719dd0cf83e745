//! The markdown vault connector (an Obsidian-style folder of notes).
//!
//! `scan` walks the folder, `note` parses one file into a Document, and
//! `connector` decides what changed since the last acknowledged run and
//! publishes it.

mod connector;
mod note;
mod scan;

pub use connector::{sync, VaultSyncError, VaultSyncOptions};
pub use note::{parse_note, ParsedNote};
pub use scan::{scan, ScanResult, VaultFile};
