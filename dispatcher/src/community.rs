//! Communities: Louvain over the linked documents; documents without a
//! single resolved link grouped by their source container (Jira project,
//! Confluence space, vault folder), so nothing is dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::corpus::CorpusDoc;
use crate::graph::LinkGraph;
use crate::louvain::louvain;

/// How a community was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    /// Found by community detection (Louvain) over resolved links.
    Links,
    /// Documents without any resolved link, grouped by source container
    /// (Jira project, Confluence space, vault folder).
    Container,
}

impl Grouping {
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Links => "links",
            Grouping::Container => "container",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    /// Member document ids, sorted.
    pub members: Vec<String>,
    pub grouping: Grouping,
    /// Weight of the links between members.
    pub internal_links: f64,
}

/// Communities of the graph, ordered by their smallest member id.
pub fn detect(graph: &LinkGraph, docs: &[CorpusDoc], resolution: f64) -> Vec<Community> {
    let linked = graph.linked();
    // Louvain over the linked nodes only, re-indexed in id order.
    let linked_nodes: Vec<usize> = (0..graph.nodes.len()).filter(|&i| linked[i]).collect();
    let local: BTreeMap<usize, usize> = linked_nodes
        .iter()
        .enumerate()
        .map(|(local, &global)| (global, local))
        .collect();
    let edges: Vec<(usize, usize, f64)> = graph
        .edges
        .iter()
        .filter_map(|(&(i, j), &w)| Some((*local.get(&i)?, *local.get(&j)?, w)))
        .collect();
    let labels = louvain(linked_nodes.len(), &edges, resolution);
    let mut by_label: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (local_index, &global) in linked_nodes.iter().enumerate() {
        by_label
            .entry(labels[local_index])
            .or_default()
            .push(graph.nodes[global].clone());
    }
    let mut out: Vec<Community> = by_label
        .into_values()
        .map(|members| Community {
            members,
            grouping: Grouping::Links,
            internal_links: 0.0,
        })
        .collect();

    let containers: BTreeMap<&str, String> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.container()))
        .collect();
    let mut by_container: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, id) in graph.nodes.iter().enumerate() {
        if !linked[i] {
            let container = containers
                .get(id.as_str())
                .cloned()
                .unwrap_or_else(|| id.clone());
            by_container.entry(container).or_default().push(id.clone());
        }
    }
    out.extend(by_container.into_values().map(|members| Community {
        members,
        grouping: Grouping::Container,
        internal_links: 0.0,
    }));

    // Internal link weight, for the report.
    let mut community_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (c, community) in out.iter().enumerate() {
        for m in &community.members {
            community_of.insert(m.as_str(), c);
        }
    }
    let mut internal = vec![0.0; out.len()];
    for (&(i, j), &w) in &graph.edges {
        let ci = community_of.get(graph.nodes[i].as_str());
        if ci.is_some() && ci == community_of.get(graph.nodes[j].as_str()) {
            if let Some(&c) = ci {
                internal[c] += w;
            }
        }
    }
    for (community, w) in out.iter_mut().zip(internal) {
        community.members.sort();
        community.internal_links = w;
    }
    out.sort_by(|a, b| a.members.first().cmp(&b.members.first()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::doc;
    use crate::resolve::Resolver;

    #[test]
    fn linked_clusters_and_unlinked_containers() {
        let docs = vec![
            doc(
                "vault:n:ops/a.md",
                "A",
                &[("wikilink", "b"), ("wikilink", "c")],
            ),
            doc("vault:n:ops/b.md", "B", &[("wikilink", "c")]),
            doc("vault:n:ops/c.md", "C", &[]),
            doc(
                "vault:n:dev/x.md",
                "X",
                &[("wikilink", "y"), ("wikilink", "z")],
            ),
            doc("vault:n:dev/y.md", "Y", &[("wikilink", "z")]),
            doc("vault:n:dev/z.md", "Z", &[]),
            doc("vault:n:dev/lonely.md", "Lonely", &[]),
            doc("vault:n:dev/alone.md", "Alone", &[("wikilink", "nowhere")]),
            doc("jira:j:OPS-1", "Unlinked issue", &[]),
            doc("jira:j:OPS-2", "Another", &[]),
        ];
        let graph = LinkGraph::build(&docs, &Resolver::new(&docs, &[]));
        let communities = detect(&graph, &docs, 1.0);
        let members: Vec<Vec<&str>> = communities
            .iter()
            .map(|c| c.members.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            members,
            vec![
                vec!["jira:j:OPS-1", "jira:j:OPS-2"],
                vec!["vault:n:dev/alone.md", "vault:n:dev/lonely.md"],
                vec!["vault:n:dev/x.md", "vault:n:dev/y.md", "vault:n:dev/z.md"],
                vec!["vault:n:ops/a.md", "vault:n:ops/b.md", "vault:n:ops/c.md"],
            ]
        );
        assert_eq!(communities[0].grouping, Grouping::Container);
        assert_eq!(communities[2].grouping, Grouping::Links);
        assert_eq!(communities[2].internal_links, 3.0);
        let total: usize = communities.iter().map(|c| c.members.len()).sum();
        assert_eq!(total, docs.len(), "nothing is dropped");
    }
}
