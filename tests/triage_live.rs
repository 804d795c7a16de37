//! Triage, problems and the timeline on the real engine: each fault is created for
//! real and must show with its cause.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use portolan::model::{ContainerState, HealthStatus};
use portolan::timeline::startup_sequence;
use portolan::triage::{ProblemKind, problems};
use support::{Fixture, Watch, docker_ok};

fn portolan(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "portolan {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn unhealthy_crashloop_oom_and_exit_show_with_their_causes() {
    let fx = Fixture::new("triage");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    let svc = |s: &str| format!("com.docker.compose.service={s}");
    fx.run(
        "sick",
        &[
            "--label",
            &label,
            "--label",
            &svc("sick"),
            "--health-cmd",
            "echo db-unreachable; exit 2",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
        &["sleep", "600"],
    );
    fx.run(
        "loop",
        &["--label", &label, "--label", &svc("loop"), "--restart", "unless-stopped"],
        &["sh", "-c", "echo boom-before-exit; exit 1"],
    );
    fx.run(
        "hog",
        &["--label", &label, "--label", &svc("hog"), "--memory", "16m", "--memory-swap", "16m"],
        &["sh", "-c", "x=aaaaaaaaaa; while true; do x=$x$x; done"],
    );
    fx.run(
        "job",
        &["--label", &label, "--label", &svc("job")],
        &["sh", "-c", "echo config-file-missing >&2; exit 3"],
    );
    let mut watch = Watch::start().await;
    let now = || chrono::Utc::now();
    watch
        .wait("all four faults", Duration::from_secs(60), |m| {
            let kinds: Vec<ProblemKind> =
                problems(m, now(), Some(&project)).iter().map(|p| p.kind).collect();
            [
                ProblemKind::Unhealthy,
                ProblemKind::Crashloop,
                ProblemKind::OomKilled,
                ProblemKind::Exited,
            ]
            .iter()
            .all(|k| kinds.contains(k))
        })
        .await;
    // Last log lines are fetched after a failure is seen; give them a moment.
    watch
        .wait("the exit's last log line", Duration::from_secs(10), |m| {
            problems(m, now(), Some(&project))
                .iter()
                .any(|p| p.kind == ProblemKind::Exited && p.detail.contains("config-file-missing"))
        })
        .await;
    let found = problems(&watch.model, now(), Some(&project));
    let detail =
        |k: ProblemKind| found.iter().find(|p| p.kind == k).map(|p| p.detail.clone()).unwrap();
    assert!(detail(ProblemKind::Unhealthy).contains("probe exit 2: db-unreachable"), "{found:#?}");
    assert!(detail(ProblemKind::OomKilled).starts_with("OOM killed (limit 16.0MiB)"), "{found:#?}");
    assert!(detail(ProblemKind::Exited).starts_with("exit 3"), "{found:#?}");
    assert!(detail(ProblemKind::Crashloop).starts_with("restarted"), "{found:#?}");
    assert!(found.iter().all(|p| p.since.is_some()), "every problem says since when: {found:#?}");
    watch.stop().await;

    // The same, end to end: the binary's JSON and its text rendering of the first
    // screen. Events of the last couple of seconds are replayed to a new watcher;
    // older ones must be reconstructed. The sick container fails longer than the five
    // probes the engine keeps, so its "since" must be reconstructed, not the newest.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sick = fx.name("sick");
    let streak_deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let streak = docker_ok(&["inspect", "--format", "{{.State.Health.FailingStreak}}", &sick]);
        if streak.trim().parse::<u64>().unwrap_or(0) >= 8 {
            break;
        }
        assert!(std::time::Instant::now() < streak_deadline, "the streak stays at {streak}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let started_at = docker_ok(&["inspect", "--format", "{{.State.StartedAt}}", &sick]);
    let started_at = chrono::DateTime::parse_from_rfc3339(started_at.trim()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&portolan(&[
        "snapshot",
        "--format",
        "json",
        "--project",
        &project,
        "--wait",
        "1",
    ]))
    .unwrap();
    let kinds: Vec<&str> =
        json["problems"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    for kind in ["unhealthy", "crashloop", "oom_killed", "exited"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let unhealthy =
        json["problems"].as_array().unwrap().iter().find(|p| p["kind"] == "unhealthy").unwrap();
    assert!(unhealthy["detail"].as_str().unwrap().contains("db-unreachable"));
    // Unhealthy since its first failing probe, about a second after its start (the
    // interval is 1 s): not the oldest of the five probes in view, seconds later.
    let since = chrono::DateTime::parse_from_rfc3339(unhealthy["since"].as_str().unwrap()).unwrap();
    let after_start = (since - started_at).num_milliseconds();
    assert!((0..=4_000).contains(&after_start), "since {since}, started {started_at}: {unhealthy}");
    assert_eq!(unhealthy["since_reconstructed"], true, "{unhealthy}");
    // A crash loop older than this process: since its first restart, reconstructed
    // from the restart count, not since its newest restart.
    let looping = fx.name("loop");
    let created = docker_ok(&["inspect", "--format", "{{.Created}}", &looping]);
    let created = chrono::DateTime::parse_from_rfc3339(created.trim()).unwrap();
    let crashloop =
        json["problems"].as_array().unwrap().iter().find(|p| p["kind"] == "crashloop").unwrap();
    let since = chrono::DateTime::parse_from_rfc3339(crashloop["since"].as_str().unwrap()).unwrap();
    let after_create = (since - created).num_milliseconds();
    // Rebuilt from Docker's nominal backoffs, it drifts later by what each restart
    // took on a loaded machine (seen: 3.0 s after seven restarts beside six stacks).
    assert!((0..=8_000).contains(&after_create), "since {since}, created {created}: {crashloop}");
    // And it is not the newest restart, which came after seconds of backoff.
    let newest = docker_ok(&["inspect", "--format", "{{.State.StartedAt}}", &looping]);
    let newest = chrono::DateTime::parse_from_rfc3339(newest.trim()).unwrap();
    assert!(
        (newest - since).num_milliseconds() >= 2_000,
        "since {since}, newest start {newest}: {crashloop}"
    );
    assert_eq!(crashloop["since_reconstructed"], true, "{crashloop}");
    assert!(
        json["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "die" && e["reconstructed"] == true),
        "{:#}",
        json["timeline"]
    );
    let text = portolan(&[
        "snapshot",
        "--format",
        "text",
        "--pane",
        "triage",
        "--project",
        &project,
        "--width",
        "120",
        "--height",
        "40",
        "--wait",
        "1",
    ]);
    for needle in [
        "UNHEALTHY",
        "CRASH LOOP",
        "OOM KILLED",
        "EXITED",
        "db-unreachable",
        "OOM killed (limit 16.0MiB)",
        "config-file-missing",
    ] {
        assert!(text.contains(needle), "{needle} on the first screen at 120x40:\n{text}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn startup_timeline_follows_real_order_and_dependencies_going_down() {
    let fx = Fixture::new("startup");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    let mut watch = Watch::start().await;
    let db = fx.run(
        "db",
        &[
            "--label",
            &label,
            "--label",
            "com.docker.compose.service=db",
            "--health-cmd",
            "test -f /tmp/ready",
            "--health-interval",
            "1s",
        ],
        &["sh", "-c", "sleep 2; touch /tmp/ready; sleep 600"],
    );
    watch
        .wait("db healthy", Duration::from_secs(30), |m| {
            m.containers.get(&db).is_some_and(|c| c.health_status() == HealthStatus::Healthy)
        })
        .await;
    let backend = fx.run(
        "backend",
        &[
            "--label",
            &label,
            "--label",
            "com.docker.compose.service=backend",
            "--label",
            "com.docker.compose.depends_on=db:service_healthy:false",
        ],
        &["sleep", "600"],
    );
    watch
        .wait("backend running", Duration::from_secs(10), |m| {
            m.containers.get(&backend).is_some_and(|c| c.state == ContainerState::Running)
        })
        .await;
    let steps = startup_sequence(&watch.model, &project);
    let order: Vec<(String, String)> =
        steps.iter().map(|s| (s.service.clone(), s.status.clone())).collect();
    assert_eq!(
        order,
        vec![
            ("db".to_string(), "starting".to_string()),
            ("db".to_string(), "healthy".to_string()),
            ("backend".to_string(), "starting".to_string()),
        ],
        "{steps:#?}"
    );
    assert_eq!(steps[2].action, "waited for db healthy");
    assert!(steps.iter().all(|s| !s.reconstructed), "seen live: {steps:#?}");
    assert!(
        steps[0].offset_seconds == 0
            && steps[1].offset_seconds >= 1
            && steps[2].offset_seconds >= steps[1].offset_seconds
    );
    // The times are the engine's own.
    let started = docker_ok(&["inspect", "--format", "{{.State.StartedAt}}", &backend]);
    let started = chrono::DateTime::parse_from_rfc3339(&started).unwrap();
    assert!((steps[2].time - started.with_timezone(&chrono::Utc)).num_milliseconds().abs() < 1000);

    // The incident log saw it happen (the start event may trail the inspect a little).
    watch
        .wait("the backend's start event", Duration::from_secs(5), |m| {
            portolan::timeline::incidents(m, Some(&project), None).iter().any(|e| {
                e.event == "start" && e.service.as_deref() == Some("backend") && !e.reconstructed
            })
        })
        .await;
    let log: Vec<String> = portolan::timeline::incidents(&watch.model, Some(&project), None)
        .iter()
        .filter(|e| !e.reconstructed)
        .map(|e| format!("{} {}", e.service.clone().unwrap_or_default(), e.event))
        .collect();
    for needle in ["db create", "db start", "db health_status: healthy", "backend start"] {
        assert!(log.iter().any(|l| l == needle), "{needle} in {log:?}");
    }

    // A stopped dependency becomes the dependent's problem.
    docker_ok(&["stop", "-t", "1", &db]);
    watch
        .wait("dependency down", Duration::from_secs(15), |m| {
            problems(m, chrono::Utc::now(), Some(&project)).iter().any(|p| {
                p.kind == ProblemKind::DependencyDown
                    && p.detail.starts_with("needs db (healthy), which is exited")
            })
        })
        .await;
    watch
        .wait("the live die event", Duration::from_secs(5), |m| {
            portolan::timeline::incidents(m, Some(&project), None)
                .iter()
                .any(|e| e.event == "die" && !e.reconstructed)
        })
        .await;
    watch.stop().await;
}

/// The last line of a container that fails while portolan watches comes from the
/// event path (read off the event loop), and a crash loop keeps its newest line.
#[tokio::test(flavor = "current_thread")]
async fn a_failure_seen_live_brings_its_newest_last_line() {
    let fx = Fixture::new("lastline");
    let mut watch = Watch::start().await;
    // Started after the inventory: only the `die` events can bring its last line.
    let id = fx.run(
        "loop",
        &["--restart", "always"],
        &["sh", "-c", "sleep 1; echo \"attempt $(cat /proc/uptime)\"; exit 4"],
    );
    let id = id.trim().to_string();
    let line = |m: &portolan::model::Model| {
        m.history.get(&id).and_then(|h| h.last_log_line.clone()).unwrap_or_default()
    };
    watch
        .wait("the first exit's last line", Duration::from_secs(30), |m| {
            line(m).starts_with("attempt ")
        })
        .await;
    let first = line(&watch.model);
    // The engine restarts it: a later exit replaces the line with a newer one.
    watch
        .wait("a later exit's last line", Duration::from_secs(60), |m| {
            let now = line(m);
            now.starts_with("attempt ") && now != first
        })
        .await;
    let uptime = |l: &str| -> f64 {
        l.trim_start_matches("attempt ").split_whitespace().next().unwrap().parse().unwrap()
    };
    assert!(
        uptime(&line(&watch.model)) > uptime(&first),
        "the newest line wins: {first:?} then {:?}",
        line(&watch.model)
    );
    watch.stop().await;
}
