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

/// The filter when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,rdkafka=warn,sqlx=warn,qdrant_edge=error";

/// qdrant-edge embeds parts of the Qdrant server and warns, through the `log`
/// crate, about start-up steps only that server performs ("Feature flags not
/// initialized!", "MULTI_MMAP_SUPPORT_CHECK_RESULT should be initialized...")
/// on every store open: nothing a user can act on. These modules are
/// silenced whatever `RUST_LOG` says, unless it names qdrant_edge itself;
/// the crate's other warnings, and ours, are kept.
const QUIET_TARGETS: &[&str] = &[
    "qdrant_edge::common::flags=error",
    "qdrant_edge::common::mmap::ops=error",
];

/// The filter directives for a `RUST_LOG` value (`None`: unset).
fn directives(rust_log: Option<&str>) -> String {
    let base = match rust_log.map(str::trim) {
        Some(value) if !value.is_empty() => value,
        _ => DEFAULT_FILTER,
    };
    if base.contains("qdrant_edge") {
        return base.to_string();
    }
    let mut all = vec![base];
    all.extend_from_slice(QUIET_TARGETS);
    all.join(",")
}

/// Installs the global subscriber. Level from `RUST_LOG` (default `info`).
/// Logs go to stderr so command output on stdout stays clean for scripts.
/// Spans go to an OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
pub fn init(format: LogFormat) -> TelemetryGuard {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let rust_log = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let (filter, rejected) = match EnvFilter::try_new(directives(rust_log.as_deref())) {
        Ok(filter) => (filter, None),
        Err(err) => (EnvFilter::new(directives(None)), Some(err)),
    };
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
    if let Some(err) = rejected {
        tracing::warn!(rust_log = rust_log.as_deref().unwrap_or(""), error = %err,
            "RUST_LOG is not a valid filter; using the default");
    }
    TelemetryGuard { provider }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tracing_subscriber::layer::SubscriberExt;

    /// What a filter built from `rust_log` lets through for `target` at `level`.
    fn enabled(rust_log: Option<&str>, target: &str, level: tracing::Level) -> bool {
        use tracing::subscriber::with_default;
        let filter = EnvFilter::try_new(directives(rust_log)).expect("valid directives");
        let subscriber = tracing_subscriber::registry().with(filter);
        let seen = Arc::new(AtomicBool::new(false));
        let probe = Probe(Arc::clone(&seen));
        with_default(subscriber.with(probe), || {
            // A dynamic target needs the `log` record path, as qdrant-edge uses.
            let level = match level {
                tracing::Level::ERROR => log::Level::Error,
                tracing::Level::WARN => log::Level::Warn,
                tracing::Level::INFO => log::Level::Info,
                tracing::Level::DEBUG => log::Level::Debug,
                tracing::Level::TRACE => log::Level::Trace,
            };
            tracing_log::format_trace(
                &log::Record::builder()
                    .target(target)
                    .level(level)
                    .args(format_args!("probe"))
                    .build(),
            )
            .expect("dispatch");
        });
        seen.load(Ordering::SeqCst)
    }

    struct Probe(Arc<AtomicBool>);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Probe {
        fn on_event(
            &self,
            _event: &tracing::Event<'_>,
            _ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    const FLAGS: &str = "qdrant_edge::common::flags";
    const MMAP: &str = "qdrant_edge::common::mmap::ops";

    #[test]
    fn qdrant_edge_start_up_noise_is_hidden_whatever_rust_log_says() {
        use tracing::Level;
        for rust_log in [None, Some("warn"), Some("info"), Some("debug")] {
            assert!(!enabled(rust_log, FLAGS, Level::WARN), "{rust_log:?}");
            assert!(!enabled(rust_log, MMAP, Level::WARN), "{rust_log:?}");
        }
    }

    #[test]
    fn our_warnings_and_other_qdrant_edge_warnings_are_kept() {
        use tracing::Level;
        for rust_log in [Some("warn"), Some("info")] {
            assert!(enabled(
                rust_log,
                "tributary_indexer::consumer",
                Level::WARN
            ));
            assert!(enabled(rust_log, "qdrant_edge::wal", Level::WARN));
        }
        assert!(enabled(None, "tributary_indexer::consumer", Level::INFO));
        assert!(!enabled(
            Some("warn"),
            "tributary_indexer::consumer",
            Level::INFO
        ));
    }

    #[test]
    fn naming_qdrant_edge_in_rust_log_shows_everything_it_asks_for() {
        assert!(enabled(
            Some("warn,qdrant_edge=debug"),
            FLAGS,
            tracing::Level::WARN
        ));
    }
}
