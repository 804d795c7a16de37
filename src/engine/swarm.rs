//! Reads a swarm manager's cluster (nodes, services, tasks) and turns the API objects
//! into the model's types. Every field may be absent: absence stays absence.

use std::time::Duration;

use bollard::Docker;
use bollard::models::{LocalNodeState, Node, Service, Task};
use bollard::query_parameters::{ListNodesOptions, ListServicesOptions, ListTasksOptions};

use super::convert::parse_time;
use super::error::EngineError;
use crate::model::{ServiceMode, ServicePort, Swarm, SwarmNode, SwarmService, SwarmTask};

/// Task state changes have no events in API 1.41 (only services and nodes do), so
/// while a swarm is present its tasks are re-listed this often: slow enough to cost
/// nothing next to the engine's own work, quick enough that a failing task shows
/// before an operator has finished reading the screen.
pub const TASK_REFRESH: Duration = Duration::from_secs(5);
/// An engine that is not a manager is asked again this often: `docker swarm init`
/// sends no event either.
pub const MANAGER_RECHECK: Duration = Duration::from_secs(30);

/// Whether the engine is a swarm manager now (only managers can list the cluster).
pub async fn is_manager(docker: &Docker) -> bool {
    let Ok(info) = docker.info().await else { return false };
    let Some(swarm) = info.swarm else { return false };
    swarm.control_available.unwrap_or(false)
        && swarm.local_node_state.is_none_or(|s| s == LocalNodeState::ACTIVE)
}

/// The whole cluster, or `Ok(None)` when the engine is not a manager (any more).
pub async fn read(docker: &Docker) -> Result<Option<Swarm>, EngineError> {
    if !is_manager(docker).await {
        return Ok(None);
    }
    let services_options = ListServicesOptions { filters: None, status: Some(true) };
    let (nodes, services, tasks) = tokio::join!(
        docker.list_nodes(None::<ListNodesOptions>),
        docker.list_services(Some(services_options)),
        docker.list_tasks(None::<ListTasksOptions>),
    );
    let not_manager = |e: &bollard::errors::Error| {
        // Demoted or left between the info and the lists.
        matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 503, .. })
    };
    let nodes = match nodes {
        Ok(nodes) => nodes,
        Err(e) if not_manager(&e) => return Ok(None),
        Err(e) => return Err(EngineError::from(e).during("list swarm nodes")),
    };
    let services = services.map_err(|e| EngineError::from(e).during("list services"))?;
    let tasks = tasks.map_err(|e| EngineError::from(e).during("list tasks"))?;
    let mut swarm = Swarm::default();
    for node in nodes.into_iter().filter_map(node) {
        swarm.nodes.insert(node.id.clone(), node);
    }
    for service in services.into_iter().filter_map(service) {
        swarm.services.insert(service.id.clone(), service);
    }
    for task in tasks.into_iter().filter_map(task) {
        swarm.tasks.insert(task.id.clone(), task);
    }
    Ok(Some(swarm))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

pub fn node(node: Node) -> Option<SwarmNode> {
    let id = node.id?;
    let spec = node.spec.unwrap_or_default();
    let description = node.description.unwrap_or_default();
    let status = node.status.unwrap_or_default();
    let manager = node.manager_status.unwrap_or_default();
    let hostname = non_empty(description.hostname)
        .or_else(|| non_empty(spec.name.clone()))
        .unwrap_or_else(|| id.chars().take(12).collect());
    Some(SwarmNode {
        hostname,
        role: spec.role.map(|r| r.to_string()).and_then(|r| non_empty(Some(r))),
        availability: spec.availability.map(|a| a.to_string()).and_then(|a| non_empty(Some(a))),
        status: status.state.map(|s| s.to_string()).and_then(|s| non_empty(Some(s))),
        status_message: non_empty(status.message),
        engine_version: description.engine.and_then(|e| non_empty(e.engine_version)),
        leader: manager.leader.unwrap_or(false),
        addr: non_empty(status.addr),
        id,
    })
}

pub fn service(service: Service) -> Option<SwarmService> {
    let id = service.id?;
    let spec = service.spec.unwrap_or_default();
    let mode = spec.mode.as_ref().and_then(|m| {
        if m.replicated.is_some() {
            Some(ServiceMode::Replicated)
        } else if m.global.is_some() {
            Some(ServiceMode::Global)
        } else if m.replicated_job.is_some() {
            Some(ServiceMode::ReplicatedJob)
        } else if m.global_job.is_some() {
            Some(ServiceMode::GlobalJob)
        } else {
            None
        }
    });
    let replicas = spec
        .mode
        .as_ref()
        .and_then(|m| m.replicated.as_ref())
        .and_then(|r| r.replicas)
        .and_then(|r| u64::try_from(r).ok());
    let image = spec
        .task_template
        .as_ref()
        .and_then(|t| t.container_spec.as_ref())
        .and_then(|c| c.image.clone())
        .map(|i| strip_digest(&i).to_string())
        .unwrap_or_default();
    let ports = service
        .endpoint
        .and_then(|e| e.ports)
        .unwrap_or_default()
        .into_iter()
        .map(|p| ServicePort {
            published: p.published_port.and_then(|v| u16::try_from(v).ok()).filter(|v| *v > 0),
            target: p.target_port.and_then(|v| u16::try_from(v).ok()),
            protocol: p.protocol.map_or("tcp".to_string(), |p| p.to_string()),
            mode: p.publish_mode.map(|m| m.to_string()).and_then(|m| non_empty(Some(m))),
        })
        .collect();
    let status = service.service_status;
    let update = service.update_status;
    Some(SwarmService {
        name: non_empty(spec.name).unwrap_or_else(|| id.chars().take(12).collect()),
        mode,
        replicas,
        running_tasks: status.as_ref().and_then(|s| s.running_tasks),
        desired_tasks: status.as_ref().and_then(|s| s.desired_tasks),
        image,
        ports,
        update_state: update
            .as_ref()
            .and_then(|u| u.state.as_ref())
            .map(|s| s.to_string())
            .and_then(|s| non_empty(Some(s))),
        update_message: update.and_then(|u| non_empty(u.message)),
        labels: spec.labels.unwrap_or_default().into_iter().collect(),
        created_at: parse_time(service.created_at.as_deref()),
        updated_at: parse_time(service.updated_at.as_deref()),
        id,
    })
}

/// `nginx:1.27@sha256:…` reads as `nginx:1.27`: the digest is for machines.
fn strip_digest(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}

pub fn task(task: Task) -> Option<SwarmTask> {
    let id = task.id?;
    let status = task.status.unwrap_or_default();
    let container = status.container_status.unwrap_or_default();
    let state = status.state.map(|s| s.to_string()).unwrap_or_else(|| "unknown".to_string());
    // A task still running has exit code 0 in its status: that is not an exit.
    let finished = matches!(state.as_str(), "failed" | "complete" | "shutdown" | "rejected");
    Some(SwarmTask {
        service_id: task.service_id.unwrap_or_default(),
        slot: task.slot.and_then(|s| u64::try_from(s).ok()).filter(|s| *s > 0),
        node_id: non_empty(task.node_id),
        state,
        desired_state: task.desired_state.map(|s| s.to_string()),
        message: non_empty(status.message),
        error: non_empty(status.err),
        exit_code: container.exit_code.filter(|_| finished),
        container_id: non_empty(container.container_id),
        updated_at: parse_time(status.timestamp.as_deref())
            .or_else(|| parse_time(task.updated_at.as_deref())),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_objects_convert_with_absent_fields_absent() {
        let service_json = r#"{
            "ID": "s1", "CreatedAt": "2026-11-22T18:57:45.8Z", "UpdatedAt": "0001-01-01T00:00:00Z",
            "Spec": {"Name": "web", "Mode": {"Replicated": {"Replicas": 2}},
                     "TaskTemplate": {"ContainerSpec": {"Image": "nginx:1.27@sha256:abc"}}},
            "Endpoint": {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "ingress"}]},
            "ServiceStatus": {"RunningTasks": 1, "DesiredTasks": 2},
            "UpdateStatus": {"State": "paused", "Message": "update paused due to failure"}
        }"#;
        let api: Service = serde_json::from_str(service_json).unwrap();
        let s = service(api).unwrap();
        assert_eq!(s.name, "web");
        assert_eq!(s.mode, Some(ServiceMode::Replicated));
        assert_eq!(s.replicas, Some(2));
        assert_eq!((s.running_tasks, s.desired_tasks), (Some(1), Some(2)));
        assert_eq!(s.image, "nginx:1.27");
        assert_eq!(s.ports[0].label(), "8080->80/tcp");
        assert_eq!(s.update_status().as_deref(), Some("paused: update paused due to failure"));
        assert!(s.created_at.is_some());
        assert_eq!(s.updated_at, None);

        let task_json = r#"{
            "ID": "t1", "ServiceID": "s1", "Slot": 1, "NodeID": "n1", "DesiredState": "shutdown",
            "Status": {"Timestamp": "2026-11-22T18:57:46.4Z", "State": "failed", "Message": "started",
                       "Err": "task: non-zero exit (1)",
                       "ContainerStatus": {"ContainerID": "c1", "PID": 0, "ExitCode": 1}}
        }"#;
        let t = task(serde_json::from_str(task_json).unwrap()).unwrap();
        assert_eq!(t.state, "failed");
        assert_eq!(t.desired_state.as_deref(), Some("shutdown"));
        assert_eq!(t.exit_code, Some(1));
        assert_eq!(t.error.as_deref(), Some("task: non-zero exit (1)"));

        let running =
            r#"{"ID": "t2", "Status": {"State": "running", "ContainerStatus": {"ExitCode": 0}}}"#;
        let t = task(serde_json::from_str(running).unwrap()).unwrap();
        assert_eq!(t.exit_code, None);
        assert_eq!(t.slot, None);

        let node_json = r#"{"ID": "n1", "Spec": {"Role": "manager", "Availability": "active"},
            "Description": {"Hostname": "vm", "Engine": {"EngineVersion": "20.10.24"}},
            "Status": {"State": "ready", "Addr": "127.0.0.1"}, "ManagerStatus": {"Leader": true}}"#;
        let n = node(serde_json::from_str(node_json).unwrap()).unwrap();
        assert_eq!(n.hostname, "vm");
        assert_eq!(n.role.as_deref(), Some("manager"));
        assert!(n.leader && n.is_ready());
        assert!(node(serde_json::from_str("{}").unwrap()).is_none());
    }
}
