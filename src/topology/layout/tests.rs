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
        // Folded into a cluster: that box stands for it, in the same network.
        let own = l.box_of(Target::Node(n));
        let cluster = l.cluster_of(n);
        assert!(own.is_none() || cluster.is_none(), "{ctx}: {} drawn twice", node.name);
        if let Some(c) = cluster {
            assert_eq!(l.clusters[c].group, node.group, "{ctx}");
        }
        let b = own
            .or_else(|| cluster.and_then(|c| l.box_of(Target::Cluster(c))))
            .unwrap_or_else(|| panic!("{ctx}: {} not placed", node.name));
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
            Target::Cluster(c) => graph.groups[l.clusters[c].group].host,
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

/// Every container is drawn exactly once: in its own box or counted in one cluster.
fn accounted_for(graph: &Graph, l: &MapLayout, ctx: &str) {
    let own = l.boxes.iter().filter(|b| matches!(b.target, Target::Node(_))).count();
    let folded: usize = l.clusters.iter().map(|c| c.nodes.len()).sum();
    assert_eq!(own + folded, graph.nodes.len(), "{ctx}: containers lost or doubled");
    for (c, cluster) in l.clusters.iter().enumerate() {
        assert!(l.box_of(Target::Cluster(c)).is_some(), "{ctx}: cluster {c} has no box");
        assert!(cluster.nodes.len() >= MIN_CLUSTER, "{ctx}");
    }
}

fn bridge_graph(families: &[(&str, usize)]) -> Graph {
    derive(&crate::topology::fixtures::default_bridge(families), &Filter::default())
}

#[test]
fn unconnected_containers_wrap_into_a_grid_within_the_width() {
    for n in [40, 300, 1000] {
        let graph = bridge_graph(&[("c", n)]);
        for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
            for detail in [Detail::Auto, Detail::Full, Detail::Compact] {
                let ctx = format!("{n} containers at {w}x{h} {detail:?}");
                let l = check_graph(&graph, &ctx, w, h, detail);
                assert!(l.width <= w, "{ctx}: {} columns wide", l.width);
                accounted_for(&graph, &l, &ctx);
            }
        }
    }
}

#[test]
fn three_hundred_on_the_default_bridge_are_a_grid_not_a_row() {
    let graph = bridge_graph(&[("c", 300)]);
    let l = check_graph(&graph, "300", 200, 60, Detail::Auto);
    assert_eq!(l.width, 200, "the issue's map was 5298 columns wide");
    assert!(l.clusters.is_empty(), "300 compact boxes need under two screens: all shown");
    let rows: BTreeSet<u16> = l.boxes.iter().map(|b| b.rect.y).collect();
    assert!(rows.len() >= 15, "{} rows", rows.len());
    assert!(l.height <= 2 * 60, "{} rows of map", l.height);
    // Read in natural order, left to right and top to bottom: c2 before c10 (entry
    // points, here those that publish a port, lead as they top a layered network).
    let at = |name: &str| {
        let n = graph.nodes.iter().position(|n| n.name == name).expect(name);
        let r = l.box_of(Target::Node(n)).expect("drawn").rect;
        (r.y, r.x)
    };
    assert!(at("c1") < at("c2") && at("c2") < at("c10") && at("c10") < at("c299"));
}

#[test]
fn a_thousand_collapse_by_name_prefix_with_counts() {
    let graph = bridge_graph(&[("web-", 600), ("worker-", 300), ("cron-", 90), ("lonely", 1)]);
    assert_eq!(graph.nodes.len(), 991);
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
        let ctx = format!("families at {w}x{h}");
        let l = check_graph(&graph, &ctx, w, h, Detail::Auto);
        assert!(l.width <= w, "{ctx}");
        accounted_for(&graph, &l, &ctx);
        // The largest family goes first.
        let web = l.clusters.iter().find(|c| c.label == "web-*").expect("web-* collapsed");
        assert_eq!(web.nodes.len(), 600);
        assert_eq!(cluster_title(web), "web-* ×600");
        // A folded problem is still said: the fixture's unhealthy and exited are in web.
        let counts = ClusterCounts::of(&graph, web);
        assert!(counts.unhealthy > 0 && counts.running < counts.total, "{counts:?}");
        let [running, problems] = cluster_lines(&counts);
        assert_eq!(running, format!("● {}/600 running", counts.running));
        assert!(problems.contains("unhealthy") && problems.contains("not running"), "{problems}");
        // A name with no number has no family: it keeps its own box.
        let lonely = graph.nodes.iter().position(|n| n.name == "lonely1").expect("lonely");
        assert!(l.cluster_of(lonely).is_none() || l.clusters.iter().all(|c| c.label != "lonely*"));
    }
}

#[test]
fn compose_projects_collapse_by_project_and_enter_opens_one() {
    let mut model = crate::topology::fixtures::default_bridge(&[("c", 700)]);
    // Half of them belong to compose project `batch`, still with no edges.
    for c in model.containers.values_mut().filter(|c| c.name.len() % 2 == 0) {
        c.labels.insert(crate::model::compose::PROJECT.into(), "batch".into());
        c.labels.insert(crate::model::compose::SERVICE.into(), c.name.clone());
        c.compose = crate::model::Container::compose_from_labels(&c.labels);
    }
    let graph = derive(&model, &Filter::default());
    let l = check_graph(&graph, "projects", 120, 40, Detail::Auto);
    accounted_for(&graph, &l, "projects");
    let batch = l.clusters.iter().find(|c| c.label == "batch/*").expect("project collapsed");
    assert!(batch.nodes.iter().all(|&n| graph.nodes[n].project.as_deref() == Some("batch")));
    // Enter adds the cluster's key to the expanded set: it opens, the rest may fold.
    let expanded = BTreeSet::from([batch.key.clone()]);
    let opened = layout(&graph, 120, 40, Detail::Auto, &expanded);
    assert!(opened.clusters.iter().all(|c| c.key != batch.key));
    accounted_for(&graph, &opened, "opened");
}

#[test]
fn a_grid_leaves_chains_in_their_layers() {
    // A compose chain beside 200 unconnected containers on the same network.
    let mut model = crate::topology::fixtures::default_bridge(&[("c", 200)]);
    let chain = seed(SEEDS[0]).expect("fixture");
    for c in chain.containers.values() {
        let mut c = c.clone();
        c.networks = vec![crate::model::NetworkAttachment {
            name: "bridge".into(),
            ip: None,
            aliases: c.networks.first().map(|n| n.aliases.clone()).unwrap_or_default(),
        }];
        model.containers.insert(c.id.clone(), c);
    }
    let graph = derive(&model, &Filter::default());
    assert!(graph.groups.len() == 1 && !graph.edges.is_empty());
    let l = check_graph(&graph, "chain and grid", 200, 60, Detail::Auto);
    assert!(l.width <= 200);
    accounted_for(&graph, &l, "chain and grid");
    let y = |name: &str| {
        let n = graph.nodes.iter().position(|n| n.name == name).expect(name);
        l.box_of(Target::Node(n)).expect("drawn").rect.y
    };
    assert!(y("app") < y("postgres"), "the chain still reads top to bottom");
    assert!(y("postgres") < y("c1"), "the grid goes under the chain");
}

#[test]
fn grid_columns_fit_the_room_and_align() {
    assert_eq!(grid_columns(&[10, 10, 10, 10], 34, 2), vec![10, 10, 10]);
    assert_eq!(grid_columns(&[10, 20, 10, 10], 34, 2), vec![10, 20]);
    assert_eq!(grid_columns(&[50], 20, 2), vec![50], "one column at least");
    assert_eq!(grid_columns(&[10, 12], 100, 2), vec![10, 12]);
}

#[test]
fn family_is_project_else_numbered_prefix() {
    let graph = bridge_graph(&[("web-", 2), ("c", 1), ("7", 1)]);
    let family = |name: &str| family_of(graph.nodes.iter().find(|n| n.name == name).expect(name));
    assert_eq!(family("web-2").as_deref(), Some("web-*"));
    assert_eq!(family("c1").as_deref(), Some("c*"));
    assert_eq!(family("71"), None, "all digits: no prefix to share");
}

#[test]
fn a_thousand_lay_out_in_well_under_ten_milliseconds() {
    // A loose bound, so a slow debug build on a busy machine does not flake; the bench
    // (`cargo bench --bench map`) reports the real figure.
    // The worst case: names that share no prefix, so nothing folds and all 1,000 boxes
    // are laid out in every attempt.
    let names: Vec<String> = (0..1000).map(|i| format!("s{i}x")).collect();
    let families: Vec<(&str, usize)> = names.iter().map(|p| (p.as_str(), 1)).collect();
    let graph = bridge_graph(&families);
    let started = std::time::Instant::now();
    let l = layout(&graph, 200, 60, Detail::Auto, &BTreeSet::new());
    let took = started.elapsed();
    assert!(!l.boxes.is_empty());
    assert!(took < std::time::Duration::from_millis(500), "{took:?}");
}

#[test]
fn the_fit_bound_never_skips_an_attempt_that_fits() {
    let mut graphs: Vec<Graph> = all_fixtures()
        .iter()
        .map(|n| derive(&seed(n).expect("fixture"), &Filter::default()))
        .collect();
    graphs.push(bridge_graph(&[("c", 40)]));
    graphs.push(bridge_graph(&[("web-", 120), ("worker-", 12), ("cron-", 4)]));
    let none = BTreeSet::new();
    for graph in &graphs {
        let prep = Prepared::new(graph, &none);
        for (w, h) in SIZES {
            for style in
                [SPACIOUS, NORMAL, TIGHT, Style { lines: 2, ..TIGHT }, Style { lines: 0, ..TIGHT }]
            {
                let fits = place(graph, w, h, style, &BTreeSet::new(), &prep).fits;
                assert!(!fits || prep.may_fit(style, w, h), "{w}x{h} {style:?}");
            }
        }
    }
}
