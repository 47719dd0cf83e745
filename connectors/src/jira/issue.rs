//! One Jira issue (plus all its comments) → one [`Document`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{json, Map, Value};
use tributary_core::config::JiraFlavor;
use tributary_core::{Document, Link, SourceRef};

use crate::sync::DocumentBuilder;

use super::adf::adf_to_text;
use super::model::{parse_jira_time, Comment, RawIssue, User};
use super::wiki::wiki_to_text_with;

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s<>()\[\]"'`|]+"#).expect("static regex"));

/// How to render issues of one site.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub source: SourceRef,
    pub flavor: JiraFlavor,
    /// Site URL ending in `/`; issue URLs are `<base>browse/<KEY>`.
    pub base_url: String,
    pub include_emails: bool,
    pub epic_link_field: Option<String>,
}

/// A rendered issue and what the rendering noticed.
#[derive(Debug)]
pub struct Rendered {
    pub doc: Document,
    pub unknown_nodes: BTreeMap<String, u64>,
}

/// Rich text in either flavour → text, plus the URLs it links to.
struct Text {
    text: String,
    urls: Vec<String>,
}

impl Renderer {
    pub fn doc_id(&self, key: &str) -> String {
        Document::make_id(&self.source.kind, &self.source.instance, key)
    }

    /// `names`: Data Center user name → display name, for wiki mentions.
    fn rich_text(
        &self,
        value: Option<&Value>,
        unknown: &mut BTreeMap<String, u64>,
        names: &HashMap<String, String>,
    ) -> Text {
        match value {
            None | Some(Value::Null) => Text {
                text: String::new(),
                urls: Vec::new(),
            },
            Some(Value::String(s)) => Text {
                text: wiki_to_text_with(s, names),
                urls: Vec::new(),
            },
            Some(adf) => {
                let out = adf_to_text(adf);
                for (kind, n) in out.unknown {
                    *unknown.entry(kind).or_default() += n;
                }
                Text {
                    text: out.text,
                    urls: out.urls,
                }
            }
        }
    }

    pub fn render(
        &self,
        issue: &RawIssue,
        updated: DateTime<Utc>,
        comments: &[Comment],
        names: &HashMap<String, String>,
    ) -> Rendered {
        let f = &issue.fields;
        let mut unknown = BTreeMap::new();
        let description = self.rich_text(f.description.as_ref(), &mut unknown, names);
        let mut urls = description.urls;
        let mut text = description.text;
        let mut rendered_comments = Vec::new();
        for c in comments {
            let body = self.rich_text(c.body.as_ref(), &mut unknown, names);
            if body.text.trim().is_empty() {
                continue;
            }
            urls.extend(body.urls);
            let who = c
                .author
                .as_ref()
                .and_then(|a| self.person(a))
                .unwrap_or_else(|| "Unknown".to_owned());
            let when = c
                .created
                .as_deref()
                .and_then(parse_jira_time)
                .map(|t| format!(", {}", t.format("%Y-%m-%d")))
                .unwrap_or_default();
            rendered_comments.push(format!("### {who}{when}\n\n{}", body.text));
        }
        if !rendered_comments.is_empty() {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str("## Comments\n\n");
            text.push_str(&rendered_comments.join("\n\n"));
        }

        let mut metadata = Map::new();
        metadata.insert("key".into(), json!(issue.key));
        if let Some(id) = issue.id.as_ref().filter(|v| !v.is_null()) {
            // The numeric id survives a move to another project; the key does not.
            metadata.insert("issue_id".into(), id.clone());
        }
        if let Some(project) = &f.project {
            if let Some(k) = &project.key {
                metadata.insert("project".into(), json!(k));
            }
            if let Some(n) = &project.name {
                metadata.insert("project_name".into(), json!(n));
            }
        }
        for (name, value) in [
            ("type", &f.issuetype),
            ("status", &f.status),
            ("priority", &f.priority),
        ] {
            if let Some(v) = value.as_ref().and_then(|v| v.name.as_ref()) {
                metadata.insert(name.into(), json!(v));
            }
        }
        metadata.insert("labels".into(), json!(f.labels.clone().unwrap_or_default()));
        let components: Vec<&str> = f
            .components
            .iter()
            .flatten()
            .filter_map(|c| c.name.as_deref())
            .collect();
        metadata.insert("components".into(), json!(components));
        for (role, user) in [("assignee", &f.assignee), ("reporter", &f.reporter)] {
            if let Some(user) = user {
                if let Some(name) = &user.display_name {
                    metadata.insert(role.into(), json!(name));
                }
                if self.include_emails {
                    if let Some(email) = &user.email_address {
                        metadata.insert(format!("{role}_email"), json!(email));
                    }
                }
            }
        }
        // `updated` is the document's `updated_at`; kept out of metadata so
        // a change to a field that is not indexed does not re-embed.
        for (name, value) in [("created", &f.created), ("resolved", &f.resolutiondate)] {
            if let Some(t) = value.as_deref().and_then(parse_jira_time) {
                metadata.insert(name.into(), json!(t.to_rfc3339()));
            }
        }
        metadata.insert("comment_count".into(), json!(comments.len()));
        if !unknown.is_empty() {
            metadata.insert("unknown_adf_nodes".into(), json!(unknown));
        }

        let links = self.links(issue, &text, urls);
        let title = f
            .summary
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| issue.key.clone());
        let doc = DocumentBuilder::new(self.doc_id(&issue.key), self.source.clone(), updated)
            .title(title)
            .url(Some(format!("{}browse/{}", self.base_url, issue.key)))
            .markdown(text)
            .metadata(metadata)
            .links(links)
            .build();
        Rendered {
            doc,
            unknown_nodes: unknown,
        }
    }

    fn person(&self, user: &User) -> Option<String> {
        user.display_name.clone().or_else(|| {
            self.include_emails
                .then(|| user.email_address.clone())
                .flatten()
        })
    }

    fn links(&self, issue: &RawIssue, text: &str, urls: Vec<String>) -> Vec<Link> {
        let f = &issue.fields;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |target: String, kind: &str, alias: Option<String>| {
            if !target.is_empty() && seen.insert((kind.to_owned(), target.clone())) {
                out.push(Link {
                    target,
                    kind: kind.to_owned(),
                    alias,
                });
            }
        };
        for link in f.issuelinks.iter().flatten() {
            let kind = link.kind.clone().unwrap_or_default();
            if let Some(key) = link.outward_issue.as_ref().and_then(|i| i.key.clone()) {
                push(key, "issue", kind.outward.or(kind.name.clone()));
            }
            if let Some(key) = link.inward_issue.as_ref().and_then(|i| i.key.clone()) {
                push(key, "issue", kind.inward.or(kind.name));
            }
        }
        if let Some(key) = f.parent.as_ref().and_then(|p| p.key.clone()) {
            push(key, "parent", None);
        }
        if let Some(field) = self
            .epic_link_field
            .as_deref()
            .filter(|_| self.flavor == JiraFlavor::Datacenter)
        {
            if let Some(epic) = f.other.get(field).and_then(Value::as_str) {
                push(epic.to_owned(), "epic", None);
            }
        }
        let found = URL.find_iter(text).map(|m| {
            m.as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '_'])
                .to_owned()
        });
        for url in urls.into_iter().chain(found) {
            push(url, "url", None);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(flavor: JiraFlavor) -> Renderer {
        Renderer {
            source: SourceRef {
                kind: "jira".into(),
                instance: "acme".into(),
            },
            flavor,
            base_url: "https://acme.atlassian.net/".into(),
            include_emails: false,
            epic_link_field: Some("customfield_10014".into()),
        }
    }

    fn issue(v: Value) -> RawIssue {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_cloud_issue_becomes_a_document() {
        let raw = issue(json!({"id": "1", "key": "OPS-7", "fields": {
            "summary": "Broker disk full",
            "description": {"type": "doc", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "See https://grafana.example.com/d/kafka."}]}]},
            "project": {"key": "OPS", "name": "Operations"},
            "issuetype": {"name": "Incident"}, "status": {"name": "Done"}, "priority": {"name": "High"},
            "labels": ["kafka"], "components": [{"name": "brokers"}],
            "assignee": {"displayName": "Jane Doe", "emailAddress": "jane@example.com"},
            "reporter": null,
            "created": "2025-01-01T09:00:00.000+0100", "updated": "2025-01-02T09:00:00.000+0000",
            "resolutiondate": "2025-01-02T08:00:00.000+0000",
            "issuelinks": [{"type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                            "outwardIssue": {"key": "OPS-9"}}],
            "parent": {"key": "OPS-1"}
        }}));
        let comments: Vec<Comment> = serde_json::from_value(json!([
            {"author": {"displayName": "Sam"}, "created": "2025-01-01T10:00:00.000+0000",
             "body": {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Moved segments."}]}]}}
        ])).unwrap();
        let updated = parse_jira_time("2025-01-02T09:00:00.000+0000").unwrap();
        let r = renderer(JiraFlavor::Cloud).render(&raw, updated, &comments, &HashMap::new());
        let d = r.doc;
        assert_eq!(d.id, "jira:acme:OPS-7");
        assert_eq!(d.title, "Broker disk full");
        assert_eq!(
            d.url.as_deref(),
            Some("https://acme.atlassian.net/browse/OPS-7")
        );
        assert_eq!(
            d.body.text,
            "See https://grafana.example.com/d/kafka.\n\n## Comments\n\n### Sam, 2025-01-01\n\nMoved segments."
        );
        assert_eq!(d.metadata["project"], "OPS");
        assert_eq!(d.metadata["status"], "Done");
        assert_eq!(d.metadata["assignee"], "Jane Doe");
        assert!(
            d.metadata.get("assignee_email").is_none(),
            "emails only when configured"
        );
        assert_eq!(d.metadata["created"], "2025-01-01T08:00:00+00:00");
        assert_eq!(d.metadata["components"], json!(["brokers"]));
        let links: Vec<_> = d.links.iter().map(Link::parts).collect();
        assert_eq!(
            links,
            [
                ("issue", "OPS-9", Some("blocks")),
                ("parent", "OPS-1", None),
                ("url", "https://grafana.example.com/d/kafka", None),
            ]
        );
        assert_eq!(d.updated_at, updated);
        assert_eq!(d.content_hash, d.compute_content_hash());
    }

    #[test]
    fn a_datacenter_issue_reads_wiki_markup_and_the_epic_field() {
        let mut r = renderer(JiraFlavor::Datacenter);
        r.include_emails = true;
        let raw = issue(json!({"key": "DEV-2", "fields": {
            "summary": "", "description": "h2. Steps\n* restart [the broker|https://kb.example.com/b]",
            "customfield_10014": "DEV-1",
            "reporter": {"displayName": "Ray", "emailAddress": "ray@example.com"}
        }}));
        let d = r.render(&raw, Utc::now(), &[], &HashMap::new()).doc;
        assert_eq!(d.title, "DEV-2", "empty summary falls back to the key");
        assert_eq!(
            d.body.text,
            "## Steps\n- restart [the broker](https://kb.example.com/b)"
        );
        assert_eq!(d.metadata["reporter_email"], "ray@example.com");
        assert!(d
            .links
            .iter()
            .any(|l| l.kind == "epic" && l.target == "DEV-1"));
        assert!(d
            .links
            .iter()
            .any(|l| l.kind == "url" && l.target == "https://kb.example.com/b"));
    }
}
