//! `deny_unknown_fields` for the sections serde cannot check itself: a
//! struct with a `#[serde(flatten)]` field accepts any key, so a typo there
//! (`jira.max_retry`, or a `token` pasted into the file) would silently be
//! ignored. `Config::load` compares the keys a section was given with the
//! ones it has.

use figment::Figment;
use serde::Serialize;

use super::ConfigError;

/// Fails on the first key of `section` (in the merged file and
/// environment) that `T` does not have.
pub(super) fn check<T: Serialize + Default>(
    figment: &Figment,
    section: &'static str,
) -> Result<(), ConfigError> {
    // The defaults always define the section; a section that is not a
    // table is reported by `extract` with its own message.
    let Ok(value) = figment.find_value(section) else {
        return Ok(());
    };
    let Some(given) = value.as_dict() else {
        return Ok(());
    };
    let known = known_keys::<T>();
    match first_unknown(given.keys().map(String::as_str), &known) {
        Some(key) => Err(ConfigError::UnknownKey {
            section,
            key: key.to_owned(),
            expected: known.join(", "),
        }),
        None => Ok(()),
    }
}

/// The keys `T` serialises (a flattened field's keys included).
fn known_keys<T: Serialize + Default>() -> Vec<String> {
    match serde_json::to_value(T::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        // A config section is a struct: it serialises as an object.
        _ => Vec::new(),
    }
}

fn first_unknown<'a>(
    mut given: impl Iterator<Item = &'a str>,
    known: &[String],
) -> Option<&'a str> {
    given.find(|key| !known.iter().any(|k| k == key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JiraConfig;

    #[test]
    fn flattened_keys_are_known_and_others_are_not() {
        let known = known_keys::<JiraConfig>();
        for key in ["base_url", "max_retries", "instance", "projects", "flavor"] {
            assert!(known.iter().any(|k| k == key), "{key} in {known:?}");
        }
        assert_eq!(
            first_unknown(["projects", "max_retry", "token"].into_iter(), &known),
            Some("max_retry")
        );
        assert_eq!(first_unknown(["site"].into_iter(), &known), Some("site"));
        assert_eq!(first_unknown(["jql"].into_iter(), &known), None);
    }
}
