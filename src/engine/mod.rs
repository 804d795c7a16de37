//! The only code that talks to Docker.
//!
//! [`connect`] reaches an engine or says in words why it cannot. [`spawn`] starts the
//! supervisor: it lists everything once, follows the event stream, re-inspects only
//! what an event touched, drives the stats collector, and when the engine goes away
//! reports it and reconnects with backoff. Everything it learns leaves as owned
//! [`Update`]s on a bounded channel; nothing here knows about the terminal.

pub mod cgroup;
pub mod compose_files;
pub mod convert;
pub mod demo;
pub mod endpoint;
pub mod fleet;
pub mod logs;
pub mod proxy_files;
pub mod resolve;
pub mod ssh;
pub mod stats;
pub mod swarm;
pub mod tls;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::models::EventMessage;
use bollard::query_parameters::{
    EventsOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    ListNetworksOptions, ListVolumesOptions,
};
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use endpoint::{ConnectError, Endpoint};
pub use stats::StatsSource;

use crate::model::action::{ActionResult, Verb};
use crate::model::{Container, ContainerEvent, ContainerState, EngineInfo, Inventory, Update};
use compose_files::ComposeFiles;
use stats::{StatsCollector, StatsCommand};

/// How long portolan waits for an engine before saying it cannot reach it.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A quiet event stream is checked this often, so a silently dropped TCP link is noticed.
const LIVENESS_PING: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub stats_interval: Duration,
    pub stats_source: StatsSource,
    /// Compose v1 fallback: read compose files named in labels (local engines only).
    pub read_compose_files: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            stats_interval: Duration::from_secs(1),
            stats_source: StatsSource::Auto,
            read_compose_files: true,
        }
    }
}

/// Connects, checks that a Docker engine answers, and reads what it says of itself,
/// all within `limit`.
pub async fn connect(
    endpoint: &Endpoint,
    limit: Duration,
) -> Result<(Docker, EngineInfo), ConnectError> {
    let deadline = tokio::time::Instant::now() + limit;
    endpoint::probe(endpoint, limit).await?;
    let shown = endpoint.to_string();
    let docker = match endpoint.target() {
        Endpoint::Ssh(tunnel) => {
            let socket = tunnel.open(limit, &shown).await?;
            ssh::client(&socket, 120).map_err(|e| ConnectError::Other {
                endpoint: shown.clone(),
                detail: e.to_string(),
            })?
        }
        target => client(target, &shown)?,
    };
    let timed_out =
        || ConnectError::TimedOut { endpoint: shown.clone(), seconds: limit.as_secs().max(1) };
    let version = match tokio::time::timeout_at(deadline, docker.version()).await {
        Err(_) => return Err(timed_out()),
        Ok(Ok(version)) => version,
        Ok(Err(e)) => {
            if let Endpoint::Ssh(tunnel) = endpoint.target() {
                // The remote side's words (ssh's, or docker's on the remote host) say more
                // than bollard's "connection closed"; they may take a moment to arrive.
                for _ in 0..10 {
                    if let Some(detail) = tunnel.last_error() {
                        return Err(ConnectError::Ssh { endpoint: shown, detail });
                    }
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
            }
            return Err(tls::classify(&shown, &e).unwrap_or_else(|| ConnectError::NotAnEngine {
                endpoint: shown.clone(),
                detail: e.to_string(),
            }));
        }
    };
    // `info` is a nicety: an engine whose info does not parse is still an engine.
    let info = tokio::time::timeout_at(deadline, docker.info()).await.ok().and_then(Result::ok);
    let info = EngineInfo {
        endpoint: shown.clone(),
        version: version.version,
        api_version: version.api_version,
        os: info.as_ref().and_then(|i| i.operating_system.clone()),
        hostname: info.as_ref().and_then(|i| i.name.clone()),
        cpus: info.as_ref().and_then(|i| i.ncpu).and_then(|n| u32::try_from(n).ok()),
        memory_bytes: info.as_ref().and_then(|i| i.mem_total).and_then(|m| u64::try_from(m).ok()),
        cgroup_version: info.as_ref().and_then(|i| i.cgroup_version).map(|v| v.to_string()),
    };
    Ok((docker, info))
}

/// A bollard client for an address (not a context: its target).
fn client(endpoint: &Endpoint, shown: &str) -> Result<Docker, ConnectError> {
    let other = |e: bollard::errors::Error| ConnectError::Other {
        endpoint: shown.to_string(),
        detail: e.to_string(),
    };
    match endpoint {
        Endpoint::Unix(path) => {
            Docker::connect_with_unix(&path.to_string_lossy(), 120, bollard::API_DEFAULT_VERSION)
                .map_err(other)
        }
        Endpoint::Tcp { host, port, tls: None } => Docker::connect_with_http(
            &format!("http://{host}:{port}"),
            120,
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(other),
        Endpoint::Tcp { host, port, tls: Some(files) } => {
            tls::check_files(files)?;
            tls::install_provider();
            // bollard reads an unreadable client certificate as "none": an empty path is
            // how to say there is none.
            let none = std::path::PathBuf::new();
            let (cert, key) = files.client.as_ref().map_or((&none, &none), |(c, k)| (c, k));
            Docker::connect_with_ssl(
                &format!("tcp://{host}:{port}"),
                key,
                cert,
                &files.ca,
                120,
                bollard::API_DEFAULT_VERSION,
            )
            .map_err(|e| match e {
                bollard::errors::Error::CertPathError { path }
                | bollard::errors::Error::CertParseError { path } => ConnectError::TlsFile {
                    path: path.display().to_string(),
                    detail: "not a readable PEM certificate file".into(),
                },
                e => other(e),
            })
        }
        Endpoint::Context { endpoint, .. } => client(endpoint, shown),
        Endpoint::Ssh(tunnel) => Err(ConnectError::Other {
            endpoint: shown.to_string(),
            detail: format!("{} needs its tunnel opened first", tunnel.target),
        }),
    }
}

/// What the UI can ask of the engine side.
#[derive(Debug, Clone)]
pub enum EngineCommand {
    /// Follow the logs of these containers (replacing what was followed), or none.
    FollowLogs(Option<logs::LogRequest>),
    /// Carry out an operator's action on these containers (id, name) of engine
    /// `host`, one after the other, reporting each as it starts and ends.
    Act { host: crate::model::HostId, verb: Verb, targets: Vec<(String, String)> },
}

/// A running supervisor. Dropping it does not stop it; call [`EngineHandle::stop`].
pub struct EngineHandle {
    pub updates: mpsc::Receiver<Update>,
    commands: mpsc::UnboundedSender<EngineCommand>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl EngineHandle {
    /// Passes a request to the supervisor; ignored once it has stopped.
    pub fn command(&self, command: EngineCommand) {
        let _ = self.commands.send(command);
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

/// Starts following an engine that [`connect`] has already reached.
pub fn spawn(
    endpoint: Endpoint,
    docker: Docker,
    info: EngineInfo,
    options: EngineOptions,
) -> EngineHandle {
    spawn_with(endpoint, Start::Connected(Box::new((docker, info))), options)
}

/// How a supervisor begins.
pub enum Start {
    /// With a session [`connect`] opened.
    Connected(Box<(Docker, EngineInfo)>),
    /// With an attempt of its own, at once.
    Connect,
    /// After an attempt that failed for this reason: it is reported, and the next
    /// attempt waits for the backoff.
    Failed(String),
}

/// Starts following an engine, connected already or not: one that is not is reported
/// as disconnected and tried again with backoff.
pub fn spawn_with(endpoint: Endpoint, start: Start, options: EngineOptions) -> EngineHandle {
    let (tx, rx) = mpsc::channel(256);
    let (commands_tx, commands_rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let supervisor = Supervisor {
        endpoint,
        options,
        updates: tx,
        commands: commands_rx,
        cancel: cancel.clone(),
        compose_files: ComposeFiles::default(),
        health_checked: HashSet::new(),
        oom_seen: HashSet::new(),
        known: HashMap::new(),
        logs: logs::LogFollowers::default(),
        swarm: None,
        swarm_error: None,
    };
    let task = tokio::spawn(supervisor.run(start));
    EngineHandle { updates: rx, commands: commands_tx, cancel, task }
}

struct Supervisor {
    endpoint: Endpoint,
    options: EngineOptions,
    updates: mpsc::Sender<Update>,
    commands: mpsc::UnboundedReceiver<EngineCommand>,
    cancel: CancellationToken,
    compose_files: ComposeFiles,
    /// The containers as last inspected: log targets are matched against them.
    known: HashMap<String, Container>,
    logs: logs::LogFollowers,
    /// Containers with a healthcheck: their probe runs (exec_die events) change the
    /// probe log, which only inspect shows.
    health_checked: HashSet<String>,
    /// Containers the engine sent an `oom` event for during their current run.
    oom_seen: HashSet<String>,
    /// The cluster as last sent, when the engine is a swarm manager: a refresh that
    /// finds the same sends nothing.
    swarm: Option<crate::model::Swarm>,
    /// The last failure to read the cluster, so a lasting one is reported once.
    swarm_error: Option<String>,
}

/// Why a session with the engine ended.
enum SessionEnd {
    Cancelled,
    Lost(String),
}

impl Supervisor {
    async fn send(&self, update: Update) -> bool {
        self.updates.send(update).await.is_ok()
    }

    async fn run(mut self, start: Start) {
        let mut backoff = Duration::from_millis(250);
        let failed = match start {
            Start::Connected(session) => Ok(Some(*session)),
            Start::Failed(reason) => Err(reason),
            Start::Connect => {
                let attempt = tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    attempt = connect(&self.endpoint, CONNECT_TIMEOUT) => attempt,
                };
                attempt.map(Some).map_err(|error| error.to_string())
            }
        };
        let mut session = match failed {
            Ok(session) => session,
            Err(reason) => {
                if !self.send(Update::Disconnected { at: Utc::now(), reason }).await {
                    return;
                }
                None
            }
        };
        loop {
            if let Some((docker, info)) = session.take() {
                if !self.send(Update::Connected { at: Utc::now(), info: Box::new(info) }).await {
                    return;
                }
                backoff = Duration::from_millis(250);
                match self.follow(docker).await {
                    SessionEnd::Cancelled => return,
                    SessionEnd::Lost(reason) => {
                        tracing::warn!(%reason, "lost the engine");
                        if !self.send(Update::Disconnected { at: Utc::now(), reason }).await {
                            return;
                        }
                    }
                }
            }
            let pause = tokio::time::sleep(backoff);
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    _ = &mut pause => break,
                    command = self.commands.recv() => match command {
                        Some(EngineCommand::FollowLogs(request)) => self.logs.set_request(request),
                        Some(EngineCommand::Act { verb, targets, .. }) => {
                            // No engine to act on: say so for each target at once.
                            for (id, name) in targets {
                                let result = ActionResult {
                                    at: Utc::now(),
                                    id,
                                    name,
                                    verb,
                                    error: Some("the engine is not connected".to_string()),
                                };
                                let _ = self.updates.send(Update::ActionDone(Box::new(result))).await;
                            }
                        }
                        None => return,
                    },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
            let attempt = tokio::select! {
                _ = self.cancel.cancelled() => return,
                attempt = connect(&self.endpoint, CONNECT_TIMEOUT) => attempt,
            };
            match attempt {
                Ok(connected) => session = Some(connected),
                Err(error) => {
                    let update = Update::Disconnected { at: Utc::now(), reason: error.to_string() };
                    if !self.send(update).await {
                        return;
                    }
                }
            }
        }
    }

    /// One connected session: inventory, then events until the engine goes away.
    async fn follow(&mut self, docker: Docker) -> SessionEnd {
        let (stats_tx, stats_rx) = mpsc::unbounded_channel();
        let stats_cancel = self.cancel.child_token();
        let source =
            if self.endpoint.is_local() { self.options.stats_source } else { StatsSource::Api };
        let collector = StatsCollector::new(docker.clone(), source, self.options.stats_interval);
        let stats_task =
            tokio::spawn(collector.run(stats_rx, self.updates.clone(), stats_cancel.clone()));
        let end = self.follow_with(&docker, &stats_tx, &stats_cancel).await;
        self.logs.stop_all();
        stats_cancel.cancel();
        let _ = stats_task.await;
        end
    }

    async fn follow_with(
        &mut self,
        docker: &Docker,
        stats: &mpsc::UnboundedSender<StatsCommand>,
        session: &CancellationToken,
    ) -> SessionEnd {
        // Subscribe from a moment before listing, so nothing between the two is lost;
        // an event for something already listed only costs one more inspect.
        let since = (Utc::now().timestamp() - 1).to_string();
        let mut filters: HashMap<&str, Vec<&str>> = HashMap::new();
        // `service` and `node` events come only from swarm managers; asking for them
        // costs nothing elsewhere.
        filters.insert("type", vec!["container", "network", "volume", "service", "node"]);
        let options = EventsOptionsBuilder::new().since(&since).filters(&filters).build();
        let mut events = Box::pin(docker.events(Some(options)));

        let inventory = match self.inventory(docker).await {
            Ok(inventory) => inventory,
            Err(reason) => return SessionEnd::Lost(reason),
        };
        for container in &inventory.containers {
            self.track(stats, container);
        }
        self.known = inventory.containers.iter().map(|c| (c.id.clone(), c.clone())).collect();
        self.logs.sync(docker, self.known.values(), &self.updates, session);
        // The cause of a failure is often the last thing the container said: fetched
        // before the inventory is handed over, so the first screen already has it.
        let failed: Vec<String> =
            inventory.containers.iter().filter(|c| has_failed(c)).map(|c| c.id.clone()).collect();
        let mut inventory = inventory;
        inventory.last_log_lines = futures_util::stream::iter(failed)
            .map(|id| async move { last_log_line(docker, &id).await.map(|line| (id, line)) })
            .buffer_unordered(4)
            .filter_map(|found| async move { found })
            .collect()
            .await;
        if !self.send(Update::Synced(Box::new(inventory))).await {
            return SessionEnd::Cancelled;
        }
        // A new session starts from nothing known of the cluster.
        self.swarm = None;
        if !self.refresh_swarm(docker, true).await {
            return SessionEnd::Cancelled;
        }
        let mut swarm_tick = tokio::time::interval(swarm::TASK_REFRESH);
        // A slow manager must not cause a burst of catch-up reads.
        swarm_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        swarm_tick.reset();
        let mut manager_checked = tokio::time::Instant::now();
        // Swarm events come in bursts (a scale is an update, then a task per replica):
        // one re-read a moment after the first covers the burst.
        let mut swarm_due: Option<tokio::time::Instant> = None;

        let mut ping = tokio::time::interval(LIVENESS_PING);
        ping.reset();
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return SessionEnd::Cancelled,
                _ = swarm_tick.tick() => {
                    let recheck = manager_checked.elapsed() >= swarm::MANAGER_RECHECK;
                    if self.swarm.is_some() || recheck {
                        manager_checked = tokio::time::Instant::now();
                        if !self.refresh_swarm(docker, false).await {
                            return SessionEnd::Cancelled;
                        }
                    }
                }
                _ = sleep_until(swarm_due), if swarm_due.is_some() => {
                    swarm_due = None;
                    if !self.refresh_swarm(docker, false).await {
                        return SessionEnd::Cancelled;
                    }
                }
                command = self.commands.recv() => match command {
                    Some(EngineCommand::FollowLogs(request)) => {
                        self.logs.set_request(request);
                        self.logs.sync(docker, self.known.values(), &self.updates, session);
                    }
                    Some(EngineCommand::Act { verb, targets, .. }) => {
                        // Its own task: a stop waits up to 10 s per container, and the
                        // events it causes must keep flowing meanwhile.
                        tokio::spawn(act(docker.clone(), verb, targets, self.updates.clone()));
                    }
                    None => return SessionEnd::Cancelled,
                },
                _ = ping.tick() => {
                    match tokio::time::timeout(CONNECT_TIMEOUT, docker.ping()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return SessionEnd::Lost(format!("engine stopped answering: {e}")),
                        Err(_) => return SessionEnd::Lost("engine stopped answering (timed out)".into()),
                    }
                }
                event = events.next() => match event {
                    None => return SessionEnd::Lost("the engine closed its event stream".into()),
                    Some(Err(error)) => return SessionEnd::Lost(describe(&error)),
                    Some(Ok(event)) => {
                        ping.reset();
                        if swarm_due.is_none() && touches_swarm(&event) {
                            swarm_due = Some(tokio::time::Instant::now() + SWARM_SETTLE);
                        }
                        if !self.handle_event(docker, stats, event).await {
                            return SessionEnd::Cancelled;
                        }
                        self.logs.sync(docker, self.known.values(), &self.updates, session);
                    }
                },
            }
        }
    }

    /// Reads the cluster again and sends it if it changed. Returns false when nobody
    /// listens any more.
    async fn refresh_swarm(&mut self, docker: &Docker, first: bool) -> bool {
        match swarm::read(docker).await {
            Ok(next) => {
                self.swarm_error = None;
                // A session's first read is always sent: the engine may have left its
                // swarm while portolan was away.
                if !first && next == self.swarm {
                    return true;
                }
                self.swarm = next.clone();
                self.send(Update::Swarm { at: Utc::now(), swarm: next.map(Box::new) }).await
            }
            Err(reason) => {
                // Re-read every few seconds: the same failure is said once.
                if self.swarm_error.as_ref() != Some(&reason) {
                    self.swarm_error = Some(reason.clone());
                    self.warn(reason).await;
                }
                true
            }
        }
    }

    async fn inventory(&mut self, docker: &Docker) -> Result<Inventory, String> {
        let options = ListContainersOptionsBuilder::new().all(true).build();
        let summaries = docker.list_containers(Some(options)).await.map_err(|e| describe(&e))?;
        let ids: Vec<String> = summaries.into_iter().filter_map(|s| s.id).collect();
        let inspected: Vec<Result<Option<Container>, String>> = futures_util::stream::iter(ids)
            .map(|id| async move { inspect(docker, &id).await })
            .buffer_unordered(8)
            .collect()
            .await;
        let mut containers = Vec::with_capacity(inspected.len());
        for result in inspected {
            if let Some(mut container) = result? {
                self.enrich(docker, &mut container, ProxyRead::Fresh).await;
                containers.push(container);
            }
        }
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        let networks = docker
            .list_networks(None::<ListNetworksOptions>)
            .await
            .map_err(|e| describe(&e))?
            .into_iter()
            .map(convert::network)
            .collect();
        let volumes = match docker.list_volumes(None::<ListVolumesOptions>).await {
            Ok(list) => list.volumes.unwrap_or_default().into_iter().map(convert::volume).collect(),
            Err(error) => {
                self.warn(format!("cannot list volumes: {}", describe(&error))).await;
                Vec::new()
            }
        };
        Ok(Inventory { containers, networks, volumes, last_log_lines: Vec::new() })
    }

    async fn enrich(&mut self, docker: &Docker, container: &mut Container, proxy: ProxyRead) {
        // The engine can record the exit before it hears of the OOM kill, and then
        // never sets OOMKilled: an `oom` event in this run and a SIGKILL exit say it.
        if !container.oom_killed
            && !container.state.is_running()
            && container.exit_code == Some(137)
            && self.oom_seen.contains(&container.id)
        {
            container.oom_killed = true;
        }
        container.proxy_config = match proxy {
            ProxyRead::Fresh => proxy_files::read(docker, container).await.map(Arc::new),
            ProxyRead::Keep => match self.known.get(&container.id) {
                Some(known) if known.proxy_config.is_some() => known.proxy_config.clone(),
                _ => proxy_files::read(docker, container).await.map(Arc::new),
            },
        };
        if container.healthcheck.is_some() {
            self.health_checked.insert(container.id.clone());
        } else {
            self.health_checked.remove(&container.id);
        }
        if self.options.read_compose_files
            && self.endpoint.is_local()
            && let Some(warning) = self.compose_files.fill(container)
        {
            tracing::debug!(%warning, "compose file not readable as compose");
        }
    }

    fn track(&self, stats: &mpsc::UnboundedSender<StatsCommand>, container: &Container) {
        let command = if container.state.is_running() && container.pid.is_some() {
            StatsCommand::Track { id: container.id.clone(), pid: container.pid }
        } else {
            StatsCommand::Untrack { id: container.id.clone() }
        };
        let _ = stats.send(command);
    }

    async fn warn(&self, message: String) {
        let _ = self.updates.send(Update::Warning { at: Utc::now(), message }).await;
    }

    /// Returns false when nobody listens any more.
    async fn handle_event(
        &mut self,
        docker: &Docker,
        stats: &mpsc::UnboundedSender<StatsCommand>,
        event: EventMessage,
    ) -> bool {
        let kind = event.typ.map(|t| t.to_string()).unwrap_or_default();
        let action = event.action.unwrap_or_default();
        // "health_status: healthy", "exec_start: sh -c ..." carry detail after a colon.
        let verb = action.split(':').next().unwrap_or("").trim().to_string();
        let actor = event.actor.unwrap_or_default();
        let id = actor.id.unwrap_or_default();
        let attributes = actor.attributes.unwrap_or_default();
        if kind == "container" {
            match verb.as_str() {
                "oom" => {
                    self.oom_seen.insert(id.clone());
                }
                "start" | "destroy" => {
                    self.oom_seen.remove(&id);
                }
                _ => {}
            }
        }
        if kind == "container" && is_timeline_action(&verb) {
            let detail = match verb.as_str() {
                "die" => attributes.get("exitCode").cloned(),
                "kill" => attributes.get("signal").cloned(),
                "health_status" => action.split_once(':').map(|(_, s)| s.trim().to_string()),
                "rename" => attributes
                    .get("oldName")
                    .map(|old| format!("was {}", old.trim_start_matches('/'))),
                _ => None,
            };
            let at = event
                .time_nano
                .and_then(|ns| chrono::DateTime::from_timestamp_nanos(ns).into())
                .or_else(|| event.time.and_then(|s| chrono::DateTime::from_timestamp(s, 0)))
                .unwrap_or_else(Utc::now);
            let record = ContainerEvent {
                at,
                id: id.clone(),
                name: attributes.get("name").cloned().unwrap_or_else(|| short(&id).to_string()),
                project: attributes.get(crate::model::compose::PROJECT).cloned(),
                service: attributes.get(crate::model::compose::SERVICE).cloned(),
                action: verb.clone(),
                detail,
            };
            if !self.send(Update::Event(Box::new(record))).await {
                return false;
            }
            let failed = verb == "die" && attributes.get("exitCode").is_some_and(|c| c != "0");
            if failed
                && let Some(line) = last_log_line(docker, &id).await
                && !self.send(Update::LastLogLine { id: id.clone(), line }).await
            {
                return false;
            }
        }
        match kind.as_str() {
            "container" => match verb.as_str() {
                "destroy" => {
                    self.known.remove(&id);
                    self.health_checked.remove(&id);
                    let _ = stats.send(StatsCommand::Untrack { id: id.clone() });
                    self.send(Update::ContainerRemoved { id }).await
                }
                "exec_die" if self.health_checked.contains(&id) => {
                    self.refresh_container(docker, stats, &id, ProxyRead::Keep).await
                }
                // `nginx -s reload`, `kill -HUP`: a proxy re-reads its configuration.
                "exec_start" if action.contains(" -s reload") => {
                    self.refresh_container(docker, stats, &id, ProxyRead::Fresh).await
                }
                "kill"
                    if matches!(
                        attributes.get("signal").map(String::as_str),
                        Some("1" | "HUP" | "SIGHUP")
                    ) =>
                {
                    self.refresh_container(docker, stats, &id, ProxyRead::Fresh).await
                }
                "exec_create" | "exec_start" | "exec_die" | "exec_detach" | "attach" | "detach"
                | "resize" | "top" | "export" | "copy" | "archive-path" | "extract-to-dir"
                | "commit" | "kill" => true,
                "start" | "restart" | "create" | "unpause" | "update" => {
                    self.refresh_container(docker, stats, &id, ProxyRead::Fresh).await
                }
                _ => self.refresh_container(docker, stats, &id, ProxyRead::Keep).await,
            },
            "network" => {
                let name = attributes.get("name").cloned().unwrap_or_default();
                match verb.as_str() {
                    "destroy" => self.send(Update::NetworkRemoved { name }).await,
                    "connect" | "disconnect" => {
                        let refreshed = match attributes.get("container") {
                            Some(container) => {
                                let container = container.clone();
                                self.refresh_container(docker, stats, &container, ProxyRead::Keep)
                                    .await
                            }
                            None => true,
                        };
                        refreshed && self.refresh_network(docker, &id).await
                    }
                    _ => self.refresh_network(docker, &id).await,
                }
            }
            "volume" => match verb.as_str() {
                "destroy" => self.send(Update::VolumeRemoved { name: id }).await,
                "create" => match docker.inspect_volume(&id).await {
                    Ok(volume) => {
                        self.send(Update::VolumeChanged(Box::new(convert::volume(volume)))).await
                    }
                    Err(error) => {
                        self.warn(format!("cannot inspect volume {id}: {}", describe(&error)))
                            .await;
                        true
                    }
                },
                _ => true,
            },
            _ => true,
        }
    }

    async fn refresh_container(
        &mut self,
        docker: &Docker,
        stats: &mpsc::UnboundedSender<StatsCommand>,
        id: &str,
        proxy: ProxyRead,
    ) -> bool {
        match inspect(docker, id).await {
            Ok(Some(mut container)) => {
                self.enrich(docker, &mut container, proxy).await;
                self.track(stats, &container);
                self.known.insert(container.id.clone(), container.clone());
                self.send(Update::ContainerChanged(Box::new(container))).await
            }
            Ok(None) => {
                self.known.remove(id);
                self.health_checked.remove(id);
                let _ = stats.send(StatsCommand::Untrack { id: id.to_string() });
                self.send(Update::ContainerRemoved { id: id.to_string() }).await
            }
            Err(reason) => {
                self.warn(format!("cannot inspect container {}: {reason}", short(id))).await;
                true
            }
        }
    }

    async fn refresh_network(&mut self, docker: &Docker, id: &str) -> bool {
        let options =
            bollard::query_parameters::InspectNetworkOptions { verbose: false, scope: None };
        match docker.inspect_network(id, Some(options)).await {
            Ok(network) => {
                let network = convert::network_inspect(network);
                self.send(Update::NetworkChanged(Box::new(network))).await
            }
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => true,
            Err(error) => {
                self.warn(format!("cannot inspect network {}: {}", short(id), describe(&error)))
                    .await;
                true
            }
        }
    }
}

/// How long after a swarm event the cluster is re-read.
const SWARM_SETTLE: Duration = Duration::from_millis(300);

async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// A service or node changed, or a container of a swarm task did: the tasks moved.
fn touches_swarm(event: &EventMessage) -> bool {
    let kind = event.typ.map(|t| t.to_string()).unwrap_or_default();
    match kind.as_str() {
        "service" | "node" => true,
        "container" => {
            let action = event.action.as_deref().unwrap_or("");
            matches!(action, "start" | "die" | "destroy" | "create")
                && event
                    .actor
                    .as_ref()
                    .and_then(|a| a.attributes.as_ref())
                    .is_some_and(|a| a.contains_key("com.docker.swarm.task.id"))
        }
        _ => false,
    }
}

fn is_timeline_action(verb: &str) -> bool {
    matches!(
        verb,
        "create"
            | "start"
            | "die"
            | "kill"
            | "oom"
            | "restart"
            | "health_status"
            | "destroy"
            | "pause"
            | "unpause"
            | "stop"
            | "rename"
    )
}

/// A container whose last run ended badly: its last log line says why.
fn has_failed(c: &Container) -> bool {
    match c.state {
        ContainerState::Exited | ContainerState::Dead => c.exit_code.is_some_and(|code| code != 0),
        ContainerState::Restarting => true,
        _ => false,
    }
}

/// The longest last line kept; the rest of a huge line is not the cause.
const LAST_LINE_MAX: usize = 500;

/// The last non-empty line a container wrote (stdout or stderr), if it can be read.
/// Seconds a stop or restart gives the process before the engine kills it (Docker's
/// own default).
const STOP_GRACE_SECONDS: i32 = 10;

/// Carries out one verb on each target in turn, reporting start and end of each.
async fn act(
    docker: Docker,
    verb: Verb,
    targets: Vec<(String, String)>,
    updates: mpsc::Sender<Update>,
) {
    use bollard::query_parameters::{
        KillContainerOptions, RemoveContainerOptions, RestartContainerOptions, StopContainerOptions,
    };
    for (id, name) in targets {
        if updates.send(Update::ActionStarted { id: id.clone(), verb }).await.is_err() {
            return;
        }
        let outcome = match verb {
            Verb::Start => docker.start_container(&id, None).await,
            Verb::Stop => {
                let options = StopContainerOptions { t: Some(STOP_GRACE_SECONDS), signal: None };
                docker.stop_container(&id, Some(options)).await
            }
            Verb::Restart => {
                let options = RestartContainerOptions { t: Some(STOP_GRACE_SECONDS), signal: None };
                docker.restart_container(&id, Some(options)).await
            }
            Verb::Pause => docker.pause_container(&id).await,
            Verb::Unpause => docker.unpause_container(&id).await,
            Verb::Kill => {
                let options = KillContainerOptions { signal: "KILL".to_string() };
                docker.kill_container(&id, Some(options)).await
            }
            Verb::Remove => {
                // The UI has asked harder for a running one: force stops it first.
                let options = RemoveContainerOptions { force: true, v: false, link: false };
                docker.remove_container(&id, Some(options)).await
            }
        };
        let error = outcome.err().map(|e| describe(&e));
        let result = ActionResult { at: Utc::now(), id, name, verb, error };
        if updates.send(Update::ActionDone(Box::new(result))).await.is_err() {
            return;
        }
    }
}

/// Whether a re-inspect reads a proxy's configuration again or carries it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyRead {
    /// The proxy (re)started or reloaded: what it runs with may have changed.
    Fresh,
    /// A health probe or another change that leaves the configuration as it was.
    Keep,
}

async fn last_log_line(docker: &Docker, id: &str) -> Option<String> {
    let options = bollard::query_parameters::LogsOptions {
        stdout: true,
        stderr: true,
        tail: "5".to_string(),
        ..Default::default()
    };
    let read = async {
        let mut stream = Box::pin(docker.logs(id, Some(options)));
        let mut last = None;
        while let Some(Ok(chunk)) = stream.next().await {
            let text = String::from_utf8_lossy(chunk.as_ref()).into_owned();
            for line in text.lines() {
                if !line.trim().is_empty() {
                    last = Some(line.to_string());
                }
            }
        }
        last
    };
    let line = tokio::time::timeout(Duration::from_secs(2), read).await.ok().flatten()?;
    let mut line = line.trim_end().to_string();
    if line.len() > LAST_LINE_MAX {
        let mut cut = LAST_LINE_MAX;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    Some(line)
}

/// Inspects one container: `Ok(None)` when it no longer exists.
async fn inspect(docker: &Docker, id: &str) -> Result<Option<Container>, String> {
    match docker.inspect_container(id, None::<InspectContainerOptions>).await {
        Ok(response) => Ok(Some(convert::container(response))),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
        Err(error) => Err(describe(&error)),
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// An engine error in words, without Rust's debug formatting.
pub fn describe(error: &bollard::errors::Error) -> String {
    use bollard::errors::Error;
    match error {
        Error::DockerResponseServerError { status_code, message } => {
            format!("the engine answered {status_code}: {}", message.trim())
        }
        Error::RequestTimeoutError => "the request timed out".to_string(),
        Error::JsonDataError { message, .. } => {
            format!("unexpected answer from the engine: {message}")
        }
        Error::JsonSerdeError { err } => format!("unexpected answer from the engine: {err}"),
        Error::HyperResponseError { err } => format!("connection to the engine failed: {err}"),
        Error::IOError { err } => format!("connection to the engine failed: {err}"),
        other => other.to_string(),
    }
}
