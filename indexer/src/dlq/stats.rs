//! `tributary dlq stats`: what is pending, by class, source and age.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::scan::Pending;

#[derive(Debug, Default, Serialize)]
pub struct DlqStats {
    pub topic: String,
    /// Messages still retained in the topic, handled or not.
    pub retained: i64,
    /// One per source message.
    pub pending: usize,
    /// Extra copies of pending or handled letters (a batch redone after a
    /// crash wrote them again); handled with their first copy.
    pub duplicates: usize,
    pub pending_bytes: usize,
    pub by_class: BTreeMap<String, usize>,
    pub by_source: BTreeMap<String, usize>,
    /// Pending by age of first failure: `<1h`, `<1d`, `<7d`, `>=7d`, `unknown`.
    pub by_age: BTreeMap<String, usize>,
    pub oldest_failure: Option<DateTime<Utc>>,
    pub newest_failure: Option<DateTime<Utc>>,
}

pub fn stats(pending: &Pending, now: DateTime<Utc>) -> DlqStats {
    let mut s = DlqStats {
        topic: pending.topic.clone(),
        retained: pending.retained,
        pending: pending.letters.len(),
        duplicates: pending.duplicates.count(),
        ..DlqStats::default()
    };
    for l in &pending.letters {
        s.pending_bytes += l.bytes;
        *s.by_class.entry(l.class.clone()).or_default() += 1;
        *s.by_source
            .entry(l.source.clone().unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
        let first = l.first_failed_at.or(l.failed_at);
        let bucket = match first.map(|t| now - t) {
            None => "unknown",
            Some(age) if age < chrono::Duration::hours(1) => "<1h",
            Some(age) if age < chrono::Duration::days(1) => "<1d",
            Some(age) if age < chrono::Duration::days(7) => "<7d",
            Some(_) => ">=7d",
        };
        *s.by_age.entry(bucket.into()).or_default() += 1;
        if let Some(t) = first {
            s.oldest_failure = Some(s.oldest_failure.map_or(t, |o| o.min(t)));
        }
        if let Some(t) = l.failed_at.or(first) {
            s.newest_failure = Some(s.newest_failure.map_or(t, |o| o.max(t)));
        }
    }
    s
}
