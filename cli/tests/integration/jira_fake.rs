//! A local HTTP server that answers like Jira: Cloud enhanced search with
//! `nextPageToken`, Data Center search with `startAt`, `/myself`, paged
//! comments, basic / bearer auth. It evaluates the one JQL condition the
//! connector's correctness rests on (`updated >= "<literal>"`, read in the
//! account's zone like Jira does), so tests prove what the query selects.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Value};
use tributary_connectors::jira::JiraSyncOptions;
use tributary_core::config::{JiraConfig, JiraFlavor};
use wiremock::ResponseTemplate;

use crate::support::atlassian::{self, utc};
use crate::support::fake_http::{self, Api, Edits, FakeHttp, Faults, Incoming};

pub const TOKEN: &str = "s3cr3t-jira-token";
pub use crate::support::atlassian::EMAIL;
/// The account's zone: UTC−5, no DST (POSIX sign convention).
pub const ZONE: &str = "Etc/GMT+5";
const ZONE_OFFSET_SECS: i32 = -5 * 3600;
/// Comments the search embeds; the rest must be paged.
const INLINE_COMMENTS: usize = 2;

#[derive(Debug, Clone)]
pub struct FakeIssue {
    pub key: String,
    pub updated: DateTime<Utc>,
    pub summary: String,
    /// ADF for Cloud, wiki markup (a string) for Data Center.
    pub description: Value,
    pub comments: Vec<Value>,
}

impl FakeIssue {
    pub fn new(key: &str, updated: &str, summary: &str, description: Value) -> Self {
        FakeIssue {
            key: key.into(),
            updated: utc(updated),
            summary: summary.into(),
            description,
            comments: Vec::new(),
        }
    }
}

/// A one-paragraph ADF document.
pub fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    /// JQL of a search, else empty.
    pub jql: String,
    /// `nextPageToken` (Cloud) or `startAt` (DC) of a search.
    pub page_at: Option<String>,
}

pub struct Jira {
    flavor: JiraFlavor,
    issues: BTreeMap<String, FakeIssue>,
    /// For the next searches.
    faults: Faults,
    /// Data Center: leave `total` out, so only an empty page ends paging.
    hide_total: bool,
    /// Hold the Nth search (1-based) for a minute after signalling.
    hold_search: Option<(usize, mpsc::Sender<()>)>,
    searches: usize,
    /// Issues written just before the search with that (1-based) number is
    /// answered: an edit while a run pages.
    edits: Edits<usize, FakeIssue>,
}

pub type FakeJira = FakeHttp<Jira>;

impl FakeJira {
    pub fn remove(&self, key: &str) {
        self.lock().issues.remove(key);
    }

    /// Writes `issue` just before the `n`th search from now (1-based) is
    /// answered. Tokens here are offsets into the `updated` order, so an
    /// edited issue moves behind the cursor exactly as on a server whose
    /// tokens behave like offsets.
    pub fn edit_at_search(&self, n: usize, issue: FakeIssue) {
        let mut s = self.lock();
        let at = s.searches + n;
        s.edits.push(at, issue);
    }

    pub fn issue(&self, key: &str) -> FakeIssue {
        self.lock().issues.get(key).cloned().expect("issue exists")
    }

    /// Answers the next search with `status` and `Retry-After` seconds.
    pub fn fault(&self, status: u16, retry_after: Option<u64>) {
        self.lock().faults.push(status, retry_after);
    }

    pub fn hide_total(&self, hide: bool) {
        self.lock().hide_total = hide;
    }

    /// The `n`th search from now on is held; `rx` fires when it arrives.
    pub fn hold_search(&self, n: usize) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel();
        let mut s = self.lock();
        let at = s.searches + n;
        s.hold_search = Some((at, tx));
        rx
    }

    pub fn release_hold(&self) {
        self.lock().hold_search = None;
    }

    /// The `[jira]` config a test would write, pointing at this server.
    pub fn config(&self) -> JiraConfig {
        let flavor = self.lock().flavor;
        JiraConfig {
            site: atlassian::site(self.uri()),
            flavor,
            projects: vec!["OPS".into()],
            page_size: 2,
            comment_page_size: 2,
            ..JiraConfig::default()
        }
    }

    /// Options with the right credentials and quick retries.
    pub fn options(&self) -> JiraSyncOptions {
        self.options_with_token(TOKEN)
    }

    pub fn options_with_token(&self, token: &str) -> JiraSyncOptions {
        let cfg = self.config();
        let cloud = cfg.flavor == JiraFlavor::Cloud;
        let auth = atlassian::auth(cloud, EMAIL, token, "TRIBUTARY_JIRA_TOKEN");
        let mut opts = JiraSyncOptions::from_config(&cfg, auth).expect("options");
        opts.http.retry = atlassian::quick_retry();
        opts
    }
}

fn zone() -> FixedOffset {
    FixedOffset::east_opt(ZONE_OFFSET_SECS).expect("offset")
}

fn jira_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&zone())
        .format("%Y-%m-%dT%H:%M:%S%.3f%z")
        .to_string()
}

fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"errorMessages": [message], "errors": {}}))
}

/// Jira's reading of `updated >= "yyyy-MM-dd HH:mm"`: wall-clock time in
/// the account's zone.
fn lower_bound(jql: &str) -> Option<DateTime<Utc>> {
    let start = jql.find("updated >= \"")? + "updated >= \"".len();
    let end = start + jql[start..].find('"')?;
    let naive = NaiveDateTime::parse_from_str(&jql[start..end], "%Y-%m-%d %H:%M").ok()?;
    zone()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

impl Jira {
    fn api(&self) -> &'static str {
        match self.flavor {
            JiraFlavor::Cloud => "/rest/api/3",
            JiraFlavor::Datacenter => "/rest/api/2",
        }
    }

    /// The JQL and page position of a search request; `None` for any other.
    fn search_of(&self, req: &Incoming) -> Option<(String, Option<String>)> {
        match self.flavor {
            JiraFlavor::Cloud if req.path == "/rest/api/3/search/jql" => Some((
                req.body["jql"].as_str().unwrap_or("").to_owned(),
                req.body["nextPageToken"].as_str().map(str::to_owned),
            )),
            JiraFlavor::Datacenter if req.path == "/rest/api/2/search" => Some((
                req.query.get("jql").cloned().unwrap_or_default(),
                req.query.get("startAt").cloned(),
            )),
            _ => None,
        }
    }

    /// Page size and requested fields of a search.
    fn max_and_fields(&self, req: &Incoming) -> (usize, Vec<String>) {
        match self.flavor {
            JiraFlavor::Cloud => (
                req.body["maxResults"].as_u64().unwrap_or(50) as usize,
                req.body["fields"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            JiraFlavor::Datacenter => (
                req.number("maxResults", 50),
                req.query
                    .get("fields")
                    .map(|f| f.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
            ),
        }
    }

    fn comments(&self, req: &Incoming, rest: &str) -> ResponseTemplate {
        let Some(key) = rest.strip_suffix("/comment") else {
            return error(404, "not found");
        };
        let Some(issue) = self.issues.get(key) else {
            return error(
                404,
                "Issue does not exist or you do not have permission to see it.",
            );
        };
        let start = req.number("startAt", 0);
        let max = req.number("maxResults", 50);
        let (page, _) = fake_http::page(&issue.comments, start, max, Value::clone);
        ResponseTemplate::new(200).set_body_json(json!({
            "startAt": start, "maxResults": max, "total": issue.comments.len(), "comments": page
        }))
    }

    fn search(&mut self, req: &Incoming, jql: &str, page_at: Option<&str>) -> ResponseTemplate {
        self.searches += 1;
        let now = self.searches;
        for issue in self.edits.due(&now) {
            self.issues.insert(issue.key.clone(), issue);
        }
        if let Some(t) = self
            .faults
            .next(|status| error(status, "Rate limit exceeded."))
        {
            return t.insert_header("X-RateLimit-Remaining", "0");
        }
        if self.hold_search.as_ref().is_some_and(|(n, _)| *n == now) {
            if let Some((_, tx)) = self.hold_search.take() {
                let _ = tx.send(());
            }
            // Never answered in time: the test kills the run meanwhile.
            return ResponseTemplate::new(200)
                .set_body_json(json!({"issues": []}))
                .set_delay(Duration::from_secs(60));
        }
        if jql.contains("BROKEN") {
            return error(
                400,
                "Error in the JQL Query: Expecting ')' but got the end of the query.",
            );
        }
        let since = lower_bound(jql);
        let keys = key_list(jql);
        let mut matching: Vec<&FakeIssue> = self
            .issues
            .values()
            .filter(|i| since.is_none_or(|t| i.updated >= t))
            .filter(|i| keys.as_ref().is_none_or(|k| k.contains(&i.key)))
            .collect();
        if jql.contains("ORDER BY updated") {
            matching.sort_by(|a, b| (a.updated, &a.key).cmp(&(b.updated, &b.key)));
        }
        let (max, fields) = self.max_and_fields(req);
        let start: usize = page_at
            .map(|p| p.trim_start_matches("tok-"))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let (issues, next) = fake_http::page(&matching, start, max, |i| {
            if fields == ["key"] {
                json!({"id": id_of(&i.key), "key": i.key})
            } else if fields == ["updated"] {
                json!({"id": id_of(&i.key), "key": i.key, "fields": {"updated": jira_time(i.updated)}})
            } else {
                render(i)
            }
        });
        let out = match self.flavor {
            JiraFlavor::Cloud => {
                let mut out = json!({"issues": issues, "isLast": next.is_none()});
                if let Some(end) = next {
                    out["nextPageToken"] = json!(format!("tok-{end}"));
                }
                out
            }
            JiraFlavor::Datacenter => {
                let mut out = json!({"startAt": start, "maxResults": max, "issues": issues});
                if !self.hide_total {
                    out["total"] = json!(matching.len());
                }
                out
            }
        };
        ResponseTemplate::new(200).set_body_json(out)
    }
}

impl Api for Jira {
    type Flavor = JiraFlavor;
    type Item = FakeIssue;
    type Logged = Logged;

    fn new(flavor: JiraFlavor) -> Jira {
        Jira {
            flavor,
            issues: BTreeMap::new(),
            faults: Faults::default(),
            hide_total: false,
            hold_search: None,
            searches: 0,
            edits: Edits::default(),
        }
    }

    fn put(&mut self, issue: FakeIssue) {
        self.issues.insert(issue.key.clone(), issue);
    }

    fn log_entry(&self, req: &Incoming) -> Logged {
        let (jql, page_at) = self.search_of(req).unwrap_or_default();
        Logged {
            method: req.method.clone(),
            path: req.path.clone(),
            jql,
            page_at,
        }
    }

    fn expected_auth(&self) -> String {
        fake_http::authorization(self.flavor == JiraFlavor::Cloud, EMAIL, TOKEN)
    }

    fn unauthorized(&self) -> ResponseTemplate {
        error(401, "Client must be authenticated to access this resource.")
    }

    fn answer(&mut self, req: &Incoming) -> ResponseTemplate {
        let api = self.api();
        let path = req.path.as_str();
        if path == format!("{api}/myself") {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"displayName": "Sync Bot", "timeZone": ZONE}));
        }
        if path == format!("{api}/user") {
            // Data Center user lookup by name.
            return match req.query.get("username").map(String::as_str) {
                Some("jdoe") => ResponseTemplate::new(200).set_body_json(
                    json!({"name": "jdoe", "key": "JIRAUSER10100", "displayName": "Jane Doe"}),
                ),
                _ => error(404, "The user named does not exist"),
            };
        }
        if let Some(rest) = path.strip_prefix(&format!("{api}/issue/")) {
            return self.comments(req, rest);
        }
        match self.search_of(req) {
            Some((jql, page_at)) => self.search(req, &jql, page_at.as_deref()),
            // The deprecated startAt/total Cloud search among others.
            None => error(410, &format!("{path} is not served by this fake")),
        }
    }
}

/// The keys of a `key in ("A", "B")` condition.
fn key_list(jql: &str) -> Option<Vec<String>> {
    let start = jql.find("key in (")? + "key in (".len();
    let end = start + jql[start..].find(')')?;
    Some(
        jql[start..end]
            .split(',')
            .map(|k| k.trim().trim_matches('"').to_owned())
            .collect(),
    )
}

fn id_of(key: &str) -> String {
    let n: u64 = key
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (10_000 + n).to_string()
}

fn render(i: &FakeIssue) -> Value {
    let inline: Vec<&Value> = i.comments.iter().take(INLINE_COMMENTS).collect();
    json!({
        "id": id_of(&i.key),
        "key": i.key,
        "self": format!("https://jira.invalid/rest/api/3/issue/{}", id_of(&i.key)),
        "fields": {
            "summary": i.summary,
            "description": i.description,
            "comment": {"comments": inline, "maxResults": INLINE_COMMENTS, "total": i.comments.len(), "startAt": 0},
            "project": {"key": "OPS", "name": "Operations"},
            "issuetype": {"name": "Task"},
            "status": {"name": "Open"},
            "priority": {"name": "Medium"},
            "labels": ["ops"],
            "components": [],
            "assignee": {"displayName": "Jane Doe", "emailAddress": "jane@example.com"},
            "reporter": null,
            "created": jira_time(i.updated - chrono::Duration::days(1)),
            "updated": jira_time(i.updated),
            "resolutiondate": null,
            "issuelinks": [],
        }
    })
}
