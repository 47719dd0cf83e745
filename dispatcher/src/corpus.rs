//! The dispatcher's view of one registry row, and what can be derived from
//! its id, url, title and (when the indexer stored it) its metadata.

use serde_json::{Map, Value};
use tributary_core::Link;

/// A live (not deleted) document of the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusDoc {
    pub id: String,
    pub kind: String,
    pub instance: String,
    pub title: String,
    pub url: Option<String>,
    pub content_hash: String,
    pub links: Vec<Link>,
    /// `None` for rows the indexer wrote before it stored metadata.
    pub metadata: Option<Map<String, Value>>,
}

impl CorpusDoc {
    /// The native id: what follows `<kind>:<instance>:` in the document id
    /// (a vault path, a Jira key, a Confluence page id).
    pub fn native_id(&self) -> &str {
        let prefix = format!("{}:{}:", self.kind, self.instance);
        match self.id.strip_prefix(&prefix) {
            Some(native) => native,
            // An id that does not follow the convention: what follows the
            // second colon, else the whole id.
            None => self.id.splitn(3, ':').nth(2).unwrap_or(&self.id),
        }
    }

    fn meta_str(&self, key: &str) -> Option<&str> {
        self.metadata
            .as_ref()?
            .get(key)?
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn meta_strings(&self, key: &str) -> Vec<String> {
        let Some(value) = self.metadata.as_ref().and_then(|m| m.get(key)) else {
            return Vec::new();
        };
        match value {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Vault: frontmatter aliases (needs the metadata column).
    pub fn aliases(&self) -> Vec<String> {
        self.meta_strings("aliases")
    }

    /// Jira: the issue key, from metadata or the id.
    pub fn jira_key(&self) -> String {
        self.meta_str("key")
            .unwrap_or_else(|| self.native_id())
            .to_ascii_uppercase()
    }

    /// Jira: the numeric issue id that survives a move between projects.
    pub fn jira_issue_id(&self) -> Option<String> {
        let value = self.metadata.as_ref()?.get("issue_id")?;
        match value {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Confluence: the bare page title. The registry title is the breadcrumb
    /// (`Home > Runbooks > Lag runbook`); metadata has the bare one.
    pub fn confluence_title(&self) -> String {
        match self.meta_str("title") {
            Some(t) => t.to_string(),
            None => self
                .title
                .rsplit(" > ")
                .next()
                .unwrap_or(&self.title)
                .to_string(),
        }
    }

    /// Confluence: ancestor titles, root first (metadata, else the breadcrumb).
    pub fn confluence_ancestors(&self) -> Vec<String> {
        if self
            .metadata
            .as_ref()
            .is_some_and(|m| m.contains_key("ancestors"))
        {
            return self.meta_strings("ancestors");
        }
        let mut parts: Vec<String> = self.title.split(" > ").map(str::to_string).collect();
        parts.pop();
        parts
    }

    /// Confluence: the space key (metadata, else the page URL).
    pub fn confluence_space(&self) -> Option<String> {
        if let Some(space) = self.meta_str("space_key") {
            return Some(space.to_string());
        }
        space_from_url(self.url.as_deref()?)
    }

    /// The source container that groups documents without links: the Jira
    /// project, the Confluence space, the vault folder.
    pub fn container(&self) -> String {
        let inner = match self.kind.as_str() {
            "jira" => self.meta_str("project").map_or_else(
                || {
                    let key = self.jira_key();
                    key.rsplit_once('-')
                        .map_or(key.clone(), |(project, _)| project.to_string())
                },
                str::to_string,
            ),
            "confluence" => self
                .confluence_space()
                .unwrap_or_else(|| "(no space)".into()),
            "vault" => self
                .native_id()
                .rsplit_once('/')
                .map_or_else(|| "/".to_string(), |(folder, _)| format!("{folder}/")),
            _ => String::new(),
        };
        format!("{}:{}:{inner}", self.kind, self.instance)
    }
}

/// `.../spaces/ENG/pages/...` or `.../display/ENG/...` → `ENG`.
pub fn space_from_url(url: &str) -> Option<String> {
    for marker in ["/spaces/", "/display/"] {
        if let Some((_, rest)) = url.split_once(marker) {
            let key = rest.split(['/', '?', '#']).next().unwrap_or("");
            if !key.is_empty() {
                return Some(key.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) fn doc(id: &str, title: &str, links: &[(&str, &str)]) -> CorpusDoc {
    let mut parts = id.splitn(3, ':');
    let kind = parts.next().unwrap_or("").to_string();
    let instance = parts.next().unwrap_or("").to_string();
    CorpusDoc {
        id: id.to_string(),
        kind,
        instance,
        title: title.to_string(),
        url: None,
        content_hash: format!("sha256:{id}"),
        links: links
            .iter()
            .map(|(kind, target)| Link {
                target: (*target).to_string(),
                kind: (*kind).to_string(),
                alias: None,
            })
            .collect(),
        metadata: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn derives_native_ids_and_containers() {
        let note = doc("vault:notes:runbooks/Lag.md", "Lag", &[]);
        assert_eq!(note.native_id(), "runbooks/Lag.md");
        assert_eq!(note.container(), "vault:notes:runbooks/");
        let root = doc("vault:notes:Home.md", "Home", &[]);
        assert_eq!(root.container(), "vault:notes:/");
        let issue = doc("jira:acme:ops-12", "Disk", &[]);
        assert_eq!(issue.jira_key(), "OPS-12");
        assert_eq!(issue.container(), "jira:acme:OPS");
        let mut page = doc("confluence:acme:42", "Home > Runbooks > Lag runbook", &[]);
        page.url = Some("https://acme.atlassian.net/wiki/spaces/ENG/pages/42/Lag".into());
        assert_eq!(page.confluence_title(), "Lag runbook");
        assert_eq!(page.confluence_ancestors(), ["Home", "Runbooks"]);
        assert_eq!(page.container(), "confluence:acme:ENG");
    }

    #[test]
    fn metadata_wins_over_derivation() {
        let mut page = doc("confluence:acme:42", "A > B > C", &[]);
        page.metadata = json!({"title": "B > C", "ancestors": ["A"], "space_key": "OPS"})
            .as_object()
            .cloned();
        assert_eq!(page.confluence_title(), "B > C");
        assert_eq!(page.confluence_ancestors(), ["A"]);
        assert_eq!(page.container(), "confluence:acme:OPS");
        let mut issue = doc("jira:acme:DEV-9", "x", &[]);
        issue.metadata = json!({"key": "DEV-9", "issue_id": 10005, "project": "DEV"})
            .as_object()
            .cloned();
        assert_eq!(issue.jira_issue_id().as_deref(), Some("10005"));
        assert_eq!(
            space_from_url("https://c/display/ENG/Some+Page").as_deref(),
            Some("ENG")
        );
    }
}
