//! Query side: embed the query with the same model, ask the store, shape hits.

use std::sync::{Arc, LazyLock};

use regex::Regex;
use serde::Serialize;

use crate::embed::{EmbedError, Embedder};
use crate::store::{StoreError, VectorStore};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("embedding the query failed: {0}")]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every vector is "near" an empty query's: its hits would be arbitrary.
    #[error("the search query is empty; say what to look for")]
    EmptyQuery,
}

/// The query to embed, or [`SearchError::EmptyQuery`] when it has no words.
pub fn check_query(query: &str) -> Result<&str, SearchError> {
    if query.trim().is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    Ok(query)
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub score: f32,
    pub title: String,
    pub source: String,
    pub doc_id: String,
    /// URL when the source has one, else its path.
    pub location: Option<String>,
    pub chunk_index: usize,
    pub snippet: String,
}

const SNIPPET_CHARS: usize = 240;

static EMBED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!\[\[[^\]]*\]\]").expect("static regex"));
static WIKILINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[\[(?:[^\]|]*\|)?([^\]|]*)\]\]").expect("static regex"));

/// Chunk text without its header line, wikilink brackets and embeds, whitespace
/// collapsed, cut at a word: what a person wants to read in a result list.
pub fn snippet(chunk_text: &str) -> String {
    let body = chunk_text.split_once("\n\n").map_or(chunk_text, |(_, b)| b);
    let body = EMBED.replace_all(body, "");
    let body = WIKILINK.replace_all(&body, "$1");
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SNIPPET_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(SNIPPET_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

pub struct Searcher {
    pub embedder: Arc<dyn Embedder>,
    pub store: Arc<dyn VectorStore>,
}

impl Searcher {
    /// Best hits first; at most one hit per document (its best chunk).
    pub async fn search(
        &self,
        query: &str,
        source: Option<String>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let query = check_query(query)?;
        let mut vectors = self.embedder.embed(vec![query.to_string()]).await?;
        let Some(vector) = vectors.pop() else {
            return Ok(Vec::new());
        };
        // Over-fetch so that collapsing to one chunk per document still fills `limit`.
        let points = self
            .store
            .search(vector, source, limit.saturating_mul(4).max(limit))
            .await?;
        let mut seen = std::collections::HashSet::new();
        let mut hits = Vec::new();
        for p in points {
            if !seen.insert(p.payload.doc_id.clone()) {
                continue;
            }
            hits.push(SearchHit {
                score: p.score,
                title: p.payload.title.clone(),
                source: p.payload.source.clone(),
                doc_id: p.payload.doc_id.clone(),
                location: p.payload.url.clone().or(p.payload.path.clone()),
                chunk_index: p.payload.chunk_index,
                snippet: snippet(&p.payload.text),
            });
            if hits.len() == limit {
                break;
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::{check_query, snippet, SearchError};

    #[test]
    fn a_query_without_words_is_refused() {
        for blank in ["", "   ", "\t\n "] {
            assert!(
                matches!(check_query(blank), Err(SearchError::EmptyQuery)),
                "{blank:?}"
            );
        }
        assert_eq!(check_query(" pg failover ").ok(), Some(" pg failover "));
    }

    #[test]
    fn snippet_drops_header_and_cuts_at_a_word() {
        assert_eq!(
            snippet("Title > Sec\n\nsome   body\ntext"),
            "some body text"
        );
        let long = format!("T\n\n{}", "word ".repeat(100));
        let s = snippet(&long);
        assert!(s.ends_with('…') && s.chars().count() <= 241, "{s}");
    }
}
