//! One Confluence page or blog post → one [`Document`].
//!
//! The breadcrumb (ancestors, then the page) is the document title, so every
//! chunk header the indexer writes (`Title > Heading path`) says where in the
//! space the text lives; the bare title and the breadcrumb are in metadata.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Map};
use tributary_core::{Document, Link, SourceRef};

use crate::sync::DocumentBuilder;

use super::api::Space;
use super::model::{RawComment, RawPage};
use super::storage::{storage_to_text, StorageLink};

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

    pub fn render(
        &self,
        page: &RawPage,
        space: &Space,
        updated: DateTime<Utc>,
        comments: &[RawComment],
    ) -> Rendered {
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
        let mut converted = storage_to_text(kept);
        // Footer comments follow the body under one heading, so their
        // chunks say `Breadcrumb > Comments` (as Jira issues do).
        let mut rendered_comments = Vec::new();
        let mut comment_links: Vec<StorageLink> = Vec::new();
        for c in comments {
            let body = storage_to_text(&c.storage);
            if body.text.trim().is_empty() {
                continue;
            }
            for (name, n) in body.unknown_macros {
                *converted.unknown_macros.entry(name).or_default() += n;
            }
            comment_links.extend(body.links);
            let who = c.author.clone().unwrap_or_else(|| "Comment".to_owned());
            let when = c
                .when
                .map(|t| format!(", {}", t.format("%Y-%m-%d")))
                .unwrap_or_default();
            rendered_comments.push(format!("### {who}{when}\n\n{}", body.text));
        }
        if !rendered_comments.is_empty() {
            if !converted.text.is_empty() {
                converted.text.push_str("\n\n");
            }
            converted.text.push_str("## Comments\n\n");
            converted.text.push_str(&rendered_comments.join("\n\n"));
        }
        converted.links.extend(comment_links);
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
        if !comments.is_empty() {
            metadata.insert("comment_count".into(), json!(comments.len()));
        }
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

        let page_space = page.space_key.clone().unwrap_or_else(|| space.key.clone());
        let mut seen = HashSet::new();
        let links: Vec<Link> = converted
            .links
            .iter()
            .map(|l| Link {
                target: link_target(l, &page_space),
                kind: l.kind.to_owned(),
                alias: l.alias.clone(),
            })
            .filter(|l| seen.insert((l.kind.clone(), l.target.clone())))
            .collect();
        let url = page.webui.as_ref().map(|w| {
            if w.starts_with("http://") || w.starts_with("https://") {
                w.clone()
            } else {
                format!("{}/{}", self.web_base, w.trim_start_matches('/'))
            }
        });
        let doc = DocumentBuilder::new(self.doc_id(&page.id), self.source.clone(), updated)
            .title(breadcrumb.join(" > "))
            .url(url)
            .markdown(converted.text)
            .metadata(metadata)
            .links(links)
            .build();
        Rendered {
            doc,
            truncated,
            unknown_macros: converted.unknown_macros,
        }
    }
}

/// A page link names its page as `SPACE:Title` (Confluence's own link
/// syntax): titles are unique per space only. A link without a space key
/// points into the linking page's space.
fn link_target(link: &StorageLink, page_space: &str) -> String {
    if link.kind != "page" {
        return link.target.clone();
    }
    let key = link.space.as_deref().unwrap_or(page_space);
    format!("{key}:{}", link.target)
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
        let r = renderer(1024).render(&page("<p>Check <b>lag</b>.</p>"), &space(), now, &[]);
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
    fn page_links_keep_their_space() {
        let storage = r#"<p><ac:link><ri:page ri:content-title="Kafka Basics" ri:space-key="OPS" /></ac:link> and <ac:link><ri:page ri:content-title="Deploys" /></ac:link></p>"#;
        let d = renderer(1024)
            .render(&page(storage), &space(), Utc::now(), &[])
            .doc;
        let targets: Vec<&str> = d.links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, ["OPS:Kafka Basics", "ENG:Deploys"]);
        assert_eq!(d.body.text, "Kafka Basics and Deploys");
    }

    #[test]
    fn footer_comments_follow_the_body_under_one_heading() {
        let comments = [
            RawComment {
                id: "1".into(),
                author: Some("Bob".into()),
                when: None,
                storage: "<p>Also check <a href=\"https://status.example.com\">status</a>.</p>"
                    .into(),
            },
            RawComment {
                id: "2".into(),
                ..RawComment::default()
            },
        ];
        let d = renderer(1024)
            .render(&page("<p>Body.</p>"), &space(), Utc::now(), &comments)
            .doc;
        assert_eq!(
            d.body.text,
            "Body.\n\n## Comments\n\n### Bob\n\nAlso check status."
        );
        assert_eq!(d.metadata["comment_count"], 2);
        assert!(d
            .links
            .iter()
            .any(|l| l.target == "https://status.example.com"));
    }

    #[test]
    fn an_oversized_page_is_truncated_and_flagged() {
        let storage = format!("<p>{}</p>", "é".repeat(2000));
        let r = renderer(1001).render(&page(&storage), &space(), Utc::now(), &[]);
        assert!(r.truncated);
        assert_eq!(r.doc.metadata["truncated"], true);
        assert_eq!(r.doc.metadata["storage_bytes"], storage.len());
        assert!(!r.doc.body.text.is_empty() && !r.doc.body.text.contains('<'));
    }
}
