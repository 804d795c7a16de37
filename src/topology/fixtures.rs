//! Models of the five demo stacks (as [`SEEDS`] names them) and a 60-container host,
//! built from plain values with the labels Docker Compose v2 sets. The map's tests,
//! snapshots and bench draw these; they are what `portolan demo up` will create on a
//! real engine, so the two can be compared. Pure data: no engine, no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::DEMO_IMAGE_LABEL;
use crate::model::compose::{DEPENDS_ON, PROJECT, SERVICE};
use crate::model::{
    Container, ContainerState, CpuCounter, EngineInfo, EngineKind, Health, HealthStatus,
    Healthcheck, Host, HostId, Inventory, Limits, Model, Mount, Network, NetworkAttachment, Port,
    RawSample, Update, Volume,
};

/// The pinned "now" of every fixture.
pub fn now() -> DateTime<Utc> {
    at(0)
}

fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 + second, 0).single().unwrap_or_default()
}

/// The demo stacks by name, in the order `demo list` shows them.
pub const SEEDS: &[&str] = &[
    "000-nestjs-postgres-redis",
    "001-traefik-next-nest-postgres",
    "002-nginx-react-django-postgres-redis",
    "003-sentineliq-elk-minio",
    "004-nestjs-mysql-dev-prod",
];

/// The model of one demo stack (or of the 60-container host, `many-60`).
pub fn seed(name: &str) -> Option<Model> {
    let stack = match name {
        "000-nestjs-postgres-redis" => seed_000(),
        "001-traefik-next-nest-postgres" => seed_001(),
        "002-nginx-react-django-postgres-redis" => seed_002(),
        "003-sentineliq-elk-minio" => seed_003(),
        "004-nestjs-mysql-dev-prod" => seed_004(),
        "many-60" => many(60),
        _ => return None,
    };
    Some(stack.into_model())
}

/// A stack under construction.
#[derive(Default)]
pub struct Stack {
    pub containers: Vec<Container>,
    pub networks: Vec<Network>,
    pub volumes: Vec<Volume>,
}

impl Stack {
    fn network(&mut self, name: &str, subnet: Option<&str>, internal: bool) {
        self.networks.push(Network {
            id: format!("{:0>12}", self.networks.len() + 1),
            name: name.into(),
            driver: Some("bridge".into()),
            scope: Some("local".into()),
            internal,
            subnets: subnet.map(String::from).into_iter().collect(),
            gateways: Vec::new(),
            labels: BTreeMap::new(),
            attachable: false,
        });
    }

    fn add(&mut self, c: Container) {
        for m in &c.mounts {
            if let (Some(name), "volume") = (&m.name, m.kind.as_str())
                && !self.volumes.iter().any(|v| &v.name == name)
            {
                self.volumes.push(Volume {
                    name: name.clone(),
                    driver: Some("local".into()),
                    labels: BTreeMap::new(),
                    ..Volume::default()
                });
            }
        }
        self.containers.push(c);
    }

    pub fn into_model(self) -> Model {
        let mut model = Model::new("unix:///var/run/docker.sock", at(-10));
        self.add_to(&mut model, 0, "unix:///var/run/docker.sock", "harbour");
        model
    }

    /// Puts the stack on engine `host` of `model`, connected and with two stats ticks.
    pub fn add_to(self, model: &mut Model, host: HostId, endpoint: &str, hostname: &str) {
        model.apply_from(
            host,
            Update::Connected {
                at: at(-10),
                info: Box::new(EngineInfo {
                    endpoint: endpoint.into(),
                    kind: EngineKind::Docker,
                    version: Some("27.3.1".into()),
                    api_version: Some("1.47".into()),
                    hostname: Some(hostname.into()),
                    cpus: Some(4),
                    memory_bytes: Some(16 << 30),
                    ..EngineInfo::default()
                }),
            },
        );
        let images = images_for(&self.containers, at(0));
        let running: Vec<(String, u64)> = self
            .containers
            .iter()
            .filter(|c| c.state.is_running())
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i as u64))
            .collect();
        model.apply_from(
            host,
            Update::Synced(Box::new(Inventory {
                containers: self.containers,
                networks: self.networks,
                volumes: self.volumes,
                last_log_lines: Vec::new(),
                networks_late: false,
            })),
        );
        model.apply_from(host, Update::Images(images));
        for (second, tick) in [(-1i64, 0u64), (0, 1)] {
            let samples = running
                .iter()
                .map(|(id, i)| {
                    (id.clone(), sample(second, tick * (20_000_000 + i * 7_000_000), *i))
                })
                .collect();
            model.apply_from(host, Update::Stats(samples));
        }
    }
}

/// The images a stack's containers ask for (each tag once, ids made from the name), a
/// dangling one left by a rebuild and an unused one: containers find theirs by name.
pub fn images_for(
    containers: &[Container],
    now: DateTime<Utc>,
) -> Vec<crate::model::images::Image> {
    let mut names: Vec<String> = containers
        .iter()
        .map(
            |c| if c.image.contains(':') { c.image.clone() } else { format!("{}:latest", c.image) },
        )
        .collect();
    names.sort();
    names.dedup();
    let hash = |text: &str| {
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let image = |name: Option<&str>, seed: &str, n: i64| {
        let h = hash(seed);
        crate::model::images::Image {
            id: format!("sha256:{h:016x}{:016x}", h.rotate_left(17)),
            repo_tags: name.map(String::from).into_iter().collect(),
            repo_digests: Vec::new(),
            size: Some(5_000_000 + h % 400_000_000),
            created: Some(
                now - chrono::Duration::seconds(86_400 * (1 + n % 40) + (h % 3_600) as i64),
            ),
            labels: BTreeMap::new(),
        }
    };
    let mut images: Vec<_> =
        names.iter().enumerate().map(|(n, name)| image(Some(name), name, n as i64)).collect();
    images.push(image(None, "dangling", 50));
    images.push(image(Some("alpine:3.19"), "alpine:3.19", 12));
    images
}

/// Three engines: `local` runs `seed_000`, `db2` (over ssh) runs `seed_002`, and `edge`
/// (over TLS) was lost a minute ago with `seed_001`'s containers as last known. Every
/// engine has its own `bridge`; container ids differ per engine.
pub fn three_hosts() -> Model {
    let hosts = vec![
        Host::new("local", "unix:///var/run/docker.sock", at(-10)),
        Host::new("db2", "ssh://ops@db2", at(-10)),
        Host::new("edge", "tcp://edge:2376", at(-10)),
    ];
    let mut model = Model::with_hosts(hosts, at(-10));
    seed_000().add_to(&mut model, 0, "unix:///var/run/docker.sock", "harbour");
    let mut second = seed_002();
    for c in &mut second.containers {
        c.id = format!("b{}", &c.id[1..]);
    }
    second.add_to(&mut model, 1, "ssh://ops@db2", "db2.example.net");
    let mut third = seed_001();
    for c in &mut third.containers {
        c.id = format!("c{}", &c.id[1..]);
    }
    third.add_to(&mut model, 2, "tcp://edge:2376", "edge-01");
    model.apply_from(
        2,
        Update::Disconnected {
            at: at(-60),
            reason: "connection refused at tcp://edge:2376".into(),
        },
    );
    model
}

fn sample(second: i64, cpu_ns: u64, i: u64) -> RawSample {
    RawSample {
        source: Default::default(),
        taken_at: at(second),
        cpu: Some(CpuCounter::Cgroup {
            usage_ns: cpu_ns,
            at_ns: (second + 100) as u64 * 1_000_000_000,
        }),
        memory_used: Some((24 + i * 37 % 200) << 20),
        memory_limit: Some(16 << 30),
        net_rx: Some(1000),
        net_tx: Some(1000),
        block_read: Some(0),
        block_write: Some(0),
        pids: Some(5),
        oom_kills: None,
    }
}

/// A running compose container of `project`/`service` on `network`.
fn svc(project: &str, service: &str, image: &str, network: &str) -> Container {
    let id = format!("{project}-{service}");
    let mut c = Container::new(format!("{id:0>12}"), format!("{project}-{service}-1"));
    c.image = image.into();
    c.state = ContainerState::Running;
    c.created = Some(at(-3700));
    c.started_at = Some(at(-3600));
    c.labels.insert(PROJECT.into(), project.into());
    c.labels.insert(SERVICE.into(), service.into());
    c.labels.insert("com.docker.compose.container-number".into(), "1".into());
    c.compose = Container::compose_from_labels(&c.labels);
    c.networks.push(NetworkAttachment {
        name: network.into(),
        ip: None,
        aliases: vec![service.into(), format!("{project}-{service}-1")],
    });
    c
}

/// Names the container as compose's `container_name:` would.
fn named(mut c: Container, name: &str) -> Container {
    c.name = name.into();
    c
}

fn demo(mut c: Container) -> Container {
    let intended = std::mem::replace(&mut c.image, "busybox:latest".into());
    c.labels.insert(DEMO_IMAGE_LABEL.into(), intended);
    c
}

fn depends(mut c: Container, deps: &str) -> Container {
    c.labels.insert(DEPENDS_ON.into(), deps.into());
    c.compose = Container::compose_from_labels(&c.labels);
    c
}

fn publish(mut c: Container, host_ip: Option<&str>, host: u16, inside: u16) -> Container {
    c.ports.push(Port {
        host_ip: Some(host_ip.unwrap_or("0.0.0.0").into()),
        host_port: Some(host),
        container_port: inside,
        protocol: "tcp".into(),
    });
    c
}

fn expose(mut c: Container, inside: u16) -> Container {
    c.ports.push(Port {
        host_ip: None,
        host_port: None,
        container_port: inside,
        protocol: "tcp".into(),
    });
    c
}

fn user(mut c: Container, user: &str) -> Container {
    c.user = Some(user.into());
    c
}

fn env(mut c: Container, key: &str, value: &str) -> Container {
    c.env.push((key.into(), value.into()));
    c
}

fn health(mut c: Container, status: HealthStatus, test: &str) -> Container {
    c.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), test.into()],
        interval_ns: Some(10_000_000_000),
        timeout_ns: Some(5_000_000_000),
        retries: Some(5),
        start_period_ns: None,
    });
    let failing = u64::from(status == HealthStatus::Unhealthy) * 4;
    c.health = Some(Health { status, failing_streak: failing, log: Vec::new() });
    c
}

fn volume(mut c: Container, name: &str, destination: &str) -> Container {
    c.mounts.push(Mount {
        kind: "volume".into(),
        name: Some(name.into()),
        source: None,
        destination: destination.into(),
        read_only: false,
    });
    c
}

fn bind(mut c: Container, source: &str, destination: &str, read_only: bool) -> Container {
    c.mounts.push(Mount {
        kind: "bind".into(),
        name: None,
        source: Some(source.into()),
        destination: destination.into(),
        read_only,
    });
    c
}

fn limits(mut c: Container, cpus: f64, memory_mib: u64) -> Container {
    c.limits = Limits {
        cpus: Some(cpus),
        memory_bytes: Some(memory_mib << 20),
        memory_reservation_bytes: None,
        pids: None,
    };
    c
}

fn also_on(mut c: Container, network: &str) -> Container {
    c.networks.push(NetworkAttachment { name: network.into(), ip: None, aliases: Vec::new() });
    c
}

use HealthStatus::{Healthy, Starting, Unhealthy};

/// 000: NestJS app with PostgreSQL and Redis on `nestjs-network`.
fn seed_000() -> Stack {
    let mut s = Stack::default();
    let net = "nestjs-network";
    s.network(net, Some("172.18.0.0/16"), false);
    let p = "nestjs";
    s.add(demo(volume(
        health(
            expose(user(svc(p, "postgres", "postgres:16", net), "postgres"), 5432),
            Healthy,
            "pg_isready -U postgres",
        ),
        "postgres_data",
        "/var/lib/postgresql/data",
    )));
    s.add(demo(volume(
        health(
            expose(user(svc(p, "redis", "redis:7-alpine", net), "redis"), 6379),
            Healthy,
            "redis-cli ping",
        ),
        "redis_data",
        "/data",
    )));
    let app = svc(p, "app", "node:20-alpine", net);
    let app = publish(user(app, "nestjs"), Some("127.0.0.1"), 3001, 3001);
    let app = env(app, "DATABASE_URL", "postgresql://nestjs:s3cr3t-pw@postgres:5432/nestjs_db");
    let app = env(app, "REDIS_URL", "redis://:redis-pw@redis:6379");
    let app = depends(app, "postgres:service_healthy:true,redis:service_healthy:true");
    s.add(demo(health(app, Healthy, "wget -qO- http://localhost:3001/")));
    s
}

/// 001: Traefik in front of Next.js and NestJS, PostgreSQL + pgvector behind.
fn seed_001() -> Stack {
    let mut s = Stack::default();
    let net = "selly-network";
    s.network(net, Some("172.25.0.0/16"), false);
    let p = "selly";
    let traefik = svc(p, "traefik", "traefik:v3.0", net);
    let traefik = publish(
        publish(publish(traefik, None, 80, 80), None, 443, 443),
        Some("127.0.0.1"),
        8080,
        8080,
    );
    let mut traefik = volume(traefik, "traefik-certificates", "/letsencrypt");
    traefik = bind(traefik, "/var/run/docker.sock", "/var/run/docker.sock", true);
    traefik.labels.insert("traefik.enable".into(), "true".into());
    let traefik = depends(traefik, "frontend:service_healthy:true,backend:service_healthy:true");
    s.add(health(traefik, Healthy, "traefik healthcheck --ping"));
    let mut web =
        expose(user(svc(p, "frontend", "ghcr.io/albaly/selly-web:1.4.2", net), "nextjs"), 3000);
    web.labels.insert("traefik.http.routers.web.rule".into(), "Host(`sellybase.albaly.jp`)".into());
    let web = env(web, "NEXT_PUBLIC_API_URL", "https://api.sellybase.albaly.jp");
    let web = limits(web, 1.0, 512);
    s.add(health(web, Healthy, "wget -qO- http://localhost:3000/"));
    let mut api =
        expose(user(svc(p, "backend", "ghcr.io/albaly/selly-api:1.4.2", net), "nestjs"), 3001);
    api.labels
        .insert("traefik.http.routers.api.rule".into(), "Host(`api.sellybase.albaly.jp`)".into());
    let api = env(api, "DATABASE_URL", "postgresql://selly:pa55@postgres:5432/selly?schema=public");
    let api = depends(limits(api, 1.0, 1024), "postgres:service_healthy:true");
    s.add(health(api, Healthy, "wget -qO- http://localhost:3001/health"));
    let db = expose(user(svc(p, "postgres", "pgvector/pgvector:pg16", net), "postgres"), 5432);
    let db = bind(
        volume(db, "postgres_data", "/var/lib/postgresql/data"),
        "/srv/selly/backups",
        "/backups",
        false,
    );
    s.add(health(db, Healthy, "pg_isready -U selly"));
    s
}

/// 002: nginx → React/Vite and Django, PostgreSQL and Redis; everything published for
/// debugging, binds for live editing.
fn seed_002() -> Stack {
    let mut s = Stack::default();
    let net = "app-network";
    s.network(net, Some("172.28.0.0/16"), false);
    let p = "app";
    let proxy = named(svc(p, "proxy", "nginx:1.27-alpine", net), "app-proxy");
    let proxy = limits(publish(proxy, None, 80, 80), 0.5, 256);
    let proxy = bind(proxy, "/srv/app/nginx/nginx.conf", "/etc/nginx/nginx.conf", true);
    let proxy = volume(proxy, "app-proxy-logs", "/var/log/nginx");
    let proxy = depends(proxy, "frontend:service_healthy:true,backend:service_healthy:true");
    s.add(demo(health(proxy, Healthy, "wget --spider http://localhost/health")));
    let fe = named(svc(p, "frontend", "frontend-dev:latest", net), "app-frontend");
    let fe = limits(publish(user(fe, "node"), None, 5173, 5173), 2.0, 2048);
    let fe = bind(
        bind(fe, "/srv/app/frontend/src", "/app/src", false),
        "/srv/app/frontend/public",
        "/app/public",
        false,
    );
    let fe = volume(fe, "app-frontend-node-modules", "/app/node_modules");
    let fe = env(fe, "VITE_API_URL", "http://backend:8000/api/v1");
    let fe = depends(fe, "backend:service_healthy:true");
    s.add(demo(health(fe, Healthy, "wget --spider http://localhost:5173")));
    let be = named(svc(p, "backend", "backend-dev:latest", net), "app-backend");
    let be = limits(publish(be, None, 8000, 8000), 2.0, 1024);
    let be = bind(
        bind(be, "/srv/app/backend", "/app", false),
        "/srv/app/backend/logs",
        "/app/logs",
        false,
    );
    let be = volume(
        volume(be, "app-backend-media", "/app/media"),
        "app-backend-static",
        "/app/staticfiles",
    );
    let be = env(be, "DATABASE_URL", "postgresql://postgres:django-pw@db:5432/backend_db");
    let be = env(be, "REDIS_URL", "redis://redis:6379/0");
    let be = depends(be, "db:service_healthy:true,redis:service_healthy:true");
    s.add(demo(health(be, Healthy, "curl -f http://localhost:8000/api/v1/health/")));
    let db = named(svc(p, "db", "postgres:15", net), "app-db");
    let db = limits(publish(user(db, "postgres"), None, 5432, 5432), 1.0, 512);
    s.add(demo(health(
        volume(db, "app-postgres-data", "/var/lib/postgresql/data"),
        Healthy,
        "pg_isready -U postgres -d backend_db",
    )));
    let redis = named(svc(p, "redis", "redis:7", net), "app-redis");
    let redis = limits(publish(user(redis, "redis"), None, 6379, 6379), 0.5, 256);
    s.add(demo(health(volume(redis, "app-redis-data", "/data"), Starting, "redis-cli ping")));
    s
}

/// 003: SentinelIQ — client and server, PostgreSQL, Redis, MinIO and the ELK stack.
fn seed_003() -> Stack {
    let mut s = Stack::default();
    let net = "sentineliq-network";
    s.network(net, Some("172.30.0.0/16"), false);
    let p = "sentineliq";
    let pg = expose(user(svc(p, "postgres", "postgres:16-alpine", net), "postgres"), 5432);
    s.add(health(volume(pg, "postgres-data", "/var/lib/postgresql/data"), Healthy, "pg_isready"));
    let redis = expose(svc(p, "redis", "redis:7-alpine", net), 6379);
    s.add(health(volume(redis, "redis-data", "/data"), Healthy, "redis-cli ping"));
    let minio = svc(p, "minio", "minio/minio:latest", net);
    let minio =
        publish(publish(minio, Some("127.0.0.1"), 9000, 9000), Some("127.0.0.1"), 9001, 9001);
    s.add(volume(minio, "minio-data", "/data"));
    let es = svc(p, "elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.11.0", net);
    let es = limits(expose(user(es, "elasticsearch"), 9200), 2.0, 2048);
    s.add(health(
        volume(es, "elasticsearch-data", "/usr/share/elasticsearch/data"),
        Healthy,
        "curl -fs http://localhost:9200/_cluster/health",
    ));
    let ls = svc(p, "logstash", "docker.elastic.co/logstash/logstash:8.11.0", net);
    let ls =
        env(expose(user(ls, "logstash"), 5000), "ELASTICSEARCH_HOSTS", "http://elasticsearch:9200");
    let ls = bind(ls, "/srv/sentineliq/config/pipeline", "/usr/share/logstash/pipeline", true);
    s.add(depends(ls, "elasticsearch:service_healthy:true"));
    let kb = svc(p, "kibana", "docker.elastic.co/kibana/kibana:8.11.0", net);
    let kb = env(
        publish(user(kb, "kibana"), Some("127.0.0.1"), 5601, 5601),
        "ELASTICSEARCH_HOSTS",
        r#"["http://elasticsearch:9200"]"#,
    );
    s.add(health(
        depends(kb, "elasticsearch:service_healthy:true"),
        Starting,
        "curl -fs http://localhost:5601/api/status",
    ));
    let server = svc(p, "server", "ghcr.io/killsearch/saas-server:main", net);
    let server = publish(user(server, "node"), None, 3001, 3001);
    let server = env(server, "DATABASE_URL", "postgresql://sentineliq:pw@postgres:5432/sentineliq");
    let server = env(server, "REDIS_URL", "redis://:redispw@redis:6379");
    let server = env(server, "LOGSTASH_HOST", "logstash:5000");
    let server = env(server, "S3_ENDPOINT", "http://minio:9000");
    let server = env(server, "ELASTICSEARCH_URL", "http://elasticsearch:9200");
    let server = depends(
        limits(server, 2.0, 4096),
        "postgres:service_healthy:true,redis:service_healthy:true,elasticsearch:service_healthy:true,logstash:service_started:true",
    );
    s.add(health(server, Healthy, "wget -qO- http://localhost:3001/health"));
    let client = svc(p, "client", "ghcr.io/killsearch/saas-client:main", net);
    let client =
        env(publish(client, None, 3000, 3000), "REACT_APP_API_BASE_URL", "http://server:3001");
    s.add(health(
        depends(client, "server:service_healthy:true"),
        Healthy,
        "wget -qO- http://localhost:3000/",
    ));
    s
}

/// 004: the same NestJS + MySQL app twice, dev (root, binds, hot reload) and prod.
fn seed_004() -> Stack {
    let mut s = Stack::default();
    for (p, net, suffix, app_port, db_port) in [
        ("nestjs-dev", "nestjs-network-dev", "-dev", 4000u16, 3307u16),
        ("nestjs", "nestjs-network", "", 4001, 3306),
    ] {
        s.network(net, None, false);
        let dev = !suffix.is_empty();
        let db_name = format!("nestjs_db{}", if dev { "_dev" } else { "" });
        let mysql = named(svc(p, "mysql", "mysql:8.0", net), &format!("nestjs-mysql{suffix}"));
        let mysql = publish(user(mysql, "mysql"), None, db_port, 3306);
        let mysql = volume(
            mysql,
            &format!("mysql_data{}", if dev { "_dev" } else { "" }),
            "/var/lib/mysql",
        );
        // The dev database is failing its healthcheck: its dependent's arrow turns red.
        let status = if dev { Unhealthy } else { Healthy };
        s.add(health(mysql, status, "mysqladmin ping -h localhost"));
        let app = named(svc(p, "app", "node:22-alpine", net), &format!("nestjs-app{suffix}"));
        let mut app = publish(app, None, app_port, 4000);
        app = env(app, "DATABASE_URL", &format!("mysql://nestjs_user:pw@mysql:3306/{db_name}"));
        app = env(app, "NODE_ENV", if dev { "development" } else { "production" });
        if dev {
            app = bind(
                bind(app, "/home/dev/nestjs-template/src", "/app/src", false),
                "/home/dev/nestjs-template/prisma",
                "/app/prisma",
                false,
            );
            app = volume(app, "nestjs-dev_node_modules", "/app/node_modules");
        } else {
            app = limits(user(app, "nestjs"), 1.0, 512);
        }
        let app = depends(app, "mysql:service_healthy:true");
        s.add(health(
            app,
            if dev { Starting } else { Healthy },
            "wget -qO- http://localhost:4000/health",
        ));
    }
    s
}

/// `n` containers in projects of ten: a proxy, web, api, three workers, a scheduler, a
/// mailer, PostgreSQL and Redis each, with a few in trouble.
fn many(n: usize) -> Stack {
    let mut s = Stack::default();
    let projects = n.div_ceil(10);
    for p in 0..projects {
        let project = format!("shop{p}");
        let net = format!("{project}_default");
        s.network(&net, Some(&format!("172.{}.0.0/16", 40 + p)), false);
        let mut services: Vec<Container> = Vec::new();
        let proxy = publish(
            svc(&project, "proxy", "nginx:1.27-alpine", &net),
            Some("127.0.0.1"),
            18000 + p as u16,
            80,
        );
        services.push(depends(proxy, "web:service_started:true,api:service_healthy:true"));
        let web = env(svc(&project, "web", "shop/web:2.1", &net), "API_URL", "http://api:8080");
        services.push(depends(web, "api:service_healthy:true"));
        let api = svc(&project, "api", "shop/api:2.1", &net);
        let api = env(
            env(api, "DATABASE_URL", "postgresql://shop:pw@postgres:5432/shop"),
            "REDIS_URL",
            "redis://redis:6379",
        );
        let status = if p == 2 { Unhealthy } else { Healthy };
        services.push(health(
            depends(api, "postgres:service_healthy:true,redis:service_started:true"),
            status,
            "curl -f localhost:8080/health",
        ));
        for w in 1..=3u32 {
            let mut worker = svc(&project, "worker", "shop/worker:2.1", &net);
            worker.name = format!("{project}-worker-{w}");
            worker.id = format!("{project}-worker-{w:0>4}");
            worker.labels.insert("com.docker.compose.container-number".into(), w.to_string());
            worker = depends(worker, "redis:service_started:true");
            worker = env(worker, "REDIS_URL", "redis://redis:6379/1");
            if p == 4 && w == 3 {
                worker.state = ContainerState::Exited;
                worker.exit_code = Some(137);
                worker.oom_killed = true;
            }
            services.push(worker);
        }
        services.push(depends(
            svc(&project, "scheduler", "shop/worker:2.1", &net),
            "redis:service_started:true",
        ));
        services.push(svc(&project, "mailer", "bytemark/smtp:latest", &net));
        services.push(health(
            volume(
                svc(&project, "postgres", "postgres:16", &net),
                &format!("{project}_pgdata"),
                "/var/lib/postgresql/data",
            ),
            Healthy,
            "pg_isready",
        ));
        services.push(volume(
            svc(&project, "redis", "redis:7-alpine", &net),
            &format!("{project}_redisdata"),
            "/data",
        ));
        for c in services.into_iter().take(n - s.containers.len()) {
            s.add(c);
        }
    }
    // One container on two networks, so the primary-network rule is exercised (the
    // no-user-network group has its own test in topology::tests).
    if let Some(c) = s.containers.iter_mut().find(|c| c.name == "shop0-proxy-1") {
        *c = also_on(c.clone(), "shop1_default");
    }
    s
}

/// Plain `docker run` containers on the default bridge, nothing connecting them: for
/// each `(prefix, count)`, `prefix1` to `prefixN`. Every 37th is unhealthy, every 53rd
/// exited, every 25th publishes a port. Ids are scrambled so the model's order (by
/// id) is not the names' order: whoever lists them must sort.
pub fn default_bridge(families: &[(&str, usize)]) -> Model {
    let mut s = Stack::default();
    let mut k = 0usize;
    for &(prefix, count) in families {
        for i in 1..=count {
            k += 1;
            let id = format!("{:012x}", (k * 7919) % 1_000_003);
            let mut c = Container::new(id, format!("{prefix}{i}"));
            c.image = "alpine:3.20".into();
            c.state = ContainerState::Running;
            c.created = Some(at(-3700));
            c.started_at = Some(at(-3600));
            c.user = Some("app".into());
            c.networks.push(NetworkAttachment {
                name: "bridge".into(),
                ip: None,
                aliases: Vec::new(),
            });
            if k.is_multiple_of(37) {
                c = health(c, Unhealthy, "wget -q -O- localhost/health");
            }
            if k.is_multiple_of(53) {
                c.state = ContainerState::Exited;
                c.exit_code = Some(1);
            }
            if k.is_multiple_of(25) {
                c = publish(c, None, 20_000 + k as u16, 80);
            }
            s.add(c);
        }
    }
    s.into_model()
}
