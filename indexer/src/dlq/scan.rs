//! Reads the dead-letter topic from the redrive group's committed offsets to
//! the end (as it was when the scan started) and keeps what is pending.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tributary_core::config::KafkaConfig;
use tributary_core::kafka::{self, KafkaError};

use super::end_of_partition::ScanContext;
use super::letter::DeadLetter;
use super::resolved::Resolved;

#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error("dlq_resolved table: {0} (run `tributary migrate`?)")]
    Db(#[from] sqlx::Error),
    #[error("reading the dead-letter topic made no progress for {0:?}")]
    Stalled(Duration),
    #[error("background task failed: {0}")]
    Task(String),
}

impl From<RdKafkaError> for DlqError {
    fn from(e: RdKafkaError) -> Self {
        DlqError::Kafka(KafkaError::Client(e))
    }
}

/// Where the redrive group stands on one partition.
#[derive(Debug, Clone)]
pub struct PartitionState {
    /// First offset not yet committed as handled.
    pub committed: i64,
    /// End of the partition when the scan started.
    pub high: i64,
    /// Every offset read in `committed..high`, in order.
    pub offsets: Vec<i64>,
}

#[derive(Debug)]
pub struct Pending {
    pub topic: String,
    /// Not yet handled, in partition and offset order; one per source
    /// message (see [`Duplicates`]).
    pub letters: Vec<DeadLetter>,
    /// Later copies of the same source message's dead letter.
    pub duplicates: Duplicates,
    /// Handled beyond the committed prefix (from `dlq_resolved`).
    pub resolved: HashSet<(i32, i64)>,
    pub partitions: BTreeMap<i32, PartitionState>,
    /// Messages ever written to the topic and still retained.
    pub retained: i64,
}

const STALL: Duration = Duration::from_secs(30);

pub async fn pending(
    cfg: &KafkaConfig,
    group: &str,
    resolved: &Resolved,
) -> Result<Pending, DlqError> {
    let topic = cfg.dlq_topic();
    let handled = resolved.load(&topic).await?;
    let cfg = cfg.clone();
    let group = group.to_string();
    let (letters, partitions, retained) =
        tokio::task::spawn_blocking(move || read_to_end(&cfg, &group))
            .await
            .map_err(|e| DlqError::Task(e.to_string()))??;
    let (letters, duplicates) = dedupe(letters, &handled);
    Ok(Pending {
        topic,
        letters,
        duplicates,
        resolved: handled,
        partitions,
        retained,
    })
}

/// A source message can be dead-lettered more than once: the indexer
/// stores offsets after the DLQ acknowledged, so a crash in between redoes
/// the batch and writes the letter again. Letters are one per source
/// message (topic, partition, offset) for stats, show and redrive.
#[derive(Debug, Default)]
pub struct Duplicates {
    /// Pending letter → its later copies, to be handled with it.
    pub of: std::collections::HashMap<(i32, i64), Vec<(i32, i64)>>,
    /// Copies of a letter that was already handled: handled too.
    pub of_handled: Vec<(i32, i64)>,
}

impl Duplicates {
    pub fn count(&self) -> usize {
        self.of.values().map(Vec::len).sum::<usize>() + self.of_handled.len()
    }
}

/// Keeps the first letter of each source message that is not handled;
/// the rest become its duplicates. `letters` are in partition and offset
/// order; letters without source coordinates are never merged.
pub fn dedupe(
    letters: Vec<DeadLetter>,
    handled: &HashSet<(i32, i64)>,
) -> (Vec<DeadLetter>, Duplicates) {
    type Source = (String, String, String);
    let source = |l: &DeadLetter| -> Option<Source> {
        Some((
            l.original_topic.clone()?,
            l.original_partition.clone()?,
            l.original_offset.clone()?,
        ))
    };
    // The kept letter per source, or None when a copy was handled.
    let mut first: std::collections::HashMap<Source, Option<(i32, i64)>> =
        std::collections::HashMap::new();
    for l in &letters {
        if let (Some(src), true) = (source(l), handled.contains(&(l.partition, l.offset))) {
            first.insert(src, None);
        }
    }
    let mut kept = Vec::new();
    let mut dups = Duplicates::default();
    for l in letters {
        let at = (l.partition, l.offset);
        if handled.contains(&at) {
            continue;
        }
        let Some(src) = source(&l) else {
            kept.push(l);
            continue;
        };
        match first.get(&src) {
            Some(None) => dups.of_handled.push(at),
            Some(Some(original)) => dups.of.entry(*original).or_default().push(at),
            None => {
                first.insert(src, Some(at));
                kept.push(l);
            }
        }
    }
    (kept, dups)
}

type Scan = (Vec<DeadLetter>, BTreeMap<i32, PartitionState>, i64);

fn read_to_end(cfg: &KafkaConfig, group: &str) -> Result<Scan, DlqError> {
    let topic = cfg.dlq_topic();
    let partition_count = kafka::check_topic(cfg, &topic)?;
    let consumer: BaseConsumer<ScanContext> = kafka::client_config(cfg)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .create_with_context(ScanContext)?;
    let timeout = Duration::from_millis(cfg.connect_timeout_ms);
    let mut all = TopicPartitionList::new();
    for p in 0..partition_count as i32 {
        all.add_partition(&topic, p);
    }
    let committed = consumer.committed_offsets(all, timeout)?;
    let mut partitions = BTreeMap::new();
    let mut assign = TopicPartitionList::new();
    let mut retained = 0;
    for p in 0..partition_count as i32 {
        let (low, high) = consumer.fetch_watermarks(&topic, p, timeout)?;
        retained += high - low;
        let start = match committed.find_partition(&topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) if o >= low => o,
            _ => low,
        };
        partitions.insert(
            p,
            PartitionState {
                committed: start,
                high,
                offsets: Vec::new(),
            },
        );
        if start < high {
            assign.add_partition_offset(&topic, p, Offset::Offset(start))?;
        }
    }
    let mut open: HashSet<i32> = partitions
        .iter()
        .filter(|(_, s)| s.committed < s.high)
        .map(|(p, _)| *p)
        .collect();
    let mut letters = Vec::new();
    if open.is_empty() {
        return Ok((letters, partitions, retained));
    }
    consumer.assign(&assign)?;
    let mut last_progress = Instant::now();
    while !open.is_empty() {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(msg)) => {
                last_progress = Instant::now();
                let p = msg.partition();
                let Some(state) = partitions.get_mut(&p) else {
                    continue;
                };
                if msg.offset() >= state.high {
                    open.remove(&p);
                    continue;
                }
                state.offsets.push(msg.offset());
                if msg.offset() + 1 >= state.high {
                    open.remove(&p);
                }
                letters.push(DeadLetter::from_message(msg.detach()));
            }
            Some(Err(RdKafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(RdKafkaError::MessageConsumption(RDKafkaErrorCode::PartitionEOF))) => {}
            Some(Err(err)) => return Err(err.into()),
            None => {
                if last_progress.elapsed() > STALL {
                    return Err(DlqError::Stalled(STALL));
                }
            }
        }
    }
    letters.sort_by_key(|l| (l.partition, l.offset));
    Ok((letters, partitions, retained))
}

#[cfg(test)]
mod tests {
    use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};
    use tributary_core::envelope::{DLQ_HEADER_OFFSET, DLQ_HEADER_PARTITION, DLQ_HEADER_TOPIC};

    use super::*;

    /// A dead letter at `offset` of DLQ partition 0 for source offset `src`.
    fn letter(offset: i64, src: Option<i64>) -> DeadLetter {
        let mut headers = OwnedHeaders::new();
        if let Some(src) = src {
            let src = src.to_string();
            for (key, value) in [
                (DLQ_HEADER_TOPIC, "docs"),
                (DLQ_HEADER_PARTITION, "1"),
                (DLQ_HEADER_OFFSET, src.as_str()),
            ] {
                headers = headers.insert(Header {
                    key,
                    value: Some(value),
                });
            }
        }
        DeadLetter::from_message(OwnedMessage::new(
            Some(b"x".to_vec()),
            None,
            "docs.dlq".into(),
            Timestamp::NotAvailable,
            0,
            offset,
            Some(headers),
        ))
    }

    fn at(letters: &[DeadLetter]) -> Vec<i64> {
        letters.iter().map(|l| l.offset).collect()
    }

    #[test]
    fn one_letter_per_source_message() {
        let letters = vec![
            letter(0, Some(7)),
            letter(1, Some(8)),
            letter(2, Some(7)),
            letter(3, None),
            letter(4, None),
        ];
        let (kept, dups) = dedupe(letters, &HashSet::new());
        assert_eq!(at(&kept), vec![0, 1, 3, 4]);
        assert_eq!(dups.of.get(&(0, 0)), Some(&vec![(0, 2)]));
        assert_eq!(dups.count(), 1);
    }

    #[test]
    fn copies_of_a_handled_letter_are_handled() {
        let letters = vec![letter(0, Some(7)), letter(1, Some(7)), letter(2, Some(9))];
        let handled: HashSet<(i32, i64)> = [(0, 0)].into_iter().collect();
        let (kept, dups) = dedupe(letters, &handled);
        assert_eq!(at(&kept), vec![2]);
        assert_eq!(dups.of_handled, vec![(0, 1)]);
        assert!(dups.of.is_empty());
    }
}
