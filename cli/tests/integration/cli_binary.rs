//! The `tributary` binary itself: the same path a CronJob takes, configured
//! through the environment only.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{unique, TestEnv};

const BIN: &str = env!("CARGO_BIN_EXE_tributary");

/// A command with this test's isolated topic, group, schema and store.
fn tributary(id: &str, store: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("TRIBUTARY_KAFKA__TOPIC", format!("{id}.documents"))
        .env("TRIBUTARY_INDEXER__GROUP_ID", format!("{id}-indexer"))
        .env("TRIBUTARY_DATABASE__SCHEMA", id)
        .env("TRIBUTARY_STORE_PATH", store)
        .env("TRIBUTARY_LOG_FORMAT", "json")
        // Tests run in parallel: each indexer's endpoint on a free port.
        .env("TRIBUTARY_METRICS__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info");
    cmd
}

fn ok(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn help_lists_every_subcommand() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    let help = ok(out, "--help");
    for sub in [
        "sync", "index", "dlq", "dispatch", "search", "migrate", "status",
    ] {
        assert!(help.contains(sub), "--help does not mention {sub}:\n{help}");
    }
}

#[test]
fn unbuilt_subcommands_fail_loudly() {
    let out = Command::new(BIN).arg("dispatch").output().expect("run");
    assert!(
        !out.status.success(),
        "a not-yet-built command must not exit 0"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not built yet"));
}

#[test]
fn migrate_sync_index_search_status_through_the_binary() {
    let id = unique("cli");
    let store = tempfile::tempdir().expect("tempdir");
    let vault = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        vault.path().join("postgres-failover.md"),
        "---\ntitle: PostgreSQL failover\ntags: [db]\n---\nPromote the replica with pg_ctl promote, then repoint the service.\n",
    )
    .expect("write");
    std::fs::write(
        vault.path().join("coffee.md"),
        "# Coffee\nThe espresso machine is on floor two.\n",
    )
    .expect("write");

    ok(
        tributary(&id, store.path())
            .arg("migrate")
            .output()
            .expect("run"),
        "migrate",
    );
    let summary = ok(
        tributary(&id, store.path())
            .args(["sync", "vault", "--instance", "cli", "--json", "--path"])
            .arg(vault.path())
            .output()
            .expect("run"),
        "sync",
    );
    let summary: serde_json::Value = serde_json::from_str(summary.trim()).expect("summary JSON");
    assert_eq!(summary["published"], 2, "{summary}");

    let indexed = ok(
        tributary(&id, store.path())
            .args(["index", "--until-idle"])
            .output()
            .expect("run"),
        "index",
    );
    assert!(indexed.contains("indexed 2 documents"), "{indexed}");

    let hits = ok(
        tributary(&id, store.path())
            .args([
                "search",
                "how do I promote a database replica",
                "--json",
                "--limit",
                "2",
            ])
            .output()
            .expect("run"),
        "search",
    );
    let first: serde_json::Value =
        serde_json::from_str(hits.lines().next().expect("a hit")).expect("hit JSON");
    assert_eq!(first["title"], "PostgreSQL failover", "{hits}");
    assert_eq!(first["source"], "vault");

    let out = tributary(&id, store.path())
        .args(["status", "--json"])
        .output()
        .expect("run");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    let verdict = |component: &str| {
        status["lines"]
            .as_array()
            .and_then(|lines| {
                lines.iter().find(|l| {
                    l["component"]
                        .as_str()
                        .is_some_and(|c| c.starts_with(component))
                })
            })
            .map(|l| l["verdict"].clone())
            .unwrap_or_default()
    };
    assert_eq!(status["facts"]["corpus"]["vault"], 2, "{status}");
    assert_eq!(verdict("connector vault:cli"), "ok", "{status}");
    // `index --until-idle` exited: not running, with nothing waiting.
    assert_eq!(verdict("indexer"), "degraded", "{status}");
    assert_eq!(verdict("dlq"), "ok", "{status}");
    // Everything indexed, but nothing runs and no dispatch ever ran: exit 1.
    assert_eq!(verdict("dispatcher"), "degraded", "{status}");
    assert_eq!(status["verdict"], "degraded", "{status}");
    assert_eq!(out.status.code(), Some(1), "{status}");
    let dlq = ok(
        tributary(&id, store.path())
            .args(["dlq", "stats", "--json"])
            .output()
            .expect("run"),
        "dlq stats",
    );
    let dlq: serde_json::Value = serde_json::from_str(&dlq).expect("dlq stats JSON");
    assert_eq!(dlq["pending"], 0, "{dlq}");
    let dry = ok(
        tributary(&id, store.path())
            .args(["dlq", "redrive", "--dry-run", "--json"])
            .output()
            .expect("run"),
        "dlq redrive",
    );
    let dry: serde_json::Value = serde_json::from_str(dry.trim()).expect("redrive JSON");
    assert_eq!(
        (dry["matched"].as_u64(), dry["dry_run"].as_bool()),
        (Some(0), Some(true)),
        "{dry}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_indexer_cleanly() {
    // The fixture creates the topics and schema this process will use.
    let env = TestEnv::new().await;
    let id = env.config.database.schema.clone().expect("schema");
    let store = tempfile::tempdir().expect("tempdir");
    let mut child = tributary(&id, store.path())
        .arg("index")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait for the log line that says the consumer loop is running.
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("indexer started") => break true,
            Some(Ok(_)) => continue,
            _ => break false,
        }
    };
    assert!(started, "indexer never reported it started");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "indexer ignored SIGTERM for 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "indexer exited with {exit} on SIGTERM");
}
