//! The only code that talks to Docker.
//!
//! [`connect`] reaches an engine or says in words why it cannot. [`spawn`] starts a
//! [`supervisor`] for it: it lists everything once, follows the event stream (what an
//! event means is decided purely in [`events`]), re-inspects only what an event
//! touched, drives the stats collector, and when the engine goes away reports it and
//! reconnects with backoff. Everything it learns leaves as owned [`Update`]s on a
//! bounded channel; nothing here knows about the terminal.

pub mod actions;
pub mod cgroup;
pub mod compose_cli;
pub mod compose_files;
pub mod connect;
pub mod convert;
pub mod demo;
pub mod discover;
pub mod disk;
pub mod endpoint;
pub mod error;
pub mod events;
pub mod excerpts;
pub mod files;
pub mod fleet;
pub mod hijack;
pub mod host_files;
pub mod images;
pub mod inspections;
pub mod last_line;
pub mod logs;
pub mod podman;
pub mod ports;
pub mod processes;
pub mod proxy_files;
pub mod resolve;
pub mod shell;
pub mod ssh;
pub mod stats;
pub mod supervisor;
pub mod swarm;
pub mod tls;
pub mod updates;

pub use connect::{CONNECT_TIMEOUT, connect};
pub use endpoint::Endpoint;
pub use error::{ConnectError, EngineError, describe};
pub use stats::StatsSource;
pub use supervisor::{
    EngineCommand, EngineHandle, EngineOptions, INVENTORY_DEADLINE, Start, spawn, spawn_with,
};
