//! Database URLs, API tokens and the SASL password are `secrecy`'s
//! [`SecretString`]: its `Debug` prints `[REDACTED]`, it has no `Display`,
//! it is wiped from memory when dropped, and the value is read only through
//! [`ExposeSecret::expose_secret`] (grep for it when auditing). This module
//! adds the two things the configuration needs on top.

use serde::Serializer;

pub use secrecy::{ExposeSecret, SecretString};

/// Reads the secret from the environment variable a config field names
/// (`api_key_env = "..."`): no name, no secret; a name whose variable is
/// unset is an error rather than a silent anonymous call.
pub fn from_named_env(var: Option<&str>) -> Result<Option<SecretString>, String> {
    let Some(var) = var else {
        return Ok(None);
    };
    std::env::var(var)
        .map(|value| Some(SecretString::from(value)))
        .map_err(|e| format!("${var}: {e}"))
}

/// `#[serde(serialize_with = "crate::secret::redacted")]` on a secret field
/// of a serialisable config: a dump shows `***`, never the value. (`secrecy`
/// leaves `SecretString` unserialisable on purpose.)
pub fn redacted<S: Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(serialize_with = "redacted")]
        url: SecretString,
    }

    #[test]
    fn debug_and_serialisation_never_show_the_value() {
        let holder: Holder =
            serde_json::from_str(r#"{"url": "postgres://u:hunter2@h/db"}"#).expect("parses");
        assert!(!format!("{holder:?}").contains("hunter2"), "{holder:?}");
        assert!(!format!("{:#?}", holder.url).contains("hunter2"));
        let json = serde_json::to_string(&holder).expect("serialises");
        assert_eq!(json, r#"{"url":"***"}"#);
        assert_eq!(holder.url.expose_secret(), "postgres://u:hunter2@h/db");
    }

    #[test]
    fn a_named_variable_must_be_set() {
        assert!(from_named_env(None).expect("no name").is_none());
        let err = from_named_env(Some("TRIBUTARY_TEST_SURELY_UNSET_SECRET")).unwrap_err();
        assert!(err.contains("TRIBUTARY_TEST_SURELY_UNSET_SECRET"), "{err}");
    }
}
