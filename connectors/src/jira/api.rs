//! The Jira REST calls the connector makes, for both flavours: who am I
//! (time zone), one search page, one page of an issue's comments.

use serde::Deserialize;
use serde_json::{json, Value};
use tributary_core::config::JiraFlavor;

use super::model::{CommentPage, Myself};
use crate::atlassian::{path, AtlassianClient, AtlassianError};

/// Where a search page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    First,
    /// Cloud enhanced search continuation token.
    Token(String),
    /// Data Center / Server offset.
    Offset(u64),
}

/// One page of raw issues (decoded one by one later, so one odd issue
/// cannot fail the page).
#[derive(Debug, Default)]
pub struct SearchPage {
    pub issues: Vec<Value>,
    pub next_token: Option<String>,
    pub is_last: Option<bool>,
    pub total: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Jira rejected the JQL `{jql}`: {}", messages.join("; "))]
    BadJql { jql: String, messages: Vec<String> },
    #[error(transparent)]
    Http(#[from] AtlassianError),
}

#[derive(Clone)]
pub struct JiraApi {
    client: AtlassianClient,
    flavor: JiraFlavor,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudSearch {
    #[serde(default)]
    issues: Vec<Value>,
    next_page_token: Option<String>,
    is_last: Option<bool>,
}

#[derive(Deserialize)]
struct DcSearch {
    #[serde(default)]
    issues: Vec<Value>,
    total: Option<u64>,
}

impl JiraApi {
    pub fn new(client: AtlassianClient, flavor: JiraFlavor) -> Self {
        JiraApi { client, flavor }
    }

    pub fn client(&self) -> &AtlassianClient {
        &self.client
    }

    fn prefix(&self) -> &'static str {
        match self.flavor {
            JiraFlavor::Cloud => "rest/api/3",
            JiraFlavor::Datacenter => "rest/api/2",
        }
    }

    /// Data Center: the display name of a user named in a wiki mention;
    /// `None` when the user is unknown or not visible to the account.
    pub async fn display_name(&self, user: &str) -> Result<Option<String>, ApiError> {
        let found: Result<Myself, AtlassianError> = self
            .client
            .get_json("rest/api/2/user", &[("username", user.to_owned())])
            .await;
        match found {
            Ok(me) => Ok(me.display_name),
            Err(AtlassianError::Status { status, .. }) if status.as_u16() == 404 => Ok(None),
            Err(AtlassianError::Forbidden { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The account behind the credentials; also the cheapest way to find
    /// out early that they are wrong.
    pub async fn myself(&self) -> Result<Myself, ApiError> {
        Ok(self
            .client
            .get_json(&format!("{}/myself", self.prefix()), &[])
            .await?)
    }

    pub async fn search(
        &self,
        jql: &str,
        at: &PageAt,
        fields: &[String],
        max_results: u32,
    ) -> Result<SearchPage, ApiError> {
        let result = match self.flavor {
            // POST: a long project list or filter can outgrow a URL.
            JiraFlavor::Cloud => {
                let mut body = json!({
                    "jql": jql,
                    "maxResults": max_results,
                    "fields": fields,
                });
                if let PageAt::Token(token) = at {
                    body["nextPageToken"] = Value::String(token.clone());
                }
                self.client
                    .post_json::<CloudSearch, _>("rest/api/3/search/jql", &body)
                    .await
                    .map(|r| SearchPage {
                        issues: r.issues,
                        next_token: r.next_page_token.filter(|t| !t.is_empty()),
                        is_last: r.is_last,
                        total: None,
                    })
            }
            JiraFlavor::Datacenter => {
                let start = match at {
                    PageAt::Offset(n) => *n,
                    _ => 0,
                };
                let query = [
                    ("jql", jql.to_owned()),
                    ("startAt", start.to_string()),
                    ("maxResults", max_results.to_string()),
                    ("fields", fields.join(",")),
                ];
                self.client
                    .get_json::<DcSearch>("rest/api/2/search", &query)
                    .await
                    .map(|r| SearchPage {
                        issues: r.issues,
                        next_token: None,
                        is_last: None,
                        total: r.total,
                    })
            }
        };
        result.map_err(|err| match err {
            AtlassianError::BadRequest { messages, .. } => ApiError::BadJql {
                jql: jql.to_owned(),
                messages,
            },
            other => ApiError::Http(other),
        })
    }

    /// One page of an issue's comments, oldest first.
    pub async fn comments(
        &self,
        key: &str,
        start_at: u64,
        max_results: u32,
    ) -> Result<CommentPage, ApiError> {
        let query = [
            ("startAt", start_at.to_string()),
            ("maxResults", max_results.to_string()),
            ("orderBy", "created".to_owned()),
        ];
        Ok(self
            .client
            .get_json(
                &format!("{}/issue/{}/comment", self.prefix(), urlencode_path(key)),
                &query,
            )
            .await?)
    }
}

/// Issue keys are `[A-Z0-9_]+-\d+`, but they come from the server: escape
/// anything that would change the path.
fn urlencode_path(segment: &str) -> String {
    path::segment(segment).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(urlencode_path("OPS-12"), "OPS-12");
        assert_eq!(urlencode_path("../x y"), "..%2Fx%20y");
    }
}
