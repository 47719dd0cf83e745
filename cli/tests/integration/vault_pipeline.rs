//! The walking skeleton, end to end: vault → Kafka → indexer → Qdrant Edge.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use tokio_util::sync::CancellationToken;
use tributary_core::{kafka, Document};
use tributary_indexer::store::point_id;

use crate::support::records::produce_raw;
use crate::support::wait::kill_once_count_reaches;
use crate::support::TestEnv;

fn paragraphs(topic: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "Paragraph {i} about {topic}: the team measured step {i} twice, wrote down what \
                 changed, and linked the result to the runbook so the next person finds it."
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn note(title: &str, body: &str) -> String {
    format!("---\ntitle: {title}\ntags: [test]\n---\n{body}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_written_is_found_by_search() {
    let env = TestEnv::new().await;
    env.write_note(
        "ops/broker-disk.md",
        &note("Broker disk recovery", "When a Kafka broker's disk fills up, stop the broker, \
              move old log segments to cold storage, and restart it. Check under-replicated partitions afterwards."),
    );
    env.write_note(
        "food/lunch.md",
        &note(
            "Lunch options",
            "The canteen serves pasta on Mondays and curry on Thursdays.",
        ),
    );
    env.write_note(
        "people/onboarding.md",
        &note(
            "Onboarding",
            "New joiners get a laptop, a buddy, and access to the wiki in week one.",
        ),
    );
    let summary = env.sync().await.expect("sync");
    assert_eq!(summary.published, 3);
    let stats = env.index_until_idle().await;
    assert_eq!(stats.docs.indexed, 3);

    let hits = env
        .searcher()
        .search(
            "kafka broker ran out of disk space",
            Some("vault".into()),
            3,
        )
        .await
        .expect("search");
    assert_eq!(
        hits[0].doc_id,
        TestEnv::doc_id("ops/broker-disk.md"),
        "{hits:#?}"
    );
    assert_eq!(hits[0].title, "Broker disk recovery");
    assert_eq!(hits[0].location.as_deref(), Some("ops/broker-disk.md"));
    assert!(
        hits[0].snippet.contains("disk fills up"),
        "{}",
        hits[0].snippet
    );
    // The source filter really filters.
    let none = env
        .searcher()
        .search("kafka broker", Some("jira".into()), 3)
        .await
        .expect("search");
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_edited_to_half_its_length_keeps_exactly_its_new_chunks() {
    let env = TestEnv::new().await;
    let rel = "projects/long.md";
    let doc = TestEnv::doc_id(rel);
    let long = paragraphs("capacity planning", 12);
    env.write_note(rel, &note("Capacity plan", &long));
    env.sync().await.expect("sync");
    env.index_until_idle().await;
    let before = env.expected_chunks("Capacity plan", &format!("{long}\n"));
    assert!(
        before.len() >= 4,
        "fixture should span several chunks, got {}",
        before.len()
    );
    assert_eq!(env.points(&doc).await.len(), before.len());

    let half = paragraphs("capacity planning", 6);
    env.write_note(rel, &note("Capacity plan", &half));
    let summary = env.sync().await.expect("sync");
    assert_eq!(summary.published, 1);
    env.index_until_idle().await;

    let expected = env.expected_chunks("Capacity plan", &format!("{half}\n"));
    assert!(expected.len() < before.len());
    let points = env.points(&doc).await;
    let texts: Vec<&str> = points.iter().map(|p| p.payload.text.as_str()).collect();
    let expected_texts: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(
        texts, expected_texts,
        "stale or missing chunks after the edit"
    );
    let ids: Vec<String> = points.iter().map(|p| p.id.clone()).collect();
    let expected_ids: Vec<String> = (0..expected.len())
        .map(|i| point_id(&doc, i).to_string())
        .collect();
    assert_eq!(ids, expected_ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_deleted_leaves_none_of_its_points() {
    let env = TestEnv::new().await;
    let gone = env.write_note(
        "old/retired.md",
        &note("Retired service", &paragraphs("the retired service", 6)),
    );
    env.write_note("kept.md", &note("Kept", "This note stays."));
    env.sync().await.expect("sync");
    env.index_until_idle().await;
    let doc = TestEnv::doc_id("old/retired.md");
    assert!(!env.points(&doc).await.is_empty());

    std::fs::remove_file(gone).expect("rm");
    let summary = env.sync().await.expect("sync");
    assert_eq!((summary.tombstones, summary.published), (1, 1));
    let stats = env.index_until_idle().await;
    assert_eq!(stats.docs.deleted, 1);
    assert!(
        env.points(&doc).await.is_empty(),
        "points of a deleted note remain"
    );
    assert_eq!(env.points(&TestEnv::doc_id("kept.md")).await.len(), 1);
    let deleted: bool = sqlx::query_scalar("SELECT deleted FROM documents WHERE doc_id = $1")
        .bind(&doc)
        .fetch_one(&env.pool)
        .await
        .expect("registry row");
    assert!(deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_killed_mid_stream_and_restarted_ends_exact() {
    let mut env = TestEnv::new().await;
    env.config.indexer.batch_size = 2;
    let notes: Vec<(String, String, String)> = (0..16)
        .map(|i| {
            let rel = format!("batch/note-{i:02}.md");
            let title = format!("Note {i}");
            let body = paragraphs(&format!("subject {i}"), 3 + i % 3);
            (rel, title, body)
        })
        .collect();
    for (rel, title, body) in &notes {
        env.write_note(rel, &note(title, body));
    }
    assert_eq!(
        env.sync().await.expect("sync").published,
        notes.len() as u64
    );

    let task = env.spawn_indexer(CancellationToken::new());
    // Wait (bounded) for real progress, then kill the task mid-stream.
    kill_once_count_reaches(
        &env.pool,
        "SELECT count(*) FROM documents",
        3,
        task,
        Duration::from_secs(180),
    )
    .await;
    let partial = env.store.count(None).await.expect("count");

    env.index_until_idle().await;
    let mut total = 0;
    let mut all_ids = HashSet::new();
    for (rel, title, body) in &notes {
        let doc = TestEnv::doc_id(rel);
        let expected = env.expected_chunks(title, &format!("{body}\n"));
        let points = env.points(&doc).await;
        let texts: Vec<&str> = points.iter().map(|p| p.payload.text.as_str()).collect();
        assert_eq!(
            texts,
            expected.iter().map(String::as_str).collect::<Vec<_>>(),
            "{rel}"
        );
        total += expected.len();
        for p in points {
            assert!(all_ids.insert(p.id), "duplicate point id");
        }
    }
    assert!(
        partial < total,
        "the kill came too late to prove anything ({partial} of {total})"
    );
    assert_eq!(
        env.store.count(None).await.expect("count"),
        total,
        "duplicates or strays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_with_no_changes_publishes_nothing() {
    let env = TestEnv::new().await;
    for i in 0..5 {
        env.write_note(
            &format!("n{i}.md"),
            &note(&format!("N{i}"), "Some stable text."),
        );
    }
    assert_eq!(env.sync().await.expect("sync").published, 5);
    assert_eq!(env.topic_messages(), 5);

    let again = env.sync().await.expect("sync");
    assert_eq!((again.published, again.unchanged), (0, 5));
    // Rewriting a file with the same content changes its mtime, not its hash.
    env.write_note("n0.md", &note("N0", "Some stable text."));
    let touched = env.sync().await.expect("sync");
    assert_eq!((touched.published, touched.unchanged), (0, 5));
    assert_eq!(
        env.topic_messages(),
        5,
        "messages were produced by a no-change sync"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_fails_the_sync_and_keeps_the_watermark() {
    let mut env = TestEnv::new().await;
    env.write_note("a.md", &note("A", "first version"));
    env.sync().await.expect("sync");
    let before = env.sync_state("vault:test").await;
    assert!(before.watermark.is_some());

    env.write_note("a.md", &note("A", "second version, never published"));
    env.config.kafka.brokers = "127.0.0.1:1".into();
    env.config.kafka.connect_timeout_ms = 1_500;
    let err = env
        .sync()
        .await
        .expect_err("sync must fail without a broker");
    let msg = err.to_string();
    assert!(
        msg.contains("unreachable") && msg.contains("127.0.0.1:1"),
        "unclear error: {msg}"
    );

    let after = env.sync_state("vault:test").await;
    assert_eq!(
        after.watermark, before.watermark,
        "watermark moved without an ack"
    );
    assert_eq!(after.last_run_status.as_deref(), Some("failed"));
    assert!(after
        .last_run_error
        .is_some_and(|e| e.contains("unreachable")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unparsable_message_is_dead_lettered_and_the_rest_indexed() {
    let env = TestEnv::new().await;
    produce_raw(&env, "bad-key", b"{not json").await;
    env.write_note("good.md", &note("Good", "A perfectly fine note."));
    env.sync().await.expect("sync");

    let stats = env.index_until_idle().await;
    assert_eq!((stats.dead_lettered, stats.docs.indexed), (1, 1));

    let consumer: StreamConsumer = kafka::client_config(&env.config.kafka)
        .set("group.id", crate::support::unique("dlq-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer
        .subscribe(&[&env.config.kafka.dlq_topic()])
        .expect("subscribe");
    let msg = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("a DLQ message within 30 s")
        .expect("message");
    assert_eq!(msg.key(), Some(&b"bad-key"[..]));
    assert_eq!(msg.payload(), Some(&b"{not json"[..]));
    let headers = msg.headers().expect("headers");
    let reason = headers
        .iter()
        .find(|h| h.key == "__connect.errors.exception.message")
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).to_string())
        .expect("reason header");
    assert!(reason.contains("not valid JSON"), "{reason}");
}

/// Every message on the test's topic, in no particular order.
async fn published(env: &TestEnv) -> Vec<Document> {
    env.published_documents().await
}

fn by_id(docs: Vec<Document>) -> HashMap<String, Document> {
    docs.into_iter().map(|d| (d.id.clone(), d)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_over_kafkas_message_limit_is_published_truncated_and_the_run_succeeds() {
    let env = TestEnv::new().await;
    // 1.5 MB: over Kafka's default ~1 MB message limit with the default cap.
    let big_body = paragraphs("pasted logs", 10_000);
    assert!(big_body.len() > 1_500_000);
    let big = note("Pasted logs", &big_body);
    env.write_note("logs/huge.md", &big);
    env.write_note("a.md", &note("A", "A small note."));
    env.write_note("b.md", &note("B", "Another small note."));

    let summary = env
        .sync()
        .await
        .expect("one big note must not fail the run");
    assert_eq!(
        (summary.published, summary.failed, summary.skipped),
        (3, 0, 0)
    );
    let docs = by_id(published(&env).await);
    assert_eq!(docs.len(), 3);
    let huge = &docs[&TestEnv::doc_id("logs/huge.md")];
    assert_eq!(huge.metadata["truncated"], true);
    assert_eq!(huge.metadata["original_bytes"], big.len() as u64);
    assert_eq!(huge.title, "Pasted logs");
    assert!(huge.body.text.len() > 800_000, "{}", huge.body.text.len());
    assert!(big_body.starts_with(&huge.body.text));
    assert!(serde_json::to_vec(huge).expect("json").len() <= env.config.vault.max_note_bytes);
    assert!(docs[&TestEnv::doc_id("a.md")]
        .metadata
        .get("truncated")
        .is_none());

    // Recorded like any other note: the next run publishes nothing.
    let again = env.sync().await.expect("sync");
    assert_eq!((again.published, again.unchanged), (0, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_whose_names_are_not_utf8_get_distinct_ids_and_settle() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new().await;
    let root = env.vault.path();
    for (name, text) in [
        (&b"caf\xe9.md"[..], "Latin-1 name one"),
        (b"caf\xe8.md", "Latin-1 name two"),
    ] {
        std::fs::write(
            root.join(std::ffi::OsStr::from_bytes(name)),
            note("N", text),
        )
        .expect("write");
    }
    let first = env.sync().await.expect("sync");
    assert_eq!((first.published, first.skipped), (2, 0));
    let docs = by_id(published(&env).await);
    let mut ids: Vec<&String> = docs.keys().collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![&TestEnv::doc_id("caf%E8.md"), &TestEnv::doc_id("caf%E9.md")]
    );
    assert!(docs[&TestEnv::doc_id("caf%E9.md")]
        .body
        .text
        .contains("name one"));

    let again = env.sync().await.expect("sync");
    assert_eq!((again.published, again.unchanged), (0, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_files_are_skipped_and_latin1_notes_flagged() {
    let env = TestEnv::new().await;
    env.write_note("good.md", &note("Good", "Plain UTF-8."));
    std::fs::write(
        env.vault.path().join("image.md"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
    )
    .expect("write");
    std::fs::write(
        env.vault.path().join("latin1.md"),
        b"# Cr\xe8me br\xfbl\xe9e\n\nCaf\xe9 au lait.\n",
    )
    .expect("write");

    let summary = env.sync().await.expect("sync");
    assert_eq!((summary.published, summary.skipped), (2, 1));
    let docs = by_id(published(&env).await);
    assert!(!docs.contains_key(&TestEnv::doc_id("image.md")));
    let latin1 = &docs[&TestEnv::doc_id("latin1.md")];
    assert_eq!(latin1.metadata["invalid_utf8"], true);
    assert!(latin1.body.text.contains("Caf\u{fffd} au lait"));
    assert!(docs[&TestEnv::doc_id("good.md")]
        .metadata
        .get("invalid_utf8")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_and_special_files_are_skipped_and_counted() {
    let env = TestEnv::new().await;
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        outside.path().join("secret.md"),
        note("Secret", "Not for the index."),
    )
    .expect("write");
    let root = env.vault.path();
    env.write_note("notes/real.md", &note("Real", "The one true note."));
    std::os::unix::fs::symlink(root.join("notes/real.md"), root.join("alias.md")).expect("link");
    std::os::unix::fs::symlink(outside.path(), root.join("elsewhere")).expect("link");
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.md"))
        .status()
        .expect("mkfifo runs");
    assert!(fifo.success());

    let summary = env.sync().await.expect("sync");
    assert_eq!(
        (summary.scanned, summary.published, summary.skipped),
        (1, 1, 3)
    );
    let docs = by_id(published(&env).await);
    let ids: Vec<&String> = docs.keys().collect();
    assert_eq!(ids, vec![&TestEnv::doc_id("notes/real.md")]);
}
