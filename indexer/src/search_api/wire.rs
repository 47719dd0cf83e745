//! What travels over HTTP: requests, hits and errors as JSON.

use serde::{Deserialize, Serialize};

use crate::search::SearchHit;

/// `POST /search` body, and the same fields as `GET /search` parameters
/// (`q` for the query there). Unknown fields are refused: a misspelt
/// `limt` must not silently mean the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    #[serde(alias = "q")]
    pub query: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One document's best chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiHit {
    /// Document id (`vault:<instance>:<path>`, `jira:<instance>:<KEY>`, ...).
    pub id: String,
    pub title: String,
    /// Where the item lives: its URL when the source has one (Jira,
    /// Confluence), else its path (a vault note, relative to the vault).
    pub url: Option<String>,
    pub source: String,
    pub score: f32,
    pub snippet: String,
    pub chunk_index: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub query: String,
    pub hits: Vec<ApiHit>,
}

/// Every refusal and failure: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

impl From<SearchHit> for ApiHit {
    fn from(hit: SearchHit) -> Self {
        ApiHit {
            id: hit.doc_id,
            title: hit.title,
            url: hit.location,
            source: hit.source,
            score: hit.score,
            snippet: hit.snippet,
            chunk_index: hit.chunk_index,
        }
    }
}

/// The way back, for `tributary search` printing a server's answer exactly
/// as it prints its own.
impl From<ApiHit> for SearchHit {
    fn from(hit: ApiHit) -> Self {
        SearchHit {
            score: hit.score,
            title: hit.title,
            source: hit.source,
            doc_id: hit.id,
            location: hit.url,
            chunk_index: hit.chunk_index,
            snippet: hit.snippet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_survives_the_wire_unchanged() {
        let hit = SearchHit {
            score: 0.578_912_3,
            title: "Consumer Lag Runbook".into(),
            source: "vault".into(),
            doc_id: "vault:demo:runbooks/lag.md".into(),
            location: Some("runbooks/lag.md".into()),
            chunk_index: 2,
            snippet: "How to fix consumer lag…".into(),
        };
        let json = serde_json::to_string(&ApiHit::from(hit.clone())).expect("serialises");
        let back: ApiHit = serde_json::from_str(&json).expect("parses");
        let back = SearchHit::from(back);
        assert_eq!(
            serde_json::to_value(&back).expect("json"),
            serde_json::to_value(&hit).expect("json")
        );
        assert_eq!(back.score.to_bits(), hit.score.to_bits(), "{json}");
    }

    #[test]
    fn a_request_takes_q_or_query_and_refuses_unknown_fields() {
        let r: SearchRequest = serde_json::from_str(r#"{"q": "lag"}"#).expect("q");
        assert_eq!(r.query, "lag");
        let r: SearchRequest =
            serde_json::from_str(r#"{"query": "lag", "source": "jira", "limit": 3}"#)
                .expect("query");
        assert_eq!((r.source.as_deref(), r.limit), (Some("jira"), Some(3)));
        let err = serde_json::from_str::<SearchRequest>(r#"{"query": "lag", "limt": 3}"#)
            .expect_err("typo");
        assert!(err.to_string().contains("limt"), "{err}");
        assert!(serde_json::from_str::<SearchRequest>(r#"{"source": "jira"}"#).is_err());
    }
}
