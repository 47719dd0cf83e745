//! The `tributary` binary itself: the same path a CronJob takes, configured
//! through the environment only.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::embedder_outage::{document, publish, registry_count};
use crate::embedding_fake::FakeEmbeddings;
use crate::support::process::{self, terminate};
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

/// The subcommands a `--help` page lists under `Commands:` (without `help`).
fn subcommands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A wrapped description continues further in.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn help_walks_every_subcommand() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    let help = ok(out, "--help");
    let top = subcommands_in(&help);
    for sub in [
        "sync", "index", "dlq", "dispatch", "search", "migrate", "status", "serve",
    ] {
        assert!(
            top.iter().any(|t| t == sub),
            "--help does not list {sub}: {top:?}"
        );
    }
    // Every listed command, and every command under it, explains itself.
    let mut queue: Vec<Vec<String>> = top.into_iter().map(|s| vec![s]).collect();
    let mut walked = 0;
    while let Some(path) = queue.pop() {
        let mut args = path.clone();
        args.push("--help".into());
        let out = Command::new(BIN).args(&args).output().expect("run");
        let what = args.join(" ");
        let page = ok(out, &what);
        let usage = format!("Usage: tributary {}", path.join(" "));
        assert!(page.contains(&usage), "{what} lacks `{usage}`:\n{page}");
        let described = page.lines().next().is_some_and(|l| !l.trim().is_empty());
        assert!(described, "{what} starts without a description:\n{page}");
        for sub in subcommands_in(&page) {
            let mut deeper = path.clone();
            deeper.push(sub);
            queue.push(deeper);
        }
        walked += 1;
    }
    assert!(walked >= 12, "walked only {walked} help pages");
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
async fn sigterm_with_a_batch_in_flight_commits_only_what_was_indexed() {
    // A slow embedding server keeps a batch in flight when SIGTERM comes.
    let fake = FakeEmbeddings::default();
    let server = fake.start().await;
    let env = TestEnv::new().await;
    let docs: Vec<_> = (0..40)
        .map(|i| document(&format!("test:sigterm:n{i}"), &format!("Note number {i}.")))
        .collect();
    publish(&env, &docs).await;
    fake.slow(Duration::from_millis(300));
    let store = tempfile::tempdir().expect("tempdir");
    let indexer = |extra: &[&str]| {
        let mut cmd = process::command(&env, store.path());
        cmd.env("TRIBUTARY_EMBEDDER__BACKEND", "http")
            .env("TRIBUTARY_EMBEDDER__URL", server.uri())
            .env("TRIBUTARY_EMBEDDER__MODEL", "fake-embedder")
            .env("TRIBUTARY_INDEXER__BATCH_SIZE", "4")
            .arg("index")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let before = fake.requests();
    let mut child = indexer(&[]).spawn().expect("spawn");
    // The start-up probe(s), at least one batch answered, the next asked for.
    fake.wait_for_requests(before + 4, Duration::from_secs(60))
        .await;
    let exit = terminate(&mut child, Duration::from_secs(30)).await;
    assert!(exit.success(), "indexer exited with {exit} on SIGTERM");

    // Committed: at least the answered batch, never the one in flight, and
    // never more than was indexed.
    let committed: i64 = env
        .committed_and_high()
        .iter()
        .map(|(committed, _)| committed.unwrap_or(0))
        .sum();
    let indexed = registry_count(&env).await;
    assert!(committed >= 1, "the finished batch was not committed");
    assert!(committed < 40, "SIGTERM came after the end: {committed}");
    assert!(
        committed <= indexed,
        "{committed} messages committed but only {indexed} documents indexed"
    );

    // The rest is redone by the next run, and nothing is missing.
    fake.heal();
    let out = indexer(&["--until-idle"]).output().expect("rerun");
    assert!(out.status.success(), "second run failed: {}", out.status);
    assert_eq!(registry_count(&env).await, 40);
    for (partition, (committed, high)) in env.committed_and_high().into_iter().enumerate() {
        assert_eq!(
            committed,
            Some(high),
            "partition {partition} not committed to its end"
        );
    }
}

/// The binary with nothing but `PATH` and `HOME` from this environment: no
/// `DATABASE_URL`, no `RUST_LOG`, nothing the test runner exported.
fn bare() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear();
    for var in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    cmd
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The line `main` prints for a failed command (logs are JSON lines).
fn error_line(out: &Output) -> String {
    let stderr = stderr_of(out);
    stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no `error: ` line in:\n{stderr}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_database_url_needs_no_environment() {
    // The fixture (on the stack's default URL) makes this test's schema.
    let env = TestEnv::new().await;
    let schema = env.config.database.schema.clone().expect("schema");
    let out = bare()
        .env("TRIBUTARY_DATABASE__SCHEMA", &schema)
        .env("TRIBUTARY_LOG_FORMAT", "json")
        .args(["migrate", "--skip-kafka"])
        .output()
        .expect("run");
    let stderr = stderr_of(&out);
    assert!(
        !stderr.contains("relative URL without a base"),
        "the redacted default URL was parsed:\n{stderr}"
    );
    assert!(
        out.status.success(),
        "migrate on the built-in database URL failed:\n{stderr}"
    );
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = '_sqlx_migrations'",
    )
    .bind(&schema)
    .fetch_one(&env.pool)
    .await
    .expect("query");
    assert_eq!(tables, 1, "migrate did not reach the schema it was given");
}

#[test]
fn an_unknown_config_key_is_reported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("t.toml");
    std::fs::write(&file, "[kafka]\ntopik = \"typo\"\n").expect("write");
    let out = bare()
        .arg("--config")
        .arg(&file)
        .arg("status")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let line = error_line(&out);
    assert!(line.contains("topik"), "{line}");
    assert_eq!(line.matches("unknown field").count(), 1, "{line}");
}

#[test]
fn a_missing_config_file_is_reported_once() {
    let out = bare()
        .args(["--config", "/nonexistent/tributary.toml", "status"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let line = error_line(&out);
    assert_eq!(
        line.matches("/nonexistent/tributary.toml").count(),
        1,
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_vault_is_reported_once() {
    let env = TestEnv::new().await;
    let store = tempfile::tempdir().expect("tempdir");
    let out = process::command(&env, store.path())
        .args(["sync", "vault", "--dry-run", "--path", "/nonexistent/vault"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let line = error_line(&out);
    let os_error = std::io::Error::from_raw_os_error(2).to_string();
    assert!(line.contains("/nonexistent/vault"), "{line}");
    assert_eq!(line.matches(os_error.as_str()).count(), 1, "{line}");
}

#[test]
fn search_refuses_a_query_without_words() {
    for query in ["", "   "] {
        let out = bare().args(["search", query]).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{query:?}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains("query is empty"),
            "{}",
            stderr_of(&out)
        );
        assert!(out.stdout.is_empty(), "hits printed for {query:?}");
    }
}

#[test]
fn search_lists_the_known_sources_for_an_unknown_one() {
    for source in ["Vault", "github"] {
        let out = bare()
            .args(["search", "pg failover", "--source", source])
            .output()
            .expect("run");
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{source}: {stderr}");
        assert!(
            stderr.contains("[possible values: vault, jira, confluence]"),
            "{stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("no hits"));
    }
}

#[test]
fn search_on_a_mistyped_store_path_fails_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let typo = dir.path().join("qdrnat");
    let out = bare()
        .env("TRIBUTARY_STORE_PATH", &typo)
        .args(["search", "pg failover"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", stderr_of(&out));
    let line = error_line(&out);
    assert!(line.contains(&typo.display().to_string()), "{line}");
    assert!(
        !typo.exists(),
        "search created a store at the mistyped path"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("no hits"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_scan_does_not_log_the_end_of_a_partition_as_an_error() {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let env = TestEnv::new().await;
    let producer: FutureProducer = tributary_core::kafka::client_config(&env.config.kafka)
        .create()
        .expect("producer");
    // Letters on every partition: the scan reads on after the first
    // partition ends, so librdkafka's end-of-partition events reach it.
    for partition in 0..env.config.kafka.partitions {
        for n in 0..2 {
            producer
                .send(
                    FutureRecord::to(&env.config.kafka.dlq_topic())
                        .key(&format!("vault:t:{partition}-{n}.md"))
                        .payload("{}")
                        .partition(partition),
                    Duration::from_secs(10),
                )
                .await
                .expect("dead letter written");
        }
    }
    let store = tempfile::tempdir().expect("tempdir");
    let out = process::command(&env, store.path())
        // Debug for the scan, to see that it did reach the end of a partition.
        .env("RUST_LOG", "info,tributary_indexer::dlq=debug")
        .args(["dlq", "stats", "--json"])
        .output()
        .expect("run");
    let stderr = stderr_of(&out);
    let stats: serde_json::Value =
        serde_json::from_str(&ok(out, "dlq stats")).expect("dlq stats JSON");
    assert_eq!(stats["pending"], 2 * env.config.kafka.partitions, "{stats}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(errors.is_empty(), "ERROR logs on a normal scan: {errors:?}");
    // Whether librdkafka reports a partition's end before the scan stops
    // (it stops at the high watermark it read first) depends on timing, so
    // it is not asserted here; which events are quiet is unit-tested in
    // `indexer/src/dlq/end_of_partition.rs`.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qdrant_edge_start_up_warnings_are_not_shown() {
    let env = TestEnv::new().await;
    let store = tempfile::tempdir().expect("tempdir");
    // RUST_LOG=warn is what `make demo` runs with.
    let out = process::command(&env, store.path())
        .env("RUST_LOG", "warn")
        .args(["index", "--until-idle"])
        .output()
        .expect("run");
    let stderr = stderr_of(&out);
    ok(out, "index");
    for noise in [
        "Feature flags not initialized",
        "MULTI_MMAP_SUPPORT_CHECK_RESULT",
    ] {
        assert!(!stderr.contains(noise), "{noise} shown:\n{stderr}");
    }
}
