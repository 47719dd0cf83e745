//! The link graph: live documents as nodes, resolved links as undirected
//! weighted edges (A→B and B→A add up), unresolved targets kept and counted.

use std::collections::BTreeMap;

use serde::Serialize;
use tributary_core::Link;

use crate::corpus::CorpusDoc;
use crate::resolve::{Resolution, Resolver};

/// A link whose target names a document that is not in the corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedLink {
    pub from: String,
    pub kind: String,
    pub target: String,
}

#[derive(Debug, Default)]
pub struct LinkGraph {
    /// Document ids, sorted: node `i` is `nodes[i]`.
    pub nodes: Vec<String>,
    /// (i, j) with i < j → weight.
    pub edges: BTreeMap<(usize, usize), f64>,
    /// Links that reached another live document.
    pub resolved: usize,
    pub unresolved: Vec<UnresolvedLink>,
    /// Links to things that are not documents (external URLs, attachments).
    pub external: usize,
}

impl LinkGraph {
    /// Builds the graph of `docs` (live documents, any order). Confluence
    /// pages also link to their parent page (the last ancestor), so a page
    /// tree stays together even where no page links another.
    pub fn build(docs: &[CorpusDoc], resolver: &Resolver) -> LinkGraph {
        let mut sorted: Vec<&CorpusDoc> = docs.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        let nodes: Vec<String> = sorted.iter().map(|d| d.id.clone()).collect();
        let index: BTreeMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut graph = LinkGraph {
            nodes: nodes.clone(),
            ..LinkGraph::default()
        };
        for (from_index, doc) in sorted.iter().enumerate() {
            let mut links: Vec<Link> = doc.links.clone();
            if doc.kind == "confluence" {
                if let Some(parent) = doc.confluence_ancestors().pop() {
                    links.push(Link {
                        target: parent,
                        kind: "ancestor".into(),
                        alias: None,
                    });
                }
            }
            for link in &links {
                match resolver.resolve(doc, link) {
                    Resolution::Doc(id) => {
                        let Some(&to) = index.get(id.as_str()) else {
                            continue;
                        };
                        if to == from_index {
                            continue; // a note linking to itself
                        }
                        graph.resolved += 1;
                        let key = (from_index.min(to), from_index.max(to));
                        *graph.edges.entry(key).or_insert(0.0) += 1.0;
                    }
                    Resolution::Unresolved => graph.unresolved.push(UnresolvedLink {
                        from: doc.id.clone(),
                        kind: link.kind.clone(),
                        target: link.target.clone(),
                    }),
                    Resolution::External => graph.external += 1,
                }
            }
        }
        graph
    }

    /// Nodes with at least one edge.
    pub fn linked(&self) -> Vec<bool> {
        let mut linked = vec![false; self.nodes.len()];
        for &(i, j) in self.edges.keys() {
            linked[i] = true;
            linked[j] = true;
        }
        linked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::doc;

    #[test]
    fn edges_are_undirected_weighted_and_unresolved_targets_kept() {
        let docs = vec![
            doc("vault:n:b.md", "B", &[("wikilink", "a"), ("wikilink", "b")]),
            doc(
                "vault:n:a.md",
                "A",
                &[("wikilink", "b"), ("wikilink", "ghost")],
            ),
            doc("vault:n:c.md", "C", &[("url", "https://example.com")]),
            doc("confluence:x:2", "Root > Child", &[]),
            doc("confluence:x:1", "Root", &[]),
        ];
        let resolver = Resolver::new(&docs, &[]);
        let g = LinkGraph::build(&docs, &resolver);
        assert_eq!(
            g.nodes,
            [
                "confluence:x:1",
                "confluence:x:2",
                "vault:n:a.md",
                "vault:n:b.md",
                "vault:n:c.md"
            ]
        );
        assert_eq!(g.edges.get(&(2, 3)), Some(&2.0), "a→b and b→a");
        assert_eq!(g.edges.get(&(0, 1)), Some(&1.0), "child → parent page");
        assert_eq!(g.edges.len(), 2, "no self-loop for b→b");
        assert_eq!(g.resolved, 3);
        assert_eq!(g.external, 1);
        assert_eq!(
            g.unresolved,
            [UnresolvedLink {
                from: "vault:n:a.md".into(),
                kind: "wikilink".into(),
                target: "ghost".into()
            }]
        );
        assert_eq!(g.linked(), [true, true, true, true, false]);
    }
}
