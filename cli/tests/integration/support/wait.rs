//! Bounded waiting: poll a condition until it holds or a limit passes,
//! failing the test with what was awaited. Never a bare sleep.

use std::future::Future;
use std::time::Duration;

/// Polls `check` every 20 ms until it returns true; panics naming `what`
/// after `limit`.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not reached within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the count `sql` returns reaches `at_least` while `task` is
/// still running: real progress, with the task still there to interrupt.
pub async fn count_reaches_while_running<T>(
    pool: &sqlx::PgPool,
    sql: &str,
    at_least: i64,
    task: &tokio::task::JoinHandle<T>,
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
}
