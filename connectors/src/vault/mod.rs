//! The markdown vault connector (an Obsidian-style folder of notes).
//!
//! `scan` walks the folder (`rel_path` turns a path into id text, `skip`
//! reports what is refused), `decode` turns a file's bytes into text, `note`
//! parses it (`extract` finds links and tags outside code), `cap` keeps the
//! document under Kafka's message size, and `connector` decides what changed
//! since the last acknowledged run and publishes it.

mod cap;
mod connector;
mod decode;
mod extract;
mod note;
mod rel_path;
mod scan;
mod skip;

pub use connector::{sync, VaultSyncError, VaultSyncOptions};
pub use note::{parse_note, ParsedNote};
pub use scan::{scan, ScanResult, VaultFile};
pub use skip::{SkipReason, Skipped};
