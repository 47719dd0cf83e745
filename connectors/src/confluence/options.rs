//! What one Confluence sync run needs, resolved from `[confluence]` and the CLI flags.

use std::time::Duration;

use tributary_core::config::{ConfluenceConfig, ConfluenceFlavor};

use crate::atlassian::{client_settings, Auth, ClientSettings};
use crate::sync::RunFlags;

#[derive(Debug, Clone)]
pub struct ConfluenceSyncOptions {
    /// The run's flags: instance, `--full`, `--prune`, `--dry-run`, the
    /// prune cadence.
    pub run: RunFlags,
    pub flavor: ConfluenceFlavor,
    pub spaces: Vec<String>,
    pub include_blogposts: bool,
    pub page_size: u32,
    pub listing_page_size: u32,
    pub overlap: Duration,
    /// Zone CQL date literals are written in; `None`: 12 h early (safe anywhere).
    pub time_zone: Option<String>,
    pub max_page_bytes: usize,
    /// `base_url` is the site root (Cloud: without `/wiki`).
    pub http: ClientSettings,
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
            .site
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
            run: RunFlags::new(&cfg.site.instance, cfg.site.prune_every),
            flavor: cfg.flavor,
            spaces,
            include_blogposts: cfg.include_blogposts,
            page_size: cfg.page_size,
            listing_page_size: cfg.listing_page_size.clamp(1, 250),
            overlap: Duration::from_secs(cfg.site.overlap_secs),
            time_zone: cfg.site.time_zone.clone(),
            max_page_bytes: cfg.max_page_bytes.max(1024),
            http: client_settings(&cfg.site, base_url, auth),
        })
    }
}
