//! The CQL an incremental run sends for one space.
//!
//! Like JQL, CQL dates have no zone and minute precision: the literal is
//! written by [`JqlZone`] (rounded down, in the account's zone or 12 h early
//! when that is unknown), so a query may ask for a little more than needed,
//! never less.

use chrono::{DateTime, Utc};

use crate::jira::JqlZone;

/// `space in ("KEY") AND type in (page, blogpost) AND lastmodified >= "…" ORDER BY lastmodified ASC`.
pub fn incremental(space: &str, blogposts: bool, since: DateTime<Utc>, zone: &JqlZone) -> String {
    let types = if blogposts {
        "type in (page, blogpost)"
    } else {
        "type = page"
    };
    format!(
        "space in ({}) AND {types} AND lastmodified >= \"{}\" ORDER BY lastmodified ASC",
        quote(space),
        zone.literal(since)
    )
}

/// Comments of a space written or edited since `since`: their pages get
/// re-rendered (a comment does not give its page a new version).
pub fn comments(space: &str, since: DateTime<Utc>, zone: &JqlZone) -> String {
    format!(
        "space in ({}) AND type = comment AND lastmodified >= \"{}\" ORDER BY lastmodified ASC",
        quote(space),
        zone.literal(since)
    )
}

/// The named pages (numeric ids only: they come from the server).
pub fn by_ids(ids: &[String]) -> String {
    format!("id in ({})", numeric(ids).join(","))
}

/// Every page below the named ones.
pub fn descendants(ids: &[String]) -> String {
    format!("type = page AND ancestor in ({})", numeric(ids).join(","))
}

fn numeric(ids: &[String]) -> Vec<&str> {
    ids.iter()
        .map(String::as_str)
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// A CQL string literal.
fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_cql_rounds_down_to_the_minute_in_the_zone() {
        let since = DateTime::parse_from_rfc3339("2025-01-10T08:01:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let utc = JqlZone::named("UTC").unwrap();
        assert_eq!(
            incremental("ENG", true, since, &utc),
            "space in (\"ENG\") AND type in (page, blogpost) AND lastmodified >= \"2025-01-10 08:01\" ORDER BY lastmodified ASC"
        );
        assert!(
            incremental("A\"B", false, since, &JqlZone::Unknown).starts_with(
                "space in (\"A\\\"B\") AND type = page AND lastmodified >= \"2025-01-09 20:01\""
            )
        );
        assert_eq!(
            comments("ENG", since, &utc),
            "space in (\"ENG\") AND type = comment AND lastmodified >= \"2025-01-10 08:01\" ORDER BY lastmodified ASC"
        );
        let ids = ["12".to_owned(), "x) OR (1".to_owned(), "34".to_owned()];
        assert_eq!(by_ids(&ids), "id in (12,34)");
        assert_eq!(descendants(&ids), "type = page AND ancestor in (12,34)");
    }
}
