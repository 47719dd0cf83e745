//! A local OpenAI-shaped embedding server (`POST /v1/embeddings`) whose
//! behaviour a test switches at will: an outage window of 503s, a 400 or a
//! 500 for any request containing a marker text, or requests that hang.
//! Vectors are derived from a hash of each input, so they are deterministic
//! and cost nothing to compute. Tests wait on the request count (a watch
//! channel), never on the clock.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const DIMENSION: usize = 8;

#[derive(Default)]
struct Behaviour {
    /// Requests numbered `start..end` (0-based, counting every request)
    /// are answered 503.
    outage: Option<(usize, usize)>,
    /// Requests with an input containing this are answered 400.
    reject_marker: Option<String>,
    /// Requests with an input containing this are answered 500: a failure
    /// that looks like an outage, while other requests (the health probe)
    /// succeed.
    fail_marker: Option<String>,
    /// Requests numbered from this one on are held (answered after an hour).
    hang_from: Option<usize>,
    /// Every successful answer takes this long (a slow GPU).
    latency: Option<Duration>,
    /// Every request is answered with this status (a wrong key, a model
    /// the server does not serve).
    always: Option<u16>,
    /// Requests with more inputs than this are answered 413.
    max_inputs: Option<usize>,
}

#[derive(Clone)]
pub struct FakeEmbeddings {
    requests: Arc<AtomicUsize>,
    /// Requests received so far, for tests to wait on.
    arrived: Arc<watch::Sender<usize>>,
    /// Requests answered 500 because of `fail_marker`.
    failed: Arc<watch::Sender<usize>>,
    /// Inputs per successful request, in arrival order.
    batches: Arc<Mutex<Vec<usize>>>,
    /// `Authorization` header of the last request.
    last_auth: Arc<Mutex<Option<String>>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

pub fn vector(text: &str) -> Vec<f32> {
    (0..DIMENSION)
        .map(|i| {
            let mut h = DefaultHasher::new();
            (text, i).hash(&mut h);
            (h.finish() % 1000) as f32 / 1000.0 + 0.001
        })
        .collect()
}

impl Default for FakeEmbeddings {
    fn default() -> Self {
        FakeEmbeddings {
            requests: Arc::default(),
            arrived: Arc::new(watch::channel(0).0),
            failed: Arc::new(watch::channel(0).0),
            batches: Arc::default(),
            last_auth: Arc::default(),
            behaviour: Arc::default(),
        }
    }
}

/// Waits until `counter` reaches `n`; panics (with `what`) after `limit`.
async fn wait_for(counter: &watch::Sender<usize>, n: usize, limit: Duration, what: &str) {
    let mut rx = counter.subscribe();
    let reached = tokio::time::timeout(limit, rx.wait_for(|c| *c >= n)).await;
    assert!(
        matches!(reached, Ok(Ok(_))),
        "{what}: {} of {n} within {limit:?}",
        *counter.borrow()
    );
}

impl FakeEmbeddings {
    pub async fn start(&self) -> MockServer {
        let server = MockServer::start().await;
        self.mount(&server).await;
        server
    }

    /// Serves the embeddings endpoint from `server`.
    pub async fn mount(&self, server: &MockServer) {
        Mock::given(method("POST"))
            .and(path("/v1/embeddings"))
            .respond_with(self.clone())
            .mount(server)
            .await;
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn batch_sizes(&self) -> Vec<usize> {
        self.batches.lock().expect("lock").clone()
    }

    pub fn last_auth(&self) -> Option<String> {
        self.last_auth.lock().expect("lock").clone()
    }

    /// Answers 503 to the `len` requests after the next `after` ones.
    pub fn outage(&self, after: usize, len: usize) {
        let start = self.requests() + after;
        self.behaviour.lock().expect("lock").outage = Some((start, start + len));
    }

    pub fn reject_inputs_containing(&self, marker: &str) {
        self.behaviour.lock().expect("lock").reject_marker = Some(marker.into());
    }

    /// Answers 500 to requests with an input containing `marker` (`None`
    /// heals).
    pub fn fail_inputs_containing(&self, marker: Option<&str>) {
        self.behaviour.lock().expect("lock").fail_marker = marker.map(str::to_string);
    }

    /// Holds every request after the next `after` ones unanswered.
    pub fn hang_after(&self, after: usize) {
        self.behaviour.lock().expect("lock").hang_from = Some(self.requests() + after);
    }

    /// Answers 413 to requests with more than `n` inputs.
    pub fn limit_inputs_per_request(&self, n: usize) {
        self.behaviour.lock().expect("lock").max_inputs = Some(n);
    }

    /// Answers every request, the health probe included, with `status`.
    pub fn answer_everything_with(&self, status: u16) {
        self.behaviour.lock().expect("lock").always = Some(status);
    }

    /// Makes every successful answer take `latency`.
    pub fn slow(&self, latency: Duration) {
        self.behaviour.lock().expect("lock").latency = Some(latency);
    }

    pub fn heal(&self) {
        *self.behaviour.lock().expect("lock") = Behaviour::default();
    }

    /// Waits until `n` requests have arrived in all.
    pub async fn wait_for_requests(&self, n: usize, limit: Duration) {
        wait_for(&self.arrived, n, limit, "embedding requests").await;
    }

    /// Waits until `n` requests in all were failed by `fail_inputs_containing`.
    pub async fn wait_for_failures(&self, n: usize, limit: Duration) {
        wait_for(&self.failed, n, limit, "failed embedding requests").await;
    }
}

impl Respond for FakeEmbeddings {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        self.arrived.send_modify(|c| *c += 1);
        *self.last_auth.lock().expect("lock") = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let behaviour = self.behaviour.lock().expect("lock");
        if matches!(behaviour.outage, Some((start, end)) if (start..end).contains(&n)) {
            return ResponseTemplate::new(503).set_body_string("model loading");
        }
        if let Some(status) = behaviour.always {
            return ResponseTemplate::new(status).set_body_json(json!({
                "error": {"message": format!("status {status} for everything"), "type": "invalid_request_error"}
            }));
        }
        if behaviour.hang_from.is_some_and(|from| n >= from) {
            return ResponseTemplate::new(503).set_delay(Duration::from_secs(3600));
        }
        let Ok(body) = request.body_json::<Value>() else {
            return ResponseTemplate::new(422).set_body_string("not json");
        };
        let inputs: Vec<String> = body["input"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if behaviour.max_inputs.is_some_and(|max| inputs.len() > max) {
            return ResponseTemplate::new(413).set_body_json(json!({
                "error": "batch size is greater than max_client_batch_size", "error_type": "Validation"
            }));
        }
        if let Some(marker) = &behaviour.reject_marker {
            if let Some(i) = inputs.iter().position(|t| t.contains(marker.as_str())) {
                return ResponseTemplate::new(400).set_body_json(json!({
                    "error": {"message": format!("input {i} is not acceptable"), "type": "invalid_request_error"}
                }));
            }
        }
        if let Some(marker) = &behaviour.fail_marker {
            if inputs.iter().any(|t| t.contains(marker.as_str())) {
                self.failed.send_modify(|c| *c += 1);
                return ResponseTemplate::new(500)
                    .set_body_string("CUDA error: an illegal memory access");
            }
        }
        self.batches.lock().expect("lock").push(inputs.len());
        // Reversed on purpose: clients must order by `index`, not position.
        let data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .rev()
            .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector(t)}))
            .collect();
        let answer = ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "model": body["model"], "data": data
        }));
        match behaviour.latency {
            Some(latency) => answer.set_delay(latency),
            None => answer,
        }
    }
}
