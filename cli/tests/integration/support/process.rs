//! The `tributary` binary as a child process: the command every binary
//! test starts from, and stopping it the way Kubernetes does.

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStderr, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use super::wait::wait_until;
use super::TestEnv;

pub const BIN: &str = env!("CARGO_BIN_EXE_tributary");

/// The binary on this test's topic, group, schema and `store`, logging at
/// info in the default format, its endpoint on a free port (tests run in
/// parallel).
pub fn plain_command(env: &TestEnv, store: &std::path::Path) -> Command {
    let cfg = &env.config;
    let mut cmd = Command::new(BIN);
    cmd.env("TRIBUTARY_KAFKA__TOPIC", &cfg.kafka.topic)
        .env("TRIBUTARY_INDEXER__GROUP_ID", &cfg.indexer.group_id)
        .env(
            "TRIBUTARY_DATABASE__SCHEMA",
            cfg.database.schema.as_deref().unwrap_or("public"),
        )
        .env("TRIBUTARY_STORE_PATH", store)
        .env("TRIBUTARY_METRICS__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info");
    cmd
}

/// [`plain_command`] logging JSON, for tests that read its log lines.
pub fn command(env: &TestEnv, store: &std::path::Path) -> Command {
    let mut cmd = plain_command(env, store);
    cmd.env("TRIBUTARY_LOG_FORMAT", "json");
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

/// Starts `cmd`, stdout discarded, with its log (stderr) to read line by
/// line.
pub fn spawn_logging(cmd: &mut Command) -> (Child, Lines<BufReader<ChildStderr>>) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tributary");
    let stderr = child.stderr.take().expect("stderr");
    (child, BufReader::new(stderr).lines())
}

/// Starts `cmd` and reads the address it logs (JSON, `addr` field) in its
/// first line containing `marker`. Its stderr is drained from then on, so
/// the child never blocks on a full pipe.
pub fn spawn_serving(cmd: &mut Command, marker: &str) -> (Child, String) {
    let (child, mut lines) = spawn_logging(cmd);
    let addr = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("exited before logging {marker:?}"))
            .expect("read log");
        if line.contains(marker) {
            let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
            break v["addr"].as_str().expect("addr field").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// The stdout of a run that must have succeeded (else its stderr fails the
/// test, with `what`).
pub fn stdout_ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}
