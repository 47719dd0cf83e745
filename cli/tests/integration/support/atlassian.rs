//! What the Atlassian-shaped fakes (Jira, Confluence) share: how a test
//! authenticates to them and a retry policy quick enough for tests.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tributary_connectors::atlassian::{Auth, RetryPolicy};
use tributary_core::config::AtlassianSite;
use tributary_core::secret::SecretString;

/// Cloud: email + API token (basic); Data Center: a bearer token.
/// The account both fakes accept (Cloud: with the API token).
pub const EMAIL: &str = "bot@example.com";

/// The site part of a fake's config section: its URL, instance `test`,
/// the fake's account.
pub fn site(uri: String) -> AtlassianSite {
    AtlassianSite {
        base_url: Some(uri),
        instance: "test".into(),
        email: Some(EMAIL.into()),
        ..AtlassianSite::default()
    }
}

pub fn auth(cloud: bool, email: &str, token: &str, token_var: &str) -> Auth {
    let origin = format!("env {token_var}");
    let token = SecretString::from(token);
    if cloud {
        Auth::Basic {
            email: email.into(),
            token,
            origin,
        }
    } else {
        Auth::Bearer { token, origin }
    }
}

/// An RFC 3339 time, as the fakes' fixtures write them.
pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

/// Retries in milliseconds, `Retry-After` honoured up to 5 s.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
    }
}

/// `tributary sync <product> --config FILE` through the binary, on a test's
/// topic and schema, the token only in the environment, logging JSON.
pub struct BinarySync {
    product: String,
    token: String,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl BinarySync {
    /// `toml`: the configuration file's text (the product's section).
    pub fn new(
        env: &super::TestEnv,
        product: &str,
        toml: &str,
        token_var: &str,
        token: &str,
    ) -> BinarySync {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("tributary.toml");
        std::fs::write(&config, toml).expect("write config");
        let schema = env.config.database.schema.clone().expect("schema");
        BinarySync {
            product: product.into(),
            token: token.into(),
            args: vec![
                "sync".into(),
                product.into(),
                "--config".into(),
                config.display().to_string(),
            ],
            envs: vec![
                (
                    "TRIBUTARY_KAFKA__TOPIC".into(),
                    env.config.kafka.topic.clone(),
                ),
                ("TRIBUTARY_DATABASE__SCHEMA".into(), schema),
                (token_var.into(), token.into()),
                ("TRIBUTARY_LOG_FORMAT".into(), "json".into()),
                ("RUST_LOG".into(), "debug".into()),
            ],
            _dir: dir,
        }
    }

    pub async fn run(&self, extra: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new(super::process::BIN);
        cmd.args(&self.args).args(extra).envs(self.envs.clone());
        tokio::task::spawn_blocking(move || cmd.output().expect("run tributary"))
            .await
            .expect("join")
    }

    /// Runs it, requiring success: (stdout, stderr).
    pub async fn run_ok(&self, extra: &[&str]) -> (String, String) {
        let out = self.run(extra).await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stdout}\n{stderr}");
        (stdout, stderr)
    }

    /// A dry run of the site's two documents publishes none; then a real
    /// run publishes both, reports them on stdout and its progress as JSON
    /// logs, and prints the token nowhere. The real run's stdout.
    pub async fn dry_run_then_run_two(&self, env: &super::TestEnv) -> String {
        let connector = format!("{}:test", self.product);
        let (stdout, _) = self.run_ok(&["--dry-run"]).await;
        assert!(
            stdout.contains(&format!("{connector} (dry run): fetched 2, published 2")),
            "{stdout}"
        );
        assert_eq!(env.topic_messages(), 0, "a dry run published");

        let (stdout, stderr) = self.run_ok(&[]).await;
        assert!(
            stdout.contains(&format!(
                "{connector}: fetched 2, published 2, unchanged 0, tombstones 0"
            )),
            "{stdout}"
        );
        assert!(
            stderr.contains(&format!("\"message\":\"{} progress\"", self.product)),
            "no structured progress: {stderr}"
        );
        assert!(
            !stdout.contains(&self.token) && !stderr.contains(&self.token),
            "the token was printed"
        );
        assert_eq!(env.topic_messages(), 2);
        stdout
    }
}
