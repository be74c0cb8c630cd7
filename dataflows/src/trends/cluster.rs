//! The clustering rule: bounded synchronous label propagation over the similarity graph; near-duplicate groups by connected components.

use differential_dataflow::algorithms::graphs::propagate::propagate;
use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::iterate::Variable;
use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::operators::vec::Filter;
use timely::order::Product;
use timely::progress::Timestamp;

use super::similarity::Edge;
use super::Node;
use crate::event::TimestampMs;

/// A cluster label: the `(published_at, node)` of the article it started from; smaller wins ties.
pub type Label = (TimestampMs, Node);

/// Clustering parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterConfig {
    /// Rounds of label propagation. Propagation need not converge (it can oscillate), so it
    /// always runs exactly this many rounds; most inputs reach a fixed point well before.
    pub rounds: u32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig { rounds: 20 }
    }
}

/// One round's choice for a node, from the labels voted for it (its own once, and each
/// neighbour's once): the most voted label, ties to the smallest.
pub fn vote<'a>(votes: impl Iterator<Item = (&'a Label, isize)>) -> Option<Label> {
    let mut best: Option<(Label, isize)> = None;
    for (label, n) in votes {
        if n > 0 && best.is_none_or(|(l, c)| n > c || (n == c && *label < l)) {
            best = Some((*label, n));
        }
    }
    best.map(|(l, _)| l)
}

/// Synchronous label propagation: every node starts with its own label; in each round every
/// node takes the label most voted among its own and its neighbours' (ties → smallest). After
/// `rounds` rounds each node's label names its cluster.
pub fn cluster<'scope, T>(
    nodes: VecCollection<'scope, T, (Node, TimestampMs)>,
    edges: VecCollection<'scope, T, Edge>,
    config: ClusterConfig,
) -> VecCollection<'scope, T, (Node, Label)>
where
    T: Timestamp + Lattice + Ord,
{
    let rounds = config.rounds.max(1);
    let initial = nodes.map(|(n, ts)| (n, (ts, n)));
    let both_ways = edges.flat_map(|e| [(e.a, e.b), (e.b, e.a)]);
    let outer = initial.inner.scope();
    outer.scoped::<Product<T, u32>, _, _>("LabelPropagation", |scope| {
        let edges = both_ways.enter(scope);
        let initial = initial.enter(scope);
        // The variable holds how round i's labels differ from the initial ones.
        let (variable, delta) = Variable::new(scope, Product::new(Default::default(), 1));
        let labels = initial.clone().concat(delta);
        let next = labels
            .clone()
            .join_map(edges, |_n, label, m| (*m, *label))
            .concat(labels)
            .reduce(|_node, input, output| {
                if let Some(label) = vote(input.iter().map(|(l, n)| (*l, *n))) {
                    output.push((label, 1));
                }
            });
        // Round i's result becomes round i + 1's labels only while rounds remain; after
        // that the labels stay as they are and the loop has nothing left to do.
        let fed_back = next
            .clone()
            .concat(initial.negate())
            .inner
            .filter(move |(_, t, _)| t.inner + 1 < rounds)
            .as_collection();
        variable.set(fed_back);
        next.leave(outer)
    })
}

/// Near-duplicate groups: connected components of the near-duplicate edges, each node
/// labelled with the smallest node of its group.
pub fn near_duplicates<'scope, T>(
    nodes: VecCollection<'scope, T, Node>,
    edges: VecCollection<'scope, T, Edge>,
) -> VecCollection<'scope, T, (Node, Node)>
where
    T: Timestamp + Lattice + Ord + std::hash::Hash,
{
    let dup = edges
        .filter(|e| e.near_duplicate)
        .flat_map(|e| [(e.a, e.b), (e.b, e.a)]);
    propagate(dup, nodes.map(|n| (n, n)))
}
