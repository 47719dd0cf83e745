//! Atlassian Document Format (Jira Cloud's rich text, a JSON tree) → the
//! markdown-ish text the indexer chunks on: headings, paragraphs, lists,
//! code fences and tables survive as markdown so chunk boundaries fall in
//! sensible places.
//!
//! ADF grows new node types over time. An unknown node is never fatal: its
//! text children are kept and its type is counted, so a run can report what
//! it did not understand instead of dropping the issue.

use std::collections::BTreeMap;

use chrono::DateTime;
use serde_json::Value;

/// The text of one ADF document and what the conversion noticed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AdfText {
    pub text: String,
    /// Link targets (`link` marks, cards), in order of appearance.
    pub urls: Vec<String>,
    /// Node types not understood, with how often they occurred.
    pub unknown: BTreeMap<String, u64>,
}

pub fn adf_to_text(doc: &Value) -> AdfText {
    let mut c = Converter::default();
    let text = match doc.get("type").and_then(Value::as_str) {
        Some("doc") => c.blocks(children(doc)),
        Some(_) => c.block(doc),
        // A plain string (some fields, old payloads): already text.
        None => doc.as_str().unwrap_or_default().to_owned(),
    };
    AdfText {
        text: text.trim().to_owned(),
        urls: c.urls,
        unknown: c.unknown,
    }
}

#[derive(Default)]
struct Converter {
    urls: Vec<String>,
    unknown: BTreeMap<String, u64>,
}

fn children(node: &Value) -> &[Value] {
    node.get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn node_type(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or("")
}

fn attr<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    node.get("attrs").and_then(|a| a.get(name))
}

fn attr_str<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    attr(node, name).and_then(Value::as_str)
}

fn is_inline(kind: &str) -> bool {
    matches!(
        kind,
        "text"
            | "hardBreak"
            | "mention"
            | "emoji"
            | "inlineCard"
            | "date"
            | "status"
            | "placeholder"
            | "inlineExtension"
            | "mediaInline"
    )
}

/// Prefixes the first line with `first` and the others with `rest`.
fn indent(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::with_capacity(text.len() + first.len());
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let prefix = if i == 0 { first } else { rest };
        if line.is_empty() {
            out.push_str(prefix.trim_end());
        } else {
            out.push_str(prefix);
            out.push_str(line);
        }
    }
    if text.is_empty() {
        out.push_str(first.trim_end());
    }
    out
}

impl Converter {
    /// Block nodes, separated by blank lines.
    fn blocks(&mut self, nodes: &[Value]) -> String {
        self.join_blocks(nodes, "\n\n")
    }

    fn join_blocks(&mut self, nodes: &[Value], sep: &str) -> String {
        // Inline runs directly under a block container (seen in the wild
        // inside unknown or extension nodes) are kept together.
        let mut parts: Vec<String> = Vec::new();
        let mut run: Vec<Value> = Vec::new();
        for node in nodes {
            if is_inline(node_type(node)) {
                run.push(node.clone());
                continue;
            }
            if !run.is_empty() {
                parts.push(self.inline(&run));
                run.clear();
            }
            parts.push(self.block(node));
        }
        if !run.is_empty() {
            parts.push(self.inline(&run));
        }
        parts
            .into_iter()
            .map(|p| p.trim_end().to_owned())
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join(sep)
    }

    fn block(&mut self, node: &Value) -> String {
        let kids = children(node);
        match node_type(node) {
            "paragraph" => self.inline(kids),
            "heading" => {
                let level = attr(node, "level").and_then(Value::as_u64).unwrap_or(1);
                let hashes = "#".repeat(level.clamp(1, 6) as usize);
                format!("{hashes} {}", self.inline(kids).replace('\n', " "))
            }
            "bulletList" => self.list(kids, None),
            "orderedList" => {
                let start = attr(node, "order").and_then(Value::as_u64).unwrap_or(1);
                self.list(kids, Some(start))
            }
            "taskList" | "decisionList" => self.list(kids, None),
            "codeBlock" => {
                let lang = attr_str(node, "language").unwrap_or("");
                let code: String = kids
                    .iter()
                    .filter_map(|k| k.get("text").and_then(Value::as_str))
                    .collect();
                format!("```{lang}\n{}\n```", code.trim_end_matches('\n'))
            }
            "blockquote" => {
                let inner = self.blocks(kids);
                indent(&inner, "> ", "> ")
            }
            "rule" => "---".to_owned(),
            "table" => self.table(kids),
            "panel" | "layoutSection" | "layoutColumn" | "doc" => self.blocks(kids),
            "expand" | "nestedExpand" => {
                let body = self.blocks(kids);
                match attr_str(node, "title").filter(|t| !t.trim().is_empty()) {
                    Some(title) => format!("**{}**\n\n{body}", title.trim()),
                    None => body,
                }
            }
            "mediaSingle" | "mediaGroup" | "media" => {
                // Attachments carry no text; an alt text or caption might.
                let alt = kids
                    .iter()
                    .filter_map(|k| attr_str(k, "alt"))
                    .collect::<Vec<_>>()
                    .join(" ");
                let caption = kids
                    .iter()
                    .filter(|k| node_type(k) == "caption")
                    .map(|k| self.inline(children(k)))
                    .collect::<Vec<_>>()
                    .join(" ");
                [alt, caption]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            "blockCard" | "embedCard" => self.card(node),
            kind if is_inline(kind) => self.inline(std::slice::from_ref(node)),
            other => self.unknown_node(other, kids),
        }
    }

    fn unknown_node(&mut self, kind: &str, kids: &[Value]) -> String {
        let kind = if kind.is_empty() { "(untyped)" } else { kind };
        *self.unknown.entry(kind.to_owned()).or_default() += 1;
        self.blocks(kids)
    }

    fn card(&mut self, node: &Value) -> String {
        match attr_str(node, "url") {
            Some(url) => {
                self.urls.push(url.to_owned());
                url.to_owned()
            }
            None => String::new(),
        }
    }

    fn list(&mut self, items: &[Value], start: Option<u64>) -> String {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let marker = match (start, node_type(item)) {
                (_, "taskItem") => {
                    if attr_str(item, "state") == Some("DONE") {
                        "- [x] ".to_owned()
                    } else {
                        "- [ ] ".to_owned()
                    }
                }
                (Some(n), _) => format!("{}. ", n + i as u64),
                (None, _) => "- ".to_owned(),
            };
            let kind = node_type(item);
            let body = match kind {
                "listItem" | "decisionItem" => self.join_blocks(children(item), "\n"),
                "taskItem" => self.inline(children(item)),
                // Anything else (a list straight inside a list): its block
                // conversion counts it if unknown.
                _ => self.block(item),
            };
            out.push(indent(&body, &marker, &" ".repeat(marker.len())));
        }
        out.join("\n")
    }

    fn table(&mut self, rows: &[Value]) -> String {
        let mut grid: Vec<Vec<String>> = Vec::new();
        for row in rows {
            let cells = children(row)
                .iter()
                .map(|cell| {
                    self.blocks(children(cell))
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace('|', "\\|")
                })
                .collect();
            grid.push(cells);
        }
        let width = grid.iter().map(Vec::len).max().unwrap_or(0);
        if width == 0 {
            return String::new();
        }
        let mut lines = Vec::with_capacity(grid.len() + 1);
        for (i, mut row) in grid.into_iter().enumerate() {
            row.resize(width, String::new());
            lines.push(format!("| {} |", row.join(" | ")));
            if i == 0 {
                // Markdown needs a header row; ADF's first row is one in
                // practice (tableHeader cells), and a plain one reads fine too.
                lines.push(format!("|{}", " --- |".repeat(width)));
            }
        }
        lines.join("\n")
    }

    fn inline(&mut self, nodes: &[Value]) -> String {
        let mut out = String::new();
        for node in nodes {
            match node_type(node) {
                "text" => out.push_str(&self.marked_text(node)),
                "hardBreak" => out.push('\n'),
                "mention" => {
                    let name = attr_str(node, "text")
                        .map(|t| t.trim_start_matches('@').to_owned())
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "someone".to_owned());
                    out.push('@');
                    out.push_str(&name);
                }
                "emoji" => {
                    let short = attr_str(node, "shortName")
                        .or_else(|| attr_str(node, "text"))
                        .unwrap_or("");
                    out.push_str(short);
                }
                "inlineCard" => out.push_str(&self.card(node)),
                "date" => {
                    let ts = attr(node, "timestamp").and_then(|t| match t {
                        Value::String(s) => s.parse::<i64>().ok(),
                        other => other.as_i64(),
                    });
                    if let Some(day) = ts.and_then(DateTime::from_timestamp_millis) {
                        out.push_str(&day.format("%Y-%m-%d").to_string());
                    }
                }
                "status" => out.push_str(attr_str(node, "text").unwrap_or("")),
                "placeholder" | "mediaInline" => {}
                "" => {}
                other if is_inline(other) => {
                    *self.unknown.entry(other.to_owned()).or_default() += 1;
                }
                other => {
                    // A block where inline content was expected, or a new
                    // inline type: keep its text.
                    let text = if children(node).iter().all(|k| is_inline(node_type(k))) {
                        *self.unknown.entry(other.to_owned()).or_default() += 1;
                        self.inline(children(node))
                    } else {
                        self.block(node)
                    };
                    out.push_str(&text);
                }
            }
        }
        out
    }

    fn marked_text(&mut self, node: &Value) -> String {
        let mut text = node
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if text.is_empty() {
            return text;
        }
        let marks = node.get("marks").and_then(Value::as_array);
        let mut href = None;
        for mark in marks.map_or(&[][..], Vec::as_slice) {
            match node_type(mark) {
                "code" => text = format!("`{text}`"),
                "strong" => text = format!("**{text}**"),
                "em" => text = format!("*{text}*"),
                "strike" => text = format!("~~{text}~~"),
                "link" => href = attr_str(mark, "href").map(str::to_owned),
                _ => {}
            }
        }
        match href {
            Some(href) => {
                self.urls.push(href.clone());
                if text == href {
                    text
                } else {
                    format!("[{text}]({href})")
                }
            }
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(t: &str) -> Value {
        json!({"type": "text", "text": t})
    }

    fn para(content: Vec<Value>) -> Value {
        json!({"type": "paragraph", "content": content})
    }

    fn item(content: Vec<Value>) -> Value {
        json!({"type": "listItem", "content": content})
    }

    #[test]
    fn paragraphs_headings_marks_mentions_emoji_and_links() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [text("Impact")]},
            para(vec![
                text("Ping "),
                json!({"type": "mention", "attrs": {"id": "5b10", "text": "@Jane Doe"}}),
                text(" about "),
                json!({"type": "text", "text": "the runbook", "marks": [{"type": "link", "attrs": {"href": "https://wiki.example.com/runbook"}}]}),
                text(" "),
                json!({"type": "emoji", "attrs": {"shortName": ":fire:", "text": "🔥"}}),
                json!({"type": "hardBreak"}),
                json!({"type": "text", "text": "kafka-topics", "marks": [{"type": "code"}]}),
                text(" and "),
                json!({"type": "text", "text": "bold", "marks": [{"type": "strong"}]}),
            ]),
            {"type": "inlineCard", "attrs": {"url": "https://status.example.com"}},
            {"type": "rule"},
        ]});
        let out = adf_to_text(&doc);
        assert_eq!(
            out.text,
            "## Impact\n\nPing @Jane Doe about [the runbook](https://wiki.example.com/runbook) :fire:\n`kafka-topics` and **bold**\n\nhttps://status.example.com\n\n---"
        );
        assert_eq!(
            out.urls,
            [
                "https://wiki.example.com/runbook",
                "https://status.example.com"
            ]
        );
        assert!(out.unknown.is_empty());
    }

    #[test]
    fn nested_lists_code_and_table() {
        let doc = json!({"type": "doc", "content": [
            {"type": "bulletList", "content": [
                item(vec![para(vec![text("one")]),
                    json!({"type": "orderedList", "attrs": {"order": 3}, "content": [
                        item(vec![para(vec![text("three")])]),
                        item(vec![para(vec![text("four")]),
                            json!({"type": "bulletList", "content": [item(vec![para(vec![text("deep")])])]})]),
                    ]})]),
                item(vec![para(vec![text("two")])]),
            ]},
            {"type": "codeBlock", "attrs": {"language": "sh"}, "content": [text("kafka-consumer-groups --describe\n--group g")]},
            {"type": "table", "content": [
                {"type": "tableRow", "content": [
                    {"type": "tableHeader", "content": [para(vec![text("Broker")])]},
                    {"type": "tableHeader", "content": [para(vec![text("Lag")])]},
                ]},
                {"type": "tableRow", "content": [
                    {"type": "tableCell", "content": [para(vec![text("b1")])]},
                    {"type": "tableCell", "content": [para(vec![text("a|b")]), para(vec![text("2")])]},
                ]},
            ]},
        ]});
        let out = adf_to_text(&doc);
        assert_eq!(
            out.text,
            "- one\n  3. three\n  4. four\n     - deep\n- two\n\n\
             ```sh\nkafka-consumer-groups --describe\n--group g\n```\n\n\
             | Broker | Lag |\n| --- | --- |\n| b1 | a\\|b 2 |"
        );
        assert!(out.unknown.is_empty());
    }

    #[test]
    fn unknown_nodes_keep_their_text_and_are_counted() {
        let doc = json!({"type": "doc", "content": [
            {"type": "fancyCallout", "content": [para(vec![text("still here")])]},
            para(vec![text("a "), json!({"type": "sparkle", "content": [text("glitter")]}), text(" b")]),
            {"type": "fancyCallout", "content": []},
            {"type": "taskList", "content": [
                {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [text("shipped")]},
                {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [text("announce")]},
            ]},
        ]});
        let out = adf_to_text(&doc);
        assert_eq!(
            out.text,
            "still here\n\na glitter b\n\n- [x] shipped\n- [ ] announce"
        );
        assert_eq!(out.unknown.get("fancyCallout"), Some(&2));
        assert_eq!(out.unknown.get("sparkle"), Some(&1));
    }

    #[test]
    fn garbage_is_not_fatal() {
        assert_eq!(adf_to_text(&Value::Null).text, "");
        assert_eq!(adf_to_text(&json!("plain")).text, "plain");
        assert_eq!(
            adf_to_text(&json!({"type": "doc", "content": "nope"})).text,
            ""
        );
        let weird =
            json!({"type": "doc", "content": [{"content": [text("x")]}, 7, {"type": "heading"}]});
        let out = adf_to_text(&weird);
        assert!(out.text.contains('x'), "{}", out.text);
    }
}
