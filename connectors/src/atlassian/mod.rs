//! The HTTP layer every Atlassian connector (Jira, Confluence)
//! talks through: authentication, a cap on concurrent requests, timeouts,
//! retries with jittered exponential backoff that honour `Retry-After`, and
//! errors that say which credential or permission is at fault.

mod auth;
mod client;
mod credentials;
mod error;
pub mod path;
mod retry;
mod site;

pub use auth::Auth;
pub use client::{AtlassianClient, ClientSettings};
pub use credentials::{resolve as resolve_credentials, CredentialError, Product};
pub use error::AtlassianError;
pub use retry::RetryPolicy;
pub use site::client_settings;
