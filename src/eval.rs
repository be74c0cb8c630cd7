//! Clustering quality: pairwise and B-cubed precision/recall/F1 of predicted trends against gold story labels, and how often headline pairs make an edge within and across stories.

use std::collections::HashMap;
use std::hash::Hash;

/// Precision, recall and their harmonic mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Prf {
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// Scores of one clustering.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    pub bcubed: Prf,
    pub pairwise: Prf,
    pub items: usize,
    pub clusters: usize,
    pub labels: usize,
}

/// Compares `(predicted cluster, gold label)` per item.
pub fn score<C: Hash + Eq + Clone, L: Hash + Eq + Clone>(items: &[(C, L)]) -> Scores {
    let mut cluster_size: HashMap<&C, u64> = HashMap::new();
    let mut label_size: HashMap<&L, u64> = HashMap::new();
    let mut both: HashMap<(&C, &L), u64> = HashMap::new();
    for (c, l) in items {
        *cluster_size.entry(c).or_insert(0) += 1;
        *label_size.entry(l).or_insert(0) += 1;
        *both.entry((c, l)).or_insert(0) += 1;
    }
    let n = items.len() as f64;
    // B-cubed: every item in cell (c, l) has precision |c∩l|/|c| and recall |c∩l|/|l|.
    let (mut p, mut r) = (0.0, 0.0);
    for ((c, l), k) in &both {
        let k = *k as f64;
        p += k * k / cluster_size[c] as f64;
        r += k * k / label_size[l] as f64;
    }
    let pairs = |k: u64| (k * k.saturating_sub(1) / 2) as f64;
    let same_both: f64 = both.values().map(|k| pairs(*k)).sum();
    let same_cluster: f64 = cluster_size.values().map(|k| pairs(*k)).sum();
    let same_label: f64 = label_size.values().map(|k| pairs(*k)).sum();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    Scores {
        bcubed: if n > 0.0 {
            Prf::new(p / n, r / n)
        } else {
            Prf::new(0.0, 0.0)
        },
        pairwise: Prf::new(ratio(same_both, same_cluster), ratio(same_both, same_label)),
        items: items.len(),
        clusters: cluster_size.len(),
        labels: label_size.len(),
    }
}

/// How often two headlines are similar enough for an edge (Jaccard ≥ the threshold), counted
/// separately for pairs of the same story and pairs of different stories.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EdgeRates {
    pub same_edges: u64,
    pub same_pairs: u64,
    pub different_edges: u64,
    pub different_pairs: u64,
}

impl EdgeRates {
    pub fn same(&self) -> f64 {
        self.same_edges as f64 / self.same_pairs.max(1) as f64
    }

    pub fn different(&self) -> f64 {
        self.different_edges as f64 / self.different_pairs.max(1) as f64
    }
}

/// The number of unordered pairs of `n` items. [`edge_rates`] samples exactly when there are
/// more than its `samples`, so it counted fewer pairs than this.
pub fn all_pairs(n: usize) -> u64 {
    let n = n as u64;
    n * n.saturating_sub(1) / 2
}

/// Edge rates over `(story, sorted distinct features)` items: every pair when there are at
/// most `samples` pairs, otherwise `samples` pairs drawn uniformly (with a fixed seed, so the
/// figure is the same on every run). Data with far more edges across stories than real
/// headlines have will cluster worse whatever the method does.
pub fn edge_rates<L: Eq>(items: &[(L, Vec<String>)], min_jaccard: i64, samples: u64) -> EdgeRates {
    let mut rates = EdgeRates::default();
    let mut count = |a: &(L, Vec<String>), b: &(L, Vec<String>)| {
        let edge = u64::from(dataflows::trends::similarity::jaccard(&a.1, &b.1) >= min_jaccard);
        if a.0 == b.0 {
            rates.same_pairs += 1;
            rates.same_edges += edge;
        } else {
            rates.different_pairs += 1;
            rates.different_edges += edge;
        }
    };
    let n = items.len() as u64;
    if all_pairs(items.len()) <= samples {
        for (i, a) in items.iter().enumerate() {
            for b in &items[i + 1..] {
                count(a, b);
            }
        }
    } else {
        // SplitMix64 (the generator's mixer over a counter).
        let mut state = crate::gen::GOLDEN;
        let mut next = move || {
            state = state.wrapping_add(crate::gen::GOLDEN);
            crate::gen::mix64(state)
        };
        let mut drawn = 0;
        while drawn < samples {
            let (i, j) = (next() % n, next() % n);
            if i != j {
                count(&items[i as usize], &items[j as usize]);
                drawn += 1;
            }
        }
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headlines(items: &[(char, &str)]) -> Vec<(char, Vec<String>)> {
        items
            .iter()
            .map(|(l, t)| (*l, dataflows::trends::text::features(t)))
            .collect()
    }

    #[test]
    fn edge_rates_count_within_and_across_stories() {
        let items = headlines(&[
            ('a', "Acme recalls cars over brakes"),
            ('a', "Acme car recall widens over brakes"),
            ('a', "Senate hearing on budget"),
            ('b', "Storm hits coast"),
            ('b', "Storm batters coast towns"),
        ]);
        // Exact: 4 same-story pairs (3 in a, 1 in b), 6 across; edges: the two Acme headlines,
        // the two storm headlines; none across.
        let exact = edge_rates(&items, 120_000, 1_000);
        assert_eq!(
            exact,
            EdgeRates {
                same_edges: 2,
                same_pairs: 4,
                different_edges: 0,
                different_pairs: 6,
            }
        );
        assert_eq!(exact.same(), 0.5);
        // Sampled (fewer samples than pairs): every drawn pair is counted once, on its side,
        // and the same seed draws the same pairs.
        let sampled = edge_rates(&items, 120_000, 7);
        assert_eq!(sampled.same_pairs + sampled.different_pairs, 7);
        assert_eq!(sampled.different_edges, 0);
        assert!(sampled.same_edges <= sampled.same_pairs);
        assert_eq!(sampled, edge_rates(&items, 120_000, 7));
        // A threshold above every pair's overlap: no edges at all.
        assert_eq!(edge_rates(&items, 1_000_001, 1_000).same_edges, 0);
    }

    #[test]
    fn perfect_and_split_and_lumped() {
        let perfect = score(&[(1, 'a'), (1, 'a'), (2, 'b')]);
        assert_eq!(perfect.bcubed.f1, 1.0);
        assert_eq!(perfect.pairwise.f1, 1.0);
        // Every item alone: precision 1, recall = mean of 1/|label|.
        let split = score(&[(1, 'a'), (2, 'a'), (3, 'b')]);
        assert_eq!(split.bcubed.precision, 1.0);
        assert!((split.bcubed.recall - (0.5 + 0.5 + 1.0) / 3.0).abs() < 1e-12);
        assert_eq!(split.pairwise.recall, 0.0);
        // Everything in one cluster: recall 1.
        let lumped = score(&[(1, 'a'), (1, 'a'), (1, 'b')]);
        assert_eq!(lumped.bcubed.recall, 1.0);
        assert!((lumped.bcubed.precision - 5.0 / 9.0).abs() < 1e-12);
        assert!((lumped.pairwise.precision - 1.0 / 3.0).abs() < 1e-12);
    }
}
