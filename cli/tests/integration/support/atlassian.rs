//! What the Atlassian-shaped fakes (Jira, Confluence) share: how a test
//! authenticates to them and a retry policy quick enough for tests.

use std::time::Duration;

use tributary_connectors::atlassian::{Auth, RetryPolicy};
use tributary_core::secret::SecretString;

/// Cloud: email + API token (basic); Data Center: a bearer token.
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
}
