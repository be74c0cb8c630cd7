//! Sorted neighbour lists kept delta-encoded as LEB128 varints, allocated to size: about two bytes per edge instead of four plus a vector's spare capacity.
//!
//! A list is read front to back (votes, relabelling waves) far more often than it changes, and
//! it changes in batches (an epoch's new edges, the articles that left), so each change
//! decodes the list once and writes it again.

/// An article's place in the trend index.
type Slot = u32;

/// A strictly increasing list of slots: the first as is, then the gaps, each a LEB128 varint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Neighbours {
    bytes: Box<[u8]>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Neighbours {
    /// The list of `slots`, which must be strictly increasing.
    pub fn from_sorted(slots: &[Slot]) -> Neighbours {
        let mut bytes = Vec::with_capacity(slots.len() * 2);
        let mut prev = 0;
        for (i, &s) in slots.iter().enumerate() {
            debug_assert!(
                i == 0 || s > prev,
                "neighbour slots must be strictly increasing"
            );
            put_varint(&mut bytes, s - prev);
            prev = s;
        }
        Neighbours {
            bytes: bytes.into_boxed_slice(),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            bytes: &self.bytes,
            prev: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Number of slots (each varint ends in a byte without the high bit).
    pub fn len(&self) -> usize {
        self.bytes.iter().filter(|b| **b < 0x80).count()
    }

    /// Replaces `out`'s contents with the slots.
    pub fn decode_into(&self, out: &mut Vec<Slot>) {
        out.clear();
        out.extend(self.iter());
    }

    /// Whether `x` is in the list (reads up to the first slot ≥ `x`).
    pub fn contains(&self, x: Slot) -> bool {
        self.iter().find(|s| *s >= x) == Some(x)
    }

    /// Adds the slots of `add` (sorted; any already present are kept once). `scratch` is
    /// working space.
    pub fn insert_sorted(&mut self, add: &[Slot], scratch: &mut Vec<Slot>) {
        if add.is_empty() {
            return;
        }
        scratch.clear();
        let mut old = self.iter().peekable();
        let mut new = add.iter().copied().peekable();
        loop {
            let next = match (old.peek(), new.peek()) {
                (Some(&a), Some(&b)) if a < b => old.next(),
                (Some(&a), Some(&b)) if a > b => new.next(),
                (Some(_), Some(_)) => {
                    new.next();
                    old.next()
                }
                (Some(_), None) => old.next(),
                (None, Some(_)) => new.next(),
                (None, None) => break,
            };
            if let Some(s) = next {
                if scratch.last() != Some(&s) {
                    scratch.push(s);
                }
            }
        }
        *self = Neighbours::from_sorted(scratch);
    }

    /// Keeps the slots for which `keep` holds; returns whether any was dropped. `scratch` is
    /// working space.
    pub fn retain(&mut self, mut keep: impl FnMut(Slot) -> bool, scratch: &mut Vec<Slot>) -> bool {
        scratch.clear();
        let mut dropped = false;
        for s in self.iter() {
            if keep(s) {
                scratch.push(s);
            } else {
                dropped = true;
            }
        }
        if dropped {
            *self = Neighbours::from_sorted(scratch);
        }
        dropped
    }
}

/// The slots of a [`Neighbours`] list, in order.
pub struct Iter<'a> {
    bytes: &'a [u8],
    prev: Slot,
}

impl Iterator for Iter<'_> {
    type Item = Slot;

    #[inline]
    fn next(&mut self) -> Option<Slot> {
        let (&first, rest) = self.bytes.split_first()?;
        let mut v = u32::from(first & 0x7f);
        self.bytes = rest;
        if first >= 0x80 {
            let mut shift = 7;
            loop {
                let (&b, rest) = self.bytes.split_first()?;
                self.bytes = rest;
                v |= u32::from(b & 0x7f) << shift;
                if b < 0x80 {
                    break;
                }
                shift += 7;
            }
        }
        self.prev += v;
        Some(self.prev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A small deterministic generator (xorshift) so that the test needs no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn round_trips_edges_of_every_width() {
        let slots = [
            0,
            1,
            127,
            128,
            129,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            u32::MAX,
        ];
        let list = Neighbours::from_sorted(&slots);
        assert_eq!(list.iter().collect::<Vec<_>>(), slots);
        assert_eq!(list.len(), slots.len());
        for s in slots {
            assert!(list.contains(s));
        }
        assert!(!list.contains(2));
        assert!(!list.contains(u32::MAX - 1));
        assert!(Neighbours::default().is_empty());
        assert_eq!(Neighbours::default().iter().count(), 0);
    }

    #[test]
    fn agrees_with_a_set_under_inserts_and_removals() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut list = Neighbours::default();
        let mut set = BTreeSet::new();
        let mut scratch = Vec::new();
        for step in 0..5_000 {
            // Slots from a range that makes gaps of one to three bytes.
            let span = [200u64, 40_000, 3_000_000][step % 3];
            if rng.next() % 3 != 0 {
                let mut add: Vec<Slot> = (0..rng.next() % 6)
                    .map(|_| (rng.next() % span) as Slot)
                    .collect();
                add.sort_unstable();
                list.insert_sorted(&add, &mut scratch);
                set.extend(add);
            } else {
                let cut = (rng.next() % span) as Slot;
                let dropped = list.retain(|s| s % 7 != cut % 7 || s < cut, &mut scratch);
                let before = set.len();
                set.retain(|s| s % 7 != cut % 7 || *s < cut);
                assert_eq!(dropped, set.len() != before);
            }
            assert_eq!(
                list.iter().collect::<Vec<_>>(),
                set.iter().copied().collect::<Vec<_>>()
            );
            assert_eq!(list.len(), set.len());
            let probe = (rng.next() % span) as Slot;
            assert_eq!(list.contains(probe), set.contains(&probe));
        }
    }
}
