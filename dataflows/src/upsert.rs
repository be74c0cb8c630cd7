//! The replace rule as a dataflow operator: records per identity → the identity's current payload.

use std::fmt::Debug;

use differential_dataflow::lattice::Lattice;
use differential_dataflow::{ExchangeData, Hashable, VecCollection};
use serde::de::DeserializeOwned;
use serde::Serialize;
use smallvec::SmallVec;
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::blobs::{BlobRef, Serialized};
use crate::event::{current, Change, Record};
use crate::keyed::keyed_fold;

/// How the replace rule keeps the payloads of the records it holds.
pub trait Keep<P>: 'static {
    /// What a held record keeps of its payload.
    type Kept: Clone + Debug + PartialEq + 'static;
    fn keep(&mut self, payload: &P) -> Self::Kept;
    fn load(&mut self, kept: &Self::Kept) -> P;
    /// Whether `kept` is `payload` (a duplicate delivery, or the retraction of a held record).
    fn holds(&mut self, kept: &Self::Kept, payload: &P) -> bool;
}

/// Payloads kept as they are (the plain way, against which the tests check [`Serialized`]).
pub struct AsIs;

impl<P: Clone + Debug + PartialEq + 'static> Keep<P> for AsIs {
    type Kept = P;
    fn keep(&mut self, payload: &P) -> P {
        payload.clone()
    }
    fn load(&mut self, kept: &P) -> P {
        kept.clone()
    }
    fn holds(&mut self, kept: &P, payload: &P) -> bool {
        kept == payload
    }
}

/// Payloads kept serialized in a blob store, 12 bytes each in the operator's state: for large
/// ones (collector results and their answer text), read back when a record is replaced,
/// deleted or becomes current again, or to compare it with a duplicate or a retraction. Two
/// records with equal payloads are different records here: when one succeeds the other, the
/// rule emits the payload's retraction and insertion, which cancel downstream.
impl<P: Serialize + DeserializeOwned + PartialEq + 'static> Keep<P> for Serialized {
    type Kept = BlobRef;
    fn keep(&mut self, payload: &P) -> BlobRef {
        Serialized::keep(self, payload)
    }
    fn load(&mut self, kept: &BlobRef) -> P {
        Serialized::load(self, *kept)
    }
    fn holds(&mut self, kept: &BlobRef, payload: &P) -> bool {
        Serialized::load::<P>(self, *kept) == *payload
    }
}

/// The records of one identity, each with its multiplicity (a duplicate delivery counts once
/// in the rule, but must be retracted as often as it was added), payloads as [`Keep`] keeps
/// them. The usual one record is kept inline, in the state map's entry (40 bytes for a
/// [`BlobRef`]: a `SmallVec` would add a capacity word).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidates<S> {
    records: Held<(Record<S>, isize)>,
}

impl<S> Default for Candidates<S> {
    fn default() -> Self {
        Candidates {
            records: Held::None,
        }
    }
}

/// None, one or several items; several are at least two (so that equal contents are equal).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Held<T> {
    #[default]
    None,
    One(T),
    Many(Vec<T>),
}

impl<T> Held<T> {
    fn as_slice(&self) -> &[T] {
        match self {
            Held::None => &[],
            Held::One(x) => std::slice::from_ref(x),
            Held::Many(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Held::None => &mut [],
            Held::One(x) => std::slice::from_mut(x),
            Held::Many(v) => v,
        }
    }

    fn push(&mut self, item: T) {
        *self = match std::mem::take(self) {
            Held::None => Held::One(item),
            Held::One(x) => Held::Many(vec![x, item]),
            Held::Many(mut v) => {
                v.push(item);
                Held::Many(v)
            }
        };
    }

    /// Removes the item at `i`; the last one takes its place.
    fn swap_remove(&mut self, i: usize) {
        *self = match std::mem::take(self) {
            Held::None => panic!("no item {i} to remove"),
            Held::One(_) => {
                assert_eq!(i, 0, "one item held");
                Held::None
            }
            Held::Many(mut v) => {
                v.swap_remove(i);
                if v.len() == 1 {
                    Held::One(v.pop().expect("one item left"))
                } else {
                    Held::Many(v)
                }
            }
        };
    }
}

impl<S: Clone + PartialEq> Candidates<S> {
    /// Adds `diff` copies of a record (a negative `diff` retracts). A record not held before
    /// is kept by `keep`; what was kept of its payload is returned.
    pub fn update<P, K: Keep<P, Kept = S>>(
        &mut self,
        record: &Record<P>,
        diff: isize,
        keep: &mut K,
    ) -> Option<S> {
        let mut found = None;
        for (i, (r, _)) in self.records.as_slice().iter().enumerate() {
            let same = r.seq == record.seq
                && r.version == record.version
                && match (&r.change, &record.change) {
                    (Change::Upsert(k), Change::Upsert(p)) => keep.holds(k, p),
                    (Change::Delete, Change::Delete) | (Change::Tombstone, Change::Tombstone) => {
                        true
                    }
                    _ => false,
                };
            if same {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => {
                let n = &mut self.records.as_mut_slice()[i].1;
                *n += diff;
                if *n == 0 {
                    self.records.swap_remove(i);
                }
                None
            }
            None if diff != 0 => {
                let kept = match &record.change {
                    Change::Upsert(p) => Change::Upsert(keep.keep(p)),
                    Change::Delete => Change::Delete,
                    Change::Tombstone => Change::Tombstone,
                };
                let fresh = match &kept {
                    Change::Upsert(k) => Some(k.clone()),
                    _ => None,
                };
                let held = Record {
                    seq: record.seq,
                    version: record.version,
                    change: kept,
                };
                self.records.push((held, diff));
                fresh
            }
            None => None,
        }
    }

    /// The current payload under the replace rule, as kept.
    pub fn current(&self) -> Option<&S> {
        current(
            self.records
                .as_slice()
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(r, _)| r),
        )
    }
}

/// Keeps, per key, the payload of the winning record (see [`current`]); deleted and tombstoned
/// identities have no output. Each key keeps its records (sources supersede records rather
/// than retract them, but a retraction is applied exactly), their payloads as `keep` keeps
/// them: a payload that just arrived is passed on as it came, one held before is loaded.
pub fn upsert<'scope, T, K, P, S>(
    records: VecCollection<'scope, T, (K, Record<P>)>,
    mut keep: S,
) -> VecCollection<'scope, T, (K, P)>
where
    T: Timestamp + Lattice + TotalOrder,
    K: ExchangeData + Hashable + std::hash::Hash,
    P: ExchangeData,
    S: Keep<P>,
{
    keyed_fold(
        records,
        "Upsert",
        move |key: &K, state: &mut Candidates<S::Kept>, updates, output| {
            let before = state.current().cloned();
            let mut fresh: SmallVec<[(S::Kept, &P); 1]> = SmallVec::new();
            for ((_, record), diff) in updates {
                if let (Some(kept), Change::Upsert(p)) =
                    (state.update(record, *diff, &mut keep), &record.change)
                {
                    fresh.push((kept, p));
                }
            }
            let after = state.current();
            if before.as_ref() != after {
                if let Some(kept) = after {
                    let payload = match fresh.iter().find(|(f, _)| f == kept) {
                        Some((_, p)) => (*p).clone(),
                        None => keep.load(kept),
                    };
                    output.push(((key.clone(), payload), 1));
                }
                if let Some(kept) = before {
                    output.push(((key.clone(), keep.load(&kept)), -1));
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::MemBlobs;

    fn rec(seq: u64, version: u64, change: Change<String>) -> Record<String> {
        Record {
            seq,
            version,
            change,
        }
    }

    fn up(s: &str) -> Change<String> {
        Change::Upsert(s.to_string())
    }

    /// The rule, with payloads kept by `keep`; `current` reads them back.
    fn follow_the_replace_rule<K: Keep<String>>(mut keep: K) {
        let mut c = Candidates::default();
        let current = |c: &Candidates<K::Kept>, keep: &mut K| c.current().map(|k| keep.load(k));
        c.update(&rec(0, 1, up("a")), 1, &mut keep);
        c.update(&rec(1, 2, up("b")), 1, &mut keep);
        assert_eq!(current(&c, &mut keep).as_deref(), Some("b"));
        // A lower version later in the sequence does not win, but survives a tombstone between.
        c.update(&rec(3, 1, up("c")), 1, &mut keep);
        assert_eq!(current(&c, &mut keep).as_deref(), Some("b"));
        c.update(&rec(2, 0, Change::Tombstone), 1, &mut keep);
        assert_eq!(current(&c, &mut keep).as_deref(), Some("c"));
        c.update(&rec(4, 5, Change::Delete), 2, &mut keep);
        assert_eq!(current(&c, &mut keep), None);
        // Retracting one of two copies keeps the delete; retracting both brings "c" back.
        c.update(&rec(4, 5, Change::Delete), -1, &mut keep);
        assert_eq!(current(&c, &mut keep), None);
        c.update(&rec(4, 5, Change::Delete), -1, &mut keep);
        assert_eq!(current(&c, &mut keep).as_deref(), Some("c"));
        // A duplicate is held once; a record differing only in payload is another record.
        assert!(c.update(&rec(3, 1, up("c")), 1, &mut keep).is_none());
        assert!(c.update(&rec(3, 1, up("c2")), 1, &mut keep).is_some());
        c.update(&rec(3, 1, up("c")), -2, &mut keep);
        assert_eq!(current(&c, &mut keep).as_deref(), Some("c2"));
    }

    /// One record (the usual case) is held in the entry without a capacity word.
    #[test]
    fn one_blob_record_takes_forty_bytes() {
        assert_eq!(std::mem::size_of::<Candidates<BlobRef>>(), 40);
    }

    #[test]
    fn candidates_follow_the_replace_rule_as_is() {
        follow_the_replace_rule(AsIs);
    }

    #[test]
    fn candidates_follow_the_replace_rule_serialized() {
        follow_the_replace_rule(Serialized::new(Box::new(MemBlobs::default())));
    }
}
