//! `tributary dlq redrive`: re-publish matching dead letters to the main
//! topic, resumably and safely.
//!
//! Each message is re-published with its original key, value and non-error
//! headers plus `tributary.redrive.count`, and recorded as handled only after
//! Kafka acknowledged it; then the redrive group commits the contiguous
//! handled prefix. An interrupted run therefore continues where it stopped
//! and never replays what it recorded. The indexer is idempotent, so the one
//! message that may be re-published twice (acked, not yet recorded, then
//! killed) leaves the same points.

use std::collections::HashSet;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tributary_core::config::KafkaConfig;
use tributary_core::envelope::{is_error_header, HEADER_REDRIVE_COUNT};
use tributary_core::kafka::{self, KafkaError};

use super::letter::DeadLetter;
use super::resolved::Resolved;
use super::scan::{pending, DlqError, Pending};
use super::Filter;

#[derive(Debug, Clone)]
pub struct RedriveOptions {
    pub filter: Filter,
    /// Redrive at most this many messages this run.
    pub max: Option<usize>,
    /// Messages per second, to spare a recovering dependency.
    pub rate_per_sec: Option<f64>,
    pub dry_run: bool,
    /// Redrive even messages that reached `max_redrives`.
    pub force: bool,
    /// Loop guard: a message redriven this many times is skipped.
    pub max_redrives: u32,
}

impl Default for RedriveOptions {
    fn default() -> Self {
        RedriveOptions {
            filter: Filter::default(),
            max: None,
            rate_per_sec: None,
            dry_run: false,
            force: false,
            max_redrives: 3,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct RedriveReport {
    pub dry_run: bool,
    /// Pending messages the filter matched.
    pub matched: usize,
    /// Re-published and acknowledged (or, in a dry run, would be).
    pub redriven: usize,
    /// Skipped: redrive count reached the limit (use --force).
    pub skipped_loop_guard: usize,
    /// Skipped: beyond --max.
    pub skipped_over_max: usize,
    /// Stopped by a shutdown signal before these were attempted.
    pub skipped_shutdown: usize,
    /// Pending after this run (matching or not).
    pub remaining: usize,
}

/// Runs a redrive; `progress(done, total)` is called after each message.
pub async fn redrive(
    cfg: &KafkaConfig,
    group: &str,
    resolved: &Resolved,
    opts: &RedriveOptions,
    shutdown: &CancellationToken,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<RedriveReport, DlqError> {
    let scanned = pending(cfg, group, resolved).await?;
    let matching: Vec<&DeadLetter> = scanned
        .letters
        .iter()
        .filter(|l| opts.filter.matches(l))
        .collect();
    let mut report = RedriveReport {
        dry_run: opts.dry_run,
        matched: matching.len(),
        ..RedriveReport::default()
    };
    let producer = if opts.dry_run {
        None
    } else {
        Some(connect(cfg)?)
    };
    let pause = opts
        .rate_per_sec
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(1.0 / r));
    let mut handled: HashSet<(i32, i64)> = scanned.resolved.clone();
    if !opts.dry_run {
        // Copies of letters handled earlier are handled too.
        for &(partition, offset) in &scanned.duplicates.of_handled {
            resolved
                .record_duplicate(&scanned.topic, partition, offset)
                .await?;
            handled.insert((partition, offset));
        }
    }
    for (i, letter) in matching.iter().enumerate() {
        if shutdown.is_cancelled() {
            report.skipped_shutdown = matching.len() - i;
            break;
        }
        if letter.redrive_count >= opts.max_redrives && !opts.force {
            tracing::warn!(partition = letter.partition, offset = letter.offset, key = ?letter.key,
                redrives = letter.redrive_count, "redrive limit reached; skipped (use --force)");
            report.skipped_loop_guard += 1;
            continue;
        }
        if opts.max.is_some_and(|max| report.redriven >= max) {
            report.skipped_over_max += 1;
            continue;
        }
        if let Some(producer) = &producer {
            publish(producer, cfg, letter).await?;
            resolved
                .record(
                    &scanned.topic,
                    letter.partition,
                    letter.offset,
                    letter.redrive_count + 1,
                )
                .await?;
            handled.insert((letter.partition, letter.offset));
            // Its copies (the same source message dead-lettered again by a
            // redone batch) are redriven with it, never on their own.
            let copies = scanned
                .duplicates
                .of
                .get(&(letter.partition, letter.offset));
            for &(partition, offset) in copies.into_iter().flatten() {
                resolved
                    .record_duplicate(&scanned.topic, partition, offset)
                    .await?;
                handled.insert((partition, offset));
            }
            if let Some(pause) = pause {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
        report.redriven += 1;
        progress(report.redriven, matching.len());
    }
    if opts.dry_run {
        report.remaining = scanned.letters.len();
    } else {
        report.remaining = scanned.letters.len() - report.redriven;
        commit_prefix(cfg, group, &scanned, &handled, resolved).await?;
    }
    Ok(report)
}

fn connect(cfg: &KafkaConfig) -> Result<FutureProducer, KafkaError> {
    kafka::check_topic(cfg, &cfg.topic)?;
    Ok(kafka::client_config(cfg)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", cfg.delivery_timeout_ms.to_string())
        .create()?)
}

async fn publish(
    producer: &FutureProducer,
    cfg: &KafkaConfig,
    letter: &DeadLetter,
) -> Result<(), DlqError> {
    let msg = &letter.message;
    let mut headers = OwnedHeaders::new();
    if let Some(original) = msg.headers() {
        for h in original.iter() {
            if is_error_header(h.key) || h.key == HEADER_REDRIVE_COUNT {
                continue;
            }
            headers = headers.insert(Header {
                key: h.key,
                value: h.value,
            });
        }
    }
    let count = (letter.redrive_count + 1).to_string();
    headers = headers.insert(Header {
        key: HEADER_REDRIVE_COUNT,
        value: Some(count.as_str()),
    });
    let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&cfg.topic).headers(headers);
    if let Some(key) = msg.key() {
        record = record.key(key);
    }
    if let Some(payload) = msg.payload() {
        record = record.payload(payload);
    }
    producer
        .send(
            record,
            Timeout::After(Duration::from_millis(cfg.delivery_timeout_ms)),
        )
        .await
        .map_err(|(err, _)| DlqError::Kafka(KafkaError::Client(err)))?;
    Ok(())
}

/// Commits, per partition, the first offset that is not handled; forgets
/// `dlq_resolved` rows the commit now covers.
async fn commit_prefix(
    cfg: &KafkaConfig,
    group: &str,
    scanned: &Pending,
    handled: &HashSet<(i32, i64)>,
    resolved: &Resolved,
) -> Result<(), DlqError> {
    let mut tpl = TopicPartitionList::new();
    let mut advanced = Vec::new();
    for (&p, state) in &scanned.partitions {
        let next = state
            .offsets
            .iter()
            .find(|&&o| !handled.contains(&(p, o)))
            .copied()
            .unwrap_or(state.high);
        if next > state.committed {
            tpl.add_partition_offset(&scanned.topic, p, Offset::Offset(next))?;
            advanced.push((p, next));
        }
    }
    if advanced.is_empty() {
        return Ok(());
    }
    let cfg = cfg.clone();
    let group = group.to_string();
    tokio::task::spawn_blocking(move || -> Result<(), DlqError> {
        let consumer: BaseConsumer = kafka::client_config(&cfg)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create()?;
        consumer.commit(&tpl, CommitMode::Sync)?;
        Ok(())
    })
    .await
    .map_err(|e| DlqError::Task(e.to_string()))??;
    for (p, next) in advanced {
        resolved.forget_below(&scanned.topic, p, next).await?;
    }
    Ok(())
}
