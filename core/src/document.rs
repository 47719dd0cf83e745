//! The one document model every connector produces and the indexer consumes.
//!
//! JSON on the wire; `docs/document.schema.json`, generated from these types
//! (see the `checked_in_schema` test), describes it for producers written in
//! other languages. Unknown fields are tolerated (a newer producer
//! may add optional fields within the same `schema_version`); a different
//! `schema_version` is refused, since its meaning is unknown to this build.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The document schema version this build produces and understands.
pub const SCHEMA_VERSION: u32 = 1;

/// Largest document id accepted, in bytes. Ids are Kafka keys and Qdrant
/// payload values; anything longer is a bug upstream.
pub const MAX_ID_BYTES: usize = 1024;

/// The value of every message on the documents topic. Kafka key: the
/// document id (UTF-8). Producers in any language may publish it; the indexer
/// dead-letters messages that do not parse or carry another
/// `schema_version`. Unknown extra fields are ignored (forward compatible
/// within version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Tributary Document (schema_version 1)")]
pub struct Document {
    /// Always 1: another version is dead-lettered, its meaning unknown.
    #[schemars(schema_with = "schema_version_1")]
    pub schema_version: u32,
    /// Stable, source-qualified id `<kind>:<instance>:<native id>`, e.g.
    /// `vault:notes:projects/alpha.md`. Also the Kafka key, so all versions of
    /// a document stay on one partition, in order.
    #[schemars(length(min = 1, max = MAX_ID_BYTES))]
    pub id: String,
    pub source: SourceRef,
    #[serde(default)]
    pub title: String,
    /// Where a person opens the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub body: Body,
    /// Source-specific fields: tags, aliases, path, project, status, labels...
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Outgoing links: wikilinks, issue links, URLs. The dispatcher follows them.
    #[serde(default)]
    pub links: Vec<Link>,
    /// When the source last changed the item (RFC 3339).
    pub updated_at: DateTime<Utc>,
    /// Tombstone: the source item is gone; remove every chunk of this id.
    #[serde(default)]
    pub deleted: bool,
    /// `sha256:<hex>` over the content fields (title, url, body, metadata,
    /// links, deleted; not updated_at). The indexer skips re-embedding when it matches what it indexed last.
    /// Any stable hash of the content works for producers in other
    /// languages; it is compared, never recomputed. Tributary's own hash also
    /// covers chunks, when present.
    pub content_hash: String,
    /// Optional pre-chunked, pre-embedded content from a producer that embeds
    /// on its own. When present, the indexer stores exactly these chunks with
    /// these vectors and neither chunks the body nor calls its embedder.
    /// Every vector must have the indexer model's dimension (else the message
    /// is dead-lettered as `VectorDimensionMismatch`), be finite and not all
    /// zeros.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<PrecomputedChunk>,
}

/// `"schema_version": 1`, the one value this build accepts.
fn schema_version_1(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "const": SCHEMA_VERSION })
}

/// One chunk a producer split and embedded itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PrecomputedChunk {
    /// Stored with the point and shown by search.
    #[schemars(length(min = 1))]
    pub text: String,
    #[schemars(length(min = 1))]
    pub vector: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceRef {
    /// `vault`, `jira`, `confluence`, ...
    #[schemars(length(min = 1))]
    pub kind: String,
    /// Which configured instance of that kind (one vault among several).
    pub instance: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    #[default]
    Markdown,
    Plain,
}

/// Either one text or pre-split sections (or both: text first, then
/// sections).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Body {
    #[serde(default)]
    pub format: TextFormat,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Section {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Link {
    /// What the link points at: a note name, an issue key, a URL.
    pub target: String,
    /// `wikilink`, `embed`, `url`, `issue`, `parent`...
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

impl Link {
    /// `(kind, target, alias)`: a link as one comparable value.
    pub fn parts(&self) -> (&str, &str, Option<&str>) {
        (&self.kind, &self.target, self.alias.as_deref())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("document is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported schema_version {found} (this build understands {SCHEMA_VERSION})")]
    UnsupportedSchema { found: u32 },
    #[error("document id is empty")]
    EmptyId,
    #[error("document id is {0} bytes, more than {MAX_ID_BYTES}")]
    IdTooLong(usize),
    #[error("document source kind is empty")]
    EmptySourceKind,
    #[error("precomputed chunk {index}: {reason}")]
    InvalidChunk { index: usize, reason: String },
}

impl Document {
    /// Builds the id for an item of a source: `<kind>:<instance>:<native>`.
    pub fn make_id(kind: &str, instance: &str, native: &str) -> String {
        format!("{kind}:{instance}:{native}")
    }

    /// A document with nothing in it yet (no title, body, links; hash unset):
    /// what a tombstone and a connector's document builder start from.
    pub fn empty(id: String, source: SourceRef, updated_at: DateTime<Utc>) -> Self {
        Document {
            schema_version: SCHEMA_VERSION,
            id,
            source,
            title: String::new(),
            url: None,
            body: Body::default(),
            metadata: Map::new(),
            links: Vec::new(),
            updated_at,
            deleted: false,
            content_hash: String::new(),
            chunks: Vec::new(),
        }
    }

    /// A tombstone for `id`: tells the indexer to remove every chunk of it.
    pub fn tombstone(id: String, source: SourceRef, at: DateTime<Utc>) -> Self {
        let mut doc = Document::empty(id, source, at);
        doc.deleted = true;
        doc.content_hash = doc.compute_content_hash();
        doc
    }

    /// Hash of everything that changes what gets indexed. `updated_at` is left
    /// out on purpose: a touched-but-unchanged item must not be re-embedded.
    pub fn compute_content_hash(&self) -> String {
        let mut content = serde_json::json!({
            "title": self.title,
            "url": self.url,
            "body": self.body,
            "metadata": self.metadata,
            "links": self.links,
            "deleted": self.deleted,
        });
        // Only when present, so documents without them keep the hashes they
        // always had (a changed hash means a re-embed of the whole corpus).
        if !self.chunks.is_empty() {
            content["chunks"] = serde_json::json!(self.chunks);
        }
        let mut hasher = Sha256::new();
        hasher.update(content.to_string().as_bytes());
        format!("sha256:{}", hex::encode(hasher.finalize()))
    }

    /// Parses and validates a document from the bytes of a Kafka message.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, DocumentError> {
        let doc: Document = serde_json::from_slice(bytes)?;
        doc.validate()?;
        Ok(doc)
    }

    pub fn validate(&self) -> Result<(), DocumentError> {
        if self.schema_version != SCHEMA_VERSION {
            return Err(DocumentError::UnsupportedSchema {
                found: self.schema_version,
            });
        }
        if self.id.is_empty() {
            return Err(DocumentError::EmptyId);
        }
        if self.id.len() > MAX_ID_BYTES {
            return Err(DocumentError::IdTooLong(self.id.len()));
        }
        if self.source.kind.is_empty() {
            return Err(DocumentError::EmptySourceKind);
        }
        self.validate_chunks()
    }

    /// Precomputed chunks: text present, vectors of one size, finite and
    /// not all zero (cosine distance is undefined for a zero vector).
    fn validate_chunks(&self) -> Result<(), DocumentError> {
        let size = self.chunks.first().map(|c| c.vector.len());
        for (index, chunk) in self.chunks.iter().enumerate() {
            let invalid = |reason: String| DocumentError::InvalidChunk { index, reason };
            if chunk.text.trim().is_empty() {
                return Err(invalid("text is empty".into()));
            }
            if chunk.vector.is_empty() {
                return Err(invalid("vector is empty".into()));
            }
            if Some(chunk.vector.len()) != size {
                return Err(invalid(format!(
                    "vector has {} dimensions, chunk 0 has {}",
                    chunk.vector.len(),
                    size.unwrap_or(0)
                )));
            }
            if chunk.vector.iter().any(|x| !x.is_finite()) {
                return Err(invalid("vector holds NaN or infinity".into()));
            }
            if chunk.vector.iter().all(|x| *x == 0.0) {
                return Err(invalid("vector is all zeros".into()));
            }
        }
        Ok(())
    }

    /// Vector size of the precomputed chunks, if the document carries any.
    pub fn precomputed_dimension(&self) -> Option<usize> {
        self.chunks.first().map(|c| c.vector.len())
    }

    /// The body as one markdown-ish text, sections joined under their headings.
    pub fn body_text(&self) -> String {
        if self.body.sections.is_empty() {
            return self.body.text.clone();
        }
        let mut out = self.body.text.clone();
        for section in &self.body.sections {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            if let Some(heading) = &section.heading {
                out.push_str("## ");
                out.push_str(heading);
                out.push_str("\n\n");
            }
            out.push_str(&section.text);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        let mut doc = Document {
            schema_version: SCHEMA_VERSION,
            id: Document::make_id("vault", "notes", "a.md"),
            source: SourceRef {
                kind: "vault".into(),
                instance: "notes".into(),
            },
            title: "A".into(),
            url: None,
            body: Body {
                format: TextFormat::Markdown,
                text: "hello".into(),
                sections: vec![],
            },
            metadata: Map::new(),
            links: vec![],
            updated_at: Utc::now(),
            deleted: false,
            content_hash: String::new(),
            chunks: vec![],
        };
        doc.content_hash = doc.compute_content_hash();
        doc
    }

    #[test]
    fn precomputed_chunks_are_validated_and_hashed() {
        let plain = sample();
        let mut doc = sample();
        doc.chunks = vec![
            PrecomputedChunk {
                text: "one".into(),
                vector: vec![0.1, 0.2, 0.3],
            },
            PrecomputedChunk {
                text: "two".into(),
                vector: vec![0.3, 0.2, 0.1],
            },
        ];
        assert!(doc.validate().is_ok());
        assert_eq!(doc.precomputed_dimension(), Some(3));
        assert_ne!(doc.compute_content_hash(), plain.compute_content_hash());
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(Document::from_json_bytes(&bytes).unwrap(), doc);

        let mut ragged = doc.clone();
        ragged.chunks[1].vector.push(0.4);
        assert!(matches!(
            ragged.validate(),
            Err(DocumentError::InvalidChunk { index: 1, .. })
        ));
        let mut zero = doc.clone();
        zero.chunks[0].vector = vec![0.0; 3];
        assert!(zero.validate().is_err());
        let mut nan = doc;
        nan.chunks[0].vector[0] = f32::NAN;
        assert!(nan.validate().is_err());
    }

    #[test]
    fn hash_of_a_document_without_chunks_is_unchanged() {
        // Pinned: changing it would re-embed every document ever indexed.
        let mut doc = sample();
        doc.updated_at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let before = serde_json::json!({
            "title": doc.title,
            "url": doc.url,
            "body": doc.body,
            "metadata": doc.metadata,
            "links": doc.links,
            "deleted": doc.deleted,
        });
        let mut hasher = Sha256::new();
        hasher.update(before.to_string().as_bytes());
        assert_eq!(
            doc.compute_content_hash(),
            format!("sha256:{}", hex::encode(hasher.finalize()))
        );
    }

    #[test]
    fn round_trips_through_json() {
        let doc = sample();
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert_eq!(Document::from_json_bytes(&bytes).unwrap(), doc);
    }

    #[test]
    fn hash_ignores_updated_at_but_not_text() {
        let a = sample();
        let mut b = a.clone();
        b.updated_at = a.updated_at + chrono::Duration::hours(1);
        assert_eq!(a.compute_content_hash(), b.compute_content_hash());
        b.body.text.push('!');
        assert_ne!(a.compute_content_hash(), b.compute_content_hash());
    }

    #[test]
    fn rejects_unknown_schema_version_and_garbage() {
        let mut doc = sample();
        doc.schema_version = 99;
        let bytes = serde_json::to_vec(&doc).unwrap();
        assert!(matches!(
            Document::from_json_bytes(&bytes),
            Err(DocumentError::UnsupportedSchema { found: 99 })
        ));
        assert!(matches!(
            Document::from_json_bytes(b"{not json"),
            Err(DocumentError::Json(_))
        ));
    }

    #[test]
    fn sections_join_under_headings() {
        let mut doc = sample();
        doc.body.text = String::new();
        doc.body.sections = vec![
            Section {
                heading: Some("One".into()),
                text: "first".into(),
            },
            Section {
                heading: None,
                text: "second".into(),
            },
        ];
        assert_eq!(doc.body_text(), "## One\n\nfirst\n\nsecond");
    }
}
