//! Headline similarity: the capped token index that proposes candidate pairs, and their Jaccard scores.
//!
//! Similarity is the plain Jaccard overlap of the two headlines' token sets. It depends on the
//! two articles only (no corpus statistics), so an arrival never re-scores other pairs; the
//! corpus enters only through the index cap: a token in more than `index_cap` live headlines
//! is too common to propose candidates (it still counts in the overlap).

use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::CountTotal;
use differential_dataflow::VecCollection;
use serde::{Deserialize, Serialize};
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use super::Node;

/// Similarity parameters (see the README for how they were chosen).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimilarityConfig {
    /// Tokens in more live headlines than this propose no candidate pairs.
    pub index_cap: u64,
    /// Smallest Jaccard overlap for an edge, in millionths.
    pub min_jaccard: i64,
    /// Smallest Jaccard overlap for two articles to be near-duplicates, in millionths.
    pub near_duplicate: i64,
    /// Near-duplicates by overlap need at least this many tokens on both sides (identical token
    /// sets are near-duplicates whatever their size).
    pub near_duplicate_min_tokens: usize,
}

impl Default for SimilarityConfig {
    fn default() -> Self {
        SimilarityConfig {
            index_cap: 300,
            min_jaccard: 120_000,
            near_duplicate: 800_000,
            near_duplicate_min_tokens: 3,
        }
    }
}

/// Jaccard overlap of two sorted, distinct token lists, in millionths (0 when both are empty).
pub fn jaccard(a: &[String], b: &[String]) -> i64 {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0
    } else {
        (shared as i64 * 1_000_000) / union as i64
    }
}

/// An edge between two articles (`a < b`) whose headlines overlap enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Edge {
    pub a: Node,
    pub b: Node,
    pub jaccard: i64,
    /// Whether the two are near-duplicates (see [`SimilarityConfig`]).
    pub near_duplicate: bool,
}

/// Whether two token sets are near-duplicates.
pub fn is_near_duplicate(a: &[String], b: &[String], j: i64, config: SimilarityConfig) -> bool {
    a == b
        || (a.len() >= config.near_duplicate_min_tokens
            && b.len() >= config.near_duplicate_min_tokens
            && j >= config.near_duplicate)
}

/// From each live article's token set, the edges of the similarity graph.
pub fn edges<'scope, T>(
    tokens: VecCollection<'scope, T, (Node, Vec<String>)>,
    config: SimilarityConfig,
) -> VecCollection<'scope, T, Edge>
where
    T: Timestamp + Lattice + TotalOrder + Ord,
{
    let postings = tokens
        .clone()
        .flat_map(|(n, ts)| ts.into_iter().map(move |t| (t, n)));
    let cap = config.index_cap;
    let common = postings
        .clone()
        .map(|(t, _)| t)
        .count_total()
        .filter(move |(_, df)| *df as u64 > cap)
        .map(|(t, _)| t);
    let indexed = postings.antijoin(common);
    let candidates = indexed
        .clone()
        .join_map(indexed, |_t, a, b| (*a, *b))
        .filter(|(a, b)| a < b)
        .distinct();
    candidates
        .join_map(tokens.clone(), |a, b, ta| (*b, (*a, ta.clone())))
        .join_map(tokens, move |b, (a, ta), tb| {
            let j = jaccard(ta, tb);
            Edge {
                a: *a,
                b: *b,
                jaccard: j,
                near_duplicate: is_near_duplicate(ta, tb, j, config),
            }
        })
        .filter(move |e| e.jaccard >= config.min_jaccard || e.near_duplicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn jaccard_of_sorted_sets() {
        assert_eq!(jaccard(&v(&["a", "b", "c"]), &v(&["b", "c", "d"])), 500_000);
        assert_eq!(jaccard(&v(&[]), &v(&[])), 0);
        assert_eq!(jaccard(&v(&["a"]), &v(&["a"])), 1_000_000);
    }
}
