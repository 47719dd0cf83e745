//! `[confluence]`: the Confluence connector.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which Confluence API family the site speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfluenceFlavor {
    /// Confluence Cloud (`*.atlassian.net/wiki`): REST v2 listing, v1 CQL
    /// search, email + API token.
    #[default]
    Cloud,
    /// Confluence Data Center / Server: REST `/rest/api/content`, personal
    /// access token.
    Datacenter,
}

/// `tributary sync confluence`. Like `[jira]`, the token is not a field: it
/// comes from `TRIBUTARY_CONFLUENCE_TOKEN` / `CONFLUENCE_API_TOKEN` or from
/// `token_file`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfluenceConfig {
    /// Site URL: `https://acme.atlassian.net` (Cloud; a trailing `/wiki` is
    /// accepted) or `https://confluence.example.com/confluence` (Data Center).
    pub base_url: Option<String>,
    /// `cloud` or `datacenter`.
    pub flavor: ConfluenceFlavor,
    /// Instance name, part of every document id: `confluence:<instance>:<page id>`.
    pub instance: String,
    /// Space keys in scope.
    pub spaces: Vec<String>,
    /// Publish blog posts as well as pages.
    pub include_blogposts: bool,
    /// Results per listing / search page.
    pub page_size: u32,
    /// Results per page of the slim id listing used for deletions.
    pub listing_page_size: u32,
    /// Cloud only: the Atlassian account email the API token belongs to.
    pub email: Option<String>,
    /// File holding the API token / personal access token. Used when neither
    /// token variable is set.
    pub token_file: Option<PathBuf>,
    /// Re-read window before each space's watermark, in seconds: CQL compares
    /// at minute precision and the search index lags behind writes.
    pub overlap_secs: u64,
    /// List every page id and tombstone vanished pages every Nth run (0: only
    /// with `--prune`).
    pub prune_every: u32,
    /// IANA zone CQL dates are read in (the account's zone). Unset: dates are
    /// written 12 h early, which is safe in any zone but re-reads more.
    pub time_zone: Option<String>,
    /// Largest storage-format body converted, in bytes; a bigger page is
    /// truncated to this and flagged `truncated` in its metadata.
    pub max_page_bytes: usize,
    /// Requests in flight at once against the site.
    pub max_concurrent_requests: usize,
    /// Whole-request timeout, seconds.
    pub request_timeout_secs: u64,
    /// TCP/TLS connect timeout, seconds.
    pub connect_timeout_secs: u64,
    /// Retries of one request on 429/502/503/504 or a connection error.
    pub max_retries: u32,
    /// Longest backoff between two retries, seconds.
    pub max_backoff_secs: u64,
    /// Longest `Retry-After` honoured; a longer one fails the request.
    pub max_retry_after_secs: u64,
}

impl Default for ConfluenceConfig {
    fn default() -> Self {
        ConfluenceConfig {
            base_url: None,
            flavor: ConfluenceFlavor::Cloud,
            instance: "default".into(),
            spaces: Vec::new(),
            include_blogposts: true,
            page_size: 50,
            listing_page_size: 250,
            email: None,
            token_file: None,
            overlap_secs: 120,
            prune_every: 24,
            time_zone: None,
            max_page_bytes: 5 * 1024 * 1024,
            max_concurrent_requests: 4,
            request_timeout_secs: 30,
            connect_timeout_secs: 10,
            max_retries: 5,
            max_backoff_secs: 30,
            max_retry_after_secs: 300,
        }
    }
}
