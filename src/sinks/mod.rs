//! Sinks: where committed snapshots go. Each connector lives in its own module; `memory` is the reference.

pub mod memory;

use crate::snapshot::Snapshot;

/// A destination for snapshots. `commit` must apply the whole snapshot or nothing.
pub trait Sink {
    fn name(&self) -> &'static str;
    fn commit(&mut self, snapshot: &Snapshot) -> Result<(), SinkError>;
}

/// A sink failure, with whether retrying can help.
#[derive(Debug, thiserror::Error)]
#[error("{sink}: {message}")]
pub struct SinkError {
    pub sink: &'static str,
    pub message: String,
    pub retryable: bool,
}
