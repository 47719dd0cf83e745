//! One trace from source to search: the connector's `publish` span travels
//! in the message's `traceparent` header, and the indexer's span for that
//! document is its child, in the same trace.
//!
//! Its own test binary: the OpenTelemetry layer is installed as the global
//! subscriber, which no other test in the process may see or race with.

// The shared fixture; this binary uses only part of it.
#[allow(dead_code)]
#[path = "integration/support/mod.rs"]
mod support;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

use crate::support::TestEnv;

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().to_string())
}

fn span_of<'a>(spans: &'a [SpanData], name: &str, doc_id: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name && attribute(s, "doc_id").as_deref() == Some(doc_id))
        .unwrap_or_else(|| {
            let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
            panic!("no {name} span for {doc_id}; spans: {names:?}")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_span_is_a_child_of_the_span_in_the_message_header() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let env = TestEnv::new().await;
    env.write_note(
        "traced.md",
        "# Traced\n\nA note whose whole path is traced.",
    );
    env.sync()
        .instrument(tracing::info_span!("connector_run", kind = "vault"))
        .await
        .expect("sync");
    let stats = env.index_until_idle().await;
    assert_eq!(stats.docs.indexed, 1);

    provider.force_flush().expect("flush spans");
    let spans = exporter.get_finished_spans().expect("spans");
    let id = TestEnv::doc_id("traced.md");
    let publish = span_of(&spans, "publish", &id);
    let index = span_of(&spans, "index_document", &id);
    let run = spans
        .iter()
        .find(|s| s.name == "connector_run")
        .expect("connector_run span");
    assert_eq!(
        publish.parent_span_id,
        run.span_context.span_id(),
        "publish is part of the connector run"
    );
    assert_eq!(
        index.span_context.trace_id(),
        publish.span_context.trace_id(),
        "one trace from source to index"
    );
    assert_eq!(
        index.parent_span_id,
        publish.span_context.span_id(),
        "the indexer's span continues the one in the header"
    );
}
