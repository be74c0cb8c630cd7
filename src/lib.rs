//! trendflow's service side: command line, engine (timely workers, epochs, snapshots), sources, sinks, tools.

pub mod admin;
pub mod cli;
pub mod columns;
pub mod config;
pub mod engine;
pub mod eval;
pub mod gen;
pub mod produce;
pub mod run;
pub mod shutdown;
pub mod sinks;
pub mod snapshot;
pub mod sources;
pub mod spill;
pub mod telemetry;

/// The allocator of every trendflow binary, test and bench: the workload is millions of small
/// strings allocated on one worker thread and freed on another, where glibc's malloc spends a
/// fifth of the time (`malloc_consolidate`, `unlink_chunk` in the cold-load profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
