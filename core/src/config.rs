//! Layered configuration: built-in defaults, then a TOML file, then the
//! environment. Every field has a default, so `tributary` runs against the
//! local stack (`make stack-up`) with no file at all.
//!
//! Environment: `TRIBUTARY_<SECTION>__<FIELD>` (e.g. `TRIBUTARY_KAFKA__TOPIC`),
//! plus the conventional shortcuts `DATABASE_URL`, `KAFKA_BROKERS`,
//! `TRIBUTARY_MODEL_DIR` and `TRIBUTARY_STORE_PATH`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub kafka: KafkaConfig,
    pub database: DatabaseConfig,
    pub store: StoreConfig,
    pub embedder: EmbedderConfig,
    pub indexer: IndexerConfig,
    pub vault: VaultConfig,
    pub jira: JiraConfig,
    pub confluence: ConfluenceConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated.
    pub brokers: String,
    /// The documents topic every connector produces to and the indexer reads.
    pub topic: String,
    /// Dead-letter topic; `<topic>.dlq` when unset.
    pub dlq_topic: Option<String>,
    /// Partitions for topics `tributary migrate` creates.
    pub partitions: i32,
    pub replication_factor: i32,
    /// How long a produced message may wait for the broker's acknowledgement
    /// before the run fails (librdkafka `message.timeout.ms`).
    pub delivery_timeout_ms: u64,
    /// How long to wait for the broker to answer a metadata request before
    /// declaring it unreachable.
    pub connect_timeout_ms: u64,
    /// Raw librdkafka options (TLS, SASL...), passed through unchanged.
    pub librdkafka_options: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topic: "tributary.documents".into(),
            dlq_topic: None,
            partitions: 3,
            replication_factor: 1,
            delivery_timeout_ms: 30_000,
            connect_timeout_ms: 10_000,
            librdkafka_options: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    pub fn dlq_topic(&self) -> String {
        self.dlq_topic
            .clone()
            .unwrap_or_else(|| crate::envelope::default_dlq_topic(&self.topic))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Never logged.
    pub url: Secret,
    /// Schema to use (and create); `public` when unset.
    pub schema: Option<String>,
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: Secret::new("postgres://tributary:tributary@127.0.0.1:5432/tributary"),
            schema: None,
            max_connections: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the embedded Qdrant Edge shard.
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: tributary_home().join("qdrant"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbedderConfig {
    /// Which embedder computes vectors.
    pub backend: EmbedderBackend,
    /// Directory holding `model.safetensors`, `tokenizer.json`, `config.json`.
    /// With the `http` backend only `tokenizer.json` is read, when present,
    /// to size chunks in the server model's tokens; without it chunk sizes
    /// are estimated.
    pub model_dir: PathBuf,
    /// Chunks per forward pass (`minilm`) or per request (`http`).
    pub batch_size: usize,
    /// Longest input in tokens; all-MiniLM-L6-v2 was trained on 256.
    pub max_seq_len: usize,
    /// `http` backend: base URL of an OpenAI-compatible server; requests go
    /// to `{url}/v1/embeddings`.
    pub url: String,
    /// `http` backend: the `model` field sent with each request, also stored
    /// with every point.
    pub model: String,
    /// `http` backend: name of the environment variable holding the API key
    /// sent as `Authorization: Bearer`. The key itself never goes in a file.
    pub api_key_env: Option<String>,
    /// `http` backend: per-request timeout.
    pub timeout_ms: u64,
    /// `http` backend: vector size; probed from the server at start when unset.
    pub dimension: Option<usize>,
}

/// Where embeddings come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderBackend {
    /// all-MiniLM-L6-v2 run in-process on the CPU.
    #[default]
    Minilm,
    /// An OpenAI-compatible embeddings server (TEI, vLLM, Ollama, OpenAI).
    Http,
}

impl Default for EmbedderConfig {
    fn default() -> Self {
        EmbedderConfig {
            backend: EmbedderBackend::Minilm,
            model_dir: tributary_home().join("models").join("all-minilm-l6-v2"),
            batch_size: 32,
            max_seq_len: 256,
            url: "http://localhost:8080".into(),
            model: "sentence-transformers/all-MiniLM-L6-v2".into(),
            api_key_env: None,
            timeout_ms: 30_000,
            dimension: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexerConfig {
    pub group_id: String,
    /// Messages taken from Kafka per batch.
    pub batch_size: usize,
    /// Longest wait to fill a batch before processing what there is.
    pub batch_wait_ms: u64,
    /// Target chunk size in model tokens, title prefix included. Kept at or
    /// under the model's `max_seq_len` so nothing is silently truncated.
    pub chunk_tokens: usize,
    /// Tokens repeated from the end of one chunk at the start of the next.
    pub chunk_overlap_tokens: usize,
    /// With `--until-idle`: how long the consumer must see nothing new, once
    /// caught up, before exiting.
    pub idle_ms: u64,
    /// Largest message (document JSON) indexed; bigger ones are dead-lettered
    /// as `DocumentTooLarge` and can be redriven after raising this.
    pub max_document_bytes: usize,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        IndexerConfig {
            group_id: "tributary-indexer".into(),
            batch_size: 64,
            batch_wait_ms: 500,
            chunk_tokens: 256,
            chunk_overlap_tokens: 32,
            idle_ms: 1_000,
            max_document_bytes: 5 * 1024 * 1024,
        }
    }
}

impl IndexerConfig {
    /// Consumer group `tributary dlq` uses to remember what it has handled.
    pub fn redrive_group(&self) -> String {
        format!("{}.dlq-redrive", self.group_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VaultConfig {
    /// The vault's root directory (`--path` overrides it).
    pub path: Option<PathBuf>,
    /// Instance name, part of every document id: `vault:<instance>:<path>`.
    pub instance: String,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            path: None,
            instance: "default".into(),
        }
    }
}

/// Which Jira API family the site speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JiraFlavor {
    /// Jira Cloud (`*.atlassian.net`): REST v3 enhanced search, email + API token.
    #[default]
    Cloud,
    /// Jira Data Center / Server: REST v2 search, personal access token.
    Datacenter,
}

/// `tributary sync jira`. The API token is deliberately not a field: it comes
/// from `TRIBUTARY_JIRA_TOKEN` / `JIRA_API_TOKEN` or from `token_file`, so it
/// never sits in a config file or on a command line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JiraConfig {
    /// Site URL, e.g. `https://acme.atlassian.net` or `https://jira.example.com/jira`.
    pub base_url: Option<String>,
    /// `cloud` or `datacenter`.
    pub flavor: JiraFlavor,
    /// Instance name, part of every document id: `jira:<instance>:<KEY>`.
    pub instance: String,
    /// Project keys in scope (`project in (...)`); combined with `jql` by AND.
    pub projects: Vec<String>,
    /// Extra JQL filter for the scope, without ORDER BY.
    pub jql: Option<String>,
    /// Issues per search page.
    pub page_size: u32,
    /// Comments per page when an issue has more than the search returned.
    pub comment_page_size: u32,
    /// Cloud only: the Atlassian account email the API token belongs to.
    pub email: Option<String>,
    /// File holding the API token / personal access token (e.g. a mounted
    /// Kubernetes secret). Used when neither token variable is set.
    pub token_file: Option<PathBuf>,
    /// Put assignee / reporter / comment author emails in documents (off:
    /// display names only).
    pub include_emails: bool,
    /// Re-read window before the watermark, in seconds: JQL compares at minute
    /// precision and the search index lags behind writes.
    pub overlap_secs: u64,
    /// List every key in scope and tombstone vanished issues every Nth run
    /// (0: only with `--prune`).
    pub prune_every: u32,
    /// IANA time zone JQL dates are written in. Default: the account's own
    /// zone, asked from `/myself`.
    pub time_zone: Option<String>,
    /// Data Center only: custom field holding the epic link (e.g. `customfield_10014`).
    pub epic_link_field: Option<String>,
    /// Requests in flight at once against the site.
    pub max_concurrent_requests: usize,
    /// Whole-request timeout, seconds.
    pub request_timeout_secs: u64,
    /// TCP/TLS connect timeout, seconds.
    pub connect_timeout_secs: u64,
    /// Retries of one request on 429/502/503/504 or a connection error.
    pub max_retries: u32,
    /// Longest backoff between two retries, seconds (a `Retry-After` up to
    /// `max_retry_after_secs` is honoured as given).
    pub max_backoff_secs: u64,
    /// Longest `Retry-After` honoured; a longer one fails the request.
    pub max_retry_after_secs: u64,
}

impl Default for JiraConfig {
    fn default() -> Self {
        JiraConfig {
            base_url: None,
            flavor: JiraFlavor::Cloud,
            instance: "default".into(),
            projects: Vec::new(),
            jql: None,
            page_size: 100,
            comment_page_size: 100,
            email: None,
            token_file: None,
            include_emails: false,
            overlap_secs: 120,
            prune_every: 24,
            time_zone: None,
            epic_link_field: None,
            max_concurrent_requests: 4,
            request_timeout_secs: 30,
            connect_timeout_secs: 10,
            max_retries: 5,
            max_backoff_secs: 30,
            max_retry_after_secs: 300,
        }
    }
}

/// Which Confluence API family the site speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfluenceFlavor {
    /// Confluence Cloud (`*.atlassian.net/wiki`): REST v2 listing, v1 CQL
    /// search, email + API token.
    #[default]
    Cloud,
    /// Confluence Data Center / Server: REST `/rest/api/content`, personal
    /// access token.
    Datacenter,
}

/// `tributary sync confluence`. Like `[jira]`, the token is not a field: it
/// comes from `TRIBUTARY_CONFLUENCE_TOKEN` / `CONFLUENCE_API_TOKEN` or from
/// `token_file`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfluenceConfig {
    /// Site URL: `https://acme.atlassian.net` (Cloud; a trailing `/wiki` is
    /// accepted) or `https://confluence.example.com/confluence` (Data Center).
    pub base_url: Option<String>,
    /// `cloud` or `datacenter`.
    pub flavor: ConfluenceFlavor,
    /// Instance name, part of every document id: `confluence:<instance>:<page id>`.
    pub instance: String,
    /// Space keys in scope.
    pub spaces: Vec<String>,
    /// Publish blog posts as well as pages.
    pub include_blogposts: bool,
    /// Results per listing / search page.
    pub page_size: u32,
    /// Results per page of the slim id listing used for deletions.
    pub listing_page_size: u32,
    /// Cloud only: the Atlassian account email the API token belongs to.
    pub email: Option<String>,
    /// File holding the API token / personal access token. Used when neither
    /// token variable is set.
    pub token_file: Option<PathBuf>,
    /// Re-read window before each space's watermark, in seconds: CQL compares
    /// at minute precision and the search index lags behind writes.
    pub overlap_secs: u64,
    /// List every page id and tombstone vanished pages every Nth run (0: only
    /// with `--prune`).
    pub prune_every: u32,
    /// IANA zone CQL dates are read in (the account's zone). Unset: dates are
    /// written 12 h early, which is safe in any zone but re-reads more.
    pub time_zone: Option<String>,
    /// Largest storage-format body converted, in bytes; a bigger page is
    /// truncated to this and flagged `truncated` in its metadata.
    pub max_page_bytes: usize,
    /// Requests in flight at once against the site.
    pub max_concurrent_requests: usize,
    /// Whole-request timeout, seconds.
    pub request_timeout_secs: u64,
    /// TCP/TLS connect timeout, seconds.
    pub connect_timeout_secs: u64,
    /// Retries of one request on 429/502/503/504 or a connection error.
    pub max_retries: u32,
    /// Longest backoff between two retries, seconds.
    pub max_backoff_secs: u64,
    /// Longest `Retry-After` honoured; a longer one fails the request.
    pub max_retry_after_secs: u64,
}

impl Default for ConfluenceConfig {
    fn default() -> Self {
        ConfluenceConfig {
            base_url: None,
            flavor: ConfluenceFlavor::Cloud,
            instance: "default".into(),
            spaces: Vec::new(),
            include_blogposts: true,
            page_size: 50,
            listing_page_size: 250,
            email: None,
            token_file: None,
            overlap_secs: 120,
            prune_every: 24,
            time_zone: None,
            max_page_bytes: 5 * 1024 * 1024,
            max_concurrent_requests: 4,
            request_timeout_secs: 30,
            connect_timeout_secs: 10,
            max_retries: 5,
            max_backoff_secs: 30,
            max_retry_after_secs: 300,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

/// Where the local stack keeps downloads and data: `$TRIBUTARY_HOME`, else
/// `~/.cache/tributary`.
pub fn tributary_home() -> PathBuf {
    if let Some(home) = std::env::var_os("TRIBUTARY_HOME") {
        return PathBuf::from(home);
    }
    let base = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    base.join(".cache").join("tributary")
}

impl Config {
    /// Defaults, then `file` (if given; it must exist), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment
            .merge(
                Env::prefixed("TRIBUTARY_")
                    .split("__")
                    // Only nested keys: TRIBUTARY_HOME and friends are not config fields.
                    .filter(|key| key.as_str().contains('.') || key.as_str().contains("__")),
            )
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .merge(
                Env::raw()
                    .only(&["KAFKA_BROKERS"])
                    .map(|_| "kafka.brokers".into()),
            )
            .merge(
                Env::raw()
                    .only(&["TRIBUTARY_MODEL_DIR"])
                    .map(|_| "embedder.model_dir".into()),
            )
            .merge(
                Env::raw()
                    .only(&["TRIBUTARY_STORE_PATH"])
                    .map(|_| "store.path".into()),
            );
        figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }
}

#[cfg(test)]
// figment::Jail fixes the closure's error type to figment::Error; not ours to shrink.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn file_and_env_layer_over_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "[kafka]\ntopic = \"from-file\"\npartitions = 6\n[indexer]\nbatch_size = 8\n",
            )?;
            jail.set_env("TRIBUTARY_KAFKA__PARTITIONS", "12");
            jail.set_env("DATABASE_URL", "postgres://x:y@h/db");
            jail.set_env("TRIBUTARY_HOME", "/tmp/th");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.kafka.topic, "from-file");
            assert_eq!(cfg.kafka.partitions, 12);
            assert_eq!(cfg.indexer.batch_size, 8);
            assert_eq!(cfg.database.url.expose(), "postgres://x:y@h/db");
            assert_eq!(cfg.kafka.dlq_topic(), "from-file.dlq");
            Ok(())
        });
    }

    #[test]
    fn unknown_field_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[kafka]\ntopik = \"typo\"\n")?;
            let err = Config::load(Some(Path::new("t.toml"))).unwrap_err();
            assert!(err.to_string().contains("topik"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn jira_section_loads_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "[jira]\nbase_url = \"https://acme.atlassian.net\"\nflavor = \"datacenter\"\nprojects = [\"OPS\", \"DEV\"]\n",
            )?;
            jail.set_env("TRIBUTARY_JIRA__PAGE_SIZE", "25");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.jira.flavor, JiraFlavor::Datacenter);
            assert_eq!(cfg.jira.projects, ["OPS", "DEV"]);
            assert_eq!(cfg.jira.page_size, 25);
            assert_eq!(cfg.jira.overlap_secs, 120);
            Ok(())
        });
    }

    #[test]
    fn a_jira_token_in_the_file_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[jira]\ntoken = \"hunter2\"\n")?;
            let err = Config::load(Some(Path::new("t.toml"))).unwrap_err();
            assert!(err.to_string().contains("token"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn confluence_section_loads_and_refuses_a_token() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "[confluence]\nbase_url = \"https://acme.atlassian.net\"\nflavor = \"datacenter\"\nspaces = [\"ENG\"]\n",
            )?;
            jail.set_env("TRIBUTARY_CONFLUENCE__PAGE_SIZE", "25");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.confluence.flavor, ConfluenceFlavor::Datacenter);
            assert_eq!(cfg.confluence.spaces, ["ENG"]);
            assert_eq!(cfg.confluence.page_size, 25);
            assert_eq!(cfg.confluence.max_page_bytes, 5 * 1024 * 1024);
            jail.create_file("u.toml", "[confluence]\ntoken = \"hunter2\"\n")?;
            let err = Config::load(Some(Path::new("u.toml"))).unwrap_err();
            assert!(err.to_string().contains("token"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/t.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }
}
