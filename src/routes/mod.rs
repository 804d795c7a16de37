//! Reverse-proxy routes as the proxies are configured: what Traefik builds from container
//! labels and its own command line, and what an nginx configuration routes where.
//!
//! This module owns the parsing layer of the Routes pane. It is pure: it takes labels,
//! arguments, exposed ports and configuration text, and gives plain data (routers,
//! services, servers, locations, upstreams) with findings for what is broken or cannot be
//! read. It never fails and never panics on any input. It does not talk to Docker, does
//! not know the live state of containers and draws nothing: joining a route to a running,
//! healthy, reachable container is the job of the layer above, with the engine's view.
//!
//! - [`traefik_rule`]: the rule language (``Host(`a`) && PathPrefix(`/api`)``).
//! - [`traefik_labels`]: the Docker provider's reading of `traefik.*` labels, with its
//!   implicit defaults, and checks across containers.
//! - [`traefik_static`]: Traefik's entry points, provider options and certificate
//!   resolvers, from its arguments, environment or configuration file.
//! - [`nginx`]: a tolerant nginx configuration reader.

pub mod detect;
pub mod nginx;
pub mod table;
pub mod traefik_labels;
pub mod traefik_rule;
pub mod traefik_static;

pub use nginx::{
    Action as NginxAction, Config as NginxConfig, Finding as NginxFinding,
    FindingKind as NginxFindingKind, Routes as NginxRoutes,
};
pub use traefik_labels::{
    ContainerRoutes, Exposure, Finding as TraefikFinding, FindingKind as TraefikFindingKind,
    ProviderSettings, Router, Service, cross_check, read_labels,
};
pub use traefik_rule::{Protocol, Rule, RuleError};
pub use traefik_static::{EntryPoint, StaticConfig};

#[cfg(test)]
mod testutil;
