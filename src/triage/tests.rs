use chrono::TimeZone;

use super::*;
use crate::model::since::Since;
use crate::model::{
    ComposeInfo, Dependency, Health, HealthProbe, Healthcheck, Inventory, RestartPolicy, Update,
};

fn t(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_760_000_000 + second, 0).single().expect("valid time")
}

fn service(id: &str, service: &str) -> Container {
    let mut c = Container::new(id, format!("shop-{service}-1"));
    c.state = ContainerState::Running;
    c.started_at = Some(t(0));
    c.compose = Some(ComposeInfo {
        project: "shop".into(),
        service: service.into(),
        ..ComposeInfo::default()
    });
    c
}

fn model_with(containers: Vec<Container>) -> Model {
    let mut model = Model::new("x", t(-100));
    model.apply(Update::Connected { at: t(-100), info: Box::default() });
    model.apply(Update::Synced(Box::new(Inventory { containers, ..Inventory::default() })));
    model
}

fn probe(second: i64, code: i64, output: &str) -> HealthProbe {
    HealthProbe {
        start: Some(t(second)),
        end: Some(t(second + 1)),
        exit_code: Some(code),
        output: output.into(),
    }
}

#[test]
fn a_healthy_host_has_no_problems() {
    let model = model_with(vec![service("a", "api"), service("b", "db")]);
    assert!(problems(&model, t(60), None).is_empty());
}

#[test]
fn unhealthy_carries_the_failing_probe() {
    let mut api = service("a", "api");
    api.healthcheck =
        Some(Healthcheck { test: vec!["CMD".into(), "check".into()], ..Healthcheck::default() });
    api.health = Some(Health {
        status: HealthStatus::Unhealthy,
        failing_streak: 3,
        log: vec![
            probe(10, 0, "ok"),
            probe(20, 1, ""),
            probe(30, 1, "\n"),
            probe(40, 7, "connection refused\nmore"),
        ],
    });
    let model = model_with(vec![api]);
    let found = problems(&model, t(60), None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, ProblemKind::Unhealthy);
    assert_eq!(found[0].detail, "probe exit 7: connection refused · 3 failures in a row");
    assert_eq!(found[0].since, Some(Since::exact(t(20))), "the first failure of the streak");
}

#[test]
fn unhealthy_since_is_the_streak_start_not_the_newest_event_nor_portolan_start() {
    // Failing every 5 s for five minutes when portolan connects: streak 61, the
    // engine's last five probes, and an `unhealthy` event portolan saw much later.
    let mut api = service("a", "api");
    api.started_at = Some(t(0));
    api.healthcheck = Some(Healthcheck {
        test: vec!["CMD".into(), "check".into()],
        interval_ns: Some(5_000_000_000),
        ..Healthcheck::default()
    });
    api.health = Some(Health {
        status: HealthStatus::Unhealthy,
        failing_streak: 61,
        log: (0..5).map(|i| probe(400 + i * 5, 1, "refused")).collect(),
    });
    let mut model = model_with(vec![api]);
    model.apply(Update::Event(Box::new(crate::model::ContainerEvent {
        at: t(430),
        id: "a".into(),
        name: "api".into(),
        project: Some("shop".into()),
        service: Some("api".into()),
        action: "health_status".into(),
        detail: Some("unhealthy".into()),
    })));
    let found = problems(&model, t(431), None);
    let since = found[0].since.unwrap();
    assert!(since.reconstructed, "{since:?}");
    assert_eq!(since.at, t(400 - 56 * 5), "56 unseen probes before the first one in view");
}

#[test]
fn oom_and_exit_codes_with_last_log_line() {
    let mut cache = service("c", "cache");
    cache.state = ContainerState::Exited;
    cache.oom_killed = true;
    cache.exit_code = Some(137);
    cache.finished_at = Some(t(5));
    cache.limits.memory_bytes = Some(16 << 20);
    let mut job = service("j", "job");
    job.state = ContainerState::Exited;
    job.exit_code = Some(3);
    job.finished_at = Some(t(7));
    let mut fine = service("f", "migrate");
    fine.state = ContainerState::Exited;
    fine.exit_code = Some(0);
    let mut model = model_with(vec![cache, job, fine]);
    model.apply(Update::LastLogLine {
        id: "j".into(),
        line: "\u{1b}[31mFATAL: config missing\u{1b}[0m".into(),
    });
    let found = problems(&model, t(60), None);
    let kinds: Vec<ProblemKind> = found.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, vec![ProblemKind::OomKilled, ProblemKind::Exited]);
    assert_eq!(found[0].detail, "OOM killed (limit 16.0MiB)");
    assert_eq!(found[0].since, Some(Since::exact(t(5))));
    assert_eq!(found[1].detail, "exit 3 · last log: FATAL: config missing");
}

#[test]
fn crashloop_from_restarting_state_and_from_counts() {
    let mut looping = service("l", "worker");
    looping.state = ContainerState::Restarting;
    looping.exit_code = Some(1);
    looping.restart_count = 4;
    let mut seen_late = service("s", "sidecar");
    seen_late.restart_count = 5;
    seen_late.started_at = Some(t(50));
    seen_late.restart_policy =
        Some(RestartPolicy { name: "unless-stopped".into(), maximum_retry_count: None });
    let model = model_with(vec![looping, seen_late]);
    let found = problems(&model, t(60), None);
    assert_eq!(found.iter().filter(|p| p.kind == ProblemKind::Crashloop).count(), 2, "{found:#?}");
    assert!(found.iter().any(|p| p.detail.starts_with("restarted 4 times · last exit 1")));
}

#[test]
fn crashloop_from_observed_restarts() {
    let mut worker = service("w", "worker");
    worker.restart_policy =
        Some(RestartPolicy { name: "always".into(), maximum_retry_count: None });
    let mut model = model_with(vec![worker.clone()]);
    for n in 1..=2 {
        worker.restart_count = n;
        worker.started_at = Some(t(10 * n as i64));
        model.apply(Update::ContainerChanged(Box::new(worker.clone())));
    }
    let found = problems(&model, t(30), None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, ProblemKind::Crashloop);
    assert_eq!(found[0].since, Some(Since::exact(t(10))));
}

#[test]
fn stopped_dependencies_are_problems_of_their_dependents() {
    let mut api = service("a", "api");
    if let Some(info) = api.compose.as_mut() {
        info.depends_on = vec![
            Dependency {
                service: "db".into(),
                condition: DependencyCondition::Healthy,
                required: true,
            },
            Dependency {
                service: "redis".into(),
                condition: DependencyCondition::Started,
                required: true,
            },
            Dependency {
                service: "ghost".into(),
                condition: DependencyCondition::Started,
                required: true,
            },
        ];
    }
    let mut db = service("d", "db");
    db.health = Some(Health { status: HealthStatus::Starting, failing_streak: 0, log: vec![] });
    let redis = service("r", "redis");
    let model = model_with(vec![api, db, redis]);
    let found: Vec<String> = problems(&model, t(60), None)
        .into_iter()
        .filter(|p| p.kind == ProblemKind::DependencyDown)
        .map(|p| p.detail)
        .collect();
    assert_eq!(
        found,
        vec![
            "needs db (healthy), which is still starting".to_string(),
            "needs ghost (started), which is missing".to_string()
        ]
    );
}

#[test]
fn project_filter_applies() {
    let mut job = service("j", "job");
    job.state = ContainerState::Exited;
    job.exit_code = Some(2);
    let model = model_with(vec![job]);
    assert_eq!(problems(&model, t(60), Some("shop")).len(), 1);
    assert!(problems(&model, t(60), Some("other")).is_empty());
}

#[test]
fn swarm_services_below_replicas_and_failed_tasks_carry_the_task_error() {
    use crate::model::swarm::fixtures::{cluster, t as st};
    let mut model = model_with(vec![]);
    model.apply(Update::Swarm { at: st(40), swarm: Some(Box::new(cluster())) });
    let found = problems(&model, st(60), None);
    let summary: Vec<(ProblemKind, &str, &str, Option<DateTime<Utc>>)> = found
        .iter()
        .map(|p| (p.kind, p.container.as_str(), p.detail.as_str(), p.since.map(|s| s.at)))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                ProblemKind::ServiceDegraded,
                "worker",
                "0/1 running · last error on vm: task: non-zero exit (1) · exit 1",
                Some(st(20)),
            ),
            (
                ProblemKind::TaskFailed,
                "worker.1",
                "on vm: task: non-zero exit (1) · exit 1 · failed 2 times in a row",
                Some(st(20)),
            ),
        ]
    );
    assert_eq!(ProblemKind::TaskFailed.as_str(), "task_failed");
    assert_eq!(ProblemKind::ServiceDegraded.as_str(), "service_degraded");
    // A project filter keeps only the services of that stack.
    assert!(problems(&model, st(60), Some("shop")).is_empty());
}

#[test]
fn exited_task_containers_are_left_to_the_swarm_problems_on_a_manager() {
    use crate::model::swarm::fixtures::{cluster, t as st};
    let mut old_task = Container::new("c1", "worker.1.abc");
    old_task.state = ContainerState::Exited;
    old_task.exit_code = Some(1);
    old_task.labels.insert(crate::model::swarm::TASK_LABEL.into(), "t-wk-a".into());
    let mut model = model_with(vec![old_task]);
    // A worker node (no swarm view): the container is the only sign, so it shows.
    let kinds = |m: &Model| problems(m, st(60), None).iter().map(|p| p.kind).collect::<Vec<_>>();
    assert_eq!(kinds(&model), vec![ProblemKind::Exited]);
    model.apply(Update::Swarm { at: st(40), swarm: Some(Box::new(cluster())) });
    assert_eq!(kinds(&model), vec![ProblemKind::ServiceDegraded, ProblemKind::TaskFailed]);
}

fn two_hosts(on_a: Vec<Container>, on_b: Vec<Container>) -> Model {
    crate::model::test_models::two_engines(t(-100), on_a, on_b)
}

#[test]
fn a_lost_engine_is_a_problem_with_its_reason_and_since() {
    let mut model = two_hosts(vec![service("a1", "api")], vec![service("b1", "api")]);
    model.apply_from(1, Update::Disconnected { at: t(10), reason: "connection refused".into() });
    // A failed retry later must not move the outage's start.
    model.apply_from(1, Update::Disconnected { at: t(40), reason: "still refused".into() });
    let found = problems(&model, t(60), None);
    assert_eq!(found.len(), 1, "{found:?}");
    let lost = &found[0];
    assert_eq!(lost.kind, ProblemKind::HostUnreachable);
    assert_eq!(lost.kind.as_str(), "host_unreachable");
    assert_eq!((lost.host, lost.container.as_str()), (1, "b"));
    assert_eq!(lost.since, Some(Since::exact(t(10))));
    assert!(lost.detail.starts_with("still refused"), "{}", lost.detail);
    assert!(lost.detail.contains("1 containers, 1 running"), "{}", lost.detail);
    // Only where the filtered project runs.
    assert_eq!(problems(&model, t(60), Some("shop")).len(), 1);
    assert!(problems(&model, t(60), Some("elsewhere")).is_empty());
    model.apply_from(1, Update::Connected { at: t(50), info: Box::default() });
    assert!(problems(&model, t(60), None).is_empty(), "back again");
}

#[test]
fn an_engine_never_reached_claims_no_last_known_state() {
    let mut model = Model::with_hosts(
        vec![
            crate::model::Host::new("a", "unix:///a.sock", t(0)),
            crate::model::Host::new("b", "tcp://b:2376", t(0)),
        ],
        t(0),
    );
    model.apply_from(1, Update::Disconnected { at: t(1), reason: "connection refused".into() });
    let found = problems(&model, t(60), None);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].detail.contains("has not answered since portolan started"), "{:?}", found[0]);
    assert!(!found[0].detail.contains("last known"), "{:?}", found[0]);
}

#[test]
fn dependencies_resolve_on_the_same_engine_only() {
    let mut api = service("a1", "api");
    if let Some(info) = api.compose.as_mut() {
        info.depends_on = vec![Dependency {
            service: "db".into(),
            condition: DependencyCondition::Started,
            required: true,
        }];
    }
    let mut stopped_db = service("a2", "db");
    stopped_db.state = ContainerState::Exited;
    stopped_db.exit_code = Some(0);
    // The same project on engine b runs its db: it does not serve engine a's api.
    let model = two_hosts(vec![api.clone(), stopped_db], vec![service("b2", "db")]);
    let down: Vec<Problem> = problems(&model, t(60), None)
        .into_iter()
        .filter(|p| p.kind == ProblemKind::DependencyDown)
        .collect();
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!((down[0].host, down[0].container_id.as_str()), (0, "a1"));
    assert!(down[0].detail.contains("which is exited 0"), "{}", down[0].detail);
    // And a db only on the other engine is missing, not met.
    let model = two_hosts(vec![api], vec![service("b2", "db")]);
    let down: Vec<String> = problems(&model, t(60), None)
        .into_iter()
        .filter(|p| p.kind == ProblemKind::DependencyDown)
        .map(|p| p.detail)
        .collect();
    assert_eq!(down, vec!["needs db (started), which is missing".to_string()]);
}
