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
        }
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

    async fn fetch(&mut self, at: &PageAt) -> Result<SearchPage, ApiError> {
        self.api
            .search(&self.jql, at, &self.fields, self.page_size)
            .await
    }

    async fn next_cloud(&mut self, at: PageAt) -> Result<Option<Vec<Value>>, ApiError> {
        let page = self.fetch(&at).await?;
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
        let page = self.fetch(&PageAt::Offset(request_at)).await?;
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
