//! The `dlq_resolved` table: redriven dead letters beyond the committed prefix.

use std::collections::HashSet;

use sqlx::{PgPool, Row};

#[derive(Clone)]
pub struct Resolved {
    pool: PgPool,
}

impl Resolved {
    pub fn new(pool: PgPool) -> Self {
        Resolved { pool }
    }

    pub async fn load(&self, topic: &str) -> Result<HashSet<(i32, i64)>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT dlq_partition, dlq_offset FROM dlq_resolved WHERE dlq_topic = $1")
                .bind(topic)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("dlq_partition")?, r.try_get("dlq_offset")?)))
            .collect()
    }

    pub async fn record(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
        redrive_count: u32,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO dlq_resolved (dlq_topic, dlq_partition, dlq_offset, action, redrive_count)
             VALUES ($1, $2, $3, 'redriven', $4) ON CONFLICT DO NOTHING",
        )
        .bind(topic)
        .bind(partition)
        .bind(offset)
        .bind(i32::try_from(redrive_count).unwrap_or(i32::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A later copy of a letter that was (or is being) redriven.
    pub async fn record_duplicate(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO dlq_resolved (dlq_topic, dlq_partition, dlq_offset, action, redrive_count)
             VALUES ($1, $2, $3, 'duplicate', 0) ON CONFLICT DO NOTHING",
        )
        .bind(topic)
        .bind(partition)
        .bind(offset)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Rows below the committed offsets are redundant once committed.
    pub async fn forget_below(
        &self,
        topic: &str,
        partition: i32,
        committed: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM dlq_resolved WHERE dlq_topic = $1 AND dlq_partition = $2 AND dlq_offset < $3")
            .bind(topic)
            .bind(partition)
            .bind(committed)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
