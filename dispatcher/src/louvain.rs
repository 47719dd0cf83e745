//! A small deterministic Louvain (Blondel et al. 2008) for undirected
//! weighted graphs.
//!
//! Written here rather than taken from a crate: the graph crates that offer
//! Louvain or Leiden shuffle the node order with a random generator or pull
//! in a whole graph library; the dispatcher needs the same partition for the
//! same graph on every run, and a few hundred lines of dependencies less.
//!
//! Determinism: nodes are visited in index order (the caller sorts them by
//! document id); a node moves only to a strictly better community, ties
//! going to its current community and then to the lowest community index;
//! communities are numbered by their lowest node. No randomness anywhere.

use std::collections::BTreeMap;

/// Improvements smaller than this are rounding noise, not a better partition.
const EPSILON: f64 = 1e-12;
/// Bounds on the passes per level and the levels; a partition converges in a
/// handful of each, the caps only guard against oscillation.
const MAX_PASSES: usize = 100;
const MAX_LEVELS: usize = 32;

/// One level: adjacency without self-loops, plus each node's internal weight.
struct Level {
    adj: Vec<Vec<(usize, f64)>>,
    internal: Vec<f64>,
}

impl Level {
    fn degree(&self, i: usize) -> f64 {
        self.adj[i].iter().map(|(_, w)| w).sum::<f64>() + 2.0 * self.internal[i]
    }
}

/// Community label of every node (`0..n`), for the graph with `n` nodes and
/// undirected `edges` (i, j, weight; i != j, each pair once). Higher
/// `resolution` favours smaller communities.
pub fn louvain(n: usize, edges: &[(usize, usize, f64)], resolution: f64) -> Vec<usize> {
    let mut adj = vec![Vec::new(); n];
    for &(i, j, w) in edges {
        if i != j && i < n && j < n && w > 0.0 {
            adj[i].push((j, w));
            adj[j].push((i, w));
        }
    }
    let mut level = Level {
        adj,
        internal: vec![0.0; n],
    };
    // membership[node] = the node of the current level holding it
    let mut membership: Vec<usize> = (0..n).collect();
    for _ in 0..MAX_LEVELS {
        let size = level.adj.len();
        let communities = local_moves(&level, resolution);
        let count = communities.iter().max().map_or(0, |m| m + 1);
        if count == size {
            break; // nobody moved: this level is the answer
        }
        for m in &mut membership {
            *m = communities[*m];
        }
        level = aggregate(&level, &communities, count);
    }
    renumber(&membership)
}

/// Phase one: move nodes between neighbouring communities while modularity
/// improves. Returns communities numbered by first node.
fn local_moves(level: &Level, resolution: f64) -> Vec<usize> {
    let n = level.adj.len();
    let degrees: Vec<f64> = (0..n).map(|i| level.degree(i)).collect();
    let two_m: f64 = degrees.iter().sum();
    let mut community: Vec<usize> = (0..n).collect();
    if two_m <= 0.0 {
        return community;
    }
    let mut total: Vec<f64> = degrees.clone();
    for _ in 0..MAX_PASSES {
        let mut moved = false;
        for i in 0..n {
            let current = community[i];
            let k_i = degrees[i];
            let mut links_to: BTreeMap<usize, f64> = BTreeMap::new();
            for &(j, w) in &level.adj[i] {
                *links_to.entry(community[j]).or_insert(0.0) += w;
            }
            total[current] -= k_i;
            let gain = |c: usize, w: f64| w - resolution * total[c] * k_i / two_m;
            let mut best = current;
            let mut best_gain = gain(current, links_to.get(&current).copied().unwrap_or(0.0));
            for (&c, &w) in &links_to {
                let g = gain(c, w);
                if g > best_gain + EPSILON {
                    best = c;
                    best_gain = g;
                }
            }
            total[best] += k_i;
            if best != current {
                community[i] = best;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    renumber(&community)
}

/// Phase two: one node per community; edges between communities add up,
/// edges inside one become its internal weight.
fn aggregate(level: &Level, community: &[usize], count: usize) -> Level {
    let mut internal = vec![0.0; count];
    let mut between: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); count];
    for (i, neighbours) in level.adj.iter().enumerate() {
        let ci = community[i];
        internal[ci] += level.internal[i];
        for &(j, w) in neighbours {
            let cj = community[j];
            if ci == cj {
                internal[ci] += w / 2.0; // each edge is seen from both ends
            } else {
                *between[ci].entry(cj).or_insert(0.0) += w;
            }
        }
    }
    Level {
        adj: between
            .into_iter()
            .map(|m| m.into_iter().collect())
            .collect(),
        internal,
    }
}

/// Labels renumbered 0, 1, 2... in order of their first node.
fn renumber(labels: &[usize]) -> Vec<usize> {
    let mut map = BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            let next = map.len();
            *map.entry(*l).or_insert(next)
        })
        .collect()
}

/// Modularity of a partition (for tests and logs).
pub fn modularity(
    n: usize,
    edges: &[(usize, usize, f64)],
    labels: &[usize],
    resolution: f64,
) -> f64 {
    let mut degree = vec![0.0; n];
    let mut two_m = 0.0;
    for &(i, j, w) in edges {
        degree[i] += w;
        degree[j] += w;
        two_m += 2.0 * w;
    }
    if two_m == 0.0 {
        return 0.0;
    }
    let mut inside: BTreeMap<usize, f64> = BTreeMap::new();
    let mut total: BTreeMap<usize, f64> = BTreeMap::new();
    for &(i, j, w) in edges {
        if labels[i] == labels[j] {
            *inside.entry(labels[i]).or_insert(0.0) += 2.0 * w;
        }
    }
    for (i, d) in degree.iter().enumerate() {
        *total.entry(labels[i]).or_insert(0.0) += d;
    }
    total
        .iter()
        .map(|(c, t)| {
            inside.get(c).copied().unwrap_or(0.0) / two_m - resolution * (t / two_m).powi(2)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clique(nodes: &[usize]) -> Vec<(usize, usize, f64)> {
        let mut edges = Vec::new();
        for (a, &i) in nodes.iter().enumerate() {
            for &j in &nodes[a + 1..] {
                edges.push((i, j, 1.0));
            }
        }
        edges
    }

    #[test]
    fn two_cliques_joined_by_a_bridge_are_two_communities() {
        let mut edges = clique(&[0, 1, 2, 3]);
        edges.extend(clique(&[4, 5, 6, 7]));
        edges.push((3, 4, 1.0));
        let labels = louvain(8, &edges, 1.0);
        assert_eq!(labels, [0, 0, 0, 0, 1, 1, 1, 1]);
        assert!(modularity(8, &edges, &labels, 1.0) > 0.35);
    }

    #[test]
    fn disconnected_parts_never_merge_and_isolated_nodes_stay_alone() {
        let edges = vec![(0, 1, 1.0), (2, 3, 1.0)];
        assert_eq!(louvain(5, &edges, 1.0), [0, 0, 1, 1, 2]);
        assert_eq!(louvain(3, &[], 1.0), [0, 1, 2]);
        assert!(louvain(0, &[], 1.0).is_empty());
    }

    #[test]
    fn the_same_graph_always_gives_the_same_partition() {
        // A ring of 5 triangles: many near-equal choices, one answer.
        let mut edges = Vec::new();
        for t in 0..5 {
            let b = t * 3;
            edges.extend(clique(&[b, b + 1, b + 2]));
            edges.push((b + 2, (b + 3) % 15, 1.0));
        }
        let first = louvain(15, &edges, 1.0);
        for _ in 0..10 {
            assert_eq!(louvain(15, &edges, 1.0), first);
        }
        let mut reversed = edges.clone();
        reversed.reverse();
        assert_eq!(
            louvain(15, &reversed, 1.0),
            first,
            "edge order does not matter"
        );
        // Every triangle stays whole.
        for t in 0..5 {
            assert_eq!(first[t * 3], first[t * 3 + 1]);
            assert_eq!(first[t * 3], first[t * 3 + 2]);
        }
    }

    #[test]
    fn heavier_edges_pull_harder() {
        // 1 is tied to 0 by weight 5 and to 2 by weight 1; 2-3 weight 5.
        let edges = vec![(0, 1, 5.0), (1, 2, 1.0), (2, 3, 5.0)];
        assert_eq!(louvain(4, &edges, 1.0), [0, 0, 1, 1]);
    }
}
