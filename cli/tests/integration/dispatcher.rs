//! The dispatcher against the real Kafka and PostgreSQL: a fixture corpus
//! written into the registry (the `documents` table the indexer keeps), and
//! one path through the real connector and indexer.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::TopicPartitionList;
use serde_json::{json, Value};
use tributary_core::kafka;
use tributary_dispatcher::{dispatch, DispatchError, DispatchOptions, Report, RunResult};

use crate::support::{process, TestEnv};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A TestEnv plus its own work-items topic, dropped with it.
struct DispatchEnv {
    env: TestEnv,
}

impl DispatchEnv {
    async fn new() -> DispatchEnv {
        let mut env = TestEnv::new().await;
        let schema = env.config.database.schema.clone().expect("schema");
        env.config.dispatcher.work_items_topic = format!("{schema}.work-items");
        kafka::ensure_topics(
            &env.config.kafka,
            &[env.config.dispatcher.work_items_topic.clone()],
        )
        .await
        .expect("work-items topic");
        DispatchEnv { env }
    }

    fn topic(&self) -> &str {
        &self.env.config.dispatcher.work_items_topic
    }

    async fn dispatch(&self, all: bool) -> Result<Report, DispatchError> {
        let options = DispatchOptions {
            dry_run: false,
            all,
            traceparent: Some(TRACEPARENT.into()),
        };
        dispatch(&self.env.config, &self.env.pool, &options).await
    }

    /// The binary with `args`: (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = self.tributary().args(args).output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// Communities a dispatch recorded as sent.
    async fn recorded_communities(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM dispatch_communities")
            .fetch_one(&self.env.pool)
            .await
            .expect("count")
    }

    /// Every run's result and message, in no particular order.
    async fn runs(&self) -> Vec<(String, Option<String>)> {
        sqlx::query_as("SELECT result, message FROM dispatch_runs")
            .fetch_all(&self.env.pool)
            .await
            .expect("runs")
    }

    /// The binary, configured for this test's topics and schema.
    fn tributary(&self) -> Command {
        let mut cmd = process::command(&self.env, &self.env.config.store.path);
        cmd.env("TRIBUTARY_DISPATCHER__WORK_ITEMS_TOPIC", self.topic())
            .env("RUST_LOG", "warn")
            .env_remove("TRACEPARENT");
        cmd
    }

    /// Every message on the work-items topic, read by a plain consumer
    /// from the beginning: (key, value, traceparent header).
    fn work_items(&self, expected: usize) -> Vec<(String, Value, Option<String>)> {
        let consumer: BaseConsumer = kafka::client_config(&self.env.config.kafka)
            .set("group.id", format!("{}-reader", self.topic()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        for p in 0..self.env.config.kafka.partitions {
            tpl.add_partition_offset(self.topic(), p, rdkafka::Offset::Beginning)
                .expect("partition");
        }
        consumer.assign(&tpl).expect("assign");
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        // Bounded poll until the expected count arrived, then one more
        // short poll to catch any extra message that must not be there.
        while out.len() < expected && Instant::now() < deadline {
            if let Some(msg) = consumer.poll(Duration::from_millis(200)) {
                out.push(decode(&msg.expect("message")));
            }
        }
        let quiet = Instant::now() + Duration::from_secs(1);
        while Instant::now() < quiet {
            if let Some(msg) = consumer.poll(Duration::from_millis(200)) {
                out.push(decode(&msg.expect("message")));
            }
        }
        out
    }
}

fn decode(msg: &rdkafka::message::BorrowedMessage<'_>) -> (String, Value, Option<String>) {
    let key = String::from_utf8(msg.key().expect("key").to_vec()).expect("utf8 key");
    let value: Value = serde_json::from_slice(msg.payload().expect("payload")).expect("JSON");
    let traceparent = msg.headers().and_then(|h| {
        h.iter()
            .find(|h| h.key == "traceparent")
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).to_string())
    });
    (key, value, traceparent)
}

/// One registry row, as the indexer writes it (plus metadata).
#[derive(serde::Deserialize)]
struct Row {
    id: String,
    /// The community the dispatcher must put it in.
    community: String,
    title: String,
    url: Option<String>,
    /// (kind, target)
    links: Vec<(String, String)>,
    metadata: Option<Value>,
    hash: String,
}

async fn put(pool: &sqlx::PgPool, row: &Row) {
    let mut parts = row.id.splitn(3, ':');
    let kind = parts.next().expect("kind");
    let instance = parts.next().expect("instance");
    let links: Vec<Value> = row
        .links
        .iter()
        .map(|(kind, target)| json!({"kind": kind, "target": target}))
        .collect();
    sqlx::query(
        "INSERT INTO documents (doc_id, source_kind, source_instance, title, url, content_hash,
                                chunk_count, deleted, updated_at, indexed_at, links, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, 1, false, now(), now(), $7, $8)
         ON CONFLICT (doc_id) DO UPDATE SET title = EXCLUDED.title, url = EXCLUDED.url,
           content_hash = EXCLUDED.content_hash, deleted = false, indexed_at = now(),
           links = EXCLUDED.links, metadata = EXCLUDED.metadata",
    )
    .bind(&row.id)
    .bind(kind)
    .bind(instance)
    .bind(&row.title)
    .bind(row.url.as_deref())
    .bind(&row.hash)
    .bind(Value::Array(links))
    .bind(&row.metadata)
    .execute(pool)
    .await
    .expect("insert document");
}

/// The registry of `fixtures/dispatch_registry.json`: two known clusters
/// across the three sources (kafka, postgres), plus unlinked documents of
/// one Jira project (hr) and one vault folder (misc), grouped by container. Kafka: a note naming a
/// Jira key and linking a Confluence URL; an issue linking the page; the
/// page embedding the issue (jira macro). PostgreSQL: an alias, a moved
/// Jira key (PG-3 is now DB-7), a page URL, a page linking the issue.
fn corpus() -> Vec<Row> {
    serde_json::from_str(include_str!("fixtures/dispatch_registry.json")).expect("fixture JSON")
}

/// The ids of the fixture's `community` (kafka, postgres, hr, misc): what
/// the dispatcher must group together.
fn community(name: &str) -> BTreeSet<String> {
    corpus()
        .into_iter()
        .filter(|r| r.community == name)
        .map(|r| r.id)
        .collect()
}

async fn fixture(pool: &sqlx::PgPool) {
    for row in corpus() {
        put(pool, &row).await;
    }
    // PG-3 moved to DB-7: what an earlier run remembered.
    sqlx::query("INSERT INTO dispatch_jira_keys (source_instance, issue_key, issue_id) VALUES ('acme', 'PG-3', '10007')")
        .execute(pool)
        .await
        .expect("known key");
}

fn expected_communities() -> BTreeSet<BTreeSet<String>> {
    ["kafka", "postgres", "hr", "misc"].map(community).into()
}

fn members(item: &Value) -> BTreeSet<String> {
    item["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

async fn run_results(pool: &sqlx::PgPool) -> Vec<(String, i32, i32)> {
    sqlx::query_as(
        "SELECT result, changed_communities, work_items FROM dispatch_runs ORDER BY run_id",
    )
    .fetch_all(pool)
    .await
    .expect("runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixture_corpus_gives_its_communities_and_only_changes_are_redispatched() {
    let d = DispatchEnv::new().await;
    let pool = &d.env.pool;
    fixture(pool).await;

    let first = d.dispatch(false).await.expect("dispatch");
    assert_eq!(first.result, RunResult::Published, "{}", first.summary);
    assert_eq!(first.communities.len(), 4, "{:#?}", first.communities);
    assert_eq!(first.work_items, 4);
    assert_eq!(first.changed_communities, 4);
    // Never Written, the two "ENG Home" ancestors and DB-1 name nothing
    // indexed; menu.png is an attachment, not a document.
    assert_eq!(first.links_unresolved, 4, "{:#?}", first.unresolved_sample);

    let items = d.work_items(4);
    assert_eq!(items.len(), 4, "one work item per community");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/work-item.schema.json"
        ))
        .expect("schema file"),
    )
    .expect("schema JSON");
    let mut found = BTreeSet::new();
    let mut ids = BTreeMap::new();
    for (key, item, traceparent) in &items {
        check_schema(&schema, item, "$");
        assert_eq!(item["community_id"], key.as_str(), "keyed by community id");
        assert_eq!(item["reason"], "new");
        assert_eq!(item["trace"]["traceparent"], TRACEPARENT);
        assert_eq!(traceparent.as_deref(), Some(TRACEPARENT));
        assert!(item["members"]
            .as_array()
            .expect("members")
            .iter()
            .all(|m| m["changed"] == true));
        ids.insert(members(item), key.clone());
        found.insert(members(item));
    }
    assert_eq!(found, expected_communities());
    let lag_member = items
        .iter()
        .flat_map(|(_, item, _)| item["members"].as_array().expect("members").clone())
        .find(|m| m["id"] == "jira:acme:OPS-12")
        .expect("OPS-12 dispatched");
    assert_eq!(lag_member["title"], "Consumer lag on payments");
    assert_eq!(
        lag_member["url"],
        "https://acme.atlassian.net/browse/OPS-12"
    );
    assert_eq!(
        lag_member["source"],
        json!({"kind": "jira", "instance": "acme"})
    );

    // Nothing changed: nothing published, and said so.
    let again = d.dispatch(false).await.expect("dispatch");
    assert_eq!(again.result, RunResult::Unchanged);
    assert_eq!(again.work_items, 0);
    assert!(
        again.summary.contains("0 changed communities"),
        "{}",
        again.summary
    );
    assert_eq!(d.work_items(4).len(), 4, "no new message");

    // One document edited: only its community, with that member marked.
    let mut failover = corpus()
        .into_iter()
        .find(|r| r.id == "vault:test:runbooks/Failover.md")
        .expect("in the corpus");
    failover.hash = "h-failover-2".into();
    put(pool, &failover).await;
    let edited = d.dispatch(false).await.expect("dispatch");
    assert_eq!(
        (edited.result, edited.work_items, edited.changed_communities),
        (RunResult::Published, 1, 1)
    );
    let items = d.work_items(5);
    assert_eq!(items.len(), 5);
    let new = of_run(&items, &edited);
    assert_eq!(new.len(), 1);
    let (key, item) = &new[0];
    assert_eq!(item["reason"], "changed");
    assert_eq!(
        key,
        &ids[&community("postgres")],
        "an edit keeps the community id"
    );
    assert_eq!(
        item["changed_members"],
        json!(["vault:test:runbooks/Failover.md"])
    );
    for m in item["members"].as_array().expect("members") {
        assert_eq!(
            m["changed"],
            m["id"] == "vault:test:runbooks/Failover.md",
            "{m}"
        );
    }
    assert!(item["previous_fingerprint"].is_string());
    assert_ne!(item["previous_fingerprint"], item["fingerprint"]);

    // A document deleted: its community changes, keeps its id, says who left.
    sqlx::query(
        "UPDATE documents SET deleted = true, indexed_at = now() WHERE doc_id = 'jira:acme:DB-7'",
    )
    .execute(pool)
    .await
    .expect("delete");
    let deleted = d.dispatch(false).await.expect("dispatch");
    assert_eq!(
        (deleted.work_items, deleted.changed_communities),
        (1, 1),
        "{}",
        deleted.summary
    );
    let items = d.work_items(6);
    assert_eq!(items.len(), 6);
    let new = of_run(&items, &deleted);
    assert_eq!(new.len(), 1);
    let (key, item) = &new[0];
    assert_eq!(
        key,
        &ids[&community("postgres")],
        "a deletion keeps the community id"
    );
    assert_eq!(item["reason"], "changed");
    assert_eq!(item["removed_members"], json!(["jira:acme:DB-7"]));
    assert_eq!(item["sizes"]["members"], 3);
    check_schema(&schema, item, "$");

    // --all: every community again, the unchanged ones as republished.
    let all = d.dispatch(true).await.expect("dispatch");
    assert_eq!((all.work_items, all.changed_communities), (4, 0));
    let items = d.work_items(10);
    assert_eq!(items.len(), 10);
    let republished = of_run(&items, &all);
    assert_eq!(republished.len(), 4);
    assert!(republished
        .iter()
        .all(|(_, i)| i["reason"] == "republished"));

    assert_eq!(
        run_results(pool).await,
        [
            ("published".to_string(), 4, 4),
            ("unchanged".to_string(), 0, 0),
            ("published".to_string(), 1, 1),
            ("published".to_string(), 1, 1),
            ("published".to_string(), 0, 4),
        ]
    );
}

/// The work items a run published (messages of several partitions come
/// back in no particular order).
fn of_run(items: &[(String, Value, Option<String>)], report: &Report) -> Vec<(String, Value)> {
    let run_id = report.run_id.expect("a recorded run");
    items
        .iter()
        .filter(|(_, item, _)| item["run_id"] == run_id)
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_publishes_and_records_nothing() {
    let d = DispatchEnv::new().await;
    fixture(&d.env.pool).await;
    let options = DispatchOptions {
        dry_run: true,
        all: false,
        traceparent: None,
    };
    let report = dispatch(&d.env.config, &d.env.pool, &options)
        .await
        .expect("dry run");
    assert_eq!(
        (report.result, report.work_items, report.run_id),
        (RunResult::Published, 4, None)
    );
    assert!(
        report.summary.contains("would be published"),
        "{}",
        report.summary
    );
    assert!(d.work_items(0).is_empty());
    assert!(run_results(&d.env.pool).await.is_empty());
    assert_eq!(d.recorded_communities().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_recorded_when_kafka_cannot_take_the_work_items() {
    let mut d = DispatchEnv::new().await;
    fixture(&d.env.pool).await;
    let real_topic = d.env.config.dispatcher.work_items_topic.clone();
    d.env.config.dispatcher.work_items_topic = format!("{real_topic}.missing");
    let err = d
        .dispatch(false)
        .await
        .expect_err("a missing topic fails the run");
    assert!(err.to_string().contains("does not exist"), "{err}");
    d.env.config.dispatcher.work_items_topic = real_topic;
    assert_eq!(
        d.recorded_communities().await,
        0,
        "a dispatch is recorded only after Kafka acknowledged it"
    );
    let runs = d.runs().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].0, "failed");
    // The next run publishes everything.
    assert_eq!(d.dispatch(false).await.expect("dispatch").work_items, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_corpus_is_starving_exit_2_and_recorded() {
    let d = DispatchEnv::new().await;
    let (code, stdout, stderr) = d.run(&["migrate"]);
    assert_eq!(code, Some(0), "migrate: {stdout} {stderr}");
    assert!(
        stdout.contains(d.topic()),
        "migrate creates the work-items topic: {stdout}"
    );

    let (code, stdout, stderr) = d.run(&["dispatch"]);
    assert_eq!(code, Some(2), "starving exits 2: {stdout} {stderr}");
    assert!(
        stderr.contains(
            "no documents are indexed — is the indexer running and caught up? `tributary status`"
        ),
        "{stderr}"
    );
    let runs = d.runs().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].0, "starving");
    assert!(runs[0]
        .1
        .as_deref()
        .unwrap_or("")
        .contains("no documents are indexed"));
    assert!(d.work_items(0).is_empty());

    let (code, stdout, stderr) = d.run(&["status", "--json"]);
    assert_eq!(
        code,
        Some(2),
        "status sees the starving dispatcher: failing, exit 2: {stdout} {stderr}"
    );
    let status: Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(
        status["facts"]["dispatcher"]["last_result"], "starving",
        "{status}"
    );
    let dispatcher_line = status["lines"]
        .as_array()
        .and_then(|lines| lines.iter().find(|l| l["component"] == "dispatcher"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(dispatcher_line["verdict"], "failing", "{status}");
    assert_eq!(status["verdict"], "failing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_real_connector_and_indexer() {
    let d = DispatchEnv::new().await;
    let env = &d.env;
    env.write_note(
        "ops/Broker Disk.md",
        "# Broker Disk\nSee [[Log Retention]] and [[ops/Partition Reassignment]].\n",
    );
    env.write_note(
        "ops/Log Retention.md",
        "# Log Retention\nBack to [[Broker Disk]]; also [[Partition Reassignment|reassign]].\n",
    );
    env.write_note(
        "ops/Partition Reassignment.md",
        "# Partition Reassignment\nAfter [[Broker Disk]].\n",
    );
    env.write_note("food/Lunch.md", "# Lunch\nPasta on Mondays.\n");
    env.write_note("food/Coffee.md", "# Coffee\nFloor two.\n");
    env.sync().await.expect("sync");
    env.index_until_idle().await;

    let (code, stdout, stderr) = d.run(&["dispatch", "--json"]);
    assert_eq!(code, Some(0), "{stdout} {stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("report JSON");
    assert_eq!(report["result"], "published", "{report}");
    assert_eq!(
        report["communities"].as_array().expect("communities").len(),
        2,
        "{report}"
    );
    assert_eq!(report["links_unresolved"], 0, "{report}");
    let items = d.work_items(2);
    let found: BTreeSet<BTreeSet<String>> = items.iter().map(|(_, i, _)| members(i)).collect();
    let ids = |names: &[&str]| {
        names
            .iter()
            .map(|n| TestEnv::doc_id(n))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        found,
        [
            ids(&[
                "ops/Broker Disk.md",
                "ops/Log Retention.md",
                "ops/Partition Reassignment.md"
            ]),
            ids(&["food/Coffee.md", "food/Lunch.md"]),
        ]
        .into()
    );

    // A new note synced but not indexed: the topic grew, the registry did
    // not, the indexer is behind → starving, loudly.
    env.write_note(
        "ops/Replica Lag.md",
        "# Replica Lag\nSee [[Broker Disk]].\n",
    );
    env.sync().await.expect("sync");
    let (code, stdout, stderr) = d.run(&["dispatch"]);
    assert_eq!(code, Some(2), "{stdout} {stderr}");
    assert!(stderr.contains("the registry has not changed"), "{stderr}");

    // Indexed: the ops community changes, the new note marked.
    env.index_until_idle().await;
    let (code, stdout, stderr) = d.run(&["dispatch"]);
    assert_eq!(code, Some(0), "{stdout} {stderr}");
    assert!(stdout.contains("1 changed communities"), "{stdout}");
    let items = d.work_items(3);
    assert_eq!(items.len(), 3);
    let changed: Vec<&Value> = items
        .iter()
        .map(|(_, i, _)| i)
        .filter(|i| i["reason"] == "changed")
        .collect();
    assert_eq!(changed.len(), 1);
    let item = changed[0];
    assert_eq!(
        item["changed_members"],
        json!([TestEnv::doc_id("ops/Replica Lag.md")])
    );
    let (results,): (Vec<String>,) =
        sqlx::query_as("SELECT array_agg(result ORDER BY run_id) FROM dispatch_runs")
            .fetch_one(&env.pool)
            .await
            .expect("runs");
    assert_eq!(results, ["published", "starving", "published"]);
}

/// Checks `value` against the subset of JSON Schema the work-item schema
/// uses: type, const, enum, oneOf, required, properties, items, minItems,
/// minLength, minimum, pattern. Any keyword outside it fails the check, so
/// the schema cannot grow a constraint this test silently skips.
fn check_schema(schema: &Value, value: &Value, path: &str) {
    let problems = schema_problems(schema, value, path);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn schema_problems(schema: &Value, value: &Value, path: &str) -> Vec<String> {
    const KNOWN: [&str; 18] = [
        "$schema",
        "$id",
        "title",
        "description",
        "format",
        "default",
        "type",
        "const",
        "enum",
        "oneOf",
        "required",
        "properties",
        "items",
        "minItems",
        "minLength",
        "maxLength",
        "minimum",
        "pattern",
    ];
    let mut problems = Vec::new();
    let mut fail = |problem: String| problems.push(format!("{path}: {problem}"));
    let Some(keywords) = schema.as_object() else {
        return vec![format!("{path}: schema is not an object")];
    };
    for keyword in keywords.keys() {
        if !KNOWN.contains(&keyword.as_str()) {
            fail(format!("keyword {keyword} is not checked by this test"));
        }
    }
    if let Some(c) = schema.get("const") {
        if value != c {
            fail(format!("{value} is not {c}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            fail(format!("{value} not in {options:?}"));
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| schema_problems(o, value, path).is_empty())
            .count();
        if matching != 1 {
            fail(format!("{value} matches {matching} of oneOf, not 1"));
        }
    }
    if let Some(ty) = schema.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !ok {
            fail(format!("{value} is not {types:?}"));
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for field in required.iter().filter_map(Value::as_str) {
            if value.get(field).is_none() {
                fail(format!("missing required {field}"));
            }
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (name, sub) in props {
            if let Some(v) = obj.get(name) {
                problems.extend(schema_problems(sub, v, &format!("{path}.{name}")));
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            problems.extend(schema_problems(items, v, &format!("{path}[{i}]")));
        }
    }
    let mut fail = |problem: String| problems.push(format!("{path}: {problem}"));
    if let (Some(min), Some(arr)) = (
        schema.get("minItems").and_then(Value::as_u64),
        value.as_array(),
    ) {
        if (arr.len() as u64) < min {
            fail(format!("fewer than {min} items"));
        }
    }
    if let Some(s) = value.as_str() {
        let chars = s.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if chars < min {
                fail(format!("shorter than {min}"));
            }
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if chars > max {
                fail(format!("longer than {max}"));
            }
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            let re = regex::Regex::new(pattern).expect("schema pattern");
            if !re.is_match(s) {
                fail(format!("{s:?} does not match {pattern}"));
            }
        }
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if n < min {
            fail(format!("{n} < {min}"));
        }
    }
    problems
}
