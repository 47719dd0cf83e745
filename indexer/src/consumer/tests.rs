//! The loop's decisions, deterministic: scripted Kafka, pipeline and DLQ,
//! tokio's paused clock (backoffs and waits pass instantly, in order).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::attempts::AttemptPolicy;
use super::fake::{
    content_error, doc_message, message, outage, p, FakeApplier, FakeDlq, FakeSource, Step,
};
use super::reject::DeadLetterClass;
use super::run::{Tuning, Worker};
use super::stats::IndexStats;

const TUNING: Tuning = Tuning {
    batch_size: 8,
    batch_bytes: 1 << 20,
    batch_wait: Duration::from_millis(100),
    idle: Duration::from_millis(100),
    max_document_bytes: 10_000,
};

/// Runs the loop until the script is spent and nothing is left to do.
async fn run(source: &Arc<FakeSource>, applier: &FakeApplier, dlq: &FakeDlq) -> IndexStats {
    run_with(source, applier, dlq, 3, &CancellationToken::new()).await
}

async fn run_with(
    source: &Arc<FakeSource>,
    applier: &FakeApplier,
    dlq: &FakeDlq,
    max_attempts: u32,
    shutdown: &CancellationToken,
) -> IndexStats {
    let policy = AttemptPolicy::new(max_attempts, Duration::from_secs(600));
    Worker::new(&**source, applier, dlq, TUNING, policy, None)
        .run(true, shutdown)
        .await
        .expect("the fake never fails")
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_batch_is_applied_once_and_its_highest_offsets_stored() {
    let source = FakeSource::new([
        Step::Deliver(doc_message(0, 0, "a", "1")),
        Step::Deliver(doc_message(1, 0, "b", "1")),
        Step::Deliver(doc_message(0, 1, "a", "2")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    let stats = run(&source, &applier, &dlq).await;
    assert_eq!(applier.applied(), [ids(&["a", "b"])]);
    assert_eq!(source.stored(), [(p(0), 1), (p(1), 0)]);
    assert_eq!(
        (stats.messages, stats.batches, stats.dead_lettered),
        (3, 1, 0)
    );
    // The "worked" figure spans the first message to the settled batch.
    assert!(stats.active > Duration::ZERO, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn revoked_mid_batch_is_neither_applied_nor_stored() {
    // The first attempt fails (an outage); while the loop waits, paused, a
    // rebalance takes partition 0 away. Its new owner redoes the message.
    let source = FakeSource::new([
        Step::Deliver(doc_message(0, 0, "a", "1")),
        Step::Deliver(doc_message(1, 0, "b", "1")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    let src = Arc::clone(&source);
    applier.then(Box::new(move |_| {
        src.revoke(0);
        Err(outage())
    }));
    applier.health_fails(1);
    let stats = run(&source, &applier, &dlq).await;
    assert_eq!(applier.applied(), [ids(&["b"])], "only the kept partition");
    assert_eq!(source.stored(), [(p(1), 0)]);
    assert_eq!(stats.abandoned, 1);
    assert!(dlq.letters().is_empty());
}

#[tokio::test(start_paused = true)]
async fn revoked_after_apply_keeps_its_offset_unstored() {
    let source = FakeSource::new([Step::Deliver(doc_message(0, 7, "a", "1"))]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    let src = Arc::clone(&source);
    applier.then(Box::new(move |_| {
        src.revoke(0);
        Ok(())
    }));
    let stats = run(&source, &applier, &dlq).await;
    assert_eq!(applier.applied(), [ids(&["a"])]);
    assert!(source.stored().is_empty(), "{:?}", source.stored());
    assert_eq!(stats.abandoned, 1);
}

#[tokio::test(start_paused = true)]
async fn delivered_while_paused_leads_the_next_batch() {
    // Batch 1 fails once (outage); while paused, a partition assigned in a
    // rebalance delivers "c". It must be processed next, before "d".
    let source = FakeSource::new([
        Step::Deliver(doc_message(0, 0, "a", "1")),
        Step::WhenPaused,
        Step::Deliver(doc_message(2, 0, "c", "1")),
        Step::UntilResumed,
        Step::Deliver(doc_message(0, 1, "d", "1")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    applier.then(Box::new(|_| Err(outage())));
    applier.health_fails(1);
    let stats = run(&source, &applier, &dlq).await;
    let applied = applier.applied();
    assert_eq!(applied[0], ids(&["a"]));
    assert_eq!(applied, [ids(&["a"]), ids(&["c", "d"])]);
    assert_eq!(stats.pauses, 1);
    assert_eq!(stats.resumes, 1);
}

#[tokio::test(start_paused = true)]
async fn an_outage_pauses_and_retries_and_never_dead_letters() {
    let source = FakeSource::new([
        Step::Deliver(doc_message(0, 0, "a", "1")),
        Step::Deliver(doc_message(0, 1, "b", "1")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    for _ in 0..10 {
        applier.then(Box::new(|_| Err(outage())));
    }
    applier.health_fails(10);
    let stats = run_with(&source, &applier, &dlq, 2, &CancellationToken::new()).await;
    assert!(dlq.letters().is_empty(), "{:?}", dlq.letters());
    assert_eq!(applier.attempts(), 11);
    assert_eq!(applier.applied(), [ids(&["a", "b"])]);
    assert_eq!(source.stored(), [(p(0), 1)]);
    assert_eq!(
        (stats.pauses, stats.resumes, stats.outage_retries),
        (1, 1, 10)
    );
    assert_eq!(source.pauses(), 1);
}

#[tokio::test(start_paused = true)]
async fn poison_is_dead_lettered_after_its_batch_and_committed_at_once() {
    let source = FakeSource::new([
        Step::Deliver(message(0, 0, Some(b"{not json"))),
        Step::Deliver(doc_message(0, 1, "a", "1")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    let stats = run(&source, &applier, &dlq).await;
    assert_eq!(dlq.letters(), [(p(0), 0, DeadLetterClass::InvalidJson)]);
    assert_eq!(applier.applied(), [ids(&["a"])]);
    assert_eq!(source.stored(), [(p(0), 1)]);
    // One commit right after the dead letter, one at the end.
    assert_eq!(source.commits(), 2);
    assert_eq!(stats.dead_lettered, 1);
}

#[tokio::test(start_paused = true)]
async fn only_the_document_that_fails_alone_is_dead_lettered() {
    let source = FakeSource::new([
        Step::Deliver(doc_message(0, 0, "a", "1")),
        Step::Deliver(doc_message(0, 1, "bad", "1")),
        Step::Deliver(doc_message(0, 2, "c", "1")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    applier.always(|docs| {
        if docs.iter().any(|d| d.id == "bad") {
            Err(content_error())
        } else {
            Ok(())
        }
    });
    let stats = run_with(&source, &applier, &dlq, 2, &CancellationToken::new()).await;
    assert_eq!(
        dlq.letters(),
        [(p(0), 1, DeadLetterClass::RetriesExhausted)]
    );
    assert_eq!(applier.applied(), [ids(&["a"]), ids(&["c"])]);
    assert_eq!(source.stored(), [(p(0), 2)]);
    assert_eq!(stats.retries_exhausted, 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_during_an_outage_stores_and_dead_letters_nothing() {
    let source = FakeSource::new([
        Step::Deliver(message(0, 0, None)),
        Step::Deliver(doc_message(0, 1, "a", "1")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    applier.always(move |_| {
        token.cancel();
        Err(outage())
    });
    applier.health_fails(1);
    let stats = run_with(&source, &applier, &dlq, 2, &shutdown).await;
    assert!(source.stored().is_empty());
    assert!(dlq.letters().is_empty(), "poison waits for its batch");
    assert_eq!(stats.batches, 0);
}

#[tokio::test(start_paused = true)]
async fn a_batch_closes_at_its_byte_budget() {
    // A budget of one message's bytes: every message is a batch of its own,
    // though three would fit the message count.
    let one = doc_message(0, 0, "a", "1");
    let budget = rdkafka::message::Message::payload(&one).map_or(0, <[u8]>::len);
    let source = FakeSource::new([
        Step::Deliver(one),
        Step::Deliver(doc_message(0, 1, "b", "1")),
        Step::Deliver(doc_message(0, 2, "c", "1")),
    ]);
    let (applier, dlq) = (FakeApplier::default(), FakeDlq::default());
    let tuning = Tuning {
        batch_bytes: budget,
        ..TUNING
    };
    let policy = AttemptPolicy::new(3, Duration::from_secs(600));
    let stats = Worker::new(&*source, &applier, &dlq, tuning, policy, None)
        .run(true, &CancellationToken::new())
        .await
        .expect("the fake never fails");
    assert_eq!(applier.applied(), [ids(&["a"]), ids(&["b"]), ids(&["c"])]);
    assert_eq!(stats.batches, 3);
    assert_eq!(source.stored(), [(p(0), 0), (p(0), 1), (p(0), 2)]);
}
