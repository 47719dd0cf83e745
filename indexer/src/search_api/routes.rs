//! `GET /search?q=..&source=..&limit=..` and `POST /search` with
//! `{"query", "source", "limit"}`: JSON hits, or `{"error"}` with a 4xx for
//! a request that cannot mean anything and a 5xx when the model or the store
//! fails. Mounted next to `/metrics`, `/healthz` and `/readyz`.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use super::events::{self, Outcome, SearchServed};
use super::request::{check, RequestRules};
use super::wire::{ApiHit, ErrorBody, SearchRequest, SearchResponse};
use crate::search::{SearchError, Searcher};
use crate::store::StoreError;

/// The searcher arrives once the model is loaded and the store is open,
/// after the listener is up; until then `/search` answers 503.
#[derive(Clone)]
pub struct SearchService {
    searcher: Arc<OnceLock<Searcher>>,
    rules: Arc<RequestRules>,
}

impl SearchService {
    pub fn new(rules: RequestRules) -> Self {
        events::init();
        SearchService {
            searcher: Arc::new(OnceLock::new()),
            rules: Arc::new(rules),
        }
    }

    /// From now on `/search` answers from `searcher`. Only the first call
    /// counts: the store a process opened is the one it searches.
    pub fn ready(&self, searcher: Searcher) {
        if self.searcher.set(searcher).is_err() {
            tracing::warn!("search service was made ready twice; keeping the first searcher");
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route(
                "/search",
                get(get_search)
                    .post(post_search)
                    .fallback(method_not_allowed),
            )
            .fallback(not_found)
            .with_state(self)
    }

    async fn answer(&self, request: SearchRequest) -> Response {
        let started = Instant::now();
        let (outcome, hits, response) = self.run(request).await;
        SearchServed {
            outcome,
            hits,
            elapsed: started.elapsed(),
            error: response.as_ref().err().map(|(_, e)| e.as_str()),
        }
        .emit();
        match response {
            Ok(body) => json(StatusCode::OK, &body),
            Err((status, error)) => refusal(status, error),
        }
    }

    async fn run(
        &self,
        request: SearchRequest,
    ) -> (Outcome, usize, Result<SearchResponse, (StatusCode, String)>) {
        let valid = match check(request, &self.rules) {
            Ok(valid) => valid,
            Err(why) => return (Outcome::Refused, 0, Err((StatusCode::BAD_REQUEST, why))),
        };
        let Some(searcher) = self.searcher.get() else {
            let why =
                "tributary serve is starting: the embedding model and the store are not open yet";
            return (
                Outcome::Starting,
                0,
                Err((StatusCode::SERVICE_UNAVAILABLE, why.into())),
            );
        };
        match searcher
            .search(&valid.query, valid.source, valid.limit)
            .await
        {
            Ok(hits) => {
                let count = hits.len();
                let hits = hits.into_iter().map(ApiHit::from).collect();
                let body = SearchResponse {
                    query: valid.query,
                    hits,
                };
                (Outcome::Answered, count, Ok(body))
            }
            Err(err) => {
                let status = failure_status(&err);
                let outcome = if status.is_client_error() {
                    Outcome::Refused
                } else {
                    Outcome::Failed
                };
                (outcome, 0, Err((status, err.to_string())))
            }
        }
    }
}

/// A client error only for the query itself; a dependency that may come
/// back is 503 (retry), anything else 500.
fn failure_status(err: &SearchError) -> StatusCode {
    match err {
        SearchError::EmptyQuery => StatusCode::BAD_REQUEST,
        SearchError::Embed(e) if e.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
        SearchError::Store(StoreError::Unavailable(_) | StoreError::Task(_)) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        SearchError::Embed(_) | SearchError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn get_search(State(service): State<SearchService>, RawQuery(query): RawQuery) -> Response {
    match serde_urlencoded::from_str::<SearchRequest>(query.as_deref().unwrap_or("")) {
        Ok(request) => service.answer(request).await,
        Err(err) => refuse_unparsed(format!(
            "bad query parameters ({err}); expected q=..&source=..&limit=.."
        )),
    }
}

async fn post_search(
    State(service): State<SearchService>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return refusal(rejection.status(), rejection.body_text()),
    };
    match parse_body(&body) {
        Ok(request) => service.answer(request).await,
        Err(err) => refuse_unparsed(format!(
            "request body is not a search request ({err}); expected JSON {{\"query\", \"source\", \"limit\"}}"
        )),
    }
}

/// A JSON object only: serde would also read a struct from an array
/// (`["lag"]`), which no client means.
fn parse_body(body: &[u8]) -> Result<SearchRequest, serde_json::Error> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)?;
    serde_json::from_value(serde_json::Value::Object(object))
}

/// A request refused before it could be read; counted like any refusal.
fn refuse_unparsed(why: String) -> Response {
    SearchServed {
        outcome: Outcome::Refused,
        hits: 0,
        elapsed: std::time::Duration::ZERO,
        error: Some(why.as_str()),
    }
    .emit();
    refusal(StatusCode::BAD_REQUEST, why)
}

async fn method_not_allowed() -> Response {
    refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        "/search takes GET (q, source, limit parameters) or POST (JSON body)".into(),
    )
}

async fn not_found() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "no such endpoint; try /search, /metrics, /healthz or /readyz".into(),
    )
}

fn refusal(status: StatusCode, error: String) -> Response {
    json(status, &ErrorBody { error })
}

fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "application/json")],
            format!("{{\"error\":\"encoding the answer failed: {err}\"}}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::EmbedError;

    #[test]
    fn a_body_must_be_a_json_object() {
        let request = parse_body(br#"{"query": "lag", "limit": 3}"#).expect("object");
        assert_eq!((request.query.as_str(), request.limit), ("lag", Some(3)));
        for bad in [&br#"["lag"]"#[..], b"\"lag\"", b"{not json", b""] {
            assert!(parse_body(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn only_a_recoverable_dependency_is_a_503() {
        let cases = [
            (SearchError::EmptyQuery, StatusCode::BAD_REQUEST),
            (
                SearchError::Embed(EmbedError::Unavailable("down".into())),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                SearchError::Store(StoreError::Unavailable("down".into())),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                SearchError::Store(StoreError::Configuration("no collection".into())),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                SearchError::Embed(EmbedError::BadResponse("junk".into())),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(failure_status(&err), status, "{err}");
        }
    }
}
