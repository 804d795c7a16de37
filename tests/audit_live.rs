//! The audit on the real engine: each risky setting is made for real, and the finding
//! must come out of the live model and the snapshot's JSON; a hardened container has
//! none.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use portolan::audit::{Check, Finding, Severity, findings_where};
use portolan::model::{ContainerState, Model};
use portolan::snapshot::json::{JsonOptions, document};
use portolan::topology::DEMO_IMAGE_LABEL;
use support::{Fixture, Watch, docker_ok};

/// `docker create` with the fixture's name and label (so it is cleaned up like the
/// rest): some engines (rootless, nested) refuse to start privileged containers or
/// added capabilities, and the audit reads the configuration, not the process.
fn create(fx: &Fixture, what: &str, args: &[&str]) -> String {
    let name = fx.name(what);
    let label = fx.label();
    let mut all = vec!["create", "--name", &name, "--label", &label];
    all.extend_from_slice(args);
    all.push(&fx.image);
    all.extend_from_slice(&["sleep", "600"]);
    docker_ok(&all)
}

fn of<'a>(found: &'a [Finding], name: &str) -> Vec<&'a Finding> {
    found.iter().filter(|f| f.container == name).collect()
}

fn has(found: &[Finding], name: &str, check: Check) -> Option<Finding> {
    found.iter().find(|f| f.container == name && f.check == check).cloned()
}

#[tokio::test(flavor = "current_thread")]
async fn risky_settings_become_findings_and_a_hardened_container_has_none() {
    let mut fx = Fixture::new("audit");
    let project = fx.name("proj");
    let in_project = format!("com.docker.compose.project={project}");
    let svc = |s: &str| format!("com.docker.compose.service={s}");
    let back = fx.network("back", &["--internal"]);
    let front = fx.network("front", &[]);
    let sleep = ["sleep", "600"];
    let run = |fx: &Fixture, what: &str, extra: &[&str], command: &[&str]| {
        let service = svc(what);
        let mut args = vec!["--label", &in_project, "--label", &service];
        args.extend_from_slice(extra);
        fx.run(what, &args, command)
    };
    let created = |fx: &Fixture, what: &str, extra: &[&str]| {
        let service = svc(what);
        let mut args = vec!["--label", &in_project, "--label", &service];
        args.extend_from_slice(extra);
        create(fx, what, &args)
    };
    created(&fx, "priv", &["--privileged"]);
    created(&fx, "caps", &["--cap-add", "NET_ADMIN"]);
    run(
        &fx,
        "sock",
        &["--mount", "type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock,readonly"],
        &sleep,
    );
    // Ephemeral host ports: the engine is shared, a fixed port may be taken.
    run(&fx, "redis", &["-p", "0.0.0.0::6379"], &sleep);
    run(
        &fx,
        "local",
        &["-p", "127.0.0.1::8080", "-p", "127.0.0.1::3306", "-e", "PASSWORD=hunter2"],
        &sleep,
    );
    let seed_db = format!("{DEMO_IMAGE_LABEL}=postgres:16");
    run(&fx, "db", &["--network", &back, "--label", &seed_db], &sleep);
    let seed_cache = format!("{DEMO_IMAGE_LABEL}=redis:7-alpine");
    run(&fx, "cache", &["--network", &front, "--label", &seed_cache], &sleep);
    let stopped = run(&fx, "stopped", &["-e", "API_TOKEN=t0k3n"], &["true"]);
    // The hardened one runs its image by id: a tag would be `:latest`, unpinned.
    let by_tag = fx.image.clone();
    fx.image = docker_ok(&["image", "inspect", "--format", "{{.Id}}", &by_tag]);
    run(
        &fx,
        "clean",
        &[
            "--user",
            "1000:1000",
            "--read-only",
            "--health-cmd",
            "true",
            "--memory",
            "32m",
            "--cpus",
            "0.5",
            "--restart",
            "unless-stopped",
        ],
        &sleep,
    );
    fx.image = by_tag;

    let mut watch = Watch::start().await;
    let mine = |m: &Model| m.containers.values().filter(|c| c.project() == Some(&project)).count();
    watch
        .wait("all nine containers, the stopped one exited", Duration::from_secs(30), |m| {
            mine(m) == 9
                && m.containers.get(&stopped).is_some_and(|c| c.state == ContainerState::Exited)
                && m.containers.values().any(|c| {
                    c.service() == Some("redis") && c.ports.iter().any(|p| p.host_port.is_some())
                })
        })
        .await;
    let name = |what: &str| fx.name(what);
    let found = findings_where(&watch.model, |c| c.project() == Some(&project));

    let f = has(&found, &name("priv"), Check::Privileged).expect("privileged");
    assert_eq!(f.severity, Severity::High);
    assert!(has(&found, &name("priv"), Check::RunsAsRoot).is_some(), "{found:#?}");
    assert!(has(&found, &name("priv"), Check::UnpinnedImage).is_some(), "{found:#?}");

    let f = has(&found, &name("caps"), Check::AddedCapabilities).expect("capabilities");
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.message.contains("NET_ADMIN"), "{}", f.message);

    let f = has(&found, &name("sock"), Check::DockerSocket).expect("docker.sock");
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("/var/run/docker.sock"), "{}", f.message);

    let f = has(&found, &name("redis"), Check::DataStoreExposed).expect("redis on 0.0.0.0");
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.starts_with("Redis published on all interfaces (0.0.0.0:"), "{}", f.message);
    assert_eq!(
        of(&found, &name("redis")).iter().filter(|f| f.check == Check::DataStoreExposed).count(),
        1,
        "one -p is one finding, whatever the IPv6 binding: {found:#?}"
    );

    let local = of(&found, &name("local"));
    assert!(
        local
            .iter()
            .all(|f| f.check != Check::PortAllInterfaces && f.check != Check::DataStoreExposed),
        "a port on 127.0.0.1 is not open: {local:#?}"
    );
    let f = has(&found, &name("local"), Check::DataStoreOnLoopback).expect("MySQL on loopback");
    assert_eq!(f.severity, Severity::Low);
    assert!(f.message.starts_with("MySQL published on loopback (127.0.0.1:"), "{}", f.message);
    let f = has(&found, &name("local"), Check::PlainSecret).expect("plain PASSWORD");
    assert!(f.message.contains("PASSWORD") && !f.message.contains("hunter2"), "{}", f.message);

    assert!(
        has(&found, &name("db"), Check::DataStoreNotInternal).is_none(),
        "a data store on an internal network only: {found:#?}"
    );
    let f = has(&found, &name("cache"), Check::DataStoreNotInternal).expect("cache not internal");
    assert!(f.message.starts_with("Redis is on") && f.message.contains(&front), "{}", f.message);

    let f = has(&found, &name("stopped"), Check::PlainSecret).expect("stopped ones too");
    assert!(f.message.contains("API_TOKEN") && !f.message.contains("t0k3n"), "{}", f.message);
    assert!(
        watch
            .model
            .containers
            .values()
            .any(|c| c.name == name("priv") && c.state == ContainerState::Created),
        "created, never started, and audited"
    );

    let clean = of(&found, &name("clean"));
    assert!(clean.is_empty(), "the hardened container: {clean:#?}");

    // The same through the snapshot's JSON, filtered to the project.
    let options = JsonOptions { project: Some(project.clone()), show_secrets: false };
    let json = serde_json::to_value(document(&watch.model, chrono::Utc::now(), &options)).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), found.len());
    let entry = |container: &str, check: &str| {
        findings
            .iter()
            .find(|f| f["container"] == container && f["check"] == check)
            .unwrap_or_else(|| panic!("{container} {check} in {findings:#?}"))
    };
    assert_eq!(entry(&name("priv"), "privileged")["severity"], "high");
    assert_eq!(entry(&name("sock"), "docker_socket")["severity"], "high");
    assert_eq!(entry(&name("redis"), "data_store_exposed")["severity"], "high");
    assert_eq!(entry(&name("caps"), "added_capabilities")["severity"], "medium");
    assert_eq!(entry(&name("local"), "plain_secret")["project"], project.as_str());
    assert!(findings.iter().all(|f| f["container"] != name("clean")));
    assert!(!json.to_string().contains("hunter2"), "the secret's value never leaks");
    watch.stop().await;
}
