//! trendflow's service side: command line, engine (timely workers, epochs, snapshots), sources, sinks, tools.

pub mod admin;
pub mod cli;
pub mod columns;
pub mod config;
pub mod engine;
pub mod eval;
pub mod gen;
pub mod memory;
pub mod produce;
pub mod run;
pub mod shutdown;
pub mod sinks;
pub mod snapshot;
pub mod sources;
pub mod spill;
pub mod telemetry;
