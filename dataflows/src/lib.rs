//! trendflow's dataflow graph: event types and decoding, the replace rule, and the metrics and trend computations. No I/O.

// No unsafe code but the cache hint in `prefetch`, which allows it for itself.
#![deny(unsafe_code)]

pub mod blobs;
pub mod decode;
pub mod dense;
pub mod event;
pub mod graph;
pub mod hash;
pub mod keyed;
pub mod metrics;
pub mod oracle;
pub mod output;
pub mod prefetch;
pub mod trends;
pub mod upsert;

pub use differential_dataflow;
pub use timely;
