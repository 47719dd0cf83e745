//! Layered configuration: built-in defaults, then a TOML file, then the
//! environment. Every field has a default, so `tributary` runs against the
//! local stack (`make stack-up`) with no file at all.
//!
//! Environment: `TRIBUTARY_<SECTION>__<FIELD>` (e.g. `TRIBUTARY_KAFKA__TOPIC`),
//! plus the conventional shortcuts `DATABASE_URL`, `KAFKA_BROKERS`,
//! `TRIBUTARY_MODEL_DIR`, `TRIBUTARY_STORE_PATH` and `ORT_DYLIB_PATH` (ONNX
//! Runtime's own name for its library's path).

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::secret;

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
    pub metrics: MetricsConfig,
    pub status: StatusConfig,
    pub dispatcher: DispatcherConfig,
    pub serve: ServeConfig,
}

mod atlassian;
mod confluence;
mod database;
mod dispatcher;
mod embedder;
mod indexer;
mod jira;
mod kafka;
mod metrics;
mod serve;
mod status;
mod store;
mod unknown_keys;
mod vault;

pub use atlassian::AtlassianSite;
pub use confluence::{ConfluenceConfig, ConfluenceFlavor};
pub use database::{DatabaseConfig, DEFAULT_DATABASE_URL};
pub use dispatcher::DispatcherConfig;
pub use embedder::{EmbedderBackend, EmbedderConfig};
pub use indexer::IndexerConfig;
pub use jira::{JiraConfig, JiraFlavor};
pub use kafka::KafkaConfig;
pub use metrics::MetricsConfig;
pub use serve::ServeConfig;
pub use status::StatusConfig;
pub use store::{StoreBackend, StoreConfig};
pub use vault::VaultConfig;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// figment's error names the key and the file; it is not also exposed
    /// as the source, which would print it twice in an error chain.
    #[error("invalid configuration: {0}")]
    Invalid(Box<figment::Error>),
    #[error("unknown key `{key}` in [{section}]: expected one of {expected}")]
    UnknownKey {
        section: &'static str,
        key: String,
        expected: String,
    },
    #[error("kafka.sasl_password_env names {0}")]
    KafkaSaslPassword(String),
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
        // The defaults reach figment by serialising `Config::default()`, and
        // a secret serialises as `***` so that it never leaks into a dump:
        // the default URL is therefore given again, as a plain string.
        let mut figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::default("database.url", DEFAULT_DATABASE_URL));
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
                    .only(&["ORT_DYLIB_PATH"])
                    .map(|_| "embedder.onnxruntime_library".into()),
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
        unknown_keys::check::<JiraConfig>(&figment, "jira")?;
        unknown_keys::check::<ConfluenceConfig>(&figment, "confluence")?;
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        // Read once here, so a missing variable fails at start, not at the
        // first Kafka client.
        config.kafka.sasl_password =
            secret::from_named_env(config.kafka.sasl_password_env.as_deref())
                .map_err(ConfigError::KafkaSaslPassword)?;
        Ok(config)
    }
}

#[cfg(test)]
// figment::Jail fixes the closure's error type to figment::Error; not ours to shrink.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use crate::secret::ExposeSecret;

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
            assert_eq!(cfg.database.url.expose_secret(), "postgres://x:y@h/db");
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
    fn onnx_embedder_settings_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            // `minilm` was the candle backend's name: old files keep working.
            jail.create_file(
                "t.toml",
                "[embedder]\nbackend = \"minilm\"\nonnx_model = \"fp32.onnx\"\n",
            )?;
            jail.set_env("TRIBUTARY_MODEL_DIR", "/m");
            jail.set_env("ORT_DYLIB_PATH", "/opt/ort/libonnxruntime.so.1.31.1");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.embedder.backend, EmbedderBackend::Onnx);
            assert_eq!(
                cfg.embedder.onnx_model_path(),
                PathBuf::from("/m/fp32.onnx")
            );
            assert_eq!(
                cfg.embedder.onnxruntime_library,
                PathBuf::from("/opt/ort/libonnxruntime.so.1.31.1")
            );
            jail.set_env("TRIBUTARY_EMBEDDER__ONNX_MODEL", "/elsewhere/m.onnx");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(
                cfg.embedder.onnx_model_path(),
                PathBuf::from("/elsewhere/m.onnx"),
                "an absolute model path is used as it is"
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
            // A shared site key, flattened into the section, from env.
            jail.set_env("TRIBUTARY_JIRA__MAX_RETRIES", "9");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.jira.site.max_retries, 9);
            assert_eq!(
                cfg.jira.site.base_url.as_deref(),
                Some("https://acme.atlassian.net")
            );
            assert_eq!(cfg.jira.flavor, JiraFlavor::Datacenter);
            assert_eq!(cfg.jira.projects, ["OPS", "DEV"]);
            assert_eq!(cfg.jira.page_size, 25);
            assert_eq!(cfg.jira.site.overlap_secs, 120);
            Ok(())
        });
    }

    #[test]
    fn a_jira_token_in_the_file_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[jira]\ntoken = \"hunter2\"\n")?;
            let err = Config::load(Some(Path::new("t.toml"))).unwrap_err();
            assert!(err.to_string().contains("`token` in [jira]"), "{err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
            jail.set_env("TRIBUTARY_JIRA__MAX_RETRY", "3");
            let err = Config::load(None).unwrap_err();
            assert!(err.to_string().contains("`max_retry`"), "{err}");
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
    fn kafka_sasl_password_comes_from_the_named_variable() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "[kafka]\nsasl_password_env = \"TEST_KAFKA_PASSWORD\"\n[kafka.librdkafka_options]\n\"sasl.username\" = \"u\"\n",
            )?;
            jail.set_env("TEST_KAFKA_PASSWORD", "hunter2");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            let client = crate::kafka::client_config(&cfg.kafka);
            assert_eq!(client.get("sasl.password"), Some("hunter2"));
            assert_eq!(client.get("sasl.username"), Some("u"));
            assert!(
                !format!("{cfg:?}").contains("hunter2"),
                "the password is never printed"
            );
            Ok(())
        });
    }

    #[test]
    fn kafka_sasl_password_variable_unset_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "[kafka]\nsasl_password_env = \"TEST_UNSET_PASSWORD\"\n",
            )?;
            let err = Config::load(Some(Path::new("t.toml"))).unwrap_err();
            assert!(err.to_string().contains("TEST_UNSET_PASSWORD"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn no_sasl_password_without_the_field() {
        figment::Jail::expect_with(|_jail| {
            let cfg = Config::load(None).expect("loads");
            assert!(crate::kafka::client_config(&cfg.kafka)
                .get("sasl.password")
                .is_none());
            Ok(())
        });
    }

    #[test]
    fn the_built_in_database_url_survives_loading() {
        figment::Jail::expect_with(|jail| {
            // No DATABASE_URL, no TRIBUTARY_DATABASE__URL: the default applies.
            jail.clear_env();
            let cfg = Config::load(None).expect("loads");
            assert_eq!(cfg.database.url.expose_secret(), DEFAULT_DATABASE_URL);
            // Any other secret with a default would be lost the same way:
            // `***` in the serialised defaults must be this one field only.
            let dump = serde_json::to_string(&Config::default()).expect("serialises");
            assert_eq!(dump.matches("\"***\"").count(), 1, "{dump}");
            Ok(())
        });
    }

    /// A log line of the whole config, as a debugging operator might add.
    fn logged(cfg: &Config) -> String {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(config = ?cfg, "configuration loaded");
        });
        let bytes = buffer.0.lock().expect("not poisoned").clone();
        String::from_utf8(bytes).expect("UTF-8 log")
    }

    #[test]
    fn secrets_never_show_in_debug_logs_or_dumps() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[kafka]\nsasl_password_env = \"TEST_PW\"\n")?;
            jail.set_env("DATABASE_URL", "postgres://u:db-hunter2@h/db");
            jail.set_env("TEST_PW", "kafka-hunter2");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            let log = logged(&cfg);
            assert!(log.contains("configuration loaded"), "{log}");
            for text in [
                format!("{cfg:?}"),
                format!("{cfg:#?}"),
                log,
                serde_json::to_string(&cfg).expect("serialises"),
            ] {
                assert!(!text.contains("hunter2"), "{text}");
            }
            // Still there for the clients that need them.
            assert_eq!(
                cfg.database.url.expose_secret(),
                "postgres://u:db-hunter2@h/db"
            );
            let password = cfg.kafka.sasl_password.as_ref().expect("read");
            assert_eq!(password.expose_secret(), "kafka-hunter2");
            Ok(())
        });
    }

    #[test]
    fn an_invalid_config_is_not_its_own_source() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[kafka]\ntopik = \"typo\"\n")?;
            let err = Config::load(Some(Path::new("t.toml"))).unwrap_err();
            assert!(std::error::Error::source(&err).is_none(), "{err}");
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
    fn serve_section_loads_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[serve]\nmax_limit = 20\n")?;
            jail.set_env("TRIBUTARY_SERVE__URL", "http://indexer:7700");
            let cfg = Config::load(Some(Path::new("t.toml"))).expect("loads");
            assert_eq!(cfg.serve.max_limit, 20);
            assert_eq!(cfg.serve.url.as_deref(), Some("http://indexer:7700"));
            assert_eq!(cfg.serve.listen, "127.0.0.1:7700");
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/t.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }
}
