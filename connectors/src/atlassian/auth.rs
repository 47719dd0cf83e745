//! How a request proves who it is. The token is a `SecretString`: it is only
//! exposed to build the `Authorization` header, never formatted.

use reqwest::RequestBuilder;
use tributary_core::secret::{ExposeSecret, SecretString};

#[derive(Debug, Clone)]
pub enum Auth {
    /// Atlassian Cloud: account email + API token, HTTP basic.
    Basic {
        email: String,
        token: SecretString,
        /// Where the token came from (`env TRIBUTARY_JIRA_TOKEN`, a file path),
        /// named in 401/403 errors so the operator knows what to fix.
        origin: String,
    },
    /// Data Center / Server: personal access token, `Authorization: Bearer`.
    Bearer { token: SecretString, origin: String },
}

impl Auth {
    pub(crate) fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::Basic { email, token, .. } => req.basic_auth(email, Some(token.expose_secret())),
            Auth::Bearer { token, .. } => req.bearer_auth(token.expose_secret()),
        }
    }

    /// The credential in words, for error messages (never the token itself).
    pub fn describe(&self) -> String {
        match self {
            Auth::Basic { email, origin, .. } => {
                format!("the API token of {email} (basic auth, token from {origin})")
            }
            Auth::Bearer { origin, .. } => {
                format!("the personal access token (Bearer, from {origin})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describing_a_credential_never_shows_the_token() {
        let basic = Auth::Basic {
            email: "a@b.c".into(),
            token: SecretString::from("hunter2"),
            origin: "env JIRA_API_TOKEN".into(),
        };
        let bearer = Auth::Bearer {
            token: SecretString::from("hunter2"),
            origin: "/run/secrets/jira".into(),
        };
        for auth in [basic, bearer] {
            let text = format!("{} {auth:?}", auth.describe());
            assert!(!text.contains("hunter2"), "{text}");
        }
    }
}
