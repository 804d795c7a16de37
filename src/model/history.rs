//! What portolan remembers about containers over time: the incident log, every
//! health probe it has seen, restarts, and the last log line of a failed container.
//!
//! What happened before portolan connected is reconstructed from the timestamps the
//! engine keeps (created, started, finished, the last probes) and marked as such.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::HostId;
use super::container::{
    Container, ContainerState, HealthProbe, HealthStatus, project_filter_keeps,
};
use super::ring::Ring;
use super::since::failing_streak_start;

/// How many incident log entries are kept: at a few hundred bytes each, days of a
/// busy host. Older entries are dropped and counted.
pub const MAX_TIMELINE: usize = 20_000;
/// Probes kept per container (the engine itself keeps only the last five).
pub const MAX_PROBES: usize = 120;
/// Restarts remembered per container.
const MAX_RESTARTS: usize = 64;

/// A container event as the engine reported it, already owned and flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerEvent {
    pub at: DateTime<Utc>,
    pub id: String,
    pub name: String,
    pub project: Option<String>,
    pub service: Option<String>,
    /// `start`, `die`, `kill`, `oom`, `restart`, `health_status`, `create`, `destroy`,
    /// `pause`, `unpause`, `stop`, `rename`, `update`.
    pub action: String,
    /// The exit code of a `die`, the signal of a `kill`, the status of a `health_status`.
    pub detail: Option<String>,
}

/// One line of the incident log.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub time: DateTime<Utc>,
    /// The engine it happened on; `None` for what spans engines (a swarm's services
    /// and tasks, which name their node instead).
    pub host: Option<HostId>,
    pub container_id: String,
    pub container: String,
    pub project: Option<String>,
    pub service: Option<String>,
    pub event: String,
    pub detail: String,
    /// Inferred from timestamps the engine kept, not seen happen.
    pub reconstructed: bool,
}

/// Per-container memory.
#[derive(Debug, Clone, Default)]
pub struct ContainerHistory {
    /// Every probe seen, oldest first.
    pub probes: VecDeque<HealthProbe>,
    /// Health status changes seen, with the time they happened.
    pub health_changes: Vec<(DateTime<Utc>, HealthStatus)>,
    /// Moments the container was seen to restart.
    pub restarts: Vec<DateTime<Utc>>,
    /// When the current run of the container first passed its healthcheck.
    pub became_healthy: Option<DateTime<Utc>>,
    /// The current run was already past its first passing probe when portolan first
    /// saw it, and the probes in view do not reach back to it: the moment is unknown,
    /// and a later `healthy` event (after a flap) must not stand in for it.
    pub first_healthy_unknown: bool,
    /// The last line the container wrote, fetched when it failed.
    pub last_log_line: Option<String>,
}

#[derive(Debug, Clone)]
pub struct History {
    pub timeline: Ring<TimelineEntry>,
    /// Entries dropped from the front of the timeline to bound memory.
    pub timeline_dropped: u64,
    /// Moves whenever an entry is added or replaced: what is derived from the log is
    /// worked out again only then, not on every probe result.
    pub timeline_revision: u64,
    pub containers: HashMap<String, ContainerHistory>,
    /// The record holds nothing older than the log: scrolling back stops asking.
    pub recorded_exhausted: bool,
    /// The oldest event read back from a record: the next read is from before it.
    pub recorded_before: Option<DateTime<Utc>>,
}

impl Default for History {
    fn default() -> Self {
        History {
            timeline: Ring::new(MAX_TIMELINE),
            timeline_dropped: 0,
            timeline_revision: 0,
            containers: HashMap::new(),
            recorded_exhausted: false,
            recorded_before: None,
        }
    }
}

fn entry(
    c: &Container,
    time: DateTime<Utc>,
    event: &str,
    detail: String,
    reconstructed: bool,
) -> TimelineEntry {
    TimelineEntry {
        time,
        host: Some(c.host),
        container_id: c.id.clone(),
        container: c.name.clone(),
        project: c.project().map(String::from),
        service: c.service().map(String::from),
        event: event.to_string(),
        detail,
        reconstructed,
    }
}

impl TimelineEntry {
    /// Whether it is about an engine (lost, back) rather than a container.
    pub fn is_host_event(&self) -> bool {
        self.container_id.is_empty() && self.host.is_some()
    }

    /// Whether the entry stays in a view narrowed to `filter`.
    pub fn in_project(&self, filter: Option<&str>) -> bool {
        project_filter_keeps(filter, self.project.as_deref())
    }
}

fn exit_detail(c: &Container) -> String {
    let code = c.exit_code.unwrap_or(0);
    if c.oom_killed { format!("exit {code}, OOM killed") } else { format!("exit {code}") }
}

/// A container event as the incident log lists it.
pub fn timeline_entry(host: HostId, event: &ContainerEvent) -> TimelineEntry {
    let detail = match (event.action.as_str(), &event.detail) {
        ("die", Some(code)) => format!("exit {code}"),
        ("kill", Some(signal)) => format!("signal {signal}"),
        (_, Some(detail)) => detail.clone(),
        (_, None) => String::new(),
    };
    let event_name = if event.action == "health_status" {
        format!("health_status: {}", event.detail.as_deref().unwrap_or("?"))
    } else {
        event.action.clone()
    };
    TimelineEntry {
        time: event.at,
        host: Some(host),
        container_id: event.id.clone(),
        container: event.name.clone(),
        project: event.project.clone(),
        service: event.service.clone(),
        event: event_name,
        detail: if event.action == "health_status" { String::new() } else { detail },
        reconstructed: false,
    }
}

impl History {
    fn push(&mut self, item: TimelineEntry) {
        // The same moment can arrive twice: from reconstruction and from an event
        // replayed by the stream's `since`, or after a resync.
        let duplicate = self.timeline.iter_mut().rev().take(256).find(|e| {
            e.host == item.host
                && e.container_id == item.container_id
                && e.event == item.event
                && (e.time - item.time).num_milliseconds().abs() < 1000
        });
        if let Some(existing) = duplicate {
            // Inferred first (an inspect overtook the event), then seen: it was seen.
            if existing.reconstructed && !item.reconstructed {
                *existing = item;
                self.timeline_revision += 1;
            }
            return;
        }
        // Engines' events arrive interleaved and a little late (a resync replays the
        // last second): each goes where its time puts it, almost always the end.
        let later = self.timeline.iter().rev().take_while(|e| e.time > item.time).count();
        self.timeline_revision += 1;
        if self.timeline.insert(self.timeline.len() - later, item) {
            self.timeline_dropped += 1;
        }
    }

    /// Records a live event from engine `host`.
    pub fn record_event(&mut self, host: HostId, event: &ContainerEvent) {
        let history = self.containers.entry(event.id.clone()).or_default();
        match event.action.as_str() {
            "health_status" => {
                let status = HealthStatus::parse(event.detail.as_deref().unwrap_or(""));
                history.health_changes.push((event.at, status));
                if status == HealthStatus::Healthy
                    && history.became_healthy.is_none()
                    && !history.first_healthy_unknown
                {
                    history.became_healthy = Some(event.at);
                }
                if history.health_changes.len() > MAX_PROBES {
                    history.health_changes.remove(0);
                }
            }
            "restart" => push_restart(history, event.at),
            "start" => {
                history.became_healthy = None;
                history.first_healthy_unknown = false;
            }
            _ => {}
        }
        self.push(timeline_entry(host, event));
    }

    /// Entries read back from a record, from before the oldest the log holds (the
    /// Timeline scrolling back): each goes where its time puts it, while there is room.
    pub fn insert_recorded(&mut self, entries: Vec<TimelineEntry>) {
        for item in entries {
            self.recorded_before =
                Some(self.recorded_before.map_or(item.time, |b| b.min(item.time)));
            let at = self.timeline.partition_point(|e| e.time <= item.time);
            // What this session reconstructed of the same moment is what was seen.
            let near = |e: &TimelineEntry| (e.time - item.time).num_milliseconds().abs() < 1000;
            let from = self
                .timeline
                .partition_point(|e| e.time < item.time - chrono::Duration::seconds(1));
            let same = (from..self.timeline.len())
                .take_while(|i| {
                    self.timeline
                        .get(*i)
                        .is_some_and(|e| e.time <= item.time + chrono::Duration::seconds(1))
                })
                .find(|i| {
                    self.timeline.get(*i).is_some_and(|e| {
                        near(e) && e.container_id == item.container_id && e.event == item.event
                    })
                });
            if let Some(i) = same {
                if let Some(existing) = self.timeline.iter_mut().nth(i)
                    && existing.reconstructed
                {
                    *existing = item;
                    self.timeline_revision += 1;
                }
                continue;
            }
            if self.timeline.insert(at, item) {
                self.timeline_dropped += 1;
            }
            self.timeline_revision += 1;
        }
    }

    /// Folds what an inspect says into the history. `previous` is the container as it
    /// was known before; `connected_at` separates what portolan could have seen from
    /// what must be reconstructed.
    pub fn observe(
        &mut self,
        c: &Container,
        previous: Option<&Container>,
        connected_at: Option<DateTime<Utc>>,
    ) {
        let first_sighting = !self.containers.contains_key(&c.id);
        let history = self.containers.entry(c.id.clone()).or_default();

        // Probes: the engine keeps the last five; keep every one seen.
        if let Some(health) = &c.health {
            let newest = history.probes.back().and_then(|p| p.start);
            for probe in &health.log {
                if probe.start.is_some() && (newest.is_none() || probe.start > newest) {
                    history.probes.push_back(probe.clone());
                    if history.probes.len() > MAX_PROBES {
                        history.probes.pop_front();
                    }
                }
            }
        }
        // When did this run first pass its check? Known only when the probes in view
        // go back to the start of the run.
        if history.became_healthy.is_none()
            && c.health_status() == HealthStatus::Healthy
            && let Some(started) = c.started_at
        {
            let check = c.healthcheck.as_ref();
            let window_ns = check.and_then(|h| h.interval_ns).unwrap_or(30_000_000_000)
                + check.and_then(|h| h.start_period_ns).unwrap_or(0)
                + 5_000_000_000;
            let mut run = history.probes.iter().filter(|p| p.start.is_some_and(|s| s >= started));
            if let Some(first) = run.next() {
                let gap = first.start.map(|s| (s - started).num_nanoseconds().unwrap_or(i64::MAX));
                if gap.is_some_and(|g| g <= window_ns) {
                    history.became_healthy = std::iter::once(first)
                        .chain(run)
                        .find(|p| p.exit_code == Some(0))
                        .and_then(|p| p.end);
                }
            }
        }
        if let Some(previous) = previous {
            // Dated by the container's own clock: the new run's start, else the end of
            // the run it replaced, else the connection: the earliest portolan could see it.
            if c.restart_count > previous.restart_count
                && let Some(at) = c.started_at.or(c.finished_at).or(connected_at)
            {
                push_restart(history, at);
            }
            if c.started_at != previous.started_at {
                history.became_healthy = None;
                history.first_healthy_unknown = false;
            }
        }
        // A run that started before portolan watched, and is healthy or unhealthy now,
        // passed a probe at a moment only probes back to its start could tell.
        let started_before = c
            .started_at
            .is_some_and(|started| connected_at.is_none_or(|connected| started < connected));
        if first_sighting
            && started_before
            && history.became_healthy.is_none()
            && matches!(c.health_status(), HealthStatus::Healthy | HealthStatus::Unhealthy)
        {
            history.first_healthy_unknown = true;
        }
        if first_sighting {
            self.reconstruct(c, connected_at);
        } else if let Some(previous) = previous {
            // Events can be missed (an outage, a full channel): changed timestamps still
            // tell what happened. A live event for the same moment wins the dedupe.
            if let Some(started) = c.started_at.filter(|_| c.started_at != previous.started_at) {
                self.push(entry(c, started, "start", String::new(), true));
            }
            let stopped = !c.state.is_running() && c.state != ContainerState::Created;
            if let Some(finished) =
                c.finished_at.filter(|_| stopped && c.finished_at != previous.finished_at)
            {
                if c.oom_killed {
                    self.push(entry(c, finished, "oom", String::new(), true));
                }
                self.push(entry(c, finished, "die", exit_detail(c), true));
            }
        }
    }

    /// Adds what the engine's timestamps tell about the time before portolan watched.
    fn reconstruct(&mut self, c: &Container, connected_at: Option<DateTime<Utc>>) {
        let before = |t: &DateTime<Utc>| connected_at.is_none_or(|connected| *t <= connected);
        let mut items = Vec::new();
        if let Some(created) = c.created.filter(before) {
            items.push(entry(c, created, "create", String::new(), true));
        }
        if let Some(started) = c.started_at.filter(before) {
            let detail = if c.restart_count > 0 {
                format!("restart count {}", c.restart_count)
            } else {
                String::new()
            };
            items.push(entry(c, started, "start", detail, true));
        }
        if matches!(
            c.state,
            ContainerState::Exited | ContainerState::Dead | ContainerState::Restarting
        ) && let Some(finished) = c.finished_at.filter(before)
        {
            if c.oom_killed {
                items.push(entry(c, finished, "oom", String::new(), true));
            }
            items.push(entry(c, finished, "die", exit_detail(c), true));
        }
        // Unhealthy since the start of its failing streak, the moment triage gives. A
        // healthy or starting status is not dated by the last probe: that is not when
        // it began (a known first passing probe is added below).
        if let Some(health) = &c.health
            && health.status == HealthStatus::Unhealthy
        {
            let probes: Vec<&HealthProbe> = health.log.iter().collect();
            if let Some(since) = failing_streak_start(c, &probes).filter(|s| before(&s.at)) {
                let detail = format!(
                    "{}first failing probe of {} in a row",
                    since.mark(),
                    health.failing_streak
                );
                items.push(entry(c, since.at, "health_status: unhealthy", detail, true));
            }
        }
        let history = self.containers.entry(c.id.clone()).or_default();
        if let Some(became) = history.became_healthy.filter(before) {
            items.push(entry(
                c,
                became,
                "health_status: healthy",
                "first passing probe".into(),
                true,
            ));
        }
        items.sort_by_key(|e| e.time);
        // Reconstructed entries belong before everything seen live: insert in order.
        for item in items {
            self.insert_sorted(item);
        }
    }

    /// Puts a reconstructed entry in time order. The timeline is sorted, so duplicates
    /// can only stand within a second of the insertion point.
    pub(super) fn insert_sorted(&mut self, item: TimelineEntry) {
        let window = chrono::Duration::seconds(1);
        let position = self.timeline.partition_point(|e| e.time <= item.time);
        let first = self.timeline.partition_point(|e| e.time <= item.time - window);
        let duplicate = (first..self.timeline.len())
            .map_while(|i| self.timeline.get(i).filter(|e| e.time < item.time + window))
            .any(|e| {
                e.host == item.host && e.container_id == item.container_id && e.event == item.event
            });
        if duplicate {
            return;
        }
        self.timeline_revision += 1;
        if self.timeline.insert(position, item) {
            self.timeline_dropped += 1;
        }
    }

    /// Records that an engine stopped answering, or answers again: `name` is what the
    /// operator calls it, `detail` the reason or what came back.
    pub fn record_host(
        &mut self,
        host: HostId,
        name: &str,
        at: DateTime<Utc>,
        event: &str,
        detail: String,
    ) {
        self.push(TimelineEntry {
            time: at,
            host: Some(host),
            // No container has an empty id: the host's entries never dedupe with one.
            container_id: String::new(),
            container: name.to_string(),
            project: None,
            service: None,
            event: event.to_string(),
            detail,
            reconstructed: false,
        });
    }

    pub fn forget(&mut self, id: &str) {
        self.containers.remove(id);
    }

    pub fn set_last_log_line(&mut self, id: &str, line: String) {
        self.containers.entry(id.to_string()).or_default().last_log_line = Some(line);
    }

    /// Every probe known for `c`, oldest first: those portolan recorded, else the
    /// engine's last five.
    pub fn probes_of<'a>(&'a self, c: &'a Container) -> Vec<&'a HealthProbe> {
        match self.get(&c.id) {
            Some(h) if !h.probes.is_empty() => h.probes.iter().collect(),
            _ => c.health.as_ref().map(|h| h.log.iter().collect()).unwrap_or_default(),
        }
    }

    pub fn get(&self, id: &str) -> Option<&ContainerHistory> {
        self.containers.get(id)
    }
}

fn push_restart(history: &mut ContainerHistory, at: DateTime<Utc>) {
    if history.restarts.last().is_some_and(|last| (at - *last).num_milliseconds().abs() < 1000) {
        return;
    }
    history.restarts.push(at);
    if history.restarts.len() > MAX_RESTARTS {
        history.restarts.remove(0);
    }
}
