//! Headline similarity: the parameters of the capped token index that proposes candidate pairs, and their Jaccard scores.
//!
//! Similarity is the plain Jaccard overlap of the two headlines' token sets. It depends on the
//! two articles only (no corpus statistics), so an arrival never re-scores other pairs; the
//! corpus enters only through the index cap: a token in more than `index_cap` live headlines
//! is too common to propose all its pairs (it still counts in the overlap), and proposes only
//! each headline's `band` nearest on either side in time, so that a story told in more
//! headlines than the cap is still linked, as a chain, through its own words.

/// Similarity parameters (see the README for how they were chosen).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimilarityConfig {
    /// Tokens in at most this many live headlines propose every pair of their headlines.
    pub index_cap: u64,
    /// A token in more live headlines than `index_cap` proposes only the pairs at most this
    /// many places apart in its headlines ordered by `(published_at, node)` (0: none).
    pub band: usize,
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
            band: 0,
            min_jaccard: 120_000,
            near_duplicate: 800_000,
            near_duplicate_min_tokens: 3,
        }
    }
}

/// Jaccard overlap of two sets of `la` and `lb` distinct tokens sharing `shared`, in
/// millionths (0 when both are empty).
pub fn jaccard_of_counts(la: usize, lb: usize, shared: usize) -> i64 {
    let union = la + lb - shared;
    if union == 0 {
        0
    } else {
        (shared as i64 * 1_000_000) / union as i64
    }
}

/// [`is_near_duplicate`] from the sizes of two sets of distinct tokens and how many they
/// share (equal sets: the same size, every token shared).
pub fn near_duplicate_of_counts(
    la: usize,
    lb: usize,
    shared: usize,
    j: i64,
    config: SimilarityConfig,
) -> bool {
    (la == lb && shared == la)
        || (la >= config.near_duplicate_min_tokens
            && lb >= config.near_duplicate_min_tokens
            && j >= config.near_duplicate)
}

/// Jaccard overlap of two sorted, distinct token lists, in millionths (0 when both are empty).
pub fn jaccard<W: Ord>(a: &[W], b: &[W]) -> i64 {
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
    jaccard_of_counts(a.len(), b.len(), shared)
}

/// Whether two token sets are near-duplicates.
pub fn is_near_duplicate<W: PartialEq>(a: &[W], b: &[W], j: i64, config: SimilarityConfig) -> bool {
    a == b
        || (a.len() >= config.near_duplicate_min_tokens
            && b.len() >= config.near_duplicate_min_tokens
            && j >= config.near_duplicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    /// The counts' forms agree with the lists' on every pair of small sets.
    #[test]
    fn counts_agree_with_lists() {
        let config = SimilarityConfig {
            near_duplicate: 600_000,
            near_duplicate_min_tokens: 2,
            ..SimilarityConfig::default()
        };
        let sets: Vec<Vec<u32>> = (0u32..64)
            .map(|bits| (0..6).filter(|i| bits & (1 << i) != 0).collect())
            .collect();
        for a in &sets {
            for b in &sets {
                let shared = a.iter().filter(|t| b.contains(t)).count();
                let j = jaccard(a, b);
                assert_eq!(jaccard_of_counts(a.len(), b.len(), shared), j);
                assert_eq!(
                    near_duplicate_of_counts(a.len(), b.len(), shared, j, config),
                    is_near_duplicate(a, b, j, config),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn jaccard_of_sorted_sets() {
        assert_eq!(jaccard(&v(&["a", "b", "c"]), &v(&["b", "c", "d"])), 500_000);
        assert_eq!(jaccard(&v(&[]), &v(&[])), 0);
        assert_eq!(jaccard(&v(&["a"]), &v(&["a"])), 1_000_000);
    }
}
