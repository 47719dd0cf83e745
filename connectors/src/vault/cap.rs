//! Keeps a note's document under the size Kafka accepts.
//!
//! Kafka refuses a message over its limits (about 1 MB by default), and a
//! refused message is refused again on every rerun: one huge note would fail
//! every sync of the vault forever. So the connector measures what it sends
//! (the document's JSON, escapes included) and, when that is over the cap,
//! cuts the body at a character boundary until it fits, flagging the document
//! `truncated` with the note's `original_bytes`. Frontmatter and links are
//! kept whole; if they alone are over the cap the note cannot be published.

use serde_json::{json, Value};
use tributary_core::Document;

#[derive(Debug, PartialEq)]
pub enum Fit {
    /// Already under the cap; untouched.
    Whole,
    /// The body was cut; the document says so in its metadata.
    Truncated { kept_body_bytes: usize },
    /// Over the cap even with an empty body.
    TooLarge { bytes: usize },
}

/// Bytes of `doc` as JSON, without building the JSON.
fn json_len(doc: &Document) -> Result<usize, serde_json::Error> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, doc)?;
    Ok(count.0)
}

/// Bytes `c` takes inside a JSON string (serde_json's escapes).
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Where to cut `text` so that at least `excess` escaped bytes go.
fn cut_point(text: &str, excess: usize) -> usize {
    let mut dropped = 0;
    for (i, c) in text.char_indices().rev() {
        dropped += escaped_len(c);
        if dropped >= excess {
            return i;
        }
    }
    0
}

/// Makes `doc` fit in `max_bytes` of JSON; `original_bytes` is the note's
/// size on disk, recorded when the body is cut. The content hash is
/// recomputed whenever the document changes.
pub fn fit(
    doc: &mut Document,
    max_bytes: usize,
    original_bytes: u64,
) -> Result<Fit, serde_json::Error> {
    if json_len(doc)? <= max_bytes {
        return Ok(Fit::Whole);
    }
    doc.metadata.insert("truncated".into(), Value::Bool(true));
    doc.metadata
        .insert("original_bytes".into(), json!(original_bytes));
    // Each pass removes at least one character, and normally the first pass
    // is exact: the escaped sizes are the ones serde_json writes.
    loop {
        let size = json_len(doc)?;
        if size <= max_bytes {
            doc.content_hash = doc.compute_content_hash();
            return Ok(Fit::Truncated {
                kept_body_bytes: doc.body.text.len(),
            });
        }
        if doc.body.text.is_empty() {
            return Ok(Fit::TooLarge { bytes: size });
        }
        let cut = cut_point(&doc.body.text, size - max_bytes);
        doc.body.text.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::Map;
    use tributary_core::document::TextFormat;
    use tributary_core::{Body, SourceRef, SCHEMA_VERSION};

    use super::*;

    fn doc(text: &str) -> Document {
        let mut doc = Document {
            schema_version: SCHEMA_VERSION,
            id: "vault:test:big.md".into(),
            source: SourceRef {
                kind: "vault".into(),
                instance: "test".into(),
            },
            title: "Big".into(),
            url: None,
            body: Body {
                format: TextFormat::Markdown,
                text: text.into(),
                sections: Vec::new(),
            },
            metadata: Map::new(),
            links: Vec::new(),
            updated_at: Utc::now(),
            deleted: false,
            content_hash: String::new(),
            chunks: Vec::new(),
        };
        doc.content_hash = doc.compute_content_hash();
        doc
    }

    #[test]
    fn a_document_under_the_cap_is_untouched() {
        let mut d = doc("small note");
        let before = d.clone();
        assert_eq!(fit(&mut d, 10_000, 10).unwrap(), Fit::Whole);
        assert_eq!(d, before);
    }

    #[test]
    fn an_oversized_body_is_cut_on_a_char_boundary_to_fit_exactly() {
        // Multi-byte characters and characters JSON escapes, so neither the
        // character count nor the UTF-8 length is the size on the wire.
        let text = "é\"\u{1}\n".repeat(50_000);
        let mut d = doc(&text);
        let hash = d.content_hash.clone();
        let cap = 100_000;
        let fitted = fit(&mut d, cap, 123_456).unwrap();
        let Fit::Truncated { kept_body_bytes } = fitted else {
            panic!("not truncated: {fitted:?}");
        };
        let size = serde_json::to_vec(&d).unwrap().len();
        assert!(size <= cap, "{size} > {cap}");
        // Exact: not a byte more cut than needed (the next char would not fit).
        assert!(size > cap - 6, "cut too much: {size}");
        assert_eq!(kept_body_bytes, d.body.text.len());
        assert!(text.starts_with(&d.body.text));
        assert_eq!(d.metadata["truncated"], true);
        assert_eq!(d.metadata["original_bytes"], 123_456);
        assert_ne!(d.content_hash, hash);
        assert_eq!(d.content_hash, d.compute_content_hash());
    }

    #[test]
    fn metadata_alone_over_the_cap_cannot_fit() {
        let mut d = doc("body");
        d.metadata
            .insert("frontmatter".into(), json!({ "blob": "x".repeat(5_000) }));
        let fitted = fit(&mut d, 1_000, 5_100).unwrap();
        assert!(matches!(fitted, Fit::TooLarge { bytes } if bytes > 5_000));
        assert!(d.body.text.is_empty());
    }
}
