//! `[jira]`: the Jira connector.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which Jira API family the site speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JiraFlavor {
    /// Jira Cloud (`*.atlassian.net`): REST v3 enhanced search, email + API token.
    #[default]
    Cloud,
    /// Jira Data Center / Server: REST v2 search, personal access token.
    Datacenter,
}

/// `tributary sync jira`. The API token is deliberately not a field: it comes
/// from `TRIBUTARY_JIRA_TOKEN` / `JIRA_API_TOKEN` or from `token_file`, so it
/// never sits in a config file or on a command line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JiraConfig {
    /// Site URL, e.g. `https://acme.atlassian.net` or `https://jira.example.com/jira`.
    pub base_url: Option<String>,
    /// `cloud` or `datacenter`.
    pub flavor: JiraFlavor,
    /// Instance name, part of every document id: `jira:<instance>:<KEY>`.
    pub instance: String,
    /// Project keys in scope (`project in (...)`); combined with `jql` by AND.
    pub projects: Vec<String>,
    /// Extra JQL filter for the scope, without ORDER BY.
    pub jql: Option<String>,
    /// Issues per search page.
    pub page_size: u32,
    /// Comments per page when an issue has more than the search returned.
    pub comment_page_size: u32,
    /// Cloud only: the Atlassian account email the API token belongs to.
    pub email: Option<String>,
    /// File holding the API token / personal access token (e.g. a mounted
    /// Kubernetes secret). Used when neither token variable is set.
    pub token_file: Option<PathBuf>,
    /// Put assignee / reporter / comment author emails in documents (off:
    /// display names only).
    pub include_emails: bool,
    /// Re-read window before the watermark, in seconds: JQL compares at minute
    /// precision and the search index lags behind writes.
    pub overlap_secs: u64,
    /// List every key in scope and tombstone vanished issues every Nth run
    /// (0: only with `--prune`).
    pub prune_every: u32,
    /// IANA time zone JQL dates are written in. Default: the account's own
    /// zone, asked from `/myself`.
    pub time_zone: Option<String>,
    /// Data Center only: custom field holding the epic link (e.g. `customfield_10014`).
    pub epic_link_field: Option<String>,
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

impl Default for JiraConfig {
    fn default() -> Self {
        JiraConfig {
            base_url: None,
            flavor: JiraFlavor::Cloud,
            instance: "default".into(),
            projects: Vec::new(),
            jql: None,
            page_size: 100,
            comment_page_size: 100,
            email: None,
            token_file: None,
            include_emails: false,
            overlap_secs: 120,
            prune_every: 24,
            time_zone: None,
            epic_link_field: None,
            max_concurrent_requests: 4,
            request_timeout_secs: 30,
            connect_timeout_secs: 10,
            max_retries: 5,
            max_backoff_secs: 30,
            max_retry_after_secs: 300,
        }
    }
}
