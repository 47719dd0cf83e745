//! The HTTP settings Jira and Confluence share. Both config sections keep
//! their flat keys (`jira.max_retries`, `confluence.max_retries`, and their
//! `TRIBUTARY_<SECTION>__<FIELD>` overrides); this is the one place that
//! turns them into a client's settings.

use std::time::Duration;

use tributary_core::config::{ConfluenceConfig, JiraConfig};

use super::{Auth, ClientSettings, RetryPolicy};

/// Limits and retry settings of one Atlassian site, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    pub max_concurrent_requests: usize,
    pub request_timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub max_retries: u32,
    pub max_backoff_secs: u64,
    pub max_retry_after_secs: u64,
}

impl HttpSettings {
    /// The client's settings; zero limits and timeouts are raised to 1 so a
    /// typo cannot stall every request.
    pub fn client(self, base_url: String, auth: Auth) -> ClientSettings {
        ClientSettings {
            base_url,
            auth,
            max_concurrent_requests: self.max_concurrent_requests.max(1),
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs.max(1)),
            retry: RetryPolicy {
                max_retries: self.max_retries,
                max_backoff: Duration::from_secs(self.max_backoff_secs.max(1)),
                max_retry_after: Duration::from_secs(self.max_retry_after_secs),
                ..RetryPolicy::default()
            },
        }
    }
}

impl From<&JiraConfig> for HttpSettings {
    fn from(cfg: &JiraConfig) -> Self {
        HttpSettings {
            max_concurrent_requests: cfg.max_concurrent_requests,
            request_timeout_secs: cfg.request_timeout_secs,
            connect_timeout_secs: cfg.connect_timeout_secs,
            max_retries: cfg.max_retries,
            max_backoff_secs: cfg.max_backoff_secs,
            max_retry_after_secs: cfg.max_retry_after_secs,
        }
    }
}

impl From<&ConfluenceConfig> for HttpSettings {
    fn from(cfg: &ConfluenceConfig) -> Self {
        HttpSettings {
            max_concurrent_requests: cfg.max_concurrent_requests,
            request_timeout_secs: cfg.request_timeout_secs,
            connect_timeout_secs: cfg.connect_timeout_secs,
            max_retries: cfg.max_retries,
            max_backoff_secs: cfg.max_backoff_secs,
            max_retry_after_secs: cfg.max_retry_after_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use tributary_core::secret::SecretString;

    use super::*;

    #[test]
    fn both_sections_give_the_same_client_settings_and_zeros_are_raised() {
        let jira = JiraConfig {
            request_timeout_secs: 0,
            max_concurrent_requests: 0,
            ..JiraConfig::default()
        };
        let confluence = ConfluenceConfig {
            request_timeout_secs: 0,
            max_concurrent_requests: 0,
            ..ConfluenceConfig::default()
        };
        assert_eq!(HttpSettings::from(&jira), HttpSettings::from(&confluence));
        let auth = Auth::Bearer {
            token: SecretString::from("t"),
            origin: "test".into(),
        };
        let client = HttpSettings::from(&jira).client("https://x".into(), auth);
        assert_eq!(client.max_concurrent_requests, 1);
        assert_eq!(client.request_timeout, Duration::from_secs(1));
        assert_eq!(client.retry.max_retries, 5);
    }
}
