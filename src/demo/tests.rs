//! Plans of the demo stacks, checked without an engine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::net::Ipv4Cidr;
use super::plan::{
    ContainerPlan, HostFacts, MountKind, PlanError, StackPlan, Taken, depends_on_label, plan,
    sh_quote, standin_script, start_order,
};
use super::spec::{Condition, Listener, Probe, Service, Stack};
use super::{is_stack_dir, select, stacks, state_root};

fn host() -> HostFacts {
    HostFacts {
        image: "busybox:latest".into(),
        image_id: Some("sha256:abc".into()),
        cpus: Some(8),
        memory_bytes: Some(32 << 30),
        bind_mounts: true,
    }
}

fn stack(name: &str) -> Stack {
    stacks::all().into_iter().find(|s| s.name == name).unwrap()
}

fn plan_of(name: &str) -> StackPlan {
    let dir = PathBuf::from("/state/portolan/demo").join(name);
    plan(&stack(name), &dir, &host(), &mut Taken::default()).unwrap()
}

fn container<'a>(plan: &'a StackPlan, service: &str) -> &'a ContainerPlan {
    plan.containers.iter().find(|c| c.service == service).unwrap()
}

fn services(plan: &StackPlan) -> BTreeSet<&str> {
    plan.containers.iter().map(|c| c.service.as_str()).collect()
}

fn env<'a>(c: &'a ContainerPlan, key: &str) -> Option<&'a str> {
    c.env.iter().find_map(|e| e.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn the_catalogue_has_one_stack_per_seed_and_a_dev_variant() {
    let all = stacks::all();
    let names: Vec<&str> = all.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["nestjs", "traefik", "nginx", "sentineliq", "nestjs-mysql", "nestjs-mysql-dev"]
    );
    let seeds: BTreeSet<&str> = all.iter().filter(|s| s.default).map(|s| s.seed).collect();
    assert_eq!(seeds.len(), 5, "the default set covers every seed once");
    for seed in &seeds {
        assert!(seed.starts_with("00"), "{seed}");
    }
    let default: Vec<&str> = select(&[]).unwrap().iter().map(|s| s.name).collect();
    assert_eq!(default, ["nestjs", "traefik", "nginx", "sentineliq", "nestjs-mysql"]);
}

#[test]
fn selection_keeps_catalogue_order_and_rejects_unknown_names() {
    let names = ["nginx".to_string(), "nestjs".to_string(), "nginx".to_string()];
    let chosen: Vec<&str> = select(&names).unwrap().iter().map(|s| s.name).collect();
    assert_eq!(chosen, ["nestjs", "nginx"]);
    let error = select(&["shop".to_string()]).unwrap_err();
    assert_eq!(error.name, "shop");
    assert!(error.to_string().contains("nestjs, traefik, nginx"), "{error}");
}

#[test]
fn every_stack_has_the_services_of_its_seed() {
    let expect: [(&str, &[&str]); 6] = [
        ("nestjs", &["postgres", "redis", "app"]),
        ("traefik", &["traefik", "web", "api", "postgres"]),
        ("nginx", &["proxy", "frontend", "backend", "db", "redis"]),
        (
            "sentineliq",
            &[
                "postgres",
                "redis",
                "minio",
                "elasticsearch",
                "logstash",
                "kibana",
                "server",
                "client",
            ],
        ),
        ("nestjs-mysql", &["app", "mysql"]),
        ("nestjs-mysql-dev", &["app", "mysql"]),
    ];
    for (name, wanted) in expect {
        let plan = plan_of(name);
        assert_eq!(services(&plan), wanted.iter().copied().collect(), "{name}");
        assert_eq!(plan.containers.len(), wanted.len(), "{name}: no duplicates");
    }
}

#[test]
fn every_start_order_is_a_valid_topological_order() {
    for stack in stacks::all() {
        let order = start_order(&stack).unwrap();
        let position: BTreeMap<&str, usize> =
            order.iter().enumerate().map(|(i, s)| (s.name, i)).collect();
        assert_eq!(position.len(), stack.services.len());
        for service in &stack.services {
            for (dependency, _) in &service.depends_on {
                assert!(
                    position[dependency] < position[service.name],
                    "{}: {} must start after {dependency}",
                    stack.name,
                    service.name
                );
            }
        }
        // The plan keeps that order.
        let plan = plan_of(stack.name);
        let planned: Vec<&str> = plan.containers.iter().map(|c| c.service.as_str()).collect();
        let ordered: Vec<&str> = order.iter().map(|s| s.name).collect();
        assert_eq!(planned, ordered);
    }
}

#[test]
fn the_startup_chains_follow_the_seeds() {
    let order = |name: &str| -> Vec<String> {
        plan_of(name).containers.iter().map(|c| c.service.clone()).collect()
    };
    assert_eq!(order("nginx"), ["db", "redis", "backend", "frontend", "proxy"]);
    assert_eq!(
        order("sentineliq"),
        ["postgres", "redis", "minio", "elasticsearch", "logstash", "kibana", "server", "client"]
    );
    assert_eq!(order("nestjs"), ["postgres", "redis", "app"]);
    assert_eq!(order("nestjs-mysql"), ["mysql", "app"]);
}

#[test]
fn cycles_and_unknown_dependencies_are_reported() {
    let mut looped = stack("nestjs");
    looped.services[0] = looped.services[0].clone().depends_on("app", Condition::Started);
    assert!(matches!(start_order(&looped), Err(PlanError::Cycle { .. })));
    let mut unknown = stack("nestjs");
    unknown.services[2] = unknown.services[2].clone().depends_on("mongo", Condition::Healthy);
    let error = start_order(&unknown).map(|_| ()).unwrap_err();
    assert!(error.to_string().contains("`mongo`"), "{error}");
    let mut unchecked = stack("nestjs");
    unchecked.services[0].health = None;
    assert!(matches!(start_order(&unchecked), Err(PlanError::NoHealthcheck { .. })));
}

#[test]
fn depends_on_labels_use_compose_v2_format() {
    let plan = plan_of("nestjs");
    assert_eq!(
        container(&plan, "app").labels["com.docker.compose.depends_on"],
        "postgres:service_healthy:false,redis:service_healthy:false"
    );
    assert_eq!(container(&plan, "postgres").labels["com.docker.compose.depends_on"], "");
    let plan = plan_of("nginx");
    assert_eq!(
        container(&plan, "proxy").depends_on_label(),
        "backend:service_healthy:false,frontend:service_healthy:false"
    );
    assert_eq!(
        depends_on_label(&[("b", Condition::Started), ("a", Condition::Healthy)]),
        "a:service_healthy:false,b:service_started:false"
    );
    // portolan's own reader understands what the demo writes.
    let parsed = crate::model::compose::parse_depends_on_label(
        &container(&plan_of("sentineliq"), "server").depends_on_label(),
    );
    let names: Vec<&str> = parsed.iter().map(|d| d.service.as_str()).collect();
    assert_eq!(names, ["elasticsearch", "logstash", "postgres", "redis"]);
    assert!(parsed.iter().all(|d| d.condition == Condition::Healthy));
}

#[test]
fn everything_carries_compose_and_demo_labels() {
    for stack in stacks::all() {
        let plan = plan_of(stack.name);
        for c in &plan.containers {
            let l = &c.labels;
            assert_eq!(l["com.docker.compose.project"], stack.name);
            assert_eq!(l["com.docker.compose.service"], c.service);
            assert_eq!(l["com.docker.compose.container-number"], "1");
            assert_eq!(l["com.docker.compose.oneoff"], "False");
            assert!(l["com.docker.compose.version"].starts_with("2."));
            assert_eq!(
                l["com.docker.compose.project.working_dir"],
                format!("/state/portolan/demo/{}", stack.name)
            );
            assert_eq!(l["com.docker.compose.image"], "sha256:abc");
            assert_eq!(l["org.portolan.demo"], stack.name);
            assert_eq!(l["org.portolan.demo.seed"], stack.seed);
            assert!(!l["org.portolan.demo.image"].is_empty());
            assert_eq!(c.name, format!("{}-{}-1", stack.name, c.service));
            assert_eq!(c.image, "busybox:latest");
            assert_eq!(c.entrypoint[2], r#"eval "$PORTOLAN_DEMO_STANDIN""#);
            let script = env(c, "PORTOLAN_DEMO_STANDIN").unwrap();
            assert!(script.contains(&format!("stands in for {}", c.seed_image)), "{script}");
            for (network, aliases) in &c.networks {
                assert!(network.starts_with(&format!("{}_", stack.name)));
                assert_eq!(aliases, &vec![c.service.clone()]);
            }
            assert!(!c.networks.is_empty(), "{}: {} is on a network", stack.name, c.service);
        }
        for n in &plan.networks {
            assert_eq!(n.name, format!("{}_{}", stack.name, n.key));
            assert_eq!(n.labels["com.docker.compose.network"], n.key);
            assert_eq!(n.labels["com.docker.compose.project"], stack.name);
            assert_eq!(n.labels["org.portolan.demo"], stack.name);
        }
        for v in &plan.volumes {
            assert_eq!(v.name, format!("{}_{}", stack.name, v.key));
            assert_eq!(v.labels["com.docker.compose.volume"], v.key);
            assert_eq!(v.labels["com.docker.compose.project"], stack.name);
            assert_eq!(v.labels["org.portolan.demo"], stack.name);
        }
    }
}

#[test]
fn nestjs_matches_seed_000() {
    let plan = plan_of("nestjs");
    assert_eq!(plan.networks[0].name, "nestjs_nestjs-network");
    assert_eq!(plan.networks[0].subnet, Some("172.18.0.0/16".parse().unwrap()));
    let names: Vec<&str> = plan.volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["nestjs_postgres_data", "nestjs_redis_data"]);
    let app = container(&plan, "app");
    assert_eq!(app.user.as_deref(), Some("1001:1001"));
    assert_eq!(app.labels["org.portolan.demo.image"], "node:20-alpine");
    assert_eq!(app.published.len(), 1);
    assert_eq!((app.published[0].host, app.published[0].container), (3001, 3001));
    assert!(env(app, "DATABASE_URL").unwrap().contains("@postgres:5432/nestjs_db"));
    assert!(env(app, "REDIS_URL").unwrap().ends_with("@redis:6379"));
    let postgres = container(&plan, "postgres");
    assert_eq!(postgres.user.as_deref(), Some("999:999"));
    assert_eq!(postgres.labels["org.portolan.demo.image"], "postgres:16");
    assert_eq!(postgres.labels["org.portolan.demo.healthcheck"], "pg_isready -U postgres");
    assert!(postgres.published.is_empty(), "database and cache stay internal");
    assert_eq!(postgres.exposed, [5432]);
    assert_eq!(postgres.mounts[0].source, "nestjs_postgres_data");
    assert_eq!(postgres.mounts[0].target, "/var/lib/postgresql/data");
    let health = postgres.health.as_ref().unwrap();
    assert_eq!(health.retries, 5);
    assert_eq!(health.interval, Duration::from_secs(5), "30 s scaled down");
    assert_eq!(health.test[0], "CMD-SHELL");
    assert!(health.test[1].contains("5432"));
    assert!(container(&plan, "redis").published.is_empty());
    assert_eq!(app.health.as_ref().unwrap().retries, 3);
}

#[test]
fn traefik_matches_seed_001() {
    let plan = plan_of("traefik");
    assert_eq!(plan.networks[0].name, "traefik_selly-network");
    assert_eq!(plan.networks[0].subnet, Some("172.25.0.0/16".parse().unwrap()));
    let proxy = container(&plan, "traefik");
    for arg in [
        "--entrypoints.web.address=:80",
        "--entrypoints.websecure.address=:443",
        "--entrypoints.traefik.address=:8080",
        "--providers.docker.network=traefik_selly-network",
    ] {
        assert!(proxy.cmd.iter().any(|a| a == arg), "{arg}");
    }
    let ports: Vec<u16> = proxy.published.iter().map(|p| p.host).collect();
    assert_eq!(ports, [80, 443, 8080]);
    assert_eq!(proxy.mounts[0].source, "traefik_traefik-certificates");
    assert_eq!(
        container(&plan, "web").labels["traefik.http.routers.frontend.rule"],
        "Host(`sellybase.albaly.jp`)"
    );
    let api = container(&plan, "api");
    assert_eq!(api.labels["traefik.http.routers.backend.rule"], "Host(`api.sellybase.albaly.jp`)");
    assert_eq!(api.labels["traefik.http.routers.backend.tls.certresolver"], "letsencrypt");
    assert!(api.labels["traefik.http.routers.backend.middlewares"].contains("api-ratelimit"));
    assert_eq!(
        proxy.labels["traefik.http.routers.dashboard.rule"],
        "Host(`traefik.sellybase.albaly.jp`)"
    );
    assert!(proxy.labels.contains_key("traefik.http.middlewares.api-ratelimit.ratelimit.average"));
    let postgres = container(&plan, "postgres");
    assert!(postgres.published.is_empty(), "postgres is not exposed");
    let backups = postgres.mounts.iter().find(|m| m.kind == MountKind::Bind).unwrap();
    assert_eq!(backups.source, "/state/portolan/demo/traefik/backups");
    assert!(plan.dirs.is_empty() || plan.dirs.iter().all(|d| d.starts_with(&plan.dir)));
    assert_eq!(container(&plan, "web").user.as_deref(), Some("1001:1001"));
    assert_eq!(api.user.as_deref(), Some("1001:1001"));
}

#[test]
fn nginx_matches_seed_002() {
    let plan = plan_of("nginx");
    assert_eq!(plan.networks[0].name, "nginx_app-network");
    assert_eq!(plan.networks[0].subnet, None, "the seed gives none: the engine picks");
    let proxy = container(&plan, "proxy");
    let conf = proxy.mounts.iter().find(|m| m.target == "/etc/nginx/nginx.conf").unwrap();
    assert_eq!(conf.kind, MountKind::Bind);
    assert!(conf.read_only);
    assert_eq!(conf.source, "/state/portolan/demo/nginx/nginx/nginx.conf");
    let (path, text) = &plan.files[0];
    assert_eq!(path, Path::new("/state/portolan/demo/nginx/nginx/nginx.conf"));
    for needle in [
        "location / {",
        "proxy_pass http://frontend:5173",
        "location /api/ {",
        "location /admin/ {",
        "location /static/ {",
        "location /media/ {",
        "location /ws {",
        "location /@vite/ {",
        "proxy_set_header Upgrade $http_upgrade",
        "location = /health",
    ] {
        assert!(text.contains(needle), "nginx.conf lacks {needle}");
    }
    assert_eq!(text.matches("proxy_pass http://backend:8000;").count(), 4);
    // Limits as the design sets them (the host has room: no scaling).
    let limits = |s: &str| {
        let c = container(&plan, s);
        (c.nano_cpus, c.memory_bytes.map(|b| b >> 20), c.memory_reservation_bytes.map(|b| b >> 20))
    };
    assert_eq!(limits("proxy"), (Some(500_000_000), Some(256), Some(128)));
    assert_eq!(limits("frontend"), (Some(2_000_000_000), Some(2048), Some(512)));
    assert_eq!(limits("backend"), (Some(2_000_000_000), Some(1024), Some(512)));
    assert_eq!(limits("db"), (Some(1_000_000_000), Some(512), Some(256)));
    assert_eq!(limits("redis"), (Some(500_000_000), Some(256), Some(128)));
    let published: BTreeSet<u16> =
        plan.containers.iter().flat_map(|c| c.published.iter().map(|p| p.host)).collect();
    assert_eq!(published, [80, 5173, 8000, 5432, 6379].into());
    let backend = container(&plan, "backend");
    assert_eq!(
        backend.labels["com.docker.compose.depends_on"],
        "db:service_healthy:false,redis:service_healthy:false"
    );
    assert_eq!(
        container(&plan, "frontend").labels["com.docker.compose.depends_on"],
        "backend:service_healthy:false"
    );
    assert!(env(backend, "DATABASE_URL").unwrap().contains("@db:5432/"));
    assert!(env(container(&plan, "frontend"), "VITE_PROXY_TARGET") == Some("http://backend:8000"));
    // Bind mount sources become directories; the config file does not.
    assert!(plan.dirs.contains(&PathBuf::from("/state/portolan/demo/nginx/backend/logs")));
    assert!(!plan.dirs.iter().any(|d| d.ends_with("nginx.conf")));
}

#[test]
fn sentineliq_matches_seed_003() {
    let plan = plan_of("sentineliq");
    let server = container(&plan, "server");
    assert_eq!(env(server, "DATABASE_URL"), Some("postgresql://user:pass@postgres:5432/db"));
    assert_eq!(env(server, "REDIS_URL"), Some("redis://redis:6379"));
    assert_eq!(env(server, "LOGSTASH_HOST"), Some("logstash:5000"));
    for s in ["logstash", "kibana"] {
        assert_eq!(
            env(container(&plan, s), "ELASTICSEARCH_HOSTS"),
            Some("http://elasticsearch:9200")
        );
    }
    assert_eq!(
        env(container(&plan, "client"), "REACT_APP_API_BASE_URL"),
        Some("http://server:3001")
    );
    let published: BTreeMap<&str, Vec<u16>> = plan
        .containers
        .iter()
        .map(|c| (c.service.as_str(), c.published.iter().map(|p| p.host).collect()))
        .collect();
    assert_eq!(published["postgres"], [5432]);
    assert_eq!(published["minio"], [9000, 9001]);
    assert_eq!(published["elasticsearch"], [9200]);
    assert_eq!(published["logstash"], [5000]);
    assert_eq!(published["kibana"], [5601]);
    assert_eq!(published["server"], [3001]);
    assert_eq!(published["client"], [3000]);
    assert_eq!(
        container(&plan, "elasticsearch").labels["org.portolan.demo.image"],
        "docker.elastic.co/elasticsearch/elasticsearch:8.11.0"
    );
    let volumes: Vec<&str> = plan.volumes.iter().map(|v| v.key.as_str()).collect();
    assert_eq!(volumes, ["postgres-data", "redis-data", "minio-data", "elasticsearch-data"]);
    assert!(plan.files[0].1.contains("port => 5000"));
}

#[test]
fn nestjs_mysql_matches_seed_004() {
    let prod = plan_of("nestjs-mysql");
    let app = container(&prod, "app");
    assert_eq!(app.user.as_deref(), Some("1001:1001"));
    assert!(app.read_only);
    assert_eq!(app.tmpfs, ["/tmp"]);
    assert_eq!(
        env(app, "DATABASE_URL"),
        Some("mysql://nestjs_user:demo-mysql-password@mysql:3306/nestjs_db")
    );
    assert_eq!(app.restart.as_str(), "unless-stopped");
    assert_eq!(container(&prod, "mysql").published[0].host, 3306);
    assert_eq!(prod.networks[0].name, "nestjs-mysql_nestjs-network");
    let dev = plan_of("nestjs-mysql-dev");
    let mysql = container(&dev, "mysql");
    assert_eq!((mysql.published[0].host, mysql.published[0].container), (3307, 3306));
    assert_eq!(container(&dev, "app").user, None, "development runs as root");
    assert_eq!(container(&dev, "app").restart.as_str(), "no");
}

#[test]
fn taken_subnets_are_avoided_deterministically() {
    let mut taken = Taken {
        subnets: vec!["172.17.0.0/16".parse().unwrap(), "172.18.0.0/16".parse().unwrap()],
        ..Taken::default()
    };
    let dir = Path::new("/s/nestjs");
    let plan1 = plan(&stack("nestjs"), dir, &host(), &mut taken.clone()).unwrap();
    let plan2 = plan(&stack("nestjs"), dir, &host(), &mut taken).unwrap();
    let chosen: Ipv4Cidr = "172.19.0.0/16".parse().unwrap();
    assert_eq!(plan1.networks[0].subnet, Some(chosen));
    assert_eq!(plan1.networks[0].seed_subnet, Some("172.18.0.0/16".parse().unwrap()));
    assert_eq!(plan1, plan2);
    assert!(taken.subnets.contains(&chosen), "the next plan will avoid it");
    assert!(plan1.notes.iter().any(|n| n.contains("172.19.0.0/16")), "{:?}", plan1.notes);
}

#[test]
fn taken_ports_fall_back_and_are_reported() {
    let mut taken = Taken { ports: [3001].into(), ..Taken::default() };
    let first = plan(&stack("nestjs"), Path::new("/s/nestjs"), &host(), &mut taken).unwrap();
    let app = container(&first, "app");
    assert_eq!(app.published[0].host, 13001);
    assert_eq!(app.published[0].wanted, 3001);
    assert!(first.notes.iter().any(|n| n.contains("127.0.0.1:13001")));
    // Stacks planned in one run do not collide with each other.
    let nginx = plan(&stack("nginx"), Path::new("/s/nginx"), &host(), &mut taken).unwrap();
    let senti = plan(&stack("sentineliq"), Path::new("/s/s"), &host(), &mut taken).unwrap();
    assert_eq!(container(&nginx, "db").published[0].host, 5432);
    assert_eq!(container(&senti, "postgres").published[0].host, 15432);
    assert_eq!(container(&senti, "server").published[0].host, 23001);
}

#[test]
fn memory_is_scaled_with_its_ratios_on_a_small_host_and_cpus_clamped() {
    let small = HostFacts { memory_bytes: Some(2 << 30), cpus: Some(1), ..host() };
    let plan = plan(&stack("nginx"), Path::new("/s/nginx"), &small, &mut Taken::default()).unwrap();
    let memory = |s: &str| container(&plan, s).memory_bytes.unwrap();
    let total: i64 = plan.containers.iter().filter_map(|c| c.memory_bytes).sum();
    assert!(total <= (2i64 << 30) * 3 / 4 + (5 << 20), "total {total}");
    assert!((memory("frontend") as f64 / memory("proxy") as f64 - 8.0).abs() < 0.1);
    assert!((memory("backend") as f64 / memory("db") as f64 - 2.0).abs() < 0.1);
    for c in &plan.containers {
        assert!(c.memory_reservation_bytes.unwrap() <= c.memory_bytes.unwrap());
        assert!(c.nano_cpus.unwrap() <= 1_000_000_000, "{}", c.service);
    }
    assert!(plan.notes.iter().any(|n| n.contains("memory limits scaled")));
    assert!(plan.notes.iter().any(|n| n.contains("frontend: CPU limit 1")));
}

#[test]
fn a_remote_engine_gets_no_bind_mounts() {
    let remote = HostFacts { bind_mounts: false, ..host() };
    let plan =
        plan(&stack("nginx"), Path::new("/s/nginx"), &remote, &mut Taken::default()).unwrap();
    assert!(plan.containers.iter().all(|c| c.mounts.iter().all(|m| m.kind == MountKind::Volume)));
    assert!(plan.notes.iter().any(|n| n.contains("bind mounts")));
}

#[test]
fn stand_ins_listen_on_every_port_and_answer_their_probe() {
    let s = Service::new("backend", "backend-dev")
        .publish(8000, 8000, Listener::Http)
        .expose(9000, Listener::Tcp)
        .health(Probe::Http { port: 8000, path: "/api/v1/health/" }, "curl", 30, 3);
    let script = standin_script("nginx", &s);
    assert!(script.contains("httpd -p 8000 -h /tmp/www"), "{script}");
    assert!(script.contains("nc -ll -p 9000 -e true & "), "{script}");
    assert!(script.contains("mkdir -p /tmp/www/api/v1/health;"), "{script}");
    assert!(script.contains("echo ok >/tmp/www/api/v1/health/index.html"), "{script}");
    assert!(script.contains("stands in for backend-dev"), "{script}");
    assert!(!script.contains("&;"), "a background job is not followed by `;`: {script}");
    let file = Service::new("proxy", "nginx").publish(80, 80, Listener::Http).health(
        Probe::Http { port: 80, path: "/health" },
        "wget",
        30,
        3,
    );
    assert!(standin_script("nginx", &file).contains("echo ok >/tmp/www/health;"));
    // The script runs under a real shell.
    let output = std::process::Command::new("sh").args(["-n", "-c", &script]).output();
    if let Ok(output) = output {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(sh_quote("it's"), r"'it'\''s'");
    assert_eq!(sh_quote("plain-word"), "plain-word");
}

#[test]
fn every_probe_is_served_by_its_stand_in() {
    for stack in stacks::all() {
        for service in &stack.services {
            let Some(health) = &service.health else { continue };
            let port = match health.probe {
                Probe::Http { port, .. } | Probe::Tcp { port } => port,
            };
            let listener = service.ports.iter().find(|p| p.container == port);
            let kind = match health.probe {
                Probe::Http { .. } => Listener::Http,
                Probe::Tcp { .. } => Listener::Tcp,
            };
            assert_eq!(
                listener.map(|l| l.listener),
                Some(kind),
                "{}: {} probes a port it does not serve",
                stack.name,
                service.name
            );
        }
    }
}

#[test]
fn state_directories() {
    assert_eq!(
        state_root(Some("/home/a/.state"), Some("/home/a"), 1000),
        PathBuf::from("/home/a/.state/portolan/demo")
    );
    assert_eq!(
        state_root(None, Some("/home/a"), 1000),
        PathBuf::from("/home/a/.local/state/portolan/demo")
    );
    assert_eq!(state_root(Some("relative"), None, 1000), PathBuf::from("/tmp/portolan-demo-1000"));
    assert!(is_stack_dir(Path::new("/home/a/.local/state/portolan/demo/nginx")));
    assert!(is_stack_dir(Path::new("/tmp/portolan-demo-1000/nginx")));
    for not in ["/home/a", "/", "/tmp/nginx", "relative/portolan/demo/x", "/x/portolan/demo/.."] {
        assert!(!is_stack_dir(Path::new(not)), "{not}");
    }
}
