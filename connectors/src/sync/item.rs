//! What a walk hands to the session: a named item instead of a positional
//! tuple, and the builder every renderer makes its document with, so the
//! content hash is always computed from the finished document.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tributary_core::document::{Body, Link, TextFormat};
use tributary_core::{Document, SourceRef};

use crate::state::{ItemRecord, ItemState};

/// One document to publish, the fingerprint its record keeps once Kafka
/// acknowledged it, and the source's own handle on it (`K`: a Jira key,
/// nothing for a note).
#[derive(Debug, Clone)]
pub struct Item<K = ()> {
    pub doc: Document,
    /// The cheap change check of the source (size+mtime, `updated`,
    /// version); empty for a tombstone.
    pub fingerprint: String,
    pub key: K,
}

impl<K> Item<K> {
    pub fn new(doc: Document, fingerprint: String, key: K) -> Self {
        Item {
            doc,
            fingerprint,
            key,
        }
    }

    /// A tombstone for `id`, stamped `at`.
    pub fn tombstone(id: String, source: SourceRef, at: DateTime<Utc>, key: K) -> Self {
        Item::new(Document::tombstone(id, source, at), String::new(), key)
    }

    /// The record written once this item's message was acknowledged (or,
    /// for a touched item, once the run decided nothing needs publishing).
    pub fn record(&self) -> ItemRecord {
        ItemRecord {
            doc_id: self.doc.id.clone(),
            state: ItemState {
                fingerprint: self.fingerprint.clone(),
                content_hash: self.doc.content_hash.clone(),
                deleted: self.doc.deleted,
            },
        }
    }
}

/// Builds a live (not deleted) document; [`build`](Self::build) computes
/// its content hash, so no renderer can forget to or do it too early.
#[derive(Debug, Clone)]
pub struct DocumentBuilder {
    doc: Document,
}

impl DocumentBuilder {
    pub fn new(id: String, source: SourceRef, updated_at: DateTime<Utc>) -> Self {
        DocumentBuilder {
            doc: Document::empty(id, source, updated_at),
        }
    }

    pub fn title(mut self, title: String) -> Self {
        self.doc.title = title;
        self
    }

    pub fn url(mut self, url: Option<String>) -> Self {
        self.doc.url = url;
        self
    }

    /// The body as one markdown text.
    pub fn markdown(mut self, text: String) -> Self {
        self.doc.body = Body {
            format: TextFormat::Markdown,
            text,
            sections: Vec::new(),
        };
        self
    }

    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.doc.metadata = metadata;
        self
    }

    pub fn links(mut self, links: Vec<Link>) -> Self {
        self.doc.links = links;
        self
    }

    pub fn build(mut self) -> Document {
        self.doc.content_hash = self.doc.compute_content_hash();
        self.doc
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The source of the driver's unit tests' documents (`test:t:<id>`).
    pub(crate) fn source() -> SourceRef {
        SourceRef {
            kind: "test".into(),
            instance: "t".into(),
        }
    }

    #[test]
    fn the_builder_hashes_the_finished_document() {
        let at = Utc::now();
        let doc = DocumentBuilder::new("test:t:1".into(), source(), at)
            .title("One".into())
            .markdown("body".into())
            .build();
        assert_eq!(doc.content_hash, doc.compute_content_hash());
        let other = DocumentBuilder::new("test:t:1".into(), source(), at)
            .title("One".into())
            .markdown("changed".into())
            .build();
        assert_ne!(doc.content_hash, other.content_hash);
    }

    #[test]
    fn records_carry_the_fingerprint_and_deletion() {
        let at = Utc::now();
        let doc = DocumentBuilder::new("test:t:1".into(), source(), at).build();
        let live = Item::new(doc.clone(), "v1".into(), ()).record();
        assert_eq!(live.doc_id, "test:t:1");
        assert_eq!(live.state.fingerprint, "v1");
        assert_eq!(live.state.content_hash, doc.content_hash);
        assert!(!live.state.deleted);
        let gone = Item::tombstone("test:t:1".into(), source(), at, ()).record();
        assert!(gone.state.deleted);
        assert_eq!(gone.state.fingerprint, "");
    }
}
