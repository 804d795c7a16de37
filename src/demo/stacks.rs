//! The demo stacks, one per reference design, as plain data.
//!
//! Each definition reproduces what its design's diagrams show: service names, the images
//! they name, users, ports (published or internal only), networks and subnets, named
//! volumes and bind mounts, healthchecks and their timings, `depends_on` with its
//! conditions, restart policies, resource limits, the environment URLs that connect
//! services, and the proxy's labels or configuration. Where a design is silent the choice
//! is what the named image or a usual compose file would do, and is said in a comment.

use super::spec::{Condition, FileSpec, Listener, NetworkSpec, Probe, Restart, Service, Stack};

use Condition::Healthy;
use Listener::{Http, Tcp};

/// Every stack, in the order `demo list` shows and `demo up` creates them.
pub fn all() -> Vec<Stack> {
    vec![nestjs(), traefik(), nginx(), sentineliq(), nestjs_mysql(), nestjs_mysql_dev()]
}

/// A NestJS API with PostgreSQL and Redis on `nestjs-network`
/// (172.18.0.0/16); only the app's port 3001 reaches the host.
fn nestjs() -> Stack {
    Stack {
        name: "nestjs",
        seed: "000-nestjs-postgres-redis.md",
        summary: "NestJS API, PostgreSQL and Redis on one bridge network",
        default: true,
        networks: vec![NetworkSpec { name: "nestjs-network", subnet: Some("172.18.0.0/16") }],
        volumes: vec!["postgres_data", "redis_data"],
        files: Vec::new(),
        services: vec![
            // "User: postgres": the uid of the postgres user in the official image.
            Service::new("postgres", "postgres:16")
                .user("999:999")
                .command(&["postgres"])
                .env("POSTGRES_USER", "postgres")
                .env("POSTGRES_PASSWORD", "demo-postgres-password")
                .env("POSTGRES_DB", "nestjs_db")
                .expose(5432, Tcp)
                .volume("postgres_data", "/var/lib/postgresql/data")
                .health(Probe::Tcp { port: 5432 }, "pg_isready -U postgres", 30, 5),
            // "Auth: password", "Cache: memory".
            Service::new("redis", "redis:7-alpine")
                .command(&[
                    "redis-server",
                    "--appendonly",
                    "yes",
                    "--requirepass",
                    "demo-redis-password",
                ])
                .expose(6379, Tcp)
                .volume("redis_data", "/data")
                .health(Probe::Tcp { port: 6379 }, "redis-cli ping", 30, 5),
            // "User: nestjs (UID: 1001) Group: nodejs (GID: 1001)", "HTTP :3001".
            Service::new("app", "node:20-alpine")
                .user("1001:1001")
                .command(&["node", "dist/src/main.js"])
                .env("NODE_ENV", "production")
                .env("PORT", "3001")
                .env(
                    "DATABASE_URL",
                    "postgresql://postgres:demo-postgres-password@postgres:5432/nestjs_db?schema=public",
                )
                .env("REDIS_URL", "redis://:demo-redis-password@redis:6379")
                .publish(3001, 3001, Http)
                .health(Probe::Http { port: 3001, path: "/" }, "wget http://localhost:3001/", 30, 3)
                .depends_on("postgres", Healthy)
                .depends_on("redis", Healthy),
        ],
    }
}

/// Traefik in front of a Next.js frontend and a NestJS backend, PostgreSQL
/// with pgvector behind them, on `selly-network` (172.25.0.0/16). The service names
/// `web` and `api` are the design's own (`docker logs selly-web`, `--scale api=3`);
/// the routers are named after the diagram's boxes.
fn traefik() -> Stack {
    Stack {
        name: "traefik",
        seed: "001-traefik-next-nest-postgres.md",
        summary: "Traefik routing by Host to Next.js and NestJS, PostgreSQL not exposed",
        default: true,
        networks: vec![NetworkSpec { name: "selly-network", subnet: Some("172.25.0.0/16") }],
        volumes: vec!["postgres_data", "traefik-certificates"],
        files: vec![FileSpec { path: "backups/README", contents: BACKUPS_README.to_string() }],
        services: vec![
            Service::new("traefik", "traefik:v3.0")
                .command(&[
                    "--api.dashboard=true",
                    "--ping=true",
                    "--providers.docker=true",
                    "--providers.docker.exposedbydefault=false",
                    "--providers.docker.network=traefik_selly-network",
                    "--entrypoints.web.address=:80",
                    "--entrypoints.web.http.redirections.entrypoint.to=websecure",
                    "--entrypoints.web.http.redirections.entrypoint.scheme=https",
                    "--entrypoints.websecure.address=:443",
                    "--entrypoints.traefik.address=:8080",
                    "--certificatesresolvers.letsencrypt.acme.tlschallenge=true",
                    "--certificatesresolvers.letsencrypt.acme.email=admin@example.com",
                    "--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json",
                    "--accesslog=true",
                    "--log.level=INFO",
                ])
                .publish(80, 80, Http)
                .publish(443, 443, Http)
                .publish(8080, 8080, Http)
                .volume("traefik-certificates", "/letsencrypt")
                .health(
                    Probe::Http { port: 8080, path: "/ping" },
                    "traefik healthcheck --ping",
                    30,
                    3,
                )
                .label("traefik.enable", "true")
                .label("traefik.http.routers.dashboard.rule", "Host(`traefik.sellybase.albaly.jp`)")
                .label("traefik.http.routers.dashboard.entrypoints", "websecure")
                .label("traefik.http.routers.dashboard.service", "api@internal")
                .label("traefik.http.routers.dashboard.tls.certresolver", "letsencrypt")
                .label("traefik.http.routers.dashboard.middlewares", "security-headers")
                // Middlewares: rate limiting, security headers, compression, CORS.
                .label("traefik.http.middlewares.security-headers.headers.stsSeconds", "31536000")
                .label(
                    "traefik.http.middlewares.security-headers.headers.stsIncludeSubdomains",
                    "true",
                )
                .label("traefik.http.middlewares.security-headers.headers.browserXssFilter", "true")
                .label(
                    "traefik.http.middlewares.security-headers.headers.contentTypeNosniff",
                    "true",
                )
                .label("traefik.http.middlewares.security-headers.headers.frameDeny", "true")
                .label("traefik.http.middlewares.compress.compress", "true")
                .label("traefik.http.middlewares.api-ratelimit.ratelimit.average", "100")
                .label("traefik.http.middlewares.api-ratelimit.ratelimit.burst", "50")
                .label(
                    "traefik.http.middlewares.cors.headers.accesscontrolallowmethods",
                    "GET,OPTIONS,PUT,POST,DELETE,PATCH",
                )
                .label(
                    "traefik.http.middlewares.cors.headers.accesscontrolalloworiginlist",
                    "https://sellybase.albaly.jp",
                )
                .label(
                    "traefik.http.middlewares.cors.headers.accesscontrolallowheaders",
                    "Authorization,Content-Type",
                ),
            // "User: nextjs": uid 1001 in Next.js's standalone Dockerfile.
            Service::new("web", "selly-web:latest")
                .user("1001:1001")
                .command(&["node", "server.js"])
                .env("NODE_ENV", "production")
                .env("PORT", "3000")
                .env("NEXT_PUBLIC_API_URL", "https://api.sellybase.albaly.jp")
                .expose(3000, Http)
                .health(
                    Probe::Http { port: 3000, path: "/" },
                    "wget -q --spider http://localhost:3000/",
                    30,
                    3,
                )
                .label("traefik.enable", "true")
                .label("traefik.http.routers.frontend.rule", "Host(`sellybase.albaly.jp`)")
                .label("traefik.http.routers.frontend.entrypoints", "websecure")
                .label("traefik.http.routers.frontend.tls.certresolver", "letsencrypt")
                .label("traefik.http.routers.frontend.middlewares", "security-headers,compress")
                .label("traefik.http.services.frontend.loadbalancer.server.port", "3000"),
            Service::new("api", "selly-api:latest")
                .user("1001:1001")
                .command(&["node", "dist/main"])
                .env("NODE_ENV", "production")
                .env("PORT", "3001")
                .env(
                    "DATABASE_URL",
                    "postgresql://postgres:demo-postgres-password@postgres:5432/sellybase",
                )
                .env("JWT_SECRET", "demo-jwt-secret")
                .env("CORS_ORIGIN", "https://sellybase.albaly.jp")
                .expose(3001, Http)
                .health(
                    Probe::Http { port: 3001, path: "/health" },
                    "wget -q --spider http://localhost:3001/health",
                    30,
                    3,
                )
                .depends_on("postgres", Healthy)
                .label("traefik.enable", "true")
                .label("traefik.http.routers.backend.rule", "Host(`api.sellybase.albaly.jp`)")
                .label("traefik.http.routers.backend.entrypoints", "websecure")
                .label("traefik.http.routers.backend.tls.certresolver", "letsencrypt")
                .label(
                    "traefik.http.routers.backend.middlewares",
                    "api-ratelimit,security-headers,cors",
                )
                .label("traefik.http.services.backend.loadbalancer.server.port", "3001"),
            // "POSTGRESQL CONTAINER + pgvector", "Not Exposed", backups on the host.
            Service::new("postgres", "pgvector/pgvector:pg16")
                .user("999:999")
                .command(&["postgres"])
                .env("POSTGRES_USER", "postgres")
                .env("POSTGRES_PASSWORD", "demo-postgres-password")
                .env("POSTGRES_DB", "sellybase")
                .expose(5432, Tcp)
                .volume("postgres_data", "/var/lib/postgresql/data")
                .bind("backups", "/backups", false)
                .health(Probe::Tcp { port: 5432 }, "pg_isready -U postgres -d sellybase", 10, 5)
                .label("traefik.enable", "false"),
        ],
    }
}

/// nginx in front of a Vite/React frontend and a Django backend, with
/// PostgreSQL and Redis, all on `app-network`, every port published for debugging,
/// limits and reservations as the design sets them (the optional celery is left out,
/// as its profile is off by default).
fn nginx() -> Stack {
    Stack {
        name: "nginx",
        seed: "002-nginx-react-django-postgres-redis.md",
        summary: "nginx proxy to Vite/React and Django, PostgreSQL and Redis, with limits",
        default: true,
        networks: vec![NetworkSpec { name: "app-network", subnet: None }],
        volumes: vec![
            "postgres_data",
            "redis_data",
            "backend_media",
            "backend_static",
            "frontend_node_modules",
            "proxy_logs",
        ],
        files: vec![FileSpec { path: "nginx/nginx.conf", contents: NGINX_CONF.to_string() }],
        services: vec![
            Service::new("proxy", "nginx:1.27-alpine")
                .command(&["nginx", "-g", "daemon off;"])
                .publish(80, 80, Http)
                .bind("nginx/nginx.conf", "/etc/nginx/nginx.conf", true)
                .volume("proxy_logs", "/var/log/nginx")
                .health(
                    Probe::Http { port: 80, path: "/health" },
                    "wget --spider http://localhost/health",
                    30,
                    3,
                )
                .depends_on("frontend", Healthy)
                .depends_on("backend", Healthy)
                .limits(0.5, 256, Some(128)),
            Service::new("frontend", "frontend-dev")
                .command(&["npm", "run", "dev", "--", "--host", "0.0.0.0"])
                .env("NODE_ENV", "development")
                .env("VITE_PROXY_TARGET", "http://backend:8000")
                .publish(5173, 5173, Http)
                .bind("frontend/src", "/app/src", false)
                .bind("frontend/public", "/app/public", false)
                .volume("frontend_node_modules", "/app/node_modules")
                .health(
                    Probe::Http { port: 5173, path: "/" },
                    "wget --spider http://localhost:5173",
                    30,
                    3,
                )
                .start_period(30)
                .depends_on("backend", Healthy)
                .limits(2.0, 2048, Some(512)),
            Service::new("backend", "backend-dev")
                .command(&["python", "manage.py", "runserver", "0.0.0.0:8000"])
                .env("DEBUG", "1")
                .env(
                    "DATABASE_URL",
                    "postgres://postgres:demo-postgres-password@db:5432/backend_db",
                )
                .env("REDIS_URL", "redis://redis:6379/0")
                .publish(8000, 8000, Http)
                .bind("backend", "/app", false)
                .bind("backend/logs", "/app/logs", false)
                .volume("backend_media", "/app/media")
                .volume("backend_static", "/app/staticfiles")
                .health(
                    Probe::Http { port: 8000, path: "/api/v1/health/" },
                    "curl -f http://localhost:8000/api/v1/health/",
                    30,
                    3,
                )
                .start_period(30)
                .depends_on("db", Healthy)
                .depends_on("redis", Healthy)
                .limits(2.0, 1024, Some(512)),
            Service::new("db", "postgres:15")
                .command(&["postgres"])
                .env("POSTGRES_DB", "backend_db")
                .env("POSTGRES_USER", "postgres")
                .env("POSTGRES_PASSWORD", "demo-postgres-password")
                .publish(5432, 5432, Tcp)
                .volume("postgres_data", "/var/lib/postgresql/data")
                .health(Probe::Tcp { port: 5432 }, "pg_isready -U postgres -d backend_db", 10, 3)
                .limits(1.0, 512, Some(256)),
            Service::new("redis", "redis:7")
                .command(&["redis-server", "--appendonly", "yes"])
                .publish(6379, 6379, Tcp)
                .volume("redis_data", "/data")
                .health(Probe::Tcp { port: 6379 }, "redis-cli ping", 10, 3)
                .limits(0.5, 256, Some(128)),
        ],
    }
}

/// SentinelIQ in production, eight services on `sentineliq-network`: data
/// stores, the ELK logging stack, the Node.js server and the nginx/React client, with
/// the limits of a small production deployment and every port the design lists
/// published on 127.0.0.1.
fn sentineliq() -> Stack {
    Stack {
        name: "sentineliq",
        seed: "003-sentineliq-elk-minio.md",
        summary: "Node.js server and React client with PostgreSQL, Redis, MinIO and ELK",
        default: true,
        networks: vec![NetworkSpec { name: "sentineliq-network", subnet: None }],
        volumes: vec!["postgres-data", "redis-data", "minio-data", "elasticsearch-data"],
        files: vec![FileSpec {
            path: "logstash/pipeline/logstash.conf",
            contents: LOGSTASH_CONF.to_string(),
        }],
        services: vec![
            Service::new("postgres", "postgres:16-alpine")
                .command(&["postgres"])
                .env("POSTGRES_USER", "user")
                .env("POSTGRES_PASSWORD", "pass")
                .env("POSTGRES_DB", "db")
                .publish(5432, 5432, Tcp)
                .volume("postgres-data", "/var/lib/postgresql/data")
                .health(Probe::Tcp { port: 5432 }, "pg_isready -U user -d db", 10, 5)
                .limits(2.0, 4096, None),
            Service::new("redis", "redis:7-alpine")
                .command(&["redis-server", "--appendonly", "yes"])
                .publish(6379, 6379, Tcp)
                .volume("redis-data", "/data")
                .health(Probe::Tcp { port: 6379 }, "redis-cli ping", 10, 5)
                .limits(1.0, 1024, None),
            Service::new("minio", "minio/minio:latest")
                .command(&["server", "/data", "--console-address", ":9001"])
                .env("MINIO_ROOT_USER", "minioadmin")
                .env("MINIO_ROOT_PASSWORD", "demo-minio-password")
                .publish(9000, 9000, Http)
                .publish(9001, 9001, Http)
                .volume("minio-data", "/data")
                .health(
                    Probe::Http { port: 9000, path: "/minio/health/live" },
                    "curl -f http://localhost:9000/minio/health/live",
                    30,
                    3,
                )
                .limits(0.5, 512, None),
            // The Elastic images run as uid 1000, gid 0.
            Service::new("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.11.0")
                .user("1000:0")
                .env("discovery.type", "single-node")
                .env("xpack.security.enabled", "false")
                .env("ES_JAVA_OPTS", "-Xms512m -Xmx512m")
                .publish(9200, 9200, Http)
                .volume("elasticsearch-data", "/usr/share/elasticsearch/data")
                .health(
                    Probe::Http { port: 9200, path: "/_cluster/health" },
                    "curl -fs http://localhost:9200/_cluster/health",
                    30,
                    5,
                )
                .start_period(30)
                .limits(2.0, 2048, None),
            Service::new("logstash", "docker.elastic.co/logstash/logstash:8.11.0")
                .user("1000:0")
                .env("ELASTICSEARCH_HOSTS", "http://elasticsearch:9200")
                .env("LS_JAVA_OPTS", "-Xms256m -Xmx256m")
                .publish(5000, 5000, Tcp)
                .bind("logstash/pipeline", "/usr/share/logstash/pipeline", true)
                .health(Probe::Tcp { port: 5000 }, "curl -fs http://localhost:9600/", 30, 5)
                .depends_on("elasticsearch", Healthy)
                .limits(0.5, 512, None),
            Service::new("kibana", "docker.elastic.co/kibana/kibana:8.11.0")
                .user("1000:0")
                .env("ELASTICSEARCH_HOSTS", "http://elasticsearch:9200")
                .publish(5601, 5601, Http)
                .health(
                    Probe::Http { port: 5601, path: "/api/status" },
                    "curl -fs http://localhost:5601/api/status",
                    30,
                    5,
                )
                .depends_on("elasticsearch", Healthy)
                .limits(0.5, 512, None),
            Service::new("server", "ghcr.io/killsearch/saas-server:main")
                .command(&["node", "build/server.js"])
                .env("NODE_ENV", "production")
                .env("PORT", "3001")
                .env("DATABASE_URL", "postgresql://user:pass@postgres:5432/db")
                .env("REDIS_URL", "redis://redis:6379")
                .env("LOGSTASH_HOST", "logstash:5000")
                .env("S3_ENDPOINT", "http://minio:9000")
                .publish(3001, 3001, Http)
                .health(
                    Probe::Http { port: 3001, path: "/health" },
                    "curl -f http://localhost:3001/health",
                    30,
                    3,
                )
                .depends_on("postgres", Healthy)
                .depends_on("redis", Healthy)
                .depends_on("elasticsearch", Healthy)
                .depends_on("logstash", Healthy)
                .limits(2.0, 4096, None),
            Service::new("client", "ghcr.io/killsearch/saas-client:main")
                .command(&["nginx", "-g", "daemon off;"])
                .env("REACT_APP_API_BASE_URL", "http://server:3001")
                .publish(3000, 3000, Http)
                .health(
                    Probe::Http { port: 3000, path: "/" },
                    "curl -f http://localhost:3000/",
                    30,
                    3,
                )
                .depends_on("server", Healthy)
                .limits(0.5, 512, None),
        ],
    }
}

/// Production: the NestJS app (non-root, read-only root filesystem) and
/// MySQL 8.0 on `nestjs-network`, both `unless-stopped`, health checked every 10 s.
fn nestjs_mysql() -> Stack {
    Stack {
        name: "nestjs-mysql",
        seed: "004-nestjs-mysql-dev-prod.md",
        summary: "NestJS and MySQL 8.0, production: non-root, read-only, unless-stopped",
        default: true,
        networks: vec![NetworkSpec { name: "nestjs-network", subnet: None }],
        volumes: vec!["mysql_data"],
        files: Vec::new(),
        services: vec![
            Service::new("app", "node:22-alpine")
                .user("1001:1001")
                .command(&["node", "dist/main"])
                .env("NODE_ENV", "production")
                .env("PORT", "4000")
                .env("DATABASE_URL", "mysql://nestjs_user:demo-mysql-password@mysql:3306/nestjs_db")
                .publish(4000, 4000, Http)
                .read_only()
                .tmpfs("/tmp")
                .health(
                    Probe::Http { port: 4000, path: "/health" },
                    "wget -q --spider http://localhost:4000/health",
                    10,
                    3,
                )
                .depends_on("mysql", Healthy),
            Service::new("mysql", "mysql:8.0")
                .command(&["--innodb-buffer-pool-size=256M", "--max-connections=200"])
                .env("MYSQL_DATABASE", "nestjs_db")
                .env("MYSQL_USER", "nestjs_user")
                .env("MYSQL_PASSWORD", "demo-mysql-password")
                .env("MYSQL_ROOT_PASSWORD", "demo-root-password")
                .publish(3306, 3306, Tcp)
                .volume("mysql_data", "/var/lib/mysql")
                .health(Probe::Tcp { port: 3306 }, "mysqladmin ping -h localhost", 10, 5),
        ],
    }
}

/// Development: the same two services as root with hot reload (source bind
/// mounts, protected node_modules and dist volumes), MySQL on host port 3307, on
/// `nestjs-network-dev`. A variant: `demo up` starts it only when named.
fn nestjs_mysql_dev() -> Stack {
    Stack {
        name: "nestjs-mysql-dev",
        seed: "004-nestjs-mysql-dev-prod.md",
        summary: "nestjs-mysql for development: root, hot reload, MySQL on 3307",
        default: false,
        networks: vec![NetworkSpec { name: "nestjs-network-dev", subnet: None }],
        volumes: vec!["mysql_data_dev", "node_modules", "dist"],
        files: Vec::new(),
        services: vec![
            Service::new("app", "node:22-alpine")
                .command(&["npm", "run", "start:dev"])
                .env("NODE_ENV", "development")
                .env("PORT", "4000")
                .env(
                    "DATABASE_URL",
                    "mysql://nestjs_user:demo-mysql-password@mysql:3306/nestjs_db_dev",
                )
                .publish(4000, 4000, Http)
                .bind("src", "/app/src", false)
                .bind("prisma", "/app/prisma", false)
                .bind("test", "/app/test", false)
                .volume("node_modules", "/app/node_modules")
                .volume("dist", "/app/dist")
                .health(
                    Probe::Http { port: 4000, path: "/health" },
                    "wget -q --spider http://localhost:4000/health",
                    10,
                    3,
                )
                .depends_on("mysql", Healthy)
                .restart(Restart::No),
            Service::new("mysql", "mysql:8.0")
                .env("MYSQL_DATABASE", "nestjs_db_dev")
                .env("MYSQL_USER", "nestjs_user")
                .env("MYSQL_PASSWORD", "demo-mysql-password")
                .env("MYSQL_ROOT_PASSWORD", "demo-root-password")
                .publish(3307, 3306, Tcp)
                .volume("mysql_data_dev", "/var/lib/mysql")
                .health(Probe::Tcp { port: 3306 }, "mysqladmin ping -h localhost", 10, 5)
                .restart(Restart::No),
        ],
    }
}

const BACKUPS_README: &str = "\
Database backups of the traefik demo stack (seed 001: maintenance.sh writes
gzip-compressed pg_dump files here and keeps the last 7). Mounted at /backups
in the postgres container.
";

/// The proxy configuration of the `nginx` stack, bind-mounted read-only at
/// /etc/nginx/nginx.conf in the proxy container.
pub const NGINX_CONF: &str = r#"# nginx.conf for the proxy of the portolan demo stack `nginx` (seed 002).
# Mounted read-only at /etc/nginx/nginx.conf.

user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log    /var/log/nginx/access.log;
    sendfile      on;
    keepalive_timeout  65;
    client_max_body_size 20M;

    gzip  on;
    gzip_types text/plain text/css application/json application/javascript text/xml;

    # WebSocket upgrade for Vite's hot module reload.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    server {
        listen 80;
        server_name localhost;

        add_header X-Frame-Options "SAMEORIGIN" always;
        add_header X-Content-Type-Options "nosniff" always;

        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;

        location = /health {
            access_log off;
            add_header Content-Type text/plain;
            return 200 "healthy\n";
        }

        location /api/ {
            proxy_pass http://backend:8000;
        }

        location /admin/ {
            proxy_pass http://backend:8000;
        }

        location /static/ {
            proxy_pass http://backend:8000;
        }

        location /media/ {
            proxy_pass http://backend:8000;
        }

        location /ws {
            proxy_pass http://frontend:5173;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 86400;
        }

        location /@vite/ {
            proxy_pass http://frontend:5173;
        }

        location / {
            proxy_pass http://frontend:5173;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }
    }
}
"#;

/// Logstash's pipeline for the `sentineliq` stack: JSON lines on TCP 5000 into
/// Elasticsearch.
pub const LOGSTASH_CONF: &str = r#"# Pipeline of the portolan demo stack `sentineliq` (seed 003):
# the server logs JSON lines to logstash:5000, indexed into Elasticsearch.
input {
  tcp {
    port => 5000
    codec => json_lines
  }
}

output {
  elasticsearch {
    hosts => ["http://elasticsearch:9200"]
    index => "sentineliq-%{+YYYY.MM.dd}"
  }
}
"#;
