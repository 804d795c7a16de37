//! Finding the engine when nothing names one, with the real binary: a home and a
//! runtime directory of the test's own, the root socket moved to a path that does not
//! exist (PORTOLAN_DEFAULT_SOCKET), and the shared engine's socket linked where Docker
//! Desktop would put its own.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use portolan::engine::Endpoint;
use support::Fixture;

/// A home, a runtime directory and a missing root socket, all of the test's own.
struct Machine {
    dir: PathBuf,
}

impl Machine {
    fn new(what: &str) -> Machine {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Short: a socket's path must fit in 108 bytes.
        let dir = std::env::temp_dir().join(format!("pd-{what}-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(dir.join("home/.docker")).unwrap();
        std::fs::create_dir_all(dir.join("run")).unwrap();
        // A docker config that names no current context.
        std::fs::write(dir.join("home/.docker/config.json"), r#"{"auths":{}}"#).unwrap();
        Machine { dir }
    }

    fn home(&self, rest: &str) -> PathBuf {
        self.dir.join("home").join(rest)
    }

    fn runtime(&self, rest: &str) -> PathBuf {
        self.dir.join("run").join(rest)
    }

    fn root_socket(&self) -> PathBuf {
        self.dir.join("no-root.sock")
    }

    /// Puts something at `path`, making the directories on the way.
    fn place(&self, path: &Path, what: Thing) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        match what {
            Thing::LinkTo(target) => std::os::unix::fs::symlink(target, path).unwrap(),
            Thing::PlainFile => std::fs::write(path, "").unwrap(),
        }
    }

    /// portolan on this machine: no docker settings of the tester's, this home, this
    /// runtime directory (or none), and the root socket missing.
    fn portolan(&self, runtime_dir: bool) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portolan"));
        command.env_remove("NO_COLOR");
        command.env("XDG_CONFIG_HOME", "/nonexistent/portolan-tests");
        for var in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_TLS",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
            "DOCKER_CONFIG",
        ] {
            command.env_remove(var);
        }
        command.env("HOME", self.dir.join("home"));
        if runtime_dir {
            command.env("XDG_RUNTIME_DIR", self.dir.join("run"));
        } else {
            command.env_remove("XDG_RUNTIME_DIR");
        }
        command.env("PORTOLAN_DEFAULT_SOCKET", self.root_socket());
        command
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

enum Thing {
    LinkTo(PathBuf),
    PlainFile,
}

fn engine_socket() -> PathBuf {
    match support::endpoint() {
        Endpoint::Unix(path) => path,
        other => panic!("these tests link to a unix socket; DOCKER_HOST is {other}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "portolan failed ({:?}): {}",
        output.status,
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// The machine every test here starts from: the root socket missing, a plain file
/// where rootless Docker's socket would be, a dangling link where Docker Desktop's
/// older socket would be, and the real engine where Docker Desktop's newer one is.
fn desktop_machine(what: &str) -> Machine {
    let machine = Machine::new(what);
    machine.place(&machine.runtime("docker.sock"), Thing::PlainFile);
    machine
        .place(&machine.home(".docker/run/docker.sock"), Thing::LinkTo(machine.dir.join("gone")));
    machine.place(&machine.home(".docker/desktop/docker.sock"), Thing::LinkTo(engine_socket()));
    machine
}

#[test]
fn the_first_socket_that_answers_is_used_and_named_in_the_json_and_header() {
    let machine = desktop_machine("use");
    let fx = Fixture::new("discover");
    let project = fx.name("proj");
    let project_label = format!("com.docker.compose.project={project}");
    fx.run(
        "web",
        &["--label", &project_label, "--label", "com.docker.compose.service=web"],
        &["sleep", "600"],
    );
    let output = machine
        .portolan(true)
        .args(["snapshot", "--format", "json", "--project", &project, "--wait", "0"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&succeeded(&output)).expect("JSON");
    let desktop = machine.home(".docker/desktop/docker.sock");
    assert_eq!(
        json["engine"]["endpoint"],
        format!("desktop (unix://{})", desktop.display()),
        "the JSON names the socket used and what it is"
    );
    assert_eq!(json["hosts"][0]["name"], "desktop");
    let names: Vec<&str> =
        json["containers"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, [fx.name("web")], "the real engine's containers are seen through it");

    let output = machine
        .portolan(true)
        .args(["snapshot", "--format", "text", "--width", "100", "--height", "20"])
        .args(["--project", &project, "--wait", "0"])
        .output()
        .unwrap();
    let screen = succeeded(&output);
    let header = screen.lines().next().unwrap_or_default();
    assert!(header.contains("⚓ portolan  desktop"), "the header says which engine: {header}");
}

#[test]
fn print_engines_lists_every_place_with_its_reason_and_the_one_used() {
    let machine = desktop_machine("print");
    let started = Instant::now();
    let output = machine.portolan(true).arg("--print-engines").output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "places are asked at once");
    let report = succeeded(&output);
    let line_after = |place: &Path| {
        let place = place.display().to_string();
        let mut lines = report.lines();
        lines.find(|l| l.ends_with(&format!(". {place} — {}", describe(&place))));
        lines.next().unwrap_or_else(|| panic!("{place} is listed: {report}")).trim().to_string()
    };
    assert_eq!(line_after(&machine.root_socket()), "missing: no such file");
    assert_eq!(
        line_after(&machine.runtime("docker.sock")),
        "exists; does not answer: not a socket (a regular file)"
    );
    assert_eq!(
        line_after(&machine.home(".docker/run/docker.sock")),
        format!(
            "missing: no such file (a symbolic link to {}, which does not exist)",
            machine.dir.join("gone").display()
        )
    );
    let desktop = machine.home(".docker/desktop/docker.sock");
    let version = support::docker_ok(&["version", "--format", "{{.Server.Version}}"]);
    let answered = line_after(&desktop);
    assert!(
        answered.starts_with("exists; answers: ") && answered.contains(&version),
        "the engine says its name and version: {answered}"
    );
    assert!(
        report.ends_with(&format!("portolan would use: {} (desktop)\n", desktop.display())),
        "{report}"
    );
    // Order: the root socket first, Podman's last.
    let at = |needle: &str| report.find(needle).unwrap_or_else(|| panic!("{needle}: {report}"));
    assert!(at("no-root.sock") < at("run/docker.sock"));
    assert!(at(".docker/desktop/docker.sock") < at(".colima/default/docker.sock"));
    assert!(at(".orbstack/run/docker.sock") < at("run/podman/podman.sock"));

    // The root socket, when it answers, comes before every other place.
    let output = machine
        .portolan(true)
        .env("PORTOLAN_DEFAULT_SOCKET", engine_socket())
        .arg("--print-engines")
        .output()
        .unwrap();
    let report = succeeded(&output);
    assert!(
        report.ends_with(&format!("portolan would use: {} (local)\n", engine_socket().display())),
        "{report}"
    );

    // Without XDG_RUNTIME_DIR, the places under it are named and skipped.
    let output = machine.portolan(false).arg("--print-engines").output().unwrap();
    let report = succeeded(&output);
    assert!(
        report.contains(
            "$XDG_RUNTIME_DIR/docker.sock — rootless Docker\n     \
             not looked at: XDG_RUNTIME_DIR is not set"
        ),
        "{report}"
    );
    assert!(report.contains("$XDG_RUNTIME_DIR/podman/podman.sock — rootless Podman"), "{report}");
}

/// What `--print-engines` says each test place is.
fn describe(place: &str) -> &'static str {
    if place.ends_with("no-root.sock") {
        "the docker CLI's default socket"
    } else if place.contains(".docker/") {
        "Docker Desktop"
    } else {
        "rootless Docker"
    }
}

#[test]
fn nothing_answering_exits_2_with_every_place_and_its_reason() {
    if Path::new("/run/podman/podman.sock").exists() {
        eprintln!("skipped: this machine has a system Podman socket, which would answer");
        return;
    }
    let machine = Machine::new("none");
    machine.place(&machine.home(".docker/desktop/docker.sock"), Thing::PlainFile);
    // A socket whose listener never answers: its connections wait in the backlog.
    let colima = machine.home(".colima/default/docker.sock");
    std::fs::create_dir_all(colima.parent().unwrap()).unwrap();
    let _silent = UnixListener::bind(&colima).unwrap();
    let started = Instant::now();
    let output = machine.portolan(false).args(["snapshot", "--wait", "0"]).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "one second per place, at once");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    let expected = [
        format!(
            "{} (the docker CLI's default socket): no such file",
            machine.root_socket().display()
        ),
        "$XDG_RUNTIME_DIR/docker.sock (rootless Docker): not looked at: XDG_RUNTIME_DIR is not set"
            .to_string(),
        format!(
            "{} (Docker Desktop): no such file",
            machine.home(".docker/run/docker.sock").display()
        ),
        format!(
            "{} (Docker Desktop): not a socket (a regular file)",
            machine.home(".docker/desktop/docker.sock").display()
        ),
        format!("{} (Colima, default profile): did not answer in 1 s", colima.display()),
        format!("{} (OrbStack): no such file", machine.home(".orbstack/run/docker.sock").display()),
        "$XDG_RUNTIME_DIR/podman/podman.sock (rootless Podman): not looked at".to_string(),
        "/run/podman/podman.sock (Podman's system service): no such file".to_string(),
    ];
    for line in expected {
        assert!(stderr.contains(&line), "`{line}` is said: {stderr}");
    }
    assert!(stderr.contains("no Docker engine answers here"), "{stderr}");
    assert!(stderr.contains("name one with -H, DOCKER_HOST or --context"), "{stderr}");
}

#[test]
fn an_engine_that_is_named_is_never_replaced_by_one_found() {
    let machine = desktop_machine("named");
    let missing = machine.dir.join("named.sock");
    let named = format!("unix://{}", missing.display());
    let output =
        machine.portolan(true).env("DOCKER_HOST", &named).args(["snapshot"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("no such socket: {}", missing.display())), "{stderr}");

    let output =
        machine.portolan(true).env("DOCKER_HOST", &named).arg("--print-engines").output().unwrap();
    let report = succeeded(&output);
    assert!(report.starts_with("Named (used as named;"), "{report}");
    assert!(
        report.contains(&format!("  DOCKER_HOST: {named}\n     does not answer: ")),
        "{report}"
    );
    assert!(
        report.ends_with(&format!(
            "portolan would use: {named} (named by DOCKER_HOST), though it does not answer now\n"
        )),
        "{report}"
    );
}
