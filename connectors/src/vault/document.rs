//! One note file's bytes into the document that is published, or the reason
//! it is not: binary content is skipped, text that is not UTF-8 is decoded
//! and flagged, and the document is kept under `max_note_bytes`.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tributary_core::{Document, SourceRef};

use super::cap::{fit, Fit};
use super::decode::{decode, Decoded};
use super::note::{parse_note, ParsedNote};
use super::scan::VaultFile;
use super::skip::SkipReason;
use crate::publish::PublishError;
use crate::sync::DocumentBuilder;

#[derive(Debug)]
pub enum NoteDocument {
    Publish(Box<Document>),
    Skip(SkipReason),
}

/// Builds the document of `file` from its `bytes`. Warns (with the file's
/// `path`) about lossy decoding and truncation; the caller logs skips.
pub fn note_document(
    source: &SourceRef,
    id: String,
    file: &VaultFile,
    bytes: &[u8],
    max_note_bytes: usize,
) -> Result<NoteDocument, PublishError> {
    let (text, invalid_utf8) = match decode(bytes) {
        Decoded::Text(text) => (text, false),
        Decoded::Lossy(text) => {
            tracing::warn!(
                path = %file.rel_path,
                "note is not valid UTF-8; invalid bytes replaced and flagged invalid_utf8"
            );
            (text.into(), true)
        }
        Decoded::Binary => return Ok(NoteDocument::Skip(SkipReason::Binary)),
    };
    let note = parse_note(&file.rel_path, &text);
    let mut doc = to_document(source, id, file, note, invalid_utf8);
    let fitted = fit(&mut doc, max_note_bytes, bytes.len() as u64).map_err(|source| {
        PublishError::Encode {
            id: doc.id.clone(),
            source,
        }
    })?;
    match fitted {
        Fit::Whole => {}
        Fit::Truncated { kept_body_bytes } => tracing::warn!(
            path = %file.rel_path,
            original_bytes = bytes.len(),
            kept_body_bytes,
            cap = max_note_bytes,
            "note over vault.max_note_bytes; body truncated and flagged truncated"
        ),
        Fit::TooLarge { bytes } => {
            return Ok(NoteDocument::Skip(SkipReason::TooLarge {
                bytes,
                cap: max_note_bytes,
            }))
        }
    }
    Ok(NoteDocument::Publish(Box::new(doc)))
}

fn to_document(
    source: &SourceRef,
    id: String,
    file: &VaultFile,
    note: ParsedNote,
    invalid_utf8: bool,
) -> Document {
    let mtime =
        DateTime::<Utc>::from_timestamp_nanos(file.mtime_ns.clamp(0, i64::MAX as i128) as i64);
    let mut metadata = Map::new();
    metadata.insert("path".into(), Value::String(file.rel_path.clone()));
    metadata.insert("tags".into(), json!(note.tags));
    if !note.aliases.is_empty() {
        metadata.insert("aliases".into(), json!(note.aliases));
    }
    if let Some(created) = note.created {
        metadata.insert("created".into(), Value::String(created.to_rfc3339()));
    }
    if !note.frontmatter.is_empty() {
        metadata.insert("frontmatter".into(), Value::Object(note.frontmatter));
    }
    if let Some(err) = note.frontmatter_error {
        metadata.insert("frontmatter_error".into(), Value::String(err));
    }
    if invalid_utf8 {
        // The text holds U+FFFD where the file had bytes that are not UTF-8.
        metadata.insert("invalid_utf8".into(), Value::Bool(true));
    }
    DocumentBuilder::new(id, source.clone(), note.updated.unwrap_or(mtime))
        .title(note.title)
        .markdown(note.body)
        .metadata(metadata)
        .links(note.links)
        .build()
}

#[cfg(test)]
mod tests {
    use super::super::test_log::{capture, warned_paths};
    use super::*;

    fn file(rel_path: &str, size: usize) -> VaultFile {
        VaultFile {
            rel_path: rel_path.into(),
            abs_path: rel_path.into(),
            size: size as u64,
            mtime_ns: 1_700_000_000_000_000_000,
        }
    }

    fn build(rel_path: &str, bytes: &[u8], cap: usize) -> (NoteDocument, Vec<String>) {
        let source = SourceRef {
            kind: "vault".into(),
            instance: "test".into(),
        };
        let id = format!("vault:test:{rel_path}");
        let f = file(rel_path, bytes.len());
        let (built, events) = capture(|| note_document(&source, id, &f, bytes, cap));
        let paths = warned_paths(&events)
            .into_iter()
            .map(String::from)
            .collect();
        (built.expect("encodes"), paths)
    }

    #[test]
    fn a_note_over_the_cap_is_truncated_flagged_and_named_in_a_warning() {
        let body = "Line of pasted log output, repeated.\n".repeat(40_000);
        let text = format!("---\ntitle: Logs\ntags: [ops]\n---\n{body}");
        let (built, warned) = build("ops/logs.md", text.as_bytes(), 900_000);
        let NoteDocument::Publish(doc) = built else {
            panic!("skipped: {built:?}");
        };
        let size = serde_json::to_vec(&doc).unwrap().len();
        assert!((899_000..=900_000).contains(&size), "{size}");
        assert!(body.starts_with(&doc.body.text));
        assert_eq!(doc.metadata["truncated"], true);
        assert_eq!(doc.metadata["original_bytes"], text.len());
        assert_eq!(doc.title, "Logs");
        assert_eq!(doc.metadata["tags"], json!(["ops"]));
        assert_eq!(warned, vec!["ops/logs.md"]);
    }

    #[test]
    fn a_note_under_the_cap_is_whole_and_quiet() {
        let (built, warned) = build("a.md", b"# A\nsmall", 900_000);
        let NoteDocument::Publish(doc) = built else {
            panic!("skipped: {built:?}");
        };
        assert_eq!(doc.body.text, "# A\nsmall");
        assert!(doc.metadata.get("truncated").is_none());
        assert!(doc.metadata.get("invalid_utf8").is_none());
        assert!(warned.is_empty());
    }

    #[test]
    fn a_binary_file_is_skipped() {
        let (built, _) = build("img.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 900_000);
        assert!(matches!(built, NoteDocument::Skip(SkipReason::Binary)));
    }

    #[test]
    fn latin1_text_is_ingested_flagged_and_warned() {
        let (built, warned) = build("latin1.md", b"# Caf\xe9\n\nAu lait.\n", 900_000);
        let NoteDocument::Publish(doc) = built else {
            panic!("skipped: {built:?}");
        };
        assert_eq!(doc.title, "Caf\u{fffd}");
        assert_eq!(doc.metadata["invalid_utf8"], true);
        assert_eq!(warned, vec!["latin1.md"]);
    }

    #[test]
    fn a_note_whose_frontmatter_alone_is_over_the_cap_is_skipped() {
        let text = format!("---\nblob: {}\n---\nbody\n", "x".repeat(5_000));
        let (built, _) = build("blob.md", text.as_bytes(), 2_000);
        assert!(matches!(
            built,
            NoteDocument::Skip(SkipReason::TooLarge { cap: 2_000, .. })
        ));
    }
}
