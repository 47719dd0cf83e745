//! Where the Confluence credentials come from: the environment or a mounted
//! secret file, never the command line or the config file, and never a log.

use std::path::PathBuf;

use tributary_core::config::{ConfluenceConfig, ConfluenceFlavor};
use tributary_core::secret::Secret;

use crate::atlassian::Auth;

/// Checked in this order; the first one set wins over `confluence.token_file`.
pub const TOKEN_ENV_VARS: [&str; 2] = ["TRIBUTARY_CONFLUENCE_TOKEN", "CONFLUENCE_API_TOKEN"];

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no Confluence token: set TRIBUTARY_CONFLUENCE_TOKEN (or CONFLUENCE_API_TOKEN), or confluence.token_file to a file holding it")]
    Missing,
    #[error("cannot read the Confluence token file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Confluence token file {0} is empty")]
    EmptyFile(PathBuf),
    #[error("Confluence Cloud authenticates with the account email and an API token: set confluence.email (or TRIBUTARY_CONFLUENCE__EMAIL)")]
    MissingEmail,
}

/// Builds the auth for the configured flavour; `env` is the environment
/// lookup (a parameter so tests need not mutate the process environment).
pub fn resolve(
    cfg: &ConfluenceConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Auth, CredentialError> {
    let from_env = TOKEN_ENV_VARS.iter().find_map(|name| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(|v| (v, format!("env {name}")))
    });
    let (token, origin) = match (from_env, &cfg.token_file) {
        (Some(found), _) => found,
        (None, Some(path)) => {
            let raw = std::fs::read_to_string(path).map_err(|source| CredentialError::File {
                path: path.clone(),
                source,
            })?;
            let token = raw.trim().to_owned();
            if token.is_empty() {
                return Err(CredentialError::EmptyFile(path.clone()));
            }
            (token, format!("file {}", path.display()))
        }
        (None, None) => return Err(CredentialError::Missing),
    };
    let token = Secret::new(token);
    match cfg.flavor {
        ConfluenceFlavor::Cloud => {
            let email = cfg
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .ok_or(CredentialError::MissingEmail)?;
            Ok(Auth::Basic {
                email: email.to_owned(),
                token,
                origin,
            })
        }
        ConfluenceFlavor::Datacenter => Ok(Auth::Bearer { token, origin }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                assert_eq!(token.expose(), "from-env");
                assert_eq!(origin, "env CONFLUENCE_API_TOKEN");
            }
            other => panic!("{other:?}"),
        }
        cfg.flavor = ConfluenceFlavor::Datacenter;
        match resolve(&cfg, |_| None).unwrap() {
            Auth::Bearer { token, .. } => assert_eq!(token.expose(), "from-file"),
            other => panic!("{other:?}"),
        }
        cfg.flavor = ConfluenceFlavor::Cloud;
        cfg.email = None;
        assert!(matches!(
            resolve(&cfg, |_| None),
            Err(CredentialError::MissingEmail)
        ));
        cfg.token_file = None;
        assert!(matches!(
            resolve(&cfg, |_| None),
            Err(CredentialError::Missing)
        ));
    }
}
