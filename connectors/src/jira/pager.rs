//! Walks every page of one search, hiding the flavour difference.
//!
//! Cloud hands out `nextPageToken`s. Data Center pages by offset, and an
//! offset is only stable while the result set is: an issue updated (or
//! deleted) during the walk leaves its place, everything behind it moves up
//! one, and the issue on the page boundary would be skipped. So each page
//! after the first starts one issue early; if that issue is not the last
//! one seen, the set shifted and the walk starts over (issues already
//! handled are deduplicated by the caller). After too many restarts the walk
//! finishes but reports itself `unreliable`: the caller then must not trust
//! it for a watermark or for deletions.

use serde_json::Value;
use tributary_core::config::JiraFlavor;

use super::api::{ApiError, JiraApi, PageAt, SearchPage};

const MAX_RESTARTS: u32 = 3;

pub struct Pager<'a> {
    api: &'a JiraApi,
    flavor: JiraFlavor,
    jql: String,
    fields: Vec<String>,
    page_size: u32,
    next: Option<PageAt>,
    /// Data Center: key of the last issue of the previous page.
    last_key: Option<String>,
    restarts: u32,
    unreliable: bool,
    requests: u64,
}

fn key_of(issue: &Value) -> Option<&str> {
    issue.get("key").and_then(Value::as_str)
}

impl<'a> Pager<'a> {
    pub fn new(
        api: &'a JiraApi,
        flavor: JiraFlavor,
        jql: String,
        fields: Vec<String>,
        page_size: u32,
    ) -> Self {
        Pager {
            api,
            flavor,
            jql,
            fields,
            page_size: page_size.max(1),
            next: Some(PageAt::First),
            last_key: None,
            restarts: 0,
            unreliable: false,
            requests: 0,
        }
    }

    /// Search requests made so far (the empty page that ends a walk included).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// True when the result set kept moving under a Data Center walk.
    pub fn unreliable(&self) -> bool {
        self.unreliable
    }

    /// The next page of issues, `None` when the search is exhausted.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, ApiError> {
        let Some(at) = self.next.take() else {
            return Ok(None);
        };
        match self.flavor {
            JiraFlavor::Cloud => self.next_cloud(at).await,
            JiraFlavor::Datacenter => self.next_dc(at).await,
        }
    }

    async fn fetch(&mut self, at: &PageAt, max_results: u32) -> Result<SearchPage, ApiError> {
        self.requests += 1;
        self.api
            .search(&self.jql, at, &self.fields, max_results)
            .await
    }

    async fn next_cloud(&mut self, at: PageAt) -> Result<Option<Vec<Value>>, ApiError> {
        let page = self.fetch(&at, self.page_size).await?;
        if page.issues.is_empty() {
            return Ok(None);
        }
        if page.is_last != Some(true) {
            // A token equal to the one just used would loop forever.
            self.next = page
                .next_token
                .filter(|t| at != PageAt::Token(t.clone()))
                .map(PageAt::Token);
        }
        Ok(Some(page.issues))
    }

    async fn next_dc(&mut self, at: PageAt) -> Result<Option<Vec<Value>>, ApiError> {
        let start = match at {
            PageAt::Offset(n) => n,
            _ => 0,
        };
        let overlap = start > 0 && self.last_key.is_some();
        let request_at = if overlap { start - 1 } else { start };
        // One extra so the overlap issue does not shrink the page.
        let max = self.page_size + u32::from(overlap);
        let page = self.fetch(&PageAt::Offset(request_at), max).await?;
        let raw_len = page.issues.len() as u64;
        let mut issues = page.issues;
        let mut new_start = request_at + raw_len;
        if overlap {
            let first = issues.first().and_then(key_of);
            if first.is_some() && first == self.last_key.as_deref() {
                issues.remove(0);
            } else if raw_len > 0 {
                self.restarts += 1;
                if self.restarts <= MAX_RESTARTS {
                    tracing::warn!(
                        jql = %self.jql,
                        restart = self.restarts,
                        "Jira results shifted during paging (issues changed meanwhile); starting over"
                    );
                    // Keep what came back (the caller dedupes) and start over.
                    new_start = 0;
                } else {
                    tracing::warn!(
                        jql = %self.jql,
                        "Jira results keep shifting during paging; finishing this walk without trusting it"
                    );
                    self.unreliable = true;
                }
            }
        }
        if issues.is_empty() {
            return Ok(None);
        }
        self.last_key = if new_start == 0 {
            None
        } else {
            issues.last().and_then(key_of).map(str::to_owned)
        };
        // An empty page ends the walk; `total` may end it earlier, but only
        // the page's own total (it moves while we page).
        let exhausted = page.total.is_some_and(|t| new_start >= t) && new_start != 0;
        if !exhausted {
            self.next = Some(PageAt::Offset(new_start));
        }
        Ok(Some(issues))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::json;
    use tributary_core::secret::SecretString;
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

    use super::*;
    use crate::atlassian::{AtlassianClient, Auth, ClientSettings, RetryPolicy};

    /// Data Center search over a result list that changes after the first
    /// request: `A` is updated and moves to the end.
    struct Shifting(Arc<AtomicUsize>);

    impl Respond for Shifting {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            let keys: &[&str] = if n == 0 {
                &["A", "B", "C", "D"]
            } else {
                &["B", "C", "D", "A"]
            };
            let q: std::collections::HashMap<String, String> =
                req.url.query_pairs().into_owned().collect();
            let start: usize = q["startAt"].parse().unwrap_or(0);
            let max: usize = q["maxResults"].parse().unwrap_or(50);
            let issues: Vec<_> = keys
                .iter()
                .skip(start)
                .take(max)
                .map(|k| json!({"key": k}))
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"startAt": start, "total": keys.len(), "issues": issues}))
        }
    }

    #[tokio::test]
    async fn a_shift_during_offset_paging_restarts_the_walk_and_loses_nothing() {
        let server = MockServer::start().await;
        let calls = Arc::new(AtomicUsize::new(0));
        Mock::given(any())
            .respond_with(Shifting(Arc::clone(&calls)))
            .mount(&server)
            .await;
        let client = AtlassianClient::new(ClientSettings {
            base_url: server.uri(),
            auth: Auth::Bearer {
                token: SecretString::from("t"),
                origin: "test".into(),
            },
            max_concurrent_requests: 1,
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        })
        .unwrap();
        let api = JiraApi::new(client, JiraFlavor::Datacenter);
        let mut pager = Pager::new(
            &api,
            JiraFlavor::Datacenter,
            "x".into(),
            vec!["key".into()],
            2,
        );
        let mut seen = Vec::new();
        while let Some(page) = pager.next_page().await.unwrap() {
            seen.extend(page.iter().filter_map(key_of).map(str::to_owned));
        }
        seen.sort();
        seen.dedup();
        // Without the overlap check the walk would read [A B] then [D A]: C lost.
        assert_eq!(seen, ["A", "B", "C", "D"]);
        assert!(!pager.unreliable());
        assert_eq!(pager.requests(), 4);
    }
}
