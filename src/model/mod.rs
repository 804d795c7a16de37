//! The one live state of a Docker host, and the pure reducer that changes it.
//!
//! This module owns what portolan knows; it performs no I/O, reads no clock (every
//! moment arrives in an update or an argument) and knows nothing of ratatui, tokio or
//! bollard. The engine sends [`Update`]s, [`Model::apply`] folds them in, and
//! everything else reads the model.

pub mod action;
pub mod changes;
pub mod compose;
pub mod compose_runs;
pub mod container;
pub mod disk;
pub mod files;
pub mod format;
pub mod history;
pub mod image_updates;
pub mod images;
pub mod logs;
pub mod names;
pub mod natural;
pub mod ports;
pub mod processes;
pub mod ring;
pub mod sanitize;
pub mod secrets;
pub mod since;
pub mod stats;
pub mod swarm;
pub mod words;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

pub use compose::{ComposeInfo, Dependency, DependencyCondition};
pub use container::{
    Container, ContainerState, Health, HealthProbe, HealthStatus, Healthcheck, Limits, Mount,
    NetworkAttachment, Port, ProxyConfig, RestartPolicy, project_filter_keeps,
};
pub use history::{ContainerEvent, ContainerHistory, History, TimelineEntry};
pub use stats::{ContainerStats, CpuCounter, RawSample, StatsPoint};
pub use swarm::{ServiceMode, ServicePort, Swarm, SwarmNode, SwarmService, SwarmTask};

/// Which engine answers on the Docker API: Podman serves the same API with other
/// habits (pods, health probes run from systemd timers), and calling it "Docker"
/// would send the operator to the wrong documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
    /// The engine did not say (no `Components` in `/version`).
    #[default]
    Unknown,
}

impl EngineKind {
    /// From the component names of `/version`: Docker lists `Engine` (with
    /// `containerd`, `runc`...), Podman lists `Podman Engine` (with `Conmon`...).
    pub fn from_components<'a>(names: impl IntoIterator<Item = &'a str>) -> EngineKind {
        let mut kind = EngineKind::Unknown;
        for name in names {
            let name = name.trim();
            if name.eq_ignore_ascii_case("Podman Engine") {
                return EngineKind::Podman;
            }
            if name.eq_ignore_ascii_case("Engine") {
                kind = EngineKind::Docker;
            }
        }
        kind
    }

    /// How the engine is named before its version: `Docker 24.0.7`, `Podman 4.3.1`.
    pub fn label(self) -> &'static str {
        match self {
            EngineKind::Docker => "Docker",
            EngineKind::Podman => "Podman",
            EngineKind::Unknown => "engine",
        }
    }

    /// The stable word for scripts (`engine_kind` in JSON); `None` when unknown.
    pub fn key(self) -> Option<&'static str> {
        match self {
            EngineKind::Docker => Some("docker"),
            EngineKind::Podman => Some("podman"),
            EngineKind::Unknown => None,
        }
    }
}

/// What the engine said about itself when portolan connected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineInfo {
    pub endpoint: String,
    pub kind: EngineKind,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub os: Option<String>,
    pub hostname: Option<String>,
    pub cpus: Option<u32>,
    pub memory_bytes: Option<u64>,
    pub cgroup_version: Option<String>,
}

impl EngineInfo {
    /// `Podman 4.3.1`, `Docker 24.0.7`; `None` when the engine gave no version.
    pub fn kind_and_version(&self) -> Option<String> {
        self.version.as_ref().map(|v| format!("{} {}", self.kind.label(), v))
    }
}

/// Which engine a container, network or volume lives on: an index into
/// [`Model::hosts`], in the order the operator named the engines.
pub type HostId = usize;

/// One engine portolan follows, with what it said of itself and whether it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    /// What the operator calls it: a configured name, a context, or the endpoint.
    pub name: String,
    pub engine: EngineInfo,
    pub connection: Connection,
    /// When this session with the engine began: older moments are reconstructed.
    pub connected_at: Option<DateTime<Utc>>,
    /// The docker context it was named by: the docker CLI is pointed at it by name.
    pub context: Option<String>,
    /// Another engine in the list that this one turned out to be (they list the same
    /// containers): its containers are shown once, under that one.
    pub same_as: Option<HostId>,
    /// While the first inventory of a session is read: containers inspected of those
    /// listed. `None` once it is handed over (pending rows then say the rest).
    pub syncing: Option<(usize, usize)>,
}

impl Host {
    pub fn new(name: impl Into<String>, endpoint: impl Into<String>, now: DateTime<Utc>) -> Self {
        Host {
            name: name.into(),
            engine: EngineInfo { endpoint: endpoint.into(), ..EngineInfo::default() },
            connection: Connection::Connecting { since: now },
            connected_at: None,
            context: None,
            same_as: None,
            syncing: None,
        }
    }
}

/// Whether portolan currently hears from the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting { since: DateTime<Utc> },
    Connected { since: DateTime<Utc> },
    Disconnected { since: DateTime<Utc>, reason: String },
}

impl Connection {
    pub fn is_connected(&self) -> bool {
        matches!(self, Connection::Connected { .. })
    }

    /// When the connection entered its current state.
    pub fn since(&self) -> DateTime<Utc> {
        match self {
            Connection::Connecting { since }
            | Connection::Connected { since }
            | Connection::Disconnected { since, .. } => *since,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network {
    pub id: String,
    pub name: String,
    pub driver: Option<String>,
    pub scope: Option<String>,
    pub internal: bool,
    pub subnets: Vec<String>,
    pub gateways: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Containers not of a swarm service may be attached to it by hand.
    pub attachable: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volume {
    pub name: String,
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Where the engine keeps it on its host.
    pub mountpoint: Option<String>,
    pub created: Option<DateTime<Utc>>,
    /// Bytes it holds, when the engine said (`/system/df` reads it); `None` is unknown.
    pub size: Option<u64>,
}

/// Everything listed at (re)connection time: replaces the model's inventory whole.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub containers: Vec<Container>,
    pub networks: Vec<Network>,
    pub volumes: Vec<Volume>,
    /// The last line each failed container wrote, by id.
    pub last_log_lines: Vec<(String, String)>,
    /// The engine did not list its networks in time: keep those known, an
    /// [`Update::Networks`] follows.
    pub networks_late: bool,
}

/// An owned message from the engine side. Each one is applied by the single owner
/// of the model; none carries references into engine state.
#[derive(Debug, Clone)]
pub enum Update {
    Connecting {
        at: DateTime<Utc>,
    },
    Connected {
        at: DateTime<Utc>,
        info: Box<EngineInfo>,
    },
    Disconnected {
        at: DateTime<Utc>,
        reason: String,
    },
    Synced(Box<Inventory>),
    /// The first inventory is being read: `done` of `total` containers inspected.
    Syncing {
        done: usize,
        total: usize,
    },
    /// A known container's inspect has not answered since `since`; it is retried.
    InspectLate {
        id: String,
        since: DateTime<Utc>,
    },
    ContainerChanged(Box<Container>),
    ContainerRemoved {
        id: String,
    },
    NetworkChanged(Box<Network>),
    /// Every network of the engine, listed after the inventory (it was late).
    Networks(Vec<Network>),
    NetworkRemoved {
        name: String,
    },
    VolumeChanged(Box<Volume>),
    VolumeRemoved {
        name: String,
    },
    /// One tick of stats samples, batched so a tick costs one redraw.
    Stats(Vec<(String, RawSample)>),
    /// Something went wrong that the operator should read, but portolan goes on.
    Warning {
        at: DateTime<Utc>,
        message: String,
    },
    /// A container event, for the incident log (sent before the re-inspect it causes).
    Event(Box<ContainerEvent>),
    /// The last line a failed container wrote.
    LastLogLine {
        id: String,
        line: String,
    },
    /// Lines from a followed container.
    Logs(Box<LogBatch>),
    /// An operator's action on a container began (the engine is working on it).
    ActionStarted {
        id: String,
        verb: action::Verb,
    },
    /// It finished, one way or the other.
    ActionDone(Box<action::ActionResult>),
    /// The whole cluster as a swarm manager sees it, or `None` when the engine is not
    /// (or no longer) a manager.
    Swarm {
        at: DateTime<Utc>,
        swarm: Option<Box<Swarm>>,
    },
    /// The processes of the container the processes pane shows, read again.
    Processes(Box<processes::ProcessTable>),
    /// How a signal the operator sent to one of them went.
    ProcessSignalled(Box<processes::KillResult>),
    /// What a container changed against its image, asked for by the operator.
    Changes(Box<changes::ContainerChanges>),
    /// One path of a container, as the archive endpoint describes it.
    PathStat(Box<changes::PathStat>),
    /// A directory listing, a file's head or a copy's progress, for the Files pane.
    Files(Box<files::FilesUpdate>),
    /// Problems an engine's record holds as open, with when each began: "since" for
    /// what started before this session watched.
    RecordedProblems(Vec<since::RecordedStart>),
    /// A container's log around an incident, for the record (the model keeps none).
    Excerpt(Box<Excerpt>),
    /// Figures over a longer span, read from the record for the Stats pane's charts.
    RecordedSeries(Box<stats::RecordedSeries>),
    /// Whether a container's published ports answered, checked on the operator's request.
    PortsChecked(Box<ports::PortCheck>),
    /// A reading of the engine's disk usage (`/system/df`), or why there is none.
    DiskUsage(Result<Box<disk::DiskUsage>, (DateTime<Utc>, String)>),
    /// What a confirmed prune removed, object by object.
    Pruned(Box<disk::PruneReport>),
    /// A compose command or an image update: started, printed, ended.
    Run(Box<compose_runs::RunUpdate>),
    /// Whether containers' images have newer ones in their registries.
    UpdatesChecked(Vec<image_updates::UpdateCheck>),
    /// Events a record holds from before the oldest the incident log lists (the
    /// Timeline scrolled back); `exhausted`: the record holds none older.
    RecordedEvents {
        events: Vec<ContainerEvent>,
        exhausted: bool,
    },
    /// Every image of the engine, listed once per session.
    Images(Vec<images::Image>),
    /// One image as the engine describes it after an image event.
    ImageChanged(Box<images::Image>),
    /// An image the engine deleted, by id.
    ImageRemoved {
        id: String,
    },
    /// An image's layers, asked for by the Images pane.
    ImageHistory(Box<images::ImageHistory>),
    /// How an operation on an image, volume or network goes: a pull's progress, a
    /// removal's answer.
    ResourceNote(Box<images::ResourceNote>),
}

/// The lines a container wrote before and after an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Excerpt {
    pub id: String,
    pub name: String,
    pub at: DateTime<Utc>,
    /// `die`, `oom` or `unhealthy`.
    pub reason: String,
    /// Raw as the container wrote them: made safe where they are shown.
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// One line as the engine delivered it, not yet parsed or made safe: its bytes are
/// `data[start..end]` of its batch.
#[derive(Debug, Clone)]
pub struct RawLogLine {
    pub stream: logs::Stream,
    pub timestamp: Option<DateTime<Utc>>,
    pub start: usize,
    pub end: usize,
}

/// Lines of one container, batched (and their bytes kept in one buffer) so a flood
/// costs one update and a handful of allocations per batch.
#[derive(Debug, Clone)]
pub struct LogBatch {
    pub id: String,
    /// When the batch left the engine side: the store's rate guard counts by it.
    pub received: std::time::Instant,
    pub data: Vec<u8>,
    pub lines: Vec<RawLogLine>,
}

/// A warning kept for the UI, with the time it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub at: DateTime<Utc>,
    pub message: String,
}

const MAX_WARNINGS: usize = 50;

#[derive(Debug, Clone)]
pub struct Model {
    /// The engines followed; never empty.
    pub hosts: Vec<Host>,
    pub containers: BTreeMap<String, Container>,
    /// By host and name: every engine has its own `bridge`.
    pub networks: BTreeMap<(HostId, String), Network>,
    pub volumes: BTreeMap<(HostId, String), Volume>,
    pub stats: HashMap<String, ContainerStats>,
    pub warnings: Vec<Warning>,
    pub history: History,
    /// Followed containers' log lines, under one memory budget.
    pub logs: logs::LogStore,
    /// Bumped by every change that alters what a pane might draw.
    pub revision: u64,
    /// Bumped only when containers, networks or volumes change (not stats): layouts
    /// key their caches on it.
    pub structure_revision: u64,
    /// Bumped by every change but stats and log lines: what is derived from the state
    /// of things (triage's problems) keys on it.
    pub state_revision: u64,
    /// Operator actions the engine is carrying out, by container id.
    pub busy: BTreeMap<String, action::Verb>,
    /// Present when an engine is a swarm manager.
    pub swarm: Option<Swarm>,
    /// The engine the swarm was read from.
    pub swarm_host: HostId,
    /// The processes of one container, while the processes pane is open.
    pub processes: Option<processes::ProcessTable>,
    /// What containers changed against their images, by id: only those asked about
    /// (the Changes pane), as last answered; never polled.
    pub changes: BTreeMap<String, changes::ContainerChanges>,
    /// What the Files pane read of containers' filesystems, and its copies.
    pub files: files::FilesState,
    /// When open problems began, as an engine's record says: by host, problem kind
    /// and container id.
    pub recorded_starts: HashMap<(HostId, String, String), since::RecordedStart>,
    /// The Stats pane's longer span, as last read from the record.
    pub recorded_series: Option<stats::RecordedSeries>,
    /// Whether containers' published ports answer, by id: only those the operator
    /// asked about, as last checked; never polled.
    pub port_checks: BTreeMap<String, ports::PortStatus>,
    /// Each engine's disk usage, read only while the Disk pane is open or a prune is
    /// previewed, by host.
    pub disk: BTreeMap<HostId, disk::DiskState>,
    /// Compose commands and image updates run from here, the last few.
    pub runs: compose_runs::Runs,
    /// Whether containers' images have newer ones, as last checked on request.
    pub image_updates: image_updates::UpdateChecks,
    /// Every engine's images, their layers when asked for, and how the last
    /// operation on an image, volume or network went.
    pub images: images::ImageStore,
    history_len: usize,
}

impl Model {
    /// The container `target` names (`--container`): by id, by name (a leading `/`
    /// as the engine writes it is allowed), or by a unique id prefix.
    pub fn container_named(&self, target: &str) -> Option<&Container> {
        let target = target.trim().trim_start_matches('/');
        if target.is_empty() {
            return None;
        }
        if let Some(c) = self.containers.get(target) {
            return Some(c);
        }
        if let Some(c) = self.containers.values().find(|c| c.name == target) {
            return Some(c);
        }
        let mut prefixed = self.containers.values().filter(|c| c.id.starts_with(target));
        match (prefixed.next(), prefixed.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }

    /// Records that the operator asked whether `id`'s published ports answer: until
    /// the answers are in, the detail says it is checking.
    /// Notes that engine `host`'s disk usage was asked for (the pane says so).
    pub fn ask_disk(&mut self, host: HostId) {
        self.disk.entry(host).or_default().reading_now = true;
        self.revision += 1;
    }

    pub fn ask_port_check(&mut self, id: &str, at: DateTime<Utc>) {
        if !self.containers.contains_key(id) {
            return;
        }
        self.port_checks.entry(id.to_string()).or_default().checking_since = Some(at);
        self.revision += 1;
    }

    /// A model of one engine, named after its endpoint.
    pub fn new(endpoint: impl Into<String>, now: DateTime<Utc>) -> Self {
        let endpoint = endpoint.into();
        Model::with_hosts(vec![Host::new(endpoint.clone(), endpoint, now)], now)
    }

    /// A model of several engines, in the order given, made at `now`. Given none, it
    /// follows a local one, connecting since `now`: every container needs an engine.
    pub fn with_hosts(mut hosts: Vec<Host>, now: DateTime<Utc>) -> Self {
        if hosts.is_empty() {
            hosts.push(Host::new("local", "", now));
        }
        Model {
            hosts,
            containers: BTreeMap::new(),
            networks: BTreeMap::new(),
            volumes: BTreeMap::new(),
            stats: HashMap::new(),
            warnings: Vec::new(),
            history: History::default(),
            logs: logs::LogStore::default(),
            revision: 0,
            structure_revision: 0,
            state_revision: 0,
            busy: BTreeMap::new(),
            swarm: None,
            swarm_host: 0,
            processes: None,
            changes: BTreeMap::new(),
            files: files::FilesState::default(),
            recorded_starts: HashMap::new(),
            recorded_series: None,
            port_checks: BTreeMap::new(),
            disk: BTreeMap::new(),
            runs: compose_runs::Runs::default(),
            image_updates: image_updates::UpdateChecks::default(),
            images: images::ImageStore::default(),
            history_len: stats::DEFAULT_HISTORY,
        }
    }

    /// How many stats points each container keeps.
    pub fn with_history_len(mut self, len: usize) -> Self {
        self.history_len = len.max(2);
        self
    }

    /// Folds one update from the first engine into the model. Returns whether anything
    /// visible changed.
    pub fn apply(&mut self, update: Update) -> bool {
        self.apply_from(0, update)
    }

    /// Folds one update from engine `host` into the model. Returns whether anything
    /// visible changed.
    pub fn apply_from(&mut self, host: HostId, update: Update) -> bool {
        if host >= self.hosts.len() {
            return false;
        }
        if let Update::Synced(inventory) = &update {
            self.check_same_engine(host, inventory);
        }
        // One engine reached at two addresses would show every container twice and
        // fight over each: the later address only reports its connection.
        if self.hosts[host].same_as.is_some()
            && !matches!(
                update,
                Update::Connected { .. } | Update::Connecting { .. } | Update::Disconnected { .. }
            )
        {
            return false;
        }
        let moves_state = !matches!(
            update,
            Update::Stats(_)
                | Update::Logs(_)
                | Update::Processes(_)
                | Update::Files(_)
                | Update::Run(_)
        );
        let changed = match update {
            Update::Connecting { at } => {
                let entry = &mut self.hosts[host];
                if matches!(entry.connection, Connection::Connecting { .. }) {
                    false
                } else {
                    entry.connection = Connection::Connecting { since: at };
                    true
                }
            }
            Update::Connected { at, info } => {
                let multi_host = self.multi_host();
                let entry = &mut self.hosts[host];
                // Only a comeback is news: every engine connects once at start-up, and
                // with one engine the header already says it all.
                // Back after an outage, or after a retry that followed one.
                let comeback = matches!(entry.connection, Connection::Disconnected { .. })
                    || (entry.connected_at.is_some() && !entry.connection.is_connected());
                if multi_host && comeback {
                    let detail = match &entry.connection {
                        Connection::Disconnected { since, .. } => {
                            let outage = (at - *since).to_std().unwrap_or_default();
                            format!("answers again after {}", format::short_duration(outage))
                        }
                        _ => "answers again".to_string(),
                    };
                    self.history.record_host(host, &entry.name, at, "host reconnected", detail);
                }
                let endpoint = std::mem::take(&mut entry.engine.endpoint);
                entry.engine = *info;
                if entry.engine.endpoint.is_empty() {
                    entry.engine.endpoint = endpoint;
                }
                entry.connection = Connection::Connected { since: at };
                entry.connected_at = Some(at);
                // Nothing is listed yet: not "connected, 0 running" but still syncing.
                entry.syncing = Some((0, 0));
                true
            }
            Update::Disconnected { at, reason } => {
                let multi_host = self.multi_host();
                let entry = &mut self.hosts[host];
                // Keep the first moment of an outage: "disconnected since T" must not
                // move forward with every failed reconnection attempt.
                let since = match &entry.connection {
                    Connection::Disconnected { since, .. } => *since,
                    _ => {
                        if multi_host {
                            self.history.record_host(
                                host,
                                &entry.name,
                                at,
                                "host unreachable",
                                reason.clone(),
                            );
                        }
                        at
                    }
                };
                entry.connection = Connection::Disconnected { since, reason };
                // Samples taken before the outage cannot be paired with later ones.
                for (id, stats) in &mut self.stats {
                    if self.containers.get(id).is_none_or(|c| c.host == host) {
                        stats.forget_last_sample();
                    }
                }
                true
            }
            Update::Synced(inventory) => {
                self.hosts[host].syncing = None;
                self.replace_inventory(host, *inventory);
                self.structure_revision += 1;
                true
            }
            Update::Syncing { done, total } => {
                let next = Some((done, total));
                let changed = self.hosts[host].syncing != next;
                self.hosts[host].syncing = next;
                changed
            }
            Update::InspectLate { id, since } => match self.containers.get_mut(&id) {
                Some(c) if c.inspect_pending_since.is_none() => {
                    c.inspect_pending_since = Some(since);
                    true
                }
                _ => false,
            },
            Update::ContainerChanged(container) => {
                let mut container = *container;
                container.host = host;
                if !container.state.is_running()
                    && let Some(stats) = self.stats.get_mut(&container.id)
                {
                    stats.forget_last_sample();
                }
                // A row made from the container list is no earlier state to compare
                // with: its first inspect is its first sighting.
                let previous = self
                    .containers
                    .get(&container.id)
                    .filter(|c| c.inspect_pending_since.is_none());
                let unchanged = previous == Some(&container);
                if unchanged {
                    false
                } else {
                    self.history.observe(&container, previous, self.hosts[host].connected_at);
                    self.containers.insert(container.id.clone(), container);
                    self.structure_revision += 1;
                    true
                }
            }
            Update::ContainerRemoved { id } => {
                self.stats.remove(&id);
                self.history.forget(&id);
                self.changes.remove(&id);
                self.files.forget(&id);
                self.port_checks.remove(&id);
                let removed = self.containers.remove(&id).is_some();
                if removed {
                    self.structure_revision += 1;
                }
                removed
            }
            Update::NetworkChanged(network) => {
                let network = *network;
                let key = (host, network.name.clone());
                if self.networks.get(&key) == Some(&network) {
                    false
                } else {
                    self.networks.insert(key, network);
                    self.structure_revision += 1;
                    true
                }
            }
            Update::Networks(networks) => {
                self.replace_networks(host, networks);
                self.structure_revision += 1;
                true
            }
            Update::NetworkRemoved { name } => {
                let removed = self.networks.remove(&(host, name)).is_some();
                if removed {
                    self.structure_revision += 1;
                }
                removed
            }
            Update::VolumeChanged(volume) => {
                let volume = *volume;
                let key = (host, volume.name.clone());
                if self.volumes.get(&key) == Some(&volume) {
                    false
                } else {
                    self.volumes.insert(key, volume);
                    self.structure_revision += 1;
                    true
                }
            }
            Update::VolumeRemoved { name } => {
                let removed = self.volumes.remove(&(host, name)).is_some();
                if removed {
                    self.structure_revision += 1;
                }
                removed
            }
            Update::Stats(samples) => {
                let mut changed = false;
                for (id, sample) in samples {
                    // A sample that races a removal must not resurrect the container.
                    if !self.containers.contains_key(&id) {
                        continue;
                    }
                    let history_len = self.history_len;
                    let memory_fallback = self
                        .containers
                        .get(&id)
                        .and_then(|c| self.host(c.host).engine.memory_bytes);
                    self.stats
                        .entry(id)
                        .or_insert_with(|| ContainerStats::new(history_len))
                        .record(sample, memory_fallback);
                    changed = true;
                }
                changed
            }
            Update::Event(event) => {
                self.history.record_event(host, &event);
                true
            }
            Update::LastLogLine { id, line } => {
                self.history.set_last_log_line(&id, line);
                true
            }
            Update::Logs(batch) => {
                let source = logs::SourceId::new(&batch.id);
                for line in &batch.lines {
                    let bytes = batch.data.get(line.start..line.end).unwrap_or_default();
                    self.logs.push(&source, line.stream, line.timestamp, bytes, batch.received);
                }
                !batch.lines.is_empty()
            }
            Update::ActionStarted { id, verb } => {
                self.busy.insert(id, verb);
                true
            }
            Update::ActionDone(result) => {
                self.busy.remove(&result.id);
                let container = self.containers.get(&result.id);
                // The engine's own events (stop, die, destroy) land in the timeline too;
                // this entry says who asked and, when it failed, why.
                self.history.record_event(
                    host,
                    &ContainerEvent {
                        at: result.at,
                        id: result.id.clone(),
                        name: result.name.clone(),
                        project: container.and_then(|c| c.project().map(String::from)),
                        service: container.and_then(|c| c.service().map(String::from)),
                        action: format!("operator: {}", result.verb.as_str()),
                        detail: Some(match &result.error {
                            None => "done".to_string(),
                            Some(error) => format!("failed: {error}"),
                        }),
                    },
                );
                true
            }
            Update::Processes(table) => {
                let table = Some(*table);
                let changed = self.processes != table;
                self.processes = table;
                changed
            }
            // The outcome is the UI's to show; the next read of the list shows the rest.
            Update::ProcessSignalled(_) => true,
            Update::Swarm { at, swarm } => {
                let next = swarm.map(|s| *s);
                // One cluster is shown: the first manager's. Another engine saying it
                // is not a manager does not hide it.
                if self.swarm.is_some() && host != self.swarm_host && next.is_none() {
                    return false;
                }
                self.swarm_host = host;
                if next == self.swarm {
                    false
                } else {
                    if let Some(next) = &next {
                        swarm::record_changes(&mut self.history, self.swarm.as_ref(), next, at);
                    }
                    // Not a structure change: the map's container layout does not
                    // depend on it, and tasks move every few seconds in a crash loop.
                    self.swarm = next;
                    true
                }
            }
            Update::Changes(changes) => {
                self.changes.insert(changes.id.clone(), *changes);
                true
            }
            Update::Files(update) => self.files.apply(*update),
            Update::Excerpt(_) => false,
            Update::RecordedSeries(series) => {
                self.recorded_series = Some(*series);
                true
            }
            Update::RecordedProblems(starts) => {
                self.recorded_starts.retain(|(h, _, _), _| *h != host);
                for start in starts {
                    let key = (host, start.kind.clone(), start.container_id.clone());
                    self.recorded_starts.insert(key, start);
                }
                true
            }
            Update::Run(run) => self.runs.apply(*run),
            Update::UpdatesChecked(checks) => {
                for check in checks {
                    self.image_updates.answer(check);
                }
                true
            }
            Update::PortsChecked(check) => match self.port_checks.get_mut(&check.id) {
                // Only what was asked for: a check that crossed the container's removal
                // does not bring it back.
                Some(status) => {
                    status.checking_since = None;
                    status.last = Some(*check);
                    true
                }
                None => false,
            },
            Update::DiskUsage(result) => {
                let state = self.disk.entry(host).or_default();
                state.reading_now = false;
                match result {
                    Ok(usage) => {
                        // The Volumes pane shows the sizes of the last reading.
                        for measured in &usage.volumes {
                            if let Some(volume) =
                                self.volumes.get_mut(&(host, measured.name.clone()))
                            {
                                volume.size = measured.size;
                            }
                        }
                        state.reading = Some(*usage);
                        state.error = None;
                    }
                    Err(error) => state.error = Some(error),
                }
                true
            }
            Update::Pruned(report) => {
                self.disk.entry(host).or_default().last_prune = Some(*report);
                true
            }
            Update::RecordedEvents { events, exhausted } => {
                let entries = events.iter().map(|e| history::timeline_entry(host, e)).collect();
                self.history.insert_recorded(entries);
                self.history.recorded_exhausted |= exhausted;
                true
            }
            Update::PathStat(stat) => {
                let changes::PathStat { id, path, result } = *stat;
                match self.changes.get_mut(&id) {
                    Some(changes) => {
                        changes.stats.insert(path, result);
                        true
                    }
                    None => false,
                }
            }
            Update::Images(list) => self.images.replace(host, list),
            Update::ImageChanged(image) => self.images.changed(host, *image),
            Update::ImageRemoved { id } => self.images.removed(host, &id),
            Update::ImageHistory(history) => {
                let key = (host, history.id.clone());
                self.images.histories.insert(key, *history);
                true
            }
            Update::ResourceNote(note) => {
                self.images.note(*note);
                true
            }
            Update::Warning { at, message } => {
                let message = if self.hosts.len() > 1 {
                    format!("{}: {message}", self.hosts[host].name)
                } else {
                    message
                };
                self.warnings.push(Warning { at, message });
                if self.warnings.len() > MAX_WARNINGS {
                    let excess = self.warnings.len() - MAX_WARNINGS;
                    self.warnings.drain(..excess);
                }
                true
            }
        };
        if changed {
            self.revision += 1;
            if moves_state {
                self.state_revision += 1;
            }
        }
        changed
    }

    /// Replaces what one engine holds; the other engines' containers stay.
    fn replace_inventory(&mut self, host: HostId, inventory: Inventory) {
        let connected_at = self.hosts[host].connected_at;
        let mut containers = inventory.containers;
        for container in &mut containers {
            container.host = host;
            let known = self.containers.get(&container.id);
            if let Some(pending) = container.inspect_pending_since {
                // Not inspected in this session: what was inspected before beats what
                // the list says, apart from the state the list is current on.
                if let Some(known) = known.filter(|k| k.inspect_pending_since.is_none()) {
                    let state = container.state;
                    *container = known.clone();
                    container.state = state;
                    container.inspect_pending_since = Some(pending);
                }
                continue;
            }
            self.history.observe(container, known, connected_at);
        }
        let gone: Vec<String> = self
            .containers
            .values()
            .filter(|c| c.host == host && !containers.iter().any(|n| n.id == c.id))
            .map(|c| c.id.clone())
            .collect();
        for id in &gone {
            self.history.forget(id);
            self.containers.remove(id);
        }
        for (id, line) in inventory.last_log_lines {
            self.history.set_last_log_line(&id, line);
        }
        self.containers.extend(containers.into_iter().map(|c| (c.id.clone(), c)));
        if !inventory.networks_late {
            self.replace_networks(host, inventory.networks);
        }
        self.volumes.retain(|(h, _), _| *h != host);
        self.volumes.extend(inventory.volumes.into_iter().map(|v| ((host, v.name.clone()), v)));
        let containers = &self.containers;
        self.stats.retain(|id, _| containers.contains_key(id));
        self.port_checks.retain(|id, _| containers.contains_key(id));
    }

    fn replace_networks(&mut self, host: HostId, networks: Vec<Network>) {
        self.networks.retain(|(h, _), _| *h != host);
        self.networks.extend(networks.into_iter().map(|n| ((host, n.name.clone()), n)));
    }

    /// Container IDs are random 256-bit numbers: an engine that lists one another engine
    /// already holds is that engine, reached at another address. (Daemon IDs do not
    /// tell: daemons on one machine, and cloned machines, share theirs.)
    fn check_same_engine(&mut self, host: HostId, inventory: &Inventory) {
        let other = inventory.containers.iter().find_map(|c| {
            self.containers.get(&c.id).map(|known| known.host).filter(|h| *h != host)
        });
        let Some(other) = other else {
            self.hosts[host].same_as = None;
            return;
        };
        // The address named first keeps the containers, whichever answered first.
        let (kept, dropped) = if other < host { (other, host) } else { (host, other) };
        if self.hosts[dropped].same_as == Some(kept) {
            return;
        }
        self.hosts[dropped].same_as = Some(kept);
        let gone: Vec<String> =
            self.containers.values().filter(|c| c.host == dropped).map(|c| c.id.clone()).collect();
        for id in gone {
            // The kept address's inventory brings them back under it.
            if !inventory.containers.iter().any(|c| c.id == id) {
                self.history.forget(&id);
            }
            self.containers.remove(&id);
        }
        self.networks.retain(|(h, _), _| *h != dropped);
        self.volumes.retain(|(h, _), _| *h != dropped);
        self.images.forget_host(dropped);
        let message = format!(
            "{} is the same engine as {} (they list the same containers): shown once, under {}",
            self.hosts[dropped].name, self.hosts[kept].name, self.hosts[kept].name
        );
        // The engine connects before it lists: an inventory with no connection before
        // it is dated by the attempt.
        let entry = &self.hosts[host];
        let at = entry.connected_at.unwrap_or_else(|| entry.connection.since());
        self.warnings.push(Warning { at, message });
    }

    /// The engine a container, network or volume lives on (the first for a stale id).
    pub fn host(&self, host: HostId) -> &Host {
        self.hosts.get(host).unwrap_or(&self.hosts[0])
    }

    /// Whether `c`'s engine should be running its health checks and is not (see
    /// [`Container::health_checks_not_run`]). Only said of Podman: Docker runs every
    /// probe itself, and since portolan re-reads the probe log only when the status
    /// changes, an empty log there proves nothing.
    pub fn health_checks_not_run(&self, c: &Container, now: DateTime<Utc>) -> bool {
        if self.host(c.host).engine.kind != EngineKind::Podman {
            return false;
        }
        let seen = self.history.get(&c.id).into_iter().flat_map(|h| h.probes.iter());
        let logged = c.health.iter().flat_map(|h| h.log.iter());
        c.health_checks_not_run(seen.chain(logged), now)
    }

    /// The kind to write beside an engine's name (`Podman`), only when the engines
    /// followed are of more than one kind: there it tells a Docker from a Podman on the
    /// same machine, elsewhere it would repeat the same word on every line.
    pub fn kind_beside_name(&self, host: HostId) -> Option<&'static str> {
        let kind = self.host(host).engine.kind;
        let mixed = self
            .hosts
            .iter()
            .any(|h| h.engine.kind != kind && h.engine.kind != EngineKind::Unknown);
        (mixed && kind != EngineKind::Unknown).then(|| kind.label())
    }

    /// Whether more than one engine is followed: only then do panes say which.
    pub fn multi_host(&self) -> bool {
        self.hosts.len() > 1
    }

    /// The name of the engine a container lives on.
    pub fn host_name(&self, container: &Container) -> &str {
        &self.host(container.host).name
    }

    /// Whether any engine answers.
    pub fn any_connected(&self) -> bool {
        self.hosts.iter().any(|h| h.connection.is_connected())
    }

    /// A network of one engine, by name.
    pub fn network(&self, host: HostId, name: &str) -> Option<&Network> {
        self.networks.get(&(host, name.to_string()))
    }

    /// The containers attached to a network, by name, sorted.
    pub fn network_members(&self, host: HostId, network: &str) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .containers
            .values()
            .filter(|c| c.host == host && c.networks.iter().any(|n| n.name == network))
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable_by(|a, b| natural::natural_cmp(a, b));
        names
    }

    /// The containers that mount a named volume, by name, sorted.
    pub fn volume_users(&self, host: HostId, volume: &str) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .containers
            .values()
            .filter(|c| c.host == host)
            .filter(|c| c.mounts.iter().any(|m| m.name.as_deref() == Some(volume)))
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable_by(|a, b| natural::natural_cmp(a, b));
        names
    }

    /// Compose project names present, sorted; stand-alone containers are not a project.
    pub fn projects(&self) -> BTreeSet<&str> {
        self.containers.values().filter_map(|c| c.project()).collect()
    }

    pub fn latest_stats(&self, id: &str) -> Option<&StatsPoint> {
        self.stats.get(id).and_then(|s| s.latest())
    }

    /// How far the sync with engine `host` is: containers inspected of those listed,
    /// while the first inventory is read or while some inspects are still pending.
    pub fn sync_progress(&self, host: HostId) -> Option<(usize, usize)> {
        if let Some(progress) = self.hosts.get(host).and_then(|h| h.syncing) {
            return Some(progress);
        }
        let on_host = self.containers.values().filter(|c| c.host == host);
        let (mut total, mut pending) = (0, 0);
        for c in on_host {
            total += 1;
            pending += usize::from(c.inspect_pending_since.is_some());
        }
        (pending > 0).then_some((total - pending, total))
    }

    /// Counts for the header: running, unhealthy, exited (non-running and not created).
    pub fn counts(&self) -> Counts {
        self.counts_where(|_| true)
    }

    /// Counts of the containers that pass `keep`.
    pub fn counts_where(&self, keep: impl Fn(&Container) -> bool) -> Counts {
        let mut counts = Counts::default();
        for c in self.containers.values().filter(|c| keep(c)) {
            counts.total += 1;
            match c.state {
                ContainerState::Running | ContainerState::Restarting => counts.running += 1,
                ContainerState::Paused => counts.paused += 1,
                ContainerState::Exited | ContainerState::Dead => counts.exited += 1,
                _ => {}
            }
            if c.health_status() == HealthStatus::Unhealthy {
                counts.unhealthy += 1;
            }
        }
        counts
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub exited: usize,
    pub unhealthy: usize,
}

#[cfg(test)]
mod tests;

/// Models for tests elsewhere in the crate.
#[cfg(test)]
pub mod test_models {
    use super::*;

    /// Engines `a` (a socket) and `b` (over ssh), both connected at `at`, each holding
    /// containers of its own.
    pub fn two_engines(at: DateTime<Utc>, on_a: Vec<Container>, on_b: Vec<Container>) -> Model {
        let mut model = Model::with_hosts(
            vec![Host::new("a", "unix:///a.sock", at), Host::new("b", "ssh://b", at)],
            at,
        );
        for (host, containers) in [(0, on_a), (1, on_b)] {
            model.apply_from(host, Update::Connected { at, info: Box::default() });
            model.apply_from(
                host,
                Update::Synced(Box::new(Inventory { containers, ..Inventory::default() })),
            );
        }
        model
    }
}
