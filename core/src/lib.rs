//! Tributary's wire contract and the plumbing every component shares.
//!
//! Anything that crosses a process boundary (the Kafka message, its headers,
//! the configuration file) is defined here once, so a connector and the
//! indexer cannot disagree about it.

pub mod config;
pub mod db;
pub mod document;
pub mod envelope;
pub mod json_schema;
pub mod kafka;
pub mod metrics;
pub mod schema;
pub mod secret;
pub mod shutdown;
pub mod telemetry;
pub mod trace;

pub use config::Config;
pub use document::{Body, Document, Link, PrecomputedChunk, Section, SourceRef, SCHEMA_VERSION};
