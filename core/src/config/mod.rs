//! Layered configuration: built-in defaults, then a TOML file, then the
//! environment. Every field has a default, so `tributary` runs against the
//! local stack (`make stack-up`) with no file at all.
//!
//! Environment: `TRIBUTARY_<SECTION>__<FIELD>` (e.g. `TRIBUTARY_KAFKA__TOPIC`),
//! plus the conventional shortcuts `DATABASE_URL`, `KAFKA_BROKERS`,
//! `TRIBUTARY_MODEL_DIR` and `TRIBUTARY_STORE_PATH`.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

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
    pub dispatcher: DispatcherConfig,
}

mod confluence;
mod database;
mod dispatcher;
mod embedder;
mod indexer;
mod jira;
mod kafka;
mod store;
mod vault;

pub use confluence::{ConfluenceConfig, ConfluenceFlavor};
pub use database::DatabaseConfig;
pub use dispatcher::DispatcherConfig;
pub use embedder::{EmbedderBackend, EmbedderConfig};
pub use indexer::IndexerConfig;
pub use jira::{JiraConfig, JiraFlavor};
pub use kafka::KafkaConfig;
pub use store::{StoreBackend, StoreConfig};
pub use vault::VaultConfig;

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
        // The conventional shortcuts first, so the explicit
        // `TRIBUTARY_<SECTION>__<FIELD>` form wins when both are set (a
        // deployment-wide DATABASE_URL, a per-job override).
        figment = figment
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
            )
            .merge(
                Env::prefixed("TRIBUTARY_")
                    .split("__")
                    // Only nested keys: TRIBUTARY_HOME and friends are not config fields.
                    .filter(|key| key.as_str().contains('.') || key.as_str().contains("__")),
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
            jail.set_env("TRIBUTARY_MODEL_DIR", "/models/generic");
            jail.set_env("TRIBUTARY_EMBEDDER__MODEL_DIR", "/models/specific");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.kafka.topic, "from-file");
            assert_eq!(cfg.kafka.partitions, 12);
            assert_eq!(cfg.indexer.batch_size, 8);
            assert_eq!(cfg.database.url.expose(), "postgres://x:y@h/db");
            assert_eq!(cfg.kafka.dlq_topic(), "from-file.dlq");
            assert_eq!(
                cfg.embedder.model_dir,
                PathBuf::from("/models/specific"),
                "the explicit form beats the shortcut"
            );
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
    fn dispatcher_section_loads_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[dispatcher]\nresolution = 1.5\n")?;
            jail.set_env("TRIBUTARY_DISPATCHER__WORK_ITEMS_TOPIC", "agents.work");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.dispatcher.work_items_topic, "agents.work");
            assert_eq!(cfg.dispatcher.resolution, 1.5);
            assert_eq!(cfg.dispatcher.id_match_threshold, 0.5);
            assert!(Config::default().dispatcher.work_items_topic == "tributary.work-items");
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/t.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }
}
