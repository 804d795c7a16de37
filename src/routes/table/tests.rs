use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::model::{
    ComposeInfo, ContainerState, Health, HealthStatus, NetworkAttachment, Port, ProxyConfig,
};

fn container(name: &str, networks: &[&str]) -> Container {
    let mut c = Container::new(format!("{name}-id-0123456789abcdef"), name);
    c.state = ContainerState::Running;
    c.image = "busybox".into();
    c.networks = networks
        .iter()
        .map(|n| NetworkAttachment {
            name: n.to_string(),
            ip: None,
            aliases: vec![name.to_string()],
        })
        .collect();
    c
}

fn in_project(mut c: Container, project: &str) -> Container {
    c.compose = Some(ComposeInfo {
        project: project.into(),
        service: c.name.clone(),
        ..ComposeInfo::default()
    });
    c
}

fn expose(mut c: Container, port: u16, host: Option<u16>) -> Container {
    c.ports.push(Port {
        host_ip: host.map(|_| "0.0.0.0".to_string()),
        host_port: host,
        container_port: port,
        protocol: "tcp".into(),
    });
    c
}

fn label(mut c: Container, key: &str, value: &str) -> Container {
    c.labels.insert(key.to_string(), value.to_string());
    c
}

fn health(mut c: Container, status: HealthStatus) -> Container {
    c.health = Some(Health { status, failing_streak: 0, log: Vec::new() });
    c
}

fn traefik_proxy(networks: &[&str]) -> Container {
    let mut c = container("traefik", networks);
    c.entrypoint = vec!["/bin/sh".into(), "-c".into(), "exec \"$@\"".into()];
    c.cmd = [
        "--providers.docker=true",
        "--providers.docker.exposedbydefault=false",
        "--entrypoints.web.address=:80",
        "--entrypoints.web.http.redirections.entrypoint.to=websecure",
        "--entrypoints.web.http.redirections.entrypoint.scheme=https",
        "--entrypoints.websecure.address=:443",
        "--certificatesresolvers.letsencrypt.acme.tlschallenge=true",
        "--api.dashboard=true",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let c = expose(expose(c, 80, Some(80)), 443, Some(443));
    let c = label(c, "traefik.enable", "true");
    let c = label(c, "traefik.http.routers.dashboard.rule", "Host(`traefik.example.com`)");
    let c = label(c, "traefik.http.routers.dashboard.entrypoints", "websecure");
    let c = label(c, "traefik.http.routers.dashboard.service", "api@internal");
    label(c, "traefik.http.routers.dashboard.tls.certresolver", "letsencrypt")
}

fn web(name: &str, rule: &str, port: u16, networks: &[&str]) -> Container {
    let c = expose(container(name, networks), port, None);
    let c = label(c, "traefik.enable", "true");
    let c = label(c, &format!("traefik.http.routers.{name}.rule"), rule);
    let c = label(c, &format!("traefik.http.routers.{name}.entrypoints"), "websecure");
    let c = label(c, &format!("traefik.http.routers.{name}.tls.certresolver"), "letsencrypt");
    label(c, &format!("traefik.http.services.{name}.loadbalancer.server.port"), &port.to_string())
}

fn table(containers: &[Container]) -> RouteTable {
    let refs: Vec<&Container> = containers.iter().collect();
    RouteTable::from_containers(&refs)
}

fn row<'a>(table: &'a RouteTable, kind: RouteKind, name: &str) -> &'a Route {
    table
        .routes
        .iter()
        .find(|r| r.kind == kind && r.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no {kind:?} route {name} in {:#?}", table.routes))
}

#[test]
fn seed_001_traefik_routes_reach_their_containers() {
    let t = table(&[
        traefik_proxy(&["selly"]),
        web("frontend", "Host(`sellybase.example.com`)", 3000, &["selly"]),
        web("backend", "Host(`sellybase.example.com`) && PathPrefix(`/api`)", 3001, &["selly"]),
        container("postgres", &["selly"]),
    ]);
    let frontend = row(&t, RouteKind::Traefik, "frontend");
    assert_eq!(frontend.verdict, Verdict::Ok, "{frontend:#?}");
    assert_eq!(frontend.entrypoint, "websecure :443");
    assert_eq!(frontend.host.as_deref(), Some("sellybase.example.com"));
    assert_eq!(frontend.target, "frontend:3000");
    assert_eq!(frontend.tls.as_deref(), Some("letsencrypt"));
    let backend = row(&t, RouteKind::Traefik, "backend");
    assert_eq!(backend.path.as_deref(), Some("/api*"));
    assert_eq!(backend.target_port, Some(3001));
    assert!(backend.matches.contains("and"), "{}", backend.matches);
    let dashboard = row(&t, RouteKind::Traefik, "dashboard");
    assert_eq!(dashboard.target_container.as_deref(), Some("traefik"));
    assert!(dashboard.verdict.is_ok(), "{dashboard:#?}");
    let redirect = row(&t, RouteKind::Traefik, "entrypoint web");
    assert_eq!(redirect.target, "redirect to websecure (https)");
    assert_eq!(redirect.entrypoint, "web :80");
    // Published ports of the proxy are routes of their own.
    assert!(
        t.routes.iter().any(|r| r.kind == RouteKind::Port && r.entrypoint == "0.0.0.0:443/tcp")
    );
    assert_eq!(t.broken(), 0, "{:#?}", t.routes);
}

#[test]
fn traefik_breakage_is_reported_with_its_reason() {
    let mut stopped = web("stopped", "Host(`a.example.com`)", 80, &["edge"]);
    stopped.state = ContainerState::Exited;
    stopped.exit_code = Some(137);
    let unhealthy =
        health(web("sick", "Host(`b.example.com`)", 80, &["edge"]), HealthStatus::Unhealthy);
    let starting =
        health(web("young", "Host(`y.example.com`)", 80, &["edge"]), HealthStatus::Starting);
    let elsewhere = web("island", "Host(`c.example.com`)", 80, &["other"]);
    let bad_rule = web("typo", "Host(`d.example.com`", 80, &["edge"]);
    let wrong_port = web("porty", "Host(`e.example.com`)", 8080, &["edge"]);
    let wrong_port = {
        let mut c = wrong_port;
        c.ports.clear();
        expose(c, 3000, None)
    };
    let missing = label(
        web("lost", "Host(`f.example.com`)", 80, &["edge"]),
        "traefik.http.routers.lost.service",
        "ghost",
    );
    let dup_a = web("dupa", "Host(`same.example.com`)", 80, &["edge"]);
    let dup_b = web("dupb", "Host(`same.example.com`)", 80, &["edge"]);
    let t = table(&[
        traefik_proxy(&["edge"]),
        stopped,
        unhealthy,
        starting,
        elsewhere,
        bad_rule,
        wrong_port,
        missing,
        dup_a,
        dup_b,
    ]);
    let reason =
        |name: &str| row(&t, RouteKind::Traefik, name).verdict.reason().unwrap_or("ok").to_string();
    assert!(reason("stopped").contains("not running (exited 137)"), "{}", reason("stopped"));
    assert!(reason("sick").contains("unhealthy: Traefik drops"), "{}", reason("sick"));
    assert!(reason("young").contains("still starting"), "{}", reason("young"));
    assert!(reason("island").contains("no network shared"), "{}", reason("island"));
    assert!(reason("island").contains("island is on other"), "{}", reason("island"));
    assert!(reason("typo").starts_with("rule does not parse"), "{}", reason("typo"));
    assert!(
        reason("typo").contains("traefik.http.routers.typo.rule=Host(`d.example.com`"),
        "the label is quoted: {}",
        reason("typo")
    );
    assert!(reason("porty").contains("port 8080 is not exposed"), "{}", reason("porty"));
    assert!(reason("lost").contains("`ghost`"), "{}", reason("lost"));
    assert!(reason("dupa").contains("same rule"), "{}", reason("dupa"));
    assert!(reason("dupb").contains("same rule"), "{}", reason("dupb"));
}

#[test]
fn labels_without_a_traefik_go_nowhere_and_say_so() {
    let t = table(&[web("lonely", "Host(`x.example.com`)", 80, &["n"])]);
    let route = row(&t, RouteKind::Traefik, "lonely");
    assert_eq!(route.proxy, "(no Traefik)");
    assert!(route.verdict.reason().unwrap_or("").contains("no Traefik container"));
}

fn nginx_proxy(networks: &[&str], conf: &str) -> Container {
    let mut c = container("proxy", networks);
    c.image = "nginx:1.27-alpine".into();
    c.cmd = vec!["nginx".into(), "-g".into(), "daemon off;".into()];
    let mut files = BTreeMap::new();
    files.insert("/etc/nginx/nginx.conf".to_string(), conf.to_string());
    c.proxy_config = Some(Arc::new(ProxyConfig { files, problems: Vec::new() }));
    expose(c, 80, Some(8080))
}

const NGINX: &str = r#"
events {}
http {
  upstream backend_up { server backend:8000; }
  server {
    listen 80;
    server_name app.example.com;
    location / { proxy_pass http://frontend:5173; }
    location /api/ { proxy_pass http://backend_up; }
    location /ws/ {
      proxy_pass http://backend:8000;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
    }
    location /static/ { alias /app/static/; }
    location = /health { return 200 "ok"; }
    location /old/ { proxy_pass http://gone:9000; }
    location /far/ { proxy_pass http://island:80; }
    location /ext/ { proxy_pass https://api.example.org; }
  }
}
"#;

#[test]
fn seed_002_nginx_locations_resolve_to_services() {
    let frontend = in_project(expose(container("frontend", &["app"]), 5173, None), "shop");
    let backend = in_project(expose(container("backend", &["app"]), 8000, None), "shop");
    let island = container("island", &["elsewhere"]);
    let t = table(&[in_project(nginx_proxy(&["app"], NGINX), "shop"), frontend, backend, island]);
    let by_path = |path: &str| {
        t.routes
            .iter()
            .find(|r| r.kind == RouteKind::Nginx && r.path.as_deref() == Some(path))
            .unwrap_or_else(|| panic!("no route for {path}: {:#?}", t.routes))
    };
    let root = by_path("/*");
    assert_eq!(root.target, "http://frontend:5173");
    assert_eq!(root.entrypoint, "listen 80 (host 8080)");
    assert_eq!(root.host.as_deref(), Some("app.example.com"));
    assert!(root.verdict.is_ok());
    let api = by_path("/api/*");
    assert_eq!(api.target, "upstream backend_up: http://backend:8000");
    assert_eq!(api.target_container.as_deref(), Some("backend"));
    assert!(by_path("/ws/*").websocket);
    assert_eq!(by_path("/static/*").target, "files /app/static/");
    assert_eq!(by_path("/health").target, "return 200 ok");
    let gone = by_path("/old/*");
    assert!(gone.verdict.reason().unwrap_or("").contains("`gone` resolves to no container"));
    let far = by_path("/far/*");
    assert!(far.verdict.reason().unwrap_or("").contains("shares no network"), "{far:#?}");
    let ext = by_path("/ext/*");
    assert!(ext.verdict.is_ok());
    assert!(ext.target.contains("outside Docker"));
}

#[test]
fn nginx_target_state_and_bridge_only_names() {
    let mut stopped = expose(container("frontend", &["app"]), 5173, None);
    stopped.state = ContainerState::Exited;
    stopped.exit_code = Some(1);
    let sick = health(expose(container("backend", &["app"]), 8000, None), HealthStatus::Unhealthy);
    let t = table(&[nginx_proxy(&["app"], NGINX), stopped, sick]);
    let root = t.routes.iter().find(|r| r.path.as_deref() == Some("/*")).expect("root");
    assert!(root.verdict.reason().unwrap_or("").contains("not running (exited 1)"));
    let api = t.routes.iter().find(|r| r.path.as_deref() == Some("/api/*")).expect("api");
    assert!(api.verdict.reason().unwrap_or("").contains("unhealthy"));

    let conf = "http { server { location / { proxy_pass http://legacy:80; } } }";
    let legacy = container("legacy", &["bridge"]);
    let t = table(&[nginx_proxy(&["bridge"], conf), legacy]);
    let root = t.routes.iter().find(|r| r.kind == RouteKind::Nginx).expect("root");
    assert!(root.verdict.reason().unwrap_or("").contains("default bridge"), "{root:#?}");
}

#[test]
fn an_unreadable_nginx_configuration_is_a_broken_route_not_a_panic() {
    let mut proxy = nginx_proxy(&["app"], "");
    proxy.proxy_config = Some(Arc::new(ProxyConfig {
        files: BTreeMap::new(),
        problems: vec!["/etc/nginx: not found in the container".into()],
    }));
    let t = table(&[proxy]);
    let route = t.routes.iter().find(|r| r.kind == RouteKind::Nginx).expect("a row");
    assert!(route.verdict.reason().unwrap_or("").contains("not found in the container"));
    let garbage = nginx_proxy(&["app"], "http { server { location / { proxy_pass ; } ");
    let t = table(&[garbage]);
    assert!(!t.notes.is_empty(), "syntax problems are notes");
}

#[test]
fn published_ports_are_direct_routes_once_per_binding() {
    let mut c = expose(container("db", &["app"]), 5432, Some(5432));
    c.ports.push(Port {
        host_ip: Some("::".into()),
        host_port: Some(5432),
        container_port: 5432,
        protocol: "tcp".into(),
    });
    let c = expose(c, 9000, None);
    let t = table(&[c]);
    assert_eq!(t.routes.len(), 1, "{:#?}", t.routes);
    assert_eq!(t.routes[0].entrypoint, "0.0.0.0:5432/tcp");
    assert_eq!(t.routes[0].target, "db:5432");
}

/// `c` moved to engine `host`, with an id of its own there.
fn on_host(mut c: Container, host: HostId) -> Container {
    c.host = host;
    c.id = format!("h{host}-{}", c.id);
    c
}

#[test]
fn a_proxy_reaches_only_containers_on_its_own_engine() {
    // Engine 0 runs nginx and a stopped frontend; engine 1 runs a healthy `frontend`
    // and `backend` of the same names, and a Traefik with labelled `web`.
    let mut stopped = expose(container("frontend", &["app"]), 5173, None);
    stopped.state = ContainerState::Exited;
    stopped.exit_code = Some(1);
    let containers = [
        on_host(nginx_proxy(&["app"], NGINX), 0),
        on_host(stopped, 0),
        on_host(expose(container("frontend", &["app"]), 5173, None), 1),
        on_host(expose(container("backend", &["app"]), 8000, None), 1),
        on_host(traefik_proxy(&["edge"]), 1),
        on_host(web("site", "Host(`site.example.com`)", 80, &["edge"]), 1),
        on_host(web("lonely", "Host(`lonely.example.com`)", 80, &["edge"]), 0),
    ];
    let t = table(&containers);
    let root = t.routes.iter().find(|r| r.path.as_deref() == Some("/*")).expect("root");
    assert_eq!(root.host_id, 0);
    assert_eq!(root.target_id.as_deref(), Some("h0-frontend-id-0123456789abcdef"));
    assert!(root.verdict.reason().unwrap_or("").contains("not running"), "{root:#?}");
    // No backend on engine 0: the one on engine 1 does not count.
    let api = t.routes.iter().find(|r| r.path.as_deref() == Some("/api/*")).expect("api");
    assert_eq!(api.target_id, None, "{api:#?}");
    assert!(!api.verdict.is_ok());
    // Engine 1's Traefik routes its own `site`; engine 0's labelled `lonely` has no
    // Traefik on its engine, whatever runs on engine 1.
    let site = row(&t, RouteKind::Traefik, "site");
    assert_eq!((site.host_id, site.verdict.clone()), (1, Verdict::Ok));
    let lonely = t.routes.iter().find(|r| r.name.as_deref() == Some("lonely")).expect("lonely");
    assert_eq!(lonely.host_id, 0);
    assert!(!lonely.verdict.is_ok(), "{lonely:#?}");
    // Published ports stay with their engine too, and routes are grouped by engine.
    let ports: Vec<HostId> =
        t.routes.iter().filter(|r| r.kind == RouteKind::Port).map(|r| r.host_id).collect();
    assert_eq!(ports, vec![0, 1, 1]);
    assert!(t.routes.windows(2).all(|w| w[0].host_id <= w[1].host_id));
}
