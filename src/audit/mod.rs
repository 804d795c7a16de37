//! The audit: the layers that harden a compose deployment (non-root users, read-only
//! file systems, health checks, resource limits, data stores on internal networks only,
//! only the app's port exposed, secrets out of plain environment) turned into checks
//! run against every container, stopped ones included. Each [`Finding`] has a
//! severity and a one-line why an operator can act on at 3 a.m.
//!
//! This module owns the rules and their wording. It is pure: no I/O, no ratatui, no
//! tokio; the Audit pane and the snapshot's `findings` read [`findings`]. The
//! [`Check::as_str`] names are a JSON contract: add, never rename.
//!
//! Semantics worth knowing:
//! - *All interfaces*: a published port whose host address is `0.0.0.0`, `::` or
//!   empty. The IPv4 and IPv6 bindings of one port are one finding. Host ports 80 and
//!   443 are web entry points meant to be public and are not reported by
//!   [`Check::PortAllInterfaces`]; on a data store they are, by [`Check::DataStoreExposed`].
//!   A data store published on one address of the host (not all) is medium: it still
//!   answers everyone on that address's network. Published on loopback only
//!   (`127.0.0.0/8`, `::1`) it is low ([`Check::DataStoreOnLoopback`]): the network
//!   cannot reach it, but every local user and process can, with no container boundary.
//! - *Data store*: the image (or, for the demo stacks' stand-ins, the image named by
//!   the [`DEMO_IMAGE_LABEL`]) is a database, cache, queue or object store, or the
//!   container exposes a well-known data-store port (5432, 3306, 6379...). Admin UIs
//!   and exporters (`mongo-express`, `redis_exporter`) are not data stores.
//! - *Network internal flags*: a data store on any network that is not `internal` can
//!   open connections to the outside world ([`Check::DataStoreNotInternal`]: a database
//!   or cache talks to its app, never out); a container that publishes ports but
//!   sits only on internal networks has ports nothing can reach
//!   ([`Check::PublishedOnInternal`]). Networks the model does not know are left out
//!   rather than guessed. `network_mode: host` has no network isolation at all
//!   ([`Check::HostNetwork`]).
//! - *Secrets*: environment keys that look secret (the model's masking rule), and
//!   URLs with a password in them. `*_FILE` keys (the secrets-file convention) and
//!   the public keys images set themselves (`GPG_KEY`) are fine. Messages name keys,
//!   never values.
//! - *Image pinning*: no tag, or `:latest`; a digest pins. The demo stacks are judged
//!   by the image they stand in for, not by their stand-in.

#[cfg(test)]
pub(crate) mod tests;

use std::cmp::Reverse;

use crate::model::sanitize::one_line;
use crate::model::secrets::{is_secret_key, mask_url_password};
use crate::model::{Container, Model, Port};
use crate::topology::DEMO_IMAGE_LABEL;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 4] =
        [Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// One rule. Declared in the order findings of equal severity are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    Privileged,
    DockerSocket,
    DataStoreExposed,
    HostNetwork,
    AddedCapabilities,
    RunsAsRoot,
    PlainSecret,
    DataInImageLayer,
    PortAllInterfaces,
    DataStoreNotInternal,
    PublishedOnInternal,
    DataStoreOnLoopback,
    NoHealthcheck,
    NoMemoryLimit,
    NoRestartPolicy,
    UnpinnedImage,
    NoCpuLimit,
    WritableRootFs,
}

impl Check {
    pub const ALL: [Check; 18] = [
        Check::Privileged,
        Check::DockerSocket,
        Check::DataStoreExposed,
        Check::HostNetwork,
        Check::AddedCapabilities,
        Check::RunsAsRoot,
        Check::PlainSecret,
        Check::DataInImageLayer,
        Check::PortAllInterfaces,
        Check::DataStoreNotInternal,
        Check::PublishedOnInternal,
        Check::DataStoreOnLoopback,
        Check::NoHealthcheck,
        Check::NoMemoryLimit,
        Check::NoRestartPolicy,
        Check::UnpinnedImage,
        Check::NoCpuLimit,
        Check::WritableRootFs,
    ];

    /// The stable name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Privileged => "privileged",
            Check::DockerSocket => "docker_socket",
            Check::DataStoreExposed => "data_store_exposed",
            Check::HostNetwork => "host_network",
            Check::AddedCapabilities => "added_capabilities",
            Check::RunsAsRoot => "runs_as_root",
            Check::PlainSecret => "plain_secret",
            Check::DataInImageLayer => "data_in_image_layer",
            Check::PortAllInterfaces => "port_all_interfaces",
            Check::DataStoreNotInternal => "data_store_not_internal",
            Check::PublishedOnInternal => "published_on_internal",
            Check::DataStoreOnLoopback => "data_store_on_loopback",
            Check::NoHealthcheck => "no_healthcheck",
            Check::NoMemoryLimit => "no_memory_limit",
            Check::NoRestartPolicy => "no_restart_policy",
            Check::UnpinnedImage => "unpinned_image",
            Check::NoCpuLimit => "no_cpu_limit",
            Check::WritableRootFs => "writable_root_fs",
        }
    }

    /// A few words for a narrow column.
    pub fn title(self) -> &'static str {
        match self {
            Check::Privileged => "privileged",
            Check::DockerSocket => "docker.sock",
            Check::DataStoreExposed => "data store open",
            Check::HostNetwork => "host network",
            Check::AddedCapabilities => "capabilities",
            Check::RunsAsRoot => "root",
            Check::PlainSecret => "plain secrets",
            Check::DataInImageLayer => "no data volume",
            Check::PortAllInterfaces => "all interfaces",
            Check::DataStoreNotInternal => "not internal",
            Check::PublishedOnInternal => "unreachable port",
            Check::DataStoreOnLoopback => "data store local",
            Check::NoHealthcheck => "no healthcheck",
            Check::NoMemoryLimit => "no memory limit",
            Check::NoRestartPolicy => "no restart",
            Check::UnpinnedImage => "unpinned image",
            Check::NoCpuLimit => "no CPU limit",
            Check::WritableRootFs => "writable root",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub container_id: String,
    /// The container name.
    pub container: String,
    pub project: Option<String>,
    pub check: Check,
    pub severity: Severity,
    /// What is wrong and why it matters, on one line; safe to draw.
    pub message: String,
}

/// Every finding on the host, grouped by container: compose projects first (by name),
/// then stand-alone containers; within a container, the most severe first.
pub fn findings(model: &Model) -> Vec<Finding> {
    findings_where(model, |_| true)
}

/// As [`findings`], for the containers that pass `keep` (a project filter).
pub fn findings_where(model: &Model, keep: impl Fn(&Container) -> bool) -> Vec<Finding> {
    let mut containers: Vec<&Container> = model.containers.values().filter(|c| keep(c)).collect();
    containers.sort_by(|a, b| container_order(a, b));
    containers.into_iter().flat_map(|c| container_findings(model, c)).collect()
}

/// The order containers are listed in: projects first, then by service and name, each
/// in natural order (`web-2` before `web-10`).
pub fn container_order(a: &Container, b: &Container) -> std::cmp::Ordering {
    use crate::model::natural::{natural_cmp, natural_cmp_opt};
    natural_cmp_opt(a.project(), b.project())
        .then_with(|| natural_cmp(a.display_name(), b.display_name()))
        .then_with(|| natural_cmp(&a.name, &b.name))
}

/// The findings of one container, most severe first. The model is read for the
/// networks the container is attached to.
pub fn container_findings(model: &Model, c: &Container) -> Vec<Finding> {
    let mut out: Vec<(Check, Severity, String)> = Vec::new();
    let image = intended_image(c);
    let store_image = image_data_store(image);
    // By image, else by a well-known port: what the network checks call it.
    let data_store = store_image.or_else(|| {
        if is_data_tool(image) {
            return None;
        }
        c.ports.iter().find_map(|p| data_port(p.container_port))
    });
    let host_network = c.network_mode.as_deref() == Some("host");

    if c.privileged {
        out.push((
            Check::Privileged,
            Severity::High,
            "runs privileged: it has every device and capability of the host, so a \
             compromise here is a compromise of the host"
                .into(),
        ));
    }
    if let Some(mount) = c.mounts.iter().find(|m| is_docker_socket(&m.destination)) {
        let how = if mount.read_only { " (read-only does not help)" } else { "" };
        out.push((
            Check::DockerSocket,
            Severity::High,
            format!(
                "mounts the Docker socket at {}{how}: whoever controls this container \
                 controls every container and the host",
                one_line(&mount.destination)
            ),
        ));
    }
    if host_network {
        let (severity, why) = match data_store {
            Some(kind) => (
                Severity::High,
                format!(
                    "{kind} uses the host's network: it listens on every interface of the \
                     host, with no isolation and no port mapping to narrow it"
                ),
            ),
            None => (
                Severity::Medium,
                "uses the host's network: every port it listens on is open on all the \
                 host's interfaces, with no isolation"
                    .to_string(),
            ),
        };
        out.push((Check::HostNetwork, severity, why));
    }
    let mut open_ports: Vec<&Port> = Vec::new();
    for port in c.ports.iter().filter(|p| p.is_published() && on_all_interfaces(p)) {
        // Docker binds 0.0.0.0 and :: for one `-p`: one port, one finding.
        if !open_ports.iter().any(|p| p.host_port == port.host_port && p.protocol == port.protocol)
        {
            open_ports.push(port);
        }
    }
    for port in open_ports {
        // A port is a data store's when the image is one, or when the port is.
        let what = store_image
            .or_else(|| if is_data_tool(image) { None } else { data_port(port.container_port) });
        let binding = port_words(port);
        match what {
            Some(kind) => out.push((
                Check::DataStoreExposed,
                Severity::High,
                format!(
                    "{kind} published on all interfaces ({binding}): it answers anyone who \
                     can reach this host, and Docker's rules bypass ufw; bind 127.0.0.1 or \
                     drop the port"
                ),
            )),
            // The host's web ports are meant to be public; 8080→80 is a dev server.
            None if matches!(port.host_port, Some(80 | 443)) => {}
            None => out.push((
                Check::PortAllInterfaces,
                Severity::Low,
                format!(
                    "published on all interfaces ({binding}): reachable from the network; \
                     bind 127.0.0.1 if only this host needs it"
                ),
            )),
        }
    }
    let mut narrow_store_ports: Vec<&Port> = Vec::new();
    for port in c.ports.iter().filter(|p| p.is_published() && !on_all_interfaces(p)) {
        if !narrow_store_ports
            .iter()
            .any(|p| p.host_port == port.host_port && p.protocol == port.protocol)
        {
            narrow_store_ports.push(port);
        }
    }
    for port in narrow_store_ports {
        let what = store_image
            .or_else(|| if is_data_tool(image) { None } else { data_port(port.container_port) });
        let Some(kind) = what else { continue };
        let binding = port_words(port);
        if on_loopback(port) {
            out.push((
                Check::DataStoreOnLoopback,
                Severity::Low,
                format!(
                    "{kind} published on loopback ({binding}): the network cannot reach it,                      but any local process and user can, past the container's isolation;                      drop the port unless a tool on the host needs it"
                ),
            ));
        } else {
            out.push((
                Check::DataStoreExposed,
                Severity::Medium,
                format!(
                    "{kind} published on one address of the host ({binding}): it answers                      anyone on that address's network; bind 127.0.0.1 or drop the port"
                ),
            ));
        }
    }
    if !c.cap_add.is_empty() {
        let caps: Vec<String> = c.cap_add.iter().map(|cap| capability(cap)).collect();
        let dangerous = caps.iter().any(|cap| DANGEROUS_CAPABILITIES.contains(&cap.as_str()));
        out.push((
            Check::AddedCapabilities,
            if dangerous { Severity::High } else { Severity::Medium },
            format!(
                "adds capabilities {}: more kernel power than Docker grants by default; \
                 drop what it does not need",
                list(&caps)
            ),
        ));
    }
    if c.runs_as_root() {
        let who = match c.user.as_deref().map(str::trim) {
            None | Some("") => "no user set, the image's default".to_string(),
            Some(user) => format!("user {}", one_line(user)),
        };
        out.push((
            Check::RunsAsRoot,
            Severity::Medium,
            format!(
                "runs as root ({who}): a hole in the app is a root shell in the container; \
                 set a non-root user"
            ),
        ));
    }
    let secrets = plain_secrets(c);
    if !secrets.is_empty() {
        out.push((
            Check::PlainSecret,
            Severity::Medium,
            format!(
                "{} in plain environment: anyone who can run docker inspect reads {}; use \
                 secrets files (*_FILE) instead",
                list(&secrets),
                if secrets.len() == 1 { "it" } else { "them" }
            ),
        ));
    }
    if let Some(finding) = data_in_image_layer(model, c, store_image) {
        out.push(finding);
    }
    if !host_network {
        network_findings(model, c, data_store, &mut out);
    }
    let healthcheck = c.healthcheck.as_ref();
    if c.health.is_none() && healthcheck.is_none_or(|h| h.is_disabled() || h.test.is_empty()) {
        let what = if healthcheck.is_some_and(|h| h.is_disabled()) {
            "healthcheck disabled"
        } else {
            "no healthcheck"
        };
        out.push((
            Check::NoHealthcheck,
            Severity::Low,
            format!(
                "{what}: Docker cannot tell a hung process from a working one, and nothing \
                 can wait for it to be healthy"
            ),
        ));
    }
    if c.limits.memory_bytes.is_none_or(|m| m == 0) {
        out.push((
            Check::NoMemoryLimit,
            Severity::Low,
            "no memory limit: a leak can eat the host's memory, and the OOM killer may pick \
             another service"
                .into(),
        ));
    }
    if c.restart_policy.as_ref().is_none_or(|p| p.name.is_empty() || p.name == "no") {
        out.push((
            Check::NoRestartPolicy,
            Severity::Low,
            "no restart policy: after a crash or a reboot it stays down until someone starts \
             it"
            .into(),
        ));
    }
    if let Some(why) = unpinned(image) {
        out.push((Check::UnpinnedImage, Severity::Low, why));
    }
    if c.limits.cpus.is_none_or(|cpus| cpus <= 0.0) {
        out.push((
            Check::NoCpuLimit,
            Severity::Info,
            "no CPU limit: a busy loop can starve every other container on the host".into(),
        ));
    }
    if !c.read_only {
        out.push((
            Check::WritableRootFs,
            Severity::Info,
            "root filesystem is writable: an intruder can change binaries and config in \
             place; run read-only with a tmpfs for scratch"
                .into(),
        ));
    }

    out.sort_by_key(|(check, severity, _)| (Reverse(*severity), *check));
    out.into_iter()
        .map(|(check, severity, message)| Finding {
            container_id: c.id.clone(),
            container: c.name.clone(),
            project: c.project().map(String::from),
            check,
            severity,
            message,
        })
        .collect()
}

fn network_findings(
    model: &Model,
    c: &Container,
    data_store: Option<&str>,
    out: &mut Vec<(Check, Severity, String)>,
) {
    let known: Vec<(&str, bool)> = c
        .networks
        .iter()
        .filter_map(|a| model.network(c.host, &a.name).map(|n| (a.name.as_str(), n.internal)))
        .collect();
    if let Some(kind) = data_store {
        let open: Vec<String> = known
            .iter()
            .filter(|(_, internal)| !internal)
            .map(|(n, _)| one_line(n).into())
            .collect();
        if !open.is_empty() {
            out.push((
                Check::DataStoreNotInternal,
                Severity::Low,
                format!(
                    "{kind} is on {}, not an internal network: it can open connections to \
                     the outside world; keep data stores on an internal network",
                    list(&open)
                ),
            ));
        }
    }
    let all_internal = !known.is_empty()
        && known.len() == c.networks.len()
        && known.iter().all(|(_, internal)| *internal);
    if all_internal {
        let published: Vec<String> =
            c.ports.iter().filter(|p| p.is_published()).map(port_words).collect();
        if !published.is_empty() {
            out.push((
                Check::PublishedOnInternal,
                Severity::Low,
                format!(
                    "publishes {} but is only on internal networks: Docker cannot forward \
                     the port, so nothing answers there",
                    list(&published)
                ),
            ));
        }
    }
}

/// Capabilities that amount to most of root on the host.
const DANGEROUS_CAPABILITIES: &[&str] =
    &["ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH", "BPF"];

/// `cap_net_admin` → `NET_ADMIN`: the engine keeps whatever spelling was asked for.
fn capability(cap: &str) -> String {
    let upper = one_line(cap).trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").map(String::from).unwrap_or(upper)
}

fn is_docker_socket(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    path.ends_with("/docker.sock") || path == "docker.sock"
}

fn on_all_interfaces(port: &Port) -> bool {
    matches!(port.host_ip.as_deref().map(str::trim), None | Some("" | "0.0.0.0" | "::" | "[::]"))
}

fn on_loopback(port: &Port) -> bool {
    let ip = port.host_ip.as_deref().map(str::trim).unwrap_or_default();
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    ip.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `0.0.0.0:6379→6379/tcp`.
fn port_words(port: &Port) -> String {
    let ip =
        port.host_ip.as_deref().map(str::trim).filter(|ip| !ip.is_empty()).unwrap_or("0.0.0.0");
    let ip = if ip.contains(':') && !ip.starts_with('[') { format!("[{ip}]") } else { ip.into() };
    let host = port.host_port.map_or_else(String::new, |p| p.to_string());
    format!("{}:{host}→{}/{}", one_line(&ip), port.container_port, one_line(&port.protocol))
}

/// At most four names, then how many more: a message stays one line.
fn list(items: &[String]) -> String {
    const SHOWN: usize = 4;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..SHOWN].join(", "), items.len() - SHOWN)
    }
}

/// The image the container stands for: the demo stacks record the real image in a
/// label and run a small stand-in.
fn intended_image(c: &Container) -> &str {
    c.labels
        .get(DEMO_IMAGE_LABEL)
        .map(|i| i.trim())
        .filter(|i| !i.is_empty())
        .unwrap_or(c.image.as_str())
}

/// Image names of databases, caches, queues and object stores, with the name an
/// operator knows them by.
const DATA_IMAGES: &[(&str, &str)] = &[
    ("postgres", "PostgreSQL"),
    ("postgis", "PostgreSQL"),
    ("pgvector", "PostgreSQL"),
    ("timescaledb", "PostgreSQL"),
    ("mysql", "MySQL"),
    ("mariadb", "MariaDB"),
    ("percona", "MySQL"),
    ("redis", "Redis"),
    ("valkey", "Valkey"),
    ("keydb", "KeyDB"),
    ("dragonfly", "Dragonfly"),
    ("mongo", "MongoDB"),
    ("elasticsearch", "Elasticsearch"),
    ("opensearch", "OpenSearch"),
    ("memcached", "Memcached"),
    ("rabbitmq", "RabbitMQ"),
    ("kafka", "Kafka"),
    ("zookeeper", "ZooKeeper"),
    ("minio", "MinIO"),
    ("cassandra", "Cassandra"),
    ("scylla", "ScyllaDB"),
    ("clickhouse", "ClickHouse"),
    ("influxdb", "InfluxDB"),
    ("couchdb", "CouchDB"),
    ("couchbase", "Couchbase"),
    ("neo4j", "Neo4j"),
    ("etcd", "etcd"),
    ("nats", "NATS"),
    ("mssql", "SQL Server"),
    ("cockroach", "CockroachDB"),
];

/// Words in an image name that make it a tool around a data store, not the store.
const NOT_DATA_WORDS: &[&str] = &[
    "exporter",
    "express",
    "ui",
    "commander",
    "insight",
    "admin",
    "console",
    "gui",
    "web",
    "dashboard",
    "backup",
    "client",
    "cli",
    "operator",
    "connect",
    "proxy",
    "postgrest",
];

/// Where each data store's official image keeps its data. Only stores known by
/// their image are judged: a port says what answers, not where it writes.
const DATA_DIRS: &[(&str, &str)] = &[
    ("PostgreSQL", "/var/lib/postgresql/data"),
    ("MySQL", "/var/lib/mysql"),
    ("MariaDB", "/var/lib/mysql"),
    ("MongoDB", "/data/db"),
    ("Redis", "/data"),
    ("Valkey", "/data"),
    ("KeyDB", "/data"),
    ("Elasticsearch", "/usr/share/elasticsearch/data"),
    ("OpenSearch", "/usr/share/opensearch/data"),
    ("RabbitMQ", "/var/lib/rabbitmq"),
    ("Cassandra", "/var/lib/cassandra"),
    ("ClickHouse", "/var/lib/clickhouse"),
    ("CouchDB", "/opt/couchdb/data"),
    ("Neo4j", "/data"),
    ("SQL Server", "/var/opt/mssql"),
];

/// Stores that are often run as caches, where losing the data may be intended.
const CACHES: &[&str] = &["Redis", "Valkey", "KeyDB"];

/// A data store whose data directory has no mount: what it stores goes to the
/// container's writable layer. Judged from the inspect's mounts alone, so the audit
/// asks the engine nothing: the image's own VOLUME shows there as an anonymous volume,
/// and once such a store runs, writes to its layer are certain. When the Changes pane
/// has listed the container's changes, their count under the directory is the proof.
fn data_in_image_layer(
    model: &Model,
    c: &Container,
    store: Option<&'static str>,
) -> Option<(Check, Severity, String)> {
    let store = store?;
    let (_, default_dir) = DATA_DIRS.iter().find(|(kind, _)| *kind == store)?;
    // The official postgres image moves its data where PGDATA says.
    let dir = match c.env.iter().find(|(k, _)| k == "PGDATA") {
        Some((_, pgdata)) if store == "PostgreSQL" && pgdata.starts_with('/') => {
            pgdata.trim_end_matches('/')
        }
        _ => default_dir,
    };
    let covered = c.mounts.iter().any(|m| {
        let at = m.destination.trim_end_matches('/');
        at.is_empty() || at == dir || crate::model::changes::is_below(dir, at)
    });
    if covered {
        return None;
    }
    let shown = one_line(dir);
    let seen = match model.changes.get(&c.id).map(|ch| ch.count_under(dir)) {
        Some(0) | None => String::new(),
        Some(1) => format!(" (its changes show 1 path written under {shown})"),
        Some(n) => format!(" (its changes show {n} paths written under {shown})"),
    };
    let cache = CACHES.contains(&store);
    let severity = if cache { Severity::Low } else { Severity::Medium };
    let unless = if cache { ", unless it is only a cache" } else { "" };
    Some((
        Check::DataInImageLayer,
        severity,
        format!(
            "{store} keeps its data in {shown} with no volume there: it goes to the \
             container's own layer and is lost when the container is removed or \
             recreated{unless}; mount a volume on {shown}{seen}"
        ),
    ))
}

/// Well-known ports of data stores, container side.
fn data_port(port: u16) -> Option<&'static str> {
    Some(match port {
        5432 => "PostgreSQL",
        3306 => "MySQL",
        6379 => "Redis",
        27017 => "MongoDB",
        9200 | 9300 => "Elasticsearch",
        11211 => "Memcached",
        5672 => "RabbitMQ",
        9092 => "Kafka",
        2181 => "ZooKeeper",
        9000 => "MinIO",
        9042 => "Cassandra",
        8123 => "ClickHouse",
        8086 => "InfluxDB",
        5984 => "CouchDB",
        7687 => "Neo4j",
        2379 => "etcd",
        4222 => "NATS",
        1433 => "SQL Server",
        26257 => "CockroachDB",
        _ => return None,
    })
}

/// The last path component of an image reference, without tag or digest.
fn image_base(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

fn image_words(image: &str) -> Vec<String> {
    image_base(image).to_ascii_lowercase().split(['-', '_', '.']).map(String::from).collect()
}

/// Whether the image is a tool around a data store (an admin UI, an exporter).
fn is_data_tool(image: &str) -> bool {
    image_words(image).iter().any(|w| NOT_DATA_WORDS.contains(&w.as_str()))
}

/// The data store an image is, by name.
fn image_data_store(image: &str) -> Option<&'static str> {
    if is_data_tool(image) {
        return None;
    }
    let base = image_base(image).to_ascii_lowercase();
    DATA_IMAGES.iter().find(|(word, _)| base.contains(word)).map(|(_, name)| *name)
}

/// Secret-looking keys with a value, and keys whose value is a URL with a password.
fn plain_secrets(c: &Container) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (key, value) in &c.env {
        let upper = key.to_ascii_uppercase();
        if value.is_empty() || upper.ends_with("_FILE") || is_public_key(&upper) {
            continue;
        }
        let name = one_line(key).into_owned();
        if is_secret_key(key) {
            keys.push(name);
        } else if mask_url_password(value).is_some() {
            keys.push(format!("{name} (password in URL)"));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Keys the secret rule catches that hold nothing secret: images set `GPG_KEY` to the
/// public key that signed their downloads, and `PUBLIC` keys are public by name.
fn is_public_key(upper: &str) -> bool {
    upper.contains("PUBLIC") || upper.starts_with("GPG_KEY")
}

/// Why an image reference is not pinned, or None when it carries a tag or digest.
fn unpinned(image: &str) -> Option<String> {
    let image = image.trim();
    if image.is_empty() || image.contains('@') || image.starts_with("sha256:") {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let shown = one_line(image);
    match last.split_once(':') {
        None => Some(format!(
            "image {shown} has no tag, so it means :latest: the next pull may bring another \
             version; pin a tag or digest"
        )),
        Some((_, "latest")) => Some(format!(
            "image {shown} is :latest: the next pull may bring another version; pin a tag \
             or digest"
        )),
        Some(_) => None,
    }
}
