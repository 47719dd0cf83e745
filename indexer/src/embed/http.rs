//! An embedder that calls an OpenAI-compatible `POST {url}/v1/embeddings`
//! server (TEI, vLLM, Ollama, OpenAI itself), so production can run the model
//! on a GPU box instead of inside the indexer.
//!
//! Failures are classified for the consumer: an unreachable, slow, overloaded
//! (5xx) or rate-limiting (429) server is [`EmbedError::Unavailable`] and worth
//! retrying; any other 4xx means the server refuses this input and will again,
//! so it is [`EmbedError::Rejected`] with the server's own message.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tributary_core::secret::{ExposeSecret, SecretString};

use super::{EmbedError, Embedder};

/// How to reach the server; built from `[embedder]` configuration.
#[derive(Debug, Clone)]
pub struct HttpEmbedderSettings {
    /// Base URL, without the `/v1/embeddings` suffix.
    pub url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer <key>` when present.
    pub api_key: Option<SecretString>,
    pub timeout: Duration,
    /// Texts per request; larger inputs are split into several requests.
    pub batch_size: usize,
}

pub struct HttpEmbedder {
    client: reqwest::Client,
    endpoint: String,
    settings: HttpEmbedderSettings,
    dimension: usize,
}

#[derive(Serialize)]
struct EmbeddingRequest<'a> {
    model: &'a str,
    input: &'a [String],
}

#[derive(Deserialize)]
struct EmbeddingResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    embedding: Vec<f32>,
    index: usize,
}

/// The text a failed request reports: the OpenAI error shape
/// `{"error": {"message": ...}}` when the server uses it, else the raw body.
fn server_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: ErrorDetail,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ErrorDetail {
        Object { message: String },
        Text(String),
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody {
            error: ErrorDetail::Object { message } | ErrorDetail::Text(message),
        }) => message,
        Err(_) => body.trim().to_string(),
    }
}

fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

impl HttpEmbedder {
    /// Connects with a known dimension, sending no request.
    pub fn new(settings: HttpEmbedderSettings, dimension: usize) -> Result<Self, EmbedError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| EmbedError::Load {
                path: settings.url.clone(),
                reason: e.to_string(),
            })?;
        let endpoint = format!("{}/v1/embeddings", settings.url.trim_end_matches('/'));
        Ok(HttpEmbedder {
            client,
            endpoint,
            settings: HttpEmbedderSettings {
                batch_size: settings.batch_size.max(1),
                ..settings
            },
            dimension,
        })
    }

    /// Connects and learns the dimension by embedding one short text, so a
    /// wrong URL or model fails at start-up rather than on the first batch.
    pub async fn probe(settings: HttpEmbedderSettings) -> Result<Self, EmbedError> {
        let mut embedder = HttpEmbedder::new(settings, 0)?;
        let vectors = embedder.request(&["dimension probe".to_string()]).await?;
        embedder.dimension = vectors.first().map_or(0, Vec::len);
        if embedder.dimension == 0 {
            return Err(EmbedError::BadResponse(
                "probe returned an empty vector".into(),
            ));
        }
        Ok(embedder)
    }

    /// One request for at most `batch_size` texts.
    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut request = self.client.post(&self.endpoint).json(&EmbeddingRequest {
            model: &self.settings.model,
            input: texts,
        });
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        // Any transport failure (refused, reset, timed out) says nothing about
        // the input: the server may be back in a moment.
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            let parsed: EmbeddingResponse = serde_json::from_str(&body)
                .map_err(|e| EmbedError::BadResponse(format!("not an embeddings response: {e}")))?;
            return self.order(parsed, texts.len());
        }
        if refuses_the_input(status) {
            return Err(EmbedError::Rejected {
                status: status.as_u16(),
                message: server_message(&body),
            });
        }
        // 5xx, 429, and the 4xx answers that are about the server or our
        // credentials rather than this input (401, 403, 404 for an unknown
        // model or path, 408...): every document would fail the same way,
        // so it is an outage to wait out, never a reason to dead-letter.
        Err(EmbedError::Unavailable(format!(
            "{} answered {status}: {}{}",
            self.endpoint,
            server_message(&body),
            match status.as_u16() {
                401 | 403 => " (check embedder.api_key_env and the key's permissions)",
                404 => " (check embedder.url and embedder.model)",
                _ => "",
            }
        )))
    }
    fn unreachable(&self, error: &reqwest::Error) -> EmbedError {
        let failure = TransportFailure::of(error);
        EmbedError::Unavailable(failure.describe(&shown_url(&self.endpoint), self.settings.timeout))
    }

    /// Puts vectors in input order (servers may answer out of order) and
    /// checks there is exactly one of the expected size per input.
    fn order(
        &self,
        response: EmbeddingResponse,
        expected: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
        for item in response.data {
            if self.dimension != 0 && item.embedding.len() != self.dimension {
                return Err(EmbedError::BadResponse(format!(
                    "vector of size {} where {} was expected",
                    item.embedding.len(),
                    self.dimension
                )));
            }
            match slots.get_mut(item.index) {
                Some(slot @ None) => *slot = Some(normalise(item.embedding)),
                _ => {
                    return Err(EmbedError::BadResponse(format!(
                        "unexpected or repeated index {} for {expected} inputs",
                        item.index
                    )))
                }
            }
        }
        slots
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| EmbedError::BadResponse(format!("no vector for input {i}")))
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Embedder for HttpEmbedder {
    fn model_id(&self) -> &str {
        &self.settings.model
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.settings.batch_size) {
            out.extend(self.request_bisecting(batch).await?);
        }
        Ok(out)
    }
}

impl HttpEmbedder {
    /// Sends `texts` in one request; if the server refuses a request of
    /// several inputs, halves it and tries again. A refusal can be about the
    /// request (TEI's `max_client_batch_size`, a proxy's body limit, a
    /// per-request token cap) rather than any one input: only a single
    /// input refused on its own is reported as `Rejected`.
    fn request_bisecting<'a>(
        &'a self,
        texts: &'a [String],
    ) -> futures::future::BoxFuture<'a, Result<Vec<Vec<f32>>, EmbedError>> {
        Box::pin(async move {
            match self.request(texts).await {
                Err(EmbedError::Rejected { status, message }) if texts.len() > 1 => {
                    tracing::debug!(status, inputs = texts.len(), %message,
                        "embedding request refused; halving it");
                    let (left, right) = texts.split_at(texts.len() / 2);
                    let mut out = self.request_bisecting(left).await?;
                    out.extend(self.request_bisecting(right).await?);
                    Ok(out)
                }
                other => other,
            }
        })
    }
}

/// Why a request got no answer. reqwest says "error sending request for
/// url" for all of them; an operator needs to know which.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TransportFailure {
    /// Nothing listens there (or a firewall rejects the connection).
    Refused,
    /// The server took longer than `embedder.timeout_ms`.
    Timeout,
    /// Could not connect for another reason: DNS, TLS, unreachable network.
    Connect(String),
    /// The connection broke mid-request or mid-response.
    Other(String),
}

impl TransportFailure {
    fn of(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            return TransportFailure::Timeout;
        }
        let mut root: &dyn std::error::Error = error;
        let mut refused = false;
        while let Some(source) = root.source() {
            if source
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
            {
                refused = true;
            }
            root = source;
        }
        if refused {
            TransportFailure::Refused
        } else if error.is_connect() {
            TransportFailure::Connect(root.to_string())
        } else {
            TransportFailure::Other(root.to_string())
        }
    }

    /// The message, naming `url` (already stripped of credentials).
    fn describe(&self, url: &str, timeout: Duration) -> String {
        match self {
            TransportFailure::Refused => format!("connection refused by {url}"),
            TransportFailure::Timeout => {
                format!("no response from {url} within {timeout:?} (embedder.timeout_ms)")
            }
            TransportFailure::Connect(cause) => format!("cannot connect to {url}: {cause}"),
            TransportFailure::Other(cause) => format!("request to {url} failed: {cause}"),
        }
    }
}

/// The endpoint as messages show it: without user, password or query, where
/// a key might be.
fn shown_url(endpoint: &str) -> String {
    match reqwest::Url::parse(endpoint) {
        Ok(mut url) => {
            // Both only fail for URLs that cannot have credentials at all.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.to_string()
        }
        Err(_) => "the embedder URL".to_string(),
    }
}

/// Statuses with which OpenAI-compatible servers refuse a request for what
/// it contains: malformed or unacceptable input (400), input too large
/// (413, TEI), or unprocessable input (422, TEI and vLLM validation).
fn refuses_the_input(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 413 | 422)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: String, timeout: Duration) -> HttpEmbedderSettings {
        HttpEmbedderSettings {
            url,
            model: "m".into(),
            api_key: None,
            timeout,
            batch_size: 8,
        }
    }

    async fn failure(url: String, timeout: Duration) -> String {
        let embedder = HttpEmbedder::new(settings(url, timeout), 3).expect("client");
        match embedder.embed(vec!["x".into()]).await {
            Err(err @ EmbedError::Unavailable(_)) => err.to_string(),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refused_connection_says_refused() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let message = failure(format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).await;
        assert!(
            message.contains(&format!(
                "connection refused by http://127.0.0.1:{port}/v1/embeddings"
            )),
            "{message}"
        );
        assert!(!message.contains("error sending request"), "{message}");
    }

    #[tokio::test]
    async fn a_silent_server_says_no_response_within_the_timeout() {
        // Accepts the connection and holds it open, never answering, until
        // the test is done with it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let held = std::thread::spawn(move || {
            let connection = listener.accept();
            let _ = wait.recv();
            drop(connection);
        });
        let message = failure(
            format!("http://user:hunter2@127.0.0.1:{port}"),
            Duration::from_millis(300),
        )
        .await;
        drop(done);
        held.join().expect("listener thread");
        assert!(
            message.contains(&format!(
                "no response from http://127.0.0.1:{port}/v1/embeddings within 300ms"
            )),
            "{message}"
        );
        assert!(!message.contains("hunter"), "credentials leaked: {message}");
    }

    #[test]
    fn credentials_and_query_are_not_shown() {
        assert_eq!(
            shown_url("https://u:p@embed.example/v1/embeddings?api_key=k"),
            "https://embed.example/v1/embeddings"
        );
        assert_eq!(shown_url("not a url"), "the embedder URL");
    }

    #[test]
    fn reads_openai_and_plain_error_bodies() {
        assert_eq!(
            server_message(r#"{"error":{"message":"input 3 too long","type":"x"}}"#),
            "input 3 too long"
        );
        assert_eq!(server_message(r#"{"error":"bad input"}"#), "bad input");
        assert_eq!(server_message(" plain text\n"), "plain text");
    }
}
