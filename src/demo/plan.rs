//! From a stack definition and the facts of a host to everything `demo up` creates:
//! networks, volumes, files and containers with their labels, in dependency order.
//! Pure: what is taken on the engine comes in, a plan goes out; no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::net::{BadCidr, Ipv4Cidr, choose_host_port, choose_subnet};
use super::spec::{Condition, Listener, MountSpec, Probe, Restart, Service, Stack};

/// On everything `demo up` creates (containers, networks, volumes): the stack's name.
pub const LABEL: &str = "org.portolan.demo";
/// The image the design names; the container itself runs the demo image.
pub const LABEL_IMAGE: &str = "org.portolan.demo.image";
/// The design's healthcheck command, which the stand-in's probe stands in for.
pub const LABEL_HEALTHCHECK: &str = "org.portolan.demo.healthcheck";
/// The reference design the stack reproduces, by its name in the catalogue.
pub const LABEL_SEED: &str = "org.portolan.demo.seed";
/// The Compose version the labels follow (Compose v2's label set).
pub const COMPOSE_VERSION: &str = "2.29.7";

/// The environment variable holding a container's stand-in script. The entrypoint only
/// evaluates it, so the command the dashboard shows stays one short line.
pub const STANDIN_ENV: &str = "PORTOLAN_DEMO_STANDIN";

/// Docker refuses less than 6 MiB; stand-ins need far less than this.
const MIN_MEMORY_MIB: u64 = 16;

/// What the plan needs to know about the engine's host.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostFacts {
    /// The image every container runs (`--image`).
    pub image: String,
    /// Its id, for `com.docker.compose.image`.
    pub image_id: Option<String>,
    pub cpus: Option<u32>,
    pub memory_bytes: Option<u64>,
    /// Whether the engine sees this machine's files (a local engine): bind mounts of
    /// the state directory only work then.
    pub bind_mounts: bool,
}

/// Subnets and host ports already in use; plans add what they take.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Taken {
    pub subnets: Vec<Ipv4Cidr>,
    pub ports: BTreeSet<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{stack}: {service} depends on `{dependency}`, which is not a service of the stack")]
    UnknownDependency { stack: String, service: String, dependency: String },
    #[error("{stack}: {service} waits for {dependency} to be healthy, which has no healthcheck")]
    NoHealthcheck { stack: String, service: String, dependency: String },
    #[error("{stack}: the dependencies of {services} form a cycle")]
    Cycle { stack: String, services: String },
    #[error("{stack}: {service} uses {what} `{name}`, which the stack does not define")]
    Undefined { stack: String, service: String, what: &'static str, name: String },
    #[error("{stack}: the seed subnet of {network}: {source}")]
    BadSubnet { stack: String, network: String, source: BadCidr },
    #[error("{stack}: no private subnet of the size of {wanted} is free for {network}")]
    NoFreeSubnet { stack: String, network: String, wanted: Ipv4Cidr },
    #[error("{stack}: no free host port for {service} (wanted {wanted})")]
    NoFreePort { stack: String, service: String, wanted: u16 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackPlan {
    pub stack: String,
    /// The state directory: compose's working directory, and where bind mounts live.
    pub dir: PathBuf,
    pub networks: Vec<NetworkPlan>,
    pub volumes: Vec<VolumePlan>,
    /// Directories to create (bind mount sources), inside `dir`.
    pub dirs: Vec<PathBuf>,
    /// Files to write before anything starts, inside `dir`.
    pub files: Vec<(PathBuf, String)>,
    /// In dependency order: every container comes after what it depends on.
    pub containers: Vec<ContainerPlan>,
    /// What differs from the design on this host, in words.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkPlan {
    /// The compose key (`nestjs-network`).
    pub key: String,
    /// The engine's name (`nestjs_nestjs-network`).
    pub name: String,
    /// None: the engine picks one.
    pub subnet: Option<Ipv4Cidr>,
    pub seed_subnet: Option<Ipv4Cidr>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumePlan {
    pub key: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedPort {
    pub container: u16,
    /// The port on 127.0.0.1.
    pub host: u16,
    /// What the design publishes it on.
    pub wanted: u16,
    /// Whether the stand-in answers HTTP there.
    pub http: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    Volume,
    Bind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPlan {
    pub kind: MountKind,
    /// A volume name, or an absolute host path for a bind mount.
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthPlan {
    /// `["CMD", ...]` or `["CMD-SHELL", "..."]`.
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyPlan {
    pub service: String,
    pub container: String,
    pub condition: Condition,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerPlan {
    pub service: String,
    /// `<stack>-<service>-1`, as compose names it.
    pub name: String,
    pub seed_image: String,
    pub image: String,
    pub user: Option<String>,
    /// The stand-in: `/bin/sh -c 'eval "$PORTOLAN_DEMO_STANDIN"' SERVICE`, the script in
    /// that variable; `cmd` (the design's command) becomes its arguments.
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=value`.
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Every port the stand-in listens on (published or not).
    pub exposed: Vec<u16>,
    pub published: Vec<PublishedPort>,
    pub mounts: Vec<MountPlan>,
    pub tmpfs: Vec<String>,
    pub read_only: bool,
    pub health: Option<HealthPlan>,
    pub restart: Restart,
    pub nano_cpus: Option<i64>,
    pub memory_bytes: Option<i64>,
    pub memory_reservation_bytes: Option<i64>,
    /// Engine network names, each with the aliases the container has there.
    pub networks: Vec<(String, Vec<String>)>,
    pub depends_on: Vec<DependencyPlan>,
}

impl ContainerPlan {
    /// Compose v2's `com.docker.compose.depends_on` value.
    pub fn depends_on_label(&self) -> String {
        depends_on_label(
            &self.depends_on.iter().map(|d| (d.service.as_str(), d.condition)).collect::<Vec<_>>(),
        )
    }
}

/// Compose v2 writes `service:condition:restart` entries joined by commas (an empty
/// value when there are none); portolan sorts them so the label is stable.
pub fn depends_on_label(deps: &[(&str, Condition)]) -> String {
    let mut entries: Vec<String> =
        deps.iter().map(|(service, c)| format!("{service}:{}:false", c.as_str())).collect();
    entries.sort();
    entries.join(",")
}

pub fn container_name(stack: &str, service: &str) -> String {
    format!("{stack}-{service}-1")
}

pub fn network_name(stack: &str, key: &str) -> String {
    format!("{stack}_{key}")
}

pub fn volume_name(stack: &str, key: &str) -> String {
    format!("{stack}_{key}")
}

/// The services in an order where each comes after everything it depends on; among
/// services free to go, the definition's order.
pub fn start_order(stack: &Stack) -> Result<Vec<&Service>, PlanError> {
    for service in &stack.services {
        for (dependency, condition) in &service.depends_on {
            let Some(target) = stack.services.iter().find(|s| s.name == *dependency) else {
                return Err(PlanError::UnknownDependency {
                    stack: stack.name.to_string(),
                    service: service.name.to_string(),
                    dependency: dependency.to_string(),
                });
            };
            // Compose refuses this too: the dependency could never become healthy.
            if *condition == Condition::Healthy && target.health.is_none() {
                return Err(PlanError::NoHealthcheck {
                    stack: stack.name.to_string(),
                    service: service.name.to_string(),
                    dependency: dependency.to_string(),
                });
            }
        }
    }
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(stack.services.len());
    while order.len() < stack.services.len() {
        let next = stack.services.iter().find(|s| {
            !placed.contains(s.name) && s.depends_on.iter().all(|(d, _)| placed.contains(d))
        });
        match next {
            Some(service) => {
                placed.insert(service.name);
                order.push(service);
            }
            None => {
                let stuck: Vec<&str> =
                    stack.services.iter().map(|s| s.name).filter(|n| !placed.contains(n)).collect();
                return Err(PlanError::Cycle {
                    stack: stack.name.to_string(),
                    services: stuck.join(", "),
                });
            }
        }
    }
    Ok(order)
}

/// Healthcheck intervals scaled down from the design's so that a demo goes healthy
/// within seconds, yet probes stay rare enough to cost the engine little: a sixth of
/// the design's interval, within 2 to 5 seconds (30 s becomes 5 s, 10 s becomes 2 s).
pub fn scale_interval(seed: Duration) -> Duration {
    (seed / 6).clamp(Duration::from_secs(2), Duration::from_secs(5))
}

fn scaled_health(service: &Service) -> Option<HealthPlan> {
    let health = service.health.as_ref()?;
    let test = match health.probe {
        Probe::Http { port, path } => vec![
            "CMD".to_string(),
            "wget".to_string(),
            "-q".to_string(),
            "--spider".to_string(),
            format!("http://127.0.0.1:{port}{path}"),
        ],
        Probe::Tcp { port } => {
            vec!["CMD-SHELL".to_string(), format!("nc -w 2 127.0.0.1 {port} </dev/null")]
        }
    };
    Some(HealthPlan {
        test,
        interval: scale_interval(health.interval),
        timeout: health.timeout.min(Duration::from_secs(3)),
        retries: health.retries,
        start_period: health.start_period / 6,
    })
}

/// Quotes a word for a POSIX shell.
pub fn sh_quote(word: &str) -> String {
    if !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The stand-in process of a service, as one line of busybox shell: it says what it
/// stands in for, serves HTTP (httpd) or accepts TCP (nc) on every port of the service,
/// answers its healthcheck path, and exits promptly on SIGTERM.
pub fn standin_script(stack: &str, service: &Service) -> String {
    let ports: Vec<String> = service
        .ports
        .iter()
        .map(|p| {
            let kind = match p.listener {
                Listener::Http => "http",
                Listener::Tcp => "tcp",
            };
            format!("{}/{kind}", p.container)
        })
        .collect();
    let listening =
        if ports.is_empty() { String::new() } else { format!(", on {}", ports.join(" ")) };
    let banner = format!(
        "portolan demo {stack}: {} stands in for {}{listening}",
        service.name, service.image
    );
    // (statement, runs in the background)
    let mut statements: Vec<(String, bool)> = vec![
        (format!("echo {}", sh_quote(&banner)), false),
        (r#"[ $# -gt 0 ] && echo "  arguments: $*""#.to_string(), false),
    ];
    let http: Vec<u16> = service
        .ports
        .iter()
        .filter(|p| p.listener == Listener::Http)
        .map(|p| p.container)
        .collect();
    if !http.is_empty() {
        statements.push(("mkdir -p /tmp/www".to_string(), false));
        statements.push((
            format!("echo {} >/tmp/www/index.html", sh_quote(&format!("{} ok", service.name))),
            false,
        ));
        if let Some(Probe::Http { path, .. }) = service.health.as_ref().map(|h| h.probe)
            && path != "/"
        {
            let path = path.trim_start_matches('/');
            let (dir, file) = match path.strip_suffix('/') {
                Some(dir) => (dir.to_string(), format!("{dir}/index.html")),
                None => match path.rsplit_once('/') {
                    Some((dir, _)) => (dir.to_string(), path.to_string()),
                    None => (String::new(), path.to_string()),
                },
            };
            if !dir.is_empty() {
                statements
                    .push((format!("mkdir -p {}", sh_quote(&format!("/tmp/www/{dir}"))), false));
            }
            statements.push((format!("echo ok >{}", sh_quote(&format!("/tmp/www/{file}"))), false));
        }
        for port in &http {
            statements.push((format!("httpd -p {port} -h /tmp/www"), false));
        }
    }
    for port in service.ports.iter().filter(|p| p.listener == Listener::Tcp) {
        statements.push((format!("nc -ll -p {} -e true", port.container), true));
    }
    statements.push((
        format!("trap {} TERM INT", sh_quote(&format!("echo {} stopping; exit 0", service.name))),
        false,
    ));
    statements.push(("while :; do sleep 3600 & wait $!; done".to_string(), false));
    let mut script = String::new();
    for (i, (statement, background)) in statements.iter().enumerate() {
        script.push_str(statement);
        if i + 1 < statements.len() {
            script.push_str(if *background { " & " } else { "; " });
        }
    }
    script
}

/// Memory limits of a stack scaled down, ratios kept, when together they would take
/// more than three quarters of the host's memory. Returns the factor (1.0: unchanged).
pub fn memory_factor(stack: &Stack, host_memory: Option<u64>) -> f64 {
    let total_mib: u64 = stack.services.iter().filter_map(|s| s.limits.memory_mib).sum();
    let Some(host) = host_memory else { return 1.0 };
    let budget_mib = host as f64 / (1024.0 * 1024.0) * 0.75;
    if total_mib == 0 || (total_mib as f64) <= budget_mib {
        return 1.0;
    }
    budget_mib / total_mib as f64
}

fn mib_to_bytes(mib: u64) -> i64 {
    i64::try_from(mib.saturating_mul(1024 * 1024)).unwrap_or(i64::MAX)
}

/// Plans one stack. `dir` is the stack's state directory; `taken` gains the subnets
/// and host ports this plan takes, so that the next stack avoids them.
pub fn plan(
    stack: &Stack,
    dir: &Path,
    host: &HostFacts,
    taken: &mut Taken,
) -> Result<StackPlan, PlanError> {
    let name = stack.name;
    let order = start_order(stack)?;
    let mut notes = Vec::new();

    let common = |labels: &mut BTreeMap<String, String>| {
        labels.insert("com.docker.compose.project".into(), name.into());
        labels.insert("com.docker.compose.version".into(), COMPOSE_VERSION.into());
        labels.insert(LABEL.into(), name.into());
    };

    let mut networks = Vec::new();
    for spec in &stack.networks {
        let seed_subnet = match spec.subnet {
            Some(text) => Some(text.parse::<Ipv4Cidr>().map_err(|source| {
                PlanError::BadSubnet { stack: name.into(), network: spec.name.into(), source }
            })?),
            None => None,
        };
        let subnet = match seed_subnet {
            Some(wanted) => {
                let chosen = choose_subnet(wanted, &taken.subnets).ok_or_else(|| {
                    PlanError::NoFreeSubnet {
                        stack: name.into(),
                        network: spec.name.into(),
                        wanted,
                    }
                })?;
                if chosen != wanted {
                    notes.push(format!(
                        "{} is taken on this engine: network {} uses {chosen}",
                        wanted,
                        network_name(name, spec.name)
                    ));
                }
                taken.subnets.push(chosen);
                Some(chosen)
            }
            None => None,
        };
        let mut labels = BTreeMap::new();
        common(&mut labels);
        labels.insert("com.docker.compose.network".into(), spec.name.into());
        networks.push(NetworkPlan {
            key: spec.name.into(),
            name: network_name(name, spec.name),
            subnet,
            seed_subnet,
            labels,
        });
    }

    let volumes: Vec<VolumePlan> = stack
        .volumes
        .iter()
        .map(|key| {
            let mut labels = BTreeMap::new();
            common(&mut labels);
            labels.insert("com.docker.compose.volume".into(), (*key).into());
            VolumePlan { key: (*key).into(), name: volume_name(name, key), labels }
        })
        .collect();

    let files: Vec<(PathBuf, String)> =
        stack.files.iter().map(|f| (dir.join(f.path), f.contents.clone())).collect();
    let mut dirs: Vec<PathBuf> = vec![dir.to_path_buf()];

    let factor = memory_factor(stack, host.memory_bytes);
    if factor < 1.0 {
        notes.push(format!(
            "memory limits scaled to {:.0}% of the seed's to fit this host's memory",
            factor * 100.0
        ));
    }
    let host_cpus = host.cpus.map(f64::from);
    let mut skipped_binds = false;
    let mut containers = Vec::new();
    for service in order {
        let container = container_name(name, service.name);
        let mut labels = BTreeMap::new();
        common(&mut labels);
        labels.insert("com.docker.compose.service".into(), service.name.into());
        labels.insert("com.docker.compose.container-number".into(), "1".into());
        labels.insert("com.docker.compose.oneoff".into(), "False".into());
        labels
            .insert("com.docker.compose.depends_on".into(), depends_on_label(&service.depends_on));
        labels.insert(
            "com.docker.compose.project.working_dir".into(),
            dir.to_string_lossy().into_owned(),
        );
        if let Some(id) = &host.image_id {
            labels.insert("com.docker.compose.image".into(), id.clone());
        }
        labels.insert(LABEL_IMAGE.into(), service.image.into());
        labels.insert(LABEL_SEED.into(), stack.seed.into());
        if let Some(health) = &service.health {
            labels.insert(LABEL_HEALTHCHECK.into(), health.seed_test.into());
        }
        for (key, value) in &service.labels {
            labels.insert((*key).into(), (*value).into());
        }

        let mut published = Vec::new();
        for port in &service.ports {
            let Some(wanted) = port.publish else { continue };
            let host_port = choose_host_port(wanted, &taken.ports).ok_or_else(|| {
                PlanError::NoFreePort { stack: name.into(), service: service.name.into(), wanted }
            })?;
            taken.ports.insert(host_port);
            if host_port != wanted {
                notes.push(format!(
                    "port {wanted} is taken: {} is published on 127.0.0.1:{host_port} instead",
                    service.name
                ));
            }
            published.push(PublishedPort {
                container: port.container,
                host: host_port,
                wanted,
                http: port.listener == Listener::Http,
            });
        }

        let mut mounts = Vec::new();
        for mount in &service.mounts {
            match mount {
                MountSpec::Volume { name: volume, target, read_only } => {
                    if !stack.volumes.contains(volume) {
                        return Err(PlanError::Undefined {
                            stack: name.into(),
                            service: service.name.into(),
                            what: "volume",
                            name: (*volume).into(),
                        });
                    }
                    mounts.push(MountPlan {
                        kind: MountKind::Volume,
                        source: volume_name(name, volume),
                        target: (*target).into(),
                        read_only: *read_only,
                    });
                }
                MountSpec::Bind { source, target, read_only } => {
                    if !host.bind_mounts {
                        skipped_binds = true;
                        continue;
                    }
                    let path = dir.join(source);
                    if !stack.files.iter().any(|f| f.path == *source) && !dirs.contains(&path) {
                        dirs.push(path.clone());
                    }
                    mounts.push(MountPlan {
                        kind: MountKind::Bind,
                        source: path.to_string_lossy().into_owned(),
                        target: (*target).into(),
                        read_only: *read_only,
                    });
                }
            }
        }

        let service_networks: Vec<&str> = if service.networks.is_empty() {
            stack.networks.iter().map(|n| n.name).collect()
        } else {
            service.networks.clone()
        };
        let mut attached = Vec::new();
        for key in service_networks {
            let Some(network) = networks.iter().find(|n: &&NetworkPlan| n.key == key) else {
                return Err(PlanError::Undefined {
                    stack: name.into(),
                    service: service.name.into(),
                    what: "network",
                    name: key.into(),
                });
            };
            attached.push((network.name.clone(), vec![service.name.to_string()]));
        }

        let cpus = service.limits.cpus.map(|c| match host_cpus {
            Some(n) if c > n => {
                notes.push(format!(
                    "{}: CPU limit {n}, all this host has (the seed gives {c})",
                    service.name
                ));
                n
            }
            _ => c,
        });
        let memory = service
            .limits
            .memory_mib
            .map(|m| ((m as f64 * factor).floor() as u64).max(MIN_MEMORY_MIB));
        let reservation = service.limits.memory_reservation_mib.map(|r| {
            let scaled = ((r as f64 * factor).floor() as u64).max(MIN_MEMORY_MIB / 2);
            memory.map_or(scaled, |m| scaled.min(m))
        });

        containers.push(ContainerPlan {
            service: service.name.into(),
            name: container,
            seed_image: service.image.into(),
            image: host.image.clone(),
            user: service.user.map(String::from),
            entrypoint: vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("eval \"${STANDIN_ENV}\""),
                service.name.into(),
            ],
            cmd: service.command.iter().map(|a| (*a).to_string()).collect(),
            env: service
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .chain([format!("{STANDIN_ENV}={}", standin_script(name, service))])
                .collect(),
            labels,
            exposed: service.ports.iter().map(|p| p.container).collect(),
            published,
            mounts,
            tmpfs: service.tmpfs.iter().map(|t| (*t).to_string()).collect(),
            read_only: service.read_only,
            health: scaled_health(service),
            restart: service.restart,
            nano_cpus: cpus.map(|c| (c * 1e9).round() as i64),
            memory_bytes: memory.map(mib_to_bytes),
            memory_reservation_bytes: reservation.map(mib_to_bytes),
            networks: attached,
            depends_on: service
                .depends_on
                .iter()
                .map(|(dependency, condition)| DependencyPlan {
                    service: (*dependency).into(),
                    container: container_name(name, dependency),
                    condition: *condition,
                })
                .collect(),
        });
    }
    if skipped_binds {
        notes.push(
            "the engine is not on this machine: bind mounts of the state directory are left out"
                .into(),
        );
    }
    Ok(StackPlan {
        stack: name.into(),
        dir: dir.to_path_buf(),
        networks,
        volumes,
        dirs,
        files,
        containers,
        notes,
    })
}
