//! Problems first: what is wrong on the host, since when, and why, derived purely
//! from the model. The triage pane, `problems` in the snapshot and the timeline all
//! read this.

pub mod overview;

use chrono::{DateTime, Duration, Utc};

use crate::model::format::bytes;
use crate::model::sanitize::one_line;
use crate::model::since::{Since, crash_loop_start, failing_streak_start, prefer_recorded};
use crate::model::{
    Connection, Container, ContainerState, DependencyCondition, HealthStatus, HostId, Model,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// An engine stopped answering: what it runs is known only as it last was.
    HostUnreachable,
    OomKilled,
    Crashloop,
    Unhealthy,
    Exited,
    DependencyDown,
    /// A swarm service runs fewer tasks than it asks for.
    ServiceDegraded,
    /// A swarm task failed and its slot has not recovered.
    TaskFailed,
    /// Health checks are defined but the engine runs no probe (Podman without
    /// systemd): the status says "starting" forever, which hides it.
    HealthNotRun,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::HostUnreachable => "host_unreachable",
            ProblemKind::OomKilled => "oom_killed",
            ProblemKind::Crashloop => "crashloop",
            ProblemKind::Unhealthy => "unhealthy",
            ProblemKind::Exited => "exited",
            ProblemKind::DependencyDown => "dependency_down",
            ProblemKind::ServiceDegraded => "service_degraded",
            ProblemKind::TaskFailed => "task_failed",
            ProblemKind::HealthNotRun => "health_not_run",
        }
    }

    /// How the triage screen names it.
    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::HostUnreachable => "unreachable",
            ProblemKind::OomKilled => "OOM killed",
            ProblemKind::Crashloop => "crash loop",
            ProblemKind::Unhealthy => "unhealthy",
            ProblemKind::Exited => "exited",
            ProblemKind::DependencyDown => "dependency down",
            ProblemKind::ServiceDegraded => "below replicas",
            ProblemKind::TaskFailed => "task failed",
            ProblemKind::HealthNotRun => "checks not run",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The engine it is on; for a swarm problem the manager it was read from.
    pub host: HostId,
    /// For a swarm problem, the container of the failed task when there is one (so
    /// Enter opens it), else the task or service id; empty for an unreachable host.
    pub container_id: String,
    /// The container; for a swarm problem the service (`web`) or task (`web.2`); for
    /// an unreachable host, the host.
    pub container: String,
    pub project: Option<String>,
    pub kind: ProblemKind,
    /// When the bad state began, as [`crate::model::since`] defines it per kind.
    pub since: Option<Since>,
    /// The cause, in words, on one line: probe output, exit code and last log line...
    pub detail: String,
}

/// A container restarted at least this many times within [`CRASHLOOP_WINDOW`] is looping.
const CRASHLOOP_RESTARTS: usize = 2;
const CRASHLOOP_WINDOW_MINUTES: i64 = 10;

fn first_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let line = one_line(line).into_owned();
    if line.chars().count() > 200 {
        let cut: String = line.chars().take(199).collect();
        format!("{cut}…")
    } else {
        line
    }
}

fn last_line(model: &Model, c: &Container) -> Option<String> {
    model
        .history
        .get(&c.id)
        .and_then(|h| h.last_log_line.as_deref())
        .map(first_line)
        .filter(|l| !l.is_empty())
}

fn is_crashlooping(model: &Model, c: &Container, now: DateTime<Utc>) -> Option<Since> {
    let restarts: &[DateTime<Utc>] = model.history.get(&c.id).map_or(&[], |h| &h.restarts);
    let connected_at = model.host(c.host).connected_at;
    if c.state == ContainerState::Restarting {
        return crash_loop_start(c, restarts, connected_at, now)
            .or(Some(Since::exact(c.finished_at.or(c.started_at).unwrap_or(now))));
    }
    let window = now - Duration::minutes(CRASHLOOP_WINDOW_MINUTES);
    let recent = restarts.iter().filter(|t| **t >= window).count();
    // Seen for the first time mid-loop: the engine's restart count and a recent
    // start say the same without portolan having watched.
    let policy_restarts = c.restart_policy.as_ref().is_some_and(|p| p.name != "no");
    let recently_started = c.started_at.is_some_and(|t| t >= window);
    if recent >= CRASHLOOP_RESTARTS || (policy_restarts && c.restart_count >= 3 && recently_started)
    {
        return crash_loop_start(c, restarts, connected_at, now);
    }
    None
}

fn unhealthy_detail(model: &Model, c: &Container) -> (String, Option<Since>) {
    let Some(health) = &c.health else { return (String::new(), None) };
    let failing: Vec<_> = health.log.iter().filter(|p| p.exit_code != Some(0)).collect();
    let last = failing.last();
    let mut detail = match last {
        Some(probe) => {
            let code = probe.exit_code.map_or("?".to_string(), |c| c.to_string());
            let output = first_line(&probe.output);
            if output.is_empty() {
                format!("probe exit {code} (no output)")
            } else {
                format!("probe exit {code}: {output}")
            }
        }
        None => "healthcheck failing".to_string(),
    };
    if health.failing_streak > 0 {
        detail.push_str(&format!(" · {} failures in a row", health.failing_streak));
    }
    (detail, unhealthy_since(model, c))
}

/// The start of the failing streak that made `c` unhealthy.
pub fn unhealthy_since(model: &Model, c: &Container) -> Option<Since> {
    failing_streak_start(c, &model.history.probes_of(c))
}

fn exit_words(model: &Model, c: &Container) -> String {
    let code = c.exit_code.unwrap_or(0);
    match last_line(model, c) {
        Some(line) => format!("exit {code} · last log: {line}"),
        None => format!("exit {code}"),
    }
}

fn oom_words(model: &Model, c: &Container) -> String {
    let limit = c.limits.memory_bytes.map(|l| format!(" (limit {})", bytes(l))).unwrap_or_default();
    let mut detail = format!("OOM killed{limit}");
    if let Some(line) = last_line(model, c) {
        detail.push_str(&format!(" · last log: {line}"));
    }
    detail
}

/// Whether a dependency's condition currently holds.
pub fn dependency_satisfied(dependency: &Container, condition: DependencyCondition) -> bool {
    match condition {
        DependencyCondition::Started => dependency.state == ContainerState::Running,
        DependencyCondition::Healthy => {
            dependency.state == ContainerState::Running
                && matches!(dependency.health_status(), HealthStatus::Healthy | HealthStatus::None)
        }
        DependencyCondition::CompletedSuccessfully => {
            dependency.state == ContainerState::Exited && dependency.exit_code == Some(0)
        }
    }
}

/// The containers of a compose service on one engine: a dependency is met only there,
/// since `depends_on` never reaches the same project deployed on another engine.
pub fn service_containers_on<'a>(
    model: &'a Model,
    host: HostId,
    project: &str,
    service: &str,
) -> Vec<&'a Container> {
    model
        .containers
        .values()
        .filter(|c| c.host == host && c.project() == Some(project) && c.service() == Some(service))
        .collect()
}

/// Engines that stopped answering, as problems: since the outage began, with the
/// reason and what was last known to run there.
fn host_problems(model: &Model, project: Option<&str>, out: &mut Vec<Problem>) {
    for (id, host) in model.hosts.iter().enumerate() {
        let Connection::Disconnected { since, reason } = &host.connection else { continue };
        let on_host = |c: &&Container| c.host == id;
        if project.is_some_and(|p| {
            !model.containers.values().filter(on_host).any(|c| c.project() == Some(p))
        }) {
            continue;
        }
        let counts = model.counts_where(|c| c.host == id);
        let mut detail = first_line(reason);
        if detail.is_empty() {
            detail = "no reason given".to_string();
        }
        if host.connected_at.is_some() {
            detail.push_str(&format!(
                " · last known: {} containers, {} running",
                counts.total, counts.running
            ));
        } else {
            // Nothing was ever known of it: zero containers would be a guess.
            detail.push_str(" · has not answered since portolan started");
        }
        out.push(Problem {
            host: id,
            container_id: String::new(),
            container: host.name.clone(),
            project: None,
            kind: ProblemKind::HostUnreachable,
            since: Some(Since::exact(*since)),
            detail,
        });
    }
}

/// When a dependency stopped meeting its condition: the start of its failing streak,
/// its exit, or its start while it is still starting.
fn fall_of(model: &Model, p: &Container) -> Option<Since> {
    match (p.state, p.health_status()) {
        (ContainerState::Running, HealthStatus::Unhealthy) => unhealthy_since(model, p),
        (ContainerState::Running | ContainerState::Restarting, _) => p.started_at.map(Since::exact),
        _ => p.finished_at.map(Since::exact),
    }
}

/// Every problem on the engines (or in one project), most severe and oldest first.
pub fn problems(model: &Model, now: DateTime<Utc>, project: Option<&str>) -> Vec<Problem> {
    let mut out = Vec::new();
    host_problems(model, project, &mut out);
    for c in model.containers.values() {
        if project.is_some_and(|p| c.project() != Some(p)) {
            continue;
        }
        let mut push = |kind: ProblemKind, since, detail: String| {
            let since = if model.recorded_starts.is_empty() {
                since
            } else {
                let key = (c.host, kind.as_str().to_string(), c.id.clone());
                prefer_recorded(
                    since,
                    model.recorded_starts.get(&key),
                    model.host(c.host).connected_at,
                )
            };
            out.push(Problem {
                host: c.host,
                container_id: c.id.clone(),
                container: c.name.clone(),
                project: c.project().map(String::from),
                kind,
                since,
                detail,
            })
        };
        // A manager keeps the exited containers of a service's past tasks; its
        // task_failed problem already says what they would, once per slot.
        let covered_by_swarm =
            model.swarm.is_some() && c.labels.contains_key(crate::model::swarm::TASK_LABEL);
        let crashloop = is_crashlooping(model, c, now);
        if let Some(since) = crashloop {
            let mut detail = format!("restarted {} times", c.restart_count);
            if let Some(code) = c.exit_code.filter(|code| *code != 0) {
                detail.push_str(&format!(" · last exit {code}"));
            }
            if c.oom_killed {
                detail.push_str(" · OOM killed");
            }
            if let Some(line) = last_line(model, c) {
                detail.push_str(&format!(" · last log: {line}"));
            }
            push(ProblemKind::Crashloop, Some(since), detail);
        }
        let stopped = matches!(c.state, ContainerState::Exited | ContainerState::Dead);
        if c.oom_killed && (stopped || crashloop.is_none()) && c.state != ContainerState::Running {
            push(ProblemKind::OomKilled, c.finished_at.map(Since::exact), oom_words(model, c));
        } else if stopped
            && c.exit_code.is_some_and(|code| code != 0)
            && crashloop.is_none()
            && !covered_by_swarm
        {
            push(ProblemKind::Exited, c.finished_at.map(Since::exact), exit_words(model, c));
        }
        if c.state == ContainerState::Running && c.health_status() == HealthStatus::Unhealthy {
            let (detail, since) = unhealthy_detail(model, c);
            push(ProblemKind::Unhealthy, since, detail);
        }
        if model.health_checks_not_run(c, now) {
            let since = c.started_at.map(Since::exact);
            push(ProblemKind::HealthNotRun, since, crate::model::container::HEALTH_NOT_RUN.into());
        }
        if c.state == ContainerState::Running
            && let (Some(project), deps) = (c.project(), c.depends_on())
        {
            for dep in deps {
                let providers = service_containers_on(model, c.host, project, &dep.service);
                if providers.iter().any(|p| dependency_satisfied(p, dep.condition)) {
                    continue;
                }
                if dep.condition == DependencyCondition::CompletedSuccessfully
                    && providers.iter().all(|p| p.state == ContainerState::Running)
                    && !providers.is_empty()
                {
                    // Still running to completion: not down.
                    continue;
                }
                let (state, since) = match providers.first() {
                    None => ("missing".to_string(), None),
                    Some(p) => {
                        let words = match (p.state, p.health_status()) {
                            (ContainerState::Running, HealthStatus::Unhealthy) => {
                                "unhealthy".into()
                            }
                            (ContainerState::Running, HealthStatus::Starting) => {
                                "still starting".into()
                            }
                            (ContainerState::Exited, _) if p.oom_killed => "OOM killed".into(),
                            (ContainerState::Exited, _) => {
                                format!("exited {}", p.exit_code.unwrap_or(0))
                            }
                            (state, _) => state.as_str().to_string(),
                        };
                        (words, fall_of(model, p))
                    }
                };
                let condition = dep.condition.as_str().trim_start_matches("service_");
                push(
                    ProblemKind::DependencyDown,
                    since,
                    format!("needs {} ({condition}), which is {state}", dep.service),
                );
            }
        }
    }
    swarm_problems(model, project, &mut out);
    out.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            // Oldest first; a problem whose start is unknown after those dated.
            .then(a.since.is_none().cmp(&b.since.is_none()))
            .then(a.since.cmp(&b.since))
            .then_with(|| crate::model::natural::natural_cmp(&a.container, &b.container))
            .then(a.host.cmp(&b.host))
    });
    out
}

/// Services below their desired replicas, with the newest task error, and failed
/// tasks whose slot has not recovered, with error and exit code.
fn swarm_problems(model: &Model, project: Option<&str>, out: &mut Vec<Problem>) {
    let Some(swarm) = &model.swarm else { return };
    let failed = swarm.failed_tasks();
    for service in swarm.services_by_name() {
        if !service.in_project(project) || !swarm.is_below_desired(service) {
            continue;
        }
        let (running, desired) = swarm.replicas(service);
        let mut detail = format!("{running}/{desired} running");
        let latest = swarm.latest_error(&service.id);
        if let Some(task) = latest {
            let node = swarm.node_name(task.node_id.as_deref());
            detail
                .push_str(&format!(" · last error on {node}: {}", first_line(&task.error_words())));
        }
        if let Some(status) = service.update_status() {
            detail.push_str(&format!(" · update {}", first_line(&status)));
        }
        let since = failed
            .iter()
            .filter(|f| f.service.id == service.id)
            .filter_map(|f| f.since)
            .min()
            .or(service.updated_at)
            .or(service.created_at);
        out.push(Problem {
            host: model.swarm_host,
            container_id: latest
                .and_then(|t| t.container_id.clone())
                .unwrap_or_else(|| service.id.clone()),
            container: service.name.clone(),
            project: service.stack().map(String::from),
            kind: ProblemKind::ServiceDegraded,
            since: since.map(Since::exact),
            detail,
        });
    }
    for f in failed {
        if !f.service.in_project(project) {
            continue;
        }
        let node = swarm.node_name(f.task.node_id.as_deref());
        let mut detail = format!("on {node}: {}", first_line(&f.task.error_words()));
        if f.failures > 1 {
            detail.push_str(&format!(" · failed {} times in a row", f.failures));
        }
        out.push(Problem {
            host: model.swarm_host,
            container_id: f.task.container_id.clone().unwrap_or_else(|| f.task.id.clone()),
            container: swarm.task_name(f.task),
            project: f.service.stack().map(String::from),
            kind: ProblemKind::TaskFailed,
            since: f.since.map(Since::exact),
            detail,
        });
    }
}

#[cfg(test)]
mod tests;
