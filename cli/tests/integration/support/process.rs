//! The `tributary` binary as a child process: the command every binary
//! test starts from, and stopping it the way Kubernetes does.

use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use super::wait::wait_until;
use super::TestEnv;

pub const BIN: &str = env!("CARGO_BIN_EXE_tributary");

/// The binary on this test's topic, group, schema and `store`, logging
/// JSON at info, its endpoint on a free port (tests run in parallel).
pub fn command(env: &TestEnv, store: &std::path::Path) -> Command {
    let cfg = &env.config;
    let mut cmd = Command::new(BIN);
    cmd.env("TRIBUTARY_KAFKA__TOPIC", &cfg.kafka.topic)
        .env("TRIBUTARY_INDEXER__GROUP_ID", &cfg.indexer.group_id)
        .env(
            "TRIBUTARY_DATABASE__SCHEMA",
            cfg.database.schema.as_deref().unwrap_or("public"),
        )
        .env("TRIBUTARY_STORE_PATH", store)
        .env("TRIBUTARY_LOG_FORMAT", "json")
        .env("TRIBUTARY_METRICS__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info");
    cmd
}

/// Sends SIGTERM, as Kubernetes does to stop a pod.
pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -TERM failed");
}

/// Waits (bounded) for the child to exit; panics naming `what` after `limit`.
pub async fn wait_exit(child: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let mut exit = None;
    wait_until(what, limit, || {
        exit = exit.or_else(|| child.try_wait().expect("wait"));
        std::future::ready(exit.is_some())
    })
    .await;
    exit.expect("exited")
}

/// SIGTERM, then the exit (bounded by `limit`).
pub async fn terminate(child: &mut Child, limit: Duration) -> ExitStatus {
    sigterm(child);
    wait_exit(child, "the process to exit after SIGTERM", limit).await
}
