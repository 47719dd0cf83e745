//! The Confluence connector against a local Confluence-shaped HTTP server,
//! the real Kafka broker and PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;
use tributary_connectors::confluence::{
    self, ConfluenceSyncError, ConfluenceSyncOptions, ConfluenceSyncReport,
};
use tributary_core::config::ConfluenceFlavor;
use tributary_core::{kafka, Document};
use tributary_indexer::embed::Embedder;
use tributary_indexer::search::Searcher;

use crate::confluence_fake::{FakeConfluence, FakePage, Logged, TOKEN};
use crate::support::{embedder, unique, TestEnv};

/// Storage format with everything the converter must handle.
const RICH: &str = r#"<h1>Consumer lag</h1>
<p>When&nbsp;the payments consumer group falls behind, ask <ac:link><ri:user ri:account-id="5b10" /></ac:link> first <ac:emoticon ac:name="smile" ac:emoji-fallback="🙂" /> &amp; check &lt;offsets&gt; &#8212; see <ac:link><ri:page ri:content-title="Kafka Basics" ri:space-key="ENG" /></ac:link>.</p>
<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:parameter ac:name="title">Heads up</ac:parameter><ac:rich-text-body><p>Lag alerts page the on-call engineer.</p></ac:rich-text-body></ac:structured-macro>
<ul><li>check the consumer group<ul><li>describe it</li><li>reset offsets</li></ul></li><li><p>restart the consumers</p></li></ul>
<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[kafka-consumer-groups --describe --group payments]]></ac:plain-text-body></ac:structured-macro>
<table><tbody><tr><th>Topic</th><th>Owner</th></tr><tr><td><p>payments</p></td><td>team-pay</td></tr></tbody></table>
<ac:structured-macro ac:name="holographic-widget"><ac:parameter ac:name="mode">3d</ac:parameter><ac:rich-text-body><p>Kept despite the unknown macro.</p></ac:rich-text-body></ac:structured-macro>
<p>Tracked in <a href="https://acme.atlassian.net/browse/OPS-12">the lag ticket</a>.</p>"#;

async fn sync(
    env: &TestEnv,
    opts: &ConfluenceSyncOptions,
) -> Result<ConfluenceSyncReport, ConfluenceSyncError> {
    confluence::sync(opts, &env.config.kafka, &env.state(), &|_| {}).await
}

fn doc_id(page: u32) -> String {
    format!("confluence:test:{page}")
}

fn filler(n: u32, minute: u32) -> FakePage {
    FakePage::new(
        n,
        "ENG",
        &format!("2025-01-10T08:{minute:02}:00Z"),
        &format!("Filler page {n}"),
        &format!("<p>Filler body {n} about watering the office plants.</p>"),
    )
}

/// Every message on the test's topic, in no particular order.
async fn published(env: &TestEnv) -> Vec<Document> {
    let expected = env.topic_messages() as usize;
    let consumer: StreamConsumer = kafka::client_config(&env.config.kafka)
        .set("group.id", unique("confluence-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer
        .subscribe(&[&env.config.kafka.topic])
        .expect("subscribe");
    let mut docs = Vec::with_capacity(expected);
    while docs.len() < expected {
        let msg = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("all messages within 30 s")
            .expect("message");
        docs.push(Document::from_json_bytes(msg.payload().expect("payload")).expect("document"));
    }
    docs
}

/// The last message of each document id (one partition per key keeps order).
fn latest(docs: Vec<Document>) -> HashMap<String, Document> {
    let mut out: HashMap<String, Document> = HashMap::new();
    for d in docs {
        let newer = out.get(&d.id).is_none_or(|o| o.updated_at <= d.updated_at);
        if newer {
            out.insert(d.id.clone(), d);
        }
    }
    out
}

fn requests<'a>(log: &'a [Logged], path: &str) -> Vec<&'a Logged> {
    log.iter().filter(|l| l.path == path).collect()
}

async fn cursor(env: &TestEnv) -> serde_json::Value {
    env.state()
        .get("confluence:test")
        .await
        .expect("state")
        .expect("a row")
        .cursor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_follows_cursors_converts_storage_and_search_finds_the_pages() {
    let env = TestEnv::new().await;
    let fake = FakeConfluence::start(ConfluenceFlavor::Cloud).await;
    for n in 1..=5 {
        fake.put(filler(n, n));
    }
    let mut rich = FakePage::new(
        10,
        "ENG",
        "2025-01-10T08:30:00Z",
        "Consumer lag runbook",
        RICH,
    );
    rich.ancestors = vec!["Home".into(), "Runbooks".into()];
    rich.labels = vec!["kafka".into(), "runbook".into()];
    fake.put(rich);
    let mut blog = FakePage::new(
        20,
        "ENG",
        "2025-01-10T08:40:00Z",
        "Renewing the TLS certificate",
        "<p>The wildcard certificate for the public site expires next month; renew it with the CA.</p>",
    );
    blog.kind = "blogpost".into();
    fake.put(blog);

    let report = sync(&env, &fake.options()).await.expect("sync");
    assert_eq!(report.summary.published, 7, "{report}");
    assert_eq!(report.retries, 0);
    assert_eq!(
        report.unknown_macros.get("holographic-widget"),
        Some(&1),
        "{report:?}"
    );

    let log = fake.take_log();
    let listings = requests(&log, "/wiki/api/v2/spaces/1001/pages");
    let cursors: Vec<Option<&str>> = listings
        .iter()
        .map(|l| l.query.get("cursor").map(String::as_str))
        .collect();
    assert_eq!(
        cursors,
        [None, Some("c-2"), Some("c-4")],
        "followed _links.next"
    );
    assert!(listings
        .iter()
        .all(|l| l.query.get("body-format").map(String::as_str) == Some("storage")));
    assert_eq!(
        requests(&log, "/wiki/api/v2/spaces/1001/blogposts").len(),
        1
    );
    let enrich = requests(&log, "/wiki/rest/api/content/search");
    assert!(
        !enrich.is_empty() && enrich.iter().all(|l| l.query["cql"].starts_with("id in (")),
        "{enrich:?}"
    );

    let docs = latest(published(&env).await);
    assert_eq!(docs.len(), 7);
    let d = &docs[&doc_id(10)];
    assert_eq!(d.title, "Home > Runbooks > Consumer lag runbook");
    assert_eq!(
        d.url.as_deref(),
        Some(format!("{}/wiki/spaces/ENG/pages/10", fake.uri()).as_str())
    );
    assert_eq!(d.metadata["space_key"], "ENG");
    assert_eq!(d.metadata["space_name"], "Engineering");
    assert_eq!(
        d.metadata["labels"],
        serde_json::json!(["kafka", "runbook"])
    );
    assert_eq!(d.metadata["author"], "Jane Doe");
    assert_eq!(d.metadata["version"], 1);
    assert_eq!(
        d.metadata["breadcrumb"],
        "Home > Runbooks > Consumer lag runbook"
    );
    let text = &d.body.text;
    for markup in ["<ac:", "<ri:", "&nbsp;", "&amp;", "CDATA"] {
        assert!(!text.contains(markup), "{markup} survived:\n{text}");
    }
    for expected in [
        "# Consumer lag",
        "🙂 & check <offsets> — see Kafka Basics.",
        "Heads up\n\nLag alerts page the on-call engineer.",
        "- check the consumer group\n  - describe it\n  - reset offsets\n- restart the consumers",
        "```bash\nkafka-consumer-groups --describe --group payments\n```",
        "Topic | Owner\npayments | team-pay",
        "Kept despite the unknown macro.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let links: Vec<(&str, &str)> = d
        .links
        .iter()
        .map(|l| (l.kind.as_str(), l.target.as_str()))
        .collect();
    assert!(links.contains(&("page", "Kafka Basics")), "{links:?}");
    assert!(links.contains(&("issue", "OPS-12")), "{links:?}");
    assert_eq!(docs[&doc_id(20)].metadata["type"], "blogpost");

    // Indexed: every stored chunk reads like the page, no markup.
    let stats = env.index_until_idle().await;
    assert_eq!(stats.docs.indexed, 7);
    let points = env.points(&doc_id(10)).await;
    assert!(!points.is_empty());
    for p in &points {
        assert!(
            !p.payload.text.contains("<ac:") && !p.payload.text.contains("<ri:"),
            "markup in a stored chunk: {}",
            p.payload.text
        );
        assert_eq!(p.payload.source, "confluence");
    }
    let all_text: String = points.iter().map(|p| p.payload.text.as_str()).collect();
    assert!(
        all_text.contains("kafka-consumer-groups --describe"),
        "{all_text}"
    );

    let searcher = Searcher {
        embedder: Arc::new(embedder()) as Arc<dyn Embedder>,
        store: Arc::clone(&env.store),
    };
    let hits = searcher
        .search(
            "payments consumer group falls behind",
            Some("confluence".into()),
            3,
        )
        .await
        .expect("search");
    assert!(hits.iter().all(|h| h.source == "confluence"), "{hits:#?}");
    assert_eq!(hits[0].doc_id, doc_id(10), "{hits:#?}");
    let hits = searcher
        .search(
            "renew the wildcard certificate",
            Some("confluence".into()),
            3,
        )
        .await
        .expect("search");
    assert_eq!(hits[0].doc_id, doc_id(20), "{hits:#?}");
    assert!(searcher
        .search("office plants", Some("jira".into()), 3)
        .await
        .expect("search")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_trashed_or_moved_out_of_scope_are_tombstoned_after_prune() {
    let env = TestEnv::new().await;
    let fake = FakeConfluence::start(ConfluenceFlavor::Cloud).await;
    for n in 1..=3 {
        fake.put(filler(n, n));
    }
    assert_eq!(
        sync(&env, &fake.options())
            .await
            .expect("sync")
            .summary
            .published,
        3
    );

    let mut trashed = fake.page(2);
    trashed.status = "trashed".into();
    fake.put(trashed);
    let mut moved = fake.page(3);
    moved.space = "SEC".into();
    fake.put(moved);

    let report = sync(&env, &fake.options()).await.expect("incremental sync");
    assert_eq!(report.summary.tombstones, 0, "no prune this run: {report}");
    assert!(!report.pruned);

    let mut opts = fake.options();
    opts.prune = true;
    let report = sync(&env, &opts).await.expect("prune");
    assert!(report.pruned);
    assert_eq!(report.summary.tombstones, 2, "{report}");
    let docs = latest(published(&env).await);
    assert!(docs[&doc_id(2)].deleted);
    assert!(docs[&doc_id(3)].deleted);
    assert!(!docs[&doc_id(1)].deleted);

    env.index_until_idle().await;
    assert!(env.points(&doc_id(2)).await.is_empty());
    assert!(!env.points(&doc_id(1)).await.is_empty());

    let report = sync(&env, &opts).await.expect("prune again");
    assert_eq!(report.summary.tombstones, 0, "tombstoned once only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_edited_in_the_watermark_minute_is_not_missed() {
    let env = TestEnv::new().await;
    let fake = FakeConfluence::start(ConfluenceFlavor::Cloud).await;
    let mut cfg = fake.config();
    cfg.overlap_secs = 0; // only the minute rounding stands between us and a miss
    let opts = fake.options_for(cfg);
    fake.put(FakePage::new(
        1,
        "ENG",
        "2025-01-10T08:01:10Z",
        "First",
        "<p>first</p>",
    ));
    // Two more in the same minute, so the search below needs a second page.
    for (id, when) in [(3, "2025-01-10T08:01:00Z"), (4, "2025-01-10T08:01:05Z")] {
        fake.put(FakePage::new(id, "ENG", when, "Early", "<p>early</p>"));
    }
    assert_eq!(sync(&env, &opts).await.expect("sync").summary.published, 3);
    assert_eq!(
        cursor(&env).await["spaces"]["ENG"]["watermark"],
        "2025-01-10T08:01:10Z"
    );
    fake.take_log();

    // Saved later in the same minute as the watermark.
    fake.put(FakePage::new(
        2,
        "ENG",
        "2025-01-10T08:01:40Z",
        "Second",
        "<p>second</p>",
    ));
    let report = sync(&env, &opts).await.expect("incremental");
    assert_eq!(report.summary.published, 1, "{report}");
    assert_eq!(
        report.summary.unchanged, 3,
        "the pages of the first run are re-read, not re-sent"
    );
    let log = fake.take_log();
    let searches = requests(&log, "/wiki/rest/api/content/search");
    let cursors: Vec<Option<&str>> = searches
        .iter()
        .map(|l| l.query.get("cursor").map(String::as_str))
        .collect();
    assert_eq!(cursors, [None, Some("c-2")], "followed the v1 _links.next");
    assert_eq!(
        searches[0].query["cql"],
        "space in (\"ENG\") AND type in (page, blogpost) AND lastmodified >= \"2025-01-10 08:01\" ORDER BY lastmodified ASC"
    );
    assert!(requests(&log, "/wiki/api/v2/spaces/1001/pages").is_empty());
    let docs = latest(published(&env).await);
    assert_eq!(docs.len(), 4);
    assert_eq!(
        cursor(&env).await["spaces"]["ENG"]["watermark"],
        "2025-01-10T08:01:40Z"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_on_one_space_fails_that_space_and_publishes_the_other() {
    let env = TestEnv::new().await;
    let fake = FakeConfluence::start(ConfluenceFlavor::Cloud).await;
    let mut cfg = fake.config();
    cfg.spaces = vec!["SEC".into(), "ENG".into()];
    let opts = fake.options_for(cfg);
    fake.put(filler(1, 1));
    fake.put(filler(2, 2));
    fake.put(FakePage::new(
        3,
        "SEC",
        "2025-01-10T08:03:00Z",
        "Secrets",
        "<p>rotate keys</p>",
    ));
    fake.forbid("SEC", true);

    let err = sync(&env, &opts).await.expect_err("a space failed");
    let ConfluenceSyncError::Spaces { report, total } = &err else {
        panic!("{err}");
    };
    assert_eq!(*total, 2);
    assert_eq!(report.summary.published, 2, "the good space was published");
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].space, "SEC");
    let message = err.to_string();
    assert!(
        message.contains("SEC") && message.contains("403"),
        "{message}"
    );
    let state = env
        .state()
        .get("confluence:test")
        .await
        .expect("state")
        .expect("row");
    assert_eq!(state.last_run_status.as_deref(), Some("failed"));
    assert!(state.last_run_error.unwrap_or_default().contains("SEC"));
    assert_eq!(
        state.cursor["spaces"]["ENG"]["watermark"],
        "2025-01-10T08:02:00Z"
    );
    assert!(
        state.cursor["spaces"].get("SEC").is_none(),
        "{}",
        state.cursor
    );

    fake.forbid("SEC", false);
    let report = sync(&env, &opts).await.expect("both spaces now");
    assert_eq!(
        report.summary.published, 1,
        "only the SEC page is new: {report}"
    );
    assert_eq!(
        cursor(&env).await["spaces"]["SEC"]["watermark"],
        "2025-01-10T08:03:00Z"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_waited_out_then_the_sync_succeeds() {
    let env = TestEnv::new().await;
    let fake = FakeConfluence::start(ConfluenceFlavor::Cloud).await;
    fake.put(filler(1, 1));
    fake.fault(429, Some(1));
    let report = sync(&env, &fake.options()).await.expect("sync");
    assert_eq!(report.retries, 1);
    assert_eq!(report.summary.published, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datacenter_pages_with_start_and_limit_and_a_bearer_token() {
    let env = TestEnv::new().await;
    let fake = FakeConfluence::start(ConfluenceFlavor::Datacenter).await;
    for n in 1..=5 {
        fake.put(filler(n, n));
    }
    let mut rich = FakePage::new(10, "ENG", "2025-01-10T08:30:00Z", "Lag runbook", RICH);
    rich.ancestors = vec!["Home".into()];
    fake.put(rich);
    let report = sync(&env, &fake.options()).await.expect("sync");
    assert_eq!(report.summary.published, 6, "{report}");
    let log = fake.take_log();
    let listings = requests(&log, "/rest/api/content");
    let starts: Vec<Option<&str>> = listings
        .iter()
        .filter(|l| l.query["type"] == "page")
        .map(|l| l.query.get("start").map(String::as_str))
        .collect();
    assert_eq!(starts, [None, Some("2"), Some("4")]);
    assert!(listings
        .iter()
        .all(|l| l.query["expand"] == "body.storage,version,ancestors,metadata.labels,space"));
    let docs = latest(published(&env).await);
    let d = &docs[&doc_id(10)];
    assert_eq!(d.title, "Home > Lag runbook");
    assert_eq!(
        d.url.as_deref(),
        Some(format!("{}/spaces/ENG/pages/10", fake.uri()).as_str())
    );
    assert!(!d.body.text.contains("<ac:") && !d.body.text.contains("<ri:"));

    let mut edited = fake.page(3);
    edited.version = 2;
    edited.when = crate::confluence_fake::utc("2025-01-10T09:00:00Z");
    edited.storage = "<p>Edited body.</p>".into();
    fake.put(edited);
    let report = sync(&env, &fake.options()).await.expect("incremental");
    assert_eq!(report.summary.published, 1, "{report}");
    let log = fake.take_log();
    assert_eq!(requests(&log, "/rest/api/content/search").len(), 1);
}

/// The binary: config file for the site, token from the environment, the
/// summary line on stdout, and the token nowhere in the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tributary_sync_confluence_through_the_binary() {
    let env = TestEnv::new().await;
    let fake = FakeConfluence::start(ConfluenceFlavor::Cloud).await;
    fake.put(filler(1, 1));
    fake.put(filler(2, 2));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        format!(
            "[confluence]\nbase_url = \"{}/wiki\"\nflavor = \"cloud\"\ninstance = \"test\"\nspaces = [\"ENG\"]\nemail = \"bot@example.com\"\n",
            fake.uri()
        ),
    )
    .expect("write config");
    let run = |extra: &'static [&'static str]| {
        let config = config.clone();
        let topic = env.config.kafka.topic.clone();
        let schema = env.config.database.schema.clone().expect("schema");
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
                .args(["sync", "confluence", "--config"])
                .arg(&config)
                .args(extra)
                .env("TRIBUTARY_KAFKA__TOPIC", topic)
                .env("TRIBUTARY_DATABASE__SCHEMA", schema)
                .env("TRIBUTARY_CONFLUENCE_TOKEN", TOKEN)
                .env("TRIBUTARY_LOG_FORMAT", "json")
                .env("RUST_LOG", "debug")
                .output()
                .expect("run tributary")
        })
    };
    let out = run(&["--dry-run"]).await.expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("confluence:test (dry run): fetched 2, published 2"),
        "{stdout}"
    );
    assert_eq!(env.topic_messages(), 0, "a dry run published");

    let out = run(&[]).await.expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("confluence:test: fetched 2, published 2, unchanged 0, tombstones 0"),
        "{stdout}"
    );
    assert!(
        stderr.contains("\"message\":\"confluence progress\""),
        "no structured progress: {stderr}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token was printed"
    );
    assert_eq!(env.topic_messages(), 2);

    fake.forbid("ENG", true);
    let out = run(&["--full"]).await.expect("join");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "a failed space must fail the command"
    );
    assert!(
        stderr.contains("1 of 1 Confluence spaces failed"),
        "{stderr}"
    );
}
