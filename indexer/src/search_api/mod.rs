//! The search API of `tributary serve`: one HTTP endpoint, `/search`, that
//! answers from the store the indexer is writing. The wire format and the
//! request checks are shared by the server ([`routes`]) and by `tributary
//! search` talking to it ([`client`]), so both ends agree by construction.

pub mod client;
mod events;
mod request;
pub mod routes;
mod wire;

pub use request::{check, RequestRules, ValidSearch};
pub use wire::{ApiHit, ErrorBody, SearchRequest, SearchResponse};

/// Hits when a request names no limit: the same as `tributary search`.
pub const DEFAULT_LIMIT: usize = 5;
