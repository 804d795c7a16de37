use super::fixtures::{SEEDS, seed};
use super::*;

fn graph(name: &str) -> Graph {
    derive(&seed(name).expect("fixture"), &Filter::default())
}

fn node(g: &Graph, name: &str) -> usize {
    g.nodes.iter().position(|n| n.container == name || n.name == name).expect(name)
}

fn edge<'a>(g: &'a Graph, from: &str, to: &str) -> &'a Edge {
    let (f, t) = (node(g, from), node(g, to));
    g.edges.iter().find(|e| e.from == End::Node(f) && e.to == t).expect("edge")
}

#[test]
fn seed_000_edges_are_the_diagrams() {
    let g = graph(SEEDS[0]);
    assert_eq!(g.groups.len(), 1);
    assert_eq!(g.groups[0].title(), "nestjs-network · bridge · 172.18.0.0/16");
    let db = edge(&g, "nestjs-app-1", "nestjs-postgres-1");
    assert_eq!(
        (db.kind, db.label.as_str(), db.ok),
        (EdgeKind::DependsOn, "postgresql :5432", Some(true))
    );
    let cache = edge(&g, "nestjs-app-1", "nestjs-redis-1");
    assert_eq!(cache.label, "redis :6379");
    let app = node(&g, "nestjs-app-1");
    let ingress: Vec<&Edge> = g.edges.iter().filter(|e| e.kind == EdgeKind::Ingress).collect();
    assert_eq!(ingress.len(), 1);
    assert_eq!(
        (ingress[0].from, ingress[0].to, ingress[0].label.as_str()),
        (End::Host, app, "HTTP :3001")
    );
    // No connection edge duplicates a dependency.
    assert_eq!(g.edges.iter().filter(|e| e.kind == EdgeKind::Connection).count(), 0);
    let pg = &g.nodes[node(&g, "nestjs-postgres-1")];
    assert_eq!((pg.image.as_str(), pg.image_is_demo), ("postgres:16", true));
    assert_eq!(pg.exposed, vec!["5432"]);
    assert_eq!(g.nodes[app].published, vec!["127.0.0.1:3001→3001"]);
    assert_eq!(g.volumes.len(), 2);
    assert!(g.volumes.iter().all(|v| v.kind == VolumeKind::Named));
}

#[test]
fn credentials_never_reach_a_label() {
    for name in SEEDS.iter().chain(["many-60"].iter()) {
        let g = graph(name);
        for e in &g.edges {
            for secret in [
                "s3cr3t",
                "redis-pw",
                "pa55",
                "django-pw",
                "pw@",
                "redispw",
                ":pw",
                "nestjs_user",
                "@",
            ] {
                assert!(!e.label.contains(secret), "{name}: {e:?}");
            }
        }
    }
}

#[test]
fn seed_003_connections_and_ports() {
    let g = graph(SEEDS[3]);
    assert_eq!(edge(&g, "sentineliq-logstash-1", "sentineliq-elasticsearch-1").label, "http :9200");
    assert_eq!(edge(&g, "sentineliq-kibana-1", "sentineliq-elasticsearch-1").label, "http :9200");
    assert_eq!(edge(&g, "sentineliq-server-1", "sentineliq-logstash-1").label, "tcp :5000");
    let minio = edge(&g, "sentineliq-server-1", "sentineliq-minio-1");
    assert_eq!((minio.kind, minio.label.as_str()), (EdgeKind::Connection, "http :9000"));
    assert_eq!(edge(&g, "sentineliq-client-1", "sentineliq-server-1").label, "http :3001");
    let kibana = g
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::Ingress && e.to == node(&g, "sentineliq-kibana-1"));
    assert_eq!(kibana.map(|e| e.label.as_str()), Some("HTTP :5601"));
    assert_eq!(g.nodes[node(&g, "sentineliq-elasticsearch-1")].role, Role::Data);
    assert_eq!(g.nodes[node(&g, "sentineliq-minio-1")].role, Role::Data);
}

#[test]
fn seed_004_projects_stay_apart_and_unsatisfied_dependencies_say_so() {
    let g = graph(SEEDS[4]);
    assert_eq!(g.groups.len(), 2);
    let dev = edge(&g, "nestjs-app-dev", "nestjs-mysql-dev");
    assert_eq!((dev.label.as_str(), dev.ok), ("mysql :3306", Some(false)));
    let prod = edge(&g, "nestjs-app", "nestjs-mysql");
    assert_eq!(prod.ok, Some(true));
    // `mysql` names both projects' databases; each app reaches only its own network's.
    let (app_dev, mysql) = (node(&g, "nestjs-app-dev"), node(&g, "nestjs-mysql"));
    assert!(!g.edges.iter().any(|e| e.from == End::Node(app_dev) && e.to == mysql));
    assert!(g.nodes[app_dev].root, "no user: the image default, root");
    assert!(!g.nodes[node(&g, "nestjs-app")].root);
    let binds = g.volumes.iter().filter(|v| v.kind == VolumeKind::Bind).count();
    assert_eq!(binds, 2);
    let db = g
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::Ingress && e.to == node(&g, "nestjs-mysql-dev"));
    assert_eq!(db.map(|e| e.label.as_str()), Some(":3307/tcp"));
}

#[test]
fn a_container_on_two_networks_is_drawn_once_and_names_the_other() {
    let g = graph("many-60");
    assert_eq!(g.nodes.len(), 60);
    let proxy = &g.nodes[node(&g, "shop0-proxy-1")];
    assert_eq!(g.groups[proxy.group].key, "shop0_default");
    assert_eq!(proxy.other_networks, vec!["shop1_default"]);
    let oom = &g.nodes[node(&g, "shop4-worker-3")];
    assert_eq!(oom.state_words.as_deref(), Some("OOM killed"));
    assert_eq!(oom.name, "worker #3");
}

#[test]
fn containers_on_no_user_network_get_their_own_group() {
    let mut model = seed(SEEDS[0]).expect("fixture");
    let mut lone = crate::model::Container::new("ffffffffffff", "lonely");
    lone.state = ContainerState::Running;
    lone.network_mode = Some("host".into());
    model.apply(crate::model::Update::ContainerChanged(Box::new(lone)));
    let g = derive(&model, &Filter::default());
    let last = g.groups.last().expect("groups");
    assert_eq!(last.key, UNATTACHED);
    assert_eq!(g.nodes[last.nodes[0]].other_networks, vec!["host"]);
}

#[test]
fn filters_by_project_and_text() {
    let model = seed(SEEDS[4]).expect("fixture");
    let g = derive(&model, &Filter { project: Some("nestjs-dev"), text: None });
    assert_eq!(g.nodes.len(), 2);
    let g = derive(&model, &Filter { project: None, text: Some("MYSQL") });
    assert_eq!(g.nodes.len(), 2);
    assert!(g.nodes.iter().all(|n| n.name == "mysql"));
}

#[test]
fn derivation_is_deterministic() {
    for name in SEEDS {
        assert_eq!(graph(name), graph(name));
    }
}

/// `SEEDS[0]` running twice, on two engines: same project, services, networks and
/// volume names, different containers.
fn twin_engines() -> Model {
    use crate::model::{Host, Update};
    let single = seed(SEEDS[0]).expect("fixture");
    let now = super::fixtures::now();
    let mut model = Model::with_hosts(
        vec![
            Host::new("one", "unix:///var/run/docker.sock", now),
            Host::new("two", "ssh://ops@two", now),
        ],
        now,
    );
    for host in 0..2 {
        for network in single.networks.values() {
            model.apply_from(host, Update::NetworkChanged(Box::new(network.clone())));
        }
        for volume in single.volumes.values() {
            model.apply_from(host, Update::VolumeChanged(Box::new(volume.clone())));
        }
        for c in single.containers.values() {
            let mut c = c.clone();
            c.id = format!("{host}{}", &c.id[1..]);
            model.apply_from(host, Update::ContainerChanged(Box::new(c)));
        }
    }
    model
}

#[test]
fn no_edge_joins_two_engines() {
    let model = twin_engines();
    let g = derive(&model, &Filter::default());
    assert_eq!(g.nodes.len(), 6);
    assert_eq!(g.hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["one", "two"]);
    for e in &g.edges {
        if let End::Node(from) = e.from {
            assert_eq!(g.nodes[from].host, g.nodes[e.to].host, "{e:?}");
        }
    }
    // Each engine keeps the edges it has alone.
    let alone = graph(SEEDS[0]);
    assert_eq!(g.edges.len(), 2 * alone.edges.len());
    let three = derive(&super::fixtures::three_hosts(), &Filter::default());
    for e in &three.edges {
        if let End::Node(from) = e.from {
            assert_eq!(three.nodes[from].host, three.nodes[e.to].host, "{e:?}");
        }
    }
}

#[test]
fn same_named_volumes_of_two_engines_stay_apart() {
    let g = derive(&twin_engines(), &Filter::default());
    let postgres: Vec<&VolumeEntry> =
        g.volumes.iter().filter(|v| v.name == "postgres_data").collect();
    assert_eq!(postgres.len(), 2);
    assert_ne!(postgres[0].host, postgres[1].host);
    for v in &g.volumes {
        assert!(v.users.iter().all(|u| g.nodes[u.node].host == v.host), "{v:?}");
    }
}

#[test]
fn one_engine_draws_no_host_boxes() {
    assert!(graph(SEEDS[0]).hosts.is_empty());
}
