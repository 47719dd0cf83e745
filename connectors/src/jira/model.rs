//! The parts of Jira's JSON the connector reads. Every field is optional:
//! Jira omits or nulls fields freely (hidden by a screen, no permission,
//! a custom workflow), and one odd issue must not fail a page.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct RawIssue {
    /// Numeric id, a string on the wire.
    #[serde(default)]
    pub id: Option<Value>,
    pub key: String,
    #[serde(default)]
    pub fields: IssueFields,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IssueFields {
    pub summary: Option<String>,
    /// ADF (a JSON object) on Cloud v3, wiki markup (a string) on v2.
    pub description: Option<Value>,
    pub comment: Option<CommentPage>,
    pub project: Option<Project>,
    pub issuetype: Option<Named>,
    pub status: Option<Named>,
    pub priority: Option<Named>,
    pub labels: Option<Vec<String>>,
    pub components: Option<Vec<Named>>,
    pub assignee: Option<User>,
    pub reporter: Option<User>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub resolutiondate: Option<String>,
    pub issuelinks: Option<Vec<IssueLink>>,
    pub parent: Option<IssueRef>,
    /// Custom fields (the Data Center epic link lives in one).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Named {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Project {
    pub key: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    pub display_name: Option<String>,
    pub email_address: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CommentPage {
    pub comments: Vec<Comment>,
    pub total: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Comment {
    pub id: Option<Value>,
    pub author: Option<User>,
    pub body: Option<Value>,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IssueLink {
    #[serde(rename = "type")]
    pub kind: Option<LinkType>,
    pub inward_issue: Option<IssueRef>,
    pub outward_issue: Option<IssueRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LinkType {
    pub name: Option<String>,
    pub inward: Option<String>,
    pub outward: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IssueRef {
    pub key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Myself {
    pub time_zone: Option<String>,
    pub display_name: Option<String>,
}

/// Jira's timestamps: `2025-03-10T10:07:59.123+0000` (no colon in the
/// offset), or RFC 3339 from newer endpoints. Always compared in UTC.
pub fn parse_jira_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The canonical form of `updated`, used as the item fingerprint: two
/// renderings of one instant (different offsets) compare equal.
pub fn fingerprint(updated: DateTime<Utc>) -> String {
    updated.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_timestamps_parse_to_utc() {
        let a = parse_jira_time("2025-03-10T10:07:59.123-0500").unwrap();
        let b = parse_jira_time("2025-03-10T15:07:59.123+0000").unwrap();
        let c = parse_jira_time("2025-03-10T15:07:59.123Z").unwrap();
        assert_eq!((a, b), (c, c));
        assert_eq!(fingerprint(a), "2025-03-10T15:07:59.123Z");
        assert!(parse_jira_time("yesterday").is_none());
    }

    #[test]
    fn nulls_and_missing_fields_are_tolerated() {
        let issue: RawIssue = serde_json::from_value(serde_json::json!({
            "id": "10001", "key": "OPS-1",
            "fields": {"summary": null, "labels": null, "assignee": null, "customfield_1": 5}
        }))
        .unwrap();
        assert_eq!(issue.key, "OPS-1");
        assert!(issue.fields.labels.is_none());
        assert_eq!(
            issue.fields.other.get("customfield_1"),
            Some(&serde_json::json!(5))
        );
    }
}
