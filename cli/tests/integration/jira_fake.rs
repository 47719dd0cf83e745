//! A local HTTP server that answers like Jira: Cloud enhanced search with
//! `nextPageToken`, Data Center search with `startAt`, `/myself`, paged
//! comments, basic / bearer auth. It evaluates the one JQL condition the
//! connector's correctness rests on (`updated >= "<literal>"`, read in the
//! account's zone like Jira does), so tests prove what the query selects.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Value};
use tributary_connectors::jira::JiraSyncOptions;
use tributary_core::config::{JiraConfig, JiraFlavor};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::atlassian;

pub const TOKEN: &str = "s3cr3t-jira-token";
pub const EMAIL: &str = "bot@example.com";
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

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

/// A one-paragraph ADF document.
pub fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

pub enum Fault {
    /// Answer the next search with this status and `Retry-After` seconds.
    Status(u16, Option<u64>),
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

struct State {
    flavor: JiraFlavor,
    issues: BTreeMap<String, FakeIssue>,
    faults: VecDeque<Fault>,
    /// Data Center: leave `total` out, so only an empty page ends paging.
    hide_total: bool,
    /// Hold the Nth search (1-based) for a minute after signalling.
    hold_search: Option<(usize, mpsc::Sender<()>)>,
    searches: usize,
    /// Issues written just before the search with that (1-based) number is
    /// answered: an edit while a run pages.
    edits: Vec<(usize, FakeIssue)>,
    log: Vec<Logged>,
}

#[derive(Clone)]
pub struct FakeJira {
    pub server: Arc<MockServer>,
    state: Arc<Mutex<State>>,
}

impl FakeJira {
    pub async fn start(flavor: JiraFlavor) -> FakeJira {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            flavor,
            issues: BTreeMap::new(),
            faults: VecDeque::new(),
            hide_total: false,
            hold_search: None,
            searches: 0,
            edits: Vec::new(),
            log: Vec::new(),
        }));
        Mock::given(any())
            .respond_with(Responder(Arc::clone(&state)))
            .mount(&server)
            .await;
        FakeJira {
            server: Arc::new(server),
            state,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn put(&self, issue: FakeIssue) {
        self.lock().issues.insert(issue.key.clone(), issue);
    }

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
        s.edits.push((at, issue));
    }

    pub fn issue(&self, key: &str) -> FakeIssue {
        self.lock().issues.get(key).cloned().expect("issue exists")
    }

    pub fn fault(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
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

    pub fn take_log(&self) -> Vec<Logged> {
        std::mem::take(&mut self.lock().log)
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The `[jira]` config a test would write, pointing at this server.
    pub fn config(&self) -> JiraConfig {
        let flavor = self.lock().flavor;
        JiraConfig {
            base_url: Some(self.uri()),
            flavor,
            instance: "test".into(),
            projects: vec!["OPS".into()],
            page_size: 2,
            comment_page_size: 2,
            email: Some(EMAIL.into()),
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

struct Responder(Arc<Mutex<State>>);

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

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let path = req.url.path().to_owned();
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let body: Value = req.body_json().unwrap_or(Value::Null);
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let expected = match s.flavor {
            JiraFlavor::Cloud => {
                format!("Basic {}", BASE64.encode(format!("{EMAIL}:{TOKEN}")))
            }
            JiraFlavor::Datacenter => format!("Bearer {TOKEN}"),
        };
        let api = match s.flavor {
            JiraFlavor::Cloud => "/rest/api/3",
            JiraFlavor::Datacenter => "/rest/api/2",
        };
        let is_search = path == format!("{api}/search/jql") && s.flavor == JiraFlavor::Cloud
            || path == "/rest/api/2/search" && s.flavor == JiraFlavor::Datacenter;
        let (jql, page_at) = if is_search {
            match s.flavor {
                JiraFlavor::Cloud => (
                    body["jql"].as_str().unwrap_or("").to_owned(),
                    body["nextPageToken"].as_str().map(str::to_owned),
                ),
                JiraFlavor::Datacenter => (
                    query.get("jql").cloned().unwrap_or_default(),
                    query.get("startAt").cloned(),
                ),
            }
        } else {
            (String::new(), None)
        };
        s.log.push(Logged {
            method: req.method.to_string(),
            path: path.clone(),
            jql: jql.clone(),
            page_at: page_at.clone(),
        });
        if auth != expected {
            return error(401, "Client must be authenticated to access this resource.");
        }
        if path == format!("{api}/myself") {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"displayName": "Sync Bot", "timeZone": ZONE}));
        }
        if path == format!("{api}/user") {
            // Data Center user lookup by name.
            return match query.get("username").map(String::as_str) {
                Some("jdoe") => ResponseTemplate::new(200).set_body_json(
                    json!({"name": "jdoe", "key": "JIRAUSER10100", "displayName": "Jane Doe"}),
                ),
                _ => error(404, "The user named does not exist"),
            };
        }
        if let Some(rest) = path.strip_prefix(&format!("{api}/issue/")) {
            let Some(key) = rest.strip_suffix("/comment") else {
                return error(404, "not found");
            };
            let Some(issue) = s.issues.get(key) else {
                return error(
                    404,
                    "Issue does not exist or you do not have permission to see it.",
                );
            };
            let start: usize = query
                .get("startAt")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let max: usize = query
                .get("maxResults")
                .and_then(|v| v.parse().ok())
                .unwrap_or(50);
            let page: Vec<Value> = issue
                .comments
                .iter()
                .skip(start)
                .take(max)
                .cloned()
                .collect();
            return ResponseTemplate::new(200).set_body_json(json!({
                "startAt": start, "maxResults": max, "total": issue.comments.len(), "comments": page
            }));
        }
        if !is_search {
            // The deprecated startAt/total Cloud search among others.
            return error(410, &format!("{path} is not served by this fake"));
        }
        s.searches += 1;
        let now = s.searches;
        let due: Vec<FakeIssue> = s
            .edits
            .iter()
            .filter(|(n, _)| *n == now)
            .map(|(_, i)| i.clone())
            .collect();
        s.edits.retain(|(n, _)| *n != now);
        for issue in due {
            s.issues.insert(issue.key.clone(), issue);
        }
        if let Some(fault) = s.faults.pop_front() {
            let Fault::Status(status, retry_after) = fault;
            let mut t = error(status, "Rate limit exceeded.");
            if let Some(secs) = retry_after {
                t = t.insert_header("Retry-After", secs.to_string().as_str());
            }
            return t.insert_header("X-RateLimit-Remaining", "0");
        }
        if s.hold_search
            .as_ref()
            .is_some_and(|(n, _)| *n == s.searches)
        {
            if let Some((_, tx)) = s.hold_search.take() {
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
        let since = lower_bound(&jql);
        let keys = key_list(&jql);
        let mut matching: Vec<&FakeIssue> = s
            .issues
            .values()
            .filter(|i| since.is_none_or(|t| i.updated >= t))
            .filter(|i| keys.as_ref().is_none_or(|k| k.contains(&i.key)))
            .collect();
        if jql.contains("ORDER BY updated") {
            matching.sort_by(|a, b| (a.updated, &a.key).cmp(&(b.updated, &b.key)));
        }
        let (max, fields): (usize, Vec<String>) = match s.flavor {
            JiraFlavor::Cloud => (
                body["maxResults"].as_u64().unwrap_or(50) as usize,
                body["fields"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            JiraFlavor::Datacenter => (
                query
                    .get("maxResults")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(50),
                query
                    .get("fields")
                    .map(|f| f.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
            ),
        };
        let start: usize = page_at
            .as_deref()
            .map(|p| p.trim_start_matches("tok-"))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let issues: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(max)
            .map(|i| {
                if fields == ["key"] {
                    json!({"id": id_of(&i.key), "key": i.key})
                } else if fields == ["updated"] {
                    json!({"id": id_of(&i.key), "key": i.key, "fields": {"updated": jira_time(i.updated)}})
                } else {
                    render(i)
                }
            })
            .collect();
        let end = start + issues.len();
        match s.flavor {
            JiraFlavor::Cloud => {
                let mut out = json!({"issues": issues, "isLast": end >= matching.len()});
                if end < matching.len() {
                    out["nextPageToken"] = json!(format!("tok-{end}"));
                }
                ResponseTemplate::new(200).set_body_json(out)
            }
            JiraFlavor::Datacenter => {
                let mut out = json!({"startAt": start, "maxResults": max, "issues": issues});
                if !s.hide_total {
                    out["total"] = json!(matching.len());
                }
                ResponseTemplate::new(200).set_body_json(out)
            }
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
