//! The live model against a real Docker engine. Every test creates its own
//! containers, networks and volumes (labelled, uniquely named) and removes them.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use portolan::model::{ContainerState, DependencyCondition, HealthStatus};
use portolan::snapshot::json::{JsonOptions, document};
use support::{Fixture, Watch, docker_ok};

const SLOW: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "current_thread")]
async fn healthchecks_go_healthy_and_unhealthy_with_probe_output() {
    let fx = Fixture::new("health");
    let mut watch = Watch::start().await;
    fx.run(
        "good",
        &["--health-cmd", "true", "--health-interval", "1s", "--health-retries", "2"],
        &["sleep", "600"],
    );
    fx.run(
        "bad",
        &[
            "--health-cmd",
            "echo probe-says-no; exit 1",
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            "--health-timeout",
            "2s",
        ],
        &["sleep", "600"],
    );
    let (good, bad) = (fx.name("good"), fx.name("bad"));
    watch
        .wait("one healthy, one unhealthy", SLOW, |m| {
            let status =
                |n: &str| m.containers.values().find(|c| c.name == n).map(|c| c.health_status());
            status(&good) == Some(HealthStatus::Healthy)
                && status(&bad) == Some(HealthStatus::Unhealthy)
        })
        .await;
    let bad = watch.by_name(&bad).expect("bad container");
    let health = bad.health.as_ref().expect("health state");
    assert!(health.failing_streak >= 2, "failing streak {}", health.failing_streak);
    let probe = health.log.last().expect("probe log");
    assert_eq!(probe.exit_code, Some(1));
    assert!(probe.output.contains("probe-says-no"), "probe output: {:?}", probe.output);
    let check = bad.healthcheck.as_ref().expect("healthcheck config");
    assert_eq!(check.interval_ns, Some(1_000_000_000));
    assert_eq!(check.retries, Some(2));
    assert_eq!(check.timeout_ns, Some(2_000_000_000));
    assert!(check.command().contains("probe-says-no"));

    // The JSON contract carries the same.
    let doc =
        serde_json::to_value(document(&watch.model, chrono::Utc::now(), &JsonOptions::default()))
            .unwrap();
    let entry = doc["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == fx.name("bad"))
        .unwrap()
        .clone();
    assert_eq!(entry["health"]["status"], "unhealthy");
    assert!(
        entry["health"]["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["output"].as_str().unwrap().contains("probe-says-no"))
    );
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn memory_limit_kill_is_reported_as_oom_with_137() {
    let fx = Fixture::new("oom");
    let mut watch = Watch::start().await;
    // The shell doubles a string until the 16 MiB limit kills it.
    fx.run(
        "hog",
        &["--memory", "16m", "--memory-swap", "16m"],
        &["sh", "-c", "x=aaaaaaaaaa; while true; do x=$x$x; done"],
    );
    let name = fx.name("hog");
    // The engine may handle the exit before the OOM notice: the container first
    // shows exited 137, and OOMKilled once the `oom` event's re-inspect lands.
    watch
        .wait("the hog to be OOM killed", SLOW, |m| {
            m.containers
                .values()
                .any(|c| c.name == name && c.state == ContainerState::Exited && c.oom_killed)
        })
        .await;
    let hog = watch.by_name(&name).unwrap();
    assert!(hog.oom_killed, "OOMKilled should be true: {hog:?}");
    assert_eq!(hog.exit_code, Some(137));
    assert_eq!(hog.limits.memory_bytes, Some(16 << 20));
    assert!(hog.finished_at.is_some());
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn exit_code_three_is_kept() {
    let fx = Fixture::new("exit3");
    let mut watch = Watch::start().await;
    fx.run("job", &[], &["sh", "-c", "exit 3"]);
    let name = fx.name("job");
    watch
        .wait("the job to exit", SLOW, |m| {
            m.containers.values().any(|c| c.name == name && c.state == ContainerState::Exited)
        })
        .await;
    let job = watch.by_name(&name).unwrap();
    assert_eq!(job.exit_code, Some(3));
    assert!(!job.oom_killed);
    assert!(job.status_text(chrono::Utc::now()).starts_with("Exited (3)"));
    watch.stop().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "current_thread")]
async fn configuration_is_read_as_created() {
    let fx = Fixture::new("config");
    // A subnet unlikely to collide with Docker's default pools or a parallel run.
    let octet = (std::process::id() % 200 + 20) as u8;
    let subnet = format!("10.213.{octet}.0/24");
    let gateway = format!("10.213.{octet}.1");
    let network = fx.network("net", &["--subnet", &subnet, "--gateway", &gateway, "--internal"]);
    let volume = fx.volume("data");
    let bind_dir = std::env::temp_dir().join(fx.name("bind"));
    std::fs::create_dir_all(&bind_dir).unwrap();
    let bind = format!("{}:/srv/conf:ro", bind_dir.display());
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    let volume_mount = format!("{volume}:/data");
    let mut watch = Watch::start().await;
    fx.run(
        "web",
        &[
            "--network",
            &network,
            "--network-alias",
            "frontdoor",
            "-p",
            &publish,
            "--expose",
            "9000",
            "-v",
            &volume_mount,
            "-v",
            &bind,
            "--cpus",
            "0.5",
            "--memory",
            "64m",
            "--memory-reservation",
            "32m",
            "--pids-limit",
            "50",
            "--user",
            "1000:1000",
            "--read-only",
            "--restart",
            "unless-stopped",
            "-e",
            "DATABASE_URL=postgresql://app:hunter2@db:5432/x",
            "-e",
            "API_TOKEN=abc",
        ],
        &["sleep", "600"],
    );
    let name = fx.name("web");
    watch
        .wait("the web container running", SLOW, |m| {
            m.containers.values().any(|c| c.name == name && c.state == ContainerState::Running)
        })
        .await;
    let web = watch.by_name(&name).unwrap().clone();
    let published = web.ports.iter().find(|p| p.container_port == 80).expect("port 80");
    assert_eq!(published.host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(published.host_port, Some(port));
    assert_eq!(published.protocol, "tcp");
    let exposed = web.ports.iter().find(|p| p.container_port == 9000).expect("exposed 9000");
    assert!(exposed.host_port.is_none() && exposed.host_ip.is_none());
    let attachment = web.networks.iter().find(|n| n.name == network).expect("network attachment");
    assert!(attachment.ip.as_deref().is_some_and(|ip| ip.starts_with(&format!("10.213.{octet}."))));
    assert!(attachment.aliases.iter().any(|a| a == "frontdoor"));
    let named = web.mounts.iter().find(|m| m.destination == "/data").expect("volume mount");
    assert_eq!(
        (named.kind.as_str(), named.name.as_deref(), named.read_only),
        ("volume", Some(volume.as_str()), false)
    );
    let bound = web.mounts.iter().find(|m| m.destination == "/srv/conf").expect("bind mount");
    assert_eq!(bound.kind, "bind");
    assert!(bound.read_only);
    assert_eq!(bound.source.as_deref(), Some(bind_dir.to_str().unwrap()));
    assert_eq!(web.limits.cpus, Some(0.5));
    assert_eq!(web.limits.memory_bytes, Some(64 << 20));
    assert_eq!(web.limits.memory_reservation_bytes, Some(32 << 20));
    assert_eq!(web.limits.pids, Some(50));
    assert_eq!(web.user.as_deref(), Some("1000:1000"));
    assert!(web.read_only && !web.privileged && !web.runs_as_root());
    assert_eq!(web.restart_policy.as_ref().map(|p| p.name.as_str()), Some("unless-stopped"));

    let net = watch.model.network(0, &network).expect("network in the model");
    assert_eq!(net.subnets, vec![subnet.clone()]);
    assert_eq!(net.gateways, vec![gateway]);
    assert!(net.internal);
    assert_eq!(net.driver.as_deref(), Some("bridge"));
    assert!(watch.model.volumes.contains_key(&(0, volume.clone())));

    let doc =
        serde_json::to_value(document(&watch.model, chrono::Utc::now(), &JsonOptions::default()))
            .unwrap();
    let entry = doc["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["limits"]["cpus"], 0.5);
    assert_eq!(entry["ports"].as_array().unwrap().len(), 2);
    let env = entry["env"].as_array().unwrap();
    let value = |k: &str| {
        env.iter().find(|e| e["key"] == k).map(|e| e["value"].as_str().unwrap().to_string())
    };
    assert_eq!(value("DATABASE_URL").as_deref(), Some("postgresql://app:***@db:5432/x"));
    assert_eq!(value("API_TOKEN").as_deref(), Some("***"));
    let net_json = doc["networks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == network.as_str())
        .unwrap()
        .clone();
    assert_eq!(net_json["subnets"][0], subnet.as_str());
    assert_eq!(net_json["containers"][0], name.as_str());
    let vol_json = doc["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == volume.as_str())
        .unwrap()
        .clone();
    assert_eq!(vol_json["used_by"][0], name.as_str());
    let shown = serde_json::to_value(document(
        &watch.model,
        chrono::Utc::now(),
        &JsonOptions { project: None, show_secrets: true },
    ))
    .unwrap();
    assert!(shown.to_string().contains("hunter2"));
    assert!(!doc.to_string().contains("hunter2"));
    watch.stop().await;
    let _ = std::fs::remove_dir_all(bind_dir);
}

#[tokio::test(flavor = "current_thread")]
async fn containers_appear_and_disappear_live_within_two_seconds() {
    let fx = Fixture::new("live");
    let mut watch = Watch::start().await;
    let id = fx.run("late", &[], &["sleep", "600"]);
    let appeared = watch
        .wait("the new container", Duration::from_secs(2), |m| m.containers.contains_key(&id))
        .await;
    watch
        .wait("it to run", Duration::from_secs(5), |m| {
            m.containers.get(&id).is_some_and(|c| c.state == ContainerState::Running)
        })
        .await;
    let started = Instant::now();
    docker_ok(&["rm", "-f", &id]);
    let cli = started.elapsed();
    let gone = watch
        .wait("the removed container to vanish", Duration::from_secs(2), |m| {
            !m.containers.contains_key(&id)
        })
        .await;
    eprintln!(
        "appeared after {appeared:?}; vanished {gone:?} after `docker rm -f` returned (which took {cli:?})"
    );
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn state_changes_land_within_one_second() {
    let fx = Fixture::new("state");
    let mut watch = Watch::start().await;
    let id = fx.run("svc", &[], &["sleep", "600"]);
    watch.wait_state(&id, ContainerState::Running, Duration::from_secs(5)).await;
    for (command, state) in [
        ("pause", ContainerState::Paused),
        ("unpause", ContainerState::Running),
        ("kill", ContainerState::Exited),
    ] {
        docker_ok(&[command, &id]);
        watch.wait_state(&id, state, Duration::from_secs(1)).await;
    }
    watch.stop().await;
}

/// Parses `docker stats` sizes like `30.2MiB` or `1.5GB`.
#[tokio::test(flavor = "current_thread")]
async fn stats_agree_with_docker_stats() {
    let fx = Fixture::new("stats");
    let busy = fx.run("busy", &["--cpus", "0.5"], &["sh", "-c", "while :; do :; done"]);
    let fat = fx.run(
        "fat",
        &[],
        &["sh", "-c", "x=$(head -c 40000000 /dev/zero | tr '\\0' a); sleep 600; echo ${#x}"],
    );
    let mut watch = Watch::start().await;
    // Let the allocation finish and CPU settle under its quota.
    tokio::time::sleep(Duration::from_secs(3)).await;
    watch
        .wait("CPU figures for both", Duration::from_secs(10), |m| {
            [&busy, &fat]
                .iter()
                .all(|id| m.stats.get(*id).and_then(|s| s.latest_with_cpu()).is_some())
        })
        .await;
    // Average our last few samples; docker stats averages over its own window.
    watch
        .wait("a few more samples", Duration::from_secs(10), |m| {
            m.stats.get(&busy).is_some_and(|s| s.history().len() >= 6)
        })
        .await;
    let theirs = docker_ok(&[
        "stats",
        "--no-stream",
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
            "{id:.12}: cpu ours {:.1}% theirs {their_cpu:.1}%; mem ours {our_mem} theirs {their_mem}",
            ours_cpu(id)
        );
        assert!(
            (our_mem - their_mem).abs() <= their_mem * 0.10 + 512.0 * 1024.0,
            "memory off by more than 10 %: ours {our_mem}, docker {their_mem}"
        );
        assert!(
            (ours_cpu(id) - their_cpu).abs() <= 15.0,
            "CPU disagrees: ours {:.1}, docker {their_cpu}",
            ours_cpu(id)
        );
        assert_eq!(point.pids.map(|p| p.to_string()), Some(row.pids.clone()));
    }
    let busy_cpu = ours_cpu(&busy);
    assert!(busy_cpu > 10.0 && busy_cpu <= 70.0, "a loop capped at 0.5 CPU, read {busy_cpu}");
    assert!(watch.model.latest_stats(&fat).unwrap().memory_bytes.unwrap() > 35_000_000);
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn api_stats_fallback_gives_the_same_figures() {
    let fx = Fixture::new("apistats");
    let busy = fx.run("busy", &["--cpus", "0.5"], &["sh", "-c", "while :; do :; done"]);
    let options = portolan::engine::EngineOptions {
        stats_source: portolan::engine::StatsSource::Api,
        ..Default::default()
    };
    let mut watch = Watch::start_at(support::endpoint(), options).await;
    watch
        .wait("API stats with CPU", Duration::from_secs(30), |m| {
            m.stats.get(&busy).is_some_and(|s| {
                s.history().iter().filter(|p| p.cpu_percent.is_some()).count() >= 5
            })
        })
        .await;
    // Under a loaded machine the loop may get less than its quota: compare with what
    // docker stats measures over the same moment rather than with a fixed figure.
    let theirs = docker_ok(&["stats", "--no-stream", "--format", "{{.CPUPerc}}", &busy]);
    let theirs: f64 = theirs.trim().trim_end_matches('%').parse().unwrap();
    let points: Vec<f64> = watch.model.stats[&busy]
        .history()
        .iter()
        .rev()
        .take(5)
        .filter_map(|p| p.cpu_percent)
        .collect();
    let cpu = points.iter().sum::<f64>() / points.len() as f64;
    // Both sample a throttled loop at different moments; parallel tests load the CPU.
    assert!((cpu - theirs).abs() <= 25.0, "API CPU {cpu} vs docker stats {theirs}");
    assert!(cpu > 10.0 && cpu <= 70.0, "a loop capped at 0.5 CPU: {cpu}");
    assert!(watch.model.latest_stats(&busy).unwrap().memory_bytes.is_some());
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn compose_labels_and_v1_files_give_depends_on() {
    let fx = Fixture::new("compose");
    let project = fx.name("proj");
    let dir = std::env::temp_dir().join(fx.name("composefiles"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("docker-compose.yml");
    std::fs::write(&file, "version: '2.4'\nservices:\n  app:\n    depends_on:\n      db:\n        condition: service_healthy\n      cache:\n        condition: service_started\n  db: {}\n").unwrap();
    let project_label = format!("com.docker.compose.project={project}");
    let files_label = format!("com.docker.compose.project.config_files={}", file.display());
    let mut watch = Watch::start().await;
    // Compose v1: no depends_on label, the file says it.
    fx.run(
        "v1app",
        &[
            "--label",
            &project_label,
            "--label",
            "com.docker.compose.service=app",
            "--label",
            "com.docker.compose.version=1.29.2",
            "--label",
            &files_label,
            "--label",
            "com.docker.compose.container-number=1",
        ],
        &["sleep", "600"],
    );
    // Compose v2: the label says it.
    fx.run(
        "v2web",
        &[
            "--label",
            &project_label,
            "--label",
            "com.docker.compose.service=web",
            "--label",
            "com.docker.compose.depends_on=app:service_started:false,db:service_healthy:true",
        ],
        &["sleep", "600"],
    );
    let (v1, v2) = (fx.name("v1app"), fx.name("v2web"));
    watch
        .wait("both compose containers", SLOW, |m| {
            m.containers.values().filter(|c| c.name == v1 || c.name == v2).count() == 2
        })
        .await;
    let app = watch.by_name(&v1).unwrap();
    let deps: Vec<(&str, DependencyCondition)> =
        app.depends_on().iter().map(|d| (d.service.as_str(), d.condition)).collect();
    assert_eq!(
        deps,
        vec![("cache", DependencyCondition::Started), ("db", DependencyCondition::Healthy)]
    );
    assert_eq!(app.project(), Some(project.as_str()));
    let web = watch.by_name(&v2).unwrap();
    let deps: Vec<(&str, DependencyCondition, bool)> =
        web.depends_on().iter().map(|d| (d.service.as_str(), d.condition, d.required)).collect();
    assert_eq!(
        deps,
        vec![
            ("app", DependencyCondition::Started, true),
            ("db", DependencyCondition::Healthy, true)
        ]
    );
    let doc = serde_json::to_value(document(
        &watch.model,
        chrono::Utc::now(),
        &JsonOptions { project: Some(project.clone()), show_secrets: false },
    ))
    .unwrap();
    assert_eq!(doc["containers"].as_array().unwrap().len(), 2);
    let web_json = doc["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "web")
        .unwrap()
        .clone();
    assert_eq!(web_json["depends_on"], serde_json::json!(["app", "db"]));
    watch.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Waits until the docker CLI says `name` has exited; its exit code.
fn exited(name: &str) -> String {
    let deadline = Instant::now() + SLOW;
    loop {
        let state =
            docker_ok(&["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name]);
        if let Some(code) = state.trim().strip_prefix("exited ") {
            return code.to_string();
        }
        assert!(Instant::now() < deadline, "{name} is still {state}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn past_oom_kills_are_read_from_the_engines_recent_events() {
    // The engine may record an exit 137 before it hears of the OOM kill and then never
    // set OOMKilled; its buffer of recent events still says which exit was an OOM kill
    // and which a plain SIGKILL.
    let fx = Fixture::new("pastoom");
    let hog = fx.run(
        "hog",
        &["--memory", "16m", "--memory-swap", "16m"],
        &["sh", "-c", "x=aaaaaaaaaa; while true; do x=$x$x; done"],
    );
    let killed = fx.run("killed", &[], &["sleep", "600"]);
    docker_ok(&["kill", &fx.name("killed")]);
    assert_eq!(exited(&fx.name("hog")), "137");
    assert_eq!(exited(&fx.name("killed")), "137");
    let (docker, _) =
        portolan::engine::connect(&support::endpoint(), portolan::engine::CONNECT_TIMEOUT)
            .await
            .expect("the engine answers");
    let found = portolan::engine::events::past_oom_kills(&docker, &[&hog, &killed]).await;
    assert_eq!(found, vec![hog.clone()], "only the hog was OOM killed");
    assert!(portolan::engine::events::past_oom_kills(&docker, &[]).await.is_empty());
}
