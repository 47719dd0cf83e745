use tributary_core::kafka::KafkaError;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("database error: {0} (run `tributary migrate`?)")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error("registry row {doc_id}: column {column} is malformed: {source}")]
    BadRow {
        doc_id: String,
        column: &'static str,
        source: serde_json::Error,
    },
    #[error("cannot encode the work item of community {community_id}: {source}")]
    Encode {
        community_id: String,
        source: serde_json::Error,
    },
    #[error(
        "Kafka acknowledged {acked} of {total} work items; first failure: {first_error}. \
         The acknowledged ones are recorded; rerun to publish the rest"
    )]
    Incomplete {
        acked: usize,
        total: usize,
        first_error: String,
    },
}
