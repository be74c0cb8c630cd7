//! Sinks: where committed snapshots go. Each connector lives in its own module; `memory` is the reference.

pub mod memory;
pub mod parquet;
pub mod sql;

use crate::snapshot::{Snapshot, SourceOffset};

/// A destination for snapshots. `commit` must apply the whole snapshot or nothing.
pub trait Sink {
    fn name(&self) -> &'static str;
    fn commit(&mut self, snapshot: &Snapshot) -> Result<(), SinkError>;
    /// The last epoch this sink has committed (0 when it holds none); a new run numbers its
    /// epochs after the largest of its sinks' so that every sink agrees on which epoch is which.
    fn last_epoch(&self) -> u64 {
        0
    }
    /// Source offsets stored with the last committed snapshot (where input resumes).
    fn stored_offsets(&self) -> Vec<SourceOffset> {
        Vec::new()
    }
    /// Sees a snapshot rebuilt from input the sink already holds (recovery replay): sinks that
    /// keep state in memory (Parquet) apply it; databases ignore it.
    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        let _ = snapshot;
        Ok(())
    }
    /// Called once after the last snapshot of a run: publish anything held back (e.g. by an
    /// export cadence).
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A sink failure, with whether retrying can help.
#[derive(Debug, thiserror::Error)]
#[error("{sink}: {message}")]
pub struct SinkError {
    pub sink: &'static str,
    pub message: String,
    pub retryable: bool,
}
