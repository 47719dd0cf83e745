//! Confluence credentials: the shared Atlassian rules
//! ([`crate::atlassian::resolve_credentials`]) with Confluence's names.

use tributary_core::config::{ConfluenceConfig, ConfluenceFlavor};

pub use crate::atlassian::CredentialError;
use crate::atlassian::{Auth, Product};

pub static PRODUCT: Product = Product {
    name: "Confluence",
    section: "confluence",
    token_env: ["TRIBUTARY_CONFLUENCE_TOKEN", "CONFLUENCE_API_TOKEN"],
    email_env: "TRIBUTARY_CONFLUENCE__EMAIL",
};

/// Checked in this order; the first one set wins over `confluence.token_file`.
pub const TOKEN_ENV_VARS: [&str; 2] = PRODUCT.token_env;

/// Builds the auth for the configured flavour. `env` is the environment
/// lookup (a parameter so tests need not mutate the process environment).
pub fn resolve(
    cfg: &ConfluenceConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Auth, CredentialError> {
    crate::atlassian::resolve_credentials(
        &PRODUCT,
        cfg.flavor == ConfluenceFlavor::Cloud,
        cfg.email.as_deref(),
        cfg.token_file.as_deref(),
        env,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::secret::ExposeSecret;

    #[test]
    fn env_wins_then_file_and_cloud_needs_an_email() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let mut cfg = ConfluenceConfig {
            email: Some("me@example.com".into()),
            token_file: Some(file.clone()),
            ..ConfluenceConfig::default()
        };
        let env = |k: &str| (k == "CONFLUENCE_API_TOKEN").then(|| "from-env".to_owned());
        match resolve(&cfg, env).unwrap() {
            Auth::Basic { token, origin, .. } => {
                assert_eq!(token.expose_secret(), "from-env");
                assert_eq!(origin, "env CONFLUENCE_API_TOKEN");
            }
            other => panic!("{other:?}"),
        }
        cfg.flavor = ConfluenceFlavor::Datacenter;
        match resolve(&cfg, |_| None).unwrap() {
            Auth::Bearer { token, .. } => assert_eq!(token.expose_secret(), "from-file"),
            other => panic!("{other:?}"),
        }
        cfg.flavor = ConfluenceFlavor::Cloud;
        cfg.email = None;
        assert!(matches!(
            resolve(&cfg, |_| None),
            Err(CredentialError::MissingEmail(_))
        ));
        cfg.token_file = None;
        assert!(matches!(
            resolve(&cfg, |_| None),
            Err(CredentialError::Missing(_))
        ));
    }
}
