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

/// Installs the global subscriber. Level from `RUST_LOG` (default `info`).
/// Logs go to stderr so command output on stdout stays clean for scripts.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,rdkafka=warn,sqlx=warn,qdrant_edge=error"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // try_init: tests and embedders may already have installed a subscriber.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
}
