//! `portolan demo` on the real engine, through the real binary: `demo up nestjs` and
//! `demo up nginx`, everything checked with `docker inspect` against the plan the
//! library makes for this host, then `demo down` leaves nothing behind. A guard runs
//! `demo down` also when an assertion fails.
//!
//! The stacks have fixed names on a shared engine: the test refuses to start when one
//! of them is already up (it was not made by this test, so it is left alone).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use portolan::demo::net::{Ipv4Cidr, choose_subnet};
use portolan::demo::plan::{ContainerPlan, HostFacts, MountKind, StackPlan, Taken, plan};
use portolan::demo::stacks;
use serde_json::Value;
use support::{docker, docker_ok};

const STACKS: [&str; 2] = ["nestjs", "nginx"];
/// The other seed stacks, brought up after the first two are down (their ports overlap).
const OTHERS: [&str; 3] = ["traefik", "sentineliq", "nestjs-mysql"];
const HEALTHY_WITHIN: Duration = Duration::from_secs(90);

fn image() -> String {
    std::env::var("PORTOLAN_TEST_IMAGE").unwrap_or_else(|_| "busybox:latest".into())
}

/// The binary with a private state directory.
struct Demo {
    state_home: PathBuf,
}

impl Demo {
    fn new(test: &str) -> Demo {
        let state_home = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("demo-live-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&state_home).unwrap();
        Demo { state_home }
    }

    fn state_root(&self) -> PathBuf {
        self.state_home.join("portolan").join("demo")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_portolan"))
            .env("XDG_STATE_HOME", &self.state_home)
            .env_remove("NO_COLOR")
            .arg("demo")
            .args(args)
            .output()
            .expect("the portolan binary runs")
    }

    fn run_ok(&self, args: &[&str]) -> (String, String) {
        let started = Instant::now();
        let output = self.run(args);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        );
        assert!(
            output.status.success(),
            "portolan demo {} failed ({:?}):\n{stderr}\n{stdout}",
            args.join(" "),
            output.status
        );
        eprintln!("demo {} took {:.1} s", args.join(" "), started.elapsed().as_secs_f64());
        (stdout, stderr)
    }
}

/// Runs `demo down` for the test's stacks when dropped, also after a failed assertion.
struct Guard<'a>(&'a Demo);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let mut args = vec!["down"];
        args.extend(STACKS);
        args.extend(OTHERS);
        let _ = self.0.run(&args);
        let _ = std::fs::remove_dir_all(&self.0.state_home);
    }
}

fn labelled(kind: &str, stack: &str) -> Vec<String> {
    let filter = format!("label=org.portolan.demo={stack}");
    let args: Vec<&str> = match kind {
        "container" => vec!["ps", "-aq", "--filter", &filter],
        "network" => vec!["network", "ls", "-q", "--filter", &filter],
        _ => vec!["volume", "ls", "-q", "--filter", &filter],
    };
    docker_ok(&args).split_whitespace().map(String::from).collect()
}

fn inspect(args: &[&str]) -> Value {
    let text = docker_ok(args);
    let value: Value = serde_json::from_str(&text).unwrap();
    value[0].clone()
}

/// Every IPv4 subnet the engine's networks use now.
fn engine_subnets() -> Vec<Ipv4Cidr> {
    let ids = docker_ok(&["network", "ls", "-q"]);
    let mut args =
        vec!["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}"];
    args.extend(ids.split_whitespace());
    docker_ok(&args).split_whitespace().filter_map(|s| s.parse().ok()).collect()
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The plan the library makes for this host, with what the engine holds before `up`.
fn expected(demo: &Demo, stack: &str) -> StackPlan {
    let facts = docker_ok(&["info", "--format", "{{.NCPU}} {{.MemTotal}}"]);
    let mut facts = facts.split_whitespace();
    let cpus = facts.next().and_then(|n| n.parse().ok());
    let memory_bytes = facts.next().and_then(|n| n.parse().ok());
    let image_id = docker_ok(&["image", "inspect", "--format", "{{.Id}}", &image()]);
    let host = HostFacts {
        image: image(),
        image_id: Some(image_id),
        cpus,
        memory_bytes,
        bind_mounts: true,
    };
    let definition = stacks::all().into_iter().find(|s| s.name == stack).unwrap();
    let mut taken = Taken { subnets: engine_subnets(), ports: BTreeSet::new() };
    plan(&definition, &demo.state_root().join(stack), &host, &mut taken).unwrap()
}

fn wait_healthy(plan: &StackPlan) -> Duration {
    let started = Instant::now();
    loop {
        let states: Vec<String> = plan
            .containers
            .iter()
            .map(|c| {
                docker_ok(&[
                    "inspect",
                    "--format",
                    "{{.State.Status}} {{.State.Health.Status}}",
                    &c.name,
                ])
            })
            .collect();
        if states.iter().all(|s| s == "running healthy") {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < HEALTHY_WITHIN,
            "{}: not all healthy after {HEALTHY_WITHIN:?}: {states:?}",
            plan.stack
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// One container as the engine has it, against its plan.
fn check_container(c: &ContainerPlan, free_before: &BTreeSet<u16>) {
    let got = inspect(&["inspect", &c.name]);
    let config = &got["Config"];
    let host = &got["HostConfig"];
    let who = &c.name;
    for (key, value) in &c.labels {
        assert_eq!(config["Labels"][key], value.as_str(), "{who}: label {key}");
    }
    assert_eq!(config["Image"], c.image.as_str(), "{who}");
    assert_eq!(config["User"], c.user.clone().unwrap_or_default().as_str(), "{who}: user");
    assert_eq!(config["Entrypoint"], serde_json::json!(c.entrypoint), "{who}");
    assert_eq!(config["Cmd"], serde_json::json!(c.cmd), "{who}");
    let env: Vec<&str> =
        config["Env"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for pair in &c.env {
        assert!(env.contains(&pair.as_str()), "{who}: env {pair}");
    }
    let health = c.health.as_ref().unwrap();
    assert_eq!(config["Healthcheck"]["Test"], serde_json::json!(health.test), "{who}");
    assert_eq!(config["Healthcheck"]["Interval"], health.interval.as_nanos() as u64, "{who}");
    assert_eq!(config["Healthcheck"]["Retries"], health.retries, "{who}");
    assert_eq!(got["State"]["Health"]["Status"], "healthy", "{who}");
    assert_eq!(host["RestartPolicy"]["Name"], c.restart.as_str(), "{who}");
    assert_eq!(host["NanoCpus"], c.nano_cpus.unwrap_or(0), "{who}: cpus");
    assert_eq!(host["Memory"], c.memory_bytes.unwrap_or(0), "{who}: memory");
    assert_eq!(
        host["MemoryReservation"],
        c.memory_reservation_bytes.unwrap_or(0),
        "{who}: memory reservation"
    );
    assert_eq!(host["ReadonlyRootfs"], c.read_only, "{who}");
    for port in &c.exposed {
        assert!(config["ExposedPorts"].get(format!("{port}/tcp")).is_some(), "{who}: {port}");
    }
    let bindings = &host["PortBindings"];
    assert_eq!(
        bindings.as_object().map_or(0, |b| b.len()),
        c.published.len(),
        "{who}: only the seed's published ports"
    );
    for port in &c.published {
        let binding = &bindings[format!("{}/tcp", port.container)][0];
        assert_eq!(binding["HostIp"], "127.0.0.1", "{who}: bound to loopback only");
        let host_port: u16 = binding["HostPort"].as_str().unwrap().parse().unwrap();
        if free_before.contains(&port.wanted) {
            assert_eq!(host_port, port.wanted, "{who}: the seed's port was free");
        } else {
            assert_ne!(host_port, port.wanted, "{who}: the seed's port was taken");
        }
    }
    for (network, aliases) in &c.networks {
        let attached = &got["NetworkSettings"]["Networks"][network];
        assert!(attached.is_object(), "{who}: on {network}");
        for alias in aliases {
            assert!(
                attached["Aliases"].as_array().unwrap().iter().any(|a| a == alias.as_str()),
                "{who}: alias {alias} on {network}"
            );
        }
    }
    let mounts = got["Mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), c.mounts.len(), "{who}: mounts {mounts:?}");
    for mount in &c.mounts {
        let found = mounts
            .iter()
            .find(|m| m["Destination"] == mount.target.as_str())
            .unwrap_or_else(|| panic!("{who}: no mount at {}", mount.target));
        match mount.kind {
            MountKind::Volume => {
                assert_eq!(found["Type"], "volume");
                assert_eq!(found["Name"], mount.source.as_str());
            }
            MountKind::Bind => {
                assert_eq!(found["Type"], "bind");
                assert_eq!(found["Source"], mount.source.as_str());
                assert!(Path::new(&mount.source).exists(), "{who}: {}", mount.source);
            }
        }
        assert_eq!(found["RW"], !mount.read_only, "{who}: {}", mount.target);
    }
}

/// Networks and volumes of a stack as the engine has them, against the plan.
fn check_stack(plan: &StackPlan, subnets_before: &[Ipv4Cidr], free_before: &BTreeSet<u16>) {
    for network in &plan.networks {
        let got = inspect(&["network", "inspect", &network.name]);
        for (key, value) in &network.labels {
            assert_eq!(got["Labels"][key], value.as_str(), "{}: label {key}", network.name);
        }
        let subnet = got["IPAM"]["Config"][0]["Subnet"].as_str().unwrap().to_string();
        match network.seed_subnet {
            Some(seed) => {
                // The seed's subnet, or the same choice the plan makes when it is taken.
                let wanted = choose_subnet(seed, subnets_before).unwrap();
                assert_eq!(subnet, wanted.to_string(), "{}", network.name);
                let prefix = subnet.parse::<Ipv4Cidr>().unwrap().prefix();
                assert_eq!(prefix, seed.prefix(), "{}: the seed's prefix length", network.name);
            }
            None => assert!(subnet.parse::<Ipv4Cidr>().is_ok(), "{}: {subnet}", network.name),
        }
    }
    for volume in &plan.volumes {
        let got = inspect(&["volume", "inspect", &volume.name]);
        for (key, value) in &volume.labels {
            assert_eq!(got["Labels"][key], value.as_str(), "{}: label {key}", volume.name);
        }
    }
    for container in &plan.containers {
        check_container(container, free_before);
    }
    for (path, contents) in &plan.files {
        assert_eq!(&std::fs::read_to_string(path).unwrap(), contents, "{}", path.display());
    }
}

fn published(plan: &StackPlan, service: &str, container_port: u16) -> u16 {
    let name = &plan.containers.iter().find(|c| c.service == service).unwrap().name;
    let got = docker_ok(&["port", name, &format!("{container_port}/tcp")]);
    got.lines().next().unwrap().rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn demo_up_matches_the_plan_and_down_leaves_nothing() {
    let begun = Instant::now();
    let image = image();
    assert!(
        docker(&["image", "inspect", &image]).status.success(),
        "the image {image} is missing: run scripts/test-image.sh or set PORTOLAN_TEST_IMAGE"
    );
    for stack in STACKS {
        for kind in ["container", "network", "volume"] {
            assert!(
                labelled(kind, stack).is_empty(),
                "the demo stack {stack} is already on this engine and was not made by this \
                 test; remove it with `portolan demo down {stack}` and run again"
            );
        }
    }
    let demo = Demo::new("up-down");
    let guard = Guard(&demo);

    let mut plans = Vec::new();
    for stack in STACKS {
        let subnets_before = engine_subnets();
        let plan = expected(&demo, stack);
        let free_before: BTreeSet<u16> = plan
            .containers
            .iter()
            .flat_map(|c| c.published.iter().map(|p| p.wanted))
            .filter(|p| port_free(*p))
            .collect();
        let (stdout, stderr) = demo.run_ok(&["up", stack, "--image", &image]);
        assert!(stdout.contains(&format!("{stack} is up")), "{stdout}");
        assert!(stderr.contains(&format!("{stack}: up, every service ready")), "{stderr}");
        let took = wait_healthy(&plan);
        eprintln!(
            "{stack}: every container healthy {:.1} s after `up` returned",
            took.as_secs_f64()
        );
        check_stack(&plan, &subnets_before, &free_before);
        plans.push((plan, stdout, stderr));
    }

    // The seed's dependency order is visible in the progress lines.
    let (nginx, _, nginx_err) = &plans[1];
    let line = |text: &str| {
        nginx_err.lines().position(|l| l.contains(text)).unwrap_or_else(|| panic!("{text}"))
    };
    assert!(line("nginx: db healthy after") < line("nginx: backend started"));
    assert!(line("nginx: redis healthy after") < line("nginx: backend started"));
    assert!(line("nginx: backend healthy after") < line("nginx: frontend started"));
    assert!(line("nginx: frontend healthy after") < line("nginx: proxy started"));
    let proxy = nginx.containers.iter().find(|c| c.service == "proxy").unwrap();
    assert_eq!(
        proxy.labels["com.docker.compose.depends_on"],
        "backend:service_healthy:false,frontend:service_healthy:false"
    );
    let (nestjs, nestjs_out, _) = &plans[0];
    let app = nestjs.containers.iter().find(|c| c.service == "app").unwrap();
    assert_eq!(
        app.labels["com.docker.compose.depends_on"],
        "postgres:service_healthy:false,redis:service_healthy:false"
    );
    // What portolan chose on this engine (another stack may hold the seed's subnet or
    // port), never the seed's own values.
    let nestjs_subnet = inspect(&["network", "inspect", "nestjs_nestjs-network"])["IPAM"]["Config"]
        [0]["Subnet"]
        .as_str()
        .unwrap()
        .to_string();
    let subnet_start = nestjs_subnet.split('/').next().unwrap().trim_end_matches(".0").to_string();
    let app_port = published(nestjs, "app", 3001);
    assert!(
        nestjs_out.contains(&format!("network  nestjs_nestjs-network  {nestjs_subnet}")),
        "{nestjs_out}"
    );

    // The stand-ins answer on the host.
    let answer = http_get(app_port, "/");
    assert!(answer.starts_with("HTTP/1.") && answer.contains(" 200 "), "{answer}");
    let answer = http_get(published(nginx, "proxy", 80), "/health");
    assert!(answer.contains(" 200 "), "{answer}");

    let (list, _) = demo.run_ok(&["list"]);
    for (stack, count) in [("nestjs", 3), ("nginx", 5)] {
        let row = list.lines().find(|l| l.starts_with(&format!("{stack} "))).unwrap();
        assert!(
            row.contains(&format!("up: {count}/{count} running, {count}/{count} healthy")),
            "{list}"
        );
    }
    assert!(list.contains(&format!("network nestjs_nestjs-network {nestjs_subnet}")), "{list}");
    assert!(list.lines().any(|l| l.starts_with("traefik ") && l.contains("down")), "{list}");

    // The map of each stack, from the real engine: edges in the JSON and the drawing.
    let snapshot = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_portolan"))
            .arg("snapshot")
            .args(args)
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Value =
        serde_json::from_str(&snapshot(&["--project", "nestjs", "--wait", "2"])).unwrap();
    let edges = json["edges"].as_array().unwrap();
    let has = |from: &str, to: &str, kind: &str, label: &str| {
        edges.iter().any(|e| {
            e["from"].as_str().is_some_and(|f| f.contains(from))
                && e["to"].as_str().is_some_and(|t| t.contains(to))
                && e["kind"] == kind
                && e["label"].as_str().is_some_and(|l| l.contains(label))
        })
    };
    assert!(has("app", "postgres", "depends_on", "postgresql :5432"), "{edges:#?}");
    assert!(has("app", "redis", "depends_on", "redis :6379"), "{edges:#?}");
    assert!(has("host", "app", "ingress", &format!(":{app_port}")), "{edges:#?}");
    assert!(
        edges.iter().filter(|e| e["kind"] == "depends_on").all(|e| e["ok"] == true),
        "{edges:#?}"
    );
    assert!(!serde_json::to_string(edges).unwrap().contains('@'), "no credentials in edge labels");
    for (w, h) in [("80", "24"), ("200", "60")] {
        let map = snapshot(&[
            "--format",
            "text",
            "--pane",
            "map",
            "--project",
            "nestjs",
            "--width",
            w,
            "--height",
            h,
            "--wait",
            "1",
        ]);
        let http = format!("HTTP :{app_port}");
        for needle in [
            "nestjs_nestjs-network",
            subnet_start.as_str(),
            "app",
            "postgres",
            "redis",
            http.as_str(),
            "healthy",
            "user 1001:1001",
            "nestjs_postgres_data",
        ] {
            assert!(map.contains(needle), "{needle} on the {w}x{h} map:\n{map}");
        }
    }
    let json: Value =
        serde_json::from_str(&snapshot(&["--project", "nginx", "--wait", "2"])).unwrap();
    let edges = json["edges"].as_array().unwrap();
    let has = |from: &str, to: &str, kind: &str| {
        edges.iter().any(|e| {
            e["from"].as_str().is_some_and(|f| f.contains(from))
                && e["to"].as_str().is_some_and(|t| t.contains(to))
                && e["kind"] == kind
        })
    };
    assert!(
        has("proxy", "frontend", "depends_on") && has("proxy", "backend", "depends_on"),
        "{edges:#?}"
    );
    assert!(
        has("backend", "db", "depends_on") && has("backend", "redis", "depends_on"),
        "{edges:#?}"
    );
    assert!(has("host", "proxy", "ingress"), "{edges:#?}");
    // Seed 002's routes: nginx.conf read out of the proxy (a bind mount) through the
    // engine, every location joined to the container and port the diagram shows.
    let routes = json["routes"].as_array().unwrap();
    let nginx_route = |path: &str| {
        routes
            .iter()
            .find(|r| r["kind"] == "nginx" && r["path"] == path)
            .unwrap_or_else(|| panic!("no nginx route for {path}: {routes:#?}"))
    };
    for (path, target, port) in [
        ("/*", "frontend", 5173),
        ("/api/*", "backend", 8000),
        ("/admin/*", "backend", 8000),
        ("/static/*", "backend", 8000),
        ("/media/*", "backend", 8000),
        ("/ws*", "frontend", 5173),
    ] {
        let route = nginx_route(path);
        assert!(
            route["target_container"].as_str().is_some_and(|t| t.ends_with(&format!("{target}-1"))),
            "{path}: {route:#?}"
        );
        assert_eq!(route["target_port"], port, "{path}: {route:#?}");
        assert_eq!(route["status"], "ok", "{path}: {route:#?}");
        assert!(route["proxy"].as_str().is_some_and(|p| p.ends_with("proxy-1")), "{route:#?}");
    }
    assert!(nginx_route("/ws*")["websocket"] == true, "{routes:#?}");
    assert_eq!(nginx_route("/health")["target"], "return 200 healthy\n", "{routes:#?}");
    assert!(
        routes.iter().any(|r| r["kind"] == "port"
            && r["target_container"].as_str().is_some_and(|t| t.ends_with("proxy-1"))
            && r["target_port"] == 80),
        "the published port is a direct route: {routes:#?}"
    );
    let pane = snapshot(&[
        "--format",
        "text",
        "--pane",
        "routes",
        "--project",
        "nginx",
        "--width",
        "120",
        "--height",
        "40",
        "--wait",
        "1",
    ]);
    for needle in ["nginx · proxy", "/api/*", "http://backend:8000", "✓ ok"] {
        assert!(pane.contains(needle), "{needle} in the routes pane:\n{pane}");
    }
    let map = snapshot(&[
        "--format",
        "text",
        "--pane",
        "map",
        "--project",
        "nginx",
        "--width",
        "200",
        "--height",
        "60",
        "--wait",
        "1",
    ]);
    for needle in ["nginx_app-network", "proxy", "frontend", "backend", "db", "redis", "Volumes"] {
        assert!(map.contains(needle), "{needle} on the nginx map:\n{map}");
    }

    // Down removes exactly what up made, and says so; a second time is a no-op.
    let (_, stderr) = demo.run_ok(&["down", "nestjs", "nginx"]);
    for (plan, _, _) in &plans {
        for c in &plan.containers {
            assert!(stderr.contains(&format!("removed container {}", c.name)), "{stderr}");
        }
        for n in &plan.networks {
            assert!(stderr.contains(&format!("removed network {}", n.name)), "{stderr}");
        }
        for v in &plan.volumes {
            assert!(stderr.contains(&format!("removed volume {}", v.name)), "{stderr}");
        }
        assert!(!plan.dir.exists(), "{} is gone", plan.dir.display());
    }
    for stack in STACKS {
        for kind in ["container", "network", "volume"] {
            assert!(labelled(kind, stack).is_empty(), "a {kind} of {stack} is left");
        }
    }
    let (_, again) = demo.run_ok(&["down", "nestjs", "nginx"]);
    assert!(again.contains("nothing to remove for demo stack nestjs"), "{again}");

    // The other three seeds: up, on the map with their edges, and down again.
    let mut up = vec!["up"];
    up.extend(OTHERS);
    demo.run_ok(&up);
    let edges_of = |project: &str| -> Vec<Value> {
        let json: Value =
            serde_json::from_str(&snapshot(&["--project", project, "--wait", "1"])).unwrap();
        json["edges"].as_array().unwrap().clone()
    };
    let has = |edges: &[Value], from: &str, to: &str, kind: &str| {
        edges.iter().any(|e| {
            e["from"].as_str().is_some_and(|f| f.contains(from))
                && e["to"].as_str().is_some_and(|t| t.contains(to))
                && e["kind"] == kind
        })
    };
    let traefik = edges_of("traefik");
    assert!(has(&traefik, "api", "postgres", "depends_on"), "{traefik:#?}");
    assert!(has(&traefik, "host", "traefik", "ingress"), "{traefik:#?}");
    assert!(has(&traefik, "traefik", "web", "route"), "{traefik:#?}");
    assert!(has(&traefik, "traefik", "api", "route"), "{traefik:#?}");
    // Seed 001's routes, from labels: by host, TLS from the resolver, the dashboard on
    // Traefik itself, and the web → websecure redirect.
    let json: Value =
        serde_json::from_str(&snapshot(&["--project", "traefik", "--wait", "1"])).unwrap();
    let routes = json["routes"].as_array().unwrap();
    let router = |name: &str| {
        routes
            .iter()
            .find(|r| r["kind"] == "traefik" && r["name"] == name)
            .unwrap_or_else(|| panic!("no router {name}: {routes:#?}"))
    };
    for (name, host, target, port) in [
        ("frontend", "sellybase.albaly.jp", "web", Some(3000)),
        ("backend", "api.sellybase.albaly.jp", "api", Some(3001)),
        ("dashboard", "traefik.sellybase.albaly.jp", "traefik", None),
    ] {
        let route = router(name);
        assert_eq!(route["host"], host, "{route:#?}");
        assert!(
            route["target_container"].as_str().is_some_and(|t| t.ends_with(&format!("{target}-1"))),
            "{route:#?}"
        );
        if let Some(port) = port {
            assert_eq!(route["target_port"], port, "{route:#?}");
        }
        assert_eq!(route["entrypoint"], "websecure :443", "{route:#?}");
        assert_eq!(route["tls"], "letsencrypt", "{route:#?}");
        assert_eq!(route["status"], "ok", "{route:#?}");
    }
    assert!(
        routes.iter().any(|r| r["entrypoint"] == "web :80"
            && r["target"].as_str().is_some_and(|t| t.contains("redirect to websecure"))),
        "{routes:#?}"
    );
    let elk = edges_of("sentineliq");
    for (from, to) in [
        ("server", "postgres"),
        ("server", "redis"),
        ("server", "logstash"),
        ("logstash", "elasticsearch"),
        ("kibana", "elasticsearch"),
        ("client", "server"),
    ] {
        assert!(has(&elk, from, to, "depends_on"), "{from} → {to}: {elk:#?}");
    }
    assert!(
        elk.iter().any(|e| e["label"].as_str().is_some_and(|l| l.contains(":9200"))),
        "{elk:#?}"
    );
    let mysql = edges_of("nestjs-mysql");
    assert!(has(&mysql, "app", "mysql", "depends_on"), "{mysql:#?}");
    for (project, needles) in [
        ("traefik", vec!["traefik_selly-network", "traefik", "web", "api", "postgres"]),
        (
            "sentineliq",
            vec!["sentineliq_sentineliq-network", "elasticsearch", "logstash", "kibana", "minio"],
        ),
        ("nestjs-mysql", vec!["nestjs-mysql_nestjs-network", "app", "mysql"]),
    ] {
        let map = snapshot(&[
            "--format",
            "text",
            "--pane",
            "map",
            "--project",
            project,
            "--width",
            "200",
            "--height",
            "60",
            "--wait",
            "1",
        ]);
        for needle in needles {
            assert!(map.contains(needle), "{needle} on the {project} map:\n{map}");
        }
    }
    let mut down = vec!["down"];
    down.extend(OTHERS);
    demo.run_ok(&down);
    for stack in OTHERS {
        for kind in ["container", "network", "volume"] {
            assert!(labelled(kind, stack).is_empty(), "{stack}: a {kind} is left");
        }
    }
    drop(guard);
    eprintln!("the whole test took {:.1} s", begun.elapsed().as_secs_f64());
}

#[test]
fn demo_says_what_is_wrong_in_words() {
    let demo = Demo::new("words");
    let output = demo.run(&["up", "shop"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no demo stack `shop`") && stderr.contains("nginx"), "{stderr}");

    // An image that is nowhere: said in words, with the way out.
    let output =
        demo.run(&["up", "nestjs-mysql-dev", "--image", "portolan.invalid/no-such-image:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("portolan.invalid/no-such-image:0"), "{stderr}");
    assert!(stderr.contains("--image"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Error {"), "{stderr}");
    assert!(labelled("container", "nestjs-mysql-dev").is_empty(), "nothing was created");
    assert!(labelled("network", "nestjs-mysql-dev").is_empty(), "nothing was created");
    let _ = std::fs::remove_dir_all(&demo.state_home);
}
