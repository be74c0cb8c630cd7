//! Headline similarity: the parameters of the capped token index that proposes candidate pairs, and their Jaccard scores.
//!
//! Similarity is the plain Jaccard overlap of the two headlines' token sets. It depends on the
//! two articles only (no corpus statistics), so an arrival never re-scores other pairs; the
//! corpus enters only through the index cap: a token in more than `index_cap` live headlines
//! is too common to propose candidates (it still counts in the overlap).

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
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0
    } else {
        (shared as i64 * 1_000_000) / union as i64
    }
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

    #[test]
    fn jaccard_of_sorted_sets() {
        assert_eq!(jaccard(&v(&["a", "b", "c"]), &v(&["b", "c", "d"])), 500_000);
        assert_eq!(jaccard(&v(&[]), &v(&[])), 0);
        assert_eq!(jaccard(&v(&["a"]), &v(&["a"])), 1_000_000);
    }
}
