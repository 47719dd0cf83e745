//! What the consumer loop needs from Kafka, as a trait: receive, pause,
//! resume, store an offset, commit, and "was this partition revoked since".
//! The loop is written against it so its decisions can be tested with a
//! scripted fake (`fake.rs`); `kafka_source.rs` is the librdkafka one.

use rdkafka::message::OwnedMessage;

use super::IndexError;

/// A partition: topic and number.
pub(crate) type PartitionId = (String, i32);

/// A message as the loop received it, stamped with the revocation mark at
/// its receipt (see `rebalance.rs`): a later revocation of its partition
/// makes this copy someone else's to process.
#[derive(Debug)]
pub(crate) struct Delivered {
    pub(crate) mark: usize,
    pub(crate) msg: OwnedMessage,
}

/// One wake-up of [`MessageSource::receive`].
#[derive(Debug)]
pub(crate) enum Received {
    Message(Delivered),
    /// A client error librdkafka reports and retries on its own (a broker
    /// restarting...): logged, never fatal.
    Error(String),
}

#[async_trait::async_trait]
pub(crate) trait MessageSource: Send + Sync {
    /// Waits for the next message or client error. Cancel-safe: dropping
    /// the future while it waits loses nothing.
    async fn receive(&self) -> Received;
    /// Whether `partition` was revoked after `mark` (even if assigned again).
    fn revoked_since(&self, mark: usize, partition: &PartitionId) -> bool;
    /// Stops delivery from every assigned partition (they stay assigned).
    fn pause_all(&self);
    fn resume_all(&self);
    /// Marks `offset` of `partition` done: the next commit covers it.
    fn store_offset(&self, partition: &PartitionId, offset: i64) -> Result<(), String>;
    /// Commits what was stored, now; nothing stored is not an error.
    async fn commit(&self) -> Result<(), IndexError>;
    /// Whether there is an assignment and every assigned partition is
    /// consumed to its end.
    async fn caught_up(&self) -> Result<bool, IndexError>;
    /// Rebalances that assigned partitions to this consumer so far.
    fn assignments(&self) -> u64;
}

pub(crate) fn partition_of(msg: &OwnedMessage) -> PartitionId {
    use rdkafka::message::Message;
    (msg.topic().to_string(), msg.partition())
}
