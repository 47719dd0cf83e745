//! Integration tests against the real Kafka broker and PostgreSQL started by
//! `make stack-up`. All compile into one test binary (one link). Each test
//! gets its own topic, consumer group, database schema and store directory,
//! so they run in parallel without seeing each other. A missing service
//! fails the test with a message saying so; nothing here is mocked.

mod support;

mod cli_binary;
mod confluence_connector;
mod confluence_fake;
mod crash_recovery;
mod dispatcher;
mod dlq_redrive;
mod embedder_outage;
mod embedding_fake;
mod failure_semantics;
mod jira_connector;
mod jira_fake;
mod misconfiguration;
mod observability;
mod rebalance;
mod serve;
mod vault_pipeline;
mod vault_watch;
