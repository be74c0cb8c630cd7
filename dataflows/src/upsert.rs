//! The replace rule as a dataflow operator: records per identity → the identity's current payload.

use differential_dataflow::lattice::Lattice;
use differential_dataflow::{ExchangeData, Hashable, VecCollection};
use timely::progress::Timestamp;

use crate::event::{current, Record};

/// Keeps, per key, the payload of the winning record (see [`current`]); deleted and tombstoned
/// identities have no output. Input records are never retracted by sources, only superseded.
pub fn upsert<'scope, T, K, P>(
    records: VecCollection<'scope, T, (K, Record<P>)>,
) -> VecCollection<'scope, T, (K, P)>
where
    T: Timestamp + Lattice + Ord,
    K: ExchangeData + Hashable,
    P: ExchangeData,
{
    records.reduce(|_key, input, output| {
        if let Some(p) = current(input.iter().filter(|(_, n)| *n > 0).map(|(r, _)| *r)) {
            output.push((p.clone(), 1));
        }
    })
}
