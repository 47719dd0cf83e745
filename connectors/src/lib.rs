//! Source connectors: each reads one kind of source, turns its items into
//! [`tributary_core::Document`]s and publishes them to Kafka, keeping its
//! position in PostgreSQL. Each is a [`sync::Source`] (paging and
//! rendering); the one driver in [`sync`] runs them all, with the
//! discipline every connector follows: a position (watermark, item state)
//! is written only after Kafka has acknowledged the messages it covers.

pub mod atlassian;
pub mod confluence;
pub mod jira;
pub mod publish;
pub mod state;
pub mod summary;
pub mod sync;
mod text;
pub mod vault;

pub use publish::{PublishError, Publisher};
pub use state::SyncStateStore;
pub use summary::{ProgressFn, RunReport, SyncProgress, SyncSummary};
