//! Sorted neighbour lists kept delta-encoded as LEB128 varints, every slot's list packed in one buffer: about two bytes per edge instead of four plus a vector's spare capacity.
//!
//! A list is read front to back (votes, relabelling waves) far more often than it changes, and
//! it changes in batches (an epoch's new edges, the articles that left), so each change
//! writes the list again once, copying its bytes as they are between the places where slots
//! go in or out.

use super::packed::Packed;

/// An article's place in the trend index.
type Slot = u32;

/// A strictly increasing list of slots: the first as is, then the gaps, each a LEB128 varint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Neighbours<'a> {
    bytes: &'a [u8],
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The varint at the start of `bytes` (not empty) and its width in bytes.
///
/// One and two bytes are told apart without a branch: in a window of 100,000 slots the gaps
/// between neighbours are a few hundred on average, so the two widths come mixed, and a branch
/// on the width would be mispredicted on a good share of the slots read.
#[inline]
fn read_varint(bytes: &[u8]) -> (u32, usize) {
    let b0 = u32::from(bytes[0]);
    let b1 = u32::from(bytes.get(1).copied().unwrap_or(0));
    if b0 & b1 & 0x80 == 0 {
        let two = b0 >> 7;
        let v = (b0 & 0x7f) | ((b1 & 0x7f) << 7) & 0u32.wrapping_sub(two);
        return (v, 1 + two as usize);
    }
    // Three bytes or more: gaps of 16,384 slots and over.
    let mut v = b0 & 0x7f;
    let mut width = 1;
    while bytes[width - 1] >= 0x80 {
        v |= u32::from(bytes[width] & 0x7f) << (7 * width);
        width += 1;
    }
    (v, width)
}

impl<'a> Neighbours<'a> {
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            bytes: self.bytes,
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

    /// The slots, each with where its varint starts and ends in the list's bytes.
    fn entries(&self) -> impl Iterator<Item = (Slot, usize, usize)> + 'a {
        let len = self.bytes.len();
        let mut iter = self.iter();
        std::iter::from_fn(move || {
            let start = len - iter.bytes.len();
            let slot = iter.next()?;
            Some((slot, start, len - iter.bytes.len()))
        })
    }

    /// Whether `x` is in the list (reads up to the first slot ≥ `x`).
    pub fn contains(&self, x: Slot) -> bool {
        self.iter().find(|s| *s >= x) == Some(x)
    }
}

/// Every slot's neighbour list, packed in one buffer (see [`Packed`]): no allocation per
/// list, and no allocator pages left half-used by the lists an epoch rewrote.
#[derive(Default)]
pub struct AdjacencyLists {
    lists: Packed<Vec<u8>>,
    /// Working space: a list written again.
    bytes: Vec<u8>,
}

impl AdjacencyLists {
    /// The list of `slot` (empty if never set or cleared).
    pub fn get(&self, slot: Slot) -> Neighbours<'_> {
        Neighbours {
            bytes: self.lists.get(slot),
        }
    }

    /// Starts loading where `slot`'s list lies (see [`Packed::prefetch_run`]).
    #[inline]
    pub fn prefetch_run(&self, slot: Slot) {
        self.lists.prefetch_run(slot);
    }

    /// Starts loading the start of `slot`'s list.
    #[inline]
    pub fn prefetch_list(&self, slot: Slot) {
        self.lists.prefetch_value(slot);
    }

    /// Empties the list of `slot`.
    pub fn clear(&mut self, slot: Slot) {
        self.lists.clear(slot);
    }

    /// Adds the slots of `add` (sorted; any already present are kept once) to `slot`'s list.
    /// The list's bytes are copied as they are between the places where slots go in: only the
    /// gaps around each new slot are encoded again (an epoch adds one or two neighbours to
    /// most of the lists it changes, which are a hundred long).
    pub fn insert_sorted(&mut self, slot: Slot, add: &[Slot]) {
        if add.is_empty() {
            return;
        }
        let old = self.lists.get(slot);
        let out = &mut self.bytes;
        out.clear();
        let mut copied = 0;
        // The last slot of the new list so far.
        let mut last: Option<Slot> = None;
        let mut i = 0;
        for (cur, pos, end) in (Neighbours { bytes: old }).entries() {
            let mut before_cur = false;
            while let Some(&x) = add.get(i).filter(|x| **x <= cur) {
                i += 1;
                if x == cur || last == Some(x) {
                    continue;
                }
                out.extend_from_slice(&old[copied..pos]);
                copied = pos;
                put_varint(out, x - last.unwrap_or(0));
                last = Some(x);
                before_cur = true;
            }
            if before_cur {
                // `cur`'s gap counts from the new slot before it now.
                put_varint(out, cur - last.unwrap_or(0));
                copied = end;
            }
            last = Some(cur);
        }
        let changed = copied > 0 || i < add.len();
        if !changed {
            return;
        }
        out.extend_from_slice(&old[copied..]);
        for &x in &add[i..] {
            if last != Some(x) {
                put_varint(out, x - last.unwrap_or(0));
                last = Some(x);
            }
        }
        self.lists.set(slot, out);
    }

    /// Keeps the slots of `slot`'s list for which `keep` holds; returns whether any was
    /// dropped. As in [`AdjacencyLists::insert_sorted`], the bytes between dropped slots are
    /// copied as they are.
    pub fn retain(&mut self, slot: Slot, mut keep: impl FnMut(Slot) -> bool) -> bool {
        let old = self.lists.get(slot);
        let out = &mut self.bytes;
        out.clear();
        let mut copied = 0;
        // The last slot kept, and whether the next kept slot's gap must be encoded again.
        let mut last: Option<Slot> = None;
        let mut after_drop = false;
        for (cur, pos, end) in (Neighbours { bytes: old }).entries() {
            if keep(cur) {
                if after_drop {
                    put_varint(out, cur - last.unwrap_or(0));
                    copied = end;
                    after_drop = false;
                }
                last = Some(cur);
            } else {
                out.extend_from_slice(&old[copied..pos]);
                copied = end;
                after_drop = true;
            }
        }
        let dropped = copied > 0;
        if dropped {
            out.extend_from_slice(&old[copied..]);
            self.lists.set(slot, out);
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
        if self.bytes.is_empty() {
            return None;
        }
        let (v, width) = read_varint(self.bytes);
        self.bytes = &self.bytes[width..];
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
        let mut lists = AdjacencyLists::default();
        lists.insert_sorted(3, &slots);
        let list = lists.get(3);
        assert_eq!(list.iter().collect::<Vec<_>>(), slots);
        assert_eq!(list.len(), slots.len());
        for s in slots {
            assert!(list.contains(s));
        }
        assert!(!list.contains(2));
        assert!(!list.contains(u32::MAX - 1));
        assert!(lists.get(0).is_empty());
        assert_eq!(lists.get(0).iter().count(), 0);
        assert_eq!(lists.get(9).iter().count(), 0);
    }

    /// Several slots' lists under random inserts, removals and clears agree with a set per
    /// slot, through many compactions of the packed buffer.
    #[test]
    fn agrees_with_a_set_per_slot_under_inserts_and_removals() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut lists = AdjacencyLists::default();
        let mut sets = vec![BTreeSet::new(); 40];
        let mut out = Vec::new();
        for step in 0..50_000 {
            let slot = (rng.next() % 40) as Slot;
            let set = &mut sets[slot as usize];
            // Slots from a range that makes gaps of one to three bytes.
            let span = [200u64, 40_000, 3_000_000][step % 3];
            match rng.next() % 7 {
                0 => {
                    lists.clear(slot);
                    set.clear();
                }
                1..=2 => {
                    let cut = (rng.next() % span) as Slot;
                    let dropped = lists.retain(slot, |s| s % 7 != cut % 7 || s < cut);
                    let before = set.len();
                    set.retain(|s| s % 7 != cut % 7 || *s < cut);
                    assert_eq!(dropped, set.len() != before);
                }
                _ => {
                    let mut add: Vec<Slot> = (0..rng.next() % 6)
                        .map(|_| (rng.next() % span) as Slot)
                        .collect();
                    add.sort_unstable();
                    lists.insert_sorted(slot, &add);
                    set.extend(add);
                }
            }
            let probe_slot = (rng.next() % 40) as Slot;
            let (list, set) = (lists.get(probe_slot), &sets[probe_slot as usize]);
            list.decode_into(&mut out);
            assert_eq!(out, set.iter().copied().collect::<Vec<_>>());
            assert_eq!(list.len(), set.len());
            let probe = (rng.next() % span) as Slot;
            assert_eq!(list.contains(probe), set.contains(&probe));
        }
    }
}
