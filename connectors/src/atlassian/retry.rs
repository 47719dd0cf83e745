//! When and how long to wait before retrying a request.
//!
//! Atlassian sites shed load with 429 (rate limited) and 502/503/504 (busy
//! or restarting nodes), usually with a `Retry-After`. Those and connection
//! errors are retried; everything else is an answer and is not.

use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::ExponentialBackoff;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles (with ±50 % jitter) up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A longer `Retry-After` fails the request instead of stalling the run.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A fresh jittered exponential schedule for one request. The attempt
    /// count is what bounds retries, not elapsed time.
    pub(crate) fn schedule(&self) -> ExponentialBackoff {
        ExponentialBackoff {
            initial_interval: self.initial_backoff,
            current_interval: self.initial_backoff,
            randomization_factor: 0.5,
            multiplier: 2.0,
            max_interval: self.max_backoff,
            max_elapsed_time: None,
            ..ExponentialBackoff::default()
        }
    }

    /// The wait before the next attempt: the server's `Retry-After` when it
    /// gave one, else the next jittered backoff.
    pub(crate) fn next_delay(
        &self,
        schedule: &mut ExponentialBackoff,
        retry_after: Option<Duration>,
    ) -> Duration {
        let backoff = schedule.next_backoff().unwrap_or(self.max_backoff);
        retry_after.unwrap_or(backoff)
    }
}

pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or as an HTTP date (RFC 7231 §7.1.3).
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Logs the rate-limit headers Atlassian sends (`X-RateLimit-*`,
/// `RateLimit-*`, beta `X-Beta-RateLimit-*`) at debug: what an operator needs
/// to tune `max_concurrent_requests`, without noise at info.
pub(crate) fn log_rate_limit_headers(url: &str, headers: &HeaderMap) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let limits: Vec<String> = headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            n.starts_with("x-ratelimit-")
                || n.starts_with("ratelimit")
                || n.starts_with("x-beta-ratelimit")
        })
        .filter_map(|(name, v)| v.to_str().ok().map(|v| format!("{name}={v}")))
        .collect();
    if !limits.is_empty() {
        tracing::debug!(url, limits = limits.join(", "), "rate limit headers");
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2025-01-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 01 Jan 2025 10:00:30 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 01 Jan 2025 09:00:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(800),
            ..RetryPolicy::default()
        };
        let mut schedule = policy.schedule();
        let delays: Vec<Duration> = (0..8)
            .map(|_| policy.next_delay(&mut schedule, None))
            .collect();
        assert!(delays[0] >= Duration::from_millis(50) && delays[0] <= Duration::from_millis(150));
        assert!(
            delays.iter().all(|d| *d <= Duration::from_millis(1200)),
            "{delays:?}"
        );
        assert_eq!(
            policy.next_delay(&mut schedule, Some(Duration::from_secs(3))),
            Duration::from_secs(3),
            "Retry-After wins over the schedule"
        );
    }

    #[test]
    fn only_overload_statuses_are_retried() {
        for s in [429, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [400, 401, 403, 404, 500] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
    }
}
