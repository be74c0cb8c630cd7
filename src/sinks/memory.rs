//! An in-memory sink that applies snapshots as a database would (upsert by key, delete by key); used by `--verify` and tests.

use std::collections::BTreeMap;

use dataflows::output::{Row, RowKey, Table};

use super::{Sink, SinkError};
use crate::snapshot::Snapshot;

/// Tables as key → row maps.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub tables: BTreeMap<Table, BTreeMap<RowKey, Row>>,
}

impl MemorySink {
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.tables.values().flat_map(|t| t.values())
    }
}

impl Sink for MemorySink {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn commit(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        for (table, changes) in &snapshot.tables {
            let rows = self.tables.entry(*table).or_default();
            for key in &changes.deletes {
                rows.remove(key);
            }
            for row in &changes.upserts {
                rows.insert(row.key(), row.clone());
            }
        }
        Ok(())
    }
}
