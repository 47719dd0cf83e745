//! Is the database's schema the one this build was written for?
//!
//! Every command that reads or writes the registry or connector state
//! checks this at start, so a deployment pointed at a schema that
//! `tributary migrate` has not been run on stops with a clear error instead
//! of failing every batch (and, before this check, dead-lettering good
//! documents for it).

use std::collections::BTreeSet;

use sqlx::{PgPool, Row};

use crate::db::MIGRATOR;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database schema {schema} has no Tributary tables: run `tributary migrate` \
         (with the same DATABASE_URL and database.schema) before this command"
    )]
    NotMigrated { schema: String },
    #[error(
        "the database schema {schema} is behind this build: migration(s) {missing} not applied; \
         run `tributary migrate` before this command"
    )]
    Behind { schema: String, missing: String },
    #[error(
        "the database schema {schema} is ahead of this build: migration(s) {unknown} were applied \
         by a newer tributary; upgrade this binary (or point it at another schema)"
    )]
    Ahead { schema: String, unknown: String },
    #[error(
        "the database schema {schema} has a failed migration {version}: fix it, then run \
         `tributary migrate`"
    )]
    Failed { schema: String, version: i64 },
    #[error("reading the migration history: {0}")]
    Query(#[from] sqlx::Error),
}

/// How the applied migrations compare with the ones this build embeds.
#[derive(Debug, PartialEq, Eq)]
pub enum SchemaState {
    Current,
    NotMigrated,
    Behind(Vec<i64>),
    Ahead(Vec<i64>),
    Failed(i64),
}

/// The pure comparison. `applied`: `(version, success)` rows of the
/// history table, `None` when the table does not exist.
pub fn compare(known: &BTreeSet<i64>, applied: Option<&[(i64, bool)]>) -> SchemaState {
    let Some(applied) = applied else {
        return SchemaState::NotMigrated;
    };
    if let Some((version, _)) = applied.iter().find(|(_, ok)| !ok) {
        return SchemaState::Failed(*version);
    }
    let done: BTreeSet<i64> = applied.iter().map(|(v, _)| *v).collect();
    if done.is_empty() {
        return SchemaState::NotMigrated;
    }
    let unknown: Vec<i64> = done.difference(known).copied().collect();
    if !unknown.is_empty() {
        return SchemaState::Ahead(unknown);
    }
    let missing: Vec<i64> = known.difference(&done).copied().collect();
    if !missing.is_empty() {
        return SchemaState::Behind(missing);
    }
    SchemaState::Current
}

fn list(versions: &[i64]) -> String {
    versions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fails unless every migration this build knows is applied, and no other.
pub async fn ensure_current(pool: &PgPool) -> Result<(), SchemaError> {
    let row = sqlx::query(
        "SELECT current_schema() AS schema, to_regclass('_sqlx_migrations') IS NOT NULL AS has_history",
    )
    .fetch_one(pool)
    .await?;
    let schema: Option<String> = row.try_get("schema")?;
    let schema = schema.unwrap_or_else(|| "(none)".into());
    let applied: Option<Vec<(i64, bool)>> = if row.try_get("has_history")? {
        let rows = sqlx::query("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await?;
        Some(
            rows.iter()
                .map(|r| Ok((r.try_get("version")?, r.try_get("success")?)))
                .collect::<Result<_, sqlx::Error>>()?,
        )
    } else {
        None
    };
    let known: BTreeSet<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    match compare(&known, applied.as_deref()) {
        SchemaState::Current => Ok(()),
        SchemaState::NotMigrated => Err(SchemaError::NotMigrated { schema }),
        SchemaState::Behind(missing) => Err(SchemaError::Behind {
            schema,
            missing: list(&missing),
        }),
        SchemaState::Ahead(unknown) => Err(SchemaError::Ahead {
            schema,
            unknown: list(&unknown),
        }),
        SchemaState::Failed(version) => Err(SchemaError::Failed { schema, version }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> BTreeSet<i64> {
        [1, 2, 3].into_iter().collect()
    }

    #[test]
    fn compares_history_with_the_build() {
        assert_eq!(compare(&known(), None), SchemaState::NotMigrated);
        assert_eq!(compare(&known(), Some(&[])), SchemaState::NotMigrated);
        let all = [(1, true), (2, true), (3, true)];
        assert_eq!(compare(&known(), Some(&all)), SchemaState::Current);
        let behind = [(1, true)];
        assert_eq!(
            compare(&known(), Some(&behind)),
            SchemaState::Behind(vec![2, 3])
        );
        let ahead = [(1, true), (2, true), (3, true), (4, true)];
        assert_eq!(compare(&known(), Some(&ahead)), SchemaState::Ahead(vec![4]));
        let failed = [(1, true), (2, false)];
        assert_eq!(compare(&known(), Some(&failed)), SchemaState::Failed(2));
    }

    #[test]
    fn the_build_knows_its_migrations() {
        assert!(MIGRATOR.iter().count() >= 2);
    }
}
