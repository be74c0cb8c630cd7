//! Sources: where raw messages come from, cut into epochs (files now; Kafka in its own module).

pub mod file;
pub mod kafka;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dataflows::event::{EventKind, Seq};

use crate::snapshot::SourceOffset;

/// One raw message as read from a source, before decoding.
#[derive(Clone, Debug)]
pub struct RawMessage {
    /// The event kind, when the source knows it (a topic, or a file of one kind).
    pub kind: Option<EventKind>,
    pub key: Option<Vec<u8>>,
    /// `None` is a tombstone.
    pub payload: Option<Vec<u8>>,
    pub seq: Seq,
    pub partition: i32,
    /// The topic it came from (Kafka), for dead letters; `None` for files.
    pub topic: Option<Arc<str>>,
}

/// What a source tells about the epoch it just handed out.
#[derive(Clone, Debug, Default)]
pub struct EpochInfo {
    /// Where each partition resumes after this epoch.
    pub offsets: Vec<SourceOffset>,
    /// The epoch re-reads input whose effects the sinks already hold (recovery): it rebuilds
    /// state and is not committed again.
    pub replay: bool,
    /// End offset of each partition as last seen (for lag), when known.
    pub end_offsets: std::collections::BTreeMap<(String, i32), i64>,
    /// The source had reached the end of its input when it cut this epoch.
    pub caught_up: bool,
}

/// Epochs a source has cut that the sinks have not committed yet, shared by the engine (which
/// counts them) and the source (which may close an epoch early while the pipeline is idle:
/// waiting then would only add latency).
#[derive(Clone, Debug, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// An epoch was cut and handed to the graph.
    pub fn cut(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// An epoch's snapshot was committed (or restored) by every sink.
    pub fn committed(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// No epoch is in the graph or waiting for a sink.
    pub fn is_idle(&self) -> bool {
        self.0.load(Ordering::Acquire) == 0
    }
}

/// A source hands out epochs of messages until it is exhausted.
pub trait Source: Send {
    /// A label for dead letters and logs (a file path, or a topic list).
    fn origin(&self) -> String;
    /// The next epoch's messages; `Ok(None)` when the source is exhausted.
    fn next_epoch(&mut self) -> std::io::Result<Option<Vec<RawMessage>>>;
    /// Positions and kind of the epoch last returned by `next_epoch`.
    fn epoch_info(&self) -> EpochInfo {
        EpochInfo::default()
    }
    /// Whether messages go to the worker `partition % workers` (Kafka partitions spread over
    /// workers) rather than round robin.
    fn by_partition(&self) -> bool {
        false
    }
    /// Hands the source the engine's count of epochs in flight. A source that cuts epochs by
    /// time may use it to close an epoch before its interval when nothing is in flight.
    fn watch(&mut self, _in_flight: InFlight) {}
}

impl Source for Box<dyn Source> {
    fn origin(&self) -> String {
        (**self).origin()
    }
    fn next_epoch(&mut self) -> std::io::Result<Option<Vec<RawMessage>>> {
        (**self).next_epoch()
    }
    fn epoch_info(&self) -> EpochInfo {
        (**self).epoch_info()
    }
    fn by_partition(&self) -> bool {
        (**self).by_partition()
    }
    fn watch(&mut self, in_flight: InFlight) {
        (**self).watch(in_flight)
    }
}
