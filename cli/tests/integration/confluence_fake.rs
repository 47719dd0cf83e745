//! A local HTTP server that answers like Confluence: Cloud REST v2 space and
//! page listings with opaque `_links.next` cursors, Cloud v1 CQL search with
//! its own cursor links, Data Center `/rest/api/content` with `start`/`limit`,
//! basic / bearer auth. It evaluates the CQL conditions the connector's
//! correctness rests on (`space in`, `type`, `lastmodified >= "<minute>"` in
//! UTC, `id in`), so tests prove what the queries select.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use tributary_connectors::confluence::ConfluenceSyncOptions;
use tributary_core::config::{AtlassianSite, ConfluenceConfig, ConfluenceFlavor};
use wiremock::ResponseTemplate;

use crate::support::atlassian::{self, utc};
use crate::support::fake_http::{self, Api, Edits, FakeHttp, Faults, Incoming};

pub const TOKEN: &str = "s3cr3t-confluence-token";
pub use crate::support::atlassian::EMAIL;

#[derive(Debug, Clone)]
pub struct FakePage {
    pub id: String,
    pub space: String,
    /// `page` or `blogpost`.
    pub kind: String,
    pub status: String,
    pub title: String,
    pub ancestors: Vec<String>,
    pub labels: Vec<String>,
    pub version: u64,
    pub when: DateTime<Utc>,
    pub storage: String,
    /// The parent page: when set, ancestors (ids and titles) follow the
    /// parent chain as it is now, like Confluence's; else `ancestors` are
    /// titles with made-up ids.
    pub parent: Option<u64>,
    pub comments: Vec<FakeComment>,
}

#[derive(Debug, Clone)]
pub struct FakeComment {
    pub id: String,
    pub author: String,
    pub when: DateTime<Utc>,
    pub storage: String,
}

impl FakePage {
    pub fn new(id: u32, space: &str, when: &str, title: &str, storage: &str) -> Self {
        FakePage {
            id: id.to_string(),
            space: space.into(),
            kind: "page".into(),
            status: "current".into(),
            title: title.into(),
            ancestors: Vec::new(),
            labels: vec!["docs".into()],
            version: 1,
            when: utc(when),
            storage: storage.into(),
            parent: None,
            comments: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub query: BTreeMap<String, String>,
}

pub struct Confluence {
    flavor: ConfluenceFlavor,
    /// key → (id, name)
    spaces: BTreeMap<String, (String, String)>,
    /// Space keys whose pages answer 403.
    forbidden: BTreeSet<String>,
    pages: BTreeMap<u64, FakePage>,
    /// For the next requests.
    faults: Faults,
    /// Pages written just before the first continuation page (a request
    /// with `start` or `cursor`) of this path is answered: a change while a
    /// run pages. Cursors here are offsets, so a page that moves shifts the
    /// rest exactly as on a server whose cursors behave like offsets.
    edits: Edits<String, FakePage>,
}

pub type FakeConfluence = FakeHttp<Confluence>;

impl FakeConfluence {
    pub fn page(&self, id: u64) -> FakePage {
        self.lock().pages.get(&id).cloned().expect("page exists")
    }

    /// Writes `page` just before the first continuation page of `path`.
    pub fn edit_before_next_page(&self, path: &str, page: FakePage) {
        self.lock().edits.push(path.to_owned(), page);
    }

    pub fn forbid(&self, space: &str, forbidden: bool) {
        let mut s = self.lock();
        if forbidden {
            s.forbidden.insert(space.to_owned());
        } else {
            s.forbidden.remove(space);
        }
    }

    /// Answers the next request with `status` and `Retry-After` seconds.
    pub fn fault(&self, status: u16, retry_after: Option<u64>) {
        self.lock().faults.push(status, retry_after);
    }

    pub fn config(&self) -> ConfluenceConfig {
        let flavor = self.lock().flavor;
        ConfluenceConfig {
            site: AtlassianSite {
                time_zone: Some("UTC".into()),
                ..atlassian::site(self.uri())
            },
            flavor,
            spaces: vec!["ENG".into()],
            page_size: 2,
            listing_page_size: 2,
            ..ConfluenceConfig::default()
        }
    }

    /// Options with the right credentials and quick retries.
    pub fn options(&self) -> ConfluenceSyncOptions {
        self.options_for(self.config())
    }

    pub fn options_for(&self, cfg: ConfluenceConfig) -> ConfluenceSyncOptions {
        let cloud = cfg.flavor == ConfluenceFlavor::Cloud;
        let auth = atlassian::auth(cloud, EMAIL, TOKEN, "TRIBUTARY_CONFLUENCE_TOKEN");
        let mut opts = ConfluenceSyncOptions::from_config(&cfg, auth).expect("options");
        opts.http.retry = atlassian::quick_retry();
        opts
    }
}

fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"statusCode": status, "message": message}))
}

/// Percent-encodes a query value (enough for CQL and cursors): all but
/// RFC 3986's unreserved characters.
fn enc(v: &str) -> String {
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(v, QUERY_VALUE).to_string()
}

/// `path` with the request's query, `set` replacing or adding parameters:
/// a `next` link.
fn link(path: &str, query: &BTreeMap<String, String>, set: &[(&str, String)]) -> String {
    let mut q = query.clone();
    for (k, v) in set {
        q.insert((*k).to_owned(), v.clone());
    }
    let query = q
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{query}")
}

/// The CQL conditions the fake understands.
struct Cql {
    ids: Option<BTreeSet<String>>,
    ancestors: Option<BTreeSet<String>>,
    space: Option<String>,
    types: Vec<String>,
    since: Option<DateTime<Utc>>,
}

fn parse_cql(cql: &str) -> Cql {
    let between = |start: &str, end: char| -> Option<String> {
        let at = cql.find(start)? + start.len();
        let len = cql[at..].find(end)?;
        Some(cql[at..at + len].to_owned())
    };
    let list = |start: &str| -> Option<BTreeSet<String>> {
        between(start, ')').map(|s| s.split(',').map(|i| i.trim().to_owned()).collect())
    };
    let ids = if cql.starts_with("id in (") {
        list("id in (")
    } else {
        None
    };
    let ancestors = list("ancestor in (");
    let space = between("space in (\"", '"');
    let types = if cql.contains("type in (page, blogpost)") {
        vec!["page".into(), "blogpost".into()]
    } else {
        vec!["page".into()]
    };
    let since = between("lastmodified >= \"", '"').and_then(|lit| {
        NaiveDateTime::parse_from_str(&lit, "%Y-%m-%d %H:%M")
            .ok()
            .map(|n| n.and_utc())
    });
    Cql {
        ids,
        ancestors,
        space,
        types,
        since,
    }
}

/// Ancestors (id, title), root first.
fn ancestors(p: &FakePage, s: &Confluence) -> Vec<(String, String)> {
    let Some(mut parent) = p.parent else {
        return p
            .ancestors
            .iter()
            .enumerate()
            .map(|(i, t)| ((900 + i).to_string(), t.clone()))
            .collect();
    };
    let mut out = Vec::new();
    while let Some(page) = s.pages.get(&parent) {
        out.push((page.id.clone(), page.title.clone()));
        match page.parent {
            Some(next) if out.len() < 50 => parent = next,
            _ => break,
        }
    }
    out.reverse();
    out
}

fn v1(p: &FakePage, s: &Confluence, body: bool) -> Value {
    let (_, name) = s.spaces.get(&p.space).cloned().unwrap_or_default();
    let mut out = json!({
        "id": p.id, "type": p.kind, "status": p.status, "title": p.title,
        "space": {"key": p.space, "name": name},
        "ancestors": ancestors(p, s).into_iter().map(|(id, t)| json!({"id": id, "title": t})).collect::<Vec<_>>(),
        "metadata": {"labels": {"results": p.labels.iter().map(|l| json!({"prefix": "global", "name": l})).collect::<Vec<_>>()}},
        "version": {"number": p.version, "when": p.when.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "by": {"displayName": "Jane Doe"}},
        "_links": {"webui": format!("/spaces/{}/pages/{}", p.space, p.id)},
    });
    if body {
        out["body"] = json!({"storage": {"value": p.storage, "representation": "storage"}});
    }
    out
}

fn v2(p: &FakePage, s: &Confluence, body: bool) -> Value {
    let (space_id, _) = s.spaces.get(&p.space).cloned().unwrap_or_default();
    let mut out = json!({
        "id": p.id, "status": p.status, "title": p.title, "spaceId": space_id,
        "version": {"number": p.version, "createdAt": p.when.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "authorId": "5b10"},
        "_links": {"webui": format!("/spaces/{}/pages/{}", p.space, p.id)},
    });
    if body {
        out["body"] = json!({"storage": {"value": p.storage, "representation": "storage"}});
    }
    out
}

impl Api for Confluence {
    type Flavor = ConfluenceFlavor;
    type Item = FakePage;
    type Logged = Logged;

    fn new(flavor: ConfluenceFlavor) -> Confluence {
        let mut spaces = BTreeMap::new();
        spaces.insert(
            "ENG".to_owned(),
            ("1001".to_owned(), "Engineering".to_owned()),
        );
        spaces.insert("SEC".to_owned(), ("1002".to_owned(), "Security".to_owned()));
        Confluence {
            flavor,
            spaces,
            forbidden: BTreeSet::new(),
            pages: BTreeMap::new(),
            faults: Faults::default(),
            edits: Edits::default(),
        }
    }

    fn put(&mut self, page: FakePage) {
        let id: u64 = page.id.parse().expect("numeric id");
        self.pages.insert(id, page);
    }

    fn log_entry(&self, req: &Incoming) -> Logged {
        Logged {
            path: req.path.clone(),
            query: req.query.clone(),
        }
    }

    fn expected_auth(&self) -> String {
        fake_http::authorization(self.flavor == ConfluenceFlavor::Cloud, EMAIL, TOKEN)
    }

    fn unauthorized(&self) -> ResponseTemplate {
        error(401, "Unauthorized")
    }

    fn answer(&mut self, req: &Incoming) -> ResponseTemplate {
        if let Some(t) = self
            .faults
            .next(|status| error(status, "Rate limit exceeded"))
        {
            return t;
        }
        if req.query.contains_key("start") || req.query.contains_key("cursor") {
            for page in self.edits.due(&req.path) {
                if let Ok(id) = page.id.parse::<u64>() {
                    self.pages.insert(id, page);
                }
            }
        }
        let limit = req.number("limit", 25);
        match self.flavor {
            ConfluenceFlavor::Cloud => cloud(self, &req.path, &req.query, limit),
            ConfluenceFlavor::Datacenter => datacenter(self, &req.path, &req.query, limit),
        }
    }
}

fn offset_of(cursor: Option<&String>) -> usize {
    cursor
        .and_then(|c| c.strip_prefix("c-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// CQL `type = comment` results: comments of the space's current pages
/// changed since the literal, each with its page as `container`.
fn comment_hits(s: &Confluence, cql: &str) -> Vec<Value> {
    let c = parse_cql(cql);
    let mut hits: Vec<(DateTime<Utc>, Value)> = Vec::new();
    for p in s.pages.values() {
        if p.status != "current" || c.space.as_ref().is_some_and(|k| *k != p.space) {
            continue;
        }
        for comment in &p.comments {
            if c.since.is_none_or(|t| comment.when >= t) {
                hits.push((
                    comment.when,
                    json!({"id": comment.id, "type": "comment", "status": "current", "title": format!("Re: {}", p.title),
                           "container": {"id": p.id, "type": p.kind, "title": p.title},
                           "version": {"number": 1, "when": comment.when.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}}),
                ));
            }
        }
    }
    hits.sort_by_key(|(when, _)| *when);
    hits.into_iter().map(|(_, v)| v).collect()
}

fn comment_json(c: &FakeComment, v2: bool) -> Value {
    let when = c.when.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let version = if v2 {
        json!({"number": 1, "createdAt": when, "authorId": "5b10"})
    } else {
        json!({"number": 1, "when": when, "by": {"displayName": c.author}})
    };
    json!({"id": c.id, "status": "current", "title": "Re:", "version": version,
           "body": {"storage": {"value": c.storage, "representation": "storage"}}})
}

/// A page's footer comments, one page of them, with the `next` link.
fn comments_page(
    s: &Confluence,
    page_id: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    limit: usize,
    v2: bool,
) -> ResponseTemplate {
    let Some(page) = page_id.parse::<u64>().ok().and_then(|id| s.pages.get(&id)) else {
        return error(404, "No content found with id");
    };
    let start = if v2 {
        offset_of(query.get("cursor"))
    } else {
        query.get("start").and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let (results, next) = fake_http::page(&page.comments, start, limit, |c| comment_json(c, v2));
    let mut links = json!({"base": "https://fake.invalid"});
    if let Some(end) = next {
        let set = if v2 {
            ("cursor", format!("c-{end}"))
        } else {
            ("start", end.to_string())
        };
        links["next"] = json!(link(path, query, &[set]));
    }
    ResponseTemplate::new(200).set_body_json(
        json!({"results": results, "start": start, "limit": limit, "size": results.len(), "_links": links}),
    )
}

/// `expand` asks for the storage body.
fn expands_body(query: &BTreeMap<String, String>) -> bool {
    query
        .get("expand")
        .is_some_and(|e| e.contains("body.storage"))
}

impl Confluence {
    /// The current pages of one kind in a space, by id.
    fn listing(&self, space: &str, kind: &str) -> Vec<&FakePage> {
        self.pages
            .values()
            .filter(|p| p.space == space && p.kind == kind && p.status == "current")
            .collect()
    }
}

fn search<'a>(s: &'a Confluence, cql: &str) -> Vec<&'a FakePage> {
    let c = parse_cql(cql);
    let mut hits: Vec<&FakePage> = s
        .pages
        .values()
        .filter(|p| p.status == "current")
        .filter(|p| c.ids.as_ref().is_none_or(|ids| ids.contains(&p.id)))
        .filter(|p| {
            c.ancestors
                .as_ref()
                .is_none_or(|wanted| ancestors(p, s).iter().any(|(id, _)| wanted.contains(id)))
        })
        .filter(|p| c.space.as_ref().is_none_or(|k| *k == p.space))
        .filter(|p| c.ids.is_some() || c.types.contains(&p.kind))
        .filter(|p| c.since.is_none_or(|t| p.when >= t))
        .collect();
    if cql.contains("ORDER BY lastmodified ASC") {
        hits.sort_by_key(|p| p.when);
    }
    hits
}

fn cloud(
    s: &Confluence,
    path: &str,
    query: &BTreeMap<String, String>,
    limit: usize,
) -> ResponseTemplate {
    if path == "/wiki/api/v2/spaces" {
        let key = query.get("keys").cloned().unwrap_or_default();
        let results: Vec<Value> = s
            .spaces
            .iter()
            .filter(|(k, _)| **k == key)
            .map(|(k, (id, name))| json!({"id": id, "key": k, "name": name}))
            .collect();
        return ResponseTemplate::new(200).set_body_json(json!({"results": results, "_links": {}}));
    }
    for prefix in ["/wiki/api/v2/pages/", "/wiki/api/v2/blogposts/"] {
        if let Some(id) = path
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix("/footer-comments"))
        {
            if query.get("body-format").map(String::as_str) != Some("storage") {
                return error(400, "body-format=storage expected by this fake");
            }
            return comments_page(s, id, path, query, limit, true);
        }
    }
    if let Some(rest) = path.strip_prefix("/wiki/api/v2/spaces/") {
        let mut parts = rest.split('/');
        let (Some(space_id), Some(plural)) = (parts.next(), parts.next()) else {
            return error(404, "not found");
        };
        let Some(key) = s
            .spaces
            .iter()
            .find(|(_, (id, _))| id == space_id)
            .map(|(k, _)| k.clone())
        else {
            return error(404, "space not found");
        };
        if s.forbidden.contains(&key) {
            return error(403, "You do not have permission to view this space");
        }
        let kind = if plural == "blogposts" {
            "blogpost"
        } else {
            "page"
        };
        let body = query.get("body-format").is_some_and(|f| f == "storage");
        let all = s.listing(&key, kind);
        let start = offset_of(query.get("cursor"));
        let (results, next) = fake_http::page(&all, start, limit, |p| v2(p, s, body));
        let mut links = json!({"base": "https://fake.invalid/wiki"});
        if let Some(end) = next {
            links["next"] = json!(link(path, query, &[("cursor", format!("c-{end}"))]));
        }
        return ResponseTemplate::new(200)
            .set_body_json(json!({"results": results, "_links": links}));
    }
    if path == "/wiki/rest/api/content/search" {
        let cql = query.get("cql").cloned().unwrap_or_default();
        if cql.contains("type = comment") {
            let results = comment_hits(s, &cql);
            return ResponseTemplate::new(200).set_body_json(
                json!({"results": results, "size": results.len(), "_links": {"base": "https://fake.invalid/wiki"}}),
            );
        }
        let body = expands_body(query);
        let hits = search(s, &cql);
        let start = offset_of(query.get("cursor"));
        let (results, next) = fake_http::page(&hits, start, limit, |p| v1(p, s, body));
        let mut links = json!({"base": "https://fake.invalid/wiki", "context": "/wiki"});
        if let Some(end) = next {
            let set = [("cursor", format!("c-{end}")), ("next", "true".into())];
            // v1 links are relative to /wiki, unlike v2's.
            links["next"] = json!(link("/rest/api/content/search", query, &set));
        }
        return ResponseTemplate::new(200)
            .set_body_json(json!({"results": results, "size": results.len(), "_links": links}));
    }
    error(404, &format!("{path} is not served by this fake"))
}

fn datacenter(
    s: &Confluence,
    path: &str,
    query: &BTreeMap<String, String>,
    limit: usize,
) -> ResponseTemplate {
    if let Some(key) = path.strip_prefix("/rest/api/space/") {
        return match s.spaces.get(key) {
            Some((id, name)) if !s.forbidden.contains(key) => ResponseTemplate::new(200)
                .set_body_json(json!({"id": id, "key": key, "name": name})),
            Some(_) => error(403, "not permitted"),
            None => error(404, &format!("No space with key : {key}")),
        };
    }
    let body = expands_body(query);
    if let Some(id) = path
        .strip_prefix("/rest/api/content/")
        .and_then(|r| r.strip_suffix("/child/comment"))
    {
        if !body || query.get("depth").map(String::as_str) != Some("all") {
            return error(
                400,
                "expand=body.storage and depth=all expected by this fake",
            );
        }
        return comments_page(s, id, path, query, limit, false);
    }
    if path == "/rest/api/content/search"
        && query
            .get("cql")
            .is_some_and(|c| c.contains("type = comment"))
    {
        let results = comment_hits(s, &query["cql"]);
        return ResponseTemplate::new(200).set_body_json(json!({
            "results": results, "start": 0, "limit": limit, "size": results.len(), "_links": {"base": "https://fake.invalid"}
        }));
    }
    let hits: Vec<&FakePage> = if path == "/rest/api/content" {
        let key = query.get("spaceKey").cloned().unwrap_or_default();
        let kind = query.get("type").map(String::as_str).unwrap_or("page");
        s.listing(&key, kind)
    } else if path == "/rest/api/content/search" {
        search(s, query.get("cql").map(String::as_str).unwrap_or(""))
    } else {
        return error(404, &format!("{path} is not served by this fake"));
    };
    let start: usize = query.get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let (results, next) = fake_http::page(&hits, start, limit, |p| v1(p, s, body));
    let mut links = json!({"base": "https://fake.invalid", "context": ""});
    if let Some(end) = next {
        links["next"] = json!(link(path, query, &[("start", end.to_string())]));
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "results": results, "start": start, "limit": limit, "size": results.len(), "_links": links
    }))
}
