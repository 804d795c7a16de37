//! Buffer snapshots of the map for every seed stack at 80x24, 120x40 and 200x60, in
//! the dark and mono themes, with the clock and version pinned; plus the map's
//! interaction (spatial selection, filter, detail level, Enter) and its cache.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use portolan::model::Model;
use portolan::model::{RawSample, Update};
use portolan::topology::fixtures::{SEEDS, now, seed, three_hosts};
use portolan::ui::keymap::{Action, Keymap};
use portolan::ui::pane::Pane;
use portolan::ui::theme::{Slot, Theme};
use portolan::ui::{App, PaneId, buffer_to_text, render_buffer, render_map_buffer};
use ratatui::buffer::Buffer;

fn app(name: &str, theme: &str) -> App {
    app_of(seed(name).expect("fixture"), theme)
}

fn app_of(model: Model, theme: &str) -> App {
    let mut app = App::new(model, Theme::built_in(theme), Keymap::default(), now());
    app.version = "0.0.0-test";
    app.offset = chrono::FixedOffset::east_opt(0).expect("UTC");
    app.pane = PaneId::Map;
    app.set_project(None);
    app
}

/// The text with a second layer naming which cells are styled as what, so a colour
/// regression shows in the snapshot too: one letter per cell for the map's slots.
fn styled(buffer: &Buffer, theme: &Theme) -> String {
    let slots = [
        (Slot::Selection, 'S'),
        (Slot::MapEdgeBroken, 'B'),
        (Slot::MapEdgeIngress, 'I'),
        (Slot::MapEdgeDependsOn, 'D'),
        (Slot::MapEdgeConnection, 'C'),
    ];
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            let style = buffer[(x, y)].style();
            let mark = slots
                .iter()
                .find(|(slot, _)| {
                    let want = theme.style(*slot);
                    want != ratatui::style::Style::default()
                        && style.fg == want.fg
                        && style.bg == want.bg
                        && style.add_modifier == want.add_modifier
                })
                .map_or(' ', |(_, c)| *c);
            line.push(mark);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The map alone at `size`, as text; in the dark theme with its styles too.
fn assert_map_snapshot(app: &mut App, (w, h): (u16, u16), theme: &str, name: &str) {
    let buffer = render_map_buffer(app, w, h);
    let text = buffer_to_text(&buffer);
    assert!(!text.contains('\u{1b}'));
    let snapshot = if theme == "dark" {
        format!("{text}\n---- styles ----\n{}", styled(&buffer, &app.theme))
    } else {
        text
    };
    insta::assert_snapshot!(name.to_string(), snapshot);
}

#[test]
fn every_seed_at_three_sizes_dark_and_mono() {
    for name in SEEDS.iter().chain(["many-60"].iter()) {
        for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
            for theme in ["dark", "mono"] {
                let mut app = app(name, theme);
                assert_map_snapshot(&mut app, (w, h), theme, &format!("{name}_{w}x{h}_{theme}"));
            }
        }
    }
}

#[test]
fn the_map_tab_inside_the_whole_ui() {
    let mut app = app(SEEDS[0], "dark");
    let text = buffer_to_text(&render_buffer(&mut app, 120, 40));
    insta::assert_snapshot!(text);
}

#[test]
fn seed_000_shows_what_its_diagram_shows() {
    let mut app = app(SEEDS[0], "dark");
    let text = buffer_to_text(&render_map_buffer(&mut app, 120, 40));
    for needle in [
        "nestjs-network · bridge · 172.18.0.0/16",
        " app ",
        " postgres ",
        " redis ",
        "~node:20-alpine",
        "~postgres:16",
        "127.0.0.1:3001→3001",
        "port 5432",
        "user nestjs",
        "✓ healthy",
        "HTTP :3001 ►",
        "postgresql :5432",
        "redis :6379",
        "postgres_data",
        "redis_data",
        "▼",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    assert!(!text.contains("s3cr3t") && !text.contains("redis-pw"));
}

#[test]
fn a_stats_tick_does_not_rerun_the_layout() {
    let mut app = app(SEEDS[3], "dark");
    let _ = render_map_buffer(&mut app, 120, 40);
    let runs = app.panes.map.layout_runs;
    let ids: Vec<String> = app.model.containers.keys().cloned().collect();
    for tick in 1..5 {
        let samples = ids
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    RawSample {
                        source: Default::default(),
                        taken_at: now() + chrono::Duration::seconds(tick),
                        cpu: None,
                        memory_used: Some(tick as u64 * 1_000_000),
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
        let _ = render_map_buffer(&mut app, 120, 40);
    }
    assert_eq!(app.panes.map.layout_runs, runs, "stats must not re-run the layout");
    // A size change does.
    let _ = render_map_buffer(&mut app, 200, 60);
    assert_eq!(app.panes.map.layout_runs, runs + 1);
}

#[test]
fn hjkl_moves_between_boxes_and_enter_opens_the_detail() {
    let mut app = app(SEEDS[3], "dark");
    let _ = render_map_buffer(&mut app, 200, 60);
    let name = |app: &App| {
        let id = app.panes.map.selected_container().expect("a selection").to_string();
        app.model.containers[&id].name.clone()
    };
    let start = name(&app);
    assert!(app.act(Action::Down));
    let below = name(&app);
    assert_ne!(start, below);
    app.act(Action::Up);
    assert_eq!(name(&app), start, "up undoes down");
    app.act(Action::Right);
    app.act(Action::Left);
    // The selection survives a structural update.
    let selected = app.panes.map.selected_container().map(String::from);
    let other = app.model.containers.values().find(|c| Some(&c.id) != selected.as_ref()).cloned();
    let mut other = other.expect("another container");
    other.restart_count += 1;
    app.apply(Update::ContainerChanged(Box::new(other)));
    let _ = render_map_buffer(&mut app, 200, 60);
    assert_eq!(app.panes.map.selected_container().map(String::from), selected);
    app.act(Action::ToggleDetail);
    assert_eq!(app.pane, PaneId::Containers);
    assert!(app.panes.containers.detail_full);
    assert_eq!(app.panes.containers.selected_id().map(String::from), selected);
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn slash_filters_and_keys_go_to_the_filter_while_it_is_open() {
    let mut app = app(SEEDS[3], "dark");
    app.act(Action::Search);
    assert!(app.text_input_active());
    for c in "elastic".chars() {
        app.text_input(&key(KeyCode::Char(c)));
    }
    // `q` is text here, not quit.
    app.text_input(&key(KeyCode::Char('q')));
    app.text_input(&key(KeyCode::Backspace));
    assert!(!app.quit);
    let text = buffer_to_text(&render_map_buffer(&mut app, 120, 40));
    assert!(text.contains("filter /elastic▏"), "{text}");
    assert!(text.contains(" elasticsearch ") && !text.contains(" redis "), "{text}");
    app.text_input(&key(KeyCode::Enter));
    assert!(!app.text_input_active());
    assert_eq!(app.panes.map.filter, "elastic");
    app.act(Action::Search);
    app.text_input(&key(KeyCode::Esc));
    assert!(app.panes.map.filter.is_empty());
}

#[test]
fn z_cycles_detail_and_enter_expands_a_collapsed_network() {
    let mut app = app("many-60", "dark");
    let _ = render_map_buffer(&mut app, 120, 40);
    let collapsed = app.panes.map.layout().expect("laid out").collapsed.len();
    assert!(collapsed > 0);
    // Walk to a summary box and open it.
    let mut opened = false;
    for _ in 0..20 {
        if app.panes.map.selected_container().is_none() {
            app.act(Action::ToggleDetail);
            let _ = render_map_buffer(&mut app, 120, 40);
            opened = true;
            break;
        }
        app.act(Action::Down);
        let _ = render_map_buffer(&mut app, 120, 40);
    }
    assert!(opened, "reached a summary box");
    assert_eq!(app.pane, PaneId::Map);
    app.act(Action::DetailLevel);
    let _ = render_map_buffer(&mut app, 120, 40);
    assert!(app.panes.map.layout().expect("laid out").compact);
    app.act(Action::DetailLevel);
    let _ = render_map_buffer(&mut app, 120, 40);
    let layout = app.panes.map.layout().expect("laid out");
    assert!(!layout.compact && layout.collapsed.is_empty() && !layout.fits, "full: pans");
}

#[test]
fn three_engines_at_three_sizes_dark_and_mono() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
        for theme in ["dark", "mono"] {
            let mut app = app_of(three_hosts(), theme);
            assert_map_snapshot(&mut app, (w, h), theme, &format!("three-hosts_{w}x{h}_{theme}"));
        }
    }
}

#[test]
fn a_disconnected_engine_says_it_is_unreachable_and_not_live() {
    let mut app = app_of(three_hosts(), "mono");
    let text = buffer_to_text(&render_map_buffer(&mut app, 200, 60));
    let title = text
        .lines()
        .find(|l| l.contains(" edge "))
        .unwrap_or_else(|| panic!("no box titled edge:\n{text}"));
    assert!(title.contains("unreachable since 15:05:40"), "{title}");
    assert!(title.contains("connection refused"), "{title}");
    assert!(text.contains("last known state, not live"), "{text}");
    for name in [" local ", " db2 ", "harbour", "db2.example.net"] {
        assert!(text.contains(name), "missing {name:?}:\n{text}");
    }
}

#[test]
fn a_lost_engines_containers_are_dimmed_and_live_ones_are_not() {
    let mut app = app_of(three_hosts(), "dark");
    let buffer = render_map_buffer(&mut app, 200, 60);
    let layout = app.panes.map.layout().expect("laid out").clone();
    let graph = app.panes.map.graph().expect("derived").clone();
    assert_eq!(layout.hosts.len(), 3);
    for b in &layout.boxes {
        let portolan::topology::layout::Target::Node(n) = b.target else { continue };
        let (x, y) = (b.rect.x + 2, b.rect.y + 1);
        let dim = buffer[(x, y)].style().add_modifier.contains(ratatui::style::Modifier::DIM);
        let lost = !app.model.host(graph.nodes[n].host).connection.is_connected();
        assert_eq!(dim, lost, "{} on host {}", graph.nodes[n].name, graph.nodes[n].host);
    }
}

#[test]
fn selection_walks_across_engines_and_the_filter_reaches_every_engine() {
    let mut app = app_of(three_hosts(), "dark");
    let _ = render_map_buffer(&mut app, 200, 60);
    let host_of = |app: &App| {
        let id = app.panes.map.selected_container().expect("a selection").to_string();
        app.model.containers[&id].host
    };
    // Side by side at 200x60: right walks from engine to engine.
    let mut seen = std::collections::BTreeSet::new();
    seen.insert(host_of(&app));
    for _ in 0..12 {
        app.act(Action::Right);
        let _ = render_map_buffer(&mut app, 200, 60);
        seen.insert(host_of(&app));
    }
    assert_eq!(seen.len(), 3, "right reaches every engine: {seen:?}");
    // Stacked at 80x24 (compact boxes, nothing collapsed, so the map pans): down walks
    // into the engines below.
    app.panes.map.detail = portolan::topology::layout::Detail::Compact;
    let _ = render_map_buffer(&mut app, 80, 24);
    app.act(Action::Top);
    let _ = render_map_buffer(&mut app, 80, 24);
    let mut seen = std::collections::BTreeSet::new();
    seen.insert(host_of(&app));
    for _ in 0..20 {
        app.act(Action::Down);
        let _ = render_map_buffer(&mut app, 80, 24);
        if app.panes.map.selected_container().is_some() {
            seen.insert(host_of(&app));
        }
    }
    assert_eq!(seen.len(), 3, "down reaches every engine: {seen:?}");
    // postgres runs on every engine: the filter keeps one on each, and every host box.
    app.panes.map.filter = "postgres".into();
    let text = buffer_to_text(&render_map_buffer(&mut app, 200, 60));
    let graph = app.panes.map.graph().expect("derived");
    let hosts: std::collections::BTreeSet<usize> = graph.nodes.iter().map(|n| n.host).collect();
    assert_eq!(hosts.len(), 3, "{text}");
    assert_eq!(app.panes.map.layout().expect("laid out").hosts.len(), 3);
}

#[test]
fn the_project_filter_leaves_other_engines_small_boxes_saying_so() {
    let mut app = app_of(three_hosts(), "mono");
    app.set_project(Some("nestjs".into()));
    let text = buffer_to_text(&render_map_buffer(&mut app, 120, 40));
    assert!(text.contains(" local "), "{text}");
    assert_eq!(text.matches("no container matches the filter").count(), 2, "{text}");
    assert!(text.contains(" app "), "{text}");
}

#[test]
fn forty_unconnected_containers_fill_a_grid_at_120x40() {
    let model = portolan::topology::fixtures::default_bridge(&[("c", 40)]);
    let mut app = app_of(model, "dark");
    let buffer = render_map_buffer(&mut app, 120, 40);
    let layout = app.panes.map.layout().expect("laid out");
    assert!(layout.width <= 120, "{} columns: one row again", layout.width);
    assert!(layout.clusters.is_empty(), "forty fit on a screen: none folded");
    let text = buffer_to_text(&buffer);
    // Row by row in natural order.
    let (c2, c10) = (text.find("c2 ").expect("c2"), text.find("c10 ").expect("c10"));
    assert!(c2 < c10, "{text}");
    assert_map_snapshot(&mut app, (120, 40), "dark", "default_bridge_40_120x40_dark");
}

#[test]
fn a_large_family_collapses_into_a_box_that_enter_opens_at_80x24() {
    let model = portolan::topology::fixtures::default_bridge(&[
        ("web-", 120),
        ("worker-", 12),
        ("cron-", 4),
    ]);
    let mut app = app_of(model, "dark");
    let text = buffer_to_text(&render_map_buffer(&mut app, 80, 24));
    let layout = app.panes.map.layout().expect("laid out");
    assert!(layout.width <= 80, "{}", layout.width);
    let web = layout.clusters.iter().find(|c| c.label == "web-*").expect("web-* folded");
    assert_eq!(web.nodes.len(), 120);
    assert!(layout.clusters.iter().all(|c| c.label != "worker-*"), "only what must fold");
    // The box says how many run and what is wrong with the folded ones.
    assert!(text.contains("web-* ×120"), "{text}");
    assert!(text.contains("unhealthy") && text.contains("not running"), "{text}");
    assert_map_snapshot(&mut app, (80, 24), "dark", "default_bridge_families_80x24_dark");
    // The cluster box is selected first (top left); Enter opens it among its members.
    assert!(app.panes.map.selected_container().is_none(), "the cluster box is selected");
    app.act(Action::ToggleDetail);
    assert_eq!(app.pane, PaneId::Map, "Enter on a cluster opens it, not the detail");
    let _ = render_map_buffer(&mut app, 80, 24);
    let layout = app.panes.map.layout().expect("laid out");
    assert!(layout.clusters.iter().all(|c| c.label != "web-*"), "web-* open");
    let id = app.panes.map.selected_container().expect("lands on a container").to_string();
    assert!(app.model.containers[&id].name.starts_with("web-"));
}
