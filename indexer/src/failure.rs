//! What a failed attempt is about: the deployment, a dependency, or the
//! document. This is the one place that reads an error and says whether it
//! may ever count against a document (and so, in the end, dead-letter it).
//!
//! The rule: only an error that can be caused by one document's own content
//! may count toward `indexer.max_attempts`. An error about the deployment
//! (a schema `tributary migrate` was not run on, a missing grant, a
//! read-only database, a missing collection, a refused credential, a
//! collection with another vector size) is a configuration outage: the
//! indexer pauses and waits for someone to fix it, whatever the health
//! probes say, and no document is ever dead-lettered for it.

use sqlx::error::DatabaseError;

use crate::embed::EmbedError;
use crate::pipeline::ProcessError;
use crate::store::StoreError;

/// The cause a failed attempt points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The deployment is wrong; waiting helps only once an operator fixes
    /// it. Never counts against a document.
    Configuration,
    /// A dependency is down, overloaded or unreachable. Never counts.
    Unavailable,
    /// The embedding server refused this input on its own (400/413/422).
    RejectedInput,
    /// Could be this input's content (a server error it triggers, a value
    /// PostgreSQL will not store): counts, but only when it is reproduced
    /// while every health probe passes.
    MaybeContent,
}

impl FailureKind {
    /// Whether this kind can never be the document's fault.
    pub fn is_outage(self) -> bool {
        matches!(self, FailureKind::Configuration | FailureKind::Unavailable)
    }
}

/// Classifies a pipeline error.
pub fn classify(err: &ProcessError) -> FailureKind {
    match err {
        ProcessError::Embed(e) => classify_embed(e),
        // The server answered, but not with one vector per input: a server
        // bug or a proxy in the way, never the input's content.
        ProcessError::VectorCount { .. } => FailureKind::Unavailable,
        ProcessError::Store(e) => classify_store(e),
        ProcessError::Registry(e) => classify_sql(e),
    }
}

fn classify_embed(err: &EmbedError) -> FailureKind {
    match err {
        EmbedError::Rejected { .. } => FailureKind::RejectedInput,
        // Refused connections, timeouts, 5xx and 429 are reported as
        // `Unavailable`; a 500 that one input triggers looks the same, so
        // it stays countable once reproduced while the probe passes.
        EmbedError::Unavailable(_) | EmbedError::BadResponse(_) => FailureKind::MaybeContent,
        EmbedError::Task(_) => FailureKind::Unavailable,
        EmbedError::Load { .. } => FailureKind::Configuration,
        EmbedError::Tokenize(_) | EmbedError::Inference(_) => FailureKind::MaybeContent,
    }
}

pub fn classify_store(err: &StoreError) -> FailureKind {
    match err {
        StoreError::Configuration(_)
        | StoreError::DimensionMismatch { .. }
        | StoreError::Open { .. } => FailureKind::Configuration,
        StoreError::Unavailable(_) | StoreError::Task(_) => FailureKind::Unavailable,
        StoreError::Operation(_) => FailureKind::MaybeContent,
    }
}

/// PostgreSQL errors by SQLSTATE class
/// (<https://www.postgresql.org/docs/current/errcodes-appendix.html>).
pub fn classify_sql(err: &sqlx::Error) -> FailureKind {
    match err {
        sqlx::Error::Database(db) => classify_sqlstate(db.as_ref()),
        // Value decoding of our own columns: the schema is not the one this
        // build expects.
        sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::Configuration(_)
        | sqlx::Error::Tls(_) => FailureKind::Configuration,
        // Connection refused or lost, pool exhausted or closed, protocol
        // hiccups: PostgreSQL is not answering.
        _ => FailureKind::Unavailable,
    }
}

fn classify_sqlstate(db: &dyn DatabaseError) -> FailureKind {
    let Some(code) = db.code() else {
        return FailureKind::Unavailable;
    };
    sqlstate_kind(&code)
}

/// The decision on a bare SQLSTATE, separated for tests.
pub fn sqlstate_kind(code: &str) -> FailureKind {
    match code.get(..2) {
        // 22: data exception (a NUL byte, an untranslatable character);
        // 23: integrity constraint violation. Both are about the values.
        Some("22") | Some("23") => FailureKind::MaybeContent,
        // 42: undefined table/column, insufficient privilege (42501)...;
        // 28: invalid authorization; 3D/3F: missing database or schema;
        // 25: invalid transaction state (25006 read-only transaction);
        // 0A: feature not supported; 2F/38/39: routine errors.
        Some("42") | Some("28") | Some("3D") | Some("3F") | Some("25") | Some("0A")
        | Some("2F") | Some("38") | Some("39") => FailureKind::Configuration,
        // 08 connection, 53 insufficient resources, 57 operator
        // intervention (admin shutdown, cancel), 58 system error, 40
        // serialization/deadlock, and anything else: transient.
        _ => FailureKind::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_errors_are_configuration() {
        for code in [
            "42P01", "42703", "42501", "25006", "28P01", "3D000", "3F000",
        ] {
            assert_eq!(sqlstate_kind(code), FailureKind::Configuration, "{code}");
            assert!(sqlstate_kind(code).is_outage());
        }
    }

    #[test]
    fn value_errors_may_be_the_document() {
        for code in ["22021", "22P05", "23505"] {
            assert_eq!(sqlstate_kind(code), FailureKind::MaybeContent, "{code}");
            assert!(!sqlstate_kind(code).is_outage());
        }
    }

    #[test]
    fn dependency_errors_are_unavailable() {
        for code in ["08006", "53300", "57P01", "40001", "XX000"] {
            assert_eq!(sqlstate_kind(code), FailureKind::Unavailable, "{code}");
        }
        let pool = ProcessError::Registry(sqlx::Error::PoolTimedOut);
        assert_eq!(classify(&pool), FailureKind::Unavailable);
    }

    #[test]
    fn store_and_embedder_errors() {
        let missing = ProcessError::Store(StoreError::Configuration("no collection".into()));
        assert_eq!(classify(&missing), FailureKind::Configuration);
        let size = ProcessError::Store(StoreError::DimensionMismatch {
            expected: 384,
            found: 8,
        });
        assert_eq!(classify(&size), FailureKind::Configuration);
        let down = ProcessError::Store(StoreError::Unavailable("refused".into()));
        assert_eq!(classify(&down), FailureKind::Unavailable);
        let refused = ProcessError::Embed(EmbedError::Rejected {
            status: 413,
            message: "too long".into(),
        });
        assert_eq!(classify(&refused), FailureKind::RejectedInput);
        let server = ProcessError::Embed(EmbedError::Unavailable("500".into()));
        assert_eq!(classify(&server), FailureKind::MaybeContent);
        let count = ProcessError::VectorCount {
            expected: 2,
            got: 1,
        };
        assert!(classify(&count).is_outage());
    }
}
