//! Variable-length values per slot packed in one buffer: no allocation per value, and no allocator pages left half-used by values that came and went.
//!
//! A value that is replaced or cleared leaves garbage behind; once the garbage outweighs a
//! quarter of the buffer, the live values are copied into a new one (in slot order), so the
//! buffer stays within 4/3 of the live data and each byte of garbage is copied away at most
//! about three times over.

/// Makes room for `additional` more items in a long-lived vector, growing it by at least an
/// eighth rather than doubling it. Spare capacity is not free here: the allocator places a
/// large vector on pages that earlier epochs' garbage already made resident, so a doubled
/// vector's unused half stays in RSS. Growing by an eighth copies each item ~8 times over the
/// vector's life instead of ~2.
pub fn reserve_gently<T>(v: &mut Vec<T>, additional: usize) {
    if let Some(n) = gentle_growth(v.len(), v.capacity(), additional) {
        v.reserve_exact(n);
    }
}

/// How much [`reserve_gently`] reserves for a buffer of `len` items in `capacity`, if any.
fn gentle_growth(len: usize, capacity: usize, additional: usize) -> Option<usize> {
    (capacity - len < additional).then(|| additional.max(capacity / 8).max(16))
}

/// A growable buffer of items (a `String` of text, a `Vec` of numbers).
pub trait Buffer: Default {
    type Value: ?Sized;
    fn with_capacity(n: usize) -> Self;
    /// Items held.
    fn size(&self) -> usize;
    /// Room for `additional` more items, growing gently (see [`reserve_gently`]).
    fn reserve(&mut self, additional: usize);
    fn value_len(value: &Self::Value) -> usize;
    fn append(&mut self, value: &Self::Value);
    /// Writes `value` over the items from `at`, if this buffer can (a `String` cannot: the
    /// end might fall inside a character of the text it overwrites); whether it did.
    fn overwrite(&mut self, at: usize, value: &Self::Value) -> bool;
    fn slice(&self, start: usize, end: usize) -> &Self::Value;
}

impl Buffer for String {
    type Value = str;
    fn with_capacity(n: usize) -> Self {
        String::with_capacity(n)
    }
    fn size(&self) -> usize {
        self.len()
    }
    fn reserve(&mut self, additional: usize) {
        if let Some(n) = gentle_growth(self.len(), self.capacity(), additional) {
            self.reserve_exact(n);
        }
    }
    fn value_len(value: &str) -> usize {
        value.len()
    }
    fn append(&mut self, value: &str) {
        self.push_str(value);
    }
    fn overwrite(&mut self, _: usize, _: &str) -> bool {
        false
    }
    fn slice(&self, start: usize, end: usize) -> &str {
        &self[start..end]
    }
}

impl<T: Copy> Buffer for Vec<T> {
    type Value = [T];
    fn with_capacity(n: usize) -> Self {
        Vec::with_capacity(n)
    }
    fn size(&self) -> usize {
        self.len()
    }
    fn reserve(&mut self, additional: usize) {
        reserve_gently(self, additional);
    }
    fn value_len(value: &[T]) -> usize {
        value.len()
    }
    fn append(&mut self, value: &[T]) {
        self.extend_from_slice(value);
    }
    fn overwrite(&mut self, at: usize, value: &[T]) -> bool {
        self[at..at + value.len()].copy_from_slice(value);
        true
    }
    fn slice(&self, start: usize, end: usize) -> &[T] {
        &self[start..end]
    }
}

/// One value per slot (empty until set), all in one buffer.
#[derive(Default)]
pub struct Packed<B> {
    data: B,
    /// Per slot: the value's start and end in `data`.
    runs: Vec<[u32; 2]>,
    /// Items in `data` that no slot's value covers.
    garbage: usize,
}

/// Below this much garbage the buffer is never compacted (tiny windows).
const MIN_GARBAGE: usize = 4096;

impl<B: Buffer> Packed<B> {
    /// The value of `slot` (empty if never set or cleared).
    pub fn get(&self, slot: u32) -> &B::Value {
        let [start, end] = self.runs.get(slot as usize).copied().unwrap_or_default();
        self.data.slice(start as usize, end as usize)
    }

    /// Starts loading where `slot`'s value lies (see [`crate::prefetch`]), so that a
    /// [`Packed::prefetch_value`] of it a little later finds that in cache.
    #[inline]
    pub fn prefetch_run(&self, slot: u32) {
        crate::prefetch::prefetch(&self.runs, slot as usize);
    }

    /// Sets the value of `slot`: in its old place when it is no longer than the old value and
    /// the buffer can be written over (what is left of the old place is garbage), else at the
    /// end.
    pub fn set(&mut self, slot: u32, value: &B::Value) {
        let len = B::value_len(value);
        if let Some(&[start, end]) = self.runs.get(slot as usize) {
            let old = (end - start) as usize;
            if len <= old && self.data.overwrite(start as usize, value) {
                self.runs[slot as usize] = [start, start + len as u32];
                self.garbage += old - len;
                self.compact_if_wasteful();
                return;
            }
        }
        self.release(slot);
        let start = self.data.size();
        self.data.reserve(B::value_len(value));
        self.data.append(value);
        let end = start + B::value_len(value);
        let offset = |at: usize| u32::try_from(at).expect("packed trend state under 4 Gi items");
        self.runs[slot as usize] = [offset(start), offset(end)];
        self.compact_if_wasteful();
    }

    /// Empties the value of `slot`.
    pub fn clear(&mut self, slot: u32) {
        self.release(slot);
        self.compact_if_wasteful();
    }

    /// Turns the value of `slot` into garbage.
    fn release(&mut self, slot: u32) {
        let i = slot as usize;
        if self.runs.len() <= i {
            let more = i + 1 - self.runs.len();
            reserve_gently(&mut self.runs, more);
            self.runs.resize(i + 1, [0, 0]);
        }
        let [start, end] = std::mem::take(&mut self.runs[i]);
        self.garbage += (end - start) as usize;
    }

    fn compact_if_wasteful(&mut self) {
        if self.garbage < MIN_GARBAGE || self.garbage * 4 < self.data.size() {
            return;
        }
        let live = self.data.size() - self.garbage;
        // Room for the garbage allowed before the next compaction, so that the buffer is not
        // grown (copied) in between while the live data stays the same.
        let mut data = B::with_capacity(live + live / 3 + MIN_GARBAGE);
        for run in self.runs.iter_mut() {
            let start = data.size();
            data.append(self.data.slice(run[0] as usize, run[1] as usize));
            let end = data.size();
            // The new buffer holds no more than the old, whose offsets fit.
            *run = [start as u32, end as u32];
        }
        self.data = data;
        self.garbage = 0;
    }
}

impl<T: Copy> Packed<Vec<T>> {
    /// Starts loading the start of `slot`'s value.
    #[inline]
    pub fn prefetch_value(&self, slot: u32) {
        if let Some(&[start, _]) = self.runs.get(slot as usize) {
            crate::prefetch::prefetch(&self.data, start as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Random sets and clears agree with one vector per slot, through many compactions.
    #[test]
    fn agrees_with_a_vector_per_slot() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut packed: Packed<Vec<u32>> = Packed::default();
        let mut plain: Vec<Vec<u32>> = vec![Vec::new(); 300];
        let mut compactions = 0;
        for step in 0..100_000u32 {
            let slot = rng.gen_range(0..300u32);
            let before = packed.data.len();
            if rng.gen_bool(0.2) {
                packed.clear(slot);
                plain[slot as usize].clear();
            } else {
                let value: Vec<u32> = (0..rng.gen_range(0..40)).map(|i| step ^ i).collect();
                packed.set(slot, &value);
                plain[slot as usize] = value;
            }
            if packed.data.len() < before {
                compactions += 1;
            }
            let s = rng.gen_range(0..310u32);
            let want: &[u32] = plain.get(s as usize).map_or(&[], Vec::as_slice);
            assert_eq!(packed.get(s), want, "slot {s} at step {step}");
            let live: usize = plain.iter().map(Vec::len).sum();
            assert_eq!(packed.data.len() - packed.garbage, live);
            assert!(packed.garbage < MIN_GARBAGE || packed.garbage * 4 < packed.data.len());
        }
        assert!(compactions > 100, "{compactions} compactions");
        for (s, v) in plain.iter().enumerate() {
            assert_eq!(packed.get(s as u32), v.as_slice());
        }
    }

    #[test]
    fn text_values_come_back_whole() {
        let mut texts: Packed<String> = Packed::default();
        texts.set(3, "Zürich: déjà vu ✓");
        texts.set(0, "");
        texts.set(1, "ab");
        assert_eq!(
            (texts.get(0), texts.get(1), texts.get(2), texts.get(3)),
            ("", "ab", "", "Zürich: déjà vu ✓")
        );
        texts.clear(3);
        assert_eq!(texts.get(3), "");
        assert_eq!(texts.get(99), "");
    }
}
