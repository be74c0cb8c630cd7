//! The replace rule as a dataflow operator: records per identity → the identity's current payload.

use differential_dataflow::lattice::Lattice;
use differential_dataflow::{ExchangeData, Hashable, VecCollection};
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::event::{current, Record};
use crate::keyed::keyed_fold;

/// The records of one identity, each with its multiplicity (a duplicate delivery counts once
/// in the rule, but must be retracted as often as it was added). The usual one record is kept
/// inline, in the state map's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidates<P> {
    records: smallvec::SmallVec<[(Record<P>, isize); 1]>,
}

impl<P> Default for Candidates<P> {
    fn default() -> Self {
        Candidates {
            records: smallvec::SmallVec::new(),
        }
    }
}

impl<P: Clone + PartialEq> Candidates<P> {
    /// Adds `diff` copies of a record (a negative `diff` retracts).
    pub fn update(&mut self, record: &Record<P>, diff: isize) {
        match self.records.iter().position(|(r, _)| r == record) {
            Some(i) => {
                self.records[i].1 += diff;
                if self.records[i].1 == 0 {
                    self.records.swap_remove(i);
                }
            }
            None if diff != 0 => self.records.push((record.clone(), diff)),
            None => {}
        }
    }

    /// The current payload under the replace rule.
    pub fn current(&self) -> Option<&P> {
        current(self.records.iter().filter(|(_, n)| *n > 0).map(|(r, _)| r))
    }
}

/// Keeps, per key, the payload of the winning record (see [`current`]); deleted and tombstoned
/// identities have no output. Each key keeps its records (sources supersede records rather
/// than retract them, but a retraction is applied exactly).
pub fn upsert<'scope, T, K, P>(
    records: VecCollection<'scope, T, (K, Record<P>)>,
) -> VecCollection<'scope, T, (K, P)>
where
    T: Timestamp + Lattice + TotalOrder,
    K: ExchangeData + Hashable + std::hash::Hash,
    P: ExchangeData,
{
    keyed_fold(
        records,
        "Upsert",
        |key: &K, state: &mut Candidates<P>, updates, output| {
            let before = state.current().cloned();
            for ((_, record), diff) in updates {
                state.update(record, *diff);
            }
            let after = state.current();
            if before.as_ref() != after {
                if let Some(p) = after {
                    output.push(((key.clone(), p.clone()), 1));
                }
                if let Some(p) = before {
                    output.push(((key.clone(), p), -1));
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Change;

    fn rec(seq: u64, version: u64, change: Change<&'static str>) -> Record<&'static str> {
        Record {
            seq,
            version,
            change,
        }
    }

    #[test]
    fn candidates_follow_the_replace_rule() {
        let mut c = Candidates::default();
        c.update(&rec(0, 1, Change::Upsert("a")), 1);
        c.update(&rec(1, 2, Change::Upsert("b")), 1);
        assert_eq!(c.current(), Some(&"b"));
        // A lower version later in the sequence does not win, but survives a tombstone between.
        c.update(&rec(3, 1, Change::Upsert("c")), 1);
        assert_eq!(c.current(), Some(&"b"));
        c.update(&rec(2, 0, Change::Tombstone), 1);
        assert_eq!(c.current(), Some(&"c"));
        c.update(&rec(4, 5, Change::Delete), 2);
        assert_eq!(c.current(), None);
        // Retracting one of two copies keeps the delete; retracting both brings "c" back.
        c.update(&rec(4, 5, Change::Delete), -1);
        assert_eq!(c.current(), None);
        c.update(&rec(4, 5, Change::Delete), -1);
        assert_eq!(c.current(), Some(&"c"));
    }
}
