use std::collections::BTreeSet;

use super::*;
use crate::topology::fixtures::{SEEDS, seed};
use crate::topology::{Filter, derive};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

fn all_fixtures() -> Vec<&'static str> {
    SEEDS.iter().copied().chain(["many-60"]).collect()
}

fn cells(points: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        assert!(x0 == x1 || y0 == y1, "orthogonal: {points:?}");
        let steps = x0.abs_diff(x1).max(y0.abs_diff(y1));
        for s in 0..=steps {
            let x = if x1 >= x0 { x0 + s.min(x1 - x0) } else { x0 - s.min(x0 - x1) };
            let y = if y1 >= y0 { y0 + s.min(y1 - y0) } else { y0 - s.min(y0 - y1) };
            out.push((x, y));
        }
    }
    out
}

fn check(name: &str, w: u16, h: u16, detail: Detail) -> MapLayout {
    let graph = derive(&seed(name).expect("fixture"), &Filter::default());
    check_graph(&graph, name, w, h, detail)
}

fn check_graph(graph: &Graph, name: &str, w: u16, h: u16, detail: Detail) -> MapLayout {
    let l = layout(graph, w, h, detail, &BTreeSet::new());
    let ctx = format!("{name} at {w}x{h} {detail:?}");
    // Fits, or says what it collapsed, or is bigger than the screen (and pans).
    assert!(l.fits || !l.collapsed.is_empty() || l.width > w || l.height > h, "{ctx}");
    assert!(l.width >= w && l.height >= h, "{ctx}");
    for (i, a) in l.boxes.iter().enumerate() {
        assert!(l.host.contains(&a.rect), "{ctx}: {a:?} outside the host");
        for b in &l.boxes[i + 1..] {
            assert!(!a.rect.intersects(&b.rect), "{ctx}: {a:?} overlaps {b:?}");
        }
    }
    for (i, a) in l.groups.iter().enumerate() {
        assert!(l.host.contains(&a.rect), "{ctx}");
        for b in &l.groups[i + 1..] {
            assert!(!a.rect.intersects(&b.rect), "{ctx}: networks overlap");
        }
    }
    // Every container of a network lies inside its network box, unless collapsed.
    for (n, node) in graph.nodes.iter().enumerate() {
        let group = l.groups.iter().find(|g| g.group == node.group).expect("group placed");
        if group.collapsed {
            assert!(l.box_of(Target::Node(n)).is_none(), "{ctx}");
            continue;
        }
        let b =
            l.box_of(Target::Node(n)).unwrap_or_else(|| panic!("{ctx}: {} not placed", node.name));
        let inner = Rect {
            x: group.rect.x + 1,
            y: group.rect.y + 1,
            w: group.rect.w - 2,
            h: group.rect.h - 2,
        };
        assert!(inner.contains(&b.rect), "{ctx}: {} outside its network", node.name);
    }
    if let Some(v) = &l.volumes {
        for g in &l.groups {
            assert!(!v.rect.intersects(&g.rect), "{ctx}: volumes over a network");
        }
    }
    // Every edge starts and ends on its boxes and crosses no box on its way.
    for e in &l.edges {
        let edge = &graph.edges[e.edge];
        let first = *e.points.first().expect("points");
        let last = *e.points.last().expect("points");
        let to = l.box_of(Target::Node(edge.to)).expect("target drawn").rect;
        match edge.from {
            End::Host => {
                let group =
                    l.groups.iter().find(|g| g.group == graph.nodes[edge.to].group).expect("group");
                let host = host_rect(&l, graph.nodes[edge.to].host).unwrap_or(l.host);
                assert!(
                    first.0 == host.x || first.0 == group.rect.x,
                    "{ctx}: ingress from {first:?}"
                );
                assert!(to.on_border(last.0, last.1), "{ctx}: ingress ends off its box");
            }
            End::Node(from) => {
                let from = l.box_of(Target::Node(from)).expect("source drawn").rect;
                let (a, b) = if e.reversed { (to, from) } else { (from, to) };
                assert!(a.on_border(first.0, first.1), "{ctx}: {e:?} starts off {a:?}");
                assert!(b.on_border(last.0, last.1), "{ctx}: {e:?} ends off {b:?}");
            }
        }
        let path = cells(&e.points);
        for &(x, y) in &path[1..path.len() - 1] {
            for b in &l.boxes {
                let r = b.rect;
                let inside = x >= r.x && x < r.right() && y >= r.y && y < r.bottom();
                assert!(!inside, "{ctx}: edge {e:?} runs through {b:?} at {x},{y}");
            }
        }
    }
    if !graph.hosts.is_empty() {
        check_hosts(graph, &l, &ctx);
    }
    l
}

fn host_rect(l: &MapLayout, host: crate::model::HostId) -> Option<Rect> {
    l.hosts.iter().find(|h| h.host == host).map(|h| h.rect)
}

/// With several engines: one box each, apart, inside the frame, holding exactly its
/// own networks, containers, volumes and edges.
fn check_hosts(graph: &Graph, l: &MapLayout, ctx: &str) {
    assert_eq!(l.hosts.len(), graph.hosts.len(), "{ctx}: one box per engine");
    for (i, a) in l.hosts.iter().enumerate() {
        assert!(l.host.contains(&a.rect), "{ctx}: host box outside the frame");
        for b in &l.hosts[i + 1..] {
            assert!(!a.rect.intersects(&b.rect), "{ctx}: host boxes overlap");
        }
        let inner = Rect { x: a.rect.x + 1, y: a.rect.y + 1, w: a.rect.w - 2, h: a.rect.h - 2 };
        if let Some(v) = &a.volumes {
            assert!(inner.contains(&v.rect), "{ctx}: volumes outside their host");
            assert!(v.entries.iter().all(|&e| graph.volumes[e].host == a.host), "{ctx}");
        }
    }
    let inner_of = |host| {
        let r = host_rect(l, host).expect("host placed");
        Rect { x: r.x + 1, y: r.y + 1, w: r.w - 2, h: r.h - 2 }
    };
    for g in &l.groups {
        let host = graph.groups[g.group].host;
        assert!(inner_of(host).contains(&g.rect), "{ctx}: network outside its host");
    }
    for b in &l.boxes {
        let host = match b.target {
            Target::Node(n) => graph.nodes[n].host,
            Target::Summary(g) => graph.groups[g].host,
        };
        assert!(inner_of(host).contains(&b.rect), "{ctx}: {b:?} outside its host");
    }
    for e in &l.edges {
        let edge = &graph.edges[e.edge];
        let host = graph.nodes[edge.to].host;
        if let End::Node(from) = edge.from {
            assert_eq!(graph.nodes[from].host, host, "{ctx}: edge between engines");
        }
        let r = host_rect(l, host).expect("host placed");
        for (x, y) in cells(&e.points) {
            let inside = x >= r.x && x < r.right() && y >= r.y && y < r.bottom();
            assert!(inside, "{ctx}: edge {e:?} leaves its host at {x},{y}");
        }
    }
}

#[test]
fn three_engines_at_every_size_are_well_formed() {
    let graph = derive(&crate::topology::fixtures::three_hosts(), &Filter::default());
    assert_eq!(graph.hosts.len(), 3);
    for (w, h) in SIZES {
        for detail in [Detail::Auto, Detail::Full, Detail::Compact] {
            check_graph(&graph, "three_hosts", w, h, detail);
        }
    }
}

#[test]
fn an_engine_with_nothing_to_show_still_gets_a_box() {
    let model = crate::topology::fixtures::three_hosts();
    let graph = derive(&model, &Filter { project: Some("nestjs"), text: None });
    for (w, h) in SIZES {
        let l = check_graph(&graph, "three_hosts, one project", w, h, Detail::Auto);
        assert_eq!(l.hosts.len(), 3);
        let empty: Vec<&HostPlan> =
            l.hosts.iter().filter(|p| !graph.groups.iter().any(|g| g.host == p.host)).collect();
        assert!(!empty.is_empty(), "the filter leaves some engine empty");
        assert!(empty.iter().all(|p| p.rect.h == 3), "{empty:?}");
    }
}

#[test]
fn three_engines_layout_is_deterministic() {
    let graph = derive(&crate::topology::fixtures::three_hosts(), &Filter::default());
    for (w, h) in SIZES {
        let a = layout(&graph, w, h, Detail::Auto, &BTreeSet::new());
        assert_eq!(a, layout(&graph, w, h, Detail::Auto, &BTreeSet::new()));
    }
}

#[test]
fn every_fixture_at_every_size_is_well_formed() {
    for name in all_fixtures() {
        for (w, h) in SIZES {
            for detail in [Detail::Auto, Detail::Full, Detail::Compact] {
                check(name, w, h, detail);
            }
        }
    }
}

#[test]
fn small_stacks_fit_at_80x24_with_full_boxes() {
    for name in [SEEDS[0], SEEDS[4]] {
        let l = check(name, 80, 24, Detail::Auto);
        assert!(l.fits, "{name}: {l:?}");
        assert!(l.collapsed.is_empty());
    }
    let l = check(SEEDS[0], 80, 24, Detail::Auto);
    assert!(!l.compact, "three containers get full boxes at 80x24");
}

#[test]
fn every_seed_fits_200x60_without_collapsing() {
    for name in SEEDS {
        let l = check(name, 200, 60, Detail::Auto);
        assert!(l.fits && l.collapsed.is_empty(), "{name}");
        assert!(!l.compact, "{name} has room for full boxes at 200x60");
    }
}

#[test]
fn sixty_containers_collapse_and_report_it() {
    let l = check("many-60", 120, 40, Detail::Auto);
    assert!(!l.collapsed.is_empty());
    assert!(l.groups.iter().any(|g| !g.collapsed), "one network stays open");
}

#[test]
fn layering_puts_dependencies_below_dependents() {
    let graph = derive(&seed(SEEDS[3]).expect("fixture"), &Filter::default());
    let l = layout(&graph, 200, 60, Detail::Auto, &BTreeSet::new());
    let y = |name: &str| {
        let n = graph.nodes.iter().position(|n| n.name == name).expect(name);
        l.box_of(Target::Node(n)).expect("drawn").rect.y
    };
    assert!(y("client") < y("server"));
    assert!(y("server") < y("logstash"));
    assert!(y("logstash") < y("elasticsearch"));
    assert_eq!(y("postgres"), y("elasticsearch"), "data stores share the bottom row");
}

#[test]
fn layout_is_deterministic() {
    for name in all_fixtures() {
        let graph = derive(&seed(name).expect("fixture"), &Filter::default());
        for (w, h) in SIZES {
            let a = layout(&graph, w, h, Detail::Auto, &BTreeSet::new());
            let b = layout(&graph, w, h, Detail::Auto, &BTreeSet::new());
            assert_eq!(a, b, "{name}");
        }
    }
}

#[test]
fn cycles_are_broken_not_fatal() {
    let mut graph = derive(&seed(SEEDS[0]).expect("fixture"), &Filter::default());
    let (app, pg) = (
        graph.nodes.iter().position(|n| n.name == "app").expect("app"),
        graph.nodes.iter().position(|n| n.name == "postgres").expect("pg"),
    );
    graph.edges.push(crate::topology::Edge {
        from: End::Node(pg),
        to: app,
        kind: EdgeKind::Connection,
        label: "tcp :1".into(),
        ok: None,
    });
    let l = layout(&graph, 120, 40, Detail::Auto, &BTreeSet::new());
    assert_eq!(l.edges.iter().filter(|e| e.reversed).count(), 1);
}

#[test]
fn three_hosts_fixture_keeps_each_engine_apart() {
    let model = crate::topology::fixtures::three_hosts();
    assert_eq!(model.hosts.len(), 3);
    let per_host: Vec<usize> =
        (0..3).map(|h| model.containers.values().filter(|c| c.host == h).count()).collect();
    assert!(per_host.iter().all(|n| *n > 0), "{per_host:?}");
    assert_eq!(per_host.iter().sum::<usize>(), model.containers.len());
    assert!(model.network(1, "bridge").is_some() || model.networks.keys().any(|(h, _)| *h == 1));
    assert!(!model.hosts[2].connection.is_connected());
}
