//! A snapshot: the consolidated changes of one completed epoch, ready for the sinks to commit.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use dataflows::keyed::StateHasher;
use dataflows::output::{Row, RowKey, Table};

/// Rows changed at one time (an epoch), as timely delivers them: `(row, time, diff)`.
pub type RowBatch = dataflows::keyed::Batch<Row, u64>;

/// A message that could not be decoded, kept with its reason and origin (SPEC 2.3).
#[derive(Clone, Debug)]
pub struct DeadLetter {
    /// Topic name, or the input file path.
    pub origin: String,
    pub partition: i32,
    /// Kafka offset, or the line number in a file (0-based).
    pub offset: u64,
    pub field: String,
    pub reason: &'static str,
    pub error: String,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
}

/// Where a source partition resumes after a snapshot: stored with it, in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceOffset {
    /// Topic name, or the input file path.
    pub source: String,
    pub partition: i32,
    /// The next offset (Kafka) or line (file) to read.
    pub next_offset: i64,
}

/// Changes to one table in one epoch: rows to insert or replace, and keys to delete.
#[derive(Clone, Debug, Default)]
pub struct TableChanges {
    /// Rows to write by key: first the `new_keys` rows whose key the table did not hold
    /// before the epoch, then those replacing the key's row.
    pub upserts: Vec<Row>,
    /// How many of `upserts`, from the front, are new keys. The graph's tables hold one row
    /// per key, so a key is new exactly when no row of it was removed in the epoch.
    pub new_keys: usize,
    pub deletes: Vec<RowKey>,
}

impl TableChanges {
    /// Rows whose key the table did not hold before the epoch.
    pub fn inserts(&self) -> &[Row] {
        &self.upserts[..self.new_keys.min(self.upserts.len())]
    }

    /// Rows that replace the row their key held before the epoch.
    pub fn replacements(&self) -> &[Row] {
        &self.upserts[self.new_keys.min(self.upserts.len())..]
    }

    pub fn len(&self) -> usize {
        self.upserts.len() + self.deletes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.deletes.is_empty()
    }
}

/// Emptied row vectors of committed snapshots, kept for the next snapshots' tables while
/// epochs keep coming: a backfill epoch's table vectors are tens of MB each, and fresh ones
/// were faulted in page by page every epoch (a third of a cold load's page faults). Bounded
/// to two snapshots' worth, and given back to the allocator when the engine goes idle.
#[derive(Debug, Default)]
struct RowVecs {
    /// Whether vectors given back are kept (an epoch is being assembled).
    open: bool,
    free: Vec<Vec<Row>>,
}

/// Row vectors kept at most.
const KEPT_ROW_VECS: usize = 2 * Table::ALL.len();

impl RowVecs {
    /// An empty vector for `n` rows: the smallest kept one that holds them, else a new one.
    fn take(&mut self, n: usize) -> Vec<Row> {
        self.open = true;
        let best = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= n)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        match best {
            Some(i) => self.free.swap_remove(i),
            None => Vec::with_capacity(n),
        }
    }

    /// Keeps an emptied vector, if epochs are coming and fewer than the bound are kept.
    fn give_back(&mut self, rows: Vec<Row>) {
        debug_assert!(rows.is_empty());
        if self.open && rows.capacity() > 0 && self.free.len() < KEPT_ROW_VECS {
            self.free.push(rows);
        }
    }

    /// Stops keeping vectors and hands over those kept, to be freed.
    fn close(&mut self) -> Vec<Vec<Row>> {
        self.open = false;
        std::mem::take(&mut self.free)
    }
}

/// The engine's [`RowVecs`], shared by the thread that assembles snapshots (takes vectors)
/// and the one that frees them (gives them back).
#[derive(Clone, Debug, Default)]
pub struct RowVecPool(Arc<Mutex<RowVecs>>);

impl RowVecPool {
    fn lock(&self) -> MutexGuard<'_, RowVecs> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self, n: usize) -> Vec<Row> {
        if n == 0 {
            return Vec::new();
        }
        self.lock().take(n)
    }

    /// Frees a committed snapshot's rows, keeping its tables' vectors for the next snapshots
    /// while epochs keep coming.
    pub fn recycle(&self, snapshot: Snapshot) {
        for (_, changes) in snapshot.tables {
            let mut rows = changes.upserts;
            rows.clear();
            self.lock().give_back(rows);
        }
    }

    /// Gives the kept vectors back to the allocator (the engine has no epoch in flight).
    pub fn release(&self) {
        let kept = self.lock().close();
        // Freed outside the lock.
        drop(kept);
    }
}

/// One committed epoch.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub epoch: u64,
    pub tables: BTreeMap<Table, TableChanges>,
    /// The event-time watermark after this epoch (ms), once any article was seen.
    pub watermark: Option<i64>,
    /// Net change of each table's row count.
    pub row_delta: BTreeMap<Table, i64>,
    pub events_in: u64,
    pub rejected: u64,
    pub dead_letters: Vec<DeadLetter>,
    /// Source positions this snapshot covers (empty for sources that always start over).
    pub offsets: Vec<SourceOffset>,
    /// Rebuilt from input the sinks already hold (recovery): not committed again.
    pub replay: bool,
    /// Messages read per topic (or input file).
    pub events_by_origin: BTreeMap<String, u64>,
    /// When the epoch's input was cut (for the epoch latency).
    pub cut_at: Option<std::time::Instant>,
    /// End offset of each partition as last seen by the source, for lag.
    pub end_offsets: BTreeMap<(String, i32), i64>,
    /// The source had reached the end of its input when it cut this epoch.
    pub caught_up: bool,
}

impl Snapshot {
    /// Turns an epoch's consolidated row changes into upserts and deletes: a row whose count
    /// went up is written; a key whose old row went away and got no new row is deleted.
    pub fn from_net(epoch: u64, net: impl IntoIterator<Item = (Row, i64)>) -> Snapshot {
        let net: RowBatch = net
            .into_iter()
            .map(|(r, d)| (r, epoch, d as isize))
            .collect();
        Snapshot::from_shares(epoch, vec![net])
    }

    /// [`Snapshot::from_net`] over the changes in several shares (worker batches as they came,
    /// each row in one share): the rows are moved once, into tables sized beforehand. A key's
    /// row removed and written again in the same epoch is a replacement, even when the two
    /// rows are equal (workers cancel those before, see `keyed::cancel_retracted`).
    pub fn from_shares(epoch: u64, shares: Vec<RowBatch>) -> Snapshot {
        Snapshot::from_shares_in(epoch, shares, &RowVecPool::default())
    }

    /// [`Snapshot::from_shares`] with the tables' vectors taken from `pool`.
    pub fn from_shares_in(epoch: u64, shares: Vec<RowBatch>, pool: &RowVecPool) -> Snapshot {
        const TABLES: usize = Table::ALL.len();
        // First pass, by reference: each table's size, and the keys of removed rows, each
        // marked once a row of the same key is written again (a replacement); the unmarked
        // ones are deleted. Their hashes let the rows written skip building their own key
        // unless it may be one of them.
        // The key hashes are hashes already: the sets hash them once more with the cheap
        // hasher of the graph's state, not std's SipHash.
        let mut sizes = [0usize; TABLES];
        let mut removed_keys: HashMap<(Table, RowKey), bool, StateHasher> = HashMap::default();
        let mut removed_hashes: [HashSet<u64, StateHasher>; TABLES] = Default::default();
        for (row, _, diff) in shares.iter().flatten() {
            let table = row.table();
            if *diff > 0 {
                sizes[table as usize] += 1;
            } else if *diff < 0 {
                removed_hashes[table as usize].insert(row.key_hash());
                removed_keys.insert((table, row.key()), false);
            }
        }
        // Second pass, moving the rows: new keys and replacements apart, each in arrival order.
        let mut upserts: Vec<Vec<Row>> = sizes.iter().map(|n| pool.take(*n)).collect();
        let mut replacing: Vec<Vec<Row>> = (0..TABLES).map(|_| Vec::new()).collect();
        let mut delta: [Option<i64>; TABLES] = [None; TABLES];
        for (row, _, diff) in shares.into_iter().flatten() {
            let table = row.table();
            let t = table as usize;
            *delta[t].get_or_insert(0) += diff as i64;
            if diff <= 0 {
                continue;
            }
            let replaces = !removed_hashes[t].is_empty()
                && removed_hashes[t].contains(&row.key_hash())
                && match removed_keys.get_mut(&(table, row.key())) {
                    Some(replaced) => {
                        *replaced = true;
                        true
                    }
                    None => false,
                };
            if replaces {
                replacing[t].push(row);
            } else {
                upserts[t].push(row);
            }
        }
        let row_delta: BTreeMap<Table, i64> = Table::ALL
            .into_iter()
            .zip(delta)
            .filter_map(|(t, d)| Some((t, d?)))
            .collect();
        let mut tables: BTreeMap<Table, TableChanges> = BTreeMap::new();
        for ((table, mut rows), replacing) in Table::ALL.into_iter().zip(upserts).zip(replacing) {
            let new_keys = rows.len();
            rows.extend(replacing);
            if !rows.is_empty() {
                tables.insert(
                    table,
                    TableChanges {
                        upserts: rows,
                        new_keys,
                        deletes: Vec::new(),
                    },
                );
            }
        }
        for ((table, key), replaced) in removed_keys {
            if !replaced {
                tables.entry(table).or_default().deletes.push(key);
            }
        }
        for changes in tables.values_mut() {
            changes.deletes.sort_unstable();
        }
        Snapshot {
            epoch,
            tables,
            row_delta,
            ..Snapshot::default()
        }
    }

    /// Rows changed per table, for the `snapshots` record and logs.
    pub fn rows_changed(&self) -> BTreeMap<&'static str, usize> {
        self.tables
            .iter()
            .map(|(t, c)| (t.name(), c.len()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::metrics::CollectorResultRow;

    fn row(id: &str, version: u64) -> Row {
        Row::CollectorResult(CollectorResultRow {
            id: id.into(),
            brand_name: None,
            created_at: 0,
            version,
            raw_answer: None,
        })
    }

    #[test]
    fn row_vectors_are_reused_while_open_and_let_go_when_closed() {
        let mut vecs = RowVecs::default();
        // Closed (no epoch assembled yet): a vector given back is not kept.
        vecs.give_back(Vec::with_capacity(1000));
        assert!(vecs.free.is_empty());
        let big = vecs.take(1000);
        let at = big.as_ptr();
        vecs.give_back(Vec::with_capacity(10));
        vecs.give_back(big);
        // The smallest kept vector that holds the rows, else a new one.
        assert_eq!(vecs.take(5).capacity(), 10);
        assert!(vecs.take(2000).capacity() >= 2000);
        let reused = vecs.take(800);
        assert_eq!(reused.as_ptr(), at);
        assert!(vecs.free.is_empty());
        for _ in 0..KEPT_ROW_VECS + 3 {
            vecs.give_back(Vec::with_capacity(1));
        }
        assert_eq!(vecs.free.len(), KEPT_ROW_VECS);
        assert_eq!(vecs.close().len(), KEPT_ROW_VECS);
        vecs.give_back(Vec::with_capacity(1));
        assert!(vecs.free.is_empty());
    }

    #[test]
    fn replacement_is_an_upsert_and_removal_a_delete() {
        let s = Snapshot::from_net(
            3,
            vec![(row("a", 1), -1), (row("a", 2), 1), (row("b", 1), -1)],
        );
        let changes = &s.tables[&Table::CollectorResults];
        assert_eq!(changes.upserts, vec![row("a", 2)]);
        assert_eq!(changes.deletes, vec![vec!["b".to_string()]]);
        assert!(changes.inserts().is_empty());
        assert_eq!(changes.replacements(), &[row("a", 2)][..]);
    }

    #[test]
    fn new_keys_come_first_and_replacements_after() {
        let s = Snapshot::from_net(
            4,
            vec![
                (row("r", 2), 1),
                (row("n1", 1), 1),
                (row("r", 1), -1),
                (row("gone", 3), -1),
                (row("n2", 1), 1),
            ],
        );
        let changes = &s.tables[&Table::CollectorResults];
        assert_eq!(changes.inserts(), &[row("n1", 1), row("n2", 1)][..]);
        assert_eq!(changes.replacements(), &[row("r", 2)][..]);
        assert_eq!(changes.deletes, vec![vec!["gone".to_string()]]);
        assert_eq!(s.row_delta[&Table::CollectorResults], 1);
        // The same changes spread over shares (the removed row in one, its replacement in
        // another) give the same snapshot.
        let shares = Snapshot::from_shares(
            4,
            vec![
                vec![(row("r", 2), 4, 1), (row("gone", 3), 4, -1)],
                vec![(row("n1", 1), 4, 1), (row("r", 1), 4, -1)],
                vec![(row("n2", 1), 4, 1)],
            ],
        );
        let changes = &shares.tables[&Table::CollectorResults];
        assert_eq!(changes.inserts(), &[row("n1", 1), row("n2", 1)][..]);
        assert_eq!(changes.replacements(), &[row("r", 2)][..]);
        assert_eq!(changes.deletes, vec![vec!["gone".to_string()]]);
        assert_eq!(shares.row_delta, s.row_delta);
        // A table without removals: every row is new.
        let s = Snapshot::from_net(5, vec![(row("x", 1), 1), (row("y", 1), 1)]);
        assert_eq!(s.tables[&Table::CollectorResults].inserts().len(), 2);
    }
}
