//! The Confluence connector, Cloud and Data Center / Server alike.
//!
//! `api` calls the endpoints and pages through results, `model` reads both
//! JSON shapes into one page, `storage` turns storage-format XHTML into
//! text, `page` builds the Document, `connector` is Confluence as a source
//! of the sync driver (`crate::sync`), space by space.

mod api;
mod connector;
mod cql;
mod credentials;
mod model;
mod options;
mod page;
mod report;
mod storage;

pub use api::ApiError;
pub use connector::{sync, ConfluenceSyncError, KIND};
pub use credentials::{resolve as resolve_credentials, CredentialError, TOKEN_ENV_VARS};
pub use options::{ConfluenceSyncOptions, OptionsError};
pub use report::{ConfluenceProgress, ConfluenceSyncReport, SpaceFailure};
pub use storage::{storage_to_text, StorageLink, StorageText};
