//! `[confluence]`: the Confluence connector.

use serde::{Deserialize, Serialize};

use super::AtlassianSite;

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

/// `tributary sync confluence`: the site keys every Atlassian section has
/// ([`AtlassianSite`], flattened: `confluence.base_url`, ...) and
/// Confluence's own. Unknown keys are refused by `Config::load`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfluenceConfig {
    #[serde(flatten)]
    pub site: AtlassianSite,
    /// `cloud` or `datacenter`.
    pub flavor: ConfluenceFlavor,
    /// Space keys in scope.
    pub spaces: Vec<String>,
    /// Publish blog posts as well as pages.
    pub include_blogposts: bool,
    /// Results per listing / search page.
    pub page_size: u32,
    /// Results per page of the slim id listing used for deletions.
    pub listing_page_size: u32,
    /// Largest storage-format body converted, in bytes; a bigger page is
    /// truncated to this and flagged `truncated` in its metadata.
    pub max_page_bytes: usize,
}

impl Default for ConfluenceConfig {
    fn default() -> Self {
        ConfluenceConfig {
            site: AtlassianSite::default(),
            flavor: ConfluenceFlavor::Cloud,
            spaces: Vec::new(),
            include_blogposts: true,
            page_size: 50,
            listing_page_size: 250,
            max_page_bytes: 5 * 1024 * 1024,
        }
    }
}
