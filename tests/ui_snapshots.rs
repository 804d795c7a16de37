//! Buffer snapshots of the UI at fixed sizes, with the clock and version pinned.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use chrono::{DateTime, TimeZone, Utc};
use portolan::model::changes::{Change, ChangeKind, ContainerChanges};
use portolan::model::files::{
    Direction, EntryKind, FileEntry, FileHead, FilesUpdate, Head, Listing, ListingAnswer, Transfer,
    TransferState,
};
use portolan::model::processes::{ProcessRow, ProcessTable};
use portolan::model::{
    ComposeInfo, Connection, Container, ContainerState, CpuCounter, Dependency,
    DependencyCondition, EngineInfo, EngineKind, Health, HealthProbe, HealthStatus, Healthcheck,
    Inventory, Limits, Model, Mount, Network, NetworkAttachment, Port, RawSample, ServiceMode,
    ServicePort, Swarm, SwarmNode, SwarmService, SwarmTask, Update, Volume,
};
use portolan::ui::keymap::{Action, Keymap};
use portolan::ui::pane::Pane;
use portolan::ui::theme::{Slot, Theme};
use portolan::ui::{App, PaneId, buffer_to_text, render_buffer};
use ratatui::style::Modifier;

fn t(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 + second, 0).single().expect("valid time")
}

fn service(id: &str, project: &str, name: &str, image: &str) -> Container {
    let mut c = Container::new(id, format!("{project}-{name}-1"));
    c.image = image.into();
    c.state = ContainerState::Running;
    c.started_at = Some(t(-3600));
    c.created = Some(t(-3700));
    c.compose = Some(ComposeInfo {
        project: project.into(),
        service: name.into(),
        container_number: Some(1),
        ..ComposeInfo::default()
    });
    c.networks.push(NetworkAttachment {
        name: format!("{project}_default"),
        ip: Some(format!("172.30.0.{}", id.len())),
        aliases: vec![name.into()],
    });
    c
}

fn sample(second: i64, cpu_ns: u64, memory: u64) -> RawSample {
    RawSample {
        source: Default::default(),
        taken_at: t(second),
        cpu: Some(CpuCounter::Cgroup {
            usage_ns: cpu_ns,
            at_ns: (second + 100) as u64 * 1_000_000_000,
        }),
        memory_used: Some(memory),
        memory_limit: Some(8 << 30),
        net_rx: Some(1_000_000 + (second + 100) as u64 * 1000),
        net_tx: Some(50_000),
        block_read: Some(4096),
        block_write: Some(0),
        pids: Some(7),
        oom_kills: None,
    }
}

/// A small shop stack with one of each trouble: unhealthy, OOM-killed, exited 3.
fn fixture() -> Model {
    let mut model = Model::new("unix:///var/run/docker.sock", t(-10));
    model.apply(Update::Connected {
        at: t(-10),
        info: Box::new(EngineInfo {
            endpoint: "unix:///var/run/docker.sock".into(),
            kind: EngineKind::Docker,
            version: Some("20.10.24".into()),
            api_version: Some("1.41".into()),
            hostname: Some("harbour".into()),
            cpus: Some(2),
            memory_bytes: Some(8 << 30),
            ..EngineInfo::default()
        }),
    });
    let mut api = service("aaaaaaaaaaaa1", "shop", "api", "node:20-alpine");
    api.user = Some("node".into());
    api.ports.push(Port {
        host_ip: Some("127.0.0.1".into()),
        host_port: Some(3001),
        container_port: 3001,
        protocol: "tcp".into(),
    });
    api.limits = Limits {
        cpus: Some(0.5),
        memory_bytes: Some(256 << 20),
        memory_reservation_bytes: None,
        pids: Some(100),
    };
    api.env = vec![
        ("DATABASE_URL".into(), "postgresql://app:hunter2@db:5432/shop".into()),
        ("JWT_SECRET".into(), "topsecret".into()),
    ];
    if let Some(info) = api.compose.as_mut() {
        info.depends_on = vec![Dependency {
            service: "db".into(),
            condition: DependencyCondition::Healthy,
            required: true,
        }];
    }
    api.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "wget -qO- http://localhost:3001/health".into()],
        interval_ns: Some(30_000_000_000),
        timeout_ns: Some(5_000_000_000),
        retries: Some(3),
        start_period_ns: None,
    });
    api.health = Some(Health {
        status: HealthStatus::Unhealthy,
        failing_streak: 4,
        log: vec![HealthProbe {
            start: Some(t(-31)),
            end: Some(t(-30)),
            exit_code: Some(1),
            output: "wget: can't connect to remote host: Connection refused\n".into(),
        }],
    });
    let mut db = service("bbbbbbbbbbbb2", "shop", "db", "postgres:16");
    db.user = Some("postgres".into());
    db.health = Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log: vec![] });
    db.healthcheck = Some(Healthcheck {
        test: vec!["CMD".into(), "pg_isready".into()],
        ..Healthcheck::default()
    });
    db.mounts.push(Mount {
        kind: "volume".into(),
        name: Some("shop_pgdata".into()),
        source: None,
        destination: "/var/lib/postgresql/data".into(),
        read_only: false,
    });
    let mut cache = service("cccccccccccc3", "shop", "cache", "redis:7-alpine");
    cache.state = ContainerState::Exited;
    cache.oom_killed = true;
    cache.exit_code = Some(137);
    cache.finished_at = Some(t(-120));
    cache.limits.memory_bytes = Some(16 << 20);
    let mut job = Container::new("dddddddddddd4", "nightly-job\u{1b}[2J");
    job.image = "busybox".into();
    job.state = ContainerState::Exited;
    job.exit_code = Some(3);
    job.finished_at = Some(t(-600));
    model.apply(Update::Synced(Box::new(Inventory {
        containers: vec![api, db, cache, job],
        networks: vec![Network {
            name: "shop_default".into(),
            driver: Some("bridge".into()),
            subnets: vec!["172.30.0.0/16".into()],
            ..Network::default()
        }],
        volumes: vec![Volume { name: "shop_pgdata".into(), ..Volume::default() }],
        last_log_lines: vec![(
            "dddddddddddd4".into(),
            "fatal: cannot open /etc/nightly.conf".into(),
        )],
        networks_late: false,
    })));
    for (id, cpu, mem) in
        [("aaaaaaaaaaaa1", 500_000_000u64, 120u64 << 20), ("bbbbbbbbbbbb2", 50_000_000, 40 << 20)]
    {
        model.apply(Update::Stats(vec![(id.into(), sample(-1, 0, mem))]));
        model.apply(Update::Stats(vec![(id.into(), sample(0, cpu, mem))]));
    }
    model
}

fn app(theme: &str) -> App {
    let mut app = App::new(fixture(), Theme::built_in(theme), Keymap::default(), t(0));
    app.version = "0.0.0-test";
    app.offset = chrono::FixedOffset::east_opt(0).expect("UTC");
    app.pane = PaneId::Containers;
    app.set_project(None);
    app
}

fn on(pane: PaneId, theme: &str) -> App {
    let mut app = app(theme);
    app.pane = pane;
    // The swarm pane is drawn as a manager shows it; the other panes keep the plain
    // engine (a swarm would add its problems and its tab to every one of them).
    if pane == PaneId::Swarm {
        app.model.apply(Update::Swarm { at: t(-5), swarm: Some(Box::new(swarm_fixture())) });
    }
    // The processes pane is drawn open on the api container, as the engine read it.
    if pane == PaneId::Processes {
        app.panes.processes.select_container("aaaaaaaaaaaa1");
        app.watch_processes();
        app.apply(Update::Processes(Box::new(process_table("aaaaaaaaaaaa1"))));
    }
    if pane == PaneId::Changes {
        app.model.apply(Update::Changes(Box::new(changes_fixture())));
        app.panes.changes.target = Some("shop-api-1".into());
    }
    // The files pane is drawn open on the api container's /app, as the engine listed it.
    if pane == PaneId::Files {
        app.model.apply(files_listing("/app"));
        app.panes.files.target = Some("shop-api-1".into());
        app.panes.files.show_dir("/app");
    }
    if pane == PaneId::Shell {
        open_fed_shell(&mut app);
    }
    if pane == PaneId::Disk {
        app.model.apply(Update::DiskUsage(Ok(Box::new(disk_fixture()))));
    }
    // The compose pane is drawn with a re-create that ended and an update under way.
    if pane == PaneId::Compose {
        feed_compose_runs(&mut app);
    }
    // What the engine holds beside the containers: their images (with a dangling and
    // an unused one), an orphaned volume whose size is known, an unused network.
    if matches!(pane, PaneId::Images | PaneId::Volumes | PaneId::Networks) {
        let containers: Vec<_> = app.model.containers.values().cloned().collect();
        app.apply(Update::Images(portolan::topology::fixtures::images_for(&containers, t(0))));
        app.apply(Update::VolumeChanged(Box::new(portolan::model::Volume {
            name: "old-cache".into(),
            driver: Some("local".into()),
            mountpoint: Some("/var/lib/docker/volumes/old-cache/_data".into()),
            created: Some(t(-9 * 86_400)),
            size: Some(12 << 20),
            ..Default::default()
        })));
        app.apply(Update::NetworkChanged(Box::new(portolan::model::Network {
            id: "n0legacy".into(),
            name: "legacy_net".into(),
            driver: Some("bridge".into()),
            scope: Some("local".into()),
            internal: true,
            subnets: vec!["172.31.0.0/16".into()],
            gateways: vec!["172.31.0.1".into()],
            ..Default::default()
        })));
    }
    app
}

/// A `/system/df` reading: images used and not (one dangling), running and stopped
/// containers, a used and an orphan volume, build cache in use and not.
fn disk_fixture() -> portolan::model::disk::DiskUsage {
    use portolan::model::disk::{DiskCache, DiskContainer, DiskImage, DiskUsage, DiskVolume};
    const MIB: u64 = 1 << 20;
    let image = |id: &str, tag: Option<&str>, size: u64, shared: u64, containers: u64| DiskImage {
        id: format!("sha256:{id}"),
        tags: tag.map(String::from).into_iter().collect(),
        size,
        shared_size: Some(shared),
        containers: Some(containers),
        created: Some(t(-86_400)),
        ..Default::default()
    };
    let container = |id: &str, name: &str, image: &str, state: &str, size_rw: u64| DiskContainer {
        id: id.into(),
        name: name.into(),
        image: image.into(),
        state: state.into(),
        size_rw,
        ..Default::default()
    };
    let volume = |name: &str, size: u64, refs: u64| DiskVolume {
        name: name.into(),
        driver: "local".into(),
        size: Some(size),
        ref_count: Some(refs),
        ..Default::default()
    };
    DiskUsage {
        at: t(-3),
        took_ms: 412,
        layers_size: 1900 * MIB,
        images: vec![
            image("1111aaaa2222bbbb", Some("shop/api:1.4"), 420 * MIB, 80 * MIB, 1),
            image("3333cccc4444dddd", Some("postgres:16"), 430 * MIB, 80 * MIB, 1),
            image("5555eeee6666ffff", Some("shop/api:1.3"), 410 * MIB, 80 * MIB, 0),
            image("7777aaaa8888bbbb", None, 390 * MIB, 0, 0),
            image("9999cccc0000dddd", Some("redis:7"), 40 * MIB, 0, 1),
        ],
        containers: vec![
            container("aaaaaaaaaaaa1", "shop-api-1", "shop/api:1.4", "running", 12 * MIB),
            container("bbbbbbbbbbbb2", "shop-db-1", "postgres:16", "running", 64 * 1024),
            container("cccccccccccc3", "shop-migrate-1", "shop/api:1.4", "exited", 3 * MIB),
        ],
        volumes: vec![volume("shop_pgdata", 230 * MIB, 1), volume("old_uploads", 75 * MIB, 0)],
        build_cache: vec![
            DiskCache {
                id: "k1".into(),
                kind: "regular".into(),
                description: "mount / from exec /bin/sh -c npm ci".into(),
                size: 160 * MIB,
                in_use: false,
                ..Default::default()
            },
            DiskCache {
                id: "k2".into(),
                kind: "source.local".into(),
                description: "local source for context".into(),
                size: 2 * MIB,
                in_use: true,
                ..Default::default()
            },
        ],
    }
}

/// A compose re-create of the shop's api that ended well, and an update of its cache
/// still waiting for health.
fn feed_compose_runs(app: &mut App) {
    use portolan::model::compose_runs::{LineKind, RunUpdate};
    let mut run = |update: RunUpdate| app.apply(Update::Run(Box::new(update)));
    run(RunUpdate::Started {
        id: 1,
        host: 0,
        title: "re-create service api of project shop".into(),
        command: Some(
            "DOCKER_HOST=unix:///var/run/docker.sock docker-compose -p shop \
             -f /srv/shop/docker-compose.yml --project-directory /srv/shop \
             up -d --no-deps --force-recreate api"
                .into(),
        ),
        at: t(-40),
    });
    let output = [
        "Recreating shop-api-1 ... ",
        "\u{1b}[1A\u{1b}[2K\rRecreating shop-api-1 ... \u{1b}[32mdone\u{1b}[0m\u{1b}[1B",
    ];
    run(RunUpdate::Lines {
        id: 1,
        lines: output.iter().map(|l| (LineKind::Output, l.to_string())).collect(),
    });
    run(RunUpdate::Ended { id: 1, at: t(-37), ok: true, status: "exit status 0".into() });
    run(RunUpdate::Started {
        id: 2,
        host: 0,
        title: "update shop-cache-1".into(),
        command: None,
        at: t(-8),
    });
    let steps = [
        (LineKind::Step, "inspecting shop-cache-1"),
        (LineKind::Step, "pulling redis:7"),
        (LineKind::Output, "7: Pulling from library/redis"),
        (LineKind::Output, "Digest: sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        (LineKind::Output, "Status: Downloaded newer image for redis:7"),
        (LineKind::Step, "redis:7: sha256:5e1f00aa1b2c → sha256:9c0ffee12345"),
        (LineKind::Step, "renaming shop-cache-1 to shop-cache-1-portolan-old"),
        (LineKind::Step, "stopping shop-cache-1-portolan-old"),
        (LineKind::Step, "creating shop-cache-1 with the same configuration from redis:7"),
        (LineKind::Step, "starting shop-cache-1"),
        (LineKind::Step, "waiting up to 33 s for it to become healthy"),
    ];
    run(RunUpdate::Lines {
        id: 2,
        lines: steps.iter().map(|(k, l)| (*k, l.to_string())).collect(),
    });
}

fn file_entry(name: &str, kind: EntryKind, size: u64, mode: u32) -> FileEntry {
    FileEntry {
        name: name.into(),
        kind,
        size,
        mode,
        uid: 0,
        gid: 0,
        user: "root".into(),
        group: "root".into(),
        mtime: t(-3600).timestamp(),
        link_target: String::new(),
        below: 0,
    }
}

/// /app of the api container: a directory with what is below it summed, files in
/// natural order, a link, a file owned by numbers, and a name made to attack the
/// terminal (an escape sequence, a newline, invalid UTF-8).
fn files_listing(path: &str) -> Update {
    let mut cache = file_entry("cache", EntryKind::Dir, 3_500_000, 0o755);
    cache.below = 42;
    let mut config = file_entry("config.yml", EntryKind::File, 1_234, 0o640);
    config.user = String::new();
    config.group = String::new();
    config.uid = 1000;
    config.gid = 1000;
    let mut current = file_entry("current", EntryKind::Symlink, 0, 0o777);
    current.link_target = "releases/v10".into();
    let mut setuid = file_entry("helper", EntryKind::File, 900_000, 0o4755);
    setuid.mtime = t(-86_400 * 30).timestamp();
    let hostile =
        String::from_utf8_lossy(b"evil\x1b[2J\x1b]0;pwned\x07\nname\xff.txt").into_owned();
    let entries = vec![
        cache,
        file_entry("empty", EntryKind::Dir, 0, 0o700),
        file_entry("page2.html", EntryKind::File, 20, 0o644),
        file_entry("page10.html", EntryKind::File, 10, 0o644),
        config,
        current,
        setuid,
        file_entry(&hostile, EntryKind::File, 7, 0o644),
    ];
    let listing = Listing { dir: None, entries, read: 51, cut: None };
    let answer = ListingAnswer {
        id: "aaaaaaaaaaaa1".into(),
        path: path.into(),
        at: t(-2),
        result: Ok(listing),
    };
    Update::Files(Box::new(FilesUpdate::Listing(answer)))
}

/// A shell in the api container, its emulator fed what a session prints: a prompt,
/// colours, wide characters, and a title, a clipboard write, a DCS and a screen clear
/// that must not show. Returns the session's id.
fn open_fed_shell(app: &mut App) -> u64 {
    let request = app.panes.shell.open(0, "aaaaaaaaaaaa1", "shop-api-1", None);
    app.panes.shell.started(request.session, "/bin/ash".into());
    let printed = concat!(
        "\x1b[2J\x1b[H\x1b]0;PWNED-TITLE\x07\x1b]52;c;cHduZWQ=\x07\x1bP+q\x1b\\",
        "/app # ls\r\n",
        "\x1b[1;34mdist\x1b[0m  \x1b[32mnode_modules\x1b[0m  package.json\r\n",
        "/app # echo hi-$((6*7)) 漢字\r\n",
        "hi-42 漢字\r\n",
        "/app # ",
    );
    app.panes.shell.output(request.session, printed.as_bytes());
    request.session
}

fn process(pid: u32, ppid: u32, cpu: f64, rss_kib: u64, command: &str) -> ProcessRow {
    ProcessRow {
        pid,
        ppid: Some(ppid),
        user: Some("node".into()),
        cpu_percent: Some(cpu),
        rss_bytes: Some(rss_kib * 1024),
        elapsed: Some("01:00:00".into()),
        command: command.into(),
    }
}

/// The api's processes, one of them with a command line that tries to clear the
/// screen and retitle the terminal.
fn process_table(id: &str) -> ProcessTable {
    ProcessTable {
        id: id.into(),
        rows: vec![
            process(4242, 4200, 12.5, 81_920, "node dist/main.js --port 3000"),
            process(4300, 4242, 0.0, 2_048, "sh -c \u{1b}]0;pwned\u{7}\u{1b}[2Jecho hi"),
            process(4301, 4242, 0.3, 12_288, "npm exec worker --queue emails"),
        ],
        host_proc: true,
        error: None,
    }
}

/// What the api container wrote: a cache, a log, a patched config, a deleted binary
/// and a file whose name carries an escape sequence and invalid UTF-8.
fn changes_fixture() -> ContainerChanges {
    use ChangeKind::*;
    let hostile = String::from_utf8_lossy(b"/tmp/evil\x1b[2Jname\xff.txt").into_owned();
    let list = [
        (Changed, "/app"),
        (Added, "/app/cache"),
        (Added, "/app/cache/page10.html"),
        (Added, "/app/cache/page2.html"),
        (Changed, "/app/config.json"),
        (Changed, "/usr"),
        (Changed, "/usr/bin"),
        (Deleted, "/usr/bin/wget"),
        (Deleted, "/var/cache/apk"),
        (Changed, "/tmp"),
        (Added, hostile.as_str()),
        (Added, "/root/.npm/_logs/debug-0.log"),
    ];
    ContainerChanges {
        id: "aaaaaaaaaaaa1".into(),
        at: t(-30),
        result: Ok(list
            .iter()
            .map(|(kind, path)| Change { path: (*path).into(), kind: *kind })
            .collect()),
        stats: Default::default(),
    }
}

/// Two nodes (a leader and a drained worker), a healthy replicated service with a
/// published port, a global agent, one service whose only task keeps failing and one
/// whose update is paused.
fn swarm_fixture() -> Swarm {
    let node = |id: &str, host: &str, role: &str, availability: &str, leader: bool| SwarmNode {
        id: id.into(),
        hostname: host.into(),
        role: Some(role.into()),
        availability: Some(availability.into()),
        status: Some("ready".into()),
        status_message: None,
        engine_version: Some("20.10.24".into()),
        leader,
        addr: None,
    };
    let service = |id: &str, name: &str, mode: ServiceMode, replicas: Option<u64>, image: &str| {
        SwarmService {
            id: id.into(),
            name: name.into(),
            mode: Some(mode),
            replicas,
            image: image.into(),
            ..SwarmService::default()
        }
    };
    let task =
        |id: &str, svc: &str, slot: Option<u64>, node: &str, state: &str, at: i64| SwarmTask {
            id: id.into(),
            service_id: svc.into(),
            slot,
            node_id: Some(node.into()),
            state: state.into(),
            desired_state: Some(if state == "failed" { "shutdown" } else { "running" }.into()),
            updated_at: Some(t(at)),
            ..SwarmTask::default()
        };
    let failed = |id: &str, at: i64| SwarmTask {
        error: Some("task: non-zero exit (1)".into()),
        exit_code: Some(1),
        ..task(id, "s-worker", Some(1), "n1", "failed", at)
    };
    let mut web = service("s-web", "web", ServiceMode::Replicated, Some(3), "nginx:1.27");
    web.ports = vec![ServicePort {
        published: Some(8080),
        target: Some(80),
        protocol: "tcp".into(),
        mode: Some("ingress".into()),
    }];
    let mut api = service("s-api", "api", ServiceMode::Replicated, Some(2), "shop/api:2.1");
    api.update_state = Some("paused".into());
    api.update_message = Some("update paused due to failure or early termination of task".into());
    let services = vec![
        web,
        api,
        service("s-agent", "agent", ServiceMode::Global, None, "portainer/agent:2.19"),
        service("s-worker", "worker", ServiceMode::Replicated, Some(1), "shop/worker:1.4"),
    ];
    let tasks = vec![
        task("t1", "s-web", Some(1), "n1", "running", -600),
        task("t2", "s-web", Some(2), "n2", "running", -600),
        task("t3", "s-web", Some(3), "n1", "running", -600),
        task("t4", "s-api", Some(1), "n1", "running", -900),
        task("t5", "s-api", Some(2), "n2", "running", -900),
        task("t6", "s-agent", None, "n1", "running", -1200),
        task("t7", "s-agent", None, "n2", "running", -1200),
        failed("t8", -120),
        failed("t9", -60),
        task("t10", "s-worker", Some(1), "n1", "starting", -2),
    ];
    Swarm {
        nodes: [
            ("n1".to_string(), node("n1", "harbour", "manager", "active", true)),
            ("n2".to_string(), node("n2", "pier-2", "worker", "drain", false)),
        ]
        .into(),
        services: services.into_iter().map(|s| (s.id.clone(), s)).collect(),
        tasks: tasks.into_iter().map(|t| (t.id.clone(), t)).collect(),
    }
}

#[test]
fn swarm_pane_without_a_swarm_says_so() {
    let mut app = app("dark");
    app.pane = PaneId::Swarm;
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("not a swarm manager"), "{text}");
    insta::assert_snapshot!("swarm_none_80x24", text);
}

#[test]
fn swarm_pane_shows_replicas_failures_and_placement() {
    let mut app = on(PaneId::Swarm, "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("0/1") && text.contains("3/3"), "{text}");
    assert!(text.contains("worker.1 on harbour"), "{text}");
    assert!(text.contains("task: non-zero exit (1) · exit 1"), "{text}");
    assert!(text.contains("harbour ★") && text.contains("pier-2"), "{text}");
    assert!(text.contains("paused: update paused"), "{text}");
}

#[test]
fn compose_pane_without_runs_says_how_to_run_one() {
    let mut app = app("dark");
    app.pane = PaneId::Compose;
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("no commands run yet"), "{text}");
    assert!(text.contains("re-create") && text.contains("checks for a newer image"), "{text}");
}

#[test]
fn compose_pane_shows_the_command_its_output_and_its_status() {
    let mut app = on(PaneId::Compose, "dark");
    // The newest run is shown first: the update, still waiting.
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("Compose · 2 runs · 1 running"), "{text}");
    assert!(text.contains("▸ waiting up to 33 s") && text.contains("running…"), "{text}");
    app.act(portolan::ui::keymap::Action::Down);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("$ DOCKER_HOST=unix:///var/run/docker.sock docker-compose"), "{text}");
    assert!(text.contains("Recreating shop-api-1 ... done"), "{text}");
    assert!(text.contains("exit status 0 · took 3s"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
}

#[test]
fn an_update_found_shows_in_the_table_and_the_detail() {
    use portolan::model::image_updates::{UpdateCheck, Verdict};
    let mut app = on(PaneId::Containers, "dark");
    let verdict = Verdict::Available {
        local: Some("sha256:5e1f00aa1b2c3d".into()),
        remote: "sha256:9c0ffee1234567".into(),
    };
    let check =
        UpdateCheck { id: "aaaaaaaaaaaa1".into(), image: "shop/api:2".into(), at: t(0), verdict };
    app.apply(Update::UpdatesChecked(vec![check]));
    let text = buffer_to_text(&render_buffer(&mut app, 160, 50));
    assert!(text.contains("api ↑update"), "{text}");
    app.act(portolan::ui::keymap::Action::ToggleDetail);
    let text = buffer_to_text(&render_buffer(&mut app, 160, 50));
    assert!(text.contains("update available (sha256:9c0ffee12345)"), "{text}");
}

#[test]
fn every_pane_at_80x24_and_120x40() {
    for pane in PaneId::ALL {
        for (w, h) in [(80u16, 24u16), (120, 40)] {
            let mut app = on(*pane, "dark");
            let text = buffer_to_text(&render_buffer(&mut app, w, h));
            insta::assert_snapshot!(format!("{}_{w}x{h}", pane.name()), text);
        }
    }
}

#[test]
fn triage_shows_every_problem_with_its_cause_at_120x40() {
    let mut app = on(PaneId::Triage, "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("OOM KILLED") && text.contains("OOM killed (limit 16.0MiB)"), "{text}");
    assert!(
        text.contains("UNHEALTHY") && text.contains("wget: can't connect to remote host"),
        "{text}"
    );
    assert!(text.contains("EXITED") && text.contains("exit 3"), "{text}");
    assert!(text.contains("3 problems"), "{text}");
}

/// The shop fixture and three more projects around it: a blog within its limits, a
/// metrics stack with no limits whose grafana crashed, and an edge proxy whose route
/// to the shop's unhealthy api is broken; with live events, so each project has news.
fn several_projects() -> App {
    let mut app = on(PaneId::Triage, "dark");
    let mut containers = Vec::new();
    let mut blog_web = service("ffffffffffff6", "blog", "web", "ghost:5");
    blog_web.limits.cpus = Some(1.0);
    blog_web.limits.memory_bytes = Some(512 << 20);
    blog_web.health =
        Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log: vec![] });
    let mut blog_db = service("gggggggggggg7", "blog", "db", "mysql:8");
    blog_db.limits.cpus = Some(1.0);
    blog_db.limits.memory_bytes = Some(1 << 30);
    blog_db.health = Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log: vec![] });
    containers.extend([blog_web, blog_db]);
    let prometheus = service("hhhhhhhhhhhh8", "metrics", "prometheus", "prom/prometheus");
    let mut grafana = service("iiiiiiiiiiii9", "metrics", "grafana", "grafana/grafana");
    grafana.state = ContainerState::Exited;
    grafana.exit_code = Some(1);
    grafana.finished_at = Some(t(-45));
    let mut loki = service("jjjjjjjjjjj10", "metrics", "loki", "grafana/loki");
    loki.health = Some(Health { status: HealthStatus::Starting, failing_streak: 0, log: vec![] });
    containers.extend([prometheus, grafana, loki]);
    let mut traefik = service("kkkkkkkkkkk11", "edge", "traefik", "traefik:v3.1");
    traefik.cmd = vec!["--entrypoints.web.address=:80".into()];
    containers.push(traefik);
    let mut api = app.model.containers["aaaaaaaaaaaa1"].clone();
    for (k, v) in [
        ("traefik.enable", "true"),
        ("traefik.http.routers.api.rule", "Host(`shop.example.com`)"),
        ("traefik.http.services.api.loadbalancer.server.port", "3001"),
    ] {
        api.labels.insert(k.into(), v.into());
    }
    containers.push(api);
    for c in containers {
        app.apply(Update::ContainerChanged(Box::new(c)));
    }
    for (id, cpu, mem) in [
        ("ffffffffffff6", 900_000_000u64, 430u64 << 20),
        ("gggggggggggg7", 100_000_000, 380 << 20),
        ("hhhhhhhhhhhh8", 200_000_000, 700 << 20),
        ("jjjjjjjjjjj10", 50_000_000, 90 << 20),
        ("kkkkkkkkkkk11", 10_000_000, 30 << 20),
    ] {
        app.apply(Update::Stats(vec![(id.into(), sample(-1, 0, mem))]));
        app.apply(Update::Stats(vec![(id.into(), sample(0, cpu, mem))]));
    }
    let event = |at: i64, id: &str, project: &str, service: &str, action: &str, detail: &str| {
        Update::Event(Box::new(portolan::model::ContainerEvent {
            at: t(at),
            id: id.into(),
            name: format!("{project}-{service}-1"),
            project: Some(project.into()),
            service: Some(service.into()),
            action: action.into(),
            detail: (!detail.is_empty()).then(|| detail.into()),
        }))
    };
    app.apply(event(-300, "ffffffffffff6", "blog", "web", "start", ""));
    app.apply(event(-45, "iiiiiiiiiiii9", "metrics", "grafana", "die", "1"));
    app.apply(event(-20, "jjjjjjjjjjj10", "metrics", "loki", "health_status", "starting"));
    app.apply(event(-30, "aaaaaaaaaaaa1", "shop", "api", "health_status", "unhealthy"));
    app
}

#[test]
fn triage_overview_shows_every_project_below_the_problems() {
    let mut app = several_projects();
    let wide = buffer_to_text(&render_buffer(&mut app, 120, 40));
    for words in [
        "Overview · 4 projects + stand-alone",
        "CPU",
        "MEMORY",
        "lim",
        "host",
        "2 broken",
        "loki starting",
        "~14:56 nightly-job die exit 3",
    ] {
        assert!(wide.contains(words), "{words}: {wide}");
    }
    // Problems come first, the overview after them.
    let (problems, overview) = wide.split_once("Overview ·").expect("an overview");
    assert!(problems.contains("UNHEALTHY") && !overview.contains("UNHEALTHY"), "{wide}");
    insta::assert_snapshot!("triage_overview_120x40", wide);
    // At 80 columns whole columns give way: usage goes, the last event stays.
    let narrow = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(narrow.contains("Overview") && narrow.contains("LAST EVENT"), "{narrow}");
    assert!(!narrow.contains("MEMORY"), "{narrow}");
    insta::assert_snapshot!("triage_overview_80x24", narrow);
}

/// Gauge colours against limits in the dark theme, and the same in high contrast and
/// in mono (what NO_COLOR gets).
#[test]
fn triage_overview_colours_in_dark_high_contrast_and_mono() {
    for theme in ["dark", "high-contrast", "mono"] {
        let mut app = several_projects();
        app.theme = Theme::built_in(theme);
        let buffer = render_buffer(&mut app, 120, 40);
        insta::assert_snapshot!(
            format!("triage_overview_120x40_{theme}"),
            styled_snapshot(&buffer)
        );
    }
}

#[test]
fn problems_that_fill_the_pane_leave_one_line_of_overview() {
    let mut app = several_projects();
    let text = buffer_to_text(&render_buffer(&mut app, 80, 16));
    let summary = text.lines().rev().find(|l| l.contains("Overview")).expect("a summary");
    assert!(summary.contains("4 projects") && summary.contains("2 broken routes"), "{text}");
    assert!(!text.contains("LAST EVENT"), "{text}");
    assert!(text.contains("OOM KILLED"), "problems first: {text}");
}

#[test]
fn a_healthy_host_says_so() {
    let mut model = Model::new("unix:///var/run/docker.sock", t(-10));
    let mut c = service("aaaaaaaaaaaa9", "calm", "web", "nginx");
    c.health = Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log: vec![] });
    model
        .apply(Update::Synced(Box::new(Inventory { containers: vec![c], ..Inventory::default() })));
    let mut app = App::new(model, Theme::built_in("dark"), Keymap::default(), t(0));
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("Nothing is wrong"), "{text}");
    // The overview follows the message.
    let (_, below) = text.split_once("Nothing is wrong").expect("the message");
    assert!(below.contains("Overview · 1 project") && below.contains("✓ calm"), "{text}");
}

#[test]
fn stats_sorting_and_threshold_colours() {
    let mut app = on(PaneId::Stats, "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    let api = text.find("api ").expect("api row");
    let db = text.find("db ").expect("db row");
    assert!(api < db, "sorted by CPU, busiest first:\n{text}");
    assert!(text.contains("(100%L)"), "CPU against its 0.5 CPU limit:\n{text}");
    app.act(Action::SortNext);
    app.act(Action::SortReverse);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("sorted by memory ↑"), "{text}");
}

#[test]
fn containers_120x40_dark() {
    let mut app = app("dark");
    let buffer = render_buffer(&mut app, 120, 40);
    insta::assert_snapshot!(buffer_to_text(&buffer));
}

#[test]
fn containers_80x24_mono() {
    let mut app = app("mono");
    let buffer = render_buffer(&mut app, 80, 24);
    insta::assert_snapshot!(buffer_to_text(&buffer));
}

#[test]
fn containers_200x60_light_with_selection_moved() {
    let mut app = app("light");
    app.act(Action::Down);
    app.act(Action::Down);
    let buffer = render_buffer(&mut app, 200, 60);
    insta::assert_snapshot!(buffer_to_text(&buffer));
}

#[test]
fn help_overlay_80x24() {
    let mut app = app("dark");
    app.act(Action::Help);
    let buffer = render_buffer(&mut app, 80, 24);
    insta::assert_snapshot!(buffer_to_text(&buffer));
}

#[test]
fn full_detail_80x24() {
    let mut app = app("dark");
    app.act(Action::ToggleDetail);
    let buffer = render_buffer(&mut app, 80, 24);
    insta::assert_snapshot!(buffer_to_text(&buffer));
}

#[test]
fn too_small_and_tiny_sizes_do_not_panic() {
    let mut app = app("dark");
    let text = buffer_to_text(&render_buffer(&mut app, 39, 11));
    assert!(text.contains("Terminal too small"), "{text}");
    for (w, h) in [(1, 1), (40, 12), (41, 13), (300, 100), (99, 21), (100, 22)] {
        let _ = render_buffer(&mut app, w, h);
    }
}

#[test]
fn disconnected_header_says_since_when() {
    let mut app = app("dark");
    app.apply(Update::Disconnected { at: t(-75), reason: "connection refused".into() });
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("DISCONNECTED since"), "{text}");
    assert!(text.contains("(1m)"), "{text}");
    assert!(text.contains("Lost the engine: connection refused"), "{text}");
    assert!(matches!(app.model.hosts[0].connection, Connection::Disconnected { .. }));
}

#[test]
fn selection_is_styled_and_visible_in_mono() {
    let mut app = app("mono");
    let buffer = render_buffer(&mut app, 120, 40);
    // The first container row sits below the header, the border, the column titles
    // and the group title.
    let y = (0..buffer.area.height)
        .find(|y| {
            buffer_to_text(&buffer).lines().nth(*y as usize).is_some_and(|l| l.contains("● api"))
        })
        .expect("api row");
    let cell = &buffer[(2, y)];
    assert!(
        cell.modifier.contains(Modifier::REVERSED),
        "selection must be reversed in mono: {cell:?}"
    );
    assert_eq!(Theme::built_in("mono").style(Slot::Selection).fg, None);
}

#[test]
fn selection_follows_the_container_across_updates() {
    let mut app = app("dark");
    app.act(Action::Down);
    let selected = app.panes.containers.selected_id().map(String::from);
    // A new container sorting before the selection must not move it.
    let newcomer = service("eeeeeeeeeeee5", "aardvark", "web", "nginx");
    app.apply(Update::ContainerChanged(Box::new(newcomer)));
    assert_eq!(app.panes.containers.selected_id().map(String::from), selected);
    // Removing the selected container selects a neighbour, not nothing.
    let id = selected.expect("a selection");
    app.apply(Update::ContainerRemoved { id: id.clone() });
    assert!(app.panes.containers.selected_id().is_some_and(|s| s != id));
}

#[test]
fn escape_sequences_from_names_never_reach_the_buffer() {
    let mut app = app("dark");
    app.act(Action::Bottom);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("nightly-job"), "{text}");
    assert!(!text.contains('\u{1b}'), "raw escape in the rendering");
}

#[test]
fn secrets_are_masked_in_the_detail() {
    let mut app = app("dark");
    app.act(Action::ToggleDetail);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 60));
    assert!(text.contains("postgresql://app:***@db:5432/shop"), "{text}");
    assert!(text.contains("JWT_SECRET=***"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("topsecret"));
}

#[test]
fn project_filter_cycles_and_clears() {
    let mut app = app("dark");
    app.act(Action::NextProject);
    assert_eq!(app.project.as_deref(), Some("shop"));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(!text.contains("nightly-job"));
    // The header counts what is shown: the project's containers, not the host's.
    let shop = app.model.counts_where(|c| c.project() == Some("shop"));
    let header = text.lines().next().unwrap_or_default().to_string();
    assert!(header.contains(&format!("{} running", shop.running)), "{header}");
    assert!(header.contains(&format!("{} exited", shop.exited)), "{header}");
    assert_ne!(shop, app.model.counts(), "the fixture has containers outside the project");
    // At 80 columns the footer keeps whole hints, the filter in force among them.
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    let footer = text.lines().last().unwrap_or_default().trim_end().to_string();
    assert!(footer.contains("project: shop"), "{footer}");
    let whole = ["quit", "help", "project: shop", "pane", "select", "detail", "actions"];
    assert!(whole.iter().any(|h| footer.ends_with(h)), "no hint cut short: {footer}");
    app.act(Action::NextProject);
    assert_eq!(app.project, None);
}

#[test]
fn logs_pane_merges_colours_and_defuses() {
    use portolan::model::logs::{LogTarget, Stream};
    use portolan::model::{LogBatch, RawLogLine};
    let mut app = on(PaneId::Containers, "dark");
    app.log_target = Some((LogTarget::project("shop"), "project shop".into()));
    app.act(Action::Pane8);
    assert!(matches!(
        app.pending.last(),
        Some(portolan::engine::EngineCommand::FollowLogs(Some(_)))
    ));
    let mut data = Vec::new();
    let mut lines = Vec::new();
    for (i, text) in [
        "listening on :3001",
        "\u{1b}[31mERROR\u{1b}[0m db connection refused \u{1b}]0;PWNED\u{7}",
        r#"{"level":"warn","msg":"slow query"}"#,
    ]
    .iter()
    .enumerate()
    {
        let start = data.len();
        data.extend_from_slice(text.as_bytes());
        lines.push(RawLogLine {
            stream: if i == 1 { Stream::Stderr } else { Stream::Stdout },
            timestamp: Some(t(i as i64 - 3)),
            start,
            end: data.len(),
        });
    }
    let batch =
        LogBatch { id: "aaaaaaaaaaaa1".into(), received: std::time::Instant::now(), data, lines };
    app.apply(Update::Logs(Box::new(batch)));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 20));
    insta::assert_snapshot!(text);
    assert!(text.contains("ERROR db connection refused"), "{text}");
    assert!(!text.contains("PWNED") && !text.contains('\u{1b}'));
    assert!(text.contains("3 lines"), "{text}");
}

#[test]
fn marked_containers_make_one_merged_log() {
    use portolan::engine::EngineCommand;
    use portolan::model::logs::LogTarget;
    let mut app = on(PaneId::Containers, "dark");
    app.act(Action::Mark);
    app.act(Action::Down);
    app.act(Action::Down);
    app.act(Action::Mark);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert_eq!(text.matches('◆').count(), 2, "{text}");
    app.act(Action::Pane8);
    match app.pending.last() {
        Some(EngineCommand::FollowLogs(Some(request))) => match &request.target {
            LogTarget::Ids(ids) => assert_eq!(ids.len(), 2),
            other => panic!("expected the marked ids, got {other:?}"),
        },
        other => panic!("expected a follow request, got {other:?}"),
    }
    assert!(app.panes.logs.target_label.contains(", "), "{}", app.panes.logs.target_label);
}

/// The fixture behind a Traefik proxy: `api` routed over TLS with a middleware, and a
/// router whose rule does not parse.
fn routes_app() -> App {
    let mut app = on(PaneId::Routes, "dark");
    let mut traefik = service("eeeeeeeeeeee5", "shop", "traefik", "traefik:v3.1");
    traefik.cmd = vec![
        "--providers.docker.exposedbydefault=false".into(),
        "--entrypoints.web.address=:80".into(),
        "--entrypoints.websecure.address=:443".into(),
        "--certificatesresolvers.le.acme.tlschallenge=true".into(),
    ];
    traefik.ports.push(Port {
        host_ip: Some("0.0.0.0".into()),
        host_port: Some(443),
        container_port: 443,
        protocol: "tcp".into(),
    });
    let mut api = app.model.containers["aaaaaaaaaaaa1"].clone();
    for (k, v) in [
        ("traefik.enable", "true"),
        ("traefik.http.routers.api.rule", "Host(`shop.example.com`) && PathPrefix(`/api`)"),
        ("traefik.http.routers.api.entrypoints", "websecure"),
        ("traefik.http.routers.api.tls.certresolver", "le"),
        ("traefik.http.routers.api.middlewares", "ratelimit@file"),
        ("traefik.http.services.api.loadbalancer.server.port", "3001"),
        ("traefik.http.routers.broken.rule", "Host(`bad.example.com`"),
        ("traefik.http.routers.broken.service", "api"),
    ] {
        api.labels.insert(k.into(), v.into());
    }
    app.apply(Update::ContainerChanged(Box::new(traefik)));
    app.apply(Update::ContainerChanged(Box::new(api)));
    app
}

#[test]
fn routes_pane_joins_labels_to_containers_with_verdicts() {
    let mut app = routes_app();
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let text = buffer_to_text(&render_buffer(&mut app, w, h));
        insta::assert_snapshot!(format!("routes_verdicts_{w}x{h}"), text);
    }
    let text = buffer_to_text(&render_buffer(&mut app, 160, 40));
    assert!(text.contains("Traefik drops unhealthy containers"), "{text}");
    assert!(text.contains("rule does not parse"), "{text}");
    assert!(text.contains("websecure :443"), "{text}");
    assert!(text.contains("shop.example.com"), "{text}");
}

#[test]
fn actions_menu_confirmation_and_inspect_at_80x24() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let mut app = on(PaneId::Containers, "dark");
    app.panes.containers.select("aaaaaaaaaaaa1");
    assert!(app.act(Action::Actions));
    let menu = buffer_to_text(&render_buffer(&mut app, 80, 24));
    insta::assert_snapshot!("actions_menu_80x24", menu);
    assert!(menu.contains("t  stop  (asks first)"), "{menu}");
    assert!(!menu.contains("s  start"), "start is not offered for a running container: {menu}");
    app.overlay_key(&key('d'));
    let confirm = buffer_to_text(&render_buffer(&mut app, 80, 24));
    insta::assert_snapshot!("remove_running_asks_harder_80x24", confirm);
    assert!(confirm.contains("Remove container: shop-api-1?"), "{confirm}");
    assert!(confirm.contains("Type yes"), "{confirm}");
    app.overlay_key(&key('y'));
    app.overlay_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(app.overlay.is_none() && app.pending.is_empty(), "a lone y does not remove it");

    app.read_only = true;
    app.act(Action::Actions);
    assert!(app.overlay.is_none(), "read-only opens no menu");
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("READ-ONLY") && text.contains("actions are turned off"), "{text}");

    app.act(Action::Inspect);
    let tree = buffer_to_text(&render_buffer(&mut app, 80, 24));
    insta::assert_snapshot!("inspect_80x24", tree);
    assert!(tree.contains("Inspect · shop-api-1"), "{tree}");
    app.act(Action::Bottom);
    let bottom = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(!bottom.contains("hunter2") && !bottom.contains("topsecret"), "{bottom}");
    app.act(Action::Reveal);
    let revealed = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(revealed.contains("topsecret"), "{revealed}");
}

#[test]
fn the_mouse_selects_rows_switches_tabs_and_scrolls() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let at = |kind, column, row| MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE };
    let mut app = on(PaneId::Containers, "dark");
    let _ = render_buffer(&mut app, 120, 40);
    // Rows under the header: "shop" group, api, cache, db...
    assert!(app.mouse(&at(MouseEventKind::Down(MouseButton::Left), 5, 6)));
    assert_eq!(
        app.panes.containers.selected_id(),
        Some("cccccccccccc3"),
        "the third line is cache"
    );
    assert!(app.mouse(&at(MouseEventKind::ScrollDown, 5, 10)));
    assert_ne!(app.panes.containers.selected_id(), Some("cccccccccccc3"), "the wheel moves on");
    // The tab bar: "4 Stats" sits after "1 Triage(3)   2 Map   3 Containers   ".
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    let tabs = text.lines().nth(1).unwrap();
    let column = tabs.find("4 Stats").unwrap() as u16 + 2;
    assert!(app.mouse(&at(MouseEventKind::Down(MouseButton::Left), column, 1)));
    assert_eq!(app.pane, PaneId::Stats);
    app.mouse = false;
    assert!(!app.mouse(&at(MouseEventKind::ScrollDown, 5, 10)), "turned off");
}

#[test]
fn an_action_under_way_shows_on_the_row_the_box_and_the_footer() {
    let mut app = on(PaneId::Containers, "dark");
    app.apply(Update::ActionStarted {
        id: "bbbbbbbbbbbb2".into(),
        verb: portolan::model::action::Verb::Restart,
    });
    let list = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(list.lines().any(|l| l.contains("db") && l.contains("restarting")), "{list}");
    assert!(list.lines().last().is_some_and(|l| l.contains("restarting shop-db-1")), "{list}");
    app.pane = PaneId::Map;
    let map = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(map.contains("restarting"), "{map}");
    app.apply(Update::ActionDone(Box::new(portolan::model::action::ActionResult {
        at: t(1),
        id: "bbbbbbbbbbbb2".into(),
        name: "shop-db-1".into(),
        verb: portolan::model::action::Verb::Restart,
        error: Some("the engine answered 500: cannot restart".into()),
    })));
    let after = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(after.contains("restart shop-db-1 failed: the engine answered 500"), "{after}");
    assert!(app.model.busy.is_empty());
}

/// The fixture plus a clean worker in `shop` and a privileged stand-alone agent with
/// the Docker socket.
fn audit_app() -> App {
    let mut app = on(PaneId::Triage, "dark");
    let mut worker = service("ffffffffffff6", "shop", "worker", "ghcr.io/shop/worker:1.2");
    worker.user = Some("1000".into());
    worker.read_only = true;
    worker.healthcheck =
        Some(Healthcheck { test: vec!["CMD".into(), "true".into()], ..Healthcheck::default() });
    worker.limits = Limits { cpus: Some(0.25), memory_bytes: Some(64 << 20), ..Limits::default() };
    worker.restart_policy =
        Some(portolan::model::RestartPolicy { name: "always".into(), maximum_retry_count: None });
    let mut agent = Container::new("999999999999a", "agent");
    agent.image = "portainer/agent:2.19".into();
    agent.state = ContainerState::Running;
    agent.privileged = true;
    agent.mounts.push(Mount {
        kind: "bind".into(),
        name: None,
        source: Some("/var/run/docker.sock".into()),
        destination: "/var/run/docker.sock".into(),
        read_only: false,
    });
    agent.ports.push(Port {
        host_ip: Some("0.0.0.0".into()),
        host_port: Some(9001),
        container_port: 9001,
        protocol: "tcp".into(),
    });
    app.apply(Update::ContainerChanged(Box::new(worker)));
    app.apply(Update::ContainerChanged(Box::new(agent)));
    app.act(Action::Pane0);
    app
}

#[test]
fn audit_pane_groups_findings_and_summarises_clean_containers() {
    let mut app = audit_app();
    assert_eq!(app.pane, PaneId::Audit, "0 shows the audit");
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let text = buffer_to_text(&render_buffer(&mut app, w, h));
        insta::assert_snapshot!(format!("audit_findings_{w}x{h}"), text);
    }
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("Audit · 2 high · 4 medium"), "{text}");
    assert!(text.contains("✓ no findings: worker"), "{text}");
    assert!(!text.contains("  worker  "), "a clean container has no block of its own:\n{text}");
    assert!(text.contains("HIGH   privileged"), "{text}");
    // Down to the stand-alone agent's findings: the selection names its container.
    app.act(Action::Bottom);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("▾ stand-alone"), "scrolled to the end:\n{text}");
    app.act(Action::Top);
    let _ = render_buffer(&mut app, 120, 40);
    for _ in 0..40 {
        if app.selected_container() == Some("999999999999a") {
            break;
        }
        app.act(Action::Down);
    }
    assert_eq!(app.selected_container(), Some("999999999999a"));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("HIGH · privileged · agent"), "{text}");
    // Enter opens the container's detail, as on every list.
    app.act(Action::ToggleDetail);
    assert_eq!(app.pane, PaneId::Containers);
    assert_eq!(app.panes.containers.selected_id(), Some("999999999999a"));
}

#[test]
fn audit_pane_follows_changes_and_the_project_filter() {
    let mut app = audit_app();
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(!text.contains("adds capabilities"), "{text}");
    let mut api = app.model.containers["aaaaaaaaaaaa1"].clone();
    api.cap_add = vec!["NET_ADMIN".into()];
    app.apply(Update::ContainerChanged(Box::new(api)));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("adds capabilities NET_ADMIN"), "{text}");
    app.act(Action::NextProject);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("Audit · project shop"), "{text}");
    assert!(!text.contains("agent") && !text.contains("nightly-job"), "{text}");
}

#[test]
fn audit_pane_says_no_findings_on_a_clean_host() {
    let mut model = Model::new("unix:///var/run/docker.sock", t(-10));
    let mut c = service("aaaaaaaaaaaa9", "calm", "web", "nginx:1.27");
    c.user = Some("nginx".into());
    c.read_only = true;
    c.healthcheck =
        Some(Healthcheck { test: vec!["CMD".into(), "true".into()], ..Healthcheck::default() });
    c.limits = Limits { cpus: Some(1.0), memory_bytes: Some(128 << 20), ..Limits::default() };
    c.restart_policy =
        Some(portolan::model::RestartPolicy { name: "always".into(), maximum_retry_count: None });
    model
        .apply(Update::Synced(Box::new(Inventory { containers: vec![c], ..Inventory::default() })));
    let mut app = App::new(model, Theme::built_in("dark"), Keymap::default(), t(0));
    app.version = "0.0.0-test";
    app.pane = PaneId::Audit;
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("Audit · no findings"), "{text}");
    assert!(text.contains("✓ No findings."), "{text}");
    assert!(text.contains("1 container passes every check."), "{text}");
    assert_eq!(app.selected_container(), None);
}

#[test]
fn audit_severities_are_coloured() {
    let mut app = audit_app();
    let buffer = render_buffer(&mut app, 120, 40);
    let text = buffer_to_text(&buffer);
    let find = |needle: &str| {
        text.lines()
            .enumerate()
            .find_map(|(y, l)| l.find(needle).map(|x| (l[..x].chars().count() as u16, y as u16)))
    };
    let theme = Theme::built_in("dark");
    let (x, y) = find("HIGH   docker.sock").expect("a high finding");
    assert_eq!(buffer[(x, y)].fg, theme.style(Slot::Error).fg.expect("error has a colour"));
    let (x, y) = find("MEDIUM root").expect("a medium finding");
    assert_eq!(buffer[(x, y)].fg, theme.style(Slot::Warning).fg.expect("warning has a colour"));
}

/// The text, then the same grid with one letter per distinct style, then what each
/// letter means: a snapshot that also pins the colours.
fn styled_snapshot(buffer: &ratatui::buffer::Buffer) -> String {
    let mut legend: Vec<ratatui::style::Style> = Vec::new();
    let letters: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
    let mut grid = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            let style = buffer[(x, y)].style();
            let index = legend.iter().position(|s| *s == style).unwrap_or_else(|| {
                legend.push(style);
                legend.len() - 1
            });
            grid.push(letters.get(index).copied().unwrap_or('#'));
        }
        grid.push('\n');
    }
    let mut out = buffer_to_text(buffer);
    out.push_str("\n---- styles ----\n");
    out.push_str(&grid);
    for (index, style) in legend.iter().enumerate() {
        out.push_str(&format!(
            "{} fg={:?} bg={:?} {:?}\n",
            letters.get(index).copied().unwrap_or('#'),
            style.fg,
            style.bg,
            style.add_modifier
        ));
    }
    out
}

#[test]
fn containers_and_triage_in_high_contrast_80x24() {
    for pane in [PaneId::Containers, PaneId::Triage] {
        let mut app = on(pane, "high-contrast");
        let buffer = render_buffer(&mut app, 80, 24);
        insta::assert_snapshot!(
            format!("{}_80x24_high_contrast", pane.name()),
            styled_snapshot(&buffer)
        );
    }
}

/// Every pane in every built-in theme, and in its 16-colour fallback: no text drawn
/// in its own background colour, the selection set apart, and in high-contrast no
/// cell left to the terminal's colours.
#[test]
fn every_pane_is_legible_in_every_theme() {
    use portolan::ui::theme::BUILT_IN;
    use ratatui::style::Color;
    let mut invisible = Vec::new();
    for (name, _) in BUILT_IN {
        for theme in [Theme::built_in(name), Theme::built_in(name).to_ansi16()] {
            for pane in PaneId::ALL {
                let mut app = on(*pane, name);
                app.theme = theme.clone();
                let buffer = render_buffer(&mut app, 120, 40);
                let mut selected = false;
                for y in 0..buffer.area.height {
                    for x in 0..buffer.area.width {
                        let cell = &buffer[(x, y)];
                        let style = cell.style();
                        let visible = cell.symbol().trim().chars().next().is_some();
                        if visible
                            && style.fg.is_some_and(|c| c != Color::Reset)
                            && style.fg == style.bg
                        {
                            invisible.push(format!(
                                "{name}{}/{}: ({x},{y}) `{}` {:?}",
                                if theme == Theme::built_in(name) { "" } else { "/16" },
                                pane.name(),
                                cell.symbol(),
                                style.fg
                            ));
                        }
                        // The cell under the second half of a wide glyph is never drawn.
                        let hidden = x > 0
                            && ratatui::text::Span::raw(buffer[(x - 1, y)].symbol()).width() > 1;
                        if *name == "high-contrast" && !hidden {
                            assert!(
                                !matches!(style.fg, None | Some(Color::Reset))
                                    && !matches!(style.bg, None | Some(Color::Reset)),
                                "high-contrast/{}: ({x},{y}) `{}` uses the terminal's colours: {style:?}",
                                pane.name(),
                                cell.symbol()
                            );
                        }
                        selected |= style == theme.style(Slot::Selection).patch(style)
                            && style
                                .add_modifier
                                .contains(theme.style(Slot::Selection).add_modifier)
                            && (style.bg == theme.style(Slot::Selection).bg
                                || style.add_modifier.contains(Modifier::REVERSED));
                    }
                }
                assert!(selected, "{name}/{}: no selection visible", pane.name());
            }
        }
    }
    assert!(invisible.is_empty(), "text in its own background colour:\n{}", invisible.join("\n"));
}

#[test]
fn the_help_scrolls_when_it_is_longer_than_the_screen() {
    let mut app = on(PaneId::Containers, "dark");
    app.act(Action::Help);
    let top = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(top.contains("j k scroll"), "{top}");
    assert!(!top.contains("portolan 0.0.0-test"), "{top}");
    for _ in 0..10 {
        app.act(Action::PageDown);
    }
    let bottom = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(bottom.contains("portolan 0.0.0-test"), "the end is reachable: {bottom}");
    app.act(Action::Back);
    assert!(!app.show_help && app.help_scroll == 0);
}

#[test]
fn map_draws_the_swarm_nodes_with_their_tasks_below_the_containers() {
    let mut app = app("dark");
    app.pane = PaneId::Map;
    app.model.apply(Update::Swarm { at: t(-5), swarm: Some(Box::new(swarm_fixture())) });
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("Swarm · 4 services on 2 nodes · 1 below replicas"), "{text}");
    assert!(text.contains("harbour ★") && text.contains("web .2 running"), "{text}");
    insta::assert_snapshot!("map_swarm_120x40", text);
}

#[test]
fn swarm_nodes_without_room_are_counted_not_dropped() {
    let mut swarm = swarm_fixture();
    let template = swarm.nodes["n2"].clone();
    for n in 3..=12 {
        let id = format!("n{n}");
        let node = SwarmNode { id: id.clone(), hostname: format!("pier-{n}"), ..template.clone() };
        swarm.nodes.insert(id, node);
    }
    let mut app = app("dark");
    app.pane = PaneId::Swarm;
    app.model.apply(Update::Swarm { at: t(-5), swarm: Some(Box::new(swarm)) });
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("more not shown"), "{text}");
}

/// The three-engine fixture (`edge` lost) on `pane`, clock and zone pinned.
fn three_hosts_on(pane: PaneId) -> App {
    use portolan::topology::fixtures;
    let mut app = App::new(
        fixtures::three_hosts(),
        Theme::built_in("dark"),
        Keymap::default(),
        fixtures::now(),
    );
    app.version = "0.0.0-test";
    app.offset = chrono::FixedOffset::east_opt(0).expect("UTC");
    app.set_project(None);
    app.pane = pane;
    app
}

#[test]
fn every_pane_names_the_engine_with_three_hosts() {
    let panes =
        [PaneId::Containers, PaneId::Triage, PaneId::Stats, PaneId::Timeline, PaneId::Routes];
    for pane in panes {
        for (w, h) in [(80u16, 24u16), (120, 40)] {
            let mut app = three_hosts_on(pane);
            let text = buffer_to_text(&render_buffer(&mut app, w, h));
            insta::assert_snapshot!(format!("three_hosts_{}_{w}x{h}", pane.name()), text);
        }
    }
}

#[test]
fn the_mouse_selects_rows_under_the_engine_headers() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let click = |row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let mut app = three_hosts_on(PaneId::Containers);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u16;
    // The header of engine db2 is not a container; the row below its project is.
    let db2 = line_of("▣ db2");
    assert!(!app.mouse(&click(db2)), "{text}");
    assert!(app.mouse(&click(db2 + 2)), "{text}");
    let selected = app.panes.containers.selected_id().and_then(|id| app.model.containers.get(id));
    let selected = selected.expect("a container is selected");
    assert_eq!((app.model.host_name(selected), selected.service()), ("db2", Some("backend")));
}

#[test]
fn detail_and_inspect_say_the_engine_and_that_it_is_lost() {
    let mut app = three_hosts_on(PaneId::Containers);
    let on_edge = app.model.containers.values().find(|c| app.model.host_name(c) == "edge");
    let id = on_edge.map(|c| c.id.clone()).expect("a container on edge");
    app.panes.containers.select(&id);
    app.panes.containers.detail_full = true;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    let host = text.lines().find(|l| l.starts_with("│host")).unwrap_or_default();
    assert!(host.contains("edge · unreachable since 15:05:40 — connection refused"), "{text}");
    let figures = text.lines().any(|l| l.starts_with("│cpu ") || l.starts_with("│memory "));
    assert!(!figures, "old figures are not shown as now: {text}");
    assert!(app.act(Action::Inspect));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    let first = text.lines().find(|l| l.starts_with("│host")).unwrap_or_default();
    assert!(first.contains("edge (tcp://edge:2376) · unreachable since"), "{text}");
}

/// Engines `east` and `west` each run project `shop` with a service `api` and `db`:
/// the same names, different containers.
fn same_project_on_two_engines() -> App {
    use portolan::model::Host;
    let mut model = Model::with_hosts(
        vec![
            Host::new("east", "unix:///var/run/docker.sock", t(-10)),
            Host::new("west", "ssh://ops@west", t(-10)),
        ],
        t(-10),
    );
    for (host, prefix) in [(0usize, "e"), (1, "w")] {
        model.apply_from(host, Update::Connected { at: t(-10), info: Box::default() });
        let api = service(&format!("{prefix}aaaaaaaaaaa1"), "shop", "api", "node:20-alpine");
        let db = service(&format!("{prefix}bbbbbbbbbbb2"), "shop", "db", "postgres:16");
        let ids = [api.id.clone(), db.id.clone()];
        let inventory = Inventory { containers: vec![api, db], ..Inventory::default() };
        model.apply_from(host, Update::Synced(Box::new(inventory)));
        for (second, cpu) in [(-1i64, 0u64), (0, 100_000_000)] {
            let samples =
                ids.iter().map(|id| (id.clone(), sample(second, cpu, 64 << 20))).collect();
            model.apply_from(host, Update::Stats(samples));
        }
    }
    let mut app = App::new(model, Theme::built_in("dark"), Keymap::default(), t(0));
    app.offset = chrono::FixedOffset::east_opt(0).expect("UTC");
    app.set_project(None);
    app
}

#[test]
fn the_same_project_on_two_engines_is_never_summed_as_one() {
    let mut app = same_project_on_two_engines();
    app.pane = PaneId::Containers;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert_eq!(text.matches("shop  2/2 running").count(), 2, "one group per engine: {text}");
    app.pane = PaneId::Stats;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(
        text.contains("project east/shop (sum of 2)")
            || text.contains("project west/shop (sum of 2)"),
        "{text}"
    );
    assert!(text.contains("east/api") && text.contains("west/api"), "{text}");
    app.pane = PaneId::Resources;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("│east/shop") && text.contains("│west/shop"), "{text}");
    assert_eq!(text.matches("  TOTAL ").count(), 2, "one TOTAL per engine's project: {text}");
    app.pane = PaneId::Timeline;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("Startup sequence · shop on east"), "{text}");
    assert_eq!(text.matches("~T+0s   api").count(), 1, "east's startup only: {text}");
    // "This container only" keeps to the selected engine's `shop-api-1` (the selection
    // the operator arrived with).
    app.panes.timeline.select_container("eaaaaaaaaaaa1");
    assert!(app.act(Action::ContainerFilter));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("container east/shop-api-1"), "{text}");
    assert!(text.contains("east/shop-api-1") && !text.contains("west/shop-api-1"), "{text}");
    // Log lines of the two `api`s are told apart by their engine.
    let name = |id: &str| {
        portolan::ui::panes::logs::source_name(
            &app.model,
            &portolan::model::logs::SourceId::new(id),
        )
    };
    assert_eq!(
        (name("eaaaaaaaaaaa1"), name("waaaaaaaaaaa1")),
        ("east/api".into(), "west/api".into())
    );
}

/// Projects `storefront` and `billing` each run `redis`, `app` and `postgres`: the same
/// service names, six containers. Billing's `app` is unhealthy, `redis` has no check.
fn two_projects_alike() -> App {
    let mut model = Model::new("unix:///var/run/docker.sock", t(-10));
    model.apply(Update::Connected { at: t(-10), info: Box::default() });
    let mut containers = Vec::new();
    for (project, prefix) in [("storefront", "s"), ("billing", "b")] {
        for (n, (name, image)) in
            [("redis", "redis:7"), ("app", "node:20"), ("postgres", "postgres:16")]
                .into_iter()
                .enumerate()
        {
            let mut c = service(&format!("{prefix}{n}aaaaaaaaaaa"), project, name, image);
            if name != "redis" {
                c.healthcheck = Some(Healthcheck {
                    test: vec!["CMD".into(), "true".into()],
                    ..Healthcheck::default()
                });
                let status = if (project, name) == ("billing", "app") {
                    HealthStatus::Unhealthy
                } else {
                    HealthStatus::Healthy
                };
                c.health = Some(Health { status, failing_streak: 0, log: vec![] });
            }
            containers.push(c);
        }
    }
    let ids: Vec<String> = containers.iter().map(|c| c.id.clone()).collect();
    model.apply(Update::Synced(Box::new(Inventory { containers, ..Inventory::default() })));
    for (i, id) in ids.iter().enumerate() {
        let cpu = 10_000_000 * (i as u64 + 1);
        model.apply(Update::Stats(vec![(id.clone(), sample(-1, 0, 32 << 20))]));
        model.apply(Update::Stats(vec![(id.clone(), sample(0, cpu, 32 << 20))]));
    }
    let mut app = App::new(model, Theme::built_in("dark"), Keymap::default(), t(0));
    app.version = "0.0.0-test";
    app.offset = chrono::FixedOffset::east_opt(0).expect("UTC");
    app.set_project(None);
    app
}

#[test]
fn a_service_name_two_projects_share_says_whose_it_is() {
    let mut app = two_projects_alike();
    for pane in [PaneId::Stats, PaneId::Health] {
        app.pane = pane;
        for (w, h) in [(120u16, 40u16), (80, 24)] {
            let text = buffer_to_text(&render_buffer(&mut app, w, h));
            insta::assert_snapshot!(format!("two_projects_{}_{w}x{h}", pane.name()), text);
        }
    }
    app.pane = PaneId::Stats;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    for name in ["storefront/redis", "billing/redis", "storefront/app", "billing/postgres"] {
        assert_eq!(text.matches(&format!("│{name} ")).count(), 1, "{name}:\n{text}");
    }
    // At 80 columns the project gives way, never the service, and no two rows match.
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix('│'))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.ends_with("redis") || n.ends_with("app") || n.ends_with("postgres"))
        .collect();
    assert_eq!(names.len(), 6, "{text}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6, "{names:?}");
    assert!(names.contains(&"storef…/postgres"), "{names:?}");
    app.pane = PaneId::Health;
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("✗ unhealthy billing/app"), "{text}");
    assert!(text.contains("No healthcheck: billing/redis, storefront/redis"), "{text}");
}

#[test]
fn merged_logs_and_the_incident_log_say_whose_service_it_is() {
    use portolan::model::logs::Stream;
    use portolan::model::{LogBatch, RawLogLine};
    let mut app = two_projects_alike();
    for id in ["s0aaaaaaaaaaa", "b0aaaaaaaaaaa"] {
        let data = b"Ready to accept connections".to_vec();
        let line = RawLogLine { stream: Stream::Stdout, timestamp: Some(t(-2)), start: 0, end: 27 };
        let batch = LogBatch {
            id: id.into(),
            received: std::time::Instant::now(),
            data,
            lines: vec![line],
        };
        app.apply(Update::Logs(Box::new(batch)));
    }
    let name = |id: &str| {
        portolan::ui::panes::logs::source_name(
            &app.model,
            &portolan::model::logs::SourceId::new(id),
        )
    };
    assert_eq!(name("s0aaaaaaaaaaa"), "storefront/redis");
    assert_eq!(name("b0aaaaaaaaaaa"), "billing/redis");
    let names = portolan::ui::panes::logs::source_names(&app.model, 12);
    let mut shown: Vec<&String> = names.values().collect();
    shown.sort();
    assert_eq!(shown, ["billi…/redis", "store…/redis"]);
    app.pane = PaneId::Timeline;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("billing/redis") && text.contains("storefront/redis"), "{text}");
}

#[test]
fn the_reason_a_route_is_broken_is_never_cut_out_of_sight() {
    let mut app = routes_app();
    let mut ghost = service("gggggggggggg7", "shop", "ghost", "ghost:5");
    ghost.state = ContainerState::Exited;
    ghost.exit_code = Some(1);
    ghost.finished_at = Some(t(-180));
    for (k, v) in [
        ("traefik.enable", "true"),
        ("traefik.http.routers.ghost.rule", "Host(`blog.example.com`)"),
        ("traefik.http.routers.ghost.entrypoints", "websecure"),
        ("traefik.http.routers.ghost.tls.certresolver", "le"),
        ("traefik.http.services.ghost.loadbalancer.server.port", "2368"),
    ] {
        ghost.labels.insert(k.into(), v.into());
    }
    app.apply(Update::ContainerChanged(Box::new(ghost)));
    let reason = "target ghost is not running (exited 1)";
    let squeezed = |text: &str| -> String {
        text.chars().filter(|c| !c.is_whitespace() && *c != '│').collect()
    };
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50), (80, 14)] {
        let _ = render_buffer(&mut app, w, h);
        for row in 0..app.panes.routes.len() {
            app.panes.routes.nav.selected = row;
            if app.panes.routes.selected_container() == Some("gggggggggggg7") {
                break;
            }
        }
        let selected = app.panes.routes.selected_container().map(String::from);
        let text = buffer_to_text(&render_buffer(&mut app, w, h));
        assert_eq!(selected.as_deref(), Some("gggggggggggg7"), "at {w}x{h}:\n{text}");
        let text = buffer_to_text(&render_buffer(&mut app, w, h));
        insta::assert_snapshot!(format!("routes_broken_reason_{w}x{h}"), text);
        // In full on the row, in the detail box, or wrapped under the verdict column.
        assert!(squeezed(&text).contains(&squeezed(reason)), "at {w}x{h}:\n{text}");
    }
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    let row = text.lines().find(|l| l.contains("blog.example.com")).expect("the ghost route");
    assert!(row.contains(&format!("✗ {reason}")), "the verdict comes first at 120: {row}");
    assert!(row.contains("exited 1 ") && row.contains("TLS le"), "{row}");
}

/// `c2` before `c10` wherever containers are listed: every list pane, and the JSON.
#[test]
fn every_list_sorts_names_naturally() {
    // Every 37th of the fixture is unhealthy, so the Health pane has rows too.
    let model = portolan::topology::fixtures::default_bridge(&[("c", 120)]);
    let order_of = |text: &str, ctx: &str| {
        let at = |name: &str| {
            text.find(&format!("{name} ")).unwrap_or_else(|| panic!("{ctx}: no {name}:\n{text}"))
        };
        (at("c2"), at("c10"))
    };
    for pane in [PaneId::Containers, PaneId::Stats, PaneId::Resources, PaneId::Audit] {
        let mut app = App::new(model.clone(), Theme::built_in("dark"), Keymap::default(), t(0));
        app.version = "0.0.0-test";
        app.pane = pane;
        // Stats sorts by CPU at first; by name it must count as the others do.
        app.panes.stats.sort = portolan::ui::panes::stats::SortColumn::Name;
        app.panes.stats.descending = false;
        // Tall enough for the Audit pane's findings under c1 to c9.
        let text = buffer_to_text(&render_buffer(&mut app, 120, 120));
        let (c2, c10) = order_of(&text, &format!("{pane:?}"));
        assert!(c2 < c10, "{pane:?} lists c10 before c2:\n{text}");
    }
    let mut app = App::new(model.clone(), Theme::built_in("dark"), Keymap::default(), t(0));
    app.pane = PaneId::Health;
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    let (c37, c74) = (text.find("c37 ").expect("c37"), text.find("c74 ").expect("c74"));
    assert!(c37 < c74, "Health lists c74 before c37:\n{text}");
    let options = portolan::snapshot::json::JsonOptions { project: None, show_secrets: false };
    let doc = portolan::snapshot::json::document(&model, t(0), &options);
    let json = serde_json::to_value(&doc).expect("json");
    let names: Vec<&str> = json["containers"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(&names[..3], ["c1", "c2", "c3"], "{names:?}");
    let c10 = names.iter().position(|n| *n == "c10").expect("c10");
    assert_eq!(c10, 9, "{names:?}");
}

#[test]
fn processes_pane_lists_defuses_and_asks_before_a_signal() {
    let mut app = on(PaneId::Processes, "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("Processes · shop-api-1 · 3 processes"), "{text}");
    assert!(text.contains("node dist/main.js --port 3000") && text.contains("12.5%"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text}");
    // With many tabs the bar uses short titles: either says the tab is there.
    assert!(
        text.contains("P Processes") || text.contains("P Procs"),
        "the tab shows while the pane is open: {text}"
    );

    assert!(app.act(Action::Down));
    assert!(app.act(Action::KillProcess));
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("Send TERM to process 4300"), "{text}");
    insta::assert_snapshot!("processes_confirm_80x24", text);

    let mut app = on(PaneId::Processes, "dark");
    app.read_only = true;
    assert!(app.act(Action::KillProcess));
    assert!(!app.overlay_open(), "read-only refuses before asking");
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("read-only"), "{text}");
}

#[test]
fn shell_pane_draws_the_emulator_cell_by_cell_and_says_when_it_exited() {
    let mut app = on(PaneId::Shell, "dark");
    let buffer = render_buffer(&mut app, 120, 40);
    let text = buffer_to_text(&buffer);
    assert!(text.contains("hi-42 漢字") && text.contains("T Shell"), "{text}");
    assert!(text.contains("keys go to the shell"), "a new shell has the keys: {text}");
    assert!(!text.contains("PWNED") && !text.contains("cHduZWQ"), "{text}");
    for cell in buffer.content() {
        assert!(!cell.symbol().chars().any(char::is_control), "{:?}", cell.symbol());
    }
    // Colours come through: `dist` in bold blue.
    let row = (0..40)
        .find(|y| buffer_to_text(&buffer).lines().nth(*y).is_some_and(|l| l.contains("dist")));
    let row = row.expect("the ls line") as u16;
    let x = (0..120).find(|x| buffer[(*x, row)].symbol() == "d").expect("d");
    assert_eq!(buffer[(x, row)].fg, ratatui::style::Color::Blue);
    assert!(buffer[(x, row)].modifier.contains(Modifier::BOLD));

    let mut app = self::app("dark");
    app.pane = PaneId::Shell;
    let session = open_fed_shell(&mut app);
    app.panes.shell.output(session, b"exit 3\r\n");
    app.panes.shell.ended(session, portolan::engine::shell::ShellEnd::Exited(Some(3)));
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("ash exited with code 3") && text.contains("exit 3"), "{text}");
    assert!(!text.contains("keys go to the shell"), "an exited shell has no keys: {text}");
    insta::assert_snapshot!("shell_exited_80x24", text);
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    insta::assert_snapshot!("shell_exited_120x40", text);
}

#[test]
fn processes_pane_says_why_there_is_nothing_to_list() {
    let mut app = app("dark");
    app.pane = PaneId::Processes;
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("No container selected"), "{text}");
    let mut app = app_with_processes_error();
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("did not list the processes: no such container"), "{text}");
}

fn app_with_processes_error() -> App {
    let mut app = app("dark");
    app.pane = PaneId::Processes;
    app.panes.processes.select_container("aaaaaaaaaaaa1");
    app.watch_processes();
    let mut table = process_table("aaaaaaaaaaaa1");
    table.rows.clear();
    table.error = Some("no such container".into());
    app.apply(Update::Processes(Box::new(table)));
    app
}

#[test]
fn changes_pane_draws_a_safe_tree_in_natural_order_and_folds() {
    let mut app = on(PaneId::Changes, "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("Changes · shop-api-1 · 5 added, 5 changed, 2 deleted"), "{text}");
    assert!(!text.contains('\u{1b}'), "the escape sequence is not drawn: {text}");
    assert!(text.contains("evilname\u{FFFD}.txt"), "{text}");
    let page2 = text.find("page2.html").expect("page2");
    let page10 = text.find("page10.html").expect("page10");
    assert!(page2 < page10, "natural order: {text}");
    assert!(text.contains("▾ C app/  4 changes"), "{text}");
    assert!(text.contains("· root/") && text.contains("D apk"), "{text}");
    assert!(text.contains("the engine's list has none"), "the pane says sizes are missing: {text}");
    // The first row is /app: Enter folds it, its count stays.
    assert!(app.act(Action::ToggleDetail));
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("▸ C app/  4 changes") && !text.contains("page2.html"), "{text}");
}

#[test]
fn changes_pane_asks_the_size_of_the_selected_file_only_once() {
    use portolan::engine::EngineCommand;
    use portolan::model::changes::{PathInfo, PathStat};
    let mut app = on(PaneId::Changes, "dark");
    let _ = render_buffer(&mut app, 80, 24);
    // The changes are in the model already (as if asked): the first ask is for them.
    app.ask_changes();
    assert!(matches!(app.pending.as_slice(), [EngineCommand::Changes { .. }]));
    app.pending.clear();
    // /app is a directory: no size is asked for it.
    app.ask_changes();
    assert!(app.pending.is_empty());
    // Down to /app/cache, then to page2.html: its size only, and once.
    app.act(Action::Down);
    app.act(Action::Down);
    app.ask_changes();
    app.ask_changes();
    let asked: Vec<&str> = app
        .pending
        .iter()
        .filter_map(|c| match c {
            EngineCommand::PathStat { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(asked, ["/app/cache/page2.html"]);
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("/app/cache/page2.html · size: asking…"), "{text}");
    app.apply(Update::PathStat(Box::new(PathStat {
        id: "aaaaaaaaaaaa1".into(),
        path: "/app/cache/page2.html".into(),
        result: Ok(PathInfo { size: 2048, dir: false, link_target: String::new() }),
    })));
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("/app/cache/page2.html · 2.00KiB"), "{text}");
}

#[test]
fn files_pane_lists_modes_owners_sizes_and_links_and_defuses_names() {
    let mut app = on(PaneId::Files, "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("Files · shop-api-1 · /app · 8 entries"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains("pwned"), "escapes are not drawn: {text}");
    assert!(
        text.contains("evil name\u{FFFD}.txt"),
        "the newline is a space, bad UTF-8 shown: {text}"
    );
    assert!(
        text.contains("drwxr-xr-x root:root 3.34MiB"),
        "a directory sums what is below: {text}"
    );
    assert!(text.contains("-rw-r----- 1000:1000 1.21KiB"), "owners by number: {text}");
    assert!(text.contains("-rwsr-xr-x root:root"), "setuid shown: {text}");
    assert!(text.contains("current → releases/v10"), "links as links: {text}");
    let page2 = text.find("page2.html").expect("page2");
    assert!(page2 < text.find("page10.html").expect("page10"), "natural order: {text}");
    // The pane asks only for what it lacks: the listing is there, nothing to ask.
    app.ask_files();
    assert!(app.pending.is_empty(), "{:?}", app.pending);
    // Into cache/: its listing is asked for, and the pane says it is reading.
    assert!(app.act(Action::ToggleDetail));
    app.ask_files();
    assert!(
        matches!(app.pending.as_slice(), [portolan::engine::EngineCommand::Files { request: portolan::engine::files::FilesRequest::List { path, .. }, .. }] if path == "/app/cache"),
        "{:?}",
        app.pending
    );
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("/app/cache") && text.contains("Reading the directory…"), "{text}");
    // Back up: the cached /app shows at once, cache/ selected again.
    assert!(app.act(Action::Left));
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("8 entries"), "{text}");
}

#[test]
fn files_key_opens_the_selected_container_at_its_root() {
    let mut app = on(PaneId::Containers, "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(!text.contains("F Files"), "no tab before a container is picked: {text}");
    let selected = app.selected_container().expect("a selection").to_string();
    assert!(app.act(Action::PaneFiles));
    assert_eq!(app.pane, PaneId::Files);
    app.ask_files();
    assert!(
        matches!(app.pending.as_slice(), [portolan::engine::EngineCommand::Files { request: portolan::engine::files::FilesRequest::List { id, path }, .. }] if *id == selected && path == "/"),
        "{:?}",
        app.pending
    );
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("F Files") && text.contains("Reading the directory…"), "{text}");
    // Leaving stops the listing under way; coming back asks again.
    app.pending.clear();
    assert!(app.act(Action::Pane3));
    assert!(app.pending.iter().any(|c| matches!(
        c,
        portolan::engine::EngineCommand::Files {
            request: portolan::engine::files::FilesRequest::Leave,
            ..
        }
    )));
    app.pending.clear();
    assert!(app.act(Action::PaneFiles));
    app.ask_files();
    assert_eq!(app.pending.len(), 1, "{:?}", app.pending);
}

#[test]
fn files_pane_views_text_as_logs_are_sanitised_and_binaries_as_hex() {
    let mut app = on(PaneId::Files, "dark");
    app.panes.files.show_file("/app/config.yml");
    let mut bytes = b"name: shop\n\x1b[31mred\x1b[0m: yes\n\x1b]0;title\x07port: 80\n".to_vec();
    bytes.resize(300 * 1024, b'x');
    let head = |path: &str, bytes: Vec<u8>, size: u64| {
        Update::Files(Box::new(FilesUpdate::Head(FileHead {
            id: "aaaaaaaaaaaa1".into(),
            path: path.into(),
            at: t(-1),
            result: Ok(Head { size, bytes, resolved: path.into() }),
            directory: None,
        })))
    };
    app.apply(head("/app/config.yml", bytes[..256 * 1024].to_vec(), 300 * 1024));
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    insta::assert_snapshot!("files_view_text_80x24", text);
    assert!(text.contains("first 256KiB of 300KiB"), "{text}");
    assert!(text.contains("│red: yes") && text.contains("│port: 80"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains("title"), "{text}");
    // Esc closes the viewer; a binary shows as hex.
    assert!(app.act(Action::Back));
    app.panes.files.show_file("/app/helper");
    app.apply(head(
        "/app/helper",
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0".to_vec(),
        900_000,
    ));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    insta::assert_snapshot!("files_view_binary_120x40", text);
    assert!(text.contains("A binary file (879KiB)"), "{text}");
    assert!(text.contains("00000000  7f 45 4c 46 02 01 01 00"), "{text}");
}

#[test]
fn files_pane_copies_ask_before_replacing_and_read_only_refuses_copy_in() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use portolan::engine::EngineCommand;
    use portolan::engine::files::FilesRequest;
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let dir = std::env::temp_dir().join(format!("portolan-files-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let there = dir.join("config.yml");
    std::fs::write(&there, b"old").unwrap();

    let mut app = on(PaneId::Files, "dark");
    // Down to config.yml (after cache/, empty/, page2, page10), then o.
    for _ in 0..4 {
        app.act(Action::Down);
    }
    assert!(app.act(Action::CopyOut));
    assert!(app.text_input_active());
    let text = buffer_to_text(&render_buffer(&mut app, 80, 24));
    assert!(text.contains("copy out to (local path): config.yml"), "{text}");
    // A directory that is there: the file goes into it, and it exists there: asked.
    for _ in 0.."config.yml".len() {
        app.text_input(&key(KeyCode::Backspace));
    }
    for c in dir.display().to_string().chars() {
        app.text_input(&key(KeyCode::Char(c)));
    }
    app.text_input(&key(KeyCode::Enter));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("config.yml exists here: replace it?"), "{text}");
    app.ask_files();
    assert!(app.pending.is_empty(), "nothing is copied before the answer: {:?}", app.pending);
    app.text_input(&key(KeyCode::Char('y')));
    app.ask_files();
    match app.pending.as_slice() {
        [
            EngineCommand::Files {
                request: FilesRequest::CopyOut { path, local, expected, .. },
                ..
            },
        ] => {
            assert_eq!(path, "/app/config.yml");
            assert_eq!(local, &there);
            assert_eq!(*expected, Some(1_234));
        }
        other => panic!("one copy out: {other:?}"),
    }
    app.pending.clear();
    // Its progress shows on the pane.
    app.apply(Update::Files(Box::new(FilesUpdate::Transfer(Transfer {
        number: 0,
        container: "aaaaaaaaaaaa1".into(),
        direction: Direction::Out,
        remote: "/app/config.yml".into(),
        local: "/home/me/config.yml".into(),
        done: 617,
        total: Some(1_234),
        state: TransferState::Running,
    }))));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(
        text.contains("copy out 617B of 1.21KiB (50%) · /app/config.yml → /home/me/config.yml"),
        "{text}"
    );
    // Any other key than y keeps what is there.
    app.act(Action::CopyOut);
    app.text_input(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in there.display().to_string().chars() {
        app.text_input(&key(KeyCode::Char(c)));
    }
    app.text_input(&key(KeyCode::Enter));
    app.text_input(&key(KeyCode::Char('n')));
    app.ask_files();
    assert!(app.pending.is_empty());

    // Copy in: a file whose name is in the directory is asked about first.
    let local = dir.join("page2.html");
    std::fs::write(&local, b"<p>2</p>").unwrap();
    assert!(app.act(Action::CopyIn));
    for c in local.display().to_string().chars() {
        app.text_input(&key(KeyCode::Char(c)));
    }
    app.text_input(&key(KeyCode::Enter));
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("/app/page2.html exists in the container: replace it?"), "{text}");
    insta::assert_snapshot!("files_copy_in_question_120x40", text);
    app.text_input(&key(KeyCode::Char('y')));
    app.ask_files();
    assert!(matches!(
        app.pending.as_slice(),
        [EngineCommand::Files { request: FilesRequest::CopyIn { dir, .. }, .. }] if dir == "/app"
    ));
    app.pending.clear();

    // Read-only: copy in is refused before anything is typed; copy out is allowed.
    app.read_only = true;
    app.act(Action::CopyIn);
    assert!(!app.text_input_active());
    let notice = app.notice.clone().expect("a notice");
    assert!(notice.error && notice.text.contains("read-only"), "{notice:?}");
    assert!(app.act(Action::CopyOut));
    assert!(app.text_input_active(), "copying out changes nothing in the container");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The api container publishing HTTP on 8080 (on every address), 9000 with nothing
/// behind it, and DNS over UDP, with the answers a check of them gave, on a screen
/// `width` by `height`.
fn ports_checked_app(width: u16, height: u16) -> App {
    use portolan::model::ports::{PortCheck, PortOutcome, PortProbe, Vantage};
    let mut app = app("dark");
    let mut api = app.model.containers["aaaaaaaaaaaa1"].clone();
    let port = |ip: &str, host_port: u16, container_port: u16, protocol: &str| Port {
        host_ip: Some(ip.into()),
        host_port: Some(host_port),
        container_port,
        protocol: protocol.into(),
    };
    api.ports = vec![
        port("0.0.0.0", 8080, 80, "tcp"),
        port("::", 8080, 80, "tcp"),
        port("127.0.0.1", 9000, 9000, "tcp"),
        port("0.0.0.0", 5353, 53, "udp"),
    ];
    app.apply(Update::ContainerChanged(Box::new(api.clone())));
    // As on screen: whether the detail is already shown depends on the screen's size.
    render_buffer(&mut app, width, height);
    assert!(app.act(Action::CheckPorts));
    let asked = app.pending.iter().any(|c| {
        matches!(c, portolan::engine::EngineCommand::CheckPorts(r)
            if r.id == "aaaaaaaaaaaa1" && r.ports.len() == 4)
    });
    assert!(asked, "the check goes to the engine with every published port");
    let waiting = buffer_to_text(&render_buffer(&mut app, width, height));
    assert!(waiting.contains("checking…"), "{waiting}");
    let probe = |port: Port, address: Option<&str>, outcome| PortProbe {
        port,
        address: address.map(String::from),
        outcome,
    };
    let check = PortCheck {
        id: "aaaaaaaaaaaa1".into(),
        at: t(-2),
        vantage: Vantage::Local,
        probes: vec![
            probe(
                api.ports[0].clone(),
                Some("127.0.0.1"),
                PortOutcome::Listening { http: Some(200) },
            ),
            probe(api.ports[2].clone(), Some("127.0.0.1"), PortOutcome::ClosedAtOnce),
            probe(api.ports[3].clone(), None, PortOutcome::NotChecked("udp: not checked".into())),
        ],
    };
    app.apply(Update::PortsChecked(Box::new(check)));
    app
}

#[test]
fn port_check_results_at_80x24_and_120x40() {
    for (width, height) in [(80, 24), (120, 40)] {
        let mut app = ports_checked_app(width, height);
        let text = buffer_to_text(&render_buffer(&mut app, width, height));
        assert!(!text.contains("checking…"), "the answers are in:\n{text}");
        insta::assert_snapshot!(format!("port_check_{width}x{height}"), text);
    }
}

fn away_fixture() -> portolan::record::read::Away {
    use portolan::record::read::{History, HistoryEvent, Incident, IncidentExcerpt, away};
    let incident = |name: &str, kind: &str, start: i64, end: Option<i64>, detail: &str| Incident {
        kind: kind.into(),
        container_id: format!("{name}-id"),
        container: name.into(),
        project: Some("shop".into()),
        started_at: t(start),
        started_reconstructed: false,
        ended_at: end.map(t),
        detail: detail.into(),
        last_log: None,
        removed_at: None,
        excerpt: None,
    };
    let mut crashed =
        incident("shop-worker-1", "exited", 600, None, "exit 3 · last log: DB_HOST missing");
    crashed.excerpt = Some(IncidentExcerpt {
        at: t(600),
        reason: "die".into(),
        before: vec![
            "starting worker".into(),
            "loading config\u{1b}[2J".into(),
            "DB_HOST missing".into(),
        ],
        after: Vec::new(),
    });
    let history = History {
        from: t(0),
        to: t(3600),
        recorded_since: Some(t(-86_400)),
        incidents: vec![
            incident("shop-db-1", "unhealthy", 300, Some(420), "probe exit 1 · connection refused"),
            crashed,
            incident("shop-api-1", "oom_killed", 900, None, "OOM killed (limit 64.0MiB)"),
        ],
        events: vec![HistoryEvent {
            at: t(590),
            scope: "container".into(),
            name: "shop-worker-1".into(),
            action: "create".into(),
            detail: None,
            project: Some("shop".into()),
        }],
        gaps: Vec::new(),
        notes: Vec::new(),
    };
    away(&history, None, true, t(3600), chrono::FixedOffset::east_opt(0).unwrap()).unwrap()
}

#[test]
fn while_you_were_away_80x24_and_120x40() {
    for (width, height) in [(80, 24), (120, 40)] {
        let mut app = app("dark");
        app.overlay = Some(portolan::ui::overlay::Overlay::Away(vec![away_fixture()]));
        let buffer = render_buffer(&mut app, width, height);
        let text = buffer_to_text(&buffer);
        assert!(!text.contains('\u{1b}'), "a container's escape never reaches the screen");
        insta::assert_snapshot!(format!("while_you_were_away_{width}x{height}"), text);
    }
    // Any key closes it.
    let mut app = app("dark");
    app.overlay = Some(portolan::ui::overlay::Overlay::Away(vec![away_fixture()]));
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    app.overlay_key(&KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
    assert!(app.overlay.is_none());
}

#[test]
fn stats_charts_over_a_day_from_the_record() {
    use portolan::model::stats::{ChartSpan, RecordedSeries};
    let mut app = on(PaneId::Stats, "dark");
    app.now = t(0);
    render_buffer(&mut app, 120, 40);
    let selected = app.panes.stats.selected_container().map(String::from).expect("a selection");
    app.act(Action::ChartSpan);
    app.act(Action::ChartSpan);
    assert_eq!(app.panes.stats.span, ChartSpan::Day);
    // The pane asks the record for the selection's day, once.
    app.ask_series();
    let asked: Vec<_> = app.series_asks.drain(..).collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0].container_id.as_str(), asked[0].span),
        (selected.as_str(), ChartSpan::Day)
    );
    app.ask_series();
    assert!(app.series_asks.is_empty(), "not again while the answer is fresh");
    let waiting = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(
        waiting.contains("last 24 h (record)") && waiting.contains("reading the record…"),
        "{waiting}"
    );
    // A day with a busy afternoon.
    let wave = |scale: f64| -> Vec<f64> {
        (0..360).map(|i| scale * (1.0 + ((i as f64) / 30.0).sin()).max(0.0)).collect()
    };
    let series = RecordedSeries {
        host: 0,
        container_id: selected.clone(),
        span: ChartSpan::Day,
        own: [wave(20.0), wave(60_000_000.0), wave(2_000.0)],
        project: [wave(45.0), wave(180_000_000.0), wave(5_000.0)],
        rows: 8640,
        error: None,
    };
    app.apply(Update::RecordedSeries(Box::new(series)));
    insta::assert_snapshot!(buffer_to_text(&render_buffer(&mut app, 120, 40)));
    // Once more to 7 days, then back to the live ten minutes.
    app.act(Action::ChartSpan);
    app.act(Action::ChartSpan);
    assert_eq!(app.panes.stats.span, ChartSpan::Live);
    let live = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(live.contains("last 10 min"), "{live}");
}

/// The app in HISTORY, showing the fixture as the record held it a minute ago.
fn in_history(theme: &str, pane: PaneId) -> App {
    use portolan::ui::history::HistoryRead;
    let mut app = app(theme);
    app.pane = pane;
    app.has_record = true;
    assert!(app.act(Action::HistoryBack));
    let asked = std::mem::take(&mut app.history_asks);
    assert_eq!(asked, vec![t(-60)], "one minute back from now");
    let mut past = fixture();
    past.containers.retain(|id, _| id != "aaaaaaaaaaaa1");
    app.history_read(HistoryRead { at: t(-60), result: Ok((past, None)) });
    app
}

#[test]
fn history_is_marked_at_80x24_and_120x40() {
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut app = in_history("dark", PaneId::Containers);
        let buffer = render_buffer(&mut app, w, h);
        let text = buffer_to_text(&buffer);
        assert!(text.starts_with(" HISTORY "), "{text}");
        let footer = text.lines().nth(usize::from(h) - 1).unwrap_or_default();
        assert!(footer.contains("HISTORY 2025-06-15 15:05:40 · read-only"), "{footer}");
        // The marking has a slot of its own, set in every theme.
        let style = app.theme.style(Slot::History);
        assert_eq!(buffer[(1, h - 1)].bg, style.bg.unwrap_or_default());
        insta::assert_snapshot!(format!("history_containers_{w}x{h}"), text);
    }
    let mono = in_history("mono", PaneId::Map);
    assert!(mono.theme.style(Slot::History).add_modifier.contains(Modifier::REVERSED));
}

#[test]
fn history_refuses_actions_keeps_the_live_state_and_returns_to_it() {
    let mut app = in_history("dark", PaneId::Containers);
    assert!(app.in_history());
    assert!(!app.model.containers.contains_key("aaaaaaaaaaaa1"), "the past is on screen");
    app.act(Action::Actions);
    assert!(app.overlay.is_none());
    assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("read-only")));
    app.act(Action::Pane8);
    assert_eq!(app.pane, PaneId::Containers, "logs are live only");
    // What the engine says meanwhile is kept for the return.
    let mut late = Container::new("late", "late-arrival");
    late.state = ContainerState::Running;
    app.apply(Update::ContainerChanged(Box::new(late)));
    assert!(!app.model.containers.contains_key("late"));
    assert!(app.live_model().containers.contains_key("late"));
    assert!(app.act(Action::Live));
    assert!(!app.in_history());
    assert!(
        app.model.containers.contains_key("late")
            && app.model.containers.contains_key("aaaaaaaaaaaa1")
    );
}

#[test]
fn the_time_cursor_without_a_record_says_so() {
    let mut app = app("dark");
    app.act(Action::HistoryBack);
    assert!(app.history_asks.is_empty());
    let notice = app.notice.clone().unwrap_or_else(|| panic!("a notice"));
    assert!(notice.error && notice.text.contains("no record"), "{notice:?}");
}

#[test]
fn the_timeline_asks_the_record_for_older_events_once_at_its_top() {
    let mut app = app("dark");
    app.pane = PaneId::Timeline;
    app.act(Action::Top);
    app.act(Action::Up);
    app.ask_older();
    assert_eq!(app.older_asks.len(), 1, "up past the oldest entry asks once");
    app.ask_older();
    assert_eq!(app.older_asks.len(), 1, "and not again until the next arrival at the top");
    let before = app.older_asks[0];
    let event = portolan::model::ContainerEvent {
        at: before - chrono::Duration::minutes(5),
        id: "old".into(),
        name: "long-gone".into(),
        project: None,
        service: None,
        action: "die".into(),
        detail: Some("1".into()),
    };
    app.apply(Update::RecordedEvents { events: vec![event], exhausted: true });
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    assert!(text.contains("long-gone") && text.contains("exit 1"), "{text}");
    app.act(Action::Top);
    app.act(Action::Up);
    app.ask_older();
    assert_eq!(app.older_asks.len(), 1, "the record had nothing older");
}
