//! Where an Atlassian product's credentials come from: the environment or a
//! mounted secret file, never the command line or the config file, and never
//! a log. Shared by the Jira and Confluence connectors, which differ only in
//! names (env vars, config section) and in the account email Cloud needs.

use std::path::PathBuf;

use tributary_core::config::AtlassianSite;
use tributary_core::secret::SecretString;

use super::Auth;

/// The names that differ between products.
#[derive(Debug)]
pub struct Product {
    /// `Jira`, `Confluence`: used in messages.
    pub name: &'static str,
    /// Config section: `jira`, `confluence`.
    pub section: &'static str,
    /// Checked in this order; the first one set wins over `<section>.token_file`.
    pub token_env: [&'static str; 2],
    /// Env var for the email, for the error message.
    pub email_env: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no {} token: set {} (or {}), or {}.token_file to a file holding it",
        .0.name, .0.token_env[0], .0.token_env[1], .0.section)]
    Missing(&'static Product),
    #[error("cannot read the {} token file {path}: {source}", .product.name)]
    File {
        product: &'static Product,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the {} token file {} is empty", .0.name, .1.display())]
    EmptyFile(&'static Product, PathBuf),
    #[error("{} Cloud authenticates with the account email and an API token: set {}.email (or {})",
        .0.name, .0.section, .0.email_env)]
    MissingEmail(&'static Product),
}

/// Builds the auth of `site`: basic (email + API token) for Cloud, bearer
/// (personal access token) otherwise. `env` is the environment lookup (a
/// parameter so tests need not mutate the process environment).
pub fn resolve(
    product: &'static Product,
    cloud: bool,
    site: &AtlassianSite,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Auth, CredentialError> {
    let (email, token_file) = (site.email.as_deref(), site.token_file.as_deref());
    let from_env = product.token_env.iter().find_map(|name| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(|v| (v, format!("env {name}")))
    });
    let (token, origin) = match (from_env, token_file) {
        (Some(found), _) => found,
        (None, Some(path)) => {
            let raw = std::fs::read_to_string(path).map_err(|source| CredentialError::File {
                product,
                path: path.to_path_buf(),
                source,
            })?;
            let token = raw.trim().to_owned();
            if token.is_empty() {
                return Err(CredentialError::EmptyFile(product, path.to_path_buf()));
            }
            (token, format!("file {}", path.display()))
        }
        (None, None) => return Err(CredentialError::Missing(product)),
    };
    let token = SecretString::from(token);
    if !cloud {
        return Ok(Auth::Bearer { token, origin });
    }
    let email = email
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or(CredentialError::MissingEmail(product))?;
    Ok(Auth::Basic {
        email: email.to_owned(),
        token,
        origin,
    })
}

#[cfg(test)]
mod tests {
    use tributary_core::secret::ExposeSecret;

    use super::*;

    static PRODUCT: Product = Product {
        name: "Jira",
        section: "jira",
        token_env: ["TRIBUTARY_JIRA_TOKEN", "JIRA_API_TOKEN"],
        email_env: "TRIBUTARY_JIRA__EMAIL",
    };

    #[test]
    fn env_wins_then_file_and_cloud_needs_an_email() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let mut site = AtlassianSite {
            email: Some("me@example.com".into()),
            token_file: Some(file.clone()),
            ..AtlassianSite::default()
        };
        let env = |k: &str| (k == "JIRA_API_TOKEN").then(|| "from-env".to_owned());
        match resolve(&PRODUCT, true, &site, env).unwrap() {
            Auth::Basic { token, origin, .. } => {
                assert_eq!(token.expose_secret(), "from-env");
                assert_eq!(origin, "env JIRA_API_TOKEN");
            }
            other => panic!("{other:?}"),
        }
        // The first variable of the pair wins over the second.
        let both = |k: &str| Some(format!("{k}-value"));
        match resolve(&PRODUCT, false, &site, both).unwrap() {
            Auth::Bearer { token, .. } => {
                assert_eq!(token.expose_secret(), "TRIBUTARY_JIRA_TOKEN-value")
            }
            other => panic!("{other:?}"),
        }
        match resolve(&PRODUCT, false, &site, |_| None).unwrap() {
            Auth::Bearer { token, origin } => {
                assert_eq!(token.expose_secret(), "from-file");
                assert!(origin.contains("token"));
            }
            other => panic!("{other:?}"),
        }
        site.email = None;
        let err = resolve(&PRODUCT, true, &site, |_| None).unwrap_err();
        assert!(matches!(err, CredentialError::MissingEmail(_)));
        assert!(err.to_string().contains("jira.email"), "{err}");
        site.token_file = None;
        let err = resolve(&PRODUCT, true, &site, |_| None).unwrap_err();
        assert!(matches!(err, CredentialError::Missing(_)));
        assert!(err.to_string().contains("JIRA_API_TOKEN"), "{err}");
        std::fs::write(&file, "  \n").unwrap();
        site.token_file = Some(file);
        assert!(matches!(
            resolve(&PRODUCT, false, &site, |_| None),
            Err(CredentialError::EmptyFile(_, _))
        ));
    }
}
