//! The real binary: exit codes, messages and the snapshot document.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::Fixture;

fn portolan() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portolan"));
    command.env_remove("NO_COLOR");
    command
}

#[test]
fn unreachable_socket_exits_2_quickly_with_words() {
    let started = Instant::now();
    let output =
        portolan().args(["-H", "unix:///tmp/portolan-no-such.sock", "snapshot"]).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unix:///tmp/portolan-no-such.sock"), "{stderr}");
    assert!(stderr.contains("no such socket"), "{stderr}");
    assert!(stderr.contains("Docker daemon running"), "says what to do: {stderr}");
    assert!(!stderr.contains("Error {") && !stderr.contains("panicked"), "no debug dump: {stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn refused_tcp_and_docker_host_are_named() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let output = portolan()
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
        .args(["snapshot"])
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("tcp://127.0.0.1:{port}"))
            && stderr.contains("connection refused"),
        "{stderr}"
    );
}

#[test]
fn silent_tcp_endpoint_times_out_within_three_seconds() {
    // A listener that accepts but never answers HTTP.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let started = Instant::now();
    let output =
        portolan().args(["-H", &format!("tcp://127.0.0.1:{port}"), "snapshot"]).output().unwrap();
    let elapsed = started.elapsed();
    drop(listener);
    assert_eq!(output.status.code(), Some(2));
    assert!(elapsed < Duration::from_millis(3500), "took {elapsed:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn permission_denied_is_named() {
    let dir = std::env::temp_dir().join(format!("portolan-perm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("docker.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Root ignores file modes, so the check runs as an unprivileged user when we are root.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let is_root =
        Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    let output = if is_root {
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_portolan"),
            ])
            .args(["-H", &format!("unix://{}", socket.display()), "snapshot"])
            .output()
            .unwrap()
    } else {
        portolan()
            .args(["-H", &format!("unix://{}", socket.display()), "snapshot"])
            .output()
            .unwrap()
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("permission denied"), "{stderr}");
}

#[test]
fn bad_arguments_say_what_exists() {
    let output = portolan().args(["--pane", "nonsense", "snapshot"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("panes: triage, map, containers, stats, resources, health, timeline, logs")
    );
    let output = portolan().args(["-H", "ftp://x", "snapshot"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not supported"));
}

#[test]
fn snapshot_json_has_the_contract_and_stats() {
    let fx = Fixture::new("snapjson");
    let project = fx.name("proj");
    let project_label = format!("com.docker.compose.project={project}");
    fx.run(
        "web",
        &[
            "--label",
            &project_label,
            "--label",
            "com.docker.compose.service=web",
            "-e",
            "DB_PASSWORD=hunter2",
        ],
        &["sleep", "600"],
    );
    fx.run("other", &[], &["sleep", "600"]);
    let started = Instant::now();
    let output = portolan()
        .args(["snapshot", "--format", "json", "--project", &project, "--wait", "5"])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    for key in ["endpoint", "version", "api_version"] {
        assert!(doc["engine"].get(key).is_some(), "engine.{key}");
    }
    let containers = doc["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "--project filters: {containers:?}");
    let web = &containers[0];
    for key in [
        "id",
        "name",
        "image",
        "state",
        "status",
        "health",
        "exit_code",
        "oom_killed",
        "restart_count",
        "started_at",
        "finished_at",
        "user",
        "read_only",
        "privileged",
        "restart_policy",
        "project",
        "service",
        "depends_on",
        "ports",
        "networks",
        "mounts",
        "limits",
        "stats",
    ] {
        assert!(web.get(key).is_some(), "containers[].{key} missing");
    }
    for key in ["cpus", "memory_bytes", "memory_reservation_bytes", "pids"] {
        assert!(web["limits"].get(key).is_some(), "limits.{key}");
    }
    for key in [
        "cpu_percent",
        "memory_bytes",
        "memory_limit_bytes",
        "net_rx_bytes",
        "net_tx_bytes",
        "block_read_bytes",
        "block_write_bytes",
        "pids",
    ] {
        assert!(web["stats"].get(key).is_some(), "stats.{key}");
    }
    assert!(web["stats"]["cpu_percent"].is_f64(), "one full CPU sample was waited for");
    assert_eq!(web["health"]["status"], "none");
    assert_eq!(web["user"], serde_json::Value::Null, "absent is null, never made up");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("hunter2"), "secrets are masked");
    for network in doc["networks"].as_array().unwrap() {
        for key in ["name", "driver", "internal", "subnets", "gateways", "containers"] {
            assert!(network.get(key).is_some(), "networks[].{key}");
        }
    }
    // Stats of one running container need two samples one interval apart.
    assert!(elapsed < Duration::from_millis(2500), "snapshot took {elapsed:?}");

    let shown = portolan()
        .args(["snapshot", "--project", &project, "--wait", "0", "--show-secrets"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("hunter2"));
}

#[test]
fn snapshot_text_renders_the_ui_without_escapes() {
    let fx = Fixture::new("snaptext");
    let project = fx.name("proj");
    let project_label = format!("com.docker.compose.project={project}");
    fx.run(
        "api",
        &["--label", &project_label, "--label", "com.docker.compose.service=api"],
        &["sleep", "600"],
    );
    let output = portolan()
        .args([
            "snapshot",
            "--format",
            "text",
            "--pane",
            "containers",
            "--project",
            &project,
            "--width",
            "100",
            "--height",
            "20",
            "--wait",
            "2",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(!text.contains('\u{1b}'));
    assert_eq!(text.lines().count(), 20);
    assert!(text.lines().all(|l| l.chars().count() <= 100));
    assert!(text.contains("api"), "{text}");
    assert!(text.contains(&project), "{text}");
}

#[test]
fn snapshot_svg_is_a_picture_of_the_pane_even_without_colour() {
    let fx = Fixture::new("snapsvg");
    // A compose project label is free text: markup in it must stay text.
    let project = format!("{}<&\"'>", fx.name("proj"));
    let project_label = format!("com.docker.compose.project={project}");
    fx.run(
        "api",
        &["--label", &project_label, "--label", "com.docker.compose.service=api"],
        &["sh", "-c", "echo '<b>&log' >&2; sleep 600"],
    );
    let args = [
        "snapshot",
        "--format",
        "svg",
        "--pane",
        "containers",
        "--project",
        &project,
        "--width",
        "100",
        "--height",
        "20",
        "--wait",
        "2",
    ];
    let colour = portolan().args(args).output().unwrap();
    let mono = portolan().env("NO_COLOR", "1").args(args).output().unwrap();
    for output in [&colour, &mono] {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let svg = String::from_utf8(output.stdout.clone()).expect("UTF-8");
        assert!(svg.starts_with("<?xml") && svg.ends_with("</svg>\n"), "{svg}");
        assert!(svg.contains("&lt;&amp;&quot;&apos;&gt;"), "project name escaped: {svg}");
        assert!(!svg.contains("<&"), "raw markup from a label");
        assert!(svg.contains("api"), "{svg}");
    }
    let colour = String::from_utf8_lossy(&colour.stdout).into_owned();
    let mono = String::from_utf8_lossy(&mono.stdout).into_owned();
    assert!(colour.contains("<title>portolan · dark · 100x20</title>"));
    assert!(mono.contains("<title>portolan · mono · 100x20</title>"));
    // Mono has no colours, but the header and the selection are still bars: reversed
    // text is drawn in the canvas foreground.
    let bars = |svg: &str| svg.lines().filter(|l| l.starts_with("<rect x=")).count();
    assert!(bars(&mono) >= 2, "{mono}");
    assert!(mono.contains("fill=\"#d4d4d4\"/>"), "{mono}");
    // The logs pane too is drawn, not printed as lines.
    let logs = portolan()
        .args(["snapshot", "--format", "svg", "--pane", "logs", "--project", &project])
        .args(["--width", "100", "--height", "20"])
        .output()
        .unwrap();
    assert!(logs.status.success(), "{}", String::from_utf8_lossy(&logs.stderr));
    let logs = String::from_utf8(logs.stdout).expect("UTF-8");
    assert!(logs.contains("<title>portolan · dark · 100x20</title>"), "{logs}");
    assert!(logs.contains("&lt;b&gt;&amp;log"), "the line, escaped: {logs}");
}
