//! Bounded waiting: poll a condition until it holds or a limit passes,
//! failing the test with what was awaited. Never a bare sleep.

use std::future::Future;
use std::time::Duration;

/// Polls `check` every `every` until it gives a value; after `limit`,
/// panics naming `what` and what `check` last saw (its `Err`).
pub async fn poll_until<T, F, Fut>(what: &str, limit: Duration, every: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let last = match check().await {
            Ok(value) => return value,
            Err(last) => last,
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not reached within {limit:?}{}",
            if last.is_empty() {
                String::new()
            } else {
                format!("; {last}")
            }
        );
        tokio::time::sleep(every).await;
    }
}

/// Polls `check` every 20 ms until it returns true; panics naming `what`
/// after `limit`.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    poll_until(what, limit, Duration::from_millis(20), || {
        let holds = check();
        async move { holds.await.then_some(()).ok_or_else(String::new) }
    })
    .await
}

/// Waits until the count `sql` returns reaches `at_least` while `task` is
/// still running (real progress), then kills the task there.
pub async fn kill_once_count_reaches<T>(
    pool: &sqlx::PgPool,
    sql: &str,
    at_least: i64,
    task: tokio::task::JoinHandle<T>,
    limit: Duration,
) {
    wait_until(sql, limit, || async {
        let count: i64 = sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .expect("count");
        assert!(
            !task.is_finished(),
            "the task ended before it could be interrupted ({count} of {at_least})"
        );
        count >= at_least
    })
    .await;
    task.abort();
    let aborted = task.await;
    assert!(
        aborted.is_err_and(|e| e.is_cancelled()),
        "task should have been killed mid-stream"
    );
}
