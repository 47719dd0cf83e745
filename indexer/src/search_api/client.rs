//! `tributary search` through a running `tributary serve`: the same
//! request and the same hits as a search on the store itself.

use std::time::Duration;

use super::wire::{ErrorBody, SearchRequest, SearchResponse};
use crate::search::SearchHit;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach tributary serve at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered with its JSON error body.
    #[error("tributary serve at {url} answered {status}: {error}")]
    Refused {
        url: String,
        status: u16,
        error: String,
    },
    /// Something answered that does not speak this API.
    #[error("{url} answered {status} with something that is not a tributary search answer ({reason}); is it tributary serve?")]
    NotTributary {
        url: String,
        status: u16,
        reason: String,
    },
}

pub struct SearchClient {
    base_url: String,
    http: reqwest::Client,
}

impl SearchClient {
    /// `base_url` like `http://127.0.0.1:7700` (a trailing `/` is allowed).
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ClientError> {
        let base_url = base_url.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ClientError::Unreachable {
                url: base_url.clone(),
                reason: e.to_string(),
            })?;
        Ok(SearchClient { base_url, http })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /search`; the hits in the server's order.
    pub async fn search(
        &self,
        query: &str,
        source: Option<String>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, ClientError> {
        let url = format!("{}/search", self.base_url);
        let request = SearchRequest {
            query: query.to_string(),
            source,
            limit: Some(limit),
        };
        let response = self
            .http
            .post(&url)
            .json(&request)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base_url.clone(),
                reason: error_chain(&e),
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base_url.clone(),
                reason: error_chain(&e),
            })?;
        if status.is_success() {
            let answer: SearchResponse =
                serde_json::from_slice(&body).map_err(|e| ClientError::NotTributary {
                    url: url.clone(),
                    status: status.as_u16(),
                    reason: e.to_string(),
                })?;
            return Ok(answer.hits.into_iter().map(SearchHit::from).collect());
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(ErrorBody { error }) => Err(ClientError::Refused {
                url: self.base_url.clone(),
                status: status.as_u16(),
                error,
            }),
            Err(e) => Err(ClientError::NotTributary {
                url,
                status: status.as_u16(),
                reason: e.to_string(),
            }),
        }
    }
}

/// reqwest's top-level message ("error sending request") hides the cause
/// ("connection refused"); say both.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
