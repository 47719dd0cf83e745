//! What a note's markdown body links to and is tagged with: `[[wikilinks]]`,
//! `[[target|alias]]`, `![[embeds]]`, `#tags`, URLs, and its first `# H1`.
//!
//! A CommonMark parser (pulldown-cmark) finds the code: fenced blocks of any
//! fence length or kind (so a ```` ``` ```` inside a `~~~~` block does not
//! end it), indented blocks, inline code, also inside blockquotes and
//! callouts. The code is blanked out of the source and the raw text that is
//! left is scanned line by line. Scanning the raw text, not the parser's text
//! events, keeps what a link means unchanged: the events would drop escapes
//! and emphasis markers inside a target and cut `[[a|b]]` at table cells.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag};
use regex::Regex;
use tributary_core::Link;

static WIKILINK: LazyLock<Regex> = LazyLock::new(|| {
    // ![[target#heading|alias]]: the target stops at '#', '^' or '|'. In a
    // table the pipe is written `\|`; the backslash is trimmed off the target.
    Regex::new(r"(!)?\[\[([^\[\]|#^]*)(?:[#^][^\[\]|]*)?(?:\|([^\[\]]*))?\]\]")
        .expect("static regex")
});
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    // Obsidian tags start with a letter or '_' (so "#1" and "# Heading" are not tags).
    Regex::new(r"(?:^|[\s(,])#([\p{L}_][\p{L}\p{N}_/-]*)").expect("static regex")
});
static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s<>()\[\]"'`]+"#).expect("static regex"));

#[derive(Debug, Default, PartialEq)]
pub struct Extracted {
    pub first_h1: Option<String>,
    pub tags: BTreeSet<String>,
    /// In order of appearance, each (kind, target) once.
    pub links: Vec<Link>,
}

/// The markdown dialect Obsidian writes: tables matter because a `|` inside
/// a table cell's code span is part of the code.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

const PLAIN: u8 = 0;
const CODE: u8 = 1;
const HTML: u8 = 2;

/// Two copies of `body` with the same lines: `code` has every code byte
/// blanked; `tagged` also has raw HTML blanked, since a `#` in HTML (a CSS
/// colour, an anchor) is not a tag.
struct Masked {
    code: String,
    tagged: String,
}

fn mask(body: &str) -> Masked {
    let mut kind = vec![PLAIN; body.len()];
    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        let mark = match event {
            // The block's range covers its fences and, in a blockquote, the
            // `>` markers of its lines: all of it is code.
            Event::Start(Tag::CodeBlock(_)) | Event::Code(_) => CODE,
            Event::Html(_) | Event::InlineHtml(_) => HTML,
            _ => continue,
        };
        if let Some(bytes) = kind.get_mut(range) {
            bytes.fill(mark);
        }
    }
    let mut code = String::with_capacity(body.len());
    let mut tagged = String::with_capacity(body.len());
    for (i, c) in body.char_indices() {
        // Newlines stay so both copies keep the source's lines.
        let k = if c == '\n' { PLAIN } else { kind[i] };
        code.push(if k == CODE { ' ' } else { c });
        tagged.push(if k == PLAIN { c } else { ' ' });
    }
    Masked { code, tagged }
}

pub fn extract(body: &str) -> Extracted {
    let masked = mask(body);
    let mut out = Extracted::default();
    let mut seen_links = BTreeSet::new();
    for (line, tag_line) in masked.code.split('\n').zip(masked.tagged.split('\n')) {
        if out.first_h1.is_none() {
            if let Some(h) = line.trim_start().strip_prefix("# ") {
                out.first_h1 = Some(h.trim().to_string());
            }
        }
        for cap in WIKILINK.captures_iter(line) {
            let target = cap
                .get(2)
                .map_or("", |m| m.as_str())
                .trim_end_matches('\\')
                .trim();
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
                out.links.push(Link {
                    target: target.to_string(),
                    kind: kind.into(),
                    alias,
                });
            }
        }
        for cap in TAG.captures_iter(&WIKILINK.replace_all(tag_line, "")) {
            out.tags.insert(cap[1].trim_end_matches('/').to_string());
        }
        for m in URL.find_iter(&WIKILINK.replace_all(line, "")) {
            let url = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if seen_links.insert(("url", url.to_string())) {
                out.links.push(Link {
                    target: url.to_string(),
                    kind: "url".into(),
                    alias: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(body: &str) -> Vec<String> {
        extract(body).links.into_iter().map(|l| l.target).collect()
    }

    fn tags(body: &str) -> Vec<String> {
        extract(body).tags.into_iter().collect()
    }

    #[test]
    fn a_longer_fence_is_not_closed_by_a_shorter_one() {
        let body = "````md\n```\n[[inside]] #inside\n```\nstill code [[also inside]] #also\n````\nafter [[outside]] #outside\n";
        assert_eq!(targets(body), vec!["outside"]);
        assert_eq!(tags(body), vec!["outside"]);
    }

    #[test]
    fn inner_fences_of_another_kind_or_with_an_info_string_do_not_close() {
        let body = "~~~~\n~~~\n[[in1]] #in1\n~~~\n~~~~\n\
                    ````\n~~~\n```\n[[in2]]\n```\n~~~\n````\n\
                    ```\n```js\n[[in3]] #in3\n```\n\
                    [[outside]]\n";
        assert_eq!(targets(body), vec!["outside"]);
        assert!(tags(body).is_empty());
    }

    #[test]
    fn code_in_a_callout_or_blockquote_yields_nothing() {
        let body = "> [!note] Colours\n> ```css\n> .warn { color: #ff0000; }\n> see [[Not A Link]] https://not.example\n> ```\n> Real [[Callout Link]] #real `#inline` `[[inline]]`\n\n> quote\n>\n>     #indented [[indented]]\n";
        assert_eq!(targets(body), vec!["Callout Link"]);
        assert_eq!(tags(body), vec!["real"]);
    }

    #[test]
    fn an_escaped_pipe_in_a_table_separates_target_and_alias() {
        let body = "| link | size |\n|---|---|\n| [[Target\\|alias]] | ![[diagram.png\\|300]] |\n| [[Plain]] | `a\\|b` |\n";
        let links: Vec<(String, String, Option<String>)> = extract(body)
            .links
            .into_iter()
            .map(|l| (l.kind, l.target, l.alias))
            .collect();
        assert_eq!(
            links,
            vec![
                ("wikilink".into(), "Target".into(), Some("alias".into())),
                ("embed".into(), "diagram.png".into(), Some("300".into())),
                ("wikilink".into(), "Plain".into(), None),
            ]
        );
    }

    #[test]
    fn html_hides_tags_but_not_links() {
        let body = "<span style=\"color: #ff0000\">red</span> #real\n\n<div>\n#css-ish https://kept.example [[Kept]]\n</div>\n";
        assert_eq!(tags(body), vec!["real"]);
        assert_eq!(targets(body), vec!["Kept", "https://kept.example"]);
    }

    #[test]
    fn a_heading_in_code_is_not_the_title() {
        let e = extract("```\n# Not the title\n```\n    # Nor this\n\n# Title\n");
        assert_eq!(e.first_h1.as_deref(), Some("Title"));
    }

    #[test]
    fn unclosed_backticks_are_text() {
        // No closing backtick: CommonMark reads them literally.
        assert_eq!(targets("a ` b [[Link]] c"), vec!["Link"]);
    }

    #[test]
    fn multibyte_text_around_code_survives_masking() {
        let e = extract("Überblick `cödé` #größe [[Straße]]\n");
        assert_eq!(e.links[0].target, "Straße");
        assert_eq!(e.tags.into_iter().collect::<Vec<_>>(), vec!["größe"]);
    }
}
