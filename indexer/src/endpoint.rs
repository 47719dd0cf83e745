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
    #[error("metrics.listen {0:?} is not an address (host:port)")]
    BadAddress(String),
    #[error("cannot listen on {addr} for /metrics: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Binds now (so a taken port fails the command at start) and serves until
/// `shutdown`.
pub async fn start(
    listen: &str,
    thresholds: Thresholds,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, EndpointError> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| EndpointError::BadAddress(listen.to_string()))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EndpointError::Bind { addr, source })?;
    // The bound address: `:0` asks for any free port.
    let addr = listener
        .local_addr()
        .map_err(|source| EndpointError::Bind { addr, source })?;
    crate::events::init();
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(thresholds);
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
    Ok(tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
        {
            tracing::error!(error = %err, "metrics endpoint stopped");
        }
    }))
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
