//! Two engines watched at once, on real daemons: the shared engine and a private
//! second dockerd in its own network namespace. The second is stopped and started
//! again mid-test; the first must stay live meanwhile, and the second must come back
//! on its own.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use portolan::engine::fleet::{Fleet, Member};
use portolan::engine::logs::LogRequest;
use portolan::engine::{EngineCommand, EngineOptions, Start};
use portolan::model::logs::LogTarget;
use portolan::model::{Connection, ContainerState, Host, Model};
use portolan::snapshot::json::{JsonOptions, document};
use portolan::ui::keymap::Keymap;
use portolan::ui::theme::Theme;
use portolan::ui::{self, App, PaneId};
use support::Fixture;
use support::second_engine::SecondEngine;

const SLOW: Duration = Duration::from_secs(60);

/// A fleet and the model it feeds.
struct Watch {
    fleet: Fleet,
    model: Model,
}

impl Watch {
    async fn wait(&mut self, what: &str, timeout: Duration, done: impl Fn(&Model) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.model) {
            match tokio::time::timeout_at(deadline, self.fleet.updates.recv()).await {
                Ok(Some((host, update))) => {
                    self.model.apply_from(host, update);
                }
                Ok(None) => panic!("the fleet stopped while waiting for {what}"),
                Err(_) => panic!("timed out after {timeout:?} waiting for {what}"),
            }
        }
    }
}

fn find<'a>(model: &'a Model, name: &str) -> Option<&'a portolan::model::Container> {
    model.containers.values().find(|c| c.name == name)
}

/// The map alone, as `snapshot --pane map` prints it.
fn map(model: &Model) -> String {
    let mut app =
        App::new(model.clone(), Theme::built_in("mono"), Keymap::default(), chrono::Utc::now());
    app.pane = PaneId::Map;
    ui::buffer_to_text(&ui::render_map_buffer(&mut app, 200, 60))
}

fn screen(model: &Model, pane: PaneId) -> String {
    let mut app =
        App::new(model.clone(), Theme::built_in("mono"), Keymap::default(), chrono::Utc::now());
    app.pane = pane;
    ui::buffer_to_text(&ui::render_buffer(&mut app, 120, 40))
}

#[tokio::test(flavor = "current_thread")]
async fn two_engines_side_by_side_and_one_dies_and_returns() {
    let Some(mut second) = SecondEngine::start("multi_host") else { return };
    let fixture = Fixture::new("multi");
    let image = support::test_image();
    let here = fixture.name("here");
    fixture.run("here", &[], &["sleep", "600"]);
    let there = fixture.name("there");
    // The second engine has no default bridge (it runs without one), and its
    // container must come back by itself when its daemon does.
    second.docker_ok(&[
        "run",
        "-d",
        "--name",
        &there,
        "--network",
        "none",
        "--restart",
        "always",
        "--label",
        &fixture.label(),
        &image,
        "sleep",
        "600",
    ]);

    let main = support::endpoint();
    let now = chrono::Utc::now();
    let model = Model::with_hosts(
        vec![
            Host::new("main", main.to_string(), now),
            Host::new("second", second.endpoint().to_string(), now),
        ],
        now,
    );
    let options = EngineOptions { read_compose_files: false, ..EngineOptions::default() };
    let members = vec![
        Member { endpoint: main, start: Start::Connect },
        Member { endpoint: second.endpoint(), start: Start::Connect },
    ];
    let mut watch = Watch { fleet: Fleet::spawn(members, &options), model };

    watch
        .wait("both engines and their containers", SLOW, |m| {
            m.hosts.iter().all(|h| h.connection.is_connected())
                && find(m, &here).is_some_and(|c| c.state.is_running())
                && find(m, &there).is_some_and(|c| c.state.is_running())
        })
        .await;
    assert_eq!(find(&watch.model, &here).unwrap().host, 0);
    assert_eq!(find(&watch.model, &there).unwrap().host, 1);
    assert!(watch.model.hosts[1].engine.version.is_some(), "the second engine's version");
    // Each engine's networks stay its own: the second has `none` and `host` too.
    assert!(watch.model.network(1, "none").is_some());
    assert!(watch.model.network(0, "none").is_some());

    let json =
        serde_json::to_value(document(&watch.model, chrono::Utc::now(), &JsonOptions::default()))
            .unwrap();
    let hosts = json["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["name"], "main");
    assert_eq!(hosts[1]["name"], "second");
    assert_eq!(hosts[1]["connected"], true);
    assert!(hosts[1]["version"].is_string());
    assert_eq!(hosts[1]["endpoint"], second.host());
    let host_of = |name: &str| {
        json["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["host"].clone())
    };
    assert_eq!(host_of(&here), Some("main".into()));
    assert_eq!(host_of(&there), Some("second".into()));
    let text = screen(&watch.model, PaneId::Containers);
    let drawn = map(&watch.model);
    assert!(drawn.contains("─ main ·") && drawn.contains("─ second ·"), "a host box each: {drawn}");
    assert!(text.contains("main") && text.contains("second"), "{text}");

    // One name on both engines: the logs of the one picked come from its engine only.
    let twin = fixture.name("twin");
    fixture.run("twin", &[], &["sh", "-c", "echo from-main; sleep 600"]);
    second.docker_ok(&[
        "run",
        "-d",
        "--name",
        &twin,
        "--network",
        "none",
        "--label",
        &fixture.label(),
        &image,
        "sh",
        "-c",
        "echo from-second; sleep 600",
    ]);
    watch
        .wait("the twin on both engines", SLOW, |m| {
            m.containers.values().filter(|c| c.name == twin && c.state.is_running()).count() == 2
        })
        .await;
    let request = |hosts: Option<std::collections::BTreeSet<usize>>| {
        EngineCommand::FollowLogs(Some(LogRequest {
            target: LogTarget::Names([twin.clone()].into()),
            tail: 100,
            since: None,
            hosts,
        }))
    };
    let lines =
        |m: &Model| -> Vec<String> { m.logs.merged(None).map(|l| l.plain().to_string()).collect() };
    watch.fleet.command(request(Some([1].into())));
    watch
        .wait("the second engine's twin's line", SLOW, |m| {
            lines(m).iter().any(|l| l == "from-second")
        })
        .await;
    // Give a stray stream from the first engine a moment to show itself.
    let settle = tokio::time::Instant::now() + Duration::from_millis(800);
    while let Ok(Some((host, update))) =
        tokio::time::timeout_at(settle, watch.fleet.updates.recv()).await
    {
        watch.model.apply_from(host, update);
    }
    assert!(!lines(&watch.model).iter().any(|l| l == "from-main"), "only the picked engine's twin");
    watch.fleet.command(request(None));
    watch.wait("both twins' lines", SLOW, |m| lines(m).iter().any(|l| l == "from-main")).await;
    watch.fleet.command(EngineCommand::FollowLogs(None));

    // The second engine goes away: it is shown as lost, its containers as last known.
    second.stop_daemon();
    watch
        .wait("the second engine to be reported lost", SLOW, |m| {
            matches!(m.hosts[1].connection, Connection::Disconnected { .. })
        })
        .await;
    assert!(watch.model.hosts[0].connection.is_connected(), "the first engine stays connected");
    assert!(
        find(&watch.model, &there).is_some(),
        "the lost engine's containers stay, as last known"
    );
    let text = screen(&watch.model, PaneId::Containers);
    let drawn = map(&watch.model);
    assert!(drawn.contains("second · ✖ unreachable since"), "{drawn}");
    assert!(drawn.contains("last known state, not live"), "{drawn}");
    assert!(text.contains("second DOWN") && text.contains("Lost second"), "{text}");
    let json =
        serde_json::to_value(document(&watch.model, chrono::Utc::now(), &JsonOptions::default()))
            .unwrap();
    assert_eq!(json["hosts"][1]["connected"], false);
    assert!(json["hosts"][1]["reason"].is_string(), "{}", json["hosts"][1]);

    // The first engine keeps working meanwhile: a new container there is seen.
    let later = fixture.name("later");
    fixture.run("later", &[], &["sleep", "600"]);
    watch
        .wait("a container started on the first engine while the second is down", SLOW, |m| {
            find(m, &later).is_some_and(|c| c.state.is_running() && c.host == 0)
        })
        .await;

    // The second engine returns: portolan reconnects by itself and resyncs.
    second.restart_daemon();
    watch
        .wait("the second engine back, its container running again", SLOW, |m| {
            m.hosts[1].connection.is_connected()
                && find(m, &there)
                    .is_some_and(|c| c.state == ContainerState::Running && c.host == 1)
        })
        .await;
    assert!(
        find(&watch.model, &later).is_some_and(|c| c.host == 0),
        "the resync of one engine keeps the other's"
    );
    let text = screen(&watch.model, PaneId::Containers);
    assert!(!text.contains("DOWN"), "{text}");
    watch.fleet.stop().await;
}
