//! The Jira connector, Cloud and Data Center / Server alike.
//!
//! `pager` walks search results (token or offset pages), `adf` and `wiki`
//! turn rich text into markdown-ish text, `issue` builds the Document,
//! `connector` is Jira as a source of the sync driver (`crate::sync`).

mod adf;
mod api;
mod connector;
mod credentials;
mod issue;
mod jql;
mod model;
mod options;
mod pager;
mod report;
mod wiki;

pub use adf::{adf_to_text, AdfText};
pub use api::ApiError;
pub use connector::{sync, JiraSyncError, KIND};
pub use credentials::{resolve as resolve_credentials, CredentialError, TOKEN_ENV_VARS};
pub use jql::JqlZone;
pub use options::{JiraSyncOptions, OptionsError};
pub use report::{JiraProgress, JiraSyncReport};
pub use wiki::wiki_to_text;
