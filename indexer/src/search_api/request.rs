//! What a search request may ask for, decided without I/O: the same rules
//! `tributary search` applies on the command line, plus a ceiling on hits
//! so one request cannot make the server rank the whole corpus.

use super::wire::SearchRequest;
use super::DEFAULT_LIMIT;
use crate::search::check_query;

/// The server's side of the contract.
#[derive(Debug, Clone)]
pub struct RequestRules {
    /// Source kinds the connectors publish: the filter is an exact match,
    /// so anything else could only ever find nothing.
    pub known_sources: Vec<String>,
    /// Most hits one request may ask for.
    pub max_limit: usize,
}

/// A request that passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSearch {
    pub query: String,
    pub source: Option<String>,
    pub limit: usize,
}

/// The request to run, or why it is refused (a client error, 400).
pub fn check(request: SearchRequest, rules: &RequestRules) -> Result<ValidSearch, String> {
    check_query(&request.query).map_err(|e| e.to_string())?;
    if let Some(source) = &request.source {
        if !rules.known_sources.iter().any(|known| known == source) {
            return Err(format!(
                "unknown source {source:?}; known sources: {}",
                rules.known_sources.join(", ")
            ));
        }
    }
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 {
        return Err("limit must be at least 1".into());
    }
    if limit > rules.max_limit {
        return Err(format!(
            "limit {limit} is over the maximum of {} (serve.max_limit)",
            rules.max_limit
        ));
    }
    Ok(ValidSearch {
        query: request.query,
        source: request.source,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RequestRules {
        RequestRules {
            known_sources: vec!["vault".into(), "jira".into()],
            max_limit: 100,
        }
    }

    fn request(query: &str, source: Option<&str>, limit: Option<usize>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            source: source.map(Into::into),
            limit,
        }
    }

    #[test]
    fn a_good_request_passes_with_the_default_limit() {
        assert_eq!(
            check(request("pg failover", Some("jira"), None), &rules()),
            Ok(ValidSearch {
                query: "pg failover".into(),
                source: Some("jira".into()),
                limit: DEFAULT_LIMIT,
            })
        );
        assert_eq!(
            check(request("pg", None, Some(100)), &rules()).map(|v| v.limit),
            Ok(100)
        );
    }

    #[test]
    fn an_empty_query_is_refused() {
        for blank in ["", "  \n"] {
            let err = check(request(blank, None, None), &rules()).expect_err(blank);
            assert!(err.contains("query is empty"), "{err}");
        }
    }

    #[test]
    fn an_unknown_source_names_the_known_ones() {
        let err = check(request("pg", Some("Vault"), None), &rules()).expect_err("miscased");
        assert!(
            err.contains("\"Vault\"") && err.contains("vault, jira"),
            "{err}"
        );
    }

    #[test]
    fn a_limit_of_zero_or_over_the_maximum_is_refused() {
        let err = check(request("pg", None, Some(0)), &rules()).expect_err("zero");
        assert!(err.contains("at least 1"), "{err}");
        let err = check(request("pg", None, Some(101)), &rules()).expect_err("101");
        assert!(err.contains("101") && err.contains("100"), "{err}");
    }
}
