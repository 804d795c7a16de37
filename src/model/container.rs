//! One container as portolan understands it: every field the engine may omit is an
//! `Option` or an empty collection, never a made-up default.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::compose::{self, ComposeInfo, Dependency};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    Unknown,
}

impl ContainerState {
    pub fn parse(value: &str) -> Self {
        match value {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            _ => ContainerState::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Unknown => "unknown",
        }
    }

    /// Whether the container has live processes whose resource use can be sampled.
    pub fn is_running(self) -> bool {
        matches!(self, ContainerState::Running | ContainerState::Paused)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HealthStatus {
    None,
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn parse(value: &str) -> Self {
        match value {
            "starting" => HealthStatus::Starting,
            "healthy" => HealthStatus::Healthy,
            "unhealthy" => HealthStatus::Unhealthy,
            _ => HealthStatus::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::None => "none",
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// Intervals without a probe result after which the health checks count as not run.
pub const PROBES_MISSED: i64 = 3;

/// What the operator is told when the health checks are not run.
pub const HEALTH_NOT_RUN: &str =
    "health checks defined but not being run by the engine (Podman runs them from systemd timers)";

/// One run of the healthcheck probe, as the engine keeps the last few.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthProbe {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub exit_code: Option<i64>,
    pub output: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: u64,
    pub log: Vec<HealthProbe>,
}

/// The healthcheck configuration; durations in nanoseconds, as the engine gives them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval_ns: Option<i64>,
    pub timeout_ns: Option<i64>,
    pub retries: Option<i64>,
    pub start_period_ns: Option<i64>,
}

impl Healthcheck {
    /// `["NONE"]` disables a healthcheck inherited from the image.
    pub fn is_disabled(&self) -> bool {
        self.test.first().map(String::as_str) == Some("NONE")
    }

    /// The probe command as a person would type it.
    pub fn command(&self) -> String {
        match self.test.first().map(String::as_str) {
            Some("CMD-SHELL") => self.test[1..].join(" "),
            Some("CMD") => self.test[1..].join(" "),
            _ => self.test.join(" "),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port {
    /// None for a port that is only exposed, not published.
    pub host_ip: Option<String>,
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub protocol: String,
}

impl Port {
    pub fn is_published(&self) -> bool {
        self.host_port.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAttachment {
    pub name: String,
    pub ip: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `volume`, `bind`, `tmpfs`, `npipe`...
    pub kind: String,
    pub name: Option<String>,
    pub source: Option<String>,
    pub destination: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Limits {
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub memory_reservation_bytes: Option<u64>,
    pub pids: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// The engine it lives on (set by the model when it arrives).
    pub host: super::HostId,
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: String,
    /// The image entrypoint and command as configured (`Config.Entrypoint`, `Config.Cmd`):
    /// a proxy's flags live here, apart from whatever wrapper runs them.
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub created: Option<DateTime<Utc>>,
    pub state: ContainerState,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub oom_killed: bool,
    pub restart_count: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The main process as seen from the engine's host (0 or None when not running).
    pub pid: Option<u32>,
    pub health: Option<Health>,
    pub healthcheck: Option<Healthcheck>,
    pub user: Option<String>,
    pub read_only: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub restart_policy: Option<RestartPolicy>,
    pub network_mode: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Raw `KEY=value` pairs; shown masked unless the operator asks.
    pub env: Vec<(String, String)>,
    pub compose: Option<ComposeInfo>,
    /// The Podman pod it belongs to. A pod is grouped like a compose project (see
    /// [`Container::join_pod`]) because that is how its operator thinks of it.
    pub pod: Option<String>,
    pub ports: Vec<Port>,
    pub networks: Vec<NetworkAttachment>,
    pub mounts: Vec<Mount>,
    pub limits: Limits,
    /// A reverse proxy's configuration files, read through the engine; shared because
    /// every re-inspect carries them over unchanged.
    pub proxy_config: Option<std::sync::Arc<ProxyConfig>>,
    /// Since when the engine has not answered an inspect of this container (it is
    /// retried). Set, the rest is what the container list said, or the last inspect:
    /// health, limits, user and the like may be missing or old.
    pub inspect_pending_since: Option<DateTime<Utc>>,
    /// The id (`sha256:…`) of the image it was created from; `None` until known.
    pub image_id: Option<String>,
}

/// Configuration files of a reverse proxy, as read from inside its container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyConfig {
    /// Absolute path in the container to text.
    pub files: BTreeMap<String, String>,
    /// What could not be read, in words (`/etc/nginx: no such directory`).
    pub problems: Vec<String>,
}

impl Container {
    /// A minimal container, for tests and for building up field by field.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Container {
            host: 0,
            id: id.into(),
            name: name.into(),
            image: String::new(),
            command: String::new(),
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            created: None,
            state: ContainerState::Created,
            exit_code: None,
            error: None,
            oom_killed: false,
            restart_count: 0,
            started_at: None,
            finished_at: None,
            pid: None,
            health: None,
            healthcheck: None,
            user: None,
            read_only: false,
            privileged: false,
            cap_add: Vec::new(),
            restart_policy: None,
            network_mode: None,
            labels: BTreeMap::new(),
            env: Vec::new(),
            compose: None,
            pod: None,
            ports: Vec::new(),
            networks: Vec::new(),
            mounts: Vec::new(),
            limits: Limits::default(),
            proxy_config: None,
            inspect_pending_since: None,
            image_id: None,
        }
    }

    /// Records the Podman pod the container is in. Without compose labels (which
    /// podman-compose sets, and which then say more), the pod becomes its project and
    /// the container's name its service, so the pod's containers group, filter and
    /// act together like a compose project's.
    pub fn join_pod(&mut self, pod: &str) {
        self.pod = Some(pod.to_string());
        if self.compose.is_none() {
            self.compose = Some(ComposeInfo {
                project: pod.to_string(),
                service: self.name.clone(),
                ..ComposeInfo::default()
            });
        }
    }

    pub fn project(&self) -> Option<&str> {
        self.compose.as_ref().map(|c| c.project.as_str())
    }

    /// Whether the container stays in a view narrowed to `filter` (see [`project_filter_keeps`]).
    pub fn in_project(&self, filter: Option<&str>) -> bool {
        project_filter_keeps(filter, self.project())
    }

    pub fn service(&self) -> Option<&str> {
        self.compose.as_ref().map(|c| c.service.as_str()).filter(|s| !s.is_empty())
    }

    /// The service name when there is one, else the container name: what a diagram
    /// would write on the box.
    pub fn display_name(&self) -> &str {
        self.service().unwrap_or(&self.name)
    }

    /// Whether the health checks are defined but no probe has run: running for
    /// [`PROBES_MISSED`] intervals past its start period with no probe result since it
    /// started. `probes` are the results known (the engine's log and those portolan
    /// saw). Podman runs probes from systemd timers, so without systemd it never does,
    /// and the status would say "starting" forever.
    pub fn health_checks_not_run<'p>(
        &self,
        probes: impl IntoIterator<Item = &'p HealthProbe>,
        now: DateTime<Utc>,
    ) -> bool {
        let (Some(check), Some(started)) = (&self.healthcheck, self.started_at) else {
            return false;
        };
        if self.state != ContainerState::Running || check.is_disabled() {
            return false;
        }
        // Engines read 0 as "the default", which is 30 s.
        let positive = |ns: Option<i64>| ns.filter(|n| *n > 0);
        let interval = positive(check.interval_ns).unwrap_or(30_000_000_000);
        let grace = positive(check.start_period_ns).unwrap_or(0);
        let due = started
            + chrono::Duration::nanoseconds(grace)
            + chrono::Duration::nanoseconds(interval.saturating_mul(PROBES_MISSED));
        let ran_since_start =
            probes.into_iter().any(|p| p.end.or(p.start).is_some_and(|t| t >= started));
        now > due && !ran_since_start
    }

    pub fn health_status(&self) -> HealthStatus {
        self.health.as_ref().map_or(HealthStatus::None, |h| h.status)
    }

    pub fn depends_on(&self) -> &[Dependency] {
        self.compose.as_ref().map_or(&[], |c| c.depends_on.as_slice())
    }

    /// Whether the main process runs as root: an empty user means the image default,
    /// which for nearly every image is root, so it is reported as such.
    pub fn runs_as_root(&self) -> bool {
        match self.user.as_deref() {
            None => true,
            Some(user) => {
                let name = user.split(':').next().unwrap_or(user);
                name.is_empty() || name == "root" || name == "0"
            }
        }
    }

    /// A status line in the manner of `docker ps`, relative to `now`.
    pub fn status_text(&self, now: DateTime<Utc>) -> String {
        use super::format::humanize_duration;
        let since = |t: Option<DateTime<Utc>>| {
            t.map(|t| humanize_duration((now - t).to_std().unwrap_or_default()))
        };
        if let Some(pending) = self.inspect_pending_since {
            let late = super::format::short_duration((now - pending).to_std().unwrap_or_default());
            return format!("{} · inspect pending {late}", self.state.as_str());
        }
        let health = match self.health_status() {
            HealthStatus::None => String::new(),
            HealthStatus::Starting => " (health: starting)".to_string(),
            other => format!(" ({})", other.as_str()),
        };
        match self.state {
            ContainerState::Running => match since(self.started_at) {
                Some(d) => format!("Up {d}{health}"),
                None => format!("Up{health}"),
            },
            ContainerState::Paused => match since(self.started_at) {
                Some(d) => format!("Up {d} (Paused)"),
                None => "Paused".to_string(),
            },
            ContainerState::Restarting => {
                let code = self.exit_code.unwrap_or(0);
                match since(self.finished_at) {
                    Some(d) => format!("Restarting ({code}) {d} ago"),
                    None => format!("Restarting ({code})"),
                }
            }
            ContainerState::Exited => {
                let code = self.exit_code.unwrap_or(0);
                match since(self.finished_at) {
                    Some(d) => format!("Exited ({code}) {d} ago"),
                    None => format!("Exited ({code})"),
                }
            }
            ContainerState::Created => "Created".to_string(),
            ContainerState::Removing => "Removal In Progress".to_string(),
            ContainerState::Dead => "Dead".to_string(),
            ContainerState::Unknown => "Unknown".to_string(),
        }
    }

    /// Reads compose metadata from the labels Docker Compose sets.
    pub fn compose_from_labels(labels: &BTreeMap<String, String>) -> Option<ComposeInfo> {
        compose::from_labels(labels)
    }
}

/// Whether something of compose project (or swarm stack) `project` stays in a view
/// narrowed to `filter`. No filter keeps everything; a filter keeps its own project
/// only, so what belongs to no project leaves a narrowed view.
pub fn project_filter_keeps(filter: Option<&str>, project: Option<&str>) -> bool {
    filter.is_none_or(|wanted| project == Some(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_project(project: Option<&str>) -> Container {
        let mut c = Container::new("id", "name");
        c.compose = project.map(|p| ComposeInfo {
            project: p.into(),
            service: "web".into(),
            ..ComposeInfo::default()
        });
        c
    }

    #[test]
    fn the_project_filter_keeps_everything_or_exactly_its_project() {
        let (shop, blog, loose) =
            (of_project(Some("shop")), of_project(Some("blog")), of_project(None));
        assert!(shop.in_project(None) && blog.in_project(None) && loose.in_project(None));
        assert!(shop.in_project(Some("shop")));
        assert!(!blog.in_project(Some("shop")), "another project leaves the view");
        assert!(!loose.in_project(Some("shop")), "no project leaves a narrowed view");
        assert!(!shop.in_project(Some("sho")), "names match whole, not by prefix");
        assert!(project_filter_keeps(Some("stack"), Some("stack")));
        assert!(!project_filter_keeps(Some("stack"), None));
    }
}
