//! A keyed-state operator for totally ordered times: each completed time's updates are folded, in time order, into per-key state, which emits the output's changes.
//!
//! This is what `reduce` does when the output of a key depends only on a small summary of its
//! inputs (the winning record of an identity, the sums of a group): it keeps that summary
//! instead of arranging every input and output update, so state and work per update are O(1)
//! in the history of the key.

use std::collections::BTreeMap;

use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, CapabilitySet, InputCapability, Operator};
use timely::order::TotalOrder;
use timely::progress::frontier::MutableAntichain;
use timely::progress::Timestamp;

use crate::dense::DenseMap;

/// A fast, seeded hasher for per-worker state (never persisted, never exchanged).
pub type StateHasher = foldhash::fast::FixedState;

/// One update of a keyed collection: `((key, value), diff)`.
pub type Update<K, V> = ((K, V), isize);

/// A batch of updates as timely delivers them: `(update, time, diff)`.
pub type Batch<X, T> = Vec<(X, T, isize)>;

/// Updates held back until their time is complete, with a capability held for the earliest of
/// them: the state of every operator here that acts once per completed time.
pub struct Stash<T: Timestamp, X> {
    caps: CapabilitySet<T>,
    /// The batches received for each time, kept as they came (moved, not copied).
    pending: BTreeMap<T, Vec<Batch<X, T>>>,
}

impl<T: Timestamp + TotalOrder, X> Default for Stash<T, X> {
    fn default() -> Self {
        Stash {
            caps: CapabilitySet::new(),
            pending: BTreeMap::new(),
        }
    }
}

impl<T: Timestamp + TotalOrder, X> Stash<T, X> {
    /// Takes one input batch, holding its capability until its times are complete.
    pub fn absorb(&mut self, cap: &InputCapability<T>, data: &mut Vec<(X, T, isize)>) {
        for c in cap.retain_stamp(0).iter() {
            self.caps.insert(c.clone());
        }
        stash_by_time(&mut self.pending, data);
    }

    /// Hands each time the `frontier` has passed, in time order, to `act` with a capability
    /// for it and its updates; then holds a capability only for the earliest time still stashed.
    pub fn complete(
        &mut self,
        frontier: &MutableAntichain<T>,
        mut act: impl FnMut(Capability<T>, Vec<(X, isize)>),
    ) {
        self.complete_batches(frontier, |cap, batches| act(cap, concat(batches)));
    }

    /// [`Stash::complete`] handing over each time's batches as they came, not concatenated
    /// (no copy of the updates, no vector the size of the whole time).
    pub fn complete_batches(
        &mut self,
        frontier: &MutableAntichain<T>,
        mut act: impl FnMut(Capability<T>, Vec<Batch<X, T>>),
    ) {
        while let Some(time) = self.pending.keys().next().cloned() {
            if frontier.less_equal(&time) {
                break;
            }
            let batches = self.pending.remove(&time).unwrap_or_default();
            act(self.caps.delayed(&time), batches);
        }
        self.caps.downgrade(self.pending.keys().next());
    }
}

/// Files a batch of updates under their times. A batch usually holds one time: then the batch
/// itself is kept (unless mostly empty), not copied (a time's updates are copied once, when it completes, into one
/// vector of their exact size: growing one vector per time by doubling faulted in twice the
/// memory for large epochs). Mixed batches are split into runs of equal times.
fn stash_by_time<T: Ord + Clone, X>(
    pending: &mut BTreeMap<T, Vec<Batch<X, T>>>,
    data: &mut Vec<(X, T, isize)>,
) {
    let Some(first) = data.first().map(|u| u.1.clone()) else {
        return;
    };
    if data.iter().all(|u| u.1 == first) {
        // A mostly empty buffer is copied, so that many small batches do not each hold a
        // buffer's capacity until their time completes.
        let batch = if data.capacity() > 2 * data.len() + 16 {
            let mut tight = Vec::with_capacity(data.len());
            tight.append(data);
            tight
        } else {
            std::mem::take(data)
        };
        pending.entry(first).or_default().push(batch);
        return;
    }
    let mut drained = data.drain(..).peekable();
    while let Some(u) = drained.next() {
        let t = u.1.clone();
        let mut run = vec![u];
        while let Some(u) = drained.next_if(|u| u.1 == t) {
            run.push(u);
        }
        pending.entry(t).or_default().push(run);
    }
}

/// One time's batches as one vector of `(update, diff)`, allocated at its exact size.
fn concat<T, X>(batches: Vec<Batch<X, T>>) -> Vec<(X, isize)> {
    let mut all = Vec::with_capacity(batches.iter().map(Vec::len).sum());
    for batch in batches {
        all.extend(batch.into_iter().map(|(x, _, r)| (x, r)));
    }
    all
}

/// The updates of one key at one completed time, as [`keyed_fold`] hands them to its fold: an
/// iterator over references into the time's updates (grouping moves only `(hash, index)` pairs,
/// not the updates themselves).
pub struct Group<'a, K, V> {
    updates: &'a [Update<K, V>],
    order: &'a [(u64, u32)],
}

impl<K, V> Clone for Group<'_, K, V> {
    fn clone(&self) -> Self {
        Group {
            updates: self.updates,
            order: self.order,
        }
    }
}

impl<'a, K, V> Iterator for Group<'a, K, V> {
    type Item = &'a Update<K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&(_, i), rest) = self.order.split_first()?;
        self.order = rest;
        Some(&self.updates[i as usize])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.order.len(), Some(self.order.len()))
    }
}

/// An update's position, as kept in the grouping orders.
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("at most 2^32 updates per time and operator")
}

/// The indices of `items` ordered by `hash` of their key, equal keys as contiguous runs: the
/// pairs are sorted as integers, and only a run of equal hashes holding distinct keys (a
/// collision) is sorted again by key. Only `(hash, index)` pairs move.
fn hash_order<I, K: Ord + ?Sized>(
    items: &[I],
    key: impl Fn(&I) -> &K,
    hash: impl Fn(&K) -> u64,
) -> Vec<(u64, u32)> {
    let mut order: Vec<(u64, u32)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (hash(key(item)), index(i)))
        .collect();
    order.sort_unstable();
    let key_at = |p: &(u64, u32)| key(&items[p.1 as usize]);
    let mut start = 0;
    while start < order.len() {
        let end = start + order[start..].partition_point(|p| p.0 == order[start].0);
        let first = key_at(&order[start]);
        if order[start + 1..end].iter().any(|p| key_at(p) != first) {
            order[start..end].sort_by(|a, b| key_at(a).cmp(key_at(b)).then(a.1.cmp(&b.1)));
        }
        start = end;
    }
    order
}

/// [`hash_order`] of a time's updates by their key, hashed as the exchange hashes it.
fn group_order<K: Hashable + Ord, V>(updates: &[Update<K, V>]) -> Vec<(u64, u32)> {
    hash_order(updates, |((k, _), _)| k, |k| k.hashed().into())
}

/// The end of the run of `order` from `start` whose updates have `start`'s key.
fn key_run_end<K: PartialEq, V>(
    updates: &[Update<K, V>],
    order: &[(u64, u32)],
    start: usize,
) -> usize {
    let key = &updates[order[start].1 as usize].0 .0;
    start
        + order[start..]
            .iter()
            .take_while(|(_, i)| &updates[*i as usize].0 .0 == key)
            .count()
}

/// [`group_order`] with the groups in the order of their first update's arrival: a key with
/// one update (most, in a backfill) is folded in arrival order, so the payloads it reads, made
/// one after another by the decoder, are read one after another too, not at random. Returns
/// the order and where each group ends in it (a key's run is found once, here).
fn arrival_group_order<K: Hashable + Ord, V>(
    updates: &[Update<K, V>],
) -> (Vec<(u64, u32)>, Vec<u32>) {
    let order = group_order(updates);
    // (first arrival, start, end) of each group in `order`; a group lists its updates in
    // arrival order, so its first is its earliest.
    let mut groups: Vec<(u32, u32, u32)> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let end = key_run_end(updates, &order, start);
        groups.push((order[start].1, index(start), index(end)));
        start = end;
    }
    groups.sort_unstable();
    let mut arranged = Vec::with_capacity(order.len());
    let mut ends = Vec::with_capacity(groups.len());
    for (_, start, end) in groups {
        arranged.extend_from_slice(&order[start as usize..end as usize]);
        ends.push(index(arranged.len()));
    }
    (arranged, ends)
}

/// Keys folded per activation of a [`keyed_fold`]: after this many, the operator yields and
/// asks to be scheduled again, so that the operators after it take the outputs while the values
/// they point to (just read by the fold) are still in cache, instead of after a whole epoch.
const KEYS_PER_ACTIVATION: usize = 1024;

/// A completed time's updates in [`keyed_fold`], grouped by key, folded a slice of keys at a
/// time; its capability holds the time open downstream until the last key is folded.
struct Folding<T: Timestamp, K, V> {
    cap: Capability<T>,
    updates: Vec<Update<K, V>>,
    order: Vec<(u64, u32)>,
    /// Where each key's run ends in `order`.
    ends: Vec<u32>,
    /// The next key to fold (an index into `ends`).
    next: usize,
}

/// For each key, `fold(key, state, updates, output)` sees the key's updates of one completed
/// time (times in order) and pushes the output changes at that time. Updates arrive as sent,
/// not consolidated (the same value may come twice, or with opposite signs), so `fold` must
/// treat them linearly (sums) or idempotently (sets). A state equal to `S::default()` after
/// `fold` is dropped. A time's keys are folded [`KEYS_PER_ACTIVATION`] at a time.
pub fn keyed_fold<'scope, T, K, V, S, O, F>(
    input: VecCollection<'scope, T, (K, V)>,
    name: &str,
    mut fold: F,
) -> VecCollection<'scope, T, O>
where
    T: Timestamp + TotalOrder,
    K: ExchangeData + Hashable + std::hash::Hash,
    V: ExchangeData,
    S: Default + PartialEq + 'static,
    O: ExchangeData,
    F: FnMut(&K, &mut S, Group<'_, K, V>, &mut Vec<(O, isize)>) + 'static,
{
    let exchange = Exchange::new(|((k, _), _, _): &((K, V), T, isize)| k.hashed().into());
    let scope = input.inner.scope();
    input
        .inner
        .unary_frontier(exchange, name, move |_capability, info| {
            let activator = scope.activator_for(info.address);
            let mut stash = Stash::<T, (K, V)>::default();
            let mut state: DenseMap<K, S> = DenseMap::default();
            let empty = S::default();
            let mut out: Vec<(O, isize)> = Vec::new();
            let mut folding: std::collections::VecDeque<Folding<T, K, V>> = Default::default();
            move |(input, frontier), output| {
                input.for_each(|cap, data| stash.absorb(&cap, data));
                stash.complete(frontier, |cap, updates| {
                    let (order, ends) = arrival_group_order(&updates);
                    folding.push_back(Folding {
                        cap,
                        updates,
                        order,
                        ends,
                        next: 0,
                    });
                });
                let mut keys = 0;
                while let Some(work) = folding.front_mut() {
                    let Folding {
                        cap,
                        updates,
                        order,
                        ends,
                        next,
                    } = work;
                    let time = cap.time().clone();
                    let mut session = output.session(&*cap);
                    while *next < ends.len() && keys < KEYS_PER_ACTIVATION {
                        let start = if *next == 0 {
                            0
                        } else {
                            ends[*next - 1] as usize
                        };
                        let end = ends[*next] as usize;
                        let key = &updates[order[start].1 as usize].0 .0;
                        let group = Group {
                            updates,
                            order: &order[start..end],
                        };
                        state.update(key, &empty, |s| fold(key, s, group, &mut out));
                        session.give_iterator(out.drain(..).map(|(o, r)| (o, time.clone(), r)));
                        *next += 1;
                        keys += 1;
                    }
                    drop(session);
                    if work.next < work.ends.len() {
                        activator.activate();
                        break;
                    }
                    folding.pop_front();
                }
            }
        })
        .as_collection()
}

/// Cancels equal updates of opposite signs across `batches` (the diffs of equal values summed
/// into one of them, zeros dropped), looking only at values whose `hash` equals a retracted
/// value's: the changes of keyed operators are consolidated per key already except where a
/// key's old and new rows are equal (an unchanged row of a corrected answer), and those come
/// with a retraction. Without retractions nothing is hashed; otherwise each value once.
/// `hash` must be equal for equal values (a hash of the row's key is enough).
pub fn cancel_retracted<D: Ord, T>(batches: &mut [Batch<D, T>], hash: impl Fn(&D) -> u64) {
    let mut retracted: std::collections::HashSet<u64, StateHasher> = Default::default();
    for (d, _, r) in batches.iter().flatten() {
        if *r < 0 {
            retracted.insert(hash(d));
        }
    }
    if retracted.is_empty() {
        return;
    }
    // (hash, batch, index) of every value that may cancel, grouped by hash.
    let mut candidates: Vec<(u64, u32, u32)> = Vec::new();
    for (b, batch) in batches.iter().enumerate() {
        for (i, (d, _, _)) in batch.iter().enumerate() {
            let h = hash(d);
            if retracted.contains(&h) {
                candidates.push((h, index(b), index(i)));
            }
        }
    }
    candidates.sort_unstable();
    let mut touched = vec![false; batches.len()];
    let at = |c: &(u64, u32, u32)| (c.1 as usize, c.2 as usize);
    for run in candidates.chunk_by_mut(|a, b| a.0 == b.0) {
        // Equal values next to each other (a run is usually one key's old and new row).
        if run.len() > 2 {
            run.sort_by(|x, y| {
                let ((bx, ix), (by, iy)) = (at(x), at(y));
                batches[bx][ix].0.cmp(&batches[by][iy].0)
            });
        }
        let mut head = at(&run[0]);
        for c in &run[1..] {
            let (b, i) = at(c);
            if batches[b][i].0 == batches[head.0][head.1].0 {
                let d = std::mem::take(&mut batches[b][i].2);
                batches[head.0][head.1].2 += d;
                touched[b] = true;
                touched[head.0] = true;
            } else {
                head = (b, i);
            }
        }
    }
    for (batch, touched) in batches.iter_mut().zip(touched) {
        if touched {
            batch.retain(|(_, _, r)| *r != 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::prelude::*;
    use std::collections::BTreeMap;

    /// A value whose hash ignores its second half: distinct values collide on purpose.
    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Colliding(u8, u8);

    impl std::hash::Hash for Colliding {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }

    #[test]
    fn cancel_retracted_consolidates_around_retractions() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..500 {
            // Values appear at most once per sign (as keyed operators emit them), spread
            // over batches; hashes collide on purpose.
            let n = rng.gen_range(0..40u8);
            let mut batches: Vec<Batch<Colliding, u64>> =
                (0..rng.gen_range(1..4)).map(|_| Vec::new()).collect();
            let nb = batches.len();
            for v in 0..n {
                let value = Colliding(v % 7, v / 7);
                if rng.gen_bool(0.6) {
                    batches[rng.gen_range(0..nb)].push((value.clone(), 0, 1));
                }
                if rng.gen_bool(0.4) {
                    batches[rng.gen_range(0..nb)].push((value, 0, -1));
                }
            }
            let mut expected: BTreeMap<Colliding, isize> = BTreeMap::new();
            for (v, _, d) in batches.iter().flatten() {
                *expected.entry(v.clone()).or_insert(0) += d;
            }
            expected.retain(|_, d| *d != 0);
            cancel_retracted(&mut batches, |v| u64::from(v.0));
            let got: Vec<(Colliding, isize)> = batches
                .iter()
                .flatten()
                .map(|(v, _, d)| (v.clone(), *d))
                .collect();
            assert!(got.iter().all(|(_, d)| *d != 0), "a zero left: {got:?}");
            let as_map: BTreeMap<Colliding, isize> = got.iter().cloned().collect();
            assert_eq!(as_map.len(), got.len(), "a value left twice: {got:?}");
            assert_eq!(as_map, expected);
        }
        // Without retractions the hash is never called.
        let mut plain: Vec<Batch<u8, u64>> = vec![vec![(1, 0, 1), (1, 0, 1)]];
        cancel_retracted(&mut plain, |_| panic!("hashed"));
        assert_eq!(plain[0].len(), 2);
    }

    /// Up to 300 updates (value = arrival index) over `hashes` × 4 keys, 4 to a hash.
    fn colliding_updates(rng: &mut StdRng, hashes: u8) -> (u32, Vec<Update<Colliding, u32>>) {
        let n = rng.gen_range(0..300u32);
        let updates = (0..n)
            .map(|i| {
                (
                    (Colliding(rng.gen_range(0..hashes), rng.gen_range(0..4)), i),
                    1,
                )
            })
            .collect();
        (n, updates)
    }

    #[test]
    fn group_order_makes_each_key_one_run_even_when_hashes_collide() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..200 {
            let (n, updates) = colliding_updates(&mut rng, 5);
            let order = group_order(&updates);
            let keys: Vec<Colliding> = order
                .iter()
                .map(|(_, i)| updates[*i as usize].0 .0.clone())
                .collect();
            let mut runs = keys.clone();
            runs.dedup();
            let distinct: std::collections::BTreeSet<Colliding> = keys.iter().cloned().collect();
            assert_eq!(runs.len(), distinct.len(), "a key split over two runs");
            let mut seen: Vec<u32> = order.iter().map(|(_, i)| *i).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<u32>>());
        }
    }

    #[test]
    fn arrival_group_order_keeps_keys_whole_in_order_of_first_arrival() {
        let mut rng = StdRng::seed_from_u64(6);
        for _ in 0..200 {
            let (n, updates) = colliding_updates(&mut rng, 40);
            let (order, _) = arrival_group_order(&updates);
            let indices: Vec<u32> = order.iter().map(|(_, i)| *i).collect();
            // Every update once; each key one run, its updates in arrival order; the runs in
            // the order of their keys' first arrival.
            let mut seen = indices.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<u32>>());
            let key = |i: &u32| updates[*i as usize].0 .0.clone();
            let runs: Vec<&[u32]> = indices.chunk_by(|a, b| key(a) == key(b)).collect();
            let distinct: std::collections::BTreeSet<Colliding> = indices.iter().map(key).collect();
            assert_eq!(runs.len(), distinct.len(), "a key split over two runs");
            for run in &runs {
                assert!(
                    run.windows(2).all(|w| w[0] < w[1]),
                    "a key's updates out of order"
                );
            }
            let firsts: Vec<u32> = runs.iter().map(|r| r[0]).collect();
            assert!(
                firsts.windows(2).all(|w| w[0] < w[1]),
                "keys not in arrival order"
            );
        }
    }

    #[test]
    fn cancel_retracted_long_runs_of_one_value() {
        let mut batches: Vec<Batch<Colliding, u64>> = vec![(0..1000)
            .map(|i| {
                (
                    Colliding(1, (i % 2) as u8),
                    0,
                    if i % 3 == 0 { -1 } else { 1 },
                )
            })
            .collect()];
        let mut expected: BTreeMap<Colliding, isize> = BTreeMap::new();
        for (v, _, d) in batches.iter().flatten() {
            *expected.entry(v.clone()).or_insert(0) += d;
        }
        expected.retain(|_, d| *d != 0);
        cancel_retracted(&mut batches, |v| u64::from(v.0));
        let got: Vec<(Colliding, isize)> =
            batches[0].iter().map(|(v, _, d)| (v.clone(), *d)).collect();
        assert_eq!(got.len(), expected.len());
        assert_eq!(got.into_iter().collect::<BTreeMap<_, _>>(), expected);
    }

    #[test]
    fn stash_by_time_keeps_every_update_under_its_time() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut pending: BTreeMap<u8, Vec<Batch<u32, u8>>> = BTreeMap::new();
        let mut expected: BTreeMap<u8, Vec<(u32, isize)>> = BTreeMap::new();
        for batch in 0..50u32 {
            // Half the batches hold one time (kept whole), half mix times (split).
            let one = rng.gen_bool(0.5).then(|| rng.gen_range(0..4));
            let mut data: Vec<(u32, u8, isize)> = (0..rng.gen_range(0..40))
                .map(|i| {
                    (
                        batch * 100 + i,
                        one.unwrap_or_else(|| rng.gen_range(0..4)),
                        1,
                    )
                })
                .collect();
            for (x, t, r) in &data {
                expected.entry(*t).or_default().push((*x, *r));
            }
            stash_by_time(&mut pending, &mut data);
            assert!(data.is_empty());
        }
        // A mostly empty buffer is copied (the caller keeps it), a full one is taken.
        let mut sparse: Vec<(u32, u8, isize)> = Vec::with_capacity(1000);
        sparse.extend([(7000, 2, 1), (7001, 2, 1)]);
        expected
            .entry(2)
            .or_default()
            .extend([(7000, 1), (7001, 1)]);
        stash_by_time(&mut pending, &mut sparse);
        assert!(sparse.is_empty() && sparse.capacity() >= 1000);
        let got: BTreeMap<u8, Vec<(u32, isize)>> = pending
            .into_iter()
            .map(|(t, batches)| {
                assert!(
                    batches.iter().flatten().all(|u| u.1 == t),
                    "a batch under another time"
                );
                let all = concat(batches);
                assert_eq!(all.capacity(), all.len());
                (t, all)
            })
            .collect();
        assert_eq!(got, expected);
    }
}
