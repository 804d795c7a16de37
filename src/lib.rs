//! portolan: a live chart of a Docker host.
//!
//! - [`audit`] turns the usual compose hardening rules into findings per container, purely.
//! - [`config`] reads the config file and prints the commented defaults.
//! - [`derived`] memoises what several readers derive from the model (problems,
//!   findings, routes, the map's graph), once per change.
//! - [`demo`] holds the demo stacks, common compose architectures as data, and plans them.
//! - [`engine`] talks to the Docker Engine API and sends owned [`model::Update`]s.
//! - [`model`] is the one live state, pure and unit-tested.
//! - [`snapshot`] is `portolan snapshot`: it waits for a complete view, then writes it as
//!   JSON, or a pane as text or SVG.
//! - [`topology`] derives the map's graph and layout from the model, purely.
//! - [`ui`] is the ratatui front end.

pub mod audit;
pub mod cli;
pub mod config;
pub mod demo;
pub mod derived;
pub mod engine;
pub mod model;
pub mod record;
pub mod routes;
pub mod snapshot;
pub mod timeline;
pub mod topology;
pub mod triage;
pub mod ui;
