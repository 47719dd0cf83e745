//! The long-running indexer's HTTP endpoint: `/metrics` (Prometheus text),
//! `/healthz` (liveness: the consumer loop still polls) and `/readyz`
//! (readiness: started, a broker is up, not stuck in an outage).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::events::health;

#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub ready_max_paused: Duration,
    pub live_max_stall: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("{setting} {value:?} is not an address (host:port)")]
    BadAddress {
        setting: &'static str,
        value: String,
    },
    #[error("cannot listen on {addr} ({setting}): {source}")]
    Bind {
        setting: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running endpoint: where it listens (the real port when `:0` was asked
/// for) and its task.
pub struct Started {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `metrics.listen` now (so a taken port fails the command at start)
/// and serves until `shutdown`.
pub async fn start(
    listen: &str,
    thresholds: Thresholds,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, EndpointError> {
    let started = start_with(
        "metrics.listen",
        listen,
        thresholds,
        Router::new(),
        shutdown,
    )
    .await?;
    Ok(started.task)
}

/// Like [`start`], with `extra` routes on the same listener (`tributary
/// serve` adds `/search`); `setting` names the config key in errors.
pub async fn start_with(
    setting: &'static str,
    listen: &str,
    thresholds: Thresholds,
    extra: Router,
    shutdown: CancellationToken,
) -> Result<Started, EndpointError> {
    let addr: SocketAddr = listen.parse().map_err(|_| EndpointError::BadAddress {
        setting,
        value: listen.to_string(),
    })?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EndpointError::Bind {
            setting,
            addr,
            source,
        })?;
    // The bound address: `:0` asks for any free port.
    let addr = listener
        .local_addr()
        .map_err(|source| EndpointError::Bind {
            setting,
            addr,
            source,
        })?;
    crate::events::init();
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(thresholds)
        .merge(extra);
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
        {
            tracing::error!(error = %err, "metrics endpoint stopped");
        }
    });
    Ok(Started { addr, task })
}

async fn metrics() -> impl IntoResponse {
    match tributary_core::metrics::encode_text() {
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        ),
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("encoding metrics failed: {err}"),
        ),
    }
}

async fn healthz(State(t): State<Thresholds>) -> impl IntoResponse {
    if health().live(t.live_max_stall) {
        (StatusCode::OK, "ok".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "consumer loop has not polled for over {}s",
                t.live_max_stall.as_secs()
            ),
        )
    }
}

async fn readyz(State(t): State<Thresholds>) -> impl IntoResponse {
    let r = health().readiness(t.ready_max_paused);
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, r.reason)
}
