//! What one Jira sync run needs, resolved from `[jira]` and the CLI flags.

use std::time::Duration;

use tributary_core::config::{JiraConfig, JiraFlavor};

use super::jql;
use crate::atlassian::{client_settings, Auth, ClientSettings};
use crate::sync::RunFlags;

#[derive(Debug, Clone)]
pub struct JiraSyncOptions {
    /// The run's flags: instance, `--full`, `--prune`, `--dry-run`, the
    /// prune cadence.
    pub run: RunFlags,
    pub flavor: JiraFlavor,
    /// Scope JQL (projects and filter), without ORDER BY.
    pub scope: String,
    pub page_size: u32,
    pub comment_page_size: u32,
    /// Page size of the slim key listing used for deletions.
    pub listing_page_size: u32,
    pub include_emails: bool,
    pub overlap: Duration,
    /// JQL zone override; `None`: the account's zone from `/myself`.
    pub time_zone: Option<String>,
    pub epic_link_field: Option<String>,
    pub http: ClientSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("jira.base_url is not set (e.g. https://acme.atlassian.net)")]
    MissingBaseUrl,
    #[error(transparent)]
    EmptyScope(#[from] jql::EmptyScope),
    #[error("jira.page_size must be between 1 and 5000, got {0}")]
    PageSize(u32),
}

impl JiraSyncOptions {
    pub fn from_config(cfg: &JiraConfig, auth: Auth) -> Result<Self, OptionsError> {
        let base_url = cfg
            .site
            .base_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .ok_or(OptionsError::MissingBaseUrl)?;
        if !(1..=5000).contains(&cfg.page_size) {
            return Err(OptionsError::PageSize(cfg.page_size));
        }
        let scope = jql::scope(&cfg.projects, cfg.jql.as_deref())?;
        Ok(JiraSyncOptions {
            run: RunFlags::new(&cfg.site.instance, cfg.site.prune_every),
            flavor: cfg.flavor,
            scope,
            page_size: cfg.page_size,
            comment_page_size: cfg.comment_page_size.max(1),
            listing_page_size: 1000,
            include_emails: cfg.include_emails,
            overlap: Duration::from_secs(cfg.site.overlap_secs),
            time_zone: cfg.site.time_zone.clone(),
            epic_link_field: cfg.epic_link_field.clone(),
            http: client_settings(&cfg.site, base_url, auth),
        })
    }
}
