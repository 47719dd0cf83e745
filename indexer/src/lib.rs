//! The indexer: consumes Documents from Kafka, chunks and embeds them, and
//! keeps the vector store holding exactly the current chunks of every
//! document: at-least-once delivery + deterministic point ids = exact state.

pub mod build;
pub mod chunk;
pub mod consumer;
pub mod dlq;
pub mod embed;
pub mod endpoint;
pub mod events;
pub mod failure;
pub mod outcomes;
pub mod pipeline;
pub mod registry;
pub mod search;
pub mod search_api;
pub mod store;
pub mod token_estimate;

pub use consumer::{reject, IndexStats, Indexer, RunOptions};
pub use pipeline::{BatchStats, Pipeline};
