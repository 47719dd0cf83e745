//! The keys `[jira]` and `[confluence]` share: where the site is, who we
//! are there, how often to prune, and how hard to push it. Flattened into
//! both sections, so files and environment keep the flat names
//! (`jira.max_retries`, `TRIBUTARY_CONFLUENCE__MAX_RETRIES`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One Atlassian site as configured. The API token is deliberately not a
/// field: it comes from `TRIBUTARY_<PRODUCT>_TOKEN` / `<PRODUCT>_API_TOKEN`
/// or from `token_file`, so it never sits in a config file or on a command
/// line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AtlassianSite {
    /// Site URL: `https://acme.atlassian.net` (Cloud; Confluence also
    /// accepts a trailing `/wiki`) or the Data Center root, e.g.
    /// `https://jira.example.com/jira`.
    pub base_url: Option<String>,
    /// Instance name, part of every document id: `<kind>:<instance>:<item>`.
    pub instance: String,
    /// Cloud only: the Atlassian account email the API token belongs to.
    pub email: Option<String>,
    /// File holding the API token / personal access token (e.g. a mounted
    /// Kubernetes secret). Used when neither token variable is set.
    pub token_file: Option<PathBuf>,
    /// Re-read window before the watermark, in seconds: JQL and CQL compare
    /// at minute precision and the search index lags behind writes.
    pub overlap_secs: u64,
    /// List every item in scope and tombstone the vanished ones every Nth
    /// run (0: only with `--prune`).
    pub prune_every: u32,
    /// IANA time zone query dates are written in. Unset: Jira asks the
    /// account's zone from `/myself`; Confluence writes dates 12 h early,
    /// which is safe in any zone but re-reads more.
    pub time_zone: Option<String>,
    /// Requests in flight at once against the site.
    pub max_concurrent_requests: usize,
    /// Whole-request timeout, seconds.
    pub request_timeout_secs: u64,
    /// TCP/TLS connect timeout, seconds.
    pub connect_timeout_secs: u64,
    /// Retries of one request on 429/502/503/504 or a connection error.
    pub max_retries: u32,
    /// Longest backoff between two retries, seconds (a `Retry-After` up to
    /// `max_retry_after_secs` is honoured as given).
    pub max_backoff_secs: u64,
    /// Longest `Retry-After` honoured; a longer one fails the request.
    pub max_retry_after_secs: u64,
}

impl Default for AtlassianSite {
    fn default() -> Self {
        AtlassianSite {
            base_url: None,
            instance: "default".into(),
            email: None,
            token_file: None,
            overlap_secs: 120,
            prune_every: 24,
            time_zone: None,
            max_concurrent_requests: 4,
            request_timeout_secs: 30,
            connect_timeout_secs: 10,
            max_retries: 5,
            max_backoff_secs: 30,
            max_retry_after_secs: 300,
        }
    }
}
