//! Where the Jira credentials come from: the environment or a mounted
//! secret file, never the command line or the config file, and never a log.

use std::path::PathBuf;

use tributary_core::config::{JiraConfig, JiraFlavor};
use tributary_core::secret::Secret;

use crate::atlassian::Auth;

/// Checked in this order; the first one set wins over `jira.token_file`.
pub const TOKEN_ENV_VARS: [&str; 2] = ["TRIBUTARY_JIRA_TOKEN", "JIRA_API_TOKEN"];

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no Jira token: set TRIBUTARY_JIRA_TOKEN (or JIRA_API_TOKEN), or jira.token_file to a file holding it")]
    Missing,
    #[error("cannot read the Jira token file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Jira token file {0} is empty")]
    EmptyFile(PathBuf),
    #[error("Jira Cloud authenticates with the account email and an API token: set jira.email (or TRIBUTARY_JIRA__EMAIL)")]
    MissingEmail,
}

/// Builds the auth for the configured flavour. `env` is the environment
/// lookup (a parameter so tests need not mutate the process environment).
pub fn resolve(
    cfg: &JiraConfig,
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
        JiraFlavor::Cloud => {
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
        JiraFlavor::Datacenter => Ok(Auth::Bearer { token, origin }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

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
                assert_eq!(token.expose(), "from-env");
                assert_eq!(origin, "env JIRA_API_TOKEN");
            }
            other => panic!("{other:?}"),
        }
        cfg.flavor = JiraFlavor::Datacenter;
        match resolve(&cfg, env(&[])).unwrap() {
            Auth::Bearer { token, origin } => {
                assert_eq!(token.expose(), "from-file");
                assert!(origin.contains("token"));
            }
            other => panic!("{other:?}"),
        }
        cfg.flavor = JiraFlavor::Cloud;
        cfg.email = None;
        assert!(matches!(
            resolve(&cfg, env(&[])),
            Err(CredentialError::MissingEmail)
        ));
        cfg.token_file = None;
        assert!(matches!(
            resolve(&cfg, env(&[])),
            Err(CredentialError::Missing)
        ));
        std::fs::write(&file, "  \n").unwrap();
        cfg.token_file = Some(file);
        assert!(matches!(
            resolve(&cfg, env(&[])),
            Err(CredentialError::EmptyFile(_))
        ));
    }
}
