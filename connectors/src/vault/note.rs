//! One note: YAML frontmatter, `[[wikilinks]]`, `[[target|alias]]`,
//! `![[embeds]]`, `#tags` and URLs. Never fails: broken frontmatter becomes a
//! warning recorded in the document's metadata, and the body is still ingested.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use regex::Regex;
use serde_json::{Map, Value};
use tributary_core::Link;

static WIKILINK: LazyLock<Regex> = LazyLock::new(|| {
    // ![[target#heading|alias]]: the target stops at '#', '^' or '|'.
    Regex::new(r"(!)?\[\[([^\[\]|#^]*)(?:[#^][^\[\]|]*)?(?:\|([^\[\]]*))?\]\]")
        .expect("static regex")
});
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    // Obsidian tags start with a letter or '_' (so "#1" and "# Heading" are not tags).
    Regex::new(r"(?:^|[\s(,])#([\p{L}_][\p{L}\p{N}_/-]*)").expect("static regex")
});
static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s<>()\[\]"'`]+"#).expect("static regex"));
static INLINE_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`[^`]*`").expect("static regex"));

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedNote {
    pub title: String,
    /// Markdown without the frontmatter block.
    pub body: String,
    pub tags: Vec<String>,
    pub aliases: Vec<String>,
    pub links: Vec<Link>,
    /// Frontmatter keys other than the ones lifted into fields above.
    pub frontmatter: Map<String, Value>,
    pub frontmatter_error: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

/// Splits `---\n<yaml>\n---\n<body>`; `None` when the note has no frontmatter.
fn split_frontmatter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if trimmed == "---" || trimmed == "..." {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn string_list(value: &Value) -> Vec<String> {
    let items: Vec<String> = match value {
        Value::String(s) => s.split([',', ' ']).map(str::to_string).collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|s| s.trim().trim_start_matches('#').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_date(value: &Value) -> Option<DateTime<Utc>> {
    let s = value.as_str()?.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(naive.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|naive| naive.and_utc())
}

fn file_stem(rel_path: &str) -> String {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    name.strip_suffix(".md").unwrap_or(name).to_string()
}

/// Parses a note; `rel_path` supplies the fallback title.
pub fn parse_note(rel_path: &str, text: &str) -> ParsedNote {
    let mut note = ParsedNote::default();
    let mut fm_title = None;
    let body = match split_frontmatter(text) {
        None => text,
        Some((yaml, body)) => {
            match serde_yaml::from_str::<serde_yaml::Value>(yaml)
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::to_value(v).map_err(|e| e.to_string()))
            {
                Ok(Value::Object(map)) => {
                    for (key, value) in map {
                        match key.as_str() {
                            "title" => fm_title = value.as_str().map(str::to_string),
                            "tags" | "tag" => note.tags.extend(string_list(&value)),
                            "aliases" | "alias" => note.aliases.extend(string_list(&value)),
                            "created" | "date" => {
                                note.created = parse_date(&value);
                                note.frontmatter.insert(key, value);
                            }
                            "updated" | "modified" => {
                                note.updated = parse_date(&value);
                                note.frontmatter.insert(key, value);
                            }
                            _ => {
                                note.frontmatter.insert(key, value);
                            }
                        }
                    }
                }
                Ok(Value::Null) => {}
                Ok(_) => note.frontmatter_error = Some("frontmatter is not a YAML mapping".into()),
                Err(err) => note.frontmatter_error = Some(err),
            }
            body
        }
    };
    if let Some(err) = &note.frontmatter_error {
        tracing::warn!(path = rel_path, error = %err, "broken frontmatter; body ingested without it");
    }

    let mut tags: BTreeSet<String> = note.tags.drain(..).collect();
    let mut links: Vec<Link> = Vec::new();
    let mut seen_links = BTreeSet::new();
    let mut first_h1 = None;
    let mut fence: Option<&str> = None;
    for line in body.lines() {
        let trimmed = line.trim_start();
        // Nothing inside fenced code is a link, tag or heading.
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            continue;
        }
        if first_h1.is_none() {
            if let Some(h) = trimmed.strip_prefix("# ") {
                first_h1 = Some(h.trim().to_string());
            }
        }
        let line = INLINE_CODE.replace_all(line, "");
        for cap in WIKILINK.captures_iter(&line) {
            let target = cap.get(2).map_or("", |m| m.as_str()).trim();
            if target.is_empty() {
                continue; // [[#heading]]: a link within this note
            }
            let kind = if cap.get(1).is_some() {
                "embed"
            } else {
                "wikilink"
            };
            let alias = cap
                .get(3)
                .map(|m| m.as_str().trim().to_string())
                .filter(|a| !a.is_empty());
            if seen_links.insert((kind, target.to_string())) {
                links.push(Link {
                    target: target.to_string(),
                    kind: kind.into(),
                    alias,
                });
            }
        }
        let without_links = WIKILINK.replace_all(&line, "");
        for cap in TAG.captures_iter(&without_links) {
            tags.insert(cap[1].trim_end_matches('/').to_string());
        }
        for m in URL.find_iter(&without_links) {
            let url = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if seen_links.insert(("url", url.to_string())) {
                links.push(Link {
                    target: url.to_string(),
                    kind: "url".into(),
                    alias: None,
                });
            }
        }
    }
    note.title = fm_title
        .filter(|t| !t.trim().is_empty())
        .or(first_h1)
        .unwrap_or_else(|| file_stem(rel_path));
    note.tags = tags.into_iter().collect();
    note.links = links;
    note.body = body.to_string();
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str = "---\ntitle: Kafka Runbook\ntags: [ops, kafka]\naliases:\n  - broker runbook\ncreated: 2026-01-05\nowner: platform\n---\n# Heading ignored for title\n\nSee [[Consumer Lag]] and [[Incident Review|the review]].\n![[diagram.png]]\nTagged #oncall and #infra/kafka, not #1 or `#code`.\nDocs: https://kafka.apache.org/documentation.\n\n```\n[[not a link]] #nottag\n```\n";

    #[test]
    fn parses_frontmatter_links_tags_and_urls() {
        let note = parse_note("ops/kafka.md", NOTE);
        assert_eq!(note.title, "Kafka Runbook");
        assert_eq!(note.aliases, vec!["broker runbook"]);
        assert_eq!(note.tags, vec!["infra/kafka", "kafka", "oncall", "ops"]);
        assert_eq!(
            note.frontmatter.get("owner"),
            Some(&Value::String("platform".into()))
        );
        assert_eq!(
            note.created.unwrap().to_rfc3339(),
            "2026-01-05T00:00:00+00:00"
        );
        let links: Vec<(&str, &str, Option<&str>)> = note
            .links
            .iter()
            .map(|l| (l.kind.as_str(), l.target.as_str(), l.alias.as_deref()))
            .collect();
        assert_eq!(
            links,
            vec![
                ("wikilink", "Consumer Lag", None),
                ("wikilink", "Incident Review", Some("the review")),
                ("embed", "diagram.png", None),
                ("url", "https://kafka.apache.org/documentation", None),
            ]
        );
        assert!(note.body.starts_with("# Heading"));
        assert!(note.frontmatter_error.is_none());
    }

    #[test]
    fn broken_frontmatter_keeps_the_body() {
        let note = parse_note(
            "x/broken.md",
            "---\ntitle: [unclosed\n---\nBody text #kept\n",
        );
        assert!(note.frontmatter_error.is_some());
        assert_eq!(note.title, "broken");
        assert_eq!(note.body, "Body text #kept\n");
        assert_eq!(note.tags, vec!["kept"]);
    }

    #[test]
    fn title_falls_back_to_h1_then_file_name() {
        assert_eq!(parse_note("a/b.md", "# From H1\ntext").title, "From H1");
        assert_eq!(parse_note("a/b.md", "no heading").title, "b");
        // An unterminated frontmatter block is just text.
        assert_eq!(
            parse_note("a/c.md", "---\nnot closed").body,
            "---\nnot closed"
        );
    }
}
