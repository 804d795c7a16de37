//! The map's graph: which containers there are, which network each is drawn in, and
//! what points at what — derived purely from the [`Model`], as an architecture diagram.
//!
//! This module owns the rules that turn engine facts into boxes and arrows: the
//! primary network of a container on several, which environment values name another
//! container, what a published port looks like from the host, which volumes are
//! persistent. Where things go on screen is [`layout`]'s job and how they are drawn is
//! the map pane's; neither lives here. No I/O, no ratatui, no tokio. Live numbers
//! (CPU, memory) are not part of the graph: the pane reads them at render time, so a
//! stats tick never changes the graph or its layout.

pub mod fixtures;
mod infer;
pub mod layout;

use std::collections::{BTreeMap, BTreeSet};

pub use infer::{EnvTarget, default_port, parse_env_targets};

use crate::model::natural::natural_cmp;
use crate::model::sanitize::one_line;
use crate::model::{Container, ContainerState, HealthStatus, HostId, Model};
use crate::triage::{dependency_satisfied, service_containers_on};

/// The demo stacks run stand-in processes from one small image and record the image
/// each one stands in for here; the map shows it (marked) instead of the stand-in.
pub const DEMO_IMAGE_LABEL: &str = "org.portolan.demo.image";

/// Networks every engine has: being on one of them is being on no user network.
pub const DEFAULT_NETWORKS: &[&str] = &["bridge", "host", "none"];

/// Where a container sits in a layered diagram, before its edges say more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Proxies and other containers the host talks to: drawn on top.
    Entry,
    /// Everything else.
    App,
    /// Databases, caches, queues, object stores: drawn at the bottom.
    Data,
}

/// A container box.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    /// What the box is titled: the service (`web #2` for a second replica) or the
    /// container name. Sanitised.
    pub name: String,
    /// The container name, for JSON and lookups.
    pub container: String,
    /// The engine it runs on.
    pub host: HostId,
    pub project: Option<String>,
    pub service: Option<String>,
    /// Index into [`Graph::groups`].
    pub group: usize,
    /// `image:tag`, or the demo label's value when [`Node::image_is_demo`].
    pub image: String,
    pub image_is_demo: bool,
    /// `127.0.0.1:18000→80`, `5432→5432`, `53→53/udp`.
    pub published: Vec<String>,
    /// Container ports that are exposed but not published: `5432`, `53/udp`.
    pub exposed: Vec<String>,
    pub user: Option<String>,
    pub root: bool,
    pub health: HealthStatus,
    /// Whether the container has a healthcheck at all (a container whose check has
    /// not reported yet still has one).
    pub has_healthcheck: bool,
    pub state: ContainerState,
    /// Said on the box when the container is not simply running: `exited 137`,
    /// `OOM killed`, `restarting`, `paused`, `created`.
    pub state_words: Option<String>,
    /// The networks it is also attached to, besides its group's.
    pub other_networks: Vec<String>,
    pub role: Role,
}

/// A box of containers: one Docker network, or the containers on no user network.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Stable identity (the network name, or [`UNATTACHED`], after `host/` for every
    /// engine but the first): what the pane remembers.
    pub key: String,
    /// The engine whose network it is.
    pub host: HostId,
    pub network: Option<String>,
    pub driver: Option<String>,
    pub subnet: Option<String>,
    pub internal: bool,
    /// The compose project most of its containers belong to, for ordering.
    pub project: Option<String>,
    /// Node indices, in a stable order.
    pub nodes: Vec<usize>,
}

/// The key of the group of containers attached to no user network.
pub const UNATTACHED: &str = "(no user network)";

impl Group {
    /// `nestjs_network · bridge · 172.18.0.0/16 · internal`.
    pub fn title(&self) -> String {
        let Some(network) = &self.network else {
            return "no user network · default bridge, host or none".to_string();
        };
        let mut parts = vec![one_line(network).into_owned()];
        if let Some(driver) = &self.driver {
            parts.push(one_line(driver).into_owned());
        }
        if let Some(subnet) = &self.subnet {
            parts.push(subnet.clone());
        }
        if self.internal {
            parts.push("internal".to_string());
        }
        parts.join(" · ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// Compose `depends_on`: from the dependent to what it depends on. `ok` says
    /// whether the condition (started, healthy, completed) holds now.
    DependsOn,
    /// An environment value of `from` names `to` with a port. `ok` says whether the
    /// target is running.
    Connection,
    /// A published port: from the host to the container.
    Ingress,
    /// A proxy rule (Traefik labels, an nginx `proxy_pass`), from the proxy to the
    /// container it routes to, labelled with what it serves (`api.example.com`,
    /// `/api/*`). `ok` is false when any of the pair's routes is broken.
    Route,
}

impl EdgeKind {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::DependsOn => "depends_on",
            EdgeKind::Connection => "connection",
            EdgeKind::Ingress => "ingress",
            EdgeKind::Route => "route",
        }
    }
}

/// Where an edge starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// The host itself (ingress).
    Host,
    Node(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: End,
    /// Node index.
    pub to: usize,
    pub kind: EdgeKind,
    /// `postgresql :5432`, `HTTP :3001`, `healthy`. Never holds a credential.
    pub label: String,
    pub ok: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VolumeKind {
    /// A named volume: data that outlives the container.
    Named,
    /// A host directory or file bound in.
    Bind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumeUse {
    pub node: usize,
    pub destination: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumeEntry {
    /// The engine that holds it: two engines' same-named volumes are different data.
    pub host: HostId,
    pub kind: VolumeKind,
    /// The volume name, or the host path of a bind mount.
    pub name: String,
    pub users: Vec<VolumeUse>,
}

/// An engine the map draws a box for.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphHost {
    pub id: HostId,
    /// What the operator calls it. Sanitised.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// One per engine, in the operator's order, when the model follows several (even
    /// those with nothing to show: an engine's absence is news); empty for one engine,
    /// whose map is the host box itself.
    pub hosts: Vec<GraphHost>,
    pub hostname: Option<String>,
    /// The engine's kind and version, as titles write it: `Podman 4.3.1`.
    pub engine_version: Option<String>,
    pub groups: Vec<Group>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub volumes: Vec<VolumeEntry>,
}

/// What part of the host to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    pub project: Option<&'a str>,
    /// Case-insensitive text a container's name, service, image or network must hold.
    pub text: Option<&'a str>,
}

const DATA_WORDS: &[&str] = &[
    "postgres",
    "pgvector",
    "mysql",
    "mariadb",
    "redis",
    "valkey",
    "keydb",
    "mongo",
    "elasticsearch",
    "opensearch",
    "minio",
    "kafka",
    "zookeeper",
    "rabbitmq",
    "memcached",
    "cassandra",
    "clickhouse",
    "influxdb",
    "etcd",
    "couchdb",
    "neo4j",
    "nats",
];

const PROXY_WORDS: &[&str] = &["traefik", "nginx", "haproxy", "caddy", "envoy", "kong"];

/// The last path component of an image reference, tag and digest removed:
/// `docker.elastic.co/elasticsearch/elasticsearch:8.11.0` → `elasticsearch`.
fn image_base(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

fn role_of(c: &Container, image: &str) -> Role {
    let base = image_base(image).to_ascii_lowercase();
    let service = c.display_name().to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| base.contains(w) || service.contains(w));
    if has(DATA_WORDS) {
        Role::Data
    } else if has(PROXY_WORDS)
        || c.labels.keys().any(|k| k.starts_with("traefik."))
        || c.ports.iter().any(|p| p.is_published())
    {
        Role::Entry
    } else {
        Role::App
    }
}

fn user_networks(c: &Container) -> Vec<&str> {
    let mut names: Vec<&str> = c
        .networks
        .iter()
        .map(|n| n.name.as_str())
        .filter(|n| !DEFAULT_NETWORKS.contains(n))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The network a container is drawn in: its compose project's default network when it
/// is on it, else the first user network its project's other containers share most,
/// else the first by name. Deterministic: the same model always gives the same answer.
fn primary_network<'a>(
    c: &'a Container,
    shared: &BTreeMap<(HostId, &str), usize>,
) -> Option<&'a str> {
    let nets = user_networks(c);
    if let Some(project) = c.project() {
        let default = format!("{project}_default");
        if let Some(n) = nets.iter().find(|n| **n == default) {
            return Some(n);
        }
    }
    nets.iter().copied().max_by(|a, b| {
        let count = |n: &str| shared.get(&(c.host, n)).copied().unwrap_or(0);
        let (ca, cb) = (count(a), count(b));
        // Ties go to the name that sorts first.
        ca.cmp(&cb).then_with(|| b.cmp(a))
    })
}

fn port_words(c: &Container) -> (Vec<String>, Vec<String>) {
    let mut published = Vec::new();
    let mut exposed = Vec::new();
    let proto = |p: &str| if p == "tcp" { String::new() } else { format!("/{p}") };
    let mut ports = c.ports.clone();
    ports.sort();
    for p in &ports {
        match p.host_port {
            Some(host_port) => {
                let ip = match p.host_ip.as_deref() {
                    Some("0.0.0.0") | Some("::") | Some("") | None => String::new(),
                    Some(ip) => format!("{ip}:"),
                };
                let text = format!("{ip}{host_port}→{}{}", p.container_port, proto(&p.protocol));
                if !published.contains(&text) {
                    published.push(text);
                }
            }
            None => {
                let text = format!("{}{}", p.container_port, proto(&p.protocol));
                if !exposed.contains(&text) {
                    exposed.push(text);
                }
            }
        }
    }
    // A port published on 0.0.0.0 and :: is exposed as well; say it once.
    let published_inside: BTreeSet<(u16, &str)> = ports
        .iter()
        .filter(|p| p.is_published())
        .map(|p| (p.container_port, p.protocol.as_str()))
        .collect();
    exposed.retain(|e| {
        let (port, protocol) = e.split_once('/').unwrap_or((e.as_str(), "tcp"));
        port.parse::<u16>().is_ok_and(|port| !published_inside.contains(&(port, protocol)))
    });
    (published, exposed)
}

/// Container ports that speak HTTP in nearly every image that exposes them.
const HTTP_PORTS: &[u16] = &[
    80, 3000, 3001, 4000, 4200, 5000, 5173, 5601, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9000,
    9001, 9090, 9200,
];

/// `HTTP :3001`, `HTTPS :443`, `:5432/tcp` — the host port, as a client would dial it.
fn ingress_label(c: &Container) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut ports: Vec<_> = c.ports.iter().filter(|p| p.is_published()).collect();
    ports.sort();
    for p in ports {
        let host_port = p.host_port.unwrap_or(p.container_port);
        let text = if p.protocol == "tcp" && p.container_port == 443 {
            format!("HTTPS :{host_port}")
        } else if p.protocol == "tcp" && HTTP_PORTS.contains(&p.container_port) {
            format!("HTTP :{host_port}")
        } else {
            format!(":{host_port}/{}", p.protocol)
        };
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    parts.join(" ")
}

fn node_name(c: &Container) -> String {
    let name = match c.compose.as_ref() {
        Some(info) if !info.service.is_empty() && info.container_number.unwrap_or(1) > 1 => {
            format!("{} #{}", info.service, info.container_number.unwrap_or(1))
        }
        Some(info) if !info.service.is_empty() => info.service.clone(),
        _ => c.name.clone(),
    };
    one_line(&name).into_owned()
}

fn matches_text(c: &Container, text: &str) -> bool {
    let needle = text.to_lowercase();
    let hay = [
        c.name.as_str(),
        c.service().unwrap_or(""),
        c.image.as_str(),
        c.labels.get(DEMO_IMAGE_LABEL).map_or("", String::as_str),
    ];
    hay.iter().any(|h| h.to_lowercase().contains(&needle))
        || c.networks.iter().any(|n| n.name.to_lowercase().contains(&needle))
}

/// Derives the map's graph from the model.
pub fn derive(model: &Model, filter: &Filter<'_>) -> Graph {
    let shown: Vec<&Container> = model
        .containers
        .values()
        .filter(|c| c.in_project(filter.project))
        .filter(|c| filter.text.is_none_or(|t| t.is_empty() || matches_text(c, t)))
        .collect();
    // How many containers of each project sit on each network: a container on several
    // is drawn where its project mostly is.
    let mut shared: BTreeMap<(HostId, &str), usize> = BTreeMap::new();
    for c in &shown {
        for n in user_networks(c) {
            *shared.entry((c.host, n)).or_default() += 1;
        }
    }
    let mut group_keys: BTreeMap<(HostId, String), Vec<usize>> = BTreeMap::new();
    let mut nodes: Vec<Node> = Vec::with_capacity(shown.len());
    let mut order: Vec<&Container> = shown.clone();
    // Stand-alone containers first, then by project and service; names in natural
    // order, so `c2` comes before `c10` in every box row the layout fills.
    order.sort_by(|a, b| {
        let number = |c: &Container| c.compose.as_ref().and_then(|i| i.container_number);
        let optional = |x: Option<&str>, y: Option<&str>| match (x, y) {
            (Some(x), Some(y)) => natural_cmp(x, y),
            (x, y) => x.is_some().cmp(&y.is_some()),
        };
        optional(a.project(), b.project())
            .then_with(|| optional(a.service(), b.service()))
            .then_with(|| number(a).cmp(&number(b)))
            .then_with(|| natural_cmp(&a.name, &b.name))
    });
    for c in &order {
        let primary = primary_network(c, &shared);
        let key = primary.map_or(UNATTACHED.to_string(), String::from);
        let mut others: Vec<String> = user_networks(c)
            .into_iter()
            .filter(|n| Some(*n) != primary)
            .map(|n| one_line(n).into_owned())
            .collect();
        if primary.is_none() {
            // Say which of the default networks it is on (or its network mode).
            let mode = c
                .networks
                .iter()
                .map(|n| n.name.clone())
                .next()
                .or_else(|| c.network_mode.clone())
                .unwrap_or_else(|| "none".to_string());
            others.push(one_line(&mode).into_owned());
        }
        let (image, image_is_demo) = match c.labels.get(DEMO_IMAGE_LABEL) {
            Some(intended) if !intended.trim().is_empty() => (intended.trim().to_string(), true),
            _ => (c.image.clone(), false),
        };
        let (published, exposed) = port_words(c);
        let index = nodes.len();
        group_keys.entry((c.host, key)).or_default().push(index);
        nodes.push(Node {
            id: c.id.clone(),
            name: node_name(c),
            container: c.name.clone(),
            host: c.host,
            project: c.project().map(String::from),
            service: c.service().map(String::from),
            group: 0,
            role: role_of(c, &image),
            image: one_line(&image).into_owned(),
            image_is_demo,
            published,
            exposed,
            user: c.user.as_deref().filter(|u| !u.is_empty()).map(|u| one_line(u).into_owned()),
            root: c.runs_as_root(),
            health: c.health_status(),
            has_healthcheck: c.healthcheck.as_ref().is_some_and(|h| !h.is_disabled())
                || c.health.is_some(),
            state: c.state,
            state_words: c.state_unless_running(),
            other_networks: others,
        });
    }
    // Groups: projects together, then by network name; the unattached group last.
    let mut groups: Vec<Group> = group_keys
        .into_iter()
        .map(|((host, key), members)| {
            let network = (key != UNATTACHED).then(|| key.clone());
            let info = network.as_ref().and_then(|n| model.network(host, n));
            let key = if host == 0 { key } else { format!("{}/{key}", model.host(host).name) };
            let mut projects: BTreeMap<&str, usize> = BTreeMap::new();
            for &m in &members {
                if let Some(p) = nodes[m].project.as_deref() {
                    *projects.entry(p).or_default() += 1;
                }
            }
            let project = projects
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(p, _)| p.to_string());
            Group {
                driver: info.and_then(|n| n.driver.clone()),
                subnet: info.and_then(|n| n.subnets.first().cloned()),
                internal: info.is_some_and(|n| n.internal),
                key,
                host,
                network,
                project,
                nodes: members,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        (a.host, a.network.is_none(), a.project.is_some())
            .cmp(&(b.host, b.network.is_none(), b.project.is_some()))
            .then_with(|| {
                natural_cmp(a.project.as_deref().unwrap_or(""), b.project.as_deref().unwrap_or(""))
            })
            .then_with(|| natural_cmp(&a.key, &b.key))
    });
    for (gi, g) in groups.iter().enumerate() {
        for &m in &g.nodes {
            nodes[m].group = gi;
        }
    }
    let by_id: BTreeMap<&str, usize> =
        nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let edges = derive_edges(model, &order, &nodes, &by_id);
    let volumes = derive_volumes(&order, &by_id);
    let hosts = if model.multi_host() {
        (0..model.hosts.len())
            .map(|id| GraphHost { id, name: one_line(&model.host(id).name).into_owned() })
            .collect()
    } else {
        Vec::new()
    };
    Graph {
        hosts,
        hostname: model.host(0).engine.hostname.as_deref().map(|h| one_line(h).into_owned()),
        engine_version: model.host(0).engine.kind_and_version(),
        groups,
        nodes,
        edges,
        volumes,
    }
}

fn derive_edges(
    model: &Model,
    order: &[&Container],
    nodes: &[Node],
    by_id: &BTreeMap<&str, usize>,
) -> Vec<Edge> {
    let mut edges: Vec<Edge> = Vec::new();
    // depends_on first, so a connection between the same pair merges into it.
    for c in order {
        let (Some(&from), Some(project)) = (by_id.get(c.id.as_str()), c.project()) else {
            continue;
        };
        for dep in c.depends_on() {
            // A service of the same project on another engine is another deployment.
            let mut providers = service_containers_on(model, c.host, project, &dep.service);
            providers.sort_by(|a, b| natural_cmp(&a.name, &b.name));
            for p in providers {
                let Some(&to) = by_id.get(p.id.as_str()) else { continue };
                if to == from {
                    continue;
                }
                edges.push(Edge {
                    from: End::Node(from),
                    to,
                    kind: EdgeKind::DependsOn,
                    label: dep.condition.as_str().trim_start_matches("service_").to_string(),
                    ok: Some(dependency_satisfied(p, dep.condition)),
                });
            }
        }
    }
    // Names a client may use for another container: its name, service and aliases.
    let mut names: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for c in order {
        let Some(&i) = by_id.get(c.id.as_str()) else { continue };
        let mut add = |name: &str| {
            let entry = names.entry(name.to_ascii_lowercase()).or_default();
            if !entry.contains(&i) {
                entry.push(i);
            }
        };
        add(&c.name);
        if let Some(service) = c.service() {
            add(service);
        }
        for n in &c.networks {
            for alias in &n.aliases {
                add(alias);
            }
        }
    }
    // Networks of the same name on two engines are two networks: nothing resolves across.
    let shares_network = |a: &Container, b: &Container| {
        a.host == b.host && a.networks.iter().any(|n| b.networks.iter().any(|m| m.name == n.name))
    };
    let mut connections: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    for c in order {
        let Some(&from) = by_id.get(c.id.as_str()) else { continue };
        let mut env: Vec<&(String, String)> = c.env.iter().collect();
        env.sort();
        for (_, value) in env {
            for target in parse_env_targets(value) {
                let Some(candidates) = names.get(&target.host) else { continue };
                // A name resolves only on a shared network; prefer the same project
                // when two projects use the same service name.
                let reachable: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&i| i != from)
                    .filter(|&i| {
                        model.containers.get(&nodes[i].id).is_some_and(|t| shares_network(c, t))
                    })
                    .collect();
                let same_project: Vec<usize> = reachable
                    .iter()
                    .copied()
                    .filter(|&i| nodes[i].project.as_deref() == c.project())
                    .collect();
                let chosen = if same_project.is_empty() { reachable } else { same_project };
                for to in chosen {
                    let labels = connections.entry((from, to)).or_default();
                    let label = target.label();
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
            }
        }
    }
    for ((from, to), labels) in connections {
        let label = labels.join(", ");
        if let Some(dep) = edges
            .iter_mut()
            .find(|e| e.kind == EdgeKind::DependsOn && e.from == End::Node(from) && e.to == to)
        {
            // One arrow per pair: the dependency carries what the connection says.
            dep.label = label;
            continue;
        }
        let running = nodes[to].state == ContainerState::Running;
        edges.push(Edge {
            from: End::Node(from),
            to,
            kind: EdgeKind::Connection,
            label,
            ok: Some(running),
        });
    }
    // Proxy routes: one arrow per proxy and target, labelled with what it serves.
    let table = crate::routes::table::RouteTable::build(model);
    let mut routes: BTreeMap<(usize, usize), (Vec<String>, bool)> = BTreeMap::new();
    for route in table.routes.iter().filter(|r| r.kind != crate::routes::table::RouteKind::Port) {
        let (Some(proxy), Some(target)) = (&route.proxy_id, &route.target_id) else { continue };
        let (Some(&from), Some(&to)) = (by_id.get(proxy.as_str()), by_id.get(target.as_str()))
        else {
            continue;
        };
        // A proxy routes only to what its own engine runs; a same-named target on
        // another engine is not what it reaches.
        if from == to || nodes[from].host != nodes[to].host {
            continue;
        }
        let entry = routes.entry((from, to)).or_insert_with(|| (Vec::new(), true));
        let label = route_label(route);
        if !entry.0.contains(&label) {
            entry.0.push(label);
        }
        entry.1 &= route.verdict.is_ok();
    }
    for ((from, to), (labels, ok)) in routes {
        // The map draws one line per pair: a dependency between the same two carries
        // the route's label, as it does a connection's.
        if let Some(dep) = edges.iter_mut().find(|e| {
            matches!(e.kind, EdgeKind::DependsOn | EdgeKind::Connection)
                && e.from == End::Node(from)
                && e.to == to
        }) {
            dep.label = labels.join(", ");
        }
        edges.push(Edge {
            from: End::Node(from),
            to,
            kind: EdgeKind::Route,
            label: labels.join(", "),
            ok: Some(ok),
        });
    }
    for c in order {
        let Some(&to) = by_id.get(c.id.as_str()) else { continue };
        let label = ingress_label(c);
        if label.is_empty() {
            continue;
        }
        edges.push(Edge {
            from: End::Host,
            to,
            kind: EdgeKind::Ingress,
            label,
            ok: Some(c.state == ContainerState::Running),
        });
    }
    edges.sort_by_key(|e| (e.kind, e.from, e.to));
    edges
}

/// `sellybase.example.com`, `/api/*`, `app.example.com/api/*`: what a route serves,
/// as short as the map needs it.
fn route_label(route: &crate::routes::table::Route) -> String {
    let host = route.host.as_deref().map(|h| h.split(", ").next().unwrap_or(h));
    let path = route.path.as_deref().map(|p| p.split(", ").next().unwrap_or(p));
    let text = match (host, path) {
        (Some(host), Some(path)) => format!("{host}{path}"),
        (Some(host), None) => host.to_string(),
        (None, Some(path)) => path.to_string(),
        (None, None) => route.matches.clone(),
    };
    one_line(&text).into_owned()
}

fn derive_volumes(order: &[&Container], by_id: &BTreeMap<&str, usize>) -> Vec<VolumeEntry> {
    let mut entries: BTreeMap<(HostId, VolumeKind, String), Vec<VolumeUse>> = BTreeMap::new();
    for c in order {
        let Some(&node) = by_id.get(c.id.as_str()) else { continue };
        for m in &c.mounts {
            let (kind, name) = match m.kind.as_str() {
                "volume" => match &m.name {
                    Some(name) => (VolumeKind::Named, name.clone()),
                    None => continue,
                },
                "bind" => match &m.source {
                    Some(source) => (VolumeKind::Bind, source.clone()),
                    None => continue,
                },
                // tmpfs and pipes hold nothing that outlives the container.
                _ => continue,
            };
            entries.entry((c.host, kind, one_line(&name).into_owned())).or_default().push(
                VolumeUse {
                    node,
                    destination: one_line(&m.destination).into_owned(),
                    read_only: m.read_only,
                },
            );
        }
    }
    entries
        .into_iter()
        .map(|((host, kind, name), users)| VolumeEntry { host, kind, name, users })
        .collect()
}

#[cfg(test)]
mod tests;
