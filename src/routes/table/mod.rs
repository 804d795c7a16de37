//! The Routes pane's table: every reverse-proxy route and published port joined to the
//! live container it reaches, with a verdict.
//!
//! Pure: it reads the model (containers with their labels, state, health, networks,
//! ports and proxy configuration files) and the parsers beside it, and gives rows. The
//! engine only fetches the files; the panes, the map and the snapshot only read rows.

mod nginx;
mod traefik;

use std::collections::BTreeSet;

use crate::model::{Container, HealthStatus, HostId, Model};

use super::detect::{self, ProxyKind};

/// Where a route comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    Traefik,
    Nginx,
    /// A published port: the host forwards straight to the container.
    Port,
}

impl RouteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Traefik => "traefik",
            RouteKind::Nginx => "nginx",
            RouteKind::Port => "port",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Broken(String),
}

impl Verdict {
    pub fn is_ok(&self) -> bool {
        matches!(self, Verdict::Ok)
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Ok => None,
            Verdict::Broken(reason) => Some(reason),
        }
    }
}

/// One route: from an entry on the proxy (or the host) to a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub kind: RouteKind,
    /// The engine the proxy (or, for a published port, the container) runs on: a
    /// route never leaves its engine.
    pub host_id: HostId,
    /// The proxy's name (service or container), `host` for published ports.
    pub proxy: String,
    pub proxy_id: Option<String>,
    /// The proxy's container name (unique on the host, unlike a service name).
    pub proxy_container: Option<String>,
    /// Where requests come in: `websecure :443`, `listen 80`, `0.0.0.0:8080`.
    pub entrypoint: String,
    pub host: Option<String>,
    pub path: Option<String>,
    /// The configuration as written: a Traefik rule, `location ^~ /api/`.
    pub rule: Option<String>,
    /// What is matched, in words.
    pub matches: String,
    pub middlewares: Vec<String>,
    /// TLS terminated here, with the certificate resolver when there is one.
    pub tls: Option<String>,
    /// The Traefik router, or the nginx server and location, for the operator to find it.
    pub name: Option<String>,
    pub target_id: Option<String>,
    /// The target's service (or container) name, when the route reaches a container.
    pub target_container: Option<String>,
    /// Its container name, unique on the host.
    pub target_name: Option<String>,
    pub target_port: Option<u16>,
    /// What the route reaches, as shown: `frontend:3000`, `redirect to websecure`,
    /// `files /usr/share/nginx/html`, `upstream app → nothing`.
    pub target: String,
    /// The target's state and health in words.
    pub target_state: Option<String>,
    pub websocket: bool,
    pub verdict: Verdict,
    /// Worth knowing but not breaking (a fallback network, a variable target).
    pub note: Option<String>,
}

impl Route {
    fn new(kind: RouteKind, proxy: Option<&Container>) -> Route {
        Route {
            kind,
            // Stamped by `RouteTable::from_containers`, which builds one engine at a time.
            host_id: 0,
            proxy: proxy.map_or_else(|| "host".to_string(), |p| p.display_name().to_string()),
            proxy_id: proxy.map(|p| p.id.clone()),
            proxy_container: proxy.map(|p| p.name.clone()),
            entrypoint: String::new(),
            host: None,
            path: None,
            rule: None,
            matches: String::new(),
            middlewares: Vec::new(),
            tls: None,
            name: None,
            target_id: None,
            target_container: None,
            target_name: None,
            target_port: None,
            target: String::new(),
            target_state: None,
            websocket: false,
            verdict: Verdict::Ok,
            note: None,
        }
    }

    fn reach(&mut self, target: &Container, port: Option<u16>) {
        self.target_id = Some(target.id.clone());
        self.target_container = Some(target.display_name().to_string());
        self.target_name = Some(target.name.clone());
        self.target_port = port;
        self.target = match port {
            Some(port) => format!("{}:{port}", target.display_name()),
            None => target.display_name().to_string(),
        };
        self.target_state = Some(target.state_and_health());
    }

    fn break_with(&mut self, reason: impl Into<String>) {
        if self.verdict.is_ok() {
            self.verdict = Verdict::Broken(reason.into());
        }
    }
}

/// Something about a proxy's configuration as a whole: a file that could not be
/// read, a line nginx would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyNote {
    /// The engine the proxy runs on.
    pub host_id: HostId,
    pub proxy: String,
    pub proxy_id: Option<String>,
    pub message: String,
}

/// Every route on the host, grouped by proxy and then by host name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    pub routes: Vec<Route>,
    pub notes: Vec<ProxyNote>,
}

impl RouteTable {
    pub fn build(model: &Model) -> RouteTable {
        let containers: Vec<&Container> = model.containers.values().collect();
        Self::from_containers(&containers)
    }

    /// The routes that start or end at a container of `project` (all, without one),
    /// and the notes of its proxies. Routes are resolved over every container first:
    /// a project's proxy may reach containers of another.
    pub fn build_for(model: &Model, project: Option<&str>) -> RouteTable {
        let mut table = Self::build(model);
        if project.is_some() {
            let in_project = |id: &Option<String>| {
                id.as_ref()
                    .and_then(|id| model.containers.get(id))
                    .is_some_and(|c| c.in_project(project))
            };
            table.routes.retain(|r| in_project(&r.proxy_id) || in_project(&r.target_id));
            table.notes.retain(|n| in_project(&n.proxy_id));
        }
        table
    }

    /// The routes of containers of any engines: a proxy reaches containers of its own
    /// engine only (names, services, aliases and ports are per engine), so each engine
    /// is resolved on its own.
    pub fn from_containers(containers: &[&Container]) -> RouteTable {
        let mut hosts: Vec<HostId> = containers.iter().map(|c| c.host).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut table = RouteTable::default();
        for host in hosts {
            let on_host: Vec<&Container> =
                containers.iter().filter(|c| c.host == host).copied().collect();
            let mut part = Self::from_one_engine(&on_host);
            for route in &mut part.routes {
                route.host_id = host;
            }
            for note in &mut part.notes {
                note.host_id = host;
            }
            table.routes.extend(part.routes);
            table.notes.extend(part.notes);
        }
        table
    }

    fn from_one_engine(containers: &[&Container]) -> RouteTable {
        let mut table = RouteTable::default();
        let proxies: Vec<(&Container, ProxyKind)> = containers
            .iter()
            .filter_map(|c| detect::proxy_kind(c).map(|kind| (*c, kind)))
            .collect();
        let traefiks: Vec<&Container> =
            proxies.iter().filter(|(_, k)| *k == ProxyKind::Traefik).map(|(c, _)| *c).collect();
        traefik::routes(containers, &traefiks, &mut table);
        for (proxy, kind) in &proxies {
            if *kind == ProxyKind::Nginx {
                nginx::routes(containers, proxy, &mut table);
            }
        }
        published_ports(containers, &mut table);
        table.routes.sort_by(|a, b| {
            (a.kind, &a.proxy, a.host.is_none(), &a.host, &a.path, entry_port(a), &a.entrypoint)
                .cmp(&(
                    b.kind,
                    &b.proxy,
                    b.host.is_none(),
                    &b.host,
                    &b.path,
                    entry_port(b),
                    &b.entrypoint,
                ))
        });
        table
    }

    pub fn broken(&self) -> usize {
        self.routes.iter().filter(|r| !r.verdict.is_ok()).count()
    }
}

/// The port in `0.0.0.0:8080/tcp`, so ports sort as numbers.
fn entry_port(route: &Route) -> u32 {
    let port = route.entrypoint.rsplit_once(':').map(|(_, p)| p.split('/').next().unwrap_or(p));
    port.and_then(|p| p.parse().ok()).unwrap_or(u32::MAX)
}

/// Why a route to `target` does not work because of the target itself: not running,
/// not healthy (`strict_health`: Traefik leaves out containers that are not yet
/// healthy), or the port is not one the container exposes.
fn target_problem(target: &Container, port: Option<u16>, strict_health: bool) -> Option<String> {
    let name = target.display_name();
    if !target.state.is_running() {
        return Some(format!("target {name} is not running ({})", target.state_and_health()));
    }
    match target.health_status() {
        HealthStatus::Unhealthy if strict_health => {
            return Some(format!("target {name} is unhealthy: Traefik drops unhealthy containers"));
        }
        HealthStatus::Unhealthy => {
            return Some(format!("target {name} is unhealthy: its health probe fails"));
        }
        HealthStatus::Starting if strict_health => {
            return Some(format!(
                "target {name} is still starting: Traefik routes to it once it is healthy"
            ));
        }
        _ => {}
    }
    let exposed = exposed_ports(target);
    if let Some(port) = port
        && !exposed.is_empty()
        && !exposed.contains(&port)
    {
        let list: Vec<String> = exposed.iter().map(u16::to_string).collect();
        return Some(format!(
            "port {port} is not exposed by {name} (it exposes {})",
            list.join(", ")
        ));
    }
    None
}

/// The TCP ports a container exposes or publishes, lowest first.
pub fn exposed_ports(c: &Container) -> Vec<u16> {
    let mut ports: Vec<u16> =
        c.ports.iter().filter(|p| p.protocol != "udp").map(|p| p.container_port).collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Networks both containers are attached to.
fn shared_networks<'a>(a: &'a Container, b: &Container) -> Vec<&'a str> {
    a.networks
        .iter()
        .filter(|n| b.networks.iter().any(|m| m.name == n.name))
        .map(|n| n.name.as_str())
        .collect()
}

fn network_list(c: &Container) -> String {
    if c.networks.is_empty() {
        return c.network_mode.clone().unwrap_or_else(|| "no network".to_string());
    }
    c.networks.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The reason a proxy cannot reach a target over the network, if it cannot.
fn network_problem(proxy: &Container, target: &Container) -> Option<String> {
    if proxy.id == target.id {
        return None;
    }
    let host_mode = |c: &Container| c.network_mode.as_deref() == Some("host");
    if host_mode(proxy) && !target.ports.iter().any(|p| p.is_published()) {
        return Some(format!(
            "{} uses the host's network and {} publishes no port",
            proxy.display_name(),
            target.display_name()
        ));
    }
    if host_mode(proxy) || host_mode(target) {
        return None;
    }
    if shared_networks(proxy, target).is_empty() {
        return Some(format!(
            "no network shared with the proxy ({} is on {}; {} on {})",
            target.display_name(),
            network_list(target),
            proxy.display_name(),
            network_list(proxy)
        ));
    }
    None
}

/// The host port a proxy's container port is published on: ` (host 8443)` when it
/// differs, nothing when it is the same or not published.
fn host_port_suffix(proxy: &Container, container_port: u16) -> String {
    let published =
        proxy.ports.iter().find(|p| p.container_port == container_port && p.host_port.is_some());
    match published.and_then(|p| p.host_port) {
        Some(host) if host != container_port => format!(" (host {host})"),
        Some(_) => String::new(),
        None => " (not published)".to_string(),
    }
}

fn published_ports(containers: &[&Container], table: &mut RouteTable) {
    for c in containers {
        for port in c.ports.iter().filter(|p| p.is_published()) {
            let Some(host_port) = port.host_port else { continue };
            let ip = port.host_ip.as_deref().filter(|ip| !ip.is_empty()).unwrap_or("0.0.0.0");
            let ip = if ip.contains(':') { format!("[{ip}]") } else { ip.to_string() };
            let mut route = Route::new(RouteKind::Port, None);
            route.entrypoint = format!("{ip}:{host_port}/{}", port.protocol);
            route.matches = format!("every {} connection", port.protocol.to_ascii_uppercase());
            route.reach(c, Some(port.container_port));
            if let Some(problem) = target_problem(c, None, false) {
                route.break_with(problem);
            }
            table.routes.push(route);
        }
    }
    // IPv4 and IPv6 bindings of the same port say the same thing twice.
    let mut seen: BTreeSet<(String, u16, u16, String)> = BTreeSet::new();
    table.routes.retain(|r| {
        if r.kind != RouteKind::Port {
            return true;
        }
        let port = r.entrypoint.rsplit_once(':').and_then(|(_, p)| p.split('/').next());
        let host_port = port.and_then(|p| p.parse().ok()).unwrap_or(0);
        let wildcard = r.entrypoint.starts_with("0.0.0.0:") || r.entrypoint.starts_with("[::]:");
        let key = (
            r.target_id.clone().unwrap_or_default(),
            host_port,
            r.target_port.unwrap_or(0),
            if wildcard { "*".to_string() } else { r.entrypoint.clone() },
        );
        seen.insert(key)
    });
}

#[cfg(test)]
mod tests;
