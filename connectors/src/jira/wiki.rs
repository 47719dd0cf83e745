//! Jira wiki markup (Data Center / Server descriptions and comments) → the
//! same markdown-ish text as the ADF converter produces, so chunking treats
//! both flavours alike. Line-based: headings, lists, tables, quotes and
//! `{code}` / `{noformat}` blocks; inline bold, italics, monospace, links
//! `[~user]` mentions (as display names when known, like Cloud's) and
//! attachments (`!file.png!`, `[^file.pdf]`: their file names, like Cloud's
//! media). Anything else passes through as written.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^h([1-6])\.\s+(.*)$").expect("static regex"));
static LIST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([*#-]+)\s+(.*)$").expect("static regex"));
static CODE_OPEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\{(code|noformat)(?::([^}]*))?\}(.*)$").expect("static regex"));
static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\[\]|]*)\|([^\[\]]+)\]").expect("static regex"));
static BARE_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[((?:https?|mailto):[^\[\]|]+)\]").expect("static regex"));
static MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[~(?:accountid:)?([^\]]+)\]").expect("static regex"));
static MONO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{(.+?)\}\}").expect("static regex"));
static BOLD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[\s(\[])\*([^*\s](?:[^*]*[^*\s])?)\*").expect("static regex"));
static ITALIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[\s(\[])_([^_\s](?:[^_]*[^_\s])?)_").expect("static regex"));
/// `!file.png!`, `!file.png|thumbnail!`: the file name is kept.
static IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!([^!\s|][^!|]*)(?:\|[^!]*)?!").expect("static regex"));
/// `[^file.pdf]`: an attachment link.
static ATTACHMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[\^([^\[\]|]+)\]").expect("static regex"));
/// Formatting macros whose tags carry no text: `{color:red}`, `{panel:title=x}`...
static DROP_MACRO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{(?:color|panel|section|column|anchor|div|span)(?::[^}]*)?\}")
        .expect("static regex")
});

pub fn wiki_to_text(input: &str) -> String {
    wiki_to_text_with(input, &HashMap::new())
}

/// The user names a text mentions (`[~jdoe]`; not `[~accountid:…]`).
pub fn mentions(input: &str) -> Vec<String> {
    MENTION
        .captures_iter(input)
        .filter(|c| !c[0].starts_with("[~accountid:"))
        .map(|c| c[1].to_owned())
        .collect()
}

/// Like [`wiki_to_text`], with mentions of the users in `names` (user name
/// → display name) written as `@Display Name`.
pub fn wiki_to_text_with(input: &str, names: &HashMap<String, String>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut lines = input.lines().map(|l| l.trim_end_matches('\r'));
    let mut in_quote = false;
    let mut table_rows = 0usize;
    while let Some(raw) = lines.next() {
        let line = raw.trim();
        if let Some(caps) = CODE_OPEN.captures(line) {
            let tag = caps.get(1).map_or("code", |m| m.as_str());
            let lang = caps
                .get(2)
                .map(|m| m.as_str())
                .and_then(|params| params.split('|').find(|p| !p.contains('=')))
                .unwrap_or("");
            let close = format!("{{{tag}}}");
            let mut code = Vec::new();
            let mut rest = caps.get(3).map_or("", |m| m.as_str()).to_owned();
            // Code ends at the closing tag, possibly on the opening line.
            loop {
                if let Some(end) = rest.find(&close) {
                    code.push(rest[..end].to_owned());
                    break;
                }
                code.push(rest.clone());
                match lines.next() {
                    Some(next) => rest = next.to_owned(),
                    None => break,
                }
            }
            while code.first().is_some_and(|l| l.trim().is_empty()) {
                code.remove(0);
            }
            while code.last().is_some_and(|l| l.trim().is_empty()) {
                code.pop();
            }
            out.push(format!("```{lang}\n{}\n```", code.join("\n")));
            table_rows = 0;
            continue;
        }
        if line == "{quote}" {
            in_quote = !in_quote;
            continue;
        }
        let converted = convert_line(line, &mut table_rows, names);
        out.push(if in_quote && !converted.is_empty() {
            format!("> {converted}")
        } else {
            converted
        });
    }
    // Collapse runs of blank lines left by dropped macros.
    crate::text::fold_blank_lines(out.iter().map(String::as_str))
}

fn convert_line(line: &str, table_rows: &mut usize, names: &HashMap<String, String>) -> String {
    let inline = |text: &str| inline(text, names);
    if let Some(caps) = HEADING.captures(line) {
        *table_rows = 0;
        let level: usize = caps[1].parse().unwrap_or(1);
        return format!("{} {}", "#".repeat(level), inline(&caps[2]));
    }
    if let Some(rest) = line.strip_prefix("bq. ") {
        *table_rows = 0;
        return format!("> {}", inline(rest));
    }
    if line == "----" {
        *table_rows = 0;
        return "---".to_owned();
    }
    if line.starts_with('|') {
        return table_row(line, table_rows, names);
    }
    *table_rows = 0;
    if let Some(caps) = LIST.captures(line) {
        let markers = &caps[1];
        // `-` alone is a list bullet; `---` and friends are text (dashes).
        if markers != "-" && markers.contains('-') {
            return inline(line);
        }
        let depth = markers.len();
        let bullet = if markers.ends_with('#') { "1." } else { "-" };
        return format!("{}{bullet} {}", "  ".repeat(depth - 1), inline(&caps[2]));
    }
    // Dropped images and macros can leave stray spaces at the edges.
    inline(line).trim().to_owned()
}

fn table_row(line: &str, rows: &mut usize, names: &HashMap<String, String>) -> String {
    let header = line.starts_with("||");
    let cells: Vec<String> = line
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| inline(c, names))
        .collect();
    let mut out = format!("| {} |", cells.join(" | "));
    if *rows == 0 && header {
        out.push('\n');
        out.push('|');
        out.push_str(&" --- |".repeat(cells.len()));
    }
    *rows += 1;
    out
}

fn inline(text: &str, names: &HashMap<String, String>) -> String {
    let text = DROP_MACRO.replace_all(text, "");
    let text = text.replace("{color}", "").replace("{panel}", "");
    let text = IMAGE.replace_all(&text, "$1");
    let text = ATTACHMENT.replace_all(&text, "$1");
    let text = MENTION.replace_all(&text, |c: &Captures| {
        let user = &c[1];
        let known = (!c[0].starts_with("[~accountid:"))
            .then(|| names.get(user))
            .flatten();
        format!("@{}", known.map_or(user, String::as_str))
    });
    let text = LINK.replace_all(&text, |c: &Captures| {
        let label = c[1].trim();
        let target = c[2].trim();
        if label.is_empty() {
            target.to_owned()
        } else {
            format!("[{label}]({target})")
        }
    });
    let text = BARE_LINK.replace_all(&text, "$1");
    let text = MONO.replace_all(&text, "`$1`");
    let text = BOLD.replace_all(&text, "$1**$2**");
    let text = ITALIC.replace_all(&text, "$1*$2*");
    text.replace("\\\\", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_lists_and_inline_markup() {
        let wiki = "h1. Broker down\n\nThe *broker* is _slow_, see {{kafka-topics}}.\n\
                    * first\n** nested\n# numbered\n#* mixed\n- dash item\n\
                    Ask [~jdoe] or [~accountid:5b10ac8d82e05b22cc7d4ef5], read [the runbook|https://wiki.example.com/rb] and [https://status.example.com].\n\
                    bq. quoted line\n----\n!diagram.png! {color:red}red text{color}";
        assert_eq!(
            wiki_to_text(wiki),
            "# Broker down\n\n\
             The **broker** is *slow*, see `kafka-topics`.\n\
             - first\n  - nested\n1. numbered\n  - mixed\n- dash item\n\
             Ask @jdoe or @5b10ac8d82e05b22cc7d4ef5, read [the runbook](https://wiki.example.com/rb) and https://status.example.com.\n\
             > quoted line\n---\ndiagram.png red text"
        );
    }

    #[test]
    fn mentions_become_display_names_and_attachments_keep_their_names() {
        let wiki = "Ask [~jdoe] and [~ghost], see !graph.png|thumbnail! and [^report.pdf].";
        assert_eq!(mentions(wiki), ["jdoe", "ghost"]);
        assert!(mentions("[~accountid:5b10]").is_empty());
        let names = HashMap::from([("jdoe".to_owned(), "Jane Doe".to_owned())]);
        assert_eq!(
            wiki_to_text_with(wiki, &names),
            "Ask @Jane Doe and @ghost, see graph.png and report.pdf."
        );
    }

    #[test]
    fn code_blocks_are_kept_verbatim() {
        let wiki = "Run:\n{code:bash}\nkafka-consumer-groups --describe *not bold*\n{code}\n{noformat}raw _x_{noformat}\nafter";
        assert_eq!(
            wiki_to_text(wiki),
            "Run:\n```bash\nkafka-consumer-groups --describe *not bold*\n```\n```\nraw _x_\n```\nafter"
        );
        // An unclosed block runs to the end rather than losing text.
        assert_eq!(wiki_to_text("{code}\nx = 1"), "```\nx = 1\n```");
    }

    #[test]
    fn tables_and_quotes() {
        let wiki = "||Broker||Lag||\n|b1|10|\n|b2|*20*|\n\n{quote}\nsaid twice\n{quote}";
        assert_eq!(
            wiki_to_text(wiki),
            "| Broker | Lag |\n| --- | --- |\n| b1 | 10 |\n| b2 | **20** |\n\n> said twice"
        );
    }
}
