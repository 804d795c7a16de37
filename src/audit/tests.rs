use super::*;
use crate::model::{
    ComposeInfo, Healthcheck, Limits, Mount, Network, NetworkAttachment, RestartPolicy,
};

/// A container that passes every check: each test breaks one thing.
pub(crate) fn hardened(id: &str, name: &str) -> Container {
    let mut c = Container::new(id, name);
    c.image = "ghcr.io/acme/api:1.4.2".into();
    c.user = Some("1000:1000".into());
    c.read_only = true;
    c.healthcheck =
        Some(Healthcheck { test: vec!["CMD".into(), "true".into()], ..Healthcheck::default() });
    c.limits = Limits {
        cpus: Some(0.5),
        memory_bytes: Some(256 << 20),
        memory_reservation_bytes: None,
        pids: None,
    };
    c.restart_policy =
        Some(RestartPolicy { name: "unless-stopped".into(), maximum_retry_count: None });
    // Whatever data store a test makes of it keeps its data on a volume.
    let mut dirs: Vec<&str> = DATA_DIRS.iter().map(|(_, dir)| *dir).collect();
    dirs.dedup();
    for dir in dirs {
        c.mounts.push(volume_on(dir));
    }
    c
}

fn volume_on(dir: &str) -> Mount {
    Mount {
        kind: "volume".into(),
        name: Some(format!("data{}", dir.replace('/', "-"))),
        source: None,
        destination: dir.into(),
        read_only: false,
    }
}

/// A hardened database with nothing mounted.
fn bare_store(image: &str) -> Container {
    let mut c = hardened("a", "db");
    c.image = image.into();
    c.mounts.clear();
    c
}

#[test]
fn a_database_without_a_volume_on_its_data_dir_writes_to_its_image_layer() {
    let f = only(bare_store("postgres:16"), Check::DataInImageLayer);
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        f.message.starts_with(
            "PostgreSQL keeps its data in /var/lib/postgresql/data with no volume there"
        ),
        "{}",
        f.message
    );
    assert!(f.message.contains("lost when the container is removed or recreated"), "{}", f.message);

    // A volume on the directory, or on a parent of it (also the image's anonymous
    // VOLUME), keeps it off the layer; one on a sibling does not.
    let mut c = bare_store("postgres:16");
    c.mounts.push(volume_on("/var/lib/postgresql"));
    assert!(findings_of(c).is_empty());
    let mut c = bare_store("mysql:8.0");
    c.mounts.push(Mount {
        kind: "bind".into(),
        source: Some("/srv/mysql".into()),
        name: None,
        destination: "/var/lib/mysql/".into(),
        read_only: false,
    });
    assert!(findings_of(c).is_empty());
    let mut c = bare_store("mongo:7");
    c.mounts.push(volume_on("/data/configdb"));
    assert!(only(c, Check::DataInImageLayer).message.contains("/data/db"));

    // PGDATA moves postgres' data; a cache is low.
    let mut c = bare_store("postgres:16");
    c.env.push(("PGDATA".into(), "/pg/data".into()));
    c.mounts.push(volume_on("/var/lib/postgresql/data"));
    assert!(only(c, Check::DataInImageLayer).message.contains("/pg/data"));
    let f = only(bare_store("redis:7"), Check::DataInImageLayer);
    assert_eq!(f.severity, Severity::Low);
    assert!(f.message.contains("unless it is only a cache"), "{}", f.message);

    // Not a store by image (a port alone says nothing of where it writes), or a tool.
    let mut c = bare_store("ghcr.io/acme/api:1.4.2");
    c.ports.push(port(None, None, 5432));
    assert!(findings_of(c).is_empty());
    assert!(findings_of(bare_store("mongo-express:1.0")).is_empty());

    // The changes the Changes pane listed are cited when there are some.
    let c = bare_store("postgres:16");
    let mut model = model_with(vec![c], Vec::new());
    let list = ["/var/lib/postgresql/data", "/var/lib/postgresql/data/PG_VERSION", "/tmp/x"];
    let changes = crate::model::changes::ContainerChanges {
        id: "a".into(),
        at: chrono::Utc::now(),
        result: Ok(list
            .iter()
            .map(|p| crate::model::changes::Change {
                path: (*p).into(),
                kind: crate::model::changes::ChangeKind::Added,
            })
            .collect()),
        stats: Default::default(),
    };
    model.changes.insert("a".into(), changes);
    let found = findings(&model);
    assert!(
        found[0]
            .message
            .ends_with("(its changes show 2 paths written under /var/lib/postgresql/data)"),
        "{found:#?}"
    );
}

pub(crate) fn model_with(containers: Vec<Container>, networks: Vec<Network>) -> Model {
    let mut model = Model::new("unix:///var/run/docker.sock", chrono::Utc::now());
    for n in networks {
        model.networks.insert((0, n.name.clone()), n);
    }
    for c in containers {
        model.containers.insert(c.id.clone(), c);
    }
    model
}

fn checks_of(c: Container) -> Vec<Check> {
    let model = model_with(vec![c], Vec::new());
    findings(&model).into_iter().map(|f| f.check).collect()
}

fn findings_of(c: Container) -> Vec<Finding> {
    findings(&model_with(vec![c], Vec::new()))
}

fn only(c: Container, check: Check) -> Finding {
    let found = findings_of(c);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].check, check, "{found:#?}");
    found.into_iter().next().unwrap()
}

fn port(ip: Option<&str>, host: Option<u16>, container: u16) -> Port {
    Port {
        host_ip: ip.map(String::from),
        host_port: host,
        container_port: container,
        protocol: "tcp".into(),
    }
}

fn network(name: &str, internal: bool) -> Network {
    Network { name: name.into(), internal, ..Network::default() }
}

fn attach(c: &mut Container, name: &str) {
    c.networks.push(NetworkAttachment { name: name.into(), ip: None, aliases: vec![] });
}

#[test]
fn a_hardened_container_has_no_findings() {
    assert!(findings_of(hardened("a", "api")).is_empty());
}

#[test]
fn check_names_are_unique_snake_case() {
    let mut names: Vec<&str> = Check::ALL.iter().map(|c| c.as_str()).collect();
    assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Check::ALL.len());
    assert_eq!(Severity::High.as_str(), "high");
    assert_eq!(Severity::Info.as_str(), "info");
    assert!(Severity::High > Severity::Medium && Severity::Low > Severity::Info);
}

#[test]
fn privileged_is_high() {
    let mut c = hardened("a", "api");
    c.privileged = true;
    let f = only(c, Check::Privileged);
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("privileged"), "{}", f.message);
    assert!(!checks_of(hardened("a", "api")).contains(&Check::Privileged));
}

#[test]
fn docker_socket_mount_is_high_even_read_only() {
    let mut c = hardened("a", "traefik");
    c.mounts.push(Mount {
        kind: "bind".into(),
        name: None,
        source: Some("/var/run/docker.sock".into()),
        destination: "/var/run/docker.sock".into(),
        read_only: true,
    });
    let f = only(c.clone(), Check::DockerSocket);
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("read-only does not help"), "{}", f.message);
    // Another bind mount is not the socket.
    let socket = c.mounts.last_mut().expect("the socket mount");
    socket.destination = "/etc/traefik".into();
    socket.source = Some("/srv/traefik".into());
    assert!(findings_of(c).is_empty());
}

#[test]
fn runs_as_root_when_no_user_or_root_or_zero() {
    for user in [None, Some(""), Some("root"), Some("0:0")] {
        let mut c = hardened("a", "api");
        c.user = user.map(String::from);
        let f = only(c, Check::RunsAsRoot);
        assert_eq!(f.severity, Severity::Medium);
    }
    let mut c = hardened("a", "api");
    c.user = Some("node".into());
    assert!(findings_of(c).is_empty());
}

#[test]
fn added_capabilities_name_them_and_rate_sys_admin_high() {
    let mut c = hardened("a", "vpn");
    c.cap_add = vec!["NET_ADMIN".into()];
    let f = only(c.clone(), Check::AddedCapabilities);
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.message.contains("NET_ADMIN"), "{}", f.message);
    c.cap_add = vec!["cap_sys_admin".into()];
    let f = only(c, Check::AddedCapabilities);
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("SYS_ADMIN"), "{}", f.message);
}

#[test]
fn no_healthcheck_fires_when_none_or_disabled() {
    let mut c = hardened("a", "api");
    c.healthcheck = None;
    assert_eq!(only(c.clone(), Check::NoHealthcheck).severity, Severity::Low);
    c.healthcheck = Some(Healthcheck { test: vec!["NONE".into()], ..Healthcheck::default() });
    assert!(only(c, Check::NoHealthcheck).message.starts_with("healthcheck disabled"));
}

#[test]
fn limits_memory_low_and_cpu_info() {
    let mut c = hardened("a", "api");
    c.limits.memory_bytes = None;
    assert_eq!(only(c, Check::NoMemoryLimit).severity, Severity::Low);
    let mut c = hardened("a", "api");
    c.limits.cpus = None;
    assert_eq!(only(c, Check::NoCpuLimit).severity, Severity::Info);
}

#[test]
fn data_store_on_all_interfaces_is_high_by_image_or_port() {
    let mut c = hardened("a", "cache");
    c.image = "redis:7-alpine".into();
    // One `-p 6379:6379` is two bindings; it is one finding.
    c.ports.push(port(Some("0.0.0.0"), Some(6379), 6379));
    c.ports.push(port(Some("::"), Some(6379), 6379));
    let f = only(c, Check::DataStoreExposed);
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.starts_with("Redis published on all interfaces (0.0.0.0:6379→6379/tcp)"));

    // By port alone: an image nobody recognises listening on 5432.
    let mut c = hardened("a", "db");
    c.ports.push(port(Some(""), Some(15432), 5432));
    let f = only(c, Check::DataStoreExposed);
    assert!(f.message.starts_with("PostgreSQL"), "{}", f.message);

    // Bound to one address of the host: still reachable from that network.
    let mut c = hardened("a", "cache");
    c.image = "redis:7-alpine".into();
    c.ports.push(port(Some("192.168.1.20"), Some(6379), 6379));
    let f = only(c, Check::DataStoreExposed);
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.message.contains("192.168.1.20:6379→6379/tcp"), "{}", f.message);
}

#[test]
fn data_store_on_loopback_is_low_with_its_reason() {
    // The seed's MySQL published for a local client: lower than on every interface,
    // but still a finding (any local user reaches it).
    for (ip, binding) in [("127.0.0.1", "127.0.0.1:13306"), ("::1", "[::1]:13306")] {
        let mut c = hardened("a", "mysql");
        c.image = "mysql:8.0".into();
        c.ports.push(port(Some(ip), Some(13306), 3306));
        let f = only(c, Check::DataStoreOnLoopback);
        assert_eq!(f.severity, Severity::Low);
        assert!(
            f.message.starts_with(&format!("MySQL published on loopback ({binding}→3306/tcp)"))
        );
        assert!(f.message.contains("any local process and user"), "{}", f.message);
    }
    // By port alone, and once for the IPv4 and IPv6 bindings of one `-p`.
    let mut c = hardened("a", "db");
    c.ports.push(port(Some("127.0.0.1"), Some(15432), 5432));
    c.ports.push(port(Some("127.0.0.1"), Some(15432), 5432));
    assert_eq!(only(c, Check::DataStoreOnLoopback).severity, Severity::Low);
    // A web app on loopback is no finding at all.
    let mut c = hardened("a", "api");
    c.ports.push(port(Some("127.0.0.1"), Some(3000), 3000));
    assert!(findings_of(c).is_empty());
}

#[test]
fn demo_stand_ins_are_judged_by_the_seed_image() {
    let mut c = hardened("a", "db");
    c.image = "busybox:latest".into();
    c.labels.insert(DEMO_IMAGE_LABEL.into(), "postgres:15-alpine".into());
    c.ports.push(port(Some("0.0.0.0"), Some(15432), 15432));
    let f = only(c, Check::DataStoreExposed);
    assert!(f.message.starts_with("PostgreSQL"), "{}", f.message);
}

#[test]
fn admin_tools_are_not_data_stores() {
    let mut c = hardened("a", "mongo-express");
    c.image = "mongo-express:1.0".into();
    c.ports.push(port(Some("0.0.0.0"), Some(8081), 8081));
    assert_eq!(only(c, Check::PortAllInterfaces).severity, Severity::Low);
}

#[test]
fn any_port_on_all_interfaces_is_low_but_web_entry_points_are_not() {
    let mut c = hardened("a", "api");
    c.ports.push(port(Some("0.0.0.0"), Some(3000), 3000));
    let f = only(c, Check::PortAllInterfaces);
    assert!(f.message.contains("0.0.0.0:3000→3000/tcp"), "{}", f.message);
    let mut c = hardened("a", "proxy");
    c.ports.push(port(Some("0.0.0.0"), Some(443), 443));
    c.ports.push(port(Some("::"), Some(80), 8080));
    // Exposed-only ports and loopback bindings are not open.
    c.ports.push(port(None, None, 9229));
    c.ports.push(port(Some("127.0.0.1"), Some(3001), 3001));
    assert!(findings_of(c.clone()).is_empty());
    // A web server's port 80 published elsewhere is a dev server, not the entry point.
    c.ports.push(port(Some("0.0.0.0"), Some(8080), 80));
    assert!(only(c, Check::PortAllInterfaces).message.contains("0.0.0.0:8080→80/tcp"));
}

#[test]
fn writable_root_filesystem_is_info() {
    let mut c = hardened("a", "api");
    c.read_only = false;
    assert_eq!(only(c, Check::WritableRootFs).severity, Severity::Info);
}

#[test]
fn unpinned_images_without_tag_or_latest() {
    for image in ["busybox", "busybox:latest", "registry.local:5000/team/app"] {
        let mut c = hardened("a", "api");
        c.image = image.into();
        let f = only(c, Check::UnpinnedImage);
        assert!(f.message.contains(image), "{}", f.message);
    }
    for image in ["registry.local:5000/team/app:2.1", "busybox@sha256:abc", "sha256:0123"] {
        let mut c = hardened("a", "api");
        c.image = image.into();
        assert!(findings_of(c).is_empty(), "{image}");
    }
}

#[test]
fn plain_secrets_name_keys_never_values() {
    let mut c = hardened("a", "api");
    c.env = vec![
        ("POSTGRES_PASSWORD".into(), "hunter2".into()),
        ("DATABASE_URL".into(), "postgresql://app:s3cr3t@db:5432/shop".into()),
        ("NODE_ENV".into(), "production".into()),
    ];
    let f = only(c, Check::PlainSecret);
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.message.contains("POSTGRES_PASSWORD"), "{}", f.message);
    assert!(f.message.contains("DATABASE_URL (password in URL)"), "{}", f.message);
    assert!(!f.message.contains("hunter2") && !f.message.contains("s3cr3t"));

    let mut c = hardened("a", "api");
    c.env = vec![
        ("POSTGRES_PASSWORD_FILE".into(), "/run/secrets/db".into()),
        ("GPG_KEY".into(), "A035C8C19219BA821ECEA86B64E628F8D684696D".into()),
        ("API_TOKEN".into(), String::new()),
        ("REDIS_URL".into(), "redis://redis:6379".into()),
    ];
    assert!(findings_of(c).is_empty());
}

#[test]
fn no_restart_policy_when_absent_or_no() {
    let mut c = hardened("a", "api");
    c.restart_policy = None;
    assert_eq!(only(c.clone(), Check::NoRestartPolicy).severity, Severity::Low);
    c.restart_policy = Some(RestartPolicy { name: "no".into(), maximum_retry_count: None });
    only(c, Check::NoRestartPolicy);
}

#[test]
fn data_store_on_a_network_that_is_not_internal() {
    let mut db = hardened("a", "db");
    db.image = "postgres:16".into();
    attach(&mut db, "shop_default");
    attach(&mut db, "shop_backend");
    let model = model_with(
        vec![db.clone()],
        vec![network("shop_default", false), network("shop_backend", true)],
    );
    let found = findings(&model);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].check, Check::DataStoreNotInternal);
    assert!(found[0].message.contains("shop_default") && !found[0].message.contains("backend"));
    // Only on the internal network: fine. An app on an open network: fine.
    db.networks.retain(|n| n.name == "shop_backend");
    let mut app = hardened("b", "api");
    attach(&mut app, "shop_default");
    let model = model_with(
        vec![db, app],
        vec![network("shop_default", false), network("shop_backend", true)],
    );
    assert!(findings(&model).is_empty(), "{:#?}", findings(&model));
}

#[test]
fn published_port_on_internal_only_networks_cannot_work() {
    let mut c = hardened("a", "api");
    attach(&mut c, "backend");
    c.ports.push(port(Some("127.0.0.1"), Some(8080), 8080));
    let model = model_with(vec![c.clone()], vec![network("backend", true)]);
    let found = findings(&model);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].check, Check::PublishedOnInternal);
    assert!(found[0].message.contains("127.0.0.1:8080→8080/tcp"), "{}", found[0].message);
    // On an open network too: the port works.
    attach(&mut c, "frontend");
    let model = model_with(vec![c], vec![network("backend", true), network("frontend", false)]);
    assert!(findings(&model).is_empty());
}

#[test]
fn host_network_is_medium_and_high_for_a_data_store() {
    let mut c = hardened("a", "agent");
    c.network_mode = Some("host".into());
    assert_eq!(only(c.clone(), Check::HostNetwork).severity, Severity::Medium);
    c.image = "redis:7".into();
    assert_eq!(only(c.clone(), Check::HostNetwork).severity, Severity::High);
    c.network_mode = Some("bridge".into());
    assert!(findings_of(c).is_empty());
}

#[test]
fn stopped_containers_are_audited_and_order_is_project_then_severity() {
    let mut job = hardened("z", "nightly");
    job.state = crate::model::ContainerState::Exited;
    job.privileged = true;
    let mut api = hardened("y", "shop-api-1");
    api.compose = Some(ComposeInfo {
        project: "shop".into(),
        service: "api".into(),
        ..ComposeInfo::default()
    });
    api.read_only = false;
    api.user = None;
    let model = model_with(vec![job, api], Vec::new());
    let found = findings(&model);
    let order: Vec<(&str, &str)> =
        found.iter().map(|f| (f.container.as_str(), f.check.as_str())).collect();
    assert_eq!(
        order,
        [
            ("shop-api-1", "runs_as_root"),
            ("shop-api-1", "writable_root_fs"),
            ("nightly", "privileged")
        ]
    );
    assert_eq!(found[0].project.as_deref(), Some("shop"));
    assert_eq!(found[2].project, None);
    let only_shop = findings_where(&model, |c| c.project() == Some("shop"));
    assert_eq!(only_shop.len(), 2);
}

#[test]
fn container_strings_are_made_safe() {
    let mut c = hardened("a", "api");
    c.image = "evil\u{1b}[2J".into();
    c.env = vec![("EVIL\u{1b}]0;x\u{7}_TOKEN".into(), "v".into())];
    for f in findings_of(c) {
        assert!(!f.message.chars().any(char::is_control), "{:?}", f.message);
    }
}
