//! What the Atlassian-shaped fake servers (Jira, Confluence) share: one
//! wiremock server handing every request, logged and authenticated, to the
//! product's API under a lock; faults and edits a test queues; paging by
//! offset. `jira_fake.rs` and `confluence_fake.rs` keep only the API shapes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::TestEnv;

/// A request as the fakes read it.
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// The JSON body, `Null` when there is none.
    pub body: Value,
    /// The `Authorization` header, empty when there is none.
    pub auth: String,
}

impl Incoming {
    fn read(req: &Request) -> Incoming {
        Incoming {
            method: req.method.to_string(),
            path: req.url.path().to_owned(),
            query: req.url.query_pairs().into_owned().collect(),
            body: req.body_json().unwrap_or(Value::Null),
            auth: req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
        }
    }

    /// A numeric query parameter, `default` when absent or not a number.
    pub fn number(&self, key: &str, default: usize) -> usize {
        self.query
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

/// One product's API behind the shared server.
pub trait Api: Send + Sized + 'static {
    /// Cloud or Data Center.
    type Flavor;
    /// What a test puts on the site: an issue, a page.
    type Item;
    /// What the test's request log keeps of a request.
    type Logged: Send + 'static;

    /// An empty site of `flavor`.
    fn new(flavor: Self::Flavor) -> Self;

    /// Adds `item`, or replaces the one with its id.
    fn put(&mut self, item: Self::Item);

    fn log_entry(&self, req: &Incoming) -> Self::Logged;

    /// The `Authorization` header a request must carry.
    fn expected_auth(&self) -> String;

    /// The answer to a request without it.
    fn unauthorized(&self) -> ResponseTemplate;

    /// The answer to an authenticated request.
    fn answer(&mut self, req: &Incoming) -> ResponseTemplate;
}

/// The header Cloud (basic: email and API token) or Data Center (bearer
/// token) expects.
pub fn authorization(cloud: bool, email: &str, token: &str) -> String {
    if cloud {
        format!("Basic {}", BASE64.encode(format!("{email}:{token}")))
    } else {
        format!("Bearer {token}")
    }
}

/// A running fake: the server and what its requests reach.
pub struct FakeHttp<A: Api> {
    server: Arc<MockServer>,
    shared: Shared<A>,
}

impl<A: Api> Clone for FakeHttp<A> {
    fn clone(&self) -> Self {
        FakeHttp {
            server: Arc::clone(&self.server),
            shared: self.shared.clone(),
        }
    }
}

/// The API's state and the request log: the server's responder (holding
/// no handle on the server itself, which it would keep alive).
struct Shared<A: Api> {
    api: Arc<Mutex<A>>,
    log: Arc<Mutex<Vec<A::Logged>>>,
}

impl<A: Api> Clone for Shared<A> {
    fn clone(&self) -> Self {
        Shared {
            api: Arc::clone(&self.api),
            log: Arc::clone(&self.log),
        }
    }
}

/// A test that failed while holding a lock must not hide its own failure
/// behind a poisoned mutex.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<A: Api> FakeHttp<A> {
    /// Starts a server answering like an empty site of `flavor`.
    pub async fn start(flavor: A::Flavor) -> FakeHttp<A> {
        let api = A::new(flavor);
        let server = MockServer::start().await;
        let shared = Shared {
            api: Arc::new(Mutex::new(api)),
            log: Arc::new(Mutex::new(Vec::new())),
        };
        Mock::given(any())
            .respond_with(shared.clone())
            .mount(&server)
            .await;
        FakeHttp {
            server: Arc::new(server),
            shared,
        }
    }

    /// A test's environment and a fake site of `flavor` holding `items`.
    pub async fn with_env(
        flavor: A::Flavor,
        items: impl IntoIterator<Item = A::Item>,
    ) -> (TestEnv, FakeHttp<A>) {
        let env = TestEnv::new().await;
        let fake = FakeHttp::start(flavor).await;
        for item in items {
            fake.put(item);
        }
        (env, fake)
    }

    pub fn put(&self, item: A::Item) {
        self.lock().put(item);
    }

    pub fn lock(&self) -> MutexGuard<'_, A> {
        lock(&self.shared.api)
    }

    /// The requests since the last call, oldest first.
    pub fn take_log(&self) -> Vec<A::Logged> {
        std::mem::take(&mut *lock(&self.shared.log))
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }
}

impl<A: Api> Respond for Shared<A> {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let req = Incoming::read(req);
        let mut api = lock(&self.api);
        lock(&self.log).push(api.log_entry(&req));
        if req.auth != api.expected_auth() {
            return api.unauthorized();
        }
        api.answer(&req)
    }
}

/// Statuses (with `Retry-After` seconds) queued for the next requests.
#[derive(Default)]
pub struct Faults(VecDeque<(u16, Option<u64>)>);

impl Faults {
    pub fn push(&mut self, status: u16, retry_after: Option<u64>) {
        self.0.push_back((status, retry_after));
    }

    /// The next queued fault, as the product's `error` body for its status
    /// with the `Retry-After` header.
    pub fn next(
        &mut self,
        error: impl FnOnce(u16) -> ResponseTemplate,
    ) -> Option<ResponseTemplate> {
        let (status, retry_after) = self.0.pop_front()?;
        let answer = error(status);
        Some(match retry_after {
            Some(secs) => answer.insert_header("Retry-After", secs.to_string().as_str()),
            None => answer,
        })
    }
}

/// Items written when the request they wait for (by `K`) comes: a change
/// made while a run pages.
pub struct Edits<K, V>(Vec<(K, V)>);

impl<K, V> Default for Edits<K, V> {
    fn default() -> Self {
        Edits(Vec::new())
    }
}

impl<K: PartialEq, V> Edits<K, V> {
    pub fn push(&mut self, at: K, item: V) {
        self.0.push((at, item));
    }

    /// The items waiting for `at`, no longer waiting.
    pub fn due(&mut self, at: &K) -> Vec<V> {
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|(k, _)| k == at);
        self.0 = rest;
        due.into_iter().map(|(_, v)| v).collect()
    }
}

/// One page of `items` by offset: the rendered page and the offset of the
/// next one, if any is left.
pub fn page<T>(
    items: &[T],
    start: usize,
    limit: usize,
    render: impl FnMut(&T) -> Value,
) -> (Vec<Value>, Option<usize>) {
    let page: Vec<Value> = items.iter().skip(start).take(limit).map(render).collect();
    let end = start + page.len();
    (page, (end < items.len()).then_some(end))
}
