//! The Confluence connector, Cloud and Data Center / Server alike.
//!
//! `api` calls the endpoints and pages through results, `model` reads both
//! JSON shapes into one page, `storage` turns storage-format XHTML into
//! text, `page` builds the Document, `connector` is Confluence as a source
//! of the sync driver (`crate::sync`), space by space.

mod api;
mod connector;
mod cql;
mod model;
mod options;
mod page;
mod report;
mod storage;

pub use crate::atlassian::CredentialError;
pub use api::ApiError;
pub use connector::{sync, ConfluenceSyncError, KIND};
pub use options::{ConfluenceSyncOptions, OptionsError};
pub use report::{ConfluenceSyncReport, SpaceFailure};
pub use storage::{storage_to_text, StorageLink, StorageText};

/// Confluence's names for the shared credential rules
/// ([`crate::atlassian::resolve_credentials`]): the token variables, checked
/// in this order before `confluence.token_file`.
pub static PRODUCT: crate::atlassian::Product = crate::atlassian::Product {
    name: "Confluence",
    section: "confluence",
    token_env: ["TRIBUTARY_CONFLUENCE_TOKEN", "CONFLUENCE_API_TOKEN"],
    email_env: "TRIBUTARY_CONFLUENCE__EMAIL",
};
