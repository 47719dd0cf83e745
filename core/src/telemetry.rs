//! Structured logs: human-readable on a terminal, JSON lines elsewhere
//! (Kubernetes, CI), so log pipelines get fields, not prose.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Pretty,
    Json,
}

impl LogFormat {
    pub fn from_env() -> Self {
        match std::env::var("TRIBUTARY_LOG_FORMAT").as_deref() {
            Ok("json") => LogFormat::Json,
            Ok("pretty") | Ok("text") => LogFormat::Pretty,
            _ => LogFormat::Auto,
        }
    }
}

/// Keeps the OpenTelemetry exporter alive; dropping it flushes the spans
/// still buffered (hold it until the process exits).
pub struct TelemetryGuard {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(err) = provider.shutdown() {
                eprintln!("warning: flushing OpenTelemetry spans failed: {err}");
            }
        }
    }
}

/// The OTLP exporter, only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the
/// standard `OTEL_*` variables configure it further). A failure to build it
/// is reported and tracing stays off; logs and metrics are unaffected.
fn otlp_provider() -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(err) => {
            eprintln!("warning: OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter failed: {err}; traces are off");
            return None;
        }
    };
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("tributary")
        .build();
    Some(
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

/// Installs the global subscriber. Level from `RUST_LOG` (default `info`).
/// Logs go to stderr so command output on stdout stays clean for scripts.
/// Spans go to an OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
pub fn init(format: LogFormat) -> TelemetryGuard {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,rdkafka=warn,sqlx=warn,qdrant_edge=error"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let provider = otlp_provider();
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("tributary")));
    let (json_layer, text_layer) = if json {
        (
            Some(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            ),
            None,
        )
    } else {
        (
            None,
            Some(fmt::layer().compact().with_writer(std::io::stderr)),
        )
    };
    // try_init: tests and embedders may already have installed a subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(json_layer)
        .with(text_layer)
        .with(otel)
        .try_init();
    TelemetryGuard { provider }
}
