//! Per-worker keyed state kept dense: the entries in one vector, found through a hash index of their positions.
//!
//! A hash map keeps its entries in its buckets, at most 7/8 full and as little as 7/16 after
//! it doubles, and every bucket is touched. Here the index holds 4 bytes per bucket and the
//! entries lie packed in a vector whose unused capacity is never written (so never resident):
//! for the replace rule's 72-byte entries that is about half the memory of a `HashMap`.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use crate::keyed::StateHasher;

/// A map from keys to state: insert, look up, remove (the last entry moves into the hole).
pub struct DenseMap<K, S> {
    entries: Vec<(K, S)>,
    index: HashTable<u32>,
    hasher: StateHasher,
}

impl<K, S> Default for DenseMap<K, S> {
    fn default() -> Self {
        DenseMap {
            entries: Vec::new(),
            index: HashTable::new(),
            hasher: StateHasher::default(),
        }
    }
}

impl<K: Hash + Eq, S> DenseMap<K, S> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn hash(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The position of `key`, whose hash is `hash`.
    fn position(&self, hash: u64, key: &K) -> Option<usize> {
        let entries = &self.entries;
        let i = self.index.find(hash, |&i| entries[i as usize].0 == *key)?;
        Some(*i as usize)
    }

    pub fn get(&self, key: &K) -> Option<&S> {
        let at = self.position(self.hash(key), key)?;
        Some(&self.entries[at].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut S> {
        let at = self.position(self.hash(key), key)?;
        Some(&mut self.entries[at].1)
    }

    /// Sets the state of `key`, returning the state it replaces.
    pub fn insert(&mut self, key: K, state: S) -> Option<S> {
        let hash = self.hash(&key);
        match self.position(hash, &key) {
            Some(at) => Some(std::mem::replace(&mut self.entries[at].1, state)),
            None => {
                self.insert_hashed(hash, key, state);
                None
            }
        }
    }

    /// The state of `key`, inserted as `S::default()` when absent.
    pub fn get_or_default(&mut self, key: K) -> &mut S
    where
        S: Default,
    {
        let hash = self.hash(&key);
        let at = match self.position(hash, &key) {
            Some(at) => at,
            None => {
                self.insert_hashed(hash, key, S::default());
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }

    /// Inserts `key`, which must not be present.
    pub fn insert_new(&mut self, key: K, state: S) {
        self.insert_hashed(self.hash(&key), key, state);
    }

    fn insert_hashed(&mut self, hash: u64, key: K, state: S) {
        let at = u32::try_from(self.entries.len()).expect("at most 2^32 keys per worker");
        debug_assert!(self.position(hash, &key).is_none());
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index
            .insert_unique(hash, at, |&i| hasher.hash_one(&entries[i as usize].0));
        self.entries.push((key, state));
    }

    /// Removes `key` and returns its state, if present.
    pub fn remove(&mut self, key: &K) -> Option<S> {
        self.remove_hashed(self.hash(key), key)
    }

    fn remove_hashed(&mut self, hash: u64, key: &K) -> Option<S> {
        let entries = &self.entries;
        let at = match self
            .index
            .find_entry(hash, |&i| entries[i as usize].0 == *key)
        {
            Ok(found) => found.remove().0 as usize,
            Err(_) => return None,
        };
        let last = self.entries.len() - 1;
        if at != last {
            // The last entry moves to `at`: its index slot follows it.
            let moved = self.hash(&self.entries[last].0);
            let slot = self
                .index
                .find_mut(moved, |&i| i as usize == last)
                .expect("every entry is indexed");
            *slot = at as u32;
        }
        Some(self.entries.swap_remove(at).1)
    }

    /// Applies `f` to the state of `key` (a new one, `S::default()`, when absent) and keeps
    /// it only if it differs from `empty`; the key is hashed once.
    pub fn update(&mut self, key: &K, empty: &S, f: impl FnOnce(&mut S))
    where
        K: Clone,
        S: Default + PartialEq,
    {
        let hash = self.hash(key);
        match self.position(hash, key) {
            Some(at) => {
                f(&mut self.entries[at].1);
                if self.entries[at].1 == *empty {
                    self.remove_hashed(hash, key);
                }
            }
            None => {
                let mut state = S::default();
                f(&mut state);
                if state != *empty {
                    self.insert_hashed(hash, key.clone(), state);
                }
            }
        }
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &S)> {
        self.entries.iter().map(|(k, s)| (k, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::HashMap;

    /// Random inserts, updates and removals agree with a `HashMap` at every step.
    #[test]
    fn agrees_with_a_hash_map() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut dense: DenseMap<u32, u64> = DenseMap::default();
        let mut plain: HashMap<u32, u64> = HashMap::new();
        for step in 0..200_000u64 {
            let key = rng.gen_range(0..5_000u32);
            match rng.gen_range(0..6) {
                5 => assert_eq!(dense.insert(key, step), plain.insert(key, step)),
                4 => {
                    *dense.get_or_default(key) += step;
                    *plain.entry(key).or_default() += step;
                }
                3 => {
                    // A state that comes out as 0 (the empty one) is dropped.
                    dense.update(&key, &0, |s| *s = (*s + step) % 4);
                    match (plain.get(&key).copied().unwrap_or(0) + step) % 4 {
                        0 => plain.remove(&key),
                        v => plain.insert(key, v),
                    };
                }
                0 => {
                    match dense.get_mut(&key) {
                        Some(s) => *s += step,
                        None => dense.insert_new(key, step),
                    }
                    *plain.entry(key).or_insert(0) += step;
                }
                1 => assert_eq!(dense.remove(&key), plain.remove(&key)),
                _ => assert_eq!(dense.get(&key), plain.get(&key)),
            }
            assert_eq!(dense.len(), plain.len());
        }
        let mut got: Vec<_> = dense.iter().map(|(k, s)| (*k, *s)).collect();
        let mut want: Vec<_> = plain.into_iter().collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
    }
}
