//! One cancellation token for the whole process, cancelled by SIGTERM or
//! Ctrl-C. Long-running loops select on it and stop where they are: the
//! indexer abandons the batch in flight (its offsets are not stored, so it is
//! delivered again after the restart), a redrive stops before the next letter.

use tokio_util::sync::CancellationToken;

/// Returns a token that is cancelled on the first SIGTERM/SIGINT.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let child = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!(
            "shutdown signal received; stopping, work in flight is abandoned and redone on the next run"
        );
        child.cancel();
    });
    token
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for SIGTERM; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
