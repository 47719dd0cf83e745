//! A local OpenAI-shaped embedding server (`POST /v1/embeddings`) whose
//! behaviour a test switches at will: an outage window of 503s, or a 400 for
//! any request containing a marker text. Vectors are derived from a hash of
//! each input, so they are deterministic and cost nothing to compute.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
}

#[derive(Clone, Default)]
pub struct FakeEmbeddings {
    requests: Arc<AtomicUsize>,
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

impl FakeEmbeddings {
    pub async fn start(&self) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/embeddings"))
            .respond_with(self.clone())
            .mount(&server)
            .await;
        server
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
}

impl Respond for FakeEmbeddings {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        *self.last_auth.lock().expect("lock") = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let behaviour = self.behaviour.lock().expect("lock");
        if matches!(behaviour.outage, Some((start, end)) if (start..end).contains(&n)) {
            return ResponseTemplate::new(503).set_body_string("model loading");
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
        if let Some(marker) = &behaviour.reject_marker {
            if let Some(i) = inputs.iter().position(|t| t.contains(marker.as_str())) {
                return ResponseTemplate::new(400).set_body_json(json!({
                    "error": {"message": format!("input {i} is not acceptable"), "type": "invalid_request_error"}
                }));
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
        ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "model": body["model"], "data": data
        }))
    }
}
