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
