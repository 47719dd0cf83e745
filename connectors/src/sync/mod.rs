//! The one sync driver every connector runs through.
//!
//! A connector (a [`Source`]) only pages through its source and renders
//! items into documents; everything else is here, the same for all:
//!
//! - `driver`: a run from start to end: `begin_run`, connecting the sink,
//!   loading the cursor (strictly: a cursor that cannot be read is an error,
//!   never a silent reset of the watermark), the prune cadence, the source's
//!   walk, then `finish_run` (or `fail_run` on error).
//! - `session`: what a walk publishes through: the recorded items, the
//!   counters, and the publish-then-record step (an item is recorded only
//!   after Kafka acknowledged its message).
//! - `decision`: the pure change decision (skip / touch / publish /
//!   tombstone) and the tombstone diff.
//! - `item`: an item to publish (document + the fingerprint its record
//!   keeps) and the document builder that computes the content hash.
//! - `sink`: where documents go: Kafka, or memory in unit tests.
//! - `cursor`: the stored cursor: the driver's fields plus the source's own.
//! - `target`: where a run goes (Kafka, the state store, progress).
//! - `flags`: what the operator asked of a run (`--full`, `--prune`, ...).

mod cursor;
pub mod decision;
mod driver;
mod flags;
mod item;
mod session;
mod sink;
mod target;

pub use cursor::{CursorError, RunCursor};
pub use driver::{run, RunSpec, SinkChoice, Source, SyncError, WalkContext, WalkEnd};
pub use flags::RunFlags;
pub use item::{DocumentBuilder, Item};
pub use session::{Batch, ItemLog, Session};
pub use sink::{MemoryLog, MemorySink, Sink};
pub use target::RunTarget;
