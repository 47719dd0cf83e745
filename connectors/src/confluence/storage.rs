//! Confluence storage format (XHTML with `ac:` / `ri:` elements) → readable
//! markdown-ish text, plus the links it makes.
//!
//! Parsed with quick-xml in its lenient settings: storage format uses
//! namespace prefixes it never declares, HTML entities XML does not know
//! (`&nbsp;`), and occasionally mismatched end tags. Whatever cannot be
//! parsed is stripped of tags rather than dropped, so no raw markup and no
//! text is ever lost silently.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use quick_xml::escape::resolve_html5_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use regex::Regex;

static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<[^>]*>?").expect("static regex"));
static ENTITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"&#?[A-Za-z0-9]+;").expect("static regex"));
static JIRA_BROWSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/browse/([A-Z][A-Z0-9_]+-[0-9]+)").expect("static regex"));

/// Macros whose meaning the converter knows; others keep their inner text
/// and are counted, so an operator can see what is rendered generically.
const KNOWN_MACROS: [&str; 14] = [
    "code", "noformat", "info", "note", "warning", "tip", "panel", "expand", "jira", "status",
    "toc", "children", "anchor", "excerpt",
];

/// A link found in a page body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageLink {
    /// A page title (`page`), a URL (`url`, `page_url`), an issue key
    /// (`issue`) or a file name (`attachment`).
    pub target: String,
    pub kind: &'static str,
    /// The link text, when it differs from the target.
    pub alias: Option<String>,
    /// `page`: the space the target page is in (`ri:space-key`), when the
    /// link names one; `None` means the linking page's own space.
    pub space: Option<String>,
}

#[derive(Debug, Default)]
pub struct StorageText {
    pub text: String,
    pub links: Vec<StorageLink>,
    /// Macro name → occurrences, for macros rendered as plain inner text.
    pub unknown_macros: BTreeMap<String, u64>,
}

/// Converts one storage-format body.
pub fn storage_to_text(xhtml: &str) -> StorageText {
    let mut c = Converter::default();
    let mut reader = Reader::from_str(xhtml);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    config.expand_empty_elements = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => c.start(&e),
            Ok(Event::Empty(e)) => {
                c.start(&e);
                c.end(&name_of(&e));
            }
            Ok(Event::End(e)) => c.end(&e.name().as_ref().to_lowercase()),
            Ok(Event::Text(t)) => c.text(&t.html_content()),
            Ok(Event::CData(t)) => c.cdata(&t.html_content()),
            Ok(Event::GeneralRef(r)) => {
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    c.text(ch.encode_utf8(&mut [0; 4]));
                } else if let Some(s) = resolve_html5_entity(&r) {
                    c.text(s);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {} // comments, declarations, processing instructions
            Err(err) => {
                // Keep the rest as text without its tags rather than lose it.
                let at = usize::try_from(reader.error_position()).unwrap_or(xhtml.len());
                let rest = xhtml.get(at..).unwrap_or("");
                tracing::debug!(error = %err, at, "storage format not parsable to the end; rest kept as plain text");
                let plain = TAG.replace_all(rest, " ");
                c.text(&ENTITY.replace_all(&plain, " "));
                break;
            }
        }
    }
    c.finish()
}

fn name_of(e: &BytesStart<'_>) -> String {
    e.name().as_ref().to_lowercase()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.html_attributes().flatten().find_map(|a| {
        if !a.key.as_ref().eq_ignore_ascii_case(name) {
            return None;
        }
        let value = a
            .normalized_value_with(XmlVersion::Implicit1_0, 16, resolve_html5_entity)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| a.value.clone().into_owned());
        Some(value)
    })
}

#[derive(Debug)]
enum Frame {
    /// An element with nothing special to do at its end.
    Plain,
    /// Ends with a paragraph break.
    Block,
    List {
        ordered: bool,
        next: u32,
    },
    Item,
    Row {
        cells: u32,
    },
    Cell,
    Pre,
    Macro {
        name: String,
        params: BTreeMap<String, String>,
        /// Output length at the start: a body-less macro (jira) renders at its end.
        start: usize,
    },
    Parameter {
        name: String,
        value: String,
    },
    /// Content not shown (placeholders, task ids, scripts).
    Hidden,
    Link {
        start: usize,
        target: Option<(String, &'static str)>,
        /// `ri:space-key` of an `ri:page` / `ri:blog-post` target.
        space: Option<String>,
    },
    Image {
        file: Option<String>,
    },
    Anchor {
        href: Option<String>,
        start: usize,
    },
}

#[derive(Default)]
struct Converter {
    out: String,
    stack: Vec<(String, Frame)>,
    links: Vec<StorageLink>,
    unknown: BTreeMap<String, u64>,
    pending_space: bool,
    /// Just after a list marker: a paragraph opening inside the item must not break the line.
    at_item_start: bool,
}

impl Converter {
    fn hidden(&self) -> bool {
        self.stack.iter().any(|(_, f)| matches!(f, Frame::Hidden))
    }

    fn in_pre(&self) -> bool {
        self.stack.iter().any(|(_, f)| matches!(f, Frame::Pre))
    }

    fn in_cell(&self) -> bool {
        self.stack.iter().any(|(_, f)| matches!(f, Frame::Cell))
    }

    fn list_depth(&self) -> usize {
        self.stack
            .iter()
            .filter(|(_, f)| matches!(f, Frame::List { .. }))
            .count()
    }

    /// The innermost macro parameter being captured, if any: everything
    /// inside one (links included) is its value, never page text.
    fn parameter(&mut self) -> Option<&mut String> {
        self.stack.iter_mut().rev().find_map(|(_, f)| match f {
            Frame::Parameter { value, .. } => Some(value),
            _ => None,
        })
    }

    fn raw(&mut self, s: &str) {
        if self.hidden() {
            return;
        }
        if let Some(value) = self.parameter() {
            value.push_str(s);
            return;
        }
        self.out.push_str(s);
        self.at_item_start = false;
    }

    /// Inline text: whitespace runs collapse to one space, as a browser shows them.
    fn text(&mut self, s: &str) {
        if self.hidden() {
            return;
        }
        if self.in_pre() {
            self.raw(&s.replace('\u{a0}', " "));
            return;
        }
        let mut buf = String::with_capacity(s.len());
        for ch in s.chars() {
            if ch.is_whitespace() {
                self.pending_space = true;
                continue;
            }
            if self.pending_space {
                let last = buf.chars().last().or_else(|| self.out.chars().last());
                if last.is_some_and(|l| !l.is_whitespace()) {
                    buf.push(' ');
                }
                self.pending_space = false;
            }
            buf.push(ch);
        }
        if !buf.is_empty() {
            self.raw(&buf);
        }
    }

    fn cdata(&mut self, s: &str) {
        let in_code = self.stack.iter().rev().find_map(|(_, f)| match f {
            Frame::Macro { name, params, .. } => Some((name.clone(), params.clone())),
            _ => None,
        });
        match in_code {
            Some((name, params))
                if (name == "code" || name == "noformat") && self.parameter().is_none() =>
            {
                let lang = params.get("language").cloned().unwrap_or_default();
                self.block();
                self.raw(&format!("```{lang}\n{}\n```", s.trim_matches('\n')));
                self.block();
            }
            _ if self.parameter().is_some() => self.raw(s),
            _ => self.text(s),
        }
    }

    fn line(&mut self) {
        self.pending_space = false;
        if self.hidden() || self.parameter().is_some() {
            return;
        }
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn block(&mut self) {
        if self.in_cell() {
            self.pending_space = true;
            return;
        }
        if self.list_depth() > 0 {
            if !self.at_item_start {
                self.line();
            }
            return;
        }
        self.line();
        if self.hidden() || self.parameter().is_some() {
            return;
        }
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn start(&mut self, e: &BytesStart<'_>) {
        let name = name_of(e);
        let frame = match name.as_str() {
            "p" | "div" | "section" | "blockquote" | "ac:layout" | "ac:layout-section"
            | "ac:layout-cell" | "ac:rich-text-body" | "ac:task-body" => {
                self.block();
                Frame::Block
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.block();
                let level = name[1..].parse::<usize>().unwrap_or(1);
                self.raw(&format!("{} ", "#".repeat(level)));
                Frame::Block
            }
            "ul" | "ol" | "ac:task-list" => {
                if self.list_depth() == 0 {
                    self.block();
                } else {
                    self.line();
                }
                Frame::List {
                    ordered: name == "ol",
                    next: 1,
                }
            }
            "li" | "ac:task" => {
                self.line();
                let depth = self.list_depth().max(1);
                let marker = match self
                    .stack
                    .iter_mut()
                    .rev()
                    .find(|(_, f)| matches!(f, Frame::List { .. }))
                {
                    Some((
                        _,
                        Frame::List {
                            ordered: true,
                            next,
                        },
                    )) => {
                        *next += 1;
                        format!("{}. ", *next - 1)
                    }
                    _ => "- ".to_owned(),
                };
                self.raw(&format!("{}{marker}", "  ".repeat(depth - 1)));
                self.at_item_start = true;
                Frame::Item
            }
            "table" => {
                self.block();
                Frame::Block
            }
            "tr" => {
                self.line();
                Frame::Row { cells: 0 }
            }
            "td" | "th" => {
                if let Some((_, Frame::Row { cells })) = self
                    .stack
                    .iter_mut()
                    .rev()
                    .find(|(_, f)| matches!(f, Frame::Row { .. }))
                {
                    *cells += 1;
                    if *cells > 1 {
                        self.pending_space = false;
                        self.raw(" | ");
                    }
                }
                Frame::Cell
            }
            "pre" => {
                self.block();
                self.raw("```\n");
                Frame::Pre
            }
            "br" => {
                self.line();
                Frame::Plain
            }
            "hr" => {
                self.block();
                Frame::Plain
            }
            "ac:structured-macro" | "ac:macro" => {
                let macro_name = attr(e, "ac:name").unwrap_or_default().to_lowercase();
                if !KNOWN_MACROS.contains(&macro_name.as_str()) {
                    *self.unknown.entry(macro_name.clone()).or_default() += 1;
                }
                self.block();
                Frame::Macro {
                    name: macro_name,
                    params: BTreeMap::new(),
                    start: self.out.len(),
                }
            }
            "ac:parameter" => Frame::Parameter {
                name: attr(e, "ac:name").unwrap_or_default(),
                value: String::new(),
            },
            "ac:plain-text-body" => Frame::Plain,
            "ac:placeholder" | "ac:task-id" | "ac:task-uuid" | "ac:task-status" | "script"
            | "style" => Frame::Hidden,
            "ac:link" => Frame::Link {
                start: self.out.len(),
                target: None,
                space: None,
            },
            "ac:image" => Frame::Image { file: None },
            "a" => Frame::Anchor {
                href: attr(e, "href"),
                start: self.out.len(),
            },
            "ri:page" | "ri:blog-post" => {
                self.set_link_target(attr(e, "ri:content-title"), "page");
                let key = attr(e, "ri:space-key").filter(|k| !k.trim().is_empty());
                if let Some((_, Frame::Link { space, .. })) = self
                    .stack
                    .iter_mut()
                    .rev()
                    .find(|(_, f)| matches!(f, Frame::Link { .. }))
                {
                    *space = key;
                }
                Frame::Plain
            }
            "ri:attachment" => {
                let file = attr(e, "ri:filename");
                if let Some((_, Frame::Image { file: slot })) = self.stack.last_mut() {
                    *slot = file;
                } else {
                    self.set_link_target(file, "attachment");
                }
                Frame::Plain
            }
            "ri:url" => {
                let url = attr(e, "ri:value");
                if let Some((_, Frame::Image { file: slot })) = self.stack.last_mut() {
                    *slot = url;
                } else {
                    self.set_link_target(url, "url");
                }
                Frame::Plain
            }
            "ri:space" => {
                self.set_link_target(attr(e, "ri:space-key"), "space");
                Frame::Plain
            }
            "ac:emoticon" => {
                let shown = attr(e, "ac:emoji-fallback")
                    .filter(|f| !f.trim().is_empty())
                    .or_else(|| attr(e, "ac:name").map(|n| format!(":{n}:")));
                if let Some(shown) = shown {
                    self.text(&shown);
                }
                Frame::Plain
            }
            "time" => {
                if let Some(when) = attr(e, "datetime") {
                    self.text(&when);
                }
                Frame::Plain
            }
            _ => Frame::Plain,
        };
        self.stack.push((name, frame));
    }

    fn set_link_target(&mut self, target: Option<String>, kind: &'static str) {
        let Some(target) = target.filter(|t| !t.trim().is_empty()) else {
            return;
        };
        if let Some((_, Frame::Link { target: slot, .. })) = self
            .stack
            .iter_mut()
            .rev()
            .find(|(_, f)| matches!(f, Frame::Link { .. }))
        {
            // ri:page may name a space too; the page wins over the space.
            if slot.is_none() || kind != "space" {
                *slot = Some((target, kind));
            }
        }
    }

    fn end(&mut self, name: &str) {
        // Unwind to the matching element; an end tag that matches nothing open is ignored.
        let Some(pos) = self.stack.iter().rposition(|(n, _)| n == name) else {
            return;
        };
        while self.stack.len() > pos {
            let Some((_, frame)) = self.stack.pop() else {
                break;
            };
            self.close(frame);
        }
    }

    fn close(&mut self, frame: Frame) {
        match frame {
            Frame::Plain | Frame::Hidden | Frame::Cell | Frame::Item => {}
            Frame::Block | Frame::List { .. } => self.block(),
            Frame::Row { .. } => self.line(),
            Frame::Pre => {
                self.line();
                self.raw("```");
                self.block();
            }
            Frame::Parameter { name, value } => {
                if let Some((_, Frame::Macro { params, .. })) = self.stack.last_mut() {
                    params.insert(name, value.trim().to_owned());
                }
            }
            Frame::Macro {
                name,
                params,
                start,
            } => self.close_macro(&name, &params, start),
            Frame::Link {
                start,
                target,
                space,
            } => {
                let shown = self.out.get(start..).unwrap_or("").trim().to_owned();
                let Some((target, kind)) = target else {
                    return;
                };
                if shown.is_empty() {
                    self.text(&target);
                }
                if kind != "space" {
                    let alias = Some(shown).filter(|s| !s.is_empty() && *s != target);
                    let space = space.filter(|_| kind == "page");
                    self.links.push(StorageLink {
                        target,
                        kind,
                        alias,
                        space,
                    });
                }
            }
            Frame::Image { file } => {
                if let Some(file) = file {
                    self.text(&file);
                    self.links.push(StorageLink {
                        target: file,
                        kind: "attachment",
                        alias: None,
                        space: None,
                    });
                }
            }
            Frame::Anchor { href, start } => {
                let shown = self.out.get(start..).unwrap_or("").trim().to_owned();
                let Some(href) = href.filter(|h| !h.trim().is_empty() && !h.starts_with('#'))
                else {
                    return;
                };
                if shown.is_empty() {
                    self.text(&href);
                }
                let alias = Some(shown).filter(|s| !s.is_empty() && *s != href);
                self.links.push(classify_url(href, alias));
            }
        }
    }

    fn close_macro(&mut self, name: &str, params: &BTreeMap<String, String>, start: usize) {
        let rendered_nothing = self.out.len() == start;
        match name {
            "jira" => {
                if let Some(key) = params.get("key").filter(|k| !k.is_empty()) {
                    self.text(key);
                    self.links.push(StorageLink {
                        target: key.clone(),
                        kind: "issue",
                        alias: None,
                        space: None,
                    });
                }
            }
            "status" if rendered_nothing => {
                if let Some(title) = params.get("title").filter(|t| !t.is_empty()) {
                    self.text(title);
                }
            }
            "info" | "note" | "warning" | "tip" | "panel" | "expand" => {
                // The title goes first: splice it in front of the body.
                if let Some(title) = params.get("title").filter(|t| !t.is_empty()) {
                    if start <= self.out.len() && self.out.is_char_boundary(start) {
                        self.out.insert_str(start, &format!("{title}\n\n"));
                    }
                }
            }
            _ => {}
        }
        self.block();
    }

    fn finish(self) -> StorageText {
        let text = crate::text::fold_blank_lines(self.out.lines());
        let mut seen = std::collections::HashSet::new();
        let links = self
            .links
            .into_iter()
            .filter(|l| seen.insert((l.kind, l.target.clone())))
            .collect();
        StorageText {
            text,
            links,
            unknown_macros: self.unknown,
        }
    }
}

/// A URL from an `<a href>`: a Jira issue, a Confluence page, or any URL.
pub fn classify_url(href: String, alias: Option<String>) -> StorageLink {
    if let Some(key) = JIRA_BROWSE.captures(&href).and_then(|c| c.get(1)) {
        return StorageLink {
            target: key.as_str().to_owned(),
            kind: "issue",
            alias: Some(href),
            space: None,
        };
    }
    let kind = if href.contains("/pages/") || href.contains("pageId=") || href.contains("/display/")
    {
        "page_url"
    } else {
        "url"
    };
    StorageLink {
        target: href,
        kind,
        alias,
        space: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RICH: &str = r#"<h1>Consumer lag</h1>
<p>When&nbsp;lag grows, ask <ac:link><ri:user ri:account-id="5b10" /></ac:link> first <ac:emoticon ac:name="smile" ac:emoji-fallback="🙂" /> &amp; check &lt;offsets&gt; &#8212; see <ac:link><ri:page ri:content-title="Kafka Basics" ri:space-key="ENG" /></ac:link>.</p>
<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:parameter ac:name="title">Heads up</ac:parameter><ac:rich-text-body><p>Lag alerts page the on-call.</p></ac:rich-text-body></ac:structured-macro>
<ul><li>check the group<ul><li>describe it</li><li>reset offsets</li></ul></li><li><p>restart</p></li></ul>
<ol><li>one</li><li>two</li></ol>
<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[kafka-consumer-groups --describe --group payments
echo "<done>"]]></ac:plain-text-body></ac:structured-macro>
<table><tbody><tr><th>Topic</th><th>Owner</th></tr><tr><td><p>payments</p></td><td>team-pay</td></tr></tbody></table>
<ac:structured-macro ac:name="holographic-widget"><ac:parameter ac:name="mode">3d</ac:parameter><ac:rich-text-body><p>kept despite the unknown macro</p></ac:rich-text-body></ac:structured-macro>
<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>left cell</p></ac:layout-cell><ac:layout-cell><p>right <a href="https://acme.atlassian.net/browse/OPS-12">the ticket</a> and <a href="https://acme.atlassian.net/wiki/spaces/ENG/pages/42/Runbook">runbook</a></p></ac:layout-cell></ac:layout-section></ac:layout>
<p><ac:image><ri:attachment ri:filename="lag-graph.png" /></ac:image> <ac:link><ri:attachment ri:filename="report.pdf" /><ac:plain-text-link-body><![CDATA[the report]]></ac:plain-text-link-body></ac:link></p>
<p><ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">OPS-7</ac:parameter></ac:structured-macro></p>"#;

    #[test]
    fn rich_storage_becomes_clean_structured_text() {
        let out = storage_to_text(RICH);
        let t = &out.text;
        for markup in ["<ac:", "<ri:", "</", "&nbsp;", "&amp;", "CDATA", "/>"] {
            assert!(!t.contains(markup), "{markup} survived:\n{t}");
        }
        assert!(t.starts_with("# Consumer lag\n\nWhen lag grows"), "{t}");
        assert!(
            t.contains("🙂 & check <offsets> — see Kafka Basics."),
            "{t}"
        );
        assert!(
            t.contains("Heads up\n\nLag alerts page the on-call."),
            "{t}"
        );
        assert!(
            t.contains("- check the group\n  - describe it\n  - reset offsets\n- restart"),
            "{t}"
        );
        assert!(t.contains("1. one\n2. two"), "{t}");
        assert!(
            t.contains(
                "```bash\nkafka-consumer-groups --describe --group payments\necho \"<done>\"\n```"
            ),
            "{t}"
        );
        assert!(t.contains("Topic | Owner\npayments | team-pay"), "{t}");
        assert!(t.contains("kept despite the unknown macro"), "{t}");
        assert!(!t.contains("3d"), "macro parameters are not text: {t}");
        assert!(
            t.contains("left cell\n\nright the ticket and runbook"),
            "{t}"
        );
        assert!(t.contains("lag-graph.png the report"), "{t}");
        assert!(t.contains("OPS-7"), "{t}");
        assert_eq!(
            out.unknown_macros,
            BTreeMap::from([("holographic-widget".to_owned(), 1)])
        );
        let links: Vec<(&str, &str)> = out
            .links
            .iter()
            .map(|l| (l.kind, l.target.as_str()))
            .collect();
        assert_eq!(out.links[0].space.as_deref(), Some("ENG"));
        assert!(out.links[1..].iter().all(|l| l.space.is_none()));
        assert_eq!(
            links,
            [
                ("page", "Kafka Basics"),
                ("issue", "OPS-12"),
                (
                    "page_url",
                    "https://acme.atlassian.net/wiki/spaces/ENG/pages/42/Runbook"
                ),
                ("attachment", "lag-graph.png"),
                ("attachment", "report.pdf"),
                ("issue", "OPS-7"),
            ]
        );
    }

    #[test]
    fn broken_markup_keeps_its_text_without_tags() {
        let out = storage_to_text("<p>fine</p><p>broken <b attr=\"x>tail text");
        assert!(out.text.contains("fine"), "{}", out.text);
        assert!(!out.text.contains('<'), "{}", out.text);
        let out = storage_to_text("<p>a</span> b</p><p>c &unknownentity; d</p>");
        assert_eq!(out.text, "a b\n\nc d");
    }

    #[test]
    fn tasks_breaks_preformatted_text_and_macro_parameters() {
        let out = storage_to_text(concat!(
            r#"<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>"#,
            r#"<ac:task-body>ship it</ac:task-body></ac:task></ac:task-list>"#,
            r#"<p>line one<br/>line two</p><pre>  keep   spacing&nbsp;here</pre>"#,
            r#"<ac:structured-macro ac:name="include"><ac:parameter ac:name=""><ac:link><ri:page ri:content-title="Shared"/>"#,
            r#"<ac:plain-text-link-body><![CDATA[not text]]></ac:plain-text-link-body></ac:link></ac:parameter></ac:structured-macro>"#,
            r#"<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">More</ac:parameter><ac:rich-text-body><p>hidden detail</p></ac:rich-text-body></ac:structured-macro>"#,
            r#"<ac:image><ri:url ri:value="https://x.example/a.png"/></ac:image>"#,
            r#"<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[raw <b>]]></ac:plain-text-body></ac:structured-macro>"#,
        ));
        let t = &out.text;
        assert!(t.starts_with("- ship it\n\nline one\nline two"), "{t}");
        assert!(t.contains("```\n  keep   spacing here\n```"), "{t}");
        assert!(!t.contains("not text") && !t.contains("incomplete"), "{t}");
        assert!(t.contains("More\n\nhidden detail"), "{t}");
        assert!(t.contains("https://x.example/a.png"), "{t}");
        assert!(t.contains("```\nraw <b>\n```"), "{t}");
        assert!(out
            .links
            .iter()
            .any(|l| l.kind == "page" && l.target == "Shared"));
        assert_eq!(out.unknown_macros.get("include"), Some(&1));
    }

    #[test]
    fn a_link_with_body_keeps_the_body_as_text() {
        let out = storage_to_text(
            r#"<p>see <ac:link><ri:page ri:content-title="Deploys" /><ac:link-body>the <b>deploy</b> page</ac:link-body></ac:link></p>"#,
        );
        assert_eq!(out.text, "see the deploy page");
        assert_eq!(out.links[0].alias.as_deref(), Some("the deploy page"));
    }
}
