//! `tributary dlq`: dead letters whose cause is fixed are redriven, exactly
//! the matching ones, resumably, with a loop guard.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_indexer::dlq::{self, Filter, RedriveOptions, RedriveReport, Resolved};

use crate::support::records::produce_raw;
use crate::support::wait::kill_once_count_reaches;
use crate::support::TestEnv;

const SMALL_CAP: usize = 1_000;

fn big_body(i: usize) -> String {
    (0..10)
        .map(|p| format!("Section {p} of long note {i}: a paragraph long enough to push the document over the cap."))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A vault with `small` short notes and `large` notes over SMALL_CAP,
/// synced and indexed with the small cap: the large ones are dead-lettered.
async fn env_with_dead_letters(small: usize, large: usize) -> TestEnv {
    let mut env = TestEnv::new().await;
    env.config.indexer.max_document_bytes = SMALL_CAP;
    for i in 0..small {
        env.write_note(&format!("small-{i}.md"), &format!("# Small {i}\nShort."));
    }
    for i in 0..large {
        env.write_note(
            &format!("large-{i}.md"),
            &format!("# Large {i}\n\n{}", big_body(i)),
        );
    }
    env.sync().await.expect("sync");
    let stats = env.index_until_idle().await;
    assert_eq!(
        stats.dead_lettered, large as u64,
        "large notes should be dead-lettered"
    );
    assert_eq!(stats.docs.indexed, small as u64);
    env
}

fn resolved(env: &TestEnv) -> Resolved {
    Resolved::new(env.pool.clone())
}

async fn pending(env: &TestEnv) -> dlq::DlqStats {
    let p = dlq::pending(
        &env.config.kafka,
        &env.config.indexer.redrive_group(),
        &resolved(env),
    )
    .await
    .expect("scan DLQ");
    dlq::stats(&p, chrono::Utc::now())
}

async fn redrive(env: &TestEnv, opts: RedriveOptions) -> RedriveReport {
    redrive_as(env, &env.config.indexer.redrive_group(), opts).await
}

async fn redrive_as(env: &TestEnv, group: &str, opts: RedriveOptions) -> RedriveReport {
    dlq::redrive(
        &env.config.kafka,
        group,
        &resolved(env),
        &opts,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("redrive")
}

fn class(c: &str) -> RedriveOptions {
    RedriveOptions {
        filter: Filter {
            class: Some(c.into()),
            ..Filter::default()
        },
        ..RedriveOptions::default()
    }
}

async fn registry_count(env: &TestEnv) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM documents WHERE NOT deleted")
        .fetch_one(&env.pool)
        .await
        .expect("count")
}

async fn produce_poison(env: &TestEnv) {
    produce_raw(env, "vault:test:poison", b"{not json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_whose_cause_is_fixed_are_redriven_and_indexed() {
    let mut env = env_with_dead_letters(2, 3).await;
    let before = pending(&env).await;
    assert_eq!(before.pending, 3);
    assert_eq!(before.by_class.get("DocumentTooLarge"), Some(&3));
    assert_eq!(before.by_source.get("vault"), Some(&3));
    assert!(before.oldest_failure.is_some() && before.pending_bytes > 3 * SMALL_CAP);

    // The fix: raise the cap. Then redrive and index.
    env.config.indexer.max_document_bytes = 5 * 1024 * 1024;
    let report = redrive(&env, RedriveOptions::default()).await;
    assert_eq!(
        (report.matched, report.redriven, report.remaining),
        (3, 3, 0)
    );
    let stats = env.index_until_idle().await;
    assert_eq!((stats.docs.indexed, stats.dead_lettered), (3, 0));
    assert_eq!(registry_count(&env).await, 5);
    assert_eq!(
        pending(&env).await.pending,
        0,
        "stats must show nothing pending"
    );
    assert_eq!(redrive(&env, RedriveOptions::default()).await.matched, 0);

    // Idempotent end to end: the same messages redriven again (by another
    // group, which sees them all as pending) leave the same points.
    let points = env.store.count(None).await.expect("count");
    let again = redrive_as(&env, "another-redrive-group", RedriveOptions::default()).await;
    assert_eq!(again.redriven, 3);
    env.index_until_idle().await;
    assert_eq!(env.store.count(None).await.expect("count"), points);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_filter_leaves_other_classes_and_dry_run_publishes_nothing() {
    let mut env = env_with_dead_letters(1, 2).await;
    produce_poison(&env).await;
    assert_eq!(env.index_until_idle().await.dead_lettered, 1);
    let before = pending(&env).await;
    assert_eq!(before.pending, 3);
    assert_eq!(before.by_class.get("InvalidJson"), Some(&1));

    let messages = env.topic_messages();
    let dry = redrive(
        &env,
        RedriveOptions {
            dry_run: true,
            ..class("DocumentTooLarge")
        },
    )
    .await;
    assert_eq!((dry.matched, dry.redriven, dry.remaining), (2, 2, 3));
    assert_eq!(
        env.topic_messages(),
        messages,
        "a dry run published something"
    );
    assert_eq!(
        pending(&env).await.pending,
        3,
        "a dry run consumed something"
    );

    env.config.indexer.max_document_bytes = 5 * 1024 * 1024;
    let report = redrive(&env, class("DocumentTooLarge")).await;
    assert_eq!(
        (report.matched, report.redriven, report.remaining),
        (2, 2, 1)
    );
    assert_eq!(env.topic_messages(), messages + 2);
    let after = pending(&env).await;
    assert_eq!(after.pending, 1);
    assert_eq!(
        after.by_class.get("InvalidJson"),
        Some(&1),
        "the other class must stay pending"
    );
    assert_eq!(redrive(&env, class("DocumentTooLarge")).await.matched, 0);
    assert_eq!(env.index_until_idle().await.docs.indexed, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_redrive_resumes_without_replaying_what_it_recorded() {
    let mut env = env_with_dead_letters(0, 6).await;
    env.config.indexer.max_document_bytes = 5 * 1024 * 1024;
    let messages = env.topic_messages();

    let kafka = env.config.kafka.clone();
    let group = env.config.indexer.redrive_group();
    let store = resolved(&env);
    let slow = RedriveOptions {
        rate_per_sec: Some(4.0),
        ..RedriveOptions::default()
    };
    let task = tokio::spawn(async move {
        dlq::redrive(
            &kafka,
            &group,
            &store,
            &slow,
            &CancellationToken::new(),
            &|_, _| {},
        )
        .await
    });
    kill_once_count_reaches(
        &env.pool,
        "SELECT count(*) FROM dlq_resolved",
        2,
        task,
        Duration::from_secs(60),
    )
    .await;
    let first = env.topic_messages() - messages;
    assert!(
        (2..6).contains(&first),
        "interrupted run re-published {first}"
    );

    let rest = redrive(&env, RedriveOptions::default()).await;
    assert_eq!(rest.remaining, 0);
    let total = env.topic_messages() - messages;
    // Recorded messages are never replayed; at most the one in flight at
    // the kill (acked, not yet recorded) goes twice, harmlessly.
    assert!(
        (6..=7).contains(&total),
        "re-published {total} for 6 dead letters"
    );
    assert_eq!(first + rest.redriven as i64, total);

    env.index_until_idle().await;
    for i in 0..6 {
        let rel = format!("large-{i}.md");
        let expected = env.expected_chunks(
            &format!("Large {i}"),
            &format!("# Large {i}\n\n{}", big_body(i)),
        );
        assert_eq!(
            env.points(&TestEnv::doc_id(&rel)).await.len(),
            expected.len(),
            "{rel}"
        );
    }
    assert_eq!(pending(&env).await.pending, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_guard_stops_a_message_that_keeps_failing() {
    let env = TestEnv::new().await;
    produce_poison(&env).await;
    assert_eq!(env.index_until_idle().await.dead_lettered, 1);
    for round in 1..=3 {
        let report = redrive(&env, RedriveOptions::default()).await;
        assert_eq!(report.redriven, 1, "round {round}");
        assert_eq!(
            env.index_until_idle().await.dead_lettered,
            1,
            "round {round}"
        );
    }
    let guarded = redrive(&env, RedriveOptions::default()).await;
    assert_eq!(
        (
            guarded.redriven,
            guarded.skipped_loop_guard,
            guarded.remaining
        ),
        (0, 1, 1)
    );
    let forced = redrive(
        &env,
        RedriveOptions {
            force: true,
            ..RedriveOptions::default()
        },
    )
    .await;
    assert_eq!(forced.redriven, 1);
}
