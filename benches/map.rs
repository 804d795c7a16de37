//! Frame cost of the map: `cargo bench --bench map`. Prints the median time of a
//! frame of the 60-container map (and of the three-engine one) that lays out (size changed), of one that does not
//! (a stats tick), and how many times the layout ran across stats ticks: it must not;
//! then the layout of 300 and 1,000 unconnected containers on the default bridge.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use portolan::model::{CpuCounter, RawSample, Update};
use portolan::topology::fixtures::{now, seed};
use portolan::ui::keymap::Keymap;
use portolan::ui::theme::Theme;
use portolan::ui::{App, PaneId, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn tick(app: &mut App, second: i64) {
    let samples = app
        .model
        .containers
        .keys()
        .map(|id| {
            (
                id.clone(),
                RawSample {
                    source: Default::default(),
                    taken_at: now() + chrono::Duration::seconds(second),
                    cpu: Some(CpuCounter::Cgroup {
                        usage_ns: second as u64 * 30_000_000,
                        at_ns: (second as u64 + 100) * 1_000_000_000,
                    }),
                    memory_used: Some((40 + second as u64 % 7) << 20),
                    memory_limit: Some(1 << 30),
                    net_rx: None,
                    net_tx: None,
                    block_read: None,
                    block_write: None,
                    pids: None,
                    oom_kills: None,
                },
            )
        })
        .collect();
    app.apply(Update::Stats(samples));
}

fn main() {
    // `cargo test --all-targets` runs this binary too: there it is a quick smoke run.
    let runs = if std::env::args().any(|a| a == "--bench") { 200 } else { 3 };
    // The 60-container host, and three engines (one lost) drawn as three host boxes.
    let maps = [("60 containers", "many-60"), ("3 engines", "three-hosts")];
    for ((what, fixture), (width, height)) in maps
        .into_iter()
        .flat_map(|m| [(120u16, 40u16), (200, 60)].into_iter().map(move |size| (m, size)))
    {
        let model = match fixture {
            "three-hosts" => portolan::topology::fixtures::three_hosts(),
            name => seed(name).expect("fixture"),
        };
        let mut app = App::new(model, Theme::built_in("dark"), Keymap::default(), now());
        app.pane = PaneId::Map;
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        // Frames that lay out: the size alternates so the cache misses every time.
        let mut sizes = [(width, height), (width - 1, height)].into_iter().cycle();
        let with_layout: Vec<Duration> = (0..runs)
            .map(|_| {
                let (w, h) = sizes.next().unwrap();
                terminal.resize(ratatui::layout::Rect::new(0, 0, w, h)).unwrap();
                let started = Instant::now();
                terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                started.elapsed()
            })
            .collect();
        terminal.resize(ratatui::layout::Rect::new(0, 0, width, height)).unwrap();
        terminal.draw(|frame| draw(frame, &mut app)).unwrap();
        let layouts_before = app.panes.map.layout_runs;
        let stats_only: Vec<Duration> = (0..runs)
            .map(|i| {
                tick(&mut app, i as i64 + 1);
                let started = Instant::now();
                terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                started.elapsed()
            })
            .collect();
        let layouts = app.panes.map.layout_runs - layouts_before;
        println!(
            "map, {what}, {width}x{height}: {:>7.3} ms per frame with layout, {:>7.3} ms per stats-only frame (medians of {runs}); layout runs during {runs} stats ticks: {layouts}",
            median(with_layout).as_secs_f64() * 1e3,
            median(stats_only).as_secs_f64() * 1e3,
        );
        assert_eq!(layouts, 0, "a stats tick must not re-run the layout");
    }
    // Hundreds of unconnected containers on the default bridge: the grid, and at a
    // thousand the clusters. The layout alone (what a structural change or a resize
    // costs), then a whole frame that lays out.
    // The worst case last: a thousand names that share no prefix, so nothing folds.
    let unique: Vec<String> = (0..1000).map(|i| format!("s{i}x")).collect();
    let unique: Vec<(&str, usize)> = unique.iter().map(|p| (p.as_str(), 1)).collect();
    for (n, families) in [(300usize, vec![("c", 300)]), (1000, vec![("c", 1000)]), (1000, unique)] {
        let model = portolan::topology::fixtures::default_bridge(&families);
        let graph = portolan::topology::derive(&model, &portolan::topology::Filter::default());
        let none = std::collections::BTreeSet::new();
        for (width, height) in [(120u16, 40u16), (200, 60)] {
            let auto = portolan::topology::layout::Detail::Auto;
            let layouts: Vec<Duration> = (0..runs.max(3))
                .map(|_| {
                    let started = Instant::now();
                    let l = portolan::topology::layout::layout(&graph, width, height, auto, &none);
                    std::hint::black_box(&l);
                    started.elapsed()
                })
                .collect();
            let l = portolan::topology::layout::layout(&graph, width, height, auto, &none);
            assert!(l.width <= width, "{n} containers: {} columns at {width}", l.width);
            let mut app =
                App::new(model.clone(), Theme::built_in("dark"), Keymap::default(), now());
            app.pane = PaneId::Map;
            let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
            let mut sizes = [(width, height), (width - 1, height)].into_iter().cycle();
            let frames: Vec<Duration> = (0..runs.max(3))
                .map(|_| {
                    let (w, h) = sizes.next().unwrap();
                    terminal.resize(ratatui::layout::Rect::new(0, 0, w, h)).unwrap();
                    let started = Instant::now();
                    terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                    started.elapsed()
                })
                .collect();
            println!(
                "map, {n} unconnected containers ({} families), {width}x{height}: {:>7.3} ms per layout, {:>7.3} ms per frame with layout ({}x{} map, {} clusters)",
                families.len(),
                median(layouts).as_secs_f64() * 1e3,
                median(frames).as_secs_f64() * 1e3,
                l.width,
                l.height,
                l.clusters.len(),
            );
        }
    }
    // The routes table (labels, rules, nginx files joined to containers): built once
    // per change of the containers, never per frame; what one build costs.
    for name in portolan::topology::fixtures::SEEDS.iter().chain(&["many-60"]) {
        let mut model = seed(name).expect("fixture");
        // Seed 002's proxy with the demo's real nginx.conf, as the engine reads it.
        for c in model.containers.values_mut() {
            if portolan::routes::detect::proxy_kind(c)
                == Some(portolan::routes::detect::ProxyKind::Nginx)
            {
                let mut config = portolan::model::ProxyConfig::default();
                config.files.insert(
                    "/etc/nginx/nginx.conf".into(),
                    portolan::demo::stacks::NGINX_CONF.to_string(),
                );
                c.proxy_config = Some(std::sync::Arc::new(config));
            }
        }
        let builds: Vec<Duration> = (0..runs.max(3))
            .map(|_| {
                let started = Instant::now();
                let table = portolan::routes::table::RouteTable::build(&model);
                std::hint::black_box(&table);
                started.elapsed()
            })
            .collect();
        let routes = portolan::routes::table::RouteTable::build(&model).routes.len();
        println!(
            "routes table, {name} ({} containers, {routes} routes): {:>7.3} ms per build",
            model.containers.len(),
            median(builds).as_secs_f64() * 1e3,
        );
    }
}
