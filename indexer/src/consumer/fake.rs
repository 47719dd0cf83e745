//! Scripted fakes of Kafka, the pipeline and the DLQ, for deterministic
//! tests of the consumer loop (run them with tokio's paused clock).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use rdkafka::message::OwnedMessage;
use rdkafka::Timestamp;
use tributary_core::kafka::KafkaError;
use tributary_core::Document;

use super::applier::Applier;
use super::dead_letter::DeadLetterSink;
use super::reject::{DeadLetterClass, Rejection};
use super::source::{Delivered, MessageSource, PartitionId, Received};
use super::IndexError;
use crate::embed::EmbedError;
use crate::pipeline::{BatchStats, ProcessError, Unhealthy};

pub(crate) const TOPIC: &str = "docs";

pub(crate) fn message(partition: i32, offset: i64, payload: Option<&[u8]>) -> OwnedMessage {
    OwnedMessage::new(
        payload.map(<[u8]>::to_vec),
        None,
        TOPIC.to_string(),
        Timestamp::NotAvailable,
        partition,
        offset,
        None,
    )
}

/// A message holding a valid document `id` whose content hash is `version`.
pub(crate) fn doc_message(partition: i32, offset: i64, id: &str, version: &str) -> OwnedMessage {
    let json = format!(
        r#"{{"schema_version":1,"id":"{id}","source":{{"kind":"k","instance":"i"}},"updated_at":"2026-01-01T00:00:00Z","content_hash":"{version}"}}"#
    );
    message(partition, offset, Some(json.as_bytes()))
}

pub(crate) fn p(partition: i32) -> PartitionId {
    (TOPIC.to_string(), partition)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One step of what Kafka does, in order, as the loop polls.
pub(crate) enum Step {
    Deliver(OwnedMessage),
    /// Nothing more is delivered until the loop resumes consumption.
    UntilResumed,
    /// Nothing more is delivered until the loop pauses consumption (what
    /// follows is a partition assigned during the pause delivering).
    WhenPaused,
}

#[derive(Default)]
struct SourceState {
    script: VecDeque<Step>,
    revoked: Vec<PartitionId>,
    paused: bool,
    pauses: u32,
    stored: Vec<(PartitionId, i64)>,
    commits: u32,
}

#[derive(Default)]
pub(crate) struct FakeSource {
    state: Mutex<SourceState>,
}

impl FakeSource {
    pub(crate) fn new(script: impl IntoIterator<Item = Step>) -> Arc<Self> {
        Arc::new(FakeSource {
            state: Mutex::new(SourceState {
                script: script.into_iter().collect(),
                ..SourceState::default()
            }),
        })
    }

    /// A rebalance revoking `partition` now (e.g. from inside an apply).
    pub(crate) fn revoke(&self, partition: i32) {
        lock(&self.state).revoked.push(p(partition));
    }

    /// Offsets stored so far, in order.
    pub(crate) fn stored(&self) -> Vec<(PartitionId, i64)> {
        lock(&self.state).stored.clone()
    }

    pub(crate) fn commits(&self) -> u32 {
        lock(&self.state).commits
    }

    pub(crate) fn pauses(&self) -> u32 {
        lock(&self.state).pauses
    }

    /// The next delivery the script allows now, if any.
    fn next(&self) -> Option<Delivered> {
        let mut state = lock(&self.state);
        loop {
            match state.script.front() {
                None => return None,
                Some(Step::UntilResumed) if state.paused => return None,
                Some(Step::WhenPaused) if !state.paused => return None,
                Some(Step::UntilResumed | Step::WhenPaused) => {
                    state.script.pop_front();
                }
                Some(Step::Deliver(_)) => {
                    let mark = state.revoked.len();
                    if let Some(Step::Deliver(msg)) = state.script.pop_front() {
                        return Some(Delivered { mark, msg });
                    }
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl MessageSource for FakeSource {
    async fn receive(&self) -> Received {
        loop {
            if let Some(delivered) = self.next() {
                return Received::Message(delivered);
            }
            // Nothing to deliver now: like an idle consumer, wait (the
            // caller's timeout ends it); look again after a tick.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    fn revoked_since(&self, mark: usize, partition: &PartitionId) -> bool {
        lock(&self.state)
            .revoked
            .iter()
            .skip(mark)
            .any(|r| r == partition)
    }

    fn pause_all(&self) {
        let mut state = lock(&self.state);
        if !state.paused {
            state.pauses += 1;
        }
        state.paused = true;
    }

    fn resume_all(&self) {
        lock(&self.state).paused = false;
    }

    fn store_offset(&self, partition: &PartitionId, offset: i64) -> Result<(), String> {
        lock(&self.state).stored.push((partition.clone(), offset));
        Ok(())
    }

    async fn commit(&self) -> Result<(), IndexError> {
        lock(&self.state).commits += 1;
        Ok(())
    }

    async fn caught_up(&self) -> Result<bool, IndexError> {
        Ok(lock(&self.state).script.is_empty())
    }

    fn assignments(&self) -> u64 {
        1
    }
}

/// What one apply attempt returns, decided by the test.
pub(crate) type Outcome = Box<dyn FnOnce(&[Document]) -> Result<(), ProcessError> + Send>;

/// A failure that may be the content's (counts while healthy).
pub(crate) fn content_error() -> ProcessError {
    ProcessError::Embed(EmbedError::Inference("model failed on this input".into()))
}

/// A dependency down: never counts.
pub(crate) fn outage() -> ProcessError {
    ProcessError::Embed(EmbedError::Task("embedder unreachable".into()))
}

#[derive(Default)]
struct ApplierState {
    /// Outcomes of the next attempts, in order; then `rule`, then success.
    script: VecDeque<Outcome>,
    /// Decides every attempt once the script is spent.
    rule: Option<Box<dyn Fn(&[Document]) -> Result<(), ProcessError> + Send>>,
    /// Results of the next health probes; healthy once spent.
    health: VecDeque<bool>,
    /// Ids of every successful apply, per call.
    applied: Vec<Vec<String>>,
    attempts: u32,
}

#[derive(Default)]
pub(crate) struct FakeApplier {
    state: Mutex<ApplierState>,
}

impl FakeApplier {
    pub(crate) fn then(&self, outcome: Outcome) -> &Self {
        lock(&self.state).script.push_back(outcome);
        self
    }

    pub(crate) fn always(
        &self,
        rule: impl Fn(&[Document]) -> Result<(), ProcessError> + Send + 'static,
    ) {
        lock(&self.state).rule = Some(Box::new(rule));
    }

    pub(crate) fn health_fails(&self, times: usize) {
        lock(&self.state)
            .health
            .extend(std::iter::repeat_n(false, times));
    }

    /// Ids of each successful apply call, in order.
    pub(crate) fn applied(&self) -> Vec<Vec<String>> {
        lock(&self.state).applied.clone()
    }

    pub(crate) fn attempts(&self) -> u32 {
        lock(&self.state).attempts
    }
}

#[async_trait::async_trait]
impl Applier for FakeApplier {
    async fn apply(&self, docs: Vec<Document>) -> Result<BatchStats, ProcessError> {
        let mut state = lock(&self.state);
        state.attempts += 1;
        let result = match state.script.pop_front() {
            Some(outcome) => outcome(&docs),
            None => match &state.rule {
                Some(rule) => rule(&docs),
                None => Ok(()),
            },
        };
        result?;
        state
            .applied
            .push(docs.iter().map(|d| d.id.clone()).collect());
        Ok(BatchStats {
            indexed: docs.len() as u64,
            ..BatchStats::default()
        })
    }

    async fn health(&self) -> Result<(), Unhealthy> {
        match lock(&self.state).health.pop_front() {
            Some(false) => Err(Unhealthy::Embedder(EmbedError::Unavailable(
                "probe failed".into(),
            ))),
            _ => Ok(()),
        }
    }

    fn dimension(&self) -> usize {
        3
    }
}

#[derive(Default)]
pub(crate) struct FakeDlq {
    letters: Mutex<Vec<(PartitionId, i64, DeadLetterClass)>>,
}

impl FakeDlq {
    pub(crate) fn letters(&self) -> Vec<(PartitionId, i64, DeadLetterClass)> {
        lock(&self.letters).clone()
    }
}

#[async_trait::async_trait]
impl DeadLetterSink for FakeDlq {
    async fn send(
        &self,
        msg: &OwnedMessage,
        rejection: &Rejection,
        _attempts: u32,
        _first_failed_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), KafkaError> {
        use rdkafka::message::Message;
        lock(&self.letters).push((p(msg.partition()), msg.offset(), rejection.class));
        Ok(())
    }
}
