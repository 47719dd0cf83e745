//! Markdown-aware chunking, sized in the embedding model's own tokens.
//!
//! The body is cut into blocks (paragraphs, lists, whole fenced code blocks,
//! headings); blocks are packed greedily into chunks of at most
//! `max_tokens` *including* the header every chunk starts with (document
//! title and the heading path it sits under), so the model never truncates a
//! chunk silently. A heading is never left dangling at the end of a chunk;
//! a block too big for one chunk is cut at token boundaries. Consecutive
//! chunks share `overlap_tokens` of text so a sentence cut in two is still
//! found whole in one of them.

/// Counts model tokens (special tokens excluded) and finds token boundaries.
pub trait TokenCounter {
    fn count(&self, text: &str) -> usize;
    /// Byte ranges of each token in `text`.
    fn token_spans(&self, text: &str) -> Vec<(usize, usize)>;
}

impl TokenCounter for tokenizers::Tokenizer {
    fn count(&self, text: &str) -> usize {
        self.encode(text, false)
            .map_or_else(|_| text.split_whitespace().count(), |e| e.len())
    }

    fn token_spans(&self, text: &str) -> Vec<(usize, usize)> {
        self.encode(text, false)
            .map(|e| e.get_offsets().to_vec())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ChunkerConfig {
    /// Upper bound per chunk, header included.
    pub max_tokens: usize,
    pub overlap_tokens: usize,
}

/// `[CLS]` and `[SEP]`, which the model adds to every input.
const SPECIAL_TOKENS: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub index: usize,
    /// What gets embedded and stored: header + body.
    pub text: String,
    /// The heading path at the chunk's start, e.g. `Setup > Kafka`.
    pub section: Option<String>,
}

#[derive(Debug, Clone)]
struct Block {
    text: String,
    /// Heading level when this block is a heading.
    heading: Option<usize>,
    /// Heading path in effect for this block.
    path: Vec<String>,
}

fn heading_level(line: &str) -> Option<(usize, &str)> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
        Some((hashes, line[hashes..].trim()))
    } else {
        None
    }
}

/// Splits markdown into blocks, tracking the heading path.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut current = String::new();
    let mut fence: Option<String> = None;
    let flush = |current: &mut String, path: &[(usize, String)], out: &mut Vec<Block>| {
        let text = current.trim_matches('\n').to_string();
        if !text.trim().is_empty() {
            out.push(Block {
                text,
                heading: None,
                path: path.iter().map(|(_, h)| h.clone()).collect(),
            });
        }
        current.clear();
    };
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = &fence {
            current.push_str(line);
            current.push('\n');
            if trimmed.starts_with(open.as_str()) {
                fence = None;
                flush(&mut current, &path, &mut out);
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut current, &path, &mut out);
            fence = Some(trimmed[..3].to_string());
            current.push_str(line);
            current.push('\n');
            continue;
        }
        if let Some((level, title)) = heading_level(trimmed) {
            flush(&mut current, &path, &mut out);
            path.retain(|(l, _)| *l < level);
            path.push((level, title.to_string()));
            out.push(Block {
                text: trimmed.to_string(),
                heading: Some(level),
                path: path.iter().map(|(_, h)| h.clone()).collect(),
            });
            continue;
        }
        if trimmed.is_empty() {
            flush(&mut current, &path, &mut out);
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    flush(&mut current, &path, &mut out);
    out
}

fn header(title: &str, path: &[String]) -> String {
    let mut h = title.trim().to_string();
    if !path.is_empty() {
        if !h.is_empty() {
            h.push_str(" > ");
        }
        h.push_str(&path.join(" > "));
    }
    h
}

/// Cuts `text` into pieces of at most `budget` tokens at token boundaries.
fn split_oversized(text: &str, budget: usize, counter: &dyn TokenCounter) -> Vec<String> {
    let spans = counter.token_spans(text);
    if spans.is_empty() || budget == 0 {
        return vec![text.to_string()];
    }
    let mut pieces = Vec::new();
    for window in spans.chunks(budget) {
        let start = window[0].0;
        let end = window[window.len() - 1].1;
        if let Some(piece) = text.get(start..end) {
            if !piece.trim().is_empty() {
                pieces.push(piece.to_string());
            }
        }
    }
    pieces
}

/// The last `overlap` tokens of `text`, starting at a token boundary.
fn tail(text: &str, overlap: usize, counter: &dyn TokenCounter) -> String {
    if overlap == 0 {
        return String::new();
    }
    let spans = counter.token_spans(text);
    if spans.len() <= overlap {
        return text.to_string();
    }
    let start = spans[spans.len() - overlap].0;
    text.get(start..).unwrap_or_default().to_string()
}

/// Chunks a document. A document with no body yields one title-only chunk
/// (so it is still findable by title); with neither, no chunks.
pub fn chunk_markdown(
    title: &str,
    markdown: &str,
    cfg: ChunkerConfig,
    counter: &dyn TokenCounter,
) -> Vec<Chunk> {
    let max = cfg.max_tokens.saturating_sub(SPECIAL_TOKENS).max(16);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut body: Vec<String> = Vec::new();
    let mut body_tokens = 0usize;
    let mut chunk_path: Vec<String> = Vec::new();
    let mut header_tokens = counter.count(&header(title, &[]));
    // Blocks carried into the next chunk because a heading may not end one.
    let mut pending_headings: Vec<Block> = Vec::new();
    // The body holds nothing but the previous chunk's overlap tail.
    let mut only_overlap = false;

    let emit = |body: &mut Vec<String>, path: &[String], chunks: &mut Vec<Chunk>| {
        if body.is_empty() {
            return;
        }
        let h = header(title, path);
        let text = if h.is_empty() {
            body.join("\n\n")
        } else {
            format!("{h}\n\n{}", body.join("\n\n"))
        };
        chunks.push(Chunk {
            index: chunks.len(),
            text,
            section: (!path.is_empty()).then(|| path.join(" > ")),
        });
        body.clear();
    };

    let all = blocks(markdown);
    let mut i = 0;
    while i < all.len() {
        let block = &all[i];
        let tokens = counter.count(&block.text);
        if body.is_empty() && pending_headings.is_empty() {
            chunk_path = if block.heading.is_some() {
                block.path[..block.path.len() - 1].to_vec()
            } else {
                block.path.clone()
            };
            header_tokens = counter.count(&header(title, &chunk_path)) + 1;
        }
        let budget = max.saturating_sub(header_tokens);
        if block.heading.is_some() {
            pending_headings.push(block.clone());
            i += 1;
            continue;
        }
        let pending_tokens: usize = pending_headings
            .iter()
            .map(|b| counter.count(&b.text))
            .sum();
        if body_tokens + pending_tokens + tokens <= budget {
            body.extend(pending_headings.drain(..).map(|b| b.text));
            body.push(block.text.clone());
            body_tokens += pending_tokens + tokens;
            only_overlap = false;
            i += 1;
            continue;
        }
        if only_overlap {
            // Not even room beside the overlap: drop it rather than emit a
            // chunk of nothing but repeated text.
            body.clear();
            body_tokens = 0;
            only_overlap = false;
            continue;
        }
        if !body.is_empty() {
            // Full: close this chunk, start the next with an overlap tail.
            let overlap = tail(
                body.last().map_or("", String::as_str),
                cfg.overlap_tokens,
                counter,
            );
            emit(&mut body, &chunk_path, &mut chunks);
            chunk_path = pending_headings
                .first()
                .map(|h| h.path[..h.path.len() - 1].to_vec())
                .unwrap_or_else(|| block.path.clone());
            header_tokens = counter.count(&header(title, &chunk_path)) + 1;
            // Overlap only within a section: a new heading starts clean.
            if pending_headings.is_empty() && !overlap.is_empty() {
                body_tokens = counter.count(&overlap);
                body.push(overlap);
                only_overlap = true;
            } else {
                body_tokens = 0;
            }
            continue;
        }
        // Alone in an empty chunk and still too big: cut it.
        let budget_here = budget.saturating_sub(pending_tokens).max(8);
        let mut pieces = split_oversized(&block.text, budget_here, counter).into_iter();
        if let Some(first) = pieces.next() {
            body.extend(pending_headings.drain(..).map(|b| b.text));
            body.push(first);
            for piece in pieces {
                emit(&mut body, &chunk_path, &mut chunks);
                body.push(piece);
            }
            body_tokens = counter.count(body.last().map_or("", String::as_str));
            only_overlap = false;
        }
        i += 1;
    }
    // Trailing headings with no content still belong to the document; a
    // trailing overlap with nothing after it is only a repeat.
    if only_overlap {
        body.clear();
    }
    body.extend(pending_headings.drain(..).map(|b| b.text));
    emit(&mut body, &chunk_path, &mut chunks);
    if chunks.is_empty() && !title.trim().is_empty() {
        chunks.push(Chunk {
            index: 0,
            text: title.trim().to_string(),
            section: None,
        });
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per whitespace-separated word: easy to reason about.
    struct Words;

    impl TokenCounter for Words {
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
        fn token_spans(&self, text: &str) -> Vec<(usize, usize)> {
            let mut spans = Vec::new();
            let mut start = None;
            for (i, c) in text.char_indices() {
                match (c.is_whitespace(), start) {
                    (false, None) => start = Some(i),
                    (true, Some(s)) => {
                        spans.push((s, i));
                        start = None;
                    }
                    _ => {}
                }
            }
            if let Some(s) = start {
                spans.push((s, text.len()));
            }
            spans
        }
    }

    fn cfg(max: usize, overlap: usize) -> ChunkerConfig {
        ChunkerConfig {
            max_tokens: max + SPECIAL_TOKENS,
            overlap_tokens: overlap,
        }
    }

    #[test]
    fn small_note_is_one_chunk_with_title_header() {
        let chunks = chunk_markdown(
            "Title",
            "# Intro\n\nHello world.\n\nSecond para.",
            cfg(100, 4),
            &Words,
        );
        assert_eq!(chunks.len(), 1);
        assert_eq!(
            chunks[0].text,
            "Title\n\n# Intro\n\nHello world.\n\nSecond para."
        );
    }

    #[test]
    fn every_chunk_fits_the_budget_and_has_the_header() {
        let para = "word ".repeat(30);
        let md =
            format!("## Part\n\n{para}\n\n{para}\n\n{para}\n\n```\ncode block stays whole\n```\n");
        let chunks = chunk_markdown("Doc", &md, cfg(50, 5), &Words);
        assert!(chunks.len() >= 3, "{chunks:#?}");
        for c in &chunks {
            assert!(Words.count(&c.text) <= 50, "too big: {}", c.text);
            assert!(c.text.starts_with("Doc"), "{}", c.text);
        }
        assert!(chunks
            .iter()
            .any(|c| c.text.contains("```\ncode block stays whole\n```")));
        let indexes: Vec<usize> = chunks.iter().map(|c| c.index).collect();
        assert_eq!(indexes, (0..chunks.len()).collect::<Vec<_>>());
    }

    #[test]
    fn oversized_paragraph_is_cut_and_overlap_is_carried() {
        let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let chunks = chunk_markdown("T", &words.join(" "), cfg(30, 3), &Words);
        assert!(chunks.len() >= 4);
        for c in &chunks {
            assert!(Words.count(&c.text) <= 30);
        }
        // Every word survives somewhere.
        let all: String = chunks
            .iter()
            .map(|c| c.text.clone())
            .collect::<Vec<_>>()
            .join(" ");
        for w in &words {
            assert!(all.split_whitespace().any(|x| x == w), "{w} lost");
        }
    }

    #[test]
    fn heading_never_ends_a_chunk_and_path_is_in_header() {
        let para = "x ".repeat(20);
        let md = format!("# A\n\n{para}\n\n## B\n\n{para}");
        let chunks = chunk_markdown("T", &md, cfg(30, 0), &Words);
        assert_eq!(chunks.len(), 2, "{chunks:#?}");
        assert!(chunks[0].text.trim_end().ends_with('x'));
        assert!(
            chunks[1].text.starts_with("T > A\n\n## B"),
            "{}",
            chunks[1].text
        );
        assert_eq!(chunks[1].section.as_deref(), Some("A"));
    }

    #[test]
    fn empty_body_gives_title_chunk_and_nothing_gives_none() {
        assert_eq!(
            chunk_markdown("Only title", "", cfg(50, 0), &Words).len(),
            1
        );
        assert!(chunk_markdown("", "  \n", cfg(50, 0), &Words).is_empty());
    }
}
