//! Podman as an engine, on a real private Podman service (tests/support/podman.rs):
//! named by kind and version, pods grouped like compose projects, networks, exits
//! with their last line, logs, stats against `podman stats`, actions, and health
//! checks that Podman (without systemd) never runs. And a Docker and a Podman
//! watched together, each named by its kind.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use portolan::engine::logs::LogRequest;
use portolan::engine::{EngineCommand, EngineOptions};
use portolan::model::action::Verb;
use portolan::model::logs::LogTarget;
use portolan::model::{ContainerState, EngineKind, HealthStatus, Model};
use support::podman::{PodmanEngine, ULIMITS};
use support::{Fixture, Watch};

const SLOW: Duration = Duration::from_secs(30);

fn portolan(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("portolan runs");
    assert!(
        output.status.success(),
        "portolan {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `podman stats` sizes: `1.2MB`, `245.8kB`, `512B` (decimal units).
#[tokio::test(flavor = "current_thread")]
async fn podman_is_named_grouped_measured_and_acted_on() {
    let started = std::time::Instant::now();
    let mark = |what: &str| eprintln!("{:>6.1}s {what}", started.elapsed().as_secs_f64());
    let Some(podman) = PodmanEngine::start("podman_live") else { return };
    mark("podman answers");
    let fx = Fixture::new("podman");
    let image = fx.image.clone();
    let label = fx.label();
    let run = |what: &str, args: &[&str], command: &[&str]| -> String {
        let name = fx.name(what);
        let mut all = vec!["run", "-d", "--name", &name, "--label", &label];
        all.extend_from_slice(&ULIMITS);
        all.extend_from_slice(args);
        all.push(&image);
        all.extend_from_slice(command);
        podman.podman_ok(&all)
    };
    // A pod without an infra container: the infra image needs catatonit, which
    // Debian's podman does not pull in; membership is the same either way.
    let pod = fx.name("pod");
    podman.podman_ok(&["pod", "create", "--infra=false", "--name", &pod]);
    let web = run("web", &["--pod", &pod], &["sleep", "600"]);
    let worker = run("worker", &["--pod", &pod], &["sleep", "600"]);
    let net = fx.name("net");
    podman.podman_ok(&["network", "create", "--subnet", "10.89.77.0/24", "--label", &label, &net]);
    let netted = run("netted", &["--network", &net], &["sleep", "600"]);
    let busy = run("busy", &["--cpus", "0.5"], &["sh", "-c", "while :; do :; done"]);
    let fat = run(
        "fat",
        &[],
        &["sh", "-c", "x=$(head -c 40000000 /dev/zero | tr '\\0' a); sleep 600; echo ${#x}"],
    );
    let failed = run("failed", &[], &["sh", "-c", "echo first; echo the-last-words; exit 3"]);
    let talker = run(
        "talker",
        &[],
        &["sh", "-c", "i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.3; done"],
    );
    let checked = run(
        "checked",
        &["--health-cmd", "true", "--health-interval", "1s", "--health-timeout", "1s"],
        &["sleep", "600"],
    );

    mark("containers created; watching");
    let options = EngineOptions { read_compose_files: false, ..EngineOptions::default() };
    let mut watch = Watch::start_at(podman.endpoint(), options).await;
    let engine = &watch.model.host(0).engine;
    assert_eq!(engine.kind, EngineKind::Podman, "{engine:?}");
    assert!(engine.version.as_deref().is_some_and(|v| v.starts_with("4.")), "{engine:?}");

    watch
        .wait("every container, the failed one exited", SLOW, |m| {
            [&web, &worker, &netted, &busy, &fat, &talker, &checked]
                .iter()
                .all(|id| m.containers.get(*id).is_some_and(|c| c.state.is_running()))
                && m.containers.get(&failed).is_some_and(|c| c.state == ContainerState::Exited)
        })
        .await;
    // The pod's containers are one project, each its own service.
    for (id, what) in [(&web, "web"), (&worker, "worker")] {
        let c = &watch.model.containers[id];
        assert_eq!(c.pod.as_deref(), Some(pod.as_str()), "{what} is in the pod");
        assert_eq!(c.project(), Some(pod.as_str()));
        assert_eq!(c.service(), Some(fx.name(what).as_str()));
    }
    assert_eq!(watch.model.containers[&netted].project(), None);
    // One joining the pod later is grouped as it arrives.
    let late = run("late", &["--pod", &pod], &["sleep", "600"]);
    watch
        .wait("the late pod member, grouped", SLOW, |m| {
            m.containers.get(&late).is_some_and(|c| c.project() == Some(pod.as_str()))
        })
        .await;
    // The network, with its subnet, and the container on it.
    let network = watch.model.network(0, &net).expect("the network is listed");
    assert_eq!(network.subnets, vec!["10.89.77.0/24".to_string()]);
    assert!(watch.model.containers[&netted].networks.iter().any(|n| n.name == net));
    // The exit code and the last line it wrote.
    watch
        .wait("the failed container's last line", SLOW, |m| {
            portolan::triage::problems(m, chrono::Utc::now(), None).iter().any(|p| {
                p.container_id == failed && p.detail == "exit 3 · last log: the-last-words"
            })
        })
        .await;

    mark("listed, grouped, exit line read");
    // Logs, followed.
    watch.handle.command(EngineCommand::FollowLogs(Some(LogRequest {
        target: LogTarget::Names([fx.name("talker")].into()),
        tail: 5,
        since: None,
        hosts: None,
    })));
    let lines =
        |m: &Model| -> Vec<String> { m.logs.merged(None).map(|l| l.plain().to_string()).collect() };
    watch
        .wait("a line of the talker", SLOW, |m| lines(m).iter().any(|l| l.starts_with("tick-")))
        .await;
    let first: Vec<String> = lines(&watch.model);
    watch
        .wait("newer lines of the talker", SLOW, |m| {
            lines(m).iter().any(|l| l.starts_with("tick-") && !first.contains(l))
        })
        .await;
    watch.handle.command(EngineCommand::FollowLogs(None));

    mark("logs followed");
    // Stats, against `podman stats` a moment later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    watch
        .wait("CPU figures for busy and fat", SLOW, |m| {
            [&busy, &fat].iter().all(|id| {
                m.stats
                    .get(*id)
                    .is_some_and(|s| s.history().len() >= 6 && s.latest_with_cpu().is_some())
            })
        })
        .await;
    let theirs = podman.podman_ok(&[
        "stats",
        "--no-stream",
        "--no-reset",
        "--format",
        "{{.ID}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}",
        &busy,
        &fat,
    ]);
    let ours_cpu = |id: &str| support::recent_cpu(&watch.model, id);
    for row in support::cli_stats(&theirs) {
        let id = if busy.starts_with(&row.id_prefix) { &busy } else { &fat };
        let (their_cpu, their_mem) = (row.cpu, row.memory);
        let point = watch.model.latest_stats(id).unwrap();
        let our_mem = point.memory_bytes.unwrap() as f64;
        eprintln!(
            "{id:.12}: cpu ours {:.1}% podman {their_cpu:.1}%; mem ours {our_mem} podman {their_mem}; source {:?}",
            ours_cpu(id),
            point.source
        );
        assert!(
            (our_mem - their_mem).abs() <= their_mem * 0.10 + 512.0 * 1024.0,
            "memory off by more than 10 %: ours {our_mem}, podman {their_mem}"
        );
        assert_eq!(point.pids.map(|p| p.to_string()), Some(row.pids.clone()));
        // Podman's one-shot CPU figure is the average since the container started, so
        // it is compared only for the steady loop (fat's start-up allocation inflates it).
        if id == &busy {
            assert!(
                (ours_cpu(id) - their_cpu).abs() <= 15.0,
                "CPU disagrees: ours {:.1}, podman {their_cpu}",
                ours_cpu(id)
            );
        }
    }
    let busy_cpu = ours_cpu(&busy);
    assert!(busy_cpu > 10.0 && busy_cpu <= 70.0, "a loop capped at 0.5 CPU, read {busy_cpu}");
    assert!(watch.model.latest_stats(&fat).unwrap().memory_bytes.unwrap() > 35_000_000);

    mark("stats compared");
    // Health checks defined, never run: said so after three intervals.
    watch
        .wait("the health checks to count as not run", SLOW, |m| {
            m.containers
                .get(&checked)
                .is_some_and(|c| m.health_checks_not_run(c, chrono::Utc::now()))
        })
        .await;
    let problems = portolan::triage::problems(&watch.model, chrono::Utc::now(), None);
    let note = problems.iter().find(|p| p.container_id == checked).expect("a triage note");
    assert_eq!(note.kind.as_str(), "health_not_run");
    assert!(note.detail.contains("not being run by the engine"), "{}", note.detail);
    // A probe run by hand is read through the compatible API, and the note goes.
    podman.podman_ok(&["healthcheck", "run", &checked]);
    watch
        .wait("the probe run by hand to be read", SLOW, |m| {
            m.containers.get(&checked).is_some_and(|c| {
                c.health_status() == HealthStatus::Healthy
                    && !m.health_checks_not_run(c, chrono::Utc::now())
            })
        })
        .await;

    mark("health note");
    // Stop and start through portolan's own action code.
    let target = vec![(netted.clone(), fx.name("netted"))];
    watch.handle.command(EngineCommand::Act { host: 0, verb: Verb::Stop, targets: target.clone() });
    watch.wait_state(&netted, ContainerState::Exited, SLOW).await;
    watch.handle.command(EngineCommand::Act { host: 0, verb: Verb::Start, targets: target });
    watch.wait_state(&netted, ContainerState::Running, SLOW).await;
    watch.stop().await;

    mark("stopped and started");
    // The binary: JSON and the header name it.
    let host = podman.host();
    let json: serde_json::Value =
        serde_json::from_str(&portolan(&["snapshot", "-H", &host, "--wait", "1"])).unwrap();
    assert_eq!(json["engine"]["engine_kind"], "podman");
    assert!(json["engine"]["version"].as_str().is_some_and(|v| v.starts_with("4.")));
    let pod_members: Vec<&str> = json["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["pod"] == pod.as_str())
        .map(|c| c["project"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(pod_members, vec![pod.as_str(); 3]);
    let text = portolan(&["snapshot", "-H", &host, "--format", "text", "--width", "160"]);
    let header = text.lines().next().unwrap_or_default();
    assert!(header.contains("· Podman 4."), "{header}");
    assert!(!header.contains("Docker"), "{header}");
    mark("snapshots read");
    drop(fx);
    drop(podman);
    mark("cleaned up");
}

#[tokio::test(flavor = "current_thread")]
async fn docker_and_podman_together_each_named_by_kind() {
    let Some(podman) = PodmanEngine::start("podman_and_docker") else { return };
    let docker = support::endpoint().to_string();
    let host = podman.host();
    let json: serde_json::Value =
        serde_json::from_str(&portolan(&["snapshot", "-H", &docker, "-H", &host, "--wait", "1"]))
            .unwrap();
    let hosts = json["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["engine_kind"], "docker", "{:?}", hosts[0]);
    assert_eq!(hosts[1]["engine_kind"], "podman", "{:?}", hosts[1]);
    let map = portolan(&[
        "snapshot", "-H", &docker, "-H", &host, "--format", "text", "--pane", "map", "--width",
        "200", "--height", "60",
    ]);
    let docker_version = hosts[0]["version"].as_str().unwrap();
    let podman_version = hosts[1]["version"].as_str().unwrap();
    assert!(map.contains(&format!("Docker {docker_version}")), "{map}");
    assert!(map.contains(&format!("Podman {podman_version}")), "{map}");
    // Elsewhere, where only the names are written, the kind follows each name. Tall:
    // the shared engine's containers, listed first, may be many.
    let screen = portolan(&[
        "snapshot",
        "-H",
        &docker,
        "-H",
        &host,
        "--format",
        "text",
        "--pane",
        "containers",
        "--width",
        "200",
        "--height",
        "1000",
    ]);
    let header = screen.lines().next().unwrap_or_default();
    for (name, kind) in [(&hosts[0]["name"], "Docker"), (&hosts[1]["name"], "Podman")] {
        let named = format!("{} ({kind})", name.as_str().unwrap());
        assert!(header.contains(&named), "{named} in the header: {header}");
        assert!(screen.contains(&format!("▣ {named}")), "{named} over its containers: {screen}");
    }
}
