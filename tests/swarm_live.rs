//! Swarm on a real engine: a private second dockerd (never the shared one) becomes a
//! single-node swarm with a healthy replicated service and one whose tasks keep
//! failing; portolan must show both, the failure with its error, and follow a scale.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use portolan::engine::EngineOptions;
use portolan::snapshot::json::{JsonOptions, document};
use portolan::triage::{ProblemKind, problems};
use support::Watch;
use support::second_engine::SecondEngine;

const SLOW: Duration = Duration::from_secs(90);

fn replicas(m: &portolan::model::Model, name: &str) -> Option<(u64, u64)> {
    let swarm = m.swarm.as_ref()?;
    let service = swarm.services.values().find(|s| s.name == name)?;
    Some(swarm.replicas(service))
}

#[tokio::test(flavor = "current_thread")]
async fn a_single_node_swarm_with_a_failing_service_and_a_scale() {
    let Some(engine) = SecondEngine::start("swarm_live") else { return };
    let image = support::test_image();
    // In its own namespace only loopback exists: the swarm advertises that.
    engine.docker_ok(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    engine.docker_ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "steady",
        "--replicas",
        "2",
        &image,
        "sleep",
        "600",
    ]);
    engine.docker_ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "broken",
        "--restart-condition",
        "any",
        "--restart-delay",
        "1s",
        &image,
        "false",
    ]);

    let options = EngineOptions { read_compose_files: false, ..EngineOptions::default() };
    let mut watch = Watch::start_at(engine.endpoint(), options).await;
    watch
        .wait("the swarm, its node and both services", SLOW, |m| {
            m.swarm.as_ref().is_some_and(|s| s.nodes.len() == 1 && s.services.len() == 2)
                && replicas(m, "steady") == Some((2, 2))
        })
        .await;
    let swarm = watch.model.swarm.clone().unwrap();
    let node = swarm.nodes.values().next().unwrap();
    assert_eq!(node.role.as_deref(), Some("manager"));
    assert_eq!(node.availability.as_deref(), Some("active"));
    assert_eq!(node.status.as_deref(), Some("ready"));
    assert!(node.leader);
    assert!(node.engine_version.is_some());
    let steady = swarm.services.values().find(|s| s.name == "steady").unwrap();
    assert_eq!(steady.image, image);
    assert_eq!(
        swarm.tasks_on_node(&node.id).iter().find(|(s, _)| s == "steady").unwrap().1.len(),
        2
    );

    // The failing service: its tasks fail with the engine's error and exit code 1.
    watch
        .wait("a failed task of the broken service", SLOW, |m| {
            m.swarm
                .as_ref()
                .is_some_and(|s| s.failed_tasks().iter().any(|f| f.service.name == "broken"))
        })
        .await;
    let swarm = watch.model.swarm.clone().unwrap();
    let failed = swarm.failed_tasks();
    let broken = failed.iter().find(|f| f.service.name == "broken").unwrap();
    assert_eq!(broken.task.exit_code, Some(1));
    assert!(
        broken.task.error.as_deref().is_some_and(|e| e.contains("non-zero exit")),
        "{:?}",
        broken.task.error
    );
    // Both problems stand in triage; the task may be between attempts at any moment,
    // so wait for a view that shows them together.
    watch
        .wait("triage to list the broken service and its failed task", SLOW, |m| {
            let found = problems(m, chrono::Utc::now(), None);
            found.iter().any(|p| p.kind == ProblemKind::ServiceDegraded && p.container == "broken")
                && found.iter().any(|p| p.kind == ProblemKind::TaskFailed)
        })
        .await;
    let found = problems(&watch.model, chrono::Utc::now(), None);
    let degraded = found.iter().find(|p| p.kind == ProblemKind::ServiceDegraded).unwrap();
    assert!(degraded.detail.starts_with("0/1 running"), "{degraded:?}");
    assert!(degraded.detail.contains("non-zero exit (1)"), "{degraded:?}");
    let task_problem = found.iter().find(|p| p.kind == ProblemKind::TaskFailed).unwrap();
    assert!(task_problem.container.starts_with("broken."), "{task_problem:?}");
    assert!(task_problem.detail.contains("non-zero exit (1)"), "{task_problem:?}");
    assert!(task_problem.since.is_some());
    // The exited containers of past tasks are not listed once more as exits.
    assert!(!found.iter().any(|p| p.kind == ProblemKind::Exited), "{found:?}");
    // It may be between attempts (starting) or failed right now: never steady.
    assert!(!found.iter().any(|p| p.container.starts_with("steady")), "{found:?}");
    assert!(
        watch
            .model
            .history
            .timeline
            .iter()
            .any(|e| e.event == "task failed" && e.service.as_deref() == Some("broken")),
        "the timeline records the failure"
    );

    // Scale up: the new replica is followed without a restart of portolan.
    engine.docker_ok(&["service", "scale", "-d", "steady=3"]);
    watch.wait("steady to run 3 of 3", SLOW, |m| replicas(m, "steady") == Some((3, 3))).await;
    assert!(
        watch.model.history.timeline.iter().any(|e| e.event == "service scale"
            && e.container == "steady"
            && e.detail == "2 → 3 replicas"),
        "the timeline records the scale"
    );

    let json =
        serde_json::to_value(document(&watch.model, chrono::Utc::now(), &JsonOptions::default()))
            .unwrap();
    let services = json["swarm"]["services"].as_array().unwrap();
    let steady = services.iter().find(|s| s["name"] == "steady").unwrap();
    assert_eq!(steady["replicas_running"], 3);
    assert_eq!(steady["replicas_desired"], 3);
    assert_eq!(steady["mode"], "replicated");
    assert_eq!(json["swarm"]["nodes"].as_array().unwrap().len(), 1);
    assert!(
        json["swarm"]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["service"] == "broken" && t["state"] == "failed" && t["exit_code"] == 1)
    );
    assert!(json["problems"].as_array().unwrap().iter().any(|p| p["kind"] == "task_failed"));

    watch.stop().await;
    drop(engine);
}
