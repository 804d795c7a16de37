//! One task per engine, the owner of everything portolan knows of that engine's side:
//! it connects (and reconnects with backoff when the engine goes away), lists
//! everything once, then follows the event stream and re-reads only what an event
//! touched, as [`events::react`] decides. It starts the stats collector, the log
//! followers and the last-line reader for each session and stops them with it.
//! What it learns leaves as owned [`Update`]s on a bounded channel.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{
    EventsOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptions, ListVolumesOptions,
};
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::compose_files::ComposeFiles;
use super::connect::{CONNECT_TIMEOUT, connect};
use super::endpoint::Endpoint;
use super::error::EngineError;
use super::error::describe;
use super::events::{self, OomMark, ProxyRead, Reaction, Work};
use super::excerpts::ExcerptTaker;
use super::inspections::{IN_FLIGHT, INSPECT_TIMEOUT, Inspected, Inspections, Outcome, ProxyFiles};
use super::last_line::{self, LastLineReader};
use super::shell::{ShellEnd, ShellEvent};
use super::stats::{StatsCollector, StatsCommand, StatsSource};
use super::{actions, convert, logs, podman, swarm};
use crate::model::action::{ActionResult, Verb};
use crate::model::format::short_id;
use crate::model::{Container, ContainerState, EngineInfo, EngineKind, Inventory, Update};

/// Longest pause between reconnection attempts.
/// Output chunks of shells waiting for the UI: with 32 KiB chunks, a flood holds at
/// most a megabyte here before the shell is made to wait.
const SHELL_QUEUE: usize = 32;

const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A quiet event stream is checked this often, so a silently dropped TCP link is noticed.
const LIVENESS_PING: Duration = Duration::from_secs(15);
/// How long the first inventory waits for inspects before it is shown: containers
/// still not inspected then are shown from the container list, marked pending.
const FIRST_SYNC_WAIT: Duration = Duration::from_millis(1500);
/// How long a stopping supervisor may take to finish the call it is in.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// How long a swarm read may take; a late one is reported and tried again later.
const SWARM_WAIT: Duration = Duration::from_secs(5);
/// How long the network list may take before the inventory goes without it.
const NETWORKS_WAIT: Duration = Duration::from_secs(2);
/// The longest the first inventory can take once connected, all its bounded waits
/// together (inspects, networks, last lines) and a margin: what a snapshot allows.
pub const INVENTORY_DEADLINE: Duration = Duration::from_secs(7);
/// The first pause before a late network list is asked again; it doubles.
const NETWORKS_RETRY: Duration = Duration::from_secs(2);
const MAX_NETWORKS_RETRY: Duration = Duration::from_secs(30);
/// How often the header hears how far the first inventory got.
const SYNC_PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Which container events are incidents worth a log excerpt, and their word.
fn incident(event: &crate::model::ContainerEvent) -> Option<&'static str> {
    match (event.action.as_str(), event.detail.as_deref()) {
        ("die", Some(code)) if code != "0" => Some("die"),
        ("oom", _) => Some("oom"),
        ("health_status", Some(status)) if status.contains("unhealthy") => Some("unhealthy"),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub stats_interval: Duration,
    pub stats_source: StatsSource,
    /// Compose v1 fallback: read compose files named in labels (local engines only).
    pub read_compose_files: bool,
    /// Read log excerpts around incidents, for a record that keeps them.
    pub incident_excerpts: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            stats_interval: Duration::from_secs(1),
            stats_source: StatsSource::Auto,
            read_compose_files: true,
            incident_excerpts: false,
        }
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
    /// Read this container's processes every few seconds (replacing what was read
    /// before), or stop reading.
    Processes(Option<super::processes::ProcessRequest>),
    /// Send a signal to one process of a container.
    KillProcess(crate::model::processes::KillAsk),
    /// Ask what container `id` of engine `host` changed against its image, once.
    Changes { host: crate::model::HostId, id: String },
    /// Ask the size and kind of one path of container `id` of engine `host`.
    PathStat { host: crate::model::HostId, id: String, path: String },
    /// Browse or copy a container's files (the Files pane).
    Files { host: crate::model::HostId, request: super::files::FilesRequest },
    /// Dial a container's published ports once, from here, and say which answer.
    CheckPorts(super::ports::PortCheckRequest),
    /// Open an interactive shell in a container (see [`super::shell`]).
    OpenShell(super::shell::ShellRequest),
    /// Read engine `host`'s disk usage (`/system/df`) once (see [`super::disk`]).
    DiskUsage { host: crate::model::HostId },
    /// Remove exactly the objects a confirmed prune preview lists, then read again.
    Prune(Box<crate::model::disk::PrunePlan>),
    /// Run a compose command on a project or service of engine `host`.
    Compose { host: crate::model::HostId, request: super::compose_cli::ComposeRequest },
    /// Ask the registries whether these containers' images have newer ones.
    CheckUpdates { host: crate::model::HostId, targets: Vec<super::updates::CheckTarget> },
    /// Pull a container's newer image and re-create it, rolling back if unhealthy.
    UpdateImage { host: crate::model::HostId, request: super::updates::UpdateRequest },
    /// Read an image's layers, remove images, volumes or networks, or pull an image.
    Resource { host: crate::model::HostId, request: super::images::ResourceRequest },
}

/// A running supervisor. Dropping it does not stop it; call [`EngineHandle::stop`].
pub struct EngineHandle {
    pub updates: mpsc::Receiver<Update>,
    /// What the shells opened on this engine print, and how they end.
    pub shells: mpsc::Receiver<ShellEvent>,
    commands: mpsc::UnboundedSender<EngineCommand>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl EngineHandle {
    /// Passes a request to the supervisor; ignored once it has stopped.
    pub fn command(&self, command: EngineCommand) {
        let _ = self.commands.send(command);
    }

    /// Asks the supervisor to stop, without waiting for it (see [`EngineHandle::stop`]).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Stops the supervisor and waits for it, a moment at most: a call the engine
    /// never answers (an engine busy removing containers can hold one for minutes)
    /// must not keep portolan from exiting.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if tokio::time::timeout(STOP_GRACE, &mut self.task).await.is_err() {
            self.task.abort();
        }
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
    let (shells_tx, shells_rx) = mpsc::channel(SHELL_QUEUE);
    let (commands_tx, commands_rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let mut supervisor = Supervisor::new(endpoint, options, tx, commands_rx, cancel.clone());
    supervisor.shells = shells_tx;
    let task = tokio::spawn(supervisor.run(start));
    EngineHandle { updates: rx, shells: shells_rx, commands: commands_tx, cancel, task }
}

pub struct Supervisor {
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
    swarm_error: Option<EngineError>,
    /// Whether this session's engine is Podman: only it has pods to ask about.
    podman: bool,
    /// The pod of each container asked about (`None`: in no pod). Membership is fixed
    /// when a container is created, so each container is asked about once.
    pods: HashMap<String, Option<String>>,
    /// The last failure to read the pods, so a lasting one is reported once.
    pods_error: Option<String>,
    /// The container whose processes are read while the pane is open; the reader is
    /// restarted with every session.
    processes: Option<super::processes::ProcessRequest>,
    processes_cancel: Option<CancellationToken>,
    /// The Files pane's listing or head under way: one at a time, the last asked wins.
    browse_cancel: Option<CancellationToken>,
    /// Where the shells opened on this engine report.
    shells: mpsc::Sender<ShellEvent>,
}

/// Why a session with the engine ended.
enum SessionEnd {
    Cancelled,
    Lost(String),
}

/// What one connected session works with; it all ends with the session.
struct Session {
    docker: Docker,
    stats: mpsc::UnboundedSender<StatsCommand>,
    last_lines: LastLineReader,
    excerpts: Option<ExcerptTaker>,
    /// Cancelled when the session ends, and with it every task it started.
    cancel: CancellationToken,
}

impl Supervisor {
    pub fn new(
        endpoint: Endpoint,
        options: EngineOptions,
        updates: mpsc::Sender<Update>,
        commands: mpsc::UnboundedReceiver<EngineCommand>,
        cancel: CancellationToken,
    ) -> Supervisor {
        Supervisor {
            endpoint,
            options,
            updates,
            commands,
            cancel,
            compose_files: ComposeFiles::default(),
            known: HashMap::new(),
            logs: logs::LogFollowers::default(),
            health_checked: HashSet::new(),
            oom_seen: HashSet::new(),
            swarm: None,
            swarm_error: None,
            podman: false,
            pods: HashMap::new(),
            pods_error: None,
            processes: None,
            processes_cancel: None,
            browse_cancel: None,
            // Replaced by `spawn_with`; a supervisor built alone has nobody to tell.
            shells: mpsc::channel(1).0,
        }
    }

    /// Starts the processes reader for the current request (stopping any other).
    fn watch_processes(&mut self, docker: Option<&Docker>, parent: Option<&CancellationToken>) {
        if let Some(cancel) = self.processes_cancel.take() {
            cancel.cancel();
        }
        let (Some(request), Some(docker), Some(parent)) = (&self.processes, docker, parent) else {
            return;
        };
        let cancel = parent.child_token();
        self.processes_cancel = Some(cancel.clone());
        tokio::spawn(super::processes::follow(
            docker.clone(),
            request.container.clone(),
            self.endpoint.is_local(),
            self.updates.clone(),
            cancel,
        ));
    }

    /// Starts what the Files pane asked for. A listing or head replaces the one under
    /// way (the operator moved on); copies run to their end, each in its own task.
    fn files(
        &mut self,
        docker: &Docker,
        session: &CancellationToken,
        request: super::files::FilesRequest,
    ) {
        use super::files::{self, FilesRequest};
        let updates = self.updates.clone();
        if matches!(
            request,
            FilesRequest::List { .. } | FilesRequest::Head { .. } | FilesRequest::Leave
        ) && let Some(cancel) = self.browse_cancel.take()
        {
            cancel.cancel();
        }
        let docker = docker.clone();
        match request {
            FilesRequest::List { id, path } => {
                let cancel = session.child_token();
                self.browse_cancel = Some(cancel.clone());
                tokio::spawn(files::list(docker, id, path, files::LIST_BUDGET, updates, cancel));
            }
            FilesRequest::Head { id, path } => {
                let cancel = session.child_token();
                self.browse_cancel = Some(cancel.clone());
                tokio::spawn(files::head(docker, id, path, updates, cancel));
            }
            FilesRequest::CopyOut { number, id, path, local, expected } => {
                let cancel = session.child_token();
                tokio::spawn(files::copy_out(
                    docker, number, id, path, local, expected, updates, cancel,
                ));
            }
            FilesRequest::CopyIn { number, id, dir, local } => {
                let cancel = session.child_token();
                tokio::spawn(files::copy_in(docker, number, id, dir, local, updates, cancel));
            }
            FilesRequest::Leave => {}
        }
    }

    /// Dials a container's published ports in a task of its own: a port that drops
    /// packets takes a while to time out, and events must keep flowing meanwhile.
    fn check_ports(&self, request: super::ports::PortCheckRequest) {
        let vantage = super::ports::vantage(&self.endpoint);
        tokio::spawn(super::ports::run(vantage, request, self.updates.clone()));
    }

    async fn send(&self, update: Update) -> bool {
        self.updates.send(update).await.is_ok()
    }

    pub async fn run(mut self, start: Start) {
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
                let kind = info.kind;
                if !self.send(Update::Connected { at: Utc::now(), info: Box::new(info) }).await {
                    return;
                }
                backoff = Duration::from_millis(250);
                self.podman = kind == EngineKind::Podman;
                self.pods.clear();
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
                        Some(EngineCommand::Processes(request)) => {
                            self.processes = request;
                            self.watch_processes(None, None);
                        }
                        Some(EngineCommand::KillProcess(ask)) => {
                            let result = crate::model::processes::KillResult {
                                at: Utc::now(),
                                container: ask.container,
                                pid: ask.pid,
                                signal: ask.signal,
                                error: Some("the engine is not connected".to_string()),
                            };
                            let _ = self.updates.send(Update::ProcessSignalled(Box::new(result))).await;
                        }
                        Some(EngineCommand::Changes { id, .. }) => {
                            let update = actions::changes_unanswered(id, "the engine is not connected");
                            let _ = self.updates.send(update).await;
                        }
                        // The pane asks again when the selection moves; nothing to say.
                        Some(EngineCommand::PathStat { .. }) => {}
                        Some(EngineCommand::Files { request, .. }) => {
                            if let Some(update) = super::files::unanswered(request, "the engine is not connected") {
                                let _ = self.updates.send(update).await;
                            }
                        }
                        // The ports are dialled directly, not through the engine.
                        Some(EngineCommand::CheckPorts(request)) => self.check_ports(request),
                        Some(EngineCommand::OpenShell(request)) => {
                            let end = ShellEnd::Failed("the engine is not connected".into());
                            let _ = self.shells.send(ShellEvent::Ended { session: request.session, end }).await;
                        }
                        Some(EngineCommand::DiskUsage { .. }) => {
                            let update = Update::DiskUsage(Err((Utc::now(), "the engine is not connected".to_string())));
                            let _ = self.updates.send(update).await;
                        }
                        Some(EngineCommand::Prune(plan)) => {
                            let report = super::disk::unanswered(&plan, "the engine is not connected");
                            let _ = self.updates.send(Update::Pruned(Box::new(report))).await;
                        }
                        Some(command @ (EngineCommand::Compose { .. } | EngineCommand::CheckUpdates { .. } | EngineCommand::UpdateImage { .. })) => {
                            self.unreachable_run(command).await;
                        }
                        Some(EngineCommand::Resource { request, .. }) => {
                            let _ = self.updates.send(super::images::unanswered(request)).await;
                        }
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
        let cancel = self.cancel.child_token();
        let source =
            if self.endpoint.is_local() { self.options.stats_source } else { StatsSource::Api };
        let mut collector =
            StatsCollector::new(docker.clone(), source, self.options.stats_interval);
        if let Some(channels) = self.endpoint.request_channels() {
            // The event stream keeps one channel, inspects and logs need a few.
            collector = collector.with_api_in_flight(channels.saturating_sub(3));
        }
        if self.options.stats_source == StatsSource::Auto
            && let Some(tunnel) = self.endpoint.ssh_tunnel()
        {
            collector = collector.with_host_files(tunnel.clone());
        }
        let stats_task =
            tokio::spawn(collector.run(stats_rx, self.updates.clone(), cancel.clone()));
        let (last_lines, last_lines_task) =
            LastLineReader::spawn(docker.clone(), self.updates.clone(), cancel.clone());
        let excerpts = self
            .options
            .incident_excerpts
            .then(|| ExcerptTaker::new(docker.clone(), self.updates.clone(), cancel.clone()));
        let session = Session { docker, stats: stats_tx, last_lines, excerpts, cancel };
        let end = self.follow_with(&session).await;
        self.logs.stop_all();
        session.cancel.cancel();
        let _ = stats_task.await;
        let _ = last_lines_task.await;
        end
    }

    async fn follow_with(&mut self, session: &Session) -> SessionEnd {
        let docker = &session.docker;
        // Subscribe from a moment before listing, so nothing between the two is lost;
        // an event for something already listed only costs one more inspect.
        let since = (Utc::now().timestamp() - 1).to_string();
        let mut filters: HashMap<&str, Vec<&str>> = HashMap::new();
        // `service` and `node` events come only from swarm managers; asking for them
        // costs nothing elsewhere.
        filters.insert("type", vec!["container", "network", "volume", "service", "node", "image"]);
        let options = EventsOptionsBuilder::new().since(&since).filters(&filters).build();
        let mut events = Box::pin(docker.events(Some(options)));

        // Over ssh, leave channels for the event stream and the stats.
        let limit = self.endpoint.request_channels().map_or(IN_FLIGHT, |c| c.saturating_sub(3));
        let mut inspections = Inspections::new(docker.clone(), limit);
        let inventory = match self.inventory(docker, &mut inspections).await {
            Ok(inventory) => inventory,
            Err(error) => return SessionEnd::Lost(error.to_string()),
        };
        for container in &inventory.containers {
            self.track(&session.stats, container);
        }
        // Rows still waiting for their inspect are not known yet: they come in later.
        self.known = inventory
            .containers
            .iter()
            .filter(|c| c.inspect_pending_since.is_none())
            .map(|c| (c.id.clone(), c.clone()))
            .collect();
        self.logs.sync(docker, self.known.values(), &self.updates, &session.cancel);
        // A pane left open through an outage reads again.
        self.watch_processes(Some(docker), Some(&session.cancel));
        // The cause of a failure is often the last thing the container said: fetched
        // before the inventory is handed over, so the first screen already has it.
        let failed: Vec<String> =
            inventory.containers.iter().filter(|c| has_failed(c)).map(|c| c.id.clone()).collect();
        // Not for long, though: those not read in time come after the inventory.
        let mut inventory = inventory;
        let mut read: Vec<(String, Option<String>)> = futures_util::stream::iter(failed.clone())
            .map(|id| async move {
                let line = last_line::read(docker, &id).await;
                (id, line)
            })
            .buffer_unordered(4)
            .take_until(tokio::time::sleep(FIRST_SYNC_WAIT))
            .collect()
            .await;
        let answered: HashSet<String> = read.iter().map(|(id, _)| id.clone()).collect();
        inventory.last_log_lines =
            read.drain(..).filter_map(|(id, line)| line.map(|line| (id, line))).collect();
        let networks_late = inventory.networks_late;
        if !self.send(Update::Synced(Box::new(inventory))).await {
            return SessionEnd::Cancelled;
        }
        for id in failed.into_iter().filter(|id| !answered.contains(id)) {
            session.last_lines.request(id);
        }
        // After the containers: the images pane can wait a moment, the first screen not.
        if !self.list_images(docker).await {
            return SessionEnd::Cancelled;
        }
        let mut networks_due = networks_late.then(tokio::time::Instant::now);
        let mut networks_retry = NETWORKS_RETRY;
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
                _ = sleep_until(networks_due), if networks_due.is_some() => {
                    match list_networks(docker).await {
                        Ok(Some(networks)) => {
                            networks_due = None;
                            if !self.send(Update::Networks(networks)).await {
                                return SessionEnd::Cancelled;
                            }
                        }
                        Ok(None) | Err(_) => {
                            networks_retry = (networks_retry * 2).min(MAX_NETWORKS_RETRY);
                            networks_due = Some(tokio::time::Instant::now() + networks_retry);
                        }
                    }
                }
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
                        self.logs.sync(docker, self.known.values(), &self.updates, &session.cancel);
                    }
                    Some(EngineCommand::Changes { id, .. }) => {
                        // Its own task: on a big writable layer the engine takes a
                        // while to walk it, and events must keep flowing meanwhile.
                        tokio::spawn(actions::changes(docker.clone(), id, self.updates.clone()));
                    }
                    Some(EngineCommand::PathStat { id, path, .. }) => {
                        tokio::spawn(actions::path_stat(docker.clone(), id, path, self.updates.clone()));
                    }
                    Some(EngineCommand::Files { request, .. }) => self.files(docker, &session.cancel, request),
                    Some(EngineCommand::CheckPorts(request)) => self.check_ports(request),
                    Some(EngineCommand::OpenShell(request)) => {
                        // Ends with the session: a lost engine ends its shells, in words.
                        let cancel = session.cancel.child_token();
                        tokio::spawn(super::shell::run(docker.clone(), self.endpoint.clone(), request, self.shells.clone(), cancel));
                    }
                    Some(EngineCommand::DiskUsage { .. }) => {
                        // Its own task: `/system/df` walks every layer and volume.
                        tokio::spawn(super::disk::report_usage(docker.clone(), self.updates.clone()));
                    }
                    Some(EngineCommand::Prune(plan)) => {
                        tokio::spawn(super::disk::prune_and_report(docker.clone(), *plan, self.updates.clone()));
                    }
                    Some(EngineCommand::Act { verb, targets, .. }) => {
                        // Its own task: a stop waits up to 10 s per container, and the
                        // events it causes must keep flowing meanwhile.
                        tokio::spawn(actions::act(docker.clone(), verb, targets, self.updates.clone()));
                    }
                    Some(EngineCommand::Processes(request)) => {
                        self.processes = request;
                        self.watch_processes(Some(docker), Some(&session.cancel));
                    }
                    Some(EngineCommand::Compose { request, .. }) => {
                        // Its own task: a build runs for minutes.
                        tokio::spawn(super::compose_cli::run(self.endpoint.clone(), request, self.updates.clone()));
                    }
                    Some(EngineCommand::CheckUpdates { targets, .. }) => {
                        tokio::spawn(super::updates::check(docker.clone(), targets, self.updates.clone()));
                    }
                    Some(EngineCommand::UpdateImage { host, request }) => {
                        tokio::spawn(super::updates::update(docker.clone(), self.endpoint.clone(), request, host, self.updates.clone()));
                    }
                    Some(EngineCommand::Resource { request, .. }) => {
                        // Its own task: a pull takes minutes, removals a while.
                        tokio::spawn(super::images::run(docker.clone(), request, self.updates.clone()));
                    }
                    Some(EngineCommand::KillProcess(ask)) => {
                        let updates = self.updates.clone();
                        let local = self.endpoint.is_local();
                        tokio::spawn(async move {
                            let result = super::processes::kill(ask, local).await;
                            let _ = updates.send(Update::ProcessSignalled(Box::new(result))).await;
                        });
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
                inspected = inspections.next(), if !inspections.is_idle() => {
                    if let Some(inspected) = inspected
                        && !self.settle(session, &mut inspections, inspected).await
                    {
                        return SessionEnd::Cancelled;
                    }
                }
                event = events.next() => match event {
                    None => return SessionEnd::Lost("the engine closed its event stream".into()),
                    Some(Err(error)) => return SessionEnd::Lost(describe(&error)),
                    Some(Ok(event)) => {
                        ping.reset();
                        let reaction = events::react(&event, &self.health_checked, Utc::now());
                        if swarm_due.is_none() && reaction.swarm {
                            swarm_due = Some(tokio::time::Instant::now() + SWARM_SETTLE);
                        }
                        if !self.carry_out(session, &mut inspections, reaction).await {
                            return SessionEnd::Cancelled;
                        }
                        self.logs.sync(docker, self.known.values(), &self.updates, &session.cancel);
                    }
                },
            }
        }
    }

    /// Answers a compose command, an update check or an update asked while the engine
    /// is away: a compose command needs it as much as the API does.
    async fn unreachable_run(&self, command: EngineCommand) {
        use crate::model::compose_runs::RunUpdate;
        let why = "the engine is not connected".to_string();
        let at = Utc::now();
        let (id, host, title) = match command {
            EngineCommand::Compose { host, request } => {
                (request.run, host, super::compose_cli::title(request.verb, &request.target))
            }
            EngineCommand::UpdateImage { host, request } => {
                (request.run, host, format!("update {}", request.name))
            }
            EngineCommand::CheckUpdates { targets, .. } => {
                use crate::model::image_updates::{CheckFailure, UpdateCheck, Verdict};
                let checks = targets
                    .into_iter()
                    .map(|t| UpdateCheck {
                        id: t.id,
                        image: t.image,
                        at,
                        verdict: Verdict::Failed(CheckFailure::Other(why.clone())),
                    })
                    .collect();
                let _ = self.updates.send(Update::UpdatesChecked(checks)).await;
                return;
            }
            _ => return,
        };
        let started = RunUpdate::Started { id, host, title, command: None, at };
        let _ = self.updates.send(Update::Run(Box::new(started))).await;
        let ended = RunUpdate::Ended { id, at, ok: false, status: format!("refused: {why}") };
        let _ = self.updates.send(Update::Run(Box::new(ended))).await;
    }

    /// Reads the cluster again and sends it if it changed. Returns false when nobody
    /// listens any more.
    async fn refresh_swarm(&mut self, docker: &Docker, first: bool) -> bool {
        let read = match tokio::time::timeout(SWARM_WAIT, swarm::read(docker)).await {
            Ok(read) => read,
            Err(_) => Err(EngineError::TimedOut.during("read the swarm state")),
        };
        match read {
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
            Err(error) => {
                // Re-read every few seconds: the same failure is said once.
                if self.swarm_error.as_ref() != Some(&error) {
                    self.swarm_error = Some(error.clone());
                    self.warn(error.to_string()).await;
                }
                true
            }
        }
    }

    /// Lists everything once. Containers are inspected side by side; the list is
    /// handed over when all have answered or after [`FIRST_SYNC_WAIT`], whichever is
    /// first, so one container the engine is stuck on never holds up the rest. Those
    /// not inspected by then are shown from the list, marked pending, and their
    /// inspects go on in `inspections`.
    async fn inventory(
        &mut self,
        docker: &Docker,
        inspections: &mut Inspections,
    ) -> Result<Inventory, EngineError> {
        let options = ListContainersOptionsBuilder::new().all(true).build();
        let listed = match tokio::time::timeout(
            INSPECT_TIMEOUT * 2,
            docker.list_containers(Some(options)),
        )
        .await
        .map_err(|_| EngineError::TimedOut.during("list containers"))?
        {
            Ok(listed) => listed,
            // One container bollard cannot read must not hide all the others.
            Err(bollard::errors::Error::JsonDataError { contents, message, column }) => {
                match convert::summaries_one_by_one(&contents) {
                    Some(listed) => {
                        tracing::warn!(%message, "the container list did not decode whole; read leniently");
                        listed
                    }
                    None => {
                        let error =
                            bollard::errors::Error::JsonDataError { contents, message, column };
                        return Err(EngineError::from(error).during("list containers"));
                    }
                }
            }
            Err(e) => return Err(EngineError::from(e).during("list containers")),
        };
        let summaries: Vec<_> = listed.into_iter().filter(|s| s.id.is_some()).collect();
        self.learn_pods(summaries.iter().filter_map(|s| s.id.as_deref())).await;
        let killed = summaries
            .iter()
            .filter(|s| s.status.as_deref().is_some_and(|t| t.starts_with("Exited (137)")))
            .filter_map(|s| s.id.as_deref());
        self.learn_past_ooms(docker, killed).await;
        for summary in &summaries {
            if let Some(id) = &summary.id {
                inspections.start(id, ProxyFiles::Read);
            }
        }
        let total = summaries.len();
        if !self.send(Update::Syncing { done: 0, total }).await {
            return Ok(Inventory::default());
        }
        let mut found: HashMap<String, Container> = HashMap::new();
        let mut gone: HashSet<String> = HashSet::new();
        let deadline = tokio::time::sleep(FIRST_SYNC_WAIT);
        tokio::pin!(deadline);
        let mut progress = tokio::time::interval(SYNC_PROGRESS_EVERY);
        progress.reset();
        while inspections.pending() > 0 {
            tokio::select! {
                _ = &mut deadline => break,
                _ = progress.tick() => {
                    let done = total.saturating_sub(inspections.pending());
                    if !self.send(Update::Syncing { done, total }).await {
                        break;
                    }
                }
                inspected = inspections.next() => {
                    let Some(Inspected { id, outcome, .. }) = inspected else { break };
                    match outcome {
                        Outcome::Found(mut container) => {
                            self.settle_fields(&mut container);
                            found.insert(id, *container);
                        }
                        Outcome::Gone => {
                            gone.insert(id);
                        }
                        missed => {
                            if !self.missed(inspections, id, missed).await {
                                break;
                            }
                        }
                    }
                }
            }
        }
        let now = Utc::now();
        let mut containers: Vec<Container> = summaries
            .into_iter()
            .filter_map(|summary| {
                let id = summary.id.clone()?;
                if gone.contains(&id) {
                    return None;
                }
                Some(found.remove(&id).unwrap_or_else(|| {
                    let mut container = convert::summary(summary, now);
                    self.join_pod(&mut container);
                    container
                }))
            })
            .collect();
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        // An engine removing a batch of containers can hold the network list for
        // minutes: the containers are shown without waiting, the networks follow.
        let (networks, networks_late) = match list_networks(docker).await? {
            Some(networks) => (networks, false),
            None => (Vec::new(), true),
        };
        let volumes = match docker.list_volumes(None::<ListVolumesOptions>).await {
            Ok(list) => list.volumes.unwrap_or_default().into_iter().map(convert::volume).collect(),
            Err(error) => {
                self.warn(format!("cannot list volumes: {}", describe(&error))).await;
                Vec::new()
            }
        };
        Ok(Inventory { containers, networks, volumes, last_log_lines: Vec::new(), networks_late })
    }

    /// The engine can record an exit before it hears of the OOM kill and then never
    /// sets `OOMKilled` (seen here under load). Live, the `oom` event says it; for a
    /// container killed before portolan started, the engine's buffer of recent events
    /// may still hold it. One bounded request for every container that exited by
    /// SIGKILL; what the buffer no longer holds stays a plain exit 137.
    async fn learn_past_ooms<'a>(&mut self, docker: &Docker, ids: impl Iterator<Item = &'a str>) {
        let ids: Vec<&str> = ids.filter(|id| !self.oom_seen.contains(*id)).take(50).collect();
        if ids.is_empty() {
            return;
        }
        self.oom_seen.extend(events::past_oom_kills(docker, &ids).await);
    }

    /// Asks a Podman engine about the pods of the containers not asked about yet.
    async fn learn_pods<'a>(&mut self, ids: impl Iterator<Item = &'a str>) {
        if !self.podman {
            return;
        }
        let new: Vec<&str> = ids.filter(|id| !self.pods.contains_key(*id)).collect();
        if new.is_empty() {
            return;
        }
        match podman::pods(&self.endpoint, INSPECT_TIMEOUT).await {
            Ok(mut pods) => {
                self.pods_error = None;
                for id in new {
                    self.pods.insert(id.to_string(), pods.remove(id));
                }
            }
            Err(error) => {
                // Not asked again for these: each inspect would wait on it again (and
                // over TLS it never works). A container that arrives later asks anew.
                for id in new {
                    self.pods.insert(id.to_string(), None);
                }
                let message = format!("{error}: pods are not grouped");
                if self.pods_error.as_ref() != Some(&message) {
                    self.pods_error = Some(message.clone());
                    self.warn(message).await;
                }
            }
        }
    }

    fn join_pod(&self, container: &mut Container) {
        if let Some(Some(pod)) = self.pods.get(&container.id) {
            container.join_pod(pod);
        }
    }

    /// What the supervisor adds to an inspect from what it saw itself.
    fn settle_fields(&mut self, container: &mut Container) {
        self.join_pod(container);
        // The engine can record the exit before it hears of the OOM kill, and then
        // never sets OOMKilled: an `oom` event in this run and a SIGKILL exit say it.
        if !container.oom_killed
            && !container.state.is_running()
            && container.exit_code == Some(137)
            && self.oom_seen.contains(&container.id)
        {
            container.oom_killed = true;
        }
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

    /// Carries out what one event means. Returns false when nobody listens any more.
    async fn carry_out(
        &mut self,
        session: &Session,
        inspections: &mut Inspections,
        reaction: Reaction,
    ) -> bool {
        if let Some((id, mark)) = reaction.oom {
            match mark {
                OomMark::Seen => self.oom_seen.insert(id),
                OomMark::Cleared => self.oom_seen.remove(&id),
            };
        }
        if let Some(record) = reaction.record {
            if let (Some(excerpts), Some(reason)) = (&session.excerpts, incident(&record)) {
                excerpts.take(&record.id, &record.name, record.at, reason);
            }
            if !self.send(Update::Event(Box::new(record))).await {
                return false;
            }
        }
        if let Some(id) = reaction.read_last_line {
            session.last_lines.request(id);
        }
        for work in reaction.work {
            let listening = match work {
                Work::Container { id, proxy } => {
                    inspections.start(&id, self.proxy_files(&id, proxy));
                    true
                }
                Work::ContainerGone { id } => {
                    inspections.cancel(&id);
                    self.forget_container(session, id).await
                }
                Work::Network { id } => self.refresh_network(&session.docker, &id).await,
                Work::NetworkGone { name } => self.send(Update::NetworkRemoved { name }).await,
                Work::Volume { name } => self.read_volume(&session.docker, name).await,
                Work::VolumeGone { name } => self.send(Update::VolumeRemoved { name }).await,
                Work::Image { reference } => self.read_image(&session.docker, &reference).await,
                Work::ImageGone { id } => self.send(Update::ImageRemoved { id }).await,
            };
            if !listening {
                return false;
            }
        }
        true
    }

    /// Whether a re-inspect reads a proxy's files again or keeps what was read.
    fn proxy_files(&self, id: &str, proxy: ProxyRead) -> ProxyFiles {
        match (proxy, self.known.get(id).and_then(|k| k.proxy_config.clone())) {
            (ProxyRead::Keep, Some(config)) => ProxyFiles::Keep(config),
            _ => ProxyFiles::Read,
        }
    }

    /// Carries out one inspect's answer. Returns false when nobody listens any more.
    async fn settle(
        &mut self,
        session: &Session,
        inspections: &mut Inspections,
        inspected: Inspected,
    ) -> bool {
        let Inspected { id, outcome, .. } = inspected;
        match outcome {
            Outcome::Found(mut container) => {
                self.learn_pods(std::iter::once(id.as_str())).await;
                self.settle_fields(&mut container);
                self.track(&session.stats, &container);
                self.known.insert(container.id.clone(), (*container).clone());
                if !self.send(Update::ContainerChanged(container)).await {
                    return false;
                }
                let docker = &session.docker;
                self.logs.sync(docker, self.known.values(), &self.updates, &session.cancel);
                true
            }
            Outcome::Gone => self.forget_container(session, id).await,
            missed => self.missed(inspections, id, missed).await,
        }
    }

    /// An inspect that came late or failed: asked again, and said once per stretch
    /// (a known container's row then shows for how long). Returns false when nobody
    /// listens any more.
    async fn missed(
        &mut self,
        inspections: &mut Inspections,
        id: String,
        outcome: Outcome,
    ) -> bool {
        if inspections.retry(&id) > 1 {
            return true;
        }
        match outcome {
            Outcome::Failed(error) => {
                let message =
                    format!("cannot inspect container {}: {error} (retrying)", short_id(&id));
                self.send(Update::Warning { at: Utc::now(), message }).await
            }
            _ if self.known.contains_key(&id) => {
                let since =
                    Utc::now() - chrono::Duration::from_std(INSPECT_TIMEOUT).unwrap_or_default();
                self.send(Update::InspectLate { id, since }).await
            }
            _ => true,
        }
    }

    async fn forget_container(&mut self, session: &Session, id: String) -> bool {
        self.known.remove(&id);
        self.pods.remove(&id);
        self.health_checked.remove(&id);
        let _ = session.stats.send(StatsCommand::Untrack { id: id.clone() });
        self.send(Update::ContainerRemoved { id }).await
    }

    /// Lists the engine's images once per session. Returns false when nobody listens.
    async fn list_images(&mut self, docker: &Docker) -> bool {
        match super::images::list(docker).await {
            Ok(images) => self.send(Update::Images(images)).await,
            Err(error) => {
                self.warn(error.to_string()).await;
                true
            }
        }
    }

    /// Reads one image again after an event about it.
    async fn read_image(&mut self, docker: &Docker, reference: &str) -> bool {
        match super::images::read(docker, reference).await {
            Ok(Some(image)) => self.send(Update::ImageChanged(Box::new(image))).await,
            // Untagged and deleted: its `delete` event says so.
            Ok(None) => true,
            Err(error) => {
                self.warn(error.to_string()).await;
                true
            }
        }
    }

    async fn read_volume(&mut self, docker: &Docker, name: String) -> bool {
        match docker.inspect_volume(&name).await {
            Ok(volume) => self.send(Update::VolumeChanged(Box::new(convert::volume(volume)))).await,
            Err(error) => {
                self.warn(format!("cannot inspect volume {name}: {}", EngineError::from(error)))
                    .await;
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
                self.warn(format!("cannot inspect network {}: {}", short_id(id), describe(&error)))
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

/// The engine's networks, or `None` when it did not list them within [`NETWORKS_WAIT`].
async fn list_networks(docker: &Docker) -> Result<Option<Vec<crate::model::Network>>, EngineError> {
    match tokio::time::timeout(NETWORKS_WAIT, docker.list_networks(None::<ListNetworksOptions>))
        .await
    {
        Err(_) => Ok(None),
        Ok(Err(error)) => Err(EngineError::from(error).during("list networks")),
        Ok(Ok(list)) => Ok(Some(list.into_iter().map(convert::network).collect())),
    }
}

/// A container whose last run ended badly: its last log line says why.
fn has_failed(c: &Container) -> bool {
    match c.state {
        ContainerState::Exited | ContainerState::Dead => c.exit_code.is_some_and(|code| code != 0),
        ContainerState::Restarting => true,
        _ => false,
    }
}
