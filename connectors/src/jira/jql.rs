//! The JQL every run sends, and the date literal in it.
//!
//! JQL has no time-zone syntax: `updated >= "2025-03-10 10:07"` is read in
//! the querying account's zone, at minute precision. Everything else in the
//! connector compares instants in UTC; only the literal is rendered in the
//! account's zone, always rounded *down*, so a query can only ever ask for a
//! little more than needed, never less.

use chrono::{DateTime, Duration, Utc};

/// The zone JQL date literals are written in.
#[derive(Debug, Clone)]
pub enum JqlZone {
    Named {
        name: String,
        tz: jiff::tz::TimeZone,
    },
    /// The account's zone is unknown: literals are written as UTC wall-clock
    /// minus 12 h, which no zone (UTC−12 … UTC+14) can read as later than
    /// meant. Costs a re-read of up to a day of updates, loses nothing.
    Unknown,
}

impl JqlZone {
    /// `None` when the name is not a zone this build knows.
    pub fn named(name: &str) -> Option<JqlZone> {
        jiff::tz::TimeZone::get(name).ok().map(|tz| JqlZone::Named {
            name: name.to_owned(),
            tz,
        })
    }

    pub fn name(&self) -> &str {
        match self {
            JqlZone::Named { name, .. } => name,
            JqlZone::Unknown => "unknown (UTC-12h)",
        }
    }

    /// A literal that, read in this zone, denotes an instant at or before `at`.
    pub fn literal(&self, at: DateTime<Utc>) -> String {
        const FORMAT: &str = "%Y-%m-%d %H:%M";
        let JqlZone::Named { tz, .. } = self else {
            return (at - Duration::hours(12)).format(FORMAT).to_string();
        };
        let Ok(ts) = jiff::Timestamp::from_second(at.timestamp()) else {
            return (at - Duration::hours(12)).format(FORMAT).to_string();
        };
        let mut civil = ts.to_zoned(tz.clone()).datetime();
        // In a DST fold the wall-clock time occurs twice; Jira may pick the
        // later one. An hour earlier is before both.
        if tz.to_ambiguous_zoned(civil).is_ambiguous() {
            civil = civil
                .checked_sub(jiff::SignedDuration::from_hours(1))
                .unwrap_or(civil);
        }
        civil.strftime(FORMAT).to_string()
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the Jira scope is empty: set jira.projects and/or jira.jql (Jira refuses unbounded searches)"
)]
pub struct EmptyScope;

/// `project in ("A", "B") AND (<filter>)`: what the connector is about.
pub fn scope(projects: &[String], filter: Option<&str>) -> Result<String, EmptyScope> {
    let mut parts = Vec::new();
    let projects: Vec<String> = projects
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    if !projects.is_empty() {
        parts.push(format!("project in ({})", projects.join(", ")));
    }
    if let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) {
        parts.push(format!("({filter})"));
    }
    if parts.is_empty() {
        return Err(EmptyScope);
    }
    Ok(parts.join(" AND "))
}

/// The search of one run: everything in scope updated since `since` (all
/// of it when `None`), oldest first, so the watermark can follow the pages.
pub fn incremental(scope: &str, since: Option<DateTime<Utc>>, zone: &JqlZone) -> String {
    match since {
        Some(at) => format!(
            "({scope}) AND updated >= \"{}\" ORDER BY updated ASC, key ASC",
            zone.literal(at)
        ),
        None => format!("({scope}) ORDER BY updated ASC, key ASC"),
    }
}

/// Named issues within the scope (fetched after a walk missed them, or
/// when they became visible again).
pub fn by_keys(scope: &str, keys: &[String]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|k| format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!(
        "({scope}) AND key in ({}) ORDER BY key ASC",
        keys.join(", ")
    )
}

/// The slim listing used to find deletions: every key in scope.
pub fn listing(scope: &str) -> String {
    format!("({scope}) ORDER BY key ASC")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn literals_are_in_the_account_zone_rounded_down() {
        let at = utc("2025-03-10T15:07:59Z");
        assert_eq!(
            JqlZone::named("UTC").unwrap().literal(at),
            "2025-03-10 15:07"
        );
        // Etc/GMT+5 is UTC−5 (POSIX sign).
        assert_eq!(
            JqlZone::named("Etc/GMT+5").unwrap().literal(at),
            "2025-03-10 10:07"
        );
        assert_eq!(
            JqlZone::named("Asia/Kolkata").unwrap().literal(at),
            "2025-03-10 20:37"
        );
        assert_eq!(JqlZone::Unknown.literal(at), "2025-03-10 03:07");
        assert!(JqlZone::named("Mars/Olympus").is_none());
    }

    #[test]
    fn a_dst_fold_goes_an_hour_earlier() {
        // 01:30 happens twice in New York on 2024-11-03; 05:30Z is the first.
        let ny = JqlZone::named("America/New_York").unwrap();
        assert_eq!(ny.literal(utc("2024-11-03T05:30:00Z")), "2024-11-03 00:30");
        assert_eq!(ny.literal(utc("2024-11-03T04:00:00Z")), "2024-11-03 00:00");
    }

    #[test]
    fn scope_and_queries() {
        let s = scope(&["OPS".into(), " DEV ".into()], Some("labels = oncall")).unwrap();
        assert_eq!(s, "project in (\"OPS\", \"DEV\") AND (labels = oncall)");
        assert_eq!(
            scope(&[], Some("assignee = currentUser()")).unwrap(),
            "(assignee = currentUser())"
        );
        assert!(scope(&[], Some("  ")).is_err());
        let zone = JqlZone::named("UTC").unwrap();
        assert_eq!(
            incremental("project = X", Some(utc("2025-01-02T03:04:05Z")), &zone),
            "(project = X) AND updated >= \"2025-01-02 03:04\" ORDER BY updated ASC, key ASC"
        );
        assert_eq!(
            incremental("project = X", None, &zone),
            "(project = X) ORDER BY updated ASC, key ASC"
        );
        assert_eq!(listing("project = X"), "(project = X) ORDER BY key ASC");
        assert_eq!(
            by_keys("project = X", &["X-1".into(), "X-2".into()]),
            "(project = X) AND key in (\"X-1\", \"X-2\") ORDER BY key ASC"
        );
    }
}
