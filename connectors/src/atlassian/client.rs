//! One HTTP client per Atlassian site. Every request goes through
//! [`AtlassianClient::send`]: a permit from the concurrency cap, auth,
//! timeouts, and the retry loop; callers get decoded JSON or an error that
//! says what to fix.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{HeaderMap, ACCEPT};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Semaphore;

use super::auth::Auth;
use super::error::{error_messages, shorten, AtlassianError};
use super::retry::{is_retryable_status, log_rate_limit_headers, retry_after, RetryPolicy};

#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Site URL; a context path (`https://host/jira`) is kept.
    pub base_url: String,
    pub auth: Auth,
    pub max_concurrent_requests: usize,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

#[derive(Clone)]
pub struct AtlassianClient {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
    permits: Arc<Semaphore>,
    retry: RetryPolicy,
    retries: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
}

/// One attempt's answer, read in full while the permit is held.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl AtlassianClient {
    pub fn new(settings: ClientSettings) -> Result<Self, AtlassianError> {
        let base = parse_base(&settings.base_url)?;
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("tributary/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AtlassianError::Client(e.to_string()))?;
        Ok(AtlassianClient {
            http,
            base,
            auth: settings.auth,
            permits: Arc::new(Semaphore::new(settings.max_concurrent_requests.max(1))),
            retry: settings.retry,
            retries: Arc::new(AtomicU64::new(0)),
            requests: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The site URL, always ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Retries made so far by this client (all requests together).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Requests answered so far (retries included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, AtlassianError> {
        self.send(Method::GET, path, |req| req.query(query)).await
    }

    pub async fn post_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, AtlassianError> {
        self.send(Method::POST, path, |req| req.json(body)).await
    }

    /// Sends one logical request, retrying overloads and connection errors.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<T, AtlassianError> {
        let url =
            self.base
                .join(path.trim_start_matches('/'))
                .map_err(|e| AtlassianError::BadUrl {
                    url: path.to_owned(),
                    reason: e.to_string(),
                })?;
        let shown = url_without_query(&url);
        let mut schedule = self.retry.schedule();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let result = self.attempt(&method, &url, &build).await;
            let (retryable, last, server_delay) = match result {
                Ok(answer) => {
                    log_rate_limit_headers(&shown, &answer.headers);
                    if answer.status.is_success() {
                        return serde_json::from_str(&answer.body).map_err(|e| {
                            AtlassianError::Decode {
                                url: shown.clone(),
                                reason: e.to_string(),
                            }
                        });
                    }
                    if !is_retryable_status(answer.status) {
                        return Err(self.refusal(&shown, answer));
                    }
                    let wait = retry_after(&answer.headers, Utc::now());
                    if let Some(wait) = wait.filter(|w| *w > self.retry.max_retry_after) {
                        return Err(AtlassianError::RetryAfterTooLong {
                            url: shown,
                            secs: wait.as_secs(),
                        });
                    }
                    (true, format!("{}", answer.status), wait)
                }
                Err(err) => {
                    let retryable =
                        err.is_connect() || err.is_timeout() || err.is_request() || err.is_body();
                    if !retryable {
                        return Err(AtlassianError::Transport {
                            url: shown,
                            source: err,
                        });
                    }
                    (true, err.to_string(), None)
                }
            };
            debug_assert!(retryable);
            if attempt > self.retry.max_retries {
                return Err(AtlassianError::RetriesExhausted {
                    url: shown,
                    attempts: attempt,
                    last,
                });
            }
            let delay = self.retry.next_delay(&mut schedule, server_delay);
            self.retries.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                url = %shown,
                attempt,
                reason = %last,
                delay_ms = delay.as_millis() as u64,
                "Atlassian request failed; retrying"
            );
            // The permit was released with the attempt: a backing-off request
            // does not hold up the others.
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        build: &impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Answer, reqwest::Error> {
        // The semaphore is never closed, so acquire cannot fail; if it ever
        // did, going on without a permit beats failing the run.
        let _permit = self.permits.acquire().await.ok();
        let req = build(self.http.request(method.clone(), url.clone()))
            .header(ACCEPT, "application/json");
        let resp = self.auth.apply(req).send().await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A non-retryable error status, worded for whoever has to fix it.
    fn refusal(&self, url: &str, answer: Answer) -> AtlassianError {
        let messages = error_messages(&answer.body);
        match answer.status {
            StatusCode::UNAUTHORIZED => AtlassianError::Unauthorized {
                url: url.to_owned(),
                credential: self.auth.describe(),
            },
            StatusCode::FORBIDDEN => AtlassianError::Forbidden {
                url: url.to_owned(),
                credential: self.auth.describe(),
                detail: if messages.is_empty() {
                    String::new()
                } else {
                    format!(": {}", messages.join("; "))
                },
            },
            StatusCode::BAD_REQUEST => AtlassianError::BadRequest {
                url: url.to_owned(),
                messages,
            },
            status => AtlassianError::Status {
                url: url.to_owned(),
                status,
                body: shorten(&messages.join("; "), 300),
            },
        }
    }
}

fn parse_base(raw: &str) -> Result<Url, AtlassianError> {
    let bad = |reason: String| AtlassianError::BadUrl {
        url: raw.to_owned(),
        reason,
    };
    let mut url = Url::parse(raw.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https are supported".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in the URL would end up in logs and errors.
        return Err(bad(
            "credentials do not belong in the URL; use the token settings".into(),
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Query strings carry JQL and page tokens: long and noisy in messages.
fn url_without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_their_context_path() {
        assert_eq!(
            parse_base("https://jira.example.com/jira")
                .unwrap()
                .join("rest/api/2/search")
                .unwrap()
                .as_str(),
            "https://jira.example.com/jira/rest/api/2/search"
        );
        assert_eq!(
            parse_base("https://acme.atlassian.net/").unwrap().as_str(),
            "https://acme.atlassian.net/"
        );
        assert!(parse_base("ftp://x").is_err());
        assert!(parse_base("https://u:p@x").is_err());
        assert!(parse_base("not a url").is_err());
    }
}
