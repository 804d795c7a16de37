//! The startup sequence of a compose project and the incident log, as pure views of
//! the model: which service started when, and what it waited for, as it happens.

use chrono::{DateTime, Utc};

use crate::model::{
    Container, ContainerState, DependencyCondition, HealthStatus, HostId, Model, TimelineEntry,
};

#[derive(Debug, Clone, PartialEq)]
pub struct StartupStep {
    pub time: DateTime<Utc>,
    /// Seconds since the project's first start.
    pub offset_seconds: i64,
    pub service: String,
    pub container: String,
    pub status: String,
    pub action: String,
    /// Before portolan connected: inferred from the engine's timestamps.
    pub reconstructed: bool,
}

fn waited_for(c: &Container) -> String {
    let deps = c.depends_on();
    if deps.is_empty() {
        return String::new();
    }
    let healthy: Vec<&str> = deps
        .iter()
        .filter(|d| d.condition == DependencyCondition::Healthy)
        .map(|d| d.service.as_str())
        .collect();
    let started: Vec<&str> = deps
        .iter()
        .filter(|d| d.condition == DependencyCondition::Started)
        .map(|d| d.service.as_str())
        .collect();
    let completed: Vec<&str> = deps
        .iter()
        .filter(|d| d.condition == DependencyCondition::CompletedSuccessfully)
        .map(|d| d.service.as_str())
        .collect();
    let mut parts = Vec::new();
    if !healthy.is_empty() {
        parts.push(format!("{} healthy", healthy.join(", ")));
    }
    if !started.is_empty() {
        parts.push(format!("{} started", started.join(", ")));
    }
    if !completed.is_empty() {
        parts.push(format!("{} completed", completed.join(", ")));
    }
    format!("waited for {}", parts.join("; "))
}

/// The startup of a project on the first engine that runs it (the only one, with one
/// engine): see [`startup_sequence_on`].
pub fn startup_sequence(model: &Model, project: &str) -> Vec<StartupStep> {
    let first_host =
        model.containers.values().filter(|c| c.project() == Some(project)).map(|c| c.host).min();
    first_host.map(|host| startup_sequence_on(model, host, project)).unwrap_or_default()
}

/// The project's startup on one engine as it really happened: each service starting,
/// becoming healthy or exiting, in time order, relative to the first start. The same
/// project deployed on two engines is two startups, never one merged.
pub fn startup_sequence_on(model: &Model, host: HostId, project: &str) -> Vec<StartupStep> {
    let members: Vec<&Container> = model
        .containers
        .values()
        .filter(|c| c.host == host && c.project() == Some(project))
        .collect();
    let Some(t0) = members.iter().filter_map(|c| c.started_at).min() else {
        return Vec::new();
    };
    let mut steps = Vec::new();
    for c in &members {
        let connected_at = model.host(c.host).connected_at;
        let reconstructed = |t: DateTime<Utc>| connected_at.is_none_or(|connected| t < connected);
        let service = c.service().unwrap_or(&c.name).to_string();
        let mut push = |time: DateTime<Utc>, status: String, action: String| {
            steps.push(StartupStep {
                time,
                offset_seconds: (time - t0).num_seconds(),
                service: service.clone(),
                container: c.name.clone(),
                status,
                action,
                reconstructed: reconstructed(time),
            });
        };
        let Some(started) = c.started_at else { continue };
        let mut action = waited_for(c);
        if c.restart_count > 0 {
            let restarts = format!("restart #{}", c.restart_count);
            action = if action.is_empty() { restarts } else { format!("{action}; {restarts}") };
        }
        let history = model.history.get(&c.id);
        let first_healthy_unknown = history.is_some_and(|h| h.first_healthy_unknown)
            && history.and_then(|h| h.became_healthy).is_none()
            && c.health_status() == HealthStatus::Healthy;
        if first_healthy_unknown {
            // Never a later moment in its place: say what is not known.
            let note = "healthy before portolan watched (moment unknown)";
            action = if action.is_empty() { note.into() } else { format!("{action}; {note}") };
        }
        push(started, "starting".into(), action);
        if let Some(healthy) = history.and_then(|h| h.became_healthy).filter(|t| *t >= started) {
            let probe = c.healthcheck.as_ref().map(|h| h.command()).unwrap_or_default();
            push(
                healthy,
                "healthy".into(),
                format!("first passing probe: {}", crate::model::sanitize::one_line(&probe)),
            );
        } else if c.health_status() == HealthStatus::Unhealthy {
            // The start of the failing streak: the moment triage says it is unhealthy since.
            let probes = model.history.probes_of(c);
            if let Some(since) = crate::model::since::failing_streak_start(c, &probes) {
                let words = format!("{}first failing probe of the streak", since.mark());
                push(since.at, "unhealthy".into(), words);
            }
        }
        if matches!(c.state, ContainerState::Exited | ContainerState::Dead)
            && let Some(finished) = c.finished_at.filter(|t| *t >= started)
        {
            let code = c.exit_code.unwrap_or(0);
            let status =
                if c.oom_killed { "OOM killed".to_string() } else { format!("exited {code}") };
            push(finished, status, String::new());
        }
    }
    steps.sort_by(|a, b| a.time.cmp(&b.time).then(a.service.cmp(&b.service)));
    steps
}

/// The projects with a startup to show, as (engine, project), engines in the operator's
/// order and projects by name within each.
pub fn startup_projects(model: &Model) -> Vec<(HostId, &str)> {
    let pairs: std::collections::BTreeSet<(HostId, &str)> =
        model.containers.values().filter_map(|c| Some((c.host, c.project()?))).collect();
    pairs.into_iter().collect()
}

/// The incident log, optionally for one project and/or one container (by name), oldest first.
pub fn incidents<'a>(
    model: &'a Model,
    project: Option<&str>,
    container: Option<&str>,
) -> Vec<&'a TimelineEntry> {
    model.history.timeline.iter().filter(|e| listed(e, project, container)).collect()
}

/// Where in the model's incident log the entries [`incidents`] lists are, oldest
/// first: what a list keeps to find them again without walking the log.
pub fn incident_positions(
    model: &Model,
    project: Option<&str>,
    container: Option<&str>,
) -> Vec<usize> {
    let log = model.history.timeline.iter().enumerate();
    log.filter(|(_, e)| listed(e, project, container)).map(|(at, _)| at).collect()
}

fn listed(entry: &TimelineEntry, project: Option<&str>, container: Option<&str>) -> bool {
    entry.in_project(project) && container.is_none_or(|name| entry.container == name)
}

#[cfg(test)]
mod tests;
