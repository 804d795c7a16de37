//! Carries out `portolan demo` on the engine: creates the networks, volumes, files and
//! containers a [`StackPlan`] lists, starts each container once what it depends on is
//! started or healthy, and removes exactly what carries the demo label.
//!
//! What to create and in which order is decided by the pure [`crate::demo`] module;
//! this module only asks the engine what is taken, executes, and waits. It reports each
//! step through a callback and never writes to the terminal itself.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Ipam, IpamConfig, Mount,
    MountType, NetworkConnectRequest, NetworkCreateRequest, NetworkingConfig, PortBinding,
    RestartPolicy, RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, InspectContainerOptions,
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder,
};
use futures_util::StreamExt;
use tokio::time::Instant;

use super::convert;
use super::error::describe;
use crate::demo::net::Ipv4Cidr;
use crate::demo::plan::{ContainerPlan, MountKind, StackPlan};
use crate::demo::report::{ContainerStatus, CreatedNetwork, Progress, StackStatus};
use crate::demo::spec::{Condition, Restart, Stack};
use crate::demo::{self, HostFacts, LABEL, PlanError, Taken, UnknownStack};
use crate::model::{Container, ContainerState, EngineInfo, HealthStatus};

/// How often a waiting `demo up` looks at a container it waits for.
const POLL: Duration = Duration::from_millis(400);
/// How long `demo up` tries to pull a missing image before giving up.
const PULL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct UpOptions {
    /// The image every stand-in runs (`--image`).
    pub image: String,
    /// How long one stack may take to become ready.
    pub timeout: Duration,
    /// Where stack directories go (see [`demo::state_root`]).
    pub state_root: PathBuf,
    /// Whether the engine runs on this machine (bind mounts need it).
    pub local: bool,
}

/// Why a demo command failed, in words.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    UnknownStack(#[from] UnknownStack),
    #[error(
        "the image {image} is not on the engine and could not be pulled ({detail}). \
         Pass a local image that has busybox's sh, httpd, nc and wget: \
         portolan demo up --image IMAGE"
    )]
    ImageMissing { image: String, detail: String },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "{stack}: a {kind} named {name} already exists and was not made by portolan demo; \
         remove or rename it, or leave the {stack} stack out"
    )]
    Conflict { stack: String, kind: &'static str, name: String },
    #[error("{stack}: cannot {action}: {detail}")]
    Engine { stack: String, action: String, detail: String },
    #[error("cannot {action}: {detail}")]
    Query { action: String, detail: String },
    #[error("{stack}: cannot write {path}: {source}")]
    Files {
        stack: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{stack}: {service} was not {condition} within {seconds} s (it is {now}); \
         `docker logs {container}` may say why"
    )]
    Timeout {
        stack: String,
        service: String,
        container: String,
        condition: &'static str,
        seconds: u64,
        now: String,
    },
    #[error("{stack}: {service} {what}; `docker logs {container}` may say why")]
    Failed { stack: String, service: String, container: String, what: String },
    #[error("{}", failures.join("; "))]
    Removal { failures: Vec<String> },
}

impl DemoError {
    /// A mistake on the command line rather than a failure (exit status 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, DemoError::UnknownStack(_))
    }

    /// The stack left half made, if the error happened while creating one.
    pub fn stack(&self) -> Option<&str> {
        match self {
            DemoError::Engine { stack, .. }
            | DemoError::Files { stack, .. }
            | DemoError::Timeout { stack, .. }
            | DemoError::Failed { stack, .. } => Some(stack),
            _ => None,
        }
    }
}

/// `$XDG_STATE_HOME/portolan/demo`, `~/.local/state/portolan/demo` or
/// `/tmp/portolan-demo-<uid>`.
pub fn default_state_root() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
    demo::state_root(
        std::env::var("XDG_STATE_HOME").ok().as_deref(),
        std::env::var("HOME").ok().as_deref(),
        uid,
    )
}

fn query_error(action: &str, error: &BollardError) -> DemoError {
    DemoError::Query { action: action.to_string(), detail: describe(error) }
}

fn engine_error(stack: &str, action: String, error: &BollardError) -> DemoError {
    DemoError::Engine { stack: stack.to_string(), action, detail: describe(error) }
}

fn is_not_found(error: &BollardError) -> bool {
    matches!(error, BollardError::DockerResponseServerError { status_code: 404, .. })
}

fn label_filter(value: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![value.to_string()])])
}

/// `org.portolan.demo=<stack>`, or every demo object without a stack.
fn demo_filter(stack: Option<&str>) -> HashMap<String, Vec<String>> {
    match stack {
        Some(stack) => label_filter(&format!("{LABEL}={stack}")),
        None => label_filter(LABEL),
    }
}

/// What carries a stack's label now.
struct Existing {
    containers: Vec<bollard::models::ContainerSummary>,
    networks: Vec<bollard::models::Network>,
    volumes: Vec<bollard::models::Volume>,
}

async fn existing(docker: &Docker, stack: Option<&str>) -> Result<Existing, DemoError> {
    let filters = demo_filter(stack);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new().all(true).filters(&filters).build(),
        ))
        .await
        .map_err(|e| query_error("list the demo containers", &e))?;
    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::new().filters(&filters).build()))
        .await
        .map_err(|e| query_error("list the demo networks", &e))?;
    let volumes = docker
        .list_volumes(Some(ListVolumesOptionsBuilder::new().filters(&filters).build()))
        .await
        .map_err(|e| query_error("list the demo volumes", &e))?
        .volumes
        .unwrap_or_default();
    Ok(Existing { containers, networks, volumes })
}

fn subnets_of(network: &bollard::models::Network) -> Vec<String> {
    network
        .ipam
        .as_ref()
        .and_then(|ipam| ipam.config.as_ref())
        .map(|configs| configs.iter().filter_map(|c| c.subnet.clone()).collect())
        .unwrap_or_default()
}

/// The image's id, pulling it first when the engine does not have it.
async fn ensure_image(docker: &Docker, image: &str) -> Result<String, DemoError> {
    match docker.inspect_image(image).await {
        Ok(found) => return Ok(found.id.unwrap_or_default()),
        Err(error) if is_not_found(&error) => {}
        Err(error) => return Err(query_error(&format!("inspect the image {image}"), &error)),
    }
    // Without a tag the API pulls every tag: name the one compose would.
    let (repository, tag) = match image.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (image, "latest"),
    };
    let options = CreateImageOptionsBuilder::new().from_image(repository).tag(tag).build();
    let pull = async {
        let mut stream = docker.create_image(Some(options), None, None);
        while let Some(step) = stream.next().await {
            match step {
                Ok(info) => {
                    if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                        return Err(detail);
                    }
                }
                Err(error) => return Err(describe(&error)),
            }
        }
        Ok(())
    };
    let missing = |detail: String| DemoError::ImageMissing { image: image.to_string(), detail };
    match tokio::time::timeout(PULL_TIMEOUT, pull).await {
        Err(_) => return Err(missing(format!("no answer within {} s", PULL_TIMEOUT.as_secs()))),
        Ok(Err(detail)) => return Err(missing(detail)),
        Ok(Ok(())) => {}
    }
    match docker.inspect_image(image).await {
        Ok(found) => Ok(found.id.unwrap_or_default()),
        Err(error) => Err(missing(describe(&error))),
    }
}

/// Whether this machine already has something listening on 127.0.0.1:`port`.
fn locally_taken(port: u16) -> bool {
    matches!(
        std::net::TcpListener::bind(("127.0.0.1", port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    )
}

/// Subnets of every network of the engine, and host ports in use: published by running
/// containers, and (for a local engine) held by any process, among those `stacks`
/// would want.
async fn taken(docker: &Docker, stacks: &[Stack], local: bool) -> Result<Taken, DemoError> {
    let networks = docker
        .list_networks(None)
        .await
        .map_err(|e| query_error("list the engine's networks", &e))?;
    let subnets =
        networks.iter().flat_map(subnets_of).filter_map(|s| s.parse::<Ipv4Cidr>().ok()).collect();
    let running = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().build()))
        .await
        .map_err(|e| query_error("list the engine's containers", &e))?;
    let mut ports: BTreeSet<u16> = running
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| p.public_port)
        .collect();
    if local {
        let wanted = stacks
            .iter()
            .flat_map(|s| s.services.iter())
            .flat_map(|s| s.ports.iter())
            .filter_map(|p| p.publish);
        for port in wanted {
            // The seed's port and the fallbacks tried first.
            for k in 0..=6u32 {
                if let Ok(candidate) = u16::try_from(u32::from(port) + k * 10_000)
                    && locally_taken(candidate)
                {
                    ports.insert(candidate);
                }
            }
        }
    }
    Ok(Taken { subnets, ports })
}

/// Creates and starts the stacks named (the default set without names) and waits until
/// every service is healthy (or running, without a healthcheck). The stacks start side
/// by side; each one's summary leaves as [`Progress::Summary`] as soon as it is up.
pub async fn up(
    docker: &Docker,
    info: &EngineInfo,
    names: &[String],
    options: &UpOptions,
    progress: &dyn Fn(Progress),
) -> Result<(), DemoError> {
    let stacks = demo::select(names)?;
    let image_id = ensure_image(docker, &options.image).await?;
    let host = HostFacts {
        image: options.image.clone(),
        image_id: (!image_id.is_empty()).then_some(image_id),
        cpus: info.cpus,
        memory_bytes: info.memory_bytes,
        bind_mounts: options.local,
    };
    let mut taken = taken(docker, &stacks, options.local).await?;
    // Everything is planned and checked before anything is made.
    let mut plans = Vec::new();
    for stack in &stacks {
        let present = existing(docker, Some(stack.name)).await?;
        if !present.containers.is_empty()
            || !present.networks.is_empty()
            || !present.volumes.is_empty()
        {
            progress(Progress::AlreadyUp {
                stack: stack.name.to_string(),
                containers: present.containers.len(),
                networks: present.networks.len(),
                volumes: present.volumes.len(),
            });
            continue;
        }
        let dir = options.state_root.join(stack.name);
        let plan = demo::plan(stack, &dir, &host, &mut taken)?;
        check_conflicts(docker, &plan).await?;
        for note in &plan.notes {
            progress(Progress::Note { stack: stack.name.to_string(), text: note.clone() });
        }
        plans.push((stack, plan));
    }
    // Stacks with subnets of their own first: the engine's picks for the others then
    // cannot take a subnet that was planned.
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| plans[i].1.networks.iter().all(|n| n.subnet.is_none()));
    let mut networks: Vec<Vec<CreatedNetwork>> = vec![Vec::new(); plans.len()];
    for i in order {
        networks[i] = create(docker, &plans[i].1, progress).await?;
    }
    let starts = plans.iter().zip(&networks).map(|((stack, plan), networks)| async move {
        start(docker, plan, options.timeout, progress).await?;
        progress(Progress::Summary(demo::report::up_summary(plan, stack.seed, networks)));
        Ok::<(), DemoError>(())
    });
    let mut errors =
        futures_util::future::join_all(starts).await.into_iter().filter_map(Result::err);
    match errors.next() {
        None => Ok(()),
        Some(first) => {
            for other in errors {
                progress(Progress::Failed(other.to_string()));
            }
            Err(first)
        }
    }
}

/// Refuses to touch anything of the same name that the demo did not make.
async fn check_conflicts(docker: &Docker, plan: &StackPlan) -> Result<(), DemoError> {
    let stack = plan.stack.as_str();
    let conflict = |kind, name: &str| DemoError::Conflict {
        stack: stack.to_string(),
        kind,
        name: name.to_string(),
    };
    for container in &plan.containers {
        match docker.inspect_container(&container.name, None::<InspectContainerOptions>).await {
            Ok(_) => return Err(conflict("container", &container.name)),
            Err(error) if is_not_found(&error) => {}
            Err(error) => {
                return Err(engine_error(stack, format!("inspect {}", container.name), &error));
            }
        }
    }
    let networks = docker
        .list_networks(None)
        .await
        .map_err(|e| engine_error(stack, "list networks".into(), &e))?;
    for network in &plan.networks {
        if networks.iter().any(|n| n.name.as_deref() == Some(network.name.as_str())) {
            return Err(conflict("network", &network.name));
        }
    }
    for volume in &plan.volumes {
        match docker.inspect_volume(&volume.name).await {
            Ok(_) => return Err(conflict("volume", &volume.name)),
            Err(error) if is_not_found(&error) => {}
            Err(error) => {
                return Err(engine_error(stack, format!("inspect volume {}", volume.name), &error));
            }
        }
    }
    Ok(())
}

/// Files, networks, volumes, then every container (created, not started), in order.
async fn create(
    docker: &Docker,
    plan: &StackPlan,
    progress: &dyn Fn(Progress),
) -> Result<Vec<CreatedNetwork>, DemoError> {
    let stack = plan.stack.as_str();
    let files_error = |path: &Path, source| DemoError::Files {
        stack: stack.to_string(),
        path: path.display().to_string(),
        source,
    };
    for dir in &plan.dirs {
        std::fs::create_dir_all(dir).map_err(|e| files_error(dir, e))?;
    }
    for (path, contents) in &plan.files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| files_error(parent, e))?;
        }
        std::fs::write(path, contents).map_err(|e| files_error(path, e))?;
    }

    let mut created = Vec::new();
    for network in &plan.networks {
        let request = NetworkCreateRequest {
            name: network.name.clone(),
            driver: Some("bridge".into()),
            labels: Some(network.labels.clone().into_iter().collect()),
            ipam: network.subnet.map(|subnet| Ipam {
                driver: Some("default".into()),
                config: Some(vec![IpamConfig {
                    subnet: Some(subnet.to_string()),
                    ..IpamConfig::default()
                }]),
                options: None,
            }),
            ..NetworkCreateRequest::default()
        };
        docker
            .create_network(request)
            .await
            .map_err(|e| engine_error(stack, format!("create network {}", network.name), &e))?;
        // Report the subnet the engine really gave, also when it chose one itself.
        let subnets = match docker.inspect_network(&network.name, None).await {
            Ok(inspect) => inspect
                .ipam
                .and_then(|ipam| ipam.config)
                .map(|c| c.into_iter().filter_map(|c| c.subnet).collect())
                .unwrap_or_default(),
            Err(_) => network.subnet.map(|s| vec![s.to_string()]).unwrap_or_default(),
        };
        progress(Progress::Network {
            stack: stack.into(),
            name: network.name.clone(),
            subnet: (!subnets.is_empty()).then(|| subnets.join(" ")),
        });
        created.push(CreatedNetwork { name: network.name.clone(), subnets });
    }
    for volume in &plan.volumes {
        let request = VolumeCreateRequest {
            name: Some(volume.name.clone()),
            driver: Some("local".into()),
            labels: Some(volume.labels.clone().into_iter().collect()),
            ..VolumeCreateRequest::default()
        };
        docker
            .create_volume(request)
            .await
            .map_err(|e| engine_error(stack, format!("create volume {}", volume.name), &e))?;
        progress(Progress::Volume { stack: stack.into(), name: volume.name.clone() });
    }
    for container in &plan.containers {
        let options = CreateContainerOptionsBuilder::new().name(&container.name).build();
        docker
            .create_container(Some(options), create_body(container))
            .await
            .map_err(|e| engine_error(stack, format!("create container {}", container.name), &e))?;
        // Engines before API 1.44 attach one network at creation: join the others now.
        for (network, aliases) in container.networks.iter().skip(1) {
            let request = NetworkConnectRequest {
                container: container.name.clone(),
                endpoint_config: Some(EndpointSettings {
                    aliases: Some(aliases.clone()),
                    ..EndpointSettings::default()
                }),
            };
            docker.connect_network(network, request).await.map_err(|e| {
                engine_error(stack, format!("connect {} to {network}", container.name), &e)
            })?;
        }
        progress(Progress::Created {
            stack: stack.into(),
            container: container.name.clone(),
            seed_image: container.seed_image.clone(),
            image: container.image.clone(),
        });
    }
    Ok(created)
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// The engine's form of a planned container. Pure.
pub fn create_body(plan: &ContainerPlan) -> ContainerCreateBody {
    let port_bindings: HashMap<String, Option<Vec<PortBinding>>> = plan
        .published
        .iter()
        .map(|p| {
            let binding = PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(p.host.to_string()),
            };
            (format!("{}/tcp", p.container), Some(vec![binding]))
        })
        .collect();
    let mounts = plan
        .mounts
        .iter()
        .map(|m| Mount {
            target: Some(m.target.clone()),
            source: Some(m.source.clone()),
            typ: Some(match m.kind {
                MountKind::Volume => MountType::VOLUME,
                MountKind::Bind => MountType::BIND,
            }),
            read_only: Some(m.read_only),
            ..Mount::default()
        })
        .collect();
    let tmpfs: HashMap<String, String> = plan
        .tmpfs
        .iter()
        .map(|t| (t.clone(), "rw,nosuid,nodev,mode=1777,size=16m".into()))
        .collect();
    let restart = match plan.restart {
        Restart::No => RestartPolicyNameEnum::NO,
        Restart::Always => RestartPolicyNameEnum::ALWAYS,
        Restart::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
        Restart::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
    };
    let first_network = plan.networks.first();
    let host_config = HostConfig {
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        mounts: Some(mounts),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        readonly_rootfs: Some(plan.read_only),
        restart_policy: Some(RestartPolicy { name: Some(restart), maximum_retry_count: None }),
        nano_cpus: plan.nano_cpus,
        memory: plan.memory_bytes,
        memory_reservation: plan.memory_reservation_bytes,
        network_mode: first_network.map(|(name, _)| name.clone()),
        ..HostConfig::default()
    };
    let networking_config = first_network.map(|(name, aliases)| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            name.clone(),
            EndpointSettings { aliases: Some(aliases.clone()), ..EndpointSettings::default() },
        )])),
    });
    ContainerCreateBody {
        image: Some(plan.image.clone()),
        user: plan.user.clone(),
        entrypoint: Some(plan.entrypoint.clone()),
        cmd: Some(plan.cmd.clone()),
        env: Some(plan.env.clone()),
        labels: Some(plan.labels.clone().into_iter().collect()),
        exposed_ports: Some(plan.exposed.iter().map(|p| format!("{p}/tcp")).collect()),
        healthcheck: plan.health.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: Some(nanos(h.interval)),
            timeout: Some(nanos(h.timeout)),
            retries: Some(i64::from(h.retries)),
            start_period: Some(nanos(h.start_period)),
            start_interval: None,
        }),
        host_config: Some(host_config),
        networking_config,
        ..ContainerCreateBody::default()
    }
}

async fn inspect(docker: &Docker, name: &str) -> Result<Option<Container>, BollardError> {
    match docker.inspect_container(name, None::<InspectContainerOptions>).await {
        Ok(response) => Ok(Some(convert::container(response))),
        Err(error) if is_not_found(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// What a container is doing, for a message.
fn describe_state(container: &Container) -> String {
    match container.state {
        ContainerState::Running => match container.health_status() {
            HealthStatus::None => "running".into(),
            status => format!("running, {}", status.as_str()),
        },
        ContainerState::Exited => {
            format!("exited with code {}", container.exit_code.unwrap_or_default())
        }
        state => state.as_str().into(),
    }
}

/// What `demo up` has seen of a stack's containers while starting it.
struct Watch<'a> {
    plan: &'a StackPlan,
    began: Instant,
    deadline: Instant,
    timeout: Duration,
    started_at: HashMap<&'a str, Instant>,
    /// The strongest condition each service was seen to meet (healthy beats started).
    met: HashMap<&'a str, Condition>,
    last: HashMap<&'a str, Container>,
}

impl<'a> Watch<'a> {
    fn satisfied(&self, service: &str, wanted: Condition) -> bool {
        match (self.met.get(service), wanted) {
            (Some(_), Condition::Started) => true,
            (Some(known), wanted) => *known == wanted,
            (None, _) => false,
        }
    }

    /// Healthy when the service has a healthcheck, else running.
    fn ready(&self, container: &ContainerPlan) -> bool {
        let wanted =
            if container.health.is_some() { Condition::Healthy } else { Condition::Started };
        self.satisfied(&container.service, wanted)
    }

    fn failed(&self, container: &ContainerPlan, what: String) -> DemoError {
        DemoError::Failed {
            stack: self.plan.stack.clone(),
            service: container.service.clone(),
            container: container.name.clone(),
            what,
        }
    }

    fn timed_out(&self, container: &ContainerPlan, condition: Condition) -> DemoError {
        DemoError::Timeout {
            stack: self.plan.stack.clone(),
            service: container.service.clone(),
            container: container.name.clone(),
            condition: if condition == Condition::Healthy { "healthy" } else { "running" },
            seconds: self.timeout.as_secs(),
            now: self
                .last
                .get(container.service.as_str())
                .map_or_else(|| "not started".to_string(), describe_state),
        }
    }

    /// Looks once at every started container that is not ready yet: reports what became
    /// running or healthy, and fails on one that exited, keeps restarting or is unhealthy.
    async fn observe(
        &mut self,
        docker: &Docker,
        progress: &dyn Fn(Progress),
    ) -> Result<(), DemoError> {
        let plan = self.plan;
        for container in &plan.containers {
            let service = container.service.as_str();
            let Some(since) = self.started_at.get(service).copied() else { continue };
            if self.ready(container) {
                continue;
            }
            let now = inspect(docker, &container.name)
                .await
                .map_err(|e| engine_error(&plan.stack, format!("inspect {}", container.name), &e))?
                .ok_or_else(|| {
                    self.failed(container, "was removed while the stack came up".into())
                })?;
            let gave_up = matches!(now.state, ContainerState::Exited | ContainerState::Dead)
                || (now.state == ContainerState::Restarting && now.restart_count > 0);
            if gave_up {
                let hint = if matches!(now.exit_code, Some(126 | 127)) {
                    " (does the image have busybox's sh, httpd, nc and wget?)"
                } else {
                    ""
                };
                return Err(self.failed(container, format!("{}{hint}", describe_state(&now))));
            }
            if now.health_status() == HealthStatus::Unhealthy {
                let probe = now
                    .health
                    .as_ref()
                    .and_then(|h| h.log.last())
                    .map(|p| format!(": the probe said {:?}", p.output.trim()))
                    .unwrap_or_default();
                let what = format!(
                    "is unhealthy{probe} (its stand-in needs busybox's httpd, nc and wget in {})",
                    container.image
                );
                return Err(self.failed(container, what));
            }
            if now.state == ContainerState::Running {
                let healthy = now.health_status() == HealthStatus::Healthy;
                let reached = if healthy { Condition::Healthy } else { Condition::Started };
                let first_time = !self.satisfied(service, reached);
                self.met.insert(service, reached);
                if first_time && (healthy || container.health.is_none()) {
                    progress(Progress::Reached {
                        stack: plan.stack.clone(),
                        service: service.to_string(),
                        state: if healthy { "healthy" } else { "running" },
                        after: since.elapsed(),
                    });
                }
            }
            self.last.insert(service, now);
        }
        Ok(())
    }
}

/// Starts the containers in plan order, each once its dependencies meet their
/// conditions, then waits until every service is ready (healthy, or running when it
/// has no healthcheck).
async fn start(
    docker: &Docker,
    plan: &StackPlan,
    timeout: Duration,
    progress: &dyn Fn(Progress),
) -> Result<(), DemoError> {
    let stack = plan.stack.as_str();
    let began = Instant::now();
    let mut watch = Watch {
        plan,
        began,
        deadline: began + timeout,
        timeout,
        started_at: HashMap::new(),
        met: HashMap::new(),
        last: HashMap::new(),
    };
    let by_service = |service: &str| plan.containers.iter().find(|c| c.service == service);

    for container in &plan.containers {
        let pending: Vec<(String, Condition)> = container
            .depends_on
            .iter()
            .filter(|d| !watch.satisfied(&d.service, d.condition))
            .map(|d| (d.service.clone(), d.condition))
            .collect();
        if !pending.is_empty() {
            progress(Progress::Waiting {
                stack: stack.into(),
                service: container.service.clone(),
                on: pending,
            });
        }
        loop {
            watch.observe(docker, progress).await?;
            let unmet =
                container.depends_on.iter().find(|d| !watch.satisfied(&d.service, d.condition));
            let Some(unmet) = unmet else { break };
            if Instant::now() >= watch.deadline {
                let Some(dependency) = by_service(&unmet.service) else { break };
                return Err(watch.timed_out(dependency, unmet.condition));
            }
            tokio::time::sleep(POLL).await;
        }
        docker
            .start_container(&container.name, None)
            .await
            .map_err(|e| engine_error(stack, format!("start {}", container.name), &e))?;
        watch.started_at.insert(container.service.as_str(), Instant::now());
        progress(Progress::Started { stack: stack.into(), service: container.service.clone() });
    }

    loop {
        watch.observe(docker, progress).await?;
        let Some(waiting) = plan.containers.iter().find(|c| !watch.ready(c)) else { break };
        if Instant::now() >= watch.deadline {
            let condition =
                if waiting.health.is_some() { Condition::Healthy } else { Condition::Started };
            return Err(watch.timed_out(waiting, condition));
        }
        tokio::time::sleep(POLL).await;
    }
    progress(Progress::Up { stack: stack.into(), after: watch.began.elapsed() });
    Ok(())
}

/// Removes every container, network and volume carrying the demo label (of the stacks
/// named, or of all), then their state directories. Idempotent: nothing left is fine.
pub async fn down(
    docker: &Docker,
    names: &[String],
    state_root: &Path,
    progress: &dyn Fn(Progress),
) -> Result<usize, DemoError> {
    let targets: Vec<Option<String>> = if names.is_empty() {
        vec![None]
    } else {
        demo::select(names)?.iter().map(|s| Some(s.name.to_string())).collect()
    };
    let mut removed = 0;
    let mut failures = Vec::new();
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for target in &targets {
        let what = match target {
            Some(stack) => format!("demo stack {stack}"),
            None => "any demo stack".to_string(),
        };
        let found = existing(docker, target.as_deref()).await?;
        let before = removed;
        let mut names = Vec::new();
        for container in &found.containers {
            let labels = container.labels.clone().unwrap_or_default();
            if let Some(dir) = labels.get("com.docker.compose.project.working_dir") {
                dirs.insert(PathBuf::from(dir));
            }
            let name = container
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_string())
                .or_else(|| container.id.clone())
                .unwrap_or_default();
            names.push(name);
        }
        // Killing and removing takes the engine a moment per container: all at once.
        let removals = names.iter().map(|name| async move {
            let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
            (name, docker.remove_container(name, Some(options)).await)
        });
        for (name, outcome) in futures_util::future::join_all(removals).await {
            match outcome {
                Ok(()) => {
                    removed += 1;
                    progress(Progress::Removed { what: "container", name: name.clone() });
                }
                Err(error) if is_not_found(&error) => {}
                Err(error) => {
                    failures.push(format!("cannot remove container {name}: {}", describe(&error)))
                }
            }
        }
        for network in &found.networks {
            let Some(name) = network.name.clone() else { continue };
            match docker.remove_network(&name).await {
                Ok(()) => {
                    removed += 1;
                    progress(Progress::Removed { what: "network", name });
                }
                Err(error) if is_not_found(&error) => {}
                Err(error) => {
                    failures.push(format!("cannot remove network {name}: {}", describe(&error)))
                }
            }
        }
        for volume in &found.volumes {
            let options = RemoveVolumeOptionsBuilder::new().force(true).build();
            match docker.remove_volume(&volume.name, Some(options)).await {
                Ok(()) => {
                    removed += 1;
                    progress(Progress::Removed { what: "volume", name: volume.name.clone() });
                }
                Err(error) if is_not_found(&error) => {}
                Err(error) => failures.push(format!(
                    "cannot remove volume {}: {}",
                    volume.name,
                    describe(&error)
                )),
            }
        }
        match target {
            Some(stack) => {
                dirs.insert(state_root.join(stack));
            }
            None => dirs.extend(demo::stacks::all().iter().map(|s| state_root.join(s.name))),
        }
        if removed == before {
            progress(Progress::NothingToRemove { what });
        }
    }
    let known: Vec<&str> = demo::stacks::all().iter().map(|s| s.name).collect();
    for dir in dirs {
        // Only a demo directory of a known stack, whatever a label says.
        let named = dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| known.contains(&n));
        if !named || !demo::is_stack_dir(&dir) || !dir.exists() {
            continue;
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {
                removed += 1;
                progress(Progress::Removed { what: "directory", name: dir.display().to_string() });
            }
            Err(error) => failures.push(format!("cannot remove {}: {error}", dir.display())),
        }
    }
    // The root itself goes once it holds nothing (it may be shared with nothing else).
    let _ = std::fs::remove_dir(state_root);
    if failures.is_empty() { Ok(removed) } else { Err(DemoError::Removal { failures }) }
}

/// Every stack of the catalogue with what the engine has of it now.
pub async fn status(docker: &Docker) -> Result<Vec<(Stack, StackStatus)>, DemoError> {
    let found = existing(docker, None).await?;
    let stack_of = |labels: Option<&HashMap<String, String>>| {
        labels.and_then(|l| l.get(LABEL)).cloned().unwrap_or_default()
    };
    let mut result = Vec::new();
    for stack in demo::stacks::all() {
        let mut status = StackStatus::default();
        for summary in found.containers.iter().filter(|c| stack_of(c.labels.as_ref()) == stack.name)
        {
            let Some(id) = summary.id.as_deref() else { continue };
            let Some(container) = inspect(docker, id)
                .await
                .map_err(|e| query_error(&format!("inspect container {id}"), &e))?
            else {
                continue;
            };
            let mut ports: Vec<(u16, u16)> = summary
                .ports
                .iter()
                .flatten()
                .filter_map(|p| p.public_port.map(|h| (h, p.private_port)))
                .collect();
            ports.sort_unstable();
            ports.dedup();
            status.containers.push(ContainerStatus {
                service: container.service().unwrap_or(&container.name).to_string(),
                state: container.state,
                health: container.health_status(),
                ports,
            });
        }
        status.containers.sort_by(|a, b| a.service.cmp(&b.service));
        for network in found.networks.iter().filter(|n| stack_of(n.labels.as_ref()) == stack.name) {
            status.networks.push(CreatedNetwork {
                name: network.name.clone().unwrap_or_default(),
                subnets: subnets_of(network),
            });
        }
        status.volumes = found
            .volumes
            .iter()
            .filter(|v| v.labels.get(LABEL).map(String::as_str) == Some(stack.name))
            .count();
        result.push((stack, status));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::plan::{HostFacts, Taken, plan};

    #[test]
    fn create_body_carries_the_plan() {
        let stack = demo::stacks::all().into_iter().find(|s| s.name == "nestjs-mysql").unwrap();
        let host = HostFacts {
            image: "busybox:latest".into(),
            cpus: Some(2),
            memory_bytes: Some(8 << 30),
            bind_mounts: true,
            ..HostFacts::default()
        };
        let plan =
            plan(&stack, Path::new("/s/nestjs-mysql"), &host, &mut Taken::default()).unwrap();
        let app = plan.containers.iter().find(|c| c.service == "app").unwrap();
        let body = create_body(app);
        assert_eq!(body.image.as_deref(), Some("busybox:latest"));
        assert_eq!(body.user.as_deref(), Some("1001:1001"));
        assert_eq!(body.cmd, Some(vec!["node".to_string(), "dist/main".to_string()]));
        let hc = body.host_config.as_ref().unwrap();
        let binding = &hc.port_bindings.as_ref().unwrap()["4000/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some("4000"));
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert!(hc.tmpfs.as_ref().unwrap().contains_key("/tmp"));
        assert_eq!(hc.network_mode.as_deref(), Some("nestjs-mysql_nestjs-network"));
        assert_eq!(
            hc.restart_policy.as_ref().and_then(|r| r.name),
            Some(RestartPolicyNameEnum::UNLESS_STOPPED)
        );
        let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints["nestjs-mysql_nestjs-network"].aliases, Some(vec!["app".to_string()]));
        let health = body.healthcheck.unwrap();
        assert_eq!(health.interval, Some(2_000_000_000));
        assert_eq!(health.retries, Some(3));
        assert_eq!(
            body.labels.unwrap()["com.docker.compose.depends_on"],
            "mysql:service_healthy:false"
        );
        // The JSON the engine receives has the compose shapes.
        let json = serde_json::to_value(create_body(app)).unwrap();
        assert_eq!(json["ExposedPorts"]["4000/tcp"], serde_json::json!({}));
        assert_eq!(json["HostConfig"]["RestartPolicy"]["Name"], "unless-stopped");
    }
}
