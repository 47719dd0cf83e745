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
fn dispatch_help_names_its_flags_and_exit_codes() {
    let out = Command::new(BIN)
        .args(["dispatch", "--help"])
        .output()
        .expect("run");
    let help = ok(out, "dispatch --help");
    for needle in ["--dry-run", "--all", "--json", "2  starving"] {
        assert!(
            help.contains(needle),
            "dispatch --help lacks {needle}:\n{help}"
        );
    }
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

    let status = ok(
        tributary(&id, store.path())
            .args(["status", "--json"])
            .output()
            .expect("run"),
        "status",
    );
    let status: serde_json::Value = serde_json::from_str(&status).expect("status JSON");
    assert_eq!(status["healthy"], true, "{status}");
    assert_eq!(status["documents_indexed"], 2, "{status}");
    assert_eq!(
        status["connectors"][0]["last_run_status"], "succeeded",
        "{status}"
    );
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
