//! `sync vault --watch`: creates, edits, renames and deletes are published
//! as they happen, with the same ids, hashes, tombstones and PostgreSQL
//! records as a scan; a burst of writes ends with every note's final
//! version published exactly once; SIGTERM stops the watch cleanly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_connectors::vault::{self, VaultSyncOptions, WatchError, WatchOptions};
use tributary_core::Document;

use crate::support::process::{self, sigterm, wait_exit};
use crate::support::wait::{poll_until, wait_until};
use crate::support::TestEnv;

struct Watching {
    cancel: CancellationToken,
    runs: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<Result<(), WatchError>>,
}

impl Watching {
    async fn start(env: &TestEnv) -> Watching {
        let opts = WatchOptions {
            sync: VaultSyncOptions {
                root: env.vault.path().to_path_buf(),
                instance: "test".into(),
                dry_run: false,
                max_note_bytes: env.config.vault.max_note_bytes,
            },
            debounce: Duration::from_millis(50),
            // Only notifications: a rescan must not hide a missed event.
            rescan_every: Duration::from_secs(3600),
        };
        let kafka = env.config.kafka.clone();
        let store = env.state();
        let cancel = CancellationToken::new();
        let runs = Arc::new(AtomicU64::new(0));
        let (token, counter) = (cancel.clone(), Arc::clone(&runs));
        let task = tokio::spawn(async move {
            let on_run = move |_: &tributary_connectors::SyncSummary| {
                counter.fetch_add(1, Ordering::SeqCst);
            };
            vault::watch(&opts, &kafka, &store, token, &on_run).await
        });
        let watching = Watching { cancel, runs, task };
        // The first run (the initial scan) means the watcher is in place.
        let runs = Arc::clone(&watching.runs);
        wait_until("the initial scan", Duration::from_secs(30), || {
            let runs = Arc::clone(&runs);
            async move { runs.load(Ordering::SeqCst) >= 1 }
        })
        .await;
        watching
    }

    async fn stop(self) {
        self.cancel.cancel();
        let result = tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the watch stops within 30 s")
            .expect("the watch task does not panic");
        result.expect("the watch ends without error");
    }
}

/// Waits until the topic holds `n` messages, then returns them in the
/// order they were published (one partition per id; order across ids by
/// the time the reader saw them is not needed here, so sorted by
/// `updated_at` within an id is enough).
async fn messages(env: &TestEnv, n: i64) -> Vec<Document> {
    wait_until(
        &format!("{n} messages"),
        Duration::from_secs(30),
        || async move { env.topic_messages() >= n },
    )
    .await;
    let docs = env.published_documents().await;
    assert_eq!(docs.len() as i64, n, "exactly {n} messages");
    docs
}

/// (id, deleted, body) of each message, sorted, for exact comparisons.
fn summary(docs: &[Document]) -> Vec<(String, bool, String)> {
    let mut out: Vec<(String, bool, String)> = docs
        .iter()
        .map(|d| (d.id.clone(), d.deleted, d.body.text.trim().to_owned()))
        .collect();
    out.sort();
    out
}

fn entry(rel: &str, deleted: bool, body: &str) -> (String, bool, String) {
    (TestEnv::doc_id(rel), deleted, body.to_owned())
}

async fn point_texts(env: &TestEnv, rel: &str) -> Vec<String> {
    env.points(&TestEnv::doc_id(rel))
        .await
        .into_iter()
        .map(|p| p.payload.text)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_edit_rename_delete_are_published_as_they_happen() {
    let env = TestEnv::new().await;
    let watching = Watching::start(&env).await;
    let first = "Lighthouse keepers log the fog horn tests every Sunday.";
    let second = "Lighthouse keepers now test the fog horn on Saturdays.";

    env.write_note("log.md", first);
    let docs = messages(&env, 1).await;
    assert_eq!(summary(&docs), [entry("log.md", false, first)]);
    env.index_until_idle().await;
    assert_eq!(
        point_texts(&env, "log.md").await,
        env.expected_chunks("log", first)
    );

    env.write_note("log.md", second);
    let docs = messages(&env, 2).await;
    assert_eq!(
        summary(&docs),
        [
            entry("log.md", false, first),
            entry("log.md", false, second)
        ]
    );
    env.index_until_idle().await;
    assert_eq!(
        point_texts(&env, "log.md").await,
        env.expected_chunks("log", second)
    );

    std::fs::rename(
        env.vault.path().join("log.md"),
        env.vault.path().join("keepers.md"),
    )
    .expect("rename");
    let docs = messages(&env, 4).await;
    assert_eq!(
        summary(&docs),
        [
            entry("keepers.md", false, second),
            entry("log.md", false, first),
            entry("log.md", false, second),
            entry("log.md", true, ""),
        ]
    );
    env.index_until_idle().await;
    assert!(point_texts(&env, "log.md").await.is_empty());
    assert_eq!(
        point_texts(&env, "keepers.md").await,
        env.expected_chunks("keepers", second)
    );

    std::fs::remove_file(env.vault.path().join("keepers.md")).expect("delete");
    let docs = messages(&env, 5).await;
    assert_eq!(
        summary(&docs),
        [
            entry("keepers.md", false, second),
            entry("keepers.md", true, ""),
            entry("log.md", false, first),
            entry("log.md", false, second),
            entry("log.md", true, ""),
        ]
    );
    env.index_until_idle().await;
    assert!(point_texts(&env, "keepers.md").await.is_empty());

    // Nothing else was published for those steps: the next change is the
    // sixth message.
    env.write_note("sentinel.md", "The last word.");
    let docs = messages(&env, 6).await;
    assert!(docs.iter().any(|d| d.id == TestEnv::doc_id("sentinel.md")));
    watching.stop().await;

    // PostgreSQL holds what a scan would: a scan finds nothing to publish.
    let items = env.state().items("vault:test").await.expect("items");
    assert!(items[&TestEnv::doc_id("log.md")].deleted);
    assert!(items[&TestEnv::doc_id("keepers.md")].deleted);
    let sentinel = docs
        .iter()
        .find(|d| d.id == TestEnv::doc_id("sentinel.md"))
        .expect("sentinel");
    assert_eq!(
        items[&sentinel.id].content_hash, sentinel.content_hash,
        "recorded the hash that was published"
    );
    let scan = env.sync().await.expect("scan");
    assert_eq!((scan.published, scan.unchanged), (0, 1), "{scan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_moved_away_is_waited_for_and_nothing_is_tombstoned() {
    let env = TestEnv::new().await;
    let watching = Watching::start(&env).await;
    env.write_note("kept.md", "This note must survive the folder's trip.");
    messages(&env, 1).await;

    let root = env.vault.path().to_path_buf();
    let away = root.with_extension("away");
    std::fs::rename(&root, &away).expect("move the vault away");
    // An edit in the moved folder: its event names a path that is gone.
    std::fs::write(
        away.join("written-away.md"),
        "Written while the vault was away.",
    )
    .expect("write");
    let store = env.state();
    let status = |want: &'static str, error_has: &'static str| {
        let store = store.clone();
        move || {
            let store = store.clone();
            async move {
                let Ok(Some(state)) = store.get("vault:test").await else {
                    return false;
                };
                state.last_run_status.as_deref() == Some(want)
                    && state.last_run_error.unwrap_or_default().contains(error_has)
            }
        }
    };
    wait_until(
        "the run recorded as failed",
        Duration::from_secs(30),
        status("failed", "is gone"),
    )
    .await;

    std::fs::rename(&away, &root).expect("move the vault back");
    // Back: a rescan publishes what was written meanwhile, tombstones nothing.
    let docs = messages(&env, 2).await;
    assert_eq!(
        summary(&docs),
        [
            entry(
                "kept.md",
                false,
                "This note must survive the folder's trip."
            ),
            entry(
                "written-away.md",
                false,
                "Written while the vault was away."
            ),
        ]
    );
    wait_until(
        "a successful run",
        Duration::from_secs(30),
        status("succeeded", ""),
    )
    .await;
    // And the watch goes on.
    env.write_note("after.md", "Back to normal.");
    let docs = messages(&env, 3).await;
    assert!(docs.iter().all(|d| !d.deleted), "no tombstone at any point");
    watching.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_writes_ends_with_every_final_version_published_once() {
    const NOTES: usize = 500;
    let env = TestEnv::new().await;
    let watching = Watching::start(&env).await;
    let rel = |i: usize| format!("burst/note-{i:03}.md");
    // Each note is written twice; the second write is its final version.
    for i in 0..NOTES {
        env.write_note(&rel(i), &format!("Draft {i} of the burst."));
    }
    for i in 0..NOTES {
        env.write_note(&rel(i), &format!("Final {i} of the burst."));
    }
    let store = env.state();
    let env_ref = &env;
    wait_until(
        "every final version recorded",
        Duration::from_secs(120),
        || {
            let store = store.clone();
            async move {
                let Ok(items) = store.items("vault:test").await else {
                    return false;
                };
                items.len() == NOTES
                    && items.values().all(|s| !s.deleted)
                    && env_ref.topic_messages() >= NOTES as i64
            }
        },
    )
    .await;
    // Recorded ≠ final: wait until every note's final text is on the topic.
    let every = Duration::from_millis(200);
    let docs = poll_until(
        "every final version",
        Duration::from_secs(120),
        every,
        || async {
            let docs = env.published_documents().await;
            let finals = docs
                .iter()
                .filter(|d| d.body.text.starts_with("Final"))
                .count();
            if finals >= NOTES {
                Ok(docs)
            } else {
                Err(format!("only {finals} final versions"))
            }
        },
    )
    .await;
    watching.stop().await;
    let mut finals: HashMap<String, usize> = HashMap::new();
    for doc in &docs {
        assert!(
            !doc.deleted,
            "no tombstone in a burst of writes: {}",
            doc.id
        );
        if doc.body.text.starts_with("Final") {
            *finals.entry(doc.id.clone()).or_default() += 1;
        }
    }
    assert_eq!(finals.len(), NOTES, "every note's final version");
    assert!(
        finals.values().all(|&n| n == 1),
        "each exactly once: {finals:?}"
    );
    // And PostgreSQL agrees with a scan: nothing left to publish.
    let scan = env.sync().await.expect("scan");
    assert_eq!(
        (scan.published, scan.unchanged),
        (0, NOTES as u64),
        "{scan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_watches_until_sigterm_and_exits_cleanly() {
    let env = TestEnv::new().await;
    let mut cmd = process::command(&env, &env.config.store.path);
    cmd.args(["sync", "vault", "--watch", "--instance", "test", "--path"])
        .arg(env.vault.path());
    let (mut child, mut lines) = process::spawn_logging(&mut cmd);
    // The first run finished: the watcher is in place.
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("watch sync finished"));
    assert!(ready, "the watch never reported its first run");
    env.write_note("seen.md", "Written while the binary watches.");
    let docs = messages(&env, 1).await;
    assert_eq!(docs[0].id, TestEnv::doc_id("seen.md"));

    sigterm(&child);
    let stopped = lines
        .map_while(Result::ok)
        .any(|line| line.contains("stopped watching the vault"));
    assert!(stopped, "no clean stop logged after SIGTERM");
    let exit = wait_exit(
        &mut child,
        "the watch to exit after SIGTERM",
        Duration::from_secs(30),
    )
    .await;
    assert!(exit.success(), "exited with {exit} on SIGTERM");
}
