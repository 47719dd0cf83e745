//! Jira credentials: the shared Atlassian rules
//! ([`crate::atlassian::resolve_credentials`]) with Jira's names.

use tributary_core::config::{JiraConfig, JiraFlavor};

pub use crate::atlassian::CredentialError;
use crate::atlassian::{Auth, Product};

pub static PRODUCT: Product = Product {
    name: "Jira",
    section: "jira",
    token_env: ["TRIBUTARY_JIRA_TOKEN", "JIRA_API_TOKEN"],
    email_env: "TRIBUTARY_JIRA__EMAIL",
};

/// Checked in this order; the first one set wins over `jira.token_file`.
pub const TOKEN_ENV_VARS: [&str; 2] = PRODUCT.token_env;

/// Builds the auth for the configured flavour. `env` is the environment
/// lookup (a parameter so tests need not mutate the process environment).
pub fn resolve(
    cfg: &JiraConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Auth, CredentialError> {
    crate::atlassian::resolve_credentials(
        &PRODUCT,
        cfg.flavor == JiraFlavor::Cloud,
        cfg.email.as_deref(),
        cfg.token_file.as_deref(),
        env,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use tributary_core::secret::ExposeSecret;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_wins_then_file_and_cloud_needs_an_email() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let mut cfg = JiraConfig {
            email: Some("me@example.com".into()),
            token_file: Some(file.clone()),
            ..JiraConfig::default()
        };
        match resolve(&cfg, env(&[("JIRA_API_TOKEN", "from-env")])).unwrap() {
            Auth::Basic { token, origin, .. } => {
                assert_eq!(token.expose_secret(), "from-env");
                assert_eq!(origin, "env JIRA_API_TOKEN");
            }
            other => panic!("{other:?}"),
        }
        cfg.flavor = JiraFlavor::Datacenter;
        match resolve(&cfg, env(&[])).unwrap() {
            Auth::Bearer { token, origin } => {
                assert_eq!(token.expose_secret(), "from-file");
                assert!(origin.contains("token"));
            }
            other => panic!("{other:?}"),
        }
        cfg.flavor = JiraFlavor::Cloud;
        cfg.email = None;
        assert!(matches!(
            resolve(&cfg, env(&[])),
            Err(CredentialError::MissingEmail(_))
        ));
        cfg.token_file = None;
        assert!(matches!(
            resolve(&cfg, env(&[])),
            Err(CredentialError::Missing(_))
        ));
        std::fs::write(&file, "  \n").unwrap();
        cfg.token_file = Some(file);
        assert!(matches!(
            resolve(&cfg, env(&[])),
            Err(CredentialError::EmptyFile(_, _))
        ));
    }
}
