//! Image updates on the real engine against a real registry on 127.0.0.1 (Debian's
//! `docker-registry`, started by the test on a port of its own): the check sees a
//! newer push, the update re-creates the container on it and removes the old one;
//! a broken push whose healthcheck fails is rolled back to the image that ran; a
//! registry that is not there is said once, in words.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use portolan::engine::EngineCommand;
use portolan::engine::updates::CheckTarget;
use portolan::model::image_updates::{self, CheckFailure, Verdict};
use portolan::ui::keymap::{Action, Keymap};
use portolan::ui::overlay::{MenuExtra, Overlay};
use portolan::ui::theme::Theme;
use portolan::ui::{App, PaneId};
use support::{Fixture, LABEL, Watch, docker, docker_ok};

/// A registry of the test's own: its own port and storage, killed on drop.
struct Registry {
    child: Child,
    dir: PathBuf,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Registry {
    fn start(name: &str) -> Registry {
        let dir = std::env::temp_dir().join(format!("{name}-registry"));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry runs (scripts/setup installs it)");
        let registry = Registry { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the registry did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Images the test built, pulled or tagged, removed on drop with the containers of
/// the test's own label (the second field) that use them.
struct Images(Vec<String>, String);

impl Drop for Images {
    fn drop(&mut self) {
        for image in &self.0 {
            // Its containers first, or the image is in use and stays. Only the test's
            // own: a tag of the shared test image makes `ancestor` match every
            // container on the engine made from it, other stacks' included.
            let filter = format!("ancestor={image}");
            let mine = format!("label={}", self.1);
            let users = docker(&["ps", "-aq", "--filter", &filter, "--filter", &mine]);
            for id in String::from_utf8_lossy(&users.stdout).split_whitespace() {
                let _ = docker(&["rm", "-f", id]);
            }
            let _ = docker(&["rmi", "-f", image]);
        }
    }
}

/// Builds `reference` from the test image with a healthcheck running `health`, pushes
/// it, and removes the local tag (as if another machine had pushed it). Returns the
/// image id.
fn push_version(fx: &Fixture, reference: &str, version: &str, health: &str) -> String {
    let dockerfile = format!(
        "FROM {}\nLABEL {LABEL}={}\nENV VERSION={version}\nSTOPSIGNAL SIGKILL\n\
         HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD {health}\n\
         CMD [\"sleep\", \"3600\"]\n",
        fx.image, fx.run
    );
    let mut child = Command::new("docker")
        .args(["build", "-q", "-t", reference, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(dockerfile.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "build: {}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    docker_ok(&["push", reference]);
    docker_ok(&["rmi", reference]);
    id
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn app_on(watch: &Watch, id: &str) -> App {
    let mut app = App::new(
        watch.model.clone(),
        Theme::built_in("dark"),
        Keymap::default(),
        chrono::Utc::now(),
    );
    app.pane = PaneId::Containers;
    app.sync();
    app.panes.get_mut(PaneId::Containers).select_container(id);
    app
}

/// Picks `extra` in the selection's actions menu and answers its question yes; returns
/// the commands it asked for.
fn pick(app: &mut App, extra: MenuExtra) -> Vec<EngineCommand> {
    app.act(Action::Actions);
    let Some(Overlay::Actions { extras, .. }) = &app.overlay else {
        panic!("the actions menu opens: {:?}", app.notice)
    };
    assert!(extras.contains(&extra), "{extra:?} offered: {extras:?}");
    app.overlay_key(&key(extra.key()));
    if let Some(Overlay::Ask { question, .. }) = &app.overlay {
        assert!(question.contains("sha256:"), "the question shows old and new: {question}");
        app.overlay_key(&key('y'));
    }
    std::mem::take(&mut app.pending)
}

async fn check(watch: &mut Watch, id: &str) -> Verdict {
    let mut app = app_on(watch, id);
    for command in pick(&mut app, MenuExtra::CheckUpdate) {
        watch.handle.command(command);
    }
    let at = chrono::Utc::now() - chrono::Duration::seconds(1);
    watch
        .wait("the update check", Duration::from_secs(30), |m| {
            m.image_updates.checks.get(id).and_then(|s| s.last.as_ref()).is_some_and(|c| c.at > at)
        })
        .await;
    watch.model.image_updates.checks[id].last.clone().unwrap().verdict
}

/// Updates through the menu; returns the run's end and its lines.
async fn update(
    watch: &mut Watch,
    id: &str,
) -> (portolan::model::compose_runs::RunEnd, Vec<String>) {
    let mut app = app_on(watch, id);
    let commands = pick(&mut app, MenuExtra::Update);
    assert_eq!(app.pane, PaneId::Compose);
    let run = commands
        .iter()
        .find_map(|c| match c {
            EngineCommand::UpdateImage { request, .. } => Some(request.run),
            _ => None,
        })
        .expect("an update was asked for");
    for command in commands {
        watch.handle.command(command);
    }
    watch
        .wait("the update to end", Duration::from_secs(120), |m| {
            m.runs.get(run).is_some_and(|r| r.end.is_some())
        })
        .await;
    let run = watch.model.runs.get(run).unwrap();
    let lines = run.lines.iter().map(|l| l.text.plain().to_string()).collect();
    (run.end.clone().unwrap(), lines)
}

fn inspect(name: &str, format: &str) -> String {
    docker_ok(&["inspect", "--format", format, name])
}

fn wait_healthy(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while inspect(name, "{{.State.Health.Status}}") != "healthy" {
        assert!(Instant::now() < deadline, "{name} never became healthy");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[tokio::test]
async fn an_update_replaces_a_healthy_container_and_a_broken_one_is_rolled_back() {
    let fx = Fixture::new("update");
    let registry = Registry::start(&fx.name("reg"));
    let repo = format!("127.0.0.1:{}/portolan-upd-{}", registry.port, fx.run.to_lowercase());
    let reference = format!("{repo}:latest");
    let mut images = Images(vec![reference.clone()], fx.label());

    let v1 = push_version(&fx, &reference, "v1", "true");
    images.0.push(v1.clone());
    let name = fx.name("app");
    let label = fx.label();
    docker_ok(&["run", "-d", "--name", &name, "--label", &label, &reference]);
    wait_healthy(&name);
    let old_id = inspect(&name, "{{.Id}}");

    let mut watch = Watch::start().await;
    let id = old_id.clone();
    watch.wait("the container", Duration::from_secs(20), |m| m.containers.contains_key(&id)).await;
    assert!(
        matches!(check(&mut watch, &old_id).await, Verdict::UpToDate { .. }),
        "nothing newer pushed yet"
    );

    let v2 = push_version(&fx, &reference, "v2", "true");
    images.0.push(v2.clone());
    let verdict = check(&mut watch, &old_id).await;
    assert!(verdict.is_available(), "{verdict:?}");
    assert!(verdict.describe().starts_with("update available"), "{}", verdict.describe());

    let (end, lines) = update(&mut watch, &old_id).await;
    assert!(end.ok, "{}: {lines:#?}", end.status);
    assert!(lines.iter().any(|l| l.contains("pulling")), "{lines:#?}");
    assert!(lines.iter().any(|l| l == "healthy"), "{lines:#?}");
    let new_id = inspect(&name, "{{.Id}}");
    assert_ne!(new_id, old_id);
    assert_eq!(inspect(&name, "{{.Image}}"), v2, "runs v2");
    assert_eq!(inspect(&name, "{{.State.Health.Status}}"), "healthy");
    assert!(inspect(&name, "{{json .Config.Env}}").contains("VERSION=v2"));
    assert!(inspect(&name, "{{json .Config.Labels}}").contains(&fx.run), "own label kept");
    let parked = format!("{name}-portolan-old");
    assert!(!docker(&["inspect", &parked]).status.success(), "the old one is removed");
    assert!(!docker(&["inspect", &old_id]).status.success());

    // A broken v3: its healthcheck fails.
    let v3 = push_version(&fx, &reference, "v3", "false");
    images.0.push(v3.clone());
    let id = new_id.clone();
    watch
        .wait("the new container", Duration::from_secs(20), |m| m.containers.contains_key(&id))
        .await;
    assert!(check(&mut watch, &new_id).await.is_available());
    let (end, lines) = update(&mut watch, &new_id).await;
    assert!(!end.ok, "{lines:#?}");
    assert!(end.status.contains("rolled back"), "{}", end.status);
    assert!(lines.iter().any(|l| l.contains("healthy")), "{lines:#?}");
    assert_eq!(inspect(&name, "{{.Id}}"), new_id, "the v2 container is back under its name");
    assert_eq!(inspect(&name, "{{.Image}}"), v2);
    assert_eq!(inspect(&name, "{{.State.Running}}"), "true");
    assert!(!docker(&["inspect", &parked]).status.success(), "nothing left parked");
    let left: Vec<String> = docker_ok(&["ps", "-aq", "--filter", &format!("ancestor={v3}")])
        .split_whitespace()
        .map(String::from)
        .collect();
    assert!(left.is_empty(), "the broken container is gone: {left:?}");
    watch.stop().await;
}

#[tokio::test]
async fn no_registry_reachable_is_said_once_in_words() {
    let fx = Fixture::new("updead");
    let dead = free_port();
    let reference = format!("127.0.0.1:{dead}/portolan-upd-dead-{}:latest", fx.run.to_lowercase());
    let _images = Images(vec![reference.clone()], fx.label());
    docker_ok(&["tag", &fx.image, &reference]);
    let label = fx.label();
    let mut ids = Vec::new();
    for n in ["a", "b"] {
        let name = fx.name(n);
        ids.push(docker_ok(&[
            "run", "-d", "--name", &name, "--label", &label, &reference, "sleep", "3600",
        ]));
    }
    let mut watch = Watch::start().await;
    let targets: Vec<CheckTarget> =
        ids.iter().map(|id| CheckTarget { id: id.clone(), image: reference.clone() }).collect();
    watch.handle.command(EngineCommand::CheckUpdates { host: 0, targets });
    let wanted = ids.clone();
    watch
        .wait("the checks", Duration::from_secs(60), |m| {
            wanted.iter().all(|id| m.image_updates.checks.get(id).is_some_and(|s| s.last.is_some()))
        })
        .await;
    let checks: Vec<_> =
        ids.iter().map(|id| watch.model.image_updates.checks[id].last.clone().unwrap()).collect();
    for check in &checks {
        assert!(
            matches!(&check.verdict, Verdict::Failed(CheckFailure::Unreachable(host)) if host == &format!("127.0.0.1:{dead}")),
            "{:?}",
            check.verdict
        );
    }
    let summary = image_updates::summary(&checks);
    assert_eq!(summary.matches("no registry reachable").count(), 1, "{summary}");
    assert!(summary.contains(&format!("127.0.0.1:{dead}")), "{summary}");
    watch.stop().await;
}

/// A compose v1 project of one service on the registry's image, down on drop.
struct Project {
    name: String,
    dir: PathBuf,
}

impl Project {
    fn compose(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker-compose")
            .args(["-p", &self.name, "-f"])
            .arg(self.dir.join("docker-compose.yml"))
            .args(args)
            .output()
            .expect("docker-compose runs (scripts/setup installs it)")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-v", "-t", "1"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn service_container(project: &str) -> String {
    docker_ok(&[
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "label=com.docker.compose.service=app",
    ])
}

#[tokio::test]
async fn a_compose_service_is_updated_through_compose_and_rolled_back_by_retagging() {
    let fx = Fixture::new("updcompose");
    let registry = Registry::start(&fx.name("reg"));
    let repo = format!("127.0.0.1:{}/portolan-upd-{}", registry.port, fx.run.to_lowercase());
    let reference = format!("{repo}:latest");
    let mut images = Images(vec![reference.clone()], fx.label());
    let v1 = push_version(&fx, &reference, "v1", "true");
    images.0.push(v1);

    let name: String =
        fx.name("p").to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let project = Project { name: name.clone(), dir };
    let file = format!(
        "version: \"2.4\"\nservices:\n  app:\n    image: {reference}\n    labels:\n      \
         {LABEL}: \"{run}\"\nnetworks:\n  default:\n    labels:\n      {LABEL}: \"{run}\"\n",
        run = fx.run
    );
    std::fs::write(project.dir.join("docker-compose.yml"), file).unwrap();
    let up = project.compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let old_id = service_container(&name);
    wait_healthy(&old_id);

    let v2 = push_version(&fx, &reference, "v2", "true");
    images.0.push(v2.clone());
    let mut watch = Watch::start().await;
    let id = old_id.clone();
    watch
        .wait("the service's container", Duration::from_secs(20), |m| {
            m.containers.get(&id).is_some_and(|c| c.compose.is_some())
        })
        .await;
    assert!(check(&mut watch, &old_id).await.is_available());
    let (end, lines) = update(&mut watch, &old_id).await;
    assert!(end.ok, "{}: {lines:#?}", end.status);
    assert!(
        lines.iter().any(|l| l.contains("docker-compose -p") && l.contains("up -d --no-deps app")),
        "{lines:#?}"
    );
    let new_id = service_container(&name);
    assert_ne!(new_id, old_id, "compose re-created it");
    assert_eq!(inspect(&new_id, "{{.Image}}"), v2);
    assert_eq!(inspect(&new_id, "{{.State.Health.Status}}"), "healthy");

    let v3 = push_version(&fx, &reference, "v3", "false");
    images.0.push(v3);
    let id = new_id.clone();
    watch
        .wait("the new container", Duration::from_secs(20), |m| m.containers.contains_key(&id))
        .await;
    assert!(check(&mut watch, &new_id).await.is_available());
    let (end, lines) = update(&mut watch, &new_id).await;
    assert!(!end.ok, "{lines:#?}");
    assert!(end.status.contains("rolled back"), "{}: {lines:#?}", end.status);
    let back = service_container(&name);
    assert_eq!(inspect(&back, "{{.Image}}"), v2, "the service runs v2 again: {lines:#?}");
    assert_eq!(inspect(&back, "{{.State.Running}}"), "true");
    watch.stop().await;
}
