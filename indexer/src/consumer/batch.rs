//! From received messages to the work of one batch: decode each, keep the
//! last version of each document id, and set aside what can never be
//! indexed (poison, with the reason). Pure: no I/O.

use std::collections::HashMap;

use rdkafka::message::{Message, OwnedMessage};
use tributary_core::Document;

use super::reject::{self, Limits, Rejection};

/// The documents to apply and the messages to dead-letter.
#[derive(Debug)]
pub(crate) struct Batch<'m> {
    /// One entry per document id, in the order ids first appear, holding
    /// the id's last version in the batch and the message it came from.
    /// Ids map to one partition, so "last" is the partition's order:
    /// applying only it leaves the state the whole sequence would.
    pub(crate) docs: Vec<(Document, &'m OwnedMessage)>,
    /// Messages that can never become a document.
    pub(crate) poison: Vec<(&'m OwnedMessage, Rejection)>,
}

pub(crate) fn build(msgs: &[OwnedMessage], limits: Limits) -> Batch<'_> {
    let mut latest: HashMap<String, (Document, &OwnedMessage)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut poison = Vec::new();
    for msg in msgs {
        match reject::accept(msg.payload(), limits) {
            Ok(doc) => {
                if !latest.contains_key(&doc.id) {
                    order.push(doc.id.clone());
                }
                latest.insert(doc.id.clone(), (doc, msg));
            }
            Err(rejection) => poison.push((msg, rejection)),
        }
    }
    let docs = order.iter().filter_map(|id| latest.remove(id)).collect();
    Batch { docs, poison }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::fake::{doc_message, message};
    use crate::consumer::reject::DeadLetterClass;

    const LIMITS: Limits = Limits {
        max_bytes: 10_000,
        dimension: 3,
    };

    #[test]
    fn the_last_version_of_each_id_wins_in_first_seen_order() {
        let msgs = vec![
            doc_message(0, 10, "a", "one"),
            doc_message(0, 11, "b", "two"),
            doc_message(0, 12, "a", "three"),
        ];
        let batch = build(&msgs, LIMITS);
        let got: Vec<(&str, i64)> = batch
            .docs
            .iter()
            .map(|(d, m)| (d.id.as_str(), m.offset()))
            .collect();
        assert_eq!(got, [("a", 12), ("b", 11)]);
        assert_eq!(batch.docs[0].0.content_hash, "three");
        assert!(batch.poison.is_empty());
    }

    #[test]
    fn poison_is_set_aside_with_its_reason() {
        let msgs = vec![
            message(0, 1, Some(b"{not json")),
            doc_message(0, 2, "a", "fine"),
            message(0, 3, None),
        ];
        let batch = build(&msgs, LIMITS);
        assert_eq!(batch.docs.len(), 1);
        let classes: Vec<(i64, DeadLetterClass)> = batch
            .poison
            .iter()
            .map(|(m, r)| (m.offset(), r.class))
            .collect();
        assert_eq!(
            classes,
            [
                (1, DeadLetterClass::InvalidJson),
                (3, DeadLetterClass::EmptyMessage)
            ]
        );
    }
}
