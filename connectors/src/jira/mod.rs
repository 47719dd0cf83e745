//! The Jira connector, Cloud and Data Center / Server alike.
//!
//! `pager` walks search results (token or offset pages), `adf` and `wiki`
//! turn rich text into markdown-ish text, `issue` builds the Document,
//! `connector` is Jira as a source of the sync driver (`crate::sync`).

mod adf;
mod api;
mod connector;
mod issue;
mod jql;
mod model;
mod options;
mod pager;
mod report;
mod wiki;

pub use crate::atlassian::CredentialError;
pub use adf::{adf_to_text, AdfText};
pub use api::ApiError;
pub use connector::{sync, JiraSyncError, KIND};
pub use jql::JqlZone;
pub use options::{JiraSyncOptions, OptionsError};
pub use report::JiraSyncReport;
pub use wiki::wiki_to_text;

/// Jira's names for the shared credential rules
/// ([`crate::atlassian::resolve_credentials`]): the token variables, checked
/// in this order before `jira.token_file`.
pub static PRODUCT: crate::atlassian::Product = crate::atlassian::Product {
    name: "Jira",
    section: "jira",
    token_env: ["TRIBUTARY_JIRA_TOKEN", "JIRA_API_TOKEN"],
    email_env: "TRIBUTARY_JIRA__EMAIL",
};
