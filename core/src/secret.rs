//! A string that never prints itself: database URLs and API tokens.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// Reads the secret from the environment variable a config field names
    /// (`api_key_env = "..."`): no name, no secret; a name whose variable is
    /// unset is an error rather than a silent anonymous call.
    pub fn from_named_env(var: Option<&str>) -> Result<Option<Secret>, String> {
        let Some(var) = var else {
            return Ok(None);
        };
        std::env::var(var)
            .map(|value| Some(Secret::new(value)))
            .map_err(|e| format!("${var}: {e}"))
    }

    /// The only way to read the value: grep for it when auditing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("postgres://u:hunter2@h/db");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
        assert_eq!(s.expose(), "postgres://u:hunter2@h/db");
    }
}
