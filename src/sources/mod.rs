//! Sources: where raw messages come from, cut into epochs (files now; Kafka in its own module).

pub mod file;

use dataflows::event::{EventKind, Seq};

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
}

/// A source hands out epochs of messages until it is exhausted.
pub trait Source: Send {
    /// A label for dead letters and logs (a file path, or a topic list).
    fn origin(&self) -> String;
    /// The next epoch's messages; `Ok(None)` when the source is exhausted.
    fn next_epoch(&mut self) -> std::io::Result<Option<Vec<RawMessage>>>;
}
