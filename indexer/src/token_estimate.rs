//! An approximate token counter for when the embedding model's tokenizer is
//! not on disk (an HTTP embedder whose model lives on another machine).
//!
//! Rule: every whitespace-separated word costs one token per started run of
//! four characters (so "a" is 1, "tokenizer" is 3). Subword tokenizers for
//! English average a little under 4 characters per token, so this slightly
//! over-counts, which keeps chunks under the server's input limit rather
//! than over it. Spans follow the same rule, so `count` always equals the
//! number of spans and the chunker can cut at these boundaries.

use crate::chunk::TokenCounter;

/// Characters per estimated token.
const CHARS_PER_TOKEN: usize = 4;

#[derive(Debug, Clone, Copy, Default)]
pub struct EstimatedTokens;

impl TokenCounter for EstimatedTokens {
    fn count(&self, text: &str) -> usize {
        text.split_whitespace()
            .map(|w| w.chars().count().div_ceil(CHARS_PER_TOKEN))
            .sum()
    }

    fn token_spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut word_start: Option<usize> = None;
        let mut chars_in_span = 0;
        for (i, c) in text.char_indices() {
            if c.is_whitespace() {
                if let Some(start) = word_start.take() {
                    spans.push((start, i));
                }
                continue;
            }
            match word_start {
                Some(start) if chars_in_span == CHARS_PER_TOKEN => {
                    spans.push((start, i));
                    word_start = Some(i);
                    chars_in_span = 1;
                }
                Some(_) => chars_in_span += 1,
                None => {
                    word_start = Some(i);
                    chars_in_span = 1;
                }
            }
        }
        if let Some(start) = word_start {
            spans.push((start, text.len()));
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_one_token_per_started_four_characters() {
        assert_eq!(EstimatedTokens.count(""), 0);
        assert_eq!(EstimatedTokens.count("a tokenizer  héllo"), 1 + 3 + 2);
    }

    #[test]
    fn spans_agree_with_count_and_cover_words() {
        let text = "a tokenizer\nhéllo";
        let spans = EstimatedTokens.token_spans(text);
        assert_eq!(spans.len(), EstimatedTokens.count(text));
        let pieces: Vec<&str> = spans.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(pieces, ["a", "toke", "nize", "r", "héll", "o"]);
    }
}
