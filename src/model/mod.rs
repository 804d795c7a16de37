//! The one live state of a Docker host, and the pure reducer that changes it.
//!
//! This module owns what portolan knows; it performs no I/O and knows nothing of
//! ratatui, tokio or bollard. The engine sends [`Update`]s, [`Model::apply`] folds
//! them in, and everything else reads the model.

pub mod action;
pub mod compose;
pub mod container;
pub mod format;
pub mod history;
pub mod logs;
pub mod ring;
pub mod sanitize;
pub mod stats;
pub mod swarm;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

pub use container::{
    ComposeInfo, Container, ContainerState, Dependency, DependencyCondition, Health, HealthProbe,
    HealthStatus, Healthcheck, Limits, Mount, NetworkAttachment, Port, ProxyConfig, RestartPolicy,
};
pub use history::{ContainerEvent, ContainerHistory, History, TimelineEntry};
pub use stats::{ContainerStats, CpuCounter, RawSample, StatsPoint};
pub use swarm::{ServiceMode, ServicePort, Swarm, SwarmNode, SwarmService, SwarmTask};

/// What the engine said about itself when portolan connected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineInfo {
    pub endpoint: String,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub os: Option<String>,
    pub hostname: Option<String>,
    pub cpus: Option<u32>,
    pub memory_bytes: Option<u64>,
    pub cgroup_version: Option<String>,
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
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volume {
    pub name: String,
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// Everything listed at (re)connection time: replaces the model's inventory whole.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub containers: Vec<Container>,
    pub networks: Vec<Network>,
    pub volumes: Vec<Volume>,
    /// The last line each failed container wrote, by id.
    pub last_log_lines: Vec<(String, String)>,
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
    ContainerChanged(Box<Container>),
    ContainerRemoved {
        id: String,
    },
    NetworkChanged(Box<Network>),
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
    pub engine: EngineInfo,
    pub connection: Connection,
    pub containers: BTreeMap<String, Container>,
    pub networks: BTreeMap<String, Network>,
    pub volumes: BTreeMap<String, Volume>,
    pub stats: HashMap<String, ContainerStats>,
    pub warnings: Vec<Warning>,
    pub history: History,
    /// Followed containers' log lines, under one memory budget.
    pub logs: logs::LogStore,
    /// When this session with the engine began: older moments are reconstructed.
    pub connected_at: Option<DateTime<Utc>>,
    /// Bumped by every change that alters what a pane might draw.
    pub revision: u64,
    /// Bumped only when containers, networks or volumes change (not stats): layouts
    /// key their caches on it.
    pub structure_revision: u64,
    /// Operator actions the engine is carrying out, by container id.
    pub busy: BTreeMap<String, action::Verb>,
    /// Present when the engine is a swarm manager.
    pub swarm: Option<Swarm>,
    history_len: usize,
}

impl Model {
    pub fn new(endpoint: impl Into<String>, now: DateTime<Utc>) -> Self {
        Model {
            engine: EngineInfo { endpoint: endpoint.into(), ..EngineInfo::default() },
            connection: Connection::Connecting { since: now },
            containers: BTreeMap::new(),
            networks: BTreeMap::new(),
            volumes: BTreeMap::new(),
            stats: HashMap::new(),
            warnings: Vec::new(),
            history: History::default(),
            logs: logs::LogStore::default(),
            connected_at: None,
            revision: 0,
            structure_revision: 0,
            busy: BTreeMap::new(),
            swarm: None,
            history_len: stats::DEFAULT_HISTORY,
        }
    }

    /// How many stats points each container keeps.
    pub fn with_history_len(mut self, len: usize) -> Self {
        self.history_len = len.max(2);
        self
    }

    /// Folds one update into the model. Returns whether anything visible changed.
    pub fn apply(&mut self, update: Update) -> bool {
        let changed = match update {
            Update::Connecting { at } => {
                if matches!(self.connection, Connection::Connecting { .. }) {
                    false
                } else {
                    self.connection = Connection::Connecting { since: at };
                    true
                }
            }
            Update::Connected { at, info } => {
                let endpoint = std::mem::take(&mut self.engine.endpoint);
                self.engine = *info;
                if self.engine.endpoint.is_empty() {
                    self.engine.endpoint = endpoint;
                }
                self.connection = Connection::Connected { since: at };
                self.connected_at = Some(at);
                true
            }
            Update::Disconnected { at, reason } => {
                // Keep the first moment of an outage: "disconnected since T" must not
                // move forward with every failed reconnection attempt.
                let since = match &self.connection {
                    Connection::Disconnected { since, .. } => *since,
                    _ => at,
                };
                self.connection = Connection::Disconnected { since, reason };
                // Samples taken before the outage cannot be paired with later ones.
                for stats in self.stats.values_mut() {
                    stats.forget_last_sample();
                }
                true
            }
            Update::Synced(inventory) => {
                self.replace_inventory(*inventory);
                self.structure_revision += 1;
                true
            }
            Update::ContainerChanged(container) => {
                let container = *container;
                if !container.state.is_running()
                    && let Some(stats) = self.stats.get_mut(&container.id)
                {
                    stats.forget_last_sample();
                }
                let previous = self.containers.get(&container.id);
                let unchanged = previous == Some(&container);
                if unchanged {
                    false
                } else {
                    self.history.observe(&container, previous, self.connected_at);
                    self.containers.insert(container.id.clone(), container);
                    self.structure_revision += 1;
                    true
                }
            }
            Update::ContainerRemoved { id } => {
                self.stats.remove(&id);
                self.history.forget(&id);
                let removed = self.containers.remove(&id).is_some();
                if removed {
                    self.structure_revision += 1;
                }
                removed
            }
            Update::NetworkChanged(network) => {
                let network = *network;
                if self.networks.get(&network.name) == Some(&network) {
                    false
                } else {
                    self.networks.insert(network.name.clone(), network);
                    self.structure_revision += 1;
                    true
                }
            }
            Update::NetworkRemoved { name } => {
                let removed = self.networks.remove(&name).is_some();
                if removed {
                    self.structure_revision += 1;
                }
                removed
            }
            Update::VolumeChanged(volume) => {
                let volume = *volume;
                if self.volumes.get(&volume.name) == Some(&volume) {
                    false
                } else {
                    self.volumes.insert(volume.name.clone(), volume);
                    self.structure_revision += 1;
                    true
                }
            }
            Update::VolumeRemoved { name } => {
                let removed = self.volumes.remove(&name).is_some();
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
                    let memory_fallback = self.engine.memory_bytes;
                    self.stats
                        .entry(id)
                        .or_insert_with(|| ContainerStats::new(history_len))
                        .record(sample, memory_fallback);
                    changed = true;
                }
                changed
            }
            Update::Event(event) => {
                self.history.record_event(&event);
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
                self.history.record_event(&ContainerEvent {
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
                });
                true
            }
            Update::Swarm { at, swarm } => {
                let next = swarm.map(|s| *s);
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
            Update::Warning { at, message } => {
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
        }
        changed
    }

    fn replace_inventory(&mut self, inventory: Inventory) {
        let previous = std::mem::take(&mut self.containers);
        for container in &inventory.containers {
            self.history.observe(container, previous.get(&container.id), self.connected_at);
        }
        for id in previous.keys() {
            if !inventory.containers.iter().any(|c| &c.id == id) {
                self.history.forget(id);
            }
        }
        for (id, line) in inventory.last_log_lines {
            self.history.set_last_log_line(&id, line);
        }
        self.containers = inventory.containers.into_iter().map(|c| (c.id.clone(), c)).collect();
        self.networks = inventory.networks.into_iter().map(|n| (n.name.clone(), n)).collect();
        self.volumes = inventory.volumes.into_iter().map(|v| (v.name.clone(), v)).collect();
        let containers = &self.containers;
        self.stats.retain(|id, _| containers.contains_key(id));
    }

    /// The containers attached to a network, by name, sorted.
    pub fn network_members(&self, network: &str) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .containers
            .values()
            .filter(|c| c.networks.iter().any(|n| n.name == network))
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable();
        names
    }

    /// The containers that mount a named volume, by name, sorted.
    pub fn volume_users(&self, volume: &str) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .containers
            .values()
            .filter(|c| c.mounts.iter().any(|m| m.name.as_deref() == Some(volume)))
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable();
        names
    }

    /// Compose project names present, sorted; stand-alone containers are not a project.
    pub fn projects(&self) -> BTreeSet<&str> {
        self.containers.values().filter_map(|c| c.project()).collect()
    }

    pub fn latest_stats(&self, id: &str) -> Option<&StatsPoint> {
        self.stats.get(id).and_then(|s| s.latest())
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
