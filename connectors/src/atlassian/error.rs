//! What can go wrong talking to an Atlassian site, worded for the operator.

use reqwest::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum AtlassianError {
    #[error("invalid site URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{url} rejected the credentials (401 Unauthorized): check {credential}")]
    Unauthorized { url: String, credential: String },
    #[error("{url} refused the request (403 Forbidden): {credential} lacks the permission it needs (for Jira: Browse projects on every project in scope){detail}")]
    Forbidden {
        url: String,
        credential: String,
        detail: String,
    },
    #[error("{url} rejected the request (400 Bad Request): {}", messages.join("; "))]
    BadRequest { url: String, messages: Vec<String> },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: StatusCode,
        body: String,
    },
    #[error("{url} still failing after {attempts} attempts: {last}")]
    RetriesExhausted {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{url} asked to retry after {secs} s, longer than the configured maximum")]
    RetryAfterTooLong { url: String, secs: u64 },
    #[error("cannot reach {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected response from {url}: {reason}")]
    Decode { url: String, reason: String },
}

/// Pulls the human-readable messages out of an Atlassian error body:
/// `{"errorMessages": [...], "errors": {"field": "message"}}`. Falls back to
/// the raw body (shortened) when it is not that shape.
pub(crate) fn error_messages(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(list) = value.get("errorMessages").and_then(|v| v.as_array()) {
            out.extend(list.iter().filter_map(|m| m.as_str()).map(str::to_owned));
        }
        if let Some(map) = value.get("errors").and_then(|v| v.as_object()) {
            for (field, msg) in map {
                if let Some(msg) = msg.as_str() {
                    out.push(format!("{field}: {msg}"));
                }
            }
        }
        if let Some(msg) = value.get("message").and_then(|v| v.as_str()) {
            out.push(msg.to_owned());
        }
    }
    if out.is_empty() && !body.trim().is_empty() {
        out.push(shorten(body.trim(), 300));
    }
    out
}

pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_error_bodies_become_messages() {
        let body = r#"{"errorMessages":["Error in the JQL Query: Expecting ')' but got the end of the query."],"errors":{}}"#;
        assert_eq!(
            error_messages(body),
            ["Error in the JQL Query: Expecting ')' but got the end of the query."]
        );
        assert_eq!(
            error_messages(r#"{"errorMessages":[],"errors":{"jql":"bad field"}}"#),
            ["jql: bad field"]
        );
        assert_eq!(error_messages("<html>oops</html>"), ["<html>oops</html>"]);
        assert!(error_messages("").is_empty());
    }
}
