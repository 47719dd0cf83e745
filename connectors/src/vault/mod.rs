//! The markdown vault connector (an Obsidian-style folder of notes).
//!
//! `scan` walks the folder (`rel_path` turns a path into id text, `skip`
//! reports what is refused), `document` turns a file's bytes into the document
//! published (`decode` makes text of them, `note` parses it, `extract` finds
//! links and tags outside code, `cap` keeps it under Kafka's message size), and `connector` is the
//! vault as a source of the sync driver (`crate::sync`), which decides what changed since the last
//! acknowledged run and publishes it. `watch` keeps a vault in sync as it
//! is edited (`sync vault --watch`), through the same driver and rendering.

mod cap;
mod connector;
mod decode;
mod document;
mod extract;
mod note;
mod rel_path;
mod scan;
mod skip;
#[cfg(test)]
mod test_log;
mod watch;

pub use connector::{sync, Scope, VaultSource, VaultSyncError, VaultSyncOptions, KIND};
pub use note::{parse_note, ParsedNote};
pub use scan::{scan, ScanResult, VaultFile};
pub use skip::{SkipReason, Skipped};
pub use watch::{watch, WatchError, WatchOptions};
