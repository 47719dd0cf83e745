//! An Atlassian site's configured limits (`[jira]` and `[confluence]` share
//! them: [`AtlassianSite`]) as an HTTP client's settings.

use std::time::Duration;

use tributary_core::config::AtlassianSite;

use super::{Auth, ClientSettings, RetryPolicy};

/// The client's settings; zero limits and timeouts are raised to 1 so a
/// typo cannot stall every request.
pub fn client_settings(site: &AtlassianSite, base_url: String, auth: Auth) -> ClientSettings {
    ClientSettings {
        base_url,
        auth,
        max_concurrent_requests: site.max_concurrent_requests.max(1),
        request_timeout: Duration::from_secs(site.request_timeout_secs.max(1)),
        connect_timeout: Duration::from_secs(site.connect_timeout_secs.max(1)),
        retry: RetryPolicy {
            max_retries: site.max_retries,
            max_backoff: Duration::from_secs(site.max_backoff_secs.max(1)),
            max_retry_after: Duration::from_secs(site.max_retry_after_secs),
            ..RetryPolicy::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use tributary_core::secret::SecretString;

    use super::*;

    #[test]
    fn zero_limits_and_timeouts_are_raised() {
        let site = AtlassianSite {
            request_timeout_secs: 0,
            max_concurrent_requests: 0,
            ..AtlassianSite::default()
        };
        let auth = Auth::Bearer {
            token: SecretString::from("t"),
            origin: "test".into(),
        };
        let client = client_settings(&site, "https://x".into(), auth);
        assert_eq!(client.max_concurrent_requests, 1);
        assert_eq!(client.request_timeout, Duration::from_secs(1));
        assert_eq!(client.retry.max_retries, 5);
    }
}
