use chrono::TimeZone;

use super::*;
use crate::model::{
    ComposeInfo, ContainerEvent, Dependency, Health, HealthProbe, Healthcheck, Inventory, Update,
};

fn t(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_760_000_000 + second, 0).single().expect("valid time")
}

fn service(id: &str, service: &str, started: i64) -> Container {
    let mut c = Container::new(id, format!("app-{service}-1"));
    c.state = ContainerState::Running;
    c.created = Some(t(started - 1));
    c.started_at = Some(t(started));
    c.compose = Some(ComposeInfo {
        project: "app".into(),
        service: service.into(),
        ..ComposeInfo::default()
    });
    c
}

fn healthy_from(c: &mut Container, first_ok: i64) {
    c.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "pg_isready".into()],
        interval_ns: Some(5_000_000_000),
        ..Healthcheck::default()
    });
    let start = c.started_at.expect("started");
    let base = (start - t(0)).num_seconds();
    let mut log = Vec::new();
    let mut s = base + 1;
    while s < first_ok {
        log.push(HealthProbe {
            start: Some(t(s)),
            end: Some(t(s)),
            exit_code: Some(1),
            output: "no".into(),
        });
        s += 5;
    }
    log.push(HealthProbe {
        start: Some(t(first_ok)),
        end: Some(t(first_ok)),
        exit_code: Some(0),
        output: "ok".into(),
    });
    c.health = Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log });
}

#[test]
fn startup_sequence_is_reconstructed_in_real_order() {
    let mut db = service("d", "db", 0);
    healthy_from(&mut db, 5);
    let mut backend = service("b", "backend", 10);
    if let Some(info) = backend.compose.as_mut() {
        info.depends_on = vec![
            Dependency {
                service: "db".into(),
                condition: DependencyCondition::Healthy,
                required: true,
            },
            Dependency {
                service: "redis".into(),
                condition: DependencyCondition::Healthy,
                required: true,
            },
        ];
    }
    let mut redis = service("r", "redis", 0);
    healthy_from(&mut redis, 6);
    let mut model = Model::new("x", t(100));
    model.apply(Update::Connected { at: t(100), info: Box::default() });
    model.apply(Update::Synced(Box::new(Inventory {
        containers: vec![backend, db, redis],
        ..Inventory::default()
    })));
    let steps = startup_sequence(&model, "app");
    let lines: Vec<String> = steps
        .iter()
        .map(|s| format!("T+{}s {} {} {}", s.offset_seconds, s.service, s.status, s.action))
        .collect();
    assert_eq!(
        lines,
        vec![
            "T+0s db starting ".to_string(),
            "T+0s redis starting ".to_string(),
            "T+5s db healthy first passing probe: pg_isready".to_string(),
            "T+6s redis healthy first passing probe: pg_isready".to_string(),
            "T+10s backend starting waited for db, redis healthy".to_string(),
        ]
    );
    assert!(steps.iter().all(|s| s.reconstructed));
    // The incident log has the reconstructed starts too, marked as such.
    let log = incidents(&model, Some("app"), None);
    assert!(
        log.iter().any(|e| e.event == "start" && e.reconstructed && e.container == "app-backend-1")
    );
    assert!(log.windows(2).all(|w| w[0].time <= w[1].time), "in time order");
}

#[test]
fn live_events_are_logged_and_deduplicated() {
    let db = service("d", "db", 0);
    let mut model = Model::new("x", t(-10));
    model.apply(Update::Connected { at: t(-10), info: Box::default() });
    model.apply(Update::Synced(Box::default()));
    let event = |action: &str, detail: Option<&str>, at: i64| {
        Update::Event(Box::new(ContainerEvent {
            at: t(at),
            id: "d".into(),
            name: "app-db-1".into(),
            project: Some("app".into()),
            service: Some("db".into()),
            action: action.into(),
            detail: detail.map(String::from),
        }))
    };
    model.apply(event("create", None, -1));
    model.apply(event("start", None, 0));
    model.apply(Update::ContainerChanged(Box::new(db.clone())));
    model.apply(event("health_status", Some("healthy"), 4));
    model.apply(event("die", Some("137"), 9));
    model.apply(event("die", Some("137"), 9));
    let log: Vec<String> = incidents(&model, None, Some("app-db-1"))
        .iter()
        .map(|e| format!("{} {} {}", e.event, e.detail, e.reconstructed))
        .collect();
    assert_eq!(
        log,
        vec![
            "create  false",
            "start  false",
            "health_status: healthy  false",
            "die exit 137 false"
        ]
    );
    assert_eq!(model.history.get("d").and_then(|h| h.became_healthy), Some(t(4)));
}

#[test]
fn a_first_healthy_moment_older_than_the_probes_is_unknown_not_a_later_flap() {
    // Healthy since second 5; portolan connects at 900 and sees only the last probes.
    // At 1000 it flaps to unhealthy and at 1100 back to healthy.
    let mut db = service("d", "db", 0);
    healthy_from(&mut db, 5);
    if let Some(health) = db.health.as_mut() {
        for probe in &mut health.log {
            let later = probe.start.map(|s| s + chrono::Duration::seconds(880));
            (probe.start, probe.end) = (later, later);
        }
    }
    let mut model = Model::new("x", t(900));
    model.apply(Update::Connected { at: t(900), info: Box::default() });
    model.apply(Update::Synced(Box::new(Inventory {
        containers: vec![db],
        ..Inventory::default()
    })));
    for (at, status) in [(1000, "unhealthy"), (1100, "healthy")] {
        model.apply(Update::Event(Box::new(ContainerEvent {
            at: t(at),
            id: "d".into(),
            name: "app-db-1".into(),
            project: Some("app".into()),
            service: Some("db".into()),
            action: "health_status".into(),
            detail: Some(status.into()),
        })));
    }
    assert_eq!(model.history.get("d").and_then(|h| h.became_healthy), None);
    let steps = startup_sequence(&model, "app");
    assert!(steps.iter().all(|s| s.status != "healthy"), "no made-up moment: {steps:#?}");
    assert!(steps[0].action.contains("moment unknown"), "{steps:#?}");
    // A new run is watched from its start: its first healthy moment is known again.
    model.apply(Update::Event(Box::new(ContainerEvent {
        at: t(1200),
        id: "d".into(),
        name: "app-db-1".into(),
        project: Some("app".into()),
        service: Some("db".into()),
        action: "start".into(),
        detail: None,
    })));
    model.apply(Update::Event(Box::new(ContainerEvent {
        at: t(1206),
        id: "d".into(),
        name: "app-db-1".into(),
        project: Some("app".into()),
        service: Some("db".into()),
        action: "health_status".into(),
        detail: Some("healthy".into()),
    })));
    assert_eq!(model.history.get("d").and_then(|h| h.became_healthy), Some(t(1206)));
}

#[test]
fn an_unhealthy_container_is_unhealthy_since_its_streak_began_in_the_timeline_too() {
    // Failing every 5 s since 100, streak 61, seen at 405: the triage moment.
    let mut api = service("a", "api", 0);
    api.healthcheck = Some(Healthcheck {
        test: vec!["CMD".into(), "check".into()],
        interval_ns: Some(5_000_000_000),
        ..Healthcheck::default()
    });
    let log = (0..5)
        .map(|i| HealthProbe {
            start: Some(t(380 + i * 5)),
            end: Some(t(380 + i * 5)),
            exit_code: Some(1),
            output: "refused".into(),
        })
        .collect();
    api.health = Some(Health { status: HealthStatus::Unhealthy, failing_streak: 61, log });
    let mut model = Model::new("x", t(405));
    model.apply(Update::Connected { at: t(405), info: Box::default() });
    model.apply(Update::Synced(Box::new(Inventory {
        containers: vec![api],
        ..Inventory::default()
    })));
    let triage = crate::triage::problems(&model, t(406), None);
    let since = triage[0].since.expect("dated");
    let log = incidents(&model, None, None);
    let entry = log.iter().find(|e| e.event == "health_status: unhealthy").expect("logged");
    assert_eq!(entry.time, since.at, "{log:#?}");
    assert!(entry.reconstructed && since.reconstructed);
    assert!(entry.detail.starts_with("~first failing probe of 61"), "{}", entry.detail);
    let steps = startup_sequence(&model, "app");
    let unhealthy = steps.iter().find(|s| s.status == "unhealthy").expect("a step");
    assert_eq!(unhealthy.time, since.at);
}

fn two_engines(on_a: Vec<Container>, on_b: Vec<Container>) -> Model {
    crate::model::test_models::two_engines(t(-100), on_a, on_b)
}

#[test]
fn the_same_project_on_two_engines_started_twice() {
    let mut b_db = service("b-db", "db", 500);
    b_db.host = 1;
    let model =
        two_engines(vec![service("a-db", "db", 10), service("a-api", "api", 12)], vec![b_db]);
    assert_eq!(startup_projects(&model), vec![(0, "app"), (1, "app")]);
    let on_a = startup_sequence_on(&model, 0, "app");
    assert_eq!(on_a.iter().map(|s| s.offset_seconds).collect::<Vec<_>>(), vec![0, 2]);
    let on_b = startup_sequence_on(&model, 1, "app");
    assert_eq!(on_b.len(), 1);
    assert_eq!((on_b[0].service.as_str(), on_b[0].offset_seconds), ("db", 0));
    // Without an engine named: the first that runs the project.
    assert_eq!(startup_sequence(&model, "app"), on_a);
}

#[test]
fn an_engine_lost_and_back_is_written_once_each_with_its_engine() {
    let mut model = two_engines(vec![service("a-db", "db", -150)], vec![]);
    let host_entries = |m: &Model| -> Vec<(Option<usize>, String, String)> {
        incidents(m, None, None)
            .into_iter()
            .filter(|e| e.is_host_event())
            .map(|e| (e.host, e.container.clone(), format!("{} · {}", e.event, e.detail)))
            .collect()
    };
    assert!(host_entries(&model).is_empty(), "connecting at start-up is not news");
    model.apply_from(1, Update::Disconnected { at: t(100), reason: "refused".into() });
    model.apply_from(1, Update::Disconnected { at: t(130), reason: "refused again".into() });
    model.apply_from(1, Update::Connected { at: t(160), info: Box::default() });
    assert_eq!(
        host_entries(&model),
        vec![
            (Some(1), "b".to_string(), "host unreachable · refused".to_string()),
            (Some(1), "b".to_string(), "host reconnected · answers again after 1m".to_string()),
        ]
    );
    // Container entries carry their engine too.
    assert!(incidents(&model, None, None).iter().any(|e| e.host == Some(0) && !e.is_host_event()));

    // One engine: the header says it all, the timeline stays as it was.
    let mut single = Model::new("x", t(-200));
    single.apply(Update::Connected { at: t(-100), info: Box::default() });
    single.apply(Update::Disconnected { at: t(100), reason: "refused".into() });
    single.apply(Update::Connected { at: t(160), info: Box::default() });
    assert!(host_entries(&single).is_empty());
}
