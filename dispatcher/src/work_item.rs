//! The work item: one message per community to dispatch, on the work-items
//! topic, keyed by community id. `docs/work-item.schema.json`, generated from
//! these types (see the `checked_in_schema` test), describes it; versioned
//! like the document (`schema_version`).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::community::Grouping;
use crate::plan::Reason;

/// The work-item schema version this build produces.
pub const WORK_ITEM_SCHEMA_VERSION: u32 = 1;

/// Kafka headers copied out of the value for tools like kcat.
pub const HEADER_SCHEMA_VERSION: &str = "tributary.schema_version";
pub const HEADER_REASON: &str = "tributary.work_item.reason";
/// W3C trace context header, when the run has one.
pub const HEADER_TRACEPARENT: &str = "traceparent";

/// The value of every message on the work-items topic (default
/// `tributary.work-items`), published by `tributary dispatch` for each
/// community of linked documents that is new or changed since its last
/// dispatch (or every community with `--all`). Kafka key: the community id
/// (UTF-8). Headers: `tributary.schema_version`, `tributary.work_item.reason`,
/// and `traceparent` when the run had a W3C trace context. Consumers must
/// ignore unknown fields (forward compatible within version 1) and refuse
/// another `schema_version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Tributary Work Item (schema_version 1)")]
pub struct WorkItem {
    /// Always 1 for this build.
    #[schemars(schema_with = "schema_version_1")]
    pub schema_version: u32,
    /// Stable id: kept while the community's members change a little
    /// (Jaccard similarity >= `dispatcher.id_match_threshold` with the
    /// previous run's community); a new community gets `c-` + 16 hex digits
    /// of sha256 over its sorted member ids. Also the Kafka key.
    #[schemars(regex(pattern = r"^c-[0-9a-f]{16}$"))]
    pub community_id: String,
    pub reason: Reason,
    /// The `dispatch_runs` row of the run that published it.
    pub run_id: i64,
    pub dispatched_at: DateTime<Utc>,
    /// sha256 over the members' ids and content hashes.
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub fingerprint: String,
    /// The fingerprint of the last dispatch of this community; null when new.
    pub previous_fingerprint: Option<String>,
    pub grouping: Grouping,
    pub sizes: Sizes,
    #[schemars(length(min = 1))]
    pub members: Vec<Member>,
    /// Ids of members added or edited since the last dispatch.
    pub changed_members: Vec<String>,
    /// Ids of the last dispatch's members that left (deleted or moved).
    pub removed_members: Vec<String>,
    /// Optional: the W3C trace context of the dispatch run (from the
    /// `TRACEPARENT` environment variable), also sent as the `traceparent`
    /// header.
    // Absent rather than null when the run had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Trace")]
    pub trace: Option<Trace>,
}

/// `"schema_version": 1`, the version this build produces.
fn schema_version_1(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "const": WORK_ITEM_SCHEMA_VERSION })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sizes {
    #[schemars(range(min = 1))]
    pub members: usize,
    /// Members added or edited since the last dispatch (all members when new).
    pub changed: usize,
    /// Members of the last dispatch that left: deleted, or now in another
    /// community.
    pub removed: usize,
    /// Resolved links between members (A→B and B→A count twice).
    pub internal_links: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Member {
    /// Document id, as on the documents topic.
    #[schemars(length(min = 1))]
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub source: Source,
    pub content_hash: String,
    /// Added or edited since the last dispatch.
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// `vault`, `jira`, `confluence`, ...
    pub kind: String,
    pub instance: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trace {
    /// W3C `traceparent`: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`.
    #[schemars(regex(pattern = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"))]
    pub traceparent: String,
}

/// A `traceparent` value if it is well formed (version 00, non-zero ids);
/// anything else is not propagated.
pub fn valid_traceparent(value: &str) -> Option<String> {
    let value = value.trim();
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    let ok = parts.len() == 4
        && parts[0] == "00"
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
        && parts[1].chars().any(|c| c != '0')
        && parts[2].chars().any(|c| c != '0');
    ok.then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use schemars::generate::Contract;
    use tributary_core::json_schema;

    use super::*;

    #[test]
    fn checked_in_schema_of_the_work_item_is_generated_from_the_type() {
        // What consumers receive: the serialised form.
        let schema = json_schema::generate::<WorkItem>(
            "https://tributary.dev/schemas/work-item/v1.json",
            Contract::Serialize,
        );
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/work-item.schema.json"
        ));
        if let Err(err) = json_schema::check_checked_in(path, &schema) {
            panic!("{err}");
        }
    }

    #[test]
    fn traceparent_is_checked() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(valid_traceparent(good).as_deref(), Some(good));
        assert_eq!(valid_traceparent("00-0000-00f067aa0ba902b7-01"), None);
        assert_eq!(
            valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(valid_traceparent("garbage"), None);
    }

    #[test]
    fn serialises_reason_and_grouping_in_lowercase_and_omits_missing_trace() {
        let item = WorkItem {
            schema_version: WORK_ITEM_SCHEMA_VERSION,
            community_id: "c-1".into(),
            reason: Reason::Changed,
            run_id: 7,
            dispatched_at: DateTime::from_timestamp(0, 0).unwrap_or_default(),
            fingerprint: "sha256:x".into(),
            previous_fingerprint: None,
            grouping: Grouping::Links,
            sizes: Sizes {
                members: 1,
                changed: 1,
                removed: 0,
                internal_links: 0,
            },
            members: vec![],
            changed_members: vec![],
            removed_members: vec![],
            trace: None,
        };
        let json = serde_json::to_value(&item).expect("serialises");
        assert_eq!(json["reason"], "changed");
        assert_eq!(json["grouping"], "links");
        assert!(json.get("trace").is_none());
        let back: WorkItem = serde_json::from_value(json).expect("parses");
        assert_eq!(back, item);
    }
}
