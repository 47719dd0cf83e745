//! `[jira]`: the Jira connector.

use serde::{Deserialize, Serialize};

use super::AtlassianSite;

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

/// `tributary sync jira`: the site keys every Atlassian section has
/// ([`AtlassianSite`], flattened: `jira.base_url`, `jira.max_retries`, ...)
/// and Jira's own. Unknown keys are refused by `Config::load` (serde cannot
/// deny them on a struct with a flattened field).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JiraConfig {
    #[serde(flatten)]
    pub site: AtlassianSite,
    /// `cloud` or `datacenter`.
    pub flavor: JiraFlavor,
    /// Project keys in scope (`project in (...)`); combined with `jql` by AND.
    pub projects: Vec<String>,
    /// Extra JQL filter for the scope, without ORDER BY.
    pub jql: Option<String>,
    /// Issues per search page.
    pub page_size: u32,
    /// Comments per page when an issue has more than the search returned.
    pub comment_page_size: u32,
    /// Put assignee / reporter / comment author emails in documents (off:
    /// display names only).
    pub include_emails: bool,
    /// Data Center only: custom field holding the epic link (e.g. `customfield_10014`).
    pub epic_link_field: Option<String>,
}

impl Default for JiraConfig {
    fn default() -> Self {
        JiraConfig {
            site: AtlassianSite::default(),
            flavor: JiraFlavor::Cloud,
            projects: Vec::new(),
            jql: None,
            page_size: 100,
            comment_page_size: 100,
            include_emails: false,
            epic_link_field: None,
        }
    }
}
