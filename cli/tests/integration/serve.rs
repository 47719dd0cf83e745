//! `tributary serve` against the real stack: searches over HTTP see what
//! the indexer writes while it runs, bad requests get a 4xx with a JSON
//! error, and `tributary search` prints the same through the server as it
//! does on the store itself.

use std::process::{Child, Command, Output};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::process::{command, spawn_serving, stdout_ok, terminate, BIN};
use crate::support::wait::poll_until;
use crate::support::{unique, TestEnv};

const WAIT: Duration = Duration::from_secs(90);

/// A running `tributary serve` on a free port; killed if a test fails
/// before stopping it.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    fn start(env: &TestEnv, store: &std::path::Path) -> Serve {
        let mut cmd = command(env, store);
        cmd.arg("serve")
            .env("TRIBUTARY_SERVE__LISTEN", "127.0.0.1:0");
        let (child, addr) = spawn_serving(&mut cmd, "serving /search");
        Serve { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM, then it must exit 0 within the bound.
    async fn stop(mut self) {
        let exit = terminate(&mut self.child, Duration::from_secs(30)).await;
        assert!(exit.success(), "serve exited with {exit} on SIGTERM");
    }
}

/// A test's environment, a store directory and `tributary serve` on both.
async fn serving() -> (TestEnv, tempfile::TempDir, Serve) {
    let env = TestEnv::new().await;
    let store = tempfile::tempdir().expect("tempdir");
    let serve = Serve::start(&env, store.path());
    (env, store, serve)
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `POST /search` until a hit satisfies `found` (bounded by `WAIT`); the
/// server answers 503 while it loads the model, which is waited out too.
async fn search_until(
    serve: &Serve,
    body: Value,
    what: &str,
    found: impl Fn(&Value) -> bool,
) -> Value {
    let http = reqwest::Client::new();
    poll_until(what, WAIT, Duration::from_millis(100), || async {
        let response = http
            .post(serve.url("/search"))
            .json(&body)
            .send()
            .await
            .expect("POST /search");
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON answer");
        if status.is_success() {
            if let Some(hit) = answer["hits"]
                .as_array()
                .expect("hits")
                .iter()
                .find(|hit| found(hit))
            {
                return Ok(hit.clone());
            }
        } else {
            assert_eq!(status, 503, "only 'starting' may be waited out: {answer}");
        }
        Err(format!("last answer: {answer}"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_over_http_finds_a_document_published_while_serving() {
    let (env, _store, serve) = serving().await;

    env.write_note(
        "lag.md",
        "# Consumer lag\n\nWhen consumer lag grows, add indexer replicas up to the partition count.",
    );
    env.sync().await.expect("sync");
    let hit = search_until(
        &serve,
        json!({"query": "consumer lag", "limit": 5}),
        "the first note",
        |hit| hit["id"] == TestEnv::doc_id("lag.md"),
    )
    .await;
    assert_eq!(hit["title"], "Consumer lag");
    assert_eq!(hit["source"], "vault");
    assert_eq!(hit["url"], "lag.md");
    assert_eq!(hit["chunk_index"], 0);
    assert!(hit["score"].as_f64().is_some_and(f64::is_finite), "{hit}");
    assert!(
        hit["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("add indexer replicas")),
        "{hit}"
    );

    // Published after the indexer caught up: found by the same process,
    // no restart, through GET this time.
    let word = unique("zebrafish");
    env.write_note(
        "new.md",
        &format!("# Fresh note\n\nThe {word} appears only in this note."),
    );
    env.sync().await.expect("sync");
    let url = serve.url(&format!("/search?q={word}&source=vault&limit=10"));
    let answer = poll_until("the new note", WAIT, Duration::from_millis(100), || async {
        let response = reqwest::get(&url).await.expect("GET /search");
        assert!(
            response.status().is_success(),
            "{:?}",
            response.text().await
        );
        let answer: Value = response.json().await.expect("JSON answer");
        let hits = answer["hits"].as_array().expect("hits");
        if hits
            .iter()
            .any(|hit| hit["id"] == TestEnv::doc_id("new.md"))
        {
            Ok(answer)
        } else {
            Err(format!("last answer: {answer}"))
        }
    })
    .await;
    assert_eq!(answer["query"], word.as_str());
    let hits = answer["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 2, "one hit per document: {answer}");
    let new = hits
        .iter()
        .find(|hit| hit["id"] == TestEnv::doc_id("new.md"))
        .expect("new note");
    assert!(
        new["snippet"].as_str().is_some_and(|s| s.contains(&word)),
        "{new}"
    );

    // The same listener serves the indexer's endpoints. Readiness needs
    // librdkafka's first statistics (a broker is up), which may come later.
    let response = reqwest::get(serve.url("/healthz")).await.expect("/healthz");
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
    poll_until("ready", WAIT, Duration::from_millis(200), || async {
        let response = reqwest::get(serve.url("/readyz")).await.expect("/readyz");
        if response.status().is_success() {
            Ok(())
        } else {
            Err(response.text().await.expect("body"))
        }
    })
    .await;
    let metrics = reqwest::get(serve.url("/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("tributary_indexer_documents_total{outcome=\"indexed\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.lines().any(|l| l
            .starts_with("tributary_search_requests_total{outcome=\"answered\"}")
            && !l.ends_with(" 0")),
        "{metrics}"
    );
    serve.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_api_refuses_bad_input_with_a_json_error() {
    let (_env, _store, serve) = serving().await;
    let http = reqwest::Client::new();

    let gets = [
        ("/search?q=", 400, "query is empty"),
        ("/search?q=%20%20", 400, "query is empty"),
        ("/search", 400, "missing field"),
        ("/search?q=lag&limit=1000", 400, "over the maximum of 100"),
        ("/search?q=lag&limit=0", 400, "at least 1"),
        ("/search?q=lag&limit=many", 400, "bad query parameters"),
        ("/search?q=lag&source=github", 400, "unknown source"),
        ("/search?q=lag&limt=3", 400, "limt"),
        ("/nowhere", 404, "no such endpoint"),
    ];
    for (path, status, needle) in gets {
        let response = http.get(serve.url(path)).send().await.expect(path);
        check_refusal(response, status, needle, path).await;
    }
    let posts = [
        ("{not json", 400, "not a search request"),
        (r#"{"query": "   "}"#, 400, "query is empty"),
        (
            r#"{"query": "lag", "limit": 101}"#,
            400,
            "over the maximum of 100",
        ),
        (
            r#"{"query": "lag", "limit": -1}"#,
            400,
            "not a search request",
        ),
        (
            r#"{"query": "lag", "source": "Vault"}"#,
            400,
            "unknown source",
        ),
        (r#"{"limit": 3}"#, 400, "missing field"),
        (r#"["lag"]"#, 400, "not a search request"),
    ];
    for (body, status, needle) in posts {
        let response = http
            .post(serve.url("/search"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect(body);
        check_refusal(response, status, needle, body).await;
    }
    let response = http.put(serve.url("/search")).send().await.expect("PUT");
    check_refusal(response, 405, "takes GET", "PUT /search").await;
    serve.stop().await;
}

async fn check_refusal(response: reqwest::Response, status: u16, needle: &str, what: &str) {
    assert_eq!(response.status().as_u16(), status, "{what}");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{what}"
    );
    let body: Value = response.json().await.expect("a JSON error body");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains(needle), "{what}: {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{what}: {body}");
}

fn search(env: &TestEnv, store: &std::path::Path, listen: &str, args: &[&str]) -> Output {
    command(env, store)
        .arg("search")
        .args(args)
        .env("TRIBUTARY_SERVE__LISTEN", listen)
        .output()
        .expect("run tributary search")
}

fn through_server(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr).contains("searching through tributary serve")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tributary_search_prints_the_same_through_serve_as_on_the_store() {
    let (env, store, serve) = serving().await;
    env.write_note(
        "failover.md",
        "# PostgreSQL failover\n\nPromote the replica with pg_ctl promote, then repoint the service.",
    );
    env.write_note(
        "coffee.md",
        "# Coffee\n\nThe espresso machine is on floor two.",
    );
    env.write_note(
        "lag.md",
        "# Consumer lag\n\nWhen consumer lag grows, add indexer replicas.",
    );
    env.sync().await.expect("sync");
    for note in ["failover.md", "coffee.md", "lag.md"] {
        search_until(
            &serve,
            json!({"query": "database failover", "limit": 10}),
            note,
            |hit| hit["id"] == TestEnv::doc_id(note),
        )
        .await;
    }

    let queries: [&[&str]; 3] = [
        &["database failover", "--limit", "3"],
        &["espresso", "--source", "vault", "--json"],
        &["consumer lag"],
    ];
    let listen = serve.addr.clone();
    let mut served = Vec::new();
    for args in queries {
        let out = search(&env, store.path(), &listen, args);
        assert!(
            through_server(&out),
            "{args:?} did not use the running server"
        );
        served.push(stdout_ok(&out, "search through serve"));
    }
    assert!(
        served[0].starts_with("3 hits for \"database failover\"\n"),
        "{}",
        served[0]
    );
    assert!(served[0].contains(" 1. "), "{}", served[0]);
    assert!(
        served[1].contains(&TestEnv::doc_id("coffee.md")),
        "{}",
        served[1]
    );

    // Nothing listens there any more: the store itself, same words.
    serve.stop().await;
    for (args, expected) in queries.into_iter().zip(served) {
        let out = search(&env, store.path(), &listen, args);
        assert!(!through_server(&out), "{args:?} still went to a server");
        assert_eq!(stdout_ok(&out, "search on the store"), expected, "{args:?}");
    }
}

#[test]
fn a_configured_server_that_does_not_answer_is_an_error() {
    // No services needed: the route is decided before anything else.
    let out = Command::new(BIN)
        .args(["search", "consumer lag"])
        .env("TRIBUTARY_SERVE__URL", "http://127.0.0.1:9")
        .env("TRIBUTARY_STORE_PATH", "/nonexistent/store")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach tributary serve at http://127.0.0.1:9"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no hits printed from anywhere else");
}
