//! A local HTTP server that answers like Confluence: Cloud REST v2 space and
//! page listings with opaque `_links.next` cursors, Cloud v1 CQL search with
//! its own cursor links, Data Center `/rest/api/content` with `start`/`limit`,
//! basic / bearer auth. It evaluates the CQL conditions the connector's
//! correctness rests on (`space in`, `type`, `lastmodified >= "<minute>"` in
//! UTC, `id in`), so tests prove what the queries select.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use tributary_connectors::confluence::ConfluenceSyncOptions;
use tributary_core::config::{ConfluenceConfig, ConfluenceFlavor};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::atlassian;

pub const TOKEN: &str = "s3cr3t-confluence-token";
pub const EMAIL: &str = "bot@example.com";

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

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub query: BTreeMap<String, String>,
}

struct State {
    flavor: ConfluenceFlavor,
    /// key → (id, name)
    spaces: BTreeMap<String, (String, String)>,
    /// Space keys whose pages answer 403.
    forbidden: BTreeSet<String>,
    pages: BTreeMap<u64, FakePage>,
    /// (status, Retry-After seconds) for the next requests.
    faults: VecDeque<(u16, Option<u64>)>,
    /// Pages written just before the first continuation page (a request
    /// with `start` or `cursor`) of this path is answered: a change while a
    /// run pages. Cursors here are offsets, so a page that moves shifts the
    /// rest exactly as on a server whose cursors behave like offsets.
    edits: Vec<(String, FakePage)>,
    log: Vec<Logged>,
}

#[derive(Clone)]
pub struct FakeConfluence {
    pub server: Arc<MockServer>,
    state: Arc<Mutex<State>>,
}

impl FakeConfluence {
    pub async fn start(flavor: ConfluenceFlavor) -> FakeConfluence {
        let server = MockServer::start().await;
        let mut spaces = BTreeMap::new();
        spaces.insert(
            "ENG".to_owned(),
            ("1001".to_owned(), "Engineering".to_owned()),
        );
        spaces.insert("SEC".to_owned(), ("1002".to_owned(), "Security".to_owned()));
        let state = Arc::new(Mutex::new(State {
            flavor,
            spaces,
            forbidden: BTreeSet::new(),
            pages: BTreeMap::new(),
            faults: VecDeque::new(),
            edits: Vec::new(),
            log: Vec::new(),
        }));
        Mock::given(any())
            .respond_with(Responder(Arc::clone(&state)))
            .mount(&server)
            .await;
        FakeConfluence {
            server: Arc::new(server),
            state,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn put(&self, page: FakePage) {
        let id: u64 = page.id.parse().expect("numeric id");
        self.lock().pages.insert(id, page);
    }

    pub fn page(&self, id: u64) -> FakePage {
        self.lock().pages.get(&id).cloned().expect("page exists")
    }

    /// Writes `page` just before the first continuation page of `path`.
    pub fn edit_before_next_page(&self, path: &str, page: FakePage) {
        self.lock().edits.push((path.to_owned(), page));
    }

    pub fn forbid(&self, space: &str, forbidden: bool) {
        let mut s = self.lock();
        if forbidden {
            s.forbidden.insert(space.to_owned());
        } else {
            s.forbidden.remove(space);
        }
    }

    pub fn fault(&self, status: u16, retry_after: Option<u64>) {
        self.lock().faults.push_back((status, retry_after));
    }

    pub fn take_log(&self) -> Vec<Logged> {
        std::mem::take(&mut self.lock().log)
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn config(&self) -> ConfluenceConfig {
        let flavor = self.lock().flavor;
        ConfluenceConfig {
            base_url: Some(self.uri()),
            flavor,
            instance: "test".into(),
            spaces: vec!["ENG".into()],
            page_size: 2,
            listing_page_size: 2,
            email: Some(EMAIL.into()),
            time_zone: Some("UTC".into()),
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

struct Responder(Arc<Mutex<State>>);

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

fn query_string(q: &BTreeMap<String, String>) -> String {
    q.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
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
fn ancestors(p: &FakePage, s: &State) -> Vec<(String, String)> {
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

fn v1(p: &FakePage, s: &State, body: bool) -> Value {
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

fn v2(p: &FakePage, s: &State, body: bool) -> Value {
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

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let path = req.url.path().to_owned();
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        s.log.push(Logged {
            path: path.clone(),
            query: query.clone(),
        });
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let expected = match s.flavor {
            ConfluenceFlavor::Cloud => {
                format!("Basic {}", BASE64.encode(format!("{EMAIL}:{TOKEN}")))
            }
            ConfluenceFlavor::Datacenter => format!("Bearer {TOKEN}"),
        };
        if auth != expected {
            return error(401, "Unauthorized");
        }
        if let Some((status, retry_after)) = s.faults.pop_front() {
            let mut t = error(status, "Rate limit exceeded");
            if let Some(secs) = retry_after {
                t = t.insert_header("Retry-After", secs.to_string().as_str());
            }
            return t;
        }
        if query.contains_key("start") || query.contains_key("cursor") {
            let due: Vec<FakePage> = s
                .edits
                .iter()
                .filter(|(p, _)| *p == path)
                .map(|(_, page)| page.clone())
                .collect();
            s.edits.retain(|(p, _)| *p != path);
            for page in due {
                if let Ok(id) = page.id.parse::<u64>() {
                    s.pages.insert(id, page);
                }
            }
        }
        let limit: usize = query
            .get("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(25);
        match s.flavor {
            ConfluenceFlavor::Cloud => cloud(&s, &path, &query, limit),
            ConfluenceFlavor::Datacenter => datacenter(&s, &path, &query, limit),
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
fn comment_hits(s: &State, cql: &str) -> Vec<Value> {
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
    s: &State,
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
    let results: Vec<Value> = page
        .comments
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| comment_json(c, v2))
        .collect();
    let end = start + results.len();
    let mut links = json!({"base": "https://fake.invalid"});
    if end < page.comments.len() {
        let mut q = query.clone();
        if v2 {
            q.insert("cursor".into(), format!("c-{end}"));
        } else {
            q.insert("start".into(), end.to_string());
        }
        links["next"] = json!(format!("{path}?{}", query_string(&q)));
    }
    ResponseTemplate::new(200).set_body_json(
        json!({"results": results, "start": start, "limit": limit, "size": results.len(), "_links": links}),
    )
}

fn search<'a>(s: &'a State, cql: &str) -> Vec<&'a FakePage> {
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
    s: &State,
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
        let all: Vec<&FakePage> = s
            .pages
            .values()
            .filter(|p| p.space == key && p.kind == kind && p.status == "current")
            .collect();
        let start = offset_of(query.get("cursor"));
        let results: Vec<Value> = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|p| v2(p, s, body))
            .collect();
        let end = start + results.len();
        let mut links = json!({"base": "https://fake.invalid/wiki"});
        if end < all.len() {
            let mut q = query.clone();
            q.insert("cursor".into(), format!("c-{end}"));
            links["next"] = json!(format!("{path}?{}", query_string(&q)));
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
        let body = query
            .get("expand")
            .is_some_and(|e| e.contains("body.storage"));
        let hits = search(s, &cql);
        let start = offset_of(query.get("cursor"));
        let results: Vec<Value> = hits
            .iter()
            .skip(start)
            .take(limit)
            .map(|p| v1(p, s, body))
            .collect();
        let end = start + results.len();
        let mut links = json!({"base": "https://fake.invalid/wiki", "context": "/wiki"});
        if end < hits.len() {
            let mut q = query.clone();
            q.insert("cursor".into(), format!("c-{end}"));
            q.insert("next".into(), "true".into());
            // v1 links are relative to /wiki, unlike v2's.
            links["next"] = json!(format!("/rest/api/content/search?{}", query_string(&q)));
        }
        return ResponseTemplate::new(200)
            .set_body_json(json!({"results": results, "size": results.len(), "_links": links}));
    }
    error(404, &format!("{path} is not served by this fake"))
}

fn datacenter(
    s: &State,
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
    let body = query
        .get("expand")
        .is_some_and(|e| e.contains("body.storage"));
    if let Some(id) = path
        .strip_prefix("/rest/api/content/")
        .and_then(|r| r.strip_suffix("/child/comment"))
    {
        let expand = query.get("expand").map(String::as_str).unwrap_or("");
        if !expand.contains("body.storage") || query.get("depth").map(String::as_str) != Some("all")
        {
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
        let kind = query.get("type").cloned().unwrap_or_else(|| "page".into());
        s.pages
            .values()
            .filter(|p| p.space == key && p.kind == kind && p.status == "current")
            .collect()
    } else if path == "/rest/api/content/search" {
        search(s, query.get("cql").map(String::as_str).unwrap_or(""))
    } else {
        return error(404, &format!("{path} is not served by this fake"));
    };
    let start: usize = query.get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let results: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(limit)
        .map(|p| v1(p, s, body))
        .collect();
    let end = start + results.len();
    let mut links = json!({"base": "https://fake.invalid", "context": ""});
    if end < hits.len() {
        let mut q = query.clone();
        q.insert("start".into(), end.to_string());
        links["next"] = json!(format!("{path}?{}", query_string(&q)));
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "results": results, "start": start, "limit": limit, "size": results.len(), "_links": links
    }))
}
