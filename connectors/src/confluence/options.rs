//! What one Confluence sync run needs, resolved from `[confluence]` and the CLI flags.

use std::time::Duration;

use tributary_core::config::{ConfluenceConfig, ConfluenceFlavor};

use crate::atlassian::{Auth, ClientSettings, HttpSettings};

#[derive(Debug, Clone)]
pub struct ConfluenceSyncOptions {
    pub instance: String,
    pub flavor: ConfluenceFlavor,
    pub spaces: Vec<String>,
    pub include_blogposts: bool,
    pub page_size: u32,
    pub listing_page_size: u32,
    pub overlap: Duration,
    /// Prune every Nth run (0: only when `prune` is set).
    pub prune_every: u32,
    /// Zone CQL date literals are written in; `None`: 12 h early (safe anywhere).
    pub time_zone: Option<String>,
    pub max_page_bytes: usize,
    /// `base_url` is the site root (Cloud: without `/wiki`).
    pub http: ClientSettings,
    /// Ignore the watermarks and fingerprints: list every page in scope
    /// (still publishing only changed content).
    pub full: bool,
    /// List every page id in scope and tombstone the vanished ones this run.
    pub prune: bool,
    /// Report what would be published; publish and record nothing.
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("confluence.base_url is not set (e.g. https://acme.atlassian.net)")]
    MissingBaseUrl,
    #[error("confluence.spaces is empty: name at least one space key")]
    NoSpaces,
    #[error("confluence.page_size must be between 1 and 250, got {0}")]
    PageSize(u32),
}

impl ConfluenceSyncOptions {
    pub fn from_config(cfg: &ConfluenceConfig, auth: Auth) -> Result<Self, OptionsError> {
        let mut base_url = cfg
            .base_url
            .clone()
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .ok_or(OptionsError::MissingBaseUrl)?;
        if cfg.flavor == ConfluenceFlavor::Cloud {
            // Cloud paths are written with their `wiki/` prefix (v2 `next`
            // links carry it), so the client's base is the site root.
            if let Some(root) = base_url.strip_suffix("/wiki") {
                base_url = root.to_owned();
            }
        }
        let spaces: Vec<String> = cfg
            .spaces
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if spaces.is_empty() {
            return Err(OptionsError::NoSpaces);
        }
        if !(1..=250).contains(&cfg.page_size) {
            return Err(OptionsError::PageSize(cfg.page_size));
        }
        Ok(ConfluenceSyncOptions {
            instance: cfg.instance.clone(),
            flavor: cfg.flavor,
            spaces,
            include_blogposts: cfg.include_blogposts,
            page_size: cfg.page_size,
            listing_page_size: cfg.listing_page_size.clamp(1, 250),
            overlap: Duration::from_secs(cfg.overlap_secs),
            prune_every: cfg.prune_every,
            time_zone: cfg.time_zone.clone(),
            max_page_bytes: cfg.max_page_bytes.max(1024),
            http: HttpSettings::from(cfg).client(base_url, auth),
            full: false,
            prune: false,
            dry_run: false,
        })
    }
}
