//! The flight recorder: what portolan sees of an engine, kept in a file that outlives
//! the session, so that "since when" and "what happened" have answers from before
//! the operator looked.
//!
//! [`Recorder`] turns what the state owner applies into owned [`Record`]s (pure: it
//! reads the model and the update, and keeps only what it needs to tell a change);
//! [`writer`] owns the file on its own thread and commits them at least once a
//! second; [`read`] answers the questions the UI and `portolan history` ask of a file.

pub mod alerts;
pub mod frames;
pub mod metrics;
pub mod read;
pub mod run;
pub mod session;
pub mod store;
pub mod when;
pub mod writer;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::model::{Container, HostId, Model, StatsPoint, Update};
use crate::triage::{self, Problem};

/// What one engine's record receives: owned, so the writer's thread keeps nothing of
/// the model.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Event(EventRow),
    ProblemOpened(ProblemRow),
    ProblemClosed {
        kind: String,
        container_id: String,
        ended_at: DateTime<Utc>,
    },
    Probe(ProbeRow),
    Stats(StatsRow),
    ContainerSeen(ContainerRow),
    ContainerRemoved {
        id: String,
        at: DateTime<Utc>,
    },
    Note {
        at: DateTime<Utc>,
        text: String,
    },
    Excerpt(Box<crate::model::Excerpt>),
    /// A keyframe of a container, network or volume: what rewinding reads.
    Frame(frames::FrameRow),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub at: DateTime<Utc>,
    /// `container`, `network`, `volume` or `engine`.
    pub scope: &'static str,
    pub subject_id: String,
    pub name: String,
    pub project: Option<String>,
    pub service: Option<String>,
    pub action: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProblemRow {
    pub kind: String,
    pub container_id: String,
    pub container: String,
    pub project: Option<String>,
    pub started_at: DateTime<Utc>,
    pub reconstructed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRow {
    pub container_id: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub exit_code: Option<i64>,
    pub output: String,
}

/// One container's figures over one bucket of a tier.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRow {
    pub tier: Tier,
    pub container_id: String,
    /// The bucket's start.
    pub at: DateTime<Utc>,
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
    pub block_read_bytes: Option<u64>,
    pub block_write_bytes: Option<u64>,
    pub pids: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRow {
    pub id: String,
    pub name: String,
    pub project: Option<String>,
    pub service: Option<String>,
    pub image: String,
    pub seen: DateTime<Utc>,
}

/// How finely stats are kept: every sample for a while, then averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    Sample,
    TenSeconds,
    Minute,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Sample, Tier::TenSeconds, Tier::Minute];

    pub fn number(self) -> i64 {
        match self {
            Tier::Sample => 0,
            Tier::TenSeconds => 1,
            Tier::Minute => 2,
        }
    }

    /// The bucket length of an averaged tier.
    fn bucket(self) -> Option<Duration> {
        match self {
            Tier::Sample => None,
            Tier::TenSeconds => Some(Duration::seconds(10)),
            Tier::Minute => Some(Duration::minutes(1)),
        }
    }
}

/// How long each kind of record is kept, and the file's budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub samples: Duration,
    pub ten_seconds: Duration,
    pub minutes: Duration,
    /// Events, problems and probes.
    pub incidents: Duration,
    pub budget_bytes: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            samples: Duration::hours(1),
            ten_seconds: Duration::days(1),
            minutes: Duration::days(30),
            incidents: Duration::days(30),
            budget_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Retention {
    /// The default spans with a budget of `mib` MiB (at least one).
    pub fn with_budget_mib(mib: u64) -> Retention {
        Retention { budget_bytes: mib.max(1).saturating_mul(1024 * 1024), ..Retention::default() }
    }

    pub fn of(&self, tier: Tier) -> Duration {
        match tier {
            Tier::Sample => self.samples,
            Tier::TenSeconds => self.ten_seconds,
            Tier::Minute => self.minutes,
        }
    }
}

/// The default place of an engine's record: `$XDG_STATE_HOME/portolan/`, else
/// `~/.local/state/portolan/`, one file per engine named after its address.
pub fn default_path(
    endpoint: &str,
    xdg_state: Option<&str>,
    home: Option<&str>,
) -> Option<PathBuf> {
    let dir = match (xdg_state.filter(|d| !d.is_empty()), home.filter(|h| !h.is_empty())) {
        (Some(state), _) => PathBuf::from(state).join("portolan"),
        (None, Some(home)) => Path::new(home).join(".local/state/portolan"),
        (None, None) => return None,
    };
    Some(dir.join(file_name(endpoint)))
}

/// A readable, unique file name for an engine address: `unix-var-run-docker.sock-1a2b3c4d.db`.
fn file_name(endpoint: &str) -> String {
    use sha2::{Digest, Sha256};
    let readable: String = endpoint
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' })
        .collect();
    let readable: String =
        readable.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    let readable: String = readable.chars().take(48).collect();
    let digest = Sha256::digest(endpoint.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{readable}-{hash}.db")
}

/// A problem as the record names it: its kind and its container.
pub type ProblemKey = (String, String);

fn key_of(problem: &Problem) -> ProblemKey {
    (problem.kind.as_str().to_string(), problem.container_id.clone())
}

/// Averages of one container over one open bucket.
#[derive(Debug, Clone, Default)]
struct Bucket {
    start: Option<DateTime<Utc>>,
    cpu_sum: f64,
    cpu_count: u32,
    memory_sum: u128,
    memory_count: u32,
    last: Option<StatsPoint>,
    pids_max: Option<u64>,
}

impl Bucket {
    fn add(&mut self, start: DateTime<Utc>, point: &StatsPoint) {
        self.start.get_or_insert(start);
        if let Some(cpu) = point.cpu_percent {
            self.cpu_sum += cpu;
            self.cpu_count += 1;
        }
        if let Some(memory) = point.memory_bytes {
            self.memory_sum += u128::from(memory);
            self.memory_count += 1;
        }
        self.pids_max = self.pids_max.max(point.pids);
        self.last = Some(*point);
    }

    fn row(&self, tier: Tier, container_id: &str) -> Option<StatsRow> {
        let at = self.start?;
        let last = self.last.as_ref()?;
        Some(StatsRow {
            tier,
            container_id: container_id.to_string(),
            at,
            cpu_percent: (self.cpu_count > 0).then(|| self.cpu_sum / f64::from(self.cpu_count)),
            memory_bytes: (self.memory_count > 0).then(|| {
                u64::try_from(self.memory_sum / u128::from(self.memory_count)).unwrap_or(u64::MAX)
            }),
            memory_limit_bytes: last.memory_limit_bytes,
            net_rx_bytes: last.net_rx_bytes,
            net_tx_bytes: last.net_tx_bytes,
            block_read_bytes: last.block_read_bytes,
            block_write_bytes: last.block_write_bytes,
            pids: self.pids_max,
        })
    }
}

fn sample_row(container_id: &str, point: &StatsPoint) -> StatsRow {
    StatsRow {
        tier: Tier::Sample,
        container_id: container_id.to_string(),
        at: point.at,
        cpu_percent: point.cpu_percent,
        memory_bytes: point.memory_bytes,
        memory_limit_bytes: point.memory_limit_bytes,
        net_rx_bytes: point.net_rx_bytes,
        net_tx_bytes: point.net_tx_bytes,
        block_read_bytes: point.block_read_bytes,
        block_write_bytes: point.block_write_bytes,
        pids: point.pids,
    }
}

/// Turns one engine's updates, as the model applies them, into records.
#[derive(Debug)]
pub struct Recorder {
    host: HostId,
    /// Problems open in the record, with what was written of them.
    open: HashMap<ProblemKey, ProblemRow>,
    /// The newest probe start written per container.
    probes_written: HashMap<String, DateTime<Utc>>,
    buckets: HashMap<(Tier, String), Bucket>,
    /// Whether the engine's inventory of this session has been read: before it, every
    /// problem would look resolved.
    synced: bool,
    networks: HashSet<String>,
    volumes: HashSet<String>,
    /// Containers whose samples the update being applied carries.
    pending_stats: Vec<String>,
    /// Open problems carried over from an earlier session, not yet checked against
    /// what the engine shows now: one may have ended unseen and begun again.
    carried: HashSet<ProblemKey>,
    /// Problems that began or ended, for alerts, until taken.
    pub transitions: Vec<alerts::Transition>,
    /// The state revision the problems were last worked out for, and when.
    checked: Option<(u64, DateTime<Utc>)>,
    /// What was last framed of each container, network and volume.
    framer: frames::Framer,
}

/// How stale an unchanged state's problems may get: what only the clock ends
/// (a crash loop's ten-minute window) ends in the record at most this late.
const CLOCK_RECHECK: Duration = Duration::seconds(10);

impl Recorder {
    /// `open` are the problems the record holds as open from an earlier session.
    pub fn new(host: HostId, open: Vec<ProblemRow>) -> Recorder {
        Recorder {
            host,
            carried: open.iter().map(|row| (row.kind.clone(), row.container_id.clone())).collect(),
            open: open
                .into_iter()
                .map(|row| ((row.kind.clone(), row.container_id.clone()), row))
                .collect(),
            probes_written: HashMap::new(),
            buckets: HashMap::new(),
            synced: false,
            networks: HashSet::new(),
            volumes: HashSet::new(),
            pending_stats: Vec::new(),
            transitions: Vec::new(),
            checked: None,
            framer: frames::Framer::default(),
        }
    }

    /// Knows the newest frames the record holds, so that what did not change since
    /// the last session is not written again.
    pub fn with_frames(mut self, known: Vec<frames::FrameRow>) -> Recorder {
        self.framer = frames::Framer::with_known(known);
        self
    }

    /// Keyframes of what `update` changes in the containers, networks and volumes.
    fn frames(&mut self, update: &Update, now: DateTime<Utc>, out: &mut Vec<Record>) {
        use frames::FrameKind;
        let mut rows = Vec::new();
        let framer = &mut self.framer;
        match update {
            Update::Synced(inventory) => {
                for c in &inventory.containers {
                    framer.container(c, now, &mut rows);
                }
                let ids = inventory.containers.iter().map(|c| c.id.as_str()).collect();
                framer.absent(FrameKind::Container, &ids, now, &mut rows);
                if !inventory.networks_late {
                    for n in &inventory.networks {
                        framer.network(n, now, &mut rows);
                    }
                    let names = inventory.networks.iter().map(|n| n.name.as_str()).collect();
                    framer.absent(FrameKind::Network, &names, now, &mut rows);
                }
                for v in &inventory.volumes {
                    framer.volume(v, now, &mut rows);
                }
                let names = inventory.volumes.iter().map(|v| v.name.as_str()).collect();
                framer.absent(FrameKind::Volume, &names, now, &mut rows);
            }
            Update::ContainerChanged(c) => framer.container(c, now, &mut rows),
            Update::ContainerRemoved { id } => framer.container_removed(id, now, &mut rows),
            Update::NetworkChanged(n) => framer.network(n, now, &mut rows),
            Update::Networks(networks) => {
                for n in networks {
                    framer.network(n, now, &mut rows);
                }
                let names = networks.iter().map(|n| n.name.as_str()).collect();
                framer.absent(FrameKind::Network, &names, now, &mut rows);
            }
            Update::NetworkRemoved { name } => {
                framer.removed(FrameKind::Network, name, now, &mut rows);
            }
            Update::VolumeChanged(v) => framer.volume(v, now, &mut rows),
            Update::VolumeRemoved { name } => {
                framer.removed(FrameKind::Volume, name, now, &mut rows)
            }
            _ => {}
        }
        out.extend(rows.into_iter().map(Record::Frame));
    }

    pub fn host(&self) -> HostId {
        self.host
    }

    /// What `update` gives the record; called just before `model` applies it (stats
    /// are read after, in [`Recorder::after_apply`], once the model made points of them).
    pub fn observe(
        &mut self,
        update: &Update,
        model: &Model,
        now: DateTime<Utc>,
        out: &mut Vec<Record>,
    ) {
        self.frames(update, now, out);
        match update {
            Update::Connected { at, info } => {
                out.push(Record::Event(engine_event(*at, "connected", info.version.clone())));
            }
            Update::Disconnected { at, reason } => {
                self.synced = false;
                out.push(Record::Event(engine_event(*at, "lost", Some(reason.clone()))));
            }
            Update::Connecting { .. } => self.synced = false,
            Update::Synced(inventory) => {
                self.synced = true;
                for c in &inventory.containers {
                    out.push(Record::ContainerSeen(container_row(c, now)));
                    self.new_probes(c, out);
                }
                self.networks = inventory.networks.iter().map(|n| n.name.clone()).collect();
                self.volumes = inventory.volumes.iter().map(|v| v.name.clone()).collect();
            }
            Update::ContainerChanged(c) => {
                out.push(Record::ContainerSeen(container_row(c, now)));
                self.new_probes(c, out);
            }
            Update::ContainerRemoved { id } => {
                let at = now;
                out.push(Record::ContainerRemoved { id: id.clone(), at });
                for tier in [Tier::TenSeconds, Tier::Minute] {
                    if let Some(row) =
                        self.buckets.remove(&(tier, id.clone())).and_then(|b| b.row(tier, id))
                    {
                        out.push(Record::Stats(row));
                    }
                }
                self.probes_written.remove(id);
            }
            Update::Event(event) => out.push(Record::Event(EventRow {
                at: event.at,
                scope: "container",
                subject_id: event.id.clone(),
                name: event.name.clone(),
                project: event.project.clone(),
                service: event.service.clone(),
                action: event.action.clone(),
                detail: event.detail.clone(),
            })),
            Update::Excerpt(excerpt) => out.push(Record::Excerpt(excerpt.clone())),
            Update::LastLogLine { id, line } => {
                let name = model.containers.get(id).map(|c| c.name.clone()).unwrap_or_default();
                out.push(Record::Event(EventRow {
                    at: now,
                    scope: "container",
                    subject_id: id.clone(),
                    name,
                    project: None,
                    service: None,
                    action: "last_log".into(),
                    detail: Some(line.clone()),
                }));
            }
            Update::NetworkChanged(network)
                if self.synced && self.networks.insert(network.name.clone()) =>
            {
                out.push(Record::Event(named_event(
                    now,
                    "network",
                    &network.id,
                    &network.name,
                    "create",
                )));
            }
            Update::NetworkRemoved { name } if self.networks.remove(name) => {
                out.push(Record::Event(named_event(now, "network", name, name, "destroy")));
            }
            Update::VolumeChanged(volume)
                if self.synced && self.volumes.insert(volume.name.clone()) =>
            {
                out.push(Record::Event(named_event(
                    now,
                    "volume",
                    &volume.name,
                    &volume.name,
                    "create",
                )));
            }
            Update::VolumeRemoved { name } if self.volumes.remove(name) => {
                out.push(Record::Event(named_event(now, "volume", name, name, "destroy")));
            }
            Update::Stats(samples) => {
                self.pending_stats.extend(samples.iter().map(|(id, _)| id.clone()));
            }
            _ => {}
        }
    }

    /// The stats points the model made of the last update's samples.
    pub fn after_apply(&mut self, model: &Model, out: &mut Vec<Record>) {
        for id in std::mem::take(&mut self.pending_stats) {
            if let Some(point) = model.stats.get(&id).and_then(|s| s.latest()) {
                self.stats(&id, point, out);
            }
        }
    }

    fn new_probes(&mut self, c: &Container, out: &mut Vec<Record>) {
        let Some(health) = &c.health else { return };
        let written = self.probes_written.get(&c.id).copied();
        let mut newest = written;
        for probe in &health.log {
            let Some(start) = probe.start else { continue };
            if written.is_some_and(|w| start <= w) {
                continue;
            }
            newest = newest.max(Some(start));
            out.push(Record::Probe(ProbeRow {
                container_id: c.id.clone(),
                start,
                end: probe.end,
                exit_code: probe.exit_code,
                output: probe.output.clone(),
            }));
        }
        if let Some(newest) = newest {
            self.probes_written.insert(c.id.clone(), newest);
        }
    }

    fn stats(&mut self, id: &str, point: &StatsPoint, out: &mut Vec<Record>) {
        out.push(Record::Stats(sample_row(id, point)));
        for tier in [Tier::TenSeconds, Tier::Minute] {
            let Some(length) = tier.bucket() else { continue };
            let Ok(start) = point.at.duration_trunc(length) else { continue };
            let bucket = self.buckets.entry((tier, id.to_string())).or_default();
            if bucket.start.is_some_and(|s| s != start) {
                if let Some(row) = bucket.row(tier, id) {
                    out.push(Record::Stats(row));
                }
                *bucket = Bucket::default();
            }
            bucket.add(start, point);
        }
    }

    /// Once a second: problems that began or ended since the last tick.
    ///
    /// Problems follow the state (`state_revision`); only a few follow the clock
    /// alone (a crash loop's window running out). So the problems are worked out
    /// again when the state changed, else every [`CLOCK_RECHECK`].
    pub fn tick(&mut self, model: &Model, now: DateTime<Utc>, out: &mut Vec<Record>) {
        let stale = self.checked.is_none_or(|(revision, at)| {
            revision != model.state_revision || now - at >= CLOCK_RECHECK
        });
        if !stale {
            return;
        }
        self.checked = Some((model.state_revision, now));
        // An engine that is not listed yet (or lost) says nothing of its containers'
        // problems: they are neither opened nor closed until it is.
        let host = model.host(self.host);
        let connected = host.connection.is_connected();
        let problems: Vec<Problem> = triage::problems(model, now, None)
            .into_iter()
            .filter(|p| p.host == self.host)
            .collect();
        let mut present: HashSet<ProblemKey> = HashSet::new();
        for problem in &problems {
            let key = key_of(problem);
            present.insert(key.clone());
            if !self.synced && problem.kind != triage::ProblemKind::HostUnreachable {
                continue;
            }
            let since = problem.since.unwrap_or(crate::model::since::Since::reconstructed(now));
            if let Some(open) = self.open.get(&key) {
                // Carried over, and now said to begin later: the record's problem
                // ended while nobody recorded, and this is a new one.
                let again = self.carried.contains(&key)
                    && (since.at - open.started_at).num_seconds().abs() > 2;
                if !again {
                    continue;
                }
                self.close(vec![key.clone()], since.at.min(now), out);
            }
            let row = ProblemRow {
                kind: key.0.clone(),
                container_id: key.1.clone(),
                container: problem.container.clone(),
                project: problem.project.clone(),
                started_at: since.at,
                reconstructed: since.reconstructed,
                detail: problem.detail.clone(),
            };
            out.push(Record::ProblemOpened(row.clone()));
            self.transitions.push(alerts::Transition::Opened(row.clone()));
            self.open.insert(key, row);
        }
        if self.synced {
            self.carried.clear();
        }
        if !(self.synced && connected) {
            // Only the outage itself can end while the engine is away.
            let unreachable = triage::ProblemKind::HostUnreachable.as_str();
            let ended: Vec<ProblemKey> = self
                .open
                .keys()
                .filter(|k| k.0 == unreachable && !present.contains(*k))
                .cloned()
                .collect();
            self.close(ended, now, out);
            return;
        }
        let ended: Vec<ProblemKey> =
            self.open.keys().filter(|k| !present.contains(*k)).cloned().collect();
        self.close(ended, now, out);
    }

    fn close(&mut self, keys: Vec<ProblemKey>, now: DateTime<Utc>, out: &mut Vec<Record>) {
        for key in keys {
            if let Some(row) = self.open.remove(&key) {
                self.transitions.push(alerts::Transition::Closed(row, now));
            }
            out.push(Record::ProblemClosed { kind: key.0, container_id: key.1, ended_at: now });
        }
    }

    /// What is still open in averaged buckets, written when the recorder stops.
    pub fn flush(&mut self, out: &mut Vec<Record>) {
        for ((tier, id), bucket) in self.buckets.drain() {
            if let Some(row) = bucket.row(tier, &id) {
                out.push(Record::Stats(row));
            }
        }
    }
}

fn engine_event(at: DateTime<Utc>, action: &str, detail: Option<String>) -> EventRow {
    EventRow {
        at,
        scope: "engine",
        subject_id: String::new(),
        name: String::new(),
        project: None,
        service: None,
        action: action.into(),
        detail,
    }
}

fn named_event(
    at: DateTime<Utc>,
    scope: &'static str,
    id: &str,
    name: &str,
    action: &str,
) -> EventRow {
    EventRow {
        at,
        scope,
        subject_id: id.into(),
        name: name.into(),
        project: None,
        service: None,
        action: action.into(),
        detail: None,
    }
}

fn container_row(c: &Container, now: DateTime<Utc>) -> ContainerRow {
    ContainerRow {
        id: c.id.clone(),
        name: c.name.clone(),
        project: c.project().map(str::to_string),
        service: c.service().map(str::to_string),
        image: c.image.clone(),
        seen: now,
    }
}

#[cfg(test)]
mod tests;
