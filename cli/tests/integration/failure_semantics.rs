//! What the indexer does with a message it cannot index, told apart from an
//! outage: a poison message in the middle of a partition, a document that
//! keeps failing while every dependency is healthy, a failure the health
//! probes cannot see, and documents that bring their own vectors.

use std::time::Duration;

use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;
use tributary_core::envelope::*;
use tributary_core::{kafka, Document, PrecomputedChunk};

use crate::embedder_outage::{dead_letters, document, fake_env, publish, registry_count};
use crate::embedding_fake::DIMENSION;
use crate::support::TestEnv;

const WAIT: Duration = Duration::from_secs(60);

/// Produces to partition 0 so the test controls the order of one partition.
async fn produce_to_p0(
    producer: &FutureProducer,
    env: &TestEnv,
    key: &str,
    value: &[u8],
    headers: Option<OwnedHeaders>,
) -> i64 {
    let mut record = FutureRecord::to(&env.config.kafka.topic)
        .partition(0)
        .key(key)
        .payload(value);
    if let Some(h) = headers {
        record = record.headers(h);
    }
    let delivery = producer
        .send(record, Duration::from_secs(10))
        .await
        .expect("produce");
    delivery.offset
}

fn header<'a>(msg: &'a rdkafka::message::OwnedMessage, key: &str) -> Option<&'a str> {
    msg.headers()?
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_mid_partition_is_dead_lettered_byte_for_byte_and_order_is_kept() {
    let (_fake, _server, mut env) = fake_env().await;
    // Two messages per batch: the two versions of `same` land in different
    // batches, so the order across batches is what makes v2 win.
    env.config.indexer.batch_size = 2;
    let producer: FutureProducer = kafka::client_config(&env.config.kafka)
        .create()
        .expect("producer");
    let json = |doc: &Document| serde_json::to_vec(doc).expect("serialise");

    for i in 0..3 {
        let doc = document(&format!("test:order:d{i}"), &format!("Note {i}."));
        produce_to_p0(&producer, &env, &doc.id, &json(&doc), None).await;
    }
    let v1 = document("test:order:same", "The first version of this note.");
    produce_to_p0(&producer, &env, &v1.id, &json(&v1), None).await;
    // Not UTF-8, with a header of the producer's own that must survive.
    let poison: &[u8] = b"{\"id\": \"\xff\xfe broken\"}";
    let poison_headers = OwnedHeaders::new().insert(Header {
        key: "trace-id",
        value: Some("abc-123"),
    });
    let poison_offset =
        produce_to_p0(&producer, &env, "poison-key", poison, Some(poison_headers)).await;
    let v2 = document("test:order:same", "The second version, which must win.");
    produce_to_p0(&producer, &env, &v2.id, &json(&v2), None).await;
    for i in 3..6 {
        let doc = document(&format!("test:order:d{i}"), &format!("Note {i}."));
        produce_to_p0(&producer, &env, &doc.id, &json(&doc), None).await;
    }

    let stats = env.index_until_idle().await;
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");
    assert_eq!(stats.pauses, 0, "a poison message is not an outage");
    assert_eq!(registry_count(&env).await, 7);
    let same = env.points("test:order:same").await;
    assert_eq!(same.len(), 1);
    assert!(
        same[0].payload.text.contains("second version"),
        "the later offset must win: {}",
        same[0].payload.text
    );

    let letters = dead_letters(&env).await;
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    let msg = &letter.message;
    assert_eq!(msg.key(), Some(&b"poison-key"[..]));
    assert_eq!(msg.payload(), Some(poison), "value kept byte for byte");
    assert_eq!(header(msg, "trace-id"), Some("abc-123"));
    assert_eq!(
        header(msg, DLQ_HEADER_TOPIC),
        Some(env.config.kafka.topic.as_str())
    );
    assert_eq!(header(msg, DLQ_HEADER_PARTITION), Some("0"));
    assert_eq!(
        header(msg, DLQ_HEADER_OFFSET),
        Some(poison_offset.to_string().as_str())
    );
    assert_eq!(header(msg, DLQ_HEADER_CLASS), Some("InvalidUtf8"));
    assert_eq!(
        header(msg, DLQ_HEADER_EXCEPTION_CLASS),
        Some("tributary.InvalidUtf8")
    );
    assert!(header(msg, DLQ_HEADER_EXCEPTION_MESSAGE).is_some_and(|m| m.contains("not UTF-8")));
    assert_eq!(header(msg, DLQ_HEADER_STAGE), Some("VALUE_CONVERTER"));
    assert!(header(msg, DLQ_HEADER_STACKTRACE).is_some_and(|c| c.contains("attempts: 1")));
    assert_eq!(header(msg, DLQ_HEADER_ATTEMPTS), Some("1"));
    assert!(letter.first_failed_at.is_some() && letter.failed_at.is_some());
    assert_eq!(
        header(msg, DLQ_HEADER_INDEXER_VERSION),
        Some(env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_failing_while_everything_is_healthy_is_dead_lettered_after_max_attempts() {
    let (fake, _server, mut env) = fake_env().await;
    env.config.indexer.max_attempts = 3;
    let mut docs: Vec<Document> = (0..8)
        .map(|i| document(&format!("test:attempts:ok{i}"), &format!("Fine note {i}.")))
        .collect();
    docs.insert(
        3,
        document("test:attempts:bad", "This one trips a GPU FAULT."),
    );
    publish(&env, &docs).await;
    // A 500 looks like an outage, but the health probe keeps passing.
    fake.fail_inputs_containing(Some("GPU FAULT"));

    let stats = env.index_until_idle().await;
    assert_eq!(stats.docs.indexed, 8, "{stats:?}");
    assert_eq!((stats.dead_lettered, stats.retries_exhausted), (1, 1));
    assert_eq!(stats.outage_retries, 0, "every probe passed");
    assert!(stats.pauses >= 1, "retries pause consumption: {stats:?}");
    assert_eq!(stats.resumes, stats.pauses);
    let letters = dead_letters(&env).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].class, "RetriesExhausted");
    assert_eq!(letters[0].key.as_deref(), Some("test:attempts:bad"));
    // Alone: one attempt to reproduce the failure while healthy, then the
    // three that count.
    assert_eq!(letters[0].attempts, 4, "attempts while healthy, alone");
    assert_eq!(
        header(&letters[0].message, DLQ_HEADER_STAGE),
        Some("TASK_PUT")
    );
    assert!(letters[0].reason.contains("500"), "{}", letters[0].reason);
    assert!(env.points("test:attempts:bad").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_the_probes_cannot_see_holds_messages_instead_of_flooding_the_dlq() {
    let (fake, _server, mut env) = fake_env().await;
    env.config.indexer.max_attempts = 2;
    let docs: Vec<Document> = (0..6)
        .map(|i| document(&format!("test:hidden:n{i}"), &format!("Ordinary note {i}.")))
        .collect();
    publish(&env, &docs).await;
    // Every document fails; the probe ("tributary health probe") passes.
    fake.fail_inputs_containing(Some("Ordinary note"));

    let shutdown = CancellationToken::new();
    let run = env.spawn_indexer(shutdown.clone());
    // One suspect dead-lettered (max_attempts failures while the batch is
    // split, 2 more alone), then the next suspect failing past its own
    // max_attempts: held, not dead-lettered.
    fake.wait_for_failures(2 + 2 + 2 + 3, WAIT).await;
    shutdown.cancel();
    let stats = run.await.expect("join").expect("indexer stops cleanly");
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");
    assert_eq!(stats.docs.indexed, 0);
    assert_eq!(dead_letters(&env).await.len(), 1);

    // The fault is fixed: everything not dead-lettered gets indexed, from
    // offsets that were never stored past it. (The dead-lettered one may be
    // indexed too: its batch was abandoned, so it is read again.)
    let letters = dead_letters(&env).await;
    let suspect = letters[0].key.clone().expect("key");
    fake.fail_inputs_containing(None);
    let stats = env.index_until_idle().await;
    assert_eq!(stats.dead_lettered, 0, "{stats:?}");
    for doc in &docs {
        if doc.id != suspect {
            assert_eq!(env.points(&doc.id).await.len(), 1, "{} not indexed", doc.id);
        }
    }
    assert_eq!(dead_letters(&env).await.len(), 1);
}

fn precomputed(id: &str, dims: usize) -> Document {
    let mut doc = document(
        id,
        "Body kept for the record; the chunks below are what is stored.",
    );
    doc.chunks = (0..3)
        .map(|i| PrecomputedChunk {
            text: format!("precomputed chunk {i} of {id}"),
            vector: (0..dims).map(|d| if d == i { 1.0 } else { 0.01 }).collect(),
        })
        .collect();
    doc.content_hash = doc.compute_content_hash();
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_with_their_own_vectors_are_stored_without_calling_the_embedder() {
    let (fake, _server, env) = fake_env().await;
    let own = precomputed("test:pre:own", DIMENSION);
    let wrong = precomputed("test:pre:wrong", DIMENSION + 1);
    publish(&env, &[own.clone(), wrong]).await;
    let before = fake.requests();

    let stats = env.index_until_idle().await;
    assert_eq!(fake.requests(), before, "no embedding request was needed");
    assert_eq!((stats.docs.indexed, stats.docs.chunks), (1, 3), "{stats:?}");
    let points = env.points("test:pre:own").await;
    let texts: Vec<&str> = points.iter().map(|p| p.payload.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "precomputed chunk 0 of test:pre:own",
            "precomputed chunk 1 of test:pre:own",
            "precomputed chunk 2 of test:pre:own"
        ]
    );
    // The stored vectors are the document's: its second vector finds its
    // second chunk first.
    let hits = env
        .store
        .search(own.chunks[1].vector.clone(), None, 1)
        .await
        .expect("search");
    assert_eq!(hits[0].payload.chunk_index, 1);

    let letters = dead_letters(&env).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].class, "VectorDimensionMismatch");
    assert_eq!(letters[0].key.as_deref(), Some("test:pre:wrong"));
}
