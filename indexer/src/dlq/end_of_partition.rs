//! The client context of the dead-letter scan.
//!
//! The scan asks librdkafka to say when it reaches the end of a partition
//! (`enable.partition.eof`): that is how it knows it has read everything,
//! even when the last offsets are transaction markers it never receives.
//! librdkafka reports it as an error event, and rdkafka's default context
//! logs every error event at ERROR ("librdkafka: Global error: PartitionEOF")
//! before the scan sees it as the normal end it is. This context logs the
//! end of a partition at DEBUG and every other client error as before.

use rdkafka::client::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

pub struct ScanContext;

/// Whether a client error is only the end of a partition being reached.
fn is_end_of_partition(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::PartitionEOF(_)
            | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
            | KafkaError::MessageConsumption(RDKafkaErrorCode::PartitionEOF)
    )
}

impl ClientContext for ScanContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if is_end_of_partition(&error) {
            tracing::debug!(reason, "dead-letter partition read to its end");
        } else {
            tracing::error!(%error, reason, "Kafka client error while reading the dead-letter topic");
        }
    }
}

impl ConsumerContext for ScanContext {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_end_of_a_partition_is_quiet() {
        assert!(is_end_of_partition(&KafkaError::Global(
            RDKafkaErrorCode::PartitionEOF
        )));
        assert!(is_end_of_partition(&KafkaError::PartitionEOF(2)));
        assert!(!is_end_of_partition(&KafkaError::Global(
            RDKafkaErrorCode::BrokerTransportFailure
        )));
        assert!(!is_end_of_partition(&KafkaError::Global(
            RDKafkaErrorCode::AllBrokersDown
        )));
    }
}
