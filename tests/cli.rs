//! The real binary: exit codes, messages and the snapshot document.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::Fixture;

fn portolan() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portolan"));
    command.env_remove("NO_COLOR");
    // The tester's own config must not change what these tests see.
    command.env("XDG_CONFIG_HOME", "/nonexistent/portolan-tests");
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

/// A fresh directory for one test's config files.
fn config_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portolan-config-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("themes")).unwrap();
    dir
}

#[test]
fn print_config_prints_commented_defaults_that_parse_back() {
    let output = portolan().arg("--print-config").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for line in
        ["# theme = \"dark\"", "# refresh = \"1s\"", "# [keys]", "# quit = [\"q\", \"ctrl-c\"]"]
    {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
    // Uncommented, the whole file is a valid config: portolan gets past it and on to
    // the engine, which is not there.
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest == "[keys]"
                    || rest == "[[hosts]]"
                    || rest == "[[alerts]]"
                    || rest == "[[commands]]"
                    || rest.split_once(" = ").is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = config_dir("roundtrip");
    let file = dir.join("config.toml");
    std::fs::write(&file, uncommented).unwrap();
    let output = portolan()
        .arg("--config")
        .arg(&file)
        .args(["-H", "unix:///tmp/portolan-no-such.sock", "snapshot"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach the Docker engine"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_config_exits_2_naming_file_line_and_key() {
    let dir = config_dir("bad");
    let file = dir.join("config.toml");
    std::fs::write(&file, "theme = \"dark\"\n\n[keys]\nquit = \"ctrl-q\"\nfly = \"f\"\n").unwrap();
    let output = portolan().arg("--config").arg(&file).arg("snapshot").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "portolan: {}:5: key `keys.fly`: unknown action",
            file.display()
        )),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());

    // A user theme beside the config, with a mistake: its own file and line.
    std::fs::write(&file, "theme = \"mine\"\n").unwrap();
    std::fs::write(
        dir.join("themes/mine.toml"),
        "extends = \"light\"\n[slots]\n\"bordr\" = \"red\"\n",
    )
    .unwrap();
    let output = portolan().arg("--config").arg(&file).arg("snapshot").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let theme_file = dir.join("themes/mine.toml");
    assert!(
        stderr.contains(&format!("{}:3: unknown slot `bordr`", theme_file.display())),
        "{stderr}"
    );

    // A missing --config is an error, not the defaults.
    let output =
        portolan().arg("--config").arg(dir.join("nope.toml")).arg("snapshot").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nope.toml: cannot read"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_config_takes_effect_and_flags_override_it() {
    let dir = config_dir("effect");
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        "theme = \"calm\"\ndefault_pane = \"health\"\n\n[keys]\nquit = [\"ctrl-q\", \"q\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("themes/calm.toml"), "[slots]\n\"border\" = \"#336699\"\n").unwrap();
    let snapshot = |extra: &[&str]| {
        let output = portolan()
            .arg("--config")
            .arg(&file)
            .args([
                "snapshot", "--format", "text", "--width", "120", "--height", "20", "--wait", "0",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let text = snapshot(&[]);
    assert!(text.contains("┌ Health"), "default_pane opens the health pane:\n{text}");
    assert!(text.contains("ctrl-q  quit"), "the footer shows the remapped key:\n{text}");
    let text = snapshot(&["--pane", "stats"]);
    assert!(text.contains("┌ Stats"), "--pane wins over default_pane:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
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

/// `snapshot --format json --wait 0` with `command`'s options; it must succeed.
fn json_snapshot(command: &mut Command) -> serde_json::Value {
    let output = command.args(["snapshot", "--format", "json", "--wait", "0"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn several_engines_one_unreachable_still_gives_a_snapshot() {
    let main =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let json = json_snapshot(portolan().args([
        "-H",
        &main,
        "-H",
        "unix:///tmp/portolan-no-such-engine.sock",
    ]));
    let hosts = json["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["connected"], true);
    assert_eq!(hosts[1]["connected"], false);
    assert_eq!(hosts[1]["name"], "/tmp/portolan-no-such-engine.sock");
    let reason = hosts[1]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("no such socket"), "{reason}");
    // Every container says where it lives.
    assert!(json["containers"].as_array().unwrap().iter().all(|c| c["host"] == hosts[0]["name"]));
}

#[test]
fn several_engines_none_reachable_says_why_for_each() {
    let output = portolan()
        .args(["-H", "unix:///tmp/portolan-nope-a.sock", "-H", "tcp://127.0.0.1:1"])
        .arg("snapshot")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("portolan-nope-a.sock") && stderr.contains("no such socket"),
        "{stderr}"
    );
    assert!(stderr.contains("tcp://127.0.0.1:1") && stderr.contains("refused"), "{stderr}");
}

#[test]
fn the_same_engine_twice_is_refused() {
    let output = portolan()
        .args(["-H", "unix:///tmp/x.sock", "-H", "unix:///tmp/x.sock", "snapshot"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("named twice"), "{stderr}");
}

#[test]
fn hosts_in_the_config_are_followed_with_their_names() {
    let main =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let dir = config_dir("hosts");
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[[hosts]]\nname = \"harbour\"\nhost = \"{main}\"\n\n[[hosts]]\nname = \"gone\"\nhost = \"unix:///tmp/portolan-gone.sock\"\n"
        ),
    )
    .unwrap();
    let json = json_snapshot(portolan().arg("--config").arg(&file));
    let names: Vec<&str> =
        json["hosts"].as_array().unwrap().iter().filter_map(|h| h["name"].as_str()).collect();
    assert_eq!(names, ["harbour", "gone"]);
    // The command line wins over the config: one -H is one engine.
    let json = json_snapshot(portolan().arg("--config").arg(&file).args(["-H", &main]));
    assert_eq!(json["hosts"].as_array().map(Vec::len), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_engine_at_two_addresses_is_listed_once() {
    let fixture = Fixture::new("same-engine");
    fixture.run("one", &[], &["sleep", "600"]);
    let name = fixture.name("one");
    let main = support::endpoint().to_string();
    let Some(path) = main.strip_prefix("unix://") else {
        panic!("this test links the engine's socket; DOCKER_HOST is {main}");
    };
    // A second address of the same engine: a link to its socket.
    let link = std::env::temp_dir().join(format!("portolan-link-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(path, &link).unwrap();
    let json =
        json_snapshot(portolan().args(["-H", &main, "-H", &format!("unix://{}", link.display())]));
    let _ = std::fs::remove_file(&link);
    let hosts = json["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[1]["same_as"], hosts[0]["name"], "{hosts:?}");
    let ours: Vec<&serde_json::Value> = json["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == name.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "listed once");
    assert_eq!(ours[0]["host"], hosts[0]["name"]);
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    // `portolan snapshot | head -c0`: the pipe closes before portolan writes.
    let mut child = portolan()
        .args(["snapshot", "--format", "json", "--wait", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("portolan:"), "no message for a closed pipe: {stderr}");
}
