//! Where a run's documents go. Kafka in production ([`Publisher`]); memory
//! in unit tests ([`MemorySink`]), so what a connector publishes and records
//! can be tested without a broker; [`MemoryLog`] stands in for the records
//! PostgreSQL would get.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use tributary_core::Document;

use super::session::ItemLog;
use crate::publish::{PublishError, PublishOutcome, Publisher};
use crate::state::ItemRecord;

#[async_trait]
pub trait Sink: Send + Sync {
    /// Sends every document and reports, by input index, which were
    /// acknowledged; returns only once every one is settled.
    async fn publish(&self, docs: &[Document]) -> Result<PublishOutcome, PublishError>;
}

#[async_trait]
impl Sink for Publisher {
    async fn publish(&self, docs: &[Document]) -> Result<PublishOutcome, PublishError> {
        self.publish_all(docs).await
    }
}

/// Keeps what it is sent; refuses (does not acknowledge) the ids it is told
/// to, the way a broker that times out a message would.
#[derive(Debug, Default)]
pub struct MemorySink {
    sent: Mutex<Vec<Document>>,
    refuse: HashSet<String>,
}

impl MemorySink {
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// A sink that never acknowledges the documents with these ids.
    pub fn refusing(ids: impl IntoIterator<Item = String>) -> Self {
        MemorySink {
            sent: Mutex::new(Vec::new()),
            refuse: ids.into_iter().collect(),
        }
    }

    /// Every acknowledged document, in the order sent.
    pub fn acknowledged(&self) -> Vec<Document> {
        match self.sent.lock() {
            Ok(sent) => sent.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[async_trait]
impl Sink for MemorySink {
    async fn publish(&self, docs: &[Document]) -> Result<PublishOutcome, PublishError> {
        let mut outcome = PublishOutcome::default();
        let mut sent = match self.sent.lock() {
            Ok(sent) => sent,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (i, doc) in docs.iter().enumerate() {
            if self.refuse.contains(&doc.id) {
                outcome
                    .failed
                    .push((i, "Local: Message timed out (memory sink)".into()));
            } else {
                sent.push(doc.clone());
                outcome.acked.push(i);
            }
        }
        Ok(outcome)
    }
}

/// Keeps in memory the item records PostgreSQL would get.
#[derive(Debug, Default)]
pub struct MemoryLog {
    recorded: Mutex<Vec<ItemRecord>>,
}

impl MemoryLog {
    pub fn new() -> Self {
        MemoryLog::default()
    }

    /// Every record written, in order.
    pub fn recorded(&self) -> Vec<ItemRecord> {
        match self.recorded.lock() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[async_trait]
impl ItemLog for MemoryLog {
    async fn record_items(&self, _: &str, items: &[ItemRecord]) -> Result<(), sqlx::Error> {
        let mut recorded = match self.recorded.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        recorded.extend_from_slice(items);
        Ok(())
    }
}
