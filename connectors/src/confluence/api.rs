//! The Confluence endpoints the connector calls, for both flavours, and the
//! pager that walks their results.
//!
//! Cloud pages are followed through the `_links.next` link each response
//! gives (v2 cursors and v1 search cursors alike are opaque: never built
//! here). Data Center pages by `start`/`limit`.

use reqwest::Url;
use serde_json::Value;
use tributary_core::config::ConfluenceFlavor;

use crate::atlassian::{path, AtlassianClient, AtlassianError};

use super::cql;
use super::model::{RawComment, RawPage};

/// What every v1 content read expands: all a document is built from.
pub const EXPAND: &str = "body.storage,version,ancestors,metadata.labels,space";
/// Everything but the body: what the fingerprint is made of. Cloud v2
/// listings lack it; a v1 search by id fills it in.
const META_EXPAND: &str = "version,ancestors,metadata.labels,space";
/// Ids per `id in (...)` / `ancestor in (...)` search (keeps the CQL short).
pub const IDS_PER_SEARCH: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Confluence space {space}: not found, or the account may not view it{detail}")]
    SpaceNotFound { space: String, detail: String },
    #[error("Confluence space {space}: {url} refused the request (403 Forbidden): {credential} lacks the permission it needs (View on space {space}){detail}")]
    Forbidden {
        space: String,
        url: String,
        credential: String,
        detail: String,
    },
    #[error("Confluence space {space}: {source}")]
    Space {
        space: String,
        #[source]
        source: AtlassianError,
    },
    #[error(
        "Confluence gave a `next` link to another site ({0}); refusing to send credentials there"
    )]
    ForeignLink(String),
    #[error(transparent)]
    Http(#[from] AtlassianError),
}

impl ApiError {
    /// True for a 401, whichever space it was attributed to.
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            ApiError::Http(AtlassianError::Unauthorized { .. })
                | ApiError::Space {
                    source: AtlassianError::Unauthorized { .. },
                    ..
                }
        )
    }

    /// Attributes an error to the space whose request failed.
    pub fn in_space(self, space: &str) -> ApiError {
        match self {
            ApiError::Http(AtlassianError::Status { status, .. }) if status.as_u16() == 404 => {
                ApiError::SpaceNotFound {
                    space: space.to_owned(),
                    detail: " (404 Not Found)".into(),
                }
            }
            ApiError::Http(AtlassianError::Forbidden {
                url,
                credential,
                detail,
            }) => ApiError::Forbidden {
                space: space.to_owned(),
                url,
                credential,
                detail,
            },
            ApiError::Http(source) => ApiError::Space {
                space: space.to_owned(),
                source,
            },
            other => other,
        }
    }
}

/// A space in scope, resolved.
#[derive(Debug, Clone)]
pub struct Space {
    pub key: String,
    /// Cloud: the numeric id the v2 endpoints are addressed by.
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone)]
pub struct ConfluenceApi {
    client: AtlassianClient,
    flavor: ConfluenceFlavor,
}

impl ConfluenceApi {
    pub fn new(client: AtlassianClient, flavor: ConfluenceFlavor) -> Self {
        ConfluenceApi { client, flavor }
    }

    /// HTTP requests made so far (retries included).
    pub fn requests(&self) -> u64 {
        self.client.requests()
    }

    /// Where page `webui` links are relative to.
    pub fn web_base(&self) -> String {
        let base = self.client.base_url().as_str().trim_end_matches('/');
        match self.flavor {
            ConfluenceFlavor::Cloud => format!("{base}/wiki"),
            ConfluenceFlavor::Datacenter => base.to_owned(),
        }
    }

    fn rest(&self) -> &'static str {
        match self.flavor {
            ConfluenceFlavor::Cloud => "wiki/rest/api",
            ConfluenceFlavor::Datacenter => "rest/api",
        }
    }

    /// Looks a space up by key; also the permission check for it.
    pub async fn space(&self, key: &str) -> Result<Space, ApiError> {
        let found = match self.flavor {
            ConfluenceFlavor::Cloud => {
                let v: Value = self
                    .client
                    .get_json(
                        "wiki/api/v2/spaces",
                        &[("keys", key.to_owned()), ("limit", "1".to_owned())],
                    )
                    .await
                    .map_err(|e| ApiError::from(e).in_space(key))?;
                v.get("results")
                    .and_then(Value::as_array)
                    .and_then(|r| r.iter().find(|s| s["key"].as_str() == Some(key)))
                    .map(|s| Space {
                        key: key.to_owned(),
                        id: match &s["id"] {
                            Value::String(id) => Some(id.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        },
                        name: s["name"].as_str().map(str::to_owned),
                    })
                    .filter(|s| s.id.is_some())
            }
            ConfluenceFlavor::Datacenter => {
                let path = format!("rest/api/space/{}", path::segment(key));
                let v: Value = self
                    .client
                    .get_json(&path, &[])
                    .await
                    .map_err(|e| ApiError::from(e).in_space(key))?;
                Some(Space {
                    key: key.to_owned(),
                    id: None,
                    name: v["name"].as_str().map(str::to_owned),
                })
            }
        };
        found.ok_or_else(|| ApiError::SpaceNotFound {
            space: key.to_owned(),
            detail: " (the site lists no such space for this account)".into(),
        })
    }

    /// Every current page (or blog post) of a space, with bodies or slim.
    pub fn listing(&self, space: &Space, kind: &str, with_body: bool, limit: u32) -> Pager {
        match (self.flavor, &space.id) {
            (ConfluenceFlavor::Cloud, Some(id)) => {
                let plural = if kind == "blogpost" {
                    "blogposts"
                } else {
                    "pages"
                };
                let mut query = vec![
                    ("limit".to_owned(), limit.to_string()),
                    ("status".to_owned(), "current".to_owned()),
                ];
                if with_body {
                    query.push(("body-format".to_owned(), "storage".to_owned()));
                }
                Pager::new(
                    self.clone(),
                    format!("wiki/api/v2/spaces/{}/{plural}", path::segment(id)),
                    query,
                    Shape::V2(kind.to_owned()),
                )
            }
            _ => {
                let mut query = vec![
                    ("spaceKey".to_owned(), space.key.clone()),
                    ("type".to_owned(), kind.to_owned()),
                    ("status".to_owned(), "current".to_owned()),
                    ("limit".to_owned(), limit.to_string()),
                ];
                // Slim: no body, but what the fingerprint is made of.
                let expand = if with_body { EXPAND } else { META_EXPAND };
                query.push(("expand".to_owned(), expand.to_owned()));
                Pager::new(
                    self.clone(),
                    format!("{}/content", self.rest()),
                    query,
                    Shape::V1,
                )
            }
        }
    }

    /// A CQL search, fully expanded.
    pub fn search(&self, cql: &str, limit: u32) -> Pager {
        self.search_expanding(cql, limit, EXPAND)
    }

    /// A CQL search without bodies: versions, ancestors, labels, space.
    pub fn search_slim(&self, cql: &str, limit: u32) -> Pager {
        self.search_expanding(cql, limit, META_EXPAND)
    }

    /// The named pages (fully expanded), in chunks of [`IDS_PER_SEARCH`].
    pub fn by_ids(&self, ids: &[String], limit: u32) -> Pager {
        self.search(&cql::by_ids(ids), limit)
    }

    /// Every page below the named ones (fully expanded).
    pub fn descendants(&self, ids: &[String], limit: u32) -> Pager {
        self.search(&cql::descendants(ids), limit)
    }

    /// Comments of a space written or edited since `since` (CQL literal
    /// already in the query), with the page each belongs to.
    pub fn comments_since(&self, cql: &str, limit: u32) -> Pager {
        self.search_expanding(cql, limit, "container,version")
    }

    /// Every footer comment of a page or blog post, page by page. Cloud:
    /// v2 `GET /wiki/api/v2/{pages|blogposts}/{id}/footer-comments`
    /// (`body-format=storage`, `_links.next` cursors); Data Center: v1
    /// `GET /rest/api/content/{id}/child/comment` with
    /// `expand=body.storage,version&depth=all` (replies too), `start`/`limit`.
    pub async fn footer_comments(
        &self,
        page: &RawPage,
        limit: u32,
    ) -> Result<Vec<RawComment>, ApiError> {
        let mut pager = match self.flavor {
            ConfluenceFlavor::Cloud => {
                let plural = if page.kind == "blogpost" {
                    "blogposts"
                } else {
                    "pages"
                };
                Pager::new(
                    self.clone(),
                    format!(
                        "wiki/api/v2/{plural}/{}/footer-comments",
                        path::segment(&page.id)
                    ),
                    vec![
                        ("body-format".to_owned(), "storage".to_owned()),
                        ("limit".to_owned(), limit.to_string()),
                    ],
                    Shape::V1,
                )
            }
            ConfluenceFlavor::Datacenter => Pager::new(
                self.clone(),
                format!("rest/api/content/{}/child/comment", path::segment(&page.id)),
                vec![
                    ("expand".to_owned(), "body.storage,version".to_owned()),
                    ("depth".to_owned(), "all".to_owned()),
                    ("limit".to_owned(), limit.to_string()),
                ],
                Shape::V1,
            ),
        };
        let mut out: Vec<RawComment> = Vec::new();
        while let Some(values) = pager.next_values().await? {
            for comment in values.iter().filter_map(RawComment::from_json) {
                // Positional pages repeat a comment when one is added meanwhile.
                if !out.iter().any(|c| c.id == comment.id) {
                    out.push(comment);
                }
            }
        }
        Ok(out)
    }

    fn search_expanding(&self, cql: &str, limit: u32, expand: &str) -> Pager {
        Pager::new(
            self.clone(),
            format!("{}/content/search", self.rest()),
            vec![
                ("cql".to_owned(), cql.to_owned()),
                ("limit".to_owned(), limit.to_string()),
                ("expand".to_owned(), expand.to_owned()),
            ],
            Shape::V1,
        )
    }

    /// Cloud: the v1 view (ancestors, labels, author) of v2-listed pages.
    pub async fn enrich(&self, pages: &mut [RawPage], limit: u32) -> Result<(), ApiError> {
        if pages.is_empty() || self.flavor != ConfluenceFlavor::Cloud {
            return Ok(());
        }
        let ids: Vec<&str> = pages
            .iter()
            .map(|p| p.id.as_str())
            .filter(|id| id.chars().all(|c| c.is_ascii_digit()))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let cql = format!("id in ({})", ids.join(","));
        let mut pager = self.search_expanding(&cql, limit, META_EXPAND);
        let mut found = std::collections::HashMap::new();
        while let Some(batch) = pager.next_page().await? {
            for p in batch {
                found.insert(p.id.clone(), p);
            }
        }
        for page in pages.iter_mut() {
            if let Some(v1) = found.get(&page.id) {
                page.enrich(v1);
            }
        }
        Ok(())
    }
}

/// Which JSON shape a pager's results have.
#[derive(Debug, Clone)]
enum Shape {
    V1,
    /// v2 results carry no type: it is the endpoint's.
    V2(String),
}

enum Next {
    First,
    Link(String),
    Offset(u64),
    Done,
}

/// Walks one listing or search, a page of results per call.
pub struct Pager {
    api: ConfluenceApi,
    path: String,
    query: Vec<(String, String)>,
    shape: Shape,
    next: Next,
}

impl Pager {
    fn new(api: ConfluenceApi, path: String, query: Vec<(String, String)>, shape: Shape) -> Self {
        Pager {
            api,
            path,
            query,
            shape,
            next: Next::First,
        }
    }

    /// True for Cloud v2 results, which lack ancestors, labels and author
    /// names ([`ConfluenceApi::enrich`] fills them in).
    pub fn needs_enrich(&self) -> bool {
        matches!(self.shape, Shape::V2(_))
    }

    /// The next page of results; `None` once the listing is exhausted.
    /// Results that cannot be read as a page are skipped with a warning.
    pub async fn next_page(&mut self) -> Result<Option<Vec<RawPage>>, ApiError> {
        let Some(results) = self.next_values().await? else {
            return Ok(None);
        };
        let pages = results
            .iter()
            .filter_map(|v| {
                let page = match &self.shape {
                    Shape::V1 => RawPage::from_v1(v),
                    Shape::V2(kind) => RawPage::from_v2(v, kind),
                };
                if page.is_none() {
                    tracing::warn!(path = %self.path, "Confluence result without an id; skipped");
                }
                page
            })
            .collect();
        Ok(Some(pages))
    }

    /// The next page of raw results; `None` once the listing is exhausted.
    pub async fn next_values(&mut self) -> Result<Option<Vec<Value>>, ApiError> {
        let value: Value = match std::mem::replace(&mut self.next, Next::Done) {
            Next::Done => return Ok(None),
            Next::First => {
                let query: Vec<(&str, String)> = self
                    .query
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect();
                self.api.client.get_json(&self.path, &query).await?
            }
            Next::Link(link) => self.api.client.get_json(&link, &[]).await?,
            Next::Offset(start) => {
                let mut query: Vec<(&str, String)> = self
                    .query
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect();
                query.push(("start", start.to_string()));
                self.api.client.get_json(&self.path, &query).await?
            }
        };
        let results = value
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let next_link = value
            .pointer("/_links/next")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty());
        self.next = match (self.api.flavor, next_link) {
            (_, None) => Next::Done,
            _ if results.is_empty() => Next::Done,
            (ConfluenceFlavor::Cloud, Some(link)) => Next::Link(self.cloud_link(link)?),
            (ConfluenceFlavor::Datacenter, Some(_)) => {
                let start = value.get("start").and_then(Value::as_u64).unwrap_or(0);
                Next::Offset(start + results.len() as u64)
            }
        };
        Ok(Some(results))
    }

    /// A `next` link as a path under the site root. v2 links carry the
    /// `/wiki` prefix, v1 links are relative to `/wiki`.
    fn cloud_link(&self, link: &str) -> Result<String, ApiError> {
        let base = self.api.client.base_url();
        let relative = if link.starts_with("http://") || link.starts_with("https://") {
            let url = Url::parse(link).map_err(|_| ApiError::ForeignLink(link.to_owned()))?;
            if url.origin() != base.origin() {
                return Err(ApiError::ForeignLink(link.to_owned()));
            }
            match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            }
        } else {
            link.to_owned()
        };
        let relative = relative.trim_start_matches('/');
        Ok(if relative.starts_with("wiki/") {
            relative.to_owned()
        } else {
            format!("wiki/{relative}")
        })
    }
}
