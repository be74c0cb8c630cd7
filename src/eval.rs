//! Clustering quality: pairwise and B-cubed precision/recall/F1 of predicted trends against gold story labels.

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

#[cfg(test)]
mod tests {
    use super::*;

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
