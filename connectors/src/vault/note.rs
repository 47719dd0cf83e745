//! One note: YAML frontmatter, then the links, tags and title `extract`
//! finds in the body. Never fails: broken frontmatter becomes a
//! warning recorded in the document's metadata, and the body is still ingested.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use tributary_core::Link;

use super::extract::extract;

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

/// How a frontmatter string (not a list) is read.
#[derive(Clone, Copy)]
enum Scalar {
    /// `tags: a, b c`: Obsidian splits a tag string at commas and spaces.
    Split,
    /// `aliases: File formats`: a string is one alias, spaces and all.
    Whole,
}

fn string_list(value: &Value, scalar: Scalar) -> Vec<String> {
    let items: Vec<String> = match (value, scalar) {
        (Value::String(s), Scalar::Split) => s.split([',', ' ']).map(str::to_string).collect(),
        (Value::String(s), Scalar::Whole) => vec![s.clone()],
        (Value::Array(a), _) => a
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
    // Editors on Windows save a UTF-8 byte order mark; before the `---` it
    // would hide the frontmatter and leave the YAML in the body.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut note = ParsedNote::default();
    let mut fm_title = None;
    let body = match split_frontmatter(text) {
        None => text,
        Some((yaml, body)) => {
            match yaml_serde::from_str::<yaml_serde::Value>(yaml)
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::to_value(v).map_err(|e| e.to_string()))
            {
                Ok(Value::Object(map)) => {
                    for (key, value) in map {
                        match key.as_str() {
                            "title" => fm_title = value.as_str().map(str::to_string),
                            "tags" | "tag" => note.tags.extend(string_list(&value, Scalar::Split)),
                            "aliases" | "alias" => {
                                note.aliases.extend(string_list(&value, Scalar::Whole))
                            }
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

    let extracted = extract(body);
    let mut tags: BTreeSet<String> = note.tags.drain(..).collect();
    tags.extend(extracted.tags);
    note.title = fm_title
        .filter(|t| !t.trim().is_empty())
        .or(extracted.first_h1)
        .unwrap_or_else(|| file_stem(rel_path));
    note.tags = tags.into_iter().collect();
    note.links = extracted.links;
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
        let links: Vec<_> = note.links.iter().map(Link::parts).collect();
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

    #[test]
    fn a_byte_order_mark_does_not_hide_the_frontmatter() {
        let note = parse_note(
            "win.md",
            "\u{feff}---\ntitle: Saved on Windows\ntags: [ops]\naliases: [Win]\n---\nBody\n",
        );
        assert_eq!(note.title, "Saved on Windows");
        assert_eq!(note.tags, vec!["ops"]);
        assert_eq!(note.aliases, vec!["Win"]);
        assert_eq!(note.body, "Body\n");
        assert!(note.frontmatter_error.is_none());
    }

    #[test]
    fn a_scalar_alias_is_one_alias_and_scalar_tags_split() {
        let note = parse_note(
            "f.md",
            "---\naliases: File formats\ntags: ops, kafka infra\n---\n",
        );
        assert_eq!(note.aliases, vec!["File formats"]);
        assert_eq!(note.tags, vec!["infra", "kafka", "ops"]);
        let listed = parse_note("g.md", "---\naliases: [File formats, Formats]\n---\n");
        assert_eq!(listed.aliases, vec!["File formats", "Formats"]);
    }
}
