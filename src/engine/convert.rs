//! Turns the engine's API objects into the model's types. Every field may be absent
//! (older engines omit some, newer ones add others): absence stays absence.

use std::collections::BTreeMap;

use bollard::models::{
    ContainerInspectResponse, ContainerSummary, HealthcheckResult, Ipam, Network as ApiNetwork,
    NetworkInspect, PortMap, Volume as ApiVolume,
};
use chrono::{DateTime, Utc};

use crate::model::compose;
use crate::model::{
    Container, ContainerState, Health, HealthProbe, HealthStatus, Healthcheck, Limits, Mount,
    Network, NetworkAttachment, Port, RestartPolicy, Volume,
};

/// Engine timestamps; Go's zero time (`0001-01-01T00:00:00Z`) means "never".
pub fn parse_time(value: Option<&str>) -> Option<DateTime<Utc>> {
    let value = value?.trim();
    if value.is_empty() || value.starts_with("0001-01-01") {
        return None;
    }
    DateTime::parse_from_rfc3339(value).ok().map(|t| t.with_timezone(&Utc))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn positive(value: Option<i64>) -> Option<u64> {
    value.filter(|v| *v > 0).map(|v| v as u64)
}

pub fn container(inspect: ContainerInspectResponse) -> Container {
    let id = inspect.id.unwrap_or_default();
    let name = inspect
        .name
        .map(|n| n.trim_start_matches('/').to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| id.chars().take(12).collect());
    let mut container = Container::new(id, name);
    let config = inspect.config.unwrap_or_default();
    let host = inspect.host_config.unwrap_or_default();
    let state = inspect.state.unwrap_or_default();

    container.image = config.image.clone().unwrap_or_default();
    container.image_id = non_empty(inspect.image.clone());
    container.command = {
        let mut parts: Vec<String> = inspect.path.into_iter().collect();
        parts.extend(inspect.args.unwrap_or_default());
        parts.join(" ")
    };
    container.entrypoint = config.entrypoint.clone().unwrap_or_default();
    container.cmd = config.cmd.clone().unwrap_or_default();
    container.created = parse_time(inspect.created.as_deref());
    container.state =
        state.status.map(|s| ContainerState::parse(s.as_ref())).unwrap_or(ContainerState::Unknown);
    container.exit_code = state.exit_code;
    container.error = non_empty(state.error);
    container.oom_killed = state.oom_killed.unwrap_or(false);
    container.restart_count = inspect.restart_count.unwrap_or(0).max(0) as u64;
    container.started_at = parse_time(state.started_at.as_deref());
    container.finished_at = parse_time(state.finished_at.as_deref());
    container.pid = state.pid.filter(|p| *p > 0).and_then(|p| u32::try_from(p).ok());
    container.healthcheck = config.healthcheck.map(|h| Healthcheck {
        test: h.test.unwrap_or_default(),
        interval_ns: h.interval.filter(|v| *v > 0),
        timeout_ns: h.timeout.filter(|v| *v > 0),
        retries: h.retries.filter(|v| *v > 0),
        start_period_ns: h.start_period.filter(|v| *v > 0),
    });
    if container.healthcheck.as_ref().is_some_and(Healthcheck::is_disabled) {
        container.healthcheck = None;
    }
    container.health = state.health.and_then(|h| {
        let status = h.status.map(|s| HealthStatus::parse(s.as_ref()))?;
        if status == HealthStatus::None {
            return None;
        }
        Some(Health {
            status,
            failing_streak: h.failing_streak.unwrap_or(0).max(0) as u64,
            log: h.log.unwrap_or_default().into_iter().map(probe).collect(),
        })
    });
    container.user = non_empty(config.user);
    container.read_only = host.readonly_rootfs.unwrap_or(false);
    container.privileged = host.privileged.unwrap_or(false);
    container.cap_add = host.cap_add.unwrap_or_default();
    container.restart_policy = host.restart_policy.and_then(|p| {
        let name = p.name.map(|n| n.to_string()).filter(|n| !n.is_empty())?;
        Some(RestartPolicy { name, maximum_retry_count: p.maximum_retry_count.filter(|c| *c > 0) })
    });
    container.network_mode = non_empty(host.network_mode);
    container.labels = config.labels.unwrap_or_default().into_iter().collect::<BTreeMap<_, _>>();
    container.env = config
        .env
        .unwrap_or_default()
        .into_iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (pair, String::new()),
        })
        .collect();
    container.compose = compose::from_labels(&container.labels);

    let network_settings = inspect.network_settings.unwrap_or_default();
    container.ports =
        ports(network_settings.ports.as_ref(), host.port_bindings.as_ref(), config.exposed_ports);
    let mut networks: Vec<NetworkAttachment> = network_settings
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, endpoint)| NetworkAttachment {
            name,
            ip: non_empty(endpoint.ip_address),
            aliases: {
                let mut aliases = endpoint.aliases.unwrap_or_default();
                aliases.extend(endpoint.dns_names.unwrap_or_default());
                // The engine lists the short container id as an alias; it tells nobody anything.
                aliases.retain(|a| !container.id.starts_with(a.as_str()));
                aliases.sort();
                aliases.dedup();
                aliases
            },
        })
        .collect();
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    container.networks = networks;

    container.mounts = inspect
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mount {
            kind: m
                .typ
                .map(|t| t.to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "unknown".into()),
            name: non_empty(m.name),
            source: non_empty(m.source),
            destination: m.destination.unwrap_or_default(),
            read_only: !m.rw.unwrap_or(true),
        })
        .collect();
    container.mounts.sort_by(|a, b| a.destination.cmp(&b.destination));

    container.limits = Limits {
        cpus: match (host.nano_cpus, host.cpu_quota, host.cpu_period) {
            (Some(nano), _, _) if nano > 0 => Some(nano as f64 / 1e9),
            (_, Some(quota), period) if quota > 0 => {
                let period = period.filter(|p| *p > 0).unwrap_or(100_000);
                Some(quota as f64 / period as f64)
            }
            _ => None,
        },
        memory_bytes: positive(host.memory),
        memory_reservation_bytes: positive(host.memory_reservation),
        pids: host.pids_limit.filter(|p| *p > 0),
    };
    container
}

/// What the container list says of a container whose inspect has not answered yet:
/// enough to show its row (name, image, state, labels, ports, networks), marked
/// pending since `now`. Limits, user and timestamps wait for the inspect; so does
/// health, unless the engine lists it (API 1.52 on), without the probes' output.
pub fn summary(summary: ContainerSummary, now: DateTime<Utc>) -> Container {
    let id = summary.id.unwrap_or_default();
    let name = summary
        .names
        .and_then(|names| names.into_iter().next())
        .map(|n| n.trim_start_matches('/').to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| id.chars().take(12).collect());
    let mut container = Container::new(id, name);
    container.image = summary.image.unwrap_or_default();
    container.image_id = non_empty(summary.image_id.clone());
    container.command = summary.command.unwrap_or_default();
    container.created = summary.created.and_then(|s| DateTime::from_timestamp(s, 0));
    container.state =
        summary.state.map(|s| ContainerState::parse(s.as_ref())).unwrap_or(ContainerState::Unknown);
    container.labels = summary.labels.unwrap_or_default().into_iter().collect();
    container.compose = compose::from_labels(&container.labels);
    let mut ports: Vec<Port> = summary
        .ports
        .unwrap_or_default()
        .into_iter()
        .map(|p| Port {
            host_ip: non_empty(p.ip),
            host_port: p.public_port,
            container_port: p.private_port,
            protocol: p
                .typ
                .map(|t| t.to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or("tcp".into()),
        })
        .collect();
    ports.sort_by(|a, b| {
        (a.container_port, &a.protocol, &a.host_ip).cmp(&(
            b.container_port,
            &b.protocol,
            &b.host_ip,
        ))
    });
    ports.dedup();
    container.ports = ports;
    container.network_mode = non_empty(summary.host_config.and_then(|h| h.network_mode));
    let mut networks: Vec<NetworkAttachment> = summary
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, endpoint)| NetworkAttachment {
            name,
            ip: non_empty(endpoint.ip_address),
            aliases: Vec::new(),
        })
        .collect();
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    container.networks = networks;
    container.health = summary.health.and_then(|h| {
        let status = HealthStatus::parse(h.status?.as_ref());
        (status != HealthStatus::None).then(|| Health {
            status,
            failing_streak: h.failing_streak.unwrap_or(0).max(0) as u64,
            log: Vec::new(),
        })
    });
    container.inspect_pending_since = Some(now);
    container
}

/// The container list decoded one container at a time, for a body bollard's models
/// refused as a whole: their enums are closed, so one state or port type newer than
/// them fails every container. Each container loses only what does not decode (see
/// [`decode_leniently`]). `None` when the body is not a list at all.
pub fn summaries_one_by_one(body: &str) -> Option<Vec<ContainerSummary>> {
    let items: Vec<serde_json::Value> = serde_json::from_str(body).ok()?;
    Some(items.into_iter().filter_map(decode_leniently).collect())
}

/// A container inspect bollard's models refused: the container less what does not
/// decode, rather than no container.
pub fn inspect_leniently(body: &str) -> Option<ContainerInspectResponse> {
    decode_leniently(serde_json::from_str(body).ok()?)
}

/// Decodes `value`, leaving out the smallest parts that stop it: a field or list item
/// at a time, the deepest first, so an unknown `State.Status` costs that string and
/// not the whole state. Gives up after a few parts: such a body is not a near miss.
pub fn decode_leniently<T: serde::de::DeserializeOwned>(mut value: serde_json::Value) -> Option<T> {
    const MAX_LEFT_OUT: usize = 8;
    for _ in 0..=MAX_LEFT_OUT {
        match serde_json::from_value::<T>(value.clone()) {
            Ok(decoded) => return Some(decoded),
            Err(_) => value = without_first_failing_part::<T>(&value)?,
        }
    }
    None
}

fn without_first_failing_part<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Option<serde_json::Value> {
    let error = |v: &serde_json::Value| serde_json::from_value::<T>(v.clone()).err();
    let before = error(value)?.to_string();
    let mut parts = Vec::new();
    part_pointers(value, String::new(), &mut parts);
    // Deepest first; among equals, in document order.
    parts.sort_by_key(|pointer| std::cmp::Reverse(pointer.matches('/').count()));
    parts.into_iter().find_map(|pointer| {
        let trial = without_part(value, &pointer)?;
        match error(&trial) {
            None => Some(trial),
            // Not enough alone, but the part the error was about (the error moved on
            // to another): one of several. Leaving out a required field only trades
            // one error for another.
            Some(after) => {
                let after = after.to_string();
                (after != before && !after.starts_with("missing field")).then_some(trial)
            }
        }
    })
}

/// JSON pointers to every field and list item in `value`.
fn part_pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    let children: Vec<(String, &serde_json::Value)> = match value {
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v)).collect()
        }
        serde_json::Value::Array(items) => {
            items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect()
        }
        _ => return,
    };
    for (step, child) in children {
        let pointer = format!("{at}/{step}");
        part_pointers(child, pointer.clone(), out);
        out.push(pointer);
    }
}

fn without_part(value: &serde_json::Value, pointer: &str) -> Option<serde_json::Value> {
    let (parent, last) = pointer.rsplit_once('/')?;
    let mut copy = value.clone();
    match copy.pointer_mut(parent)? {
        serde_json::Value::Object(map) => {
            map.remove(&last.replace("~1", "/").replace("~0", "~"))?;
        }
        serde_json::Value::Array(items) => {
            let index: usize = last.parse().ok()?;
            (index < items.len()).then(|| items.remove(index))?;
        }
        _ => return None,
    }
    Some(copy)
}

fn probe(result: HealthcheckResult) -> HealthProbe {
    HealthProbe {
        start: parse_time(result.start.as_deref()),
        end: parse_time(result.end.as_deref()),
        exit_code: result.exit_code,
        output: result.output.unwrap_or_default(),
    }
}

/// Published ports come from the live port map when running, else from the host
/// config; exposed ports with no binding are listed with no host side.
fn ports(
    live: Option<&PortMap>,
    configured: Option<&PortMap>,
    exposed: Option<Vec<String>>,
) -> Vec<Port> {
    let mut ports = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let bindings = live
        .filter(|m| m.values().any(|b| b.as_ref().is_some_and(|b| !b.is_empty())))
        .or(configured);
    let mut keys: Vec<&String> = Vec::new();
    if let Some(map) = bindings {
        keys.extend(map.keys());
    }
    if let Some(map) = live {
        keys.extend(map.keys());
    }
    let exposed = exposed.unwrap_or_default();
    keys.extend(exposed.iter());
    for key in keys {
        let Some((port, protocol)) = parse_port_key(key) else { continue };
        let mut published = false;
        if let Some(list) = bindings.and_then(|m| m.get(key)).and_then(|b| b.as_ref()) {
            for binding in list {
                let host_port = binding.host_port.as_deref().and_then(|p| p.parse::<u16>().ok());
                if host_port.is_none() {
                    continue;
                }
                let port = Port {
                    host_ip: Some(
                        binding
                            .host_ip
                            .clone()
                            .filter(|ip| !ip.is_empty())
                            .unwrap_or_else(|| "0.0.0.0".into()),
                    ),
                    host_port,
                    container_port: port,
                    protocol: protocol.clone(),
                };
                published = true;
                if seen.insert(port.clone()) {
                    ports.push(port);
                }
            }
        }
        if !published {
            let port = Port { host_ip: None, host_port: None, container_port: port, protocol };
            if !ports
                .iter()
                .any(|p| p.container_port == port.container_port && p.protocol == port.protocol)
                && seen.insert(port.clone())
            {
                ports.push(port);
            }
        }
    }
    ports.sort_by(|a, b| {
        (a.container_port, &a.protocol, &a.host_ip, a.host_port).cmp(&(
            b.container_port,
            &b.protocol,
            &b.host_ip,
            b.host_port,
        ))
    });
    ports
}

fn parse_port_key(key: &str) -> Option<(u16, String)> {
    let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, protocol.to_string()))
}

pub fn network(api: ApiNetwork) -> Network {
    let attachable = api.attachable.unwrap_or(false);
    let network =
        build_network(api.id, api.name, api.driver, api.scope, api.internal, api.ipam, api.labels);
    Network { attachable, ..network }
}

pub fn network_inspect(api: NetworkInspect) -> Network {
    let attachable = api.attachable.unwrap_or(false);
    let network =
        build_network(api.id, api.name, api.driver, api.scope, api.internal, api.ipam, api.labels);
    Network { attachable, ..network }
}

fn build_network(
    id: Option<String>,
    name: Option<String>,
    driver: Option<String>,
    scope: Option<String>,
    internal: Option<bool>,
    ipam: Option<Ipam>,
    labels: Option<std::collections::HashMap<String, String>>,
) -> Network {
    let ipam = ipam.and_then(|i| i.config).unwrap_or_default();
    Network {
        id: id.unwrap_or_default(),
        name: name.unwrap_or_default(),
        driver: non_empty(driver),
        scope: non_empty(scope),
        internal: internal.unwrap_or(false),
        subnets: ipam.iter().filter_map(|c| non_empty(c.subnet.clone())).collect(),
        gateways: ipam.iter().filter_map(|c| non_empty(c.gateway.clone())).collect(),
        labels: labels.unwrap_or_default().into_iter().collect(),
        attachable: false,
    }
}

pub fn volume(api: ApiVolume) -> Volume {
    Volume {
        name: api.name,
        driver: non_empty(Some(api.driver)),
        labels: api.labels.into_iter().collect(),
        mountpoint: non_empty(Some(api.mountpoint)),
        created: parse_time(api.created_at.as_deref()),
        // -1 when the engine did not measure it.
        size: api.usage_data.and_then(|u| u64::try_from(u.size).ok()),
    }
}

/// An image as the image list describes it.
pub fn image_summary(api: bollard::models::ImageSummary) -> crate::model::images::Image {
    crate::model::images::Image {
        id: api.id,
        repo_tags: api.repo_tags,
        repo_digests: api.repo_digests,
        size: u64::try_from(api.size).ok(),
        created: DateTime::from_timestamp(api.created, 0),
        labels: api.labels.into_iter().collect(),
    }
}

/// An image as its inspect describes it.
pub fn image_inspect(api: bollard::models::ImageInspect) -> crate::model::images::Image {
    crate::model::images::Image {
        id: api.id.unwrap_or_default(),
        repo_tags: api.repo_tags.unwrap_or_default(),
        repo_digests: api.repo_digests.unwrap_or_default(),
        size: api.size.and_then(|s| u64::try_from(s).ok()),
        created: parse_time(api.created.as_deref()),
        labels: api.config.and_then(|c| c.labels).unwrap_or_default().into_iter().collect(),
    }
}

/// One layer of an image's history.
pub fn layer(api: bollard::models::ImageHistoryResponseItem) -> crate::model::images::Layer {
    crate::model::images::Layer {
        created: DateTime::from_timestamp(api.created, 0),
        created_by: api.created_by,
        size: u64::try_from(api.size).unwrap_or(0),
        comment: api.comment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(json: &str) -> ContainerInspectResponse {
        serde_json::from_str(json).expect("fixture parses")
    }

    #[test]
    fn zero_times_are_absent() {
        assert_eq!(parse_time(Some("0001-01-01T00:00:00Z")), None);
        assert!(parse_time(Some("2024-05-01T10:00:00.123456789Z")).is_some());
        assert_eq!(parse_time(Some("garbage")), None);
    }

    #[test]
    fn sparse_inspect_becomes_sparse_container() {
        let c = container(inspect(r#"{"Id":"abcdef1234567890","Name":"/web"}"#));
        assert_eq!(c.name, "web");
        assert_eq!(c.state, ContainerState::Unknown);
        assert!(c.health.is_none() && c.user.is_none() && c.limits == Limits::default());
    }

    #[test]
    fn full_inspect_fields() {
        let c = container(inspect(
            r#"{
            "Id":"abcdef1234567890","Name":"/shop-db-1","Path":"docker-entrypoint.sh","Args":["postgres"],
            "State":{"Status":"running","Running":true,"OOMKilled":false,"Pid":4242,"ExitCode":0,
                "StartedAt":"2024-05-01T10:00:00Z","FinishedAt":"0001-01-01T00:00:00Z",
                "Health":{"Status":"unhealthy","FailingStreak":4,"Log":[{"Start":"2024-05-01T10:00:01Z","End":"2024-05-01T10:00:02Z","ExitCode":1,"Output":"no response"}]}},
            "RestartCount":2,
            "HostConfig":{"NanoCpus":500000000,"Memory":268435456,"MemoryReservation":134217728,"PidsLimit":100,
                "ReadonlyRootfs":true,"Privileged":false,"RestartPolicy":{"Name":"unless-stopped","MaximumRetryCount":0},
                "PortBindings":{"5432/tcp":[{"HostIp":"127.0.0.1","HostPort":"15432"}]}},
            "Config":{"User":"postgres","Image":"postgres:16","Env":["POSTGRES_PASSWORD=secret","EMPTY"],
                "ExposedPorts":{"5432/tcp":{},"9187/tcp":{}},
                "Healthcheck":{"Test":["CMD-SHELL","pg_isready"],"Interval":30000000000,"Retries":5},
                "Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"db"}},
            "NetworkSettings":{"Ports":{"5432/tcp":[{"HostIp":"127.0.0.1","HostPort":"15432"}],"9187/tcp":null},
                "Networks":{"shop_backend":{"IPAddress":"172.30.0.2","Aliases":["db","abcdef123456"]}}},
            "Mounts":[{"Type":"volume","Name":"pgdata","Source":"/var/lib/docker/volumes/pgdata/_data","Destination":"/var/lib/postgresql/data","RW":true},
                      {"Type":"bind","Source":"/srv/init.sql","Destination":"/docker-entrypoint-initdb.d/init.sql","RW":false}]
        }"#,
        ));
        assert_eq!(c.name, "shop-db-1");
        assert_eq!(c.command, "docker-entrypoint.sh postgres");
        assert_eq!(c.state, ContainerState::Running);
        assert_eq!(c.pid, Some(4242));
        assert_eq!(c.finished_at, None);
        let health = c.health.as_ref().expect("health");
        assert_eq!((health.status, health.failing_streak), (HealthStatus::Unhealthy, 4));
        assert_eq!(health.log[0].output, "no response");
        assert_eq!(c.healthcheck.as_ref().map(Healthcheck::command).as_deref(), Some("pg_isready"));
        assert_eq!(c.limits.cpus, Some(0.5));
        assert_eq!(c.limits.memory_bytes, Some(256 << 20));
        assert_eq!(c.limits.pids, Some(100));
        assert!(c.read_only);
        assert_eq!(c.restart_policy.as_ref().map(|p| p.name.as_str()), Some("unless-stopped"));
        assert_eq!(c.env[1], ("EMPTY".to_string(), String::new()));
        assert_eq!(c.project(), Some("shop"));
        assert_eq!(
            c.ports,
            vec![
                Port {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(15432),
                    container_port: 5432,
                    protocol: "tcp".into()
                },
                Port {
                    host_ip: None,
                    host_port: None,
                    container_port: 9187,
                    protocol: "tcp".into()
                },
            ]
        );
        assert_eq!(c.networks[0].aliases, vec!["db".to_string()]);
        assert_eq!(c.networks[0].ip.as_deref(), Some("172.30.0.2"));
        assert_eq!(c.mounts.len(), 2);
        assert!(c.mounts.iter().any(|m| m.kind == "bind" && m.read_only));
    }

    #[test]
    fn cpu_quota_gives_cpus() {
        let c =
            container(inspect(r#"{"Id":"a","HostConfig":{"CpuQuota":150000,"CpuPeriod":100000}}"#));
        assert_eq!(c.limits.cpus, Some(1.5));
    }
}
