//! Link resolution: a link's target (a note name, an issue key, a page
//! title, a URL) → the id of a live document, across sources.
//!
//! Rules, in order (all matching is case-insensitive):
//! - vault `wikilink` / `embed`, within the note's own vault instance:
//!   `./x` and `../x` relative to the note's folder; a path with `/` as a
//!   path from the vault root, else as the end of a path; a bare name by
//!   file name, then by frontmatter alias. Several notes with one name: the
//!   one in the linking note's folder, else the one with the fewest folders,
//!   else the first by path (Obsidian's "shortest path" choice). A wikilink
//!   that names no note but is a Jira key (`[[OPS-12]]`) goes to the issue.
//! - Jira keys (`issue`, `parent`, `epic`, Confluence's `jira` macro): the
//!   issue with that key (the linking document's instance first); else a
//!   key that moved (OPS-5 → DEV-9), through the issue id remembered with
//!   the old key.
//! - Confluence `page` (a title): the page with that title in the linking
//!   page's space, else in any space; `ancestor` the same way.
//! - URLs: `/browse/KEY` → the Jira issue; `/pages/<id>` or `pageId=<id>` →
//!   the Confluence page; `/display/SPACE/Title` → the page by title in
//!   space; a URL equal to a document's url → that document; any other URL
//!   is external (not a document, not counted as unresolved).
//! - Attachments (`embed` of a non-markdown file, `attachment`) and `space`
//!   links are external.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use percent_encoding::percent_decode_str;
use regex::Regex;
use tributary_core::Link;

use crate::corpus::{space_from_url, CorpusDoc};

static JIRA_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9_]+-[0-9]+$").expect("static regex"));
static BROWSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"/browse/([A-Za-z][A-Za-z0-9_]+-[0-9]+)(?:[/?#]|$)").expect("static regex")
});
static PAGE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:/pages/|[?&]pageId=)([0-9]+)(?:[/?#&]|$)").expect("static regex")
});
static FILE_EXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.[A-Za-z0-9]{1,5}$").expect("static regex"));

/// What a link points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A live document of the corpus.
    Doc(String),
    /// Names a document (a note, an issue, a page) that is not in the
    /// corpus: never indexed, deleted, or misspelt. Counted and reported.
    Unresolved,
    /// Not a document at all: an external URL, an attachment, a space.
    External,
}

/// A Jira key seen earlier with its issue id (from `dispatch_jira_keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKey {
    pub instance: String,
    pub key: String,
    pub issue_id: String,
}

/// Lookup tables over the live corpus.
#[derive(Debug, Default)]
pub struct Resolver {
    /// (instance, lowercased path without `.md`) → id
    vault_paths: HashMap<(String, String), String>,
    /// (instance, lowercased file name without `.md`) → [(path, id)]
    vault_names: HashMap<(String, String), Vec<(String, String)>>,
    /// (instance, lowercased alias) → [(path, id)]
    vault_aliases: HashMap<(String, String), Vec<(String, String)>>,
    /// KEY → [(instance, id, url)], sorted by id
    jira_keys: BTreeMap<String, Vec<(String, String, Option<String>)>>,
    /// (instance, issue id) → id
    jira_issue_ids: HashMap<(String, String), String>,
    /// KEY → [(instance, issue id)] from earlier runs and this one
    moved: HashMap<String, Vec<(String, String)>>,
    /// (instance, page id) → id
    pages: HashMap<(String, String), String>,
    /// (instance, space, lowercased title) → id
    page_titles: BTreeMap<(String, String, String), String>,
    /// lowercased title → [id], sorted
    page_titles_any: BTreeMap<String, Vec<String>>,
    /// url → id
    urls: HashMap<String, String>,
}

fn lower(s: &str) -> String {
    s.trim().to_lowercase()
}

fn strip_md(path: &str) -> &str {
    let len = path.len();
    if len >= 3 && path.is_char_boundary(len - 3) && path[len - 3..].eq_ignore_ascii_case(".md") {
        &path[..len - 3]
    } else {
        path
    }
}

fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// `a/b` + `../c/d` → `a/c/d`; `None` when it climbs above the root.
fn join_relative(folder: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Several notes answer to one name: the linking note's folder first, then
/// the fewest folders, then the first path.
fn closest(candidates: &[(String, String)], from_folder: &str) -> Option<String> {
    candidates
        .iter()
        .min_by_key(|(path, _)| {
            (
                folder_of(path) != from_folder,
                path.matches('/').count(),
                path.clone(),
            )
        })
        .map(|(_, id)| id.clone())
}

impl Resolver {
    pub fn new(docs: &[CorpusDoc], known_keys: &[KnownKey]) -> Resolver {
        let mut r = Resolver::default();
        for doc in docs {
            if let Some(url) = &doc.url {
                r.urls.entry(url.clone()).or_insert_with(|| doc.id.clone());
            }
            match doc.kind.as_str() {
                "vault" => r.add_note(doc),
                "jira" => {
                    let key = doc.jira_key();
                    r.jira_keys.entry(key.clone()).or_default().push((
                        doc.instance.clone(),
                        doc.id.clone(),
                        doc.url.clone(),
                    ));
                    if let Some(issue_id) = doc.jira_issue_id() {
                        r.jira_issue_ids
                            .insert((doc.instance.clone(), issue_id.clone()), doc.id.clone());
                        r.moved
                            .entry(key)
                            .or_default()
                            .push((doc.instance.clone(), issue_id));
                    }
                }
                "confluence" => {
                    r.pages.insert(
                        (doc.instance.clone(), doc.native_id().to_string()),
                        doc.id.clone(),
                    );
                    let title = lower(&doc.confluence_title());
                    let space = doc.confluence_space().unwrap_or_default();
                    r.page_titles
                        .entry((doc.instance.clone(), space, title.clone()))
                        .or_insert_with(|| doc.id.clone());
                    r.page_titles_any
                        .entry(title)
                        .or_default()
                        .push(doc.id.clone());
                }
                _ => {}
            }
        }
        for known in known_keys {
            let entry = r.moved.entry(known.key.to_ascii_uppercase()).or_default();
            let pair = (known.instance.clone(), known.issue_id.clone());
            if !entry.contains(&pair) {
                entry.push(pair);
            }
        }
        for list in r.jira_keys.values_mut() {
            list.sort();
        }
        for list in r.page_titles_any.values_mut() {
            list.sort();
        }
        r
    }

    fn add_note(&mut self, doc: &CorpusDoc) {
        let path = doc.native_id().to_string();
        let bare = lower(strip_md(&path));
        let name = bare.rsplit('/').next().unwrap_or(&bare).to_string();
        let inst = doc.instance.clone();
        self.vault_paths
            .insert((inst.clone(), bare.clone()), doc.id.clone());
        self.vault_names
            .entry((inst.clone(), name))
            .or_default()
            .push((path.clone(), doc.id.clone()));
        for alias in doc.aliases() {
            self.vault_aliases
                .entry((inst.clone(), lower(&alias)))
                .or_default()
                .push((path.clone(), doc.id.clone()));
        }
    }

    /// Resolves one link of `from`. Self-links resolve to `from` itself;
    /// the graph drops them.
    pub fn resolve(&self, from: &CorpusDoc, link: &Link) -> Resolution {
        let target = link.target.trim();
        if target.is_empty() {
            return Resolution::External;
        }
        match link.kind.as_str() {
            "wikilink" | "embed" => self.resolve_wikilink(from, target),
            "issue" | "parent" | "epic" => {
                if target.contains("://") {
                    self.resolve_url(from, target, true)
                } else {
                    found(self.jira(from, target, None))
                }
            }
            "page" | "ancestor" => found(self.page_title(from, target)),
            "page_url" => self.resolve_url(from, target, true),
            "url" => self.resolve_url(from, target, false),
            _ => Resolution::External,
        }
    }

    fn resolve_wikilink(&self, from: &CorpusDoc, target: &str) -> Resolution {
        if from.kind == "vault" {
            if let Some(id) = self.note(from, target) {
                return Resolution::Doc(id);
            }
        }
        if JIRA_KEY.is_match(target) {
            if let Some(id) = self.jira(from, target, None) {
                return Resolution::Doc(id);
            }
        }
        let lowered = target.to_ascii_lowercase();
        if FILE_EXT.is_match(target) && !lowered.ends_with(".md") && !target.contains(' ') {
            // `![[diagram.png]]`: an attachment, not a document.
            return Resolution::External;
        }
        Resolution::Unresolved
    }

    fn note(&self, from: &CorpusDoc, target: &str) -> Option<String> {
        let inst = from.instance.clone();
        let from_folder = lower(folder_of(from.native_id()));
        let bare = lower(strip_md(target.trim_start_matches('/')));
        if target.starts_with("./") || target.starts_with("../") {
            let joined = join_relative(&from_folder, &bare)?;
            return self.vault_paths.get(&(inst, joined)).cloned();
        }
        if bare.contains('/') {
            if let Some(id) = self.vault_paths.get(&(inst.clone(), bare.clone())) {
                return Some(id.clone());
            }
            // The end of a path: `b/Note` matches `a/b/Note.md`.
            let suffix = format!("/{bare}");
            let mut matches: Vec<(String, String)> = self
                .vault_paths
                .iter()
                .filter(|((i, path), _)| *i == inst && path.ends_with(&suffix))
                .map(|((_, path), id)| (path.clone(), id.clone()))
                .collect();
            matches.sort();
            return closest(&matches, &from_folder);
        }
        if let Some(candidates) = self.vault_names.get(&(inst.clone(), bare.clone())) {
            let lowered: Vec<(String, String)> = candidates
                .iter()
                .map(|(p, id)| (lower(p), id.clone()))
                .collect();
            return closest(&lowered, &from_folder);
        }
        let aliased = self.vault_aliases.get(&(inst, lower(target)))?;
        let lowered: Vec<(String, String)> = aliased
            .iter()
            .map(|(p, id)| (lower(p), id.clone()))
            .collect();
        closest(&lowered, &from_folder)
    }

    /// An issue by key: the linking document's instance first, then the one
    /// whose url shares `host`, then the first by id; else a moved key.
    fn jira(&self, from: &CorpusDoc, key: &str, host: Option<&str>) -> Option<String> {
        let key = key.trim().to_ascii_uppercase();
        if let Some(candidates) = self.jira_keys.get(&key) {
            let best = candidates
                .iter()
                .find(|(inst, _, _)| from.kind == "jira" && *inst == from.instance)
                .or_else(|| {
                    host.and_then(|h| {
                        candidates
                            .iter()
                            .find(|(_, _, url)| url.as_deref().is_some_and(|u| host_of(u) == h))
                    })
                })
                .or_else(|| candidates.first());
            if let Some((_, id, _)) = best {
                return Some(id.clone());
            }
        }
        let mut moved: Vec<&(String, String)> = self.moved.get(&key)?.iter().collect();
        // The linking document's instance first, then a fixed order.
        moved.sort_by_key(|(inst, issue)| (*inst != from.instance, inst.clone(), issue.clone()));
        moved
            .into_iter()
            .find_map(|pair| self.jira_issue_ids.get(pair).cloned())
    }

    fn page_title(&self, from: &CorpusDoc, title: &str) -> Option<String> {
        let title = lower(title);
        if from.kind == "confluence" {
            let space = from.confluence_space().unwrap_or_default();
            if let Some(id) = self
                .page_titles
                .get(&(from.instance.clone(), space, title.clone()))
            {
                return Some(id.clone());
            }
        }
        self.page_titles_any.get(&title)?.first().cloned()
    }

    fn resolve_url(&self, from: &CorpusDoc, url: &str, names_a_document: bool) -> Resolution {
        if let Some(id) = self.urls.get(url) {
            return Resolution::Doc(id.clone());
        }
        let host = host_of(url);
        if let Some(key) = BROWSE.captures(url).and_then(|c| c.get(1)) {
            return found(self.jira(from, key.as_str(), Some(host)));
        }
        if let Some(page) = PAGE_ID.captures(url).and_then(|c| c.get(1)) {
            let mut ids: Vec<&String> = self
                .pages
                .iter()
                .filter(|((_, pid), _)| pid == page.as_str())
                .map(|(_, id)| id)
                .collect();
            ids.sort();
            return found(ids.first().map(|id| (*id).clone()));
        }
        if url.contains("/display/") {
            if let Some(space) = space_from_url(url) {
                let title = url
                    .split_once(&format!("/display/{space}/"))
                    .map(|(_, t)| t.split(['?', '#']).next().unwrap_or(""))
                    .unwrap_or("");
                let title = title.replace('+', " ");
                let title = percent_decode(&title);
                let id = self
                    .page_titles
                    .iter()
                    .find(|((_, s, t), _)| *s == space && *t == lower(&title))
                    .map(|(_, id)| id.clone());
                return found(id);
            }
        }
        if names_a_document {
            Resolution::Unresolved
        } else {
            Resolution::External
        }
    }
}

fn found(id: Option<String>) -> Resolution {
    id.map_or(Resolution::Unresolved, Resolution::Doc)
}

/// `https://acme.atlassian.net/wiki/x` → `acme.atlassian.net`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// `%20`-style escapes in a URL path segment; invalid ones are kept as is.
fn percent_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::doc;
    use serde_json::json;

    fn link(kind: &str, target: &str) -> Link {
        Link {
            target: target.into(),
            kind: kind.into(),
            alias: None,
        }
    }

    fn corpus() -> Vec<CorpusDoc> {
        let mut home = doc("vault:n:Home.md", "Home", &[]);
        home.metadata = json!({"aliases": ["Start Here", "Index"]})
            .as_object()
            .cloned();
        let mut moved = doc("jira:acme:DEV-9", "Moved issue", &[]);
        moved.metadata = json!({"key": "DEV-9", "issue_id": "10005"})
            .as_object()
            .cloned();
        moved.url = Some("https://acme.atlassian.net/browse/DEV-9".into());
        let mut page = doc("confluence:acme:42", "Home > Runbooks > Lag runbook", &[]);
        page.url = Some("https://acme.atlassian.net/wiki/spaces/ENG/pages/42/Lag+runbook".into());
        let mut runbooks = doc("confluence:acme:7", "Home > Runbooks", &[]);
        runbooks.url = Some("https://acme.atlassian.net/wiki/spaces/ENG/pages/7".into());
        vec![
            home,
            doc("vault:n:runbooks/Lag.md", "Lag", &[]),
            doc("vault:n:runbooks/Drain.md", "Drain", &[]),
            doc("vault:n:old/Lag.md", "Old lag", &[]),
            doc("vault:n:a/b/Deep.md", "Deep", &[]),
            doc("vault:other:Lag.md", "Other vault", &[]),
            doc("jira:acme:OPS-1", "Epic", &[]),
            moved,
            page,
            runbooks,
        ]
    }

    fn resolver() -> (Resolver, Vec<CorpusDoc>) {
        let docs = corpus();
        let known = [KnownKey {
            instance: "acme".into(),
            key: "OPS-5".into(),
            issue_id: "10005".into(),
        }];
        (Resolver::new(&docs, &known), docs)
    }

    fn by_id<'a>(docs: &'a [CorpusDoc], id: &str) -> &'a CorpusDoc {
        docs.iter().find(|d| d.id == id).expect("fixture doc")
    }

    fn doc_id(id: &str) -> Resolution {
        Resolution::Doc(id.into())
    }

    #[test]
    fn vault_links_resolve_by_name_path_relative_path_and_alias() {
        let (r, docs) = resolver();
        let drain = by_id(&docs, "vault:n:runbooks/Drain.md");
        // Two notes named Lag: the one in the linking note's folder wins.
        assert_eq!(
            r.resolve(drain, &link("wikilink", "lag")),
            doc_id("vault:n:runbooks/Lag.md")
        );
        let home = by_id(&docs, "vault:n:Home.md");
        // From the root, both are one folder deep: the first path wins.
        assert_eq!(
            r.resolve(home, &link("wikilink", "Lag")),
            doc_id("vault:n:old/Lag.md")
        );
        assert_eq!(
            r.resolve(home, &link("wikilink", "runbooks/Lag.md")),
            doc_id("vault:n:runbooks/Lag.md")
        );
        assert_eq!(
            r.resolve(home, &link("embed", "b/Deep")),
            doc_id("vault:n:a/b/Deep.md")
        );
        assert_eq!(
            r.resolve(drain, &link("wikilink", "../a/b/Deep")),
            doc_id("vault:n:a/b/Deep.md")
        );
        assert_eq!(
            r.resolve(drain, &link("wikilink", "./Lag")),
            doc_id("vault:n:runbooks/Lag.md")
        );
        assert_eq!(
            r.resolve(drain, &link("wikilink", "../../Lag")),
            Resolution::Unresolved
        );
        assert_eq!(
            r.resolve(drain, &link("wikilink", "start here")),
            doc_id("vault:n:Home.md")
        );
        // Links stay inside their vault instance.
        let other = by_id(&docs, "vault:other:Lag.md");
        assert_eq!(
            r.resolve(other, &link("wikilink", "Home")),
            Resolution::Unresolved
        );
    }

    #[test]
    fn links_to_nothing_are_unresolved_and_attachments_external() {
        let (r, docs) = resolver();
        let home = by_id(&docs, "vault:n:Home.md");
        assert_eq!(
            r.resolve(home, &link("wikilink", "Never Written")),
            Resolution::Unresolved
        );
        assert_eq!(
            r.resolve(home, &link("embed", "diagram.png")),
            Resolution::External
        );
        assert_eq!(
            r.resolve(home, &link("url", "https://kafka.apache.org/docs")),
            Resolution::External
        );
        assert_eq!(
            r.resolve(
                home,
                &link("url", "https://acme.atlassian.net/browse/NOPE-1")
            ),
            Resolution::Unresolved
        );
        assert_eq!(
            r.resolve(home, &link("issue", "NOPE-1")),
            Resolution::Unresolved
        );
        assert_eq!(
            r.resolve(home, &link("page", "No such page")),
            Resolution::Unresolved
        );
        assert_eq!(
            r.resolve(home, &link("attachment", "x.pdf")),
            Resolution::External
        );
    }

    #[test]
    fn jira_keys_resolve_including_moved_keys() {
        let (r, docs) = resolver();
        let epic = by_id(&docs, "jira:acme:OPS-1");
        assert_eq!(
            r.resolve(epic, &link("issue", "dev-9")),
            doc_id("jira:acme:DEV-9")
        );
        // OPS-5 moved to DEV-9: the remembered issue id finds it.
        assert_eq!(
            r.resolve(epic, &link("parent", "OPS-5")),
            doc_id("jira:acme:DEV-9")
        );
        let home = by_id(&docs, "vault:n:Home.md");
        assert_eq!(
            r.resolve(home, &link("wikilink", "OPS-1")),
            doc_id("jira:acme:OPS-1")
        );
        assert_eq!(
            r.resolve(
                home,
                &link("url", "https://acme.atlassian.net/browse/OPS-5?focus=1")
            ),
            doc_id("jira:acme:DEV-9")
        );
    }

    #[test]
    fn confluence_pages_resolve_by_id_title_and_url() {
        let (r, docs) = resolver();
        let page = by_id(&docs, "confluence:acme:42");
        assert_eq!(
            r.resolve(page, &link("ancestor", "Runbooks")),
            doc_id("confluence:acme:7")
        );
        let issue = by_id(&docs, "jira:acme:OPS-1");
        assert_eq!(
            r.resolve(
                issue,
                &link("url", "https://acme.atlassian.net/wiki/spaces/ENG/pages/42")
            ),
            doc_id("confluence:acme:42")
        );
        assert_eq!(
            r.resolve(
                issue,
                &link(
                    "page_url",
                    "https://c.example.com/pages/viewpage.action?pageId=7"
                )
            ),
            doc_id("confluence:acme:7")
        );
        assert_eq!(
            r.resolve(
                issue,
                &link("url", "https://c.example.com/display/ENG/Lag+runbook")
            ),
            doc_id("confluence:acme:42")
        );
        assert_eq!(
            r.resolve(issue, &link("page_url", "https://c.example.com/pages/99")),
            Resolution::Unresolved
        );
        assert_eq!(percent_decode("Lag%20runbook%2"), "Lag runbook%2");
    }
}
