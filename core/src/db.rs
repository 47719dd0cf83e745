//! PostgreSQL: one pool per process, optionally pinned to a schema (tests use
//! a random schema each; deployments may share a database), and the sqlx
//! migrations from `migrations/`, embedded at compile time.

use std::collections::HashMap;
use std::hash::Hash;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::DatabaseConfig;
use crate::secret::ExposeSecret;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL is not valid: {0}")]
    BadUrl(sqlx::Error),
    #[error("schema name {0:?} is not a plain identifier ([a-z0-9_], not starting with a digit)")]
    BadSchema(String),
    #[error("cannot connect to PostgreSQL: {0}. Is it running? (`make stack-up`, or check DATABASE_URL)")]
    Connect(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Connects; with a schema, creates it if missing and puts it first on the
/// search path of every connection, so all queries and migrations land there.
pub async fn connect(cfg: &DatabaseConfig) -> Result<PgPool, DbError> {
    let mut options =
        PgConnectOptions::from_str(cfg.url.expose_secret()).map_err(DbError::BadUrl)?;
    if let Some(schema) = &cfg.schema {
        if !valid_schema(schema) {
            return Err(DbError::BadSchema(schema.clone()));
        }
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(DbError::Connect)?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        options = options.options([("search_path", schema.as_str())]);
    }
    PgPoolOptions::new()
        .max_connections(cfg.max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// The last of `rows` for each key, in the order of those last ones: what
/// upserting them one at a time would leave. Multi-row upserts go through
/// it because one `INSERT ... ON CONFLICT DO UPDATE` statement cannot touch
/// the same row twice.
pub fn last_per_key<'a, T, K>(rows: &'a [T], key: impl Fn(&'a T) -> &'a K) -> Vec<&'a T>
where
    K: Hash + Eq + ?Sized + 'a,
{
    let mut last: HashMap<&K, usize> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        last.insert(key(row), i);
    }
    rows.iter()
        .enumerate()
        .filter(|&(i, row)| last.get(key(row)) == Some(&i))
        .map(|(_, row)| row)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{last_per_key, valid_schema};

    #[test]
    fn only_the_last_row_of_a_key_is_kept_in_order() {
        let rows = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("b", 2)];
        let kept: Vec<&(&str, i32)> = last_per_key(&rows, |r| r.0);
        assert_eq!(kept, [&("a", 2), &("c", 1), &("b", 2)]);
        assert!(last_per_key(&[] as &[(&str, i32)], |r| r.0).is_empty());
    }

    #[test]
    fn schema_names_are_checked() {
        assert!(valid_schema("t_abc123"));
        assert!(!valid_schema("1abc"));
        assert!(!valid_schema("a;drop table x"));
        assert!(!valid_schema(""));
    }
}
