//! The metrics tell the truth: a real sync and a real `tributary index`
//! against the stack, then `/metrics` scraped. The counters equal what the
//! runs did, the lag reaches 0, and the series each alert reads move the
//! way the rule expects (a dead letter arrives, the backlog drains, a
//! connector's last success is recorded).

use std::process::Command;
use std::time::Duration;

use crate::support::records::produce_raw;
use crate::support::wait::poll_until;
use crate::support::{process, TestEnv};

const WAIT: Duration = Duration::from_secs(90);

/// The binary with outcome gauges refreshed every second.
fn command(env: &TestEnv, store: &std::path::Path) -> Command {
    let mut cmd = process::command(env, store);
    cmd.env("TRIBUTARY_METRICS__OUTCOMES_INTERVAL_SECS", "1");
    cmd
}

/// The value of one exact series (`name{labels}`) in a scrape.
fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

async fn scrape(addr: &str) -> String {
    reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body")
}

/// Scrapes until `ok` holds for the scrape (bounded by `WAIT`).
async fn scrape_until(addr: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    poll_until(what, WAIT, Duration::from_millis(200), || async {
        let body = scrape(addr).await;
        if ok(&body) {
            Ok(body)
        } else {
            Err(format!("last scrape:\n{body}"))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_equal_what_the_runs_did() {
    let env = TestEnv::new().await;
    let store = tempfile::tempdir().expect("tempdir");
    env.write_note(
        "a.md",
        "# Alpha\n\nThe first note, about Kafka consumer lag.",
    );
    env.write_note(
        "b.md",
        "# Beta\n\nThe second note, about PostgreSQL failover.",
    );
    env.write_note("c.md", "# Gamma\n\nThe third note, about dead letters.");
    let out = command(&env, store.path())
        .args(["sync", "vault", "--instance", "obs", "--path"])
        .arg(env.vault.path())
        .output()
        .expect("sync");
    process::stdout_ok(&out, "sync");

    let mut indexer = command(&env, store.path());
    let (mut child, addr) = process::spawn_serving(indexer.arg("index"), "serving /metrics");

    let body = scrape_until(&addr, "3 documents indexed and lag 0", |b| {
        value(b, r#"tributary_indexer_documents_total{outcome="indexed"}"#) == Some(3.0)
            && value(b, "tributary_documents_unindexed") == Some(0.0)
            && b.lines()
                .filter(|l| l.starts_with("tributary_indexer_consumer_lag{"))
                .count()
                > 0
            && b.lines()
                .filter(|l| l.starts_with("tributary_indexer_consumer_lag{"))
                .all(|l| l.ends_with(" 0"))
    })
    .await;
    let connector = r#"{connector="vault:obs"}"#;
    assert_eq!(
        value(
            &body,
            &format!("tributary_connector_published_documents_total{connector}")
        ),
        Some(3.0),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            &format!("tributary_connector_last_run_success{connector}")
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &body,
            r#"tributary_connector_items_total{connector="vault:obs",outcome="fetched"}"#
        ),
        Some(3.0),
        "{body}"
    );
    assert!(
        value(
            &body,
            &format!("tributary_connector_last_run_duration_seconds{connector}")
        )
        .is_some_and(|d| d >= 0.0),
        "{body}"
    );
    assert!(
        value(
            &body,
            &format!("tributary_connector_watermark_age_seconds{connector}")
        )
        .is_some(),
        "{body}"
    );
    let last_success = value(
        &body,
        &format!("tributary_connector_last_success_timestamp_seconds{connector}"),
    )
    .expect("last success recorded");
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        (now - last_success).abs() < 600.0,
        "{last_success} vs {now}"
    );
    assert!(value(&body, "tributary_indexer_last_indexed_timestamp_seconds").unwrap_or(0.0) > 0.0);
    assert!(value(&body, "tributary_indexer_chunks_upserted_total").unwrap_or(0.0) >= 3.0);
    assert_eq!(value(&body, "tributary_indexer_paused"), Some(0.0));
    assert!(body.contains("tributary_build_info{"), "{body}");
    assert!(body.contains("tributary_indexer_embed_duration_seconds_count"));
    assert_eq!(
        value(&body, r#"tributary_corpus_documents{source="vault"}"#),
        Some(3.0)
    );

    // A poison message: `DeadLettersArriving` reads the counter, the pending
    // gauge follows from the DLQ.
    produce_raw(&env, "poison", b"{not json").await;
    let body = scrape_until(&addr, "the dead letter counted and pending", |b| {
        value(
            b,
            r#"tributary_indexer_dead_letters_total{class="InvalidJson"}"#,
        ) == Some(1.0)
            && value(b, r#"tributary_dlq_pending{class="InvalidJson"}"#) == Some(1.0)
    })
    .await;
    assert_eq!(
        value(
            &body,
            r#"tributary_indexer_documents_total{outcome="indexed"}"#
        ),
        Some(3.0),
        "a poison message indexes nothing"
    );

    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("GET /healthz");
    assert!(health.status().is_success());
    let ready = reqwest::get(format!("http://{addr}/readyz"))
        .await
        .expect("GET /readyz");
    assert!(ready.status().is_success(), "{:?}", ready.text().await);

    let exit = process::terminate(&mut child, WAIT).await;
    assert!(exit.success(), "SIGTERM exits 0: {exit}");
}
