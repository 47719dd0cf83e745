//! The dispatcher: turns the indexed corpus into work items for downstream
//! agents, and says loudly when there is nothing to work on.
//!
//! Pure steps, one per module: [`resolve`] (link targets → document ids),
//! [`graph`] (the link graph), [`louvain`] and [`community`] (communities),
//! [`identity`] (stable ids), [`fingerprint`], [`plan`] (what changed),
//! [`starving`] (nothing to work on). I/O: [`store`] (PostgreSQL) and
//! [`kafka`]; [`run`] sequences one dispatch.

pub mod community;
pub mod corpus;
pub mod error;
pub mod fingerprint;
pub mod graph;
pub mod identity;
pub mod kafka;
pub mod louvain;
pub mod plan;
pub mod resolve;
pub mod run;
pub mod starving;
pub mod store;
pub mod work_item;

pub use error::DispatchError;
pub use run::{dispatch, DispatchOptions, Report, RunResult};
