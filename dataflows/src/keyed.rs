//! A keyed-state operator for totally ordered times: each completed time's updates are folded, in time order, into per-key state, which emits the output's changes.
//!
//! This is what `reduce` does when the output of a key depends only on a small summary of its
//! inputs (the winning record of an identity, the sums of a group): it keeps that summary
//! instead of arranging every input and output update, so state and work per update are O(1)
//! in the history of the key.

use std::collections::{BTreeMap, HashMap};

use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, CapabilitySet, InputCapability, Operator};
use timely::order::TotalOrder;
use timely::progress::frontier::MutableAntichain;
use timely::progress::Timestamp;

/// A fast, seeded hasher for per-worker state (never persisted, never exchanged).
pub type StateHasher = foldhash::fast::FixedState;

/// One update of a keyed collection: `((key, value), diff)`.
pub type Update<K, V> = ((K, V), isize);

/// Updates held back until their time is complete, with a capability held for the earliest of
/// them: the state of every operator here that acts once per completed time.
pub struct Stash<T: Timestamp, X> {
    caps: CapabilitySet<T>,
    pending: BTreeMap<T, Vec<(X, isize)>>,
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
        for (x, t, r) in data.drain(..) {
            self.pending.entry(t).or_default().push((x, r));
        }
    }

    /// Hands each time the `frontier` has passed, in time order, to `act` with a capability
    /// for it and its updates; then holds a capability only for the earliest time still stashed.
    pub fn complete(
        &mut self,
        frontier: &MutableAntichain<T>,
        mut act: impl FnMut(Capability<T>, Vec<(X, isize)>),
    ) {
        while let Some(time) = self.pending.keys().next().cloned() {
            if frontier.less_equal(&time) {
                break;
            }
            let updates = self.pending.remove(&time).unwrap_or_default();
            act(self.caps.delayed(&time), updates);
        }
        self.caps.downgrade(self.pending.keys().next());
    }
}

/// For each key, `fold(key, state, updates, output)` sees the key's updates of one completed
/// time (times in order) and pushes the output changes at that time. Updates arrive as sent,
/// not consolidated (the same value may come twice, or with opposite signs), so `fold` must
/// treat them linearly (sums) or idempotently (sets). A state equal to `S::default()` after
/// `fold` is dropped.
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
    F: FnMut(&K, &mut S, &[Update<K, V>], &mut Vec<(O, isize)>) + 'static,
{
    let exchange = Exchange::new(|((k, _), _, _): &((K, V), T, isize)| k.hashed().into());
    input
        .inner
        .unary_frontier(exchange, name, move |_capability, _info| {
            let mut stash = Stash::<T, (K, V)>::default();
            let mut state: HashMap<K, S, StateHasher> = HashMap::default();
            let empty = S::default();
            let mut out: Vec<(O, isize)> = Vec::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| stash.absorb(&cap, data));
                stash.complete(frontier, |cap, updates| {
                    let time = cap.time().clone();
                    // Group by key: sort by the key's hash, comparing keys only on equal hashes.
                    let mut updates: Vec<(u64, Update<K, V>)> = updates
                        .into_iter()
                        .map(|u| (u.0 .0.hashed().into(), u))
                        .collect();
                    updates.sort_unstable_by(|a, b| {
                        a.0.cmp(&b.0).then_with(|| a.1 .0 .0.cmp(&b.1 .0 .0))
                    });
                    let updates: Vec<Update<K, V>> = updates.into_iter().map(|(_, u)| u).collect();
                    let mut session = output.session(&cap);
                    let mut start = 0;
                    while start < updates.len() {
                        let key = &updates[start].0 .0;
                        let end = start
                            + updates[start..]
                                .iter()
                                .take_while(|((k, _), _)| k == key)
                                .count();
                        let group = &updates[start..end];
                        match state.get_mut(key) {
                            Some(s) => {
                                fold(key, s, group, &mut out);
                                if *s == empty {
                                    state.remove(key);
                                }
                            }
                            None => {
                                let mut s = S::default();
                                fold(key, &mut s, group, &mut out);
                                if s != empty {
                                    state.insert(key.clone(), s);
                                }
                            }
                        }
                        session.give_iterator(out.drain(..).map(|(o, r)| (o, time.clone(), r)));
                        start = end;
                    }
                });
            }
        })
        .as_collection()
}
