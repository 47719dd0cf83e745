//! What a source's walk publishes through during one run: the recorded
//! items (updated as acknowledgements come in), the run's counters, and the
//! one publish-then-record step. An item is recorded only after Kafka
//! acknowledged its message; a touched item (new fingerprint, same content)
//! is recorded without one.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tributary_core::{Document, SourceRef};

use super::decision::{self, Decision};
use super::driver::SyncError;
use super::item::Item;
use super::sink::Sink;
use crate::publish::{Incomplete, PublishOutcome};
use crate::state::{ItemRecord, ItemState, SyncStateStore};
use crate::summary::SyncSummary;

/// Where acknowledged items are recorded: PostgreSQL, or memory in tests.
#[async_trait]
pub trait ItemLog: Send + Sync {
    async fn record_items(
        &self,
        connector_id: &str,
        items: &[ItemRecord],
    ) -> Result<(), sqlx::Error>;
}

#[async_trait]
impl ItemLog for SyncStateStore {
    async fn record_items(
        &self,
        connector_id: &str,
        items: &[ItemRecord],
    ) -> Result<(), sqlx::Error> {
        SyncStateStore::record_items(self, connector_id, items).await
    }
}

/// Items of one page, filed by [`Session::file`].
#[derive(Debug)]
pub struct Batch<K> {
    pub publish: Vec<Item<K>>,
    pub touched: Vec<ItemRecord>,
}

impl<K> Default for Batch<K> {
    fn default() -> Self {
        Batch {
            publish: Vec::new(),
            touched: Vec::new(),
        }
    }
}

impl<K> Batch<K> {
    pub fn is_empty(&self) -> bool {
        self.publish.is_empty() && self.touched.is_empty()
    }
}

pub struct Session<'a> {
    connector_id: String,
    /// `None`: a dry run (nothing is sent or recorded).
    sink: Option<&'a dyn Sink>,
    log: &'a dyn ItemLog,
    /// The last acknowledged version of every item, updated as the run
    /// records more.
    pub previous: HashMap<String, ItemState>,
    pub summary: SyncSummary,
}

impl<'a> Session<'a> {
    pub fn new(
        summary: SyncSummary,
        previous: HashMap<String, ItemState>,
        sink: Option<&'a dyn Sink>,
        log: &'a dyn ItemLog,
    ) -> Self {
        Session {
            connector_id: summary.connector_id.clone(),
            sink,
            log,
            previous,
            summary,
        }
    }

    pub fn connector_id(&self) -> &str {
        &self.connector_id
    }

    pub fn dry_run(&self) -> bool {
        self.sink.is_none()
    }

    /// The recorded, not deleted, version of `doc_id`.
    pub fn live(&self, doc_id: &str) -> Option<&ItemState> {
        decision::live(self.previous.get(doc_id))
    }

    /// The decision before reading an item; counts it as unchanged when it
    /// is skipped.
    pub fn precheck(&mut self, doc_id: &str, fingerprint: &str, force: bool) -> decision::Precheck {
        let check = decision::precheck(self.previous.get(doc_id), fingerprint, force);
        if check == decision::Precheck::Unchanged {
            self.summary.unchanged += 1;
        }
        check
    }

    /// Files a rendered item into `batch`: touched (counted unchanged,
    /// recorded without a message) or to publish.
    pub fn file<K>(&mut self, batch: &mut Batch<K>, item: Item<K>) -> Decision {
        let decision = decision::decide(self.previous.get(&item.doc.id), &item.doc.content_hash);
        match decision {
            Decision::Touch => {
                self.summary.unchanged += 1;
                batch.touched.push(item.record());
            }
            Decision::Publish => batch.publish.push(item),
        }
        decision
    }

    /// The end of a prune: a tombstone for every recorded, live item the
    /// full listing did not return (`listed`: the ids it did), published and
    /// recorded like any batch. `key(id, now)` is the source's key of each
    /// tombstone's item.
    pub async fn tombstone_unlisted<K>(
        &mut self,
        listed: &HashSet<String>,
        source: &SourceRef,
        key: impl Fn(&str, DateTime<Utc>) -> K,
    ) -> Result<Vec<Item<K>>, SyncError> {
        let now = Utc::now();
        let publish: Vec<Item<K>> = decision::vanished(&self.previous, |id| listed.contains(id))
            .into_iter()
            .map(|id| {
                let key = key(&id, now);
                Item::tombstone(id, source.clone(), now, key)
            })
            .collect();
        tracing::info!(
            connector = self.connector_id(),
            listed = listed.len(),
            tombstones = publish.len(),
            "pruned against the full listing"
        );
        self.publish(Batch {
            publish,
            touched: Vec::new(),
        })
        .await
    }

    /// Publishes `batch.publish`, then records, in one transaction, the items
    /// Kafka acknowledged plus the touched ones, and counts it all. Returns
    /// the acknowledged items; any unacknowledged message fails the call with
    /// [`Incomplete`] after the acknowledged ones are recorded (so the
    /// driver leaves the watermark where it was). In a dry run nothing is
    /// sent or recorded, everything counts as published, and no item is
    /// returned as acknowledged.
    pub async fn publish<K>(&mut self, batch: Batch<K>) -> Result<Vec<Item<K>>, SyncError> {
        let Batch { publish, touched } = batch;
        let tombstones = publish.iter().filter(|i| i.doc.deleted).count() as u64;
        let Some(sink) = self.sink else {
            self.summary.published += publish.len() as u64;
            self.summary.tombstones += tombstones;
            return Ok(Vec::new());
        };
        let outcome = if publish.is_empty() {
            PublishOutcome::default()
        } else {
            let docs: Vec<Document> = publish.iter().map(|i| i.doc.clone()).collect();
            sink.publish(&docs).await?
        };
        let mut records = touched;
        records.extend(outcome.acked.iter().map(|&i| publish[i].record()));
        if !records.is_empty() {
            self.log.record_items(&self.connector_id, &records).await?;
        }
        for record in records {
            self.previous.insert(record.doc_id, record.state);
        }
        self.summary.published += outcome.acked.len() as u64;
        self.summary.failed += outcome.failed.len() as u64;
        let total = publish.len();
        let mut acked = Vec::with_capacity(outcome.acked.len());
        let mut slots: Vec<Option<Item<K>>> = publish.into_iter().map(Some).collect();
        for &i in &outcome.acked {
            if let Some(item) = slots.get_mut(i).and_then(Option::take) {
                if item.doc.deleted {
                    self.summary.tombstones += 1;
                }
                acked.push(item);
            }
        }
        if let Some((_, first_error)) = outcome.failed.first() {
            return Err(Incomplete {
                acked: acked.len(),
                total,
                first_error: first_error.clone(),
            }
            .into());
        }
        Ok(acked)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::sync::item::tests::source;
    use crate::sync::item::DocumentBuilder;
    use crate::sync::sink::{MemoryLog, MemorySink};

    fn item(id: &str, text: &str) -> Item<()> {
        let doc = DocumentBuilder::new(id.into(), source(), Utc::now())
            .markdown(text.into())
            .build();
        Item::new(doc, format!("fp-{text}"), ())
    }

    fn summary() -> SyncSummary {
        SyncSummary {
            connector_id: "test:t".into(),
            ..SyncSummary::default()
        }
    }

    #[tokio::test]
    async fn only_acknowledged_items_are_recorded_and_a_refusal_fails_the_call() {
        let sink = MemorySink::refusing(["test:t:b".to_owned()]);
        let log = MemoryLog::default();
        let mut session = Session::new(summary(), HashMap::new(), Some(&sink), &log);
        let mut batch = Batch::default();
        for (id, text) in [("test:t:a", "a"), ("test:t:b", "b"), ("test:t:c", "c")] {
            assert_eq!(session.file(&mut batch, item(id, text)), Decision::Publish);
        }
        let err = session.publish(batch).await.unwrap_err();
        assert!(matches!(
            err,
            SyncError::Incomplete(Incomplete {
                acked: 2,
                total: 3,
                ..
            })
        ));
        let recorded: Vec<String> = log.recorded().iter().map(|r| r.doc_id.clone()).collect();
        assert_eq!(recorded, ["test:t:a", "test:t:c"]);
        assert_eq!((session.summary.published, session.summary.failed), (2, 1));
        assert!(session.live("test:t:b").is_none());
        assert!(session.live("test:t:a").is_some());
    }

    #[tokio::test]
    async fn same_content_is_touched_changed_content_published_tombstones_counted() {
        let sink = MemorySink::new();
        let log = MemoryLog::default();
        let first = item("test:t:a", "a");
        let previous: HashMap<String, ItemState> = [
            ("test:t:a".to_owned(), first.record().state),
            (
                "test:t:gone".to_owned(),
                item("test:t:gone", "g").record().state,
            ),
        ]
        .into();
        let mut session = Session::new(summary(), previous, Some(&sink), &log);
        let mut batch = Batch::default();
        let mut touched = item("test:t:a", "a");
        touched.fingerprint = "fp-new-mtime".into();
        assert_eq!(session.file(&mut batch, touched), Decision::Touch);
        assert_eq!(
            session.file(&mut batch, item("test:t:n", "new")),
            Decision::Publish
        );
        batch.publish.push(Item::tombstone(
            "test:t:gone".into(),
            source(),
            Utc::now(),
            (),
        ));
        let acked = session.publish(batch).await.unwrap();
        assert_eq!(acked.len(), 2);
        let sent: Vec<String> = sink.acknowledged().into_iter().map(|d| d.id).collect();
        assert_eq!(sent, ["test:t:n", "test:t:gone"]);
        let s = &session.summary;
        assert_eq!((s.published, s.unchanged, s.tombstones), (2, 1, 1));
        assert_eq!(session.previous["test:t:a"].fingerprint, "fp-new-mtime");
        assert!(session.previous["test:t:gone"].deleted);
        assert_eq!(log.recorded().len(), 3);
    }

    #[tokio::test]
    async fn a_dry_run_sends_and_records_nothing() {
        let log = MemoryLog::default();
        let mut session = Session::new(summary(), HashMap::new(), None, &log);
        let mut batch = Batch::default();
        session.file(&mut batch, item("test:t:a", "a"));
        batch
            .publish
            .push(Item::tombstone("test:t:x".into(), source(), Utc::now(), ()));
        assert!(session.publish(batch).await.unwrap().is_empty());
        assert_eq!(
            (session.summary.published, session.summary.tombstones),
            (2, 1)
        );
        assert!(log.recorded().is_empty());
        assert!(session.previous.is_empty());
    }
}
