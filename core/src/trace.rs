//! W3C trace context across Kafka. A connector's `publish` span is written
//! into each message's headers (`traceparent`, `tracestate`); the indexer
//! reads it back and makes its own span a child of it, so one trace shows a
//! document's whole path, source to search. The headers survive the DLQ and
//! a redrive (both keep a message's non-error headers). With tracing off
//! (no `OTEL_EXPORTER_OTLP_ENDPOINT`) spans have no context and no header
//! is written.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The headers that carry the context.
pub const TRACE_HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// The W3C headers of `span`'s context (none when it has no context).
pub fn headers_of(span: &tracing::Span) -> Vec<(String, String)> {
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&span.context(), &mut carrier);
    let mut out: Vec<(String, String)> = carrier.into_iter().collect();
    out.sort();
    out
}

/// Makes `span` a child of the context in `headers` (`(key, value)` pairs),
/// if they carry one.
pub fn continue_from<'a>(span: &tracing::Span, headers: impl Iterator<Item = (&'a str, &'a [u8])>) {
    let carrier: HashMap<String, String> = headers
        .filter(|(k, _)| TRACE_HEADERS.contains(k))
        .filter_map(|(k, v)| Some((k.to_string(), std::str::from_utf8(v).ok()?.to_string())))
        .collect();
    if carrier.is_empty() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&carrier);
    // Only fails when the span is disabled (no OpenTelemetry layer).
    let _ = span.set_parent(parent);
}

/// Links `from` to `to`'s context: a batch span shows which documents'
/// traces it served.
pub fn link(from: &tracing::Span, to: &tracing::Span) {
    use opentelemetry::trace::TraceContextExt;
    let cx = to.context();
    let span_context = cx.span().span_context().clone();
    if span_context.is_valid() {
        from.add_link(span_context);
    }
}
