//! What a swarm manager says of its cluster: nodes, services and their tasks, and the
//! pure questions the panes, triage and snapshot ask of them.
//!
//! The engine sends the whole cluster as one [`Swarm`] (it is small next to the
//! containers, and tasks have no events to patch it by); the model compares it with the
//! previous one to write the timeline. Nothing here does I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::container::project_filter_keeps;
use super::format::short_id;
use super::history::{History, TimelineEntry};

/// The label `docker stack deploy` puts on a service: its stack is its project.
pub const STACK_LABEL: &str = "com.docker.stack.namespace";
/// The label the engine puts on a swarm task's container.
pub const TASK_LABEL: &str = "com.docker.swarm.task.id";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SwarmNode {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: Option<String>,
    /// `active`, `pause` or `drain`.
    pub availability: Option<String>,
    /// `ready`, `down`, `unknown`, `disconnected`.
    pub status: Option<String>,
    pub status_message: Option<String>,
    pub engine_version: Option<String>,
    pub leader: bool,
    pub addr: Option<String>,
}

impl SwarmNode {
    pub fn is_ready(&self) -> bool {
        self.status.as_deref() == Some("ready")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceMode {
    Replicated,
    Global,
    ReplicatedJob,
    GlobalJob,
}

impl ServiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMode::Replicated => "replicated",
            ServiceMode::Global => "global",
            ServiceMode::ReplicatedJob => "replicated-job",
            ServiceMode::GlobalJob => "global-job",
        }
    }

    fn is_job(self) -> bool {
        matches!(self, ServiceMode::ReplicatedJob | ServiceMode::GlobalJob)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicePort {
    pub published: Option<u16>,
    pub target: Option<u16>,
    pub protocol: String,
    /// `ingress` or `host`.
    pub mode: Option<String>,
}

impl ServicePort {
    /// `8080->80/tcp`, as `docker service ls` writes it.
    pub fn label(&self) -> String {
        let target = self.target.map_or("?".to_string(), |t| t.to_string());
        match self.published {
            Some(published) => format!("{published}->{target}/{}", self.protocol),
            None => format!("{target}/{}", self.protocol),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SwarmService {
    pub id: String,
    pub name: String,
    pub mode: Option<ServiceMode>,
    /// The replicas asked for, for a replicated service.
    pub replicas: Option<u64>,
    /// What the manager counts itself (`?status=true`), when it does.
    pub running_tasks: Option<u64>,
    pub desired_tasks: Option<u64>,
    pub image: String,
    pub ports: Vec<ServicePort>,
    /// `updating`, `paused`, `completed`, `rollback_started`...
    pub update_state: Option<String>,
    pub update_message: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl SwarmService {
    pub fn stack(&self) -> Option<&str> {
        self.labels.get(STACK_LABEL).map(String::as_str)
    }

    /// Whether the service stays in a view narrowed to `filter`: a stack counts as a project.
    pub fn in_project(&self, filter: Option<&str>) -> bool {
        project_filter_keeps(filter, self.stack())
    }

    /// The update status in words: `updating`, `paused: <why>`... or nothing.
    pub fn update_status(&self) -> Option<String> {
        let state = self.update_state.as_deref()?;
        Some(match self.update_message.as_deref().filter(|m| !m.is_empty()) {
            Some(message) => format!("{state}: {message}"),
            None => state.to_string(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SwarmTask {
    pub id: String,
    pub service_id: String,
    /// The replica number of a replicated service; global tasks have none.
    pub slot: Option<u64>,
    pub node_id: Option<String>,
    pub state: String,
    pub desired_state: Option<String>,
    /// What the manager says happened (`started`, `finished`...).
    pub message: Option<String>,
    pub error: Option<String>,
    pub exit_code: Option<i64>,
    pub container_id: Option<String>,
    /// When the task's status last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

impl SwarmTask {
    pub fn is_running(&self) -> bool {
        self.state == "running"
    }

    pub fn has_failed(&self) -> bool {
        matches!(self.state.as_str(), "failed" | "rejected")
    }

    /// The error in words with the exit code: `task: non-zero exit (1) · exit 1`.
    pub fn error_words(&self) -> String {
        let error = self.error.as_deref().map(crate::model::sanitize::one_line);
        match (error, self.exit_code.filter(|c| *c != 0)) {
            (Some(error), Some(code)) => format!("{error} · exit {code}"),
            (Some(error), None) => error.into_owned(),
            (None, Some(code)) => format!("exit {code}"),
            (None, None) => self.state.clone(),
        }
    }
}

/// The cluster as one manager sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Swarm {
    /// By id.
    pub nodes: BTreeMap<String, SwarmNode>,
    /// By id.
    pub services: BTreeMap<String, SwarmService>,
    /// By id.
    pub tasks: BTreeMap<String, SwarmTask>,
}

/// One task's failure, with where it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedTask<'a> {
    pub task: &'a SwarmTask,
    pub service: &'a SwarmService,
    pub node: Option<&'a SwarmNode>,
    /// Failures in a row of this slot (or node, for a global service) the manager still
    /// remembers, this one included.
    pub failures: usize,
    /// The first of those failures.
    pub since: Option<DateTime<Utc>>,
}

impl Swarm {
    /// Services sorted by name.
    pub fn services_by_name(&self) -> Vec<&SwarmService> {
        let mut services: Vec<&SwarmService> = self.services.values().collect();
        services.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        services
    }

    /// Nodes sorted: managers first, then by hostname.
    pub fn nodes_sorted(&self) -> Vec<&SwarmNode> {
        let mut nodes: Vec<&SwarmNode> = self.nodes.values().collect();
        nodes.sort_by(|a, b| {
            let worker = |n: &SwarmNode| n.role.as_deref() != Some("manager");
            worker(a).cmp(&worker(b)).then(a.hostname.cmp(&b.hostname)).then(a.id.cmp(&b.id))
        });
        nodes
    }

    pub fn service_name(&self, id: &str) -> String {
        self.services.get(id).map_or_else(|| short_id(id).to_string(), |s| s.name.clone())
    }

    pub fn node_name(&self, id: Option<&str>) -> String {
        match id {
            Some(id) => {
                self.nodes.get(id).map_or_else(|| short_id(id).to_string(), |n| n.hostname.clone())
            }
            None => "unassigned".to_string(),
        }
    }

    /// `web.2` for a replica, `agent.<node>` for a global task, as `docker service ps`.
    pub fn task_name(&self, task: &SwarmTask) -> String {
        let service = self.service_name(&task.service_id);
        match (task.slot, &task.node_id) {
            (Some(slot), _) => format!("{service}.{slot}"),
            (None, Some(node)) => format!("{service}.{}", self.node_name(Some(node))),
            (None, None) => format!("{service}.{}", short_id(&task.id)),
        }
    }

    /// Tasks of a service the manager still wants (desired state running or ready),
    /// the way `docker service ps` shows the current ones.
    pub fn current_tasks(&self, service_id: &str) -> Vec<&SwarmTask> {
        let mut tasks: Vec<&SwarmTask> =
            self.tasks.values().filter(|t| t.service_id == service_id && is_wanted(t)).collect();
        tasks.sort_by(|a, b| a.slot.cmp(&b.slot).then(a.node_id.cmp(&b.node_id)));
        tasks
    }

    /// Running and desired replicas: the manager's own count when it gives one, else
    /// counted from the tasks.
    pub fn replicas(&self, service: &SwarmService) -> (u64, u64) {
        let counted_running = self
            .tasks
            .values()
            .filter(|t| t.service_id == service.id && t.is_running() && is_wanted(t))
            .count() as u64;
        let running = service.running_tasks.unwrap_or(counted_running);
        let desired = service.desired_tasks.or(match service.mode {
            Some(ServiceMode::Replicated) => service.replicas,
            _ => None,
        });
        let desired = desired.unwrap_or_else(|| {
            self.tasks.values().filter(|t| t.service_id == service.id && is_wanted(t)).count()
                as u64
        });
        (running, desired)
    }

    /// A long-running service with fewer tasks running than asked for. Jobs run to
    /// completion, so fewer running is their normal end.
    pub fn is_below_desired(&self, service: &SwarmService) -> bool {
        if service.mode.is_some_and(ServiceMode::is_job) {
            return false;
        }
        let (running, desired) = self.replicas(service);
        running < desired
    }

    /// Current tasks on a node, grouped by service name (sorted).
    pub fn tasks_on_node(&self, node_id: &str) -> Vec<(String, Vec<&SwarmTask>)> {
        let mut groups: BTreeMap<String, Vec<&SwarmTask>> = BTreeMap::new();
        for task in self.tasks.values() {
            if task.node_id.as_deref() == Some(node_id) && is_wanted(task) {
                groups.entry(self.service_name(&task.service_id)).or_default().push(task);
            }
        }
        for tasks in groups.values_mut() {
            tasks.sort_by(|a, b| a.slot.cmp(&b.slot).then(a.id.cmp(&b.id)));
        }
        groups.into_iter().collect()
    }

    /// For each slot (or node of a global service) that is not running now, its latest
    /// failure; a slot that failed and then recovered is no longer a problem.
    pub fn failed_tasks(&self) -> Vec<FailedTask<'_>> {
        let mut slots: BTreeMap<(&str, String), Vec<&SwarmTask>> = BTreeMap::new();
        for task in self.tasks.values() {
            let slot = match (task.slot, &task.node_id) {
                (Some(slot), _) => slot.to_string(),
                (None, Some(node)) => node.clone(),
                (None, None) => task.id.clone(),
            };
            slots.entry((task.service_id.as_str(), slot)).or_default().push(task);
        }
        let mut out = Vec::new();
        for ((service_id, _), mut tasks) in slots {
            let Some(service) = self.services.get(service_id) else { continue };
            tasks.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id)));
            if tasks.iter().any(|t| t.is_running() && is_wanted(t)) {
                continue;
            }
            // The failures since the last task that ran to a good end (or ever).
            let streak: Vec<&&SwarmTask> = tasks
                .iter()
                .rev()
                .filter(|t| !is_wanted(t))
                .take_while(|t| t.has_failed())
                .collect();
            let Some(latest) = streak.first() else { continue };
            out.push(FailedTask {
                task: latest,
                service,
                node: latest.node_id.as_deref().and_then(|n| self.nodes.get(n)),
                failures: streak.len(),
                since: streak.last().and_then(|t| t.updated_at),
            });
        }
        out.sort_by(|a, b| a.service.name.cmp(&b.service.name).then(a.task.slot.cmp(&b.task.slot)));
        out
    }

    /// The newest error any task of a service reported.
    pub fn latest_error(&self, service_id: &str) -> Option<&SwarmTask> {
        self.tasks
            .values()
            .filter(|t| t.service_id == service_id && t.has_failed())
            .max_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id)))
    }
}

/// Desired running (or ready, for a task still being placed): one the manager keeps.
fn is_wanted(task: &SwarmTask) -> bool {
    matches!(task.desired_state.as_deref(), Some("running" | "ready") | None)
}

fn swarm_entry(
    time: DateTime<Utc>,
    id: &str,
    subject: String,
    stack: Option<&str>,
    service: Option<String>,
    event: &str,
    detail: String,
) -> TimelineEntry {
    TimelineEntry {
        time,
        host: None,
        container_id: id.to_string(),
        container: subject,
        project: stack.map(String::from),
        service,
        event: event.to_string(),
        detail,
        reconstructed: false,
    }
}

/// Writes what changed between two views of the cluster into the timeline. The first
/// view (`previous` is `None`) records only failures already there, so triage's
/// "since" has a line to point at.
pub fn record_changes(
    history: &mut History,
    previous: Option<&Swarm>,
    next: &Swarm,
    now: DateTime<Utc>,
) {
    let empty = Swarm::default();
    let first_view = previous.is_none();
    let previous = previous.unwrap_or(&empty);
    let mut items = Vec::new();
    if !first_view {
        for (id, service) in &next.services {
            let stack = service.stack();
            match previous.services.get(id) {
                None => items.push(swarm_entry(
                    service.created_at.unwrap_or(now),
                    id,
                    service.name.clone(),
                    stack,
                    Some(service.name.clone()),
                    "service create",
                    service.image.clone(),
                )),
                Some(old) => {
                    if old.replicas != service.replicas
                        && let (Some(from), Some(to)) = (old.replicas, service.replicas)
                    {
                        items.push(swarm_entry(
                            service.updated_at.unwrap_or(now),
                            id,
                            service.name.clone(),
                            stack,
                            Some(service.name.clone()),
                            "service scale",
                            format!("{from} → {to} replicas"),
                        ));
                    } else if old.image != service.image {
                        items.push(swarm_entry(
                            service.updated_at.unwrap_or(now),
                            id,
                            service.name.clone(),
                            stack,
                            Some(service.name.clone()),
                            "service update",
                            format!("image {}", service.image),
                        ));
                    }
                    if old.update_state != service.update_state
                        && let Some(status) = service.update_status()
                    {
                        items.push(swarm_entry(
                            now,
                            id,
                            service.name.clone(),
                            stack,
                            Some(service.name.clone()),
                            "service update status",
                            status,
                        ));
                    }
                }
            }
        }
        for (id, service) in &previous.services {
            if !next.services.contains_key(id) {
                items.push(swarm_entry(
                    now,
                    id,
                    service.name.clone(),
                    service.stack(),
                    Some(service.name.clone()),
                    "service remove",
                    String::new(),
                ));
            }
        }
        for (id, node) in &next.nodes {
            let old = previous.nodes.get(id);
            let changed =
                |f: fn(&SwarmNode) -> &Option<String>| old.is_none_or(|o| f(o) != f(node));
            if old.is_none() {
                items.push(swarm_entry(
                    now,
                    id,
                    node.hostname.clone(),
                    None,
                    None,
                    "node join",
                    node.role.clone().unwrap_or_default(),
                ));
            } else if changed(|n| &n.status) || changed(|n| &n.availability) {
                let mut detail = format!(
                    "{} · {}",
                    node.status.as_deref().unwrap_or("?"),
                    node.availability.as_deref().unwrap_or("?")
                );
                if let Some(message) = node.status_message.as_deref().filter(|m| !m.is_empty()) {
                    detail.push_str(&format!(" · {message}"));
                }
                items.push(swarm_entry(
                    now,
                    id,
                    node.hostname.clone(),
                    None,
                    None,
                    "node update",
                    detail,
                ));
            }
        }
        for (id, node) in &previous.nodes {
            if !next.nodes.contains_key(id) {
                items.push(swarm_entry(
                    now,
                    id,
                    node.hostname.clone(),
                    None,
                    None,
                    "node remove",
                    String::new(),
                ));
            }
        }
    }
    for (id, task) in &next.tasks {
        let old = previous.tasks.get(id);
        if old.is_some_and(|o| o.state == task.state) {
            continue;
        }
        // Tasks are many and mostly uneventful: a fresh view records only failures,
        // later views record the moves that matter to an operator.
        let worth = if first_view {
            task.has_failed()
        } else {
            task.has_failed() || matches!(task.state.as_str(), "running" | "complete" | "shutdown")
        };
        if !worth {
            continue;
        }
        let service = next.services.get(&task.service_id);
        let node = next.node_name(task.node_id.as_deref());
        let detail = if task.has_failed() {
            format!("on {node}: {}", task.error_words())
        } else {
            format!("on {node}")
        };
        items.push(swarm_entry(
            task.updated_at.unwrap_or(now),
            id,
            next.task_name(task),
            service.and_then(SwarmService::stack),
            Some(next.service_name(&task.service_id)),
            &format!("task {}", task.state),
            detail,
        ));
    }
    items.sort_by_key(|e| e.time);
    for item in items {
        history.insert_sorted(item);
    }
}

#[cfg(test)]
pub mod fixtures {
    //! A small cluster for unit tests: one manager, a healthy `web` with two replicas,
    //! and `worker` whose only replica keeps failing.
    use chrono::TimeZone;

    use super::*;

    pub fn t(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_760_000_000 + second, 0).single().unwrap_or_default()
    }

    pub fn task(
        id: &str,
        service: &str,
        slot: u64,
        state: &str,
        desired: &str,
        at: i64,
    ) -> SwarmTask {
        SwarmTask {
            id: id.into(),
            service_id: service.into(),
            slot: Some(slot),
            node_id: Some("n1".into()),
            state: state.into(),
            desired_state: Some(desired.into()),
            message: None,
            error: None,
            exit_code: None,
            container_id: None,
            updated_at: Some(t(at)),
        }
    }

    pub fn failed(id: &str, service: &str, slot: u64, at: i64) -> SwarmTask {
        SwarmTask {
            error: Some("task: non-zero exit (1)".into()),
            exit_code: Some(1),
            ..task(id, service, slot, "failed", "shutdown", at)
        }
    }

    pub fn cluster() -> Swarm {
        let node = SwarmNode {
            id: "n1".into(),
            hostname: "vm".into(),
            role: Some("manager".into()),
            availability: Some("active".into()),
            status: Some("ready".into()),
            status_message: None,
            engine_version: Some("20.10.24".into()),
            leader: true,
            addr: Some("127.0.0.1".into()),
        };
        let web = SwarmService {
            id: "s-web".into(),
            name: "web".into(),
            mode: Some(ServiceMode::Replicated),
            replicas: Some(2),
            running_tasks: Some(2),
            desired_tasks: Some(2),
            image: "nginx:1.27".into(),
            ports: vec![ServicePort {
                published: Some(8080),
                target: Some(80),
                protocol: "tcp".into(),
                mode: Some("ingress".into()),
            }],
            ..SwarmService::default()
        };
        let worker = SwarmService {
            id: "s-worker".into(),
            name: "worker".into(),
            mode: Some(ServiceMode::Replicated),
            replicas: Some(1),
            running_tasks: Some(0),
            desired_tasks: Some(1),
            image: "busybox".into(),
            ..SwarmService::default()
        };
        let tasks = vec![
            task("t-web1", "s-web", 1, "running", "running", 10),
            task("t-web2", "s-web", 2, "running", "running", 11),
            failed("t-wk-a", "s-worker", 1, 20),
            failed("t-wk-b", "s-worker", 1, 25),
            task("t-wk-c", "s-worker", 1, "starting", "running", 30),
        ];
        Swarm {
            nodes: [(node.id.clone(), node)].into(),
            services: [(web.id.clone(), web), (worker.id.clone(), worker)].into(),
            tasks: tasks.into_iter().map(|t| (t.id.clone(), t)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn a_stack_is_the_project_of_its_services() {
        let mut service = SwarmService::default();
        assert!(service.in_project(None));
        assert!(!service.in_project(Some("shop")), "no stack leaves a narrowed view");
        service.labels.insert(STACK_LABEL.into(), "shop".into());
        assert!(service.in_project(Some("shop")) && !service.in_project(Some("blog")));
    }

    #[test]
    fn replicas_prefer_the_managers_count_and_fall_back_to_tasks() {
        let mut swarm = cluster();
        let web = swarm.services["s-web"].clone();
        assert_eq!(swarm.replicas(&web), (2, 2));
        let worker = swarm.services["s-worker"].clone();
        assert!(swarm.is_below_desired(&worker));
        // An engine without `?status=true`: counted from the tasks, desired from the spec.
        for service in swarm.services.values_mut() {
            service.running_tasks = None;
            service.desired_tasks = None;
        }
        assert_eq!(swarm.replicas(&swarm.services["s-web"]), (2, 2));
        assert_eq!(swarm.replicas(&swarm.services["s-worker"]), (0, 1));
    }

    #[test]
    fn a_failing_slot_reports_its_latest_error_and_streak() {
        let swarm = cluster();
        let failed = swarm.failed_tasks();
        assert_eq!(failed.len(), 1);
        let f = &failed[0];
        assert_eq!(f.task.id, "t-wk-b");
        assert_eq!(f.failures, 2);
        assert_eq!(f.since, Some(t(20)));
        assert_eq!(f.task.error_words(), "task: non-zero exit (1) · exit 1");
        assert_eq!(swarm.task_name(f.task), "worker.1");
        assert_eq!(f.node.map(|n| n.hostname.as_str()), Some("vm"));
    }

    #[test]
    fn a_recovered_slot_is_not_a_problem() {
        let mut swarm = cluster();
        if let Some(task) = swarm.tasks.get_mut("t-wk-c") {
            task.state = "running".into();
        }
        assert!(swarm.failed_tasks().is_empty());
    }

    #[test]
    fn tasks_on_a_node_are_grouped_by_service() {
        let swarm = cluster();
        let groups = swarm.tasks_on_node("n1");
        let names: Vec<(&str, usize)> = groups.iter().map(|(s, t)| (s.as_str(), t.len())).collect();
        // Failed tasks of the past are history, not placement.
        assert_eq!(names, vec![("web", 2), ("worker", 1)]);
    }

    #[test]
    fn jobs_that_finished_are_not_below_desired() {
        let mut swarm = cluster();
        if let Some(worker) = swarm.services.get_mut("s-worker") {
            worker.mode = Some(ServiceMode::ReplicatedJob);
        }
        assert!(!swarm.is_below_desired(&swarm.services["s-worker"]));
    }

    #[test]
    fn changes_are_written_to_the_timeline() {
        let mut history = History::default();
        let first = cluster();
        record_changes(&mut history, None, &first, t(40));
        let events: Vec<String> = history.timeline.iter().map(|e| e.event.clone()).collect();
        assert_eq!(events, vec!["task failed", "task failed"]);

        let mut next = first.clone();
        if let Some(web) = next.services.get_mut("s-web") {
            web.replicas = Some(3);
            web.updated_at = Some(t(50));
        }
        next.tasks.insert("t-web3".into(), task("t-web3", "s-web", 3, "running", "running", 52));
        if let Some(node) = next.nodes.get_mut("n1") {
            node.availability = Some("drain".into());
        }
        record_changes(&mut history, Some(&first), &next, t(55));
        let last: Vec<(String, String, String)> = history
            .timeline
            .iter()
            .skip(2)
            .map(|e| (e.container.clone(), e.event.clone(), e.detail.clone()))
            .collect();
        assert_eq!(
            last,
            vec![
                ("web".into(), "service scale".into(), "2 → 3 replicas".into()),
                ("web.3".into(), "task running".into(), "on vm".into()),
                ("vm".into(), "node update".into(), "ready · drain".into()),
            ]
        );
        // The same view again writes nothing.
        let len = history.timeline.len();
        record_changes(&mut history, Some(&next), &next, t(60));
        assert_eq!(history.timeline.len(), len);
    }
}
