//! The Jira connector against a local Atlassian-shaped HTTP server, the real
//! Kafka broker and PostgreSQL.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rstest::rstest;
use serde_json::{json, Value};
use tributary_connectors::jira::{self, JiraSyncError, JiraSyncOptions, JiraSyncReport};
use tributary_core::config::JiraFlavor;
use tributary_core::Document;

use crate::jira_fake::{adf, FakeIssue, FakeJira, TOKEN};
use crate::support::atlassian::{utc, BinarySync};
use crate::support::TestEnv;

async fn sync(env: &TestEnv, opts: &JiraSyncOptions) -> Result<JiraSyncReport, JiraSyncError> {
    jira::sync(opts, &env.target(&env.state())).await
}

/// A sync with the fake's own options, which must succeed.
async fn sync_ok(env: &TestEnv, fake: &FakeJira) -> JiraSyncReport {
    sync(env, &fake.options()).await.expect("sync")
}

fn doc_id(key: &str) -> String {
    format!("jira:test:{key}")
}

/// `body`: ADF (Cloud) or wiki markup (Data Center).
fn comment(author: &str, body: Value) -> Value {
    json!({"author": {"displayName": author}, "created": "2025-01-01T10:00:00.000+0000", "body": body})
}

fn rich_adf() -> Value {
    let text = |t: &str| json!({"type": "text", "text": t});
    let para = |c: Vec<Value>| json!({"type": "paragraph", "content": c});
    let item = |c: Vec<Value>| json!({"type": "listItem", "content": c});
    json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Runbook")]},
        para(vec![text("Ask "), json!({"type": "mention", "attrs": {"id": "5b10", "text": "@Priya Patel"}}),
                  text(" first "), json!({"type": "emoji", "attrs": {"shortName": ":rotating_light:"}})]),
        {"type": "bulletList", "content": [
            item(vec![para(vec![text("check lag")]),
                json!({"type": "orderedList", "content": [item(vec![para(vec![text("describe the group")])])]})]),
        ]},
        {"type": "codeBlock", "attrs": {"language": "sh"}, "content": [text("kafka-consumer-groups --describe")]},
        {"type": "table", "content": [
            {"type": "tableRow", "content": [
                {"type": "tableHeader", "content": [para(vec![text("Topic")])]},
                {"type": "tableHeader", "content": [para(vec![text("Owner")])]}]},
            {"type": "tableRow", "content": [
                {"type": "tableCell", "content": [para(vec![text("payments")])]},
                {"type": "tableCell", "content": [para(vec![text("team-pay")])]}]},
        ]},
        {"type": "holographicWidget", "content": [para(vec![text("kept despite the unknown node")])]},
    ]})
}

fn issue(n: u32, minute: u32) -> FakeIssue {
    FakeIssue::new(
        &format!("OPS-{n}"),
        &format!("2025-01-10T08:{minute:02}:00Z"),
        &format!("Issue number {n}"),
        adf(&format!("Body of issue {n}.")),
    )
}

/// OPS-1 to OPS-`n`, a minute apart.
fn issues(n: u32) -> impl Iterator<Item = FakeIssue> {
    (1..=n).map(|n| issue(n, n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_pages_with_next_page_token_converts_adf_and_pages_comments() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, issues(6)).await;
    let mut rich = FakeIssue::new(
        "OPS-7",
        "2025-01-10T08:30:00Z",
        "Consumer lag runbook",
        rich_adf(),
    );
    rich.comments = (1..=5)
        .map(|i| comment("Sam Lee", adf(&format!("comment number {i}"))))
        .collect();
    fake.put(rich);

    let report = sync_ok(&env, &fake).await;
    assert_eq!(report.summary.published, 7);
    assert_eq!(
        report.pages, 5,
        "7 issues at 2 per page, then one slim re-walk (several pages are no snapshot)"
    );
    assert_eq!(report.unknown_adf_nodes.get("holographicWidget"), Some(&1));
    let log = fake.take_log();
    let searches: Vec<_> = log
        .iter()
        .filter(|l| l.path == "/rest/api/3/search/jql")
        .collect();
    assert_eq!(searches.len(), 5);
    assert!(
        searches.iter().all(|l| l.method == "POST"),
        "JQL goes in the body"
    );
    assert_eq!(
        searches
            .iter()
            .map(|l| l.page_at.clone())
            .collect::<Vec<_>>(),
        [
            None,
            Some("tok-2".into()),
            Some("tok-4".into()),
            Some("tok-6".into()),
            None
        ]
    );
    assert!(
        searches[0].jql.ends_with("ORDER BY updated ASC, key ASC"),
        "{}",
        searches[0].jql
    );
    assert!(
        !log.iter().any(|l| l.path == "/rest/api/3/search"),
        "deprecated endpoint used"
    );
    let comment_pages: Vec<_> = log
        .iter()
        .filter(|l| l.path.ends_with("/OPS-7/comment"))
        .collect();
    assert_eq!(
        comment_pages.len(),
        2,
        "3 comments beyond the 2 inline, 2 per page"
    );

    let docs = env.latest_documents().await;
    assert_eq!(docs.len(), 7);
    let d = &docs[&doc_id("OPS-7")];
    assert_eq!(d.title, "Consumer lag runbook");
    assert_eq!(
        d.url.as_deref(),
        Some(format!("{}/browse/OPS-7", fake.uri()).as_str())
    );
    for needle in [
        "## Runbook",
        "Ask @Priya Patel first :rotating_light:",
        "- check lag\n  1. describe the group",
        "```sh\nkafka-consumer-groups --describe\n```",
        "| Topic | Owner |\n| --- | --- |\n| payments | team-pay |",
        "kept despite the unknown node",
    ] {
        assert!(
            d.body.text.contains(needle),
            "missing {needle:?} in:\n{}",
            d.body.text
        );
    }
    for i in 1..=5 {
        assert!(
            d.body.text.contains(&format!("comment number {i}")),
            "comment {i} missing"
        );
    }
    assert_eq!(d.metadata["comment_count"], 5);
    assert_eq!(d.metadata["assignee"], "Jane Doe");
    assert!(d.metadata.get("assignee_email").is_none());
    assert_eq!(d.updated_at, utc("2025-01-10T08:30:00Z"));

    // Nothing changed: the overlap re-reads the last issues, publishes none.
    let again = sync(&env, &fake.options()).await.expect("sync");
    assert_eq!(
        (again.summary.published, again.summary.unchanged),
        (0, again.summary.scanned)
    );
    assert!(again.summary.scanned >= 1);
    assert_eq!(env.topic_messages(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datacenter_pages_with_start_at_and_reads_wiki_markup() {
    let wiki = (1..=5).map(|n| {
        let mut i = issue(n, n);
        i.description = json!(format!(
            "h2. Issue {n}\n* step *one*\n** nested {{{{code}}}}"
        ));
        i
    });
    let (env, fake) = FakeJira::with_env(JiraFlavor::Datacenter, wiki).await;
    let mut with_comments = issue(6, 6);
    with_comments.description = json!("See [the dashboard|https://grafana.example.com/d/1]");
    with_comments.comments = (1..=3)
        .map(|i| comment("Ray", json!(format!("wiki comment *{i}*"))))
        .collect();
    fake.put(with_comments);

    let report = sync_ok(&env, &fake).await;
    assert_eq!(report.summary.published, 6);
    assert_eq!(
        report.pages, 4,
        "6 issues at 2 per page; `total` ends the walk; then one slim re-walk"
    );
    let starts: Vec<Option<String>> = fake
        .take_log()
        .into_iter()
        .filter(|l| l.path == "/rest/api/2/search")
        .map(|l| l.page_at)
        .collect();
    // Each page after the first starts one early, to notice shifted results.
    assert_eq!(
        starts,
        [
            Some("0".into()),
            Some("1".into()),
            Some("3".into()),
            Some("0".into())
        ]
    );

    let docs = env.latest_documents().await;
    assert_eq!(docs.len(), 6);
    assert_eq!(
        docs[&doc_id("OPS-2")].body.text,
        "## Issue 2\n- step **one**\n  - nested `code`"
    );
    let six = &docs[&doc_id("OPS-6")];
    assert!(
        six.body.text.contains("wiki comment **3**"),
        "{}",
        six.body.text
    );
    assert!(six
        .links
        .iter()
        .any(|l| l.kind == "url" && l.target == "https://grafana.example.com/d/1"));

    // Without `total`, only an empty page ends the walk; nothing is lost.
    fake.hide_total(true);
    let mut full = fake.options();
    full.run.full = true;
    let report = sync(&env, &full).await.expect("full sync");
    assert_eq!(report.summary.scanned, 6);
    // 4 pages, then the slim re-walk: one full page and the empty one.
    assert_eq!((report.summary.published, report.pages), (0, 6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_waited_out_then_the_sync_succeeds() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, issues(1)).await;
    fake.fault(429, Some(1));
    let started = Instant::now();
    let report = sync_ok(&env, &fake).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!((report.retries, report.summary.published), (1, 1));
    let searches = fake
        .take_log()
        .into_iter()
        .filter(|l| l.path.ends_with("/search/jql"))
        .count();
    assert_eq!(searches, 2, "one 429, one success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_names_the_credential_and_fails_the_run() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, issues(1)).await;
    let err = sync(&env, &fake.options_with_token("wrong-token"))
        .await
        .expect_err("a bad token must fail the sync");
    let msg = err.to_string();
    assert!(
        msg.contains("401")
            && msg.contains("bot@example.com")
            && msg.contains("TRIBUTARY_JIRA_TOKEN"),
        "unclear error: {msg}"
    );
    assert!(
        !msg.contains("wrong-token"),
        "the token leaked into the error"
    );
    let state = env.sync_state("jira:test").await;
    assert_eq!(state.last_run_status.as_deref(), Some("failed"));
    assert_eq!(state.watermark, None);
    assert_eq!(env.topic_messages(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jql_reports_the_messages_jira_returns() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, []).await;
    let mut cfg = fake.config();
    cfg.jql = Some("labels = BROKEN (".into());
    let mut opts = fake.options();
    opts.scope =
        tributary_connectors::jira::JiraSyncOptions::from_config(&cfg, opts.http.auth.clone())
            .expect("options")
            .scope;
    let msg = sync(&env, &opts).await.expect_err("bad JQL").to_string();
    assert!(
        msg.contains("Expecting ')'") && msg.contains("labels = BROKEN ("),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_deleted_between_runs_is_tombstoned_after_prune() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, issues(3)).await;
    let mut opts = fake.options();
    opts.run.prune_every = 0; // only on --prune
    assert_eq!(sync(&env, &opts).await.expect("sync").summary.published, 3);

    fake.remove("OPS-2");
    let quiet = sync(&env, &opts).await.expect("sync");
    assert_eq!(
        (quiet.summary.tombstones, quiet.pruned),
        (0, false),
        "no prune was due"
    );

    opts.run.prune = true;
    let pruned = sync(&env, &opts).await.expect("sync with prune");
    assert!(pruned.pruned);
    assert_eq!(
        (pruned.summary.tombstones, pruned.summary.published),
        (1, 1)
    );
    let listing: Vec<_> = fake
        .take_log()
        .into_iter()
        .filter(|l| l.jql.ends_with("ORDER BY key ASC"))
        .collect();
    assert_eq!(listing.len(), 1, "one slim listing page");
    let docs = env.latest_documents().await;
    assert!(docs[&doc_id("OPS-2")].deleted);
    assert!(!docs[&doc_id("OPS-1")].deleted && !docs[&doc_id("OPS-3")].deleted);
    let items = env.state().items("jira:test").await.expect("items");
    assert!(items[&doc_id("OPS-2")].deleted);

    // A second prune has nothing left to do.
    let again = sync(&env, &opts).await.expect("sync");
    assert_eq!((again.summary.tombstones, again.summary.published), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_runs_every_nth_run() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, issues(1)).await;
    let mut opts = fake.options();
    opts.run.prune_every = 2;
    let pruned: Vec<bool> = {
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(sync(&env, &opts).await.expect("sync").pruned);
        }
        out
    };
    assert_eq!(pruned, [false, true, false, true]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_issues_updated_in_the_same_minute_are_both_published() {
    let issue = FakeIssue::new("OPS-1", "2025-01-10T10:00:40Z", "First", adf("first"));
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, [issue]).await;
    let first = sync_ok(&env, &fake).await;
    assert_eq!(first.summary.published, 1);
    assert_eq!(first.watermark, Some(utc("2025-01-10T10:00:40Z")));

    // Updated 30 s *before* the watermark, in the same minute, but only
    // searchable now (Jira's index lags writes).
    fake.put(FakeIssue::new(
        "OPS-2",
        "2025-01-10T10:00:10Z",
        "Second",
        adf("second"),
    ));
    fake.take_log();
    let second = sync_ok(&env, &fake).await;
    assert_eq!((second.summary.published, second.summary.unchanged), (1, 1));
    let jql = fake
        .take_log()
        .into_iter()
        .find(|l| l.path.ends_with("/search/jql"))
        .expect("a search")
        .jql;
    // watermark − 2 min = 09:58:40Z, written in the account's zone (UTC−5)
    // and rounded down to the minute.
    assert!(jql.contains("updated >= \"2025-01-10 04:58\""), "{jql}");
    let docs = env.latest_documents().await;
    assert_eq!(docs.len(), 2);
    assert_eq!(
        env.topic_messages(),
        2,
        "the first issue was published again"
    );
    let state = env.sync_state("jira:test").await;
    assert_eq!(state.watermark, Some(utc("2025-01-10T10:00:40Z")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_is_completed_by_the_next_one() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, issues(6)).await;
    let held = fake.hold_search(3);
    let opts = fake.options();
    let store = env.state();
    let target = env.target(&store);
    let run = jira::sync(&opts, &target);
    // The third page is requested only after pages 1–2 were published and
    // recorded; the run is dropped (killed at its await point) while that
    // request hangs.
    let third_page_requested =
        tokio::task::spawn_blocking(move || held.recv_timeout(Duration::from_secs(60)));
    tokio::select! {
        result = run => panic!("the run finished instead of being killed: {result:?}"),
        signal = third_page_requested => signal.expect("join").expect("the third page was requested"),
    }
    fake.release_hold();

    let items = env.state().items("jira:test").await.expect("items");
    let mut recorded: Vec<&String> = items.keys().collect();
    recorded.sort();
    assert_eq!(
        recorded,
        [
            &doc_id("OPS-1"),
            &doc_id("OPS-2"),
            &doc_id("OPS-3"),
            &doc_id("OPS-4")
        ]
    );
    let state = env.sync_state("jira:test").await;
    assert_eq!(
        state.watermark, None,
        "the watermark moved in an unfinished run"
    );
    assert_eq!(env.topic_messages(), 4);

    let rest = sync_ok(&env, &fake).await;
    assert_eq!((rest.summary.published, rest.summary.unchanged), (2, 4));
    let docs = env.latest_documents().await;
    let mut ids: Vec<&String> = docs.keys().collect();
    ids.sort();
    let expected: Vec<String> = (1..=6).map(|n| doc_id(&format!("OPS-{n}"))).collect();
    assert_eq!(ids, expected.iter().collect::<Vec<_>>());
    assert_eq!(
        env.topic_messages(),
        6,
        "issues of the killed run were published twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_jira_issues_are_found_by_search_with_source_jira() {
    let fixtures = [
        ("OPS-1", "Office plants need water", "The ficus on floor three wilts when nobody waters it on Fridays."),
        ("OPS-2", "Consumer lag on the payments topic", "The payments consumer group falls behind after every deploy; partitions are rebalanced and lag grows for ten minutes."),
        ("OPS-3", "Renew the TLS certificate", "The wildcard certificate for the public site expires next month; renew it with the CA."),
    ];
    let fixtures = fixtures
        .iter()
        .enumerate()
        .map(|(i, (key, summary, body))| {
            FakeIssue::new(key, &format!("2025-01-10T08:0{i}:00Z"), summary, adf(body))
        });
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, fixtures).await;
    env.write_note(
        "lag.md",
        "---\ntitle: Lag notes\n---\nConsumer lag on the payments topic, vault edition.\n",
    );
    assert_eq!(sync_ok(&env, &fake).await.summary.published, 3);
    env.sync().await.expect("vault sync");
    let stats = env.index_until_idle().await;
    assert_eq!(stats.docs.indexed, 4);

    let searcher = env.searcher();
    let hits = searcher
        .search("payments consumers falling behind", Some("jira".into()), 3)
        .await
        .expect("search");
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.source == "jira"), "{hits:#?}");
    assert_eq!(hits[0].doc_id, doc_id("OPS-2"), "{hits:#?}");
    assert_eq!(hits[0].title, "Consumer lag on the payments topic");
    assert_eq!(
        hits[0].location,
        Some(format!("{}/browse/OPS-2", fake.uri()))
    );
    let by_source: BTreeMap<String, usize> = searcher
        .search("payments consumer lag", None, 10)
        .await
        .expect("search")
        .into_iter()
        .fold(BTreeMap::new(), |mut m, h| {
            *m.entry(h.source).or_default() += 1;
            m
        });
    assert!(
        by_source.contains_key("vault") && by_source.contains_key("jira"),
        "{by_source:?}"
    );
}

/// The binary: config file for the site, token from the environment, the
/// summary line on stdout, and the token nowhere in the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tributary_sync_jira_through_the_binary() {
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, issues(2)).await;
    let toml = format!(
        "[jira]\nbase_url = \"{}\"\nflavor = \"cloud\"\ninstance = \"test\"\nprojects = [\"OPS\"]\nemail = \"bot@example.com\"\n",
        fake.uri()
    );
    let binary = BinarySync::new(&env, "jira", &toml, "TRIBUTARY_JIRA_TOKEN", TOKEN);
    let stdout = binary.dry_run_then_run_two(&env).await;
    assert!(stdout.contains("pages 1, retries 0"), "{stdout}");
}

/// Issue 11 item 13: an issue edited while the run pages moves behind the
/// cursor; the one after it shifts into the page already read.
#[rstest]
#[case::cloud(JiraFlavor::Cloud)]
#[case::datacenter(JiraFlavor::Datacenter)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_during_paging_loses_no_issue(#[case] flavor: JiraFlavor) {
    let (env, fake) = FakeJira::with_env(flavor, issues(6)).await;
    let opts = fake.options();
    // Answered before the second search page: OPS-1 now sorts last, so the
    // second page (offset 2) starts at OPS-4 and OPS-3 is never on a page.
    let mut edited = fake.issue("OPS-1");
    edited.updated = utc("2025-01-10T08:30:00Z");
    edited.summary = "Issue number 1, edited".into();
    fake.edit_at_search(2, edited);
    let report = sync(&env, &opts).await.expect("sync");
    let docs = env.latest_documents().await;
    for n in 1..=6 {
        assert!(
            docs.contains_key(&doc_id(&format!("OPS-{n}"))),
            "OPS-{n} was never published: {report}"
        );
    }
    assert_eq!(docs[&doc_id("OPS-1")].title, "Issue number 1, edited");
    assert_eq!(report.watermark, Some(utc("2025-01-10T08:30:00Z")));

    // A quiet incremental run re-reads one page: no second walk needed.
    fake.take_log();
    let quiet = sync(&env, &opts).await.expect("incremental");
    assert_eq!(quiet.summary.published, 0, "{quiet}");
    let searches = fake
        .take_log()
        .into_iter()
        .filter(|l| !l.jql.is_empty())
        .count();
    assert_eq!(searches, 1, "one search page, no verification walk");
}

/// Issue 11 item 14: an issue hidden (tombstoned by a prune) and made
/// visible again keeps its old `updated`; the next prune republishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_visible_again_is_republished_by_the_prune() {
    // OPS-3 keeps the watermark far from OPS-2: no search window sees it.
    let spread = [(1, 1), (2, 2), (3, 30)].map(|(n, minute)| issue(n, minute));
    let (env, fake) = FakeJira::with_env(JiraFlavor::Cloud, spread).await;
    let mut opts = fake.options();
    opts.run.prune = true;
    assert_eq!(sync(&env, &opts).await.expect("sync").summary.published, 3);
    let hidden = fake.issue("OPS-2");
    fake.remove("OPS-2");
    let report = sync(&env, &opts).await.expect("prune");
    assert_eq!(report.summary.tombstones, 1, "{report}");

    fake.put(hidden); // same `updated`: the search window never sees it
    let report = sync(&env, &opts).await.expect("prune again");
    assert_eq!(
        (report.summary.published, report.summary.tombstones),
        (1, 0),
        "{report}"
    );
    let items = env.state().items("jira:test").await.expect("items");
    assert!(!items[&doc_id("OPS-2")].deleted);
    let docs: Vec<Document> = env
        .published_documents()
        .await
        .into_iter()
        .filter(|d| d.id == doc_id("OPS-2"))
        .collect();
    assert_eq!(docs.len(), 3, "published, tombstoned, published again");
    let last = docs.iter().filter(|d| !d.deleted).count();
    assert_eq!(last, 2);

    let again = sync(&env, &opts).await.expect("steady");
    assert_eq!(again.summary.published, 0, "republished once only");
}

/// Issue 11 item 17: Data Center wiki mentions read as display names and
/// attachments keep their file names, as Cloud's ADF does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datacenter_mentions_are_display_names_and_attachments_keep_their_names() {
    let lag = FakeIssue::new(
        "OPS-1",
        "2025-01-10T08:01:00Z",
        "Broker lag",
        json!("Ask [~jdoe] or [~ghost], see !lag-graph.png|thumbnail! and [^broker.log]."),
    );
    let (env, fake) = FakeJira::with_env(JiraFlavor::Datacenter, [lag]).await;
    let report = sync_ok(&env, &fake).await;
    assert_eq!(report.summary.published, 1);
    let docs = env.latest_documents().await;
    let text = &docs[&doc_id("OPS-1")].body.text;
    assert!(
        text.contains("Ask @Jane Doe or @ghost, see lag-graph.png and broker.log."),
        "{text}"
    );
}
