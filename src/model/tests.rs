use chrono::TimeZone;

use super::*;

fn t(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + second, 0).single().expect("valid time")
}

fn running(id: &str, name: &str) -> Container {
    let mut c = Container::new(id, name);
    c.state = ContainerState::Running;
    c
}

fn sample(second: i64, usage_ns: u64) -> RawSample {
    RawSample {
        source: Default::default(),
        taken_at: t(second),
        cpu: Some(CpuCounter::Cgroup { usage_ns, at_ns: second as u64 * 1_000_000_000 }),
        memory_used: Some(1 << 20),
        memory_limit: None,
        net_rx: None,
        net_tx: None,
        block_read: None,
        block_write: None,
        pids: None,
        oom_kills: None,
    }
}

#[test]
fn container_upsert_and_remove() {
    let mut model = Model::new("unix:///var/run/docker.sock", t(0));
    assert!(model.apply(Update::ContainerChanged(Box::new(running("a", "web")))));
    assert_eq!(model.counts().running, 1);
    // The same container again changes nothing and costs no redraw.
    let revision = model.revision;
    assert!(!model.apply(Update::ContainerChanged(Box::new(running("a", "web")))));
    assert_eq!(model.revision, revision);
    assert!(model.apply(Update::ContainerRemoved { id: "a".into() }));
    assert!(model.containers.is_empty());
    assert!(!model.apply(Update::ContainerRemoved { id: "a".into() }));
}

#[test]
fn stats_do_not_bump_structure_and_ignore_unknown_containers() {
    let mut model = Model::new("x", t(0));
    model.apply(Update::ContainerChanged(Box::new(running("a", "web"))));
    let structure = model.structure_revision;
    assert!(model.apply(Update::Stats(vec![("a".into(), sample(0, 0))])));
    assert!(model.apply(Update::Stats(vec![("a".into(), sample(1, 250_000_000))])));
    assert_eq!(model.structure_revision, structure);
    assert_eq!(model.latest_stats("a").and_then(|p| p.cpu_percent), Some(25.0));
    assert!(!model.apply(Update::Stats(vec![("ghost".into(), sample(1, 0))])));
    assert!(!model.stats.contains_key("ghost"));
}

#[test]
fn stopping_breaks_the_cpu_pair() {
    let mut model = Model::new("x", t(0));
    model.apply(Update::ContainerChanged(Box::new(running("a", "web"))));
    model.apply(Update::Stats(vec![("a".into(), sample(0, 0))]));
    let mut stopped = running("a", "web");
    stopped.state = ContainerState::Exited;
    model.apply(Update::ContainerChanged(Box::new(stopped)));
    model.apply(Update::ContainerChanged(Box::new(running("a", "web"))));
    model.apply(Update::Stats(vec![("a".into(), sample(10, 9_000_000_000))]));
    assert_eq!(model.latest_stats("a").and_then(|p| p.cpu_percent), None);
}

#[test]
fn disconnection_keeps_its_first_moment() {
    let mut model = Model::new("x", t(0));
    model.apply(Update::Connected { at: t(1), info: Box::default() });
    assert!(model.hosts[0].connection.is_connected());
    assert_eq!(model.hosts[0].engine.endpoint, "x");
    model.apply(Update::Disconnected { at: t(5), reason: "connection refused".into() });
    model.apply(Update::Disconnected { at: t(9), reason: "no such socket".into() });
    assert_eq!(
        model.hosts[0].connection,
        Connection::Disconnected { since: t(5), reason: "no such socket".into() }
    );
}

#[test]
fn sync_replaces_inventory_and_drops_stale_stats() {
    let mut model = Model::new("x", t(0));
    model.apply(Update::ContainerChanged(Box::new(running("old", "gone"))));
    model.apply(Update::Stats(vec![("old".into(), sample(0, 0))]));
    let mut db = running("new", "db");
    db.networks.push(NetworkAttachment { name: "backend".into(), ip: None, aliases: vec![] });
    db.mounts.push(Mount {
        kind: "volume".into(),
        name: Some("pgdata".into()),
        source: None,
        destination: "/var/lib/postgresql/data".into(),
        read_only: false,
    });
    model.apply(Update::Synced(Box::new(Inventory {
        containers: vec![db],
        networks: vec![Network { name: "backend".into(), ..Network::default() }],
        volumes: vec![Volume { name: "pgdata".into(), ..Volume::default() }],
        last_log_lines: vec![],
        networks_late: false,
    })));
    assert!(!model.containers.contains_key("old"));
    assert!(model.stats.is_empty());
    assert_eq!(model.network_members(0, "backend"), vec!["db"]);
    assert_eq!(model.volume_users(0, "pgdata"), vec!["db"]);
}

#[test]
fn counts_and_status_text() {
    let mut model = Model::new("x", t(0));
    let mut sick = running("a", "api");
    sick.started_at = Some(t(0));
    sick.health = Some(Health { status: HealthStatus::Unhealthy, failing_streak: 3, log: vec![] });
    let mut dead = Container::new("b", "job");
    dead.state = ContainerState::Exited;
    dead.exit_code = Some(3);
    dead.finished_at = Some(t(0));
    model.apply(Update::ContainerChanged(Box::new(sick.clone())));
    model.apply(Update::ContainerChanged(Box::new(dead.clone())));
    let counts = model.counts();
    assert_eq!((counts.running, counts.unhealthy, counts.exited), (1, 1, 1));
    assert_eq!(sick.status_text(t(120)), "Up 2 minutes (unhealthy)");
    assert_eq!(dead.status_text(t(5)), "Exited (3) 5 seconds ago");
}

#[test]
fn warnings_are_bounded() {
    let mut model = Model::new("x", t(0));
    for i in 0..200 {
        model.apply(Update::Warning { at: t(i), message: format!("w{i}") });
    }
    assert_eq!(model.warnings.len(), MAX_WARNINGS);
    assert_eq!(model.warnings.last().map(|w| w.message.as_str()), Some("w199"));
}

#[test]
fn root_detection() {
    let mut c = Container::new("a", "a");
    assert!(c.runs_as_root());
    c.user = Some("1000:1000".into());
    assert!(!c.runs_as_root());
    c.user = Some("0".into());
    assert!(c.runs_as_root());
    c.user = Some("postgres".into());
    assert!(!c.runs_as_root());
}

#[test]
fn a_resync_of_one_engine_keeps_the_others_containers() {
    let now = Utc::now();
    let mut model = Model::with_hosts(
        vec![Host::new("a", "unix:///a", now), Host::new("b", "unix:///b", now)],
        now,
    );
    let inventory = |ids: &[&str]| {
        Box::new(Inventory {
            containers: ids.iter().map(|id| Container::new(*id, *id)).collect(),
            networks: vec![Network { name: "bridge".into(), ..Network::default() }],
            ..Inventory::default()
        })
    };
    model.apply_from(0, Update::Synced(inventory(&["a1", "a2"])));
    model.apply_from(1, Update::Synced(inventory(&["b1"])));
    assert_eq!(model.containers.len(), 3);
    assert_eq!(model.networks.len(), 2, "each engine has its own bridge");
    model.apply_from(1, Update::Synced(inventory(&["b2"])));
    let ids: Vec<&str> = model.containers.keys().map(String::as_str).collect();
    assert_eq!(ids, ["a1", "a2", "b2"]);
    assert_eq!(model.containers["b2"].host, 1);
    // A lost engine keeps its containers as last known.
    model.apply_from(1, Update::Disconnected { at: now, reason: "gone".into() });
    assert_eq!(model.containers.len(), 3);
    assert_eq!(model.hosts[0].connection, Connection::Connecting { since: now });
    // An update for an engine that is not followed changes nothing.
    assert!(!model.apply_from(7, Update::Synced(inventory(&["x"]))));
}

#[test]
fn the_timeline_stays_in_time_order_when_engines_interleave() {
    let t = |s: i64| Utc.timestamp_opt(1_700_000_000 + s, 0).single().unwrap_or_default();
    let mut model = Model::with_hosts(
        vec![Host::new("a", "unix:///a", t(0)), Host::new("b", "unix:///b", t(0))],
        t(0),
    );
    let event = |id: &str, at: DateTime<Utc>| {
        Box::new(ContainerEvent {
            at,
            id: id.into(),
            name: id.into(),
            project: None,
            service: None,
            action: "start".into(),
            detail: None,
        })
    };
    model.apply_from(0, Update::Event(event("a1", t(10))));
    model.apply_from(1, Update::Disconnected { at: t(12), reason: "gone".into() });
    // Engine b's event from before its outage arrives late.
    model.apply_from(1, Update::Event(event("b1", t(11))));
    let times: Vec<DateTime<Utc>> = model.history.timeline.iter().map(|e| e.time).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert_eq!(times.len(), 3);
}

#[test]
fn one_engine_at_two_addresses_is_shown_once() {
    let now = Utc::now();
    let mut model = Model::with_hosts(
        vec![
            Host::new("socket", "unix:///var/run/docker.sock", now),
            Host::new("tunnel", "tcp://127.0.0.1:2376", now),
            Host::new("other", "ssh://other", now),
        ],
        now,
    );
    let inventory = |ids: &[&str]| {
        Box::new(Inventory {
            containers: ids.iter().map(|id| Container::new(*id, *id)).collect(),
            ..Inventory::default()
        })
    };
    model.apply_from(0, Update::Synced(inventory(&["c1", "c2"])));
    assert!(!model.apply_from(1, Update::Synced(inventory(&["c1", "c2"]))));
    model.apply_from(2, Update::Synced(inventory(&["d1"])));
    assert_eq!(model.hosts[1].same_as, Some(0));
    assert_eq!(model.hosts[2].same_as, None, "a different engine is not the same");
    assert!(
        model.warnings.iter().any(|w| w.message.contains("tunnel is the same engine as socket"))
    );
    assert_eq!(model.containers.len(), 3);
    assert_eq!(model.containers["c1"].host, 0, "shown under the first");
    // Its events are ignored too: a new container is the first address's.
    let mut c3 = Container::new("c3", "c3");
    c3.state = ContainerState::Running;
    model.apply_from(0, Update::ContainerChanged(Box::new(c3.clone())));
    assert!(!model.apply_from(1, Update::ContainerChanged(Box::new(c3))));
    assert_eq!(model.containers["c3"].host, 0);
    // Its connection still counts: it is an address that answers or not.
    assert!(model.apply_from(1, Update::Disconnected { at: now, reason: "gone".into() }));
}

#[test]
fn the_address_named_first_keeps_the_containers_whichever_answers_first() {
    let now = Utc::now();
    let mut model = Model::with_hosts(
        vec![
            Host::new("socket", "unix:///var/run/docker.sock", now),
            Host::new("link", "unix:///tmp/link.sock", now),
        ],
        now,
    );
    let inventory = || {
        Box::new(Inventory {
            containers: vec![Container::new("c1", "web")],
            networks: vec![Network { name: "bridge".into(), ..Network::default() }],
            ..Inventory::default()
        })
    };
    model.apply_from(1, Update::Synced(inventory()));
    assert_eq!(model.containers["c1"].host, 1);
    model.apply_from(0, Update::Synced(inventory()));
    assert_eq!(model.hosts[1].same_as, Some(0));
    assert_eq!(model.containers.len(), 1);
    assert_eq!(model.containers["c1"].host, 0);
    assert_eq!(model.networks.len(), 1, "the link's networks are gone too");
    assert!(
        model.warnings.iter().any(|w| w.message.starts_with("link is the same engine as socket"))
    );
}

#[test]
fn the_model_reads_no_clock_every_moment_comes_from_its_caller() {
    let lone = Model::with_hosts(Vec::new(), t(5));
    assert_eq!(lone.hosts[0].connection, Connection::Connecting { since: t(5) });

    // Lists before it ever connected: the duplicate is dated by the attempt.
    let mut model =
        Model::with_hosts(vec![Host::new("a", "", t(1)), Host::new("b", "", t(2))], t(0));
    let inventory =
        || Box::new(Inventory { containers: vec![running("c1", "web")], ..Inventory::default() });
    model.apply_from(0, Update::Synced(inventory()));
    model.apply_from(1, Update::Synced(inventory()));
    let duplicate = model.warnings.iter().find(|w| w.message.contains("same engine"));
    assert_eq!(duplicate.map(|w| w.at), Some(t(2)));

    // A restart is dated by the container's own times.
    let mut model = Model::new("x", t(0));
    model.apply(Update::Connected { at: t(1), info: Box::default() });
    let mut c = running("c1", "web");
    model.apply(Update::ContainerChanged(Box::new(c.clone())));
    c.restart_count = 1;
    c.finished_at = Some(t(20));
    model.apply(Update::ContainerChanged(Box::new(c.clone())));
    c.restart_count = 2;
    c.started_at = Some(t(40));
    model.apply(Update::ContainerChanged(Box::new(c.clone())));
    c.restart_count = 3;
    c.started_at = None;
    c.finished_at = None;
    model.apply(Update::ContainerChanged(Box::new(c)));
    let restarts = model.history.get("c1").map(|h| h.restarts.clone()).unwrap_or_default();
    assert_eq!(restarts, vec![t(20), t(40), t(1)], "start, else finish, else the connection");
}

#[test]
fn a_row_waiting_for_its_inspect_counts_in_the_sync_and_is_first_seen_when_inspected() {
    let mut model = Model::new("x", t(0));
    model.apply(Update::Connected { at: t(100), info: Box::default() });
    model.apply(Update::Syncing { done: 1, total: 3 });
    assert_eq!(model.sync_progress(0), Some((1, 3)));
    let inspected = Container::new("a", "web");
    let mut listed = Container::new("b", "stuck");
    listed.state = ContainerState::Running;
    listed.inspect_pending_since = Some(t(101));
    model.apply(Update::Synced(Box::new(Inventory {
        containers: vec![inspected, listed],
        ..Inventory::default()
    })));
    assert_eq!(model.sync_progress(0), Some((1, 2)), "the pending row keeps the sync open");
    assert!(model.history.get("b").is_none(), "a listed row is not observed: it has no times");

    // Its inspect comes in: a first sighting, reconstructed from its own timestamps.
    let mut full = Container::new("b", "stuck");
    full.state = ContainerState::Running;
    full.created = Some(t(10));
    full.started_at = Some(t(11));
    model.apply(Update::ContainerChanged(Box::new(full)));
    assert_eq!(model.sync_progress(0), None);
    let log = crate::timeline::incidents(&model, None, Some("stuck"));
    assert!(log.iter().any(|e| e.event == "start" && e.reconstructed && e.time == t(11)));

    // Late again after a reconnect: what was inspected stays, marked pending.
    let mut relisted = Container::new("b", "stuck");
    relisted.state = ContainerState::Paused;
    relisted.inspect_pending_since = Some(t(200));
    model.apply(Update::Synced(Box::new(Inventory {
        containers: vec![relisted],
        ..Inventory::default()
    })));
    let kept = &model.containers["b"];
    assert_eq!((kept.started_at, kept.state), (Some(t(11)), ContainerState::Paused));
    assert_eq!(kept.inspect_pending_since, Some(t(200)));
    assert!(
        kept.status_text(t(212)).ends_with("inspect pending 12s"),
        "{}",
        kept.status_text(t(212))
    );
}

#[test]
fn engine_kind_comes_from_the_version_components() {
    // As Docker 20.10 and Podman 4.3 list them in `/version`.
    let docker = ["Engine", "containerd", "runc", "docker-init"];
    let podman = ["Podman Engine", "Conmon", "OCI Runtime (runc)"];
    assert_eq!(EngineKind::from_components(docker), EngineKind::Docker);
    assert_eq!(EngineKind::from_components(podman), EngineKind::Podman);
    assert_eq!(EngineKind::from_components([]), EngineKind::Unknown);
    let info = EngineInfo {
        kind: EngineKind::Podman,
        version: Some("4.3.1".into()),
        ..EngineInfo::default()
    };
    assert_eq!(info.kind_and_version().as_deref(), Some("Podman 4.3.1"));
    assert_eq!(EngineKind::Podman.key(), Some("podman"));
    assert_eq!(EngineKind::Unknown.key(), None);
}

fn probe(second: i64) -> HealthProbe {
    HealthProbe {
        start: Some(t(second)),
        end: Some(t(second)),
        exit_code: Some(0),
        output: String::new(),
    }
}

fn checked(interval_s: i64, start_period_s: Option<i64>) -> Container {
    let mut c = running("hc", "hc");
    c.started_at = Some(t(0));
    c.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "true".into()],
        interval_ns: Some(interval_s * 1_000_000_000),
        start_period_ns: start_period_s.map(|s| s * 1_000_000_000),
        ..Healthcheck::default()
    });
    c.health = Some(Health { status: HealthStatus::Starting, failing_streak: 0, log: Vec::new() });
    c
}

#[test]
fn health_checks_count_as_not_run_after_three_intervals_without_a_probe() {
    let c = checked(10, None);
    let none: [HealthProbe; 0] = [];
    // Three intervals is the limit: at 30 s a probe may still be on its way.
    assert!(!c.health_checks_not_run(&none, t(30)));
    assert!(c.health_checks_not_run(&none, t(31)));
    // One probe since the start is enough; one from before a restart is not.
    assert!(!c.health_checks_not_run(&[probe(12)], t(100)));
    assert!(c.health_checks_not_run(&[probe(-50)], t(100)));
    // The start period comes first.
    let slow = checked(10, Some(60));
    assert!(!slow.health_checks_not_run(&none, t(85)));
    assert!(slow.health_checks_not_run(&none, t(91)));
    // An interval of 0 means the engine's default, 30 s.
    let default = checked(0, None);
    assert!(!default.health_checks_not_run(&none, t(89)));
    assert!(default.health_checks_not_run(&none, t(91)));
    // Not running, disabled, or no check: nothing to say.
    let mut stopped = checked(10, None);
    stopped.state = ContainerState::Exited;
    assert!(!stopped.health_checks_not_run(&none, t(100)));
    let mut disabled = checked(10, None);
    disabled.healthcheck =
        Some(Healthcheck { test: vec!["NONE".into()], ..Healthcheck::default() });
    assert!(!disabled.health_checks_not_run(&none, t(100)));
    assert!(!running("x", "x").health_checks_not_run(&none, t(100)));
}

#[test]
fn only_podman_is_said_not_to_run_its_health_checks() {
    for (kind, said) in [(EngineKind::Podman, true), (EngineKind::Docker, false)] {
        let mut model = Model::new("unix:///p.sock", t(0));
        let info = EngineInfo { kind, ..EngineInfo::default() };
        model.apply(Update::Connected { at: t(0), info: Box::new(info) });
        let c = checked(2, None);
        model.apply(Update::ContainerChanged(Box::new(c.clone())));
        let c = &model.containers["hc"];
        assert_eq!(model.health_checks_not_run(c, t(60)), said, "{kind:?}");
        let problems = crate::triage::problems(&model, t(60), None);
        let kinds: Vec<_> = problems.iter().map(|p| p.kind.as_str()).collect();
        assert_eq!(kinds.contains(&"health_not_run"), said, "{kind:?}: {kinds:?}");
    }
}

#[test]
fn the_kind_is_written_beside_names_only_when_the_engines_differ() {
    let hosts = vec![Host::new("a", "unix:///a", t(0)), Host::new("b", "unix:///b", t(0))];
    let mut model = Model::with_hosts(hosts, t(0));
    let connect = |model: &mut Model, host, kind| {
        let info = EngineInfo { kind, ..EngineInfo::default() };
        model.apply_from(host, Update::Connected { at: t(0), info: Box::new(info) });
    };
    connect(&mut model, 0, EngineKind::Docker);
    // The other one not connected yet: its kind is unknown, nothing to tell apart.
    assert_eq!((model.kind_beside_name(0), model.kind_beside_name(1)), (None, None));
    connect(&mut model, 1, EngineKind::Docker);
    assert_eq!((model.kind_beside_name(0), model.kind_beside_name(1)), (None, None));
    connect(&mut model, 1, EngineKind::Podman);
    assert_eq!(model.kind_beside_name(0), Some("Docker"));
    assert_eq!(model.kind_beside_name(1), Some("Podman"));
}
