//! Parquet exports (SPEC 4.3): consistent, atomically published snapshots of every output table.
