//! Frame cost of the UI: `cargo bench --bench render`. Prints the median time to
//! render a whole frame with N containers at a given size, and to fold a tick of
//! stats samples into the model.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use portolan::model::{
    ComposeInfo, Container, ContainerState, CpuCounter, Health, HealthProbe, HealthStatus,
    Healthcheck, Inventory, Model, NetworkAttachment, RawSample, Update,
};
use portolan::ui::keymap::Keymap;
use portolan::ui::theme::Theme;
use portolan::ui::{App, PaneId, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn model(containers: usize) -> Model {
    model_with(containers, false)
}

/// `containers` containers; with `healthchecks`, each has a healthcheck and three
/// probes in its log, and every tenth is unhealthy.
fn model_with(containers: usize, healthchecks: bool) -> Model {
    let now = Utc.timestamp_opt(1_750_000_000, 0).single().unwrap();
    let mut model = Model::new("unix:///var/run/docker.sock", now);
    let list = (0..containers)
        .map(|i| {
            let mut c = Container::new(format!("{i:064x}"), format!("proj{}-svc{i}-1", i % 5));
            c.image = "registry.example.com/team/service:1.2.3".into();
            c.state = ContainerState::Running;
            c.started_at = Some(now - chrono::Duration::minutes(i as i64));
            c.compose = Some(ComposeInfo {
                project: format!("proj{}", i % 5),
                service: format!("svc{i}"),
                container_number: Some(1),
                ..ComposeInfo::default()
            });
            c.networks.push(NetworkAttachment {
                name: "net".into(),
                ip: Some("172.18.0.2".into()),
                aliases: vec![],
            });
            if healthchecks {
                c.healthcheck = Some(Healthcheck {
                    test: vec!["CMD-SHELL".into(), "curl -fsS localhost/health".into()],
                    ..Healthcheck::default()
                });
                let passes = i % 10 != 0;
                let log = (0..3)
                    .map(|n| HealthProbe {
                        start: Some(now - chrono::Duration::seconds(30 * (3 - n))),
                        end: Some(now - chrono::Duration::seconds(30 * (3 - n) - 1)),
                        exit_code: Some(if passes { 0 } else { 1 }),
                        output: if passes { "ok".into() } else { "connection refused".into() },
                    })
                    .collect();
                let status = if passes { HealthStatus::Healthy } else { HealthStatus::Unhealthy };
                let failing_streak = if passes { 0 } else { 3 };
                c.health = Some(Health { status, failing_streak, log });
            }
            c
        })
        .collect();
    model.apply(Update::Synced(Box::new(Inventory { containers: list, ..Inventory::default() })));
    for tick in 0..2u64 {
        let samples = model.containers.keys().map(|id| (id.clone(), sample(tick))).collect();
        model.apply(Update::Stats(samples));
    }
    model
}

fn sample(tick: u64) -> RawSample {
    RawSample {
        source: Default::default(),
        taken_at: Utc.timestamp_opt(1_750_000_000 + tick as i64, 0).single().unwrap(),
        cpu: Some(CpuCounter::Cgroup { usage_ns: tick * 10_000_000, at_ns: tick * 1_000_000_000 }),
        memory_used: Some(50 << 20),
        memory_limit: Some(1 << 30),
        net_rx: Some(tick * 1000),
        net_tx: Some(tick * 100),
        block_read: Some(0),
        block_write: Some(0),
        pids: Some(3),
        oom_kills: None,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo test --all-targets` runs this binary too: there it is a quick smoke run.
    let runs_per_case = if std::env::args().any(|a| a == "--bench") { 300 } else { 3 };
    let cases = [
        (PaneId::Containers, 50, 120, 40),
        (PaneId::Containers, 200, 120, 40),
        (PaneId::Containers, 50, 80, 24),
        (PaneId::Containers, 200, 200, 60),
        (PaneId::Stats, 200, 120, 40),
        (PaneId::Stats, 200, 200, 60),
        (PaneId::Triage, 200, 120, 40),
        (PaneId::Resources, 200, 120, 40),
        (PaneId::Health, 200, 120, 40),
        (PaneId::Timeline, 200, 120, 40),
        // A thousand containers: a frame must cost what is on screen, not what is off.
        (PaneId::Triage, 1000, 120, 40),
        (PaneId::Map, 1000, 120, 40),
        (PaneId::Containers, 1000, 120, 40),
        (PaneId::Stats, 1000, 120, 40),
        (PaneId::Resources, 1000, 120, 40),
        (PaneId::Health, 1000, 120, 40),
        (PaneId::Timeline, 1000, 120, 40),
        (PaneId::Logs, 1000, 120, 40),
        (PaneId::Routes, 1000, 120, 40),
        (PaneId::Audit, 1000, 120, 40),
    ];
    for (pane, containers, width, height) in cases {
        let mut app =
            App::new(model(containers), Theme::built_in("dark"), Keymap::default(), Utc::now());
        app.pane = pane;
        app.set_project(None);
        // One terminal per case, as in the UI: a frame is a render plus a diff.
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let runs: Vec<Duration> = (0..runs_per_case)
            .map(|_| {
                let started = Instant::now();
                terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                started.elapsed()
            })
            .collect();
        println!(
            "{:<10} pane, {containers:>4} containers, {width}x{height}: {:>7.3} ms per frame (median of {runs_per_case})",
            pane.name(),
            median(runs).as_secs_f64() * 1e3
        );
    }
    // Every container health-checked: the Health pane has a card for each.
    for containers in [200, 1000] {
        let mut app = App::new(
            model_with(containers, true),
            Theme::built_in("dark"),
            Keymap::default(),
            Utc::now(),
        );
        app.pane = PaneId::Health;
        app.set_project(None);
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let runs: Vec<Duration> = (0..runs_per_case)
            .map(|_| {
                let started = Instant::now();
                terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                started.elapsed()
            })
            .collect();
        println!(
            "health     pane, {containers:>4} containers, all health-checked, 120x40: {:>7.3} ms per frame (median of {runs_per_case})",
            median(runs).as_secs_f64() * 1e3
        );
    }
    // A frame right after a stats tick does the per-change work too (sorting by CPU,
    // summing the project's charts): what a busy host costs once a second.
    for (pane, containers) in
        [(PaneId::Stats, 200), (PaneId::Stats, 1000), (PaneId::Resources, 1000)]
    {
        let mut app =
            App::new(model(containers), Theme::built_in("dark"), Keymap::default(), Utc::now());
        app.pane = pane;
        app.set_project(None);
        let ids: Vec<String> = app.model.containers.keys().cloned().collect();
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let runs: Vec<Duration> = (2..2 + runs_per_case as u64)
            .map(|tick| {
                app.apply(Update::Stats(ids.iter().map(|id| (id.clone(), sample(tick))).collect()));
                let started = Instant::now();
                terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                started.elapsed()
            })
            .collect();
        println!(
            "{:<10} pane, {containers:>4} containers, 120x40, first frame after a stats tick: {:>7.3} ms (median of {runs_per_case})",
            pane.name(),
            median(runs).as_secs_f64() * 1e3
        );
    }
    // The app folds a tick in and then keeps what it derives (triage's problem count
    // for the tab bar) up to date: the cost of a tick when nothing but stats moved.
    let mut app = App::new(model(200), Theme::built_in("dark"), Keymap::default(), Utc::now());
    let ids: Vec<String> = app.model.containers.keys().cloned().collect();
    let runs: Vec<Duration> = (2..2 + runs_per_case as u64)
        .map(|tick| {
            let samples = ids.iter().map(|id| (id.clone(), sample(tick))).collect();
            let started = Instant::now();
            app.apply(Update::Stats(samples));
            started.elapsed()
        })
        .collect();
    println!(
        "app: one stats tick of 200 containers: {:>7.3} ms (median of {runs_per_case})",
        median(runs).as_secs_f64() * 1e3
    );
    let mut model = model(200);
    let runs: Vec<Duration> = (2..2 + runs_per_case as u64)
        .map(|tick| {
            let samples = ids.iter().map(|id| (id.clone(), sample(tick))).collect();
            let started = Instant::now();
            model.apply(Update::Stats(samples));
            started.elapsed()
        })
        .collect();
    println!(
        "model: one stats tick of 200 containers: {:>7.3} ms (median of {runs_per_case})",
        median(runs).as_secs_f64() * 1e3
    );
}
