//! Compose commands on the real engine: a compose v1 project (Debian's
//! `docker-compose`) whose one service is re-created through portolan's own actions
//! menu after an edit of its compose file, its output streamed into the model.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use portolan::engine::EngineCommand;
use portolan::model::compose_runs::LineKind;
use portolan::ui::keymap::{Action, Keymap};
use portolan::ui::overlay::{MenuExtra, Overlay};
use portolan::ui::theme::Theme;
use portolan::ui::{App, PaneId};
use support::{Fixture, LABEL, Watch, docker_ok};

/// A compose project of the test's own, brought down with its volumes on drop.
struct Project {
    name: String,
    dir: PathBuf,
    file: PathBuf,
}

impl Project {
    fn compose(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker-compose")
            .args(["-p", &self.name, "-f"])
            .arg(&self.file)
            .args(args)
            .output()
            .expect("docker-compose runs (scripts/setup installs it)")
    }

    fn write(&self, image: &str, label: &str, greeting: &str) {
        let text = format!(
            r#"version: "2.4"
services:
  web:
    image: {image}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    environment:
      GREETING: "{greeting}"
    labels:
      {LABEL}: "{label}"
  db:
    image: {image}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    labels:
      {LABEL}: "{label}"
networks:
  default:
    labels:
      {LABEL}: "{label}"
"#
        );
        std::fs::write(&self.file, text).unwrap();
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-v", "-t", "1"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn container_id(project: &str, service: &str) -> String {
    docker_ok(&[
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
    ])
}

#[tokio::test]
async fn a_service_is_re_created_after_an_edit_and_its_output_streams() {
    let fx = Fixture::new("compose");
    let name: String =
        fx.name("p").to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let project = Project { name: name.clone(), file: dir.join("docker-compose.yml"), dir };
    project.write(&fx.image, &fx.run, "one");
    let up = project.compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let web_before = container_id(&name, "web");
    let db_before = container_id(&name, "db");
    assert!(!web_before.is_empty() && !db_before.is_empty());

    let mut watch = Watch::start().await;
    let web = web_before.clone();
    watch
        .wait("the web service with its compose labels", Duration::from_secs(20), |m| {
            m.containers
                .get(&web)
                .and_then(|c| c.compose.as_ref())
                .is_some_and(|i| i.working_dir.is_some() && !i.config_files.is_empty())
        })
        .await;

    // The edit the developer made.
    project.write(&fx.image, &fx.run, "two");

    let mut app = App::new(
        watch.model.clone(),
        Theme::built_in("dark"),
        Keymap::default(),
        chrono::Utc::now(),
    );
    app.pane = PaneId::Containers;
    app.sync();
    app.panes.get_mut(PaneId::Containers).select_container(&web_before);

    // Read-only refuses.
    app.read_only = true;
    app.act(Action::Actions);
    assert!(app.overlay.is_none());
    assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("read-only")));
    app.read_only = false;

    app.act(Action::Actions);
    let Some(Overlay::Actions { extras, .. }) = &app.overlay else {
        panic!("the actions menu opens: {:?}", app.notice)
    };
    assert!(
        extras.contains(&MenuExtra::Compose(portolan::model::compose_runs::ComposeVerb::Recreate))
    );
    app.overlay_key(&key('C'));
    let Some(Overlay::Ask { question, .. }) = &app.overlay else {
        panic!("re-create asks first: {:?}", app.overlay)
    };
    assert!(question.contains("service web") && question.contains(&name), "{question}");
    app.overlay_key(&key('y'));
    assert_eq!(app.pane, PaneId::Compose, "the pane with the output is shown");
    let commands: Vec<EngineCommand> = std::mem::take(&mut app.pending);
    let run = commands
        .iter()
        .find_map(|c| match c {
            EngineCommand::Compose { request, .. } => Some(request.run),
            _ => None,
        })
        .expect("a compose command was asked for");
    for command in commands {
        watch.handle.command(command);
    }

    watch
        .wait("the re-create to end", Duration::from_secs(60), |m| {
            m.runs.get(run).is_some_and(|r| r.end.is_some())
        })
        .await;
    let finished = watch.model.runs.get(run).unwrap().clone();
    let command = finished.command.clone().unwrap_or_default();
    let end = finished.end.clone().unwrap();
    let output: Vec<String> = finished
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Output)
        .map(|l| l.text.plain().to_string())
        .collect();
    assert!(end.ok, "{}: {output:?}", end.status);
    assert_eq!(end.status, "exit status 0");
    assert!(
        command.contains("docker-compose -p") && command.contains("--force-recreate web"),
        "{command}"
    );
    assert!(
        output.iter().any(|l| l.contains("Recreating") && l.contains("web")),
        "the output streamed: {output:?}"
    );

    let web_after = container_id(&name, "web");
    assert_ne!(web_after, web_before, "web was re-created");
    assert_eq!(container_id(&name, "db"), db_before, "db was left alone");
    let env = docker_ok(&["inspect", "--format", "{{json .Config.Env}}", &web_after]);
    assert!(env.contains("GREETING=two"), "{env}");

    // A project whose files are not on this machine is refused in words, not run.
    let mut elsewhere = portolan::model::compose_runs::ComposeTarget::of(
        watch.model.containers.get(&db_before).unwrap(),
        false,
    )
    .unwrap();
    elsewhere.working_dir = Some("/srv/on-another-machine".into());
    let refused = watch.model.runs.reserve();
    let request = portolan::engine::compose_cli::ComposeRequest {
        run: refused,
        verb: portolan::model::compose_runs::ComposeVerb::Up,
        target: elsewhere,
    };
    watch.handle.command(EngineCommand::Compose { host: 0, request });
    watch
        .wait("the refusal", Duration::from_secs(20), |m| {
            m.runs.get(refused).is_some_and(|r| r.end.is_some())
        })
        .await;
    let end = watch.model.runs.get(refused).unwrap().end.clone().unwrap();
    assert!(!end.ok);
    assert!(
        end.status.starts_with("refused: the directory of service db of project")
            && end.status.contains("/srv/on-another-machine, is not on this machine"),
        "{}",
        end.status
    );
    assert_eq!(container_id(&name, "db"), db_before, "nothing ran");

    // The pane shows it.
    app.model = watch.model.clone();
    app.panes.compose.follow_latest();
    app.act(Action::Down);
    let text = portolan::ui::buffer_to_text(&portolan::ui::render_buffer(&mut app, 120, 40));
    assert!(text.contains("exit status 0") && text.contains("Recreating"), "{text}");
    watch.stop().await;
}
