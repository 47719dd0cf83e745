//! A second indexer joins the consumer group while the first is busy: the
//! partitions are rebalanced mid-batch, both do part of the work, and the
//! end state is exact: every document indexed once, offsets committed to
//! the end, nothing skipped.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_core::Document;
use tributary_indexer::RunOptions;

use crate::embedder_outage::{document, fake_env, publish, registry_count};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_indexer_joining_mid_stream_shares_the_work_and_loses_nothing() {
    let (fake, _server, mut env) = fake_env().await;
    env.config.indexer.batch_size = 8;
    // Members learn of a rebalance from heartbeat answers; the default 3 s
    // would let the first indexer finish before the second gets a partition.
    env.config
        .kafka
        .librdkafka_options
        .insert("heartbeat.interval.ms".into(), "300".into());
    let docs: Vec<Document> = (0..400)
        .map(|i| {
            document(
                &format!("test:rebalance:n{i}"),
                &format!("Note number {i}."),
            )
        })
        .collect();
    publish(&env, &docs).await;
    // Slow enough that the first indexer is still busy when the second joins.
    fake.slow(Duration::from_millis(200));

    let until_idle = RunOptions {
        until_idle: true,
        ..Default::default()
    };
    let before = fake.requests();
    let spawn_indexer = || {
        let indexer = env.indexer();
        let opts = until_idle.clone();
        tokio::spawn(async move { indexer.run(opts, CancellationToken::new()).await })
    };
    let first = spawn_indexer();
    fake.wait_for_requests(before + 3, Duration::from_secs(60))
        .await;
    let second = spawn_indexer();
    let a = first.await.expect("join").expect("first indexer");
    let b = second.await.expect("join").expect("second indexer");

    assert!(
        a.messages > 0 && b.messages > 0,
        "both worked: {a:?} / {b:?}"
    );
    assert!(
        a.assignments >= 2,
        "the first indexer was rebalanced: {a:?}"
    );
    assert_eq!(a.dead_lettered + b.dead_lettered, 0);
    // Work a revoked partition's new owner redid is idempotent: one point
    // and one registry row per document, however often it was applied.
    assert_eq!(registry_count(&env).await, 400);
    assert_eq!(env.store.count(None).await.expect("count"), 400);
    assert!(a.messages + b.messages >= 400);

    // Committed offsets reach the end of every partition.
    for (partition, (committed, high)) in env.committed_and_high().into_iter().enumerate() {
        assert_eq!(
            committed,
            Some(high),
            "partition {partition} committed short of its end"
        );
    }
}
