//! The Confluence connector against a local Confluence-shaped HTTP server,
//! the real Kafka broker and PostgreSQL.

use rstest::rstest;
use tributary_connectors::confluence::{
    self, ConfluenceSyncError, ConfluenceSyncOptions, ConfluenceSyncReport,
};
use tributary_core::config::ConfluenceFlavor;

use crate::confluence_fake::{FakeComment, FakeConfluence, FakePage, Logged, EMAIL, TOKEN};
use crate::support::atlassian::{self, utc, BinarySync};
use crate::support::TestEnv;

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
    confluence::sync(opts, &env.target(&env.state())).await
}

/// A sync with the fake's own options, which must succeed.
async fn sync_ok(env: &TestEnv, fake: &FakeConfluence) -> ConfluenceSyncReport {
    sync(env, &fake.options()).await.expect("sync")
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

/// Filler pages 1 to `n`, a minute apart.
fn fillers(n: u32) -> impl Iterator<Item = FakePage> {
    (1..=n).map(|n| filler(n, n))
}

fn requests<'a>(log: &'a [Logged], path: &str) -> Vec<&'a Logged> {
    log.iter().filter(|l| l.path == path).collect()
}

/// Since the last look at the log, the content search (at `path`) was
/// asked for one page only, comment searches aside: no second walk.
fn one_page_search(fake: &FakeConfluence, path: &str) {
    let log = fake.take_log();
    let searches: Vec<&Logged> = requests(&log, path)
        .into_iter()
        .filter(|l| !l.query["cql"].contains("type = comment"))
        .collect();
    assert_eq!(searches.len(), 1, "{searches:?}");
}

async fn cursor(env: &TestEnv) -> serde_json::Value {
    env.sync_state("confluence:test").await.cursor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_follows_cursors_converts_storage_and_search_finds_the_pages() {
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, fillers(5)).await;
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

    let report = sync_ok(&env, &fake).await;
    assert_eq!(report.summary.published, 7, "{report}");
    assert_eq!(report.retries, 0);
    assert_eq!(
        report.unknown_macros.get("holographic-widget"),
        Some(&1),
        "{report:?}"
    );

    let log = fake.take_log();
    // The walk with bodies (a slim re-walk checks it: more than one page).
    let listings: Vec<&Logged> = requests(&log, "/wiki/api/v2/spaces/1001/pages")
        .into_iter()
        .filter(|l| l.query.contains_key("body-format"))
        .collect();
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

    let docs = env.latest_documents().await;
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
    assert!(links.contains(&("page", "ENG:Kafka Basics")), "{links:?}");
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

    let searcher = env.searcher();
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
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, fillers(3)).await;
    assert_eq!(sync_ok(&env, &fake).await.summary.published, 3);

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
    opts.run.prune = true;
    let report = sync(&env, &opts).await.expect("prune");
    assert!(report.pruned);
    assert_eq!(report.summary.tombstones, 2, "{report}");
    let docs = env.latest_documents().await;
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
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, []).await;
    let mut cfg = fake.config();
    cfg.site.overlap_secs = 0; // only the minute rounding stands between us and a miss
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
    let searches: Vec<&Logged> = requests(&log, "/wiki/rest/api/content/search")
        .into_iter()
        .filter(|l| l.query["expand"].contains("body.storage"))
        .collect();
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
    let docs = env.latest_documents().await;
    assert_eq!(docs.len(), 4);
    assert_eq!(
        cursor(&env).await["spaces"]["ENG"]["watermark"],
        "2025-01-10T08:01:40Z"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_on_one_space_fails_that_space_and_publishes_the_other() {
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, fillers(2)).await;
    let mut cfg = fake.config();
    cfg.spaces = vec!["SEC".into(), "ENG".into()];
    let opts = fake.options_for(cfg);
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
    let state = env.sync_state("confluence:test").await;
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
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, fillers(1)).await;
    fake.fault(429, Some(1));
    let started = std::time::Instant::now();
    let report = sync_ok(&env, &fake).await;
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After: 1 was not waited out ({:?})",
        started.elapsed()
    );
    assert_eq!(report.retries, 1);
    assert_eq!(report.summary.published, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datacenter_pages_with_start_and_limit_and_a_bearer_token() {
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Datacenter, fillers(5)).await;
    let mut rich = FakePage::new(10, "ENG", "2025-01-10T08:30:00Z", "Lag runbook", RICH);
    rich.ancestors = vec!["Home".into()];
    fake.put(rich);
    let report = sync_ok(&env, &fake).await;
    assert_eq!(report.summary.published, 6, "{report}");
    let log = fake.take_log();
    let listings: Vec<&Logged> = requests(&log, "/rest/api/content")
        .into_iter()
        .filter(|l| l.query["expand"].contains("body.storage"))
        .collect();
    let starts: Vec<Option<&str>> = listings
        .iter()
        .filter(|l| l.query["type"] == "page")
        .map(|l| l.query.get("start").map(String::as_str))
        .collect();
    assert_eq!(starts, [None, Some("2"), Some("4")]);
    assert!(listings
        .iter()
        .all(|l| l.query["expand"] == "body.storage,version,ancestors,metadata.labels,space"));
    let docs = env.latest_documents().await;
    let d = &docs[&doc_id(10)];
    assert_eq!(d.title, "Home > Lag runbook");
    assert_eq!(
        d.url.as_deref(),
        Some(format!("{}/spaces/ENG/pages/10", fake.uri()).as_str())
    );
    assert!(!d.body.text.contains("<ac:") && !d.body.text.contains("<ri:"));

    let mut edited = fake.page(3);
    edited.version = 2;
    edited.when = utc("2025-01-10T09:00:00Z");
    edited.storage = "<p>Edited body.</p>".into();
    fake.put(edited);
    let report = sync(&env, &fake.options()).await.expect("incremental");
    assert_eq!(report.summary.published, 1, "{report}");
    one_page_search(&fake, "/rest/api/content/search");
}

/// The binary: config file for the site, token from the environment, the
/// summary line on stdout, and the token nowhere in the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tributary_sync_confluence_through_the_binary() {
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, fillers(2)).await;
    let toml = format!(
        "[confluence]\nbase_url = \"{}/wiki\"\nflavor = \"cloud\"\ninstance = \"test\"\nspaces = [\"ENG\"]\nemail = \"bot@example.com\"\n",
        fake.uri()
    );
    let binary = BinarySync::new(
        &env,
        "confluence",
        &toml,
        "TRIBUTARY_CONFLUENCE_TOKEN",
        TOKEN,
    );
    binary.dry_run_then_run_two(&env).await;

    fake.forbid("ENG", true);
    let out = binary.run(&["--full"]).await;
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

fn listing_path(flavor: ConfluenceFlavor) -> &'static str {
    match flavor {
        ConfluenceFlavor::Cloud => "/wiki/api/v2/spaces/1001/pages",
        ConfluenceFlavor::Datacenter => "/rest/api/content",
    }
}

fn search_path(flavor: ConfluenceFlavor) -> &'static str {
    match flavor {
        ConfluenceFlavor::Cloud => "/wiki/rest/api/content/search",
        ConfluenceFlavor::Datacenter => "/rest/api/content/search",
    }
}

fn edited(mut page: FakePage, version: u64, when: &str) -> FakePage {
    page.version = version;
    page.when = utc(when);
    page.storage = format!("<p>{} edited to version {version}.</p>", page.title);
    page
}

/// Issue 11 item 13: pages that change while a run pages (results paged by
/// position) shift the others; none may be lost, first sync or incremental.
#[rstest]
#[case::cloud(ConfluenceFlavor::Cloud)]
#[case::datacenter(ConfluenceFlavor::Datacenter)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_during_paging_lose_no_page(#[case] flavor: ConfluenceFlavor) {
    let (env, fake) = FakeConfluence::with_env(flavor, fillers(6)).await;
    let mut cfg = fake.config();
    cfg.site.overlap_secs = 0;
    cfg.include_blogposts = false;
    let opts = fake.options_for(cfg);
    // First sync: page 1 is trashed before the second listing page, so the
    // listing moves up one and page 3 is never on a page.
    let mut trashed = fake.page(1);
    trashed.status = "trashed".into();
    fake.edit_before_next_page(listing_path(flavor), trashed);
    let report = sync(&env, &opts).await.expect("first sync");
    let docs = env.latest_documents().await;
    for n in 2..=6 {
        assert!(docs.contains_key(&doc_id(n)), "page {n} lost: {report}");
    }

    // Incremental: 2, 3 and 4 edited; 2 edited again before the second
    // search page moves behind the cursor, and 3 is never on a page.
    fake.put(edited(fake.page(2), 2, "2025-01-10T09:00:00Z"));
    fake.put(edited(fake.page(3), 2, "2025-01-10T09:01:00Z"));
    fake.put(edited(fake.page(4), 2, "2025-01-10T09:02:00Z"));
    fake.edit_before_next_page(
        search_path(flavor),
        edited(fake.page(2), 3, "2025-01-10T09:10:00Z"),
    );
    let report = sync(&env, &opts).await.expect("incremental");
    let docs = env.latest_documents().await;
    for (n, version) in [(2, 3), (3, 2), (4, 2)] {
        assert_eq!(
            docs[&doc_id(n)].metadata["version"],
            version,
            "page {n} stayed old: {report}"
        );
    }
    assert_eq!(
        cursor(&env).await["spaces"]["ENG"]["watermark"],
        "2025-01-10T09:10:00Z"
    );

    // A quiet run: one search page, no second walk.
    fake.take_log();
    let quiet = sync(&env, &opts).await.expect("quiet");
    assert_eq!(quiet.summary.published, 0, "{quiet}");
    one_page_search(&fake, search_path(flavor));
}

/// Issue 11 item 14: a page restored from the trash keeps its version; the
/// prune listing sees it and it is published again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_restored_from_the_trash_is_republished_by_the_prune() {
    // Page 3 keeps the watermark far from page 2: no search window sees it.
    let spread = [(1, 1), (2, 2), (3, 30)].map(|(n, minute)| filler(n, minute));
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Datacenter, spread).await;
    let mut opts = fake.options();
    opts.run.prune = true;
    assert_eq!(sync(&env, &opts).await.expect("sync").summary.published, 3);
    let mut trashed = fake.page(2);
    trashed.status = "trashed".into();
    fake.put(trashed);
    let report = sync(&env, &opts).await.expect("prune");
    assert_eq!(report.summary.tombstones, 1, "{report}");

    let mut restored = fake.page(2);
    restored.status = "current".into(); // same version, same time
    fake.put(restored);
    let report = sync(&env, &opts).await.expect("prune again");
    assert_eq!(
        (report.summary.published, report.summary.tombstones),
        (1, 0),
        "{report}"
    );
    let items = env.state().items("confluence:test").await.expect("items");
    assert!(!items[&doc_id(2)].deleted);
    let again = sync(&env, &opts).await.expect("steady");
    assert_eq!(again.summary.published, 0, "republished once only: {again}");
}

/// Issue 11 item 15: a renamed parent renews every descendant's breadcrumb
/// in the same run; a move and a label edit (no new version) are found by
/// the prune listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renames_moves_and_label_edits_renew_breadcrumbs_and_labels() {
    let mut home = filler(1, 1);
    home.title = "Home".into();
    let mut runbooks = filler(2, 2);
    runbooks.title = "Runbooks".into();
    runbooks.parent = Some(1);
    let mut lag = filler(3, 3);
    lag.title = "Lag".into();
    lag.parent = Some(2);
    let mut deep = filler(4, 4);
    deep.title = "Deep".into();
    deep.parent = Some(3);
    // A later page keeps the search windows away from the tree.
    let tree = [home, runbooks, lag, deep, filler(5, 30)];
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, tree).await;
    let mut opts = fake.options();
    opts.run.prune_every = 0;
    sync(&env, &opts).await.expect("first sync");
    assert_eq!(
        env.latest_documents().await[&doc_id(4)].title,
        "Home > Runbooks > Lag > Deep"
    );

    let mut renamed = edited(fake.page(2), 2, "2025-01-10T09:00:00Z");
    renamed.title = "Playbooks".into();
    fake.put(renamed);
    let report = sync(&env, &opts).await.expect("incremental");
    let docs = env.latest_documents().await;
    assert_eq!(docs[&doc_id(3)].title, "Home > Playbooks > Lag", "{report}");
    assert_eq!(docs[&doc_id(4)].title, "Home > Playbooks > Lag > Deep");
    assert_eq!(
        docs[&doc_id(4)].metadata["breadcrumb"],
        "Home > Playbooks > Lag > Deep"
    );

    // No new versions: Lag moves under Home, Home gets a label.
    let mut moved = fake.page(3);
    moved.parent = Some(1);
    fake.put(moved);
    let mut labelled = fake.page(1);
    labelled.labels = vec!["docs".into(), "start-here".into()];
    fake.put(labelled);
    let quiet = sync(&env, &opts).await.expect("incremental");
    assert_eq!(
        quiet.summary.published, 0,
        "nothing bumped a version: {quiet}"
    );
    opts.run.prune = true;
    let report = sync(&env, &opts).await.expect("prune");
    let docs = env.latest_documents().await;
    assert_eq!(docs[&doc_id(3)].title, "Home > Lag", "{report}");
    assert_eq!(docs[&doc_id(4)].title, "Home > Lag > Deep");
    assert_eq!(
        docs[&doc_id(1)].metadata["labels"],
        serde_json::json!(["docs", "start-here"])
    );
    assert_eq!(report.summary.tombstones, 0);
    let steady = sync(&env, &opts).await.expect("steady");
    assert_eq!(steady.summary.published, 0, "{steady}");
}

/// Issue 11 item 16: footer comments (paged) are part of the page's
/// document; a new comment (no new page version) renews it.
#[rstest]
#[case::cloud(ConfluenceFlavor::Cloud)]
#[case::datacenter(ConfluenceFlavor::Datacenter)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn footer_comments_are_indexed(#[case] flavor: ConfluenceFlavor) {
    let (env, fake) = FakeConfluence::with_env(flavor, []).await;
    let mut page = filler(1, 1);
    page.comments = (1..=3)
        .map(|i| FakeComment {
            id: format!("50{i}"),
            author: "Bob Builder".into(),
            when: utc(&format!("2025-01-10T08:0{i}:30Z")),
            storage: format!("<p>Comment number {i} says <b>rotate the keys</b>.</p>"),
        })
        .collect();
    fake.put(page);
    let opts = fake.options();
    sync(&env, &opts).await.expect("sync");
    let log = fake.take_log();
    let comment_requests = log
        .iter()
        .filter(|l| l.path.ends_with("/footer-comments") || l.path.ends_with("/child/comment"))
        .count();
    assert_eq!(comment_requests, 2, "3 comments, 2 per page");
    let d = env
        .latest_documents()
        .await
        .remove(&doc_id(1))
        .expect("doc");
    assert!(d.body.text.contains("## Comments"), "{}", d.body.text);
    for i in 1..=3 {
        assert!(
            d.body
                .text
                .contains(&format!("Comment number {i} says rotate the keys.")),
            "{}",
            d.body.text
        );
    }
    assert_eq!(d.metadata["comment_count"], 3);

    let mut page = fake.page(1);
    page.comments.push(FakeComment {
        id: "509".into(),
        author: "Ann".into(),
        when: utc("2025-01-10T09:00:00Z"),
        storage: "<p>Fixed in the new release.</p>".into(),
    });
    fake.put(page);
    let report = sync(&env, &opts).await.expect("incremental");
    assert_eq!(report.summary.published, 1, "{report}");
    let d = env
        .latest_documents()
        .await
        .remove(&doc_id(1))
        .expect("doc");
    assert!(
        d.body.text.contains("Fixed in the new release."),
        "{}",
        d.body.text
    );

    env.index_until_idle().await;
    let text: String = env
        .points(&doc_id(1))
        .await
        .iter()
        .map(|p| p.payload.text.clone())
        .collect();
    assert!(text.contains("Fixed in the new release."), "{text}");
}

/// Issue 11 item 17: a refused token fails the run once (not once per
/// space), and `requests` counts every HTTP request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_fails_the_run_once_and_requests_count_every_request() {
    let (env, fake) = FakeConfluence::with_env(ConfluenceFlavor::Cloud, fillers(1)).await;
    let mut cfg = fake.config();
    cfg.spaces = vec!["ENG".into(), "SEC".into()];
    let good = fake.options_for(cfg.clone());
    let report = sync(&env, &good).await.expect("sync");
    let log = fake.take_log();
    assert_eq!(report.requests, log.len() as u64, "{report}");

    let mut bad = good.clone();
    bad.http.auth = atlassian::auth(true, EMAIL, "wrong", "TRIBUTARY_CONFLUENCE_TOKEN");
    let err = sync(&env, &bad).await.expect_err("401");
    assert!(
        !matches!(err, ConfluenceSyncError::Spaces { .. }),
        "a 401 is not a per-space failure: {err}"
    );
    let message = err.to_string();
    assert_eq!(message.matches("401").count(), 1, "{message}");
    assert!(!message.contains("watermarks moved"), "{message}");
    // Stopped at the first 401: only the first space's lookup was asked
    // for. (A transport error may repeat that one request, as the client
    // retries connection errors; CI once logged it twice.)
    let log = fake.take_log();
    let first = log.first().expect("the refused request was logged");
    assert!(
        first.query.get("keys").map(String::as_str) == Some("ENG")
            && log
                .iter()
                .all(|r| r.path == first.path && r.query == first.query),
        "stopped at the first 401: {log:?}"
    );
}
