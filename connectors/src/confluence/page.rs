//! One Confluence page or blog post → one [`Document`].
//!
//! The breadcrumb (ancestors, then the page) is the document title, so every
//! chunk header the indexer writes (`Title > Heading path`) says where in the
//! space the text lives; the bare title and the breadcrumb are in metadata.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Map};
use tributary_core::document::TextFormat;
use tributary_core::{Body, Document, Link, SourceRef, SCHEMA_VERSION};

use super::api::Space;
use super::model::RawPage;
use super::storage::storage_to_text;

#[derive(Debug, Clone)]
pub struct Renderer {
    pub source: SourceRef,
    /// Where `webui` links are relative to (no trailing `/`).
    pub web_base: String,
    pub max_page_bytes: usize,
}

#[derive(Debug)]
pub struct Rendered {
    pub doc: Document,
    pub truncated: bool,
    pub unknown_macros: BTreeMap<String, u64>,
}

impl Renderer {
    pub fn doc_id(&self, page_id: &str) -> String {
        Document::make_id(&self.source.kind, &self.source.instance, page_id)
    }

    pub fn render(&self, page: &RawPage, space: &Space, updated: DateTime<Utc>) -> Rendered {
        let storage = page.storage.as_deref().unwrap_or("");
        let truncated = storage.len() > self.max_page_bytes;
        let kept = if truncated {
            let mut end = self.max_page_bytes;
            while !storage.is_char_boundary(end) {
                end -= 1;
            }
            &storage[..end]
        } else {
            storage
        };
        let converted = storage_to_text(kept);
        let title = if page.title.trim().is_empty() {
            format!("Page {}", page.id)
        } else {
            page.title.clone()
        };
        let mut breadcrumb = page.ancestors.clone();
        breadcrumb.push(title.clone());

        let mut metadata = Map::new();
        metadata.insert("page_id".into(), json!(page.id));
        metadata.insert("type".into(), json!(page.kind));
        metadata.insert("title".into(), json!(title));
        metadata.insert(
            "space_key".into(),
            json!(page.space_key.clone().unwrap_or_else(|| space.key.clone())),
        );
        if let Some(name) = page.space_name.as_ref().or(space.name.as_ref()) {
            metadata.insert("space_name".into(), json!(name));
        }
        metadata.insert("ancestors".into(), json!(page.ancestors));
        metadata.insert("breadcrumb".into(), json!(breadcrumb.join(" > ")));
        metadata.insert("labels".into(), json!(page.labels));
        metadata.insert("version".into(), json!(page.version));
        metadata.insert("version_when".into(), json!(updated.to_rfc3339()));
        if let Some(author) = &page.author {
            metadata.insert("author".into(), json!(author));
        }
        if truncated {
            // Never dropped silently: the page is indexed up to the cap and says so.
            metadata.insert("truncated".into(), json!(true));
            metadata.insert("storage_bytes".into(), json!(storage.len()));
        }
        if !converted.unknown_macros.is_empty() {
            metadata.insert("unknown_macros".into(), json!(converted.unknown_macros));
        }

        let mut seen = HashSet::new();
        let links: Vec<Link> = converted
            .links
            .iter()
            .filter(|l| seen.insert((l.kind, l.target.clone())))
            .map(|l| Link {
                target: l.target.clone(),
                kind: l.kind.to_owned(),
                alias: l.alias.clone(),
            })
            .collect();
        let url = page.webui.as_ref().map(|w| {
            if w.starts_with("http://") || w.starts_with("https://") {
                w.clone()
            } else {
                format!("{}/{}", self.web_base, w.trim_start_matches('/'))
            }
        });
        let mut doc = Document {
            schema_version: SCHEMA_VERSION,
            id: self.doc_id(&page.id),
            source: self.source.clone(),
            title: breadcrumb.join(" > "),
            url,
            body: Body {
                format: TextFormat::Markdown,
                text: converted.text,
                sections: Vec::new(),
            },
            metadata,
            links,
            updated_at: updated,
            deleted: false,
            content_hash: String::new(),
            chunks: Vec::new(),
        };
        doc.content_hash = doc.compute_content_hash();
        Rendered {
            doc,
            truncated,
            unknown_macros: converted.unknown_macros,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(cap: usize) -> Renderer {
        Renderer {
            source: SourceRef {
                kind: "confluence".into(),
                instance: "acme".into(),
            },
            web_base: "https://acme.atlassian.net/wiki".into(),
            max_page_bytes: cap,
        }
    }

    fn page(storage: &str) -> RawPage {
        RawPage {
            id: "42".into(),
            kind: "page".into(),
            status: "current".into(),
            title: "Lag runbook".into(),
            ancestors: vec!["Home".into(), "Runbooks".into()],
            labels: vec!["ops".into()],
            version: 3,
            author: Some("Jane Doe".into()),
            webui: Some("/spaces/ENG/pages/42/Lag+runbook".into()),
            storage: Some(storage.into()),
            ..RawPage::default()
        }
    }

    fn space() -> Space {
        Space {
            key: "ENG".into(),
            id: Some("99".into()),
            name: Some("Engineering".into()),
        }
    }

    #[test]
    fn a_page_becomes_a_document_with_breadcrumb_and_url() {
        let now = Utc::now();
        let r = renderer(1024).render(&page("<p>Check <b>lag</b>.</p>"), &space(), now);
        let d = r.doc;
        assert_eq!(d.id, "confluence:acme:42");
        assert_eq!(d.title, "Home > Runbooks > Lag runbook");
        assert_eq!(d.body.text, "Check lag.");
        assert_eq!(
            d.url.as_deref(),
            Some("https://acme.atlassian.net/wiki/spaces/ENG/pages/42/Lag+runbook")
        );
        assert_eq!(d.metadata["space_key"], "ENG");
        assert_eq!(d.metadata["space_name"], "Engineering");
        assert_eq!(d.metadata["author"], "Jane Doe");
        assert_eq!(d.metadata["version"], 3);
        assert!(d.metadata.get("truncated").is_none());
        assert!(!r.truncated);
    }

    #[test]
    fn an_oversized_page_is_truncated_and_flagged() {
        let storage = format!("<p>{}</p>", "é".repeat(2000));
        let r = renderer(1001).render(&page(&storage), &space(), Utc::now());
        assert!(r.truncated);
        assert_eq!(r.doc.metadata["truncated"], true);
        assert_eq!(r.doc.metadata["storage_bytes"], storage.len());
        assert!(!r.doc.body.text.is_empty() && !r.doc.body.text.contains('<'));
    }
}
