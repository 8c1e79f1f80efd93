//! cordon: a network-telemetry enforcement agent for a campus network.
//!
//! A pure core (`parse`, `flow`, `detect`, `policy`, `model`) and an I/O shell (`ingest`,
//! `store`, `notify`, `enforce`, `api`, `agent`, `cli`). See ARCHITECTURE.md.

pub mod agent;
pub mod api;
pub mod cli;
pub mod config;
pub mod detect;
pub mod enforce;
pub mod flow;
mod hint;
pub mod ingest;
pub mod inventory;
pub mod model;
pub mod notify;
pub mod parse;
pub mod policy;
mod slot_index;
pub mod store;
pub mod telemetry;
