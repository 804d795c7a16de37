//! Keyframes: what the record keeps to rebuild the state of an engine at any moment
//! (the time cursor, `snapshot --at`).
//!
//! A container is kept in two parts, each written only when it changed: its
//! *configuration* (image, labels, ports, networks, mounts, healthcheck... what
//! changes only when it is re-created) and its *state* (running or not, exit code,
//! restarts, health status: what changes at every incident). The volatile rest is
//! left out: the health probe log (probes have a table of their own, and the failing
//! streak is counted from them), the environment (it may hold secrets, and no pane of
//! the past needs it), the proxy's files, the pid. A removal is a state frame
//! without a body. Networks and volumes are one part each.
//!
//! Bodies are compact JSON with short keys and nothing that is empty, so a state
//! change costs about a hundred bytes. [`Framer`] (pure, held by the recorder)
//! remembers a hash of what was last written for each subject and writes nothing
//! when nothing changed.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    ComposeInfo, Container, ContainerState, Dependency, DependencyCondition, Health, HealthStatus,
    Healthcheck, Limits, Mount, Network, NetworkAttachment, Port, RestartPolicy, Volume,
};

/// What a frame is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FrameKind {
    Container,
    Network,
    Volume,
}

impl FrameKind {
    pub fn number(self) -> i64 {
        match self {
            FrameKind::Container => 0,
            FrameKind::Network => 1,
            FrameKind::Volume => 2,
        }
    }

    pub fn from_number(n: i64) -> Option<FrameKind> {
        match n {
            0 => Some(FrameKind::Container),
            1 => Some(FrameKind::Network),
            2 => Some(FrameKind::Volume),
            _ => None,
        }
    }
}

/// Which part of a subject a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// A container's configuration; a network or a volume whole.
    Config,
    /// A container's state; `None` as body: removed.
    State,
}

impl Part {
    pub fn number(self) -> i64 {
        match self {
            Part::Config => 0,
            Part::State => 1,
        }
    }
}

/// One keyframe, as the writer stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRow {
    pub at: DateTime<Utc>,
    pub kind: FrameKind,
    /// A container's id, a network's or a volume's name.
    pub key: String,
    pub part: Part,
    /// `None`: the subject was removed.
    pub body: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn ms(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(|t| t.timestamp_millis())
}

fn from_ms(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::from_timestamp_millis)
}

/// A container's state, as a state frame keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct StateJson {
    s: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    o: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    r: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    st: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fi: Option<i64>,
    /// Health status, when the container has a healthcheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    h: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DependencyJson {
    s: String,
    c: String,
    #[serde(default, skip_serializing_if = "is_false")]
    o: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ComposeJson {
    p: String,
    s: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    d: Vec<DependencyJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    f: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    w: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    ff: bool,
}

/// `[host ip, host port, container port, protocol]`.
type PortJson = (Option<String>, Option<u16>, u16, String);
/// `[name, ip, aliases]`.
type AttachmentJson = (String, Option<String>, Vec<String>);
/// `[kind, name, source, destination, read only]`.
type MountJson = (String, Option<String>, Option<String>, String, bool);
/// `[test, interval, timeout, retries, start period]`.
type HealthcheckJson = (Vec<String>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
/// `[cpus, memory, memory reservation, pids]`.
type LimitsJson = (Option<f64>, Option<u64>, Option<u64>, Option<i64>);

/// A container's configuration, as a config frame keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ConfigJson {
    n: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    i: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    c: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ep: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cm: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cr: Option<i64>,
    /// Healthcheck: test, interval, timeout, retries, start period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hc: Option<HealthcheckJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    ro: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pr: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ca: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rp: Option<(String, Option<i64>)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nm: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    l: BTreeMap<String, String>,
    /// Compose metadata, only when it is not what the labels say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    co: Option<ComposeJson>,
    /// No compose metadata although the labels would give some.
    #[serde(default, skip_serializing_if = "is_false")]
    nc: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pod: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    p: Vec<PortJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    nw: Vec<AttachmentJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    m: Vec<MountJson>,
    /// Limits: cpus, memory, memory reservation, pids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lim: Option<LimitsJson>,
}

fn compose_json(c: &ComposeInfo) -> ComposeJson {
    ComposeJson {
        p: c.project.clone(),
        s: c.service.clone(),
        n: c.container_number,
        d: c.depends_on
            .iter()
            .map(|d| DependencyJson {
                s: d.service.clone(),
                c: d.condition.as_str().to_string(),
                o: !d.required,
            })
            .collect(),
        f: c.config_files.clone(),
        w: c.working_dir.clone(),
        ff: c.depends_on_from_files,
    }
}

fn compose_of(c: ComposeJson) -> ComposeInfo {
    ComposeInfo {
        project: c.p,
        service: c.s,
        container_number: c.n,
        depends_on: c
            .d
            .into_iter()
            .filter_map(|d| {
                Some(Dependency {
                    service: d.s,
                    condition: DependencyCondition::parse(&d.c)?,
                    required: !d.o,
                })
            })
            .collect(),
        config_files: c.f,
        working_dir: c.w,
        depends_on_from_files: c.ff,
    }
}

/// The body of a container's config frame.
pub fn container_config(c: &Container) -> String {
    let from_labels = Container::compose_from_labels(&c.labels);
    let (co, nc) = match (&c.compose, &from_labels) {
        (Some(mine), theirs) if Some(mine) != theirs.as_ref() => (Some(compose_json(mine)), false),
        (None, Some(_)) => (None, true),
        _ => (None, false),
    };
    let limits = (c.limits != Limits::default()).then_some((
        c.limits.cpus,
        c.limits.memory_bytes,
        c.limits.memory_reservation_bytes,
        c.limits.pids,
    ));
    let json = ConfigJson {
        n: c.name.clone(),
        i: c.image.clone(),
        c: c.command.clone(),
        ep: c.entrypoint.clone(),
        cm: c.cmd.clone(),
        cr: ms(c.created),
        hc: c
            .healthcheck
            .as_ref()
            .map(|h| (h.test.clone(), h.interval_ns, h.timeout_ns, h.retries, h.start_period_ns)),
        u: c.user.clone(),
        ro: c.read_only,
        pr: c.privileged,
        ca: c.cap_add.clone(),
        rp: c.restart_policy.as_ref().map(|r| (r.name.clone(), r.maximum_retry_count)),
        nm: c.network_mode.clone(),
        l: c.labels.clone(),
        co,
        nc,
        pod: c.pod.clone(),
        p: c.ports
            .iter()
            .map(|p| (p.host_ip.clone(), p.host_port, p.container_port, p.protocol.clone()))
            .collect(),
        nw: c.networks.iter().map(|n| (n.name.clone(), n.ip.clone(), n.aliases.clone())).collect(),
        m: c.mounts
            .iter()
            .map(|m| {
                (
                    m.kind.clone(),
                    m.name.clone(),
                    m.source.clone(),
                    m.destination.clone(),
                    m.read_only,
                )
            })
            .collect(),
        lim: limits,
    };
    serde_json::to_string(&json).unwrap_or_default()
}

/// The body of a container's state frame.
pub fn container_state(c: &Container) -> String {
    let json = StateJson {
        s: c.state.as_str().to_string(),
        x: c.exit_code,
        e: c.error.clone().filter(|e| !e.is_empty()),
        o: c.oom_killed,
        r: c.restart_count,
        st: ms(c.started_at),
        fi: ms(c.finished_at),
        h: c.health.as_ref().map(|h| h.status.as_str().to_string()),
    };
    serde_json::to_string(&json).unwrap_or_default()
}

/// A container made again from its two parts; `None` when a body is not one.
pub fn container_from(id: &str, config: &str, state: &str) -> Option<Container> {
    let config: ConfigJson = serde_json::from_str(config).ok()?;
    let state: StateJson = serde_json::from_str(state).ok()?;
    let mut c = Container::new(id, config.n);
    c.image = config.i;
    c.command = config.c;
    c.entrypoint = config.ep;
    c.cmd = config.cm;
    c.created = from_ms(config.cr);
    c.healthcheck = config.hc.map(|(test, interval_ns, timeout_ns, retries, start_period_ns)| {
        Healthcheck { test, interval_ns, timeout_ns, retries, start_period_ns }
    });
    c.user = config.u;
    c.read_only = config.ro;
    c.privileged = config.pr;
    c.cap_add = config.ca;
    c.restart_policy =
        config.rp.map(|(name, maximum_retry_count)| RestartPolicy { name, maximum_retry_count });
    c.network_mode = config.nm;
    c.compose = match (config.co, config.nc) {
        (Some(co), _) => Some(compose_of(co)),
        (None, true) => None,
        (None, false) => Container::compose_from_labels(&config.l),
    };
    c.labels = config.l;
    c.pod = config.pod;
    c.ports = config
        .p
        .into_iter()
        .map(|(host_ip, host_port, container_port, protocol)| Port {
            host_ip,
            host_port,
            container_port,
            protocol,
        })
        .collect();
    c.networks = config
        .nw
        .into_iter()
        .map(|(name, ip, aliases)| NetworkAttachment { name, ip, aliases })
        .collect();
    c.mounts = config
        .m
        .into_iter()
        .map(|(kind, name, source, destination, read_only)| Mount {
            kind,
            name,
            source,
            destination,
            read_only,
        })
        .collect();
    if let Some((cpus, memory_bytes, memory_reservation_bytes, pids)) = config.lim {
        c.limits = Limits { cpus, memory_bytes, memory_reservation_bytes, pids };
    }
    c.state = ContainerState::parse(&state.s);
    c.exit_code = state.x;
    c.error = state.e;
    c.oom_killed = state.o;
    c.restart_count = state.r;
    c.started_at = from_ms(state.st);
    c.finished_at = from_ms(state.fi);
    c.health = state.h.map(|h| Health {
        status: HealthStatus::parse(&h),
        failing_streak: 0,
        log: Vec::new(),
    });
    Some(c)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct NetworkJson {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    i: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sn: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    gw: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    l: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "is_false")]
    a: bool,
}

pub fn network_body(n: &Network) -> String {
    let json = NetworkJson {
        id: n.id.clone(),
        d: n.driver.clone(),
        s: n.scope.clone(),
        i: n.internal,
        sn: n.subnets.clone(),
        gw: n.gateways.clone(),
        l: n.labels.clone(),
        a: n.attachable,
    };
    serde_json::to_string(&json).unwrap_or_default()
}

pub fn network_from(name: &str, body: &str) -> Option<Network> {
    let json: NetworkJson = serde_json::from_str(body).ok()?;
    Some(Network {
        id: json.id,
        name: name.to_string(),
        driver: json.d,
        scope: json.s,
        internal: json.i,
        subnets: json.sn,
        gateways: json.gw,
        labels: json.l,
        attachable: json.a,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct VolumeJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    l: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<DateTime<Utc>>,
}

/// A volume's size is a measurement, not its state: it is not kept.
pub fn volume_body(v: &Volume) -> String {
    let json = VolumeJson {
        d: v.driver.clone(),
        l: v.labels.clone(),
        m: v.mountpoint.clone(),
        c: v.created,
    };
    serde_json::to_string(&json).unwrap_or_default()
}

pub fn volume_from(name: &str, body: &str) -> Option<Volume> {
    let json: VolumeJson = serde_json::from_str(body).ok()?;
    Some(Volume {
        name: name.to_string(),
        driver: json.d,
        labels: json.l,
        mountpoint: json.m,
        created: json.c,
        size: None,
    })
}

fn hash(body: Option<&str>) -> u64 {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}

/// What was last written of each subject, so that only changes are written.
#[derive(Debug, Default)]
pub struct Framer {
    written: HashMap<(FrameKind, String, Part), u64>,
}

impl Framer {
    /// Knows what the record already holds as each subject's newest frame (read at
    /// start), so a new session writes only what changed while nobody recorded.
    pub fn with_known(known: impl IntoIterator<Item = FrameRow>) -> Framer {
        let written = known
            .into_iter()
            .map(|row| ((row.kind, row.key, row.part), hash(row.body.as_deref())))
            .collect();
        Framer { written }
    }

    /// Pushes a frame of `body` unless it is what was last written.
    fn frame(
        &mut self,
        at: DateTime<Utc>,
        kind: FrameKind,
        key: &str,
        part: Part,
        body: Option<String>,
        out: &mut Vec<FrameRow>,
    ) {
        let digest = hash(body.as_deref());
        let slot = (kind, key.to_string(), part);
        if self.written.get(&slot) == Some(&digest) {
            return;
        }
        // A removal of something never written is no news.
        if body.is_none() && !self.written.contains_key(&slot) {
            return;
        }
        self.written.insert(slot, digest);
        out.push(FrameRow { at, kind, key: key.to_string(), part, body });
    }

    pub fn container(&mut self, c: &Container, at: DateTime<Utc>, out: &mut Vec<FrameRow>) {
        // A row made from the container list is not the whole container: its
        // configuration waits for the inspect, its state is current.
        if c.inspect_pending_since.is_none() {
            let config = Some(container_config(c));
            self.frame(at, FrameKind::Container, &c.id, Part::Config, config, out);
        } else if !self.written.contains_key(&(FrameKind::Container, c.id.clone(), Part::Config)) {
            return;
        }
        self.frame(at, FrameKind::Container, &c.id, Part::State, Some(container_state(c)), out);
    }

    pub fn container_removed(&mut self, id: &str, at: DateTime<Utc>, out: &mut Vec<FrameRow>) {
        self.frame(at, FrameKind::Container, id, Part::State, None, out);
        self.written.remove(&(FrameKind::Container, id.to_string(), Part::Config));
        self.written.remove(&(FrameKind::Container, id.to_string(), Part::State));
    }

    pub fn network(&mut self, n: &Network, at: DateTime<Utc>, out: &mut Vec<FrameRow>) {
        self.frame(at, FrameKind::Network, &n.name, Part::Config, Some(network_body(n)), out);
    }

    pub fn volume(&mut self, v: &Volume, at: DateTime<Utc>, out: &mut Vec<FrameRow>) {
        self.frame(at, FrameKind::Volume, &v.name, Part::Config, Some(volume_body(v)), out);
    }

    pub fn removed(
        &mut self,
        kind: FrameKind,
        key: &str,
        at: DateTime<Utc>,
        out: &mut Vec<FrameRow>,
    ) {
        if kind == FrameKind::Container {
            return self.container_removed(key, at, out);
        }
        self.frame(at, kind, key, Part::Config, None, out);
        self.written.remove(&(kind, key.to_string(), Part::Config));
    }

    /// Subjects of `kind` written as present and not among `present`: gone while the
    /// engine was not listed (an inventory replaces everything of its kind).
    pub fn absent(
        &mut self,
        kind: FrameKind,
        present: &std::collections::HashSet<&str>,
        at: DateTime<Utc>,
        out: &mut Vec<FrameRow>,
    ) {
        let part = if kind == FrameKind::Container { Part::State } else { Part::Config };
        let none = hash(None);
        let gone: Vec<String> = self
            .written
            .iter()
            .filter(|((k, key, p), digest)| {
                *k == kind && *p == part && **digest != none && !present.contains(key.as_str())
            })
            .map(|((_, key, _), _)| key.clone())
            .collect();
        for key in gone {
            self.removed(kind, &key, at, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).single().unwrap_or_default()
    }

    fn web() -> Container {
        let mut c = Container::new("a".repeat(64), "shop-web-1");
        c.image = "nginx:1.27".into();
        c.state = ContainerState::Running;
        c.started_at = Some(at(-100));
        c.labels.insert("com.docker.compose.project".into(), "shop".into());
        c.labels.insert("com.docker.compose.service".into(), "web".into());
        c.compose = Container::compose_from_labels(&c.labels);
        c.ports.push(Port {
            host_ip: Some("0.0.0.0".into()),
            host_port: Some(8080),
            container_port: 80,
            protocol: "tcp".into(),
        });
        c.networks.push(NetworkAttachment {
            name: "shop_default".into(),
            ip: Some("172.18.0.2".into()),
            aliases: vec!["web".into()],
        });
        c.health = Some(Health {
            status: HealthStatus::Healthy,
            failing_streak: 0,
            log: vec![crate::model::HealthProbe {
                start: Some(at(-5)),
                end: Some(at(-4)),
                exit_code: Some(0),
                output: "ok".into(),
            }],
        });
        c.env.push(("PASSWORD".into(), "hunter2".into()));
        c
    }

    #[test]
    fn a_container_comes_back_from_its_frames_without_its_volatile_parts() {
        let c = web();
        let config = container_config(&c);
        let state = container_state(&c);
        assert!(!config.contains("hunter2"), "the environment is not kept: {config}");
        let back = container_from(&c.id, &config, &state).unwrap_or_else(|| panic!("decodes"));
        assert_eq!(back.name, c.name);
        assert_eq!(back.compose, c.compose);
        assert_eq!(back.ports, c.ports);
        assert_eq!(back.networks, c.networks);
        assert_eq!(back.state, c.state);
        assert_eq!(back.started_at, c.started_at);
        assert_eq!(back.health_status(), HealthStatus::Healthy);
        assert!(back.env.is_empty());
        assert!(state.len() < 80, "a state frame is small: {} bytes {state}", state.len());
    }

    #[test]
    fn only_changes_are_framed_and_probes_are_not_changes() {
        let mut framer = Framer::default();
        let mut out = Vec::new();
        let mut c = web();
        framer.container(&c, at(0), &mut out);
        assert_eq!(out.len(), 2, "config and state the first time");
        out.clear();
        // A new probe result, same status: nothing.
        if let Some(h) = c.health.as_mut() {
            h.log.push(crate::model::HealthProbe {
                start: Some(at(1)),
                end: Some(at(2)),
                exit_code: Some(0),
                output: "ok again".into(),
            });
        }
        framer.container(&c, at(2), &mut out);
        assert!(out.is_empty(), "{out:?}");
        // It stops: only the state.
        c.state = ContainerState::Exited;
        c.exit_code = Some(1);
        c.finished_at = Some(at(3));
        framer.container(&c, at(3), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].part, Part::State);
        out.clear();
        // Removed once, and only once.
        framer.container_removed(&c.id, at(4), &mut out);
        framer.container_removed(&c.id, at(5), &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].body.is_none());
    }

    #[test]
    fn what_the_record_holds_is_not_written_again_and_what_went_is_removed() {
        let c = web();
        let known = vec![
            FrameRow {
                at: at(0),
                kind: FrameKind::Container,
                key: c.id.clone(),
                part: Part::Config,
                body: Some(container_config(&c)),
            },
            FrameRow {
                at: at(0),
                kind: FrameKind::Container,
                key: c.id.clone(),
                part: Part::State,
                body: Some(container_state(&c)),
            },
            FrameRow {
                at: at(0),
                kind: FrameKind::Network,
                key: "old".into(),
                part: Part::Config,
                body: Some("{}".into()),
            },
        ];
        let mut framer = Framer::with_known(known);
        let mut out = Vec::new();
        framer.container(&c, at(10), &mut out);
        assert!(out.is_empty(), "unchanged since the last session: {out:?}");
        framer.absent(FrameKind::Network, &["bridge"].into_iter().collect(), at(10), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].key.as_str(), out[0].body.is_none()), ("old", true));
    }
}
