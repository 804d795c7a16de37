//! The rest of the host at a glance, shown below the problems: one row per compose
//! project on each engine, and one for each engine's stand-alone containers, saying
//! how much of it runs, how healthy it is, what it uses against what it may use, how
//! many of its routes are broken and what last happened to it.
//!
//! Pure: a function of the model and of the problems and route table the caller has
//! already derived (see [`crate::derived::Derived::overview`]). No clock, no terminal.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Problem, ProblemKind};
use crate::model::{Connection, Container, ContainerState, HealthStatus, HostId, Model};
use crate::routes::table::RouteTable;

/// What a row's usage is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// The sum of the limits of its running containers: every one of them has one.
    Limits,
    /// The engine's own CPUs or memory: at least one running container has no limit,
    /// so the limits' sum would not bound what the project can take.
    Host,
}

/// How much of something a row uses, and of how much.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage<T> {
    /// Summed over the running containers that have a figure; `None` while none has
    /// one (no sample yet, nothing running, or the engine is lost and its figures old).
    pub used: Option<T>,
    /// `None` when the engine did not say how much it has.
    pub capacity: Option<T>,
    pub against: Against,
}

/// An amount a [`Usage`] can hold: CPUs or bytes.
pub trait Amount: Copy {
    fn as_f64(self) -> f64;
}

impl Amount for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

impl Amount for u64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl<T: Amount> Usage<T> {
    /// The share of the capacity in use, 0–100 (more when over a limit).
    pub fn percent(&self) -> Option<f64> {
        let (used, capacity) = (self.used?.as_f64(), self.capacity?.as_f64());
        (capacity > 0.0).then(|| used / capacity * 100.0)
    }
}

/// What last happened in a project, from the incident log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewestEvent {
    pub at: DateTime<Utc>,
    /// Inferred from the engine's timestamps rather than seen.
    pub reconstructed: bool,
    /// The service when there is one, else the container's name (not yet sanitized).
    pub container: String,
    /// The event in words: `die exit 1`, `unhealthy`, `start`.
    pub words: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OverviewRow {
    pub host: HostId,
    /// `None` for the engine's containers that belong to no compose project.
    pub project: Option<String>,
    /// The engine stopped answering: the counts are as it last was, usage is unknown.
    pub lost: bool,
    /// The problems triage lists for this row (an unreachable engine's counts for each
    /// of its rows).
    pub problems: usize,
    pub running: usize,
    pub total: usize,
    pub healthy: usize,
    pub unhealthy: usize,
    pub starting: usize,
    /// In CPUs: 1.5 is one and a half CPUs busy.
    pub cpu: Usage<f64>,
    pub memory: Usage<u64>,
    /// Broken routes that start or end at one of its containers, as the Routes pane
    /// narrowed to the project counts them.
    pub broken_routes: usize,
    pub newest_event: Option<NewestEvent>,
}

type RowKey = (HostId, Option<String>);

fn key_of(c: &Container) -> RowKey {
    (c.host, c.project().map(String::from))
}

/// One row per project on each engine shown (only `project` with a filter), rows
/// with problems first in the order triage lists them, then by name, stand-alone
/// containers after the projects.
pub fn overview(
    model: &Model,
    project: Option<&str>,
    problems: &[Problem],
    routes: &RouteTable,
) -> Vec<OverviewRow> {
    let mut groups: BTreeMap<RowKey, Vec<&Container>> = BTreeMap::new();
    for c in model.containers.values().filter(|c| c.in_project(project)) {
        groups.entry(key_of(c)).or_default().push(c);
    }
    let mut rows: Vec<(Option<usize>, OverviewRow)> = groups
        .iter()
        .map(|((host, name), members)| {
            let mut row = tally(model, *host, name.clone(), members);
            let mut first = None;
            for (index, p) in problems.iter().enumerate() {
                let whole_host = p.kind == ProblemKind::HostUnreachable && p.host == *host;
                if whole_host || (p.host == *host && p.project == *name) {
                    row.problems += 1;
                    first = first.or(Some(index));
                }
            }
            (first, row)
        })
        .collect();
    count_broken_routes(model, routes, &mut rows);
    newest_events(model, &mut rows);
    rows.sort_by(|(a_first, a), (b_first, b)| {
        // A row with problems first (`None` sorts before `Some`: flip), then named
        // projects before stand-alone containers.
        b_first
            .is_some()
            .cmp(&a_first.is_some())
            .then(a_first.cmp(b_first))
            .then(a.project.is_none().cmp(&b.project.is_none()))
            .then(a.project.cmp(&b.project))
            .then(a.host.cmp(&b.host))
    });
    rows.into_iter().map(|(_, row)| row).collect()
}

fn tally(
    model: &Model,
    host: HostId,
    project: Option<String>,
    members: &[&Container],
) -> OverviewRow {
    let lost = matches!(model.host(host).connection, Connection::Disconnected { .. });
    let mut row = OverviewRow {
        host,
        project,
        lost,
        problems: 0,
        running: 0,
        total: members.len(),
        healthy: 0,
        unhealthy: 0,
        starting: 0,
        cpu: Usage { used: None, capacity: None, against: Against::Host },
        memory: Usage { used: None, capacity: None, against: Against::Host },
        broken_routes: 0,
        newest_event: None,
    };
    // Usage counts whatever has live processes; a paused container still holds memory.
    let live: Vec<&&Container> = members.iter().filter(|c| c.state.is_running()).collect();
    for c in members {
        row.running += usize::from(c.state == ContainerState::Running);
        if c.state == ContainerState::Running {
            match c.health_status() {
                HealthStatus::Healthy => row.healthy += 1,
                HealthStatus::Unhealthy => row.unhealthy += 1,
                HealthStatus::Starting => row.starting += 1,
                HealthStatus::None => {}
            }
        }
    }
    let engine = &model.host(host).engine;
    let cpu_limits: Option<f64> = sum_all(live.iter().map(|c| c.limits.cpus.filter(|l| *l > 0.0)));
    let memory_limits: Option<u64> =
        sum_all(live.iter().map(|c| c.limits.memory_bytes.filter(|l| *l > 0)));
    row.cpu = match cpu_limits {
        Some(limits) => Usage { used: None, capacity: Some(limits), against: Against::Limits },
        None => Usage { used: None, capacity: engine.cpus.map(f64::from), against: Against::Host },
    };
    row.memory = match memory_limits {
        Some(limits) => Usage { used: None, capacity: Some(limits), against: Against::Limits },
        None => Usage { used: None, capacity: engine.memory_bytes, against: Against::Host },
    };
    if !lost {
        let points: Vec<_> = live.iter().filter_map(|c| model.latest_stats(&c.id)).collect();
        row.cpu.used = sum_any(points.iter().map(|p| p.cpu_percent.map(|v| v / 100.0)));
        row.memory.used = sum_any(points.iter().map(|p| p.memory_bytes));
    }
    row
}

/// The sum when every item has a value and there is at least one.
fn sum_all<T: std::iter::Sum<T>>(items: impl Iterator<Item = Option<T>>) -> Option<T> {
    let values: Option<Vec<T>> = items.collect();
    values.filter(|v| !v.is_empty()).map(|v| v.into_iter().sum())
}

/// The sum of the values there are, `None` when there are none.
fn sum_any<T: std::iter::Sum<T>>(items: impl Iterator<Item = Option<T>>) -> Option<T> {
    let values: Vec<T> = items.flatten().collect();
    (!values.is_empty()).then(|| values.into_iter().sum())
}

/// A broken route counts for the row of its proxy and for the row of its target: the
/// project behind the proxy serves the errors, the project behind the target caused them.
fn count_broken_routes(
    model: &Model,
    routes: &RouteTable,
    rows: &mut [(Option<usize>, OverviewRow)],
) {
    let row_of =
        |id: &Option<String>| id.as_ref().and_then(|id| model.containers.get(id)).map(key_of);
    for route in routes.routes.iter().filter(|r| !r.verdict.is_ok()) {
        let mut touched = vec![row_of(&route.proxy_id), row_of(&route.target_id)];
        touched.dedup();
        for key in touched.into_iter().flatten() {
            if let Some((_, row)) =
                rows.iter_mut().find(|(_, r)| r.host == key.0 && r.project == key.1)
            {
                row.broken_routes += 1;
            }
        }
    }
}

/// The newest entry of the incident log for each row: read from the newest back, and
/// only until every row has one, since on a busy host most rows find theirs at once.
fn newest_events(model: &Model, rows: &mut [(Option<usize>, OverviewRow)]) {
    let mut missing = rows.len();
    for entry in model.history.timeline.iter().rev() {
        if missing == 0 {
            break;
        }
        let Some(host) = entry.host.filter(|_| !entry.is_host_event()) else { continue };
        let Some((_, row)) = rows.iter_mut().find(|(_, r)| {
            r.host == host && r.project == entry.project && r.newest_event.is_none()
        }) else {
            continue;
        };
        let words = match entry.event.strip_prefix("health_status: ") {
            // The status is the news; a reconstructed entry's note is not.
            Some(status) => status.to_string(),
            None if entry.detail.is_empty() => entry.event.clone(),
            None => format!("{} {}", entry.event, entry.detail),
        };
        row.newest_event = Some(NewestEvent {
            at: entry.time,
            reconstructed: entry.reconstructed,
            container: entry.service.clone().unwrap_or_else(|| entry.container.clone()),
            words,
        });
        missing -= 1;
    }
}

#[cfg(test)]
mod tests;
