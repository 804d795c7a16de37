//! `portolan snapshot --format json`. The key names here are a contract that other
//! tools rely on (documented in the README): keys may be added, never renamed.
//! Absent values are `null`, never made up.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::model::secrets::mask_env_value;
use crate::model::{Container, Model};

#[derive(Debug, Clone, Default)]
pub struct JsonOptions {
    pub project: Option<String>,
    pub show_secrets: bool,
}

#[derive(Serialize)]
pub struct Document {
    /// The first engine named (the only one, usually); `hosts` lists them all.
    pub engine: EngineJson,
    pub connection: ConnectionJson,
    /// Every engine followed, in the order named.
    pub hosts: Vec<HostJson>,
    pub containers: Vec<ContainerJson>,
    pub networks: Vec<NetworkJson>,
    pub volumes: Vec<VolumeJson>,
    pub problems: Vec<ProblemJson>,
    pub timeline: Vec<TimelineJson>,
    /// The map's edges: `from` and `to` are container names, `from` is `host` for
    /// ingress; for the other kinds `from` is the dependent, client or proxy.
    pub edges: Vec<EdgeJson>,
    /// Reverse-proxy routes and published ports, each with a verdict.
    pub routes: Vec<RouteJson>,
    /// What could not be read in a proxy's configuration.
    pub route_notes: Vec<RouteNoteJson>,
    /// The audit's security findings, per container, most severe first.
    pub findings: Vec<FindingJson>,
    /// What portolan had to tell the operator on the way (a slower stats source, a
    /// proxy it could not read...), oldest first.
    pub warnings: Vec<WarningJson>,
    /// Only when the engine is a swarm manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm: Option<SwarmJson>,
    pub generated_at: String,
    /// Every image, with the containers that use it (running and stopped).
    pub images: Vec<super::images_json::ImageJson>,
    /// Each engine's disk usage, only when it was read (`--pane disk`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<Vec<super::disk_json::DiskJson>>,
    /// Only with `snapshot --at`: the moment of the record this document shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryJson>,
}

/// The moment a `snapshot --at` shows, and what the record could not show of it.
#[derive(Serialize)]
pub struct HistoryJson {
    pub at: String,
    /// Words when the record holds less than the whole moment (not recorded then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
}

#[derive(Serialize)]
pub struct WarningJson {
    pub at: String,
    pub message: String,
}

#[derive(Serialize)]
pub struct SwarmJson {
    pub nodes: Vec<SwarmNodeJson>,
    pub services: Vec<SwarmServiceJson>,
    pub tasks: Vec<SwarmTaskJson>,
}

#[derive(Serialize)]
pub struct SwarmNodeJson {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: Option<String>,
    /// `active`, `pause` or `drain`.
    pub availability: Option<String>,
    /// `ready`, `down`, `unknown` or `disconnected`.
    pub status: Option<String>,
    pub engine_version: Option<String>,
    pub leader: bool,
}

#[derive(Serialize)]
pub struct SwarmServiceJson {
    pub id: String,
    pub name: String,
    /// `replicated`, `global`, `replicated-job` or `global-job`.
    pub mode: Option<&'static str>,
    pub replicas_running: u64,
    pub replicas_desired: u64,
    pub image: String,
    /// As `docker service ls` writes them: `8080->80/tcp`.
    pub ports: Vec<String>,
    /// `updating`, `paused: <message>`, `completed`... or `null`.
    pub update_status: Option<String>,
    /// The stack (`com.docker.stack.namespace`), if deployed as one.
    pub stack: Option<String>,
}

#[derive(Serialize)]
pub struct SwarmTaskJson {
    pub id: String,
    /// The service's name.
    pub service: String,
    pub slot: Option<u64>,
    /// The node's hostname; `null` while unassigned.
    pub node: Option<String>,
    pub state: String,
    pub desired_state: Option<String>,
    pub error: Option<String>,
    pub exit_code: Option<i64>,
    pub container_id: Option<String>,
    pub updated_at: Option<String>,
}

fn swarm(model: &Model, project: Option<&str>) -> Option<SwarmJson> {
    let swarm = model.swarm.as_ref()?;
    let services: Vec<_> =
        swarm.services_by_name().into_iter().filter(|s| s.in_project(project)).collect();
    let mut tasks: Vec<_> =
        swarm.tasks.values().filter(|t| services.iter().any(|s| s.id == t.service_id)).collect();
    tasks.sort_by(|a, b| {
        swarm
            .service_name(&a.service_id)
            .cmp(&swarm.service_name(&b.service_id))
            .then(a.slot.cmp(&b.slot))
            .then(b.updated_at.cmp(&a.updated_at))
            .then(a.id.cmp(&b.id))
    });
    Some(SwarmJson {
        nodes: swarm
            .nodes_sorted()
            .into_iter()
            .map(|n| SwarmNodeJson {
                id: n.id.clone(),
                hostname: n.hostname.clone(),
                role: n.role.clone(),
                availability: n.availability.clone(),
                status: n.status.clone(),
                engine_version: n.engine_version.clone(),
                leader: n.leader,
            })
            .collect(),
        services: services
            .iter()
            .map(|s| {
                let (running, desired) = swarm.replicas(s);
                SwarmServiceJson {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    mode: s.mode.map(|m| m.as_str()),
                    replicas_running: running,
                    replicas_desired: desired,
                    image: s.image.clone(),
                    ports: s.ports.iter().map(|p| p.label()).collect(),
                    update_status: s.update_status(),
                    stack: s.stack().map(String::from),
                }
            })
            .collect(),
        tasks: tasks
            .into_iter()
            .map(|t| SwarmTaskJson {
                id: t.id.clone(),
                service: swarm.service_name(&t.service_id),
                slot: t.slot,
                node: t.node_id.as_deref().map(|n| swarm.node_name(Some(n))),
                state: t.state.clone(),
                desired_state: t.desired_state.clone(),
                error: t.error.clone(),
                exit_code: t.exit_code,
                container_id: t.container_id.clone(),
                updated_at: time(t.updated_at),
            })
            .collect(),
    })
}

#[derive(Serialize)]
pub struct RouteJson {
    /// The proxy's container name; `host` for a published port.
    pub proxy: String,
    /// `traefik`, `nginx` or `port`.
    pub kind: &'static str,
    /// The name of the engine the route lives on (see `hosts`); a route never leaves
    /// its engine. Not to be confused with `host`, the HTTP host it matches.
    pub engine: String,
    pub entrypoint: String,
    pub host: Option<String>,
    pub path: Option<String>,
    pub rule: Option<String>,
    /// The rule in words.
    pub matches: String,
    pub middlewares: Vec<String>,
    /// `null` when TLS is not terminated here; else the certificate resolver or `tls`.
    pub tls: Option<String>,
    /// The Traefik router, or the nginx file:line and location.
    pub name: Option<String>,
    pub target_container: Option<String>,
    pub target_port: Option<u16>,
    /// What the route reaches, as the pane shows it.
    pub target: String,
    pub target_state: Option<String>,
    pub websocket: bool,
    /// `ok` or `broken`.
    pub status: &'static str,
    pub reason: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct RouteNoteJson {
    pub proxy: String,
    /// The name of the engine the proxy runs on (see `hosts`).
    pub engine: String,
    pub message: String,
}

fn routes(model: &Model, project: Option<&str>) -> (Vec<RouteJson>, Vec<RouteNoteJson>) {
    let table = crate::routes::table::RouteTable::build_for(model, project);
    let routes = table
        .routes
        .into_iter()
        .map(|r| RouteJson {
            proxy: r.proxy_container.unwrap_or(r.proxy),
            kind: r.kind.as_str(),
            engine: model.host(r.host_id).name.clone(),
            entrypoint: r.entrypoint,
            host: r.host,
            path: r.path,
            rule: r.rule,
            matches: r.matches,
            middlewares: r.middlewares,
            tls: r.tls,
            name: r.name,
            target_container: r.target_name,
            target_port: r.target_port,
            target: r.target,
            target_state: r.target_state,
            websocket: r.websocket,
            status: if r.verdict.is_ok() { "ok" } else { "broken" },
            reason: r.verdict.reason().map(str::to_string),
            note: r.note,
        })
        .collect();
    let notes = table
        .notes
        .into_iter()
        .map(|n| {
            // The container name, as `routes` names proxies; the shown name otherwise.
            let proxy = n
                .proxy_id
                .as_ref()
                .and_then(|id| model.containers.get(id))
                .map_or(n.proxy, |c| c.name.clone());
            RouteNoteJson { proxy, engine: model.host(n.host_id).name.clone(), message: n.message }
        })
        .collect();
    (routes, notes)
}

#[derive(Serialize)]
pub struct FindingJson {
    /// The name of the engine the container is on (see `hosts`).
    pub host: String,
    pub container: String,
    pub project: Option<String>,
    /// A stable check name: `privileged`, `docker_socket`, `data_store_exposed`...
    pub check: &'static str,
    /// `high`, `medium`, `low` or `info`.
    pub severity: &'static str,
    pub message: String,
}

fn findings(model: &Model, project: Option<&str>) -> Vec<FindingJson> {
    crate::audit::findings_where(model, |c| c.in_project(project))
        .into_iter()
        .map(|f| FindingJson {
            host: model
                .containers
                .get(&f.container_id)
                .map_or_else(String::new, |c| model.host_name(c).to_string()),
            container: f.container,
            project: f.project,
            check: f.check.as_str(),
            severity: f.severity.as_str(),
            message: f.message,
        })
        .collect()
}

#[derive(Serialize)]
pub struct EdgeJson {
    /// The engine both ends live on (edges never span two).
    pub engine: String,
    pub from: String,
    pub to: String,
    /// `depends_on`, `connection`, `ingress` or `route`.
    pub kind: &'static str,
    pub label: String,
    pub ok: Option<bool>,
}

fn edges(model: &Model, project: Option<&str>) -> Vec<EdgeJson> {
    use crate::topology::{End, Filter, derive};
    let graph = derive(model, &Filter { project, text: None });
    let name = |i: usize| graph.nodes.get(i).map_or_else(String::new, |n| n.container.clone());
    graph
        .edges
        .iter()
        .map(|e| EdgeJson {
            engine: graph
                .nodes
                .get(e.to)
                .map_or_else(String::new, |n| model.host(n.host).name.clone()),
            from: match e.from {
                End::Host => "host".to_string(),
                End::Node(i) => name(i),
            },
            to: name(e.to),
            kind: e.kind.as_str(),
            label: e.label.clone(),
            ok: e.ok,
        })
        .collect()
}

#[derive(Serialize)]
pub struct ProblemJson {
    /// The container; for `service_degraded` the swarm service, for `task_failed` the
    /// task (`service.slot`), for `host_unreachable` the engine.
    pub container: String,
    pub project: Option<String>,
    /// The name of the engine it is on (see `hosts`); for a swarm problem, the manager.
    pub host: String,
    /// `host_unreachable`, `oom_killed`, `crashloop`, `unhealthy`, `exited`,
    /// `dependency_down`, `service_degraded` or `task_failed`.
    pub kind: &'static str,
    /// When the bad state began (see the README's "What since means").
    pub since: Option<String>,
    /// `since` was inferred from the engine's counters, not read off a timestamp.
    pub since_reconstructed: bool,
    pub detail: String,
}

#[derive(Serialize)]
pub struct TimelineJson {
    pub time: String,
    /// The name of the engine it happened on; `null` for a swarm's services and tasks.
    pub host: Option<String>,
    pub container: String,
    pub project: Option<String>,
    pub service: Option<String>,
    pub event: String,
    pub detail: String,
    pub reconstructed: bool,
}

#[derive(Serialize)]
pub struct EngineJson {
    pub endpoint: String,
    /// `docker` or `podman`, from the engine's `/version`; `null` when it did not say.
    pub engine_kind: Option<&'static str>,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub cpus: Option<u32>,
    pub memory_bytes: Option<u64>,
}

#[derive(Serialize)]
pub struct HostJson {
    pub name: String,
    pub endpoint: String,
    pub connected: bool,
    /// Since when it is connected, connecting or unreachable.
    pub since: String,
    /// Why it is not connected, in words.
    pub reason: Option<String>,
    /// `docker` or `podman`, from the engine's `/version`; `null` when it did not say.
    pub engine_kind: Option<&'static str>,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub hostname: Option<String>,
    /// The name of the engine this one turned out to be (the same containers at
    /// another address); its containers are listed under that one only.
    pub same_as: Option<String>,
}

#[derive(Serialize)]
pub struct ConnectionJson {
    pub connected: bool,
    pub since: String,
    pub reason: Option<String>,
}

#[derive(Serialize)]
pub struct ContainerJson {
    /// The name of the engine it lives on (see `hosts`).
    pub host: String,
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: String,
    pub created: Option<String>,
    pub state: &'static str,
    pub status: String,
    /// Since when the engine has not answered this container's inspect: the rest is
    /// then what the container list said (health, limits and the like missing).
    pub inspect_pending_since: Option<String>,
    pub health: HealthJson,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub restart_count: u64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub user: Option<String>,
    pub read_only: bool,
    pub privileged: bool,
    pub restart_policy: Option<String>,
    /// The compose project; for a Podman pod's container without compose labels,
    /// the pod (its `service` is then the container's name).
    pub project: Option<String>,
    pub service: Option<String>,
    /// The Podman pod it is in; `null` elsewhere.
    pub pod: Option<String>,
    pub container_number: Option<u32>,
    pub depends_on: Vec<String>,
    pub depends_on_conditions: Vec<DependencyJson>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub env: Vec<EnvJson>,
    pub ports: Vec<PortJson>,
    pub networks: Vec<NetworkAttachmentJson>,
    pub mounts: Vec<MountJson>,
    pub limits: LimitsJson,
    pub stats: Option<StatsJson>,
}

#[derive(Serialize)]
pub struct DependencyJson {
    pub service: String,
    pub condition: &'static str,
    pub required: bool,
}

#[derive(Serialize)]
pub struct EnvJson {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct HealthJson {
    pub status: &'static str,
    pub failing_streak: Option<u64>,
    pub log: Vec<ProbeJson>,
    pub test: Option<Vec<String>>,
    pub interval_ns: Option<i64>,
    pub timeout_ns: Option<i64>,
    pub retries: Option<i64>,
    pub start_period_ns: Option<i64>,
}

#[derive(Serialize)]
pub struct ProbeJson {
    pub start: Option<String>,
    pub end: Option<String>,
    pub exit_code: Option<i64>,
    pub output: String,
}

#[derive(Serialize)]
pub struct PortJson {
    pub host_ip: Option<String>,
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub protocol: String,
}

#[derive(Serialize)]
pub struct NetworkAttachmentJson {
    pub name: String,
    pub ip: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Serialize)]
pub struct MountJson {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub source: Option<String>,
    pub destination: String,
    pub read_only: bool,
}

#[derive(Serialize)]
pub struct LimitsJson {
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub memory_reservation_bytes: Option<u64>,
    pub pids: Option<i64>,
}

#[derive(Serialize)]
pub struct StatsJson {
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
    pub block_read_bytes: Option<u64>,
    pub block_write_bytes: Option<u64>,
    pub pids: Option<u64>,
    pub sampled_at: String,
    /// Where the figures came from: "cgroup files", "host cgroup files over ssh" or
    /// "engine API".
    pub source: &'static str,
}

#[derive(Serialize)]
pub struct NetworkJson {
    pub host: String,
    pub name: String,
    pub id: String,
    pub driver: Option<String>,
    pub scope: Option<String>,
    pub internal: bool,
    pub subnets: Vec<String>,
    pub gateways: Vec<String>,
    pub containers: Vec<String>,
    pub attachable: bool,
    /// No container is on it (never said of `bridge`, `host` and `none`).
    pub unused: bool,
    /// The containers on it, with their addresses.
    pub members: Vec<super::images_json::MemberJson>,
}

#[derive(Serialize)]
pub struct VolumeJson {
    pub host: String,
    pub name: String,
    pub driver: Option<String>,
    pub used_by: Vec<String>,
    /// Bytes, when the engine measured them.
    pub size: Option<u64>,
    pub mountpoint: Option<String>,
    pub created: Option<String>,
    /// No container mounts it.
    pub orphan: bool,
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

pub fn document(model: &Model, now: DateTime<Utc>, options: &JsonOptions) -> Document {
    let project = options.project.as_deref();
    // Listed as the panes list them: by engine, then by name in natural order.
    let mut listed: Vec<&crate::model::Container> =
        model.containers.values().filter(|c| c.in_project(project)).collect();
    listed.sort_by(|a, b| {
        a.host.cmp(&b.host).then_with(|| crate::model::natural::natural_cmp(&a.name, &b.name))
    });
    let containers: Vec<ContainerJson> =
        listed.into_iter().map(|c| container(model, c, now, options.show_secrets)).collect();
    let shown: std::collections::BTreeSet<(usize, &str)> = model
        .containers
        .values()
        .filter(|c| c.in_project(project))
        .map(|c| (c.host, c.name.as_str()))
        .collect();
    let networks = model
        .networks
        .iter()
        .filter_map(|(&(host, _), n)| {
            let members: Vec<String> = model
                .network_members(host, &n.name)
                .into_iter()
                .filter(|name| shown.contains(&(host, name)))
                .map(String::from)
                .collect();
            // With a project filter, only the networks that project uses are listed.
            if project.is_some() && members.is_empty() {
                return None;
            }
            Some(NetworkJson {
                host: model.host(host).name.clone(),
                name: n.name.clone(),
                id: n.id.clone(),
                driver: n.driver.clone(),
                scope: n.scope.clone(),
                internal: n.internal,
                subnets: n.subnets.clone(),
                gateways: n.gateways.clone(),
                attachable: n.attachable,
                unused: members.is_empty()
                    && !crate::ui::panes::networks::BUILT_IN.contains(&n.name.as_str()),
                members: super::images_json::members(model, host, &n.name)
                    .into_iter()
                    .filter(|m| shown.contains(&(host, m.container.as_str())))
                    .collect(),
                containers: members,
            })
        })
        .collect();
    let volumes = model
        .volumes
        .iter()
        .filter_map(|(&(host, _), v)| {
            let used_by: Vec<String> = model
                .volume_users(host, &v.name)
                .into_iter()
                .filter(|name| shown.contains(&(host, name)))
                .map(String::from)
                .collect();
            if project.is_some() && used_by.is_empty() {
                return None;
            }
            Some(VolumeJson {
                host: model.host(host).name.clone(),
                name: v.name.clone(),
                driver: v.driver.clone(),
                orphan: used_by.is_empty(),
                used_by,
                size: v.size,
                mountpoint: v.mountpoint.clone(),
                created: super::images_json::created(v.created),
            })
        })
        .collect();
    let connection = |host: &crate::model::Host| match &host.connection {
        crate::model::Connection::Connected { since } => (true, *since, None),
        crate::model::Connection::Connecting { since } => (false, *since, None),
        crate::model::Connection::Disconnected { since, reason } => {
            (false, *since, Some(reason.clone()))
        }
    };
    let first = model.host(0);
    let (connected, since, reason) = connection(first);
    let (routes, route_notes) = routes(model, project);
    Document {
        engine: EngineJson {
            endpoint: first.engine.endpoint.clone(),
            engine_kind: first.engine.kind.key(),
            version: first.engine.version.clone(),
            api_version: first.engine.api_version.clone(),
            hostname: first.engine.hostname.clone(),
            os: first.engine.os.clone(),
            cpus: first.engine.cpus,
            memory_bytes: first.engine.memory_bytes,
        },
        connection: ConnectionJson {
            connected,
            since: since.to_rfc3339_opts(SecondsFormat::Millis, true),
            reason,
        },
        hosts: model
            .hosts
            .iter()
            .map(|host| {
                let (connected, since, reason) = connection(host);
                HostJson {
                    name: host.name.clone(),
                    endpoint: host.engine.endpoint.clone(),
                    connected,
                    since: since.to_rfc3339_opts(SecondsFormat::Millis, true),
                    reason,
                    engine_kind: host.engine.kind.key(),
                    version: host.engine.version.clone(),
                    api_version: host.engine.api_version.clone(),
                    hostname: host.engine.hostname.clone(),
                    same_as: host.same_as.map(|other| model.host(other).name.clone()),
                }
            })
            .collect(),
        containers,
        networks,
        volumes,
        problems: crate::triage::problems(model, now, project)
            .into_iter()
            .map(|p| ProblemJson {
                host: model.host(p.host).name.clone(),
                container: p.container,
                project: p.project,
                kind: p.kind.as_str(),
                since: time(p.since.map(|s| s.at)),
                since_reconstructed: p.since.is_some_and(|s| s.reconstructed),
                detail: p.detail,
            })
            .collect(),
        timeline: crate::timeline::incidents(model, project, None)
            .into_iter()
            .map(|e| TimelineJson {
                time: e.time.to_rfc3339_opts(SecondsFormat::Millis, true),
                host: e.host.map(|h| model.host(h).name.clone()),
                container: e.container.clone(),
                project: e.project.clone(),
                service: e.service.clone(),
                event: e.event.clone(),
                detail: e.detail.clone(),
                reconstructed: e.reconstructed,
            })
            .collect(),
        edges: edges(model, project),
        routes,
        route_notes,
        findings: findings(model, project),
        warnings: model
            .warnings
            .iter()
            .map(|w| WarningJson {
                at: w.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                message: w.message.clone(),
            })
            .collect(),
        swarm: swarm(model, project),
        generated_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        images: super::images_json::images(model, project),
        disk: super::disk_json::disk(model),
        history: None,
    }
}

fn container(
    model: &Model,
    c: &Container,
    now: DateTime<Utc>,
    show_secrets: bool,
) -> ContainerJson {
    let check = c.healthcheck.as_ref();
    let stats = model.stats.get(&c.id).and_then(|s| {
        // Prefer the newest point that has a CPU figure; the gauges are as fresh.
        let point = s.latest_with_cpu().or_else(|| s.latest())?;
        Some(StatsJson {
            cpu_percent: point.cpu_percent.map(|v| (v * 100.0).round() / 100.0),
            memory_bytes: point.memory_bytes,
            memory_limit_bytes: point.memory_limit_bytes,
            net_rx_bytes: point.net_rx_bytes,
            net_tx_bytes: point.net_tx_bytes,
            block_read_bytes: point.block_read_bytes,
            block_write_bytes: point.block_write_bytes,
            pids: point.pids,
            sampled_at: point.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            source: point.source.as_str(),
        })
    });
    ContainerJson {
        host: model.host_name(c).to_string(),
        id: c.id.clone(),
        name: c.name.clone(),
        image: c.image.clone(),
        command: c.command.clone(),
        created: time(c.created),
        state: c.state.as_str(),
        status: c.status_text(now),
        inspect_pending_since: time(c.inspect_pending_since),
        health: HealthJson {
            status: c.health_status().as_str(),
            failing_streak: c.health.as_ref().map(|h| h.failing_streak),
            log: c
                .health
                .as_ref()
                .map(|h| {
                    h.log
                        .iter()
                        .map(|p| ProbeJson {
                            start: time(p.start),
                            end: time(p.end),
                            exit_code: p.exit_code,
                            output: p.output.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            test: check.map(|h| h.test.clone()),
            interval_ns: check.and_then(|h| h.interval_ns),
            timeout_ns: check.and_then(|h| h.timeout_ns),
            retries: check.and_then(|h| h.retries),
            start_period_ns: check.and_then(|h| h.start_period_ns),
        },
        exit_code: c.exit_code,
        oom_killed: c.oom_killed,
        restart_count: c.restart_count,
        started_at: time(c.started_at),
        finished_at: time(c.finished_at),
        user: c.user.clone(),
        read_only: c.read_only,
        privileged: c.privileged,
        restart_policy: c.restart_policy.as_ref().map(|p| p.name.clone()),
        project: c.project().map(String::from),
        service: c.service().map(String::from),
        pod: c.pod.clone(),
        container_number: c.compose.as_ref().and_then(|i| i.container_number),
        depends_on: c.depends_on().iter().map(|d| d.service.clone()).collect(),
        depends_on_conditions: c
            .depends_on()
            .iter()
            .map(|d| DependencyJson {
                service: d.service.clone(),
                condition: d.condition.as_str(),
                required: d.required,
            })
            .collect(),
        labels: c.labels.clone(),
        env: c
            .env
            .iter()
            .map(|(key, value)| EnvJson {
                key: key.clone(),
                value: if show_secrets { value.clone() } else { mask_env_value(key, value) },
            })
            .collect(),
        ports: c
            .ports
            .iter()
            .map(|p| PortJson {
                host_ip: p.host_ip.clone(),
                host_port: p.host_port,
                container_port: p.container_port,
                protocol: p.protocol.clone(),
            })
            .collect(),
        networks: c
            .networks
            .iter()
            .map(|n| NetworkAttachmentJson {
                name: n.name.clone(),
                ip: n.ip.clone(),
                aliases: n.aliases.clone(),
            })
            .collect(),
        mounts: c
            .mounts
            .iter()
            .map(|m| MountJson {
                kind: m.kind.clone(),
                name: m.name.clone(),
                source: m.source.clone(),
                destination: m.destination.clone(),
                read_only: m.read_only,
            })
            .collect(),
        limits: LimitsJson {
            cpus: c.limits.cpus,
            memory_bytes: c.limits.memory_bytes,
            memory_reservation_bytes: c.limits.memory_reservation_bytes,
            pids: c.limits.pids,
        },
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Update;
    use crate::model::swarm::fixtures::{cluster, t};

    #[test]
    fn swarm_is_present_only_on_a_manager() {
        let mut model = Model::new("x", t(0));
        let plain = serde_json::to_value(document(&model, t(60), &JsonOptions::default()))
            .unwrap_or_default();
        assert!(plain.get("swarm").is_none());

        model.apply(Update::Swarm { at: t(40), swarm: Some(Box::new(cluster())) });
        let json = serde_json::to_value(document(&model, t(60), &JsonOptions::default()))
            .unwrap_or_default();
        let swarm = &json["swarm"];
        assert_eq!(
            swarm["nodes"][0],
            serde_json::json!({
                "id": "n1", "hostname": "vm", "role": "manager", "availability": "active",
                "status": "ready", "engine_version": "20.10.24", "leader": true
            })
        );
        assert_eq!(
            swarm["services"][0],
            serde_json::json!({
                "id": "s-web", "name": "web", "mode": "replicated", "replicas_running": 2,
                "replicas_desired": 2, "image": "nginx:1.27", "ports": ["8080->80/tcp"],
                "update_status": null, "stack": null
            })
        );
        let tasks = swarm["tasks"].as_array().cloned().unwrap_or_default();
        assert_eq!(tasks.len(), 5);
        let failed = tasks.iter().find(|t| t["id"] == "t-wk-b").cloned().unwrap_or_default();
        assert_eq!(
            failed,
            serde_json::json!({
                "id": "t-wk-b", "service": "worker", "slot": 1, "node": "vm", "state": "failed",
                "desired_state": "shutdown", "error": "task: non-zero exit (1)", "exit_code": 1,
                "container_id": null, "updated_at": "2025-10-09T08:53:45.000Z"
            })
        );
        let kinds: Vec<&str> = json["problems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["kind"].as_str())
            .collect();
        assert_eq!(kinds, vec!["service_degraded", "task_failed"]);
    }

    #[test]
    fn problems_and_timeline_entries_name_their_engine() {
        let model = crate::topology::fixtures::three_hosts();
        let json = serde_json::to_value(document(
            &model,
            crate::topology::fixtures::now(),
            &JsonOptions::default(),
        ))
        .unwrap_or_default();
        let problems = json["problems"].as_array().cloned().unwrap_or_default();
        assert!(!problems.is_empty());
        assert!(problems.iter().all(|p| p["host"].is_string()), "{problems:?}");
        let lost = problems.iter().find(|p| p["kind"] == "host_unreachable");
        let lost = lost.cloned().unwrap_or_default();
        assert_eq!(lost["host"], "edge");
        assert_eq!(lost["container"], "edge");
        assert!(lost["since"].is_string() && lost["detail"].is_string(), "{lost}");
        let timeline = json["timeline"].as_array().cloned().unwrap_or_default();
        assert!(
            timeline.iter().any(|e| e["host"] == "edge" && e["event"] == "host unreachable"),
            "{timeline:?}"
        );
        assert!(timeline.iter().any(|e| e["host"] == "db2"));
        let routes = json["routes"].as_array().cloned().unwrap_or_default();
        let engines: std::collections::BTreeSet<&str> =
            routes.iter().filter_map(|r| r["engine"].as_str()).collect();
        assert_eq!(engines, ["db2", "edge", "local"].into_iter().collect());
    }

    #[test]
    fn with_three_engines_everything_says_which() {
        let model = crate::topology::fixtures::three_hosts();
        let doc = serde_json::to_value(document(
            &model,
            crate::topology::fixtures::now(),
            &JsonOptions::default(),
        ))
        .unwrap_or_default();
        let names: Vec<&str> = doc["hosts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h["name"].as_str())
            .collect();
        assert_eq!(names, ["local", "db2", "edge"]);
        assert_eq!(doc["hosts"][2]["connected"], false);
        for list in ["containers", "networks", "volumes", "problems", "findings"] {
            let items = doc[list].as_array().cloned().unwrap_or_default();
            assert!(!items.is_empty(), "{list} is empty");
            for item in items {
                let host = item["host"].as_str().unwrap_or_default();
                assert!(names.contains(&host), "{list}: {item}");
            }
        }
        let edges = doc["edges"].as_array().cloned().unwrap_or_default();
        assert!(edges.iter().any(|e| e["engine"] == "db2"), "db2's edges are named");
        assert!(edges.iter().all(|e| names.contains(&e["engine"].as_str().unwrap_or_default())));
    }

    #[test]
    fn the_snapshot_lists_findings_and_respects_the_project_filter() {
        use crate::audit::tests::{hardened, model_with};
        use crate::model::ComposeInfo;
        let mut api = hardened("a", "shop-api-1");
        api.compose = Some(ComposeInfo {
            project: "shop".into(),
            service: "api".into(),
            ..ComposeInfo::default()
        });
        api.env = vec![("JWT_SECRET".into(), "topsecret".into())];
        let mut other = hardened("b", "blog-web-1");
        other.compose = Some(ComposeInfo {
            project: "blog".into(),
            service: "web".into(),
            ..ComposeInfo::default()
        });
        other.privileged = true;
        let model = model_with(vec![api, other], Vec::new());
        let now = chrono::Utc::now();
        let json = |project: Option<&str>| {
            let options = JsonOptions { project: project.map(String::from), show_secrets: true };
            serde_json::to_value(document(&model, now, &options)).unwrap()
        };
        let all = json(None);
        assert_eq!(all["findings"].as_array().unwrap().len(), 2, "{:#}", all["findings"]);
        let shop = json(Some("shop"));
        let findings = shop["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0]["container"], "shop-api-1");
        assert_eq!(findings[0]["project"], "shop");
        assert_eq!(findings[0]["check"], "plain_secret");
        assert_eq!(findings[0]["severity"], "medium");
        let message = findings[0]["message"].as_str().unwrap();
        assert!(message.contains("JWT_SECRET") && !message.contains("topsecret"), "{message}");
    }
}
