//! The consumer's librdkafka settings on top of the shared client config.

use std::collections::BTreeMap;

use tributary_core::config::IndexerConfig;

/// Our settings for the consumer, minus any key the operator set in
/// `kafka.librdkafka_options` (theirs win: a shorter heartbeat, a longer
/// session...).
pub(crate) fn consumer_settings(
    settings: &IndexerConfig,
    overrides: &BTreeMap<String, String>,
) -> Vec<(&'static str, String)> {
    let session = settings.session_timeout_ms.max(1);
    let mut out = vec![
        ("group.id", settings.group_id.clone()),
        // Offsets are stored by hand once a batch is durable; the
        // background commit only commits what was stored.
        ("enable.auto.commit", "true".into()),
        (
            "auto.commit.interval.ms",
            settings.commit_interval_ms.to_string(),
        ),
        ("enable.auto.offset.store", "false".into()),
        ("auto.offset.reset", "earliest".into()),
        ("enable.partition.eof", "false".into()),
        // A SIGKILLed member's partitions move after this long, not
        // librdkafka's 45 s default.
        ("session.timeout.ms", session.to_string()),
        ("heartbeat.interval.ms", (session / 3).max(1).to_string()),
        // Per-partition lag for metrics and progress (events.rs).
        ("statistics.interval.ms", "5000".into()),
    ];
    // Static membership: a restarted member with the same id takes its
    // partitions back at once.
    if let Some(instance) = &settings.group_instance_id {
        out.push(("group.instance.id", instance.clone()));
    }
    out.retain(|(key, _)| !overrides.contains_key(*key));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(settings: &'a [(&str, String)], key: &str) -> Option<&'a str> {
        settings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_crashed_member_is_replaced_quickly() {
        let none = BTreeMap::new();
        let defaults = consumer_settings(&IndexerConfig::default(), &none);
        assert_eq!(value(&defaults, "session.timeout.ms"), Some("10000"));
        assert_eq!(value(&defaults, "heartbeat.interval.ms"), Some("3333"));
        assert_eq!(value(&defaults, "group.instance.id"), None);
        assert_eq!(value(&defaults, "enable.auto.offset.store"), Some("false"));
        let pod = IndexerConfig {
            group_instance_id: Some("tributary-indexer-0".into()),
            ..IndexerConfig::default()
        };
        let settings = consumer_settings(&pod, &none);
        assert_eq!(
            value(&settings, "group.instance.id"),
            Some("tributary-indexer-0")
        );
    }

    #[test]
    fn the_operator_s_options_win() {
        let overrides = BTreeMap::from([("heartbeat.interval.ms".to_string(), "300".to_string())]);
        let settings = consumer_settings(&IndexerConfig::default(), &overrides);
        // Left out here, so the client config keeps the operator's value.
        assert_eq!(value(&settings, "heartbeat.interval.ms"), None);
        assert_eq!(value(&settings, "session.timeout.ms"), Some("10000"));
    }
}
