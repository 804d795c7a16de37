use chrono::TimeZone;

use super::*;
use crate::model::{
    ComposeInfo, ContainerEvent, CpuCounter, EngineInfo, Health, Inventory, RawSample, Update,
};
use crate::routes::table::RouteTable;
use crate::triage::problems;

fn t(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_760_000_000 + second, 0).single().expect("valid time")
}

fn member(id: &str, project: Option<&str>, service: &str) -> Container {
    let mut c = Container::new(id, format!("{}-{service}-1", project.unwrap_or("solo")));
    c.state = ContainerState::Running;
    c.started_at = Some(t(-50));
    c.compose = project.map(|p| ComposeInfo {
        project: p.into(),
        service: service.into(),
        ..ComposeInfo::default()
    });
    c
}

fn healthy(mut c: Container, status: HealthStatus) -> Container {
    c.health = Some(Health { status, failing_streak: 0, log: vec![] });
    c
}

fn model_with(containers: Vec<Container>) -> Model {
    let mut model = Model::new("x", t(-100));
    let info = EngineInfo { cpus: Some(8), memory_bytes: Some(16 << 30), ..EngineInfo::default() };
    model.apply(Update::Connected { at: t(-100), info: Box::new(info) });
    model.apply(Update::Synced(Box::new(Inventory { containers, ..Inventory::default() })));
    model
}

/// Two samples a second apart: `busy_ns` of CPU time in that second, `memory` held.
fn load(model: &mut Model, id: &str, busy_ns: u64, memory: u64) {
    for (second, usage_ns) in [(-1, 0), (0, busy_ns)] {
        let sample = RawSample {
            source: Default::default(),
            taken_at: t(second),
            cpu: Some(CpuCounter::Cgroup { usage_ns, at_ns: (second + 10) as u64 * 1_000_000_000 }),
            memory_used: Some(memory),
            memory_limit: None,
            net_rx: None,
            net_tx: None,
            block_read: None,
            block_write: None,
            pids: None,
            oom_kills: None,
        };
        model.apply(Update::Stats(vec![(id.into(), sample)]));
    }
}

fn rows(model: &Model, project: Option<&str>) -> Vec<OverviewRow> {
    let found = problems(model, t(0), project);
    overview(model, project, &found, &RouteTable::build_for(model, project))
}

fn row<'a>(rows: &'a [OverviewRow], project: Option<&str>) -> &'a OverviewRow {
    rows.iter().find(|r| r.project.as_deref() == project).expect("a row for the project")
}

#[test]
fn counts_running_and_health_per_project() {
    let mut stopped = member("d", Some("shop"), "worker");
    stopped.state = ContainerState::Exited;
    stopped.exit_code = Some(0);
    let model = model_with(vec![
        healthy(member("a", Some("shop"), "api"), HealthStatus::Healthy),
        healthy(member("b", Some("shop"), "db"), HealthStatus::Unhealthy),
        healthy(member("c", Some("shop"), "cache"), HealthStatus::Starting),
        stopped,
        member("e", None, "job"),
    ]);
    let rows = rows(&model, None);
    assert_eq!(rows.len(), 2);
    let shop = row(&rows, Some("shop"));
    assert_eq!((shop.running, shop.total), (3, 4));
    assert_eq!((shop.healthy, shop.unhealthy, shop.starting), (1, 1, 1));
    assert_eq!(shop.problems, 1, "the unhealthy db");
    let alone = row(&rows, None);
    assert_eq!((alone.running, alone.total, alone.problems), (1, 1, 0));
}

#[test]
fn usage_is_against_the_limits_when_every_running_container_has_one() {
    let mut api = member("a", Some("shop"), "api");
    api.limits.cpus = Some(0.5);
    api.limits.memory_bytes = Some(256 << 20);
    let mut db = member("b", Some("shop"), "db");
    db.limits.cpus = Some(1.5);
    db.limits.memory_bytes = Some(768 << 20);
    // Stopped, so neither its use nor its missing limit counts.
    let mut old = member("c", Some("shop"), "migrate");
    old.state = ContainerState::Exited;
    old.exit_code = Some(0);
    let mut model = model_with(vec![api, db, old, member("d", Some("blog"), "web")]);
    load(&mut model, "a", 500_000_000, 100 << 20);
    load(&mut model, "b", 1_000_000_000, 412 << 20);
    load(&mut model, "d", 250_000_000, 1 << 30);
    let rows = rows(&model, None);
    let shop = row(&rows, Some("shop"));
    assert_eq!(shop.cpu.against, Against::Limits);
    assert_eq!(shop.cpu.capacity, Some(2.0));
    assert!((shop.cpu.used.expect("cpu") - 1.5).abs() < 1e-9, "{:?}", shop.cpu);
    assert!((shop.cpu.percent().expect("share") - 75.0).abs() < 1e-6);
    assert_eq!(shop.memory.against, Against::Limits);
    assert_eq!(shop.memory.capacity, Some(1 << 30));
    assert_eq!(shop.memory.used, Some(512 << 20));
    assert_eq!(shop.memory.percent(), Some(50.0));
    // No limits: the engine's CPUs and memory are what bounds it.
    let blog = row(&rows, Some("blog"));
    assert_eq!(blog.cpu.against, Against::Host);
    assert_eq!(blog.cpu.capacity, Some(8.0));
    assert_eq!(blog.memory.capacity, Some(16 << 30));
    assert_eq!(blog.memory.percent(), Some(6.25));
}

#[test]
fn one_container_without_a_limit_measures_the_project_against_the_host() {
    let mut api = member("a", Some("shop"), "api");
    api.limits.cpus = Some(0.5);
    api.limits.memory_bytes = Some(256 << 20);
    let model = model_with(vec![api, member("b", Some("shop"), "db")]);
    let shop = rows(&model, None).remove(0);
    assert_eq!((shop.cpu.against, shop.cpu.capacity), (Against::Host, Some(8.0)));
    assert_eq!((shop.memory.against, shop.memory.capacity), (Against::Host, Some(16 << 30)));
    assert_eq!(shop.cpu.used, None, "no sample yet is not zero");
    assert_eq!(shop.cpu.percent(), None);
}

#[test]
fn a_lost_engine_shows_its_counts_but_no_usage() {
    let mut model = model_with(vec![member("a", Some("shop"), "api")]);
    load(&mut model, "a", 500_000_000, 100 << 20);
    model.apply(Update::Disconnected { at: t(1), reason: "gone".into() });
    let shop = rows(&model, None).remove(0);
    assert!(shop.lost);
    assert_eq!((shop.running, shop.total), (1, 1));
    assert_eq!((shop.cpu.used, shop.memory.used), (None, None));
    assert_eq!(shop.problems, 1, "the engine is unreachable");
}

#[test]
fn broken_routes_count_for_the_proxy_and_the_target_project() {
    let mut proxy = member("p", Some("edge"), "traefik");
    proxy.image = "traefik:v3.1".into();
    let mut api = member("a", Some("shop"), "api");
    for (k, v) in [
        ("traefik.enable", "true"),
        ("traefik.http.routers.broken.rule", "Host(`bad.example.com`"),
        ("traefik.http.services.api.loadbalancer.server.port", "3001"),
    ] {
        api.labels.insert(k.into(), v.into());
    }
    let model = model_with(vec![proxy, api, member("b", Some("blog"), "web")]);
    let table = RouteTable::build_for(&model, None);
    assert_eq!(table.broken(), 1, "{table:?}");
    let rows = rows(&model, None);
    assert_eq!(row(&rows, Some("shop")).broken_routes, 1);
    assert_eq!(row(&rows, Some("edge")).broken_routes, 1);
    assert_eq!(row(&rows, Some("blog")).broken_routes, 0);
}

#[test]
fn the_newest_event_is_the_projects_own() {
    let mut model = model_with(vec![
        member("a", Some("shop"), "api"),
        member("b", Some("shop"), "db"),
        member("c", Some("blog"), "web"),
    ]);
    let event = |at: i64, id: &str, project: &str, service: &str, action: &str, detail: &str| {
        Update::Event(Box::new(ContainerEvent {
            at: t(at),
            id: id.into(),
            name: format!("{project}-{service}-1"),
            project: Some(project.into()),
            service: Some(service.into()),
            action: action.into(),
            detail: (!detail.is_empty()).then(|| detail.into()),
        }))
    };
    model.apply(event(-20, "a", "shop", "api", "die", "1"));
    model.apply(event(-10, "c", "blog", "web", "health_status", "unhealthy"));
    model.apply(event(-5, "b", "shop", "db", "die", "137"));
    let rows = rows(&model, None);
    let shop = row(&rows, Some("shop")).newest_event.clone().expect("an event");
    assert_eq!(
        (shop.at, shop.container.as_str(), shop.words.as_str()),
        (t(-5), "db", "die exit 137")
    );
    assert!(!shop.reconstructed);
    let blog = row(&rows, Some("blog")).newest_event.clone().expect("an event");
    assert_eq!((blog.container.as_str(), blog.words.as_str()), ("web", "unhealthy"));
}

#[test]
fn before_any_event_the_newest_is_what_the_engine_timestamps_tell() {
    let mut api = member("a", Some("shop"), "api");
    api.started_at = Some(t(-150));
    let model = model_with(vec![api]);
    let shop = rows(&model, None).remove(0).newest_event.expect("a reconstructed start");
    assert!(shop.reconstructed);
    assert_eq!((shop.at, shop.words.as_str()), (t(-150), "start"));
}

#[test]
fn the_project_filter_keeps_only_its_row() {
    let model = model_with(vec![
        member("a", Some("shop"), "api"),
        member("b", Some("blog"), "web"),
        member("c", None, "job"),
    ]);
    let rows = rows(&model, Some("blog"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].project.as_deref(), Some("blog"));
}

#[test]
fn rows_with_problems_come_first_in_triage_order_then_by_name() {
    let mut crashed = member("c", Some("zoo"), "keeper");
    crashed.state = ContainerState::Exited;
    crashed.exit_code = Some(1);
    crashed.finished_at = Some(t(-30));
    let model = model_with(vec![
        member("a", Some("blog"), "web"),
        member("j", None, "job"),
        healthy(member("b", Some("metrics"), "grafana"), HealthStatus::Unhealthy),
        crashed,
        member("d", Some("admin"), "panel"),
    ]);
    let order: Vec<Option<String>> = rows(&model, None).into_iter().map(|r| r.project).collect();
    let expected: Vec<Option<String>> =
        [Some("metrics"), Some("zoo"), Some("admin"), Some("blog"), None]
            .into_iter()
            .map(|p| p.map(String::from))
            .collect();
    // Unhealthy outranks exited in triage, so metrics leads; stand-alone comes last.
    assert_eq!(order, expected);
}

#[test]
fn several_engines_give_the_same_project_a_row_each() {
    let model = crate::model::test_models::two_engines(
        t(-100),
        vec![member("a", Some("shop"), "api")],
        vec![member("b", Some("shop"), "api"), member("c", Some("shop"), "db")],
    );
    let rows = rows(&model, None);
    let hosts: Vec<(HostId, usize)> = rows.iter().map(|r| (r.host, r.total)).collect();
    assert_eq!(hosts, vec![(0, 1), (1, 2)]);
}
